"""An XLSX workbook read for what it really holds: every sheet's cells that hold a value, and its merged cells.

Before a sheet is parsed the workbook is judged from its zip directory (parts and their uncompressed sizes,
which zip will not inflate beyond) and a scan of its parts for the cells holding a value (``<v>`` and inline
strings) and for shared strings; a sheet's declared dimension is never read. While parsing, a row holding
more cells than Excel allows, a value beyond the column limit, and the time budget are checked. Only cells
with a value are kept, as sparse rows, so a workbook declaring 16,384 columns costs what it holds.
"""

from __future__ import annotations

import re
import warnings
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from houfu.io.limits import Deadline, LimitError, TableError, TableLimits

__all__ = ["Grid", "read_workbook"]

#: Excel's own maximum of columns in a sheet: a row element holding more cells than this is not a sheet.
EXCEL_COLUMNS = 16_384


@dataclass
class Grid:
    """One sheet's cells holding a value: rows in order, each (row number, {column number: value})."""

    name: str
    rows: list[tuple[int, dict[int, Any]]] = field(default_factory=list)
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)  # min_col, min_row, max_col, max_row


_PREFIX = re.compile(rb"<([A-Za-z_][\w.-]*):(?:worksheet|sst)\b")


def _scan(z: zipfile.ZipFile, info: zipfile.ZipInfo, budget: int, path: Path, deadline: Deadline) -> tuple[int, int]:
    """Cells holding a value and shared strings in one XML part, counted while inflating it in pieces; stops
    once the count passes ``budget``."""
    cells = strings = 0
    tail = b""
    prefix: bytes | None = None
    with z.open(info) as raw:  # zip stops at the declared size and checks the CRC
        while chunk := raw.read(1 << 20):
            text = tail + chunk
            if prefix is None:
                found = _PREFIX.search(text[:4096])
                prefix = b"<" + found.group(1) + b":" if found else b"<"
            # Count only what starts in this piece: keep the last few bytes for the next (a tag cut in two).
            body = text[:-8] if len(text) > 8 else b""
            cells += sum(body.count(prefix + t) for t in (b"v>", b"is>"))
            strings += body.count(prefix + b"si>")
            tail = text[len(body):]
            if cells + strings > budget:
                break
            deadline.check(str(path))
    if tail:
        cells += sum(tail.count((prefix or b"<") + t) for t in (b"v>", b"is>"))
        strings += tail.count((prefix or b"<") + b"si>")
    return cells, strings


def _check_directory(z: zipfile.ZipFile, path: Path, limits: TableLimits, deadline: Deadline) -> None:
    infos = z.infolist()
    if len(infos) > limits.xlsx_parts:
        raise LimitError(f"{path}: -: a workbook of {len(infos):,} parts; at most {limits.xlsx_parts:,} are read")
    total = sum(i.file_size for i in infos)
    if total > limits.xlsx_bytes:
        raise LimitError(f"{path}: -: {total:,} bytes once uncompressed; at most {limits.xlsx_bytes:,} are read "
                         "from a workbook (save a larger caseload as CSV or Parquet)")
    cells = strings = 0
    for info in infos:
        if not info.filename.lower().endswith(".xml") or info.file_size < 64:
            continue
        got_cells, got_strings = _scan(z, info, limits.xlsx_cells - cells - strings, path, deadline)
        cells, strings = cells + got_cells, strings + got_strings
        if cells > limits.xlsx_cells:
            raise LimitError(f"{path}: -: more than {limits.xlsx_cells:,} cells hold a value; at most "
                             f"{limits.xlsx_cells:,} are read from a workbook (save a larger caseload as CSV or "
                             "Parquet)")
        if strings > limits.xlsx_cells:
            raise LimitError(f"{path}: -: more than {limits.xlsx_cells:,} shared strings; at most "
                             f"{limits.xlsx_cells:,} are read")


def read_workbook(path: Path, limits: TableLimits, deadline: Deadline) -> list[Grid]:
    """Every worksheet's cells holding a value, in the workbook's order."""
    import openpyxl

    try:
        z = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise TableError(f"{path}: -: not an XLSX workbook ({type(exc).__name__})") from None
    with z:
        try:
            _check_directory(z, path, limits, deadline)
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError) as exc:
            raise TableError(f"{path}: -: not an XLSX workbook ({type(exc).__name__})") from None
    with warnings.catch_warnings():
        # openpyxl warns of what it does not keep (data validation, extensions): nothing houfu reads.
        warnings.simplefilter("ignore")
        try:
            book = openpyxl.load_workbook(path, read_only=True, data_only=True, keep_links=False)
        except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
            raise TableError(f"{path}: -: not an XLSX workbook ({type(exc).__name__})") from None
        try:
            return [_read_sheet(book, ws, path, limits, deadline) for ws in book.worksheets]
        finally:
            book.close()


def _read_sheet(book: Any, ws: Any, path: Path, limits: TableLimits, deadline: Deadline) -> Grid:
    from xml.etree.ElementTree import iterparse

    from openpyxl.utils.cell import coordinate_to_tuple, range_boundaries
    from openpyxl.worksheet._reader import WorkSheetParser
    from openpyxl.xml.constants import SHEET_MAIN_NS

    row_tag, cell_tag, data_tag = (f"{{{SHEET_MAIN_NS}}}{t}" for t in ("row", "c", "sheetData"))
    merge_tag = f"{{{SHEET_MAIN_NS}}}mergeCell"
    is_tag, t_tag, r_tag = (f"{{{SHEET_MAIN_NS}}}{t}" for t in ("is", "t", "r"))
    grid = Grid(str(ws.title))
    where = f"{path} [{grid.name}]"
    parser = WorkSheetParser(None, ws._shared_strings, data_only=True, epoch=book.epoch,
                             date_formats=book._date_formats, timedelta_formats=book._timedelta_formats)
    row_number, in_row, cells = 0, 0, 0
    current: dict[int, Any] = {}
    sheet_data: Any = None
    try:
        with ws._get_source() as src:
            for event, el in iterparse(src, events=("start", "end")):
                tag = el.tag
                if event == "start":
                    if tag == row_tag:
                        given = el.get("r")
                        row_number = int(given) if given else row_number + 1
                        parser.row_counter, parser.col_counter = row_number, 0
                        current, in_row = {}, 0
                    elif tag == data_tag:
                        sheet_data = el
                    continue
                if tag == cell_tag:
                    in_row += 1
                    if in_row > EXCEL_COLUMNS:
                        raise LimitError(f"{where}: row {row_number}: more than {EXCEL_COLUMNS:,} cells in one row, "
                                         "more than Excel allows; not a sheet houfu reads")
                    if el.get("t") == "inlineStr":
                        # An inline string (as openpyxl and many exporters write text): its plain text and its
                        # runs' text, read here (openpyxl builds an object per cell for it, a third of the time).
                        box = el.find(is_tag)
                        value = None if box is None else "".join(
                            [box.findtext(t_tag) or "", *((run.findtext(t_tag) or "") for run in box.iterfind(r_tag))])
                        ref = el.get("r")
                        column = coordinate_to_tuple(ref)[1] if ref else parser.col_counter + 1
                        parser.col_counter = column
                    else:
                        cell = parser.parse_cell(el)
                        value, column = cell["value"], cell["column"]
                    el.clear()
                    if value is None or (isinstance(value, str) and not value.strip()):
                        continue
                    if column > limits.columns:
                        raise LimitError(f"{where}: row {row_number}: a value in column {column:,}; at most "
                                         f"{limits.columns:,} columns are read")
                    current[column] = value
                    cells += 1
                    if cells % 20_000 == 0:
                        deadline.check(where)
                elif tag == row_tag:
                    if current:
                        grid.rows.append((row_number, current))
                        if len(grid.rows) > limits.rows:
                            raise LimitError(f"{where}: more than {limits.rows:,} rows; at most {limits.rows:,} are "
                                             "read")
                    el.clear()
                    if sheet_data is not None:
                        sheet_data.clear()  # the rows already read: memory follows one row
                elif tag == merge_tag:
                    bounds = range_boundaries(el.get("ref") or "")
                    if None not in bounds:  # a whole row or column merged is no header nor a cell's span
                        grid.merges.append(tuple(int(b) for b in bounds))  # type: ignore[arg-type]
                    if len(grid.merges) > limits.xlsx_cells:
                        raise LimitError(f"{where}: more than {limits.xlsx_cells:,} merged ranges")
    except TableError:
        raise
    except Exception as exc:  # a malformed sheet: XML, a cell reference, a shared string index
        raise TableError(f"{where}: row {row_number}: not a readable sheet ({type(exc).__name__})") from None
    grid.rows.sort(key=lambda r: r[0])
    return grid
