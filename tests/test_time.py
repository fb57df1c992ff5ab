"""Judgments in time (issue 19, item 4): quota periods clipped to a document's force and every one judged; dates
as facts, in conditions and against deadlines; ages from dates of birth. The rule cases under policies/ and
examples/ingest hold the boundaries of the bundled documents; these hold what no bundled document has (an end
of force, a pro-rata reading) and what validation refuses."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import houfu
from houfu.cli.commands import main
from houfu.engine.columns import caseload_from_facts
from houfu.engine.evaluator import EngineKind, Evaluator, flatten
from houfu.engine.periods import period_of, quota_plan
from houfu.engine.results import Determination, Status
from houfu.engine.vector import STATUSES, VectorEvaluator
from houfu.kb.facts import parse_date
from houfu.kb.loader import load
from houfu.kb.models import Quota
from houfu.kb.validate import validate
from tests.test_kb import _copy, _edit, _measure

ROOT = Path(__file__).resolve().parents[1]


# --- periods ------------------------------------------------------------------------------------------------------

def test_calendar_periods_and_their_days():
    assert period_of("year", dt.date(2023, 7, 17)) == ("2023", dt.date(2023, 1, 1), dt.date(2023, 12, 31))
    assert period_of("quarter", dt.date(2023, 7, 17)) == ("2023-Q3", dt.date(2023, 7, 1), dt.date(2023, 9, 30))
    assert period_of("quarter", dt.date(2024, 12, 31)) == ("2024-Q4", dt.date(2024, 10, 1), dt.date(2024, 12, 31))
    assert period_of("quarter", dt.date(2024, 2, 29))[2] == dt.date(2024, 3, 31)


def _doc(kb, start: dt.date, until: dt.date | None):
    return kb.documents["dingnan-2023"].doc.model_copy(update={"in_force_from": start, "in_force_until": until})


def test_a_plan_lists_every_period_of_force_clipped_at_both_ends(kb):
    doc = _doc(kb, dt.date(2023, 7, 17), dt.date(2025, 6, 30))
    quota = Quota.model_validate({"count": "job_fairs", "period": "year", "min": {"assumed": 2, "why": "test"},
                                  "partial": {"reading": "not_judged", "why": "a part of a year"}})
    plan = quota_plan(quota, doc, 2.0, dt.date(2025, 6, 30))
    assert [(p.label, p.start, p.end, p.complete, p.required) for p in plan] == [
        ("2023", dt.date(2023, 7, 17), dt.date(2023, 12, 31), True, None),
        ("2024", dt.date(2024, 1, 1), dt.date(2024, 12, 31), True, 2.0),
        # the last day of force is under way on that day, and the part-year is read as the quota says
        ("2025", dt.date(2025, 1, 1), dt.date(2025, 6, 30), False, None)]
    assert plan[0].partial and not plan[1].partial and plan[0].reading == "a part of a year"


def test_pro_rata_asks_the_share_of_the_days_in_force_rounded_up_to_whole_events(kb):
    quota = Quota.model_validate({"count": "job_fairs", "period": "year", "min": {"assumed": 4, "why": "test"},
                                  "partial": {"reading": "pro_rata", "why": "the text says 按在岗时间折算"}})
    doc = _doc(kb, dt.date(2023, 7, 17), dt.date(2024, 3, 31))
    plan = quota_plan(quota, doc, 4.0, dt.date(2024, 3, 31))
    # 168 of 365 days of 2023: 4 x 168/365 = 1.84, so 2; 91 of 366 days of 2024: 4 x 91/366 = 0.99, so 1
    assert [(p.label, p.required) for p in plan] == [("2023", 2.0), ("2024", 1.0)]
    exact = quota_plan(quota, _doc(kb, dt.date(2023, 7, 2), None), 4.0, dt.date(2024, 1, 1))
    assert exact[0].required == 3.0  # 183 of 365 days: 2.005 events need 3 whole ones; never rounded down


def _with_end_and_pro_rata(tmp_path) -> Path:
    root = _copy(tmp_path)
    _edit(root / "dingnan-2023" / "document.yaml", lambda d: d.update(in_force_until="2025-06-30"))

    def pro_rata(d):
        _measure(d, "dn.4.1.job_fairs")["rule"]["quota"]["partial"] = {
            "reading": "pro_rata", "why": "houfu test: a share of the year in force"}
    _edit(root / "dingnan-2023" / "clauses.yaml", pro_rata)
    return root


def test_a_document_that_ends_mid_year_judges_its_last_part_year_as_its_reading_says(tmp_path):
    kb = load(_with_end_and_pro_rata(tmp_path))
    assert validate(kb) == []
    ev, vec = Evaluator(kb), VectorEvaluator(kb)
    counts = [{"2023": 1, "2024": 2, "2025": 1}, {"2023": 0, "2024": 2, "2025": 1}, {"2023": 1, "2024": 2, "2025": 0},
              {"2023": 1, "2024": 2}, None]
    sites = [kb.models.site.model_validate({"id": f"s{i}", "jurisdiction": "dingnan",
                                            "site_type": "county_seat_centralized",
                                            **({"job_fairs": c} if c is not None else {})})
             for i, c in enumerate(counts)]
    as_of = dt.date(2025, 6, 30)
    want = ["met", "violated", "met", "met", "undetermined"]
    reports = [ev.determine(s, as_of, engine).by_id("dn.4.1.job_fairs") for engine in EngineKind for s in sites]
    assert [r.status.value for r in reports] == want * len(EngineKind)
    first = reports[0]
    # 2023 from 17 July: 2 x 168/365 rounded up is 1; 2025 to 30 June: 2 x 181/365 is 1, under way on its last day
    assert [(p.period, p.required, p.partial, p.status) for p in first.periods] == [
        ("2023", 1.0, True, Status.met), ("2024", 2.0, False, Status.met), ("2025", 1.0, True, Status.not_due)]
    assert reports[1].missed[0].period == "2023" and "2023" in reports[1].gap.en
    _, program = ev._program_for(sites[0], as_of)
    decisions = vec.decide(program, caseload_from_facts(kb.models, "site", [flatten(s) for s in sites], as_of), as_of)
    j = decisions.measures.index("dn.4.1.job_fairs")
    assert [STATUSES[c].value for c in decisions.status[:, j]] == want
    # The day after its last day the document is no longer in force: nothing is decided under it.
    later = ev.determine(sites[0], dt.date(2025, 7, 1))
    assert later.by_id("dn.4.1.job_fairs") is None and [n.code for n in later.notices] == ["ended"]


def test_a_report_kept_before_quotas_listed_every_period_still_reads(kb):
    report = houfu.evaluator(kb).determine(kb.models.site.model_validate(
        {"id": "s", "jurisdiction": "dingnan", "site_type": "county_seat_centralized", "job_fairs": {"2024": 1}}),
        dt.date(2025, 3, 1))
    entry = report.by_id("dn.4.1.job_fairs").model_dump(mode="json")
    old = {k: v for k, v in entry.items() if k != "periods"} | {
        "period": {"period": "2024", "complete": True, "count": 1, "required": 2.0, "still_needed": None}}
    again = Determination.model_validate_json(json.dumps(old))
    assert [(p.period, p.count, p.required) for p in again.periods] == [("2024", 1, 2.0)]
    assert Determination.model_validate(entry | {"period": None}).periods == report.by_id("dn.4.1.job_fairs").periods


def test_validate_asks_for_the_reading_of_a_period_the_document_covers_in_part(tmp_path):
    root = _copy(tmp_path)
    _edit(root / "shiyan-2019" / "clauses.yaml", lambda d: _measure(d, "sy.6.regular_job_fairs")["rule"]["quota"]
          .pop("partial"))
    errors = [e for e in validate(load(root)) if e.key.endswith("rule.quota.partial")]
    assert len(errors) == 1 and "the year of 2019-09-16" in errors[0].message
    # From a first day of a year, there is no part-year to read.
    _edit(root / "shiyan-2019" / "document.yaml", lambda d: d.update(in_force_from="2020-01-01"))
    assert not [e for e in validate(load(root)) if e.key.endswith("rule.quota.partial")]


# --- dates as facts -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["2024-07-01", "2024/7/1", "2024.07.01", "20240701", "2024年7月1日", "2024 年 7 月 1 号",
                                  "2024-07-01 00:00:00", "2024-07-01T08:30", dt.date(2024, 7, 1),
                                  dt.datetime(2024, 7, 1, 0, 0)])
def test_a_date_is_read_in_the_forms_registries_write(text):
    assert parse_date(text) == dt.date(2024, 7, 1)


@pytest.mark.parametrize("bad,words", [("2023-02-29", "not a day of the calendar"), ("20240732", "not a day"),
                                       (20240701, "written as text"), ("45474", "not a date"),
                                       ("1966年5月", "not a date"), (True, "written as text")])
def test_anything_else_is_refused_with_the_reason(bad, words):
    with pytest.raises(ValueError, match=words):
        parse_date(bad)


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_a_bad_date_in_a_record_is_one_line_naming_the_field(tmp_path):
    f = tmp_path / "h.json"
    f.write_text('{"id": "h", "jurisdiction": "shiyan", "members": [{"birth_date": 19660508}]}', encoding="utf-8")
    r = run("check", f)
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert "members[0].birth_date: a date is written as text, e.g. 2024-07-01 or 2024年7月1日 (got 19660508)" in r.output
    f.write_text('{"id": "h", "jurisdiction": "shiyan", "members": [{"birth_date": "1966-02-30"}]}', encoding="utf-8")
    assert "'1966-02-30' is not a day of the calendar" in run("check", f).output


def test_an_age_is_worked_out_from_a_date_of_birth_and_a_disagreement_is_a_warning(tmp_path):
    f = tmp_path / "h.yaml"
    f.write_text("id: h\njurisdiction: shiyan\nmembers:\n  - {birth_date: 1966-05-08}\n"
                 "  - {birth_date: 2010-01-01, age: 15}\n  - {birth_date: 2030-01-01}\n", encoding="utf-8")
    [report] = json.loads(run("check", f, "--json", "--as-of", "2026-01-01").stdout)
    assert [(w["code"], w["fields"]) for w in report["warnings"]] == [
        ("age_differs_from_birth_date", ["members[1].age", "members[1].birth_date"]),
        ("born_after_as_of", ["members[2].birth_date"])]
    asked = {q["fact"] for q in report["questions"]}
    assert "members[0].age" not in asked and "members[2].age" in asked  # 59, worked out; the unborn one is asked
    kb = houfu.load()
    facts, _ = houfu.evaluator(kb).facts(kb.models.household.model_validate(
        {"id": "h", "members": [{"birth_date": "1966-05-08"}]}), dt.date(2026, 5, 8))
    assert facts["members"][0]["age"] == 60  # on the birthday itself


def test_the_screener_reads_dates_in_every_form_and_names_a_bad_one(tmp_path):
    import openpyxl

    (tmp_path / "hh.csv").write_text("户编号,所在县\nH1,shiyan\nH2,shiyan\nH3,shiyan\n", encoding="utf-8")
    (tmp_path / "mm.csv").write_text("户编号,出生日期,劳动能力,今年培训次数\nH1,2010-01-01,完全,0\nH2,2010年1月2日,完全,0\n"
                                     "H3,2010/02/30,完全,0\n", encoding="utf-8")
    out = tmp_path / "d.csv"
    r = run("screen", tmp_path / "hh.csv", "--members", tmp_path / "mm.csv", "-o", out, "-q", "--as-of", "2026-01-01",
            "--lang", "en")
    assert r.exit_code == 2 and "2 screened + 1 rejected" in r.output  # a rejected row is an error, the rest decided
    errors = (tmp_path / "d.errors.csv").read_text(encoding="utf-8-sig")
    assert "mm.csv,4,出生日期,'2010/02/30' is not a day of the calendar" in errors
    focus = {r["household"]: r["status"] for r in _rows(out) if r["measure"] == "sy.4.training_focus"}
    assert focus == {"H1": "applies", "H2": "does_not_apply"}  # sixteen on the birthday, fifteen the day before it
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["户编号", "所在县", "出生日期", "劳动能力"])
    sheet.append(["H1", "shiyan", dt.datetime(2010, 1, 1), "完全"])  # a date cell, as Excel keeps it
    book.save(tmp_path / "w.xlsx")
    r = run("screen", tmp_path / "w.xlsx", "-o", tmp_path / "w.csv", "-q", "--as-of", "2026-01-01")
    assert r.exit_code == 0, r.output
    assert [r["status"] for r in _rows(tmp_path / "w.csv") if r["measure"] == "sy.4.training_focus"] == ["applies"]


def _rows(path: Path) -> list[dict[str, str]]:
    """The determinations file (wide by default) as long rows."""
    from houfu.screen.determinations import read_long

    return read_long(path).to_pylist()


def test_json_lines_with_dates_keep_the_fast_reader(tmp_path):
    from houfu.io.tables import _load_jsonl_fast

    kb = houfu.load()
    f = tmp_path / "c.jsonl"
    f.write_text('{"id": "h1", "jurisdiction": "shiyan", "members": [{"birth_date": "2010-01-01"}]}\n', encoding="utf-8")
    loaded = _load_jsonl_fast(kb, f)
    assert loaded is not None
    assert loaded.caseload.members.table.columns["birth_date"].tolist() == [20100101.0]


def test_a_site_caseload_of_json_lines_is_screened_with_its_quotas(tmp_path):
    f = tmp_path / "s.jsonl"
    f.write_text('{"id": "S1", "jurisdiction": "dingnan", "site_type": "county_seat_centralized", '
                 '"job_fairs": {"2024": 2, "2025": 1}}\n', encoding="utf-8")
    r = run("screen", f, "--sites", "-o", tmp_path / "o.csv", "-q", "--as-of", "2026-01-01")
    assert r.exit_code == 0, r.output
    assert [r["status"] for r in _rows(tmp_path / "o.csv") if r["measure"] == "dn.4.1.job_fairs"] == ["violated"]


def test_a_caseload_decided_on_two_dates_is_left_as_it_was(kb):
    vec = VectorEvaluator(kb)
    caseload = caseload_from_facts(kb.models, "household", [flatten(kb.models.household.model_validate(
        {"id": "h", "jurisdiction": "shiyan", "members": [{"birth_date": "2010-01-02"}]}))])
    assert vec.derived(caseload, dt.date(2026, 1, 1)).members.table.columns["age"].tolist() == [15.0]
    assert vec.derived(caseload, dt.date(2026, 1, 2)).members.table.columns["age"].tolist() == [16.0]
    assert "age" not in caseload.members.table.columns or np.isnan(caseload.members.table.columns["age"]).all()


# --- what validation refuses ----------------------------------------------------------------------------------------

def _household_rule(when):
    return lambda d: _measure(d, "sy.12.dibao")["rule"].update(when=when)


@pytest.mark.parametrize("when,words", [
    ({"any_member": {"fact": "birth_date", "ge": {"param": "sy.4.min_age"}}}, "'birth_date' is a date"),
    ({"any_member": {"fact": "birth_date", "lt": "2010-01-01"}}, "'birth_date' is a date"),
    ({"any_member": {"fact": "birth_date", "in": ["2010-01-01"]}}, "'birth_date' is a date"),
    ({"any_member": {"fact": "age", "lt": dt.date(2010, 1, 1)}}, "'age' is not a date fact"),
    ({"any_member": {"fact": "age", "lt": {"fact_ref": "birth_date"}}}, "'age' is not a date fact"),
    ({"any_member": {"fact": "birth_date", "lt": {"deadline": "no.such.deadline"}}}, "unknown deadline"),
])
def test_a_date_compares_only_with_a_date_a_deadline_or_a_date_fact(tmp_path, when, words):
    root = _copy(tmp_path)
    _edit(root / "shiyan-2019" / "clauses.yaml", _household_rule(when))
    errors = [str(e) for e in validate(load(root)) if e.key == "clauses[sy.12].measures[sy.12.dibao].rule.when"]
    assert any(words in e for e in errors), errors


def test_a_date_rule_that_validates_is_decided_alike_by_both_evaluators(tmp_path):
    root = _copy(tmp_path)
    _edit(root / "shiyan-2019" / "clauses.yaml", _household_rule(
        {"any_member": {"fact": "birth_date", "lt": dt.date(2010, 1, 1)}}))
    kb = load(root)
    assert not [e for e in validate(kb) if "sy.12.dibao" in e.key]
    ev = Evaluator(kb)
    for born, want in (("2009-12-31", True), ("2010-01-01", False), (None, None)):
        member = {"birth_date": born} if born else {}
        record = kb.models.household.model_validate({"id": "h", "jurisdiction": "shiyan", "members": [member]})
        got = {e: ev.truths(record, dt.date(2026, 1, 1), e)[2]["measure:sy.12.dibao"] for e in EngineKind}
        assert got == {e: want for e in EngineKind}


def test_years_since_and_the_checks_on_dates_name_real_date_facts(tmp_path):
    root = _copy(tmp_path)
    _edit(root / "vocabulary.yaml", lambda d: next(f for f in d["facts"] if f["id"] == "age").update(
        years_since="sex"))
    _edit(root / "consistency.yaml", lambda d: d["checks"].append(
        {"id": "x", "entity": "member", "after_as_of": "age", "fields": ["age"], "zh": "x", "en": "x"}))
    errors = {e.key: e.message for e in validate(load(root))}
    assert errors["facts[age].years_since"] == "'sex' is not a date fact of the member"
    assert errors["checks[x].after_as_of"] == "'age' is not a member date fact"


def test_a_completion_date_needs_a_deadline_and_words_for_lateness(tmp_path):
    root = _copy(tmp_path)
    _edit(root / "shiyan-2019" / "clauses.yaml", lambda d: _measure(d, "sy.8.separate_community")["rule"].update(
        done_on="separated_on"))
    errors = {e.key: e.message for e in validate(load(root)) if "sy.8.separate_community" in e.key}
    key = "clauses[sy.8].measures[sy.8.separate_community].rule"
    assert "needs `due`" in errors[f"{key}.done_on"] or "not a site date fact" in errors[f"{key}.done_on"]
    assert "late_zh and late_en" in errors[f"{key}.late_zh"]


def test_the_why_page_shows_a_quota_period_by_period(tmp_path):
    import re

    from fastapi.testclient import TestClient

    from houfu.records.store import RecordStore, Users, default_url
    from houfu.web.service import create_app
    from tests.test_service_pages import SUPERVISOR, _body, _login, _text

    store = RecordStore(default_url(tmp_path / "data"))
    Users(store).add("li", "supervisor-pw", "supervisor")  # a site's record is the policy staff's
    try:
        app = create_app(houfu.load(), houfu.evaluator(), store, dev=False, secret="time")
        with TestClient(app, base_url="https://testserver") as c:
            r = c.post("/v1/site?as_of=2026-06-01", json=_body("dingnan-site"), headers=SUPERVISOR)
            assert r.status_code == 200, r.text
            _login(c, "li", "supervisor-pw")
            page = c.get(f"/records/{r.json()['record_id']}/why/dn.4.1.job_fairs")
            assert page.status_code == 200
            rows = [" ".join(_text("<body>" + row).split()) for row in re.findall(r"<tr><td>.*?</tr>", page.text, re.S)]
            assert rows[:4] == [
                "2023 (2023-07-17–2023-12-31) 1 — 不判定:" + houfu.load().measures["dn.4.1.job_fairs"].rule.quota
                .partial.why, "2024 2 2 已落实", "2025 1 2 未落实", "2026 不知道 2 本期未到"]
    finally:
        store.close()
