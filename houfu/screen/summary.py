"""What a screen answers: one model for ``houfu screen --json``, the ``/v1/screen`` answer and the caseload report.

``summarize`` draws a ``ScreenSummary`` from the screener's totals. Labels that come from the knowledge base
(a fact's question, a list's heading, a body's name, a register's name) are in the language asked for; the
report's own words are in its templates. Ids stay ids: a body of ``None`` is "no office named" in the workload
and "no register declared" in the data requests.
"""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field

from houfu.io.notes import message
from houfu.kb.loader import KB
from houfu.kb.models import HandlerBasis
from houfu.screen.screener import ACTIONS, ScreenRun, ScreenTotals, carriers_of

__all__ = ["OverdueSummary", "ScreenSummary", "summarize", "ERRORS_LISTED", "TOP"]

#: Rejected rows listed in a summary (all are counted).
ERRORS_LISTED = 1000
#: Missing facts listed in a summary, the most decisive first.
TOP = 15


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Ask(_Model):
    """A fact to ask for one household: the path as the determinations name it, and the question."""

    path: str = Field(description="the fact, or members[i].fact / entities[i].fact (0-based)")
    fact: str
    member: int | None = Field(None, description="1-based number of the member it is about")
    entity: int | None = Field(None, description="1-based number of the business it is about")
    question: str


class ListedHousehold(_Model):
    household: str
    name: str | None = None
    site: str | None = None
    ask: list[Ask] = Field([], description="to check: the facts that would settle it")


class FactCount(_Model):
    fact: str
    question: str
    count: int


class ListGroup(_Model):
    count: int = Field(description="every household in the group")
    households: list[ListedHousehold] = Field(description="the first of them (the count covers all)")
    asked: list[FactCount] = Field([], description="to check: the households lacking each fact")


class ListSummary(_Model):
    """One of the report's lists (policies/lists.yaml), decided three-valued."""

    id: str
    title: str
    meaning: str | None
    reading: str = Field(description="houfu's reading, citing the texts (the list's note)")
    confirmed: ListGroup
    to_check: ListGroup


class Workload(_Model):
    """The households (sites) where a measure a body carries needs action, by kind of action."""

    body_id: str | None = Field(description="null: the measures no office carries (the text names none)")
    name: str | None
    households: int = Field(description="counted once however many kinds of action they need")
    actions: dict[str, int] = Field(description="households by the most pressing kind of action they need from the "
                                                "body (they add up to households): fix (a site duty violated), act "
                                                "(applies, not yet done), due (a site duty under way), verify "
                                                "(applies, whether done unknown), collect (facts missing)")
    measures: list[str] = Field(description="the measures it carries that need action somewhere in the caseload")


class RegisterRef(_Model):
    id: str
    name: str
    basis: HandlerBasis
    reason: str
    requests: int


class RequestRow(_Model):
    household: str
    name: str | None
    site: str | None
    ask: Ask


class DataRequest(_Model):
    """What one body is asked for: the missing facts its registers hold, one request per (household, fact)."""

    body_id: str | None = Field(description="null: facts no register serves for the household's jurisdiction")
    name: str | None
    registers: list[RegisterRef]
    households: int
    requests: int
    facts: list[FactCount]
    listed: list[RequestRow] = Field(description="the first requests (all are in the body's file with --requests)")
    file: str | None = Field(None, description="the body's request list, when written (--requests)")


class MissingFact(_Model):
    fact: str
    question: str
    settles: int = Field(description="determinations it would settle")
    held_by: list[str] = Field(description="the bodies whose registers hold it, for the households missing it")


class Shortfall(_Model):
    household: str
    member: int | None = Field(None, description="1-based number of the member it is for")
    entity: int | None = Field(None, description="1-based number of the business it is for")
    value: float | None = Field(description="null where an input is unknown")


class Amounts(_Model):
    count: int
    total: float
    listed: list[Shortfall]


class SiteIssue(_Model):
    site: str
    measure: str
    status: str
    clause: str


class RowError(_Model):
    file: str
    row: int
    column: str
    reason: str = Field(description="in the summary's language")
    kind: str = Field(description="the kind of error (errors.yaml's key; other: the reader's own words)")


class ErrorGroupSummary(_Model):
    """Rejected rows grouped by file, column and kind of error: what to fix, and how many rows it concerns."""

    file: str
    column: str
    kind: str
    rows: int
    example_row: int
    text: str = Field(description="the group in the summary's language")


class ColumnRead(_Model):
    """One column of a table read, and what became of it."""

    source: str = Field(description="the file (and sheet) it came from")
    header: str
    fate: str = Field(description="read | ignored | not_read | other_table | twice")
    field: str | None = Field(None, description="the fact it was read as")
    why: str | None = Field(None, description="why it was ignored or not read, with a suggestion")


class TableRead(_Model):
    """Which sheet or file became which table."""

    model_config = ConfigDict(extra="allow")
    table: str
    source: str


class Change(_Model):
    """One household's measure whose status changed since the earlier screen."""

    household: str
    measure: str
    text: str = Field(description="the measure in the summary's language")
    kind: str = Field(description="newly_applies, newly_satisfied, newly_undetermined or no_longer_applies")
    before: str | None = Field(description="the status in the earlier screen (None: not decided there)")
    after: str | None = Field(description="the status now (None: no longer decided, e.g. a document out of force)")
    owners: str


#: The kinds of change the change list counts, in the order it shows them.
CHANGE_KINDS = ("newly_applies", "newly_satisfied", "newly_undetermined", "no_longer_applies")


class ChangeSummary(_Model):
    """What changed since an earlier screen (``houfu screen NEW --since OLD``): per household and measure, and the
    households that joined or left the caseload. Counted in full, listed up to LISTED."""

    since: str = Field(description="the earlier determinations file")
    counts: dict[str, int] = Field(description="kind of change -> (household, measure) pairs")
    households: int = Field(description="households present in both with at least one change")
    joined: int
    left: int
    joined_listed: list[str]
    left_listed: list[str]
    listed: list[Change]
    file: str | None = Field(None, description="every change, as CSV")
    lists: list[ListChange] = Field(default=[], description="households new to each list, and cleared from it")
    lists_note: str | None = Field(None, description="why the lists are not compared (the earlier screen kept none)")


class ListChange(_Model):
    """Households new to one of the report's lists since the earlier screen, and those cleared from it (confirmed
    there, now neither confirmed nor to check, and still in the caseload)."""

    list_id: str
    title: str
    new: int
    cleared: int
    new_listed: list[str]
    cleared_listed: list[str]


class Tracked(_Model):
    """One household on the zero-employment list (动态清零), from the first screen that listed it."""

    household: str
    first_seen: dt.date
    cleared_on: dt.date | None = Field(description="the as-of date of the first screen that no longer listed it")
    employed_since: dt.date | None = Field(description="the date of a department's answer that a member is in work")
    days_open: int = Field(description="from first seen to cleared (or to the as-of date)")
    due_on: dt.date | None = Field(description="first seen plus the list's clock (a county's own rule), if given")
    overdue: bool
    answers: list[str] = Field(description="the departments' answers about the household, latest first")


class TrackerSummary(_Model):
    """The 动态清零 tracker over the screens kept in the records store."""

    list_id: str
    title: str
    as_of: dt.date
    screens: int
    open: int
    new: int = Field(description="first listed by this screen")
    cleared: int = Field(description="cleared by this screen")
    overdue: int
    clock: str | None = Field(description="the list's clock and whose rule it is; None: no clock given")
    listed: list[Tracked]


class OverdueItem(_Model):
    """One worklist row past its due date, neither done nor returned (its latest answer counts)."""

    household: str
    measure: str
    text: str = Field(description="the measure in the summary's language")
    listed_on: dt.date = Field(description="the as-of date of the screen whose worklist sent it")
    due_on: dt.date
    days_late: int
    answer: str | None = Field(description="the latest answer (confirmed, needs_info), None: none yet")


class OverdueCount(_Model):
    department: str
    name: str
    overdue: int
    listed: list[OverdueItem] = Field(description="the longest overdue first (the count covers all)")


class OverdueSummary(_Model):
    """Each department's overdue worklist rows on the as-of date, over every screen kept in the records store that
    sent worklists: a case on several lists counts once, by its latest listing; a case this screen finds no
    longer open (neither applies nor undetermined, or the household left) is not counted when this screen's
    determinations are at hand."""

    as_of: dt.date
    screens: int = Field(description="screen runs with worklists up to the as-of date")
    overdue: int
    checked_against_this_screen: bool = Field(description="whether cases this screen closed were left out")
    departments: list[OverdueCount]


class ScreenSummary(_Model):
    """A screened caseload: every row accounted for, the determinations counted, the lists, each department's
    workload and each holder's data requests. The CLI (``--json``) and the API answer with it; the report shows it."""

    entity: str
    as_of: dt.date
    kb_version: str
    lang: str
    rows_in: int
    screened: int
    rejected: int
    people: int
    seconds: float
    households_per_second: int | None
    peak_rss_mb: int | None = Field(None, description="the screening process's peak memory (the CLI only)")
    by_site: dict[str, int]
    by_category: dict[str, int]
    by_measure: dict[str, dict[str, int]] = Field(description="measure id -> status -> households (sites)")
    lists: list[ListSummary]
    workload: list[Workload]
    data_requests: list[DataRequest]
    missing_facts: list[MissingFact]
    training: Amounts
    subsidies: Amounts
    site_issues: list[SiteIssue]
    errors: list[RowError] = Field(description="the first rejected rows (errors_total counts them all)")
    errors_total: int
    error_groups: list[ErrorGroupSummary] = Field(description="every rejected row, grouped by what to fix")
    warnings: list[str] = Field(description="what the reader could not read as given (columns not read …)")
    notes: list[str] = Field(description="what the reader did that is worth knowing (rows skipped …)")
    tables: list[TableRead]
    columns: list[ColumnRead] = Field(description="every column of every table, and what became of it")
    item_rows: dict[str, dict[str, int]] = Field(description="members, businesses: rows in and rows joined")
    output: str | None = None
    report: str | None = None
    errors_file: str | None = None
    requests_dir: str | None = None
    screen_id: str | None = Field(None, description="the screen as the service keeps it (the API only)")
    changes: ChangeSummary | None = Field(None, description="what changed since an earlier screen (--since)")
    tracker: TrackerSummary | None = Field(None, description="the 动态清零 tracker (a run kept in the records store)")
    overdue: OverdueSummary | None = Field(None, description="each department's overdue worklist rows (a run kept in "
                                                             "the records store)")


def _ask(kb: KB, path: str, lang: str) -> Ask:
    head, _, fact = path.partition("].")
    if not fact:
        head, fact = "", path
    number = int(head.rsplit("[", 1)[-1]) + 1 if head else None
    label = kb.fact_labels.get(fact)
    return Ask(path=path, fact=fact, question=getattr(label, lang) if label is not None else fact,
               member=number if head.startswith("members") else None,
               entity=number if head.startswith("entities") else None)


def body_name(kb: KB, body_id: str, lang: str) -> str:
    """A body's name in ``lang``: as the documents write it, or its (shorter) English name."""
    body = kb.bodies.get(body_id)
    if body is None:
        return body_id
    area = kb.jurisdictions.get(body.jurisdiction or "")
    # In English the offices of two counties read alike (County Civil Affairs Bureau): say whose.
    return message("words", "body_of_area" if area else "body", lang, {"body": body, "area": area})


def _question(kb: KB, fact: str, lang: str) -> str:
    label = kb.fact_labels.get(fact)
    return getattr(label, lang) if label is not None else fact


def summarize(kb: KB, run: ScreenRun | ScreenTotals, lang: str = "zh", *, files: bool = True,
              peak_rss_mb: int | None = None, folder: str | None = None) -> ScreenSummary:
    """The summary of a screen; ``files``: name the files written (the CLI), not the server's (the API), whose
    uploads are in ``folder``."""
    if isinstance(run, ScreenRun):
        t, item_rows, written = run.totals, run.item_rows, run.requests_files
        reading = run.reading(lang, ERRORS_LISTED)
    else:
        t, item_rows, written = run, run.item_rows, {}
        reading = {"tables": [], "columns": [], "warnings": [], "notes": [], "error_groups": [],
                   "errors": [{"file": e.file, "row": e.row, "column": e.column, "reason": e.text(lang),
                               "kind": e.kind} for e in run.errors[:ERRORS_LISTED]]}
    lists = []
    for item in kb.lists:
        lt = t.lists.get(item.id)
        if lt is None:
            continue
        lists.append(ListSummary(
            id=item.id, title=getattr(item, lang), meaning=getattr(item, f"meaning_{lang}"),
            reading=getattr(item, f"note_{lang}", None) or item.note,
            confirmed=ListGroup(count=lt.confirmed, households=[
                ListedHousehold(household=h, name=n or None, site=s or None) for h, n, s in lt.confirmed_rows]),
            to_check=ListGroup(count=lt.to_check, households=[
                ListedHousehold(household=h, name=n or None, site=s or None, ask=[_ask(kb, p, lang) for p in ps])
                for h, n, s, ps in lt.to_check_rows],
                asked=[FactCount(fact=f, question=_question(kb, f, lang), count=v) for f, v in lt.asked.most_common()])))
    carried: dict[str, list[str]] = {}
    for mid, counts in t.status_counts.items():
        needs = counts.get("applies", 0) + counts.get("undetermined", 0) + counts.get("violated", 0) + \
            counts.get("not_due", 0)
        m = kb.measures.get(mid)
        if not needs or m is None:
            continue
        carriers = carriers_of(kb, mid)
        if carriers is not None:
            for body in carriers or ("",):
                carried.setdefault(body, []).append(mid)
    workload = [Workload(body_id=body or None, name=body_name(kb, body, lang) if body else None,
                         households=counts["all"], actions={a: counts[a] for a in ACTIONS if counts.get(a)},
                         measures=sorted(carried.get(body, [])))
                for body, counts in sorted(t.workload.items(), key=lambda kv: (not kv[0], -kv[1]["all"]))
                if counts["all"]]
    requests = []
    for body, rt in sorted(t.requests.items(), key=lambda kv: (not kv[0], -kv[1].pairs)):
        registers = [RegisterRef(id=r, name=getattr(kb.registers[r], lang), basis=kb.registers[r].basis,
                                 reason=kb.registers[r].reason, requests=v)
                     for r, v in rt.registers.most_common() if r]
        requests.append(DataRequest(
            body_id=body or None, name=body_name(kb, body, lang) if body else None, registers=registers,
            households=rt.households, requests=rt.pairs,
            facts=[FactCount(fact=f, question=_question(kb, f, lang), count=v) for f, v in rt.by_fact.most_common()],
            listed=[RequestRow(household=h, name=n or None, site=s or None, ask=_ask(kb, p, lang))
                    for h, n, s, p in rt.listed],
            file=written.get(body) if files else None))
    missing = []
    for fact, n in t.missing.most_common(TOP):
        held = [kb.registers[r].body for r, _ in t.missing_holder[fact].most_common() if r]
        missing.append(MissingFact(fact=fact, question=_question(kb, fact, lang), settles=n,
                                   held_by=list(dict.fromkeys(body_name(kb, b, lang) for b in held))))
    return ScreenSummary(
        entity=t.entity, as_of=t.as_of, kb_version=t.kb_version, lang=lang, rows_in=t.rows_in, screened=t.screened,
        rejected=t.rejected, people=t.people, seconds=round(t.seconds, 3),
        households_per_second=int(t.screened / t.seconds) if t.seconds else None, peak_rss_mb=peak_rss_mb,
        by_site=dict(t.by_site.most_common()), by_category=dict(t.by_category.most_common()),
        by_measure={m: dict(c) for m, c in sorted(t.status_counts.items())}, lists=lists, workload=workload,
        data_requests=requests, missing_facts=missing,
        # Totals rounded to the cent: a sum of floats varies in its last bits with the order it was added in.
        training=Amounts(count=t.training_count, total=round(t.training_total, 2),
                         listed=[Shortfall(household=h, member=k, value=v) for h, k, v in t.training]),
        subsidies=Amounts(count=t.subsidy_count, total=round(t.subsidy_total, 2),
                          listed=[Shortfall(household=h, entity=k, value=v) for h, k, v in t.subsidies]),
        site_issues=[SiteIssue(site=a, measure=b, status=c, clause=d) for a, b, c, d in t.site_issues[:LISTED_ISSUES]],
        errors=[RowError(**{**e, "file": _unfoldered(e["file"], files, folder)}) for e in reading["errors"]],
        errors_total=len(t.errors),
        error_groups=[ErrorGroupSummary(**{**g, "file": _unfoldered(g["file"], files, folder),
                                             "text": _unfoldered(g["text"], files, folder)})
                      for g in reading["error_groups"]],
        warnings=[_unfoldered(w, files, folder) for w in reading["warnings"]],
        notes=[_unfoldered(n, files, folder) for n in reading["notes"]],
        tables=[TableRead(**{k: _unfoldered(v, files, folder) if isinstance(v, str) else v for k, v in tb.items()})
                for tb in reading["tables"]],
        columns=[ColumnRead(**{**c, "source": _unfoldered(c["source"], files, folder)}) for c in reading["columns"]],
        item_rows={k: {"rows": a, "joined": b} for k, (a, b) in item_rows.items()},
        output=str(run.output) if files and isinstance(run, ScreenRun) and run.output else None,
        report=str(run.report) if files and isinstance(run, ScreenRun) and run.report else None,
        errors_file=str(run.errors_path) if files and isinstance(run, ScreenRun) and run.errors_path else None,
        requests_dir=str(run.requests) if files and isinstance(run, ScreenRun) and run.requests else None,
        changes=run.changes if isinstance(run, ScreenRun) and isinstance(run.changes, ChangeSummary) else None,
        tracker=run.tracker if isinstance(run, ScreenRun) and isinstance(run.tracker, TrackerSummary) else None,
        overdue=run.overdue if isinstance(run, ScreenRun) and isinstance(run.overdue, OverdueSummary) else None)


#: Site issues listed (all are counted in by_measure).
LISTED_ISSUES = 200


def _unfoldered(text: str, files: bool, folder: str | None = None) -> str:
    """A note or a table's source without the folders of the files it names (no server path in an API answer):
    the upload folder cut where it is known, and any other absolute path cut to its file name. A value the
    text quotes (a date written 1966/5/8) is no path: a path starts the text or follows a space or a quote."""
    if files:
        return text
    import re

    if folder:
        text = text.replace(folder.rstrip("/") + "/", "")
    return re.sub(r"(?<![\w/.\\])/(?:[^/\s»:]+/)+([^/\s»:]+)", r"\1", text)


# --- what changed since an earlier screen ------------------------------------------------------------------------


def compare_determinations(old: pa.Table, new: pa.Table) -> tuple[pa.Table, list[str], list[str]]:
    """Each (household, measure) whose status changed between two determinations tables, of the households in
    both, with its kind (CHANGE_KINDS) and owners; and the households that joined and that left. A status that
    changes in another way (applies to does not apply … is no_longer_applies; satisfied to applies is
    newly_applies) is named by where it arrives."""
    import pyarrow.compute as pc

    def strings(t: pa.Table, names: list[str]) -> pa.Table:
        return pa.table({n: t.column(n).cast(pa.string()) for n in names})

    o = strings(old, ["household", "measure", "status", "owners"]).rename_columns(
        ["household", "measure", "before", "owners_before"])
    n = strings(new, ["household", "measure", "status", "owners"]).rename_columns(
        ["household", "measure", "after", "owners"])
    old_ids, new_ids = pc.unique(o.column("household")), pc.unique(n.column("household"))
    joined = pc.filter(new_ids, pc.invert(pc.is_in(new_ids, value_set=old_ids))).to_pylist()
    left = pc.filter(old_ids, pc.invert(pc.is_in(old_ids, value_set=new_ids))).to_pylist()
    both = pc.filter(new_ids, pc.is_in(new_ids, value_set=old_ids))
    o = o.filter(pc.is_in(o.column("household"), value_set=both))
    n = n.filter(pc.is_in(n.column("household"), value_set=both))
    j = n.join(o, keys=["household", "measure"], join_type="full outer")
    before, after = j.column("before"), j.column("after")
    changed = pc.fill_null(pc.not_equal(before, after), True)
    j = j.filter(changed)
    before, after = j.column("before").fill_null(""), j.column("after").fill_null("")
    kind = pc.case_when(
        pc.make_struct(pc.equal(after, "applies"), pc.equal(after, "satisfied"), pc.equal(after, "undetermined"),
                       pc.is_in(before, value_set=pa.array(["applies", "satisfied"])),
                       field_names=["a", "b", "c", "d"]),
        "newly_applies", "newly_satisfied", "newly_undetermined", "no_longer_applies")
    owners = pc.coalesce(j.column("owners"), j.column("owners_before"))
    out = pa.table({"household": j.column("household"), "measure": j.column("measure"), "kind": kind,
                    "before": j.column("before"), "after": j.column("after"), "owners": owners})
    out = out.filter(pc.is_valid(out.column("kind")))
    return out.sort_by([("household", "ascending"), ("measure", "ascending")]), sorted(joined), sorted(left)


def change_summary(kb: KB, since: str, changes: pa.Table, joined: list[str], left: list[str], lang: str,
                   file: str | None = None) -> ChangeSummary:
    import pyarrow.compute as pc

    counts = {k: 0 for k in CHANGE_KINDS}
    for k, v in zip(*(pc.value_counts(changes.column("kind")).flatten()), strict=True):
        counts[k.as_py()] = v.as_py()
    listed = []
    for r in changes.slice(0, LISTED_CHANGES).to_pylist():
        m = kb.measures.get(r["measure"])
        listed.append(Change(household=r["household"], measure=r["measure"],
                             text=getattr(m, lang) if m is not None else r["measure"], kind=r["kind"],
                             before=r["before"], after=r["after"], owners=r["owners"] or ""))
    return ChangeSummary(since=since, counts=counts, households=len(pc.unique(changes.column("household"))),
                         joined=len(joined), left=len(left), joined_listed=joined[:LISTED_CHANGES],
                         left_listed=left[:LISTED_CHANGES], listed=listed, file=file)


#: Changes the report lists (every one is counted, and all are in the CSV file).
LISTED_CHANGES = 200


def list_changes(kb: KB, before: dict[str, tuple[set[str], set[str]]], now: dict[str, tuple[list[str], list[str]]],
                 left: set[str], lang: str) -> list[ListChange]:
    """Per list: households confirmed now and not before (new), and confirmed before, now neither confirmed nor to
    check, and not gone from the caseload (cleared)."""
    out = []
    for item in kb.lists:
        was_yes, _ = before.get(item.id, (set(), set()))
        yes, maybe = (set(x) for x in now.get(item.id, ([], [])))
        new = sorted(yes - was_yes)
        cleared = sorted(was_yes - yes - maybe - left)
        out.append(ListChange(list_id=item.id, title=getattr(item, lang), new=len(new), cleared=len(cleared),
                              new_listed=new[:LISTED_CHANGES], cleared_listed=cleared[:LISTED_CHANGES]))
    return out
