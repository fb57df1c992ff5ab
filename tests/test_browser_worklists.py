"""The supervisor's worklist pages in a real browser (issue 24): Chromium through selenium against the running
service, in Chinese and English. A caseload is screened with worklists into the service's records store; the
supervisor opens the status page from the menu, uploads a department's filled worklist and a tampered copy, sees
the rows kept and each refused row with its reason, and opens the 动态清零 tracker. Screenshots go to
out/screenshots/ (13- to 18-)."""

from __future__ import annotations

import re
import shutil

import pytest
from click.testing import CliRunner

import houfu
from houfu.cli.commands import main
from houfu.records.store import RecordStore, Users, default_url
from houfu.web.service import create_app
from tests.live_server import live_server
from tests.test_browser import browser, go, now, shot  # noqa: F401 - the module's browser fixture
from tests.test_worklists import CLOCKS, ZERO, _answer, _caseload

PASSWORD = "supervisor-in-chromium"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    folder = tmp_path_factory.mktemp("worklists")
    data = folder / "data"
    store = RecordStore(default_url(data))
    Users(store).add("li", PASSWORD, "supervisor")
    hh, mm = _caseload(folder / "m1")
    lists = folder / "lists"
    r = CliRunner().invoke(main, ["screen", str(hh), "--members", str(mm), "--as-of", "2026-11-02", "-q",
                                  "--worklists", str(lists), "--clocks", str(CLOCKS), "--database",
                                  default_url(data), "-o", str(folder / "m1.parquet")])
    assert r.exit_code == 0, r.output
    screen_id = r.output.split("screen id ")[1].split(")")[0]
    with live_server(create_app(houfu.load(), houfu.evaluator(), store, dev=False, secret="worklists")) as base:
        yield base, store, lists, screen_id, folder
    store.close()


def _cells(driver, selector: str, first: str) -> list[str]:
    from selenium.webdriver.common.by import By

    for row in driver.find_elements(By.CSS_SELECTOR, f"{selector} tr"):
        cells = [c.text for c in now(driver, By.TAG_NAME, "td", within=row)]  # a header row has none
        if cells and cells[0].startswith(first):
            return cells
    raise AssertionError(f"no row {first!r} in {selector}")


def test_a_supervisor_imports_a_departments_answers_sees_refusals_status_and_the_tracker(browser, served):  # noqa: F811
    from selenium.webdriver.common.by import By

    base, store, lists, screen_id, folder = served
    browser.delete_all_cookies()
    browser.get(base + "/login")
    browser.find_element(By.NAME, "name").send_keys("li")
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    go(browser, browser.find_element(By.CSS_SELECTOR, "form[action='/login'] button"))
    assert "/login" not in browser.current_url
    # The menu offers the supervisor's worklist pages.
    go(browser, browser.find_element(By.LINK_TEXT, "工作清单"))
    assert "/worklists" in browser.current_url
    assert screen_id in browser.find_element(By.TAG_NAME, "body").text
    n = len(store.worklist_items(screen_id, "dn_hrss"))
    # Nothing answered yet (the overdue count depends on today's date, the page's default).
    assert _cells(browser, "table.status", "县人社局")[:7] == ["县人社局", str(n), str(n), "0", "0", "0", "0"]
    shot(browser, "13-worklists")
    # The 人社局 answers two rows; a tampered copy has an edited key and an answer dated in the future.
    hrss = folder / "upload" / "县人社局.xlsx"
    hrss.parent.mkdir()
    shutil.copy(lists / "县人社局.xlsx", hrss)
    masked = "360731********1234"
    _answer(hrss, {(masked, ZERO): ("已核实", None, "张三", "2026-11-05"), ("H3", ZERO): ("需补充", "否", "张三",
                                                                                        "2026-11-06")})
    tampered = folder / "upload" / "改过的清单.xlsx"
    shutil.copy(lists / "县人社局.xlsx", tampered)
    _answer(tampered, {(masked, ZERO): ("已办结", None, "王五", "2026-11-07")}, {"key": "0000000000000000"})
    _answer(tampered, {("H3", ZERO): ("已办结", None, "王五", "2099-01-01")})
    browser.find_element(By.CSS_SELECTOR, "input[type=file][name=files]").send_keys(f"{hrss}\n{tampered}")
    go(browser, browser.find_element(By.CSS_SELECTOR, "form[action='/worklists/import'] button"))
    kept = browser.find_element(By.CSS_SELECTOR, "[role=status]").text
    assert "已导入 2 条答复" in kept
    refused = browser.find_element(By.CSS_SELECTOR, "[role=alert]").text
    assert "以下 2 行未导入" in refused
    assert "改过的清单.xlsx" in refused and "0000000000000000 不是本部门在筛查" in refused
    assert "2099-01-01 晚于今天" in refused
    shot(browser, "14-worklists-import-refused")
    answers = store.answers(screen_id, "dn_hrss")
    assert {(a.household, a.result, a.person) for a in answers} == {
        ("360731199001011234", "confirmed", "张三"), ("H3", "needs_info", "张三")}
    # The status on 2026-11-20: both zero-employment cases past their due date (2026-11-09), neither done nor
    # returned.
    browser.get(base + f"/worklists?screen={screen_id}&as_of=2026-11-20")
    assert _cells(browser, "table.status", "县人社局") == ["县人社局", str(n), str(n - 2), "1", "0", "0", "1", "2"]
    shot(browser, "15-worklists-status")
    # In English: the same counts, and the same upload's refusals in English (nothing kept twice).
    go(browser, browser.find_element(By.LINK_TEXT, "English"))
    browser.get(base + f"/worklists?screen={screen_id}&as_of=2026-11-20&lang=en")
    assert "Where each department stands on 2026-11-20" in browser.find_element(By.TAG_NAME, "h2").text
    assert _cells(browser, "table.status", "County HR and Social Security Bureau (Dingnan County)")[1:] == [
        str(n), str(n - 2), "1", "0", "0", "1", "2"]
    browser.find_element(By.CSS_SELECTOR, "input[type=file][name=files]").send_keys(f"{hrss}\n{tampered}")
    go(browser, browser.find_element(By.CSS_SELECTOR, "form[action='/worklists/import'] button"))
    assert "0 answer(s) kept (2 already kept" in browser.find_element(By.CSS_SELECTOR, "[role=status]").text
    refused = browser.find_element(By.CSS_SELECTOR, "[role=alert]").text
    assert "is not a row of this department's list" in refused and "2099-01-01 is in the future" in refused
    shot(browser, "16-worklists-import-en")
    # The tracker, from the menu: 甲 confirmed on the zero-employment list since 2026-11-02, due 30 days later by
    # the example county rule the run kept; on 2026-12-05 overdue, 33 days open, the 人社局's answer beside it.
    go(browser, browser.find_element(By.LINK_TEXT, "Zero-employment tracker"))
    browser.get(base + "/tracker?as_of=2026-12-05&lang=en")
    row = _cells(browser, "table.tracker", "360731********1234")
    assert row[1:7] == ["2026-11-02", "—", "—", "33", "2026-12-02", "yes"]
    assert "confirmed 2026-11-05 张三" in row[7]
    assert "the county's own rule, not the text's" in browser.find_element(By.TAG_NAME, "body").text
    shot(browser, "17-tracker-en")
    browser.get(base + "/tracker?as_of=2026-12-05")
    row = _cells(browser, "table.tracker", "360731********1234")
    assert row[6] == "是" and "县人社局 已核实 2026-11-05 张三" in row[7]
    assert re.search(r"在册 1 户.*逾期 1 户", browser.find_element(By.CSS_SELECTOR, "p.summary").text)
    shot(browser, "18-tracker")
