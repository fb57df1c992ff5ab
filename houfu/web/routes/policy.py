"""The policy staff's pages (supervisors only; a stranger is sent to /login, a caseworker told no): a site's
form, a department's brief, the responsibility graph and a clause with the households it touched."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse

import houfu
from houfu.io.inputs import InputError, parse_record, stripped_warnings
from houfu.io.reader import ReadError, read_bytes
from houfu.kb.facts import Site
from houfu.kb.loader import KBError
from houfu.kb.query import show
from houfu.present.briefs import department_context, render_brief
from houfu.present.letters import short_cite

from ..deps import (
    MAX_BODY,
    CsrfChecked,
    KbDep,
    Lang,
    PagesDep,
    ServiceDep,
    SupervisorPage,
    supervisor_page,
)
from ..errors import BadRequest

router = APIRouter(include_in_schema=False, dependencies=[Depends(supervisor_page)])


@router.get("/sites", response_class=HTMLResponse)
def sites_page(request: Request, pages: PagesDep, lang: Lang = "zh") -> HTMLResponse:
    return pages.render("service_site.html.j2", lang, request, error="", text="")


@router.post("/sites")
def new_site(request: Request, user: SupervisorPage, _: CsrfChecked, service: ServiceDep,
             text: str = Form(..., max_length=MAX_BODY), lang: Lang = Form("zh")) -> Any:
    try:
        got = read_bytes(text.encode("utf-8"), as_json=False)
        record = parse_record(got.data, Site, "form", service.kb)
        report = service.decide(record, None, user, text, stripped_warnings(got.stripped).get(0))
    except (ReadError, InputError, BadRequest) as exc:
        return service.pages.render("service_site.html.j2", lang, request, error=f"{exc.field}: {exc.message}",
                                    text=text)
    return RedirectResponse(f"/records/{report.record_id}?lang={lang}", status_code=303)


@router.get("/departments/{name}", response_class=HTMLResponse)
def department_page(name: str, kb: KbDep, lang: Lang = "zh") -> HTMLResponse:
    try:
        duties = houfu.duties(name[:100], kb=kb)
    except KBError as exc:
        raise HTTPException(404, exc.message) from None
    return HTMLResponse(render_brief("department", department_context(kb, duties, lang), lang, "html"))


@router.get("/graph", response_class=HTMLResponse)
def graph_page(request: Request, kb: KbDep, pages: PagesDep, document: str = "", lang: Lang = "zh") -> HTMLResponse:
    # matplotlib, loaded when the graph is first drawn
    from houfu.present.pictures import matrix_picture

    doc = document if document in kb.documents else None
    return pages.render("service_graph.html.j2", lang, request,
                        pic=matrix_picture(kb, houfu.responsibility_graph(kb=kb), doc), document=doc,
                        documents={d: short_cite(kb, d, "", lang).strip() for d in kb.documents},
                        cite=lambda d, n: short_cite(kb, d, n, lang))


@router.get("/clauses/{clause_id}", response_class=HTMLResponse)
def clause_page(request: Request, clause_id: str, service: ServiceDep, lang: Lang = "zh") -> HTMLResponse:
    try:
        item = show(service.kb, clause_id[:100])
    except KBError as exc:
        raise HTTPException(404, exc.message) from None
    if item.get("kind") == "measure":
        raise HTTPException(404, f"{clause_id} is a measure; its clause is {item['clause_id']}")
    # The households and sites it touched: the latest records with a measure of this clause that applies, read from
    # the records' search keys (parsing the last 500 reports took 4.5 s).
    touched = service.store.touching(item["id"], limit=100)
    rules = {m["id"]: service.evaluator.rule_text(m["id"]) for m in item["measures"]}
    return service.pages.render("service_clause.html.j2", lang, request, clause=item, touched=touched,
                                rules=rules)
