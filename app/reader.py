"""One hardened reader for every input: files, stdin and, later, HTTP bodies and uploaded caseloads.

Everything that comes in goes through ``read_bytes`` (or ``read_path``), in this order, and stops at
the first problem with one error naming the source and the field:

1. **Size** before anything else (``Limits.max_bytes``).
2. **Text, not binary**: a NUL byte or a known binary header (ELF, PNG, gzip, zip, PDF) is refused.
3. **Encoding**: a BOM (UTF-8, UTF-16), else UTF-8, else GBK/GB18030 as charset-normalizer detects it, or
   the ``--encoding`` given. Text that is UTF-8 with broken bytes (e.g. CESU-8 surrogates) is refused with
   the byte offset, never guessed into another encoding.
4. **Parsing** without surprises: nesting depth, digits in a number and non-finite numbers are checked
   while parsing; YAML aliases (the "billion laughs" bomb), explicit tags (``!!binary``,
   ``!!python/...``) and duplicate keys are refused (naming both lines).
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
    max_records: int = 100_000
    max_string: int = 200
    max_digits: int = 15  # digits in a number, integer or fraction (1e15 yuan is already absurd)


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


def decode(data: bytes, encoding: str | None = None) -> tuple[str, str]:
    """The text and the encoding it was read in; raises _ReadError naming the byte offset."""
    for magic, what in _BINARY.items():
        if data.startswith(magic):
            raise _ReadError("-", f"not a text file (it looks like {what})")
    if encoding:
        try:
            return data.decode(encoding), encoding
        except LookupError:
            raise _ReadError("--encoding", f"unknown encoding {encoding!r}") from None
        except UnicodeDecodeError as exc:
            raise _ReadError(f"byte {exc.start}", f"not valid {encoding}") from None
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
    surrogate = _CESU.search(data)
    if surrogate is not None:
        raise _ReadError(f"byte {surrogate.start()}", "a UTF-16 surrogate written as UTF-8 (CESU-8), which is "
                                                      "not valid UTF-8; save the file as UTF-8")
    # UTF-8 with a few broken sequences is broken UTF-8, not another encoding: refuse it with the offset.
    lossy = data.decode("utf-8", errors="replace")
    broken = lossy.count("\ufffd")
    valid_non_ascii = sum(1 for ch in lossy if ord(ch) > 127 and ch != "\ufffd")
    if valid_non_ascii >= broken:
        raise _ReadError(f"byte {first_error}", "not valid UTF-8 (a broken or surrogate sequence); "
                                                "fix the file or give --encoding")
    from charset_normalizer import from_bytes

    # Excel on Chinese Windows writes GBK (a subset of GB18030); that is the one other encoding guessed.
    best = from_bytes(data, cp_isolation=["gb18030"]).best()
    if best is not None:
        try:
            return data.decode("gb18030"), "gb18030"
        except UnicodeDecodeError:
            pass
    raise _ReadError(f"byte {first_error}", "neither UTF-8 nor GBK/GB18030; give --encoding")


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


def _json_depth(text: str) -> int:
    """Deepest bracket nesting of a JSON text, strings aside (checked before json.loads recurses)."""
    depth = deepest = 0
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
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def _parse_json(text: str, limits: Limits) -> Any:
    if _json_depth(text) > limits.max_depth:
        raise _ReadError("-", f"nested more than {limits.max_depth} levels deep")

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


class _HardenedLoader(yaml.SafeLoader):
    """PyYAML's safe loader without aliases, explicit tags or duplicate keys, and with a depth limit."""

    limits = LIMITS
    _depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise _ReadError(f"line {event.start_mark.line + 1}",
                             "YAML aliases (*name) are not accepted; write the value out")
        event = self.peek_event()  # type: ignore[no-untyped-call]
        tag = getattr(event, "tag", None)
        if tag is not None and tag != "!":
            raise _ReadError(f"line {event.start_mark.line + 1}", f"explicit YAML tags ({tag}) are not accepted")
        if getattr(event, "anchor", None):
            raise _ReadError(f"line {event.start_mark.line + 1}", "YAML anchors (&name) are not accepted")
        self._depth += 1
        try:
            if self._depth > self.limits.max_depth:
                raise _ReadError(f"line {event.start_mark.line + 1}",
                                 f"nested more than {self.limits.max_depth} levels deep")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if not isinstance(key, str | int) or isinstance(key, bool):
                raise _ReadError(f"line {line}", "keys must be plain text")
            if key in seen:
                raise _ReadError(str(key), f"the key appears twice, on lines {seen[key]} and {line}")
            seen[key] = line
        return super().construct_mapping(node, deep)


def _construct_int(loader: _HardenedLoader, node: Any) -> Any:
    _number_checker(loader.limits)(str(node.value).replace("_", "").lstrip("+-") or "0")
    return yaml.SafeLoader.construct_yaml_int(loader, node)


def _construct_float(loader: _HardenedLoader, node: Any) -> Any:
    value = yaml.SafeLoader.construct_yaml_float(loader, node)
    if value != value or value in (float("inf"), float("-inf")):
        raise _ReadError(f"line {node.start_mark.line + 1}", "numbers must be finite (.inf and .nan are not)")
    digits = sum(ch.isdigit() for ch in str(node.value))
    if digits > loader.limits.max_digits:
        raise _ReadError(f"line {node.start_mark.line + 1}",
                         f"a number with {digits} digits; at most {loader.limits.max_digits} are accepted")
    return value


_HardenedLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)
_HardenedLoader.add_constructor("tag:yaml.org,2002:float", _construct_float)


def _parse_yaml(text: str, limits: Limits) -> Any:
    try:
        loader = _HardenedLoader(text)
    except yaml.reader.ReaderError as exc:  # a raw control character in the text
        line = text.count("\n", 0, exc.position) + 1
        raise _ReadError(f"line {line}", f"holds a control character (U+{exc.character:04X}), which is not accepted"
                         ) from None
    loader.limits = limits
    try:
        return loader.get_single_data()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "-"
        raise _ReadError(where, f"malformed YAML ({getattr(exc, 'problem', None) or 'cannot parse'})") from None
    finally:
        loader.dispose()


def parse_text(text: str, as_json: bool, limits: Limits = LIMITS) -> Any:
    return _parse_json(text, limits) if as_json else _parse_yaml(text, limits)


# --- shape and characters --------------------------------------------------------------------------

#: Unicode categories never accepted in input text: controls, format characters (bidi overrides,
#: zero-width joiners), line and paragraph separators, unassigned and private-use code points.
_UNSAFE_CATEGORIES = {"Cc", "Cf", "Zl", "Zp", "Co", "Cn", "Cs"}


def safe_text(text: str) -> str:
    """The text without any character an output could be tricked by (escapes, bidi overrides, CR/LF)."""
    return "".join(ch for ch in text if unicodedata.category(ch) not in _UNSAFE_CATEGORIES)


def _unsafe(text: str) -> str | None:
    for ch in text:
        if unicodedata.category(ch) in _UNSAFE_CATEGORIES:
            return f"U+{ord(ch):04X}"
    return None


def _check_shape(data: Any, limits: Limits, path: str, warnings: list[tuple[str, str]]) -> Any:
    if isinstance(data, dict):
        for key in data:
            if isinstance(key, str) and _unsafe(key):
                raise _ReadError(path or "-", f"a key holds an invisible or control character ({_unsafe(key)})")
        for name, limit in (("members", limits.max_members), ("entities", limits.max_entities)):
            items = data.get(name)
            if isinstance(items, list) and len(items) > limit:
                raise _ReadError(_join(path, name), f"{len(items)} given; at most {limit} are accepted")
        # A YAML key such as 2025 (a year) is read as a number; keys are text in every input format.
        return {str(k): _check_shape(v, limits, _join(path, str(k)), warnings) for k, v in data.items()}
    if isinstance(data, list):
        return [_check_shape(v, limits, f"{path}[{i}]", warnings) for i, v in enumerate(data)]
    if isinstance(data, str):
        if len(data) > limits.max_string:
            raise _ReadError(path or "-", f"{len(data)} characters; at most {limits.max_string} are accepted")
        bad = _unsafe(data)
        if bad:
            if path.rsplit(".", 1)[-1] in FREE_TEXT:
                warnings.append((path, f"removed an invisible or control character ({bad}) from the text"))
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
    warnings: list[tuple[str, str]] = []
    checked = _check_shape(parsed, limits, "", warnings)
    return ReadResult(checked, used, warnings)


def read_path(path: str, encoding: str | None = None, limits: Limits = LIMITS) -> ReadResult:
    """A file (``-`` for stdin) through ``read_bytes``; raises _ReadError or OSError."""
    if path == "-":
        data = sys.stdin.buffer.read(limits.max_bytes + 1)
    else:
        with Path(path).open("rb") as fh:
            data = fh.read(limits.max_bytes + 1)
    return read_bytes(data, path.endswith(".json"), encoding, limits)


ReadError = _ReadError
