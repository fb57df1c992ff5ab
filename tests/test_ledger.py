"""A county's own export, read as the county keeps it (issue 20, items 1-5 and 7).

The ledgers are built here with openpyxl (benchmarks/ledger.py) the way counties keep them: a title and filing
row, two sheets and a notes sheet, a two-row header with merged cells, 户编号 merged down a household's rows,
birth dates in three forms, ID numbers (some stored by Excel as figures, one with a mistyped check digit), no
county column but site names (one a near miss), the monitoring system's labels, columns ignored on purpose and
one not known, blank, totals and signature rows. The builder says which households must be rejected and why;
every row must be screened or rejected with a reason, and no column dropped without a word, through the CLI
and through the API, for the workbook and its GBK CSV twin.
"""

from __future__ import annotations

import base64
import csv
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
import yaml
from click.testing import CliRunner
from fastapi.testclient import TestClient

import houfu
from benchmarks.ledger import (
    HOUSEHOLD_HEADERS,
    MEMBER_HEADERS,
    NEAR,
    SITE,
    Ledger,
    build,
    write_csv,
    write_xlsx,
)
from houfu.cli.commands import main
from houfu.io.tables import id_numbers, load_caseload
from houfu.records.store import RecordStore, Users, default_url
from houfu.web.service import create_app

AS_OF = "2026-01-01"
N = 80  # households: enough for every kind of row the builder makes (a subtotal every 120 members' households)


@pytest.fixture(scope="module")
def ledger() -> Ledger:
    return build(N)


@pytest.fixture(scope="module")
def files(ledger: Ledger, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("ledger")
    skipped_xlsx = write_xlsx(ledger, folder / "ledger.xlsx")
    skipped_csv = write_csv(ledger, folder / "csv")
    return {"folder": folder, "xlsx": folder / "ledger.xlsx", "households": folder / "csv" / "households.csv",
            "members": folder / "csv" / "members.csv", "skipped_xlsx": skipped_xlsx, "skipped_csv": skipped_csv}


def screen(*args: object, code: int = 2) -> tuple[dict[str, Any], str]:
    r = CliRunner().invoke(main, ["screen", *[str(a) for a in args], "--as-of", AS_OF, "--json"])
    assert r.exit_code == code, r.output
    return json.loads(r.stdout), r.stderr


def screened_ids(path: Path) -> set[str]:
    return set(pq.read_table(path).column("household").to_pylist())


def test_the_workbook_is_read_as_kept_and_every_row_is_screened_or_rejected_with_a_reason(ledger, files, tmp_path):
    out = tmp_path / "d.parquet"
    summary, stderr = screen(files["xlsx"], "-o", out)
    expect = ledger.expect
    everyone = {h.id for h in ledger.households}
    assert summary["rows_in"] == N == summary["screened"] + summary["rejected"]
    assert screened_ids(out) == everyone - set(expect["rejected"])
    assert summary["rejected"] == len(expect["rejected"]) and summary["people"] == expect["people"]
    # Each rejection has the reason the builder put there, grouped by kind.
    kinds = Counter(expect["rejected"].values())
    got = Counter()
    for g in summary["error_groups"]:
        got[g["kind"]] += g["rows"]
    assert got["unknown_site"] == kinds["unknown_site"]
    assert got["id_float"] >= kinds["id_float"] and got["id_number_check"] >= kinds["id_number_check"]
    assert set(got) == {"unknown_site", "id_float", "id_number_check"}
    # Which sheet became which table, judged by its headers; the notes sheet is said not to be read.
    tables = {t["table"]: t for t in summary["tables"]}
    assert tables["households"]["sheet"] == "户信息" and tables["households"]["header_rows"] == [3]
    assert tables["members"]["sheet"] == "家庭成员" and tables["members"]["header_rows"] == [2, 3]
    assert tables["households"]["rows"] == N
    assert tables["members"]["rows"] == sum(len(h.members) for h in ledger.households)
    assert any("填表说明" in w for w in summary["warnings"])
    # Blank, totals and signature rows: skipped, each with a note naming its rows.
    notes = "\n".join(summary["notes"])
    for sheet, kinds_of_rows in files["skipped_xlsx"].items():
        for kind, rows in kinds_of_rows.items():
            for row in rows:
                line = next((n for n in summary["notes"] if sheet in n and {"blank": "空行", "totals": "合计行",
                                                                             "signature": "签名"}[kind] in n), "")
                assert re.search(rf"\b{row}\b", line), (sheet, kind, row, notes)


def test_no_column_is_dropped_without_a_word(files):
    summary, _ = screen(files["xlsx"])
    fates = {(c["source"].split("[")[-1].rstrip("]"), c["header"]): c for c in summary["columns"]}
    headers = [("户信息", h) for h in HOUSEHOLD_HEADERS] + [("家庭成员", bottom or top) for top, bottom in MEMBER_HEADERS]
    for sheet, header in headers:
        fate = fates[(sheet, header)]
        assert fate["fate"] in ("read", "ignored", "not_read"), fate
        if fate["fate"] == "ignored":
            assert fate["why"]  # declared in columns.yaml, with why
        if fate["fate"] == "not_read":
            assert any(header in w for w in summary["warnings"]), header
    assert fates[("户信息", "帮扶责任人")]["fate"] == "not_read"
    assert fates[("家庭成员", "劳动技能")] == {**fates[("家庭成员", "劳动技能")], "fate": "read", "field": "labor_capacity"}
    assert fates[("家庭成员", "身份证号")]["field"] == "id_number"
    assert {fates[("户信息", h)]["fate"] for h in ("序号", "联系电话", "备注")} == {"ignored"}


def test_labels_dates_and_id_numbers_are_read_as_the_builder_wrote_them(ledger, files):
    loaded = load_caseload(houfu.load(), files["xlsx"])
    kept = [h for h in ledger.households if h.id not in ledger.expect["rejected"]]
    members = [m for h in kept for m in h.members]
    table = loaded.caseload.members.table
    codec = table.codec
    # Birth dates as Excel dates, 1966-05-08 and 1966年5月8日: each the day the builder wrote.
    assert [codec.decode("birth_date", v) for v in table.columns["birth_date"]] == [m.born for m in members]
    # No sex column: the ID number's 17th digit gives it, once its check digit is verified.
    sexes = [codec.decode("sex", v) for v in table.columns["sex"]]
    assert sexes == ["male" if int(m.id_number[16]) % 2 else "female" for m in members]
    # The monitoring system's labels, each read as columns.yaml says (弱劳动力或半劳动力 is partial …).
    readings = {"普通劳动力": "full", "技能劳动力": "full", "弱劳动力或半劳动力": "partial", "丧失劳动力": "none",
                "无劳动力": "none"}
    assert [codec.decode("labor_capacity", v) for v in table.columns["labor_capacity"]] == \
        [readings[m.skill] for m in members]
    work = {"省外务工": "outside_county", "县外省内务工": "outside_county", "县内企业务工": "local_enterprise",
            "公益岗位": "public_welfare_post", "未务工": "none", "县内务工": None, "就业帮扶车间": "workshop"}
    assert [codec.decode("employment", v) for v in table.columns["employment"]] == [work[m.work] for m in members]
    assert [codec.decode("employed", v) for v in table.columns["employed"]] == \
        [m.employed in ("是", "√") for m in members]
    # 县内务工 says someone works, not where: read as not known, said once with its count and why.
    count = sum(1 for m in members if m.work == "县内务工")
    assert any(n.kind == "reading_unknown" and n.params["value"] == "县内务工" and n.params["count"] == f"{count:,}"
               for n in loaded.notes)
    # 户编号 merged down a household's rows is the household's id in each.
    assert len(loaded.caseload.members.owner) == len(members)
    # The county from the site name, its alias too (one site, by its own name); the near miss is never taken.
    assert set(loaded.jurisdictions.to_pylist()) == {"dingnan"}
    assert set(loaded.labels["site"].to_pylist()) == {SITE}
    assert any(h.site == "县城安置点" for h in kept) and NEAR not in loaded.labels["site"].to_pylist()


def test_no_id_number_is_written_out_whole(ledger, files, tmp_path):
    out, errors = tmp_path / "d.csv", tmp_path / "e.csv"
    r = CliRunner().invoke(main, ["screen", str(files["xlsx"]), "-o", str(out), "--errors", str(errors),
                                  "--as-of", AS_OF, "--json", "--report", str(tmp_path / "r.html")])
    written = r.output + out.read_text(encoding="utf-8") + errors.read_text(encoding="utf-8-sig") + \
        (tmp_path / "r.html").read_text(encoding="utf-8")
    numbers = [m.id_number for h in ledger.households for m in h.members]
    assert not [n for n in numbers if n in written or n[:17] in written]
    assert "360728********" in errors.read_text(encoding="utf-8-sig")  # the bad one, masked


def test_the_gbk_csv_twin_screens_to_the_same_determinations(ledger, files, tmp_path):
    raw = files["households"].read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    a, b = tmp_path / "a.parquet", tmp_path / "b.parquet"
    from_xlsx, _ = screen(files["xlsx"], "-o", a)
    from_csv, stderr = screen(files["households"], "--members", files["members"], "-o", b)
    for key in ("rows_in", "screened", "rejected", "people"):
        assert from_csv[key] == from_xlsx[key], key
    rows = lambda p: sorted(map(json.dumps, pq.read_table(p).to_pylist()))  # noqa: E731
    assert rows(a) == rows(b)
    assert Counter(g["kind"] for g in from_csv["error_groups"]) == Counter(g["kind"] for g in from_xlsx["error_groups"])
    # The CSV's skipped lines: the title above the header, the blank and totals lines.
    for name, kinds in files["skipped_csv"].items():
        for kind, lines in kinds.items():
            for line in lines:
                assert any(name in n and re.search(rf"\b{line}\b", n) for n in from_csv["notes"]), (name, kind, line)
    # Given as GBK, the same; given as UTF-8, one line naming the byte.
    again, _ = screen(files["households"], "--members", files["members"], "--encoding", "gbk")
    assert again["screened"] == from_csv["screened"]
    r = CliRunner().invoke(main, ["screen", str(files["households"]), "--members", str(files["members"]),
                                  "--encoding", "utf-8", "--as-of", AS_OF])
    assert r.exit_code == 2 and "not valid utf-8" in r.output and len(r.output.strip().splitlines()) == 1


def test_errors_come_grouped_first_in_chinese_then_row_by_row_and_in_english_when_asked(files, tmp_path):
    r = CliRunner().invoke(main, ["screen", str(files["xlsx"]), "--as-of", AS_OF, "-o", str(tmp_path / "d.parquet")])
    lines = [ln for ln in r.stderr.splitlines() if ln.startswith("Error: ")]
    assert any(re.search(r"安置点名称: \d+ 行安置点不在 sites\.yaml 里.*例如第 \d+ 行“定南县城安置点”", ln) for ln in lines)
    assert any("身份证号: " in ln and "设为文本格式" in ln and "3.6e+17" in ln for ln in lines), lines
    with (tmp_path / "d.errors.csv").open(encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["文件", "行", "列", "原因"] and len(rows) >= 7
    r = CliRunner().invoke(main, ["screen", str(files["xlsx"]), "--as-of", AS_OF, "--lang", "en"])
    assert any(re.search(r"安置点名称: \d+ row\(s\) name a site not in sites\.yaml.*e\.g\. row \d+ '定南县城安置点'", ln)
               for ln in r.stderr.splitlines())


def test_a_suggested_mapping_once_reviewed_reads_a_county_s_own_headers_values_and_sites(files, tmp_path):
    import openpyxl

    # The county calls 劳动技能 劳动力状况 and writes one label its own way.
    book = openpyxl.load_workbook(files["xlsx"])
    sheet = book["家庭成员"]
    at = next(c for c in sheet[3] if c.value == "劳动技能")
    at.value = "劳动力状况"
    for row in sheet.iter_rows(min_row=4):
        if row[at.column - 1].value == "丧失劳动力":
            row[at.column - 1].value = "丧失劳动能力"
    own = tmp_path / "own.xlsx"
    book.save(own)
    summary, _ = screen(own)
    assert any("劳动力状况" in w and "labor_capacity" in w for w in summary["warnings"])
    draft = tmp_path / "mapping.yaml"
    r = CliRunner().invoke(main, ["screen", str(own), "--suggest-columns", str(draft), "--as-of", AS_OF])
    assert r.exit_code == 0, r.output
    text = draft.read_text(encoding="utf-8")
    mapping = yaml.safe_load(text)
    assert mapping["headers"]["劳动力状况"] == "labor_capacity" and mapping["headers"]["帮扶责任人"] is None
    assert mapping["values"]["site"] == {NEAR: SITE}
    assert "suggested" in text  # a guess says it is one
    # Before review the suggestions are not readings: the near miss is still rejected.
    summary, _ = screen(own)
    assert any(g["kind"] == "unknown_site" for g in summary["error_groups"])
    # Reviewed: the unknown header ignored on purpose, the rest as suggested.
    mapping["headers"]["帮扶责任人"] = "ignore"
    mapping["values"].setdefault("labor_capacity", {})["丧失劳动能力"] = "none"
    draft.write_text(yaml.safe_dump(mapping, allow_unicode=True), encoding="utf-8")
    summary, _ = screen(own, "--columns", draft)
    assert not any(g["kind"] == "unknown_site" for g in summary["error_groups"])
    assert not [c for c in summary["columns"] if c["fate"] == "not_read"] and not any("劳动力状况" in w
                                                                                    for w in summary["warnings"])
    assert {c["header"]: c["fate"] for c in summary["columns"]}["劳动力状况"] == "read"


@pytest.mark.parametrize("content,says", [
    ("headers: {劳动力状况: labour}\n", "headers.劳动力状况: 'labour' is not a field; did you mean 'labor_capacity'?"),
    ("values: {labor_capacity: {弱: weak}}\n", "values.labor_capacity.弱: 'weak' is not one of full (完全)"),
    ("values: {site: {某安置点: 不存在的安置点}}\n", "values.site.某安置点: '不存在的安置点' is not a site in sites.yaml"),
    ("columns: {}\n", "columns: a mapping file holds `headers` and `values`"),
    ("values: {employed: {有的: true}}\n", "values.employed: a yes/no column takes 是/否"),
])
def test_a_mapping_file_houfu_cannot_use_is_one_line_naming_the_key(files, tmp_path, content, says):
    path = tmp_path / "m.yaml"
    path.write_text(content, encoding="utf-8")
    r = CliRunner().invoke(main, ["screen", str(files["xlsx"]), "--columns", str(path), "--as-of", AS_OF])
    assert r.exit_code == 2 and says in r.output and len(r.output.strip().splitlines()) == 1, r.output


def test_the_county_comes_from_a_county_column_a_site_or_jurisdiction_and_a_clash_is_rejected(tmp_path):
    path = tmp_path / "h.csv"
    path.write_text("户编号,县,安置点名称\nH1,定南县,\nH2,,县城安置点\nH3,,\nH4,郧阳区,定南县县城集中安置点\n"
                    "H5,,某某安置点\n", encoding="utf-8")
    summary, _ = screen(path)
    assert summary["screened"] == 2 and summary["rejected"] == 3
    assert {g["kind"] for g in summary["error_groups"]} == {"no_jurisdiction", "jurisdiction_conflict",
                                                            "unknown_site"}
    assert any("某某安置点" in w for w in summary["warnings"])  # each unresolved site named once
    # --jurisdiction settles the rows that say nothing, and only them: a clash stays a clash.
    summary, _ = screen(path, "--jurisdiction", "定南县")
    assert summary["screened"] == 4 and summary["rejected"] == 1
    assert [g["kind"] for g in summary["error_groups"]] == ["jurisdiction_conflict"]
    r = CliRunner().invoke(main, ["screen", str(path), "--jurisdiction", "江西省南部", "--as-of", AS_OF])
    assert r.exit_code == 2 and r.output.startswith("Error: --jurisdiction: -: unknown jurisdiction")


def test_id_numbers_are_checked_by_their_check_digit_and_give_birth_date_and_sex():
    import pyarrow as pa

    from benchmarks.ledger import id_number

    good = id_number(__import__("datetime").date(1966, 5, 8), 7, male=False)
    wrong = good[:-1] + ("0" if good[-1] != "0" else "1")
    x = "11010519491231002X"  # GB 11643's own example, its check character X
    bad, birth, male = id_numbers(pa.array([good, wrong, x.lower(), "3.60728196605081e+17", "36072819660508",
                                            "360728660508123", None]))
    assert birth[0] == 19660508 and male[0] == 0.0
    assert birth[2] == 19491231 and male[2] == 0.0  # 17th digit 2: a woman; the lower-case x is read
    assert {k: v[0] for k, v in bad.items()} == {1: "id_number_check", 3: "id_float", 4: "id_number_form"}
    assert bad[1][1]["value"] == good[:6] + "********" + wrong[-4:]  # shown masked
    assert 5 not in bad and birth[5] != birth[5]  # the old 15-digit form: accepted, gives nothing
    valid = "36072819661308001"
    from benchmarks.ledger import check_digit

    bad, _, _ = id_numbers(pa.array([valid + check_digit(valid)]))
    assert bad[0][0] == "id_number_birth"  # month 13: not a day, though the check digit is right


def test_a_title_blank_and_totals_rows_in_a_csv_keep_the_file_s_line_numbers(tmp_path):
    path = tmp_path / "h.csv"
    path.write_text("某县搬迁户台账,,\n填报单位:某乡,,填报日期:2025年6月\n户编号,所在县,年龄\n\nH1,定南县,\n,,\nH2,定南县,\n"
                    "合计,2户,\n", encoding="utf-8")
    members = tmp_path / "m.csv"
    members.write_text("户编号,姓名,年龄\nH1,甲,三十\nH2,乙,40\n", encoding="utf-8")
    summary, _ = screen(path, "--members", members)
    assert summary["rows_in"] == 2 and summary["rejected"] == 1
    assert summary["error_groups"][0]["text"] == "年龄: 1 行不是数字,例如第 2 行“三十”"
    notes = "\n".join(summary["notes"])
    assert "第 1, 2 行是标题" in notes and "跳过 2 个空行(第 4, 6 行)" in notes and "跳过 1 个合计行(第 8 行:合计)" in notes


# --- the API: the same reading as the CLI ------------------------------------------------------------------------

def _basic(name: str, password: str) -> dict[str, str]:
    return {"authorization": "Basic " + base64.b64encode(f"{name}:{password}".encode()).decode()}


SUPERVISOR = _basic("li", "supervisor-pw")


@pytest.fixture
def client(tmp_path):
    store = RecordStore(default_url(tmp_path / "data"))
    Users(store).add("li", "supervisor-pw", "supervisor")
    app = create_app(houfu.load(), houfu.evaluator(), store, dev=False, secret="ledger")
    with TestClient(app, base_url="https://testserver") as c:
        yield c
    store.close()


def _parity(api: dict[str, Any], cli: dict[str, Any]) -> None:
    for key in ("rows_in", "screened", "rejected", "people"):
        assert api[key] == cli[key], key
    assert [(g["kind"], g["rows"], g["example_row"]) for g in api["error_groups"]] == \
        [(g["kind"], g["rows"], g["example_row"]) for g in cli["error_groups"]]
    assert len(api["warnings"]) == len(cli["warnings"]) and len(api["notes"]) == len(cli["notes"])
    assert [(c["header"], c["fate"], c.get("field")) for c in api["columns"]] == \
        [(c["header"], c["fate"], c.get("field")) for c in cli["columns"]]
    assert [(t["table"], t.get("sheet"), t.get("header_rows")) for t in api["tables"]] == \
        [(t["table"], t.get("sheet"), t.get("header_rows")) for t in cli["tables"]]
    assert api["errors_total"] == sum(g["rows"] for g in api["error_groups"])


def test_the_api_reads_the_workbook_and_its_gbk_twin_as_the_cli_does(files, client):
    cli, _ = screen(files["xlsx"])
    r = client.post(f"/v1/screen?as_of={AS_OF}", headers=SUPERVISOR,
                    files={"caseload": ("台账.xlsx", files["xlsx"].read_bytes())})
    assert r.status_code == 200, r.text
    _parity(r.json(), cli)
    assert "/" not in json.dumps([e["file"] for e in r.json()["errors"]], ensure_ascii=False)  # no server path
    assert all(re.search(r"[\u4e00-\u9fff]", e["reason"]) for e in r.json()["errors"])  # zh by default
    cli, _ = screen(files["households"], "--members", files["members"], "--lang", "en")
    for encoding in ("", "&encoding=gbk"):
        r = client.post(f"/v1/screen?as_of={AS_OF}&lang=en{encoding}", headers=SUPERVISOR,
                        files={"caseload": ("h.csv", files["households"].read_bytes()),
                               "members": ("m.csv", files["members"].read_bytes())})
        assert r.status_code == 200, r.text
        _parity(r.json(), cli)
        # The same words, the uploads named by their role (caseload, members), never by a server path.
        assert r.json()["warnings"] == [w.replace(str(files["folder"] / "csv") + "/", "").replace(
            "households.csv", "caseload.csv") for w in cli["warnings"]]
    r = client.post(f"/v1/screen?as_of={AS_OF}&encoding=utf-8", headers=SUPERVISOR,
                    files={"caseload": ("h.csv", files["households"].read_bytes())})
    assert r.status_code == 422 and "not valid utf-8" in r.json()["error"]


def test_the_api_takes_a_column_mapping_and_jurisdiction(files, client, tmp_path):
    mapping = f"values:\n  site: {{{NEAR}: {SITE}}}\nheaders: {{帮扶责任人: ignore}}\n"
    path = tmp_path / "m.yaml"
    path.write_text(mapping, encoding="utf-8")
    cli, _ = screen(files["xlsx"], "--columns", path)
    r = client.post(f"/v1/screen?as_of={AS_OF}", headers=SUPERVISOR,
                    files={"caseload": ("l.xlsx", files["xlsx"].read_bytes()),
                           "columns": ("m.yaml", mapping.encode("gbk"))})
    assert r.status_code == 200, r.text
    _parity(r.json(), cli)
    assert not any(g["kind"] == "unknown_site" for g in r.json()["error_groups"])
    r = client.post(f"/v1/screen?as_of={AS_OF}", headers=SUPERVISOR,
                    files={"caseload": ("l.xlsx", files["xlsx"].read_bytes()),
                           "columns": ("m.yaml", b"headers: {x: no_such_field}\n")})
    assert r.status_code == 422 and r.json()["field"] == "columns.headers.x"
    r = client.post(f"/v1/screen?as_of={AS_OF}&jurisdiction=dingnan", headers=SUPERVISOR,
                    files={"caseload": ("h.csv", "户编号,年龄\nH1,3\n".encode())})
    assert r.status_code == 200 and r.json()["screened"] == 1
    r = client.post(f"/v1/screen?as_of={AS_OF}&jurisdiction=nowhere", headers=SUPERVISOR,
                    files={"caseload": ("h.csv", "户编号,年龄\nH1,3\n".encode())})
    assert r.status_code == 422 and r.json()["field"] == "jurisdiction" and "unknown jurisdiction" in r.json()["error"]


# --- limits that hold before the work -------------------------------------------------------------------------------

def _parquet(path: Path, table: Any, **options: Any) -> Path:
    pq.write_table(table, path, **options)
    return path


def test_a_name_repeated_long_for_every_row_is_refused_before_it_is_decoded(tmp_path):
    """Ids and names are read as plain strings (a dictionary of unique strings costs more): their text is
    counted in a pass of their own, as dictionaries, in the whole read and in the read by parts alike."""
    import pyarrow as pa

    from houfu.io.limits import LimitError

    n = 200_000
    zeros = pa.array([0] * n, pa.int32())
    households = _parquet(tmp_path / "h.parquet", pa.table({"户编号": [f"H{i}" for i in range(n)],
                                                            "所在县": pa.DictionaryArray.from_arrays(zeros, ["定南县"])}))
    members = _parquet(tmp_path / "m.parquet", pa.table({
        "户编号": [f"H{i}" for i in range(n)], "年龄": [30] * n,
        "姓名": pa.DictionaryArray.from_arrays(zeros, ["彭" * 30_000])}), compression="zstd")
    assert members.stat().st_size < 400_000  # a few hundred kilobytes that would decode to 18 GB
    with pytest.raises(LimitError, match="姓名: a value of 90,000 bytes"):
        load_caseload(houfu.load(), households, members)
    r = CliRunner().invoke(main, ["screen", str(households), "--members", str(members), "--as-of", AS_OF, "-q"])
    assert r.exit_code == 2 and "姓名: a value of 90,000 bytes" in r.output and len(r.output.splitlines()) == 1


def test_text_is_counted_exactly_when_the_longest_value_times_the_rows_is_over_the_limit(tmp_path):
    import pyarrow as pa

    from houfu.io.limits import LimitError, TableLimits

    n = 100_000
    limits = TableLimits(parquet_text_bytes=8_000_000)
    # One 3,000-byte label among short ones: the bound (3,000 x 100,000) is over, the text itself is not.
    few = pa.DictionaryArray.from_arrays(pa.array([1] + [0] * (n - 1), pa.int32()), ["县城", "定" * 1000])
    ok = _parquet(tmp_path / "ok.parquet", pa.table({"户编号": [f"H{i}" for i in range(n)], "安置点": few}))
    assert load_caseload(houfu.load(), ok, limits=limits).rows_in == n
    many = pa.DictionaryArray.from_arrays(pa.array([1] * n, pa.int32()), ["县城", "定" * 1000])
    bad = _parquet(tmp_path / "bad.parquet", pa.table({"户编号": [f"H{i}" for i in range(n)], "安置点": many}))
    with pytest.raises(LimitError, match="安置点: more than 8,000,000 bytes of text once decoded"):
        load_caseload(houfu.load(), bad, limits=limits)


def test_row_groups_and_the_time_budget_are_limits_too(files, tmp_path):
    import pyarrow as pa

    from houfu.io.limits import LimitError, TableLimits

    path = _parquet(tmp_path / "g.parquet", pa.table({"户编号": [f"H{i}" for i in range(50)]}), row_group_size=10)
    with pytest.raises(LimitError, match="5 row groups; at most 3"):
        load_caseload(houfu.load(), path, limits=TableLimits(parquet_row_groups=3))
    for given in (files["xlsx"], files["households"]):
        with pytest.raises(LimitError, match="more than 0 s \\(the time budget\\)"):
            load_caseload(houfu.load(), given, limits=TableLimits(seconds=0))


def test_a_county_s_own_yes_and_no_words_are_suggested_then_read_from_its_mapping(tmp_path):
    households = tmp_path / "h.csv"
    households.write_text("户编号,所在县,享受低保\nH1,定南县,有的\nH2,定南县,没\nH3,定南县,是\n", encoding="utf-8")
    summary, _ = screen(households)
    assert summary["rejected"] == 2 and {g["kind"] for g in summary["error_groups"]} == {"not_yes_no"}
    draft = tmp_path / "m.yaml"
    r = CliRunner().invoke(main, ["screen", str(households), "--suggest-columns", str(draft)])
    assert r.exit_code == 0 and "1 column(s)" not in r.output
    text = draft.read_text(encoding="utf-8")
    assert "有的 (1 row(s))" in text and "没 (1 row(s))" in text and "yes_words: []" in text
    mapping = yaml.safe_load(text)
    mapping["values"].update({"yes_words": ["有的"], "no_words": ["没"]})
    draft.write_text(yaml.safe_dump(mapping, allow_unicode=True), encoding="utf-8")
    summary, _ = screen(households, "--columns", draft, code=0)
    assert summary["screened"] == 3 and summary["error_groups"] == []
