"""The ``houfu`` command line: one click group, one call into kb/engine per command."""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import gc
import json
import os
import re
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
from pydantic import BaseModel

from houfu.engine.evaluator import Evaluator, evaluator_for
from houfu.engine.results import EngineFailure, Report
from houfu.kb import query
from houfu.kb.facts import Household, Site
from houfu.kb.loader import KB, FieldError, KBError, load, load_default
from houfu.present import render

if TYPE_CHECKING:  # networkx costs 60 ms at start-up; only the graph commands need it
    from houfu.kb.graph import Graph
from houfu.authoring.schemas import dump_json, schema_for, write_kb_schemas
from houfu.io.batch import determine_file
from houfu.io.inputs import InputError, Records, parse_record, read_records
from houfu.io.reader import ReadError, safe_text

F = TypeVar("F", bound=Callable[..., Any])
R = TypeVar("R", Household, Site)


class BadInput(click.ClickException):
    exit_code = 2


def _kb(ctx: click.Context) -> KB:
    obj = ctx.find_root().obj
    if "kb" not in obj:
        try:
            obj["kb"] = load(obj["policies"]) if obj.get("policies") else load_default()
        except KBError as exc:
            raise click.ClickException(str(exc)) from None
    kb: KB = obj["kb"]
    return kb


def _evaluator(ctx: click.Context) -> Evaluator:
    try:
        return evaluator_for(_kb(ctx))
    except KBError as exc:
        raise click.ClickException(str(exc)) from None


def _jsonable(data: Any) -> Any:
    if isinstance(data, BaseModel):
        return data.model_dump(mode="json")
    if isinstance(data, list):
        return [_jsonable(d) for d in data]
    return data


def _emit(data: Any, as_json: bool, text: Callable[[Any], str]) -> None:
    if as_json:
        click.echo(json.dumps(_jsonable(data), ensure_ascii=False, indent=2, default=str))
    else:
        click.echo(text(data))


def json_option(f: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")(f)


def as_of_option(f: F) -> F:
    return click.option("--as-of", type=click.DateTime(["%Y-%m-%d"]), default=None,
                        help="Evaluate as on this date (YYYY-MM-DD); documents issued later are left out. "
                             "Default: today.")(f)


def _date(value: dt.datetime | None) -> dt.date | None:
    return value.date() if value else None


class HoufuGroup(click.Group):
    """The one top-level handler: an unexpected error is one line and a log file, exit 3, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            ctx.exit(130)
        except Terminated:
            click.echo("terminated", err=True)
            ctx.exit(143)
        except BrokenPipeError as exc:
            if exc.errno != errno.EPIPE:  # not a reader that stopped reading: click would show a traceback
                log = _log_traceback()
                click.echo(f"internal error: BrokenPipeError: {safe_text(str(exc))[:200]}; please report it "
                           f"(details in {log})", err=True)
                ctx.exit(3)
            # The reader stopped reading (``houfu kb stats | head``): not houfu's error, so no log. click's own
            # handler ends the run quietly, as it does for a pipe closed after the command returned.
            raise
        except Exception as exc:  # noqa: BLE001 - the last line of defence: log it, say it plainly
            log = _log_traceback()
            click.echo(f"internal error: {type(exc).__name__}: {safe_text(str(exc))[:200]}; please report it "
                       f"(details in {log})", err=True)
            ctx.exit(3)


def _log_traceback() -> Path:
    import tempfile
    import traceback

    folder = Path(os.environ.get("HOUFU_LOG_DIR") or Path(tempfile.gettempdir()) / "houfu")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"error-{dt.datetime.now():%Y%m%d-%H%M%S}-{os.getpid()}.log"
    path.write_text(traceback.format_exc(), encoding="utf-8")
    return path


class Terminated(BaseException):  # noqa: N818 - a signal, as KeyboardInterrupt is, not an error
    """SIGTERM (a service manager stopping the program, a job's timeout), raised in the main thread as Ctrl-C's
    KeyboardInterrupt is, so that a command lets go of what it holds on the way out: a screen's temporary folders
    (a million households' members split by part are 118 MB) were left behind (issue 25's review)."""


def _terminate(signum: int, frame: Any) -> None:
    import signal

    # Once: a second SIGTERM while the first is let go of would break off the letting go (a pool's workers then
    # waited for ever on a task that never came). A service manager that will not wait sends SIGKILL.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise Terminated


#: True in the ``houfu`` program's own process (``run``), not where ``main`` is invoked inside another program (a
#: notebook, click's CliRunner): only then may a command change what the whole process does
#: (``arrow_without_pandas``)
_OWN_PROCESS = False


def run() -> None:
    """The ``houfu`` program (and ``python -m houfu``): ``main`` in a process of its own."""
    global _OWN_PROCESS
    _OWN_PROCESS = True
    import signal

    signal.signal(signal.SIGTERM, _terminate)  # houfu serve's uvicorn sets its own while it serves
    # What the imports made lives as long as the program: moved out of the cyclic collector's reach, so neither the
    # command's collections nor the last one at exit walk it again (with the imports made without the collector,
    # houfu/cli/__init__.py: a cold `houfu check` 0.27 -> 0.23 s, issue 25). Here, in houfu's own process only: a
    # program that imports houfu keeps its objects collectable.
    gc.freeze()
    main()


@click.group(cls=HoufuGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--policies", type=click.Path(file_okay=False, path_type=Path), envvar="HOUFU_POLICIES",
              help="Knowledge-base folder (default: the installed policies).")
@click.version_option(package_name="houfu")
@click.pass_context
def main(ctx: click.Context, policies: Path | None) -> None:
    """houfu (后扶): post-relocation follow-up support policy as code.

    \b
    Example:
      houfu check examples/dingnan-household.yaml
      houfu site examples/shiyan-site.yaml --json
    """
    ctx.obj = {"policies": policies}


# --- knowledge base ----------------------------------------------------------


@main.group("kb")
def kb_group() -> None:
    """Inspect and validate the knowledge base."""


@kb_group.command("validate")
@json_option
@click.pass_context
def kb_validate(ctx: click.Context, as_json: bool) -> None:
    """Check every quote, id, responsibility list, number and calculator against the sources.

    \b
    Example:
      houfu kb validate
      houfu --policies ./my-policies kb validate --json
    """
    from houfu.engine.calculators import check_calculators, load_calculators
    from houfu.kb.validate import validate

    kb = _kb(ctx)
    try:
        errors = validate(kb) + check_calculators(kb, load_calculators(kb))
    except KBError as exc:  # a calculators.py that cannot be imported
        errors = validate(kb) + [exc]
    data = {"ok": not errors, "kb_version": kb.version,
            "errors": [{"file": e.file, "key": e.key, "message": e.message} for e in errors]}
    _emit(data, as_json, lambda d: render.validate_text(errors, query.stats(kb)))
    if errors:
        ctx.exit(1)


@kb_group.command("scaffold")
@click.argument("scraped", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--id", "doc_id", required=True, help="The new document's id, e.g. xinfeng-2024 (its folder's name).")
@click.option("--jurisdiction", help="The issuing jurisdiction's id in policies/jurisdictions.yaml (scopes body names).")
@click.option("--prefix", help="Clause id prefix, e.g. xf (default: from the id and its year, ya21 for yaoan-2021; never one another document uses).")
@click.option("-o", "--out", "out_root", type=click.Path(file_okay=False, path_type=Path),
              help="Where to write <id>/ (default: the policy folder in use).")
@click.option("--force", is_flag=True, help="Write over a folder that already holds files.")
@click.option("--encoding", help="The page's text encoding (default: detected; UTF-8, UTF-16 with a BOM, GBK/GB18030, "
                                 "as many government sites serve); the draft is written in UTF-8.")
@json_option
@click.pass_context
def kb_scaffold(ctx: click.Context, scraped: Path, doc_id: str, jurisdiction: str | None, prefix: str | None,
                out_root: Path | None, force: bool, encoding: str | None, as_json: bool) -> None:
    """Draft a new document's folder from its scraped web page, for a person to finish.

    Splits the clauses by their numbering (一、 (一) 1. (1) ① 一是), reads each responsibility list body by
    body, drafts a parameter for every number and a measure for every sentence, and proposes the page's
    chrome and repairs for the scrape's damage. Every guess is marked `draft: true`; `houfu kb validate`
    lists each as a TODO until it is reviewed. docs/ingest.md walks through the rest.

    \b
    Example:
      houfu kb scaffold page.txt --id xinfeng-2024 --jurisdiction xinfeng
      houfu kb scaffold page.txt --id xinfeng-2024 -o /tmp/drafts --json
    """
    from houfu.authoring.scaffold import PrefixTaken, scaffold

    if not re.fullmatch(r"[a-z][a-z0-9-]{1,40}", doc_id):
        raise BadInput(f"--id: -: {doc_id!r}: lower-case letters, digits and hyphens, e.g. xinfeng-2024")
    kb = _kb(ctx)
    if jurisdiction is not None and jurisdiction not in kb.jurisdictions:
        raise BadInput(f"--jurisdiction: -: unknown jurisdiction {jurisdiction!r}; add it to jurisdictions.yaml first")
    try:
        result = scaffold(scraped, doc_id, out_root or kb.folder, kb, jurisdiction, prefix, force, encoding)
    except FileNotFoundError:
        raise BadInput(f"{scraped}: -: no such file") from None
    except ReadError as exc:
        raise BadInput(f"{scraped}: {exc.field}: {exc.message}") from None
    except FileExistsError as exc:
        raise BadInput(f"{doc_id}: -: {exc}") from None
    except PrefixTaken as exc:
        raise BadInput(f"{doc_id}: {exc}") from None
    data = {"folder": str(result.folder), "clauses": result.clauses, "measures": result.measures,
            "parameters": result.parameters, "bodies_listed": result.bodies_listed,
            "bodies_unknown": result.bodies_unknown, "chrome": result.chrome, "repairs": result.repairs,
            "lines_written": result.lines_written, "todo": result.todo, "repairs_applied": result.repairs_applied}
    _emit(data, as_json, lambda d: "\n".join(
        [f"drafted {d['folder']}: {d['clauses']} clauses, {d['measures']} draft measures, {d['parameters']} "
         f"parameters, {d['bodies_listed']} bodies in responsibility lists ({len(d['bodies_unknown'])} unknown), "
         f"{d['chrome']} chrome lines and {d['repairs']} repairs proposed; "
         + ", ".join(f"{n} {k}" for k, n in d["lines_written"].items()) + " lines",
         *(["repairs applied to the draft's source.txt, each `draft: true` in document.yaml for you to keep or drop:"]
           if d["repairs_applied"] else []),
         *(f"  - {r['reason']}: {r['scraped']!r} -> {r['repaired']!r}" for r in d["repairs_applied"]),
         f"{len(d['todo'])} thing(s) to do (houfu kb validate lists them with every draft):"]
        + [f"  - {t}" for t in d["todo"]]))


@kb_group.command("stats")
@json_option
@click.pass_context
def kb_stats(ctx: click.Context, as_json: bool) -> None:
    """Counts per document: clauses, measures by force and subject, bodies.

    \b
    Example:
      houfu kb stats
    """
    _emit(query.stats(_kb(ctx)), as_json, render.stats_text)


@kb_group.command("show")
@click.argument("item_id")
@json_option
@click.pass_context
def kb_show(ctx: click.Context, item_id: str, as_json: bool) -> None:
    """Show a clause or measure with its source text, owners and notes.

    \b
    Example:
      houfu kb show dn.4.3
      houfu kb show dn.4.3.incubation_subsidy --json
    """
    _emit(_kb_call(query.show, _kb(ctx), item_id), as_json, render.show_text)


@kb_group.command("search")
@click.argument("text")
@json_option
@click.pass_context
def kb_search(ctx: click.Context, text: str, as_json: bool) -> None:
    """Keyword search (Chinese or English) over clauses and measures.

    \b
    Example:
      houfu kb search 公益性岗位
    """
    _emit(query.search(_kb(ctx), text), as_json, render.search_text)


@kb_group.command("schema")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("docs/schemas"),
              show_default=True, help="Folder for the JSON Schema files.")
def kb_schema(out: Path) -> None:
    """Export JSON Schemas of the knowledge-base file formats for editors.

    \b
    Example:
      houfu kb schema --out docs/schemas
    """
    for path in write_kb_schemas(out):
        click.echo(path)


@main.command("schema")
@click.argument("kind", type=click.Choice(["household", "site", "report", "screen"]))
@click.pass_context
def schema(ctx: click.Context, kind: str) -> None:
    """Print the JSON Schema of a household or site input file, of a report, or of a screen's summary (what
    `houfu screen --json` prints and POST /v1/screen answers).

    The input schemas are built from the vocabulary (policies/vocabulary.yaml and each document's own), so
    they follow --policies.

    \b
    Example:
      houfu schema household > household.schema.json
      houfu schema report
      houfu schema screen
    """
    if kind == "screen":
        from houfu.screen.summary import ScreenSummary

        click.echo(dump_json(ScreenSummary.model_json_schema()), nl=False)
        return
    click.echo(dump_json(schema_for(_kb(ctx), kind)), nl=False)


@main.command("test")
@click.argument("path", required=False, type=click.Path(exists=True, path_type=Path))
@click.option("-v", "--verbose", is_flag=True, help="List every case, not only the failures.")
@click.pass_context
def test_cmd(ctx: click.Context, path: Path | None, verbose: bool) -> None:
    """Run the YAML rule cases on every evaluator (durable-rules, the reference and the compiled closures).

    PATH is one case file or a folder; default: every document's tests/*.yaml.

    \b
    Example:
      houfu test
      houfu test policies/shiyan-2019/tests/households.yaml -v
    """
    from houfu.authoring.rulecases import CaseFileError, case_files, coverage_gaps, run_cases

    kb = _kb(ctx)
    files = case_files(kb, path)
    try:
        results = run_cases(_evaluator(ctx), files)
    except CaseFileError as exc:
        raise BadInput(str(exc)) from None
    for r in results:
        if verbose or not r.passed:
            click.echo(f"{'PASS' if r.passed else 'FAIL'} {r.file}: {r.name} [{r.engine.value}]")
            for problem in r.problems:
                click.echo(f"    {problem}")
    failed = sum(1 for r in results if not r.passed)
    click.echo(f"{len(results) - failed} passed, {failed} failed")
    # What the test suite would also reject for a document (issue 26, item 7): a rule without its cases.
    gaps = coverage_gaps(kb) if path is None else []
    for gap in gaps:
        click.echo(f"GAP {gap}")
    if gaps:
        click.echo(f"{len(gaps)} rule-case coverage gap(s): every rule needs a positive case, and a negative one "
                   "if it has a condition (docs/ingest.md, 5)")
    if failed or gaps:
        ctx.exit(1)


# --- engine ------------------------------------------------------------------


def _run_batch(ctx: click.Context, path: str, model: type[R], as_of: dt.datetime | None, as_json: bool,
               jsonl: bool, verbose: bool = False, encoding: str | None = None, strict: bool = False,
               lang: str = "zh", record: RecordOptions | None = None) -> None:
    def progress(items: list[tuple[str, R]]) -> Iterable[tuple[str, R]]:
        if len(items) <= 20 or as_json or jsonl or not sys.stderr.isatty():
            yield from items
            return
        with click.progressbar(items, label="evaluating", file=sys.stderr, show_pos=True) as bar:
            yield from bar

    try:
        batch = determine_file(_evaluator(ctx), path, model, _date(as_of), progress, encoding=encoding)
    except InputError as exc:
        raise BadInput(str(exc)) from None
    if record is not None and record.enabled:
        with record.store() as store:
            # As received: the record as the file held it (its labels, its spellings), as JSON.
            batch.reports = [r.model_copy(update={"record_id": store.add(i, r, record.user, json.dumps(
                got, ensure_ascii=False, default=str))})
                             for i, r, got in zip(batch.inputs, batch.reports, batch.received, strict=True)]
    if jsonl:
        for r in batch.reports:
            click.echo(r.model_dump_json())
    elif as_json:
        # Always a list, whatever the record count: one record never changes the shape.
        click.echo(json.dumps([r.model_dump(mode="json") for r in batch.reports], ensure_ascii=False, indent=2))
    else:
        from houfu.present.letters import action_summary

        for r in batch.reports:
            summary = action_summary(_kb(ctx), r, lang) if r.entity == "household" else None
            click.echo(render.determination_text(r, verbose, summary))
            if r.record_id:
                click.echo(f"  recorded as {r.record_id}")
            click.echo()
    for e in batch.errors:
        click.echo(f"Error: {e}", err=True)
    warnings = [str(w) for w in batch.warnings] + [
        f"{r.id}: {', '.join(w.fields)}: {w.en}" for r in batch.reports for w in r.warnings]
    for w in warnings:
        click.echo(f"{'Error' if strict else 'Warning'}: {w}", err=True)
    if batch.records > 1:
        click.echo(f"{batch.records} record(s): {batch.evaluated} evaluated, {batch.rejected} rejected", err=True)
    if batch.errors or (strict and warnings):
        ctx.exit(2)


class RecordOptions:
    """--record, --user, --data-dir, --database: where decision records go."""

    def __init__(self, enabled: bool, user: str | None, data_dir: Path | None, database: str | None):
        self.enabled, self.data_dir, self.database = enabled, data_dir, database
        self.user = user or os.environ.get("HOUFU_USER") or os.environ.get("USER") or "-"

    def store(self) -> Any:
        from houfu.records.store import RecordStore, default_url

        try:
            return RecordStore(self.database or default_url(self.data_dir))
        except Exception as exc:  # SQLAlchemy and the drivers raise many kinds; one line names the store
            from sqlalchemy.engine import make_url

            where = (make_url(self.database).render_as_string(hide_password=True) if self.database
                     else str(self.data_dir or "houfu-data"))
            reason = str(exc).splitlines()[0][:200].replace(self.database or "\0", where)
            raise BadInput(f"{where}: -: cannot open the decision records ({type(exc).__name__}: {reason})"
                           ) from None


def store_options(f: F) -> F:
    f = click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), envvar="HOUFU_DATA_DIR",
                     help="Folder of the SQLite decision records (default ./houfu-data).")(f)
    f = click.option("--database", envvar="HOUFU_DATABASE",
                     help="A database URL instead, e.g. postgresql://user:pass@127.0.0.1/houfu.")(f)
    return f


def encoding_option(f: F) -> F:
    return click.option("--encoding", help="The file's text encoding (default: detected; UTF-8, UTF-16 with a BOM, "
                                           "GBK/GB18030).")(f)


def reading_options(f: F) -> F:
    f = encoding_option(f)
    f = click.option("--strict", is_flag=True, help="Treat warnings about contradictory input as errors (exit 2).")(f)
    return f


def jsonl_option(f: F) -> F:
    return click.option("--jsonl", is_flag=True, help="Print one JSON report per line (JSON Lines).")(f)


@main.command("check")
@click.argument("household_file", type=str)
@as_of_option
@json_option
@jsonl_option
@click.option("--ask", is_flag=True, help="Ask for the missing facts, most decisive first (one household).")
@click.option("--save", type=click.Path(dir_okay=False, path_type=Path),
              help="With --ask: write the household with every answer to this YAML file.")
@click.option("-v", "--verbose", is_flag=True, help="Show owners and failed conditions for every measure.")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
              help="Language of the action summary at the top (the letter's plain words).")
@click.option("--record", is_flag=True, help="Keep a decision record of each determination (append-only).")
@click.option("--user", help="Who made it, for the record (default $HOUFU_USER or $USER).")
@store_options
@reading_options
@click.pass_context
def check(ctx: click.Context, household_file: str, as_of: dt.datetime | None, as_json: bool, jsonl: bool,
          ask: bool, save: Path | None, verbose: bool, lang: str, record: bool, user: str | None,
          data_dir: Path | None, database: str | None, encoding: str | None, strict: bool) -> None:
    """Which measures apply to a household, why, who owns them, and what is missing.

    HOUSEHOLD_FILE is YAML or JSON (``-`` reads stdin); a list checks a batch.
    --json prints a list of reports (one per record), --jsonl one report per line.

    \b
    Example:
      houfu check examples/dingnan-household.yaml
      houfu check examples/batch-households.yaml --json
      houfu check examples/walk-in.yaml --ask --save answered.yaml
    """
    if save is not None and not ask:
        raise BadInput(f"{save}: -: --save goes with --ask")
    if ask:
        from .interview import interview

        if save is not None:
            check_output(save)
        try:
            interview(_evaluator(ctx), household_file, _date(as_of), save, encoding, lang)
        except InputError as exc:
            raise BadInput(str(exc)) from None
        return
    _run_batch(ctx, household_file, Household, as_of, as_json, jsonl, verbose, encoding, strict, lang,
               RecordOptions(record, user, data_dir, database))


@main.command("screen")
@click.argument("caseload", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--members", type=click.Path(dir_okay=False, path_type=Path),
              help="Members table (long form), joined to the households by their id (户编号).")
@click.option("--businesses", type=click.Path(dir_okay=False, path_type=Path),
              help="Businesses table (入驻实体), joined to the households by their id; with --sites, the records of a "
                   "kind linked to a site (a vocabulary's `records:` with `within: site`, e.g. 技能培训班), joined "
                   "to the sites by the site's id.")
@click.option("--sites", "as_sites", is_flag=True, help="The caseload is a table of sites, not households.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Determinations: .parquet, .csv, .xlsx or .jsonl; one row per household (a status column per "
                   "measure, amounts, missing facts as bits) with the measures table beside it (*.measures.*).")
@click.option("--long", "long_form", is_flag=True, help="The determinations one row per (household, measure), with "
                                                        "owners, missing paths and the first failed test on each.")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path),
              help="The caseload report: .html (charts embedded), .md or .xlsx.")
@click.option("--requests", "requests_dir", type=click.Path(file_okay=False, path_type=Path),
              help="A folder for the data requests: one XLSX per body that holds missing facts (医保局, 民政局 …), "
                   "one row per household and fact.")
@click.option("--worklists", "worklists_dir", type=click.Path(file_okay=False, path_type=Path),
              help="A folder for the worklists (政策找人): one XLSX per responsible department, one row per household "
                   "and measure to act on or confirm, with answer columns; the run and its rows are kept in the "
                   "records store (--data-dir, --database) for `houfu worklist import`.")
@click.option("--clocks", "clocks_path", type=click.Path(dir_okay=False, path_type=Path),
              help="A county's own deadlines for household cases (YAML, saying whose rule it is; "
                   "examples/county-clocks.yaml): due_on and overdue on the determinations and worklists.")
@click.option("--since", "since_given", metavar="FILE|SCREEN_ID",
              help="An earlier determinations file (houfu screen -o, last month's), or the screen id of an earlier "
                   "run kept in the records store with -o: the change list (newly applying, newly satisfied, newly "
                   "undetermined, no longer applying; households joined and left) leads the report, every change "
                   "goes to *.changes.csv, and the worklists keep only what is new.")
@click.option("--all", "all_rows", is_flag=True, help="With --since: the worklists list every open case, not only "
                                                      "what is new.")
@store_options
@click.option("--errors", "errors_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Every rejected row (file, row, column, reason) as CSV; default beside --output.")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
              help="The language of the report, the request lists, the notes, the errors (grouped, and in the errors "
                   "file) and the --json labels.")
@click.option("--encoding", help="The text encoding of the CSV and JSON Lines files (the caseload, --members, "
                                 "--businesses; default: detected: UTF-8, UTF-8 with a BOM, GBK/GB18030). A --columns "
                                 "file's encoding is always detected.")
@click.option("--columns", "columns_path", type=click.Path(dir_okay=False, path_type=Path),
              help="A county's column mapping (YAML): its own headers and spellings over policies/columns.yaml.")
@click.option("--suggest-columns", "suggest_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write a column mapping for a person to review (the columns not read, spellings not known, "
                   "sites not found, each with a suggestion), and stop.")
@click.option("--jurisdiction", help="The county of rows whose own columns do not say (no 所在县, no site named in "
                                     "sites.yaml): an id, a name or a division code.")
@click.option("--dask", "dask_address", help="Run on a Dask cluster: its scheduler address, or 'local' for two "
                                              "local workers (Parquet caseloads of one row per household). "
                                              "Determinations only: rejected rows are counted (exit 2), not "
                                              "listed, and a member or business row naming no household is not "
                                              "read; run without it to see each.")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Processes to decide chunks in. One process already reads and writes Parquet on threads of its "
                   "own while it decides, so on two cores a second is slower (the parent then writes what the "
                   "workers decided): give more only with more cores.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@as_of_option
@json_option
@click.pass_context
def screen_cmd(ctx: click.Context, caseload: Path, members: Path | None, businesses: Path | None, as_sites: bool,
               output: Path | None, long_form: bool, report_path: Path | None, requests_dir: Path | None,
               worklists_dir: Path | None, clocks_path: Path | None, since_given: str | None, all_rows: bool,
               data_dir: Path | None,
               database: str | None, errors_path: Path | None,
               lang: str, encoding: str | None, columns_path: Path | None, suggest_path: Path | None,
               jurisdiction: str | None, dask_address: str | None, workers: int, quiet: bool,
               as_of: dt.datetime | None, as_json: bool) -> None:
    """Screen a whole caseload from a registry export, to a determinations file and a caseload report.

    CASELOAD is CSV (UTF-8 or GBK; or Excel's UTF-16 "Unicode Text", a tab-separated .txt), XLSX, Parquet or
    JSON Lines, with Chinese headers (户编号, 姓名, 年龄 …) or English field names (policies/columns.yaml). Either a households table with --members (and
    --businesses), or one row per member carrying the household's columns. A workbook is read as a county
    keeps it: every sheet judged by its headers (households, members, businesses), the header found under a
    title, blank and totals rows skipped with a note. Every column is read, ignored on purpose, or reported
    with a suggestion. Bad rows are reported grouped, then row by row in the errors file, and the rest are
    screened: rows in = screened + rejected.

    \b
    Example:
      houfu screen examples/caseload.xlsx --report out/report.html -o out/determinations.parquet
      houfu screen examples/caseload-gbk/households.csv --members examples/caseload-gbk/members.csv
      houfu screen ledger.xlsx --suggest-columns mapping.yaml; houfu screen ledger.xlsx --columns mapping.yaml
      houfu screen examples/caseload.xlsx --report out/report.xlsx --requests out/requests --lang en
      houfu screen caseload.parquet --members members.parquet --dask tcp://10.0.0.5:8786 -o out/d.parquet
    """
    from houfu.io.tables import TableError, arrow_without_pandas

    if suggest_path is not None:
        from houfu.io.files import refuse_overlaps, written_whole
        from houfu.io.tables import suggest_columns

        check_output(suggest_path)
        try:
            refuse_overlaps({"the caseload": caseload, "the members file": members, "the businesses file": businesses,
                             "the mapping file": columns_path}, {"the suggested mapping": suggest_path})
            text, counted = suggest_columns(_kb(ctx), caseload, members, businesses, encoding,
                                            "site" if as_sites else "household", columns_path, jurisdiction)
        except TableError as exc:
            raise BadInput(str(exc)) from None
        with written_whole(suggest_path) as partial:
            partial.write_text(text, encoding="utf-8")
        click.echo(f"{suggest_path}: {counted['columns']} column(s), {counted['values']} spelling(s) and "
                   f"{counted['sites']} site name(s) to review; then: houfu screen {caseload} --columns "
                   f"{suggest_path}", err=True)
        return

    for path in (output, report_path, errors_path):
        if path is not None:
            check_output(path)
    if output is not None and output.suffix.lower() not in (".parquet", ".csv", ".xlsx", ".jsonl"):
        raise BadInput(f"{output}: -: the determinations are written as .parquet, .csv, .xlsx or .jsonl")
    if report_path is not None and report_path.suffix.lower() not in (".html", ".md", ".xlsx"):
        raise BadInput(f"{report_path}: -: the report is written as .html, .md or .xlsx")
    for folder, flag in ((requests_dir, "--requests"), (worklists_dir, "--worklists")):
        if folder is not None and (folder.exists() and not folder.is_dir() or not folder.parent.is_dir()):
            raise BadInput(f"{folder}: -: {flag} names a folder (created if its parent exists); one XLSX "
                           "per body is written in it")
    since_path: Path | str | None = None
    if since_given is not None:
        import re

        since_path = since_given if re.fullmatch(r"[0-9a-f]{32}", since_given) else Path(since_given)
    if all_rows and since_path is None:
        raise BadInput("--all: -: --all is for --since (every open case on the worklists, not only what is new)")
    if worklists_dir is not None and as_sites:
        raise BadInput("--worklists: -: worklists are of households; a table of sites has none")
    when = _date(as_of) or dt.date.today()
    if dask_address:
        given = [name for name, v in (("--columns", columns_path), ("--jurisdiction", jurisdiction),
                                      ("--encoding", encoding)) if v]
        if given:
            raise BadInput(f"{given[0]}: -: not read on Dask yet (a Parquet caseload of its own headers); "
                           "screen without --dask")
        try:
            import dask.distributed  # noqa: F401 - an optional extra
        except ImportError:
            raise BadInput("--dask: -: Dask is not installed; pip install 'houfu[dask]'") from None
        from houfu.screen.distributed import screen_on_dask

        try:
            rows_in, screened = screen_on_dask(_kb(ctx), caseload, members, businesses, when, output, dask_address)
        except TableError as exc:
            raise BadInput(str(exc)) from None
        click.echo(f"{rows_in} row(s) in: {screened} screened on Dask + {rows_in - screened} rejected"
                   + (f"; no household screened, so {output} was not written" if output and not screened else ""),
                   err=True)
        if rows_in > screened:
            # A run on Dask gives determinations only: each rejected row, and any members or businesses row that
            # names no household, is said by the same run on one machine.
            click.echo("Dask does not list rejected rows: run without --dask (and --errors FILE) to see each one",
                       err=True)
            ctx.exit(2)
        return
    if _OWN_PROCESS:  # one machine, a process of its own: pyarrow is never handed a pandas object in it
        arrow_without_pandas()
    from houfu.screen.run import screen_files

    keeping = RecordOptions(True, None, data_dir, database)
    with keeping.store() if worklists_dir is not None or isinstance(since_path, str) \
            else contextlib.nullcontext() as store:
        try:
            run = screen_files(_kb(ctx), _evaluator(ctx), caseload, members, businesses, encoding,
                               "site" if as_sites else "household", when, output, report_path, errors_path, lang,
                               _progress(quiet or as_json), workers, columns_path, jurisdiction,
                               requests=requests_dir, worklists=worklists_dir, clocks=clocks_path, store=store,
                               user=keeping.user, since=since_path, all_rows=all_rows, long=long_form)
        except TableError as exc:
            raise BadInput(str(exc)) from None
    totals = run.totals
    for said in run.notes:
        click.echo(f"{'Warning' if said.warning else 'Note'}: {said.text(lang)}", err=True)
    if as_json:
        from houfu.screen.run import peak_rss_mb
        from houfu.screen.summary import summarize

        summary = summarize(_kb(ctx), run, lang, peak_rss_mb=peak_rss_mb())
        # pydantic's own serialiser: json.dumps with an indent runs in pure Python (seconds on a large caseload)
        click.echo(summary.model_dump_json(indent=2))
    else:
        # Grouped first (what to fix, and how many rows), then every row in the errors file.
        groups = run.error_groups()
        many = len({g.file for g in groups}) > 1
        for g in groups[:GROUPS_SHOWN]:
            click.echo(f"Error: {g.text(lang, many)}", err=True)
        if len(groups) > GROUPS_SHOWN:
            click.echo(f"… and {len(groups) - GROUPS_SHOWN} more kind(s) of error", err=True)
        if totals.errors:
            click.echo(f"{len(totals.errors):,} error(s) in {len(groups)} group(s); every row in "
                       f"{run.errors_path or 'the errors file (give --errors or -o)'}", err=True)
        for what, (rows, joined) in run.item_rows.items():
            if rows != joined:
                click.echo(f"{what}: {rows} row(s) in, {joined} joined to a {'site' if as_sites else 'household'}, "
                           f"{rows - joined} not (above)", err=True)
        click.echo(f"{totals.rows_in} row(s) in: {totals.screened} screened + {totals.rejected} rejected"
                   f" ({totals.people} people) in {totals.seconds:.2f} s"
                   + (f"; determinations in {run.output}" if run.output else "")
                   + (f"; no household screened, so {output} was not written" if output and not run.output else "")
                   + (f"; report in {report_path}" if report_path else "")
                   + (f"; data requests in {requests_dir}" if requests_dir else "")
                   + (f"; {sum(run.changes.counts.values())} change(s) since {run.changes.since} in "
                      f"{run.changes.households} household(s), {run.changes.joined} joined, {run.changes.left} left"
                      if since_path is not None and run.changes is not None else "")
                   + (f"; {run.worklist_rows} worklist row(s) for {len(run.worklists)} department(s) in "
                      f"{worklists_dir} (screen id {run.screen_id})" if worklists_dir else "")
                   + (f"; rejected rows in {run.errors_path}" if run.errors_path else ""))
    assert totals.rows_in == totals.screened + totals.rejected, "every input row is screened or rejected"
    if totals.errors:
        ctx.exit(2)


#: kinds of error the terminal lists (each with its count and first row); every row is in the errors file
GROUPS_SHOWN = 20


def _progress(quiet: bool) -> Any:
    """A rich progress bar on stderr (households, rate, time left), or None when quiet or not a terminal."""
    if quiet or not sys.stderr.isatty():
        return None
    from houfu.screen.run import progress_bar

    return progress_bar


@main.command("site")
@click.argument("site_file", type=str)
@as_of_option
@json_option
@jsonl_option
@click.option("-v", "--verbose", is_flag=True, help="Show owners and failed conditions for every measure.")
@reading_options
@click.pass_context
def site(ctx: click.Context, site_file: str, as_of: dt.datetime | None, as_json: bool, jsonl: bool,
         verbose: bool, encoding: str | None, strict: bool) -> None:
    """Which obligations of a resettlement site are met, violated or undetermined.

    \b
    Example:
      houfu site examples/shiyan-site.yaml
      houfu site examples/dingnan-site.yaml --json
    """
    _run_batch(ctx, site_file, Site, as_of, as_json, jsonl, verbose, encoding, strict)


@main.command("explain")
@click.argument("file", type=str)
@click.argument("measure_id")
@as_of_option
@json_option
@encoding_option
@click.pass_context
def explain_cmd(ctx: click.Context, file: str, measure_id: str, as_of: dt.datetime | None, as_json: bool,
                encoding: str | None) -> None:
    """Why a measure applies or not: the chain of rules and facts, each citing its clause.

    \b
    Example:
      houfu explain examples/dingnan-household.yaml dn.4.3.incubation_subsidy
    """
    raw = read_records_or_fail(file, encoding).items
    if len(raw) != 1:
        raise BadInput(f"{file}: -: explain takes one record, the file holds {len(raw)}")
    source = "<stdin>" if file == "-" else file
    try:
        record: Household | Site = parse_record(raw[0], _kb(ctx).models.record_model(raw[0]), source, _kb(ctx))
        data = _evaluator(ctx).explain(record, measure_id, _date(as_of))
    except InputError as exc:
        raise BadInput(str(exc)) from None
    except FieldError as exc:
        field = "MEASURE_ID" if exc.field == "measure" else exc.field
        raise BadInput(f"{source}: {field}: {exc.message}") from None
    except EngineFailure as exc:
        raise BadInput(f"{source}: -: {exc}") from None
    _emit(data, as_json, render.explain_text)


def read_records_or_fail(path: str, encoding: str | None = None) -> Records:
    try:
        return read_records(path, encoding)
    except InputError as exc:
        raise BadInput(str(exc)) from None


# --- responsibility graph ----------------------------------------------------


def _graph(ctx: click.Context) -> Graph:
    from houfu.kb.graph import build_graph

    obj = ctx.find_root().obj
    if "graph" not in obj:
        obj["graph"] = build_graph(_kb(ctx))
    G: Graph = obj["graph"]
    return G


T = TypeVar("T")


def _kb_call(fn: Callable[..., T], *args: Any) -> T:
    try:
        return fn(*args)
    except KBError as exc:
        raise click.ClickException(f"{exc.key}: {exc.message}") from None


@main.command("owners")
@click.argument("query")
@json_option
@click.pass_context
def owners_cmd(ctx: click.Context, query: str, as_json: bool) -> None:
    """Who owns a task: a measure or clause id, a topic, or Chinese text.

    \b
    Example:
      houfu owners dn.4.3
      houfu owners training
      houfu owners 公益性岗位 --json
    """
    from houfu.kb.graph import owners

    _emit(_kb_call(owners, _kb(ctx), _graph(ctx), query), as_json, render.owners_text)


@main.command("duties")
@click.argument("department")
@click.option("--jurisdiction", help="Which county's (or city's) body, where several share the name: an id, "
                                     "a name or a division code.")
@json_option
@click.pass_context
def duties_cmd(ctx: click.Context, department: str, jurisdiction: str | None, as_json: bool) -> None:
    """Everything a department answers for, by document, role and topic.

    Any alias, the full name or the English name works. A name several bodies share (each county has a
    县人社局) lists them and asks which; --jurisdiction picks one.

    \b
    Example:
      houfu duties 人社局
      houfu duties 县人社局 --jurisdiction 定南县
      houfu duties "Human Resources and Social Security" --json
    """
    from houfu.kb.graph import duties

    _emit(_kb_call(duties, _kb(ctx), _graph(ctx), department, jurisdiction), as_json, render.duties_text)


@main.command("analyze")
@json_option
@click.pass_context
def analyze_cmd(ctx: click.Context, as_json: bool) -> None:
    """Load per department, clauses without a lead, unowned measures, co-responsibility.

    \b
    Example:
      houfu analyze --json
    """
    from houfu.kb.graph import analyses

    _emit(analyses(_kb(ctx), _graph(ctx)), as_json, render.analyses_text)


def _documents_option(f: F) -> F:
    return click.option("--document", "documents", multiple=True,
                        help="Compare only these documents (two or more; repeat the option). Default: all.")(f)


@main.command("compare")
@click.option("--topic", required=True, help="A topic id, e.g. training, employment, hukou.")
@_documents_option
@json_option
@click.pass_context
def compare_cmd(ctx: click.Context, topic: str, documents: tuple[str, ...], as_json: bool) -> None:
    """The documents loaded, side by side on one topic: measures, numbers and owners.

    \b
    Example:
      houfu compare --topic training
      houfu compare --topic training --document dingnan-2023 --document shiyan-2019
    """
    from houfu.kb.graph import compare

    _emit(_kb_call(compare, _kb(ctx), topic, list(documents) or None), as_json, render.compare_text)


@main.group("graph")
def graph_group() -> None:
    """Export or draw the department-responsibility graph."""


@graph_group.command("export")
@click.option("--format", "fmt", type=click.Choice(["graphml", "gexf", "json", "dot", "mermaid"]),
              default="graphml", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write here instead of stdout.")
@click.pass_context
def graph_export(ctx: click.Context, fmt: str, output: Path | None) -> None:
    """Export the graph for Gephi, yEd, Graphviz or Mermaid.

    \b
    Example:
      houfu graph export --format graphml -o houfu.graphml
    """
    from houfu.kb.graph import export

    _write(export(_graph(ctx), fmt) + "\n", output)


@graph_group.command("render")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--department", help="Draw one department's duties instead of the whole network.")
@click.pass_context
def graph_render(ctx: click.Context, out: Path, department: str | None) -> None:
    """Draw the department-clause network as SVG or PNG (by the file's suffix).

    \b
    Example:
      houfu graph render out/graph.svg
      houfu graph render out/hrss.png --department 县人社局
    """
    from houfu.present.pictures import render as draw

    if out.suffix not in (".svg", ".png"):
        raise BadInput(f"{out}: -: the picture must end in .svg or .png")
    check_output(out)
    click.echo(_kb_call(draw, _kb(ctx), _graph(ctx), out, department))


# --- the service ---------------------------------------------------------------


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option("--dev", is_flag=True, help="Development mode: no login (every page says so); loopback only.")
@click.option("--forwarded-allow-ips", default=None,
              help="The TLS proxy's address(es) whose X-Forwarded-For/-Proto are believed (default 127.0.0.1).")
@click.option("--login-queue", type=click.IntRange(0, 10_000), default=None,
              help="Password checks that may wait for a hashing thread; one more login is answered 429 at once "
                   "(default 4, twice the hashing threads). As many places again are kept for tries from clean "
                   "addresses (no failed logins, few tries), which go first.")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Worker processes on one socket (one per core): each decides and records on its own.")
@store_options
@click.pass_context
def serve_cmd(ctx: click.Context, host: str, port: int, dev: bool, forwarded_allow_ips: str | None,
              login_queue: int | None, workers: int, data_dir: Path | None, database: str | None) -> None:
    """The JSON API (/v1/…, /openapi.json) and the caseworker's pages; every determination is recorded.

    Users log in (`houfu users add`); without users it starts only with --dev, which needs no login.

    \b
    Example:
      houfu users add zhang --role caseworker && houfu serve    # http://127.0.0.1:8000/
      houfu serve --dev --port 8080 --database postgresql://houfu@127.0.0.1/houfu
      houfu serve --workers 2    # one process per core
    """
    from houfu.records.store import Users
    from houfu.web.service import serve, session_secret

    if dev and not _loopback(host):
        raise BadInput(f"--host: {host}: --dev lets anyone in without a login, so it listens only on a loopback "
                       "address (127.0.0.1, ::1, localhost); add users and drop --dev to serve others")
    with RecordOptions(True, None, data_dir, database).store() as store:
        if not dev and Users(store).count() == 0:
            raise BadInput("users: -: no users yet; add one with `houfu users add NAME --role supervisor`, or start "
                           "with --dev (no login, and every page says so)")
        click.echo(f"houfu serving on http://{host}:{port}/" + (" (development mode: no login)" if dev else ""),
                   err=True)
        # SIGTERM is how a service manager stops a server, Ctrl-C how a person does: uvicorn has shut down
        # gracefully, then passed the signal on. A stop asked for is a clean end, exit 0 as with two workers (whose
        # supervisor ends quietly): exit 143 made systemd mark the unit failed, and `make demo` print "terminated".
        with contextlib.suppress(Terminated, KeyboardInterrupt):
            serve(_kb(ctx), _evaluator(ctx), store, host, port, dev, session_secret(data_dir), forwarded_allow_ips,
                  workers, ctx.find_root().obj.get("policies"), data_dir, login_queue)
        click.echo("houfu stopped", err=True)


def _loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@main.group("users")
def users_group() -> None:
    """The service's users: caseworkers and supervisors."""


@users_group.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(["caseworker", "supervisor"]), required=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin (for scripts).")
@click.option("--team", help="The user's site or team: a caseworker reads the records of their team.")
@store_options
def users_add(name: str, role: str, password_stdin: bool, team: str | None, data_dir: Path | None,
              database: str | None) -> None:
    """Add a user; the password is asked for twice (or read from stdin) and kept as an argon2 hash.

    \b
    Example:
      houfu users add zhang --role caseworker
      echo "$PASSWORD" | houfu users add li --role supervisor --password-stdin
    """
    from houfu.records.store import RecordError, Users

    password = (sys.stdin.readline().rstrip("\n") if password_stdin else
                click.prompt("Password", hide_input=True, confirmation_prompt=True, err=True))
    with RecordOptions(True, None, data_dir, database).store() as store:
        try:
            Users(store).add(name, password, role, team)
        except RecordError as exc:
            raise BadInput(f"{name}: -: {exc}") from None
    click.echo(f"user {name} added ({role})")


def _user_change(name: str, data_dir: Path | None, database: str | None, change: str, done: str,
                 password: str | None = None) -> None:
    from houfu.records.store import RecordError, Users

    with RecordOptions(True, None, data_dir, database).store() as store:
        try:
            users = Users(store)
            if password is None:
                getattr(users, change)(name)
            else:
                users.passwd(name, password)
        except RecordError as exc:
            raise BadInput(f"{name}: -: {exc}") from None
    click.echo(f"user {name} {done}")


@users_group.command("list")
@store_options
def users_list(data_dir: Path | None, database: str | None) -> None:
    """The users: name, role, enabled or disabled, team, when added, since when locked, when their token was made.

    \b
    Example:
      houfu users list
    """
    from houfu.records.store import Users

    with RecordOptions(True, None, data_dir, database).store() as store:
        for u in Users(store).list():
            click.echo(f"{u['name']}\t{u['role']}\t{'disabled' if u['disabled'] else 'enabled'}\t"
                       f"{u['team'] or '-'}\t{u['created_at']:%Y-%m-%d}\t"
                       f"{'locked ' + format(u['locked_at'], '%Y-%m-%d %H:%M') if u['locked_at'] else '-'}\t"
                       f"{'token ' + format(u['token_created_at'], '%Y-%m-%d') if u['token_created_at'] else '-'}")


@users_group.command("disable")
@click.argument("name")
@store_options
def users_disable(name: str, data_dir: Path | None, database: str | None) -> None:
    """Disable a user: they cannot log in, and their sessions end at once.

    \b
    Example:
      houfu users disable zhang
    """
    _user_change(name, data_dir, database, "disable", "disabled; their sessions have ended")


@users_group.command("enable")
@click.argument("name")
@store_options
def users_enable(name: str, data_dir: Path | None, database: str | None) -> None:
    """Let a disabled user log in again.

    \b
    Example:
      houfu users enable zhang
    """
    _user_change(name, data_dir, database, "enable", "enabled")


@users_group.command("remove")
@click.argument("name")
@store_options
def users_remove(name: str, data_dir: Path | None, database: str | None) -> None:
    """Remove a user (the records they made stay, naming them); their sessions end at once.

    \b
    Example:
      houfu users remove zhang
    """
    _user_change(name, data_dir, database, "remove", "removed")


@users_group.command("unlock")
@click.argument("name")
@store_options
def users_unlock(name: str, data_dir: Path | None, database: str | None) -> None:
    """Lift the lock that too many failed logins put on an account (a running service sees it within 5 s).

    \b
    Example:
      houfu users unlock zhang
    """
    from houfu.records.store import Users

    with RecordOptions(True, None, data_dir, database).store() as store:
        was = Users(store).unlock(name)
    click.echo(f"user {name} unlocked" if was else f"user {name} was not locked")


@users_group.command("token")
@click.argument("name")
@click.option("--revoke", is_flag=True, help="Remove the user's token instead of making a new one.")
@store_options
def users_token(name: str, revoke: bool, data_dir: Path | None, database: str | None) -> None:
    """Make an API token for a user's scripts (shown once; a new one replaces the old), or --revoke it.

    A script sends it as `Authorization: Bearer TOKEN` instead of a password. Only its sha256 is kept; a
    disabled or removed user's token stops working at once, a lock after wrong passwords does not stop it.

    \b
    Example:
      houfu users token zhang > zhang.token && chmod 600 zhang.token
      curl -H "Authorization: Bearer $(cat zhang.token)" https://houfu.example/v1/owners?q=医保
      houfu users token zhang --revoke
    """
    from houfu.records.store import RecordError, Users

    with RecordOptions(True, None, data_dir, database).store() as store:
        try:
            if revoke:
                was = Users(store).revoke_token(name)
                click.echo(f"user {name}: token revoked" if was else f"user {name} had no token", err=True)
                return
            token = Users(store).new_token(name)
        except RecordError as exc:
            raise BadInput(f"{name}: -: {exc}") from None
    click.echo(token)
    click.echo(f"user {name}: a new API token (shown once; any earlier one no longer works)", err=True)


@users_group.command("passwd")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin (for scripts).")
@store_options
def users_passwd(name: str, password_stdin: bool, data_dir: Path | None, database: str | None) -> None:
    """Set a user's password (at least 12 characters, not a common one); their sessions end at once.

    \b
    Example:
      houfu users passwd zhang
    """
    password = (sys.stdin.readline().rstrip("\n") if password_stdin else
                click.prompt("New password", hide_input=True, confirmation_prompt=True, err=True))
    _user_change(name, data_dir, database, "passwd", "has a new password; their sessions have ended", password)


# --- decision records --------------------------------------------------------


@main.group("worklist")
def worklist_group() -> None:
    """Departments' worklists (政策找人): their answers taken back, and where each department stands."""


@worklist_group.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--user", help="Who imports (default $HOUFU_USER or $USER).")
@store_options
@as_of_option
def worklist_import(files: tuple[Path, ...], user: str | None, data_dir: Path | None, database: str | None,
                    as_of: dt.datetime | None) -> None:
    """Read filled worklists back: each answer becomes an append-only record linked to the screen run, the
    department and the measure. Rows that do not match the list sent (an edited key, a measure not on it, a date
    in the future) are refused one by one with the reason (exit 2); importing a file twice adds nothing.

    \b
    Example:
      houfu worklist import out/worklists/定南县人社局.xlsx out/worklists/定南县民政局.xlsx
    """
    from houfu.screen.worklists import WorklistError, import_worklists

    keeping = RecordOptions(True, user, data_dir, database)
    with keeping.store() as store:
        try:
            got = import_worklists(store, list(files), keeping.user, _date(as_of) or dt.date.today())
        except WorklistError as exc:
            raise BadInput(str(exc)) from None
    for r in got.refused:
        click.echo(f"Refused: {r.text()}", err=True)
    click.echo(f"{len(got.files)} file(s): {got.added} answer(s) kept, {got.already} already kept, "
               f"{got.unanswered} row(s) not answered yet, {len(got.refused)} refused", err=True)
    if got.refused:
        sys.exit(2)


@worklist_group.command("status")
@click.option("--department", help="One department (its id in bodies.yaml).")
@click.option("--screen", "screen_id", help="A screen run's id (default: the latest that sent worklists).")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@store_options
@as_of_option
@json_option
@click.pass_context
def worklist_status_cmd(ctx: click.Context, department: str | None, screen_id: str | None, lang: str,
                        data_dir: Path | None, database: str | None, as_of: dt.datetime | None,
                        as_json: bool) -> None:
    """Per department: rows listed, open (no answer yet), confirmed, done, returned, needing information, and
    overdue (past the due date and neither done nor returned) on --as-of (default today).

    \b
    Example:
      houfu worklist status --department dn_hrss --as-of 2026-11-20
    """
    from houfu.screen.worklists import worklist_status

    with RecordOptions(True, None, data_dir, database).store() as store:
        run, rows = worklist_status(_kb(ctx), store, _date(as_of) or dt.date.today(), screen_id, department, lang)
    if as_json:
        click.echo(json.dumps({"screen_id": run, "departments": [r.as_dict() for r in rows]}, ensure_ascii=False,
                              indent=2))
        return
    if run is None:
        click.echo("No worklists have been sent (houfu screen CASELOAD --worklists DIR).", err=True)
        return
    click.echo(f"screen {run}")
    click.echo(f"{'department':<28} {'listed':>7} {'open':>7} {'confirmed':>9} {'done':>6} {'returned':>8} "
               f"{'needs info':>10} {'overdue':>7}")
    for r in rows:
        click.echo(f"{r.name[:28]:<28} {r.listed:>7} {r.open:>7} {r.confirmed:>9} {r.done:>6} {r.returned:>8} "
                   f"{r.needs_info:>10} {r.overdue:>7}")


@worklist_group.command("tracker")
@click.option("--list", "list_id", default="zero_employment", show_default=True,
              help="A list of policies/lists.yaml.")
@click.option("--clocks", "clocks_path", type=click.Path(dir_okay=False, path_type=Path),
              help="A county's own clocks file; its clock for the list times each household.")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@store_options
@as_of_option
@json_option
@click.pass_context
def worklist_tracker(ctx: click.Context, list_id: str, clocks_path: Path | None, lang: str, data_dir: Path | None,
                     database: str | None, as_of: dt.datetime | None, as_json: bool) -> None:
    """The 动态清零 tracker: each household on the list from the first screen kept that listed it until one no
    longer does, with the departments' answers and its days open against the list's clock.

    \b
    Example:
      houfu worklist tracker --clocks examples/county-clocks.yaml --as-of 2026-12-31
    """
    from houfu.io.limits import TableError
    from houfu.screen.run import list_tracker

    with RecordOptions(True, None, data_dir, database).store() as store:
        try:
            got = list_tracker(_kb(ctx), store, _date(as_of) or dt.date.today(), list_id, clocks_path, lang)
        except TableError as exc:
            raise BadInput(str(exc)) from None
    if got is None:
        click.echo(f"No screen kept in the records store lists {list_id} (houfu screen … --worklists DIR).", err=True)
        return
    if as_json:
        click.echo(json.dumps(got.model_dump(mode="json"), ensure_ascii=False, indent=2))
        return
    click.echo(f"{got.title}: {got.screens} screen(s); {got.open} open ({got.new} new), {got.cleared} cleared by "
               f"the latest, {got.overdue} overdue" + (f"; clock {got.clock}" if got.clock else "; no clock given"))
    for t in got.listed:
        click.echo(f"{t.household}\tfirst {t.first_seen}\t{'cleared ' + str(t.cleared_on) if t.cleared_on else 'open'}"
                   f"\t{t.days_open} day(s){' OVERDUE' if t.overdue else ''}\t{'; '.join(t.answers)}")


@main.group("records")
def records_group() -> None:
    """Decision records: what was decided, for whom, by whom, under which rules (append-only)."""


@records_group.command("verify")
@store_options
def records_verify(data_dir: Path | None, database: str | None) -> None:
    """Walk the decision records' hash chain, oldest first; name the first record that does not match.

    Each record keeps the hash of its content and of the record before it, so a record edited, replaced or
    deleted behind the store's back, or one written around it, is found. Exit 1 if one is.

    \b
    Example:
      houfu records verify
    """
    with RecordOptions(True, None, data_dir, database).store() as store:
        check = store.verify()
    if not check.ok:
        click.echo(f"records: {check.first_bad}: {check.problem} (record {check.records} of the chain)", err=True)
        sys.exit(1)
    click.echo(f"{check.records} records, the chain holds; head {check.head}")


@records_group.command("reads")
@click.argument("household")
@click.option("--limit", type=click.IntRange(1, 100_000), default=1000, show_default=True)
@store_options
@json_option
def records_reads(household: str, limit: int, data_dir: Path | None, database: str | None, as_json: bool) -> None:
    """Who read a household's (or site's) records, and when: newest first (the service logs every read).

    \b
    Example:
      houfu records reads DN-2023-0417
    """
    with RecordOptions(True, None, data_dir, database).store() as store:
        got = store.reads(household, limit)
    _emit([r.model_dump(mode="json") for r in got], as_json, lambda xs: "\n".join(
        f"{x['read_at'][:19]}  {x['user']:<12} {x['how']:<8} {x['record_id']}" for x in xs)
        or f"no reads of {household}'s records")


@records_group.command("list")
@click.option("--household", "subject", help="Only this household's (or site's) records.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
@store_options
@json_option
def records_list(subject: str | None, limit: int, data_dir: Path | None, database: str | None,
                 as_json: bool) -> None:
    """The latest decision records, newest first.

    \b
    Example:
      houfu records list --household DN-2023-0417
    """
    with RecordOptions(True, None, data_dir, database).store() as store:
        got = store.list(subject, limit)
    rows = [{"record_id": r.record_id, "created_at": r.created_at.isoformat(), "user": r.user,
             "subject": r.subject_id, "as_of": r.as_of.isoformat(), "kb_version": r.kb_version,
             "summary": {k.value: v for k, v in r.report.summary.items()}} for r in got]
    _emit(rows, as_json, lambda xs: "\n".join(
        f"{x['record_id']}  {x['created_at'][:19]}  {x['user']:<10} {x['subject']:<16} as of {x['as_of']}  "
        f"kb {x['kb_version']}" for x in xs) or "no decision records")


@records_group.command("search")
@click.argument("query")
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True)
@store_options
@json_option
def records_search(query: str, limit: int, data_dir: Path | None, database: str | None, as_json: bool) -> None:
    """Find households again: by id, name, a member's name or ID number, or a short record id.

    Case, spaces (leading, trailing or inside) and full-width characters do not matter; an ID number is matched
    on its keyed hash (it is never kept). The most recently decided first, each with its latest matching
    record's short id (give it to `houfu records show`).

    \b
    Example:
      houfu records search 钟建华
      houfu records search "dn-2023 0417" --json
    """
    with RecordOptions(True, None, data_dir, database).store() as store:
        hits = store.search(query, limit=limit)
    _emit([h.model_dump(mode="json") for h in hits], as_json, lambda xs: "\n".join(
        f"{x['record_id'][:12]}  {x['created_at'][:16].replace('T', ' ')}  {x['subject_id']:<16} {x['name'] or '-'}"
        f"  ({x['records']} record(s); matched {', '.join(x['matched'])})" for x in xs) or f"nothing found for {query!r}")


@records_group.command("show")
@click.argument("record_id")
@store_options
@json_option
def records_show(record_id: str, data_dir: Path | None, database: str | None, as_json: bool) -> None:
    """One decision record: its input, facts, report and provenance (the read is kept, as $HOUFU_USER or $USER).

    The whole id or any prefix of 8 characters or more that starts one record only (as the pages and
    `houfu records search` show it); a prefix that starts several names them (exit 2).

    \b
    Example:
      houfu records show 3f2a9c0d5e6b --json
    """
    from houfu.records.store import RecordError

    options = RecordOptions(True, None, data_dir, database)
    try:
        with options.store() as store:
            rec = store.read(record_id, options.user)
    except RecordError as exc:
        raise BadInput(f"{record_id}: -: {exc}") from None
    if as_json:
        click.echo(rec.model_dump_json(indent=2))
        return
    click.echo(f"record {rec.record_id}: {rec.entity} {rec.subject_id}, decided {rec.created_at.isoformat()} by "
               f"{rec.user}, as of {rec.as_of}, kb_version {rec.kb_version}, houfu {rec.houfu_version}")
    click.echo(render.determination_text(rec.report))


@records_group.command("replay")
@click.argument("record_id")
@click.option("--against-current", is_flag=True,
              help="Decide it under the loaded knowledge base even if the record names another, and show the "
                   "difference.")
@store_options
@json_option
@click.pass_context
def records_replay(ctx: click.Context, record_id: str, against_current: bool, data_dir: Path | None,
                   database: str | None, as_json: bool) -> None:
    """Decide a record's input again, under the knowledge base it names; exit 1 if the result differs.

    \b
    Example:
      houfu records replay 3f2a…            # same kb_version: must give the same result
      houfu records replay 3f2a… --against-current
    """
    from houfu.records.store import RecordError

    with RecordOptions(True, None, data_dir, database).store() as store:
        try:
            full_id = store.resolve(record_id)
        except RecordError as exc:  # not found, or a prefix of several: the id given is wrong (exit 2)
            raise BadInput(f"{record_id}: -: {exc}") from None
        try:
            replay = store.replay(_evaluator(ctx), full_id, against_current)
        except RecordError as exc:
            click.echo(f"Error: {exc}", err=True)
            ctx.exit(1)
    out = {"record_id": full_id, "recorded_kb_version": replay.record.kb_version,
           "kb_version": replay.kb_version, "same": replay.same,
           "changes": [{"measure": m, "recorded": a, "now": b} for m, a, b in replay.changes]}
    _emit(out, as_json, lambda x: (
        f"record {x['record_id']}: the same result under kb_version {x['kb_version']}" if x["same"] else
        f"record {x['record_id']} (kb_version {x['recorded_kb_version']}) now differs under {x['kb_version']}:\n"
        + "\n".join(f"  {c['measure']}: {c['recorded']} -> {c['now']}" for c in x["changes"])))
    if not replay.same:
        ctx.exit(1)


@records_group.command("diff")
@click.argument("before_id")
@click.argument("after_id")
@store_options
@json_option
def records_diff(before_id: str, after_id: str, data_dir: Path | None, database: str | None, as_json: bool) -> None:
    """What changed between two decision records: the facts given, the statuses and the amounts.

    \b
    Example:
      houfu records diff 3f2a… 9c1e…        # an earlier record first, its correction second
    """
    from houfu.records.store import RecordError, diff_records

    try:
        with RecordOptions(True, None, data_dir, database).store() as store:
            diff = diff_records(store.find(before_id), store.find(after_id))
    except RecordError as exc:
        raise BadInput(f"{before_id} {after_id}: -: {exc}") from None
    out = {"before": before_id, "after": after_id, "same": diff.same,
           "facts": [{"fact": p, "before": a, "after": b} for p, a, b in diff.facts],
           "statuses": [{"measure": m, "before": a, "after": b} for m, a, b in diff.statuses],
           "amounts": [{"measure": m, "before": a, "after": b} for m, a, b in diff.amounts]}
    def shown(v: Any) -> str:  # as the input file writes it; an absent fact is said, never "None"
        return "(not given)" if v is None else json.dumps(v, ensure_ascii=False)

    _emit(out, as_json, lambda x: "the two records agree" if x["same"] else "\n".join(
        [f"fact {c['fact']}: {shown(c['before'])} -> {shown(c['after'])}" for c in x["facts"]]
        + [f"status {c['measure']}: {c['before']} -> {c['after']}" for c in x["statuses"]]
        + [f"amount {c['measure']}: {c['before']} -> {c['after']}" for c in x["amounts"]]))


# --- briefs ------------------------------------------------------------------


def brief_options(f: F) -> F:
    f = click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)(f)
    f = click.option("--format", "fmt", type=click.Choice(["md", "html", "txt"]), default="md", show_default=True)(f)
    f = click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
                     help="Write the brief here instead of stdout.")(f)
    f = click.option("--templates", "templates_dir", type=click.Path(file_okay=False, exists=True, path_type=Path),
                     help="Folder of templates that override the bundled ones.")(f)
    return f


def _render(kind: str, context: Any, lang: str, fmt: str, templates_dir: Path | None) -> str:
    from houfu.present.briefs import BriefError, render_brief

    try:
        return render_brief(kind, context, lang, fmt, templates_dir)
    except BriefError as exc:
        raise click.ClickException(str(exc)) from None


def check_output(output: Path) -> None:
    """One rule for every -o/OUT path: a file whose folder exists; never a folder, never a made-up folder."""
    if output.is_dir():
        raise BadInput(f"{output}: -: is a directory; give a file name")
    if not output.parent.is_dir():
        raise BadInput(f"{output}: -: the folder {output.parent} does not exist; create it first")


def _write(text: str, output: Path | None) -> None:
    if output:
        check_output(output)
        output.write_text(text, encoding="utf-8")
        click.echo(output)
    else:
        click.echo(text, nl=False)


@main.group("brief")
def brief_group() -> None:
    """Plain-language briefs for households, sites, departments and comparisons."""


def _one_report(ctx: click.Context, path: str, model: type[R], as_of: dt.datetime | None,
                encoding: str | None = None) -> Report:
    try:
        batch = determine_file(_evaluator(ctx), path, model, _date(as_of), encoding=encoding)
    except InputError as exc:
        raise BadInput(str(exc)) from None
    if batch.errors:
        raise BadInput(str(batch.errors[0]))
    if batch.records != 1:
        raise BadInput(f"{path}: -: a brief takes one record, the file holds {batch.records}")
    return batch.reports[0]


@brief_group.command("household")
@click.argument("file")
@brief_options
@as_of_option
@encoding_option
@click.pass_context
def brief_household(ctx: click.Context, file: str, lang: str, fmt: str, output: Path | None,
                    templates_dir: Path | None, as_of: dt.datetime | None, encoding: str | None) -> None:
    """A letter for a household: what it can get, what is still needed, whom to contact.

    \b
    Example:
      houfu brief household examples/dingnan-household.yaml -o letter.md
      houfu brief household examples/shiyan-household.yaml --lang en --format html -o letter.html
    """
    from houfu.present.letters import household_letter

    report = _one_report(ctx, file, Household, as_of, encoding)
    _write(_render("household", household_letter(_kb(ctx), report, lang), lang, fmt, templates_dir), output)


@brief_group.command("site")
@click.argument("file")
@brief_options
@as_of_option
@encoding_option
@click.pass_context
def brief_site(ctx: click.Context, file: str, lang: str, fmt: str, output: Path | None,
               templates_dir: Path | None, as_of: dt.datetime | None, encoding: str | None) -> None:
    """One page on a site's obligations: met, violated (with the gap), undetermined.

    \b
    Example:
      houfu brief site examples/shiyan-site.yaml --format html -o site.html
    """
    from houfu.present.briefs import site_context

    report = _one_report(ctx, file, Site, as_of, encoding)
    _write(_render("site", site_context(_kb(ctx), report, lang), lang, fmt, templates_dir), output)


@brief_group.command("department")
@click.argument("name")
@brief_options
@click.pass_context
def brief_department(ctx: click.Context, name: str, lang: str, fmt: str, output: Path | None,
                     templates_dir: Path | None) -> None:
    """A department's duty list (职责清单) by topic, lead and shared marked.

    \b
    Example:
      houfu brief department 人社局 --format html -o hrss.html
    """
    from houfu.kb.graph import duties
    from houfu.present.briefs import department_context

    kb = _kb(ctx)
    data = _kb_call(duties, kb, _graph(ctx), name)
    _write(_render("department", department_context(kb, data, lang), lang, fmt, templates_dir), output)


@brief_group.command("compare")
@click.option("--topic", required=True, help="A topic id, e.g. training.")
@_documents_option
@brief_options
@click.pass_context
def brief_compare(ctx: click.Context, topic: str, documents: tuple[str, ...], lang: str, fmt: str,
                  output: Path | None, templates_dir: Path | None) -> None:
    """The documents loaded, side by side on one topic.

    \b
    Example:
      houfu brief compare --topic employment --lang en
    """
    from houfu.kb.graph import compare
    from houfu.present.briefs import compare_context

    kb = _kb(ctx)
    data = _kb_call(compare, kb, topic, list(documents) or None)
    _write(_render("compare", compare_context(kb, data, lang), lang, fmt, templates_dir), output)


if __name__ == "__main__":  # pragma: no cover
    main()
