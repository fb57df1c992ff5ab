"""The service's second part (issue 13): why and why not, what changed between two records, the responsibility
graph, the caseload upload, the health check and the masking of list views.

Through Starlette's TestClient (the real app, in process) with real login where roles matter; the pages are
read as HTML, and the browser test (tests/test_browser.py) walks them in Chromium.
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import html
import io
import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from fastapi.testclient import TestClient

import houfu
from houfu.cli.commands import main
from houfu.io.privacy import mask_personal
from houfu.io.tables import TableError, sniff_format
from houfu.kb.loader import load_default
from houfu.records.store import RecordStore, Users, default_url, diff_records
from houfu.screen.run import screen_files
from houfu.web.service import create_app

EX = Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture
def env(tmp_path):
    store = RecordStore(default_url(tmp_path / "data"))
    Users(store).add("zhang", "caseworker-pw", "caseworker")
    Users(store).add("li", "supervisor-pw", "supervisor")
    app = create_app(houfu.load(), houfu.evaluator(), store, dev=False, secret="pages")
    yield app, store
    store.close()


def _basic(name: str, password: str) -> dict[str, str]:
    return {"authorization": "Basic " + base64.b64encode(f"{name}:{password}".encode()).decode()}


CASEWORKER, SUPERVISOR = _basic("zhang", "caseworker-pw"), _basic("li", "supervisor-pw")


def _login(c: TestClient, name: str, password: str) -> None:
    token = re.search(r'name="csrf" value="([^"]+)"', c.get("/login").text).group(1)
    r = c.post("/login", data={"name": name, "password": password, "csrf": token}, follow_redirects=False)
    assert r.status_code == 303


def _text(page: str) -> str:
    """What a reader sees: the body without tags, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", " ", page.split("<body>", 1)[1]))


def _record(c: TestClient, body: dict, as_of: str = "2026-01-01") -> str:
    r = c.post(f"/v1/check?as_of={as_of}", json=body, headers=CASEWORKER)
    assert r.status_code == 200, r.text
    return str(r.json()["record_id"])


def _body(name: str) -> dict:
    return yaml.safe_load((EX / f"{name}.yaml").read_text(encoding="utf-8"))


# --- why and why not ------------------------------------------------------------------------------------------


def test_the_why_page_names_the_members_a_rule_holds_for_and_cites_each_step_with_its_quote(env):
    app, store = env
    with TestClient(app, base_url="https://testserver") as c:
        rid = _record(c, _body("dingnan-school-family"))
        _login(c, "zhang", "caseworker-pw")
        page = c.get(f"/records/{rid}/why/dn.3.1.compulsory_schooling")
        assert page.status_code == 200
        seen = _text(page.text)
        d = store.get(rid).report.by_id("dn.3.1.compulsory_schooling")
        assert d.status.value == "applies" and "适用" in seen
        # The rules that held, each with its clause's quote one click away.
        kb = houfu.load()
        assert page.text.count("<details") >= len(d.why)
        assert kb.measures["dn.3.1.compulsory_schooling"].quote in seen
        # Member by member: the two school-age children are yes, the parents no.
        rows = re.findall(r"<tr><td>()([^<]+)</td>\s*<td>([^<]+)</td></tr>", page.text)  # each by name
        ages = {m.name: m.age for m in load_default().models.household.model_validate(_body("dingnan-school-family")).members}
        assert rows and {name: word for _, name, word in rows} == {
            name: ("是" if 6 <= age < 16 else "否") for name, age in ages.items()}


def test_the_why_not_page_says_which_test_fails_naming_the_member_and_what_is_still_missing(env):
    app, store = env
    with TestClient(app, base_url="https://testserver") as c:
        rid = _record(c, _body("dingnan-school-family"))
        _login(c, "zhang", "caseworker-pw")
        report = store.get(rid).report
        ruled_out = next(d for d in report.determinations if d.failed and any("members[" in f for f in d.failed))
        seen = _text(c.get(f"/records/{rid}/why/{ruled_out.measure_id}").text)
        assert "为什么不" in seen and "不适用" in seen
        first = int(re.search(r"members\[(\d+)\]", ruled_out.failed[0]).group(1))
        assert report.member_names[first] in seen and "members[" not in seen.split("为什么不")[1].split("负责部门")[0]
        open_one = next(d for d in report.determinations if d.missing)
        seen = _text(c.get(f"/records/{rid}/why/{open_one.measure_id}?lang=en").text)
        assert "Cannot tell yet" in seen and "cannot tell" not in seen.lower().split("cannot tell yet")[0]
        for fact in open_one.missing:
            assert fact in seen  # each missing fact, asked in words and named by its path


def test_a_record_decided_under_another_knowledge_base_keeps_its_reasons_and_says_why_no_member_tests(env):
    app, store = env
    kb, ev = houfu.load(), houfu.evaluator()
    hh = load_default().models.household.model_validate(_body("dingnan-school-family"))
    old = ev.determine(hh, dt.date(2026, 1, 1)).model_copy(update={"kb_version": "000000000000"})
    rid = store.add(hh, old, "zhang")
    with TestClient(app, base_url="https://testserver") as c:
        _login(c, "zhang", "caseworker-pw")
        seen = _text(c.get(f"/records/{rid}/why/dn.3.1.compulsory_schooling").text)
    assert "000000000000" in seen and "逐人检验只能在那一版下重算" in seen and kb.version != "000000000000"


def test_the_determination_page_links_every_measure_to_its_why_page_and_an_unknown_measure_is_404(env):
    app, store = env
    with TestClient(app, base_url="https://testserver") as c:
        rid = _record(c, _body("dingnan-elderly-couple"))
        _login(c, "zhang", "caseworker-pw")
        page = c.get(f"/records/{rid}").text
        links = set(re.findall(rf"/records/{rid}/why/([\w.]+)", page))
        assert links == {d.measure_id for d in store.get(rid).report.determinations}
        assert c.get(f"/records/{rid}/why/dn.9.9.nothing").status_code == 404


# --- what changed between two records -------------------------------------------------------------------------


def test_a_correction_shows_the_fact_that_changed_and_the_determinations_it_moved(env, tmp_path):
    app, store = env
    body = _body("dingnan-elderly-couple")
    with TestClient(app, base_url="https://testserver") as c:
        before = _record(c, body)
        after = _record(c, {**body, "receives_dibao": True})
        diff = diff_records(store.get(before), store.get(after))
        assert diff.facts == [("receives_dibao", False, True)]
        moved = dict((m, (a, b)) for m, a, b in diff.statuses)
        assert moved["dn.3.3.dibao"] == ("applies", "satisfied")
        _login(c, "zhang", "caseworker-pw")
        history = c.get("/households/DN-2023-0588").text
        assert f"before={before}&amp;after={after}" in history  # the newer row compares with the one before
        seen = _text(c.get(f"/households/DN-2023-0588/diff?before={before}&after={after}").text)
        # The fact by its question and its values in words, never the code or true/false (issue 22).
        assert "现在是否领取低保?" in seen and "已经享有" in seen and "适用" in seen
        assert "receives_dibao" not in seen and "false" not in seen and "true" not in seen
        assert re.search(r"现在是否领取低保\?\s+否\s+是", seen)
        assert c.get(f"/households/SOMEONE-ELSE/diff?before={before}&after={after}").status_code == 404
    got = CliRunner().invoke(main, ["records", "diff", before, after, "--json", "--data-dir", str(tmp_path / "data")])
    assert got.exit_code == 0, got.output
    import json

    out = json.loads(got.output)
    assert out["facts"] == [{"fact": "receives_dibao", "before": False, "after": True}] and not out["same"]
    text = CliRunner().invoke(main, ["records", "diff", before, after, "--data-dir", str(tmp_path / "data")])
    assert "fact receives_dibao: false -> true" in text.output and "None" not in text.output
    same = CliRunner().invoke(main, ["records", "diff", before, before, "--data-dir", str(tmp_path / "data")])
    assert same.exit_code == 0 and "agree" in same.output
    bad = CliRunner().invoke(main, ["records", "diff", before, "nope", "--data-dir", str(tmp_path / "data")])
    assert bad.exit_code != 0 and "nope" in bad.output and "Traceback" not in bad.output


# --- the responsibility graph ---------------------------------------------------------------------------------


def test_the_graph_page_draws_every_responsibility_as_a_linked_cell_with_chinese_labels(env):
    from houfu.kb.graph import responsibility_matrix

    app, _ = env
    kb = houfu.load()
    grid = responsibility_matrix(houfu.responsibility_graph(kb=kb))
    with TestClient(app, base_url="https://testserver") as c:
        _login(c, "li", "supervisor-pw")
        page = c.get("/graph").text
        assert page.count('class="cell"') == len(grid.cells) > 50
        assert "县人社局" in page and "<svg" in page and 'href="/clauses/dn.4.3' in page
        one = c.get("/graph?document=shiyan-2019").text
        assert one.count('class="cell"') == len(responsibility_matrix(houfu.responsibility_graph(kb=kb),
                                                                        "shiyan-2019").cells)
        assert "/clauses/dn." not in one
    with TestClient(app, base_url="https://testserver") as c:
        _login(c, "zhang", "caseworker-pw")
        assert c.get("/graph").status_code == 403


def test_a_lead_outranks_a_share_in_the_grid_and_the_picture_draws_the_same_grid(tmp_path):
    from houfu.kb.graph import responsibility_matrix
    from houfu.present.pictures import matrix_picture, render

    kb = houfu.load()
    G = houfu.responsibility_graph(kb=kb)
    grid = responsibility_matrix(G)
    for (body, clause), role in grid.cells.items():
        roles = {a["role"] for u, v, a in G.edges(data=True) if u == body and v == clause}
        assert role == max(roles, key=["named", "shared", "lead"].index)
    pic = matrix_picture(kb, G)
    assert len(pic.cells) == len(grid.cells) and [b[0] for b in pic.bodies] == [G.nodes[b]["label"] for b in grid.bodies]
    assert render(kb, G, tmp_path / "g.svg").stat().st_size > 10_000


# --- a caseload uploaded --------------------------------------------------------------------------------------


def test_an_uploaded_caseload_is_read_by_its_content_and_screens_as_the_cli_does(env, tmp_path):
    app, _ = env
    want = screen_files(houfu.load(), houfu.evaluator(), EX / "caseload.xlsx", None, None, None, "household",
                        dt.date(2026, 1, 1), None, None, tmp_path / "e.csv").totals
    with TestClient(app, base_url="https://testserver") as c:
        # A workbook sent under a CSV's name is still read as the workbook it is.
        r = c.post("/v1/screen?as_of=2026-01-01", headers=SUPERVISOR,
                   files={"caseload": ("export.csv", (EX / "caseload.xlsx").read_bytes(), "text/csv")})
        assert r.status_code == 200, r.text
        got = r.json()
        assert (got["rows_in"], got["screened"], got["rejected"]) == (want.rows_in, want.screened, want.rejected)
        assert got["rows_in"] == got["screened"] + got["rejected"] and got["errors_total"] == len(want.errors)
        assert got["by_measure"] == {m: dict(v) for m, v in want.status_counts.items()}
        assert all("/" not in e["file"] for e in got["errors"])  # no server path leaks
        # GBK CSV with a members table, answered as the determinations file.
        files = {"caseload": ("h", (EX / "caseload-gbk" / "households.csv").read_bytes()),
                 "members": ("m", (EX / "caseload-gbk" / "members.csv").read_bytes())}
        r = c.post("/v1/screen?as_of=2026-01-01&determinations=csv", headers=SUPERVISOR, files=files)
        assert r.status_code == 200
        rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
        screened = int(r.headers["x-houfu-screened"])
        assert len({row["household"] for row in rows}) == screened > 0
        # A caseworker may not screen a county's caseload.
        r = c.post("/v1/screen", headers=CASEWORKER, files={"caseload": ("x.csv", b"id\n1\n")})
        assert r.status_code == 403 and r.json()["status"] == 403


@pytest.mark.parametrize("content,says", [
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64, "legacy Excel"),
    (b"PK\x03\x04 not really a workbook", "not an XLSX workbook"),
    (b"\x00\x01\x02binary", "binary content"),
    (b"   \n", "empty"),
    ("姓名,年龄\n张三,5\n".encode("gbk"), "no household id column"),
])
def test_an_upload_houfu_cannot_read_is_one_json_error_naming_the_file(env, content, says):
    app, _ = env
    with TestClient(app, base_url="https://testserver") as c:
        r = c.post("/v1/screen", headers=SUPERVISOR, files={"caseload": ("caseload.csv", content)})
    assert r.status_code == 422 and r.json()["field"].startswith("caseload") and says in r.json()["error"]
    assert "houfu-screen-" not in r.text and r.json()["status"] == 422


def test_a_file_whose_content_is_not_what_its_name_says_is_refused_in_one_line(tmp_path):
    fake = tmp_path / "export.csv"
    fake.write_bytes((EX / "caseload.xlsx").read_bytes())
    got = CliRunner().invoke(main, ["screen", str(fake), "-q"])
    assert got.exit_code == 2 and "the content is an XLSX workbook" in got.output and "Traceback" not in got.output
    assert sniff_format(b"PAR1....") == ".parquet" and sniff_format(b'\xef\xbb\xbf{"id": 1}') == ".jsonl"
    with pytest.raises(TableError):
        sniff_format(b"")


# --- health and privacy ---------------------------------------------------------------------------------------


def test_healthz_answers_without_login_with_the_knowledge_base_it_serves(env):
    app, _ = env
    with TestClient(app, base_url="https://testserver") as c:
        r = c.get("/healthz")
    assert r.status_code == 200 and r.json()["kb_version"] == houfu.load().version and r.json()["database"] == "ok"


@pytest.mark.parametrize("raw,shown", [
    ("360731199001011234", "360731********1234"),
    ("36073119900101123X", "360731********123X"),
    ("360731900101123", "360731*****1123"),
    ("户主电话 13812345678", "户主电话 138****5678"),
    ("DN-2023-0417", "DN-2023-0417"),
    ("1234567890123456789", "1234567890123456789"),  # 19 digits: not an ID number
])
def test_list_views_mask_id_and_mobile_numbers_and_nothing_else(raw, shown):
    assert mask_personal(raw) == shown


def test_a_household_registered_by_its_id_number_is_masked_in_the_supervisors_lists(env):
    app, _ = env
    body = {**_body("dingnan-elderly-couple"), "id": "360731195201011234", "name": "刘德福 13812345678"}
    with TestClient(app, base_url="https://testserver") as c:
        _record(c, body)
        _login(c, "li", "supervisor-pw")
        clause = c.get("/clauses/dn.3.3").text
        history = c.get("/households/360731195201011234").text
    for page in (clause, history):
        assert "360731********1234" in page and "195201011234" not in _text(page)
    assert "138****5678" in clause and "13812345678" not in clause


def test_every_record_keeps_the_input_as_received_from_the_api_the_form_and_the_cli(env, tmp_path):
    app, store = env
    typed = (EX / "dingnan-household.yaml").read_text(encoding="utf-8").replace(
        "labor_capacity: full", "labor_capacity: 完全", 1)
    assert "完全" in typed
    with TestClient(app, base_url="https://testserver") as c:
        r = c.post("/v1/check", content=typed.encode("utf-8"),
                   headers={**CASEWORKER, "content-type": "application/yaml"})
        rec = store.get(r.json()["record_id"])
        assert rec.received == typed  # exactly the bytes sent, the label as typed
        assert "完全" not in rec.input["members"][0].values()  # the accepted record holds the code
    path = tmp_path / "typed.yaml"
    path.write_text(typed, encoding="utf-8")
    got = CliRunner().invoke(main, ["check", str(path), "--record", "--json", "--data-dir", str(tmp_path / "cli")])
    assert got.exit_code == 0, got.output
    with RecordStore(default_url(tmp_path / "cli")) as cli_store:
        kept = cli_store.list()[0]
    import json

    assert "完全" in [m.get("labor_capacity") for m in json.loads(kept.received)["members"]]


def test_a_caseload_screened_through_the_api_is_kept_with_its_fingerprint(env):
    import hashlib

    app, store = env
    data = (EX / "caseload.xlsx").read_bytes()
    with TestClient(app, base_url="https://testserver") as c:
        r = c.post("/v1/screen", headers=SUPERVISOR, files={"caseload": ("export.xlsx", data)})
        listed = c.get("/v1/screens", headers=SUPERVISOR).json()
        assert c.get("/v1/screens", headers=CASEWORKER).status_code == 403
    kept = store.screens()[0]
    assert kept.screen_id == r.json()["screen_id"] == listed[0]["screen_id"] and kept.user == "li"
    assert kept.files == [{"role": "caseload", "format": "xlsx", "bytes": len(data),
                           "sha256": hashlib.sha256(data).hexdigest(), "name_given": "export.xlsx"}]
    assert (kept.rows_in, kept.screened, kept.rejected) == (r.json()["rows_in"], r.json()["screened"],
                                                            r.json()["rejected"])


def test_a_clause_page_shows_each_measure_with_its_rule_in_words_or_why_it_has_none(env):
    app, _ = env
    kb = houfu.load()
    with TestClient(app, base_url="https://testserver") as c:
        _login(c, "li", "supervisor-pw")
        seen = _text(c.get("/clauses/dn.4.3").text)
    clause = kb.clauses["dn.4.3"]
    with_rule = [m for m in clause.measures if m.rule is not None]
    without = [m for m in clause.measures if m.rule is None and m.not_decidable]
    assert with_rule and seen.count("规则:") == len(with_rule)
    assert "in_incubator = true" in seen  # the incubation subsidy's rule, in words
    assert all(m.not_decidable in seen for m in without)


def test_the_why_page_gives_the_amount_in_words_with_numbers_as_people_write_them(env):
    app, store = env
    with TestClient(app, base_url="https://testserver") as c:
        rid = _record(c, _body("dingnan-incubator-business"))
        _login(c, "zhang", "caseworker-pw")
        seen = _text(c.get(f"/records/{rid}/why/dn.4.3.incubation_subsidy").text)
    amount = store.get(rid).report.by_id("dn.4.3.incubation_subsidy").amounts[0]
    assert amount.value and f"{int(amount.value):,}" in seen and "本季度补贴" in seen
    assert ".0 " not in seen and "None" not in seen
