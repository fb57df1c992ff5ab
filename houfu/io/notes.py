"""What the screener says about a county's files: cell errors, grouped by column and kind, and notes (a sheet
read as the members table, blank rows skipped, a column not read), each in the user's language.

The words are data (templates/screen_messages.yaml); the code keeps a kind and its values, so one error is
rendered in Chinese for the errors file and in English for a log, and grouped by what went wrong rather
than by its text. Every value shown passes through ``mask_personal``: an ID number in a cell is never written
out whole.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from houfu.io.privacy import mask_personal
from houfu.io.reader import safe_text

__all__ = ["CellError", "Note", "cell_error", "errors_header", "group_errors", "message", "note", "table_name"]

LANGS = ("zh", "en")


@lru_cache(maxsize=1)
def _catalogue() -> dict[str, Any]:
    from importlib.resources import files

    import yaml

    from houfu._version import __version__
    from houfu.kb import cache

    raw = (files("houfu.templates") / "screen_messages.yaml").read_bytes()
    # Kept parsed in houfu's cache folder under the file's hash (and houfu's and PyYAML's versions, which read it):
    # even libyaml's parser took 10 ms of a cold `houfu check` (0.23 s) for these 15 KB, the cached copy well
    # under one (issue 25).
    key = _catalogue_key(raw, yaml.__version__, __version__)
    data = cache.read(key)
    if isinstance(data, dict):
        return data
    # libyaml when present (the pure-Python parser took 0.1-0.4 s of a cold `houfu check`, issue 25)
    data = yaml.load(raw.decode("utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506
    if not isinstance(data, dict):
        raise ValueError("templates/screen_messages.yaml: the messages are a mapping of sections")
    cache.write(key, data)
    return data


def _catalogue_key(raw: bytes, yaml_version: str, houfu_version: str) -> str:
    import hashlib

    from houfu.kb import cache

    return cache.derived_key(hashlib.sha256(raw).hexdigest(), "screen_messages", yaml_version, houfu_version)


def _shown(value: Any) -> str:
    """A value as a message shows it: masked (ID and phone numbers), without control characters, cut short."""
    text = safe_text(mask_personal(value))
    return text if len(text) <= 40 else text[:39] + "…"


def _fill(template: str, params: Mapping[str, Any]) -> str:
    return template.format_map({k: (_shown(v) if k == "value" else v) for k, v in params.items()})


def message(section: str, kind: str, lang: str, params: Mapping[str, Any], part: str | None = None) -> str:
    entry = _catalogue()[section][kind][lang if lang in LANGS else "zh"]
    return _fill(entry[part] if part else entry, params)


def table_name(table: str, lang: str) -> str:
    return str(_catalogue()["tables"][table][lang if lang in LANGS else "zh"])


def errors_header(lang: str) -> list[str]:
    return list(_catalogue()["errors_file"][lang if lang in LANGS else "zh"])


@dataclass(frozen=True)
class CellError:
    """A bad cell (or row): the file, the row as the file numbers it, the column, and why.

    ``kind`` and ``params`` say what went wrong in words of no language; ``reason`` is the English text (for
    logs, and for errors that come with their own words: a JSON Lines record, a jurisdiction no document
    covers)."""

    file: str
    row: int  # as a spreadsheet numbers it: the header is row 1 unless a title stands above it
    column: str
    reason: str
    kind: str = "other"
    params: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def __str__(self) -> str:
        return f"{self.file}: row {self.row}: {self.column}: {self.reason}"

    def text(self, lang: str) -> str:
        """The reason in the user's language."""
        if self.kind == "other":
            return safe_text(self.reason)
        return message("errors", self.kind, lang, self.params, "reason")

    def line(self, lang: str) -> str:
        return f"{self.file}: row {self.row}: {self.column}: {self.text(lang)}"


def cell_error(file: str, row: int, column: str, kind: str, **params: Any) -> CellError:
    return CellError(file, row, column, message("errors", kind, "en", params, "reason"), kind, params)


@dataclass(frozen=True)
class Note:
    """Something the reader did or did not do that the user should know: a warning (a column not read, a
    site not known) or an information (a sheet read as the members table)."""

    kind: str
    params: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)
    warning: bool = True

    def text(self, lang: str) -> str:
        params = dict(self.params)
        # Nested words: a table's name, a reason, a hint, each in the same language.
        for key in ("table",):
            if key in params:
                params[key] = table_name(str(params[key]), lang)
        if "why_kind" in params:
            params["why"] = message("notes", params.pop("why_kind"), lang, params)
        return message("notes", self.kind, lang, params)

    def __str__(self) -> str:
        return self.text("en")


def note(kind: str, *, warning: bool = True, **params: Any) -> Note:
    return Note(kind, params, warning)


def hints(suggestion: str | None) -> dict[str, Any]:
    """The "did you mean" tail of a message, in both languages (empty when there is no suggestion)."""
    if not suggestion:
        return {"hint_zh": "", "hint_en": ""}
    return {f"hint_{lang}": message("notes", "hint", lang, {"suggestion": suggestion}) for lang in LANGS}


def field_hints(field: str, label: str) -> dict[str, Any]:
    return {f"hint_{lang}": message("notes", "hint_field", lang, {"field": field, "label": label}) for lang in LANGS}


@dataclass
class ErrorGroup:
    """Errors of one kind in one column: how many rows, and the first as an example."""

    file: str
    column: str
    kind: str
    count: int
    first: CellError

    def text(self, lang: str, with_file: bool = False) -> str:
        e = self.first
        group = (message("errors", e.kind, lang, e.params, "group") if e.kind != "other"
                 else safe_text(str(e.params.get("group", e.reason))))
        value = e.params.get("value")
        example = _example(lang, {"value": value}) if value not in (None, "") else ""
        column = f"{self.file} » {self.column}" if with_file else self.column
        return _fill(_catalogue()["grouped"][lang if lang in LANGS else "zh"],
                     {"column": column, "count": f"{self.count:,}", "group": group, "row": e.row, "example": example})

    def as_dict(self, lang: str, with_file: bool) -> dict[str, Any]:
        return {"file": self.file, "column": self.column, "kind": self.kind, "rows": self.count,
                "example_row": self.first.row, "text": self.text(lang, with_file)}


def _example(lang: str, params: Mapping[str, Any]) -> str:
    return _fill(_catalogue()["example"][lang if lang in LANGS else "zh"], params)


def group_errors(errors: Iterable[CellError]) -> list[ErrorGroup]:
    """Errors grouped by file, column and kind (an error of its own words by its text), largest first."""
    groups: dict[tuple[str, str, str], ErrorGroup] = {}
    for e in errors:
        key = (e.file, e.column, e.kind if e.kind != "other" else "other:" + str(e.params.get("group", e.reason)))
        g = groups.get(key)
        if g is None:
            groups[key] = ErrorGroup(e.file, e.column, e.kind, 1, e)
        else:
            g.count += 1
    return sorted(groups.values(), key=lambda g: (-g.count, g.file, g.first.row))
