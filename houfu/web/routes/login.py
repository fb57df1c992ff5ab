"""GET and POST /login, POST /logout: open to anyone (the login form must be), each post with the session's
CSRF token."""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from ..deps import CsrfChecked, Lang, PagesDep, ServiceDep

router = APIRouter(include_in_schema=False)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, pages: PagesDep, lang: Lang = "zh", next: str = "/") -> HTMLResponse:
    return pages.render("service_login.html.j2", lang, request, error="", next=next if next.startswith("/") else "/")


@router.post("/login")
def login(request: Request, _: CsrfChecked, service: ServiceDep, name: str = Form(..., max_length=100),
          password: str = Form(..., max_length=200), lang: Lang = Form("zh"), next: str = Form("/")) -> Any:
    role = service.users.check(name, password)
    if role is None:
        return service.pages.render("service_login.html.j2", lang, request, error="wrong", next=next)
    request.session.clear()
    request.session.update({"user": name, "role": role, "csrf": secrets.token_urlsafe(24)})
    return RedirectResponse(next if next.startswith("/") and not next.startswith("//") else "/", status_code=303)


@router.post("/logout")
def logout(request: Request, _: CsrfChecked) -> RedirectResponse:
    request.session.clear()
    return RedirectResponse("/login", status_code=303)
