"""One hardened reader for every input: files, stdin and, later, HTTP bodies and uploaded caseloads.

Everything that comes in goes through ``read_bytes`` (or ``read_path``), in this order, and stops at
the first problem with one error naming the source and the field:

1. **Size** before anything else (``Limits.max_bytes``).
2. **Text, not binary**: a NUL byte or a known binary header (ELF, PNG, gzip, zip, PDF) is refused.
3. **Encoding**: a BOM (UTF-8, UTF-16), else UTF-8, else GBK/GB18030 (judged before any verdict of broken
   UTF-8, since a GBK file's bytes can look like a CESU-8 surrogate), or the ``--encoding`` given. A file
   whose lines mix encodings (a GBK file with one UTF-8 line) is refused naming the line; UTF-8 with broken
   bytes (e.g. CESU-8 surrogates) is refused with the line and byte offset, never guessed into another
   encoding.
4. **Parsing** without surprises, with the structural limits enforced *while* parsing, so a file inside
   the byte limit is refused or read in well under a second and 100 MB: YAML is read event by event from
   libyaml's C parser and built here, stopping at the first member past the limit, the first level too
   deep, the first alias, anchor or explicit tag (``!!binary``, ``!!python/...``), the first duplicate key
   (two keys meaning the same, such as ``2025`` and ``"2025"``, naming both lines) and the first integer not
   written in plain decimal digits (``0x7B``, ``0b101``, ``1:30``, ``1_000``, ``017``: each names its field).
   JSON is counted (objects and arrays) and its nesting measured before ``json.loads``.
5. **Shape**: string length, member and entity counts, and characters: control characters, bidi
   overrides and other invisible characters are refused in ids and codes, and removed from free text
   (names) with a warning, so nothing that reaches a terminal, letter, JSON or page carries them.

The limits are documented in the README; ``Limits`` holds them.
"""

from __future__ import annotations

import json
import re
import sys
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

__all__ = ["LIMITS", "Limits", "ReadResult", "decode", "parse_text", "read_bytes", "read_path", "safe_text"]


class _ReadError(Exception):
    def __init__(self, field: str, message: str):
        self.field, self.message = field, message
        super().__init__(f"{field}: {message}")


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 5_000_000  # a batch of some thousands of households
    max_depth: int = 12  # household > members > member > fees is 5 levels
    max_members: int = 50
    max_entities: int = 20
    max_records: int = 20_000  # a batch for `houfu check`; a whole caseload goes through `houfu screen`
    max_string: int = 200
    max_digits: int = 15  # digits in a number, integer or fraction (1e15 yuan is already absurd)
    max_items: int = 1_000  # items in any nested list or keys in any mapping (a vocabulary has about 80 facts)
    max_objects: int = 200_000  # mappings and lists in one file: bounds the memory a 5 MB file can take


LIMITS = Limits()

#: Fields whose text is free (shown to people, never used as a key): unsafe characters are removed, with a warning.
FREE_TEXT = {"name", "site"}
_BINARY = {b"\x7fELF": "an ELF executable", b"\x89PNG": "a PNG image", b"\x1f\x8b": "gzip data",
           b"PK\x03\x04": "a zip archive", b"%PDF": "a PDF document", b"\xff\xd8\xff": "a JPEG image"}
_BOMS = [(b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")]
_CESU = re.compile(rb"\xed[\xa0-\xbf][\x80-\xbf]")


@dataclass
class ReadResult:
    data: Any
    encoding: str
    warnings: list[tuple[str, str]] = field(default_factory=list)  # (field, message)
    #: (field, what was removed) for each free-text field stripped of characters, e.g. ("name", "U+202E")
    stripped: list[tuple[str, str]] = field(default_factory=list)


def head_lines(head: bytes) -> bytes:
    """The first bytes of a file cut at its last line end, so no character is split: in UTF-16 (a byte-order mark)
    a line end is two bytes at an even place (a file over 1 MB was refused as "not valid utf-16" when its head was
    cut inside one)."""
    for bom, end in ((b"\xff\xfe", b"\n\x00"), (b"\xfe\xff", b"\x00\n")):
        if head.startswith(bom):
            at = len(head)
            while (at := head.rfind(end, 0, at)) >= 0:
                if at % 2 == 0:
                    return head[: at + 2]
            return head[: len(head) - len(head) % 2]
    return head[: head.rfind(b"\n") + 1] or head


def decode(data: bytes, encoding: str | None = None) -> tuple[str, str]:
    """The text and the encoding it was read in; raises _ReadError naming the line or byte offset."""
    for magic, what in _BINARY.items():
        if data.startswith(magic):
            raise _ReadError("-", f"not a text file (it looks like {what})")
    if encoding:
        try:
            return data.decode(encoding), encoding
        except LookupError:
            raise _ReadError("--encoding", f"unknown encoding {encoding!r}") from None
        except UnicodeDecodeError as exc:
            raise _ReadError(_where(data, exc.start), f"not valid {encoding}") from None
    for bom, name in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(name), name
            except UnicodeDecodeError as exc:
                raise _ReadError(f"byte {exc.start}", f"not valid {name} after its byte-order mark") from None
    nul = data.find(b"\x00")
    if nul >= 0:
        raise _ReadError(f"byte {nul}", "not a text file (it holds NUL bytes)")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        first_error = exc.start
    # Line by line: UTF-8 (with Chinese text), GBK/GB18030 (not UTF-8, as Excel on Chinese Windows writes), or
    # neither.  GBK is judged before any verdict of broken UTF-8: a GBK file's bytes can look like a CESU-8
    # surrogate (彭 is C5ED, so "彭海" holds ED BA A3).
    utf8_lines: list[tuple[int, int]] = []  # (line number, byte offset of its first non-ASCII byte)
    gbk_lines: list[tuple[int, int]] = []
    offset = 0
    for number, line in enumerate(data.split(b"\n"), start=1):
        if not line.isascii():
            first = offset + _first_non_ascii(line)
            kind = _line_encoding(line)
            if kind == "utf-8":
                utf8_lines.append((number, first))
            elif kind == "gb18030":
                gbk_lines.append((number, first))
            elif _CESU.search(line):
                raise _ReadError(f"line {number}, byte {first}", "a UTF-16 surrogate written as UTF-8 (CESU-8), which is neither valid UTF-8 "
                                     "nor GBK; save the file as UTF-8")
            else:
                raise _ReadError(f"line {number}, byte {offset + _first_bad_byte(line)}",
                                 "neither UTF-8 nor GBK/GB18030; fix the file or give --encoding")
        offset += len(line) + 1
    if gbk_lines and utf8_lines:
        # The fewer lines are the odd ones out: name the first of them.
        if len(utf8_lines) <= len(gbk_lines):
            odd, this, rest = utf8_lines, "UTF-8", "GBK/GB18030"
        else:
            odd, this, rest = gbk_lines, "GBK/GB18030", "UTF-8"
        number, byte = odd[0]
        raise _ReadError(f"line {number}, byte {byte}",
                         f"is {this} while the rest of the file is {rest} ({len(odd)} line(s) in another "
                         "encoding); save the file in one encoding")
    if gbk_lines:
        # Excel on Chinese Windows writes GBK (a subset of GB18030); that is the one other encoding guessed, and
        # only when it reads as mainland Chinese: GB2312's 6,763 hanzi and symbols cover nearly every character of
        # such a file (a rare name aside), while Big5 or Shift-JIS bytes read as GBK come out mostly outside it.
        text = data.decode("gb18030")
        wide = _ASCII_RUNS.sub("", text)
        common = len(wide.encode("gb2312", errors="ignore")) // 2  # two bytes for each GB2312 character
        if common >= 0.8 * len(wide):
            return text, "gb18030"
        raise _ReadError("-", f"the bytes decode as GBK, but only {common * 100 // len(wide)}% of the characters are "
                              "common Chinese ones, so it is probably another encoding (Big5, Shift-JIS …); give "
                              "--encoding")
    raise _ReadError(_where(data, first_error), "neither UTF-8 nor GBK/GB18030; give --encoding")


def _where(data: bytes, offset: int) -> str:
    line = data.count(b"\n", 0, offset) + 1
    return f"line {line}, byte {offset}"


#: Where UTF-8 text puts Chinese: CJK ideographs and punctuation, full-width forms.  A GBK line that happens
#: to be valid UTF-8 decodes to other scripts (two-byte sequences are Latin, Greek, Cyrillic, …), so a line
#: counts as UTF-8 only when its non-ASCII characters all fall here.
_CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef\u2014-\u201d\u00b7]")


def _line_encoding(line: bytes) -> str | None:
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        if all(ch.isascii() or _CJK.match(ch) for ch in text):
            return "utf-8"
    try:
        line.decode("gb18030")
    except UnicodeDecodeError:
        return None
    return "gb18030"


_ASCII_RUNS = re.compile(r"[\x00-\x7f]+")


def _first_non_ascii(line: bytes) -> int:
    return next(i for i, b in enumerate(line) if b > 127)


def _first_bad_byte(line: bytes) -> int:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start
    return 0


# --- parsing -------------------------------------------------------------------------------------


def _number_checker(limits: Limits) -> Callable[[str], float | int]:
    def check(text: str) -> float | int:
        digits = sum(ch.isdigit() for ch in text)
        if digits > limits.max_digits:
            raise _ReadError("-", f"a number with {digits} digits; at most {limits.max_digits} are accepted")
        value = float(text) if any(c in text for c in ".eE") else int(text)
        if value != value or value in (float("inf"), float("-inf")):
            raise _ReadError("-", "numbers must be finite")
        return value

    return check


#: Every byte but JSON's brackets, deleted by bytes.translate (C speed, no pieces): what is left bounds the number
#: of objects and arrays, and their nesting, before json.loads builds anything.
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def _json_structure(text: str, limits: Limits) -> None:
    """Refuse a JSON text with too many objects and arrays, or nested too deep, before json.loads builds it."""
    brackets = text.encode("utf-8").translate(None, _NOT_BRACKETS)  # brackets inside strings count too: a bound
    opened = brackets.count(b"{") + brackets.count(b"[")
    if opened > limits.max_objects or len(brackets) > 2 * limits.max_objects + 2:
        raise _ReadError("-", f"{opened:,} objects and arrays; at most {limits.max_objects:,} are accepted in one "
                              "file")
    depth = deepest = 0
    for b in brackets:  # at most 2 * max_objects + 2 of them
        if b in b"[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    # Brackets inside strings may have counted: only the exact measure, strings aside, refuses.
    if deepest > limits.max_depth and _json_depth(text, limits.max_depth) > limits.max_depth:
        raise _ReadError("-", f"nested more than {limits.max_depth} levels deep")


def _json_depth(text: str, limit: int) -> int:
    """Bracket nesting of a JSON text, strings aside; stops once it passes ``limit``."""
    depth = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > limit:
                return depth
        elif ch in "]}":
            depth -= 1
    return 0


def _parse_json(text: str, limits: Limits) -> Any:
    _json_structure(text, limits)

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in items:
            if k in out:
                raise _ReadError(k, "the key appears twice in one object")
            out[k] = v
        return out

    check = _number_checker(limits)

    def bad_constant(name: str) -> Any:
        raise _ReadError("-", f"{name} is not a number houfu accepts")

    try:
        return json.loads(text, parse_int=check, parse_float=check, parse_constant=bad_constant,
                          object_pairs_hook=pairs)
    except json.JSONDecodeError as exc:
        raise _ReadError(f"line {exc.lineno}", f"malformed JSON ({exc.msg})") from None


# YAML: libyaml's C parser gives the events; the values are built here, so every limit holds while parsing.
_YAML_PARSER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_RESOLVE: Any = yaml.resolver.Resolver().resolve  # the tag YAML 1.1 gives a plain scalar (untyped in PyYAML)
_CONSTRUCTOR = yaml.constructor.SafeConstructor()
_STR, _INT, _FLOAT, _BOOL, _NULL, _TIMESTAMP = (f"tag:yaml.org,2002:{t}" for t in
                                                 ("str", "int", "float", "bool", "null", "timestamp"))
_DECIMAL_INT = re.compile(r"[-+]?(?:0|[1-9][0-9]*)\Z")
_DECIMAL_FLOAT = re.compile(r"[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?\Z")


def _number_form(text: str) -> str:
    """How a YAML 1.1 number not in plain decimal digits is written, for the error that refuses it."""
    bare = text.lstrip("+-").lower()
    if bare.startswith("0x"):
        return "in hexadecimal"
    if bare.startswith("0b"):
        return "in binary"
    if bare.startswith("0o"):
        return "in octal"
    if ":" in bare:
        return "in base 60 (YAML reads 1:30 as 90)"
    if "_" in bare:
        return "with underscores"
    if bare.startswith("0") and len(bare) > 1 and bare[1].isdigit():
        return "with a leading zero (YAML reads 017 as the octal number 15)"
    return "in a form houfu does not read"


class _YamlBuilder:
    """Data from YAML events, checked as it is built (aliases, anchors, tags, depth, sizes, keys, numbers)."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.containers = 0

    def build(self, text: str) -> Any:
        events: Any = yaml.parse(text, Loader=_YAML_PARSER)
        try:
            next(events)  # the stream's start
            event = next(events)
            if isinstance(event, yaml.StreamEndEvent):
                return None  # an empty file
            value = self.node(next(events), events, "", 1)
            next(events)  # the document's end
            event = next(events)
            if not isinstance(event, yaml.StreamEndEvent):
                raise _ReadError(f"line {event.start_mark.line + 1 if event.start_mark else '-'}", "a second YAML document (---) in one file; "
                                                                      "give one document, or a list of records")
            return value
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"line {mark.line + 1}" if mark else "-"
            raise _ReadError(where, f"malformed YAML ({getattr(exc, 'problem', None) or 'cannot parse'})") from None
        finally:
            events.close()

    def node(self, event: Any, events: Any, path: str, depth: int) -> Any:
        line = event.start_mark.line + 1
        if isinstance(event, yaml.AliasEvent):
            raise _ReadError(f"line {line}", "YAML aliases (*name) and anchors (&name) are not accepted; "
                                             "write the value out")
        if getattr(event, "anchor", None):
            raise _ReadError(f"line {line}", "YAML anchors (&name) are not accepted")
        tag = getattr(event, "tag", None)
        if tag is not None and tag != "!":
            raise _ReadError(f"line {line}", f"explicit YAML tags ({tag}) are not accepted")
        if depth > self.limits.max_depth:
            raise _ReadError(path or f"line {line}", f"nested more than {self.limits.max_depth} levels deep "
                                                     f"(line {line})")
        if isinstance(event, yaml.ScalarEvent):
            return self.scalar(event, path)
        self.containers += 1
        if self.containers > self.limits.max_objects:
            raise _ReadError(f"line {line}", f"more than {self.limits.max_objects:,} mappings and lists; that "
                                             "many are not accepted in one file")
        if isinstance(event, yaml.SequenceStartEvent):
            return self.sequence(events, path, depth)
        return self.mapping(events, path, depth, line)

    def sequence(self, events: Any, path: str, depth: int) -> list[Any]:
        leaf = path.rsplit(".", 1)[-1]
        records = not path or path in ("households", "sites")  # a batch, or {households: [...]}
        limit = {"members": self.limits.max_members, "entities": self.limits.max_entities}.get(
            leaf, self.limits.max_records if records else self.limits.max_items)
        out: list[Any] = []
        while True:
            event = next(events)
            if isinstance(event, yaml.SequenceEndEvent):
                return out
            if len(out) == limit:
                what = "records" if records else leaf if leaf in ("members", "entities") else "items"
                raise _ReadError(path or "-", f"more than {limit:,} {what}; at most {limit:,} are accepted "
                                              f"(line {event.start_mark.line + 1})")
            out.append(self.node(event, events, f"{path}[{len(out)}]", depth + 1))

    def mapping(self, events: Any, path: str, depth: int, line: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        lines: dict[str, int] = {}
        while True:
            event = next(events)
            if isinstance(event, yaml.MappingEndEvent):
                return out
            key_line = event.start_mark.line + 1
            if not isinstance(event, yaml.ScalarEvent):
                if isinstance(event, yaml.AliasEvent):
                    raise _ReadError(f"line {key_line}", "YAML aliases (*name) and anchors (&name) are not "
                                                         "accepted; write the value out")
                raise _ReadError(f"line {key_line}", "keys must be plain text")
            if event.anchor or (event.tag is not None and event.tag != "!"):
                self.node(event, events, path, depth)  # refused there, with its reason
            key = self.key(event, path, key_line)
            if key in lines:
                raise _ReadError(_join(path, key), f"the key appears twice, on lines {lines[key]} and {key_line}"
                                 + (" (a number and the same text, such as 2025 and \"2025\", are one key)"
                                    if key.isdigit() else ""))
            if len(out) == self.limits.max_items:
                raise _ReadError(path or "-", f"more than {self.limits.max_items:,} keys in one mapping "
                                              f"(line {line})")
            lines[key] = key_line
            out[key] = self.node(next(events), events, _join(path, key), depth + 1)

    def key(self, event: Any, path: str, line: int) -> str:
        tag = _RESOLVE(yaml.ScalarNode, event.value, event.implicit)
        if tag == "tag:yaml.org,2002:merge":
            raise _ReadError(f"line {line}", "YAML merge keys (<<) are not accepted; write the keys out")
        if tag == _STR:
            return str(event.value)
        if tag == _INT and _DECIMAL_INT.match(event.value):
            # A YAML key such as 2025 (a year) is read as a number; keys are text in every input format.
            return str(int(event.value))
        raise _ReadError(f"line {line}", "keys must be plain text")

    def scalar(self, event: Any, path: str) -> Any:
        value: str = event.value
        tag = _RESOLVE(yaml.ScalarNode, value, event.implicit)
        line = event.start_mark.line + 1
        if tag == _STR:
            return value
        if tag == _NULL:
            return None
        if tag == _BOOL:
            return _CONSTRUCTOR.construct_yaml_bool(yaml.ScalarNode(tag, value))
        field = path or f"line {line}"
        if tag in (_INT, _FLOAT):
            lowered = value.lower()
            if lowered.lstrip("+-") in (".inf", ".nan"):
                raise _ReadError(field, f"numbers must be finite (.inf and .nan are not; line {line})")
            pattern = _DECIMAL_INT if tag == _INT else _DECIMAL_FLOAT
            if not pattern.match(value):
                raise _ReadError(field, f"{value!r} is a number written {_number_form(value)}; write it in plain "
                                        f"decimal digits (line {line})")
            digits = sum(ch.isdigit() for ch in value)
            if digits > self.limits.max_digits:
                raise _ReadError(field, f"a number with {digits} digits; at most {self.limits.max_digits} are "
                                        f"accepted (line {line})")
            return int(value) if tag == _INT else float(value)
        if tag == _TIMESTAMP:
            try:
                return _CONSTRUCTOR.construct_yaml_timestamp(yaml.ScalarNode(tag, value))
            except ValueError:
                raise _ReadError(field, f"{value!r} is not a real date (line {line})") from None
        raise _ReadError(field, f"a YAML value of type {tag} is not accepted (line {line})")


#: What YAML itself refuses to read (PyYAML's NON_PRINTABLE): C0 and C1 controls, DEL, surrogates.
_NON_PRINTABLE = re.compile("[^\x09\x0A\x0D\x20-\x7E\x85\xA0-\uD7FF\uE000-\uFFFD\U00010000-\U0010ffff]")


def _parse_yaml(text: str, limits: Limits) -> Any:
    bad = _NON_PRINTABLE.search(text)
    if bad is not None:
        line = text.count("\n", 0, bad.start()) + 1
        raise _ReadError(f"line {line}", f"holds a control character (U+{ord(bad.group()):04X}), which is not "
                                         "accepted")
    return _YamlBuilder(limits).build(text)


def parse_text(text: str, as_json: bool, limits: Limits = LIMITS) -> Any:
    return _parse_json(text, limits) if as_json else _parse_yaml(text, limits)


# --- shape and characters --------------------------------------------------------------------------

#: Unicode categories never accepted in input text: controls, format characters (bidi overrides,
#: zero-width joiners), line and paragraph separators, unassigned and private-use code points.
_UNSAFE_CATEGORIES = {"Cc", "Cf", "Zl", "Zp", "Co", "Cn", "Cs"}


#: A terminal's escape sequence (ECMA-48): CSI (ESC [ … final byte, as in ESC[31m), OSC (ESC ] … BEL or ESC \\)
#: and a two-character escape. Removed whole from free text, not only its ESC, so no "[31m" is left behind.
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]|\x9b[0-?]*[ -/]*[@-~]")


def safe_text(text: str) -> str:
    """The text without any character an output could be tricked by (escapes, bidi overrides, CR/LF)."""
    return "".join(ch for ch in _ANSI.sub("", text) if unicodedata.category(ch) not in _UNSAFE_CATEGORIES)


def _removed(text: str) -> str:
    """What ``safe_text`` removes from a text, in no language: each code point (U+202E), an escape sequence
    with its ESC written as U+001B (U+001B[31m)."""
    out: list[str] = []
    for seq in _ANSI.findall(text):
        out.append("U+%04X" % ord(seq[0]) + "".join(ch if ch.isprintable() else "U+%04X" % ord(ch) for ch in seq[1:]))
    out += ["U+%04X" % ord(ch) for ch in _ANSI.sub("", text) if unicodedata.category(ch) in _UNSAFE_CATEGORIES]
    return " ".join(dict.fromkeys(out))


def _unsafe(text: str) -> str | None:
    for ch in text:
        if unicodedata.category(ch) in _UNSAFE_CATEGORIES:
            return f"U+{ord(ch):04X}"
    return None


def _check_shape(data: Any, limits: Limits, path: str, warnings: list[tuple[str, str, str]]) -> Any:
    if isinstance(data, dict):
        for key in data:
            if isinstance(key, str) and _unsafe(key):
                raise _ReadError(path or "-", f"a key holds an invisible or control character ({_unsafe(key)})")
        if len(data) > limits.max_items:
            raise _ReadError(path or "-", f"{len(data):,} keys in one mapping; at most {limits.max_items:,} are "
                                          "accepted")
        for name, limit in (("members", limits.max_members), ("entities", limits.max_entities)):
            items = data.get(name)
            if isinstance(items, list) and len(items) > limit:
                raise _ReadError(_join(path, name), f"{len(items)} given; at most {limit} are accepted")
        # A YAML key such as 2025 (a year) is read as a number; keys are text in every input format.
        return {str(k): _check_shape(v, limits, _join(path, str(k)), warnings) for k, v in data.items()}
    if isinstance(data, list):
        limit = limits.max_records if not path or path in ("households", "sites") else limits.max_items
        if len(data) > limit:
            raise _ReadError(path or "-", f"{len(data):,} items; at most {limit:,} are accepted")
        return [_check_shape(v, limits, f"{path}[{i}]", warnings) for i, v in enumerate(data)]
    if isinstance(data, str):
        if len(data) > limits.max_string:
            raise _ReadError(path or "-", f"{len(data)} characters; at most {limits.max_string} are accepted")
        bad = _unsafe(data)
        if bad:
            if path.rsplit(".", 1)[-1] in FREE_TEXT:
                removed = _removed(data)
                warnings.append((path, f"removed invisible or control characters ({removed}) from the text; "
                                       "check it", removed))
                return safe_text(data)
            raise _ReadError(path or "-", f"holds an invisible or control character ({bad}), which is not accepted")
    return data


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def read_bytes(data: bytes, as_json: bool, encoding: str | None = None, limits: Limits = LIMITS) -> ReadResult:
    """Bytes to checked data (see the module docstring); raises _ReadError."""
    if len(data) > limits.max_bytes:
        raise _ReadError("-", f"{len(data):,} bytes; at most {limits.max_bytes:,} are accepted")
    text, used = decode(data, encoding)
    parsed = parse_text(text.lstrip("\ufeff"), as_json, limits)
    warnings: list[tuple[str, str, str]] = []
    checked = _check_shape(parsed, limits, "", warnings)
    return ReadResult(checked, used, [(f, m) for f, m, _ in warnings], [(f, r) for f, _, r in warnings])


def read_path(path: str, encoding: str | None = None, limits: Limits = LIMITS) -> ReadResult:
    """A file (``-`` for stdin) through ``read_bytes``; raises _ReadError or OSError."""
    if path == "-":
        data = sys.stdin.buffer.read(limits.max_bytes + 1)
    else:
        with Path(path).open("rb") as fh:
            data = fh.read(limits.max_bytes + 1)
    return read_bytes(data, path.endswith(".json"), encoding, limits)


ReadError = _ReadError
