"""The files a screen writes beside its determinations (the rejected rows, who is on each list, the report, the
changes) are this run's or the run before's, whole, never a mix (issue 25)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

import houfu
import houfu.screen.run as run_module
from houfu.cli.commands import main
from houfu.io.files import written_whole
from houfu.screen.determinations import run_of

AS_OF = dt.date(2026, 1, 1)


def _caseload(folder: Path, bad_age: bool = False) -> tuple[Path, Path]:
    ids = [f"h{i}" for i in range(20)]
    pq.write_table(pa.table({"户编号": ids, "所在县": ["定南县"] * 20}), folder / "h.parquet")
    ages = [40] * 20
    if bad_age:
        ages[3] = -3
    pq.write_table(pa.table({"户编号": ids, "年龄": ages}), folder / "m.parquet")
    return folder / "h.parquet", folder / "m.parquet"


def _screen(folder: Path, out: Path, since: Path | None = None, report: Path | None = None,
            bad_age: bool = False) -> run_module.ScreenRun:
    h, m = _caseload(folder, bad_age)
    return run_module.screen_files(houfu.load(), houfu.evaluator(), h, m, None, None, "household", AS_OF, out, report,
                                   None, since=since)


def test_a_file_written_whole_replaces_the_earlier_one_only_when_done(tmp_path):
    target = tmp_path / "report.html"
    target.write_text("last month")
    with pytest.raises(KeyboardInterrupt), written_whole(target) as partial:
        partial.write_text("half of this mon")
        raise KeyboardInterrupt
    assert target.read_text() == "last month" and sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]
    with written_whole(target) as partial:
        partial.write_text("this month")
    assert target.read_text() == "this month" and sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]


def test_a_run_that_rejects_no_row_removes_the_errors_file_an_earlier_run_left(tmp_path):
    out = tmp_path / "d.parquet"
    first = _screen(tmp_path, out, bad_age=True)
    errors = tmp_path / "d.errors.csv"
    assert first.errors_path == errors and "-3" in errors.read_text(encoding="utf-8-sig")
    second = _screen(tmp_path, out)
    assert second.totals.rejected == 0 and second.errors_path is None
    assert not errors.exists()


def test_the_determinations_and_their_lists_file_carry_one_run_token(tmp_path):
    out = tmp_path / "d.parquet"
    got = _screen(tmp_path, out)
    token = run_of(out)
    assert token == got.totals.run and run_of(run_module.members_file(out)) == token
    assert run_of(tmp_path / "d.measures.parquet") is None  # the measures table is no run's: it is the KB's
    again = _screen(tmp_path, out)
    assert run_of(out) == again.totals.run != token


def test_since_does_not_take_a_lists_file_left_by_the_run_before_for_its_own(tmp_path, monkeypatch):
    """A run stopped after its determinations were moved into place and before its lists file was written leaves
    the lists of the run before beside them; the next run's --since says so rather than compare the wrong lists."""
    out = tmp_path / "d.parquet"
    _screen(tmp_path, out)
    kept = run_module._write_members

    def stopped(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(run_module, "_write_members", stopped)
    with pytest.raises(KeyboardInterrupt):
        _screen(tmp_path, out)
    assert run_of(out) != run_of(run_module.members_file(out))  # the new determinations, the old lists
    monkeypatch.setattr(run_module, "_write_members", kept)
    later = _screen(tmp_path, tmp_path / "d2.parquet", since=out)
    assert later.changes is not None
    assert later.changes.lists_note == "d.lists.parquet: not the one written with d.parquet; the lists are not compared"
    assert later.changes.lists == []
    # and with its own lists beside it, they are compared
    fine = _screen(tmp_path, tmp_path / "d3.parquet", since=tmp_path / "d2.parquet")
    assert fine.changes is not None and fine.changes.lists_note is None


def test_the_cli_refuses_to_write_the_errors_file_over_the_caseload(tmp_path):
    h, m = _caseload(tmp_path)
    before = h.read_bytes()
    got = CliRunner().invoke(main, ["screen", str(h), "--members", str(m), "--errors", str(h), "--as-of",
                                    "2026-01-01", "-q"])
    assert got.exit_code == 2, got.output
    assert got.output.strip().splitlines()[-1].endswith("is one of the caseload's own files; give another name to "
                                                         "write to")
    assert h.read_bytes() == before
