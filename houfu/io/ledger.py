"""A county's table as it keeps it: the header found under a title and filing rows, a header of two rows with
merged cells, blank, totals and signature rows skipped with a note, and every row numbered as the file numbers
it, so an error names the row a person sees in Excel.

The same rules serve a workbook's sheets (``sheet_table``, from the cells ``workbook.read_workbook`` keeps) and
a CSV (``csv_table``: the header is found in its first lines, then Arrow reads the rest).
"""

from __future__ import annotations

import bisect
import codecs
import csv
import datetime as dt
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from houfu.io.limits import Deadline, LimitError, TableError, TableLimits
from houfu.io.notes import Note, note
from houfu.io.reader import head_lines
from houfu.io.workbook import Grid

__all__ = ["HEAD_ROWS", "RowWords", "Sheet", "cell_text", "csv_table", "sheet_table"]

#: rows searched for the header (titles, 填报单位 and 填报日期 stand above it)
HEAD_ROWS = 30


@dataclass(frozen=True)
class RowWords:
    """Words that make a row not a record: totals (合计) and signatures (填表人 …), from columns.yaml. A word is
    found at the start of a cell, spaces inside it allowed (合 计)."""

    totals: tuple[str, ...]
    signatures: tuple[str, ...]

    def kind(self, texts: list[str]) -> str | None:
        totals, signatures = _starting(self.totals), _starting(self.signatures)
        for text in texts:
            if totals.match(text) and len(re.sub(r"\s+", "", text)) <= 20:
                return "totals"
            if signatures.match(text):
                return "signature"
        return None


@lru_cache(maxsize=16)
def _starting(words: tuple[str, ...]) -> re.Pattern[str]:
    """A text starting with one of the words, spaces allowed between its characters."""
    spaced = ["\\s*".join(re.escape(ch) for ch in w) for w in words if w]
    return re.compile("^\\s*(?:" + "|".join(spaced) + ")" if spaced else "(?!)")


@dataclass
class Sheet:
    """A table read from a file or a sheet: text cells (None where blank), the file's number of each row, the
    header's rows, and what the reader did (notes)."""

    table: pa.Table
    source: str
    rows: npt.NDArray[np.int64]
    header_rows: tuple[int, ...] = (1,)
    notes: list[Note] = field(default_factory=list)
    sheet: str | None = None
    #: every header as written (the table's names are these, made unique)
    headers: list[str] = field(default_factory=list)


def cell_text(v: Any) -> str | None:
    """A cell as text: whole numbers without ".0", dates as 1966-05-08. A number of 16 digits or more is kept in
    the exponent form Excel stored (3.60731199001011e+17): its last digits are lost, and an id column refuses it."""
    if v is None:
        return None
    if isinstance(v, str):
        return v.strip() or None
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        if v.is_integer() and abs(v) < 1e15:
            return str(int(v))
        return repr(v)
    if isinstance(v, dt.datetime):
        return v.date().isoformat() if v.time() == dt.time() else v.isoformat(sep=" ")
    if isinstance(v, dt.date | dt.time):
        return v.isoformat()
    return str(v)


def _letter(column: int) -> str:
    from openpyxl.utils.cell import get_column_letter

    return str(get_column_letter(column))


def _find_header(rows: list[tuple[int, dict[int, Any]]], known: Callable[[str], bool]) -> tuple[int, int]:
    """The index of the header row among ``rows`` and its height (1 or 2); (-1, 0) when none is known."""
    def score(cells: dict[int, Any]) -> int:
        return sum(1 for v in cells.values() if isinstance(v, str) and known(v))

    best, best_score = -1, 0
    for i, (_, cells) in enumerate(rows[:HEAD_ROWS]):
        s = score(cells)
        if s > best_score:
            best, best_score = i, s
    if best < 0:
        return -1, 0

    def header_like(k: int) -> bool:
        number, cells = rows[k]
        return (abs(number - rows[best][0]) == 1 and score(cells) >= 2
                and all(isinstance(v, str) for v in cells.values()))

    # A header of two rows: the row above or below is all text and itself names at least two known headers.
    if best > 0 and header_like(best - 1):
        return best - 1, 2
    if best + 1 < len(rows) and header_like(best + 1):
        return best, 2
    return best, 1


def _headers(top: dict[int, Any], bottom: dict[int, Any] | None, width: int,
             known: Callable[[str], bool]) -> list[str | None]:
    """One name per column: a two-row header reads the lower cell, or the upper and lower together
    (是否参加 + 医疗保险), or the upper alone, whichever is a header houfu knows; else the lower cell, as a
    person would name the column."""
    out: list[str | None] = []
    for c in range(1, width + 1):
        up = cell_text(top.get(c))
        down = cell_text(bottom.get(c)) if bottom is not None else None
        if down == up:
            down = None
        options = [o for o in (down, (up or "") + (down or "") if up and down else None, up) if o]
        out.append(next((o for o in options if known(o)), down or up))
    return out


def _unique(names: list[str | None], letters: list[str], source: str, notes: list[Note]) -> list[str]:
    seen: dict[str, str] = {}
    out = []
    for name, letter in zip(names, letters, strict=True):
        if name is None:
            out.append(f"列{letter}")
            continue
        if name in seen:
            unique = f"{name}({letter})"
            notes.append(note("column_twice", source=source, header=unique, first=name, field=name))
            out.append(unique)
            continue
        seen[name] = letter
        out.append(name)
    return out


def _spread_merges(grid: Grid, limits: TableLimits, where: str) -> None:
    """Every cell of a merged range takes the range's value, in the rows the sheet holds (a merged 户编号 down a
    household's member rows is the household's id in each)."""
    numbers = [n for n, _ in grid.rows]
    filled = 0
    for c1, r1, c2, r2 in grid.merges:
        at = bisect.bisect_left(numbers, r1)
        if at >= len(numbers) or numbers[at] != r1 or c1 not in grid.rows[at][1]:
            continue
        value = grid.rows[at][1][c1]
        c2 = min(c2, limits.columns)
        end = bisect.bisect_right(numbers, r2)
        for k in range(at, end):
            cells = grid.rows[k][1]
            for c in range(c1, c2 + 1):
                if c not in cells:
                    cells[c] = value
                    filled += 1
        if filled > limits.xlsx_cells:
            raise LimitError(f"{where}: -: merged cells spread over more than {limits.xlsx_cells:,} cells")


def _rows_text(numbers: list[int]) -> str:
    shown = ", ".join(str(n) for n in numbers[:10])
    return shown + (" …" if len(numbers) > 10 else "")


def _skip_notes(source: str, blank: list[int], blank_count: int, other: dict[str, list[tuple[int, str]]]) -> list[Note]:
    notes = []
    if blank_count:
        notes.append(note("blank_rows", warning=False, source=source, count=f"{blank_count:,}", rows=_rows_text(blank)))
    for kind, found in other.items():
        if found:
            words = "、".join(dict.fromkeys(w for _, w in found))
            notes.append(note(f"{kind}_rows", warning=False, source=source, count=len(found),
                              rows=_rows_text([n for n, _ in found]), words=words))
    return notes


def sheet_table(grid: Grid, path: Path, known: Callable[[str], bool], words: RowWords, limits: TableLimits,
                deadline: Deadline, many: bool) -> Sheet | None:
    """A sheet as a table of text: None when it is empty or no header houfu knows is in its first rows.
    ``many``: the workbook has several sheets, so the source names the sheet."""
    source = f"{path} [{grid.name}]" if many else str(path)
    if not grid.rows:
        return None
    _spread_merges(grid, limits, source)
    at, height = _find_header(grid.rows, known)
    if at < 0:
        return None
    header_number = grid.rows[at][0]
    notes: list[Note] = []
    above = [n for n, _ in grid.rows[:at]]
    if above:
        notes.append(note("title_rows", warning=False, source=source, rows=_rows_text(above)))
    top = grid.rows[at][1]
    bottom = grid.rows[at + 1][1] if height == 2 else None
    if bottom is not None:
        notes.append(note("two_row_header", warning=False, source=source,
                          rows=f"{header_number}–{header_number + 1}"))
    data = grid.rows[at + height:]
    width = max([max(cells) for _, cells in grid.rows[at:at + height]] + [max(cells) for _, cells in data] or [0])
    letters = [_letter(c) for c in range(1, width + 1)]
    headers = _headers(top, bottom, width, known)
    names = _unique(headers, letters, source, notes)
    cols: list[list[str | None]] = [[] for _ in names]
    numbers: list[int] = []
    blank: list[int] = []
    blank_count = 0
    skipped: dict[str, list[tuple[int, str]]] = {"totals": [], "signature": []}
    last = header_number + height - 1
    for k, (number, cells) in enumerate(data):
        if k % 5_000 == 0:
            deadline.check(source)
        gap = number - last - 1
        if gap > 0:
            blank_count += gap
            blank.extend(range(last + 1, min(number, last + 1 + 10 - len(blank))) if len(blank) < 10 else [])
        last = number
        texts = {c: cell_text(v) for c, v in cells.items()}
        if not any(texts.values()):
            blank_count += 1
            if len(blank) < 10:
                blank.append(number)
            continue
        kind = words.kind([t for _, t in sorted(texts.items()) if t][:3])  # the first cells, as in a CSV
        if kind is not None:
            skipped[kind].append((number, next(t for t in texts.values() if t)))
            continue
        numbers.append(number)
        for c in range(1, width + 1):
            cols[c - 1].append(texts.get(c))
    notes += _skip_notes(source, blank, blank_count, skipped)
    table = pa.table({n: pa.array(c, type=pa.string()) for n, c in zip(names, cols, strict=True)})
    return Sheet(table, source, np.asarray(numbers, dtype=np.int64), tuple(range(header_number, header_number + height)),
                 notes, grid.name, [h or n for h, n in zip(headers, names, strict=True)])


def csv_table(path: Path, encoding: str, known: Callable[[str], bool], words: RowWords, limits: TableLimits,
              deadline: Deadline) -> Sheet:
    """A CSV file as a table of text, its header found in its first lines."""
    import pyarrow.csv as pcsv

    with path.open("rb") as fh:
        head_bytes = fh.read(1 << 20)
    if len(head_bytes) == 1 << 20:  # cut at a line end so a multi-byte character is not split
        head_bytes = head_lines(head_bytes)
    text = head_bytes.decode(encoding, errors="replace").lstrip("\ufeff")
    delimiter = _delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    head: list[tuple[int, dict[int, Any]]] = []
    for row in reader:
        cells = {i + 1: v.strip() for i, v in enumerate(row) if v.strip()}
        if cells:
            head.append((reader.line_num, cells))
        if len(head) >= HEAD_ROWS + 2:
            break
    if not head:
        raise TableError(f"{path}: -: the file is empty")
    at, height = _find_header(head, known)
    notes: list[Note] = []
    if at < 0:
        at, height = 0, 1  # no header houfu knows: the first line is the header, and its columns are reported
    header_line = head[at][0]
    if at > 0:
        notes.append(note("title_rows", warning=False, source=str(path), rows=_rows_text([n for n, _ in head[:at]])))
    if height == 2:
        notes.append(note("two_row_header", warning=False, source=str(path), rows=f"{header_line}–{header_line + 1}"))
    last_header_line = head[at + height - 1][0]
    width = max([max(cells) for _, cells in head[at:]])
    if width > limits.columns:
        raise LimitError(f"{path}: -: {width:,} columns; at most {limits.columns:,} are read")
    headers = _headers(head[at][1], head[at + 1][1] if height == 2 else None, width, known)
    names = _unique(headers, [_letter(c) for c in range(1, width + 1)], str(path), notes)
    deadline.check(str(path))
    try:
        table = pcsv.read_csv(path, read_options=pcsv.ReadOptions(encoding=encoding, column_names=names,
                                                                  skip_rows=last_header_line),
                              parse_options=pcsv.ParseOptions(delimiter=delimiter),
                              convert_options=pcsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                                                  strings_can_be_null=True))
    except pa.ArrowInvalid as exc:
        raise TableError(f"{path}: -: {exc}") from None
    deadline.check(str(path))
    if table.num_rows > limits.rows:
        raise LimitError(f"{path}: -: {table.num_rows:,} rows; at most {limits.rows:,} are read")
    numbers, empty = _csv_numbers(path, last_header_line, table.num_rows, encoding)
    table, numbers, skip_notes = _skip_rows(table, numbers, words, str(path), empty)
    return Sheet(table, str(path), numbers, tuple(range(header_line, header_line + height)), notes + skip_notes,
                 None, [h or n for h, n in zip(headers, names, strict=True)])


def _delimiter(head: str) -> str:
    """A tab where the file's first lines hold more tabs than commas (Excel's "Unicode Text" and "Text (Tab
    delimited)" exports), else a comma."""
    return "\t" if head.count("\t") > head.count(",") else ","


def _csv_numbers(path: Path, header_line: int, n: int, encoding: str = "utf-8"
                 ) -> tuple[npt.NDArray[np.int64], list[int]]:
    """The line of each data row, and the empty lines among them: Arrow leaves out empty lines, so they are
    counted back in."""
    numbers = np.arange(header_line + 1, header_line + 1 + n, dtype=np.int64)
    data = path.read_bytes()
    if codecs.lookup(encoding).name.startswith("utf-16"):  # line ends are two bytes there
        data = data.decode(encoding, errors="replace").encode("utf-8")
    if b"\n\n" not in data and b"\n\r\n" not in data:
        return numbers, []
    lines = data.split(b"\n")
    while lines and not lines[-1].strip(b"\r"):
        lines.pop()  # empty lines at the end are no rows
    full = [i + 1 for i, ln in enumerate(lines) if i + 1 > header_line and ln.strip(b"\r")]
    if len(full) != n:
        return numbers, []  # a quoted line break: the plain count is the best there is
    empty = [i + 1 for i, ln in enumerate(lines) if i + 1 > header_line and not ln.strip(b"\r")]
    return np.asarray(full, dtype=np.int64), empty


def _skip_rows(table: pa.Table, numbers: npt.NDArray[np.int64], words: RowWords, source: str,
               empty: list[int] | None = None) -> tuple[pa.Table, npt.NDArray[np.int64], list[Note]]:
    """Blank rows (``empty``: lines Arrow left out), and totals and signature rows (their word in one of the
    first three columns), left out with a note. Vectorised: only the rows found are looked at one by one."""
    empty = empty or []
    if table.num_rows == 0:
        return table, numbers, _skip_notes(source, empty[:10], len(empty), {})
    filled = np.zeros(table.num_rows, dtype=np.int32)
    for col in table.columns:
        filled += col.is_valid().to_numpy(zero_copy_only=False)
    blank_mask = filled == 0
    pattern = "^\\s*(" + "|".join(re.escape(w) for w in (*words.totals, *words.signatures)) + ")"
    marked = np.zeros(table.num_rows, dtype=bool)
    for col in table.columns[:3]:
        hit = pc.match_substring_regex(col, pattern).fill_null(False)
        marked |= hit.to_numpy(zero_copy_only=False)
    if not blank_mask.any() and not marked.any():
        return table, numbers, _skip_notes(source, empty[:10], len(empty), {})
    skipped: dict[str, list[tuple[int, str]]] = {"totals": [], "signature": []}
    for i in np.flatnonzero(marked & ~blank_mask).tolist():
        texts = [v for v in (table.column(c)[i].as_py() for c in range(min(3, table.num_columns))) if v]
        kind = words.kind(texts)
        if kind is None:
            marked[i] = False
            continue
        skipped[kind].append((int(numbers[i]), texts[0]))
    drop = blank_mask | marked
    blank = sorted(empty + numbers[blank_mask].tolist())
    keep = ~drop
    return (table.filter(pa.array(keep)), numbers[keep],
            _skip_notes(source, blank[:10], len(blank), skipped))
