"""Households and sites from YAML or JSON files (or stdin), checked strictly.

Every file goes through the hardened reader (``app.reader``). A record is then checked as the file
format demands, strictly: a boolean is ``true``/``false`` only and an integer is never a boolean; an
enum accepts its code or the Chinese label declared in ``policies/vocabulary.yaml`` and nothing else;
a number must lie in the range declared there. Errors are one line, name the file and the field, and
suggest the nearest known field name for a typo. Absent fields stay unknown.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast, get_args

from pydantic import BaseModel, ValidationError

from houfu.engine.results import InputWarning
from houfu.io.reader import LIMITS, ReadError, read_path, safe_text
from houfu.kb.facts import FieldValueError, Household, Site
from houfu.kb.loader import KB
from houfu.kb.names import did_you_mean, suggest

__all__ = ["InputError", "Records", "parse_file", "parse_record", "read_records", "stripped_warnings"]


class InputError(Exception):
    """Bad input: one line naming the file and the field."""

    def __init__(self, source: str, field: str, message: str):
        self.source, self.field, self.message = source, field, message
        # One line, and nothing from the input can smuggle a terminal escape into it (a path, a value).
        super().__init__(safe_text(f"{source}: {field}: {message}"))


@dataclass
class Records:
    """The raw records of one file, with where each came from and any warnings about the text."""

    source: str
    items: list[Any]
    warnings: list[InputError] = field(default_factory=list)
    stripped: list[tuple[str, str]] = field(default_factory=list)  # (field, what was removed), as the reader says

    def where(self, i: int) -> str:
        return self.source if len(self.items) == 1 else f"{self.source}[{i}]"


def read_records(path: str, encoding: str | None = None) -> Records:
    """One or many records from a file (``-`` for stdin); a list or ``{households: [...]}`` is a batch."""
    source = "<stdin>" if path == "-" else path
    try:
        result = read_path(path, encoding)
    except OSError as exc:
        raise InputError(source, "-", f"cannot read file ({exc.strerror or exc})") from None
    except ReadError as exc:
        raise InputError(source, exc.field, exc.message) from None
    data = result.data
    if isinstance(data, dict) and len(data) == 1 and next(iter(data)) in ("households", "sites"):
        data = next(iter(data.values()))
    if data is None:
        raise InputError(source, "-", "the file is empty")
    items = data if isinstance(data, list) else [data]
    if not items:
        raise InputError(source, "-", "the file holds no records")
    if len(items) > LIMITS.max_records:
        raise InputError(source, "-", f"{len(items):,} records; at most {LIMITS.max_records:,} per file")
    records = Records(source, items)
    records.warnings = [InputError(source, f, m) for f, m in result.warnings]
    records.stripped = result.stripped
    return records


def stripped_warnings(stripped: list[tuple[str, str]]) -> dict[int, list[InputWarning]]:
    """The characters the reader removed from free text (bidi controls, terminal escapes: ``ReadResult.stripped``)
    as warnings on the report of the record they were removed from, by its place in the file (0 for a file of
    one record), each naming the field within the record and what was removed."""
    from houfu.io.notes import LANGS, message

    out: dict[int, list[InputWarning]] = {}
    for path, removed in stripped:
        m = re.match(r"^(?:households|sites)?\[\d+\]\.?(.*)$", path)
        index, where = _place(path), (m[1] if m else path)
        words = {lang: message("notes", "stripped", lang, {"field": where, "removed": removed}) for lang in LANGS}
        out.setdefault(index, []).append(InputWarning(code="stripped_characters", fields=[where], **words))
    return out


M = TypeVar("M", bound=BaseModel)


def parse_file(path: str, model: type[M], kb: KB, encoding: str | None = None
               ) -> tuple[list[tuple[str, M]], list[InputError], list[InputError], dict[str, Any],
                          dict[str, list[InputWarning]]]:
    """Every record of a file, parsed; a bad record is reported and the rest still parsed.

    Returns (good records with where they came from, errors, warnings, each good record's item as read
    from the file, before labels became codes, by its id, and the warnings for its report by its id: the
    characters removed from its free text). A second record with an id already used is an
    error. An unreadable or malformed file raises InputError.
    """
    records = read_records(path, encoding)
    good: list[tuple[str, M]] = []
    bad: list[InputError] = []
    first: dict[str, str] = {}
    received: dict[str, Any] = {}
    stripped = stripped_warnings(records.stripped)
    report_warnings: dict[str, list[InputWarning]] = {}
    placed: set[int] = set()
    for i, raw in enumerate(records.items):
        where = records.where(i)
        try:
            record = parse_record(raw, model, where, kb)
        except InputError as exc:
            bad.append(exc)
            continue
        ident = str(getattr(record, "id", ""))
        if ident in first:
            bad.append(InputError(where, "id", f"duplicate id {ident!r} (first at {first[ident]})"))
            continue
        first[ident] = where
        good.append((where, record))
        received[ident] = raw
        if i in stripped:
            report_warnings[ident] = stripped[i]
            placed.add(i)
    # A warning now on its record's report is not said twice; one about a record refused stays with the file.
    warnings = [w for w, (path, _) in zip(records.warnings, records.stripped, strict=True)
                if _place(path) not in placed]
    return good, bad, warnings, received, report_warnings


def _place(path: str) -> int:
    """The place in the file of the record a field path is in (``[3].name``: 3; ``name``: 0)."""
    m = re.match(r"^(?:households|sites)?\[(\d+)\]", path)
    return int(m[1]) if m else 0


def _loc(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out.lstrip(".")


def _labels(kb: KB, name: str) -> dict[str, str]:
    label = kb.fact_labels.get(name)
    return label.labels if label else {}


def _with_codes(kb: KB, raw: Any) -> Any:
    """Chinese value labels declared in the vocabulary replaced by their codes (完全 -> full)."""
    if isinstance(raw, list):
        return [_with_codes(kb, v) for v in raw]
    if not isinstance(raw, dict):
        return raw
    out = {}
    for k, v in raw.items():
        by_label = {zh: code for code, zh in _labels(kb, str(k)).items()}
        out[k] = by_label.get(v, v) if isinstance(v, str) else _with_codes(kb, v)
    return out


def parse_record(raw: Any, model: type[M], source: str, kb: KB) -> M:
    """One record, checked strictly against the model and the vocabulary's labels and ranges."""
    if not isinstance(raw, dict):
        raise InputError(source, "-", f"expected a mapping of {model.__name__.lower()} facts, "
                                      f"got {type(raw).__name__}")
    # A base record class names the kind; the knowledge base's vocabulary supplies the facts.
    kinds: dict[type[BaseModel], type[BaseModel]] = {Household: kb.models.household, Site: kb.models.site}
    model = cast(type[M], kinds.get(model, model))
    try:
        record = model.model_validate(_with_codes(kb, raw), strict=True)
    except ValidationError as exc:
        raise _error(exc, model, source, kb) from None
    _check_ranges(kb, record, source)
    return record


def _error(exc: ValidationError, model: type[BaseModel], source: str, kb: KB) -> InputError:
    err = exc.errors()[0]
    cause = (err.get("ctx") or {}).get("error")
    loc = err["loc"]
    if isinstance(cause, FieldValueError):  # a field of an item (an entity's) is named under the item's place
        return InputError(source, ".".join(filter(None, (_loc(loc), cause.field))), cause.message)
    name = str(loc[-1]) if loc else "-"
    field = _loc(loc)
    if err["type"] == "extra_forbidden":
        owner = _owner_model(model, loc)
        msg = f"unknown field {name!r}" + did_you_mean(suggest(name, owner.model_fields))
        for item, where in ((kb.models.member, "members"), (kb.models.entity, "entities")):
            if owner is not item and name in item.model_fields:
                msg = f"{name!r} is a fact of each of the {where}; give it under {where}"
        return InputError(source, field, msg)
    labels = _labels(kb, name)
    if err["type"] == "literal_error" and labels:
        accepted = ", ".join(f"{code} ({zh})" for code, zh in labels.items())
        return InputError(source, field, f"{err.get('input')!r} is not accepted; use one of {accepted}")
    if err["type"] == "bool_type":
        return InputError(source, field, f"must be true or false (got {err.get('input')!r})")
    if err["type"] == "string_pattern_mismatch" and loc and loc[-1] == "[key]":
        # A period key (kb.facts): a year 2025 or a quarter 2025-Q1, in ASCII digits.
        pattern = str((err.get("ctx") or {}).get("pattern", ""))
        shape = "a quarter such as 2025-Q1" if "Q" in pattern else "a year such as 2025"
        return InputError(source, _loc(loc[:-1]), f"{err.get('input')!r} is not a period: write {shape}, in ASCII "
                                                  "digits")
    if err["type"] == "value_error" and "error" in err.get("ctx", {}):  # our own reason (a date), without the prefix
        return InputError(source, field, f"{err['ctx']['error']} (got {err.get('input')!r})")
    return InputError(source, field, f"{err['msg']} (got {err.get('input')!r})")


def _check_ranges(kb: KB, record: BaseModel, source: str, prefix: str = "") -> None:
    for name in type(record).model_fields:
        value = getattr(record, name)
        if isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, BaseModel):
                    _check_ranges(kb, item, source, f"{prefix}{name}[{i}].")
        elif isinstance(value, BaseModel):
            _check_ranges(kb, value, source, f"{prefix}{name}.")
        elif isinstance(value, int | float) and not isinstance(value, bool):
            fact = f"{prefix.split('].')[-1]}{name}" if "]." in prefix else f"{prefix}{name}"
            label = kb.fact_labels.get(fact)
            rng = label.range if label else None
            if rng is not None and not rng.min <= value <= rng.max:
                raise InputError(source, f"{prefix}{name}", f"{value:g} is out of range {rng.min:g} to {rng.max:g} "
                                                            f"({rng.why})")


def _owner_model(model: type[BaseModel], loc: tuple[int | str, ...]) -> type[BaseModel]:
    """The model that owns the last field of an error location (Member for members[0].x)."""
    current = model
    for part in loc[:-1]:
        if isinstance(part, str) and part in current.model_fields:
            current = next(_models_in(current.model_fields[part].annotation), current)
    return current


def _models_in(ann: Any) -> Iterator[type[BaseModel]]:
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        yield ann
    for arg in get_args(ann):
        yield from _models_in(arg)
