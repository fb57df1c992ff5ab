"""How the service says no: every error as JSON naming the field, the message and the status; a page that needs a
login sends the browser to it instead."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

__all__ = ["BadRequest", "Denied", "error", "install"]


class BadRequest(Exception):
    """A request the library refused: the field it names, why, and the HTTP status (422 unless said)."""

    def __init__(self, field: str, message: str, status: int = 422):
        self.field, self.message, self.status = field, message, status


class Denied(Exception):
    """No login (401), the wrong role or a stale form (403); ``page``: answered for a browser, not a program."""

    def __init__(self, status: int, message: str, page: bool):
        self.status, self.message, self.page = status, message, page


def error(field: str, message: str, status: int, headers: dict[str, str] | None = None) -> JSONResponse:
    """Every error the service answers: the field, the message and the HTTP status, as JSON."""
    return JSONResponse({"error": message, "field": field, "status": status}, status_code=status, headers=headers)


async def _bad_request(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, BadRequest)
    return error(exc.field, f"{exc.field}: {exc.message}", exc.status)


async def _bad_params(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {"loc": ["-"], "msg": "invalid request"}
    where = ".".join(str(x) for x in first.get("loc", ["-"]))
    return error(where, f"{where}: {first.get('msg')}", 422)


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return error("-", str(exc.detail), exc.status_code)


async def _internal(_: Request, exc: Exception) -> JSONResponse:  # never an HTML traceback
    return error("-", f"internal error: {type(exc).__name__}", 500)


async def _denied(request: Request, exc: Exception) -> Any:
    assert isinstance(exc, Denied)
    if exc.page and exc.status == 401:
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
    if exc.page:
        return HTMLResponse(f"<p>{exc.message}</p>", status_code=exc.status)
    return error("-", exc.message, exc.status, {"WWW-Authenticate": "Basic"} if exc.status == 401 else None)


def install(app: FastAPI) -> None:
    """The service's error answers, on one app."""
    app.add_exception_handler(BadRequest, _bad_request)
    app.add_exception_handler(RequestValidationError, _bad_params)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _internal)
    app.add_exception_handler(Denied, _denied)
