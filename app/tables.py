"""Caseload tables in, columns out: the screener's reader.

A county's export is a spreadsheet or CSV (often GBK, with Chinese headers), a Parquet file, or JSON Lines of
the records ``houfu check`` reads. It comes in one of two shapes: a households table with a members table
(and optionally a businesses table) joined by the household id, or one row per member carrying the
household's columns. Headers and value spellings are declared in ``policies/columns.yaml`` beside the
vocabulary's labels, so a new county's export is a data change.

Every cell is checked: a bad cell rejects its household, and is reported with the file, the row number (as a
spreadsheet counts them: the header is row 1), the column and the reason. Values are mapped per distinct
value (a column is dictionary-encoded first), so the work is per distinct spelling, not per row.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from houfu.engine.columns import Caseload, Codec, Items, Table, codec_for
from houfu.engine.logic import date_number
from houfu.kb.facts import parse_date
from houfu.kb.loader import KB

from .reader import _ReadError, decode

__all__ = ["CellError", "Loaded", "TableError", "check_content", "load_caseload", "load_tables", "read_table",
           "sniff_format"]

FORMATS = (".csv", ".xlsx", ".parquet", ".jsonl", ".ndjson")


class TableError(Exception):
    """A file that cannot be read as a table at all (one line: file and reason)."""


@dataclass(frozen=True)
class CellError:
    file: str
    row: int  # as a spreadsheet numbers it: the header is row 1
    column: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}: row {self.row}: {self.column}: {self.reason}"


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
    suffix = {".ndjson": ".jsonl"}.get(path.suffix.lower(), path.suffix.lower())
    if suffix in _NAMES and found != suffix:
        raise TableError(f"{path}: -: the content is {_NAMES[found]}, not what its name ({path.suffix}) says")

def _csv_encoding(path: Path, encoding: str | None) -> str:
    with path.open("rb") as fh:
        head = fh.read(1 << 20)
    if len(head) == 1 << 20:  # cut at a line end so a multi-byte character is not split
        head = head[: head.rfind(b"\n") + 1] or head
    try:
        _, found = decode(head, encoding)
    except _ReadError as exc:
        raise TableError(f"{path}: {exc.field}: {exc.message}") from None
    return found


def read_table(path: Path, encoding: str | None = None) -> pa.Table:
    """A whole file as a table of its own column names; CSV and XLSX cells are kept as text."""
    suffix = path.suffix.lower()
    try:
        exists = path.is_file()
    except OSError as exc:  # a name too long, a path through a file
        raise TableError(f"{str(path)[:80]}: -: cannot read ({exc.strerror})") from None
    if not exists:
        raise TableError(f"{path}: -: no such file")
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        try:
            return pq.read_table(path)
        except (pa.ArrowInvalid, OSError) as exc:
            raise TableError(f"{path}: -: not a Parquet file ({exc})") from None
    if suffix == ".csv":
        import pyarrow.csv as pcsv

        enc = _csv_encoding(path, encoding)
        with path.open(encoding=enc, newline="") as fh:
            header = next(csv.reader(fh), None)
        if not header:
            raise TableError(f"{path}: -: the file is empty")
        names = [h.strip().lstrip("\ufeff") for h in header]
        try:
            return pcsv.read_csv(path, read_options=pcsv.ReadOptions(encoding=enc, column_names=names, skip_rows=1),
                                 convert_options=pcsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                                                     strings_can_be_null=True))
        except pa.ArrowInvalid as exc:
            raise TableError(f"{path}: -: {exc}") from None
    if suffix == ".xlsx":
        return _read_xlsx(path)
    if suffix in (".jsonl", ".ndjson"):
        raise TableError(f"{path}: -: JSON Lines holds records, not a table; read it with read_records")
    raise TableError(f"{path}: -: unknown format {suffix!r}; houfu screen reads {', '.join(FORMATS)}")


def _read_xlsx(path: Path) -> pa.Table:
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        raise TableError(f"{path}: -: not an XLSX workbook ({type(exc).__name__})") from None
    rows = book.worksheets[0].iter_rows(values_only=True)
    header = next(rows, None)
    if not header:
        raise TableError(f"{path}: -: the first sheet is empty")
    names = [str(h).strip() if h is not None else f"column {i + 1}" for i, h in enumerate(header)]
    cols: list[list[str | None]] = [[] for _ in names]
    for row in rows:
        for i in range(len(names)):
            v = row[i] if i < len(row) else None
            cols[i].append(None if v is None or v == "" else _cell_text(v))
    book.close()
    return pa.table({n: pa.array(c, type=pa.string()) for n, c in zip(names, cols, strict=True)})


def _cell_text(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


# --- mapping headers and values -----------------------------------------------------------------------------------

def _header_map(kb: KB, level: str, names: list[str]) -> tuple[dict[str, str], list[str]]:
    """table column -> field, and the columns that match no field of this level."""
    aliases: dict[str, str] = {}
    declared: dict[str, list[str]] = getattr(kb.columns, level)
    codec = codec_for(kb.models, {"household": "household", "member": "member", "entity": "entity", "site": "site"}[level])
    for fld in [*codec.kinds, *declared]:
        aliases[_norm(fld)] = fld
    for fld, spellings in declared.items():
        for s in spellings:
            aliases[_norm(s)] = fld
    out: dict[str, str] = {}
    unknown: list[str] = []
    for n in names:
        found = aliases.get(_norm(n))
        if found is None:
            unknown.append(n)
        elif found not in out.values():
            out[n] = found
    return out, unknown


def _norm(header: str) -> str:
    return header.strip().replace("（", "(").replace("）", ")").replace(" ", "").lower()


@dataclass
class _Spellings:
    true: frozenset[str]
    false: frozenset[str]
    values: dict[str, dict[str, str]]  # fact -> spelling -> code


def _spellings(kb: KB) -> _Spellings:
    values: dict[str, dict[str, str]] = {}
    for fact, label in kb.fact_labels.items():
        if label.labels:
            values[fact] = {code: code for code in label.labels} | {zh: code for code, zh in label.labels.items()}
    for fact, extra in kb.columns.values.items():
        values.setdefault(fact, {}).update(extra)
    return _Spellings(frozenset(kb.columns.booleans.get("true", [])), frozenset(kb.columns.booleans.get("false", [])),
                      values)


_BAD = -math.inf  # a cell that cannot be read


def _encode_column(kb: KB, sp: _Spellings, codec: Codec, fact: str, arr: pa.ChunkedArray | pa.Array,
                   ) -> tuple[npt.NDArray[np.float64], dict[int, str]]:
    """A fact column as floats (NaN unknown), and the reason for each bad row. Per distinct value, not per row."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    enc = arr if pa.types.is_dictionary(arr.type) else pc.dictionary_encode(arr)
    values = enc.dictionary.to_pylist()
    kind = codec.kinds.get(fact, "number")
    label = kb.fact_labels.get(fact)
    rng = label.range if label else None
    mapped = np.empty(len(values) + 1, dtype=np.float64)
    reasons: dict[int, str] = {}
    for i, v in enumerate(values):
        mapped[i], why = _map_value(sp, codec, fact, kind, v, rng)
        if why:
            reasons[i] = why
    mapped[-1] = np.nan  # null
    idx = enc.indices.fill_null(len(values)).to_numpy(zero_copy_only=False)
    out = mapped[idx]
    bad: dict[int, str] = {}
    if reasons:
        for row in np.flatnonzero(out == _BAD).tolist():
            bad[row] = reasons[int(idx[row])]
        out[out == _BAD] = np.nan
    return out, bad


def _map_value(sp: _Spellings, codec: Codec, fact: str, kind: str, v: Any, rng: Any) -> tuple[float, str]:
    if v is None:
        return np.nan, ""
    text = str(v).strip()
    if text == "":
        return np.nan, ""
    if kind == "bool":
        if isinstance(v, bool):
            return float(v), ""
        if text in sp.true:
            return 1.0, ""
        if text in sp.false:
            return 0.0, ""
        return _BAD, f"{text!r} is not yes or no (是/否)"
    if kind == "date":
        # ISO text, 2024/7/1, 20240701, 2024年7月1日, or a spreadsheet's date cell (read as 2024-07-01 00:00:00).
        try:
            return float(date_number(parse_date(v if not isinstance(v, str) else text))), ""
        except ValueError as exc:
            return _BAD, str(exc)
    if kind == "enum":
        code = sp.values.get(fact, {}).get(text, text)
        values = codec.values[fact]
        if code in values:
            return float(values.index(code)), ""
        shown = "、".join(f"{c}" for c in values)
        return _BAD, f"{text!r} is not one of {shown}"
    try:
        x = float(text) if not isinstance(v, int | float) or isinstance(v, bool) else float(v)
    except ValueError:
        return _BAD, f"{text!r} is not a number"
    if not math.isfinite(x):
        return _BAD, f"{text!r} is not a finite number"
    if rng is not None and not (rng.min <= x <= rng.max):
        return _BAD, f"{x:g} is out of range {rng.min:g} to {rng.max:g}"
    if x < 0:
        return _BAD, f"{x:g} is negative"
    return round(x, 2), ""


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
    warnings: list[str] = field(default_factory=list)
    source: str = "-"
    row_numbers: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    item_rows: dict[str, tuple[int, int]] = field(default_factory=dict)  # members/businesses: (rows in, joined)

    @property
    def n(self) -> int:
        return len(self.ids)

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


def _level_columns(kb: KB, sp: _Spellings, level: str, table: pa.Table, mapping: dict[str, str], file: str,
                   errors: dict[int, list[CellError]], base: int = 0) -> dict[str, npt.NDArray[np.float64]]:
    codec = codec_for(kb.models, level)
    cols: dict[str, npt.NDArray[np.float64]] = {}
    for name, fact in mapping.items():
        if fact not in codec.kinds:
            continue
        values, bad = _encode_column(kb, sp, codec, fact, table.column(name))
        cols[fact] = values
        for row, why in bad.items():
            errors.setdefault(row, []).append(CellError(file, base + row + 2, name, why))
    return cols


def load_caseload(kb: KB, path: Path, members: Path | None = None, businesses: Path | None = None,
                  encoding: str | None = None, entity: str = "household") -> Loaded:
    """Read a caseload in either shape and check every cell; bad rows are reported, never silently dropped."""
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        return _load_jsonl(kb, path, encoding, entity)
    return load_tables(kb, read_table(path, encoding), path,
                       read_table(members, encoding) if members is not None else None, members,
                       read_table(businesses, encoding) if businesses is not None else None, businesses, entity)


def _field(mapping: dict[str, str], name: str) -> str | None:
    return next((c for c, f in mapping.items() if f == name), None)


def _first_rows(ids: pa.Array) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """For each row, the index of its id's first row (-1 for a null id); and the first rows in order."""
    enc = pc.dictionary_encode(ids)
    codes = enc.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.intp)
    valid = codes >= 0
    first_of_code = np.full(len(enc.dictionary), -1, dtype=np.intp)
    rows = np.flatnonzero(valid)
    uniq, at = np.unique(codes[rows], return_index=True)  # the first occurrence of each id
    first_of_code[uniq] = rows[at]
    first = np.where(valid, first_of_code[np.where(valid, codes, 0)], -1)
    return first, np.sort(first_of_code)


def load_tables(kb: KB, main: pa.Table, path: Path | str, member_table: pa.Table | None = None,
                members: Path | str | None = None, ent_table: pa.Table | None = None,
                businesses: Path | str | None = None, entity: str = "household",
                bases: tuple[int, int, int] = (0, 0, 0), duplicates: dict[int, int] | None = None) -> Loaded:
    """A caseload from tables already read (a file, a part of one read in turn, or a partition on a Dask
    worker). ``bases`` are the rows before these in each file, so errors name the file's own row numbers;
    ``duplicates`` maps a row here to the file row where its id first appeared, when that was in an earlier
    part."""
    sp = _spellings(kb)
    path = Path(path)
    level = "site" if entity == "site" else "household"
    mapping, unknown = _header_map(kb, level, main.column_names)
    warnings = [f"{path}: column {u!r} matches no field; ignored" for u in unknown
                if member_table is not None or entity == "site" or _header_map(kb, "member", [u])[1]]
    id_col = _field(mapping, "id")
    if id_col is None:
        raise TableError(f"{path}: -: no household id column (户编号 or id)")
    errors: dict[int, list[CellError]] = {}
    if entity == "household" and member_table is None:
        # One row per member carrying the household's columns, if any member column is present.
        member_map, _ = _header_map(kb, "member", main.column_names)
        member_map = {c: f for c, f in member_map.items() if f in codec_for(kb.models, "member").kinds or f == "name"}
        if any(f in codec_for(kb.models, "member").kinds for f in member_map.values()):
            return _load_wide(kb, sp, path, main, mapping, member_map, id_col, warnings)
    ids = _arr(main, id_col)
    rows_in = main.num_rows
    first, _ = _first_rows(ids)
    b0 = bases[0]
    for i in np.flatnonzero(first < 0).tolist():
        errors.setdefault(i, []).append(CellError(str(path), b0 + i + 2, id_col, "no household id"))
    for i in np.flatnonzero((first >= 0) & (first != np.arange(rows_in))).tolist():
        errors.setdefault(i, []).append(CellError(str(path), b0 + i + 2, id_col, f"duplicate id {ids[i].as_py()!r} "
                                                                                 f"(first on row {b0 + first[i] + 2})"))
    for i, row in (duplicates or {}).items():
        errors.setdefault(i, []).append(CellError(str(path), b0 + i + 2, id_col,
                                                  f"duplicate id {ids[i].as_py()!r} (first on row {row})"))
    cols = _level_columns(kb, sp, level, main, mapping, str(path), errors, b0)
    items_m, mem_errors = _items_from(kb, sp, "member", member_table, str(members), ids, rows_in, bases[1])
    items_e, ent_errors = _items_from(kb, sp, "entity", ent_table, str(businesses), ids, rows_in, bases[2])
    for row, errs in list(mem_errors.items()) + list(ent_errors.items()):
        errors.setdefault(row, []).extend(errs)
    labels = {k: _arr(main, _field(mapping, k)) for k in ("name", "site", "category")}
    caseload = Caseload(entity, Table(rows_in, cols, codec_for(kb.models, level)), items_m, items_e)
    out = Loaded(entity, ids, _arr(main, _field(mapping, "jurisdiction")), labels, caseload, rows_in=rows_in,
                 warnings=warnings, source=str(path), row_numbers=np.arange(b0 + 2, b0 + rows_in + 2))
    if member_table is not None:
        out.item_rows["members"] = (member_table.num_rows, len(items_m.owner))
    if ent_table is not None:
        out.item_rows["businesses"] = (ent_table.num_rows, len(items_e.owner))
    out.errors = [e for row in sorted(errors, key=lambda k: (k < 0, abs(k))) for e in errors[row]]
    return _reject(out, sorted(errors))


def _items_from(kb: KB, sp: _Spellings, level: str, table: pa.Table | None, file: str, ids: pa.Array,
                n: int, base: int = 0) -> tuple[Items, dict[int, list[CellError]]]:
    """Members or businesses from their own table, joined to the households by id (vectorised)."""
    codec = codec_for(kb.models, level)
    if table is None:
        return Items(Table(0, {}, codec), np.zeros(0, np.intp), np.zeros(n, bool)), {}
    mapping, _ = _header_map(kb, level, table.column_names)
    hcol = _field(mapping, "household")
    if hcol is None:
        raise TableError(f"{file}: -: no household id column (户编号 or household)")
    errors: dict[int, list[CellError]] = {}
    hh = _arr(table, hcol)
    owner = pc.index_in(hh, value_set=ids).fill_null(-1).to_numpy(zero_copy_only=False).astype(np.intp)
    item_errors: dict[int, list[CellError]] = {}
    cols = _level_columns(kb, sp, level, table, mapping, file, item_errors, base)
    for r in np.flatnonzero(owner < 0).tolist():
        item_errors.setdefault(r, []).append(CellError(file, base + r + 2, hcol, f"no household {hh[r].as_py()!r} in the "
                                                                          "households table"))
    # A bad member row rejects its household (its facts would be wrong); an orphan row is only reported.
    for r, errs in item_errors.items():
        target = int(owner[r])
        errors.setdefault(target if target >= 0 else -1 - r, []).extend(errs)
    keep = owner >= 0
    order = np.argsort(owner[keep], kind="stable")
    rows = np.flatnonzero(keep)[order]
    # A household with no member rows has an unknown member list (a household of nobody is a gap in the
    # data); given a businesses table, a household with no rows there has no business.
    known = np.zeros(n, bool) if level == "member" else np.ones(n, bool)
    known[owner[keep]] = True
    return Items(Table(len(rows), {f: c[rows] for f, c in cols.items()}, codec), owner[rows], known), errors


def _load_wide(kb: KB, sp: _Spellings, path: Path, table: pa.Table, mapping: dict[str, str],
               member_map: dict[str, str], id_col: str, warnings: list[str]) -> Loaded:
    """One row per member: the household's columns are read from its first row."""
    ids_all = _arr(table, id_col)
    first, head_rows = _first_rows(ids_all)
    errors: dict[int, list[CellError]] = {}
    for i in np.flatnonzero(first < 0).tolist():
        errors.setdefault(-1 - i, []).append(CellError(str(path), i + 2, id_col, "no household id"))
    rank = np.full(table.num_rows, -1, dtype=np.intp)
    rank[head_rows] = np.arange(len(head_rows))
    hh_of_row = np.where(first >= 0, rank[np.where(first >= 0, first, 0)], -1)
    head = table.take(pa.array(head_rows))
    hh_map = {c: f for c, f in mapping.items() if f not in member_map.values() or f in ("id", "jurisdiction")}
    row_errors: dict[int, list[CellError]] = {}
    cols = _level_columns(kb, sp, "household", head, hh_map, str(path), row_errors)
    for k, errs in row_errors.items():  # reported at the household's first row
        errors.setdefault(k, []).extend(CellError(e.file, int(head_rows[k]) + 2, e.column, e.reason) for e in errs)
    member_errors: dict[int, list[CellError]] = {}
    mcols = _level_columns(kb, sp, "member", table, member_map, str(path), member_errors)
    for r, errs in member_errors.items():
        if hh_of_row[r] >= 0:
            errors.setdefault(int(hh_of_row[r]), []).extend(errs)
    keep = hh_of_row >= 0
    mrows = np.flatnonzero(keep)[np.argsort(hh_of_row[keep], kind="stable")]
    members = Items(Table(len(mrows), {f: c[mrows] for f, c in mcols.items()}, codec_for(kb.models, "member")),
                    hh_of_row[mrows], np.ones(len(head_rows), bool))
    labels = {k: _arr(head, _field(mapping, k)) for k in ("name", "site", "category")}
    caseload = Caseload("household", Table(len(head_rows), cols, codec_for(kb.models, "household")), members,
                        Items(Table(0, {}, codec_for(kb.models, "entity")), np.zeros(0, np.intp),
                              np.zeros(len(head_rows), bool)))
    out = Loaded("household", _arr(head, id_col), _arr(head, _field(mapping, "jurisdiction")), labels, caseload,
                 rows_in=len(head_rows), warnings=warnings, source=str(path), row_numbers=head_rows + 2)
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
    try:
        table = pj.read_json(path, parse_options=pj.ParseOptions(explicit_schema=pa.schema(list(schema)),
                                                                  unexpected_field_behavior="error"))
    except (pa.ArrowInvalid, pa.ArrowTypeError, OSError):
        return None
    sp = _spellings(kb)
    n = table.num_rows
    errors: dict[int, list[CellError]] = {}
    main = table.drop_columns([c for c in ("members", "entities") if c in table.column_names])
    cols = _level_columns(kb, sp, "household", main, {c: c for c in main.column_names}, str(path), errors)
    items = []
    for key, level in (("members", "member"), ("entities", "entity")):
        col = table.column(key).combine_chunks()
        flat = pa.Table.from_struct_array(pc.list_flatten(col)).flatten()
        owner = pc.list_parent_indices(col).to_numpy(zero_copy_only=False).astype(np.intp)
        item_cols = _level_columns(kb, sp, level, flat, {c: c for c in flat.column_names}, str(path), errors)
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
    if entity == "household" and not encoding:
        fast = _load_jsonl_fast(kb, path)
        if fast is not None:
            return fast
    import orjson

    from houfu.engine.columns import caseload_from_facts
    from houfu.engine.evaluator import flatten

    from .inputs import InputError, parse_record

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
        for text in io.TextIOWrapper(fh, encoding=encoding):
            yield text.encode("utf-8")
        return
    for line in fh:
        yield line[3:] if line.startswith(b"\xef\xbb\xbf") else line
