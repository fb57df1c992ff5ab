"""The files a screen writes beside its determinations (the rejected rows, who is on each list, the measures table,
the report, the changes) are this run's or the run before's, whole, never a mix; and a run never writes over or
removes a file it reads (issue 25, and the review of its first version)."""

from __future__ import annotations

import csv
import datetime as dt
import os
import stat
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

import houfu
import houfu.screen.run as run_module
from houfu.cli.commands import main
from houfu.io.files import written_whole
from houfu.io.limits import TableError
from houfu.screen.determinations import read_long, run_of

AS_OF = dt.date(2026, 1, 1)


def _caseload(folder: Path, bad_age: bool = False, all_bad: bool = False) -> tuple[Path, Path]:
    ids = [f"h{i}" for i in range(20)]
    pq.write_table(pa.table({"户编号": ids, "所在县": ["定南县"] * 20}), folder / "h.parquet")
    ages = [-3] * 20 if all_bad else [40] * 20
    if bad_age:
        ages[3] = -3
    pq.write_table(pa.table({"户编号": ids, "年龄": ages}), folder / "m.parquet")
    return folder / "h.parquet", folder / "m.parquet"


def _screen(folder: Path, out: Path | None, since: Path | None = None, report: Path | None = None,
            errors: Path | None = None, **kinds: bool) -> run_module.ScreenRun:
    h, m = _caseload(folder, **kinds)
    return run_module.screen_files(houfu.load(), houfu.evaluator(), h, m, None, None, "household", AS_OF, out, report,
                                   errors, since=since)


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# --- the helper ---------------------------------------------------------------------------------------------------

def test_a_file_written_whole_replaces_the_earlier_one_only_when_done_and_keeps_its_mode(tmp_path):
    target = tmp_path / "report.html"
    target.write_text("last month")
    target.chmod(0o640)
    with pytest.raises(KeyboardInterrupt), written_whole(target) as partial:
        partial.write_text("half of this mon")
        raise KeyboardInterrupt
    assert target.read_text() == "last month" and _names(tmp_path) == ["report.html"]
    with written_whole(target) as partial:
        partial.write_text("this month")
    assert target.read_text() == "this month" and _names(tmp_path) == ["report.html"]
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_two_writers_of_one_target_each_write_their_own_partial_file_and_a_link_there_is_not_followed(tmp_path):
    target = tmp_path / "d.errors.csv"
    victim = tmp_path / "victim.txt"
    victim.write_text("not houfu's")
    (tmp_path / ".d.errors.csv.partial").symlink_to(victim)  # the name the first version always used
    with written_whole(target) as one, written_whole(target) as two:
        assert one != two and one.parent == two.parent == tmp_path
        one.write_text("one")
        two.write_text("two")
    assert victim.read_text() == "not houfu's" and target.read_text() == "one"


def test_a_partial_file_that_cannot_be_moved_into_place_is_removed(tmp_path):
    target = tmp_path / "d.lists.parquet"
    target.mkdir()  # something in the way: a folder of that name
    with pytest.raises(OSError), written_whole(target) as partial:
        partial.write_text("lists")
    assert _names(tmp_path) == ["d.lists.parquet"]


# --- a real run stopped while it writes a side file ----------------------------------------------------------------

def _stop_while_writing(monkeypatch, module, name: str, when=lambda path: True):
    """Make ``module.name`` (a writer taking a path) write a few bytes to its path and then stop, as Ctrl-C would."""
    def stopped(*a, **k):
        path = next(Path(x) for x in list(a) + list(k.values()) if isinstance(x, str | Path) and when(Path(x)))
        Path(path).write_bytes(b"half")
        raise KeyboardInterrupt
    monkeypatch.setattr(module, name, stopped)


@pytest.mark.parametrize("side", ["errors", "lists", "report", "changes"])
def test_a_run_stopped_while_writing_a_side_file_leaves_the_earlier_one_as_it_was(tmp_path, monkeypatch, side):
    out, report = tmp_path / "d.parquet", tmp_path / "r.html"
    _screen(tmp_path, tmp_path / "before.parquet")
    _screen(tmp_path, out, since=tmp_path / "before.parquet", report=report, bad_age=True)
    earlier = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    assert {"d.errors.csv", "d.lists.parquet", "r.html", "r.changes.csv"} <= set(earlier)
    if side == "errors":
        class Stopped:
            def __init__(self, fh):
                self.fh = fh

            def writerow(self, row):
                self.fh.write("half")
                raise KeyboardInterrupt

        monkeypatch.setattr(csv, "writer", Stopped)
    elif side == "lists":
        _stop_while_writing(monkeypatch, pq, "write_table")
    elif side == "report":
        original = Path.write_text

        def write_text(self, text, *a, **k):
            if "r.html" not in self.name:
                return original(self, text, *a, **k)
            original(self, text[:100], *a, **k)
            raise KeyboardInterrupt
        monkeypatch.setattr(Path, "write_text", write_text)
    else:
        _stop_while_writing(monkeypatch, pcsv, "write_csv", lambda p: "changes" in p.name)
    with pytest.raises(KeyboardInterrupt):
        _screen(tmp_path, out, since=tmp_path / "before.parquet", report=report, bad_age=True)
    kept = {"errors": "d.errors.csv", "lists": "d.lists.parquet", "report": "r.html", "changes": "r.changes.csv"}[side]
    assert (tmp_path / kept).read_bytes() == earlier[kept]
    assert [p for p in _names(tmp_path) if p.endswith(".partial")] == []


# --- the errors file ------------------------------------------------------------------------------------------------

def test_a_run_that_rejects_no_row_removes_the_errors_file_an_earlier_run_left(tmp_path):
    out = tmp_path / "d.parquet"
    first = _screen(tmp_path, out, bad_age=True)
    errors = tmp_path / "d.errors.csv"
    assert first.errors_path == errors and "-3" in errors.read_text(encoding="utf-8-sig")
    second = _screen(tmp_path, out)
    assert second.totals.rejected == 0 and second.errors_path is None
    assert not errors.exists()


def test_a_file_at_the_errors_path_that_is_no_errors_file_is_left_alone(tmp_path):
    notes = tmp_path / "notes.csv"
    notes.write_text("户编号,备注\nh1,搬迁后第二年\n", encoding="utf-8")
    got = _screen(tmp_path, tmp_path / "d.parquet", errors=notes)
    assert got.errors_path is None and notes.read_text(encoding="utf-8") == "户编号,备注\nh1,搬迁后第二年\n"


# --- a run writes over nothing it reads ----------------------------------------------------------------------------

@pytest.mark.parametrize("case", ["errors on the determinations", "default errors on the members",
                                  "errors on the --since file", "lists on the caseload", "determinations on the caseload",
                                  "report on the determinations"])
def test_a_run_refuses_to_write_over_a_file_it_reads_or_writes_and_touches_nothing(tmp_path, case):
    h, m = _caseload(tmp_path)
    _screen(tmp_path, tmp_path / "before.parquet")
    out, errors, report, since = tmp_path / "d.csv", None, None, None
    if case == "errors on the determinations":
        errors = out
    elif case == "default errors on the members":
        m = m.rename(tmp_path / "d.errors.csv")
        out = tmp_path / "d.parquet"
    elif case == "errors on the --since file":
        errors, since = tmp_path / "before.parquet", tmp_path / "before.parquet"
    elif case == "lists on the caseload":
        h = h.rename(tmp_path / "d.lists.parquet")
        out = tmp_path / "d.parquet"
    elif case == "determinations on the caseload":
        out = h
    else:
        out, report = tmp_path / "o.xlsx", tmp_path / "o.xlsx"
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    with pytest.raises(TableError, match="would be written over .*; give another name"):
        run_module.screen_files(houfu.load(), houfu.evaluator(), h, m, None, None, "household", AS_OF, out, report,
                                errors, since=since)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_the_cli_refuses_errors_over_the_caseload_with_one_line_and_exit_2(tmp_path):
    h, m = _caseload(tmp_path)
    before = h.read_bytes()
    got = CliRunner().invoke(main, ["screen", str(h), "--members", str(m), "--errors", str(h), "--as-of",
                                    "2026-01-01", "-q"])
    assert got.exit_code == 2, got.output
    assert got.output.strip().splitlines()[-1] == (f"Error: {h}: -: the errors file would be written over the "
                                                   "caseload; give another name")
    assert h.read_bytes() == before


def test_dask_refuses_determinations_over_its_caseload_before_a_cluster_starts(tmp_path):
    h, m = _caseload(tmp_path)
    before = h.read_bytes()
    got = CliRunner().invoke(main, ["screen", str(h), "--members", str(m), "-o", str(h), "--dask", "local",
                                    "--as-of", "2026-01-01", "-q"])
    assert got.exit_code == 2, got.output
    assert "the determinations would be written over the caseload" in got.output and h.read_bytes() == before


# --- the lists, the measures table and the determinations belong together ------------------------------------------

def test_the_determinations_their_measures_and_their_lists_carry_one_run_token(tmp_path):
    out = tmp_path / "d.parquet"
    got = _screen(tmp_path, out)
    token = run_of(out)
    assert token == got.totals.run and token is not None
    assert run_of(run_module.members_file(out)) == run_of(tmp_path / "d.measures.parquet") == token
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
    fine = _screen(tmp_path, tmp_path / "d3.parquet", since=tmp_path / "d2.parquet")
    assert fine.changes is not None and fine.changes.lists_note is None and fine.changes.lists != []


def test_since_compares_the_lists_when_this_run_replaces_the_since_file(tmp_path):
    """-o d.parquet --since d.parquet: last month's file, this month's name. Its lists are read before it is
    replaced (the first version of the token read them after, and never compared them)."""
    out = tmp_path / "d.parquet"
    _screen(tmp_path, out)
    got = _screen(tmp_path, out, since=out)
    assert got.changes is not None and got.changes.lists_note is None and got.changes.lists != []


def test_since_a_csv_file_does_not_take_the_lists_another_run_wrote_beside_it(tmp_path):
    """A CSV file carries no token: the lists file records the size and time of the file it was written with. -o
    d.csv, then -o d.parquet (whose lists file is d.lists.parquet too), then --since d.csv."""
    _screen(tmp_path, tmp_path / "d.csv")
    fine = _screen(tmp_path, tmp_path / "e.parquet", since=tmp_path / "d.csv")
    assert fine.changes is not None and fine.changes.lists_note is None
    _screen(tmp_path, tmp_path / "d.parquet")
    got = _screen(tmp_path, tmp_path / "f.parquet", since=tmp_path / "d.csv")
    assert got.changes is not None
    assert got.changes.lists_note == "d.lists.parquet: not the one written with d.csv; the lists are not compared"


def test_a_measures_table_of_another_run_is_refused_not_used_to_name_the_missing_facts(tmp_path):
    _screen(tmp_path, tmp_path / "a.parquet")
    _screen(tmp_path, tmp_path / "b.parquet")
    os.replace(tmp_path / "b.measures.parquet", tmp_path / "a.measures.parquet")
    with pytest.raises(ValueError, match="a.measures.parquet is not the measures table written with a.parquet"):
        read_long(tmp_path / "a.parquet")
    with pytest.raises(TableError, match="not the measures table written with"):
        _screen(tmp_path, tmp_path / "c.parquet", since=tmp_path / "a.parquet")


# --- no household screened -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_a_run_that_screens_no_household_writes_no_determinations_and_leaves_the_earlier_file(tmp_path, suffix):
    out = tmp_path / f"d{suffix}"
    _screen(tmp_path, out)
    earlier = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("d.")}
    got = _screen(tmp_path, out, all_bad=True)
    assert got.totals.screened == 0 and got.output is None and not got.totals.written
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("d.") and "errors" not in p.name} \
        == earlier  # the determinations, their measures and lists: the earlier run's, untouched
    assert (tmp_path / "d.errors.csv").exists()  # why: every row is in it
    h, m = tmp_path / "h.parquet", tmp_path / "m.parquet"
    cli = CliRunner().invoke(main, ["screen", str(h), "--members", str(m), "-o", str(out), "--as-of", "2026-01-01"])
    assert f"no household screened, so {out} was not written" in cli.output


# --- after the second review ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_a_run_stopped_while_its_determinations_are_flushed_leaves_the_earlier_pair_and_no_partial(tmp_path,
                                                                                                    monkeypatch,
                                                                                                    suffix):
    """The determinations and their measures table are flushed, then moved back to back: stopped at the last
    flush, last month's pair stands (the first fix moved the measures table first, and a stop there left last
    month's determinations unreadable beside this month's measures)."""
    out = tmp_path / f"d{suffix}"
    _screen(tmp_path, out)
    earlier = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("d.")}
    flushed = []
    real = os.fsync

    def fsync(fd):
        flushed.append(fd)
        if len(flushed) == 2:  # the determinations' own flush, after the measures table's
            raise KeyboardInterrupt
        return real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    with pytest.raises(KeyboardInterrupt):
        _screen(tmp_path, out)
    monkeypatch.setattr(os, "fsync", real)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("d.")} == earlier
    assert [p for p in _names(tmp_path) if p.endswith(".partial")] == []
    assert read_long(out).num_rows > 0  # still readable, with its own measures table


def test_the_data_requests_and_the_worklists_may_not_share_a_folder(tmp_path):
    h, m = _caseload(tmp_path)
    folder = tmp_path / "out"
    folder.mkdir()
    with pytest.raises(TableError, match="the worklists' folder would be written over the data requests' folder"):
        run_module.screen_files(houfu.load(), houfu.evaluator(), h, m, None, None, "household", AS_OF,
                                tmp_path / "d.parquet", None, None, requests=folder, worklists=folder)
    assert list(folder.iterdir()) == []


def test_since_a_csv_file_copied_elsewhere_still_compares_its_lists(tmp_path):
    """A copy keeps a file's bytes, not its time: the lists file records the size and sha256 of a CSV file."""
    import shutil

    _screen(tmp_path, tmp_path / "d.csv")
    archive = tmp_path / "archive"
    archive.mkdir()
    for name in ("d.csv", "d.lists.parquet", "d.measures.csv"):
        shutil.copy(tmp_path / name, archive / name)  # new times
    got = _screen(tmp_path, tmp_path / "e.parquet", since=archive / "d.csv")
    assert got.changes is not None and got.changes.lists_note is None and got.changes.lists != []


def test_suggest_columns_refuses_to_write_over_the_members_file(tmp_path):
    h, m = _caseload(tmp_path)
    before = m.read_bytes()
    got = CliRunner().invoke(main, ["screen", str(h), "--members", str(m), "--suggest-columns", str(m)])
    assert got.exit_code == 2, got.output
    assert "the suggested mapping would be written over the members file" in got.output and m.read_bytes() == before


@pytest.mark.parametrize("kind", ["csv", "jsonl"])
def test_the_service_answers_the_summary_when_no_household_is_screened_and_a_file_was_asked(tmp_path, kind):
    import base64

    from fastapi.testclient import TestClient

    from houfu.records.store import RecordStore, Users, default_url
    from houfu.web.service import create_app

    store = RecordStore(default_url(tmp_path / "data"))
    Users(store).add("li", "supervisor-pw", "supervisor")
    auth = {"authorization": "Basic " + base64.b64encode(b"li:supervisor-pw").decode()}
    app = create_app(houfu.load(), houfu.evaluator(), store, dev=False, secret="side")
    with TestClient(app, base_url="https://testserver") as c:
        r = c.post(f"/v1/screen?as_of=2026-01-01&determinations={kind}", headers=auth,
                   files={"caseload": ("h.csv", "户编号,所在县\nh1,定南县\n".encode()),
                          "members": ("m.csv", "户编号,年龄\nh1,-3\n".encode())})
    store.close()
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/json")
    assert (r.json()["screened"], r.json()["rejected"]) == (0, 1) and r.json()["error_groups"]


@pytest.mark.parametrize("signum, code", [("SIGTERM", 143), ("SIGINT", 130)])
def test_a_signal_between_the_two_moves_waits_until_both_are_done(tmp_path, signum, code):
    """SIGTERM or Ctrl-C taken by another of the run's threads just after the measures table is moved into place:
    the determinations are moved too, then the program stops as the signal says (a mask on the main thread alone
    let the signal through there, a review found, leaving last month's determinations beside this run's
    measures)."""
    import subprocess
    import sys

    h, m = _caseload(tmp_path)
    out = tmp_path / "d.parquet"
    _screen(tmp_path, out)
    code_text = f"""
import os, signal, threading, time
idle = threading.Event()
other = threading.Thread(target=idle.wait, daemon=True)
other.start()
replace = os.replace
def moved(src, dst):
    replace(src, dst)
    if str(dst).endswith(".measures.parquet"):
        signal.pthread_kill(other.ident, signal.{signum})  # the kernel's choice of thread, made for it
        time.sleep(0.2)
os.replace = moved
import sys
sys.argv = ["houfu", "screen", {str(h)!r}, "--members", {str(m)!r}, "-o", {str(out)!r}, "--as-of", "2026-01-01"]
from houfu.cli.commands import run
run()
"""
    env = {**os.environ, "HOUFU_LOG_DIR": str(tmp_path / "logs")}
    p = subprocess.run([sys.executable, "-c", code_text], capture_output=True, text=True, timeout=120, env=env)
    assert p.returncode == code, p.stderr
    assert run_of(out) == run_of(tmp_path / "d.measures.parquet") and read_long(out).num_rows > 0
    assert [p for p in _names(tmp_path) if p.endswith(".partial")] == []
