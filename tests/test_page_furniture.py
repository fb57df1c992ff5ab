"""Page furniture and metadata from government sites (issue 26, items 4 and 5)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import houfu
from houfu.cli.commands import main
from houfu.kb.ingest import (
    analyse,
    chrome_guesses,
    damage_guesses,
    draft_title,
    level_of,
    metadata_row,
    resolve,
)
from tests.new_documents import BUNDLED

KB = houfu.load()


@pytest.mark.parametrize("line,fields", [
    ("索 引 号: | 000014349/2023-1274028 | 成文日期: | 2023-05-10 |",
     {"index_number": "000014349/2023-1274028", "signed": "2023-05-10"}),
    ("发布机构: | 云南省人民政府办公厅 | 文 号: | 云政办发〔2023〕21号 |",
     {"issuer": "云南省人民政府办公厅", "doc_number": "云政办发〔2023〕21号"}),
    ("发文字号:黔东南府办发〔2022〕15号", {"doc_number": "黔东南府办发〔2022〕15号"}),
    ("主题分类:城乡建设\t发布日期:2023-05-16", {"topic": "城乡建设", "published": "2023-05-16"}),
    ("文号是本方案的依据。", {}),  # a sentence that starts with a label's word is no table row
    ("(一)稳定就业。每年开展2次招聘会。", {}),
])
def test_a_metadata_table_row_is_read_field_by_field(line, fields):
    assert metadata_row(line) == fields


def test_share_print_and_breadcrumb_bars_are_proposed_as_chrome():
    lines = ["首页 > 政务公开 > 文件", "您现在的位置:首页>>政务公开>>政策文件", "分享到: 微信 微博 QQ空间",
             "【打印本页】【关闭窗口】", "扫一扫在手机打开当前页", "转载请注明来源", "【字体:大 中 小】",
             "索 引 号: | 000014349/2023-1274028 | 成文日期: | 2023-05-10 |", "一、总体目标",
             "(一)促进稳定就业。每年组织不少于2次专场招聘会。"]
    assert [g.scraped for g in chrome_guesses(lines)] == lines[:8]


@pytest.mark.parametrize("lines,title,where", [
    (["关于印发《某县后续扶持方案》的通知"], "某县后续扶持方案", "关于印发《…》的通知"),
    (["经县人民政府同意,现将《某县后续扶持方案》印发给你们,请认真执行。"], "某县后续扶持方案", "现将《…》印发你们"),
    (["现将《某县后续扶持方案》印发你们。"], "某县后续扶持方案", "现将《…》印发你们"),
    (["黔东南州易地扶贫搬迁安置点后续扶持工作实施方案", "为做好…工作,制定本方案。"],
     "黔东南州易地扶贫搬迁安置点后续扶持工作实施方案", "a title line"),
    (["为做好工作,制定本方案。"], None, None),
])
def test_titles_are_found_in_all_usual_forms(lines, title, where):
    assert draft_title(lines) == (title, where)


def test_a_title_in_the_metadata_table_is_read_from_it():
    assert draft_title([], {"title": "自治区人民政府办公厅关于印发宁夏回族自治区易地搬迁后续扶持实施意见的通知"}) == (
        "宁夏回族自治区易地搬迁后续扶持实施意见", "the page's metadata table")


@pytest.mark.parametrize("issuer,level", [
    ("云南省人民政府办公厅", "province"), ("宁夏回族自治区人民政府办公厅", "province"),
    ("黔东南州人民政府办公室", "city"), ("怀化市人民政府", "city"), ("沅陵县人民政府办公室", "county"),
    ("湖南省怀化市沅陵县人民政府", "county"), ("郧阳区人民政府", "county"), ("中共姚安县委办公室", "county"),
    ("县人力资源和社会保障局", None), (None, None),
])
def test_the_level_is_judged_from_the_issuers_place(issuer, level):
    assert level_of(issuer) == level


def test_a_document_number_is_never_joined_to_the_issuer_below_it_nor_two_issuers_fused():
    lines = ["关于印发《沅陵县方案》的通知", "沅政办函〔2024〕32号", "沅陵县人民政府办公室", "2024年4月2日"]
    assert not [g for g in damage_guesses(lines, "沅陵县方案") if "〔2024〕" in g.scraped]
    two = ["中共姚安县委办公室", "姚安县人民政府办公室", "2024年1月5日"]
    assert not [g for g in damage_guesses(two, None) if g.repaired is not None]
    # A name broken after its place's body is still joined, as the bundled documents' were.
    broken = ["信丰县人民政府", "办公室", "2024年3月15日"]
    assert [g.repaired for g in damage_guesses(broken, None)] == ["人民政府办公室"]
    draft = analyse("\n".join(lines[:1] + lines[1:]) + "\n一、任务\n(一)就业。开展培训。\n", KB, None)
    assert draft.metadata["doc_number"] == "沅政办函〔2024〕32号"
    assert draft.metadata["issuer"] == "沅陵县人民政府办公室"


def test_without_a_jurisdiction_a_county_body_is_no_ones_and_is_asked_about(tmp_path):
    bundled = houfu.load(BUNDLED)  # one county (Dingnan) has a 县人社局 there
    assert resolve(bundled, "县人力资源和社会保障局", None) == (None, ["dn_hrss"])
    assert resolve(bundled, "县人力资源和社会保障局", "dingnan") == ("dn_hrss", [])
    page = tmp_path / "p.txt"
    page.write_text("关于印发《定南县就业方案》的通知\n定府办字〔2024〕3号\n定南县人民政府办公室\n2024年3月1日\n"
                    "定南县就业方案\n一、任务\n(一)就业。开展培训。(县人力资源和社会保障局牵头负责)\n", encoding="utf-8")
    got = CliRunner().invoke(main, ["--policies", str(BUNDLED), "kb", "scaffold", str(page), "--id", "dnjy-2024",
                                    "-o", str(tmp_path), "--json"])
    assert got.exit_code == 0, got.output
    todo = json.loads(got.output)["todo"]
    assert any("县人力资源和社会保障局: drafted as a new body" in t and "dn_hrss (定南县)" in t for t in todo)
    assert any("jurisdiction: the issuer names 定南县" in t and "--jurisdiction dingnan" in t for t in todo)
    clauses = (tmp_path / "dnjy-2024" / "clauses.yaml").read_text(encoding="utf-8")
    assert "dn_hrss" not in clauses and "TODO:县人力资源和社会保障局" in clauses


def test_a_document_number_the_scaffold_cannot_place_is_a_todo(tmp_path):
    page = tmp_path / "p.txt"
    page.write_text("某县就业方案\n另见某府办发〔2023〕7号和某府办发〔2023〕8号。\n一、任务\n(一)就业。开展培训。\n",
                    encoding="utf-8")
    got = CliRunner().invoke(main, ["kb", "scaffold", str(page), "--id", "mx-2024", "-o", str(tmp_path), "--json"])
    todo = json.loads(got.output)["todo"]
    assert sum("is not placed" in t for t in todo) == 2 and any("no 文号 found" in t for t in todo)


def test_every_repair_applied_to_the_draft_is_shown_in_the_report(tmp_path):
    page = tmp_path / "p.txt"
    page.write_text("关于印发《信丰县就业方案》的通知\n信丰县人民政府\n办公室\n2024年3月15日\n信丰县就业方案\n"
                    "一、任务\n(一)就业。开展培训。\n()社区。每月走访搬迁户。\n", encoding="utf-8")
    got = CliRunner().invoke(main, ["kb", "scaffold", str(page), "--id", "xf-2024", "-o", str(tmp_path)])
    assert got.exit_code == 0, got.output
    assert "repairs applied to the draft's source.txt" in got.output
    assert "'人民政府\\n办公室' -> '人民政府办公室'" in got.output and "-> '(二)社区。每月走访搬迁户" in got.output
