"""Caseload tables in, columns out: the screener's reader.

A county's export is a workbook (every sheet read, and each judged by its headers to be the households,
members or businesses table), a CSV (often GBK), a Parquet file, or JSON Lines of the records ``houfu check``
reads. It comes in one of two shapes: a households table with a members table (and optionally a businesses
table) joined by the household id, or one row per member carrying the household's columns. A workbook is read
as a county keeps it (``ledger``): a title above the header, a header of two rows, merged cells, blank and
totals rows. Headers and value spellings are declared in ``policies/columns.yaml`` beside the vocabulary's
labels, and a county's own in a mapping file (``mapping``), so a new county's export is a data change.

Every column is read, ignored on purpose, or reported with a suggestion. Every cell is checked: a bad cell
rejects its household, and is reported with the file (and sheet), the row as the file numbers it, the column
and the reason. Values are mapped per distinct value (a column is dictionary-encoded first), so the work is
per distinct spelling, not per row. The limits (``limits``) hold before the work: a workbook is judged by
what it really holds, a Parquet file by its footer, and reading has a time budget.
"""

from __future__ import annotations

import datetime as dt
import io
import math
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from houfu.engine.columns import Caseload, Codec, Items, Table, codec_for
from houfu.engine.logic import date_number
from houfu.io.ledger import Sheet, csv_table, sheet_table
from houfu.io.limits import LIMITS, Deadline, LimitError, TableError, TableLimits
from houfu.io.mapping import ColumnSpec, spec_for
from houfu.io.notes import CellError, Note, cell_error, field_hints, hints, note
from houfu.io.reader import _ReadError, decode, head_lines
from houfu.kb.facts import parse_date
from houfu.kb.loader import KB
from houfu.kb.models import ENTITY_KIND

__all__ = ["CellError", "LimitError", "Loaded", "TableError", "check_content", "check_parquet", "load_caseload",
           "load_tables", "read_sheets", "read_table", "sniff_format"]

#: ``.txt``: Excel's "Unicode Text" and "Text (Tab delimited)" exports, read as CSV (tabs found by ``_delimiter``)
FORMATS = (".csv", ".txt", ".xlsx", ".parquet", ".jsonl", ".ndjson")

#: An id that Excel stored as a number of 16 digits or more, kept as it stored it (3.60731199001011e+17): its
#: last digits are lost, so it is refused, with the fix.
_FLOAT_ID = r"^[0-9]+(\.[0-9]+)?[eE]\+?[0-9]+$"


# --- reading files --------------------------------------------------------------------------------------------

_NAMES = {".parquet": "a Parquet file", ".xlsx": "an XLSX workbook", ".jsonl": "JSON Lines", ".csv": "CSV text"}


def sniff_format(head: bytes) -> str:
    """A file's format from its first bytes, never from its name: ".parquet", ".xlsx", ".jsonl" or ".csv".

    Raises TableError (without a file name; the caller adds it) for what houfu cannot read: a legacy .xls
    workbook, or bytes that are not text."""
    if head.startswith(b"PAR1"):
        return ".parquet"
    if head.startswith(b"PK\x03\x04"):  # a zip: XLSX is the only zip houfu reads
        return ".xlsx"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        raise TableError("-: a legacy Excel (.xls) workbook; save it as .xlsx or CSV")
    if not head.strip():
        raise TableError("-: the file is empty")
    for bom, codec in ((b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if head.startswith(bom):  # UTF-16 text (Excel's "Unicode Text"): its NULs are no binary content
            text = head[2:].decode(codec, errors="ignore")  # the head may end inside a character
            if not text.strip():
                raise TableError("-: the file is empty")
            return ".jsonl" if text.lstrip(" \t\r\n").startswith("{") else ".csv"
    if b"\x00" in head:
        raise TableError("-: binary content, not a table houfu reads (CSV, XLSX, Parquet or JSON Lines)")
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
        return ".jsonl"
    return ".csv"


def check_content(path: Path) -> None:
    """The file's content must be what its name says: a workbook renamed .csv is refused, in one line."""
    try:
        with path.open("rb") as fh:
            head = fh.read(4096)
    except OSError:
        return  # the reader says why, in its own words
    try:
        found = sniff_format(head)
    except TableError as exc:
        raise TableError(f"{path}: {exc}") from None
    suffix = {".ndjson": ".jsonl", ".txt": ".csv"}.get(path.suffix.lower(), path.suffix.lower())
    if suffix in _NAMES and found != suffix:
        raise TableError(f"{path}: -: the content is {_NAMES[found]}, not what its name ({path.suffix}) says")


def _csv_encoding(path: Path, encoding: str | None) -> str:
    with path.open("rb") as fh:
        head = fh.read(1 << 20)
    if len(head) == 1 << 20:  # cut at a line end so a multi-byte character is not split
        head = head_lines(head)
    try:
        _, found = decode(head, encoding)
    except _ReadError as exc:
        raise TableError(f"{path}: {exc.field}: {exc.message}") from None
    return found


def _exists(path: Path) -> None:
    try:
        exists = path.is_file()
    except OSError as exc:  # a name too long, a path through a file
        raise TableError(f"{str(path)[:80]}: -: cannot read ({exc.strerror})") from None
    if not exists:
        raise TableError(f"{path}: -: no such file")


def check_parquet(path: Path, limits: TableLimits = LIMITS) -> Any:
    """A Parquet file judged by its footer before a row is read: the footer's own size (from the file's last
    bytes), rows, row groups, columns, and the column chunks' declared sizes. Returns the ParquetFile."""
    f = open_parquet(path, limits)
    md = f.metadata
    if md.num_rows > limits.rows:
        raise LimitError(f"{path}: -: {md.num_rows:,} rows declared; at most {limits.rows:,} are read")
    if md.num_columns > limits.columns:
        raise LimitError(f"{path}: -: {md.num_columns:,} columns; at most {limits.columns:,} are read")
    if md.num_row_groups > limits.parquet_row_groups:
        raise LimitError(f"{path}: -: {md.num_row_groups:,} row groups; at most {limits.parquet_row_groups:,} "
                         "are read")
    total = 0
    for g in range(md.num_row_groups):
        group = md.row_group(g)
        if group.num_rows < 0:
            raise TableError(f"{path}: -: not a Parquet file (row group {g} declares {group.num_rows} rows)")
        for c in range(group.num_columns):
            chunk = group.column(c)
            total += max(0, chunk.total_uncompressed_size)
            # Front coding (each value a prefix of the one before and a suffix) can spell a value far longer than
            # the page holding it: only the encodings whose text is bounded by their declared size are read.
            if "DELTA_BYTE_ARRAY" in chunk.encodings:
                raise LimitError(f"{path}: {chunk.path_in_schema}: DELTA_BYTE_ARRAY encoding, which houfu does not "
                                 "read; write the file with dictionary or plain encoding (pyarrow's default)")
        if total > limits.parquet_bytes:
            raise LimitError(f"{path}: -: more than {limits.parquet_bytes:,} bytes once uncompressed (declared); "
                             f"at most {limits.parquet_bytes:,} are read")
    return f


def open_parquet(path: Path, limits: TableLimits = LIMITS) -> Any:
    """A Parquet file opened by its footer, whose own size is judged first (from the file's last bytes): what any
    reader of it needs, whatever its size (``check_parquet`` judges the rest). Returns the ParquetFile."""
    import pyarrow.parquet as pq

    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            fh.seek(max(0, size - 8))
            tail = fh.read(8)
    except OSError as exc:
        raise TableError(f"{path}: -: cannot read ({exc.strerror})") from None
    if len(tail) < 8 or tail[4:] != b"PAR1":
        raise TableError(f"{path}: -: not a Parquet file (no footer)")
    footer = int.from_bytes(tail[:4], "little")
    if footer > limits.parquet_footer or footer > size:
        raise LimitError(f"{path}: -: a footer of {footer:,} bytes; at most {limits.parquet_footer:,} are read")
    try:
        return pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise TableError(f"{path}: -: not a Parquet file ({exc})") from None


class TextBudget:
    """The text a Parquet file's string columns hold once decoded, counted batch by batch before any is decoded:
    they are read as dictionaries, so one long value repeated for every row costs its length once until here."""

    def __init__(self, path: Path, limits: TableLimits):
        self.path, self.limits, self.used = path, limits, 0

    def check(self, table: pa.Table | pa.RecordBatch) -> None:
        for name, col in zip(table.schema.names, table.columns, strict=True):
            chunks = col.chunks if isinstance(col, pa.ChunkedArray) else [col]
            for chunk in chunks:
                if not pa.types.is_dictionary(chunk.type) or len(chunk) == 0:
                    continue
                lengths = pc.binary_length(chunk.dictionary)
                longest = pc.max(lengths).as_py() or 0
                if longest > self.limits.cell_chars * 4:  # bytes: four for each character at most in UTF-8
                    raise LimitError(f"{self.path}: {name}: a value of {longest:,} bytes; at most "
                                     f"{self.limits.cell_chars:,} characters are read in a cell")
                bound = longest * len(chunk)
                if bound > self.limits.parquet_text_bytes // 8:  # only then counted exactly
                    bound = int(pc.sum(pc.take(lengths, chunk.indices)).as_py() or 0)
                self.used += bound
                if self.used > self.limits.parquet_text_bytes:
                    raise LimitError(f"{self.path}: {name}: more than {self.limits.parquet_text_bytes:,} bytes of "
                                     "text once decoded; at most that much is read")


def refuse_nested(path: Path | str, schema: pa.Schema, columns: Iterable[str]) -> None:
    """A column houfu reads holds one value a cell: a Parquet column of lists, records or maps is refused naming
    it (it was an internal error: a KeyError from pyarrow, or a cast it cannot make)."""
    for c in columns:
        i = schema.get_field_index(c)
        if i >= 0 and pa.types.is_nested(schema.field(i).type):
            raise TableError(f"{path}: {c}: holds lists or records ({schema.field(i).type}), not one value a cell; "
                             "give each cell one value")


def _read_parquet(path: Path, spec: ColumnSpec, limits: TableLimits) -> pa.Table:
    """A whole Parquet file, its text counted before it is decoded: labels are read as dictionaries (and
    counted as they come), ids and names (unique: a dictionary would cost more than the strings) in a pass of
    their own as dictionaries first."""
    import pyarrow.parquet as pq

    f = check_parquet(path, limits)
    strings = _strings(f.schema_arrow)
    unique = [c for c in strings if any(spec.field(level, c) in ("id", "household", "name") for level in
                                        ("household", "member", "entity", "site"))]
    labels = [c for c in strings if c not in unique]
    budget = TextBudget(path, limits)
    try:
        for c in unique:
            for batch in pq.ParquetFile(path, read_dictionary=[c]).iter_batches(batch_size=65_536, columns=[c]):
                budget.check(batch)
        table = pq.ParquetFile(path, read_dictionary=labels).read()
    except (pa.ArrowInvalid, OSError) as exc:
        raise TableError(f"{path}: -: not a Parquet file ({exc})") from None
    budget.check(table)
    return table


def _strings(schema: pa.Schema) -> list[str]:
    return [f.name for f in schema if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)]


def read_sheets(path: Path, encoding: str | None = None, spec: ColumnSpec | None = None,
                limits: TableLimits = LIMITS, deadline: Deadline | None = None,
                kb: KB | None = None) -> tuple[list[Sheet], list[Note]]:
    """A file's tables: one for a CSV or Parquet file, one per sheet with a header houfu knows for a workbook;
    and notes on the sheets not read."""
    deadline = deadline or Deadline(limits.seconds)
    suffix = path.suffix.lower()
    _exists(path)
    if spec is None:
        if kb is None:
            raise TypeError("read_sheets needs the column spec or the knowledge base")
        spec = spec_for(kb)
    if suffix == ".parquet":
        table = _read_parquet(path, spec, limits)
        deadline.check(str(path))
        return [Sheet(table, str(path), np.arange(2, table.num_rows + 2, dtype=np.int64),
                      headers=list(table.column_names))], []
    if suffix in (".csv", ".txt"):
        enc = _csv_encoding(path, encoding)
        return [csv_table(path, enc, spec.known, spec.words, limits, deadline)], []
    if suffix == ".xlsx":
        from houfu.io.workbook import read_workbook

        grids = read_workbook(path, limits, deadline)
        sheets: list[Sheet] = []
        notes: list[Note] = []
        for grid in grids:
            sheet = sheet_table(grid, path, spec.known, spec.words, limits, deadline, len(grids) > 1)
            if sheet is None:
                why = "sheet_empty" if not grid.rows else "sheet_no_header"
                notes.append(note("sheet_not_read", warning=bool(grid.rows), sheet=grid.name, why_kind=why,
                                  rows=30))
            else:
                sheets.append(sheet)
        if not sheets:
            raise TableError(f"{path}: -: no sheet has a header houfu knows (户编号, 姓名, 年龄 …) in its first "
                             "30 rows")
        return sheets, notes
    if suffix in (".jsonl", ".ndjson"):
        raise TableError(f"{path}: -: JSON Lines holds records, not a table; read it with read_records")
    raise TableError(f"{path}: -: unknown format {suffix!r}; houfu screen reads {', '.join(FORMATS)}")


def read_table(path: Path, encoding: str | None = None, kb: KB | None = None) -> pa.Table:
    """A whole file as a table of its own column names (a workbook's first table); cells kept as text."""
    from houfu.kb.loader import load_default

    sheets, _ = read_sheets(path, encoding, kb=kb or load_default())
    return sheets[0].table


# --- which sheet is which table ----------------------------------------------------------------------------------

_SHARED = {"household", "id", "name"}


def classify(spec: ColumnSpec, headers: list[str], entity: str = "household") -> str | None:
    """Which table a sheet is, by its headers: households, members, businesses, wide (one row per member with
    the household's columns), sites; None when it is none of them."""
    def specific(level: str) -> set[str]:
        fields = {spec.field(level, h) for h in headers} - {None}
        return {f for f in fields if f is not None and f not in _SHARED}

    if entity == "site":
        # A sheet of a kind linked to a site (a training class: 安置点编号, 参训人数 …) is the sites' records.
        kinds = {k for k, d in spec.kb.models.records.items() if d.within == "site"}
        if any(spec.kb.models.kind_of.get(f) in kinds for f in specific("entity")):
            return "businesses"
        return "sites" if specific("site") else None
    hh, mem, ent = specific("household"), specific("member"), specific("entity") - {"site"}
    has_id = any(spec.field("household", h) == "id" for h in headers)
    if ent and len(ent) >= len(mem):
        return "businesses"
    if mem:
        return "wide" if len(hh) >= 2 else "members"
    if hh or has_id:
        return "households"
    return None


# --- mapping headers and values -----------------------------------------------------------------------------------

def _header_map(kb: KB, level: str, names: list[str], spec: ColumnSpec | None = None
                ) -> tuple[dict[str, str], list[str]]:
    """table column -> field, and the columns that match no field of this level (ignored ones aside)."""
    spec = spec or spec_for(kb)
    out: dict[str, str] = {}
    unknown: list[str] = []
    for n in names:
        found = spec.field(level, n)
        if found is None:
            if spec.is_ignored(n) is None:
                unknown.append(n)
        elif found not in out.values():
            out[n] = found
    return out, unknown


@dataclass
class ColumnFate:
    """What became of one column: read as a field, ignored on purpose, or not read (with a suggestion)."""

    source: str
    header: str
    fate: str  # read | ignored | not_read | other_table | twice
    field: str | None = None
    why: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


def column_fates(spec: ColumnSpec, level: str, table: pa.Table | None, names: list[str], source: str,
                 other_levels: tuple[str, ...] = (), sample: bool = True) -> tuple[dict[str, str], list[ColumnFate],
                                                                                   list[Note]]:
    """Every column's fate at ``level`` (and ``other_levels``, read from the same table: a one-row-per-member
    table reads member columns too), with a warning for each column not read."""
    mapping: dict[str, str] = {}
    fates: list[ColumnFate] = []
    notes: list[Note] = []
    first_of: dict[str, str] = {}
    for n in names:
        fld = spec.field(level, n)
        if fld is not None:
            if fld in first_of:
                fates.append(ColumnFate(source, n, "twice", fld))
                notes.append(note("column_twice", source=source, header=n, first=first_of[fld], field=fld))
                continue
            first_of[fld] = n
            mapping[n] = fld
            fates.append(ColumnFate(source, n, "read", fld))
            continue
        other = next(((lv, f) for lv in other_levels if (f := spec.field(lv, n)) is not None), None)
        if other is not None:
            fates.append(ColumnFate(source, n, "read", other[1]))
            continue
        why = spec.is_ignored(n)
        if why is not None:
            fates.append(ColumnFate(source, n, "ignored", why=why))
            continue
        elsewhere = next((lv for lv in ("member", "household", "entity") if lv != level
                          and spec.field(lv, n) not in (None, "household", "id", "name")), None)
        if elsewhere is not None:
            fld = spec.field(elsewhere, n)
            table_kind = {"member": "members", "household": "households", "entity": "businesses"}[elsewhere]
            fates.append(ColumnFate(source, n, "other_table", fld, table_kind))
            notes.append(note("column_other_table", source=source, header=n, field=fld, table=table_kind))
            continue
        values: list[Any] = []
        if sample and table is not None and n in table.column_names:
            col = table.column(n)
            values = pc.unique(col.slice(0, 5000)).to_pylist()[:200] if len(col) else []
        guess = spec.suggest(level, n, values, taken=mapping.values())
        fates.append(ColumnFate(source, n, "not_read", guess))
        extra = field_hints(guess, spec.label(level, guess)) if guess else hints(None)
        notes.append(note("column_unknown", source=source, header=n, **extra))
    return mapping, fates, notes


_BAD = -math.inf  # a cell that cannot be read


def _allowed(kb: KB, fact: str, codes: tuple[str, ...]) -> dict[str, str]:
    label = kb.fact_labels.get(fact)
    labels = label.labels if label is not None else {}
    return {"allowed_zh": "、".join(labels.get(c, c) for c in codes),
            "allowed_en": ", ".join(f"{labels[c]} ({c})" if c in labels else c for c in codes)}


@dataclass
class _Column:
    """A fact column as floats (NaN unknown), the bad rows with their error, and the values read as unknown."""

    values: npt.NDArray[np.float64]
    bad: dict[int, tuple[str, dict[str, Any]]]  # row -> (kind, params)
    unknown: Counter[str]  # a register's word read as not known -> rows


def arrow_without_pandas() -> None:
    """Tell pyarrow, once in this process, that pandas is not there, unless something imported it already.

    pyarrow's first array of a list or numpy array asks whether it is a pandas object, and for that imports
    pandas: 0.2-0.3 s of every screen where the ``dask`` or ``dev`` extras installed it (issue 25), and a screen
    on one machine never hands pyarrow a pandas object. Only for a process that never will: pyarrow keeps the
    answer, so a pandas object given to it later is not fully recognised (``Table.from_pandas`` imports pandas
    then, but makes a categorical column plain text). For a command's process, before its first array: for the
    one array made here an import of pandas fails, so no other thread should be importing it then."""
    import importlib.abc
    import importlib.machinery
    import sys
    from collections.abc import Sequence
    from types import ModuleType

    if "pandas" in sys.modules:
        return

    class NoPandas(importlib.abc.MetaPathFinder):
        def find_spec(self, name: str, path: Sequence[str] | None, target: ModuleType | None = None,
                      ) -> importlib.machinery.ModuleSpec | None:
            if name == "pandas":
                raise ModuleNotFoundError("pyarrow is told pandas is not there", name=name)
            return None

    finder = NoPandas()
    sys.meta_path.insert(0, finder)
    try:
        pa.array([0])
    finally:
        sys.meta_path.remove(finder)


def _encode_column(spec: ColumnSpec, codec: Codec, fact: str, arr: pa.ChunkedArray | pa.Array) -> _Column:
    """A fact column, per distinct value, not per row."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    enc = arr if pa.types.is_dictionary(arr.type) else pc.dictionary_encode(arr)
    values = enc.dictionary.to_pylist()
    kind = codec.kinds.get(fact, "number")
    label = spec.kb.fact_labels.get(fact)
    rng = label.range if label else None
    mapped = np.empty(len(values) + 1, dtype=np.float64)
    reasons: dict[int, tuple[str, dict[str, Any]]] = {}
    unknown_at: dict[int, str] = {}
    spellings = spec.spellings(fact) if kind == "enum" else {}
    for i, v in enumerate(values):
        mapped[i], why = _map_value(spec, codec, fact, kind, v, rng, spellings)
        if why is not None:
            if why[0] == "unknown":
                unknown_at[i] = str(v).strip()
            else:
                reasons[i] = why
    mapped[-1] = np.nan  # null
    idx = enc.indices.fill_null(len(values)).to_numpy(zero_copy_only=False)
    out = mapped[idx]
    bad: dict[int, tuple[str, dict[str, Any]]] = {}
    if reasons:
        for row in np.flatnonzero(out == _BAD).tolist():
            bad[row] = reasons[int(idx[row])]
        out[out == _BAD] = np.nan
    unknown: Counter[str] = Counter()
    if unknown_at:
        counts = np.bincount(idx, minlength=len(values) + 1)
        unknown.update({text: int(counts[i]) for i, text in unknown_at.items()})
    return _Column(out, bad, unknown)


def _map_value(spec: ColumnSpec, codec: Codec, fact: str, kind: str, v: Any, rng: Any,
               spellings: dict[str, str | None]) -> tuple[float, tuple[str, dict[str, Any]] | None]:
    """A value's code, or why it cannot be read: (kind, params); ("unknown", {}) for a word read as not known."""
    if v is None:
        return np.nan, None
    text = str(v).strip()
    if text == "":
        return np.nan, None
    if text in spec.unknown:
        return np.nan, ("unknown", {})
    if kind == "bool":
        if isinstance(v, bool):
            return float(v), None
        if text in spec.true:
            return 1.0, None
        if text in spec.false:
            return 0.0, None
        return _BAD, ("not_yes_no", {"value": text, "fact": fact})
    if kind == "date":
        # ISO text, 2024/7/1, 20240701, 2024年7月1日, or a spreadsheet's date cell (read as 2024-07-01).
        if isinstance(v, int | float) and not isinstance(v, bool):
            return _BAD, ("date_as_number", {"value": text})
        try:
            return float(date_number(parse_date(text))), None
        except ValueError as exc:
            return _BAD, ("not_calendar_day" if "calendar" in str(exc) else "not_date", {"value": text})
    if kind == "enum":
        code = spellings.get(text, text) if text in spellings else text
        if code is None:
            return np.nan, ("unknown", {})
        allowed = codec.values[fact]
        if code in allowed:
            return float(allowed.index(code)), None
        return _BAD, ("not_one_of", {"value": text, "fact": fact, **_allowed(spec.kb, fact, allowed)})
    try:
        x = float(text) if not isinstance(v, int | float) or isinstance(v, bool) else float(v)
    except ValueError:
        return _BAD, ("not_number", {"value": text})
    if not math.isfinite(x):
        return _BAD, ("not_finite", {"value": text})
    if rng is not None and not (rng.min <= x <= rng.max):
        return _BAD, ("out_of_range", {"value": f"{x:g}", "min": f"{rng.min:g}", "max": f"{rng.max:g}"})
    if x < 0:
        return _BAD, ("negative", {"value": f"{x:g}"})
    return round(x, 2), None


# --- a caseload from tables -----------------------------------------------------------------------------------------

@dataclass
class Loaded:
    """A caseload ready to screen: its ids and jurisdictions, the columns, and every rejected input row.

    Text columns stay Arrow arrays (no Python string per row); ``codes`` holds dictionary codes of the
    jurisdiction, site and category columns for counting and grouping."""

    entity: str
    ids: pa.Array  # string, one per household
    jurisdictions: pa.Array  # string (null when not given)
    labels: dict[str, pa.Array]  # name, site, category as written (for the report)
    caseload: Caseload
    errors: list[CellError] = field(default_factory=list)
    rows_in: int = 0
    #: what the reader did and did not do: sheets read, rows skipped, columns not read, sites not found
    notes: list[Note] = field(default_factory=list)
    source: str = "-"
    row_numbers: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    item_rows: dict[str, tuple[int, int]] = field(default_factory=dict)  # members/businesses: (rows in, joined)
    #: every column of every table read, and what became of it
    columns: list[ColumnFate] = field(default_factory=list)
    #: which sheet (or file) became which table
    tables: list[dict[str, Any]] = field(default_factory=list)
    #: (source, column, value) -> rows of a register's word read as not known
    unknown_values: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    #: site names not found, rows whose county a site or --jurisdiction gave (said once for a whole caseload)
    counts: _Counts = field(default_factory=lambda: _Counts())

    @property
    def n(self) -> int:
        return len(self.ids)

    @property
    def warnings(self) -> list[Note]:
        return [n for n in self.notes if n.warning]

    def id(self, i: int) -> str:
        return str(self.ids[i].as_py())

    def label(self, key: str, i: int) -> str:
        arr = self.labels.get(key)
        v = arr[i].as_py() if arr is not None else None
        return "" if v is None else str(v)


def _arr(table: pa.Table, column: str | None, keep_dictionary: bool = False) -> pa.Array:
    """A text column, trimmed, with blanks as null (all null when the column is absent); a dictionary column
    is trimmed on its distinct values, and stays a dictionary if asked."""
    if column is None:
        return pa.nulls(table.num_rows, pa.string())
    col = table.column(column).combine_chunks()
    if pa.types.is_dictionary(col.type):
        values = _blank_is_null(pc.utf8_trim_whitespace(col.dictionary.cast(pa.string())))
        if keep_dictionary:
            return pa.DictionaryArray.from_arrays(col.indices, values)
        return values.take(col.indices)
    if not pa.types.is_string(col.type) and not pa.types.is_large_string(col.type):
        col = col.cast(pa.string())
    return _blank_is_null(pc.utf8_trim_whitespace(col))


def _blank_is_null(values: pa.Array) -> pa.Array:
    # pc.if_else with a null scalar is slow on strings (0.15 s per 100,000), and blanks are rare: only then.
    blank = pc.equal(values, "")
    if not pc.any(blank).as_py():
        return values
    return pa.array([None if b else v for v, b in zip(values.to_pylist(), blank.to_pylist(), strict=True)],
                    pa.string())


@dataclass
class _Errors:
    """Bad cells by the record they reject: a household's position, or -1 - row for a row joined to none."""

    by_key: dict[int, list[CellError]] = field(default_factory=dict)

    def add(self, key: int, error: CellError) -> None:
        self.by_key.setdefault(key, []).append(error)

    def extend(self, key: int, errors: list[CellError]) -> None:
        self.by_key.setdefault(key, []).extend(errors)

    def ordered(self) -> list[CellError]:
        return [e for k in sorted(self.by_key, key=lambda k: (k < 0, abs(k))) for e in self.by_key[k]]


def _error(file: str, row: int, column: str, why: tuple[str, dict[str, Any]]) -> CellError:
    return cell_error(file, row, column, why[0], **why[1])


def _level_columns(spec: ColumnSpec, level: str, table: pa.Table, mapping: dict[str, str], file: str,
                   errors: dict[int, list[CellError]], numbers: npt.NDArray[np.int64],
                   unknown: Counter[tuple[str, str, str]] | None = None) -> dict[str, npt.NDArray[np.float64]]:
    codec = codec_for(spec.kb.models, level)
    cols: dict[str, npt.NDArray[np.float64]] = {}
    for name, fact in mapping.items():
        if fact not in codec.kinds:
            continue
        got = _encode_column(spec, codec, fact, table.column(name))
        cols[fact] = got.values
        for row, why in got.bad.items():
            errors.setdefault(row, []).append(_error(file, int(numbers[row]), name, why))
        if unknown is not None:
            for value, count in got.unknown.items():
                unknown[(file, name, value)] += count
    return cols


def _numbers(n: int, given: npt.NDArray[np.int64] | None, base: int) -> npt.NDArray[np.int64]:
    """Each row's number as its file numbers it: given (a sheet under a title), or after a header on row 1."""
    if given is not None and len(given) == n:
        return np.asarray(given, dtype=np.int64)
    return np.arange(base + 2, base + n + 2, dtype=np.int64)


def _float_ids(ids: pa.Array) -> npt.NDArray[np.bool_]:
    """Which ids are figures in the exponent form (a plain substring search first: most columns hold no E; two
    case-sensitive searches cost half of one that ignores case, which goes through the regex engine)."""
    if len(ids) == 0 or not (pc.any(pc.match_substring(ids, "e")).as_py()
                             or pc.any(pc.match_substring(ids, "E")).as_py()):
        return np.zeros(len(ids), bool)
    return np.asarray(pc.match_substring_regex(ids, _FLOAT_ID).fill_null(False).to_numpy(zero_copy_only=False),
                      dtype=bool)


def _float_short(text: str) -> str:
    """3.60731199001011e+17 -> 3.6e+17: enough to find the cell, not the person's number."""
    try:
        return f"{float(text):.1e}"
    except ValueError:
        return text[:6]


# --- ID numbers (身份证号) ----------------------------------------------------------------------------------------

#: GB 11643-1999: the weights of the first 17 digits, and the check character for each remainder mod 11.
_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
_CHECK = np.frombuffer(b"10X98765432", dtype=np.uint8)
_DAYS = np.array([0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)


def _id_masked(text: str) -> str:
    """An ID number's ends only, whatever its length (a typo is no less personal)."""
    return text[:6] + "*" * (len(text) - 10) + text[-4:] if len(text) > 10 else "*" * len(text)


def id_numbers(arr: pa.Array) -> tuple[dict[int, tuple[str, dict[str, Any]]], npt.NDArray[np.float64],
                                       npt.NDArray[np.float64]]:
    """18-character resident ID numbers checked (form, check digit, birth date) and read: each bad row's error,
    and per row the birth date (yyyymmdd) and 1.0 for male, 0.0 for female (NaN where not read). A 15-digit
    number of the old form is accepted and gives nothing (it has no check digit to verify)."""
    n = len(arr)
    birth = np.full(n, np.nan)
    male = np.full(n, np.nan)
    bad: dict[int, tuple[str, dict[str, Any]]] = {}
    if n == 0:
        return bad, birth, male
    s = pc.utf8_upper(arr)
    floats = _float_ids(s)
    full = pc.match_substring_regex(s, r"^[0-9]{17}[0-9X]$").fill_null(False).to_numpy(zero_copy_only=False)
    old = pc.match_substring_regex(s, r"^[0-9]{15}$").fill_null(False).to_numpy(zero_copy_only=False)
    present = s.is_valid().to_numpy(zero_copy_only=False)
    for r in np.flatnonzero(floats).tolist():
        bad[r] = ("id_float", {"value": _float_short(str(s[r].as_py()))})
    for r in np.flatnonzero(present & ~floats & ~full & ~old).tolist():
        bad[r] = ("id_number_form", {"value": _id_masked(str(s[r].as_py()))})
    rows = np.flatnonzero(full)
    if len(rows) == 0:
        return bad, birth, male
    texts = s.take(pa.array(rows)).to_pylist()
    d = np.frombuffer(b"".join(t.encode("ascii") for t in texts), dtype=np.uint8).reshape(-1, 18).astype(np.int64)
    digits = d - 48
    ok_check = _CHECK[(digits[:, :17] @ _WEIGHTS) % 11] == d[:, 17]
    ymd = digits[:, 6:14] @ (10 ** np.arange(7, -1, -1, dtype=np.int64))
    y, m, day = ymd // 10000, ymd // 100 % 100, ymd % 100
    leap = (y % 4 == 0) & ((y % 100 != 0) | (y % 400 == 0))
    dim = np.where((m == 2) & ~leap, 28, _DAYS[np.clip(m, 0, 12)])
    ok_birth = (y >= 1900) & (m >= 1) & (m <= 12) & (day >= 1) & (day <= dim)
    for k in np.flatnonzero(~ok_check).tolist():
        bad[int(rows[k])] = ("id_number_check", {"value": _id_masked(texts[k])})
    for k in np.flatnonzero(ok_check & ~ok_birth).tolist():
        bad[int(rows[k])] = ("id_number_birth", {"value": _id_masked(texts[k])})
    good = ok_check & ok_birth
    birth[rows[good]] = ymd[good].astype(np.float64)
    male[rows[good]] = (digits[good, 16] % 2 == 1).astype(np.float64)
    return bad, birth, male


def _member_ids(spec: ColumnSpec, table: pa.Table, mapping: dict[str, str], numbers: npt.NDArray[np.int64],
                file: str, errors: dict[int, list[CellError]], cols: dict[str, npt.NDArray[np.float64]],
                notes: list[Note]) -> None:
    """A members table's 身份证号: each checked (a bad one rejects the household, shown masked), and, where no
    column gives them, the birth date and sex it holds. The number itself is kept nowhere."""
    column = _field(mapping, "id_number")
    if column is None:
        return
    bad, birth, male = id_numbers(_arr(table, column))
    for row, why in bad.items():
        errors.setdefault(row, []).append(_error(file, int(numbers[row]), column, why))
    given = set(mapping.values())
    codec = codec_for(spec.kb.models, "member")
    facts = []
    facts_en = []
    if not given & {"age", "birth_date"} and "birth_date" in codec.kinds:
        cols["birth_date"] = birth
        facts.append(spec.label("member", "birth_date"))
        facts_en.append("birth date (nor age)")
    if "sex" not in given and "sex" in codec.values:
        codes = codec.values["sex"]
        cols["sex"] = np.where(np.isnan(male), np.nan, np.where(male == 1.0, codes.index("male"),
                                                                codes.index("female")))
        facts.append(spec.label("member", "sex"))
        facts_en.append("sex")
    if facts:
        notes.append(note("id_number_gives", warning=False, source=file, header=column, facts="、".join(facts),
                          facts_en=" or ".join(facts_en)))


# --- jurisdiction from the data ------------------------------------------------------------------------------------

@dataclass
class _Counts:
    """What is said once for a whole caseload (however it was read, whole or in parts)."""

    unresolved_sites: Counter[str] = field(default_factory=Counter)  # a site name not in sites.yaml -> rows
    filled: Counter[str] = field(default_factory=Counter)  # "sites" / "given" -> rows whose county they gave


def _jurisdictions(spec: ColumnSpec, table: pa.Table, mapping: dict[str, str], numbers: npt.NDArray[np.int64],
                   file: str, default: str | None, counts: _Counts
                   ) -> tuple[pa.Array, dict[int, CellError], pa.Array]:
    """Each row's jurisdiction: its county column, else its site's (sites.yaml, its aliases, the mapping file's
    site names), else ``--jurisdiction``. A site known only by a near match is not taken: it is reported once,
    with the suggestion, and its rows are rejected with the reason. Also each row's site by the name sites.yaml
    gives it (an alias or a county's own spelling is the same site), or as written where it is not known."""
    from houfu.kb.loader import FieldError
    from houfu.kb.query import resolve_jurisdiction

    jcol, scol = _field(mapping, "jurisdiction"), _field(mapping, "site")
    given = _arr(table, jcol)
    errors: dict[int, CellError] = {}
    n = table.num_rows
    sites = _arr(table, scol)
    if n == 0 or scol is None:
        if default is not None and n:
            counts.filled["given"] += given.null_count
            given = pc.fill_null(given, default)
        elif jcol is None and n:
            for r in range(n):
                errors[r] = cell_error(file, int(numbers[r]), "-", "no_jurisdiction")
        elif n:
            for r in np.flatnonzero(given.is_null().to_numpy(zero_copy_only=False)).tolist():
                errors[r] = cell_error(file, int(numbers[r]), jcol or "-", "no_jurisdiction")
        return given, errors, sites
    enc = pc.dictionary_encode(sites)
    names = [str(x) for x in enc.dictionary.to_pylist()]
    found = [spec.site(x) for x in names]
    scodes = enc.indices.fill_null(len(names)).to_numpy(zero_copy_only=False).astype(np.intp)
    if any(f is not None and f.name != x for f, x in zip(found, names, strict=True)):
        canonical = pa.array([f.name if f else x for f, x in zip(found, names, strict=True)], pa.string())
        sites = pa.DictionaryArray.from_arrays(enc.indices, canonical).cast(pa.string())
    site_j = pa.array([f.jurisdiction if f else None for f in found] + [None], pa.string()).take(pa.array(scodes))
    missing = given.is_null().to_numpy(zero_copy_only=False)
    # A county column and a site in another county: neither is guessed right.
    both = np.flatnonzero(~missing & (scodes < len(names)))
    if len(both):
        genc = pc.dictionary_encode(given)
        gcodes = genc.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.intp)
        gnames = genc.dictionary.to_pylist()
        pairs = np.unique(gcodes[both] * (len(names) + 1) + scodes[both])
        clash: set[int] = set()
        for p in pairs.tolist():
            g, sc = divmod(p, len(names) + 1)
            site = found[sc]
            if site is None or g < 0:
                continue
            try:
                if resolve_jurisdiction(spec.kb, gnames[g]) != site.jurisdiction:
                    clash.add(p)
            except FieldError:
                continue  # an unknown county: the screener names it, with a suggestion
        if clash:
            pair_of = gcodes * (len(names) + 1) + scodes
            for r in both[np.isin(pair_of[both], list(clash))].tolist():
                site = found[scodes[r]]
                assert site is not None
                county = spec.kb.jurisdictions[site.jurisdiction].name
                errors[r] = cell_error(file, int(numbers[r]), jcol or "-", "jurisdiction_conflict",
                                       value=gnames[gcodes[r]], site=names[scodes[r]], site_county=county)
    if not missing.any():
        return given, errors, sites
    from_site = missing & site_j.is_valid().to_numpy(zero_copy_only=False)
    counts.filled["sites"] += int(from_site.sum())
    out = pc.if_else(pa.array(from_site), site_j, given)
    left = missing & ~from_site
    if default is not None:
        counts.filled["given"] += int(left.sum())
        return pc.if_else(pa.array(left), pa.scalar(default, pa.string()), out), errors, sites
    for r in np.flatnonzero(left).tolist():
        code = scodes[r]
        if code < len(names):
            name = names[code]
            counts.unresolved_sites[name] += 1
            errors[r] = cell_error(file, int(numbers[r]), scol or "-", "unknown_site", value=name,
                                   **hints(spec.near_site(name)))
        else:
            errors[r] = cell_error(file, int(numbers[r]), jcol or scol or "-", "no_jurisdiction")
    return out, errors, sites


def _count_notes(spec: ColumnSpec, counts: _Counts, unknown: Counter[tuple[str, str, str]],
                 default: str | None) -> list[Note]:
    notes: list[Note] = []
    for name, rows in counts.unresolved_sites.most_common():
        notes.append(note("site_unknown", value=name, count=f"{rows:,}", **hints(spec.near_site(name))))
    if counts.filled["sites"]:
        notes.append(note("jurisdiction_from_sites", warning=False, count=f"{counts.filled['sites']:,}"))
    if counts.filled["given"]:
        notes.append(note("jurisdiction_given", warning=False, count=f"{counts.filled['given']:,}", value=default))
    for (source, column, value), rows in sorted(unknown.items(), key=lambda kv: -kv[1]):
        why = next((w for (_, spelling), w in spec.readings.items() if spelling == value), "") \
            or spec.unknown.get(value, "")
        notes.append(note("reading_unknown", source=source, column=column, value=value, count=f"{rows:,}", why=why))
    return notes


# --- a caseload from files ------------------------------------------------------------------------------------------

def _pick(spec: ColumnSpec, sheets: list[Sheet], entity: str, role: str) -> tuple[Sheet | None, list[tuple[Sheet, str]]]:
    """The sheet for one role, among a file's sheets, and the kinds of all of them."""
    kinds = [(s, classify(spec, s.headers, entity) or "") for s in sheets]
    wanted = {"households": ("households", "wide", "sites"), "members": ("members", "wide"),
              "businesses": ("businesses",)}[role]
    chosen = next((s for want in wanted for s, k in kinds if k == want), None)
    return chosen, kinds


def load_caseload(kb: KB, path: Path, members: Path | None = None, businesses: Path | None = None,
                  encoding: str | None = None, entity: str = "household", spec: ColumnSpec | None = None,
                  jurisdiction: str | None = None, limits: TableLimits = LIMITS) -> Loaded:
    """Read a caseload in either shape and check every cell; bad rows are reported, never silently dropped.

    A workbook's sheets are each judged by their headers: the households (or one-row-per-member) table, the
    members and the businesses; a members or businesses file given apart takes its place."""
    spec = spec or spec_for(kb)
    deadline = Deadline(limits.seconds)
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        records = _load_jsonl(kb, path, encoding, entity)
        if jurisdiction is not None:  # records that do not say where they are take --jurisdiction
            filled = records.jurisdictions.null_count
            records.jurisdictions = pc.fill_null(records.jurisdictions, jurisdiction)
            records.counts.filled["given"] += filled
            records.notes = _count_notes(spec, records.counts, records.unknown_values, jurisdiction)
        return records
    sheets, notes = read_sheets(path, encoding, spec, limits, deadline)
    notes = list(spec.notes) + notes
    main, kinds = _pick(spec, sheets, entity, "households")
    if main is None:
        main = sheets[0]
    used: dict[str, tuple[Sheet, str]] = {"households": (main, "")}
    given = {"members": members, "businesses": businesses}
    for role in ("members", "businesses"):
        other = given[role]
        if other is not None:
            got, _ = read_sheets(other, encoding, spec, limits, deadline)
            sheet, _ = _pick(spec, got, entity, role)
            used[role] = (sheet or got[0], "members" if role == "members" else "businesses")
        elif len(sheets) > 1 and (entity == "household" or role == "businesses"):
            sheet = next((s for s, k in kinds if s is not main and k in ({"members", "wide"} if role == "members"
                                                                          else {"businesses"})), None)
            if sheet is not None:
                used[role] = (sheet, role)
    # Say which sheet became which table, and why each other sheet did not.
    tables: list[dict[str, Any]] = []
    shape = "wide" if "members" not in used and classify(spec, main.headers, entity) == "wide" else \
        ("sites" if entity == "site" else "households")
    for role, (sheet, _) in used.items():
        kind = shape if role == "households" else role
        tables.append({"table": kind, "source": sheet.source, "sheet": sheet.sheet, "header_rows": list(sheet.header_rows),
                       "rows": int(sheet.table.num_rows)})
        if sheet.sheet is not None:
            notes.append(note("sheet_read", warning=False, sheet=sheet.sheet, table=kind, header=sheet.header_rows[0],
                              rows=f"{sheet.table.num_rows:,}"))
        notes += sheet.notes
    chosen = {id(s) for s, _ in used.values()}
    for s, k in kinds:
        if id(s) in chosen:
            continue
        wanted = {"households": "households", "wide": "members" if "members" in used else "households",
                  "members": "members", "businesses": "businesses", "sites": "households"}.get(k)
        holder = used.get(wanted or "")
        why: dict[str, Any]
        if wanted is not None and holder is not None and given.get(wanted) is not None:
            why = {"why_kind": "sheet_given", "table": wanted, "option": wanted}
        elif holder is not None:
            why = {"why_kind": "sheet_second", "table": wanted, "first": holder[0].sheet or holder[0].source}
        else:
            why = {"why_kind": "sheet_no_header", "rows": 30}
        notes.append(note("sheet_not_read", sheet=s.sheet or s.source, **why))
    m = used.get("members")
    b = used.get("businesses")
    loaded = load_tables(kb, main.table, main.source, m[0].table if m else None, m[0].source if m else None,
                         b[0].table if b else None, b[0].source if b else None, entity,
                         rows=(main.rows, m[0].rows if m else None, b[0].rows if b else None), spec=spec,
                         jurisdiction=jurisdiction)
    loaded.notes = notes + loaded.notes + _count_notes(spec, loaded.counts, loaded.unknown_values, jurisdiction)
    loaded.tables = tables
    return loaded


def _field(mapping: dict[str, str], name: str) -> str | None:
    return next((c for c, f in mapping.items() if f == name), None)


def _first_rows(ids: pa.Array) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """For each row, the index of its id's first row (-1 for a null id); and the first rows in order."""
    if pa.types.is_dictionary(ids.type):
        # A dictionary as given may hold a value twice, or one no row uses: the text numbered afresh, as it reads.
        ids = ids.dictionary_decode()
    enc = pc.dictionary_encode(ids)
    distinct = len(enc.dictionary)
    codes = enc.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.intp)
    del enc
    # Arrow numbers the distinct ids in the order they first appear, so an id's first row is where the running
    # highest code rises (a million ids: 0.18-0.36 → 0.13-0.16 s, issue 25). The codes there rise strictly, each
    # between 0 and distinct - 1, so as many rises as distinct ids means they are 0, 1, 2 … in turn: that is the
    # check, with no array beside the codes (a million ids' pre-pass held five of 8 MB at once, issue 25).
    running = np.maximum.accumulate(codes)
    rises = np.empty(len(codes), dtype=bool)
    rises[:1] = running[:1] >= 0
    np.greater(running[1:], running[:-1], out=rises[1:])
    del running
    first_of_code = np.flatnonzero(rises)
    del rises
    # Found that way, the first rows are in order already (a sort of them was 4% of a part's loading, issue 25).
    first_rows = first_of_code
    if len(first_of_code) != distinct:
        first_of_code = np.full(distinct, -1, dtype=np.intp)
        rows = np.flatnonzero(codes >= 0)
        uniq, at = np.unique(codes[rows], return_index=True)  # the first occurrence of each id
        first_of_code[uniq] = rows[at]
        first_rows = np.sort(first_of_code)
    first = np.append(first_of_code, -1)[codes]  # a null id's code is -1, the appended -1
    return first, first_rows


def _clean_ids(ids: pa.Array, column: str, file: str, numbers: npt.NDArray[np.int64],
               errors: dict[int, list[CellError]]) -> tuple[pa.Array, npt.NDArray[np.bool_]]:
    """Ids Excel stored as figures (3.6e+17) refused, each with the fix; they count as no id after that. Returns
    the ids left and which rows were figures."""
    floats = _float_ids(ids)
    if not floats.any():
        return ids, floats
    for r in np.flatnonzero(floats).tolist():
        errors.setdefault(r, []).append(cell_error(file, int(numbers[r]), column, "id_float",
                                                   value=_float_short(str(ids[r].as_py()))))
    return pc.if_else(pa.array(floats), pa.scalar(None, pa.string()), ids), floats


def load_tables(kb: KB, main: pa.Table, path: Path | str, member_table: pa.Table | None = None,
                members: Path | str | None = None, ent_table: pa.Table | None = None,
                businesses: Path | str | None = None, entity: str = "household",
                bases: tuple[int, int, int] = (0, 0, 0), duplicates: dict[int, int] | None = None,
                rows: tuple[Any, Any, Any] = (None, None, None), spec: ColumnSpec | None = None,
                jurisdiction: str | None = None) -> Loaded:
    """A caseload from tables already read (a file, a part of one read in turn, or a partition on a Dask
    worker). ``rows`` are each table's row numbers as its file numbers them (a sheet under a title); else
    ``bases`` are the rows before these in each file, after a header on row 1, so errors name the file's own
    rows; ``duplicates`` maps a row here to the file row where its id first appeared, when that was in an
    earlier part."""
    spec = spec or spec_for(kb)
    path = Path(path)
    source = str(path)
    level = "site" if entity == "site" else "household"
    wide = entity == "household" and member_table is None
    mapping, fates, notes = column_fates(spec, level, main, main.column_names, source,
                                         ("member",) if wide else ())
    refuse_nested(path, main.schema, mapping)
    id_col = _field(mapping, "id")
    if id_col is None:
        raise TableError(f"{path}: -: no household id column (户编号 or id)")
    counts = _Counts()
    unknown: Counter[tuple[str, str, str]] = Counter()
    numbers = _numbers(main.num_rows, rows[0], bases[0])
    if wide:
        member_kinds = codec_for(kb.models, "member").kinds
        member_map = {c: f for c in main.column_names if c not in mapping and (f := spec.field("member", c))
                      is not None and (f in member_kinds or f in ("name", "id_number"))}
        if any(f in member_kinds or f == "id_number" for f in member_map.values()):
            out = _load_wide(spec, path, main, mapping, member_map, id_col, numbers, jurisdiction, counts, unknown)
            out.notes, out.columns, out.counts, out.unknown_values = notes + out.notes, fates, counts, unknown
            return out
    errors: dict[int, list[CellError]] = {}
    ids, floated = _clean_ids(_arr(main, id_col), id_col, source, numbers, errors)
    rows_in = main.num_rows
    first, _ = _first_rows(ids)
    for i in np.flatnonzero((first < 0) & ~floated).tolist():
        errors.setdefault(i, []).append(cell_error(source, int(numbers[i]), id_col, "no_household_id"))
    for i in np.flatnonzero((first >= 0) & (first != np.arange(rows_in))).tolist():
        errors.setdefault(i, []).append(cell_error(source, int(numbers[i]), id_col, "duplicate_id",
                                                   value=ids[i].as_py(), first=int(numbers[first[i]])))
    for i, row in (duplicates or {}).items():
        errors.setdefault(i, []).append(cell_error(source, int(numbers[i]), id_col, "duplicate_id",
                                                   value=ids[i].as_py(), first=row))
    cols = _level_columns(spec, level, main, mapping, source, errors, numbers, unknown)
    item_notes: list[Note] = []
    items_m, mem_errors, m_fates = _items_from(spec, "member", member_table, str(members), ids, rows_in,
                                               _given(rows[1], member_table, bases[1]), unknown, item_notes)
    items_e, ent_errors, e_fates = _items_from(spec, "entity", ent_table, str(businesses), ids, rows_in,
                                               _given(rows[2], ent_table, bases[2]), unknown, item_notes, level)
    for row, errs in list(mem_errors.items()) + list(ent_errors.items()):
        errors.setdefault(row, []).extend(errs)
    juris = _arr(main, _field(mapping, "jurisdiction"))
    labels = {k: _arr(main, _field(mapping, k)) for k in ("name", "site", "category")}
    if entity == "household":
        juris, jerrors, labels["site"] = _jurisdictions(spec, main, mapping, numbers, source, jurisdiction, counts)
        for r, e in jerrors.items():
            errors.setdefault(r, []).append(e)
    elif jurisdiction is not None:
        juris = pc.fill_null(juris, jurisdiction)
    caseload = Caseload(entity, Table(rows_in, cols, codec_for(kb.models, level)), items_m, items_e)
    out = Loaded(entity, ids, juris, labels, caseload, rows_in=rows_in, notes=notes + item_notes, source=source,
                 row_numbers=numbers.copy(), columns=fates + m_fates + e_fates, unknown_values=unknown)
    out.counts = counts
    if member_table is not None:
        out.item_rows["members"] = (member_table.num_rows, len(items_m.owner))
    if ent_table is not None:
        out.item_rows["businesses"] = (ent_table.num_rows, len(items_e.owner))
    out.errors = [e for row in sorted(errors, key=lambda k: (k < 0, abs(k))) for e in errors[row]]
    return _reject(out, sorted(errors))


def _link_headers(spec: ColumnSpec, within: str) -> str:
    """The headers a record kind linked to ``within`` declares for its link (安置点编号), or the field's name."""
    names = [h for d in spec.kb.models.records.values() if d.within == within for h in d.columns.get(within, [])]
    return " or ".join(dict.fromkeys([*names, within]))


def _kind_of_table(spec: ColumnSpec, within: str, fields: set[str]) -> str | None:
    """The one declared kind a table with no kind column holds: a site's records are all of kinds declared
    ``within: site``, so a table of them is of that kind if one is declared (or one's facts alone are among its
    columns). A household's table may hold businesses too, so it is never guessed."""
    if within == "household":
        return None
    kinds = [k for k, d in spec.kb.models.records.items() if d.within == within]
    if len(kinds) > 1:
        kinds = [k for k in kinds if any(spec.kb.models.kind_of.get(f) == k for f in fields)]
    return kinds[0] if len(kinds) == 1 else None


def _given(given: Any, table: pa.Table | None, base: int) -> npt.NDArray[np.int64]:
    return _numbers(table.num_rows if table is not None else 0, given, base)


def _items_from(spec: ColumnSpec, level: str, table: pa.Table | None, file: str, ids: pa.Array, n: int,
                numbers: npt.NDArray[np.int64], unknown: Counter[tuple[str, str, str]], notes: list[Note],
                within: str = "household") -> tuple[Items, dict[int, list[CellError]], list[ColumnFate]]:
    """Members or businesses from their own table, joined to the households by id (vectorised); or the records
    of a kind linked to a site (``within`` site: a training class), joined to the sites by the site's id. ``ids``
    are the households' (sites') ids as ``_clean_ids`` left them, with no id in Excel's figure form: so a row
    naming one joins nothing, and only the rows that join nothing are searched for figures."""
    codec = codec_for(spec.kb.models, level)
    if table is None:
        return Items(Table(0, {}, codec), np.zeros(0, np.intp), np.zeros(n, bool)), {}, []
    mapping, fates, col_notes = column_fates(spec, level, table, table.column_names, file)
    refuse_nested(file, table.schema, mapping)
    notes += col_notes
    hcol = _field(mapping, within)
    if hcol is None:
        raise TableError(f"{file}: -: no household id column (户编号 or household)" if within == "household" else
                         f"{file}: -: no site id column ({_link_headers(spec, within)}): each record names its site")
    errors: dict[int, list[CellError]] = {}
    item_errors: dict[int, list[CellError]] = {}
    hh = _arr(table, hcol)
    # A blank id (read as none) is no household's: it must not join a household whose id is blank too.
    owner = pc.index_in(hh, value_set=ids, skip_nulls=True).fill_null(-1).to_numpy(zero_copy_only=False)
    owner = owner.astype(np.intp)
    # An id Excel stored as a figure (3.6e+17) is refused with the fix, as ``_clean_ids`` does. It joins nothing (the
    # households' ids were cleaned of them), so only the rows that joined none are looked at: every row of a
    # members file was, a tenth of loading a part (issue 25).
    floated = np.zeros(len(owner), bool)
    unjoined = np.flatnonzero(owner < 0)
    if len(unjoined):
        for k in np.flatnonzero(_float_ids(hh.take(pa.array(unjoined)))).tolist():
            r = int(unjoined[k])
            floated[r] = True
            item_errors.setdefault(r, []).append(cell_error(file, int(numbers[r]), hcol, "id_float",
                                                            value=_float_short(str(hh[r].as_py()))))
    cols = _level_columns(spec, level, table, mapping, file, item_errors, numbers, unknown)
    if level == "member":
        _member_ids(spec, table, mapping, numbers, file, item_errors, cols, notes)
    elif ENTITY_KIND not in cols:
        kind = _kind_of_table(spec, within, set(mapping.values()))
        code = None if kind is None else codec.encode_constant(ENTITY_KIND, kind)
        if code is not None:  # a file of one kind's own (a site's training classes): every row is of it
            cols[ENTITY_KIND] = np.full(table.num_rows, code, dtype=np.float64)
    missing = ("no_household", "no_household_id") if within == "household" else ("no_site", "no_site_id")
    for r in np.flatnonzero((owner < 0) & ~floated).tolist():
        value = hh[r].as_py()
        item_errors.setdefault(r, []).append(
            cell_error(file, int(numbers[r]), hcol, missing[0], value=value) if value is not None
            else cell_error(file, int(numbers[r]), hcol, missing[1]))
    # A bad member row rejects its household (its facts would be wrong); an orphan row is only reported.
    for r, errs in item_errors.items():
        target = int(owner[r])
        errors.setdefault(target if target >= 0 else -1 - r, []).extend(errs)
    keep = owner >= 0
    # A household with no member rows has an unknown member list (a household of nobody is a gap in the
    # data); given a businesses table, a household with no rows there has no business.
    known = np.zeros(n, bool) if level == "member" else np.ones(n, bool)
    known[owner[keep]] = True
    if bool(keep.all()) and not bool(np.any(owner[1:] < owner[:-1])):
        # Every row joined, already in the households' order (a file listing them so, read in parts): the rows are
        # the items as they stand, with no sort and no copy of every column (5% of loading a part, issue 25).
        return Items(Table(len(owner), cols, codec), owner, known), errors, fates
    order = np.argsort(owner[keep], kind="stable")
    picked = np.flatnonzero(keep)[order]
    return (Items(Table(len(picked), {f: c[picked] for f, c in cols.items()}, codec), owner[picked], known), errors,
            fates)


def _load_wide(spec: ColumnSpec, path: Path, table: pa.Table, mapping: dict[str, str], member_map: dict[str, str],
               id_col: str, numbers: npt.NDArray[np.int64], jurisdiction: str | None, counts: _Counts,
               unknown: Counter[tuple[str, str, str]]) -> Loaded:
    """One row per member: the household's columns are read from its first row."""
    kb = spec.kb
    source = str(path)
    errors: dict[int, list[CellError]] = {}
    row_errors: dict[int, list[CellError]] = {}  # by row of the table
    ids_all, floated = _clean_ids(_arr(table, id_col), id_col, source, numbers, row_errors)
    first, head_rows = _first_rows(ids_all)
    for i in np.flatnonzero(first < 0).tolist():
        errors.setdefault(-1 - i, []).extend(row_errors.pop(i, []) if floated[i] else
                                             [cell_error(source, int(numbers[i]), id_col, "no_household_id")])
    rank = np.full(table.num_rows, -1, dtype=np.intp)
    rank[head_rows] = np.arange(len(head_rows))
    hh_of_row = np.where(first >= 0, rank[np.where(first >= 0, first, 0)], -1)
    head = table.take(pa.array(head_rows))
    head_numbers = numbers[head_rows]
    hh_map = {c: f for c, f in mapping.items() if f not in member_map.values() or f in ("id", "jurisdiction")}
    head_errors: dict[int, list[CellError]] = {}
    cols = _level_columns(spec, "household", head, hh_map, source, head_errors, head_numbers, unknown)
    for k, errs in head_errors.items():  # reported at the household's first row
        errors.setdefault(k, []).extend(errs)
    juris, jerrors, sites = _jurisdictions(spec, head, hh_map, head_numbers, source, jurisdiction, counts)
    for k, e in jerrors.items():
        errors.setdefault(k, []).append(e)
    member_errors: dict[int, list[CellError]] = {}
    mcols = _level_columns(spec, "member", table, member_map, source, member_errors, numbers, unknown)
    notes: list[Note] = []
    _member_ids(spec, table, member_map, numbers, source, member_errors, mcols, notes)
    for r, errs in member_errors.items():
        if hh_of_row[r] >= 0:
            errors.setdefault(int(hh_of_row[r]), []).extend(errs)
        else:
            errors.setdefault(-1 - r, []).extend(errs)
    keep = hh_of_row >= 0
    mrows = np.flatnonzero(keep)[np.argsort(hh_of_row[keep], kind="stable")]
    members = Items(Table(len(mrows), {f: c[mrows] for f, c in mcols.items()}, codec_for(kb.models, "member")),
                    hh_of_row[mrows], np.ones(len(head_rows), bool))
    labels = {k: _arr(head, _field(mapping, k)) for k in ("name", "category")} | {"site": sites}
    caseload = Caseload("household", Table(len(head_rows), cols, codec_for(kb.models, "household")), members,
                        Items(Table(0, {}, codec_for(kb.models, "entity")), np.zeros(0, np.intp),
                              np.zeros(len(head_rows), bool)))
    out = Loaded("household", _arr(head, id_col), juris, labels, caseload, rows_in=len(head_rows), notes=notes,
                 source=source, row_numbers=head_numbers.copy())
    out.item_rows["member rows"] = (table.num_rows, len(mrows))
    out.errors = [e for k in sorted(errors, key=lambda k: (k < 0, abs(k))) for e in errors[k]]
    return _reject(out, sorted(errors))


def _without(caseload: Caseload, bad: list[int]) -> Caseload:
    """The caseload less the rejected households (their members and businesses go with them)."""
    bad = [b for b in bad if b >= 0]
    if not bad:
        return caseload
    keep = np.ones(caseload.n, bool)
    keep[bad] = False
    return caseload.take(np.flatnonzero(keep))


def _reject(out: Loaded, bad: list[int]) -> Loaded:
    """Drop the rejected households, with their members and businesses, from the caseload and its labels."""
    bad = [b for b in bad if b >= 0]
    if not bad:
        return out
    keep = np.ones(out.n, bool)
    keep[bad] = False
    mask = pa.array(keep)
    out.caseload = _without(out.caseload, bad)
    out.ids = out.ids.filter(mask)
    out.jurisdictions = out.jurisdictions.filter(mask)
    out.labels = {k: v.filter(mask) for k, v in out.labels.items()}
    out.row_numbers = out.row_numbers[keep]
    return out


# --- JSON Lines ---------------------------------------------------------------------------------------------------

def _arrow_type(ann: Any) -> pa.DataType | None:
    """The Arrow type of a record field (None: a field the fast reader does not take, e.g. per-period maps)."""
    import enum
    from typing import Literal, get_args, get_origin

    from pydantic import BaseModel

    args = [a for a in get_args(ann) if a is not type(None)] if get_origin(ann) is not Literal else []
    if args and get_origin(ann) is not list:
        ann = args[0] if len(args) == 1 else ann
    origin = get_origin(ann)
    if origin is Literal or (isinstance(ann, type) and issubclass(ann, str | enum.Enum)):
        return pa.string()
    if origin is list:
        inner = _arrow_type(get_args(ann)[0])
        return None if inner is None else pa.list_(inner)
    if ann is dt.date:  # dates come as ISO text and are read like a table's cells
        return pa.string()
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        fields = []
        for name, f in ann.model_fields.items():
            t = _arrow_type(f.annotation)
            if t is None:
                return None
            fields.append(pa.field(name, t))
        return pa.struct(fields)
    if ann is bool:
        return pa.bool_()
    if ann is int:
        return pa.int64()
    if ann is float:
        return pa.float64()
    from typing import Annotated

    if get_origin(ann) is Annotated:
        return _arrow_type(get_args(ann)[0])
    return None


def _load_jsonl_fast(kb: KB, path: Path) -> Loaded | None:
    """Clean JSON Lines of households, parsed by Arrow into columns (no Python object per record). None when the
    file is not clean (a type, an unknown field, a bad value): the exact reader then names each bad line."""
    import pyarrow.json as pj

    schema = _arrow_type(kb.models.household)
    if schema is None:
        return None
    options = pj.ParseOptions(explicit_schema=pa.schema(list(schema)), unexpected_field_behavior="error")
    try:
        # Arrow's streaming reader, its batches taken as they come: it parses ahead of this thread, in 1.86 s of CPU
        # for 200,000 households (290 MB) against 2.5 s for read_json's threads, and no slower (0.94 s against
        # 1.07-1.32, issue 25).
        with pj.open_json(path, parse_options=options) as reader:
            table = pa.Table.from_batches(list(reader), reader.schema)
        # Arrow's JSON parser does not check that a string is UTF-8 (a Latin-1 é came through, and the first text
        # function on it was an internal error): checked here, 40 ms for 200,000 households.
        table.validate(full=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OSError):
        return None
    spec = spec_for(kb)
    n = table.num_rows
    errors: dict[int, list[CellError]] = {}
    main = table.drop_columns([c for c in ("members", "entities") if c in table.column_names])
    lines = np.arange(1, n + 1, dtype=np.int64)
    cols = _level_columns(spec, "household", main, {c: c for c in main.column_names}, str(path), errors, lines)
    items = []
    for key, level in (("members", "member"), ("entities", "entity")):
        col = table.column(key).combine_chunks()
        flat = pa.Table.from_struct_array(pc.list_flatten(col)).flatten()
        owner = pc.list_parent_indices(col).to_numpy(zero_copy_only=False).astype(np.intp)
        item_cols = _level_columns(spec, level, flat, {c: c for c in flat.column_names}, str(path), errors,
                                   np.zeros(flat.num_rows, dtype=np.int64))
        known = col.is_valid().to_numpy(zero_copy_only=False)
        items.append(Items(Table(flat.num_rows, item_cols, codec_for(kb.models, level)), owner, known))
    ids = _arr(main, "id")
    first, _ = _first_rows(ids)
    if errors or bool(np.any(first != np.arange(n))):
        return None
    caseload = Caseload("household", Table(n, cols, codec_for(kb.models, "household")), items[0], items[1])
    return Loaded("household", ids, _arr(main, "jurisdiction"), {k: _arr(main, k) for k in ("name", "site", "category")},
                  caseload, rows_in=n, source=str(path), row_numbers=np.arange(1, n + 1))


def _load_jsonl(kb: KB, path: Path, encoding: str | None, entity: str) -> Loaded:
    """Records as ``houfu check`` reads them, one per line. A clean UTF-8 file of households is read by Arrow
    in one go; otherwise each line is checked by the same strict parser as ``houfu check``."""
    if not encoding:
        with path.open("rb") as fh:
            if fh.read(2) in (b"\xff\xfe", b"\xfe\xff"):
                encoding = "utf-16"  # its byte-order mark says so; Arrow's parser reads UTF-8 only
    if entity == "household" and not encoding:
        fast = _load_jsonl_fast(kb, path)
        if fast is not None:
            return fast
    import orjson

    from houfu.engine.columns import caseload_from_facts
    from houfu.engine.evaluator import flatten
    from houfu.io.inputs import InputError, parse_record

    model_name = entity
    facts: list[dict[str, Any]] = []
    lines: list[int] = []
    ids: list[str] = []
    juris: list[str | None] = []
    labels: dict[str, list[str | None]] = {"name": [], "site": [], "category": []}
    errors: list[CellError] = []
    rows_in = 0
    with path.open("rb") as fh:
        for n, line in enumerate(_lines(fh, encoding), 1):
            if not line.strip():
                continue
            rows_in += 1
            try:
                raw = orjson.loads(line)
                record = parse_record(raw, kb.models.of(model_name), f"{path}:{n}", kb)
            except orjson.JSONDecodeError as exc:
                try:
                    line.decode("utf-8")
                except UnicodeDecodeError:  # orjson says "surrogates not allowed" of a GBK or Latin-1 line
                    errors.append(CellError(str(path), n, "-", "not UTF-8 text (if the file is in another "
                                                                "encoding, give it: --encoding gbk)"))
                    continue
                errors.append(CellError(str(path), n, "-", f"not JSON ({exc})"))
                continue
            except InputError as exc:
                errors.append(CellError(str(path), n, exc.field, exc.message))
                continue
            f = flatten(record)
            facts.append(f)
            lines.append(n)
            ids.append(str(f.get("id") or ""))
            juris.append(f.get("jurisdiction"))
            for k in labels:
                v = f.get(k)
                labels[k].append(None if v is None else str(v))
    caseload = caseload_from_facts(kb.models, entity, facts)
    return Loaded(entity, pa.array(ids, pa.string()), pa.array(juris, pa.string()),
                  {k: pa.array(v, pa.string()) for k, v in labels.items()}, caseload, errors=errors, rows_in=rows_in,
                  source=str(path), row_numbers=np.asarray(lines, dtype=np.int64))


def _lines(fh: io.BufferedReader, encoding: str | None) -> Iterator[bytes]:
    if encoding and encoding.lower().replace("-", "") not in ("utf8", "utf8sig"):
        text_fh = io.TextIOWrapper(fh, encoding=encoding)
        try:
            for text in text_fh:
                yield text.encode("utf-8")
        finally:
            text_fh.detach()  # the caller closes the file: a wrapper left to the collector closed it again
        return
    for line in fh:
        yield line[3:] if line.startswith(b"\xef\xbb\xbf") else line


def suggest_columns(kb: KB, caseload: Path, members: Path | None, businesses: Path | None, encoding: str | None,
                    entity: str = "household", columns: Path | None = None, jurisdiction: str | None = None,
                    limits: TableLimits = LIMITS) -> tuple[str, dict[str, int]]:
    """A mapping file drafted from a caseload for a person to review (``houfu screen --suggest-columns``): the
    columns not read, the spellings not known and the sites not found, each with houfu's suggestion; and how
    many of each."""
    from houfu.io.mapping import suggestion_file

    spec = spec_for(kb, columns)
    loaded = load_caseload(kb, caseload, members, businesses, encoding, entity, spec, jurisdiction, limits)
    values: dict[str, Counter[str]] = {}
    yes_no: Counter[str] = Counter()
    for e in loaded.errors:
        if e.kind == "not_one_of":
            values.setdefault(str(e.params["fact"]), Counter())[str(e.params["value"])] += 1
        elif e.kind == "not_yes_no":
            yes_no[str(e.params["value"])] += 1
    sources = [str(p) for p in (caseload, members, businesses) if p is not None]
    text = suggestion_file(spec, loaded.columns, values, yes_no, loaded.counts.unresolved_sites, sources)
    counted = {"columns": sum(1 for f in loaded.columns if f.fate == "not_read"),
               "values": sum(len(c) for c in values.values()) + len(yes_no),
               "sites": len(loaded.counts.unresolved_sites)}
    return text, counted
