"""Login, roles, sessions and CSRF (issue 13, §3)."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from fastapi.testclient import TestClient

import houfu
from houfu.cli.commands import main
from houfu.kb.graph import resolve_body
from houfu.records.store import RecordStore, Users, default_url
from houfu.web.service import create_app

#: Dingnan's 县人社局 by id, within its jurisdiction: another county's plan may have one too (issue 26)
DINGNAN_HRSS = resolve_body(houfu.load(), "县人社局", "dingnan")

EX = Path(__file__).resolve().parent.parent / "examples"
BODY = yaml.safe_load((EX / "dingnan-household.yaml").read_text(encoding="utf-8"))


@pytest.fixture
def app_and_store(tmp_path):
    store = RecordStore(default_url(tmp_path / "data"))
    users = Users(store)
    users.add("zhang", "caseworker-pw", "caseworker")
    users.add("li", "supervisor-pw", "supervisor")
    yield create_app(houfu.load(), houfu.evaluator(), store, dev=False, secret="test-secret"), store
    store.close()


def _client(app):
    return TestClient(app, base_url="https://testserver")  # the session cookie is Secure


def _csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def _login(c, name: str, password: str):
    token = _csrf(c.get("/login").text)
    return c.post("/login", data={"name": name, "password": password, "csrf": token}, follow_redirects=False)


def test_pages_send_a_stranger_to_the_login_and_the_api_answers_401_json(app_and_store):
    app, _ = app_and_store
    with _client(app) as c:
        r = c.get("/", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login")
        api = c.post("/v1/check", json=BODY)
        assert api.status_code == 401 and api.json()["error"] == "log in first"


def test_a_wrong_password_and_a_missing_csrf_token_are_refused(app_and_store):
    app, _ = app_and_store
    with _client(app) as c:
        assert "role=\"alert\"" in _login(c, "zhang", "nope-nope").text
        c.get("/login")
        r = c.post("/login", data={"name": "zhang", "password": "caseworker-pw", "csrf": "forged"})
        assert r.status_code == 403


def test_a_caseworker_logs_in_decides_a_household_and_the_record_names_them(app_and_store):
    app, store = app_and_store
    with _client(app) as c:
        r = _login(c, "zhang", "caseworker-pw")
        assert r.status_code == 303
        set_cookie = r.headers["set-cookie"].lower()
        assert "httponly" in set_cookie and "secure" in set_cookie and "samesite=strict" in set_cookie
        home = c.get("/")
        assert "开发模式" not in home.text and "zhang" in home.text
        text = (EX / "dingnan-household.yaml").read_text(encoding="utf-8")
        forged = c.post("/households", data={"text": text, "csrf": "forged"})
        assert forged.status_code == 403
        done = c.post("/households", data={"text": text, "csrf": _csrf(home.text)}, follow_redirects=False)
        rid = done.headers["location"].split("/records/")[1].split("?")[0]
        assert store.get(rid).user == "zhang"
        # A caseworker does not see sites.
        assert c.post("/v1/site", json=yaml.safe_load((EX / "dingnan-site.yaml").read_text("utf-8"))).status_code == 403
        out = c.post("/logout", data={"csrf": _csrf(c.get("/").text)}, follow_redirects=False)
        assert out.status_code == 303 and c.get("/", follow_redirects=False).status_code == 303


def test_another_system_uses_http_basic_and_a_supervisor_sees_sites(app_and_store):
    app, store = app_and_store
    with _client(app) as c:
        auth = {"authorization": "Basic " + base64.b64encode(b"li:supervisor-pw").decode()}
        r = c.post("/v1/check", json=BODY, headers=auth)
        assert r.status_code == 200 and store.get(r.json()["record_id"]).user == "li"
        site = yaml.safe_load((EX / "dingnan-site.yaml").read_text(encoding="utf-8"))
        assert c.post("/v1/site", json=site, headers=auth).status_code == 200
        bad = {"authorization": "Basic " + base64.b64encode(b"li:wrong").decode()}
        assert c.post("/v1/check", json=BODY, headers=bad).status_code == 401


def test_users_add_hashes_the_password_and_refuses_a_short_one(tmp_path):
    data = str(tmp_path / "data")
    r = CliRunner().invoke(main, ["users", "add", "wang", "--role", "caseworker", "--password-stdin",
                                  "--data-dir", data], input="long-enough-pw\n")
    assert r.exit_code == 0, r.output
    short = CliRunner().invoke(main, ["users", "add", "zhao", "--role", "caseworker", "--password-stdin",
                                      "--data-dir", data], input="short\n")
    assert short.exit_code == 2 and "at least 12" in short.output
    store = RecordStore(default_url(Path(data)))
    import sqlalchemy as sa

    with store.engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT password_hash FROM users WHERE name = 'wang'")).scalar_one()
    assert stored.startswith("$argon2") and "long-enough-pw" not in stored
    assert Users(store).check("wang", "long-enough-pw") == "caseworker"
    store.close()


def test_a_supervisor_sees_a_site_a_department_and_a_clause_and_a_caseworker_does_not(app_and_store):
    app, store = app_and_store
    with _client(app) as c:
        _login(c, "zhang", "caseworker-pw")
        for path in ("/sites", f"/departments/{DINGNAN_HRSS}", "/clauses/dn.4.3"):
            assert c.get(path).status_code == 403, path
    with _client(app) as c:
        _login(c, "li", "supervisor-pw")
        form = c.get("/sites")
        text = (EX / "dingnan-site.yaml").read_text(encoding="utf-8")
        done = c.post("/sites", data={"text": text, "csrf": _csrf(form.text)}, follow_redirects=False)
        assert done.status_code == 303
        page = c.get(done.headers["location"])
        assert "判定结果" in page.text and ("未落实" in page.text or "已落实" in page.text)
        dept = c.get(f"/departments/{DINGNAN_HRSS}")
        assert dept.status_code == 200 and "县人社局" in dept.text
        c.post("/v1/check", json=BODY)  # a household the clause touches
        clause = c.get("/clauses/dn.4.3")
        assert clause.status_code == 200 and "DN-2023-0417" in clause.text
        assert c.get("/clauses/nope").status_code == 404
