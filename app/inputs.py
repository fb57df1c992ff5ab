"""Read households and sites from YAML or JSON, from a file or stdin.

Errors are one line, name the file and the field, and suggest the nearest
known field name for a typo.  Absent fields stay unknown.
"""

from __future__ import annotations

import difflib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar, get_args

import yaml
from pydantic import BaseModel, ValidationError

__all__ = ["InputError", "read_records", "parse_record", "parse_file"]


class InputError(Exception):
    """Bad input: one line naming the file and the field."""

    def __init__(self, source: str, field: str, message: str):
        self.source, self.field, self.message = source, field, message
        super().__init__(f"{source}: {field}: {message}")


def read_records(path: str) -> list[Any]:
    """One or many records from a file (``-`` for stdin); a list or ``{households: [...]}`` is a batch."""
    source = "<stdin>" if path == "-" else path
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(source, "-", f"cannot read file ({exc.strerror})") from None
    try:
        data = json.loads(text) if path.endswith(".json") else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else f"line {getattr(exc, 'lineno', '?')}"
        raise InputError(source, where, f"malformed {'JSON' if path.endswith('.json') else 'YAML'}") from None
    if isinstance(data, dict) and len(data) == 1 and next(iter(data)) in ("households", "sites"):
        data = next(iter(data.values()))
    if data is None:
        raise InputError(source, "-", "the file is empty")
    return data if isinstance(data, list) else [data]


M = TypeVar("M", bound=BaseModel)


def parse_file(path: str, model: type[M]) -> tuple[list[tuple[str, M]], list[InputError]]:
    """Every record of a file, parsed; a bad record is reported and the rest still parsed.

    Returns (good records with where they came from, errors).  An unreadable or
    malformed file raises InputError.
    """
    source = "<stdin>" if path == "-" else path
    raws = read_records(path)
    good: list[tuple[str, M]] = []
    bad: list[InputError] = []
    for i, raw in enumerate(raws):
        where = source if len(raws) == 1 else f"{source}[{i}]"
        try:
            good.append((where, parse_record(raw, model, where)))
        except InputError as exc:
            bad.append(exc)
    return good, bad


def _loc(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out.lstrip(".")


def parse_record(raw: Any, model: type[M], source: str) -> M:
    if not isinstance(raw, dict):
        raise InputError(source, "-", f"expected a mapping of {model.__name__.lower()} facts")
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = _loc(err["loc"])
        if err["type"] == "extra_forbidden":
            name = str(err["loc"][-1])
            owner = _owner_model(model, err["loc"])
            hint = difflib.get_close_matches(name, list(owner.model_fields), n=1)
            msg = f"unknown field {name!r}" + (f"; did you mean {hint[0]!r}?" if hint else "")
            raise InputError(source, field, msg) from None
        raise InputError(source, field, f"{err['msg']} (got {err.get('input')!r})") from None


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
