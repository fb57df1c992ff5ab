"""The household letter and the action summary (issues 10 and 19): action first, plain words from data worded by
modality, bearer and status, the handling office with its basis, the site's window from data, and nothing meant
for staff."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import yaml
from click.testing import CliRunner

from houfu.cli.commands import main

ROOT = Path(__file__).resolve().parent.parent
EX = ROOT / "examples"


def run(*args: object) -> str:
    r = CliRunner().invoke(main, [str(a) for a in args] + ["--as-of", "2026-01-01"])
    assert r.exit_code == 0, r.output
    return r.output


def section(text: str, start: str, end: str) -> str:
    return text[text.index(start):text.index(end, text.index(start))]


def test_the_letter_leads_with_money_then_applications_then_questions():
    zh = run("brief", "household", EX / "dingnan-household.yaml", "--format", "txt")
    order = [zh.index(h) for h in ("先办这几件事", "【可以领取的钱】", "【可以申请的事】", "【请带上材料或告诉工作人员】",
                                   "按文件规定,还要为您家做的", "政府为每户搬迁家庭做的事", "依据文件")]
    assert order == sorted(order)
    money = section(zh, "【可以领取的钱】", "【可以申请的事】")
    # The text leaves it to 按职责分工: the office is houfu's suggestion, said to be one; never "the first listed".
    assert "建华家政服务部本季度补贴 9,360 元" in money and "建议先到县人社局咨询" in money
    assert "等 5 个部门" not in zh and "写“建议”的部门,是按部门职责给出的建议" in zh


def test_duties_owed_to_every_household_are_one_paragraph_at_the_end():
    zh = run("brief", "household", EX / "dingnan-household.yaml", "--format", "txt")
    general = section(zh, "政府为每户搬迁家庭做的事", "到哪里办")
    paragraphs = [p for p in general.split("\n\n")[1:] if p.strip()]
    assert len(paragraphs) == 1 and "每月回访" in paragraphs[0]
    assert "每月回访" not in zh[:zh.index("政府为每户搬迁家庭做的事")]  # not restated as a benefit


def test_plain_words_come_from_data_not_the_policy_paraphrase():
    zh = run("brief", "household", EX / "dingnan-household.yaml", "--format", "txt")
    assert "县里要为有就业意愿但还没就业的搬迁群众" in zh  # plain.zh of dn.4.1.classified_assistance
    assert "对有意愿未就业的搬迁群众开展分类帮扶" not in zh  # its policy gloss


def test_each_item_has_a_short_citation_and_the_full_title_appears_once():
    for lang, short in (("zh", "定南方案 "), ("en", "Dingnan plan ")):
        text = run("brief", "household", EX / "dingnan-household.yaml", "--lang", lang, "--format", "txt")
        items = [ln for ln in text.splitlines() if ln.startswith("- ") and "定南县县城集中安置点融入" not in ln]
        assert items and all(f"({short}" in ln for ln in items if "?" not in ln and "?" not in ln)
        assert text.count("《定南县县城集中安置点融入新型城镇化实现高质量发展工作实施方案》") == 1


def test_the_letter_carries_the_date_the_name_and_the_site():
    zh = run("brief", "household", EX / "dingnan-elderly-couple.yaml", "--format", "txt")
    assert "刘德福户(编号 DN-2023-0588) · 定南县县城集中安置点 · 2026年1月1日" in zh
    en = run("brief", "household", EX / "dingnan-elderly-couple.yaml", "--lang", "en", "--format", "txt")
    assert "1 January 2026" in en and "Dingnan county-seat centralized resettlement site" in en


def test_the_window_details_come_from_the_site_record_with_a_placeholder_when_unrecorded(tmp_path):
    zh = run("brief", "household", EX / "dingnan-elderly-couple.yaml", "--format", "txt")
    assert "地址、电话和办公时间尚未登记" in zh
    policies = tmp_path / "policies"
    shutil.copytree(ROOT / "policies", policies, ignore=shutil.ignore_patterns("__pycache__"))
    sites = yaml.safe_load((policies / "sites.yaml").read_text(encoding="utf-8"))
    sites["sites"][0]["window"] = {"address": "定南县历市镇安置社区服务中心一楼", "phone": "0797-0000000", "hours": None}
    (policies / "sites.yaml").write_text(yaml.safe_dump(sites, allow_unicode=True), encoding="utf-8")
    r = CliRunner().invoke(main, ["--policies", str(policies), "brief", "household",
                                  str(EX / "dingnan-elderly-couple.yaml"), "--format", "txt", "--as-of", "2026-01-01"])
    assert r.exit_code == 0, r.output
    assert "地址 定南县历市镇安置社区服务中心一楼;电话 0797-0000000;办公时间 尚未登记" in r.output


def test_applications_the_text_places_at_the_site_send_people_to_the_window():
    zh = run("brief", "household", EX / "dingnan-elderly-couple.yaml", "--format", "txt")
    apply = section(zh, "【可以申请的事】", "按文件规定,还要为您家做的")
    line = next(ln for ln in apply.splitlines() if "生活补贴" in ln)
    assert line.startswith("- 刘德福:") and "到安置点“一站式”服务窗口申请" in line and "(定南方案 七(一))" in line
    money = section(zh, "【可以领取的钱】", "【可以申请的事】")
    assert "城乡低保" in money and "文件没有写明金额" in money  # no amount is invented


def test_a_child_refused_a_school_place_leads_the_letter_and_only_that_child_is_named():
    zh = run("brief", "household", EX / "dingnan-school-family.yaml", "--format", "txt")
    first = section(zh, "【可以申请的事】", "按文件规定,还要为您家做的").splitlines()[1]
    assert first.startswith("- 曾晓东:孩子因未落户被学校拒收的") and "建议先到县教科体局咨询" in first
    assert "曾晓玲" not in first
    report = json.loads(run("check", EX / "dingnan-school-family.yaml", "--json"))[0]
    ban = next(d for d in report["determinations"] if d["measure_id"] == "dn.3.1.no_refusal_without_hukou")
    assert ban["act"] is True and ban["for_members"] == [3]


def test_a_child_not_refused_leaves_the_ban_among_the_entitlements(tmp_path):
    data = yaml.safe_load((EX / "dingnan-school-family.yaml").read_text(encoding="utf-8"))
    data["members"][3]["refused_school_place"] = False
    f = tmp_path / "h.yaml"
    f.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    zh = run("brief", "household", f, "--format", "txt")
    assert "孩子因未落户被学校拒收的" not in zh
    assert "曾晓玲、曾晓东:学校不得以未落户为由拒绝义务教育阶段的孩子入学" in section(
        zh, "按文件规定,还要为您家做的", "已经落实的")


def test_two_members_running_one_business_get_one_subsidy_naming_the_business():
    for lang, expect in (("zh", "桂英美玲小吃店本季度补贴 5,460 元"), ("en", "This quarter's subsidy for 桂英美玲小吃店: 5,460 yuan")):
        text = run("brief", "household", EX / "dingnan-incubator-business.yaml", "--lang", lang, "--format", "txt")
        assert text.count(expect) == 1


def test_an_out_of_scope_household_is_told_why_citing_the_scope_clause_and_nothing_else_is_promised():
    zh = run("brief", "household", EX / "dingnan-town-household.yaml", "--format", "txt")
    assert "不适用于您家:该文件只针对" in zh and "(定南方案 一)" in zh
    assert "先办这几件事" not in zh and "到哪里办" not in zh and "一站式" not in zh


def test_a_satisfied_entitlement_is_shown_as_in_place():
    zh = run("brief", "household", EX / "dingnan-household.yaml", "--format", "txt")
    assert "医疗保险:已经参保(据您家提供的情况)" in section(zh, "已经落实的", "还要了解情况")


def test_the_walk_in_is_asked_six_questions_and_told_how_many_follow():
    zh = run("brief", "household", EX / "walk-in.yaml", "--format", "txt")
    ask = section(zh, "【请带上材料或告诉工作人员】", "还要了解情况")
    report = json.loads(run("check", EX / "walk-in.yaml", "--json"))[0]
    assert len([ln for ln in ask.splitlines() if ln.startswith("- ") and "还有" not in ln]) == 6
    assert f"还有 {len(report['questions']) - 6} 个问题" in ask
    assert not any("陈小妹" in ln and ("工作" in ln or "劳动" in ln) for ln in ask.splitlines())


def test_houfu_check_shows_the_same_action_summary_before_the_statuses():
    out = run("check", EX / "dingnan-household.yaml")
    assert out.index("DO THESE FIRST") < out.index("APPLIES (")
    summary = out[out.index("DO THESE FIRST"):out.index("APPLIES (")]
    assert "建华家政服务部: 9,360 yuan this quarter" in summary
    assert "→ 县人社局 (houfu's suggestion by department duty; the text names no office)" in summary
    assert "赖秀英: 县里要为有就业意愿但还没就业的搬迁群众" in summary
    en = run("check", EX / "dingnan-household.yaml", "--lang", "en")
    assert "赖秀英: The county is to give relocated people who want work but have none" in en


def test_houfu_check_gives_an_out_of_scope_household_no_action_summary():
    out = run("check", EX / "dingnan-town-household.yaml")
    assert "DO THESE FIRST" not in out and "out of scope" in out


# --- issue 19: what the letter says is what the text says ------------------------------------------------------

def test_a_household_known_not_insured_is_told_what_to_do_not_that_it_is_enrolled(tmp_path):
    data = yaml.safe_load((EX / "shiyan-household.yaml").read_text(encoding="utf-8"))
    data.update(meets_medical_insurance_conditions=True, enrolled_medical_insurance=False)
    f = tmp_path / "h.yaml"
    f.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    en = run("brief", "household", f, "--lang", "en", "--format", "txt")
    assert "You are enrolled" not in en and "you are enrolled" not in en
    line = next(ln for ln in en.splitlines() if "basic medical insurance" in ln)
    assert "you can enrol" in line and "Suggested office: County Healthcare Security Bureau" in line
    zh = run("brief", "household", f, "--format", "txt")
    apply = section(zh, "【可以申请的事】", "按文件规定")
    assert "还没有参加基本医疗保险的,可以去办理参保。建议先到县(市、区)医保局咨询" in apply


def test_an_eligible_household_not_enrolled_in_pension_finds_it_among_the_actions():
    zh = run("brief", "household", EX / "dingnan-household.yaml", "--format", "txt")
    apply = section(zh, "【可以申请的事】", "【请带上材料")
    assert "还没有参加养老保险的,可以去办理参保。建议先到县人社局咨询" in apply
    assert "养老保险" not in section(zh, "按文件规定,还要为您家做的", "已经落实的")


def test_the_training_owed_is_the_localitys_duty_not_the_persons():
    zh = run("brief", "household", EX / "shiyan-household.yaml", "--format", "txt")
    assert "今年还应为王德明安排 1 次培训" in zh and "还需参加" not in zh
    en = run("brief", "household", EX / "shiyan-household.yaml", "--lang", "en", "--format", "txt")
    assert "王德明 is still owed 1 training this year" in en


def test_equal_public_services_are_the_countys_duty_not_the_households_state():
    zh = run("brief", "household", EX / "dingnan-household.yaml", "--format", "txt")
    assert "您家和城镇居民一样享受" not in zh
    assert "县里有关部门要为搬迁群众提供与城镇居民无差别的教育、医疗、养老、托育等服务" in zh


def test_business_registration_goes_to_market_regulation_and_microcredit_is_not_sent_to_finance():
    zh = run("brief", "household", EX / "dingnan-household.yaml", "--format", "txt")
    registration = next(ln for ln in zh.splitlines() if "个体经营" in ln)
    assert "建议先到县市场监督管理局咨询" in registration and "县人社局" not in registration
    credit = next(ln for ln in zh.splitlines() if "小额信贷" in ln)
    assert "县财政局" not in credit and "建议先到县乡村振兴局咨询" in credit


def test_an_office_the_text_names_is_the_texts_and_is_not_called_a_suggestion():
    zh = run("brief", "household", EX / "dingnan-household.yaml", "--format", "txt")
    line = next(ln for ln in zh.splitlines() if "历市镇派出所“一站式”办理" in ln)
    assert "办理:历市镇派出所。" in line and "建议" not in line


def test_staff_notices_stay_out_of_the_letter_and_on_the_caseworkers_screen():
    # Shiyan 2019 names no end date and is over five years old at this date; most of its sentences name no office.
    args = ("brief", "household", EX / "shiyan-household.yaml", "--format", "txt")
    r = CliRunner().invoke(main, [str(a) for a in args] + ["--as-of", "2026-11-30"])
    assert r.exit_code == 0, r.output
    assert "请核实该文件是否仍然有效" not in r.output and "文件没有写明具体部门" not in r.output
    assert "可以问为您出具本告知书的工作人员" in r.output
    check = CliRunner().invoke(main, ["check", str(EX / "shiyan-household.yaml"), "--as-of", "2026-11-30"])
    assert "check that it is still in force" in check.output and "the text names no office" in check.output
