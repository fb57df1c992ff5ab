"""The caseworker's pages (caseworkers and supervisors; a stranger is sent to /login): the home page and its
form, the interview, a decision record with its letter and its reasons, a household's history and the
difference between two of its records. Server-rendered jinja2 in zh (``?lang=en`` for English), no JavaScript
needed."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from houfu.engine.results import Firing, Report
from houfu.io.household_form import MAX_ROWS, FormProblem, whole_number
from houfu.io.inputs import InputError, parse_record, stripped_warnings
from houfu.io.reader import ReadError, decode, read_bytes
from houfu.kb.facts import Household
from houfu.kb.loader import KB, FieldError
from houfu.present.briefs import render_brief
from houfu.present.interview import (
    answers_so_far,
    apply_answers,
    change_answer,
    fact_answer,
    form_view,
    household_entered,
    next_questions,
    reasons,
    rule_label,
    why_not,
)
from houfu.present.letters import (
    action_summary,
    amounts_for,
    household_letter,
    question,
    short_cite,
    split_refs,
)
from houfu.records.finder import fold, record_prefix
from houfu.records.store import (
    AmbiguousRecord,
    DecisionRecord,
    RecordError,
    diff_records,
    explain_record,
    status_changes,
)

from ..deps import (
    MAX_BODY,
    CaseworkerPage,
    CsrfChecked,
    Lang,
    Pages,
    PagesDep,
    Service,
    ServiceDep,
    SupervisorPage,
    caseworker_page,
)
from ..errors import BadRequest, Denied, Redirect

router = APIRouter(include_in_schema=False, dependencies=[Depends(caseworker_page)])

#: Questions the interview page asks at a time, most decisive first.
INTERVIEW_BATCH = 3


@router.get("/", response_class=HTMLResponse)
def home(request: Request, service: ServiceDep, lang: Lang = "zh") -> HTMLResponse:
    return _home(request, service, lang, {}, [])


def _home(request: Request, service: Service, lang: Lang, form: Mapping[str, str], problems: list[FormProblem],
          members: int | None = None, entities: int | None = None) -> HTMLResponse:
    """The household form (with what was entered and each problem beside its field) and the paste box."""
    view = form_view(service.kb, form, members, entities)
    by_field: dict[str, list[str]] = {}
    for p in problems:
        by_field.setdefault(p.field.split(":")[0], []).append(p.text(lang))
    return service.pages.render("service_home.html.j2", lang, request, view=view, problems=by_field,
                                text=str(form.get("text", "")))


async def _entered(request: Request) -> dict[str, str]:
    """A form post's fields as text; an uploaded file (YAML, JSON or a ledger's rows) read as the pasted text is."""
    out: dict[str, str] = {}
    for key, value in (await request.form()).multi_items():
        if isinstance(value, str):
            out[key] = value
        elif key == "upload" and value.filename:
            data = await value.read(MAX_BODY + 1)
            try:
                out["text"] = decode(data[:MAX_BODY], None)[0]
            except ReadError:
                out["text"] = data[:MAX_BODY].decode("utf-8", "replace")
    return out


@router.post("/households", response_class=HTMLResponse)
async def new_household(request: Request, user: CaseworkerPage, _: CsrfChecked, service: ServiceDep,
                        lang: Lang = Form("zh")) -> Any:
    """The household form or the pasted text: add a row, start the interview, or decide and keep the record."""
    form = await _entered(request)
    go = form.get("go", "decide")
    if go in ("add_member", "add_entity"):
        more = (1, 0) if go == "add_member" else (0, 1)
        return _home(request, service, lang, form, [], _count(form, "members_n") + more[0],
                     _count(form, "entities_n") + more[1])
    raw, problems = household_entered(service.kb, form)
    if problems:
        return _home(request, service, lang, form, problems)
    if go == "interview":
        return _interview_page(request, service, service.pages, lang, raw, [], {}, {})
    try:
        warnings = None
        if form.get("text"):  # characters the reader removes from pasted text are warnings on the record
            with contextlib.suppress(ReadError):
                warnings = stripped_warnings(read_bytes(form["text"].encode("utf-8"), as_json=False).stripped).get(0)
        report = service.decide(parse_record(raw, Household, "form", service.kb), None, user,
                                form.get("text") or json.dumps(raw, ensure_ascii=False), warnings)
    except (InputError, BadRequest) as exc:
        return _home(request, service, lang, form, [FormProblem("text", "not_accepted",
                                                                {"detail": f"{exc.field}: {exc.message}"})])
    return RedirectResponse(f"/records/{report.record_id}?lang={lang}", status_code=303)


def _count(form: Mapping[str, str], key: str) -> int:
    return min(whole_number(form.get(key, "0") or "0") or 0, MAX_ROWS - 1)


# --- a decision record ------------------------------------------------------------------------------------------

def _record_or_404(request: Request, user: CaseworkerPage, service: ServiceDep, record_id: str) -> DecisionRecord:
    """A record the user may read (logged), by its id or a unique prefix of 8 characters or more, else 404 (one
    they may not read is not said to exist); a prefix that starts several goes to the search, which lists them."""
    try:
        return service.read(user, record_id, "page")
    except AmbiguousRecord:
        lang = request.query_params.get("lang", "zh")
        raise Redirect(f"/search?q={quote(record_id[:64], safe='')}&lang={'en' if lang == 'en' else 'zh'}") from None
    except RecordError as exc:
        raise HTTPException(404, str(exc)) from None


RecordDep = Annotated[DecisionRecord, Depends(_record_or_404)]


@router.get("/records/{record_id}", response_class=HTMLResponse)
def record_page(request: Request, rec: RecordDep, service: ServiceDep, lang: Lang = "zh") -> HTMLResponse:
    kb = service.kb
    household = rec.entity == "household"
    summary = action_summary(kb, rec.report, lang) if household else None
    return service.pages.render(
        "service_record.html.j2", lang, request, rec=rec, report=rec.report, summary=summary,
        cite=lambda doc, number: short_cite(kb, doc, number, lang),
        why_not=lambda d: why_not(kb, rec.report, d), amounts=lambda d: amounts_for(kb, d),
        ask=lambda fact: question(kb, fact, rec.report.member_names, lang, rec.report.entity_names),
        given=answers_so_far(kb, rec.input) if household else [],
        state=json.dumps(rec.input, ensure_ascii=False), skipped="[]", problems={}, answers={})


@router.get("/records/{record_id}/letter", response_class=HTMLResponse)
def letter_page(rec: RecordDep, service: ServiceDep, lang: Lang = "zh") -> HTMLResponse:
    return HTMLResponse(render_brief("household", household_letter(service.kb, rec.report, lang), lang, "html"))


@router.get("/records/{record_id}/why/{measure_id}", response_class=HTMLResponse)
def why_page(request: Request, rec: RecordDep, measure_id: str, service: ServiceDep, lang: Lang = "zh") -> HTMLResponse:
    kb = service.kb
    entry = rec.report.by_id(measure_id[:100])
    if entry is None:
        raise HTTPException(404, f"record {rec.record_id} has no measure {measure_id[:100]!r}")
    return service.pages.render(
        "service_why.html.j2", lang, request, rec=rec, report=rec.report, d=entry, amounts=amounts_for(kb, entry),
        x=explain_record(service.evaluator, rec, entry.measure_id), split_refs=split_refs,
        ask=lambda fact: question(kb, fact, rec.report.member_names, lang, rec.report.entity_names),
        cite=lambda doc, number: short_cite(kb, doc, number, lang), quote_of=lambda f: _quote(kb, f),
        reasons=lambda failed: reasons(kb, rec.report, failed), label=lambda name: rule_label(kb, name, lang))


def _quote(kb: KB, firing: Firing) -> str:
    """The verbatim text behind a rule that fired: the concept's or the measure's quote, else its clause."""
    if firing.kind.value == "concept" and firing.name in kb.concepts:
        return kb.concepts[firing.name].quote
    if firing.name in kb.measures:
        return kb.measures[firing.name].quote
    return kb.clauses[firing.clause_id].text


# --- a household's records ------------------------------------------------------------------------------------

@router.get("/households/")
def find_household(hid: str = "", lang: Lang = "zh") -> RedirectResponse:
    """The home page's "history by household id" form without JavaScript; an empty id goes back home (it used
    to come back here, for ever). The history page sends anything but a household's id on to the search."""
    if not hid.strip():
        return RedirectResponse(f"/?lang={lang}", status_code=303)
    return RedirectResponse(f"/households/{quote(hid[:200], safe='')}/history?lang={lang}", status_code=303)


@router.get("/search", response_class=HTMLResponse)
def search_page(request: Request, user: CaseworkerPage, service: ServiceDep, q: str = "",
                lang: Lang = "zh") -> Response:
    """Find a household again by id, name, a member's name or ID number, or a record by a short id: the
    households the user may read, the most recently decided first. A record id that names one record opens it."""
    q = q[:100]
    candidates: list[str] = []
    if record_prefix(q) is not None:
        try:
            rec = service.read(user, q)
            return RedirectResponse(f"/records/{rec.record_id}?lang={lang}", status_code=303)
        except AmbiguousRecord as exc:
            candidates = exc.candidates
        except RecordError:
            pass
    hits = service.search(user, q) if q.strip() else []
    return service.pages.render("service_search.html.j2", lang, request, q=q, hits=hits, candidates=candidates)


# An id may hold a "/" (a county's own numbering, 定南/2023/0417): the routes of a household take the rest of the
# path, and each ends in its action (…/diff, …/reads, …/history), so the id is everything between /households/ and
# the last segment (the path converter is greedy): an id that itself ends in "/diff" or "/reads" is reachable
# (/households/a/diff/history is a/diff's history). The bare /households/{id} is kept for old links; it is the
# history of any id that does not end in one of the actions.

@router.get("/households/{household_id:path}/diff", response_class=HTMLResponse)
def diff_page(request: Request, household_id: str, before: str, after: str, user: CaseworkerPage,
              service: ServiceDep, pages: PagesDep, lang: Lang = "zh") -> HTMLResponse:
    try:
        diff = diff_records(service.read(user, before, "page"), service.read(user, after, "page"))
    except RecordError as exc:
        raise HTTPException(404, str(exc)) from None
    if household_id not in (diff.before.subject_id, diff.after.subject_id):
        raise HTTPException(404, f"neither record is of {household_id[:200]!r}")
    names = diff.after.report.member_names
    return pages.render("service_diff.html.j2", lang, request, household_id=household_id, diff=diff,
                        measures={d.measure_id: d for d in diff.after.report.determinations},
                        fact=lambda path, value: fact_answer(service.kb, path, value, names))


@router.get("/households/{household_id:path}/reads", response_class=HTMLResponse)
def reads_page(request: Request, household_id: str, user: SupervisorPage, service: ServiceDep,
               lang: Lang = "zh") -> HTMLResponse:
    """Who read this household's records, and when (supervisors)."""
    return service.pages.render("service_reads.html.j2", lang, request, household_id=household_id,
                                reads=service.store.reads(household_id[:200]))


@router.get("/households/{household_id:path}", response_class=HTMLResponse)  # registered second: a catch-all
@router.get("/households/{household_id:path}/history", response_class=HTMLResponse)
def history(request: Request, household_id: str, user: CaseworkerPage, service: ServiceDep,
            lang: Lang = "zh") -> Response:
    """A household's records, newest first. An id typed another way (case, spaces, full-width characters) goes to
    the household it names, and anything else to the search."""
    records = service.history(user, household_id)
    if not records and household_id.strip():
        hits = service.search(user, household_id[:100])
        same = [h for h in hits if "id" in h.matched and fold(h.subject_id) == fold(household_id)]
        if len(same) == 1:
            return RedirectResponse(f"/households/{quote(same[0].subject_id, safe='')}/history?lang={lang}",
                                    status_code=303)
        if hits:
            return RedirectResponse(f"/search?q={quote(household_id[:100], safe='')}&lang={lang}", status_code=303)
    return service.pages.render("service_history.html.j2", lang, request, household_id=household_id,
                                records=records, supervisor=user.role == "supervisor")


# --- the interview: the shared questions (ranked, gated, with choices), a few at a time ---------------------------

@router.post("/interview", response_class=HTMLResponse)
async def interview(request: Request, user: CaseworkerPage, _: CsrfChecked, service: ServiceDep,
                    lang: Lang = Form("zh")) -> Any:
    """Start (the household form, or ``text``: what is known so far), go on (``state`` and the answers
    ``fact_i``/``answer_i``), or change one answer given before from the side panel (``edit_fact``,
    ``edit_answer``): the determinations are made again and the interview goes on from there."""
    kb, pages = service.kb, service.pages
    form = await _entered(request)
    if "state" not in form:
        raw, start_problems = household_entered(kb, form)
        if start_problems:
            return _home(request, service, lang, form, start_problems)
        return _interview_page(request, service, pages, lang, raw, [], {}, {})
    try:
        raw = json.loads(form["state"])
        skipped: list[str] = [str(x) for x in json.loads(form.get("skipped", "[]"))]
        report = service.evaluator.determine(parse_record(raw, Household, "interview", kb), None)
    except (ValueError, TypeError, InputError, FieldError):
        raise Denied(400, "the interview's state is damaged; start again from the home page", True,
                     kind="state") from None
    if "edit_fact" in form:
        raw, problems = change_answer(kb, raw, form["edit_fact"], form.get("edit_answer", ""))
        if not problems:
            skipped = [f for f in skipped if f != form["edit_fact"]]
        answers = {form["edit_fact"]: form.get("edit_answer", "")} if problems else {}
        return _interview_page(request, service, pages, lang, raw, skipped, problems, answers,
                               None if problems else report)
    given = [(form.get(f"fact_{i}", ""), form.get(f"answer_{i}", "").strip()) for i in range(INTERVIEW_BATCH)]
    raw, blank, problems = apply_answers(raw, {q.fact: q for q in next_questions(kb, raw, report)}, given, kb)
    skipped += blank
    answers = {fact: text for fact, text in given if fact in problems}  # shown again beside their problem
    if form.get("finish") and not problems:
        # As received: what the caseworker entered to start with and every answer accepted since, as JSON.
        done = service.decide(parse_record(raw, Household, "interview", kb), None, user,
                              json.dumps(raw, ensure_ascii=False))
        return RedirectResponse(f"/records/{done.record_id}?lang={lang}", status_code=303)
    return _interview_page(request, service, pages, lang, raw, skipped, problems, answers)


def _interview_page(request: Request, service: Service, pages: Pages, lang: Lang, raw: dict[str, Any],
                    skipped: list[str], problems: dict[str, Any], answers: dict[str, str],
                    before: Report | None = None) -> HTMLResponse:
    """The next questions, the determinations so far, the answers in the side panel; after a change from the side
    panel (``before``: the report before it), the determinations it changed."""
    kb = service.kb
    try:
        record = parse_record(raw, Household, "interview", kb)
        report = service.evaluator.determine(record, None)
    except (InputError, FieldError) as exc:
        return _home(request, service, lang, {"text": json.dumps(raw, ensure_ascii=False, indent=2)},
                     [FormProblem("text", "not_accepted", {"detail": f"{exc.field}: {exc.message}"})])
    questions = [q for q in next_questions(kb, raw, report) if q.fact not in skipped][:INTERVIEW_BATCH]
    return pages.render("service_interview.html.j2", lang, request, report=report, questions=questions,
                        summary=action_summary(kb, report, lang), state=json.dumps(raw, ensure_ascii=False),
                        skipped=json.dumps(skipped), problems=problems, answers=answers,
                        given=answers_so_far(kb, raw), warnings=report.warnings,
                        changed=status_changes(before, report) if before is not None else None,
                        names={d.measure_id: d for d in report.determinations})
