"""`houfu screen`: a caseload from files a county has, to determinations that equal `houfu check`'s, with
every bad row accounted for, a report, and the same result on Dask."""

from __future__ import annotations

import csv
import json
import os
import threading
from pathlib import Path

import numpy as np
import openpyxl
import pyarrow as pa
import pyarrow.csv
import pyarrow.parquet as pq
import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from houfu.cli.commands import main
from houfu.engine.evaluator import EngineKind, evaluator_for, flatten
from houfu.kb.facts import Household
from houfu.kb.loader import load_default
from houfu.screen.determinations import read_long

ROOT = Path(__file__).resolve().parent.parent
EX = ROOT / "examples"
AS_OF = "2026-01-01"
EXAMPLES = ["dingnan-household", "dingnan-elderly-couple", "dingnan-school-family", "dingnan-incubator-business",
            "dingnan-town-household", "shiyan-household", "walk-in"]


def run(*args: object, code: int = 0) -> str:
    r = CliRunner().invoke(main, [str(a) for a in args])
    assert r.exit_code == code, r.output
    return r.output


def _records() -> list[Household]:
    """The bundled households; a businesses table cannot say "unknown", so an unknown list becomes none."""
    out = []
    for n in EXAMPLES:
        r = load_default().models.household.model_validate(yaml.safe_load((EX / f"{n}.yaml").read_text(encoding="utf-8")))
        out.append(r.model_copy(update={"entities": r.entities or []}))
    return out


def _tables(records: list[Household]) -> tuple[list[dict], list[dict], list[dict]]:
    """The records as a county's long-form export: households, members and businesses, by field name."""
    hh, members, businesses = [], [], []
    for r in records:
        f = flatten(r)
        hh.append({k: v for k, v in f.items() if k not in ("members", "entities")})
        for m in f.get("members") or []:
            members.append({"household": r.id, **m})
        for e in f.get("entities") or []:
            businesses.append({"household": r.id, **{k: v for k, v in e.items() if k != "owners"}})
    return hh, members, businesses


def _write_csv(path: Path, rows: list[dict], encoding: str = "utf-8") -> None:
    names = list(dict.fromkeys(k for r in rows for k in r))
    with path.open("w", encoding=encoding, newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=names)
        w.writeheader()
        w.writerows({k: ("" if v is None else ("是" if v is True else "否" if v is False else v))
                     for k, v in r.items()} for r in rows)


def _by_household(path: Path) -> dict[tuple[str, str], tuple[str, frozenset[str], float | None]]:
    """(household, measure) -> status, missing paths (the wide form names facts, not a member's place), amount:
    the determinations file of either form."""
    return {(r["household"], r["measure"]): (r["status"], frozenset(_split(r["missing"])), r["amount"])
            for r in read_long(path).to_pylist()}


def _facts(paths: object) -> frozenset[str]:
    """Missing paths as the wide form names them: members[0].age -> age."""
    return frozenset(p.rpartition("].")[2] for p in _split(paths))


def _split(missing: object) -> list[str]:
    if isinstance(missing, list):
        return missing
    return [x for x in str(missing or "").split(";") if x]


def test_screening_a_long_form_csv_equals_checking_each_household_in_the_long_and_the_wide_output(tmp_path):
    records = _records()
    hh, members, businesses = _tables(records)
    for name, rows in (("households.csv", hh), ("members.csv", members), ("businesses.csv", businesses)):
        _write_csv(tmp_path / name, rows)
    out, wide = tmp_path / "d.parquet", tmp_path / "w.parquet"
    args = [tmp_path / "households.csv", "--members", tmp_path / "members.csv", "--businesses",
            tmp_path / "businesses.csv", "--as-of", AS_OF, "-q"]
    run("screen", *args, "-o", out, "--long")
    run("screen", *args, "-o", wide)
    got = _by_household(out)
    # Each missing path once in the long form, as the reference lists it (not a multiset of the rule's leaves).
    paths = {(r["household"], r["measure"]): sorted(_split(r["missing"])) for r in read_long(out).to_pylist()}
    # The wide form: one row per household, read back into the same statuses, amounts and missing facts.
    assert pq.read_metadata(wide).num_rows == len(records)
    back = _by_household(wide)
    assert set(back) == set(got)
    ev = evaluator_for(__import__("houfu").load())
    import datetime as dt

    for r in records:
        report = ev.determine(r, dt.date.fromisoformat(AS_OF), EngineKind.rete)
        for d in report.determinations:
            status, missing, amount = got[(r.id, d.measure_id)]
            assert status == d.status.value, (r.id, d.measure_id)
            assert missing == frozenset(d.missing), (r.id, d.measure_id)
            assert paths[(r.id, d.measure_id)] == sorted(d.missing), (r.id, d.measure_id)
            assert back[(r.id, d.measure_id)] == (status, _facts(d.missing), amount), (r.id, d.measure_id)
            values = [a.value for a in d.amounts]
            want = None if not values or any(v is None for v in values) else round(sum(values), 2)
            assert (None if amount is None else round(amount, 2)) == want, (r.id, d.measure_id)


def test_parquet_xlsx_jsonl_and_gbk_csv_give_the_same_determinations(tmp_path):
    records = _records()
    hh, members, businesses = _tables(records)
    outs = {}
    # CSV in GBK with Chinese headers.
    import houfu

    kb = houfu.load()
    zh = {f: spellings[0] for f, spellings in kb.columns.household.items()}
    zh_m = {f: spellings[0] for f, spellings in kb.columns.member.items()}
    zh_e = {f: spellings[0] for f, spellings in kb.columns.entity.items()}
    _write_csv(tmp_path / "h.csv", [{zh.get(k, k): v for k, v in r.items()} for r in hh], "gbk")
    _write_csv(tmp_path / "m.csv", [{zh_m.get(k, k): v for k, v in r.items()} for r in members], "gbk")
    _write_csv(tmp_path / "b.csv", [{zh_e.get(k, k): v for k, v in r.items()} for r in businesses], "gbk")
    assert "户编号".encode("gbk") in (tmp_path / "h.csv").read_bytes()
    run("screen", tmp_path / "h.csv", "--members", tmp_path / "m.csv", "--businesses", tmp_path / "b.csv",
        "-o", tmp_path / "csv.parquet", "--as-of", AS_OF, "-q")
    outs["gbk csv"] = _by_household(tmp_path / "csv.parquet")
    # Parquet, typed.
    for name, rows in (("h", hh), ("m", members), ("b", businesses)):
        pq.write_table(pa.Table.from_pylist(rows), tmp_path / f"{name}.parquet")
    run("screen", tmp_path / "h.parquet", "--members", tmp_path / "m.parquet", "--businesses",
        tmp_path / "b.parquet", "-o", tmp_path / "pq.parquet", "--as-of", AS_OF, "-q")
    outs["parquet"] = _by_household(tmp_path / "pq.parquet")
    # JSON Lines of the records themselves.
    with (tmp_path / "c.jsonl").open("w", encoding="utf-8") as fh:
        for r in records:
            fh.write(r.model_dump_json(exclude_none=True) + "\n")
    run("screen", tmp_path / "c.jsonl", "-o", tmp_path / "jl.parquet", "--as-of", AS_OF, "-q")
    outs["jsonl"] = _by_household(tmp_path / "jl.parquet")
    reference = outs.pop("jsonl")
    for name, got in outs.items():
        assert got == reference, name


def test_excel_unicode_text_and_utf16_json_lines_give_the_same_determinations(tmp_path):
    """Excel's "Unicode Text" export (a .txt) is UTF-16 with a byte-order mark, tab-separated: it was refused (as
    binary content, and by its name). It is read now, as is JSON Lines in UTF-16, and both decide as the UTF-8 files
    do."""
    import houfu

    records = _records()
    hh, members, businesses = _tables(records)
    kb = houfu.load()
    headers = {level: {f: spellings[0] for f, spellings in getattr(kb.columns, level).items()}
               for level in ("household", "member", "entity")}
    for name, rows, level in (("h", hh, "household"), ("m", members, "member"), ("b", businesses, "entity")):
        zh = [{headers[level].get(k, k): v for k, v in r.items()} for r in rows]
        _write_csv(tmp_path / f"{name}.csv", zh)
        _write_csv(tmp_path / f"{name}.txt", zh)  # then as Excel saves Unicode Text: UTF-16, tabs
        text = (tmp_path / f"{name}.txt").read_text(encoding="utf-8")
        rows_read = list(csv.reader(text.splitlines()))
        (tmp_path / f"{name}-u16.txt").write_bytes("\r\n".join("\t".join(r) for r in rows_read).encode("utf-16"))
    assert (tmp_path / "h-u16.txt").read_bytes()[:2] in (b"\xff\xfe", b"\xfe\xff")
    outs = {}
    for tag, suffix in (("utf-8 csv", ".csv"), ("unicode text", "-u16.txt")):
        run("screen", tmp_path / f"h{suffix}", "--members", tmp_path / f"m{suffix}", "--businesses",
            tmp_path / f"b{suffix}", "-o", tmp_path / f"{tag}.parquet", "--as-of", AS_OF, "-q")
        outs[tag] = _by_household(tmp_path / f"{tag}.parquet")
    (tmp_path / "c.jsonl").write_bytes("\n".join(r.model_dump_json(exclude_none=True) for r in records)
                                       .encode("utf-16"))
    run("screen", tmp_path / "c.jsonl", "-o", tmp_path / "jl.parquet", "--as-of", AS_OF, "-q")
    outs["utf-16 json lines"] = _by_household(tmp_path / "jl.parquet")
    reference = outs.pop("utf-8 csv")
    assert len(reference) > 0
    for name, got in outs.items():
        assert got == reference, name


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_a_unicode_text_file_over_a_megabyte_is_read_whole(tmp_path, codec):
    """Its first megabyte, read to find the encoding and the header, was cut inside a UTF-16 character ("not valid
    utf-16 after its byte-order mark"); it is cut at a line end now, whichever order the bytes are in."""
    rows = [["户编号", "所在县", "安置点"]] + [[f"DN-{i}", "定南县", "县城集中安置点"] for i in range(40_000)]
    bom = b"\xff\xfe" if codec == "utf-16-le" else b"\xfe\xff"
    data = bom + "".join("\t".join(r) + "\r\n" for r in rows).encode(codec)
    assert len(data) > 1 << 20
    (tmp_path / "big.txt").write_bytes(data)
    r = CliRunner().invoke(main, ["screen", str(tmp_path / "big.txt"), "--as-of", AS_OF, "--json"])
    assert r.exit_code == 0, r.output
    summary = json.loads(r.stdout)
    assert summary["rows_in"] == 40_000 and summary["screened"] == 40_000


def test_the_bundled_xlsx_caseload_reports_each_bad_row_and_accounts_for_every_row(tmp_path):
    out = tmp_path / "d.parquet"
    r = CliRunner().invoke(main, ["screen", str(EX / "caseload.xlsx"), "-o", str(out), "--report",
                                  str(tmp_path / "r.html"), "--as-of", AS_OF, "--json"])
    assert r.exit_code == 2, r.output
    summary = json.loads(r.stdout)
    assert summary["rows_in"] == summary["screened"] + summary["rejected"] and summary["rejected"] == 4
    # The errors file is in the user's language, Chinese unless --lang en says otherwise.
    with (tmp_path / "d.errors.csv").open(encoding="utf-8-sig") as fh:
        errors = list(csv.DictReader(fh))
    assert {(e["行"], e["列"]) for e in errors} >= {("5", "年龄"), ("12", "劳动能力")}
    assert all(e["文件"].endswith("caseload.xlsx") and e["原因"] for e in errors)
    assert "“七十”不是数字" in {e["原因"] for e in errors if e["列"] == "年龄"}
    households = {h for h in pq.read_table(out).column("household").to_pylist()}
    assert len(households) == summary["screened"]


def test_the_bundled_gbk_caseload_is_read_with_its_chinese_headers(tmp_path):
    raw = (EX / "caseload-gbk" / "households.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    r = CliRunner().invoke(main, ["screen", str(EX / "caseload-gbk" / "households.csv"), "--members",
                                  str(EX / "caseload-gbk" / "members.csv"), "--as-of", AS_OF, "--json"])
    assert r.exit_code == 2
    summary = json.loads(r.stdout)
    assert summary["screened"] == 197 and summary["rejected"] == 3
    assert "Warning" not in r.stderr  # every header was recognised


def test_the_report_has_its_sections_and_charts_in_html_markdown_and_xlsx(tmp_path):
    for suffix in (".html", ".md", ".xlsx"):
        run("screen", EX / "caseload.xlsx", "--report", tmp_path / f"r{suffix}", "--as-of", AS_OF, "-q", code=2)
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    for heading in ("按安置点和户类型", "各项措施的判定", "零就业家庭:确认", "培训缺口", "创业孵化补贴", "最需要补充的信息",
                    "各部门需要办理的户数", "数据需求", "退回的行"):
        assert heading in html, heading
    assert html.count("<img src=\"data:image/svg+xml;base64,") == 4
    assert sorted(p.name for p in tmp_path.glob("r-*.svg")) == ["r-measures.svg", "r-missing.svg", "r-sites.svg",
                                                                  "r-workload.svg"]
    # The charts are text: the measures' clauses and the statuses' legend in the report's language.
    measures = (tmp_path / "r-measures.svg").read_text(encoding="utf-8")
    assert measures.startswith("<svg") and "适用" in measures and "<rect" in measures
    book = openpyxl.load_workbook(tmp_path / "r.xlsx", read_only=True)
    book.close()
    assert {"概况", "措施", "零就业家庭", "培训缺口", "孵化补贴", "缺失信息", "部门工作量", "数据需求"} <= set(
        book.sheetnames)


def test_the_report_in_english_has_english_headings_legends_and_sheet_names(tmp_path):
    for suffix in (".html", ".xlsx"):
        run("screen", EX / "caseload.xlsx", "--report", tmp_path / f"r{suffix}", "--as-of", AS_OF, "-q", "--lang",
            "en", code=2)
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    for heading in ("By site and by category", "Each measure by status", "Zero-employment households:",
                    "Households each department has to act on", "Data requests", "does not apply", "to deliver"):
        assert heading in html, heading
    for zh in ("各项措施的判定", "待核实", "各部门", "适用", "户编号"):  # the reading quotes the texts, in Chinese
        assert zh not in html, zh
    book = openpyxl.load_workbook(tmp_path / "r.xlsx", read_only=True)
    book.close()
    assert {"summary", "measures", "Zero-employment households", "workload", "data requests"} <= set(
        book.sheetnames), book.sheetnames


def test_determinations_are_written_as_csv_xlsx_and_jsonl_too_long_and_wide(tmp_path):
    given = [EX / "caseload-gbk" / "households.csv", "--members", EX / "caseload-gbk" / "members.csv"]
    for suffix in (".csv", ".xlsx", ".jsonl", ".parquet"):
        run("screen", *given, "-o", tmp_path / f"d{suffix}", "--long", "--as-of", AS_OF, "-q", code=2)
        run("screen", *given, "-o", tmp_path / f"w{suffix}", "--as-of", AS_OF, "-q", code=2)
    rows = (tmp_path / "d.csv").read_text(encoding="utf-8").splitlines()
    assert rows[0].replace('"', "") == "household,measure,status,amount,owners,missing,failed,kb_version"
    lines = (tmp_path / "d.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(rows) - 1 and json.loads(lines[0])["household"]
    book = openpyxl.load_workbook(tmp_path / "d.xlsx")
    assert book["determinations"].max_row == len(rows)
    # Wide: one row per household, a status column per measure, the measures table beside it (a second sheet).
    wide = (tmp_path / "w.csv").read_text(encoding="utf-8").splitlines()
    head = wide[0].replace('"', "").split(",")
    assert head[:2] == ["household", "kb_version"] and "status:dn.3.3.dibao" in head and "missing:dn.3.3.dibao" in head
    households = {r.split(",")[0] for r in rows[1:]}
    assert len(wide) - 1 == len(households)
    assert (tmp_path / "w.measures.csv").exists() and (tmp_path / "w.measures.parquet").exists()
    assert "measures" in openpyxl.load_workbook(tmp_path / "w.xlsx", read_only=True).sheetnames
    # Every form reads back into the long form's statuses, amounts and owners.
    want = sorted((r["household"], r["measure"], r["status"], r["owners"])
                  for r in read_long(tmp_path / "d.parquet").to_pylist())
    for suffix in (".csv", ".jsonl", ".parquet", ".xlsx"):
        back = read_long(tmp_path / f"w{suffix}").to_pylist()
        assert sorted((r["household"], r["measure"], r["status"], r["owners"]) for r in back) == want, suffix


@pytest.mark.parametrize("args,message", [
    (["screen", "nope.csv"], "no such file"),
    (["screen", str(EX / "dingnan-household.yaml")], "unknown format"),
    (["screen", str(EX / "caseload.xlsx"), "-o", "out.txt"], ".parquet, .csv, .xlsx or .jsonl"),
    (["screen", str(EX / "caseload.xlsx"), "--report", "r.pdf"], ".html, .md or .xlsx"),
])
def test_bad_screen_arguments_are_one_line_and_exit_2(args, message):
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 2 and message in r.output and "Traceback" not in r.output
    assert len(r.output.strip().splitlines()) == 1


@pytest.mark.parametrize("ids,joined", [([None, "h1"], 1), (["zz", "h1"], 1), ([None, None], 0)],
                         ids=["no id first", "an unknown id first", "no id at all"])
def test_a_streamed_caseload_accounts_for_member_rows_before_the_first_household(tmp_path, ids, joined):
    """Parquet members are read part by part, cut at each part's households; the rows before the first household's
    were read by no part and vanished (or, with no id at all, the run failed with an internal error)."""
    pq.write_table(pa.table({"户编号": ["h1", "h2"], "所在县": ["定南县", "定南县"]}), tmp_path / "h.parquet")
    pq.write_table(pa.table({"户编号": pa.array(ids, pa.string()), "年龄": [30, 40]}), tmp_path / "m.parquet")
    out = run("screen", tmp_path / "h.parquet", "--members", tmp_path / "m.parquet", "--as-of", AS_OF,
              "-o", tmp_path / "d.parquet", code=2)
    assert f"members: 2 row(s) in, {joined} joined to a household, {2 - joined} not" in out, out
    assert "internal error" not in out


def test_a_streamed_caseload_whose_households_all_lack_an_id_is_reported_not_an_internal_error(tmp_path):
    """The duplicates' pass numbered no id at all and then indexed that empty numbering: an internal error."""
    pq.write_table(pa.table({"户编号": pa.array([None, None], pa.string()), "所在县": ["定南县", "定南县"]}),
                   tmp_path / "h.parquet")
    pq.write_table(pa.table({"户编号": pa.array(["h1", None], pa.string()), "年龄": [30, 40]}), tmp_path / "m.parquet")
    out = run("screen", tmp_path / "h.parquet", "--members", tmp_path / "m.parquet", "--as-of", AS_OF,
              "-o", tmp_path / "d.parquet", code=2)
    assert "2 row(s) in: 0 screened + 2 rejected" in out and "internal error" not in out, out
    assert "members: 2 row(s) in, 0 joined to a household, 2 not" in out, out


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_a_member_without_a_household_id_joins_no_household_even_one_without_an_id(tmp_path, suffix):
    """A blank id is no household's: the member row with none was joined to the household row with none (and so
    neither counted nor reported) wherever a households file had a blank id too."""
    households = {"户编号": ["h1", None], "所在县": ["定南县", "定南县"]}
    members = {"户编号": ["h1", None], "年龄": [30, 40]}
    for name, cols in (("h", households), ("m", members)):
        if suffix == ".csv":
            pa.csv.write_csv(pa.table(cols), tmp_path / f"{name}.csv")
        else:
            pq.write_table(pa.table(cols), tmp_path / f"{name}.parquet")
    out = run("screen", tmp_path / f"h{suffix}", "--members", tmp_path / f"m{suffix}", "--as-of", AS_OF,
              "-o", tmp_path / "d.parquet", "--lang", "en", code=2)
    assert "2 row(s) in: 1 screened + 1 rejected (1 people)" in out, out
    assert "members: 2 row(s) in, 1 joined to a household, 1 not" in out, out


@pytest.mark.parametrize("blank", ["", "  "])
@pytest.mark.parametrize("which", ["members", "businesses"])
def test_a_streamed_file_whose_household_ids_are_all_blank_is_reported_not_an_internal_error(tmp_path, which,
                                                                                              blank):
    """A blank id is read as none; with a few such rows against many households the rows were looked for the
    other way round, in an empty numbering: an internal error."""
    ids = [f"h{i}" for i in range(12)]
    pq.write_table(pa.table({"户编号": ids, "所在县": ["定南县"] * 12}), tmp_path / "h.parquet")
    other = {"户编号": [blank], "年龄": [30]} if which == "members" else {"户编号": [blank], "实体名称": ["甲"]}
    pq.write_table(pa.table(other), tmp_path / "o.parquet")
    out = run("screen", tmp_path / "h.parquet", f"--{which}", tmp_path / "o.parquet", "--as-of", AS_OF,
              "-o", tmp_path / "d.parquet", code=2)
    assert "12 row(s) in: 12 screened" in out and f"{which}: 1 row(s) in, 0 joined" in out, out
    assert "internal error" not in out


def test_a_member_of_a_repeated_household_id_joins_its_first_row_when_read_in_parts(tmp_path, monkeypatch):
    """A members file's rows are placed at their household's first row, as a lookup in the ids finds it: the
    third member (of the household ``a``, repeated on the third row) belongs to the first ``a``, not to the
    repeat the run rejects."""
    import datetime as dt

    import houfu
    import houfu.screen.run as run_module
    import houfu.screen.screener as screen_module

    pq.write_table(pa.table({"户编号": ["a", "b", "a"], "所在县": ["定南县"] * 3}), tmp_path / "h.parquet",
                   row_group_size=2)
    pq.write_table(pa.table({"户编号": ["a", "b", "a"], "年龄": [30, 40, 50]}), tmp_path / "m.parquet",
                   row_group_size=2)
    monkeypatch.setattr(screen_module, "CHUNK", 2)
    got = run_module.screen_files(houfu.load(), houfu.evaluator(), tmp_path / "h.parquet", tmp_path / "m.parquet",
                                  None, None, "household", dt.date(2026, 1, 1), tmp_path / "d.parquet", None, None)
    assert (got.totals.screened, got.totals.rejected, got.totals.people) == (2, 1, 3)


def test_the_households_ids_read_group_by_group_are_the_column_as_one_read_gives_it(tmp_path):
    """The pre-pass reads the ids row group by row group, each decoded once counted; the result is the column as
    the whole-file reader gives it: trimmed, a blank cell as none, a repeat kept, in file order."""
    import houfu
    from houfu.io.mapping import spec_for
    from houfu.io.tables import _arr
    from houfu.screen.screener import _household_column

    ids = [" a", "b ", "", None, "a", "c", "  ", "d", "b"] * 3
    path = tmp_path / "h.parquet"
    pq.write_table(pa.table({"户编号": ids, "所在县": ["定南县"] * len(ids)}), path, row_group_size=4)
    assert pq.ParquetFile(path).metadata.num_row_groups == 7
    got = _household_column(spec_for(houfu.load()), path)
    assert got.to_pylist() == _arr(pq.read_table(path), "户编号").to_pylist()
    assert got.to_pylist()[:9] == ["a", "b", None, None, "a", "c", None, "d", "b"]
    empty = tmp_path / "e.parquet"
    pq.write_table(pa.table({"户编号": pa.array([], pa.string())}), empty)
    assert _household_column(spec_for(houfu.load()), empty).to_pylist() == []


def _refused_before_decoding(path: Path, monkeypatch, columns: dict) -> None:
    """Write ``columns`` in row groups of 2,000 and check that the households' ids are refused by their counted text
    (a budget of 10 MB) before any batch of them is decoded (``_arr``)."""
    import dataclasses

    import houfu
    import houfu.io.tables as tables
    from houfu.io.limits import LIMITS, LimitError
    from houfu.io.mapping import spec_for
    from houfu.screen.screener import _household_column

    pq.write_table(pa.table(columns), path, row_group_size=2000)
    decoded = []
    arr = tables._arr
    monkeypatch.setattr(tables, "_arr", lambda *a, **k: decoded.append(1) or arr(*a, **k))
    with pytest.raises(LimitError, match="户编号: more than 10,000,000 bytes of text once decoded"):
        _household_column(spec_for(houfu.load()), path, dataclasses.replace(LIMITS, parquet_text_bytes=10_000_000))
    assert decoded == []


def test_the_households_ids_are_all_counted_before_any_is_decoded(tmp_path, monkeypatch):
    """A file repeating one long id on every row is refused by its text before a row of it is decoded, even where
    each row group alone is within the budget (the groups are read one by one)."""
    import houfu
    from houfu.io.mapping import spec_for
    from houfu.screen.screener import _household_column

    path = tmp_path / "h.parquet"
    _refused_before_decoding(path, monkeypatch, {"户编号": ["户" * 1000] * 4000})  # 12 MB once decoded
    assert _household_column(spec_for(houfu.load()), path).to_pylist() == ["户" * 1000] * 4000  # within the default


def test_a_part_read_from_a_large_row_group_holds_a_buffer_of_it_not_the_whole_group(tmp_path):
    """Reading the first rows of a file whose one row group holds a million households' ids and names does not
    load the group's column chunks whole: what a reader holds follows the part, not the file (issue 25)."""
    import itertools

    import houfu
    from houfu.io.mapping import spec_for
    from houfu.screen.screener import _Rows

    rng = np.random.default_rng(25)
    n = 1_000_000
    path = tmp_path / "h.parquet"
    pool = pa.array(["".join(t) for t in itertools.product("赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨", repeat=3)])
    ids = [f"h{v:016x}" for v in rng.integers(0, 2**62, n).tolist()]
    pq.write_table(pa.table({"户编号": ids, "户主姓名": pool.take(rng.integers(0, len(pool), n))}), path,
                   row_group_size=n)
    size = path.stat().st_size
    assert size > 15_000_000  # the group's chunks: what a whole read would hold
    before = pa.total_allocated_bytes()
    rows = _Rows(spec_for(houfu.load()), path, "household", names_counted=True)
    head = rows.take(1000)
    assert head is not None and head.num_rows == 1000
    held = pa.total_allocated_bytes() - before
    assert held < size / 2, (held, size)


def test_a_member_row_naming_its_household_as_a_figure_is_refused_with_the_fix_as_its_household_is():
    """Excel's 3.6e+17 in a members file is refused as a figure (with the fix), whether or not the households file
    has the same figure (which is refused too, so nothing joins it); a member of no household and one with no id
    are reported as such, and the rest join."""
    import houfu
    from houfu.io.tables import load_tables

    main = pa.table({"户编号": ["h1", "3.6e+17", "h2"], "所在县": ["定南县"] * 3})
    members = pa.table({"户编号": ["h1", "3.6e+17", "h9", None, " h2 ", "1E+5", "h1"], "年龄": [30, 40, 50, 60, 20, 10, 5]})
    got = load_tables(houfu.load(), main, "h.csv", members, "m.csv")
    assert [(e.file, e.row, e.kind, dict(e.params)) for e in got.errors] == [
        ("h.csv", 3, "id_float", {"value": "3.6e+17"}), ("m.csv", 3, "id_float", {"value": "3.6e+17"}),
        ("m.csv", 4, "no_household", {"value": "h9"}), ("m.csv", 5, "no_household_id", {}),
        ("m.csv", 7, "id_float", {"value": "1.0e+05"})]
    assert got.ids.to_pylist() == ["h1", "h2"] and got.caseload.members.owner.tolist() == [0, 0, 1]
    assert got.item_rows == {"members": (7, 3)}


@pytest.mark.parametrize("columns", [
    {"户编号": ["户" * 1000, "村" * 1000] * 2000},
    {"地址": [{"村": "a", "组": "b"}] * 4000, "户编号": ["户" * 1000, "村" * 1000] * 2000},
], ids=["two long ids", "after a struct column"])
def test_long_ids_repeated_past_the_budget_are_refused_before_any_is_decoded(tmp_path, monkeypatch, columns):
    """Two long ids repeated on every row, alone or after a struct column (whose leaves make the ids' place among
    the file's leaves differ from their place among its columns): refused by their count before a row is
    decoded."""
    _refused_before_decoding(tmp_path / "h.parquet", monkeypatch, columns)


def _footer_lying(path: Path, changes: dict[tuple[int, ...], int]) -> None:
    from tests.parquet_footer import patch

    patch(path, changes)


def test_a_footer_understating_the_ids_size_or_a_groups_rows_changes_nothing_that_is_read(tmp_path):
    """Made footers (the ids' chunk declared empty; a group's rows moved to another, the file's total kept) are
    not taken at their word: the ids read, and their text counted, are the honest file's. A plain read bounded by
    such a footer decoded gigabytes from a file of 2 MB in the review of issue 25."""
    import houfu
    from houfu.io.mapping import spec_for
    from houfu.screen.screener import _household_column

    spec = spec_for(houfu.load())
    n = 20_000
    ids = [f"s{i:04d}" for i in range(2048)] + ["户" * 300, "村" * 300] * (n // 2) + [f"h{i}" for i in range(n)]
    for name, changes in (("size", {(4, 0, 1, 0, 3, 6): 0}), ("rows", {(4, 0, 3): 1, (4, 1, 3): len(ids) - 1})):
        path = tmp_path / f"{name}.parquet"
        pq.write_table(pa.table({"户编号": ids}), path, compression="zstd", dictionary_pagesize_limit=1000,
                       row_group_size=n + 2048)
        honest = _household_column(spec, path).to_pylist()
        _footer_lying(path, changes)
        assert _household_column(spec, path).to_pylist() == honest == [i.strip() for i in ids]


@pytest.mark.parametrize("dictionary", [True, False], ids=["in a dictionary", "written plain"])
def test_an_id_longer_than_a_cell_may_be_is_refused_however_it_is_written(tmp_path, dictionary):
    import houfu
    from houfu.io.limits import LimitError
    from houfu.io.mapping import spec_for
    from houfu.screen.screener import _household_column

    path = tmp_path / "h.parquet"
    pq.write_table(pa.table({"户编号": ["h1", "h" * 5000, "h2"]}), path, use_dictionary=dictionary)
    with pytest.raises(LimitError, match="户编号: a value of 5,000 bytes; at most 1,000 characters are read in a cell"):
        _household_column(spec_for(houfu.load()), path)


def test_a_text_id_column_holding_bytes_that_are_not_utf8_is_one_line_naming_it(tmp_path):
    """A file from a writer that does not check its text: the column says text, a value is not UTF-8."""
    import houfu
    from houfu.io.mapping import spec_for
    from houfu.io.tables import TableError
    from houfu.screen.screener import _household_column

    data = b"h1\xff\xfeh3"
    column = pa.Array.from_buffers(pa.string(), 3, [None, pa.py_buffer(np.array([0, 2, 4, 6], np.int32).tobytes()),
                                                   pa.py_buffer(data)])
    path = tmp_path / "h.parquet"
    pq.write_table(pa.table({"户编号": column}), path)
    with pytest.raises(TableError, match="户编号: not UTF-8 text"):
        _household_column(spec_for(houfu.load()), path)


def test_an_id_column_of_bytes_that_are_not_text_is_one_line_naming_it(tmp_path):
    import houfu
    from houfu.io.mapping import spec_for
    from houfu.io.tables import TableError
    from houfu.screen.screener import _household_column

    path = tmp_path / "h.parquet"
    pq.write_table(pa.table({"户编号": pa.array([b"h1", b"\xff\xfe"], pa.binary())}), path)
    with pytest.raises(TableError, match="户编号: not UTF-8 text"):
        _household_column(spec_for(houfu.load()), path)


_IDS = st.lists(st.one_of(st.none(), st.sampled_from([f"h{i}" for i in range(12)])), max_size=25)


@settings(max_examples=400, deadline=None)
@given(ids=_IDS, data=st.data())
def test_each_member_row_is_placed_at_its_households_first_row_as_a_lookup_would(ids, data):
    """``_positions`` places a members file's rows by position when each batch is the next stretch of the
    households, hashes the few values of a businesses file, and otherwise looks every value up: each way, a row
    ends at the first household row with its id (-1: none), once mapped to the id's first row as the run does."""
    from houfu.screen.screener import _first_row_global, _positions

    in_order = data.draw(st.booleans())
    if in_order:
        rows = [h for h in ids for _ in range(data.draw(st.integers(0, 2)))]
    else:
        rows = data.draw(st.lists(st.one_of(st.none(), st.sampled_from([f"h{i}" for i in range(14)])), max_size=30))
    cuts = sorted(set(data.draw(st.lists(st.integers(0, len(rows)), max_size=3))) | {0, len(rows)})
    batches = [pa.array(rows[a:b], pa.string()).dictionary_encode() for a, b in zip(cuts, cuts[1:], strict=False)
               if b > a]
    households = pa.array(ids, pa.string())
    got = _positions(households, batches)
    first = _first_row_global(households)
    if len(first):
        got = np.where(got >= 0, first[np.maximum(got, 0)], -1)
    where = {}
    for i, h in enumerate(ids):
        if h is not None:
            where.setdefault(h, i)
    assert got.tolist() == [where.get(r, -1) if r is not None else -1 for r in rows]


@settings(max_examples=300, deadline=None)
@given(ids=_IDS, data=st.data())
def test_each_row_names_its_ids_first_row_and_the_first_rows_come_in_order(ids, data):
    """``_first_rows``: each row's first row with its id (-1 for none), and the first rows ascending, whether the
    ids come as text (Arrow numbers them as they first appear) or as a dictionary in some other order."""
    from houfu.io.tables import _first_rows
    from houfu.screen.screener import _first_rows_repeated

    arr = pa.array(ids, pa.string())
    if data.draw(st.booleans()):
        # A dictionary as a file may hold it: in another order, with values no row uses, a value twice.
        values = sorted({i for i in ids if i is not None} | set(data.draw(st.lists(st.sampled_from(["x", "y"])))),
                        reverse=data.draw(st.booleans()))
        twice = data.draw(st.booleans()) and bool(values)
        if twice:
            values = [*values, values[0]]
        codes = [None if i is None else (len(values) - 1 if twice and i == values[0] and data.draw(st.booleans())
                                         else values.index(i)) for i in ids]
        arr = pa.DictionaryArray.from_arrays(pa.array(codes, pa.int32()), pa.array(values, pa.string()))
    first, first_rows = _first_rows(arr)
    where: dict[str, int] = {}
    for i, h in enumerate(ids):
        if h is not None:
            where.setdefault(h, i)
    assert first.tolist() == [where[h] if h is not None else -1 for h in ids]
    assert first_rows.tolist() == sorted(where.values())
    own, repeated = _first_rows_repeated(arr)
    assert own.tolist() == [where[h] if h is not None else i for i, h in enumerate(ids)]
    assert repeated == (len(where) < sum(h is not None for h in ids))


@pytest.mark.parametrize("which", ["caseload", "members"])
def test_a_missing_or_broken_file_on_dask_is_one_line_naming_it(tmp_path, which):
    """Judged before a cluster starts, as on one machine: not an internal error from Dask's reader."""
    good = tmp_path / "h.parquet"
    pq.write_table(pa.table({"户编号": ["h1"], "所在县": ["定南县"]}), good)
    bad = tmp_path / "missing.parquet" if which == "caseload" else tmp_path / "m.parquet"
    if which == "members":
        bad.write_bytes(b"not parquet at all")
    args = [bad] if which == "caseload" else [good, "--members", bad]
    out = run("screen", *args, "--dask", "local", "-o", tmp_path / "d.parquet", code=2)
    [line] = [ln for ln in out.splitlines() if ln.strip()]
    assert line.startswith(f"Error: {bad}: -: ") and "internal error" not in out, out


def test_on_dask_padded_ids_join_and_rejected_rows_are_counted_not_passed_off_as_screened(tmp_path):
    """A member whose household id has spaces around it joins it on Dask as on one machine; a rejected household
    (a repeated id, an age that is no number) is counted as rejected, with the way to see each, and the exit is 2."""
    pq.write_table(pa.table({"户编号": ["h1", " h2", "h3", "h3"], "所在县": ["定南县"] * 4}), tmp_path / "h.parquet")
    pq.write_table(pa.table({"户编号": [" h1 ", "h2", "h3"], "年龄": ["30", "四十x", "50"]}), tmp_path / "m.parquet")
    args = [tmp_path / "h.parquet", "--members", tmp_path / "m.parquet", "--as-of", AS_OF, "-q"]
    one = run("screen", *args, "-o", tmp_path / "one.parquet", "--long", code=2)
    assert "4 row(s) in: 2 screened + 2 rejected" in one, one  # h2 (its member's age) and the second h3
    out = run("screen", *args, "-o", tmp_path / "dask.parquet", "--dask", "local", code=2)
    assert "4 row(s) in: 2 screened on Dask + 2 rejected" in out, out
    assert "run without --dask" in out

    def rows(path: Path) -> list[tuple]:
        return sorted((r["household"], r["measure"], r["status"], tuple(sorted(_split(r["missing"]))))
                      for r in pq.read_table(path).to_pylist())

    assert {r[0] for r in rows(tmp_path / "dask.parquet")} == {"h1", "h3"}  # h1's member " h1 " joined it
    assert rows(tmp_path / "dask.parquet") == rows(tmp_path / "one.parquet")


def test_the_dask_run_equals_the_single_process_run(tmp_path):
    import sys

    sys.path.insert(0, str(ROOT))
    from benchmarks.caseload import caseload

    hh, members, businesses = caseload(600, seed=3)
    for name, t in (("h", hh), ("m", members), ("b", businesses)):
        pq.write_table(t, tmp_path / f"{name}.parquet", row_group_size=150)
    args = [tmp_path / "h.parquet", "--members", tmp_path / "m.parquet", "--businesses", tmp_path / "b.parquet",
            "--as-of", AS_OF, "-q"]
    run("screen", *args, "-o", tmp_path / "one.parquet", "--long")
    run("screen", *args, "-o", tmp_path / "dask.parquet", "--dask", "local")

    def rows(path: Path) -> list[tuple]:
        out = []
        for r in pq.read_table(path).to_pylist():
            out.append((r["household"], r["measure"], r["status"], r["amount"], r["owners"],
                        tuple(sorted(_split(r["missing"]))), r["failed"], r["kb_version"]))
        return sorted(out, key=str)

    single, distributed = rows(tmp_path / "one.parquet"), rows(tmp_path / "dask.parquet")
    assert len({r[0] for r in single}) == 600
    assert distributed == single


def test_on_dask_the_determinations_are_written_in_the_format_their_name_asks_for(tmp_path):
    """``-o d.csv --dask`` wrote Parquet bytes under the name d.csv: now a CSV, the rows of one machine's."""
    import csv

    pq.write_table(pa.table({"户编号": ["h1", "h2"], "所在县": ["定南县", "郧阳区"]}), tmp_path / "h.parquet")
    pq.write_table(pa.table({"户编号": ["h1", "h2"], "年龄": ["30", "50"]}), tmp_path / "m.parquet")
    args = [tmp_path / "h.parquet", "--members", tmp_path / "m.parquet", "--as-of", AS_OF, "-q"]
    run("screen", *args, "-o", tmp_path / "one.csv", "--long")
    run("screen", *args, "-o", tmp_path / "dask.csv", "--dask", "local")
    assert not (tmp_path / "dask.csv").read_bytes().startswith(b"PAR1")

    def rows(path: Path) -> list[tuple]:
        with path.open(encoding="utf-8", newline="") as fh:
            return sorted((r["household"], r["measure"], r["status"], r["amount"], r["owners"],
                           tuple(sorted(_split(r["missing"]))), r["failed"]) for r in csv.DictReader(fh))

    single = rows(tmp_path / "one.csv")
    assert {r[0] for r in single} == {"h1", "h2"}
    assert rows(tmp_path / "dask.csv") == single
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]  # no partial file left


def test_on_dask_a_run_that_screens_no_household_leaves_the_earlier_file_as_it_was(tmp_path):
    """As on one machine: every household rejected writes no determinations, says so, and last month's file stands
    (Dask's run wrote a header-only CSV, or a Parquet file of null columns, over it)."""
    pq.write_table(pa.table({"户编号": ["h1", "h2"], "所在县": ["定南县", "定南县"]}), tmp_path / "h.parquet")
    pq.write_table(pa.table({"户编号": ["h1", "h2"], "年龄": ["四十x", "五十y"]}), tmp_path / "m.parquet")
    earlier = tmp_path / "d.csv"
    earlier.write_bytes(b"household,measure,status\nh0,m,applies\n")
    out = run("screen", tmp_path / "h.parquet", "--members", tmp_path / "m.parquet", "--as-of", AS_OF, "-q",
              "-o", earlier, "--dask", "local", code=2)
    assert f"0 screened on Dask + 2 rejected; no household screened, so {earlier} was not written" in out, out
    assert earlier.read_bytes() == b"household,measure,status\nh0,m,applies\n"
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_a_parquet_caseload_read_in_parts_equals_one_read_whole(tmp_path, monkeypatch):
    import datetime as dt
    import sys

    import houfu
    import houfu.screen.run as run_module
    import houfu.screen.screener as screen_module

    sys.path.insert(0, str(ROOT))
    from benchmarks.caseload import caseload

    hh, members, businesses = caseload(3000, seed=5)
    rows = hh.to_pylist()
    rows[2450]["户编号"] = rows[30]["户编号"]  # a duplicate across parts: only the second is rejected
    hh = pa.Table.from_pylist(rows)
    for name, t in (("h", hh), ("m", members), ("b", businesses)):
        pq.write_table(t, tmp_path / f"{name}.parquet", row_group_size=97)
    kb, ev = houfu.load(), houfu.evaluator()
    args = (kb, ev, tmp_path / "h.parquet", tmp_path / "m.parquet", tmp_path / "b.parquet", None, "household",
            dt.date(2026, 1, 1))
    monkeypatch.setattr(screen_module, "CHUNK", 400)
    parts = run_module.screen_files(*args, tmp_path / "parts.parquet", None, None)
    assert parts.totals.rows_in == 3000 and parts.totals.rejected == 1 and parts.totals.parts == 8
    dup = [e for e in parts.totals.errors if "duplicate" in e.reason]
    assert [(e.row, e.reason) for e in dup] == [(2452, f"duplicate id {rows[30]['户编号']!r} (first on row 32)")]
    # The same caseload read whole (as a caseload that cannot be streamed is).
    monkeypatch.setattr(run_module, "_streamable", lambda *a: False)
    whole = run_module.screen_files(*args, tmp_path / "whole.parquet", None, None)
    assert whole.totals.rejected == 1 and whole.totals.parts == 0

    def rows_of(path: Path) -> list[tuple]:
        return sorted((r["household"], r["measure"], r["status"], r["amount"], tuple(_split(r["missing"])))
                      for r in read_long(path).to_pylist())

    assert rows_of(tmp_path / "parts.parquet") == rows_of(tmp_path / "whole.parquet")


@pytest.mark.parametrize("workers", [1, 2])
def test_members_and_businesses_out_of_the_households_order_are_read_in_parts_as_one_read_whole_gives(
        tmp_path, monkeypatch, workers):
    """A members file shuffled and a businesses file reversed are split by part as they are read (not read whole):
    the determinations, the errors (each naming its file's own row), the people and the rows joined are those of
    the caseload read whole, and the split files are gone when the run ends."""
    import datetime as dt
    import sys
    import tempfile

    import houfu
    import houfu.screen.run as run_module
    import houfu.screen.screener as screen_module

    sys.path.insert(0, str(ROOT))
    from benchmarks.caseload import caseload

    hh, members, businesses = caseload(1500, seed=7)
    rows = members.to_pylist()
    rows[5]["户编号"], rows[9]["户编号"] = None, "no-such-household"  # reported, by the first part
    rows[11]["年龄"] = -3  # a bad cell: its household is rejected
    order = np.random.default_rng(7).permutation(len(rows)).tolist()
    pq.write_table(pa.Table.from_pylist([rows[i] for i in order], schema=members.schema), tmp_path / "m.parquet",
                   row_group_size=700)
    pq.write_table(hh, tmp_path / "h.parquet", row_group_size=300)
    pq.write_table(businesses.take(pa.array(list(range(businesses.num_rows))[::-1])), tmp_path / "b.parquet")
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    monkeypatch.setattr(screen_module, "CHUNK", 400)
    args = (houfu.load(), houfu.evaluator(), tmp_path / "h.parquet", tmp_path / "m.parquet", tmp_path / "b.parquet",
            None, "household", dt.date(2026, 1, 1))
    parts = run_module.screen_files(*args, tmp_path / "parts.parquet", None, None, workers=workers)
    assert parts.totals.parts == 4 and list(scratch.iterdir()) == []
    monkeypatch.setattr(run_module, "_streamable", lambda *a: False)
    whole = run_module.screen_files(*args, tmp_path / "whole.parquet", None, None)
    assert whole.totals.parts == 0

    def errors(got) -> list[tuple]:
        return sorted((e.file, e.row, e.column, e.reason) for e in got.totals.errors)

    assert errors(parts) == errors(whole)
    assert sorted((e.row, e.reason) for e in parts.totals.errors if e.file.endswith("m.parquet")) == sorted([
        (order.index(5) + 2, "no household id"),
        (order.index(9) + 2, "no household 'no-such-household' in the households table"),
        (order.index(11) + 2, "-3 is out of range 0 to 120")])
    assert (parts.totals.screened, parts.totals.rejected, parts.totals.people) == \
        (whole.totals.screened, whole.totals.rejected, whole.totals.people)
    assert parts.totals.rejected >= 1
    # every member row read, all but the two naming no household joined
    assert parts.item_rows == whole.item_rows == {"members": (len(rows), len(rows) - 2),
                                                  "businesses": (businesses.num_rows, businesses.num_rows)}

    def rows_of(path: Path) -> list[tuple]:
        return sorted((r["household"], r["measure"], r["status"], r["amount"], tuple(_split(r["missing"])))
                      for r in read_long(path).to_pylist())

    assert rows_of(tmp_path / "parts.parquet") == rows_of(tmp_path / "whole.parquet")


def test_a_members_file_refused_while_it_is_split_by_part_leaves_no_folder_behind(tmp_path, monkeypatch):
    """A member's name longer than a cell, in a file out of the households' order: refused while the file is split
    by part, and the split's folder is removed then and there (not left to the collector, which warns)."""
    import datetime as dt
    import tempfile

    import houfu
    import houfu.screen.run as run_module
    import houfu.screen.screener as screen_module
    from houfu.io.limits import LimitError

    ids = [f"h{i}" for i in range(1000)]
    pq.write_table(pa.table({"户编号": ids, "所在县": ["定南县"] * 1000}), tmp_path / "h.parquet")
    names = ["张三"] * 999 + ["名" * 2000]
    pq.write_table(pa.table({"户编号": ids[::-1], "姓名": names, "年龄": [30] * 1000}), tmp_path / "m.parquet")
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    monkeypatch.setattr(screen_module, "CHUNK", 400)
    with pytest.raises(LimitError, match="姓名: a value of 6,000 bytes"):
        run_module.screen_files(houfu.load(), houfu.evaluator(), tmp_path / "h.parquet", tmp_path / "m.parquet",
                                None, None, "household", dt.date(2026, 1, 1), tmp_path / "o.parquet", None, None)
    assert list(scratch.iterdir()) == []


def test_a_screen_stopped_by_sigterm_says_so_and_removes_its_temporary_folder(tmp_path):
    """SIGTERM (a service manager's stop, a job's timeout) while a members file out of order is being split by
    part: the houfu program says "terminated", exits 143, and leaves nothing in the temporary folder. The signal
    is sent by the program to itself once the split's folder exists, so the test does not race the run."""
    import subprocess
    import sys

    ids = [f"h{i}" for i in range(1000)]
    pq.write_table(pa.table({"户编号": ids, "所在县": ["定南县"] * 1000}), tmp_path / "h.parquet")
    pq.write_table(pa.table({"户编号": ids[::-1], "年龄": [30] * 1000}), tmp_path / "m.parquet")
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    code = f"""
import os, signal, sys
import houfu.screen.screener as screener
split = screener._regroup
def regroup(*a, **k):
    got = split(*a, **k)
    assert any(p.name.startswith("houfu-regroup-") for p in __import__("pathlib").Path({str(scratch)!r}).iterdir())
    os.kill(os.getpid(), signal.SIGTERM)
    return got
screener._regroup = regroup
sys.argv = ["houfu", "screen", {str(tmp_path / "h.parquet")!r}, "--members", {str(tmp_path / "m.parquet")!r},
            "-o", {str(tmp_path / "d.parquet")!r}, "--as-of", "2026-01-01"]
from houfu.cli.commands import run
run()
"""
    env = {**os.environ, "TMPDIR": str(scratch), "HOUFU_LOG_DIR": str(tmp_path / "logs")}
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert p.returncode == 143, p.stderr
    assert p.stderr.strip().splitlines()[-1] == "terminated", p.stderr
    assert list(scratch.iterdir()) == []


@pytest.mark.parametrize("suffix", [".parquet", ".csv"], ids=["streamed", "read whole"])
def test_a_screen_stopped_midway_leaves_no_determinations_that_look_complete(tmp_path, monkeypatch, suffix):
    """A run that fails after its first part was written (here a made error in the second part; Ctrl-C or SIGTERM
    go the same way) leaves last month's determinations file at the path as it was, and no partial file: the
    determinations are written beside it and moved there whole only when the run is done."""
    import datetime as dt

    import houfu
    import houfu.screen.run as run_module
    import houfu.screen.screener as screen_module

    ids = [f"h{i}" for i in range(30)]
    households = pa.table({"户编号": ids, "所在县": ["定南县"] * 30})
    members = pa.table({"户编号": ids, "年龄": [40] * 30})
    for name, t in (("h", households), ("m", members)):
        if suffix == ".csv":
            pa.csv.write_csv(t, tmp_path / f"{name}.csv")
        else:
            pq.write_table(t, tmp_path / f"{name}.parquet")
    out = tmp_path / "d.parquet"
    out.write_bytes(b"last month's determinations")
    monkeypatch.setattr(screen_module, "CHUNK", 10)
    chunk = screen_module.Screener.chunk
    seen = []

    def chunk_then_fail(self, *a, **k):
        seen.append(1)
        if len(seen) == 2:
            raise RuntimeError("a made error in the second part")
        return chunk(self, *a, **k)

    monkeypatch.setattr(screen_module.Screener, "chunk", chunk_then_fail)
    with pytest.raises(RuntimeError, match="a made error"):
        run_module.screen_files(houfu.load(), houfu.evaluator(), tmp_path / f"h{suffix}", tmp_path / f"m{suffix}",
                                None, None, "household", dt.date(2026, 1, 1), out, None, None)
    assert len(seen) == 2
    assert out.read_bytes() == b"last month's determinations"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["h" + suffix, "m" + suffix, "d.parquet"])
    monkeypatch.setattr(screen_module.Screener, "chunk", chunk)
    run_module.screen_files(houfu.load(), houfu.evaluator(), tmp_path / f"h{suffix}", tmp_path / f"m{suffix}",
                            None, None, "household", dt.date(2026, 1, 1), out, None, None)
    assert pq.read_table(out).num_rows == 30 and not list(tmp_path.glob(".*partial"))


@pytest.mark.parametrize("which", ["households", "members"])
def test_a_streamed_id_column_of_lists_is_one_line_naming_it_not_an_internal_error(tmp_path, which):
    """Read in parts (households with their members, in Parquet), a column of lists where the ids go is refused
    naming its file and column (it was pyarrow's KeyError, an internal error; found by issue 25's review)."""
    listed = pa.array([["h1"], ["h2"]])
    households = pa.table({"户编号": listed if which == "households" else ["h1", "h2"], "所在县": ["定南县"] * 2})
    members = pa.table({"户编号": listed if which == "members" else ["h1", "h2"], "年龄": [30, 40]})
    pq.write_table(households, tmp_path / "h.parquet")
    pq.write_table(members, tmp_path / "m.parquet")
    r = CliRunner().invoke(main, ["screen", str(tmp_path / "h.parquet"), "--members", str(tmp_path / "m.parquet"),
                                  "--as-of", AS_OF, "-o", str(tmp_path / "d.parquet")])
    bad = tmp_path / ("h.parquet" if which == "households" else "m.parquet")
    assert r.exit_code == 2, r.output
    assert f"{bad}: 户编号: holds lists or records (list<element: string>)" in r.output
    assert "internal error" not in r.output and not (tmp_path / "d.parquet").exists()


def _screened_with_errors(path: Path) -> tuple[dict, list[dict[str, str]]]:
    """``houfu screen PATH --json --errors`` (in English), which rejected some rows: its summary and its errors."""
    errors = path.with_name("e.csv")
    r = CliRunner().invoke(main, ["screen", str(path), "--as-of", AS_OF, "--json", "--errors", str(errors),
                                  "--lang", "en"])
    assert r.exit_code == 2, r.output
    with errors.open(encoding="utf-8-sig") as fh:
        return json.loads(r.stdout), list(csv.DictReader(fh))


def test_a_jsonl_line_with_a_bad_value_is_named_by_its_line_and_the_rest_screened(tmp_path):
    records = _records()
    lines = [r.model_dump_json(exclude_none=True) for r in records]
    bad = json.loads(lines[2])
    bad["members"][0]["age"] = "七十"
    lines[2] = json.dumps(bad, ensure_ascii=False)
    (tmp_path / "c.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    summary, (error,) = _screened_with_errors(tmp_path / "c.jsonl")
    assert summary["rows_in"] == len(records) and summary["rejected"] == 1
    assert error["row"] == "3" and "age" in error["column"]


def test_a_jsonl_line_with_a_bad_value_past_the_readers_first_block_is_named_too(tmp_path):
    """Arrow's streamed reader parses a block (1 MB) at a time and meets a bad line only when it comes to it: the
    file is then read line by line all the same, and only that line is refused."""
    records = _records()
    lines = [r.model_dump_json(exclude_none=True) for r in records]
    many = [json.dumps({**json.loads(lines[i % len(lines)]), "id": f"b{i}"}, ensure_ascii=False) for i in range(4000)]
    assert sum(len(x.encode()) + 1 for x in many[:3000]) > 2 << 20  # the bad line is in the third block or later
    bad = json.loads(many[3000])
    bad["members"] = [{"age": "七十"}]
    many[3000] = json.dumps(bad, ensure_ascii=False)
    (tmp_path / "c.jsonl").write_text("\n".join(many) + "\n", encoding="utf-8")
    summary, (error,) = _screened_with_errors(tmp_path / "c.jsonl")
    assert summary["rows_in"] == 4000 and summary["rejected"] == 1 and summary["screened"] == 3999
    assert error["row"] == "3001" and "age" in error["column"]


def test_a_jsonl_line_that_is_not_utf8_is_refused_by_its_line_not_an_internal_error(tmp_path):
    """Arrow's JSON parser takes a Latin-1 é in a string without a word; the first text function on it then failed
    (an internal error). The file now goes to the line-by-line reader, which refuses that line alone."""
    (tmp_path / "c.jsonl").write_bytes(b'{"id": "a1", "jurisdiction": "dingnan"}\n'
                                       b'{"id": "caf\xe9", "jurisdiction": "dingnan"}\n'
                                       b'{"id": "a3", "jurisdiction": "shiyan"}\n')
    summary, (error,) = _screened_with_errors(tmp_path / "c.jsonl")
    assert summary["rows_in"] == 3 and summary["screened"] == 2 and summary["rejected"] == 1
    assert error["row"] == "2" and "not UTF-8" in error["reason"] and "--encoding" in error["reason"]


def test_a_household_that_names_a_recorded_site_is_screened_with_the_site_record_as_checked(tmp_path):
    """The screener fills a site fact from the record of the site a household names (policies/sites.yaml), as
    `houfu check` does, and never over the household's own answer."""
    import datetime as dt

    kb = load_default()
    records = [kb.models.household.model_validate(r) for r in (
        {"id": "n1", "jurisdiction": "dingnan", "site": "县城集中安置点", "hukou_at_site": False},
        {"id": "n2", "jurisdiction": "dingnan", "site": "dingnan_county_seat", "site_type": "town_centralized"},
        {"id": "n3", "jurisdiction": "dingnan", "site": "某镇安置点"})]
    hh, _, _ = _tables(records)
    _write_csv(tmp_path / "h.csv", hh)
    out = tmp_path / "d.parquet"
    run("screen", tmp_path / "h.csv", "-o", out, "--as-of", AS_OF, "-q")
    got = _by_household(out)
    ev = evaluator_for(kb)
    statuses = {}
    for r in records:
        for d in ev.determine(r, dt.date.fromisoformat(AS_OF)).determinations:
            assert got[(r.id, d.measure_id)][0] == d.status.value, (r.id, d.measure_id)
            assert got[(r.id, d.measure_id)][1] == _facts(d.missing), (r.id, d.measure_id)
            statuses[(r.id, d.measure_id)] = d.status.value
    assert statuses[("n1", "dn.3.1.residence_permit")] == "applies"  # the record's site type: in scope
    assert statuses[("n2", "dn.3.1.residence_permit")] == "out_of_scope"  # its own answer, never overridden
    assert statuses[("n3", "dn.3.1.residence_permit")] == "undetermined"  # no record: site_type is asked


def test_two_and_three_worker_processes_screen_a_parquet_caseload_as_one_does(tmp_path, monkeypatch):
    """--workers N streams a Parquet caseload in spans of consecutive parts, one forked process each reading its
    own rows (a span may start inside a row group); the parts are taken in order, so the determinations, the
    totals the report is drawn from, the data requests and a duplicate id across spans come out as with one
    process."""
    import datetime as dt
    import sys

    import houfu
    import houfu.screen.run as run_module
    import houfu.screen.screener as screen_module

    sys.path.insert(0, str(ROOT))
    from benchmarks.caseload import caseload

    hh, members, businesses = caseload(1200, seed=11)
    rows = hh.to_pylist()
    rows[1000]["户编号"] = rows[10]["户编号"]  # a duplicate in the last span of the first span's id
    for name, t in zip(("h", "m", "b"), (pa.Table.from_pylist(rows), members, businesses), strict=True):
        pq.write_table(t, tmp_path / f"{name}.parquet", row_group_size=97)
    monkeypatch.setattr(screen_module, "CHUNK", 200)
    kb, ev = houfu.load(), houfu.evaluator()
    outs, runs, steps = {}, {}, []
    for workers in (1, 2, 3):
        out = tmp_path / f"w{workers}.parquet"
        runs[workers] = run_module.screen_files(
            kb, ev, tmp_path / "h.parquet", tmp_path / "m.parquet", tmp_path / "b.parquet", None, "household",
            dt.date(2026, 1, 1), out, None, None, workers=workers, requests=tmp_path / f"r{workers}",
            progress=lambda total, go, w=workers: go(steps.append if w == 2 else None))
        outs[workers] = pq.read_table(out)
    assert outs[1].num_rows == 1199 and outs[2].equals(outs[1]) and outs[3].equals(outs[1])
    assert len(steps) == 6 and sum(steps) == 1200  # six parts of 200, taken in order as the workers did them
    one = runs[1].totals
    for workers in (2, 3):
        t = runs[workers].totals
        assert (t.rows_in, t.screened, t.rejected, t.parts) == (one.rows_in, one.screened, one.rejected, 6) == (
            1200, 1199, 1, 6)
        assert [(e.row, e.reason) for e in t.errors] == [(e.row, e.reason) for e in one.errors]
        assert t.status_counts == one.status_counts and t.missing == one.missing and t.workload == one.workload
        assert t.list_members() == one.list_members() and {k: v.listed for k, v in t.requests.items()} == {
            k: v.listed for k, v in one.requests.items()}
        assert {k: (v.confirmed_rows, v.to_check_rows) for k, v in t.lists.items()} == {
            k: (v.confirmed_rows, v.to_check_rows) for k, v in one.lists.items()}
        assert runs[workers].item_rows == runs[1].item_rows
        assert runs[workers].requests_files.keys() == runs[1].requests_files.keys()


def test_parquet_written_on_its_own_thread_comes_out_in_order_and_a_failed_write_is_raised(tmp_path):
    """With one process the determinations are encoded on a thread of their own (screener.Behind) while the next
    part is decided: the tables land in the order given, as written in turn; a write that fails there (here, a
    folder that does not exist) is raised at close, never lost."""
    from houfu.screen.screener import Behind, Writer

    class Seen(Writer):  # which thread wrote each table
        threads: list[str] = []

        def __call__(self, table: pa.Table) -> None:
            self.threads.append(threading.current_thread().name)
            super().__call__(table)

    tables = [pa.table({"household": [f"H{k}-{i}" for i in range(50)], "n": list(range(k, k + 50))})
              for k in range(12)]
    direct, behind = Writer(tmp_path / "direct.parquet"), Behind(Seen(tmp_path / "behind.parquet"), depth=2)
    for t in tables:
        direct(t)
        behind(t)
    direct.close()
    behind.close()
    assert pq.read_table(tmp_path / "behind.parquet").equals(pq.read_table(tmp_path / "direct.parquet"))
    assert behind.writer.rows == 600
    assert len(Seen.threads) == 12 and {name.split("_")[0] for name in Seen.threads} == {"houfu-write"}
    failing = Behind(Writer(tmp_path / "no such folder" / "d.parquet"))
    failing(tables[0])
    with pytest.raises(OSError):
        failing.close()


def test_a_streamed_part_read_ahead_that_breaks_a_limit_stops_the_run_with_the_same_one_line_error(tmp_path,
                                                                                                   monkeypatch):
    """The next part is read while this one is decided: a limit broken in a later part (here, the site labels'
    text) is raised when that part is taken, with the same words as a caseload read in turn."""
    import datetime as dt
    import sys

    import houfu
    import houfu.screen.run as run_module
    import houfu.screen.screener as screen_module
    from houfu.io.limits import LimitError, TableLimits

    sys.path.insert(0, str(ROOT))
    from benchmarks.caseload import caseload

    hh, members, businesses = caseload(2000, seed=3)
    rows = hh.to_pylist()
    for r in rows[1500:]:
        r["安置点"] = "定南县城安置点" + "东" * 1000  # 3,021 bytes on each of the last 500 rows
    for name, t in zip(("h", "m", "b"), (pa.Table.from_pylist(rows), members, businesses), strict=True):
        pq.write_table(t, tmp_path / f"{name}.parquet", row_group_size=97)
    monkeypatch.setattr(screen_module, "CHUNK", 250)
    loads: list[tuple[int, str]] = []  # the parts loaded, in the order asked for, and the thread that loaded each
    load_part = screen_module._load_part
    monkeypatch.setattr(screen_module, "_load_part", lambda job, reader, k: loads.append(
        (k, threading.current_thread().name)) or load_part(job, reader, k))
    limits = TableLimits(parquet_text_bytes=1_000_000)
    with pytest.raises(LimitError, match=r"h\.parquet: 安置点: more than 1,000,000 bytes of text once decoded"):
        run_module.screen_files(houfu.load(), houfu.evaluator(), tmp_path / "h.parquet", tmp_path / "m.parquet",
                                tmp_path / "b.parquet", None, "household", dt.date(2026, 1, 1),
                                tmp_path / "out.parquet", None, None, limits=limits)
    # Streamed in parts of 250, each read on the reading thread while the one before was decided: the limit broke
    # while a part past the first 1,000 rows was read.
    assert [k for k, _ in loads] == list(range(len(loads))) and len(loads) > 4
    assert {name.split("_")[0] for _, name in loads} == {"houfu-read"}


def test_a_screen_process_does_not_import_pandas(tmp_path):
    """pyarrow imports pandas (0.2-0.3 s) to ask whether an array is a pandas object; ``houfu screen`` on one
    machine tells it once that pandas is not there (issue 25). The Dask path needs pandas and is left alone
    (test_the_dask_run_equals_the_single_process_run)."""
    import subprocess
    import sys

    pytest.importorskip("pandas")  # the dask and dev extras bring it; without it there is nothing to avoid
    caseload = tmp_path / "h.parquet"
    pq.write_table(pa.table({"户编号": ["h1", "h2"], "所在县": ["定南县", "郧阳区"]}), caseload)
    r = subprocess.run([sys.executable, "-X", "importtime", "-m", "houfu", "screen", str(caseload), "--as-of", AS_OF,
                        "-o", str(tmp_path / "d.parquet"), "-q"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    imported = {line.rsplit("|", 1)[-1].strip() for line in r.stderr.splitlines() if line.startswith("import time:")}
    # ("pandas" itself is listed for the import pyarrow was refused; a loaded pandas lists its own modules)
    assert "pyarrow" in imported and not {m for m in imported if m.startswith("pandas.")}
    assert pq.read_table(tmp_path / "d.parquet").num_rows == 2


def test_a_data_request_settles_as_many_determinations_as_the_reference_lists_its_path_in(tmp_path):
    """A fact read twice under one measure (16 ≤ age ≤ 60) is one path missing for it: the requests' "settles"
    and the totals' count of each missing fact are the reference evaluator's determinations, not the rule's
    leaves."""
    import datetime as dt
    from collections import Counter

    import houfu
    from houfu.io.tables import load_caseload
    from houfu.screen.screener import Screener, ScreenTotals

    records = _records()
    for name, rows in zip(("households.csv", "members.csv", "businesses.csv"), _tables(records), strict=True):
        _write_csv(tmp_path / name, rows)
    kb, ev = houfu.load(), houfu.evaluator()
    as_of = dt.date.fromisoformat(AS_OF)
    loaded = load_caseload(kb, tmp_path / "households.csv", tmp_path / "members.csv", tmp_path / "businesses.csv")
    totals, asked = ScreenTotals("household", as_of, kb.version), []
    Screener(kb, ev, as_of).chunk(loaded, __import__("numpy").arange(loaded.caseload.n), None, totals, asked.append)
    settles = {(h, p): s for t in asked for h, p, s in zip(t.column("household").to_pylist(),
                                                            t.column("path").to_pylist(),
                                                            t.column("settles").to_pylist(), strict=True)}
    want: Counter[tuple[str, str]] = Counter()
    for r in records:
        for d in ev.determine(r, as_of, EngineKind.plain).determinations:
            want.update((r.id, p) for p in d.missing)
    # Every path a determination lacks is asked for, and a path asked only for a supervisor's list settles none.
    assert {k: v for k, v in settles.items() if v} == dict(want)
    assert any(v > 1 for v in settles.values())  # a request that settles several determinations is counted so
    by_fact = Counter({p.rpartition("].")[2]: 0 for _, p in want})
    for (_, p), v in want.items():
        by_fact[p.rpartition("].")[2]] += v
    assert dict(totals.missing) == dict(by_fact)


def test_counties_with_one_program_and_the_same_registers_are_decided_together_and_others_apart(tmp_path,
                                                                                                monkeypatch):
    """A city's caseload: the Shiyan counties share the program and every fact's register, so a chunk decides them
    in one go; a county whose register for a fact differs (so its data requests go elsewhere) is decided apart.
    Either way each household's determinations are the same."""
    import datetime as dt
    import sys

    import numpy as np

    import houfu
    from houfu.io.tables import load_caseload
    from houfu.screen.screener import Screener, ScreenTotals

    sys.path.insert(0, str(ROOT))
    from benchmarks.caseload import caseload

    hh, members, businesses = caseload(600, seed=5)
    for name, t in zip(("h", "m", "b"), (hh, members, businesses), strict=True):
        pq.write_table(t, tmp_path / f"{name}.parquet")
    kb, ev = houfu.load(), houfu.evaluator()
    loaded = load_caseload(kb, tmp_path / "h.parquet", tmp_path / "m.parquet", tmp_path / "b.parquet")
    as_of = dt.date.fromisoformat(AS_OF)

    def screen(screener: Screener) -> tuple[list[int], dict[str, tuple[str, ...]], ScreenTotals]:
        sizes, rows = [], []
        decide = screener.vector.decide
        monkeypatch.setattr(screener.vector, "decide", lambda p, sub, *a, **k: sizes.append(sub.n) or decide(
            p, sub, *a, **k))
        totals = ScreenTotals("household", as_of, kb.version)
        screener.chunk(loaded, np.arange(loaded.caseload.n), rows.append, totals)
        table = pa.concat_tables(rows)
        status = [n for n in table.column_names if n.startswith("status:")]
        got = {h: tuple(str(x) for x in r) for h, *r in zip(table.column("household").to_pylist(),
                                                            *(table.column(n).to_pylist() for n in status),
                                                            strict=True)}
        return sizes, got, totals

    together, by_household, totals = screen(Screener(kb, ev, as_of))
    counties = {v for v in loaded.jurisdictions.to_pylist()}
    assert {"郧阳区", "竹山县", "房县", "定南县"} <= counties
    assert len(together) == 2 and sum(together) == len(by_household)  # Shiyan's three counties, and Dingnan

    apart = Screener(kb, ev, as_of)
    real = apart.holder
    used = {r for c in totals.missing_holder.values() for r in c}
    elsewhere = next(r for r in sorted(kb.registers) if r not in used)
    monkeypatch.setattr(apart, "holder", lambda path, area: elsewhere if area == "zhushan" else real(path, area))
    split, by_household_apart, totals_apart = screen(apart)
    assert len(split) == 3 and sum(split) == len(by_household)  # 竹山县 on its own
    assert by_household_apart == by_household
    assert totals_apart.missing == totals.missing and totals_apart.status_counts == totals.status_counts
    assert {r for c in totals_apart.missing_holder.values() for r in c} - used == {elsewhere}


@pytest.mark.parametrize("members", [[], ["h1"], ["h1", "h1", "h2", "h3", "h3", "h3"]])
def test_members_already_in_the_households_order_are_the_items_a_shuffled_file_gives(members):
    """A members table whose rows all join, in the households' order, is taken as it stands: the same items (each
    household's members in the file's order) as the same rows in another order give after the join's sort."""
    import houfu
    from houfu.io.tables import load_tables

    main = pa.table({"户编号": ["h1", "h2", "h3"], "所在县": ["定南县"] * 3})
    ages = list(range(20, 20 + len(members)))
    in_order = load_tables(houfu.load(), main, "h.csv", pa.table({"户编号": pa.array(members, pa.string()),
                                                                  "年龄": pa.array(ages, pa.int64())}), "m.csv")
    back = list(reversed(range(len(members))))
    shuffled = load_tables(houfu.load(), main, "h.csv", pa.table({"户编号": pa.array([members[i] for i in back],
                                                                                  pa.string()),
                                                                  "年龄": pa.array([ages[i] for i in back],
                                                                                  pa.int64())}), "m.csv")
    a, b = in_order.caseload.members, shuffled.caseload.members
    assert a.owner.tolist() == sorted(a.owner.tolist()) == b.owner.tolist()
    assert a.known.tolist() == b.known.tolist() == [h in members for h in ("h1", "h2", "h3")]
    assert a.table.column("age").tolist() == ages
    # Within a household the shuffled file lists its members backwards, and the join keeps the file's order.
    got = sorted(zip(b.owner.tolist(), b.table.column("age").tolist(), strict=True))
    assert got == list(zip(a.owner.tolist(), ages, strict=True))
