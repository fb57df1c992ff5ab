"""The caseload report a county leader acts on (issue 20, items 6 and 7): the zero-employment list in two groups,
each department's workload, each holder's data requests, through the CLI and the API alike, against counts made
by hand on a small ledger built as a county keeps it (two workbooks with Chinese headers, blanks for unknowns)."""

from __future__ import annotations

import base64
import dataclasses
import json
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

import houfu
from houfu.cli.commands import main
from houfu.kb.loader import load_default
from houfu.kb.models import HandlerBasis, Register
from houfu.kb.query import holder_of
from houfu.kb.validate import _check_holders, validate
from houfu.records.store import RecordStore, Users, default_url
from houfu.web.service import create_app

AS_OF = "2026-01-01"
SEAT = ("定南县", "定南县县城集中安置点", "县城集中安置")
TOWN = ("定南县", "历市镇集镇安置点", "集镇集中安置")  # outside dingnan-2023's scope (the county-seat site only)
YUNYANG = ("郧阳区", "青龙泉社区", "集镇集中安置")

# 户编号, 户名, where, 户类型, 符合医保参保条件, 已参加医保 ("" is unknown)
HOUSEHOLDS = [
    ("D1", "张一户", SEAT, "脱贫户", "是", "否"),  # medical insurance owed: to deliver
    ("D2", "张二户", SEAT, "脱贫户", "是", "是"),  # enrolled: satisfied, no work
    ("D3", "张三户", SEAT, "脱贫户", "是", ""),  # eligible, enrolment unknown: to check whether done
    ("D4", "张四户", SEAT, "脱贫户", "", ""),  # both unknown: facts to collect, both asked
    ("D5", "张五户", SEAT, "脱贫户", "否", ""),  # not eligible, but enrolment shows eligibility: enrolment asked
    ("D6", "张六户", SEAT, "脱贫户", "", "是"),  # enrolled: covered and satisfied, nothing asked
    ("D7", "张七户", SEAT, "脱贫户", "是", "否"),  # to deliver
    ("D8", "张八户", SEAT, "同步搬迁户", "是", "是"),  # satisfied
    ("D9", "张九户", TOWN, "脱贫户", "", ""),  # out of the plan's scope: never work, never asked
    ("S1", "李一户", YUNYANG, "脱贫户", "", ""),  # Shiyan: facts to collect, both asked
    ("S2", "李二户", YUNYANG, "脱贫户", "是", "否"),  # Shiyan: to deliver
]
# 户编号, 年龄, 劳动能力, 是否就业, 就业意愿 ("" is unknown)
MEMBERS = [
    ("D1", 35, "完全", "否", "县内"), ("D1", 8, "", "", ""),  # a child is not asked about work: confirmed
    ("D2", 40, "部分", "否", "县内"), ("D2", 70, "没有", "", ""),  # unable to work, not asked: confirmed
    ("D3", 30, "完全", "否", "县外"), ("D3", 33, "完全", "是", ""),  # someone works: not listed
    ("D4", 45, "完全", "否", ""),  # the wish to work unknown: to check
    ("D5", 50, "完全", "", "县内"),  # employment unknown: to check
    ("D6", 59, "完全", "否", "县内"),  # 59 is in the band: confirmed
    ("D7", 60, "完全", "否", "县内"),  # 60 is not: not listed
    ("D8", 16, "完全", "否", "县外"), ("D8", 15, "完全", "否", "县内"),  # 16 is in the band: confirmed
    ("D9", 28, "完全", "否", "不想就业"),  # does not want a job: not listed
    ("S1", 33, "", "否", "县内"),  # ability unknown: to check
    ("S2", 22, "完全", "否", "县外"),  # confirmed
]
CONFIRMED = {"D1", "D2", "D6", "D8", "S2"}
TO_CHECK = {"D4": ["members[0].wants_job"], "D5": ["members[0].employed"], "S1": ["members[0].labor_capacity"]}


def _ledger(folder: Path) -> tuple[Path, Path]:
    """The ledger as two workbooks, the way a county keeps them."""
    hh, mm = openpyxl.Workbook(), openpyxl.Workbook()
    hh.active.append(["户编号", "户名", "所在县", "安置点", "安置方式", "户类型", "符合医保参保条件", "已参加医保"])
    for hid, name, (county, site, kind), category, eligible, enrolled in HOUSEHOLDS:
        hh.active.append([hid, name, county, site, kind, category, eligible or None, enrolled or None])
    mm.active.append(["户编号", "年龄", "劳动能力", "是否就业", "就业意愿"])
    for row in MEMBERS:
        mm.active.append([x if x != "" else None for x in row])
    paths = folder / "households.xlsx", folder / "members.xlsx"
    hh.save(paths[0])
    mm.save(paths[1])
    return paths


def _cli(folder: Path, *extra: str) -> dict:
    hh, mm = _ledger(folder)
    r = CliRunner().invoke(main, ["screen", str(hh), "--members", str(mm), "--as-of", AS_OF, "--json", *extra])
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


@pytest.fixture(scope="module")
def cli(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("ledger")
    got = _cli(folder, "--requests", str(folder / "requests"), "--report", str(folder / "report.html"))
    got["_folder"] = str(folder)
    return got


def _sheet(path: Path, name: str) -> list[tuple]:
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        return list(book[name].iter_rows(values_only=True))
    finally:
        book.close()


def _by_body(items: list[dict]) -> dict[str | None, dict]:
    return {x["body_id"]: x for x in items}


def test_the_zero_employment_list_has_the_confirmed_and_the_households_to_check_as_counted_by_hand(cli):
    assert cli["screened"] == len(HOUSEHOLDS) and cli["rejected"] == 0
    (zero,) = [x for x in cli["lists"] if x["id"] == "zero_employment"]
    assert zero["title"] == "零就业家庭"
    assert zero["confirmed"]["count"] == len(CONFIRMED)
    assert {h["household"] for h in zero["confirmed"]["households"]} == CONFIRMED
    # Never 0 while the facts are unknown: the households that may be zero-employment are listed with what to ask.
    assert zero["to_check"]["count"] == len(TO_CHECK)
    assert {h["household"]: [a["path"] for a in h["ask"]] for h in zero["to_check"]["households"]} == TO_CHECK
    assert {f["fact"]: f["count"] for f in zero["to_check"]["asked"]} == {"wants_job": 1, "employed": 1,
                                                                          "labor_capacity": 1}
    assert zero["to_check"]["households"][0]["ask"][0]["member"] == 1


def test_a_department_s_workload_counts_only_the_households_its_measures_need_action_for(cli):
    work = _by_body(cli["workload"])
    # 县医保局 carries dingnan 三(三)'s medical insurance (its handler): D1 and D7 to deliver, D3 to check whether
    # done, D4 and D5 facts to collect; D2, D6 and D8 are enrolled, D9 is outside the plan.
    dn = work["dn_healthcare_security"]
    assert dn["name"] == "县医保局"
    assert (dn["households"], dn["actions"]) == (5, {"act": 2, "verify": 1, "collect": 2})
    assert dn["measures"] == ["dn.3.3.medical_insurance"]
    sy = work["sy_county_healthcare_security"]
    assert (sy["households"], sy["actions"]) == (2, {"act": 1, "collect": 1})
    # Each household counts once, under the most pressing kind it needs from the department: the kinds add up.
    assert all(sum(x["actions"].values()) == x["households"] for x in cli["workload"])
    # No department carries every household, as every one did when each co-owner of a list counted them all.
    assert all(x["households"] < cli["screened"] for x in cli["workload"] if x["body_id"])
    assert None in work  # measures the text leaves to a list with no office named are shown as such, not hidden


def test_each_missing_fact_is_requested_from_the_body_whose_register_holds_it(cli):
    asked = _by_body(cli["data_requests"])
    dn = asked["dn_healthcare_security"]
    # D4's two facts are one household and two requests; a fact missing for two measures would be one request.
    assert (dn["households"], dn["requests"]) == (3, 4)
    assert {f["fact"]: f["count"] for f in dn["facts"]} == {"meets_medical_insurance_conditions": 1,
                                                            "enrolled_medical_insurance": 3}
    assert {(x["household"], x["ask"]["fact"]) for x in dn["listed"]} == {
        ("D3", "enrolled_medical_insurance"), ("D4", "meets_medical_insurance_conditions"),
        ("D4", "enrolled_medical_insurance"), ("D5", "enrolled_medical_insurance")}
    assert [r["id"] for r in dn["registers"]] == ["dn_medical_insurance"] and dn["registers"][0]["basis"] == "duty"
    sy = asked["sy_county_healthcare_security"]
    assert (sy["households"], sy["requests"]) == (1, 2) and {x["household"] for x in sy["listed"]} == {"S1"}

    def holders(fact: str) -> set[str]:
        return {body for body, r in asked.items() if any(f["fact"] == fact for f in r["facts"])}

    # Medical insurance no longer goes to agriculture, nor contracted land to the police.
    assert holders("meets_medical_insurance_conditions") == {"dn_healthcare_security", "sy_county_healthcare_security"}
    assert holders("has_contracted_land_at_origin") == {"dn_natural_resources", "sy_county_natural_resources"}
    # The zero-employment list's questions go to the registers that hold them, too.
    listed = {(body, x["household"], x["ask"]["path"]) for body, r in asked.items() for x in r["listed"]}
    assert ("dn_hrss", "D4", "members[0].wants_job") in listed
    assert ("dn_hrss", "D5", "members[0].employed") in listed
    assert ("sy_task_force", "S1", "members[0].labor_capacity") in listed
    # Nothing is asked of a household outside every document's scope for the measures it is out of.
    assert not any(x["household"] == "D9" for x in dn["listed"])


def test_requests_writes_one_workbook_per_holder_with_the_rows_to_fill_in(cli):
    folder = Path(cli["_folder"]) / "requests"
    files = {r["body_id"]: r["file"] for r in cli["data_requests"]}
    assert files["dn_healthcare_security"] == str(folder / "县医保局.xlsx")
    assert {Path(f).name for f in files.values()} == {p.name for p in folder.glob("*.xlsx")}
    assert openpyxl.load_workbook(folder / "县医保局.xlsx").sheetnames == ["说明", "数据需求"]
    rows = _sheet(folder / "县医保局.xlsx", "数据需求")
    assert rows[0] == ("户编号", "户名", "安置点", "成员", "需补充的信息", "回填列名", "台账", "能确定的判定数", "用于名单",
                       "填写")
    got = {(r[0], r[5]) for r in rows[1:]}
    assert got == {("D3", "已参加医保"), ("D4", "符合医保参保条件"), ("D4", "已参加医保"), ("D5", "已参加医保")}
    assert all(r[6] == "基本医疗保险参保登记" and r[7] == 1 for r in rows[1:])
    about = _sheet(folder / "县医保局.xlsx", "说明")
    assert about[0][0] == "数据需求清单:县医保局" and ("涉及户数", 3) in [tuple(r[:2]) for r in about]
    assert ("需求条数", 4) in [tuple(r[:2]) for r in about]
    # The zero-employment question is marked as the list's.
    hrss = _sheet(folder / "县人社局.xlsx", "数据需求")
    (d4,) = [r for r in hrss if r[0] == "D4" and r[5] == "就业意愿"]
    assert d4[3] == "第1人" and d4[8] == "零就业家庭"
    assert d4[7] >= 2  # one request, though several measures wait on it (it settles them all)


def test_the_report_shows_the_same_groups_workloads_and_requests(cli):
    html = (Path(cli["_folder"]) / "report.html").read_text(encoding="utf-8")
    assert "零就业家庭:确认 5 户,待核实 3 户" in html
    assert "县医保局:3 户,4 条" in html and "基本医疗保险参保登记" in html and "houfu 按部门职责建议" in html
    assert "未指定经办部门" in html


def test_the_api_answers_with_the_cli_s_summary(cli, tmp_path):
    hh, mm = _ledger(tmp_path)
    store = RecordStore(default_url(tmp_path / "data"))
    Users(store).add("li", "supervisor-pw", "supervisor")
    app = create_app(houfu.load(), houfu.evaluator(), store, dev=False, secret="report")
    auth = {"authorization": "Basic " + base64.b64encode(b"li:supervisor-pw").decode()}
    with TestClient(app, base_url="https://testserver") as c:
        r = c.post(f"/v1/screen?as_of={AS_OF}", headers=auth,
                   files={"caseload": ("户.xlsx", hh.read_bytes()), "members": ("成员.xlsx", mm.read_bytes())})
    assert r.status_code == 200, r.text
    api = r.json()
    for key in ("lists", "workload", "missing_facts", "by_measure", "rows_in", "screened", "rejected", "kb_version"):
        assert api[key] == cli[key], key
    assert [{k: v for k, v in x.items() if k != "file"} for x in api["data_requests"]] == [
        {k: v for k, v in x.items() if k != "file"} for x in cli["data_requests"]]
    assert all(x["file"] is None for x in api["data_requests"]) and api["errors_file"] is None and api["screen_id"]
    # The screen's record keeps the counts, not the households listed.
    kept = store.screens()[0].summary
    assert kept["lists"][0]["confirmed"]["count"] == 5 and "households" not in kept["lists"][0]["confirmed"]
    assert kept["data_requests"][0]["requests"] and "listed" not in kept["data_requests"][0]
    store.close()


def test_the_summary_s_labels_follow_the_language(tmp_path):
    got = _cli(tmp_path, "--lang", "en")
    (zero,) = got["lists"]
    assert zero["title"] == "Zero-employment households" and zero["to_check"]["asked"][0]["question"].endswith("?")
    names = {x["body_id"]: x["name"] for x in got["data_requests"]}
    assert names["dn_healthcare_security"] == "County Healthcare Security Bureau (Dingnan County)"
    assert names["sy_county_healthcare_security"] == "County Healthcare Security Bureau (Shiyan City)"


# --- holders in data ----------------------------------------------------------------------------------------


def test_a_holder_is_found_for_the_household_s_area_or_the_nearest_above_it():
    kb = load_default()
    assert holder_of(kb, "enrolled_medical_insurance", "dingnan").id == "dn_medical_insurance"
    assert holder_of(kb, "enrolled_medical_insurance", "yunyang").id == "sy_medical_insurance"  # a district of Shiyan
    assert holder_of(kb, "members[3].wants_job", "yunyang").id == "sy_labour_survey"
    # A wish only the household can tell: its Shiyan village, else (any other area) the resettlement community.
    assert holder_of(kb, "wants_hukou_transfer", "shiyan").body == "sy_host_village"
    assert holder_of(kb, "wants_hukou_transfer", "dingnan").body == "resettlement_community"
    assert holder_of(kb, "enrolled_medical_insurance", "jiangxi") is None  # no register serves a whole province


def test_every_fact_a_household_rule_reads_has_a_holder_in_each_document_s_jurisdiction():
    from houfu.kb.conditions import walk

    kb = load_default()
    lacking = []
    for doc_id, dkb in kb.documents.items():
        for clause in dkb.clauses:
            for m in clause.measures:
                if m.rule is None or m.rule.entity != "household":
                    continue
                for cond in (m.rule.when, m.rule.satisfied_if):
                    for fact in {getattr(c, "fact", None) for c in walk(cond)} - {None}:
                        if holder_of(kb, fact, dkb.doc.jurisdiction) is None:
                            lacking.append((doc_id, m.id, fact))
    assert not lacking


@pytest.mark.parametrize("change,says", [
    ({"basis": HandlerBasis.text, "clause": "sy.6", "text": "专班负责医保"}, "verbatim"),
    ({"basis": HandlerBasis.text, "clause": "dn.2.1", "text": "将县城集中安置点纳入城市社区管委会治理体系"},
     "do not name"),
    ({"reason": "the healthcare bureau keeps it"}, "names the statute"),
    ({"body": "dn_nowhere"}, "unknown body"),
])
def test_kb_validate_checks_each_register_s_basis(change, says):
    kb = load_default()
    registers = dict(kb.registers)
    registers["dn_medical_insurance"] = registers["dn_medical_insurance"].model_copy(update=change)
    errors = _check_holders(dataclasses.replace(kb, registers=registers))
    assert any(says in e.message and "dn_medical_insurance" in e.key for e in errors), errors


def test_kb_validate_refuses_two_registers_for_one_area_and_a_register_no_fact_names():
    kb = load_default()
    assert not validate(kb)
    extra = Register(id="dn_second", body="dn_health", zh="健康档案", en="health records", basis=HandlerBasis.duty,
                     reason="《国家基本公共卫生服务规范》")
    labels = dict(kb.fact_labels)
    labels["serious_illness"] = labels["serious_illness"].model_copy(
        update={"holder": [*labels["serious_illness"].holder, "dn_second"]})
    errors = _check_holders(dataclasses.replace(kb, registers={**kb.registers, "dn_second": extra},
                                                fact_labels=labels))
    assert any("one register per jurisdiction" in e.message for e in errors)
    errors = _check_holders(dataclasses.replace(kb, registers={**kb.registers, "dn_second": extra}))
    assert any(e.key == "registers[dn_second]" and "no fact" in e.message for e in errors)


def test_the_summary_is_the_same_read_in_parts_read_whole_and_in_worker_processes(tmp_path, monkeypatch):
    import datetime as dt
    import sys

    import pyarrow as pa
    import pyarrow.parquet as pq

    import houfu.screen.run as run_module
    import houfu.screen.screener as screen_module
    from houfu.screen.summary import summarize

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from benchmarks.caseload import caseload

    hh, members, businesses = caseload(5_200, seed=11)
    for name, t in (("h", hh), ("m", members), ("b", businesses)):
        pq.write_table(t, tmp_path / f"{name}.parquet", row_group_size=997)
    # Businesses in reverse order cannot be read in parts: the caseload is then read whole.
    pq.write_table(businesses.take(pa.array(list(range(businesses.num_rows))[::-1])), tmp_path / "b2.parquet")
    kb, ev = houfu.load(), houfu.evaluator()
    monkeypatch.setattr(screen_module, "CHUNK", 2000)  # three parts read in order
    monkeypatch.setattr(screen_module, "MIN_PART", 1000)  # and six decided by two worker processes

    def summary(businesses: str, workers: int) -> dict:
        run = run_module.screen_files(kb, ev, tmp_path / "h.parquet", tmp_path / "m.parquet",
                                         tmp_path / businesses, None, "household", dt.date(2026, 1, 1), None, None,
                                         None, workers=workers, requests=tmp_path / f"r-{businesses}-{workers}")
        got = summarize(kb, run, files=False).model_dump(mode="json")
        return {k: got[k] for k in ("lists", "workload", "data_requests", "missing_facts", "by_measure", "screened",
                                    "training", "subsidies")}

    parts, whole, forked = summary("b.parquet", 1), summary("b2.parquet", 1), summary("b2.parquet", 2)
    assert parts["screened"] == 5_200 and parts["lists"][0]["confirmed"]["count"] > 0
    assert parts["lists"][0]["to_check"]["count"] > 0
    assert parts == whole
    assert forked == whole
    # The request files hold every request the summary counts.
    for folder in ("r-b.parquet-1", "r-b2.parquet-2"):
        rows = sum(len(_sheet(p, "数据需求")) - 1 for p in (tmp_path / folder).glob("*.xlsx"))
        assert rows == sum(r["requests"] for r in parts["data_requests"])


def test_a_caseload_of_sites_has_no_household_lists_and_counts_sites_per_department(tmp_path):
    import yaml

    ex = Path(__file__).resolve().parent.parent / "examples"
    lines = [json.dumps(yaml.safe_load((ex / f"{n}.yaml").read_text(encoding="utf-8")), ensure_ascii=False,
                        default=str) for n in ("dingnan-site", "shiyan-site", "shiyan-small-site")]
    (tmp_path / "sites.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    r = CliRunner().invoke(main, ["screen", str(tmp_path / "sites.jsonl"), "--sites", "--as-of", AS_OF, "--json",
                                  "--report", str(tmp_path / "r.html")])
    assert r.exit_code == 0, r.output
    got = json.loads(r.stdout)
    assert got["entity"] == "site" and got["lists"] == []
    assert got["workload"] and all(0 < x["households"] <= 3 and x["actions"] for x in got["workload"])
    assert "各部门需要办理的安置点数" in (tmp_path / "r.html").read_text(encoding="utf-8")


def test_the_summary_follows_its_published_schema(cli):
    import jsonschema

    r = CliRunner().invoke(main, ["schema", "screen"])
    assert r.exit_code == 0
    jsonschema.validate({k: v for k, v in cli.items() if k != "_folder"}, json.loads(r.stdout))


def test_an_api_summary_cuts_server_folders_but_not_a_value_written_with_slashes():
    """The service names no server path; a date a note quotes (1966/5/8) is a value, kept as written."""
    from houfu.screen.summary import _unfoldered

    folder = "/tmp/houfu-screen-x1"
    said = f"{folder}/members.csv » 出生日期: 3 行不是日期,例如第 5 行“1966/5/8”; see /srv/data/other.csv"
    cut = _unfoldered(said, False, folder)
    assert cut == "members.csv » 出生日期: 3 行不是日期,例如第 5 行“1966/5/8”; see other.csv"
    assert _unfoldered(said, True, folder) == said  # the CLI names its own files in full
    assert _unfoldered("第 5 行 2024/05/08 与 1/2", False) == "第 5 行 2024/05/08 与 1/2"
