"""``houfu screen`` from end to end: files in; determinations, rejected rows, data requests and the report out.

The screener (houfu.screen.screener) decides; this module reads the files, runs it (in parts for a Parquet
caseload, with a progress bar on the terminal), writes what the user asked for and returns the run. It is the one
module of the room that imports the summary and the report, so the room's modules run one way:
run > caseload_report > summary > screener.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from houfu.engine.evaluator import Evaluator
from houfu.io.files import refuse_overlaps, written_whole
from houfu.io.limits import LIMITS, TableError, TableLimits
from houfu.io.mapping import ColumnSpec, spec_for
from houfu.io.notes import Note, errors_header
from houfu.io.tables import ColumnFate, check_parquet
from houfu.kb.clocks import CaseClock, case_clocks, load_county_clocks
from houfu.kb.loader import KB
from houfu.screen.caseload_report import RequestFiles, write_report
from houfu.screen.determinations import RUN_KEY, measures_path, run_of
from houfu.screen.screener import ScreenRun, ScreenTotals, screen, screen_stream
from houfu.screen.summary import (
    ChangeSummary,
    TrackerSummary,
    change_summary,
    compare_determinations,
    list_changes,
    summarize,
)
from houfu.screen.worklists import WorklistFiles, clock_record, overdue_by_department, track_list

if TYPE_CHECKING:  # the records store (SQLAlchemy: 0.2 s of imports) only when a screen keeps its run in one
    from houfu.records.store import RecordStore

__all__ = ["peak_rss_mb", "progress_bar", "screen_files"]


def peak_rss_mb() -> int:
    """This process's peak resident memory. VmHWM where Linux has it: ru_maxrss is carried across exec, so
    it can report the parent's pages for a process started from a large one."""
    import re

    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            found = re.search(r"VmHWM:\s+(\d+)", fh.read())
        if found:
            return int(found.group(1)) // 1024
    except OSError:
        pass
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def _streamable(entity: str, caseload: Path, members: Path | None, businesses: Path | None) -> bool:
    """Whether a caseload is read in parts (``screen_stream``): households with their members, all in Parquet.
    Anything else is read whole and decided in chunks."""
    return entity == "household" and members is not None and all(
        p is None or p.suffix.lower() == ".parquet" for p in (caseload, members, businesses))


def screen_files(kb: KB, evaluator: Evaluator, caseload: Path, members: Path | None, businesses: Path | None,
                 encoding: str | None, entity: str, as_of: dt.date, output: Path | None, report: Path | None,
                 errors_path: Path | None, lang: str = "zh",
                 progress: Callable[[int, Callable[[Callable[[int], None] | None], ScreenTotals]], ScreenTotals]
                 | None = None, workers: int = 1, columns: Path | None = None, jurisdiction: str | None = None,
                 limits: TableLimits = LIMITS, requests: Path | None = None, worklists: Path | None = None,
                 clocks: Path | None = None, store: RecordStore | None = None, user: str = "-",
                 since: Path | str | None = None, all_rows: bool = False, long: bool = False) -> ScreenRun:
    """Files in, determinations, rejected rows, data requests (one XLSX per body, in ``requests``) and report
    out: what ``houfu screen`` does.

    ``columns`` is a county's mapping file over columns.yaml, ``jurisdiction`` the county of rows whose own
    columns (a county column, a site named in sites.yaml) do not say. The rejected rows are written in the
    user's language, as are the notes and the grouped errors of the run.

    ``clocks`` is a county's own clocks file (houfu.kb.clocks): with it, and with any clock the text sets, the
    determinations carry ``due_on`` and ``overdue``. ``worklists`` is a folder for one XLSX per department
    (houfu.screen.worklists); the run and the rows sent are kept in ``store`` under the run's screen id.

    ``since`` is an earlier determinations file, or the screen id of an earlier run kept in ``store`` (its
    determinations file, as the store recorded it, by sha256): the change list (summary.ChangeSummary) leads the
    report, every change is written as CSV beside the report (or the determinations), and the worklists keep only
    what is new (a household and measure whose status changed, and households that joined) unless ``all_rows``.

    The determinations are wide (one row per household, houfu.screen.determinations) with a measures table beside
    them, or one row per (household, measure) with ``long``."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="houfu-since-") as scratch:
        since_run: str | None = None
        if isinstance(since, str):
            since_run = since
            since = _screen_determinations(store, since_run)
        before = _read_determinations(since) if since is not None else None
        # Who was on each list then, read now: ``-o`` may name the --since file itself, which this run replaces.
        earlier_lists = _earlier_lists(since) if since is not None else None
        if before is not None and output is None:
            output_kept: Path | None = None
            output = Path(scratch) / "determinations.parquet"
        else:
            output_kept = output
        if before is not None and output is not None and output.suffix.lower() == ".xlsx":
            raise TableError(f"{output}: -: with --since the determinations are written as .parquet, .csv or .jsonl")
        return _screen_files(kb, evaluator, caseload, members, businesses, encoding, entity, as_of, output, report,
                             errors_path, lang, progress, workers, columns, jurisdiction, limits, requests, worklists,
                             clocks, store, user, since, before, all_rows, output_kept, since_run, long, earlier_lists)


def _screen_files(kb: KB, evaluator: Evaluator, caseload: Path, members: Path | None, businesses: Path | None,
                  encoding: str | None, entity: str, as_of: dt.date, output: Path | None, report: Path | None,
                  errors_path: Path | None, lang: str,
                  progress: Callable[[int, Callable[[Callable[[int], None] | None], ScreenTotals]], ScreenTotals]
                  | None, workers: int, columns: Path | None, jurisdiction: str | None, limits: TableLimits,
                  requests: Path | None, worklists: Path | None, clocks: Path | None, store: RecordStore | None,
                  user: str, since: Path | None, before: pa.Table | None, all_rows: bool, output_kept: Path | None,
                  since_run: str | None = None, long: bool = False,
                  earlier_lists: tuple[dict[str, tuple[set[str], set[str]]] | None, str | None] | None = None
                  ) -> ScreenRun:
    import csv

    from houfu.io.tables import check_content, load_caseload

    started = time.perf_counter()
    errors_path = errors_path or (output_kept.with_name(output_kept.stem + ".errors.csv") if output_kept is not None
                                  else None)
    # The determinations may replace the --since file (read whole above): last month's file, this month's name.
    writes = _written(output_kept, report, errors_path, since, requests, worklists)
    refuse_overlaps({"the caseload": caseload, "the members file": members, "the businesses file": businesses,
                     "the mapping file": columns, "the clocks file": clocks}, writes)
    if since is not None:
        refuse_overlaps({"the --since file": since}, {k: p for k, p in writes.items() if k != "the determinations"})
    for given in (caseload, members, businesses):
        if given is not None:
            check_content(given)
    spec = spec_for(kb, columns)
    if jurisdiction is not None:
        from houfu.kb.loader import FieldError
        from houfu.kb.query import resolve_jurisdiction

        try:
            jurisdiction = resolve_jurisdiction(kb, jurisdiction)
        except FieldError as exc:
            raise TableError(f"--jurisdiction: -: {exc.message}") from None
    streamable = _streamable(entity, caseload, members, businesses)
    totals: ScreenTotals | None = None
    notes: list[Note] = []
    fates: list[ColumnFate] = []
    tables: list[dict[str, Any]] = []
    item_rows: dict[str, tuple[int, int]] = {}
    asked = RequestFiles(kb, requests, entity, lang) if requests is not None else None
    timed = _clocks(kb, clocks)
    due = _due(timed, as_of)
    listing = WorklistFiles(kb, worklists, lang, due, timed) if worklists is not None and entity == "household" \
        else None
    if streamable:
        total = check_parquet(caseload, limits).metadata.num_rows
        said: list[Note] = list(spec.notes)

        def run_stream(step: Callable[[int], None] | None) -> ScreenTotals:
            return screen_stream(kb, evaluator, caseload, members, businesses, as_of, output, step, spec,
                                 jurisdiction, limits, said, asked, due, listing, long, workers)

        totals = progress(total, run_stream) if progress is not None else run_stream(None)
        item_rows, notes = totals.item_rows, said
        fates = _parquet_fates(spec, caseload, members, businesses)
        tables = [{"table": role, "source": str(p)} for role, p in
                  (("households", caseload), ("members", members), ("businesses", businesses)) if p is not None]
    if totals is None:
        loaded = load_caseload(kb, caseload, members, businesses, encoding, entity, spec, jurisdiction, limits)
        notes, item_rows, fates, tables = loaded.notes, loaded.item_rows, loaded.columns, loaded.tables

        def run(step: Callable[[int], None] | None) -> ScreenTotals:
            return screen(kb, evaluator, loaded, as_of, output, step, workers, asked, due, listing, long)

        totals = progress(loaded.n, run) if progress is not None else run(None)
    assert totals.rows_in == totals.screened + totals.rejected, "every input row is screened or rejected"
    if not totals.written:
        # No household screened, so no determinations were written: an earlier file at the path is left as it was,
        # and is neither named as this run's nor compared, nor given this run's (empty) lists.
        output = output_kept = None
    if errors_path is not None and totals.errors:
        with written_whole(errors_path) as partial, partial.open("w", encoding="utf-8-sig", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(errors_header(lang))
            w.writerows([e.file, e.row, e.column, e.text(lang)] for e in totals.errors)
    elif errors_path is not None and _is_errors_file(errors_path):
        # No row rejected: the errors file an earlier run left at this path would be read as this run's. Only a
        # file that reads as one is removed (its header); anything else there is left alone.
        errors_path.unlink()
    written = asked.close(totals) if asked is not None else {}
    result = ScreenRun(totals, output_kept, report, errors_path if totals.errors else None, notes, item_rows, fates,
                       tables, lang, requests, written)
    if since is not None and before is not None and output is not None:
        result.changes = _changes(kb, since, before, output, report or output_kept, lang, listing, all_rows, totals,
                                  store, since_run, earlier_lists)
    if output_kept is not None:
        _write_members(output_kept, totals)
    if listing is not None:
        result.screen_id, result.worklists, result.worklist_rows = _send_worklists(
            listing, store, user, caseload, members, businesses, totals, output_kept, timed)
        if store is not None:
            result.tracker = track_list(kb, store, as_of, timed.get("zero_employment"), lang=lang)
            result.overdue = overdue_by_department(kb, store, as_of, _still_open(output) if output else None, lang)
    if report is not None:
        write_report(kb, summarize(kb, result, lang), report)
    # From the first byte read to the report written: what a county waits for.
    totals.seconds = time.perf_counter() - started
    return result


def _read_determinations(path: Path) -> pa.Table:
    """An earlier determinations file (houfu screen -o: .parquet, .csv or .jsonl, wide or long): its household,
    measure, status and owners columns, one row per (household, measure)."""
    from houfu.screen.determinations import read_long

    need = ["household", "measure", "status", "owners"]
    kind = path.suffix.lower()
    if not path.is_file():
        raise TableError(f"{path}: -: no such file (--since names an earlier determinations file)")
    if kind not in (".parquet", ".csv", ".jsonl"):
        raise TableError(f"{path}: -: --since reads a determinations file of houfu screen -o (.parquet, .csv or "
                         ".jsonl)")
    try:
        got = read_long(path, need)
        if got.column_names != need:
            raise KeyError(", ".join(c for c in need if c not in got.column_names))
    except (OSError, pa.ArrowInvalid, KeyError, UnicodeDecodeError, ValueError) as exc:
        reason = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
        raise TableError(f"{path}: -: not a determinations file of houfu screen -o (household, measure, status, "
                         f"owners): {reason}") from None
    return got


def _written(output: Path | None, report: Path | None, errors: Path | None, since: Path | None,
             requests: Path | None = None, worklists: Path | None = None) -> dict[str, Path | None]:
    """Every file (and folder of files) a run writes or removes, by what it is."""
    from houfu.screen.caseload_report import CHART_NAMES

    out: dict[str, Path | None] = {"the determinations": output, "the report": report, "the errors file": errors,
                                   "the data requests' folder": requests, "the worklists' folder": worklists}
    if output is not None:
        out |= {"the lists file": members_file(output), "the measures table": measures_path(output)}
    if report is not None and report.suffix.lower() == ".md":
        out |= {f"the report's chart {name}": report.parent / f"{report.stem}-{name}.svg" for name in CHART_NAMES}
    beside = report or output
    if since is not None and beside is not None:
        out["the changes file"] = beside.with_name(beside.stem + ".changes.csv")
    return out


def _is_errors_file(path: Path) -> bool:
    """Whether the file at ``path`` reads as a houfu errors file (its header, in either language)."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            first = fh.readline(200).rstrip("\r\n")
    except (OSError, UnicodeDecodeError):
        return False
    return first in (",".join(errors_header("zh")), ",".join(errors_header("en")))


def members_file(determinations: Path) -> Path:
    """The file beside a determinations file that says who was on each of the report's lists."""
    return determinations.with_name(determinations.stem + ".lists.parquet")


def _write_members(output: Path, totals: ScreenTotals) -> None:
    import pyarrow.parquet as pq

    households: list[pa.Array] = []
    rows: dict[str, list[str]] = {"list": [], "group": []}
    for list_id, (yes, maybe) in totals.members.items():
        for group, parts in (("confirmed", yes), ("to_check", maybe)):
            households += [p.cast(pa.string()) for p in parts]
            n = sum(len(p) for p in parts)
            rows["list"] += [list_id] * n
            rows["group"] += [group] * n
    ids = pa.concat_arrays(households) if households else pa.array([], pa.string())
    table = pa.table({"household": ids, **{k: pa.array(v, pa.string()) for k, v in rows.items()}})
    with written_whole(members_file(output)) as partial:
        pq.write_table(table.replace_schema_metadata({RUN_KEY: totals.run.encode(), _WITH: _identity(output)}),
                       partial)


#: the lists file's record of the determinations file it was written with: its size and sha256 (a token's file: "token")
_WITH = b"houfu.determinations"


def _identity(determinations: Path) -> bytes:
    """Its size and sha256: what a copy keeps (a Parquet file's run token says as much, and costs nothing)."""
    if run_of(determinations) is not None:
        return b"token"
    return f"{determinations.stat().st_size} {_sha256(determinations)}".encode()


def _sha256(path: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _written_with(recorded: bytes, since: Path) -> bool:
    size, _, digest = recorded.decode("ascii", "replace").partition(" ")
    return size == str(since.stat().st_size) and digest == _sha256(since)  # the size first: cheap to refuse


def _earlier_lists(since: Path) -> tuple[dict[str, tuple[set[str], set[str]]] | None, str | None]:
    """Who was on each list at an earlier run, from the lists file beside its determinations (``since``), or None and
    why not. A run stopped after its determinations were moved into place and before its lists were written leaves
    the lists of the run before beside them: the lists file is taken only if it was written with these
    determinations (a Parquet file's run token; else the size and sha256 the determinations file had then: both
    kept by a copy, which a file's time is not). A lists file of a houfu that recorded neither is taken beside
    determinations that carry no token."""
    import pyarrow.parquet as pq

    path = members_file(since)
    if not path.exists():
        return None, "not found beside"
    try:
        meta = pq.read_schema(path).metadata or {}
    except (OSError, pa.ArrowInvalid):
        return None, "not a lists file written with"
    want = run_of(since)
    if want is not None:
        same = meta.get(RUN_KEY) == want.encode()
    elif _WITH in meta:
        same = _written_with(meta[_WITH], since)
    else:
        same = RUN_KEY not in meta
    if not same:
        return None, "not the one written with"
    try:
        return _read_members(path), None
    except (OSError, pa.ArrowInvalid, KeyError):
        return None, "not a lists file written with"


def _read_members(path: Path) -> dict[str, tuple[set[str], set[str]]]:
    import pyarrow.parquet as pq

    out: dict[str, tuple[set[str], set[str]]] = {}
    for r in pq.read_table(path).to_pylist():
        out.setdefault(r["list"], (set(), set()))[0 if r["group"] == "confirmed" else 1].add(r["household"])
    return out


def _screen_determinations(store: RecordStore | None, screen_id: str) -> Path:
    """The determinations file an earlier screen run wrote, as the records store recorded it: refused in one line
    if the run is not in the store, kept none, or the file is gone or no longer the one it wrote (sha256)."""
    import hashlib

    run = store.screen(screen_id) if store is not None else None
    if run is None:
        raise TableError(f"--since: -: {screen_id} is not a screen run in this records store (--data-dir, "
                         "--database); give an earlier determinations file instead")
    kept = run.summary.get("determinations") if isinstance(run.summary, dict) else None
    if not kept:
        raise TableError(f"--since: -: screen {screen_id} kept no determinations file (it was run without -o); "
                         "give an earlier determinations file instead")
    path = Path(kept["path"])
    if not path.is_file():
        raise TableError(f"{path}: -: screen {screen_id} wrote its determinations here, and the file is gone")
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    if digest.hexdigest() != kept["sha256"]:
        raise TableError(f"{path}: -: not the determinations file screen {screen_id} wrote (its sha256 differs)")
    return path


def _still_open(output: Path) -> Callable[[set[tuple[str, str]]], set[tuple[str, str]]]:
    """Which of some (household, measure) cases this screen's determinations find open (applies or undetermined)."""
    def check(pairs: set[tuple[str, str]]) -> set[tuple[str, str]]:
        import pyarrow.compute as pc

        now = _read_determinations(output)
        now = now.filter(pc.is_in(now.column("status").cast(pa.string()),
                                  value_set=pa.array(["applies", "undetermined"])))
        key = pc.binary_join_element_wise(now.column("household").cast(pa.string()),
                                          now.column("measure").cast(pa.string()), "\x1f")
        asked = pa.array(sorted(f"{h}\x1f{m}" for h, m in pairs), pa.string())
        found = pc.filter(key, pc.is_in(key, value_set=asked)).to_pylist()
        return {(h, m) for h, _, m in (k.partition("\x1f") for k in found)}
    return check


def _changes(kb: KB, since: Path, before: pa.Table, output: Path, beside: Path | None, lang: str,
             listing: WorklistFiles | None, all_rows: bool, totals: ScreenTotals, store: RecordStore | None = None,
             since_run: str | None = None,
             earlier_lists: tuple[dict[str, tuple[set[str], set[str]]] | None, str | None] | None = None
             ) -> ChangeSummary:
    """Compare the run's determinations with the earlier ones; write every change as CSV beside the report (or the
    determinations); limit the worklists to what is new unless ``all_rows``."""
    import pyarrow.compute as pc
    import pyarrow.csv as pcsv

    now = _read_determinations(output)
    changes, joined, left = compare_determinations(before, now)
    file = None
    if beside is not None:
        path = beside.with_name(beside.stem + ".changes.csv")
        with written_whole(path) as partial:
            pcsv.write_csv(changes, partial)
        file = str(path)
    if listing is not None and not all_rows:
        keys = pc.binary_join_element_wise(changes.column("household"), changes.column("measure"), "\x1f")
        listing.keep = (set(keys.to_pylist()), set(joined))
    got = change_summary(kb, since_run or since.name, changes, joined, left, lang, file)
    # Who was on each list then: the run's sightings in the store (a screen id), else the file beside it.
    was = _kept_members(kb, store, since_run) if since_run is not None and store is not None else None
    if was is None:
        was, why = earlier_lists if earlier_lists is not None else _earlier_lists(since)
        if was is None:
            return got.model_copy(update={"lists_note": f"{members_file(since).name}: {why} {since.name}; the lists "
                                                         "are not compared"})
    return got.model_copy(update={"lists": list_changes(kb, was, totals.list_members(), set(left), lang)})


def _kept_members(kb: KB, store: RecordStore, screen_id: str) -> dict[str, tuple[set[str], set[str]]] | None:
    """Who was on each list in a screen run kept in the store (None if it kept none)."""
    out = {}
    for item in kb.lists:
        for run, _, yes, maybe in store.sightings(item.id):
            if run == screen_id:
                out[item.id] = (yes, maybe)
    return out or None


def list_tracker(kb: KB, store: RecordStore, as_of: dt.date, list_id: str, clocks: Path | None, lang: str
                 ) -> TrackerSummary | None:
    """The tracker of a list (houfu worklist tracker), timed by a county's clocks file if given."""
    return track_list(kb, store, as_of, _clocks(kb, clocks).get(list_id), list_id, lang)


def _clocks(kb: KB, path: Path | None) -> dict[str, CaseClock]:
    """Every measure's clock: the text's, and a county's own rules from ``path``."""
    from houfu.kb.loader import FieldError

    county = None
    if path is not None:
        try:
            county = load_county_clocks(kb, path)
        except FieldError as exc:
            raise TableError(f"{path}: {exc.field}: {exc.message}") from None
    return case_clocks(kb, county)


def _due(clocks: dict[str, CaseClock], as_of: dt.date) -> dict[str, dt.date]:
    """Each timed measure's due date for a case listed on ``as_of``; a working day past the calendar's data is an
    error (never a guess)."""
    from houfu.engine.periods import CalendarError, due_on

    out = {}
    for mid, c in clocks.items():
        try:
            out[mid] = due_on(c.clock, as_of)
        except CalendarError as exc:
            raise TableError(f"--clocks: {mid}: {exc}") from None
    return out


def _send_worklists(listing: WorklistFiles, store: RecordStore | None, user: str, caseload: Path,
                    members: Path | None, businesses: Path | None, totals: ScreenTotals,
                    determinations: Path | None = None, clocks: dict[str, CaseClock] | None = None
                    ) -> tuple[str, dict[str, str], int]:
    """Write the worklists under a new screen id, and keep the run and the rows sent in the store, with the
    determinations file it wrote (where, and its sha256: ``--since SCREEN_ID`` reads it back) and the clocks of the
    report's lists (the tracker's)."""
    import hashlib
    import uuid

    from houfu.engine.evaluator import HOUFU_VERSION

    screen_id = uuid.uuid4().hex
    as_of = totals.as_of
    written, lists = listing.close(screen_id, as_of)
    if store is not None:
        files = []
        for role, p in (("households", caseload), ("members", members), ("businesses", businesses)):
            if p is not None:
                data = p.read_bytes()
                files.append({"role": role, "name": p.name, "bytes": len(data),
                              "sha256": hashlib.sha256(data).hexdigest()})
        kept: dict[str, Any] = {"status_counts": {k: dict(v) for k, v in totals.status_counts.items()},
                                "worklists": {b: Path(p).name for b, p in written.items()}}
        if determinations is not None and determinations.is_file():
            digest = hashlib.sha256()
            with determinations.open("rb") as fh:
                while chunk := fh.read(1 << 20):
                    digest.update(chunk)
            kept["determinations"] = {"path": str(determinations.resolve()), "sha256": digest.hexdigest()}
        # The earliest due date on the lists: the report's overdue rows skip a run with none past yet.
        kept["due_first"] = min((x["due_on"] for rows in lists.values() for x in rows if x["due_on"] is not None),
                                default=None)
        kept["clocks"] = {k: clock_record(c) for k, c in (clocks or {}).items()
                          if k in {item.id for item in listing.kb.lists}}
        store.add_screen(user, as_of, totals.kb_version, HOUFU_VERSION, files, totals.rows_in, totals.screened,
                         totals.rejected, kept, screen_id=screen_id)
        store.add_worklists(screen_id, lists)
        store.add_sightings(screen_id, as_of, totals.list_members())
    return screen_id, written, sum(len(x) for x in lists.values())


def _parquet_fates(spec: ColumnSpec, caseload: Path, members: Path | None, businesses: Path | None
                   ) -> list[ColumnFate]:
    """Every column of a Parquet caseload read in parts, and what became of it (from the files' schemas)."""
    import pyarrow.parquet as pq

    from houfu.io.tables import column_fates

    out: list[ColumnFate] = []
    for path, level in ((caseload, "household"), (members, "member"), (businesses, "entity")):
        if path is not None:
            names = pq.ParquetFile(path).schema_arrow.names
            out += column_fates(spec, level, None, names, str(path), sample=False)[1]
    return out


def progress_bar(total: int, run: Callable[[Callable[[int], None] | None], ScreenTotals]) -> ScreenTotals:
    """Run with a progress bar on stderr: households done, households per second, time left."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeRemainingColumn,
    )

    with Progress(TextColumn("screening"), BarColumn(), TaskProgressColumn(),
                  TextColumn("{task.completed:,.0f} households · {task.fields[rate]}/s"), TimeRemainingColumn(),
                  console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("screen", total=total, rate="-")
        start = time.perf_counter()

        def step(k: int) -> None:
            done = bar.tasks[0].completed + k
            bar.update(task, advance=k, rate=f"{int(done / max(1e-9, time.perf_counter() - start)):,}")

        return run(step)
