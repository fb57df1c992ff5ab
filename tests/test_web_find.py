"""Finding a household again on the pages and in the API, and short record ids there (issue 22, §3): what a
caseworker may see, how a typed query is read, and what an ambiguous short id answers."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient

import houfu
from houfu.records.store import RecordStore, Users, default_url
from houfu.web.app import create_app

from .test_records_find import _twin

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "find-the-household-again"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A store with three caseworkers (two on one site's team) and a supervisor, each with a household."""
    store = RecordStore(default_url(tmp_path_factory.mktemp("find") / "data"))
    users = Users(store)
    users.add("wang", PASSWORD, "caseworker", "dingnan-site")
    users.add("zhao", PASSWORD, "caseworker", "dingnan-site")
    users.add("sun", PASSWORD, "caseworker", "elsewhere")
    users.add("li", PASSWORD, "supervisor")
    app = create_app(houfu.load(), houfu.evaluator(), store, dev=False, secret="find")
    raw = yaml.safe_load((ROOT / "examples" / "dingnan-household.yaml").read_text(encoding="utf-8"))
    made = {}
    for user, hid, member in (("wang", "DN-W-001", "钟建华"), ("zhao", "DN-Z-002", "钟建国"), ("sun", "DN-S-003", "钟建军")):
        c = _login(app, user)
        body = {**raw, "id": hid, "name": f"{member}户", "members": [{**raw["members"][0], "name": member}, *raw["members"][1:]]}
        r = c.post("/v1/check", json=body)
        assert r.status_code == 200, r.text
        made[user] = r.json()["record_id"]
    yield app, store, made
    store.close()


def _login(app, name: str) -> TestClient:
    c = TestClient(app, base_url="https://testserver")
    token = re.search(r'name="csrf" value="([^"]+)"', c.get("/login").text).group(1)
    r = c.post("/login", data={"name": name, "password": PASSWORD, "csrf": token}, follow_redirects=False)
    assert r.status_code == 303
    return c


def test_a_caseworker_finds_their_teams_households_by_a_member_typed_with_a_trailing_space(world):
    app, _, made = world
    c = _login(app, "wang")
    page = c.get("/search", params={"q": "钟建 "})
    assert page.status_code == 200
    assert "DN-W-001" in page.text and "DN-Z-002" in page.text  # a team-mate's household too
    assert "DN-S-003" not in page.text and "钟建军" not in page.text  # another team's is never shown
    assert made["wang"][:12] in page.text and "成员姓名" in page.text
    api = c.get("/v1/households", params={"q": "  钟建华 "}).json()
    assert [h["subject_id"] for h in api["households"]] == ["DN-W-001"]
    assert set(api["households"][0]["matched"]) == {"member", "name"}
    assert c.get("/v1/households", params={"q": "钟建军"}).json()["households"] == []
    everyone = _login(app, "li").get("/v1/households", params={"q": "钟建"}).json()
    assert {h["subject_id"] for h in everyone["households"]} == {"DN-W-001", "DN-Z-002", "DN-S-003"}


def test_an_id_typed_another_way_opens_the_households_history(world):
    app, _, _ = world
    c = _login(app, "wang")
    r = c.get("/households/ｄｎ－ｗ－００１ ", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/households/DN-W-001/history?lang=zh"
    r = c.get("/households/?hid=钟建华", follow_redirects=True)  # the home page's form, with a member's name
    assert r.url.path == "/search" and "DN-W-001" in r.text
    r = c.get("/households/DN-S-003", follow_redirects=False)  # another team's: not said to exist
    assert r.status_code == 200 and "还没有决定记录" in r.text and made_elsewhere(world) not in r.text


def made_elsewhere(world) -> str:
    return world[2]["sun"][:12]


def test_a_short_record_id_opens_the_record_on_pages_and_in_the_api(world):
    app, _, made = world
    c = _login(app, "wang")
    rid = made["wang"]
    for short in (rid[:12], rid[:8], rid[:12].upper()):
        page = c.get(f"/records/{short}")
        assert page.status_code == 200 and rid in page.text, short
        assert c.get(f"/v1/records/{short}").json()["record_id"] == rid
    assert c.get(f"/records/{rid[:12]}/letter").status_code == 200
    r = c.get("/search", params={"q": rid[:12]}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/records/{rid}?lang=zh"
    other = made["sun"]  # another team's record, by its short id: as if it did not exist
    assert c.get(f"/records/{other[:12]}").status_code == 404
    assert c.get(f"/v1/records/{other[:12]}").status_code == 404
    assert c.get(f"/v1/records/{rid[:6]}").json()["error"].endswith("(give at least 8 characters of its id)")


def test_an_ambiguous_short_id_lists_the_records_it_starts(world):
    app, store, made = world
    rid = made["zhao"]
    twin = _twin(store, rid)
    c = _login(app, "li")
    r = c.get(f"/records/{rid[:12]}", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/search?q={rid[:12]}&lang=zh"
    page = c.get(r.headers["location"])
    assert rid in page.text and twin in page.text and "对应多条记录" in page.text
    api = c.get(f"/v1/records/{rid[:12]}")
    assert api.status_code == 409 and api.json()["field"] == "record_id"
    assert rid in api.json()["error"] and twin in api.json()["error"]
    assert c.get(f"/v1/records/{rid[:13]}").json()["record_id"] == rid
    # A caseworker of another team is not told of records they may not read, even among candidates.
    assert _login(app, "sun").get(f"/v1/records/{rid[:12]}").status_code == 404


def test_the_search_page_in_english_and_with_nothing_found(world):
    app, _, _ = world
    c = _login(app, "wang")
    page = c.get("/search", params={"q": "nobody-" + uuid.uuid4().hex[:6], "lang": "en"})
    assert page.status_code == 200 and "Nothing found" in page.text
    empty = c.get("/search")
    assert empty.status_code == 200 and "Nothing found" not in empty.text and 'name="q"' in empty.text


def test_the_clause_page_lists_the_households_a_measure_applied_to(world):
    app, store, made = world
    c = _login(app, "li")
    report = store.get(made["wang"]).report
    clause = next(d.clause_id for d in report.determinations if d.status.value == "applies")
    page = c.get(f"/clauses/{clause}")
    assert page.status_code == 200 and made["wang"] in page.text and "钟建华户" in page.text
