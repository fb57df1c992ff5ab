"""What a route is given rather than reaching for: the service's state, the page renderer, the user and their
role, the form's CSRF check, and the page language.

The state lives on ``app.state.service`` (one ``Service`` per app, made by ``create_app``); every route takes it,
or a part of it, through ``Depends``, never from a closure, so a router is a plain module that can be imported
and tested alone. Access is declared in a route's signature (or its router's ``dependencies``) with the aliases
below, e.g. ``user: CaseworkerUser``; nothing calls a check by hand, and the route-walk test
(tests/test_web_routes.py) holds every route to the table of who may use it.
"""

# No ``from __future__ import annotations``: FastAPI reads the guards' signatures at run time, and a guard's
# dependency is a local name.
import base64
import datetime as dt
import json
import secrets
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

import anyio
import jinja2
from fastapi import Depends, Form, Request
from fastapi.responses import HTMLResponse

from houfu.engine.evaluator import Evaluator
from houfu.engine.results import InputWarning, Report
from houfu.io.inputs import InputError, parse_record, stripped_warnings
from houfu.io.privacy import mask_personal
from houfu.io.reader import LIMITS, ReadError, read_bytes
from houfu.kb.facts import Household, Site
from houfu.kb.loader import KB, FieldError
from houfu.present.numbers import for_people
from houfu.records.store import (
    ROLES,
    AmbiguousRecord,
    DecisionRecord,
    HouseholdHit,
    RecordError,
    RecordStore,
    Users,
)

from .auth import Authenticator, security_log
from .errors import BadRequest, Denied

__all__ = ["JSON_TYPES", "MAX_BODY", "MAX_UPLOAD", "WORKLIST_UPLOAD", "basic_throttled", "identify", "CaseworkerPage", "CaseworkerUser", "CsrfChecked", "EvaluatorDep", "KbDep", "Lang", "Pages",
           "PagesDep", "Service", "ServiceDep", "StoreDep", "SupervisorPage", "SupervisorUser", "User",
           "caseworker_api", "caseworker_page", "csrf_checked", "csrf_token", "get_service", "read_record",
           "record_body", "require", "supervisor_api", "supervisor_page"]

#: The pages' and the API's languages: anything else is refused (422, naming ``lang``), never guessed.
Lang = Literal["zh", "en"]

#: The largest request body accepted (the CLI's file limit).
MAX_BODY = LIMITS.max_bytes

#: The largest caseload upload accepted by POST /v1/screen (all files together).
MAX_UPLOAD = 200 * 1024 * 1024

#: The largest upload of filled worklists accepted by POST /worklists/import (all files together).
WORKLIST_UPLOAD = 50 * 1024 * 1024

#: The media types the JSON API reads (none of them one a browser may send another site's page without asking
#: first, as it may text/plain): anything else is 415.
JSON_TYPES = ("application/json", "application/yaml", "application/x-yaml", "text/yaml")


@dataclass(frozen=True)
class User:
    """Who is asking: a logged-in user (session or HTTP Basic) and their role; ``dev`` in --dev mode."""

    name: str
    role: str


class Pages:
    """The server-rendered pages (jinja2, templates/service_*.j2), each given the language, the CSRF token, the
    user and whether this is --dev mode."""

    def __init__(self, kb_version: str, dev: bool):
        self.kb_version, self.dev = kb_version, dev
        self.env = jinja2.Environment(loader=jinja2.PackageLoader("houfu.templates", "."), autoescape=True,
                                      undefined=jinja2.StrictUndefined)
        self.env.filters["mask"] = mask_personal  # list views mask ID and phone numbers (防返贫 publicity rules)
        self.env.filters["as_given"] = _as_given
        self.env.filters["num"] = for_people  # 10,000 and 9,360.5, never 10000.0

    def render(self, template: str, lang: Lang, request: Request, **ctx: Any) -> HTMLResponse:
        html = self.env.get_template(template).render(
            lang=lang, dev=self.dev, kb_version=self.kb_version, csrf=csrf_token(request),
            nonce=request.scope.get("state", {}).get("csp_nonce", ""),
            user=request.session.get("user") or ("dev" if self.dev else ""),
            role=getattr(request.state, "houfu_role", "supervisor" if self.dev else ""), **ctx)
        return HTMLResponse(html)


@dataclass(frozen=True)
class Service:
    """One service's state: the knowledge base, its evaluator, the record store and its users, the pages."""

    kb: KB
    evaluator: Evaluator
    store: RecordStore
    users: Users
    pages: Pages
    dev: bool
    auth: Authenticator
    lock: threading.Lock = field(default_factory=threading.Lock)  # the record store's writes, in order

    def readable(self, user: User, rec: DecisionRecord) -> bool:
        """Whether ``user`` may read a record: a supervisor every one, a caseworker their own and their site's
        or team's (issue 23, §5); ``dev`` reads all."""
        return self.dev or self.users.may_read(user.name, user.role, rec.user)

    def makers(self, user: User) -> set[str] | None:
        """Whose records ``user`` may read (None: everyone's, for a supervisor or in --dev mode)."""
        return None if self.dev else self.users.makers(user.name, user.role)

    def read(self, user: User, record_id: str, how: str = "api") -> DecisionRecord:
        """A decision record ``user`` may read, by its id or any unique prefix of 8 characters or more, its
        reading kept in the store (who, when, which record, whose household, ``how``: ``api`` or ``page``) and
        written to the security log; one they may not read is answered as one that does not exist (and is never
        among an ambiguous prefix's candidates)."""
        record_id = record_id[:64]
        try:
            rec = self.store.find(record_id, self.makers(user))
        except AmbiguousRecord:
            raise
        except RecordError as exc:
            try:
                other = self.store.find(record_id)
            except RecordError:
                other = None
            if other is not None:
                security_log.warning("record read refused user=%r record=%s maker=%r", user.name, other.record_id,
                                     other.user)
            raise RecordError(str(exc)) from None  # the same words as for a record that does not exist
        self.store.add_reads(user.name, [(rec.record_id, rec.subject_id)], how)
        security_log.info("record read user=%r record=%s subject=%r", user.name, rec.record_id, rec.subject_id)
        return rec

    def search(self, user: User, query: str) -> list[HouseholdHit]:
        """The households and sites ``user`` may read that ``query`` finds (the store's ``search``), logged."""
        hits = self.store.search(query[:100], self.makers(user))
        security_log.info("household search user=%r found=%d", user.name, len(hits))
        return hits

    def history(self, user: User, subject_id: str) -> list[DecisionRecord]:
        """A household's (or site's) records that ``user`` may read, newest first; each one listed is kept as a
        read (``history``: its maker, time and summary were shown)."""
        records = [r for r in self.store.list(subject_id[:200]) if self.readable(user, r)]
        if records:
            self.store.add_reads(user.name, [(r.record_id, r.subject_id) for r in records], "history")
            security_log.info("household read user=%r subject=%r records=%d", user.name, subject_id[:200],
                              len(records))
        return records

    def decide(self, record: Household | Site, as_of: dt.date | None, user: User, received: str,
               warnings: list[InputWarning] | None = None) -> Report:
        """Decide a household or site and keep the answer as a decision record (its ``record_id``), with the
        reader's ``warnings`` (characters removed from a name) on it."""
        report = self._report(record, as_of, warnings)
        with self.lock:
            rid = self.store.add(record, report, user.name, received)
        return report.model_copy(update={"record_id": rid})

    def decide_json(self, record: Household | Site, as_of: dt.date | None, user: User, received: str,
                    warnings: list[InputWarning] | None = None) -> bytes:
        """``decide``, answered as the report's JSON (``Report``, with its ``record_id``): the JSON the record
        keeps, made once, with the record's id put in. FastAPI serialised the report a second time for the
        answer, 7% of a recorded check (issue 25); the bytes are the same (tests/test_service.py)."""
        report = self._report(record, as_of, warnings)
        kept = report.model_dump_json()  # outside the lock: the other requests' records wait less
        with self.lock:
            rid = self.store.add(record, report, user.name, received, report_json=kept)
        return _with_record_id(kept, rid).encode()

    def _report(self, record: Household | Site, as_of: dt.date | None,
                warnings: list[InputWarning] | None) -> Report:
        try:
            report = self.evaluator.determine(record, as_of)
        except FieldError as exc:
            raise BadRequest(exc.field, exc.message) from None
        if warnings:
            report = report.model_copy(update={"warnings": [*warnings, *report.warnings]})
        return report


#: how a report's JSON ends before it is recorded: ``record_id`` is ``Report``'s last field
_UNRECORDED = ',"record_id":null}'


def _with_record_id(report_json: str, record_id: str) -> str:
    """A report's JSON (``model_dump_json``, not yet recorded) with its record's id."""
    if not report_json.endswith(_UNRECORDED):  # a field added after record_id: fail loudly, not answer wrong
        raise AssertionError("Report.record_id is no longer the report's last field")
    return f'{report_json[:-len(_UNRECORDED)]},"record_id":{json.dumps(record_id)}}}'


def get_service(request: Request) -> Service:
    service = request.app.state.service
    assert isinstance(service, Service), "create_app sets app.state.service"
    return service


async def _service(request: Request) -> Service:
    # The dependencies that only hand on a part of the service are ``async``: FastAPI runs a plain ``def``
    # dependency in the thread pool, and under a login attack those thread hops (and the GIL they take) were
    # what kept ``/healthz`` waiting (issue 23, Done when).
    return get_service(request)


ServiceDep = Annotated[Service, Depends(_service)]


async def _kb(service: ServiceDep) -> KB:
    return service.kb


async def _evaluator(service: ServiceDep) -> Evaluator:
    return service.evaluator


async def _store(service: ServiceDep) -> RecordStore:
    return service.store


async def _pages(service: ServiceDep) -> Pages:
    return service.pages


KbDep = Annotated[KB, Depends(_kb)]
EvaluatorDep = Annotated[Evaluator, Depends(_evaluator)]
StoreDep = Annotated[RecordStore, Depends(_store)]
PagesDep = Annotated[Pages, Depends(_pages)]


# --- who is asking -------------------------------------------------------------------------------------------

async def _session_user(request: Request, service: ServiceDep) -> User | None:
    """The user of the signed session cookie (pages take nothing else), if the session is still current."""
    if service.dev:
        request.state.houfu_role = "supervisor"
        return User("dev", "supervisor")
    name, version = request.session.get("user"), request.session.get("ver")
    if not name:
        return None
    # The user's version now: a logout, a disabled account, a new password or a removed user raises or ends it,
    # so every copy of an older cookie stops here (issue 23, §4). The role is read afresh too.
    now = await anyio.to_thread.run_sync(service.users.session, str(name))
    if now is None or now[1] != version:
        request.session.clear()
        return None
    request.state.houfu_role = now[0]  # the page's menu shows only what the role may open
    return User(str(name), now[0])


async def _api_user(request: Request, service: ServiceDep,
                    session: Annotated[User | None, Depends(_session_user)]) -> User | None:
    """The session's user, else a script's API token (``Authorization: Bearer``) or HTTP Basic credentials,
    checked through the service's ``Authenticator`` (a password throttled and off the event loop); once per
    request (the request guard may have done it before the body was read)."""
    if session is not None:
        return session
    known = request.scope.get("state", {}).get("houfu_user")
    if isinstance(known, User):
        return known
    auth = request.headers.get("authorization", "")
    if auth[:7].lower() == "bearer ":
        found = await service.auth.token(auth[7:].strip(), request.client.host if request.client else "-")
        return User(*found) if found else None
    credentials = _basic_credentials(request)
    if credentials is None:
        return None
    name, password = credentials
    role = await service.auth.check(name, password, request.client.host if request.client else "-", "basic")
    return User(name, role) if role else None


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    auth = request.headers.get("authorization", "")
    if not auth.lower().startswith("basic "):
        return None
    try:
        name, _, password = base64.b64decode(auth[6:], validate=True).decode("utf-8").partition(":")
    except (ValueError, UnicodeDecodeError):
        name, password = "", ""
    return name, password


def basic_throttled(request: Request) -> None:
    """Raise ``Throttled`` if the HTTP Basic name or the client's address must still wait (no hashing)."""
    credentials = _basic_credentials(request)
    if credentials is not None:
        get_service(request).auth.throttle.check(credentials[0][:100],
                                                 request.client.host if request.client else "-")


async def identify(request: Request, page: bool) -> User | None:
    """The user of a request as a route's guard would find them (``page``: the session only), for the request
    guard (``houfu.web.guard``) that runs before the body is read."""
    service = get_service(request)
    session = await _session_user(request, service)
    return session if page else await _api_user(request, service, session)


def require(role: str, *, page: bool) -> Callable[..., Awaitable[User]]:
    """A dependency that lets in a user of ``role`` or a higher one (a supervisor may do what a caseworker may):
    for ``page``, a stranger is sent to the login page; for the API, answered 401 with ``WWW-Authenticate``."""
    need = ROLES.index(role)
    identity = _session_user if page else _api_user

    async def guard(user: Annotated[User | None, Depends(identity)]) -> User:
        if user is None:
            raise Denied(401, "log in first", page)
        if (ROLES.index(user.role) if user.role in ROLES else 0) < need:
            raise Denied(403, f"only a {role} may see this", page, need=role)
        return user

    guard.__name__ = f"{role}_{'page' if page else 'api'}"
    guard.__qualname__ = guard.__name__
    guard.houfu_role, guard.houfu_page = role, page  # type: ignore[attr-defined]  # read by houfu.web.guard
    return guard


caseworker_api = require("caseworker", page=False)
supervisor_api = require("supervisor", page=False)
caseworker_page = require("caseworker", page=True)
supervisor_page = require("supervisor", page=True)

#: A caseworker (or supervisor) calling the API: session or HTTP Basic.
CaseworkerUser = Annotated[User, Depends(caseworker_api)]
#: A supervisor calling the API.
SupervisorUser = Annotated[User, Depends(supervisor_api)]
#: A caseworker's page: a stranger is sent to /login.
CaseworkerPage = Annotated[User, Depends(caseworker_page)]
#: A supervisor's page.
SupervisorPage = Annotated[User, Depends(supervisor_page)]


# --- forms ---------------------------------------------------------------------------------------------------

def csrf_token(request: Request) -> str:
    """The session's CSRF token, made on first use; every form carries it back."""
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(24)
    return str(token)


async def csrf_checked(request: Request, service: ServiceDep, token: Annotated[str, Form(alias="csrf")] = "") -> None:
    """A form post carries the session's token (not in --dev mode), else 403."""
    if not service.dev and not secrets.compare_digest(token, str(request.session.get("csrf", ""))):
        raise Denied(403, "the form has expired; reload the page and try again", True, kind="form")


#: Declared after the user in a form post's signature, so a stranger is sent to log in before the token is read.
CsrfChecked = Annotated[None, Depends(csrf_checked)]


# --- request bodies ------------------------------------------------------------------------------------------

async def read_record(request: Request, model: type[Household] | type[Site],
                      kb: KB) -> tuple[Household | Site, str, list[InputWarning]]:
    """The body parsed by the CLI's reader and parser, its text exactly as received, and the warnings for its
    report (the characters removed from its names: bidi controls, terminal escapes)."""
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > MAX_BODY:
        raise BadRequest("-", f"{int(length):,} bytes; at most {MAX_BODY:,} are accepted", 413)
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in JSON_TYPES:
        raise BadRequest("Content-Type", f"{media or 'none'}; the API reads {' or '.join(JSON_TYPES[:2])}", 415)
    body = await request.body()
    if len(body) > MAX_BODY:
        raise BadRequest("-", f"{len(body):,} bytes; at most {MAX_BODY:,} are accepted", 413)
    as_json = "yaml" not in media
    try:
        got = read_bytes(body, as_json)
        return (parse_record(got.data, model, "body", kb), body.decode("utf-8", "replace"),
                stripped_warnings(got.stripped).get(0, []))
    except ReadError as exc:
        raise BadRequest(exc.field, exc.message) from None
    except InputError as exc:
        raise BadRequest(exc.field, exc.message) from None


def record_body(entity: Literal["household", "site"]) -> dict[str, Any]:
    """The OpenAPI request body of a route that reads a household or site: a placeholder that ``create_app``
    fills with the knowledge base's own model (its vocabulary decides the fields)."""
    return {"x-houfu-record": entity}


def _as_given(value: Any) -> str:
    """A fact's value as the input file writes it (true, 72, "local"), never Python's True or None."""
    import json

    return json.dumps(value, ensure_ascii=False)
