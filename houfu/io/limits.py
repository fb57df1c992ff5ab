"""Limits on caseload tables, checked before the work from what a file really holds.

A workbook is judged from its zip directory (the uncompressed size of every part) and a scan of its sheets for
the cells that hold a value, never from the dimension a sheet declares: a 1,571-byte workbook may declare
16,384 columns. A Parquet file is judged from its footer (rows, row groups, columns, the sizes of its column
chunks) before a row is read. Reading has a time budget. A refusal is one line (``LimitError``, a
``TableError``): the CLI prints it and exits 2, the service answers 413.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

__all__ = ["LIMITS", "Deadline", "LimitError", "TableError", "TableLimits"]


class TableError(Exception):
    """A file that cannot be read as a table at all (one line: file and reason)."""

    status = 422


class LimitError(TableError):
    """A file refused by a limit before the work (too many rows, cells, bytes, or too slow)."""

    status = 413


@dataclass(frozen=True)
class TableLimits:
    #: a workbook's parts, uncompressed, as its zip directory declares them (zip refuses to inflate more)
    xlsx_bytes: int = 300_000_000
    xlsx_parts: int = 10_000
    #: cells holding a value, in all sheets of a workbook (counted in a scan before they are parsed)
    xlsx_cells: int = 5_000_000
    #: a column is counted when a cell in it holds a value; Excel's own maximum is 16,384
    columns: int = 1_000
    #: rows of one table (a sheet, a CSV or a Parquet file)
    rows: int = 10_000_000
    #: characters in one cell (a name, an id, a label)
    cell_chars: int = 1_000
    #: a Parquet file's footer (its metadata) and its column chunks, uncompressed, as the footer declares them
    parquet_footer: int = 16_000_000
    parquet_bytes: int = 2_000_000_000
    parquet_row_groups: int = 100_000
    #: text a Parquet file's string columns hold once decoded (a dictionary-encoded column can hold one long
    #: value repeated for every row)
    parquet_text_bytes: int = 2_000_000_000
    #: the time reading the files may take
    seconds: float = 300.0


LIMITS = TableLimits()


class Deadline:
    """The time budget of one read: ``check`` refuses once it has passed."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def check(self, where: str) -> None:
        if time.monotonic() > self.end:
            raise LimitError(f"{where}: -: reading took more than {self.seconds:g} s (the time budget); "
                             "split the file, or save it as CSV or Parquet")
