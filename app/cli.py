"""The ``houfu`` command line: one click group, one call into kb/engine per command."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from houfu.kb import query
from houfu.kb.facts import Household, Site
from houfu.kb.loader import KB, KBError, load, load_default

from . import render
from houfu.engine.evaluate import determine, determine_file, explain
from .inputs import InputError, parse_file, parse_record, read_records


class BadInput(click.ClickException):
    exit_code = 2


def _kb(ctx: click.Context) -> KB:
    obj = ctx.find_root().obj
    if "kb" not in obj:
        try:
            obj["kb"] = load(obj["policies"]) if obj.get("policies") else load_default()
        except KBError as exc:
            raise click.ClickException(str(exc)) from None
    return obj["kb"]


def _emit(data: Any, as_json: bool, text) -> None:
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    else:
        click.echo(text(data))


def json_option(f):
    return click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")(f)


def as_of_option(f):
    return click.option("--as-of", type=click.DateTime(["%Y-%m-%d"]), default=None,
                        help="Evaluate as on this date (YYYY-MM-DD); documents issued later are left out. Default: today.")(f)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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
def kb_validate(ctx, as_json):
    """Check every quote, id, responsibility list and number against the sources.

    \b
    Example:
      houfu kb validate
      houfu --policies ./my-policies kb validate --json
    """
    from houfu.kb.validate import validate

    kb = _kb(ctx)
    errors = validate(kb)
    data = {"ok": not errors, "errors": [{"file": e.file, "key": e.key, "message": e.message} for e in errors]}
    _emit(data, as_json, lambda d: render.validate_text(errors, query.stats(kb)))
    if errors:
        ctx.exit(1)


@kb_group.command("stats")
@json_option
@click.pass_context
def kb_stats(ctx, as_json):
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
def kb_show(ctx, item_id, as_json):
    """Show a clause or measure with its source text, owners and notes.

    \b
    Example:
      houfu kb show dn.4.3
      houfu kb show dn.4.3.incubation_subsidy --json
    """
    try:
        data = query.show(_kb(ctx), item_id)
    except KBError as exc:
        raise click.ClickException(f"{exc.key}: {exc.message}") from None
    _emit(data, as_json, render.show_text)


@kb_group.command("search")
@click.argument("text")
@json_option
@click.pass_context
def kb_search(ctx, text, as_json):
    """Keyword search (Chinese or English) over clauses and measures.

    \b
    Example:
      houfu kb search 公益性岗位
    """
    _emit(query.search(_kb(ctx), text), as_json, render.search_text)


@kb_group.command("schema")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("schemas"),
              show_default=True, help="Folder for the JSON Schema files.")
def kb_schema(out):
    """Export JSON Schemas of the knowledge-base file formats for editors.

    \b
    Example:
      houfu kb schema --out schemas/
    """
    for path in query.export_schemas(out):
        click.echo(path)


@main.command("schema")
@click.argument("kind", type=click.Choice(["household", "site"]))
def schema(kind):
    """Print the JSON Schema of a household or site input file.

    \b
    Example:
      houfu schema household > household.schema.json
    """
    click.echo(json.dumps(query.input_schema(kind), ensure_ascii=False, indent=2))


# --- engine ------------------------------------------------------------------


def _run_batch(ctx, path: str, model, as_of, as_json: bool, verbose: bool = False) -> None:
    kb = _kb(ctx)

    def progress(items):
        if len(items) <= 20 or as_json:
            yield from items
            return
        with click.progressbar(items, label="evaluating", file=sys.stderr, show_pos=True) as bar:
            yield from bar

    try:
        batch = determine_file(kb, path, model, as_of.date() if as_of else None, progress)
    except InputError as exc:
        raise BadInput(str(exc)) from None
    if as_json:
        data: Any = batch["results"][0] if batch["records"] == 1 and batch["results"] else dict(
            batch, errors=[str(e) for e in batch["errors"]])
        click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    else:
        for r in batch["results"]:
            click.echo(render.determination_text(r, verbose))
            click.echo()
    for e in batch["errors"]:
        click.echo(f"Error: {e}", err=True)
    if batch["records"] > 1:
        click.echo(f"{batch['records']} record(s): {batch['evaluated']} evaluated, {batch['rejected']} rejected",
                   err=True)
    if batch["errors"]:
        ctx.exit(2)


@main.command("check")
@click.argument("household_file", type=str)
@as_of_option
@json_option
@click.option("--ask", is_flag=True, help="Ask for the missing facts, most decisive first.")
@click.option("-v", "--verbose", is_flag=True, help="Show owners and failed conditions for every measure.")
@click.pass_context
def check(ctx, household_file, as_of, as_json, ask, verbose):
    """Which measures apply to a household, why, who owns them, and what is missing.

    HOUSEHOLD_FILE is YAML or JSON (``-`` reads stdin); a list checks a batch.

    \b
    Example:
      houfu check examples/dingnan-household.yaml
      houfu check examples/batch-households.yaml --json
      houfu check examples/shiyan-household.yaml --ask
    """
    if ask:
        from .interview import interview

        interview(_kb(ctx), household_file, as_of.date() if as_of else None)
        return
    _run_batch(ctx, household_file, Household, as_of, as_json, verbose)


@main.command("site")
@click.argument("site_file", type=str)
@as_of_option
@json_option
@click.option("-v", "--verbose", is_flag=True, help="Show owners and failed conditions for every measure.")
@click.pass_context
def site(ctx, site_file, as_of, as_json, verbose):
    """Which obligations of a resettlement site are met, violated or undetermined.

    \b
    Example:
      houfu site examples/shiyan-site.yaml
      houfu site examples/dingnan-site.yaml --json
    """
    _run_batch(ctx, site_file, Site, as_of, as_json, verbose)


@main.command("explain")
@click.argument("file", type=str)
@click.argument("measure_id")
@as_of_option
@json_option
@click.pass_context
def explain_cmd(ctx, file, measure_id, as_of, as_json):
    """Why a measure applies or not: the chain of rules and facts, each citing its clause.

    \b
    Example:
      houfu explain examples/dingnan-household.yaml dn.4.3.incubation_subsidy
    """
    kb = _kb(ctx)
    raw = read_records_or_fail(file)
    if len(raw) != 1:
        raise BadInput(f"{file}: -: explain takes one record, the file holds {len(raw)}")
    source = "<stdin>" if file == "-" else file
    model = _guess_model(raw[0])
    try:
        record = parse_record(raw[0], model, source)
        data = explain(kb, record, measure_id, as_of.date() if as_of else None, source=source)
    except InputError as exc:
        raise BadInput(str(exc)) from None
    _emit(data, as_json, render.explain_text)


def _guess_model(raw: Any):
    """A household or a site, by which vocabulary the record's keys fit better."""
    keys = set(raw) if isinstance(raw, dict) else set()
    return min((Household, Site), key=lambda m: len(keys - set(m.model_fields)))


def read_records_or_fail(path: str) -> list[Any]:
    try:
        return read_records(path)
    except InputError as exc:
        raise BadInput(str(exc)) from None


# --- responsibility graph ----------------------------------------------------


def _graph(ctx):
    from houfu.kb.graph import build_graph

    obj = ctx.find_root().obj
    if "graph" not in obj:
        obj["graph"] = build_graph(_kb(ctx))
    return obj["graph"]


def _kb_call(fn, *args):
    try:
        return fn(*args)
    except KBError as exc:
        raise click.ClickException(f"{exc.key}: {exc.message}") from None


@main.command("owners")
@click.argument("query")
@json_option
@click.pass_context
def owners_cmd(ctx, query, as_json):
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
@json_option
@click.pass_context
def duties_cmd(ctx, department, as_json):
    """Everything a department answers for, by document, role and topic.

    Any alias, the full name or the English name works.

    \b
    Example:
      houfu duties 人社局
      houfu duties "Human Resources and Social Security" --json
    """
    from houfu.kb.graph import duties

    _emit(_kb_call(duties, _kb(ctx), _graph(ctx), department), as_json, render.duties_text)


@main.command("analyze")
@json_option
@click.pass_context
def analyze_cmd(ctx, as_json):
    """Load per department, clauses without a lead, unowned measures, co-responsibility.

    \b
    Example:
      houfu analyze --json
    """
    from houfu.kb.graph import analyses

    _emit(analyses(_kb(ctx), _graph(ctx)), as_json, render.analyses_text)


@main.command("compare")
@click.option("--topic", required=True, help="A topic id, e.g. training, employment, hukou.")
@json_option
@click.pass_context
def compare_cmd(ctx, topic, as_json):
    """The two documents side by side on one topic: measures, numbers and owners.

    \b
    Example:
      houfu compare --topic training
    """
    from houfu.kb.graph import compare

    _emit(_kb_call(compare, _kb(ctx), topic), as_json, render.compare_text)


@main.group("graph")
def graph_group():
    """Export or draw the department-responsibility graph."""


@graph_group.command("export")
@click.option("--format", "fmt", type=click.Choice(["graphml", "gexf", "json", "dot", "mermaid"]),
              default="graphml", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write here instead of stdout.")
@click.pass_context
def graph_export(ctx, fmt, output):
    """Export the graph for Gephi, yEd, Graphviz or Mermaid.

    \b
    Example:
      houfu graph export --format graphml -o houfu.graphml
    """
    from houfu.kb.graph import export

    text = export(_graph(ctx), fmt)
    if output:
        output.write_text(text, encoding="utf-8")
        click.echo(output)
    else:
        click.echo(text)


@graph_group.command("render")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--department", help="Draw one department's duties instead of the whole network.")
@click.pass_context
def graph_render(ctx, out, department):
    """Draw the department-clause network as SVG or PNG (by the file's suffix).

    \b
    Example:
      houfu graph render out/graph.svg
      houfu graph render out/hrss.png --department 县人社局
    """
    from houfu.kb.graph import render as draw

    if out.suffix not in (".svg", ".png"):
        raise BadInput(f"{out}: -: the picture must end in .svg or .png")
    click.echo(_kb_call(draw, _kb(ctx), _graph(ctx), out, department))


# --- briefs ------------------------------------------------------------------


def brief_options(f):
    f = click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)(f)
    f = click.option("--format", "fmt", type=click.Choice(["md", "html", "txt"]), default="md", show_default=True)(f)
    f = click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
                     help="Write the brief here instead of stdout.")(f)
    f = click.option("--templates", "templates_dir", type=click.Path(file_okay=False, exists=True, path_type=Path),
                     help="Folder of templates that override the bundled ones.")(f)
    return f


def _render(kind, context, lang, fmt, templates_dir) -> str:
    from .briefs import BriefError, render_brief

    try:
        return render_brief(kind, context, lang, fmt, templates_dir)
    except BriefError as exc:
        raise click.ClickException(str(exc)) from None


def _write(text: str, output: Path | None) -> None:
    if output:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
        click.echo(output)
    else:
        click.echo(text, nl=False)


@main.group("brief")
def brief_group():
    """Plain-language briefs for households, sites, departments and comparisons."""


def _one_record(path: str, model):
    try:
        good, bad = parse_file(path, model)
    except InputError as exc:
        raise BadInput(str(exc)) from None
    if bad:
        raise BadInput(str(bad[0]))
    if len(good) != 1:
        raise BadInput(f"{path}: -: a brief takes one record, the file holds {len(good)}")
    return good[0]


def _brief_from_file(ctx, kind, path, model, lang, fmt, output, templates_dir, as_of):
    from .briefs import household_context, site_context

    kb = _kb(ctx)
    where, record = _one_record(path, model)
    try:
        report = determine(kb, record, as_of.date() if as_of else None, source=where)
    except InputError as exc:
        raise BadInput(str(exc)) from None
    context = (household_context if kind == "household" else site_context)(kb, report, lang)
    _write(_render(kind, context, lang, fmt, templates_dir), output)


@brief_group.command("household")
@click.argument("file")
@brief_options
@as_of_option
@click.pass_context
def brief_household(ctx, file, lang, fmt, output, templates_dir, as_of):
    """A letter for a household: what it can get, what is still needed, whom to contact.

    \b
    Example:
      houfu brief household examples/dingnan-household.yaml -o letter.md
      houfu brief household examples/shiyan-household.yaml --lang en --format html -o letter.html
    """
    _brief_from_file(ctx, "household", file, Household, lang, fmt, output, templates_dir, as_of)


@brief_group.command("site")
@click.argument("file")
@brief_options
@as_of_option
@click.pass_context
def brief_site(ctx, file, lang, fmt, output, templates_dir, as_of):
    """One page on a site's obligations: met, violated (with the gap), undetermined.

    \b
    Example:
      houfu brief site examples/shiyan-site.yaml --format html -o site.html
    """
    _brief_from_file(ctx, "site", file, Site, lang, fmt, output, templates_dir, as_of)


@brief_group.command("department")
@click.argument("name")
@brief_options
@click.pass_context
def brief_department(ctx, name, lang, fmt, output, templates_dir):
    """A department's duty list (职责清单) by topic, lead and shared marked.

    \b
    Example:
      houfu brief department 人社局 --format html -o hrss.html
    """
    from houfu.kb.graph import duties

    from .briefs import department_context

    kb = _kb(ctx)
    data = _kb_call(duties, kb, _graph(ctx), name)
    _write(_render("department", department_context(kb, data, lang), lang, fmt, templates_dir), output)


@brief_group.command("compare")
@click.option("--topic", required=True, help="A topic id, e.g. training.")
@brief_options
@click.pass_context
def brief_compare(ctx, topic, lang, fmt, output, templates_dir):
    """The two documents side by side on one topic.

    \b
    Example:
      houfu brief compare --topic employment --lang en
    """
    from houfu.kb.graph import compare

    from .briefs import compare_context

    kb = _kb(ctx)
    data = _kb_call(compare, kb, topic)
    _write(_render("compare", compare_context(kb, data, lang), lang, fmt, templates_dir), output)


if __name__ == "__main__":  # pragma: no cover
    main()
