"""The caseworker's window in a real browser (issue 22): a walk-in from the empty household form to a printed
letter (one A4 page of PDF, Chromium's own print), then one answer changed from the side panel. Screenshots are
kept in out/screenshots/ (window-*.png)."""

from __future__ import annotations

import base64
import io

import pytest

from tests.test_browser import browser, go, now, shot, site  # noqa: F401  (the module's Chromium and service)


def _login(driver, base: str, name: str, password: str) -> None:
    from selenium.webdriver.common.by import By

    driver.delete_all_cookies()
    driver.get(base + "/login")
    driver.find_element(By.NAME, "name").send_keys(name)
    driver.find_element(By.NAME, "password").send_keys(password)
    go(driver, driver.find_element(By.CSS_SELECTOR, "form[action='/login'] button"))


def _choose(driver, name: str, text: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    Select(driver.find_element(By.CSS_SELECTOR, f"select[aria-label='{name}']")).select_by_visible_text(text)


#: The walk-in's answers, as the family gives them at the window (Chinese labels, as the page shows them).
ANSWERS = {
    "hukou_at_site": "否", "wants_hukou_transfer": "是", "has_contracted_land_at_origin": "是",
    "members[0].labor_capacity": "部分", "members[0].employed": "否", "members[0].disability": "否",
    "members[0].wants_job": "县内", "members[0].wants_to_start_business": "否", "members[0].wants_training": "是",
    "members[1].labor_capacity": "没有", "members[1].severe_disability": "否",
    "members[2].school_stage": "初中", "members[2].unsupported_child": "否", "members[2].disability": "否",
}


def test_a_walk_in_goes_from_the_empty_form_to_a_printed_letter_and_one_answer_is_changed(browser, site):  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.print_page_options import PrintOptions
    from selenium.webdriver.support.ui import Select

    base, store = site
    _login(browser, base, "zhang", "caseworker-pw")
    browser.get(base + "/?lang=zh")
    # A caseworker's menu: no supervisor pages.
    assert not now(browser, By.CSS_SELECTOR, "header a[href^='/sites']")
    assert not now(browser, By.CSS_SELECTOR, "header a[href^='/graph']")
    browser.find_element(By.NAME, "id").send_keys("DN-WALKIN-22")
    _choose(browser, "site", "定南县县城集中安置点")
    browser.find_element(By.NAME, "m0.age").send_keys("五十八岁半")  # a wrong answer, corrected below
    _choose(browser, "m0.sex", "男")
    browser.find_element(By.NAME, "m1.age").send_keys("55")
    _choose(browser, "m1.sex", "女")
    _choose(browser, "m1.disability", "是")
    browser.find_element(By.NAME, "m2.age").send_keys("14岁")
    _choose(browser, "m2.sex", "男")
    _choose(browser, "m2.left_behind", "是")  # his parents work in Guangdong
    shot(browser, "window-01-form")
    go(browser, browser.find_element(By.ID, "start-interview"))
    # The error is beside its field, in Chinese; everything entered is kept.
    err = browser.find_element(By.CSS_SELECTOR, "[role=alert][data-field='m0.age']")
    assert "不是数字" in err.text and "not" not in err.text
    assert browser.find_element(By.NAME, "m1.age").get_attribute("value") == "55"
    assert Select(browser.find_element(By.NAME, "m2.left_behind")).first_selected_option.text == "是"
    shot(browser, "window-02-form-error")
    box = browser.find_element(By.NAME, "m0.age")
    box.clear()
    box.send_keys("58")
    go(browser, browser.find_element(By.ID, "start-interview"))
    assert "问答" in browser.find_element(By.TAG_NAME, "h1").text
    shot(browser, "window-03-interview")
    asked: list[str] = []
    for _ in range(20):
        facts = [e.get_attribute("value") for e in now(browser, By.CSS_SELECTOR, "input[name^='fact_']")]
        if not facts:
            break
        asked += facts
        for fact in facts:
            if fact in ANSWERS:
                _choose(browser, fact, ANSWERS[fact]) if now(
                    browser, By.CSS_SELECTOR, f"select[aria-label='{fact}']") else browser.find_element(
                    By.CSS_SELECTOR, f"input[aria-label='{fact}']").send_keys(ANSWERS[fact])
        go(browser, browser.find_element(By.CSS_SELECTOR, "button[name='next']"))
        assert not now(browser, By.CSS_SELECTOR, "main [role=alert]")
    # Never asked: what the form gave, or the site implies (its type, its county), nor any age.
    assert not {"site_type", "jurisdiction"} & set(asked)
    assert not [f for f in asked if f.endswith(".age") or f.endswith(".sex") or f == "members"]
    # The answers so far stand in the side panel.
    panel = browser.find_element(By.CSS_SELECTOR, "aside.answers")
    assert "第3位家人" in panel.text and "是否是留守人员" in panel.text
    shot(browser, "window-04-interview-done")
    go(browser, browser.find_element(By.CSS_SELECTOR, "button[name='finish']"))
    assert "/records/" in browser.current_url
    rid = browser.current_url.split("/records/")[1].split("?")[0]
    rec = store.get(rid)
    assert rec.user == "zhang" and rec.input["jurisdiction"] == "dingnan" and rec.input["members"][2]["age"] == 14
    body = browser.find_element(By.TAG_NAME, "body").text
    assert "先办这几件事" in body and "、:" not in body and "第N位成员" not in body and "位成员" not in body
    row = browser.find_element(By.CSS_SELECTOR, "tr[data-measure='dn.7.2.unsupported_children']")
    assert "不适用" in row.text and "第3位家人" in row.text  # the grandson, not the first member
    shot(browser, "window-05-record")
    # The letter, printed by Chromium to PDF: one A4 page.
    go(browser, browser.find_element(By.LINK_TEXT, "打印告知书"))
    assert "家庭政策告知书" in browser.find_element(By.TAG_NAME, "h1").text
    shot(browser, "window-06-letter")
    options = PrintOptions()
    options.page_width, options.page_height = 21.0, 29.7
    pdf = base64.b64decode(browser.print_page(options))
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf))
    (SHOTS_PDF := __import__("tests.test_browser", fromlist=["SHOTS"]).SHOTS).mkdir(parents=True, exist_ok=True)
    (SHOTS_PDF / "window-letter.pdf").write_bytes(pdf)
    assert len(reader.pages) == 1, f"the letter prints on {len(reader.pages)} pages"
    box = reader.pages[0].mediabox
    assert abs(float(box.width) - 595) < 3 and abs(float(box.height) - 842) < 3  # A4 in points
    browser.back()
    # One answer changed from the side panel: the grandson is in fact unsupported. The determinations change at
    # once, and the interview goes on from there (no question already answered comes back).
    before = browser.find_element(By.CSS_SELECTOR, "aside.answers").text
    form = browser.find_element(By.CSS_SELECTOR, "aside.answers form[data-fact='members[2].unsupported_child']")
    Select(form.find_element(By.TAG_NAME, "select")).select_by_visible_text("是")
    go(browser, form.find_element(By.TAG_NAME, "button"))
    change = browser.find_element(By.ID, "changed")
    assert "不适用 → 适用" in change.find_element(By.CSS_SELECTOR, "li[data-measure='dn.7.2.unsupported_children']").text
    applying = browser.find_element(By.ID, "applying")
    assert applying.find_elements(By.CSS_SELECTOR, "li[data-measure='dn.7.2.unsupported_children']")
    again = {e.get_attribute("value") for e in now(browser, By.CSS_SELECTOR, "input[name^='fact_']")}
    assert not again & set(ANSWERS)
    assert len(browser.find_element(By.CSS_SELECTOR, "aside.answers").text) >= len(before) - 5
    shot(browser, "window-07-changed")
    go(browser, browser.find_element(By.CSS_SELECTOR, "button[name='finish']"))
    changed = store.get(browser.current_url.split("/records/")[1].split("?")[0])
    assert changed.record_id != rid and changed.input["members"][2]["unsupported_child"] is True
    assert changed.report.by_id("dn.7.2.unsupported_children").status.value == "applies"
    shot(browser, "window-08-changed-record")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_window_pages_look_right_in_each_language(browser, site, lang):  # noqa: F811
    """Screenshots of the form, the interview and a record in zh and en (looked at by eye when they change)."""
    from selenium.webdriver.common.by import By

    base, store = site
    _login(browser, base, "zhang", "caseworker-pw")
    browser.get(f"{base}/?lang={lang}")
    shot(browser, f"window-form-{lang}")
    browser.find_element(By.NAME, "text").send_keys("户编号: SY-W-1\n所在县: 郧阳区\n成员:\n  - 年龄: 72\n"
                                                     "    是否残疾: 是\n  - 年龄: 10\n")
    go(browser, browser.find_element(By.CSS_SELECTOR, "button[formaction='/interview']"))
    assert browser.find_elements(By.CSS_SELECTOR, "aside.answers form")
    shot(browser, f"window-interview-{lang}")
    go(browser, browser.find_element(By.CSS_SELECTOR, "button[name='finish']"))
    assert "/records/" in browser.current_url
    shot(browser, f"window-record-{lang}")
