"""政策找人 (issue 24): clocks on China's calendar, each department's worklist, and its answers taken back.

The store tests run on SQLite and on a real PostgreSQL (scripts/with-test-servers.sh sets HOUFU_TEST_POSTGRES_URL).
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import openpyxl
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from pydantic import ValidationError

from houfu.cli.commands import main
from houfu.engine.periods import CalendarError, add_days, due_on, is_working_day
from houfu.kb.clocks import case_clocks, load_county_clocks
from houfu.kb.loader import FieldError, load_default
from houfu.kb.models import Clock, DayCount
from houfu.kb.query import holder_of
from houfu.records.store import RecordStore
from houfu.screen.determinations import read_long
from houfu.screen.screener import carriers_of
from houfu.screen.worklists import KEY, MEASURE, RESULT, RESULTS, SHEET_ROWS

from .test_records import postgres_url, store_url  # noqa: F401 - the fixtures: SQLite and a real PostgreSQL

ROOT = Path(__file__).resolve().parent.parent
EX = ROOT / "examples"
CLOCKS = EX / "county-clocks.yaml"
ZERO = "dn.4.1.classified_assistance"

# --- working days -------------------------------------------------------------------------------------------


def test_a_make_up_saturday_is_a_working_day_and_a_holiday_is_not():
    # 2024: 劳动节 5月1日至5日放假, 5月11日(星期六)上班 (国务院办公厅 2023年10月25日 通知).
    assert dt.date(2024, 5, 11).weekday() == 5 and is_working_day(dt.date(2024, 5, 11))
    assert not is_working_day(dt.date(2024, 5, 1))
    assert not is_working_day(dt.date(2024, 5, 12))  # an ordinary Sunday


def test_working_days_count_the_make_up_sunday_and_skip_the_national_day_week():
    # From Friday 2024-09-27: 9-28 (Sat) off, 9-29 (Sun) a make-up working day, 9-30 (Mon), then 10-1..10-7 off.
    assert add_days(dt.date(2024, 9, 27), 3, DayCount.working) == dt.date(2024, 10, 8)
    assert add_days(dt.date(2024, 9, 27), 3, DayCount.natural) == dt.date(2024, 9, 30)
    assert add_days(dt.date(2024, 9, 27), 0, DayCount.working) == dt.date(2024, 9, 27)


def test_a_year_past_the_calendars_data_is_refused_not_guessed():
    last = max(y for y in range(2004, 2100) if _covered(y))
    with pytest.raises(CalendarError, match=str(last + 1)):
        is_working_day(dt.date(last + 1, 3, 2))
    # Counting across the end of the data is refused too, even where natural days would do.
    with pytest.raises(CalendarError):
        add_days(dt.date(last, 12, 28), 5, DayCount.working)
    assert add_days(dt.date(last, 12, 28), 5, DayCount.natural) == dt.date(last + 1, 1, 2)


def _covered(year: int) -> bool:
    try:
        is_working_day(dt.date(year, 6, 1))
    except CalendarError:
        return False
    return True


# --- clocks as data ------------------------------------------------------------------------------------------


def test_a_clock_gives_days_or_a_date_never_both_or_neither():
    with pytest.raises(ValidationError):
        Clock(days=5, date=dt.date(2026, 1, 1))
    with pytest.raises(ValidationError):
        Clock()
    assert due_on(Clock(date=dt.date(2026, 3, 1)), dt.date(2026, 1, 5)) == dt.date(2026, 3, 1)


def test_the_texts_set_no_household_clock_and_the_shipped_county_file_says_it_is_an_example_of_a_countys_own():
    kb = load_default()
    assert not any(m.clock for m in kb.measures.values())  # 及时 has no number of days: no clock is invented
    county = load_county_clocks(kb, CLOCKS)
    assert county.example and "示例" in county.whose
    clocks = case_clocks(kb, county)
    assert {c.source for c in clocks.values()} == {"county"}
    assert "a county's own rule, not the text's" in clocks[ZERO].describe()


def test_a_county_clock_for_an_unknown_measure_names_its_field(tmp_path):
    bad = tmp_path / "clocks.yaml"
    bad.write_text("whose: 某县\nbasis: 会议纪要\nclocks:\n  - {measure: no.such, days: 5}\n", encoding="utf-8")
    with pytest.raises(FieldError) as got:
        load_county_clocks(load_default(), bad)
    assert got.value.field == "clocks.0.measure"
    r = CliRunner().invoke(main, ["screen", str(EX / "caseload.xlsx"), "--clocks", str(bad), "-q"])
    assert r.exit_code == 2 and r.output.strip().count("\n") == 0
    assert str(bad) in r.output and "clocks.0.measure" in r.output and "Traceback" not in r.output


def test_a_screen_whose_clock_runs_past_the_calendar_is_refused_in_one_line(tmp_path):
    r = CliRunner().invoke(main, ["screen", str(EX / "caseload.xlsx"), "--clocks", str(CLOCKS), "--as-of",
                                  "2026-12-28", "-q", "-o", str(tmp_path / "d.parquet")])
    assert r.exit_code == 2 and "2027" in r.output and r.output.strip().count("\n") == 0


# --- worklists ---------------------------------------------------------------------------------------------------


HOUSEHOLDS = "户编号,所在县,安置点,户类型\n" + "".join(
    f"{h},定南县,定南县县城集中安置点,脱贫户\n" for h in ("360731199001011234", "H2", "H3", "H4"))
MEMBERS = ("户编号,姓名,年龄,劳动能力,是否就业,就业意愿\n"
           "360731199001011234,甲,30,完全,否,县内\n"  # wants a job, not in work: help applies (act)
           "H2,乙,40,完全,是,不想\n"  # in work: does not apply
           "H3,丙,35,完全,,县外\n"  # employment unknown, held by the 人社局's register: to confirm (collect)
           "H4,丁,25,完全,否,不想\n")  # wants no job: does not apply


def _caseload(folder: Path, members: str = MEMBERS) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "households.csv").write_text(HOUSEHOLDS, encoding="utf-8")
    (folder / "members.csv").write_text(members, encoding="utf-8")
    return folder / "households.csv", folder / "members.csv"


def _screen(tmp_path: Path, url: str, as_of: str, name: str = "m1", members: str = MEMBERS) -> tuple[Path, str]:
    hh, mm = _caseload(tmp_path / name, members)
    out = tmp_path / f"{name}-lists"
    r = CliRunner().invoke(main, ["screen", str(hh), "--members", str(mm), "--as-of", as_of, "-q",
                                  "--worklists", str(out), "--clocks", str(CLOCKS), "--database", url,
                                  "-o", str(tmp_path / f"{name}.parquet")])
    assert r.exit_code == 0, r.output
    screen_id = r.output.split("screen id ")[1].split(")")[0]
    return out, screen_id


def _unmask(shown: object) -> str:
    return "360731199001011234" if shown == "360731********1234" else str(shown)


def _rows(path: Path) -> list[list[object]]:
    book = openpyxl.load_workbook(path)
    return [list(r) for r in book[SHEET_ROWS].iter_rows(min_row=2, values_only=True)]


def _hrss(folder: Path) -> Path:
    return folder / "县人社局.xlsx"


def test_each_department_gets_the_households_whose_measures_it_carries_applies_or_it_can_settle(tmp_path):
    folder, screen_id = _screen(tmp_path, f"sqlite:///{tmp_path / 'r.sqlite3'}", "2026-11-02")
    kb = load_default()
    rows = _rows(_hrss(folder))
    zero = {(r[2], r[9]) for r in rows if r[MEASURE] == ZERO}
    # Hand-computed: 甲 wants a job and is not in work (待办理); 丙's employment is unknown (待补充信息).
    assert zero == {("360731********1234", "待办理"), ("H3", "待补充信息")}
    h3 = next(r for r in rows if r[MEASURE] == ZERO and r[2] == "H3")
    assert "现在有没有工作" in h3[10]
    # The due date: listed Monday 2026-11-02, the example county rule's 5 working days -> Monday 2026-11-09.
    assert {r[11] for r in rows if r[MEASURE] == ZERO} == {"2026-11-09"}
    assert all("不是文件规定" in r[13] for r in rows if r[MEASURE] == ZERO)
    assert all(r[13] is None and r[11] is None for r in rows if r[MEASURE] not in case_clocks(
        kb, load_county_clocks(kb, CLOCKS)))
    # Every row of every file, checked against the determinations file, row by row.
    d = read_long(tmp_path / "m1.parquet").to_pylist()  # the wide form read back (missing facts by name)
    want: set[tuple[str, str, str]] = set()
    for x in d:
        for body in carriers_of(kb, x["measure"]) or ():
            held = {b for p in x["missing"] if (reg := holder_of(kb, p.split("].")[-1], "dingnan"))
                    for b in [kb.registers[reg.id].body]}
            if x["status"] == "applies" or (x["status"] == "undetermined" and body in held):
                want.add((body, x["household"], x["measure"]))
    got: set[tuple[str, str, str]] = set()
    for f in folder.glob("*.xlsx"):
        book = openpyxl.load_workbook(f)
        cover = [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]
        body = cover[2][2]
        assert cover[3][1] == screen_id and cover[5][1] == kb.version
        sheet = book[SHEET_ROWS]
        (choice,) = [v for v in sheet.data_validations.dataValidation if v.type == "list"]
        assert choice.formula1 == '"' + ",".join(RESULTS) + '"' and str(choice.sqref) == f"O2:O{sheet.max_row}"
        mine = _rows(f)
        assert cover[7][1] == len(mine)
        # Grouped by site, the earliest due first within a site.
        keys = [(r[1] or "", r[11] or "9999") for r in mine]
        assert keys == sorted(keys)
        by_key = {r[KEY]: r for r in mine}
        assert len(by_key) == len(mine)
        for r in mine:
            got.add((body, _unmask(r[2]), r[MEASURE]))
            assert "199001011234" not in "".join(str(c) for c in r if c)
    assert got == want


# --- answers taken back --------------------------------------------------------------------------------------


def _answer(path: Path, answers: dict[tuple[str, str], tuple[str, str | None, str, object]],
            edit: dict[str, object] | None = None) -> None:
    """Fill a worklist as a department would: result, note, officer, date by (masked household, measure)."""
    book = openpyxl.load_workbook(path)
    ws = book[SHEET_ROWS]
    for row in ws.iter_rows(min_row=2):
        key = (row[2].value, row[MEASURE].value)
        if key in answers:
            result, note, person, day = answers[key]
            row[RESULT].value, row[RESULT + 1].value, row[RESULT + 2].value, row[RESULT + 3].value = (
                result, note, person, day)
            for col, value in (edit or {}).items():
                row[{"key": KEY, "measure": MEASURE}[col]].value = value
    book.save(path)


def test_answers_are_kept_once_tampered_rows_refused_one_by_one_and_status_counts_overdue(tmp_path, store_url):  # noqa: F811
    folder, screen_id = _screen(tmp_path, store_url, "2026-11-02")
    masked = "360731********1234"
    hrss = _hrss(folder)
    _answer(hrss, {(masked, ZERO): ("已核实", None, "张三", dt.datetime(2026, 11, 5)),
                   ("H3", ZERO): ("需补充", "否", "张三", "2026-11-05")})
    civil = folder / "县民政局.xlsx"
    first = next(r for r in _rows(civil))
    _answer(civil, {(first[2], first[MEASURE]): ("不符合", "已享受特困供养", "李四", "2026-11-06")})
    runner = CliRunner()
    r = runner.invoke(main, ["worklist", "import", str(hrss), str(civil), "--database", store_url,
                             "--as-of", "2026-11-20", "--user", "乡村振兴局"])
    assert r.exit_code == 0, r.output
    assert "3 answer(s) kept, 0 already kept" in r.output
    # The same files again: nothing changes.
    r = runner.invoke(main, ["worklist", "import", str(hrss), str(civil), "--database", store_url,
                             "--as-of", "2026-11-20"])
    assert r.exit_code == 0 and "0 answer(s) kept, 3 already kept" in r.output
    with RecordStore(store_url) as store:
        answers = {(a.household, a.measure): a for a in store.answers(screen_id)}
        assert len(store.answers(screen_id)) == 3
    assert answers[("H3", ZERO)].facts == {"members[0].employed": "否"}
    assert answers[("H3", ZERO)].result == "needs_info" and answers[("H3", ZERO)].person == "张三"
    returned = answers[(_unmask(first[2]), first[MEASURE])]
    assert returned.facts == {"returned": {"measure": first[MEASURE], "reason": "已享受特困供养"}}
    assert returned.department == "dn_civil_affairs" and returned.source.startswith("县民政局.xlsx#")
    # Tampered copies: an edited key, a measure not on the list, a date in the future: each refused with why.
    bad = tmp_path / "tampered"
    bad.mkdir()
    for name, edit, day in (("key.xlsx", {"key": "0000000000000000"}, "2026-11-05"),
                            ("measure.xlsx", {"measure": "dn.3.3.dibao"}, "2026-11-05"),
                            ("future.xlsx", None, "2026-12-25")):
        shutil.copy(hrss, bad / name)
        _answer(bad / name, {(masked, ZERO): ("已办结", None, "王五", day)}, edit)
    r = runner.invoke(main, ["worklist", "import", *(str(bad / n) for n in ("key.xlsx", "measure.xlsx",
                                                                             "future.xlsx")),
                             "--database", store_url, "--as-of", "2026-11-20"])
    assert r.exit_code == 2
    refused = [line for line in r.output.splitlines() if line.startswith("Refused:")]
    assert len(refused) == 3
    assert "key.xlsx" in refused[0] and "编号: 0000000000000000 is not a row" in refused[0]
    assert "measure.xlsx" in refused[1] and "措施编号: dn.3.3.dibao is not the measure" in refused[1]
    assert "future.xlsx" in refused[2] and "日期: 2026-12-25 is in the future" in refused[2]
    # H3's answer in those copies was already kept: it adds nothing.
    assert "0 answer(s) kept, 3 already kept" in r.output
    # Status on 2026-11-20: the 人社局's two zero-employment cases were due 2026-11-09, one confirmed and one
    # needing information: neither done nor returned, so both overdue. No other measure of its has a clock.
    r = runner.invoke(main, ["worklist", "status", "--database", store_url, "--as-of", "2026-11-20", "--json",
                             "--department", "dn_hrss"])
    assert r.exit_code == 0, r.output
    import json

    got = json.loads(r.output)
    assert got["screen_id"] == screen_id
    (st,) = got["departments"]
    n = len(_rows(hrss))
    assert st == {"department": "dn_hrss", "name": "县人社局", "listed": n, "open": n - 2, "confirmed": 1, "done": 0,
                  "returned": 0, "needs_info": 1, "overdue": 2}
    # On the due day itself nothing is overdue yet.
    r = runner.invoke(main, ["worklist", "status", "--database", store_url, "--as-of", "2026-11-09", "--json",
                             "--department", "dn_hrss"])
    assert json.loads(r.output)["departments"][0]["overdue"] == 0


def test_a_file_that_is_not_a_worklist_is_one_line(tmp_path):
    other = tmp_path / "other.xlsx"
    book = openpyxl.Workbook()
    book.active.append(["户编号"])
    book.save(other)
    r = CliRunner().invoke(main, ["worklist", "import", str(other), "--data-dir", str(tmp_path / "d")])
    assert r.exit_code == 2 and str(other) in r.output and "not a houfu worklist" in r.output
    assert r.output.strip().count("\n") == 0


# --- next month: the change list, the 动态清零 tracker, the overdue counts (the Done-when) ----------------

MEMBERS_NEXT = ("户编号,姓名,年龄,劳动能力,是否就业,就业意愿\n"
                "360731199001011234,甲,30,完全,是,不想\n"  # 甲 found work: cleared from the zero-employment list
                "H3,丙,35,完全,否,县外\n"  # 丙's employment now known, not in work: newly applies, newly listed
                "H4,丁,25,完全,否,县内\n"  # 丁 now wants a job: newly applies, newly listed
                "H5,戊,28,完全,否,县内\n")  # a household new to the caseload (H2 left it)
HOUSEHOLDS_NEXT = "户编号,所在县,安置点,户类型\n" + "".join(
    f"{h},定南县,定南县县城集中安置点,脱贫户\n" for h in ("360731199001011234", "H3", "H4", "H5"))


@pytest.fixture(params=["sqlite", "postgresql"])
def own_store_url(request, tmp_path):
    """A store of its own (the tracker follows every run a store keeps): SQLite, or a new PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'own.sqlite3'}"
        return
    import os
    import uuid

    import sqlalchemy as sa

    request.getfixturevalue("postgres_url")  # the server is there (it fails the test with the instruction if not)
    base = os.environ["HOUFU_TEST_POSTGRES_URL"]
    name = f"houfu_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(base.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield base.rsplit("/", 1)[0] + "/" + name
    with admin.connect() as c:
        c.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


def test_end_to_end_screen_worklists_answers_next_month_since_tracker_and_overdue(tmp_path, own_store_url):
    import json

    url = own_store_url
    runner = CliRunner()
    # Month 1 (Monday 2026-11-02): worklists, and two departments answer.
    folder, first_run = _screen(tmp_path, url, "2026-11-02")
    masked = "360731********1234"
    hrss, civil = _hrss(folder), folder / "县民政局.xlsx"
    # The 人社局 finds 甲 in work (a fact, given as path=value) and 丙 not in work (the row's one fact to confirm).
    _answer(hrss, {(masked, ZERO): ("需补充", "members[0].employed=是", "张三", "2026-11-20"),
                   ("H3", ZERO): ("需补充", "否", "张三", "2026-11-06")})
    row = next(r for r in _rows(civil))
    _answer(civil, {(row[2], row[MEASURE]): ("不符合", "已享受特困供养", "李四", "2026-11-06")})
    r = runner.invoke(main, ["worklist", "import", str(hrss), str(civil), "--database", url,
                             "--as-of", "2026-11-25"])
    assert r.exit_code == 0 and "3 answer(s) kept" in r.output, r.output
    # Month 2 (Tuesday 2026-12-01), against month 1's determinations, named by month 1's screen id (the store
    # recorded the file it wrote, and its sha256).
    hh, mm = tmp_path / "m2" / "households.csv", tmp_path / "m2" / "members.csv"
    hh.parent.mkdir()
    hh.write_text(HOUSEHOLDS_NEXT, encoding="utf-8")
    mm.write_text(MEMBERS_NEXT, encoding="utf-8")
    out2 = tmp_path / "m2-lists"
    r = runner.invoke(main, ["screen", str(hh), "--members", str(mm), "--as-of", "2026-12-01", "-q", "--worklists",
                             str(out2), "--clocks", str(CLOCKS), "--database", url, "-o",
                             str(tmp_path / "m2.parquet"), "--since", first_run, "--report",
                             str(tmp_path / "m2.md"), "--json"])
    assert r.exit_code == 0, r.output
    s = json.loads(r.output[r.output.index("{"):])
    c = s["changes"]
    assert c["since"] == first_run
    assert c["joined_listed"] == ["H5"] and c["left_listed"] == ["H2"]
    zero = {(x["household"], x["kind"]) for x in c["listed"] if x["measure"] == ZERO}
    assert zero == {("360731199001011234", "no_longer_applies"), ("H3", "newly_applies"), ("H4", "newly_applies")}
    assert all("县人社局" in x["owners"] for x in c["listed"] if x["measure"] == ZERO)
    (zl,) = [x for x in c["lists"] if x["list_id"] == "zero_employment"]
    assert (zl["new_listed"], zl["cleared_listed"]) == (["H3", "H4", "H5"], ["360731199001011234"])
    # The change list leads the report (after the title and the counts, before the charts and every table).
    report = (tmp_path / "m2.md").read_text(encoding="utf-8")
    assert report.index("与上次筛查相比的变化") < report.index("动态清零跟踪") < report.index("按安置点和户类型")
    # Overdue per department on 2026-12-01, over both months' worklists (hand-computed): the 民政局's 低保 rows of
    # month 1 were due 2026-11-30 (20 working days from 2026-11-02): 甲's was returned (不符合), H2 left the
    # caseload, H3 and H4 are unanswered and still open now: 2 overdue. The 人社局's zero-employment rows of month 1
    # were due 2026-11-09: 甲 no longer applies (in work), and H3 is listed again by month 2 (due 2026-12-08): none.
    # The 医保局's rows are due 2026-12-02: none yet.
    o = s["overdue"]
    assert (o["screens"], o["overdue"], o["checked_against_this_screen"]) == (2, 2, True)
    (civil_late,) = o["departments"]
    assert civil_late["name"] == "县民政局" and civil_late["overdue"] == 2
    assert [(x["household"], x["measure"], x["due_on"], x["days_late"], x["answer"]) for x in civil_late["listed"]] == [
        ("H3", "dn.3.3.dibao", "2026-11-30", 1, None), ("H4", "dn.3.3.dibao", "2026-11-30", 1, None)]
    section = report[report.index("逾期未办(按部门)"):]
    assert "已过办结期限、既未办结也未退回的共 2 条" in section
    assert "| 县民政局 | 2 |" in section and "| H3 | 确保符合条件的搬迁群众城乡低保应保尽保 | 2026-11-02 | 2026-11-30 | 1 | 未答复 |" \
        in section
    # With --since the worklists keep only what is new: no row of month 2's 人社局 list is an unchanged case.
    new_rows = {(r[2], r[MEASURE]) for r in _rows(_hrss(out2))}
    assert (masked, ZERO) not in new_rows  # no longer applies: not on a worklist
    assert {("H3", ZERO), ("H4", ZERO), ("H5", ZERO)} <= new_rows
    changed = {(x["household"], x["measure"]) for x in c["listed"]}
    assert all((_unmask(h), m) in changed or h == "H5" for h, m in new_rows)
    # The tracker: 甲 first seen 2026-11-02, cleared by the 2026-12-01 screen after 29 days, the 人社局's answer
    # with it; H3, H4, H5 first seen 2026-12-01, open, due 30 days later (the example county rule), overdue on
    # 2027-01-05 (35 days).
    t = s["tracker"]
    assert (t["screens"], t["open"], t["new"], t["cleared"], t["overdue"]) == (2, 3, 3, 1, 0)
    jia = next(x for x in t["listed"] if x["household"] == "360731199001011234")
    assert (jia["first_seen"], jia["cleared_on"], jia["days_open"]) == ("2026-11-02", "2026-12-01", 29)
    assert jia["employed_since"] == "2026-11-20"
    assert jia["answers"] == ["县人社局 需补充 2026-11-20 张三", "县民政局 不符合 2026-11-06 李四"]
    r = runner.invoke(main, ["worklist", "tracker", "--database", url, "--as-of", "2027-01-05", "--clocks",
                             str(CLOCKS), "--json"])
    later = json.loads(r.output)
    assert (later["open"], later["overdue"]) == (3, 3)
    assert {x["household"]: x["due_on"] for x in later["listed"] if x["cleared_on"] is None} == {
        "H3": "2026-12-31", "H4": "2026-12-31", "H5": "2026-12-31"}
    # Overdue per department on 2026-11-20, for month 1's worklists: the 人社局's two zero-employment cases were due
    # 2026-11-09 and are neither done nor returned; month 2's run is the latest, so month 1 is asked by its id.
    r = runner.invoke(main, ["worklist", "status", "--database", url, "--as-of", "2026-11-20", "--json",
                             "--screen", first_run, "--department", "dn_hrss"])
    (st,) = json.loads(r.output)["departments"]
    assert (st["confirmed"], st["needs_info"], st["overdue"]) == (0, 2, 2)
    # Month 2's 人社局 list: H3, H4 and H5's zero-employment cases are due 2026-12-08 (5 working days from Tuesday
    # 2026-12-01); nothing answered yet, so on 2026-12-09 all three are overdue.
    r = runner.invoke(main, ["worklist", "status", "--database", url, "--as-of", "2026-12-09", "--json",
                             "--department", "dn_hrss"])
    (st,) = json.loads(r.output)["departments"]
    assert st["overdue"] == 3 and st["open"] == st["listed"]


def test_since_a_screen_id_reads_the_file_that_run_wrote_and_refuses_one_that_changed(tmp_path):
    url = f"sqlite:///{tmp_path / 'r.sqlite3'}"
    _, first = _screen(tmp_path, url, "2026-11-02")
    hh, mm = _caseload(tmp_path / "m2", MEMBERS_NEXT)
    hh.write_text(HOUSEHOLDS_NEXT, encoding="utf-8")
    runner = CliRunner()

    def since(given: str) -> tuple[int, str]:
        r = runner.invoke(main, ["screen", str(hh), "--members", str(mm), "--as-of", "2026-12-01", "-q",
                                 "--database", url, "--since", given, "-o", str(tmp_path / "m2.parquet")])
        return r.exit_code, r.output

    # By its id or by its file, the same changes (the id's lists compared from the store's own record of them).
    by_id, by_file = since(first), since(str(tmp_path / "m1.parquet"))
    assert by_id[0] == by_file[0] == 0, by_id[1] + by_file[1]
    assert "4 change(s) since " + first + " in 3 household(s), 1 joined, 1 left" in by_id[1]
    assert "4 change(s) since m1.parquet in 3 household(s), 1 joined, 1 left" in by_file[1]
    # An id the store does not hold, and a file that is no longer the one the run wrote: one line each.
    code, said = since("0" * 32)
    assert code == 2 and "is not a screen run in this records store" in said and said.strip().count("\n") == 0
    pq.write_table(pq.read_table(tmp_path / "m1.parquet").slice(1), tmp_path / "m1.parquet")
    code, said = since(first)
    assert code == 2 and "m1.parquet" in said and "sha256 differs" in said and said.strip().count("\n") == 0
