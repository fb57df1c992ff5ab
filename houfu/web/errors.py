"""How the service says no: every error of the API as JSON naming the field, the message and the status; a page
that needs a login sends the browser to it, and any other refusal or error of a page (404, 405, 403 …) is an HTML
page in the page's language (``?lang=``, else zh), its words in ``templates/service_error.html.j2``."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from .auth import Busy, Throttled

__all__ = ["CHALLENGE", "JSON_PATHS", "BadRequest", "Denied", "Redirect", "denied_response", "error", "install",
           "is_page", "page_error", "throttled_response"]


#: The API's answer to a request without credentials (RFC 6750): a script sends its token (or HTTP Basic).
CHALLENGE = 'Bearer realm="houfu"'


class BadRequest(Exception):
    """A request the library refused: the field it names, why, and the HTTP status (422 unless said)."""

    def __init__(self, field: str, message: str, status: int = 422):
        self.field, self.message, self.status = field, message, status


class Denied(Exception):
    """No login (401), the wrong role or a stale form (403); ``page``: answered for a browser, not a program.
    ``kind`` names the page's words (``service_error.html.j2``): ``role`` (``need``: the role the page asks for),
    ``form`` (a stale CSRF token), ``state`` (a damaged form state)."""

    def __init__(self, status: int, message: str, page: bool, kind: str = "role", need: str = ""):
        self.status, self.message, self.page, self.kind, self.need = status, message, page, kind, need


class Redirect(Exception):
    """A page's dependency sends the browser elsewhere (303), e.g. a short record id that starts several records
    goes to the search that lists them."""

    def __init__(self, location: str):
        self.location = location


async def _redirect(_: Request, exc: Exception) -> RedirectResponse:
    assert isinstance(exc, Redirect)
    return RedirectResponse(exc.location, status_code=303)


def error(field: str, message: str, status: int, headers: dict[str, str] | None = None) -> JSONResponse:
    """Every error the service answers: the field, the message and the HTTP status, as JSON."""
    return JSONResponse({"error": message, "field": field, "status": status}, status_code=status, headers=headers)


async def _bad_request(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, BadRequest)
    return error(exc.field, f"{exc.field}: {exc.message}", exc.status)


async def _bad_params(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {"loc": ["-"], "msg": "invalid request"}
    loc = [str(x) for x in first.get("loc", ["-"])] or ["-"]
    where = ".".join(loc)
    if is_page(request):  # a page (``/?lang=fr``) is told in HTML, in its language, naming the parameter
        return page_error(request, 422, "params", field=loc[-1])
    return error(where, f"{where}: {first.get('msg')}", 422)


#: The paths answered as JSON for programs (the API, its document, the health probe); every other path is a page.
JSON_PATHS = ("/v1/", "/openapi.json", "/healthz")

#: The page's words for an HTTP error, by status (``service_error.html.j2``); any other status has general words.
_PAGE_KINDS = {404: "not_found", 405: "method", 413: "too_large"}


def is_page(request: Request) -> bool:
    """Whether a request is for a page (answered in HTML), not the API."""
    return not request.url.path.startswith(JSON_PATHS)


def page_error(request: Request, status: int, kind: str, need: str = "",
               headers: dict[str, str] | None = None, field: str = "") -> HTMLResponse:
    """A page's error as an HTML page in its language (``?lang=zh|en``, else zh); ``field``: the parameter a
    ``params`` error names."""
    lang = request.query_params.get("lang")
    pages = request.app.state.service.pages  # houfu.web.deps.Pages (deps imports this module)
    page: HTMLResponse = pages.render("service_error.html.j2", lang if lang in ("zh", "en") else "zh", request,
                                      status=status, kind=kind, need=need, field=field)
    page.status_code = status
    page.headers.update(headers or {})
    return page


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if is_page(request):
        return page_error(request, exc.status_code, _PAGE_KINDS.get(exc.status_code, "other"),
                          headers=dict(exc.headers or {}))
    return error("-", str(exc.detail), exc.status_code, dict(exc.headers or {}))


async def _internal(_: Request, exc: Exception) -> JSONResponse:  # never an HTML traceback
    return error("-", f"internal error: {type(exc).__name__}", 500)


def throttled_response(exc: Throttled) -> JSONResponse:
    """Too many failed logins, or too many password checks waiting already (``Busy``): 429 with ``Retry-After``
    (the login page says so in its own words)."""
    if isinstance(exc, Busy):
        message = f"too many logins are being checked at once; try again in {exc.retry_after} s"
    elif exc.locked:
        message = "this account is locked after too many failed logins; a supervisor can lift the lock"
    else:
        message = f"too many failed logins; try again in {exc.retry_after} s"
    return error("password", message, 429, {"Retry-After": str(exc.retry_after)})


async def _throttled(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Throttled)
    return throttled_response(exc)


def denied_response(request: Request, exc: Denied) -> Any:
    """How a refusal is answered: a stranger's page goes to the login, a page is told no in HTML, the API in
    JSON (401 with ``WWW-Authenticate: Bearer``)."""
    if exc.page and exc.status == 401:  # the login page, in the page's language
        lang = request.query_params.get("lang")
        # The path is quoted: a household id with & or # in it must come back whole after the login.
        return RedirectResponse(f"/login?next={quote(request.url.path, safe='/')}"
                                + (f"&lang={lang}" if lang in ("zh", "en") else ""), status_code=303)
    if exc.page:
        return page_error(request, exc.status, exc.kind, exc.need)
    # A Bearer challenge, never Basic: a browser answers a Basic challenge with its password prompt and then
    # sends the password it was given with every request for the rest of its session (issue 23, §3). Scripts
    # send their token or Basic credentials without being asked.
    return error("-", exc.message, exc.status, {"WWW-Authenticate": CHALLENGE} if exc.status == 401 else None)


async def _denied(request: Request, exc: Exception) -> Any:
    assert isinstance(exc, Denied)
    return denied_response(request, exc)


def install(app: FastAPI) -> None:
    """The service's error answers, on one app."""
    app.add_exception_handler(BadRequest, _bad_request)
    app.add_exception_handler(RequestValidationError, _bad_params)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _internal)
    app.add_exception_handler(Denied, _denied)
    app.add_exception_handler(Redirect, _redirect)
    app.add_exception_handler(Throttled, _throttled)
