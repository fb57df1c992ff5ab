"""GET and POST /login, POST /logout: open to anyone (the login form must be), each post with the session's
CSRF token."""

from __future__ import annotations

import contextlib
import secrets
from typing import Any

import anyio
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from houfu.records.store import RecordError

from ..auth import Busy, Throttled
from ..deps import CsrfChecked, Lang, PagesDep, ServiceDep

router = APIRouter(include_in_schema=False)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, pages: PagesDep, lang: Lang = "zh", next: str = "/") -> HTMLResponse:
    return pages.render("service_login.html.j2", lang, request, error="", next=next if next.startswith("/") else "/",
                        retry_after=0)


@router.post("/login")
async def login(request: Request, _: CsrfChecked, service: ServiceDep, name: str = Form(..., max_length=100),
                password: str = Form(..., max_length=200), lang: Lang = Form("zh"), next: str = Form("/")) -> Any:
    try:
        role = await service.auth.check(name, password, request.client.host if request.client else "-", "form")
    except Throttled as exc:
        why = "busy" if isinstance(exc, Busy) else "locked" if exc.locked else "throttled"
        page = service.pages.render("service_login.html.j2", lang, request, error=why, next=next,
                                    retry_after=exc.retry_after)
        page.status_code = 429
        page.headers["Retry-After"] = str(exc.retry_after)
        return page
    if role is None:
        return service.pages.render("service_login.html.j2", lang, request, error="wrong", next=next,
                                   retry_after=0)
    current = await anyio.to_thread.run_sync(service.users.session, name)
    if current is None:  # removed or disabled between the check and now
        return service.pages.render("service_login.html.j2", lang, request, error="wrong", next=next,
                                    retry_after=0)
    request.session.clear()
    request.session.update({"user": name, "ver": current[1], "csrf": secrets.token_urlsafe(24)})
    return RedirectResponse(next if next.startswith("/") and not next.startswith("//") else "/", status_code=303)


@router.post("/logout")
def logout(request: Request, _: CsrfChecked, service: ServiceDep) -> RedirectResponse:
    name = request.session.get("user")
    if name and not service.dev:
        with contextlib.suppress(RecordError):  # every copy of this session's cookie ends, not only this one
            service.users.end_sessions(str(name))
    request.session.clear()
    return RedirectResponse("/login", status_code=303)
