"""政策找人 through the service (issue 24): /v1/screen?worklists=1 answers each department's worklist in a zip, the
supervisor's page takes filled worklists back (CSRF, the upload limit, each refused row with its reason in the
page's language), and the status and tracker pages show where each department stands. The pages in Chromium are
in tests/test_browser.py."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
from fastapi.testclient import TestClient

import houfu
from houfu.records.store import RecordStore, Users, default_url
from houfu.screen.worklists import MEASURE, RESULT, SHEET_ROWS
from houfu.web.app import create_app
from houfu.web.deps import WORKLIST_UPLOAD

from .test_worklists import CLOCKS, HOUSEHOLDS, MEMBERS, ZERO

PASSWORD = "worklists-on-the-web"


@pytest.fixture
def service(tmp_path):
    store = RecordStore(default_url(tmp_path / "data"))
    Users(store).add("li", PASSWORD, "supervisor")
    Users(store).add("zhang", PASSWORD, "caseworker")
    app = create_app(houfu.load(), houfu.evaluator(), store, dev=False, secret="worklists")
    yield app, store
    store.close()


def login(app, name: str) -> tuple[TestClient, str]:
    c = TestClient(app, base_url="https://testserver")
    token = re.search(r'name="csrf" value="([^"]+)"', c.get("/login").text).group(1)
    r = c.post("/login", data={"name": name, "password": PASSWORD, "csrf": token}, follow_redirects=False)
    assert r.status_code == 303
    return c, re.search(r'name="csrf" value="([^"]+)"', c.get("/login").text).group(1)


def screen_with_worklists(c: TestClient) -> tuple[str, dict[str, bytes]]:
    r = c.post("/v1/screen?worklists=1&as_of=2026-11-02",
               files={"caseload": ("households.csv", HOUSEHOLDS.encode()), "members": ("m.csv", MEMBERS.encode()),
                      "clocks": ("clocks.yaml", CLOCKS.read_bytes())},
               auth=("li", PASSWORD))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/zip"
    z = zipfile.ZipFile(io.BytesIO(r.content))
    return r.headers["x-houfu-screen-id"], {n: z.read(n) for n in z.namelist()}


def fill(data: bytes, answers: dict[tuple[str, str], tuple[str, str | None, str, str]]) -> bytes:
    """A department fills its worklist: result, note, officer and date by (masked household, measure)."""
    book = openpyxl.load_workbook(io.BytesIO(data))
    for row in book[SHEET_ROWS].iter_rows(min_row=2):
        got = answers.get((row[2].value, row[MEASURE].value))
        if got:
            for k, v in enumerate(got):
                row[RESULT + k].value = v
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_the_screen_api_answers_each_departments_worklist_in_a_zip_and_keeps_the_run(service):
    app, store = service
    c, _ = login(app, "li")
    screen_id, files = screen_with_worklists(c)
    books = sorted(n for n in files if n.startswith("worklists/"))
    assert "worklists/县人社局.xlsx" in books and "worklists/县民政局.xlsx" in books
    import json

    summary = json.loads(files["summary.json"])
    assert summary["screen_id"] == screen_id and summary["rows_in"] == 4
    # The run and the rows sent are kept: the supervisor's import matches on them.
    run = store.screen(screen_id)
    assert run is not None and run.user == "li"
    assert {Path(n).name for n in books} == set(run.summary["worklists"].values())
    items = store.worklist_items(screen_id, "dn_hrss")
    assert {(i.household, i.measure, i.due_on) for i in items.values() if i.measure == ZERO} == {
        ("360731199001011234", ZERO, dt.date(2026, 11, 9)), ("H3", ZERO, dt.date(2026, 11, 9))}
    # The cover sheet names the run as the service kept it.
    cover = openpyxl.load_workbook(io.BytesIO(files["worklists/县人社局.xlsx"])).worksheets[0]
    assert cover.cell(4, 2).value == screen_id
    # Without the flag the answer is the summary, as before; a table of sites has no worklists.
    r = c.post("/v1/screen?worklists=1&sites=1", files={"caseload": ("s.csv", HOUSEHOLDS.encode())},
               auth=("li", PASSWORD))
    assert r.status_code == 422 and r.json()["field"] == "worklists"
    # A caseworker may not screen a caseload at all.
    r = TestClient(app, base_url="https://testserver").post(
        "/v1/screen?worklists=1", files={"caseload": ("h.csv", HOUSEHOLDS.encode())}, auth=("zhang", PASSWORD))
    assert r.status_code == 403


def test_the_supervisor_imports_filled_worklists_and_sees_each_refused_row_in_the_pages_language(service):
    app, store = service
    c, token = login(app, "li")
    screen_id, files = screen_with_worklists(c)
    masked = "360731********1234"
    hrss = fill(files["worklists/县人社局.xlsx"], {
        (masked, ZERO): ("已核实", None, "张三", "2026-11-05"),
        ("H3", ZERO): ("需补充", "否", "张三", "2026-11-06")})
    civil_rows = list(openpyxl.load_workbook(io.BytesIO(files["worklists/县民政局.xlsx"]))[SHEET_ROWS].iter_rows(
        min_row=2, values_only=True))
    first = civil_rows[0]
    # A civil-affairs row answered with a date in the future and another 不符合 without a reason: both refused.
    civil = fill(files["worklists/县民政局.xlsx"], {(first[2], first[MEASURE]): ("已办结", None, "李四", "2099-01-01")})
    book = openpyxl.load_workbook(io.BytesIO(civil))
    ws = book[SHEET_ROWS]
    ws.cell(3, RESULT + 1).value, ws.cell(3, RESULT + 3).value, ws.cell(3, RESULT + 4).value = "不符合", "李四", \
        "2026-11-06"
    buf = io.BytesIO()
    book.save(buf)
    civil = buf.getvalue()
    upload = [("files", ("县人社局.xlsx", hrss)), ("files", ("县民政局.xlsx", civil)),
              ("files", ("notes.xlsx", _not_a_worklist()))]
    r = c.post("/worklists/import", data={"csrf": token, "lang": "zh"}, files=upload)
    assert r.status_code == 200, r.text
    page = r.text
    assert "已导入 2 条答复(0 条此前已导入" in page
    assert "县民政局.xlsx</td><td>2</td><td>日期</td><td>2099-01-01 晚于今天" in page
    assert "县民政局.xlsx</td><td>3</td><td>说明</td><td>选“不符合”时须在“说明”中写明原因" in page
    assert "notes.xlsx: cover: not a houfu worklist" in page and "/tmp" not in page
    # The same files again, in English: nothing is kept twice, and the refusals read in English.
    r = c.post("/worklists/import", data={"csrf": token, "lang": "en"}, files=upload)
    assert "0 answer(s) kept (2 already kept" in r.text
    assert "2099-01-01 is in the future" in r.text and "不符合 needs the reason in 说明" in r.text
    answers = store.answers(screen_id)
    assert len(answers) == 2 and {a.user for a in answers} == {"li"} and answers[0].source == "县人社局.xlsx#" + \
        answers[0].source.split("#")[1]
    # The status on the page: the 人社局's two zero-employment cases were due 2026-11-09; on 2026-11-20 both are
    # overdue (one confirmed, one needing information).
    r = c.get(f"/worklists?screen={screen_id}&as_of=2026-11-20")
    row = re.search(r"<tr><td>县人社局</td>(.*?)</tr>", r.text).group(1)
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", row)
    n = len(store.worklist_items(screen_id, "dn_hrss"))
    assert cells == [str(n), str(n - 2), "1", "0", "0", "1", "2"]
    # Without the form's token the import is refused, and nothing is read.
    r = c.post("/worklists/import", data={"csrf": "forged", "lang": "zh"}, files=upload)
    assert r.status_code == 403 and 'data-error="form"' in r.text


def _not_a_worklist() -> bytes:
    book = openpyxl.Workbook()
    book.active.append(["户编号"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_an_import_over_the_upload_limit_is_refused_before_it_is_read(service):
    app, _ = service
    c, token = login(app, "li")
    r = c.post("/worklists/import", content=b"x" * 10, headers={
        "content-type": "multipart/form-data; boundary=x", "content-length": str(WORKLIST_UPLOAD + 1)})
    assert r.status_code == 413 and f"at most {WORKLIST_UPLOAD:,}" in r.text


def test_the_menu_offers_the_worklist_pages_to_a_supervisor_only(service):
    app, _ = service
    sup, _ = login(app, "li")
    worker, _ = login(app, "zhang")
    assert 'href="/worklists?lang=zh"' in sup.get("/").text and 'href="/tracker?lang=zh"' in sup.get("/").text
    home = worker.get("/").text
    assert "/worklists" not in home and "/tracker" not in home
    assert worker.get("/worklists").status_code == 403 and worker.get("/tracker").status_code == 403


def test_the_tracker_page_follows_the_zero_employment_households_with_the_runs_clock(service):
    app, store = service
    c, _ = login(app, "li")
    screen_with_worklists(c)
    r = c.get("/tracker?as_of=2026-12-05")
    assert r.status_code == 200
    # 甲 is confirmed on the list (H3's employment is unknown: to check, not tracked); first seen 2026-11-02, due
    # 30 days later by the example county rule (the run kept its clock), overdue on 2026-12-05, 33 days open.
    row = re.search(r"<tr><td>360731\*{8}1234</td>(.*?)</tr>", r.text).group(1)
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", row)
    assert cells[:6] == ["2026-11-02", "—", "—", "33", "2026-12-02", "是"]
    assert "示例" in r.text  # whose rule the deadline is: an example county's, not the text's
    assert "199001011234" not in r.text
    en = c.get("/tracker?as_of=2026-12-05&lang=en").text
    assert "days open" in en and "the county&#39;s own rule, not the text&#39;s" in en
