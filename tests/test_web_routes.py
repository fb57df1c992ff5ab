"""Every route of the service, walked anonymously and as each role (issue 21, item 2).

``ACCESS`` declares who may use each (method, path): nobody needs to log in for the few open routes, listed
one by one; every other route needs a caseworker or a supervisor (who may do what a caseworker may). The walk
sends each route a request as a stranger, as each role of ``houfu.records.store.ROLES`` and, for a form, as a
user who may post it but without the session's CSRF token, and reports every route that lets in someone it
should not, keeps out someone it should not, refuses in the wrong way (the API answers 401/403 JSON, a page
sends a stranger to /login), or is not in the table at all. The last tests show the walk fails when a route is
added without a guard, or a guard is taken off.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

import houfu
from houfu.records.store import ROLES, RecordStore, Users, default_url
from houfu.web.app import create_app
from houfu.web.deps import User, csrf_checked, supervisor_api, supervisor_page
from houfu.web.errors import CHALLENGE


@dataclass(frozen=True)
class Access:
    role: str | None  # None: open to anyone
    kind: str  # "api": refused as 401/403 JSON; "page": a stranger is sent to /login; "form": a page post with CSRF


def _api(role: str | None) -> Access:
    return Access(role, "api")


def _page(role: str | None) -> Access:
    return Access(role, "page")


def _form(role: str | None) -> Access:
    return Access(role, "form")


CASEWORKER, SUPERVISOR = "caseworker", "supervisor"

#: Who may use each route. Open routes are listed explicitly: the OpenAPI document (its two viewers need a login), the
#: health probe, and the login form (a stranger must reach it; logging out needs only the form's token).
ACCESS: dict[tuple[str, str], Access] = {
    ("GET", "/openapi.json"): _api(None), ("HEAD", "/openapi.json"): _api(None),
    ("GET", "/docs"): _page(CASEWORKER),  # behind the login, rendered here, no CDN (issue 23)
    ("GET", "/healthz"): _api(None),
    ("GET", "/login"): _page(None),
    ("POST", "/login"): _form(None),
    ("POST", "/logout"): _form(None),
    # The JSON API
    ("POST", "/v1/check"): _api(CASEWORKER),
    ("POST", "/v1/explain"): _api(CASEWORKER),
    ("POST", "/v1/site"): _api(SUPERVISOR),
    ("POST", "/v1/screen"): _api(SUPERVISOR),
    ("GET", "/v1/screens"): _api(SUPERVISOR),
    ("GET", "/v1/records/{record_id}"): _api(CASEWORKER),
    ("GET", "/v1/households/{household_id:path}/reads"): _api(SUPERVISOR),
    ("GET", "/v1/households"): _api(CASEWORKER),
    ("GET", "/v1/owners"): _api(CASEWORKER),
    ("GET", "/v1/duties/{department}"): _api(SUPERVISOR),
    ("GET", "/v1/measures/{measure_id}"): _api(CASEWORKER),
    ("POST", "/v1/users/{name}/unlock"): _api(SUPERVISOR),
    # The caseworker's pages
    ("GET", "/"): _page(CASEWORKER),
    ("POST", "/households"): _form(CASEWORKER),
    ("POST", "/interview"): _form(CASEWORKER),
    ("GET", "/records/{record_id}"): _page(CASEWORKER),
    ("GET", "/records/{record_id}/letter"): _page(CASEWORKER),
    ("GET", "/records/{record_id}/why/{measure_id}"): _page(CASEWORKER),
    ("GET", "/households/"): _page(CASEWORKER),
    ("GET", "/households/{household_id:path}"): _page(CASEWORKER),  # the history, for old links
    ("GET", "/households/{household_id:path}/history"): _page(CASEWORKER),
    ("GET", "/households/{household_id:path}/diff"): _page(CASEWORKER),
    ("GET", "/households/{household_id:path}/reads"): _page(SUPERVISOR),
    ("GET", "/search"): _page(CASEWORKER),
    # The policy staff's pages
    ("GET", "/sites"): _page(SUPERVISOR),
    ("POST", "/sites"): _form(SUPERVISOR),
    ("GET", "/departments/{name}"): _page(SUPERVISOR),
    ("GET", "/graph"): _page(SUPERVISOR),
    ("GET", "/clauses/{clause_id}"): _page(SUPERVISOR),
    # The users page (issue 23, §4)
    ("GET", "/users"): _page(SUPERVISOR),
    ("POST", "/users/{name:path}/disable"): _form(SUPERVISOR),
    ("POST", "/users/{name:path}/enable"): _form(SUPERVISOR),
    ("POST", "/users/{name:path}/unlock"): _form(SUPERVISOR),
    ("POST", "/users/{name:path}/passwd"): _form(SUPERVISOR),
    # The supervisor's worklist pages (issue 24)
    ("GET", "/worklists"): _page(SUPERVISOR),
    ("POST", "/worklists/import"): _form(SUPERVISOR),
    ("GET", "/tracker"): _page(SUPERVISOR),
}

PASSWORD = "walk-the-routes"


def routes(app: FastAPI) -> Iterator[tuple[str, str]]:
    """Every (method, path) the app answers, included routers' routes among them."""
    try:
        # newer FastAPI keeps an included router whole in app.routes
        from fastapi.routing import iter_route_contexts
    except ImportError:  # older FastAPI copies their routes into app.routes
        listed: Iterable[Any] = app.routes
    else:
        listed = iter_route_contexts(app.routes)
    for route in listed:
        for method in sorted(route.methods or ()):
            assert route.path is not None
            yield method, route.path


def _refusal(response, path: str) -> str | None:
    """How a response refused (``api-401``, ``api-403``, ``login``, ``page-403``, ``csrf``), or None if it
    let the request in."""
    status, text = response.status_code, response.text
    if status == 401 and '"log in first"' in text and response.headers.get("www-authenticate") == CHALLENGE:
        return "api-401"
    if status == 303 and response.headers.get("location") == f"/login?next={path}":
        return "login"
    # A page's refusal is a page in its language (service_error.html.j2), its kind in data-error.
    if status == 403 and 'data-error="form"' in text:
        return "csrf"
    if status == 403 and 'data-error="role"' in text and text.lstrip().startswith("<!DOCTYPE html>"):
        return "page-403"
    if status == 403 and response.headers.get("content-type") == "application/json" and \
            response.json()["error"].startswith("only a "):
        return "api-403"
    if status in (401, 403):
        return f"other-{status}"
    return None


def _sessions(app: FastAPI) -> dict[str, dict[str, str]]:
    """A logged-in session (its cookies and CSRF token) for each role."""
    out = {}
    for role in ROLES:
        c = TestClient(app, base_url="https://testserver")
        token = re.search(r'name="csrf" value="([^"]+)"', c.get("/login").text).group(1)
        r = c.post("/login", data={"name": f"walker-{role}", "password": PASSWORD, "csrf": token},
                   follow_redirects=False)
        assert r.status_code == 303, f"{role} could not log in"
        token = re.search(r'name="csrf" value="([^"]+)"', c.get("/login").text).group(1)
        out[role] = {"cookie": c.cookies.get("houfu_session"), "csrf": token}
    return out


def walk(app: FastAPI, access: dict[tuple[str, str], Access]) -> list[str]:
    """Every route that is open or mis-roled against ``access``, as one line each; empty if all hold."""
    problems: list[str] = []
    found = set(routes(app))
    problems += [f"{m} {p}: not in the table of access" for m, p in sorted(found - set(access))]
    problems += [f"{m} {p}: in the table, but the app has no such route" for m, p in sorted(set(access) - found)]
    sessions = _sessions(app)

    def send(method: str, path: str, role: str | None, with_token: bool):
        c = TestClient(app, base_url="https://testserver", raise_server_exceptions=False)
        data: dict[str, str] = {}
        if role is not None:
            c.cookies.set("houfu_session", sessions[role]["cookie"])
            if with_token:
                data["csrf"] = sessions[role]["csrf"]
        url = re.sub(r"\{[^}]+\}", "x", path)
        if method in ("GET", "HEAD"):
            return c.request(method, url, follow_redirects=False)
        response = c.request(method, url, data=data, follow_redirects=False)
        if path == "/logout" and role is not None and with_token:
            # A logout ends every copy of the user's session (issue 23, §4): the walk logs in afresh.
            sessions.update(_sessions(app))
        return response

    for method, path in sorted(found & set(access)):
        want = access[(method, path)]
        concrete = re.sub(r"\{[^}]+\}", "x", path)
        # A stranger.
        got = _refusal(send(method, path, None, True), concrete)
        if want.role is None:
            if got not in (None, "csrf"):
                problems.append(f"{method} {path}: open to anyone, but a stranger was refused ({got})")
        else:
            expected = "api-401" if want.kind == "api" else "login"
            if got is None:
                problems.append(f"{method} {path}: a stranger was let in (needs a {want.role})")
            elif got != expected:
                problems.append(f"{method} {path}: a stranger was refused as {got}, not {expected}")
        # Each role, with the session's CSRF token.
        for role in ROLES:
            allowed = want.role is None or ROLES.index(role) >= ROLES.index(want.role)
            got = _refusal(send(method, path, role, True), concrete)
            if allowed and got is not None:
                problems.append(f"{method} {path}: a {role} was refused ({got})")
            elif not allowed:
                expected = "api-403" if want.kind == "api" else "page-403"
                if got is None:
                    problems.append(f"{method} {path}: a {role} was let in (needs a {want.role})")
                elif got != expected:
                    problems.append(f"{method} {path}: a {role} was refused as {got}, not {expected}")
        # A form without its token, from someone who may post it.
        if want.kind == "form":
            role = want.role or ROLES[0]
            got = _refusal(send(method, path, role, False), concrete)
            if got != "csrf":
                problems.append(f"{method} {path}: a form was taken without its CSRF token ({got})")
        elif method == "POST":
            got = _refusal(send(method, path, ROLES[-1], False), concrete)
            if got == "csrf":
                problems.append(f"{method} {path}: asks for a CSRF token, but the table says it is not a form")
    return problems


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    store = RecordStore(default_url(tmp_path_factory.mktemp("walk") / "data"))
    users = Users(store)
    for role in ROLES:
        users.add(f"walker-{role}", PASSWORD, role)
    yield store
    store.close()


def _app(store: RecordStore, dev: bool = False) -> FastAPI:
    return create_app(houfu.load(), houfu.evaluator(), store, dev=dev, secret="walk")


def test_every_route_lets_in_exactly_whom_the_table_says(store):
    app = _app(store)
    assert len(set(routes(app))) >= 30
    assert walk(app, ACCESS) == []


def test_in_dev_mode_nobody_logs_in_and_no_form_asks_for_a_token(store):
    app = _app(store, dev=True)
    c = TestClient(app, base_url="https://testserver", raise_server_exceptions=False)
    for method, path in routes(app):
        url = re.sub(r"\{[^}]+\}", "x", path)
        r = c.request(method, url, follow_redirects=False, **({} if method in ("GET", "HEAD") else {"data": {}}))
        assert _refusal(r, url) is None, (method, path, r.status_code, r.text[:200])


def test_the_walk_reports_a_route_added_without_a_guard(store):
    app = _app(store)

    @app.get("/v1/leak")
    def leak() -> dict[str, str]:
        return {"every": "household"}

    problems = walk(app, ACCESS)
    assert "GET /v1/leak: not in the table of access" in problems
    # Declared as a caseworker's, the walk finds it open.
    problems = walk(app, {**ACCESS, ("GET", "/v1/leak"): _api(CASEWORKER)})
    assert problems == ["GET /v1/leak: a stranger was let in (needs a caseworker)"]


def test_the_walk_reports_a_guard_taken_off(store):
    app = _app(store)
    # The supervisors' guards replaced by ones that let anybody in, as a forgotten line would.
    app.dependency_overrides[supervisor_api] = lambda: User("anybody", "caseworker")
    app.dependency_overrides[supervisor_page] = lambda: User("anybody", "caseworker")
    problems = walk(app, ACCESS)
    for method, path in (("POST", "/v1/site"), ("GET", "/v1/duties/{department}"), ("GET", "/graph"),
                         ("POST", "/sites")):
        assert f"{method} {path}: a stranger was let in (needs a supervisor)" in problems
        assert f"{method} {path}: a caseworker was let in (needs a supervisor)" in problems
    assert not any("/v1/check" in p or p.startswith("GET /records") for p in problems)


def test_the_walk_reports_a_form_that_takes_no_token(store):
    app = _app(store)
    app.dependency_overrides[csrf_checked] = lambda: None
    problems = walk(app, ACCESS)
    assert "POST /households: a form was taken without its CSRF token (None)" in problems
    assert "POST /logout: a form was taken without its CSRF token (None)" in problems


def test_a_role_table_with_a_wrong_role_is_reported(store):
    """The table is checked both ways: a route the table gives to supervisors that caseworkers can use."""
    problems = walk(_app(store), {**ACCESS, ("GET", "/"): _page(SUPERVISOR)})
    assert problems == ["GET /: a caseworker was let in (needs a supervisor)"]


def test_the_household_search_with_no_id_goes_home_not_round_in_circles(store):
    app = _app(store)
    c = TestClient(app, base_url="https://testserver")
    token = re.search(r'name="csrf" value="([^"]+)"', c.get("/login").text).group(1)
    c.post("/login", data={"name": "walker-caseworker", "password": PASSWORD, "csrf": token})
    for query in ("hid=&lang=en", "hid=%20%20", "lang=zh"):
        r = c.get(f"/households/?{query}", follow_redirects=True)  # httpx stops a loop after 20 redirects
        assert r.status_code == 200 and r.url.path == "/", (query, r.url)
        assert len(r.history) == 1
    r = c.get("/households/?hid=DN-1&lang=en", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/households/DN-1/history?lang=en"


def test_a_language_other_than_zh_or_en_is_refused_naming_lang(store):
    c = TestClient(_app(store, dev=True), base_url="https://testserver")
    for url in ("/?lang=fr", "/graph?lang=fr", "/login?lang=de"):
        r = c.get(url)  # a page: told in HTML (in zh, the language it falls back to), naming the parameter
        assert r.status_code == 422 and r.headers["content-type"].startswith("text/html"), url
        assert 'data-error="params" data-field="lang"' in r.text and "“lang”一项的值不对" in r.text, url
    r = c.get("/v1/owners")  # the API keeps its JSON error naming the parameter
    assert r.status_code == 422 and r.json()["field"] == "query.q"
    assert c.get("/?lang=en").status_code == 200
