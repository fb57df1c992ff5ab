"""The caseworker's pages in a real browser: Debian's chromium and chromium-driver through selenium, against
the running service (issue 13, §4). Screenshots are kept in out/screenshots/ as test artefacts."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import houfu
from houfu.kb.graph import resolve_body
from houfu.records.store import RecordStore, Users, default_url
from houfu.web.service import create_app
from tests.live_server import live_server

#: The department page opened, looked up by its name within its jurisdiction (dn_hrss), never as "the only 县人社局"
DINGNAN_HRSS = resolve_body(houfu.load(), "县人社局", "dingnan")

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "out" / "screenshots"


@pytest.fixture(scope="module")
def browser(chromium, tmp_path_factory):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    driver_path = shutil.which("chromedriver")
    assert driver_path, "chromedriver is not installed; `make test` installs chromium-driver"
    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--window-size=1100,1400",
                f"--user-data-dir={tmp_path_factory.mktemp('chromium')}"):
        opts.add_argument(arg)
    driver = webdriver.Chrome(service=Service(driver_path), options=opts)
    driver.implicitly_wait(5)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    store = RecordStore(default_url(tmp_path_factory.mktemp("data")))
    Users(store).add("zhang", "caseworker-pw", "caseworker")
    Users(store).add("li", "supervisor-pw", "supervisor")
    with live_server(create_app(houfu.load(), houfu.evaluator(), store, dev=False, secret="browser")) as base:
        yield base, store
    store.close()


def go(driver, element) -> None:
    """Click a link or button that loads a new page, and wait until the new page has loaded.

    Reading the page straight after the click can catch the old one as it is torn down (a stale element, or
    chromedriver's "node does not belong to the document", both seen in CI), or start a navigation that
    cancels the one in flight. So the old page is marked, and the wait is for a complete page without the
    mark; errors while the documents change over only mean "not yet"."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.support.ui import WebDriverWait

    driver.execute_script("window.__houfu_old_page = true;")
    element.click()
    WebDriverWait(driver, 15, ignored_exceptions=(WebDriverException,)).until(
        lambda d: d.execute_script("return window.__houfu_old_page === undefined"
                                   " && document.readyState === 'complete';"))


def now(driver, by: str, selector: str, within=None) -> list:
    """The elements on the page as it stands, without the implicit wait: a page ``go`` has loaded is complete, and
    asking that something is absent would otherwise wait the full 5 s each time."""
    driver.implicitly_wait(0)
    try:
        return (within or driver).find_elements(by, selector)
    finally:
        driver.implicitly_wait(5)


def shot(driver, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SHOTS / f"{name}.png"))


def test_a_caseworker_logs_in_enters_a_household_corrects_it_and_prints_the_letter(browser, site):
    from selenium.webdriver.common.by import By

    base, store = site
    browser.get(base + "/")
    assert "/login" in browser.current_url
    browser.find_element(By.NAME, "name").send_keys("zhang")
    browser.find_element(By.NAME, "password").send_keys("caseworker-pw")
    shot(browser, "01-login")
    go(browser, browser.find_element(By.CSS_SELECTOR, "form[action='/login'] button"))
    assert "/login" not in browser.current_url
    assert browser.current_url.rstrip("/") == base
    text = (ROOT / "examples" / "dingnan-school-family.yaml").read_text(encoding="utf-8")
    box = browser.find_element(By.NAME, "text")
    box.send_keys(text.replace("age: 9\n", "age: 九岁半\n"))  # a wrong answer (九岁 alone is read as 9)
    go(browser, browser.find_element(By.CSS_SELECTOR, "form[enctype='multipart/form-data'] button[value='decide']"))
    alert = browser.find_element(By.CSS_SELECTOR, "[role=alert]")
    assert "“九岁半”不是数字" in alert.text  # in the page's language
    shot(browser, "02-wrong-answer")
    box = browser.find_element(By.NAME, "text")  # its correction: the text is kept, fix the one line
    box.clear()
    box.send_keys(text)
    go(browser, browser.find_element(By.CSS_SELECTOR, "form[enctype='multipart/form-data'] button[value='decide']"))
    assert "/records/" in browser.current_url
    body = browser.find_element(By.TAG_NAME, "body").text
    assert "先办这几件事" in body and "曾晓东" in body
    rid = browser.current_url.split("/records/")[1].split("?")[0]
    assert rid in body and store.get(rid).user == "zhang"
    shot(browser, "03-determination")
    # Why: each measure's row carries its clause, with the quote on hover.
    cite = browser.find_element(By.CSS_SELECTOR, "td.cite")
    assert cite.get_attribute("title")
    go(browser, browser.find_element(By.LINK_TEXT, "打印告知书"))
    assert "家庭政策告知书" in browser.find_element(By.TAG_NAME, "h1").text
    shot(browser, "04-letter")
    browser.back()
    go(browser, browser.find_element(By.LINK_TEXT, "这户的历史"))
    assert rid[:12] in browser.find_element(By.TAG_NAME, "body").text
    shot(browser, "05-history")


WALK_IN = """id: SY-WALKIN-0002
jurisdiction: 郧阳区
members:
  - name: 陈老汉
    age: 72
    disability: true
  - name: 陈小妹
"""


def test_a_caseworker_interviews_a_walk_in_corrects_a_wrong_answer_and_opens_why_and_why_not(browser, site):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    base, store = site
    browser.get(base + "/")  # still logged in as the caseworker from the test above
    browser.find_element(By.NAME, "text").send_keys(WALK_IN)
    go(browser, browser.find_element(By.CSS_SELECTOR, "button[formaction='/interview']"))
    assert "问答" in browser.find_element(By.TAG_NAME, "h1").text
    age = browser.find_element(By.CSS_SELECTOR, "input[aria-label='members[1].age']")
    age.send_keys("小学生")  # a wrong answer: not an age
    Select(browser.find_element(By.CSS_SELECTOR, "select[aria-label='members[0].labor_capacity']")).select_by_visible_text("没有")
    go(browser, browser.find_element(By.CSS_SELECTOR, "button[name='next']"))
    alert = browser.find_element(By.CSS_SELECTOR, "[role=alert]")
    assert alert.text
    box = browser.find_element(By.CSS_SELECTOR, "input[aria-label='members[1].age']")
    assert box.get_attribute("value") == "小学生"  # kept, to be corrected
    shot(browser, "08-interview-wrong-answer")
    # The other answer was taken: the old man's capacity is no longer asked.
    assert not now(browser, By.CSS_SELECTOR, "select[aria-label='members[0].labor_capacity']")
    box.clear()
    box.send_keys("10")
    go(browser, browser.find_element(By.CSS_SELECTOR, "button[name='next']"))
    assert not now(browser, By.CSS_SELECTOR, "[role=alert]")
    shot(browser, "09-interview-next-questions")
    go(browser, browser.find_element(By.CSS_SELECTOR, "button[name='finish']"))
    assert "/records/" in browser.current_url
    rid = browser.current_url.split("/records/")[1].split("?")[0]
    rec = store.get(rid)
    assert rec.input["members"][1]["age"] == 10 and rec.input["members"][0]["labor_capacity"] == "none"
    # Why: a measure that applies, with its rules and quotes one click away.
    applies = next(d for d in rec.report.determinations if d.status.value == "applies" and d.why)
    go(browser, browser.find_element(By.CSS_SELECTOR, f"a[href^='/records/{rid}/why/{applies.measure_id}']"))
    quote = browser.find_element(By.CSS_SELECTOR, "details.quote")
    assert not browser.find_element(By.CSS_SELECTOR, "details.quote blockquote").is_displayed()
    quote.find_element(By.TAG_NAME, "summary").click()  # one click shows the verbatim quote
    assert browser.find_element(By.CSS_SELECTOR, "details.quote blockquote").is_displayed()
    shot(browser, "10-why")
    # Why not: a measure ruled out by a test on a member, named as the household knows them.
    browser.back()
    ruled_out = next(d for d in rec.report.determinations if d.status.value == "does_not_apply" and d.failed)
    go(browser, browser.find_element(By.CSS_SELECTOR, f"a[href^='/records/{rid}/why/{ruled_out.measure_id}']"))
    body = browser.find_element(By.TAG_NAME, "body").text
    assert "为什么不" in body and "不适用" in body
    shot(browser, "11-why-not")


def test_a_decision_made_in_the_browser_replays_from_its_record_with_the_same_result(browser, site):
    base, store = site
    rid = store.list(limit=1)[0].record_id  # made by the test above, through the pages
    replay = store.replay(houfu.evaluator(), rid)
    assert replay.same and replay.kb_version == store.get(rid).kb_version


def test_a_supervisor_checks_a_site_and_reads_a_department(browser, site):
    from selenium.webdriver.common.by import By

    base, _ = site
    browser.delete_all_cookies()
    browser.get(base + "/login")
    browser.find_element(By.NAME, "name").send_keys("li")
    browser.find_element(By.NAME, "password").send_keys("supervisor-pw")
    # Let the login land before going on: a navigation started too soon would cancel it.
    go(browser, browser.find_element(By.CSS_SELECTOR, "form[action='/login'] button"))
    assert "/login" not in browser.current_url
    browser.get(base + "/sites")
    browser.find_element(By.NAME, "text").send_keys((ROOT / "examples" / "shiyan-small-site.yaml").read_text("utf-8"))
    go(browser, browser.find_element(By.CSS_SELECTOR, "form[action='/sites'] button"))
    body = browser.find_element(By.TAG_NAME, "body").text
    assert "/records/" in browser.current_url and "未落实" in body
    shot(browser, "06-site")
    # Dingnan's 县人社局, by its id: another county's plan in the policy folder has one too (issue 26)
    browser.get(base + "/departments/" + DINGNAN_HRSS)
    assert "县人社局" in browser.find_element(By.TAG_NAME, "body").text
    shot(browser, "07-department")
    browser.get(base + "/graph")
    cells = browser.find_elements(By.CSS_SELECTOR, "svg#graph rect.cell")
    assert len(cells) > 50
    before = browser.find_element(By.ID, "graph").size["width"]
    browser.find_element(By.CSS_SELECTOR, "button[data-zoom='1.25']").click()  # the zoom works in the browser
    assert browser.find_element(By.ID, "graph").size["width"] > before
    # The department labels are SVG text in Chinese (whether the glyphs render is seen in the screenshot).
    label = browser.find_element(By.XPATH, "//*[name()='text' and starts-with(., '县人社局')]")
    assert label.size["width"] > 40
    shot(browser, "12-graph")


def test_a_supervisor_disables_and_enables_a_caseworker_and_reads_who_read_a_household(browser, site):
    """The users page (issue 23, §4) and the reads of a household (§5), in the browser: each button a form with
    the session's token; the caseworker's own session ends at once."""
    from selenium.webdriver.common.by import By

    base, store = site
    browser.delete_all_cookies()
    browser.get(base + "/login")
    browser.find_element(By.NAME, "name").send_keys("li")
    browser.find_element(By.NAME, "password").send_keys("supervisor-pw")
    go(browser, browser.find_element(By.CSS_SELECTOR, "form[action='/login'] button"))
    browser.get(base + "/users?lang=en")
    row = browser.find_element(By.CSS_SELECTOR, "tr.user[data-name='zhang']")
    go(browser, row.find_element(By.CSS_SELECTOR, "form[action='/users/zhang/disable'] button"))
    assert "zhang: disabled; their sessions have ended" in browser.find_element(By.TAG_NAME, "body").text
    assert Users(store).session("zhang") is None
    shot(browser, "13-users")
    row = browser.find_element(By.CSS_SELECTOR, "tr.user[data-name='zhang']")
    go(browser, row.find_element(By.CSS_SELECTOR, "form[action='/users/zhang/enable'] button"))
    assert Users(store).session("zhang") is not None
    hid = store.list(limit=500)[-1].subject_id
    browser.get(f"{base}/households/{hid}?lang=en")
    go(browser, browser.find_element(By.CSS_SELECTOR, "a.reads"))
    body = browser.find_element(By.TAG_NAME, "body").text
    assert "Who read the records of" in body and "li" in body and "history" in body
    shot(browser, "14-reads")


def test_a_caseworker_finds_a_household_by_a_members_name_and_opens_a_record_by_the_clis_short_id(browser, site):
    """Issue 22, §3: a member's name typed with a trailing space finds the household; the 12-character id
    `houfu records search` prints opens its record, typed in the search box or in the address."""
    from click.testing import CliRunner
    from selenium.webdriver.common.by import By

    from houfu.cli.commands import main

    base, store = site
    browser.delete_all_cookies()
    browser.get(base + "/login")
    browser.find_element(By.NAME, "name").send_keys("zhang")
    browser.find_element(By.NAME, "password").send_keys("caseworker-pw")
    go(browser, browser.find_element(By.CSS_SELECTOR, "form[action='/login'] button"))
    text = (ROOT / "examples" / "dingnan-household.yaml").read_text(encoding="utf-8")
    browser.find_element(By.NAME, "text").send_keys(text.replace("id: DN-2023-0417", "id: DN-FIND-0001"))
    go(browser, browser.find_element(By.CSS_SELECTOR, "form[enctype='multipart/form-data'] button[value='decide']"))
    rid = browser.current_url.split("/records/")[1].split("?")[0]
    browser.get(base + "/search")
    browser.find_element(By.NAME, "q").send_keys("赖秀英 ")  # the wife's name, with a trailing space
    go(browser, browser.find_element(By.CSS_SELECTOR, "form[action='/search'] button"))
    table = browser.find_element(By.CSS_SELECTOR, "table.hits").text
    assert "DN-FIND-0001" in table and rid[:12] in table and "成员姓名" in table
    shot(browser, "15-search-by-member")
    go(browser, browser.find_element(By.LINK_TEXT, "DN-FIND-0001"))
    assert "/households/DN-FIND-0001" in browser.current_url and rid[:12] in browser.find_element(
        By.TAG_NAME, "body").text
    # The short id as the command line prints it.
    out = CliRunner().invoke(main, ["records", "search", "DN-FIND-0001", "--database", store.url])
    assert out.exit_code == 0, out.output
    short = out.output.split()[0]
    assert len(short) == 12 and rid.startswith(short)
    box = browser.find_element(By.NAME, "q")
    box.send_keys(short)
    go(browser, browser.find_element(By.CSS_SELECTOR, "form[action='/search'] button"))
    assert f"/records/{rid}" in browser.current_url and rid in browser.find_element(By.TAG_NAME, "body").text
    browser.get(f"{base}/records/{short}")
    assert "先办这几件事" in browser.find_element(By.TAG_NAME, "body").text
    shot(browser, "16-record-by-short-id")
