"""The users, for supervisors (issue 23, §2 and §4): ``POST /v1/users/{name}/unlock`` lifts the lock that too
many failed logins put on an account, here and in the database (a restart does not lift a lock); the users page
(``/users``) lists them and disables, enables, sets a new password or lifts a lock, each a form with the session's
CSRF token and one call into the library, as ``houfu users disable|enable|passwd|unlock`` do."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel

from houfu.records.store import RecordError

from ..auth import security_log
from ..deps import CsrfChecked, Lang, ServiceDep, SupervisorPage, SupervisorUser, supervisor_page

router = APIRouter(prefix="/v1", tags=["users"])
#: The users page and its forms (supervisors; not in the OpenAPI document).
pages = APIRouter(include_in_schema=False, dependencies=[Depends(supervisor_page)])


class Unlocked(BaseModel):
    """The account, and whether it was locked."""

    user: str
    was_locked: bool


@router.post("/users/{name}/unlock", response_model=Unlocked,
             summary="Lift the lock that too many failed logins put on an account (supervisors)")
def unlock(name: str, user: SupervisorUser, service: ServiceDep) -> Unlocked:
    was = service.auth.unlock(name)
    security_log.warning("account unlocked user=%r by=%r was_locked=%s", name[:100], user.name, was)
    return Unlocked(user=name[:100], was_locked=was)


# --- the users page ----------------------------------------------------------------------------------------------

def _page(request: Request, service: ServiceDep, lang: Lang, done: str = "", error: str = "",
          status: int = 200) -> HTMLResponse:
    page = service.pages.render("service_users.html.j2", lang, request, users=service.users.list(),
                                locked_here=set(service.auth.throttle.locked), done=done, error=error)
    page.status_code = status
    return page


def _done(name: str, what: str, lang: str) -> RedirectResponse:
    return RedirectResponse(f"/users?lang={lang}&done={what}&name={quote(name[:100], safe='')}", status_code=303)


@pages.get("/users", response_class=HTMLResponse)
def users_page(request: Request, service: ServiceDep, lang: Lang = "zh", done: str = "",
               name: str = "") -> HTMLResponse:
    return _page(request, service, lang, done=f"{done}:{name[:100]}" if done else "")


# A user name may hold a "/" (names are any 1 to 100 characters without spaces): the path converter takes it.
@pages.post("/users/{name:path}/disable")
def disable(request: Request, name: str, user: SupervisorPage, _: CsrfChecked, service: ServiceDep,
            lang: Lang = Form("zh")) -> Any:
    return _change(request, service, lang, name, user.name, "disabled", service.users.disable)


@pages.post("/users/{name:path}/enable")
def enable(request: Request, name: str, user: SupervisorPage, _: CsrfChecked, service: ServiceDep,
           lang: Lang = Form("zh")) -> Any:
    return _change(request, service, lang, name, user.name, "enabled", service.users.enable)


@pages.post("/users/{name:path}/unlock")
def unlock_page(request: Request, name: str, user: SupervisorPage, _: CsrfChecked, service: ServiceDep,
                lang: Lang = Form("zh")) -> Any:
    return _change(request, service, lang, name, user.name, "unlocked", service.auth.unlock)


@pages.post("/users/{name:path}/passwd")
def passwd(request: Request, name: str, user: SupervisorPage, _: CsrfChecked, service: ServiceDep,
           password: str = Form("", max_length=200), again: str = Form("", max_length=200),
           lang: Lang = Form("zh")) -> Any:
    if password != again:
        return _page(request, service, lang, error=f"{name[:100]}: the two passwords differ", status=422)
    return _change(request, service, lang, name, user.name, "passwd",
                   lambda who: service.users.passwd(who, password))


def _change(request: Request, service: ServiceDep, lang: Lang, name: str, by: str, what: str,
            call: Any) -> Any:
    """One call into the library, logged; its refusal (no such user, a weak password) shown on the page."""
    try:
        call(name[:100])
    except RecordError as exc:
        return _page(request, service, lang, error=f"{name[:100]}: {exc}", status=422)
    security_log.warning("user %s user=%r by=%r (users page)", what, name[:100], by)
    return _done(name, what, lang)
