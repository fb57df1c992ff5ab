"""``houfu serve``: the JSON API and the caseworker's pages, each route one call into the library.

Every determination made here is kept as a decision record (``app.records``) and answered with its
``record_id``. Request bodies go through the same hardened reader and strict parser as the CLI, so a bad
body gets the same one-line, field-named error, as JSON. Pages are server-rendered jinja2 in zh (``?lang=en``
for English) and work without JavaScript.

Access: users log in (``houfu users add``); a caseworker creates and reads households, a supervisor also sees
sites and every record. Passwords are argon2 hashes; the session is a signed cookie (HttpOnly, Secure,
SameSite=Strict) and every form carries a CSRF token. The API also takes HTTP Basic credentials, for another
system. In ``--dev`` mode nobody logs in, and every page says so.
"""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path
from typing import Any

from fastapi import FastAPI, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from houfu.engine.evaluator import Evaluator
from houfu.engine.results import Firing, Report
from houfu.io.inputs import InputError, parse_record
from houfu.io.privacy import mask_personal
from houfu.io.reader import LIMITS, ReadError, read_bytes
from houfu.kb.facts import Household, Site
from houfu.kb.loader import KB, FieldError, KBError
from houfu.present.numbers import for_people
from houfu.records.store import DecisionRecord, RecordError, RecordStore
from houfu.screen.summary import ScreenSummary

__all__ = ["create_app"]

#: The largest request body accepted (the CLI's file limit).
MAX_BODY = LIMITS.max_bytes
#: The largest caseload upload accepted by POST /v1/screen (all files together).
MAX_UPLOAD = 200 * 1024 * 1024
#: Questions the interview page asks at a time, most decisive first.
INTERVIEW_BATCH = 3


class BadRequest(Exception):
    def __init__(self, field: str, message: str, status: int = 422):
        self.field, self.message, self.status = field, message, status


def _record_schema(model: type[Household] | type[Site]) -> dict[str, Any]:
    return {"requestBody": {"required": True, "content": {
        "application/json": {"schema": model.model_json_schema()},
        "application/yaml": {"schema": {"type": "string"}}}}}


class Denied(Exception):
    def __init__(self, status: int, message: str, page: bool):
        self.status, self.message, self.page = status, message, page


def create_app(kb: KB, evaluator: Evaluator, store: RecordStore, dev: bool = False,
               secret: str | None = None) -> FastAPI:
    """The service over one knowledge base, evaluator and record store."""
    import base64
    import secrets

    import jinja2
    from starlette.middleware.sessions import SessionMiddleware

    from houfu.records.store import Users

    app = FastAPI(title="houfu", version=kb.version,
                  description="Post-relocation follow-up support (易地扶贫搬迁后续扶持): which measures apply to a "
                              "household or site, why, who owns them, and what is missing. Every determination is "
                              "kept as a decision record.")
    app.add_middleware(SessionMiddleware, secret_key=secret or secrets.token_urlsafe(32), https_only=True,
                       same_site="strict", session_cookie="houfu_session", max_age=8 * 3600)
    users = Users(store)
    lock = threading.Lock()  # the record store's writes, in order
    pages = jinja2.Environment(loader=jinja2.PackageLoader("houfu.templates", "."), autoescape=True,
                               undefined=jinja2.StrictUndefined)
    pages.filters["mask"] = mask_personal  # list views mask ID and phone numbers (防返贫 publicity rules)
    pages.filters["as_given"] = _as_given
    pages.filters["num"] = for_people  # 10,000 and 9,360.5, never 10000.0

    @app.exception_handler(BadRequest)
    async def bad_request(_: Request, exc: BadRequest) -> JSONResponse:
        return _error(exc.field, f"{exc.field}: {exc.message}", exc.status)

    @app.exception_handler(RequestValidationError)
    async def bad_params(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {"loc": ["-"], "msg": "invalid request"}
        where = ".".join(str(x) for x in first.get("loc", ["-"]))
        return _error(where, f"{where}: {first.get('msg')}", 422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _error("-", str(exc.detail), exc.status_code)

    @app.exception_handler(Exception)
    async def internal(_: Request, exc: Exception) -> JSONResponse:  # never an HTML traceback
        return _error("-", f"internal error: {type(exc).__name__}", 500)

    @app.exception_handler(Denied)
    async def denied(request: Request, exc: Denied) -> Any:
        if exc.page and exc.status == 401:
            return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
        if exc.page:
            return HTMLResponse(f"<p>{exc.message}</p>", status_code=exc.status)
        return _error("-", exc.message, exc.status, {"WWW-Authenticate": "Basic"} if exc.status == 401 else None)

    def who(request: Request, page: bool, role: str = "caseworker") -> str:
        """The logged-in user (session, or HTTP Basic for the API); a supervisor may do what a caseworker may."""
        if dev:
            return "dev"
        name, got = request.session.get("user"), request.session.get("role")
        auth = request.headers.get("authorization", "")
        if not name and auth.lower().startswith("basic ") and not page:
            try:
                user, _, password = base64.b64decode(auth[6:]).decode("utf-8").partition(":")
            except (ValueError, UnicodeDecodeError):
                user, password = "", ""
            got = users.check(user, password)
            name = user if got else None
        if not name or not got:
            raise Denied(401, "log in first", page)
        if role == "supervisor" and got != "supervisor":
            raise Denied(403, "only a supervisor may see this", page)
        return str(name)

    def csrf(request: Request) -> str:
        token = request.session.get("csrf")
        if not token:
            token = request.session["csrf"] = secrets.token_urlsafe(24)
        return str(token)

    def check_csrf(request: Request, token: str) -> None:
        if not dev and not secrets.compare_digest(token, str(request.session.get("csrf", ""))):
            raise Denied(403, "the form has expired; reload the page and try again", True)

    async def body_record(request: Request, model: type[Household] | type[Site]) -> tuple[Household | Site, str]:
        """The body parsed by the CLI's reader, and its text exactly as received."""
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > MAX_BODY:
            raise BadRequest("-", f"{int(length):,} bytes; at most {MAX_BODY:,} are accepted", 413)
        body = await request.body()
        if len(body) > MAX_BODY:
            raise BadRequest("-", f"{len(body):,} bytes; at most {MAX_BODY:,} are accepted", 413)
        as_json = "yaml" not in request.headers.get("content-type", "json")
        try:
            raw = read_bytes(body, as_json).data
            return parse_record(raw, model, "body", kb), body.decode("utf-8", "replace")
        except ReadError as exc:
            raise BadRequest(exc.field, exc.message) from None
        except InputError as exc:
            raise BadRequest(exc.field, exc.message) from None

    def decide(record: Household | Site, as_of: dt.date | None, user: str, received: str) -> Report:
        try:
            report = evaluator.determine(record, as_of)
        except FieldError as exc:
            raise BadRequest(exc.field, exc.message) from None
        with lock:
            rid = store.add(record, report, user, received)
        return report.model_copy(update={"record_id": rid})

    # --- the JSON API --------------------------------------------------------------------------------------

    @app.post("/v1/check", response_model=Report, openapi_extra=_record_schema(kb.models.household),
              summary="Decide a household; the answer is kept as a decision record")
    async def api_check(request: Request, as_of: dt.date | None = None) -> Report:
        user = who(request, page=False)
        record, received = await body_record(request, Household)
        return decide(record, as_of, user, received)

    @app.post("/v1/site", response_model=Report, openapi_extra=_record_schema(kb.models.site),
              summary="Decide a site's obligations; the answer is kept as a decision record")
    async def api_site(request: Request, as_of: dt.date | None = None) -> Report:
        user = who(request, page=False, role="supervisor")
        record, received = await body_record(request, Site)
        return decide(record, as_of, user, received)

    @app.post("/v1/explain", openapi_extra=_record_schema(kb.models.household), summary="Why one measure has its status")
    async def api_explain(request: Request, measure: str = Query(..., max_length=100),
                          as_of: dt.date | None = None) -> dict[str, Any]:
        who(request, page=False)
        record, _ = await body_record(request, Household)
        try:
            return evaluator.explain(record, measure, as_of).model_dump(mode="json")
        except FieldError as exc:
            raise BadRequest(exc.field, exc.message) from None

    @app.get("/v1/owners", summary="Who owns the measures matching a word or topic")
    def api_owners(request: Request, q: str = Query(..., min_length=1, max_length=100)) -> dict[str, Any]:
        import houfu

        who(request, page=False)
        return houfu.owners(q, kb=kb)

    @app.get("/v1/duties/{department}", summary="A department's duties, by document and role")
    def api_duties(request: Request, department: str,
                   jurisdiction: str | None = Query(None, max_length=100)) -> dict[str, Any]:
        import houfu

        who(request, page=False, role="supervisor")
        try:
            return houfu.duties(department[:100], jurisdiction=jurisdiction, kb=kb)
        except KBError as exc:
            raise BadRequest("department", exc.message, 404) from None

    @app.get("/v1/measures/{measure_id}", summary="One measure: its text, quote, owners and rule")
    def api_measure(request: Request, measure_id: str) -> dict[str, Any]:
        from houfu.kb.query import show

        who(request, page=False)
        try:
            return show(kb, measure_id[:100])
        except KBError as exc:
            raise BadRequest("measure_id", exc.message, 404) from None

    @app.get("/v1/records/{record_id}", summary="A decision record")
    def api_record(request: Request, record_id: str) -> dict[str, Any]:
        who(request, page=False)
        try:
            return store.get(record_id[:64]).model_dump(mode="json")
        except RecordError as exc:
            raise BadRequest("record_id", str(exc), 404) from None

    @app.post("/v1/screen", summary="Screen an uploaded caseload (CSV in UTF-8 or GBK, XLSX, Parquet or JSON Lines); "
                                    "the format is read from the content, never the file name",
              response_model=ScreenSummary, response_model_exclude_none=False)
    async def api_screen(request: Request, caseload: UploadFile = File(...), members: UploadFile | None = File(None),
                         businesses: UploadFile | None = File(None),
                         columns: UploadFile | None = File(None, description="a county's column mapping (YAML), as "
                                                                              "houfu screen --columns reads"),
                         sites: bool = False,
                         as_of: dt.date | None = None,
                         encoding: str | None = Query(None, max_length=40, description="the CSV files' text encoding "
                                                                                     "(default: detected)"),
                         jurisdiction: str | None = Query(None, max_length=100,
                                                          description="the county of rows whose own columns do not "
                                                                      "say (an id, a name or a division code)"),
                         lang: str = Query("zh", pattern="^(zh|en)$",
                                           description="the language of the labels, notes and errors"),
                         determinations: str | None = Query(None, pattern="^(csv|parquet|jsonl|xlsx)$",
                                                            description="answer with the determinations file, "
                                                                        "one row per (household, measure)")) -> Any:
        import tempfile

        from starlette.background import BackgroundTask
        from starlette.concurrency import run_in_threadpool

        from houfu.io.tables import TableError
        from houfu.screen.run import screen_files
        from houfu.screen.summary import summarize

        user = who(request, page=False, role="supervisor")
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > MAX_UPLOAD:
            raise BadRequest("-", f"{int(length):,} bytes; at most {MAX_UPLOAD:,} are accepted", 413)
        folder = Path(tempfile.mkdtemp(prefix="houfu-screen-"))
        try:
            paths, files = {}, []
            for name, upload in (("caseload", caseload), ("members", members), ("businesses", businesses)):
                if upload is not None:
                    paths[name], info = await _save_upload(upload, folder, name)
                    files.append(info)
            mapping = await _save_mapping(columns, folder) if columns is not None else None
            out = folder / f"determinations.{determinations or 'parquet'}" if determinations else None
            # Screening takes seconds for a large caseload: off the event loop, so other requests go on.
            run = await run_in_threadpool(
                screen_files, kb, evaluator, paths["caseload"], paths.get("members"), paths.get("businesses"),
                encoding, "site" if sites else "household", as_of or dt.date.today(), out, None,
                folder / "errors.csv", lang, None, 1, mapping, jurisdiction)
        except TableError as exc:
            _remove(folder)
            # "<folder>/members.csv: 年龄: reason" -> field "members" (or "members.年龄"): no server path leaks;
            # a limit refused before the work is 413, anything else the file cannot be read as is 422.
            file, _, rest = str(exc).replace(f"{folder}/", "").partition(": ")
            field, _, message = rest.partition(": ")
            where = (file.removeprefix("--") if file.startswith("--") else Path(file.split(" [")[0]).stem) + \
                ("" if field in ("-", "") else f".{field}")
            raise BadRequest(where, message or rest, exc.status) from None
        except BadRequest:
            _remove(folder)
            raise
        t = run.totals
        from houfu.engine.evaluator import HOUFU_VERSION

        # The CLI's summary (houfu screen --json), naming no server file. The screen's record keeps its counts,
        # not the households listed (their ids and names stay with the answer).
        summary = summarize(kb, run, lang, files=False)
        kept = summary.model_dump(mode="json", exclude={
            "lists": {"__all__": {"confirmed": {"households"}, "to_check": {"households"}}},
            "data_requests": {"__all__": {"listed"}}, "training": {"listed"}, "subsidies": {"listed"}})
        with lock:
            screen_id = store.add_screen(user, t.as_of, t.kb_version, HOUFU_VERSION, files, t.rows_in, t.screened,
                                         t.rejected, kept)
        answer = summary.model_copy(update={"screen_id": screen_id})
        if out is not None:
            return FileResponse(out, filename=out.name, background=BackgroundTask(_remove, folder),
                                headers={"X-Houfu-Rows-In": str(t.rows_in), "X-Houfu-Screened": str(t.screened),
                                         "X-Houfu-Rejected": str(t.rejected), "X-Houfu-Kb-Version": t.kb_version,
                                         "X-Houfu-Screen-Id": str(screen_id)})
        _remove(folder)
        return answer

    @app.get("/v1/screens", summary="The caseloads screened through the service, newest first (supervisors)")
    def api_screens(request: Request, limit: int = Query(20, ge=1, le=1000)) -> list[dict[str, Any]]:
        who(request, page=False, role="supervisor")
        return [s.model_dump(mode="json") for s in store.screens(limit)]

    @app.get("/healthz", summary="The service is up, with the knowledge base it serves and whether its database answers")
    def healthz() -> JSONResponse:
        from houfu.engine.evaluator import HOUFU_VERSION

        ok = store.healthy()
        return JSONResponse({"status": "ok" if ok else "database unavailable", "kb_version": kb.version,
                             "houfu_version": HOUFU_VERSION, "database": "ok" if ok else "down"},
                            status_code=200 if ok else 503)

    # --- the caseworker's pages ----------------------------------------------------------------------------

    def page(template: str, lang: str, request: Request, **ctx: Any) -> HTMLResponse:
        html = pages.get_template(template).render(
            lang=lang if lang in ("zh", "en") else "zh", dev=dev, kb_version=kb.version, csrf=csrf(request),
            user=request.session.get("user") or ("dev" if dev else ""), **ctx)
        return HTMLResponse(html)

    @app.get("/login", response_class=HTMLResponse, include_in_schema=False)
    def login_page(request: Request, lang: str = "zh", next: str = "/") -> HTMLResponse:
        return page("service_login.html.j2", lang, request, error="", next=next if next.startswith("/") else "/")

    @app.post("/login", include_in_schema=False)
    def login(request: Request, name: str = Form(..., max_length=100), password: str = Form(..., max_length=200),
              csrf_token: str = Form("", alias="csrf"), lang: str = Form("zh"), next: str = Form("/")) -> Any:
        check_csrf(request, csrf_token)
        role = users.check(name, password)
        if role is None:
            return page("service_login.html.j2", lang, request, error="wrong", next=next)
        request.session.clear()
        request.session.update({"user": name, "role": role, "csrf": secrets.token_urlsafe(24)})
        return RedirectResponse(next if next.startswith("/") and not next.startswith("//") else "/", status_code=303)

    @app.post("/logout", include_in_schema=False)
    def logout(request: Request, csrf_token: str = Form("", alias="csrf")) -> RedirectResponse:
        check_csrf(request, csrf_token)
        request.session.clear()
        return RedirectResponse("/login", status_code=303)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def home(request: Request, lang: str = "zh") -> HTMLResponse:
        who(request, page=True)
        return page("service_home.html.j2", lang, request, error="", text="")

    @app.post("/households", response_class=HTMLResponse, include_in_schema=False)
    def new_household(request: Request, text: str = Form(..., max_length=MAX_BODY),
                      lang: str = Form("zh"), csrf_token: str = Form("", alias="csrf")) -> Any:
        user = who(request, page=True)
        check_csrf(request, csrf_token)
        try:
            raw = read_bytes(text.encode("utf-8"), as_json=False).data
            record = parse_record(raw, Household, "form", kb)
            report = decide(record, None, user, text)
        except (ReadError, InputError, BadRequest) as exc:
            return page("service_home.html.j2", lang, request, error=f"{exc.field}: {exc.message}", text=text)
        return RedirectResponse(f"/records/{report.record_id}?lang={lang}", status_code=303)

    def record_or_404(record_id: str) -> DecisionRecord:
        try:
            return store.get(record_id[:64])
        except RecordError as exc:
            raise HTTPException(404, str(exc)) from None

    @app.get("/records/{record_id}", response_class=HTMLResponse, include_in_schema=False)
    def record_page(request: Request, record_id: str, lang: str = "zh") -> HTMLResponse:
        from houfu.present.letters import action_summary

        who(request, page=True)
        rec = record_or_404(record_id)
        from houfu.present.letters import short_cite

        summary = action_summary(kb, rec.report, lang) if rec.entity == "household" else None
        return page("service_record.html.j2", lang, request, rec=rec, report=rec.report, summary=summary,
                    cite=lambda doc, number: short_cite(kb, doc, number, lang if lang in ("zh", "en") else "zh"))

    @app.get("/records/{record_id}/letter", response_class=HTMLResponse, include_in_schema=False)
    def letter_page(request: Request, record_id: str, lang: str = "zh") -> HTMLResponse:
        from houfu.present.briefs import render_brief
        from houfu.present.letters import household_letter

        who(request, page=True)
        rec = record_or_404(record_id)
        lang = lang if lang in ("zh", "en") else "zh"
        return HTMLResponse(render_brief("household", household_letter(kb, rec.report, lang), lang, "html"))

    @app.get("/records/{record_id}/why/{measure_id}", response_class=HTMLResponse, include_in_schema=False)
    def why_page(request: Request, record_id: str, measure_id: str, lang: str = "zh") -> HTMLResponse:
        from houfu.present.letters import amounts_for, question, short_cite, split_refs
        from houfu.records.store import explain_record

        who(request, page=True)
        rec = record_or_404(record_id)
        entry = rec.report.by_id(measure_id[:100])
        if entry is None:
            raise HTTPException(404, f"record {rec.record_id} has no measure {measure_id[:100]!r}")
        lang = lang if lang in ("zh", "en") else "zh"
        return page("service_why.html.j2", lang, request, rec=rec, report=rec.report, d=entry,
                    amounts=amounts_for(kb, entry),
                    x=explain_record(evaluator, rec, entry.measure_id), split_refs=split_refs,
                    ask=lambda fact: question(kb, fact, rec.report.member_names, lang, rec.report.entity_names),
                    cite=lambda doc, number: short_cite(kb, doc, number, lang), quote_of=lambda f: _quote(kb, f))

    # --- the interview: the shared questions (ranked, gated, with choices), a few at a time ---------------------

    def interview_page(request: Request, lang: str, raw: dict[str, Any], skipped: list[str],
                       problems: dict[str, Any], answers: dict[str, str]) -> HTMLResponse:
        import json as _json

        from houfu.present.letters import action_summary

        try:
            record = parse_record(raw, Household, "interview", kb)
            report = evaluator.determine(record, None)
        except (InputError, FieldError) as exc:
            return page("service_home.html.j2", lang, request, error=f"{exc.field}: {exc.message}",
                        text=_json.dumps(raw, ensure_ascii=False, indent=2))
        questions = [q for q in report.questions if q.fact not in skipped][:INTERVIEW_BATCH]
        return page("service_interview.html.j2", lang, request, report=report, questions=questions,
                    summary=action_summary(kb, report, lang), state=_json.dumps(raw, ensure_ascii=False),
                    skipped=_json.dumps(skipped), problems=problems, answers=answers)

    @app.post("/interview", response_class=HTMLResponse, include_in_schema=False)
    async def interview(request: Request) -> Any:
        """Start (``text``: what is known so far) or go on (``state`` and the answers ``fact_i``/``answer_i``)."""
        import json as _json

        from houfu.present.interview import Problem, interpret, set_fact

        form = await request.form()
        user = who(request, page=True)
        check_csrf(request, str(form.get("csrf", "")))
        lang = str(form.get("lang", "zh"))
        if "state" not in form:
            try:
                raw = read_bytes(str(form.get("text", "")).encode("utf-8"), as_json=False).data
            except ReadError as exc:
                return page("service_home.html.j2", lang, request, error=f"{exc.field}: {exc.message}",
                            text=str(form.get("text", "")))
            if not isinstance(raw, dict):
                return page("service_home.html.j2", lang, request, error="-: expected a mapping of household facts",
                            text=str(form.get("text", "")))
            return interview_page(request, lang, raw, [], {}, {})
        try:
            raw = _json.loads(str(form["state"]))
            skipped: list[str] = [str(x) for x in _json.loads(str(form.get("skipped", "[]")))]
            report = evaluator.determine(parse_record(raw, Household, "interview", kb), None)
        except (ValueError, TypeError, InputError, FieldError):
            raise Denied(400, "the interview's state is damaged; start again from the home page", True) from None
        asked = {q.fact: q for q in report.questions}
        problems: dict[str, Problem] = {}
        answers: dict[str, str] = {}
        for i in range(INTERVIEW_BATCH):
            fact, text = str(form.get(f"fact_{i}", "")), str(form.get(f"answer_{i}", "")).strip()
            if not fact or fact not in asked:
                continue
            if not text:
                skipped.append(fact)  # not known yet: asked again later, never guessed
                continue
            value, problem = interpret(asked[fact], text, kb)
            if problem is None:
                candidate = _json.loads(_json.dumps(raw))
                set_fact(candidate, fact, value)
                try:
                    parse_record(candidate, Household, "interview", kb)
                    raw = candidate
                except InputError as exc:
                    problem = Problem("invalid", detail=exc.message)
            if problem is not None:
                problems[fact], answers[fact] = problem, text
        if form.get("finish") and not problems:
            # As received: what the caseworker entered to start with and every answer accepted since, as JSON.
            done = decide(parse_record(raw, Household, "interview", kb), None, user,
                          _json.dumps(raw, ensure_ascii=False))
            return RedirectResponse(f"/records/{done.record_id}?lang={lang}", status_code=303)
        return interview_page(request, lang, raw, skipped, problems, answers)

    # --- the policy staff's pages (supervisors) --------------------------------------------------------------

    @app.get("/sites", response_class=HTMLResponse, include_in_schema=False)
    def sites_page(request: Request, lang: str = "zh") -> HTMLResponse:
        who(request, page=True, role="supervisor")
        return page("service_site.html.j2", lang, request, error="", text="")

    @app.post("/sites", include_in_schema=False)
    def new_site(request: Request, text: str = Form(..., max_length=MAX_BODY), lang: str = Form("zh"),
                 csrf_token: str = Form("", alias="csrf")) -> Any:
        user = who(request, page=True, role="supervisor")
        check_csrf(request, csrf_token)
        try:
            record = parse_record(read_bytes(text.encode("utf-8"), as_json=False).data, Site, "form", kb)
            report = decide(record, None, user, text)
        except (ReadError, InputError, BadRequest) as exc:
            return page("service_site.html.j2", lang, request, error=f"{exc.field}: {exc.message}", text=text)
        return RedirectResponse(f"/records/{report.record_id}?lang={lang}", status_code=303)

    @app.get("/departments/{name}", response_class=HTMLResponse, include_in_schema=False)
    def department_page(request: Request, name: str, lang: str = "zh") -> HTMLResponse:
        import houfu
        from houfu.present.briefs import department_context, render_brief

        who(request, page=True, role="supervisor")
        try:
            duties = houfu.duties(name[:100], kb=kb)
        except KBError as exc:
            raise HTTPException(404, exc.message) from None
        lang = lang if lang in ("zh", "en") else "zh"
        return HTMLResponse(render_brief("department", department_context(kb, duties, lang), lang, "html"))

    @app.get("/graph", response_class=HTMLResponse, include_in_schema=False)
    def graph_page(request: Request, document: str = "", lang: str = "zh") -> HTMLResponse:
        import houfu
        from houfu.present.letters import short_cite
        from houfu.present.pictures import matrix_picture

        who(request, page=True, role="supervisor")
        doc = document if document in kb.documents else None
        return page("service_graph.html.j2", lang, request, pic=matrix_picture(kb, houfu.responsibility_graph(kb=kb), doc),
                    document=doc, documents={d: short_cite(kb, d, "", lang).strip() for d in kb.documents},
                    cite=lambda d, n: short_cite(kb, d, n, lang))

    @app.get("/clauses/{clause_id}", response_class=HTMLResponse, include_in_schema=False)
    def clause_page(request: Request, clause_id: str, lang: str = "zh") -> HTMLResponse:
        from houfu.kb.query import show

        who(request, page=True, role="supervisor")
        try:
            item = show(kb, clause_id[:100])
        except KBError as exc:
            raise HTTPException(404, exc.message) from None
        if item.get("kind") == "measure":
            raise HTTPException(404, f"{clause_id} is a measure; its clause is {item['clause_id']}")
        # The households and sites it touched: the latest records with a measure of this clause that applies.
        touched = [r for r in store.list(limit=500)
                   if any(d.clause_id == clause_id and d.status.value in ("applies", "violated", "met", "not_due")
                          for d in r.report.determinations)]
        rules = {m["id"]: evaluator.rule_text(m["id"]) for m in item["measures"]}
        return page("service_clause.html.j2", lang, request, clause=item, touched=touched[:100], rules=rules)

    @app.get("/households/", include_in_schema=False)
    def find_household(hid: str = "", lang: str = "zh") -> RedirectResponse:
        from urllib.parse import quote

        return RedirectResponse(f"/households/{quote(hid[:200], safe='')}?lang={lang}", status_code=303)

    @app.get("/households/{household_id}", response_class=HTMLResponse, include_in_schema=False)
    def history(request: Request, household_id: str, lang: str = "zh") -> HTMLResponse:
        who(request, page=True)
        return page("service_history.html.j2", lang, request, household_id=household_id,
                    records=store.list(household_id[:200]))

    @app.get("/households/{household_id}/diff", response_class=HTMLResponse, include_in_schema=False)
    def diff_page(request: Request, household_id: str, before: str, after: str, lang: str = "zh") -> HTMLResponse:
        from houfu.records.store import diff_records

        who(request, page=True)
        try:
            diff = diff_records(store.get(before[:64]), store.get(after[:64]))
        except RecordError as exc:
            raise HTTPException(404, str(exc)) from None
        if household_id not in (diff.before.subject_id, diff.after.subject_id):
            raise HTTPException(404, f"neither record is of {household_id[:200]!r}")
        return page("service_diff.html.j2", lang, request, household_id=household_id, diff=diff,
                    measures={d.measure_id: d for d in diff.after.report.determinations})

    return app


def _as_given(value: Any) -> str:
    """A fact's value as the input file writes it (true, 72, "local"), never Python's True or None."""
    import json

    return json.dumps(value, ensure_ascii=False)


def _error(field: str, message: str, status: int, headers: dict[str, str] | None = None) -> JSONResponse:
    """Every error the service answers: the field, the message and the HTTP status, as JSON."""
    return JSONResponse({"error": message, "field": field, "status": status}, status_code=status, headers=headers)


async def _save_upload(upload: UploadFile, folder: Path, name: str) -> tuple[Path, dict[str, Any]]:
    """Write an uploaded file under a name its content chooses (never the name it came with), within the
    limit; with what the screen record keeps of it (its role, format, size and sha256)."""
    import hashlib

    from houfu.io.tables import TableError, sniff_format

    head = await upload.read(4096)
    try:
        suffix = sniff_format(head)
    except TableError as exc:
        raise BadRequest(name, str(exc).removeprefix("-: ")) from None
    path = folder / f"{name}{suffix}"
    size, digest = len(head), hashlib.sha256(head)
    with path.open("wb") as fh:
        fh.write(head)
        while chunk := await upload.read(1 << 20):
            size += len(chunk)
            if size > MAX_UPLOAD:
                raise BadRequest(name, f"more than {MAX_UPLOAD:,} bytes; split the caseload", 413)
            digest.update(chunk)
            fh.write(chunk)
    return path, {"role": name, "format": suffix.lstrip("."), "bytes": size, "sha256": digest.hexdigest(),
                  "name_given": (upload.filename or "")[:200]}


async def _save_mapping(upload: UploadFile, folder: Path) -> Path:
    """A column mapping uploaded beside the caseload: YAML of at most the request body limit."""
    data = await upload.read(MAX_BODY + 1)
    if len(data) > MAX_BODY:
        raise BadRequest("columns", f"more than {MAX_BODY:,} bytes; a column mapping is a short YAML file", 413)
    path = folder / "columns.yaml"
    path.write_bytes(data)
    return path


def _remove(folder: Path) -> None:
    import shutil

    shutil.rmtree(folder, ignore_errors=True)


def _quote(kb: KB, firing: Firing) -> str:
    """The verbatim text behind a rule that fired: the concept's or the measure's quote, else its clause."""
    if firing.kind.value == "concept" and firing.name in kb.concepts:
        return kb.concepts[firing.name].quote
    if firing.name in kb.measures:
        return kb.measures[firing.name].quote
    return kb.clauses[firing.clause_id].text


def serve(kb: KB, evaluator: Evaluator, store: RecordStore, host: str, port: int, dev: bool,
          secret: str | None = None) -> None:
    """Run the service with uvicorn until interrupted."""
    import uvicorn

    uvicorn.run(create_app(kb, evaluator, store, dev, secret), host=host, port=port, log_level="warning")


def session_secret(data_dir: Path | None) -> str:
    """The key that signs session cookies: $HOUFU_SECRET, else a file made once in the data directory (0600)."""
    import os
    import secrets

    if os.environ.get("HOUFU_SECRET"):
        return os.environ["HOUFU_SECRET"]
    folder = data_dir or Path(os.environ.get("HOUFU_DATA_DIR", "houfu-data"))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "session.key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
    return path.read_text(encoding="utf-8").strip()
