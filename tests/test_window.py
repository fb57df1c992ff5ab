"""The caseworker's window without a browser (issue 22): the household form and pasted text read through the
screener's column mapping, counts as people say them, the side panel's change, and why-not naming the member
the reason concerns."""

from __future__ import annotations

import pytest

import houfu
from houfu.io.household_form import from_form, from_text, whole_number
from houfu.io.inputs import parse_record
from houfu.kb.facts import Household
from houfu.present.interview import (
    answers_so_far,
    change_answer,
    interpret,
    next_questions,
    question_for,
    why_not,
)

KB = houfu.load()
EV = houfu.evaluator()

WALK_IN = {"id": "DN-WALKIN-22", "site": "dingnan_county_seat", "jurisdiction": "dingnan", "hukou_at_site": True,
           "members": [{"age": 58, "sex": "male", "disability": False},
                       {"age": 55, "sex": "female", "disability": True, "severe_disability": False},
                       {"age": 14, "sex": "male", "left_behind": True, "unsupported_child": False}]}


@pytest.mark.parametrize("said,n", [("3", 3), ("3人", 3), ("三口人", 3), ("两个", 2), ("５", 5), ("58岁", 58),
                                    ("五十八", 58), ("0", 0), ("", None), ("几个", None), ("-1", None), ("2.5", None)])
def test_a_count_or_an_age_is_taken_as_people_say_it(said, n):
    assert whole_number(said) == n


def test_the_household_count_question_takes_three_people_in_words():
    value, problem = interpret(question_for(KB, "members"), "三口人", KB)
    assert problem is None and value == [{}, {}, {}]
    assert interpret(question_for(KB, "members"), "很多", KB)[1].code == "count"


def test_pasted_yaml_with_chinese_keys_and_yes_no_is_read_and_the_site_gives_the_county():
    raw, problems = from_text(KB, "户编号: DN-1\n安置点: 定南县县城集中安置点\n户类型: 脱贫户\n成员:\n  - 年龄: 58\n"
                                  "    是否残疾: 否\n  - 年龄: 55\n    是否残疾: 是\n")
    assert problems == []
    assert raw["jurisdiction"] == "dingnan" and raw["category"] == "registered_poor"
    assert raw["members"] == [{"age": 58, "disability": False}, {"age": 55, "disability": True}]


def test_ledger_rows_copied_with_their_header_make_one_member_a_row():
    raw, problems = from_text(KB, "户编号\t安置点\t姓名\t年龄\t是否残疾\t留守\n"
                                  "DN-2\t县城安置点\t张三\t58\t否\t\nDN-2\t\t李四\t55\t是\t\nDN-2\t\t张小\t14\t否\t√\n")
    assert problems == []
    assert raw["id"] == "DN-2" and raw["jurisdiction"] == "dingnan" and len(raw["members"]) == 3
    assert raw["members"][2] == {"name": "张小", "age": 14, "disability": False, "left_behind": True}
    parse_record(raw, Household, "t", KB)


def test_a_bad_value_is_named_beside_its_field_in_each_language():
    _, problems = from_text(KB, "户编号: DN-1\n所在县: 定南县\n成员:\n  - 年龄: 五十八岁半\n    是否残疾: 也许\n")
    # Pasted text: at the text box, naming the member and the field.
    assert [(p.field, p.text("zh")) for p in problems] == [("text", "第1位家人:年龄:“五十八岁半”不是数字"),
                                                           ("text", "第1位家人:是否残疾:“也许”不是“是”或“否”")]
    assert problems[0].text("en") == "member 1: age: '五十八岁半' is not a number"
    # The form: beside the field itself.
    _, problems = from_form(KB, {"id": "X", "jurisdiction": "dingnan", "members_n": "2", "m1.age": "很老"})
    assert [(p.field, p.text("zh")) for p in problems] == [("m1.age", "“很老”不是数字")]
    _, problems = from_form(KB, {"members_n": "1", "m0.age": "58"})
    assert {(p.field, p.kind) for p in problems} == {("id", "required"), ("jurisdiction", "required")}


def test_the_form_gives_the_site_and_its_county_and_drops_blank_rows():
    raw, problems = from_form(KB, {"id": "DN-3", "site": "dingnan_county_seat", "members_n": "3", "m0.age": "58",
                                   "m0.sex": "male", "m1.disability": "true", "entities_n": "1"})
    assert problems == []
    assert raw == {"id": "DN-3", "site": "dingnan_county_seat", "jurisdiction": "dingnan",
                   "members": [{"age": 58, "sex": "male"}, {"disability": True}]}


def test_every_members_age_is_asked_first_and_the_site_type_never():
    raw = {"id": "X", "site": "dingnan_county_seat", "jurisdiction": "dingnan",
           "members": [{"age": 58}, {}, {"name": "小明"}, {"birth_date": "2012-03-01"}]}
    report = EV.determine(parse_record(raw, Household, "t", KB))
    facts = [q.fact for q in next_questions(KB, raw, report)]
    assert facts[:2] == ["members[1].age", "members[2].age"]
    assert "site_type" not in facts and not [f for f in facts[2:] if f.endswith(".age")]


def test_one_answer_changed_from_the_side_panel_changes_the_determination():
    before = EV.determine(parse_record(WALK_IN, Household, "t", KB))
    assert before.by_id("dn.7.2.unsupported_children").status.value == "does_not_apply"
    raw, problems = change_answer(KB, WALK_IN, "members[2].unsupported_child", "是")
    assert problems == {} and WALK_IN["members"][2]["unsupported_child"] is False  # the one given is unchanged
    after = EV.determine(parse_record(raw, Household, "t", KB))
    assert after.by_id("dn.7.2.unsupported_children").status.value == "applies"
    assert change_answer(KB, WALK_IN, "members[9].age", "3")[1]  # no such member
    cleared, _ = change_answer(KB, WALK_IN, "members[0].sex", "")
    assert "sex" not in cleared["members"][0]
    shown = {a.fact: a.words("zh") for a in answers_so_far(KB, WALK_IN)}
    assert shown["members[1].disability"] == "是" and shown["members[0].sex"] == "男" and "site" not in shown


@pytest.mark.parametrize("measure,member", [("dn.7.1.disability_nursing_subsidy_apply_at_site", 1),
                                            ("dn.7.2.unsupported_children", 2)])
def test_why_not_names_the_member_the_reason_concerns_in_a_household_of_several(measure, member):
    raw = {**WALK_IN, "members": [*WALK_IN["members"][:2], {**WALK_IN["members"][2], "disability": False}]}
    report = EV.determine(parse_record(raw, Household, "t", KB))
    d = report.by_id(measure)
    assert d.status.value == "does_not_apply"
    # The trace names every member; the reason shown is the one of the member nearest to it.
    assert any(f.startswith("members[0].") for f in d.failed)
    lines = why_not(KB, report, d)
    mine = [a for a in lines if a.question.member is not None]
    assert mine and {a.question.member for a in mine} == {member}
    assert all(a.words("zh") == "否" for a in mine)


def test_the_pages_say_the_consistency_warning_the_cli_says_naming_the_member():
    from fastapi.testclient import TestClient

    from houfu.records.store import RecordStore
    from houfu.web.service import create_app

    client = TestClient(create_app(KB, EV, RecordStore("sqlite://"), dev=True), base_url="https://testserver")
    text = "户编号: DN-W-9\n所在县: 定南县\n成员:\n  - 年龄: 58\n  - 姓名: 小军\n    年龄: 10\n    劳动能力: 完全\n"
    page = client.post("/interview", data={"lang": "zh", "text": text}).text
    assert "请核对:小军:未满16周岁却登记为有劳动能力" in page
    done = client.post("/households", data={"lang": "en", "text": text.replace("姓名: 小军\n    ", "")})
    assert "/records/" in str(done.url)
    assert "Please check: member 2: under 16 but recorded as able to work" in done.text


def test_the_record_page_gives_an_amount_in_words():
    from pathlib import Path

    from fastapi.testclient import TestClient

    from houfu.records.store import RecordStore
    from houfu.web.service import create_app

    client = TestClient(create_app(KB, EV, RecordStore("sqlite://"), dev=True), base_url="https://testserver")
    text = (Path(__file__).parent.parent / "examples" / "dingnan-incubator-business.yaml").read_text("utf-8")
    page = client.post("/households", data={"lang": "zh", "text": text}).text
    assert '<span class="amount">桂英美玲小吃店本季度补贴 5,460 元</span>' in page


def test_a_change_from_the_side_panel_says_which_determinations_it_changed_and_asks_nothing_again():
    import json

    from fastapi.testclient import TestClient

    from houfu.records.store import RecordStore
    from houfu.web.service import create_app

    client = TestClient(create_app(KB, EV, RecordStore("sqlite://"), dev=True), base_url="https://testserver")
    page = client.post("/interview", data={"lang": "zh", "state": json.dumps(WALK_IN, ensure_ascii=False),
                                           "skipped": "[]", "edit_fact": "members[2].unsupported_child",
                                           "edit_answer": "true"}).text
    assert 'id="changed"' in page and "不适用 → 适用" in page
    assert 'name="fact_0" value="members[2].unsupported_child"' not in page
    bad = client.post("/interview", data={"lang": "zh", "state": json.dumps(WALK_IN, ensure_ascii=False),
                                          "skipped": "[]", "edit_fact": "members[0].age", "edit_answer": "很老"}).text
    assert "请填一个整数" in bad and 'id="changed"' not in bad


def test_a_caseworker_is_shown_no_link_to_a_supervisors_page_and_a_supervisor_is():
    import re

    from fastapi.testclient import TestClient

    from houfu.records.store import RecordStore, Users
    from houfu.web.service import create_app

    store = RecordStore("sqlite://")
    Users(store).add("zhang", "caseworker-pw-1", "caseworker")
    Users(store).add("li", "supervisor-pw-1", "supervisor")
    app = create_app(KB, EV, store, dev=False, secret="s")
    text = (__import__("pathlib").Path(__file__).parent.parent / "examples" / "dingnan-household.yaml").read_text("utf-8")
    seen = {}
    for name, password in (("zhang", "caseworker-pw-1"), ("li", "supervisor-pw-1")):
        client = TestClient(app, base_url="https://testserver")
        login = client.get("/login").text
        csrf = re.search(r'name="csrf" value="([^"]+)"', login).group(1)
        client.post("/login", data={"name": name, "password": password, "csrf": csrf, "next": "/"})
        home = client.get("/")
        csrf = re.search(r'name="csrf" value="([^"]+)"', home.text).group(1)
        record = client.post("/households", data={"lang": "zh", "text": text, "csrf": csrf})
        rid = str(record.url).split("/records/")[1].split("?")[0]
        why = client.get(f"/records/{rid}/why/dn.3.3.relapse_monitoring?lang=zh").text
        seen[name] = {link for page in (home.text, record.text, why) for link in
                      re.findall(r'href="(/(?:sites|graph|clauses|departments)[^"?]*)', page)}
    assert seen["zhang"] == set()
    assert {"/sites", "/graph"} <= seen["li"] and any(link.startswith("/clauses/") for link in seen["li"])


def test_an_uploaded_ledger_file_in_gbk_is_read_as_pasted_rows():
    from fastapi.testclient import TestClient

    from houfu.records.store import RecordStore
    from houfu.web.service import create_app

    store = RecordStore("sqlite://")
    client = TestClient(create_app(KB, EV, store, dev=True), base_url="https://testserver")
    rows = "户编号\t安置点\t姓名\t年龄\t是否残疾\r\nDN-UP-1\t县城安置点\t钟大\t58\t否\r\nDN-UP-1\t\t赖二\t55\t是\r\n"
    done = client.post("/households", data={"lang": "zh", "go": "decide", "text": ""},
                       files={"upload": ("台账.txt", rows.encode("gbk"), "text/plain")})
    assert "/records/" in str(done.url)
    rec = store.get(str(done.url).split("/records/")[1].split("?")[0])
    assert rec.input["members"][1] == {"name": "赖二", "age": 55, "disability": True}


def test_the_terminal_interview_asks_a_members_missing_age_first_and_takes_it_in_words(tmp_path):
    from houfu.present.interview import Interview

    path = tmp_path / "walk-in.yaml"
    path.write_text("id: SY-X\njurisdiction: 郧阳区\nmembers:\n  - name: 陈老汉\n    age: 72\n  - name: 陈小妹\n",
                    encoding="utf-8")
    interview = Interview(EV, str(path), None)
    first = interview.next_question(interview.report())
    assert first is not None and first.fact == "members[1].age" and first.about == "陈小妹"
    assert interview.answer(first, "七岁") is None and interview.raw["members"][1]["age"] == 7
