"""`houfu kb scaffold` (issue 14, §1): a new document drafted from its scraped page.

The measure of the scaffold is what it recovers of the two hand-made documents from their own scrapes: every
clause number, every responsibility list body by body with its role, and the parameters. Then the other
wordings a county document uses, the scrape damage it proposes to repair, and the draft folder it writes,
which `kb validate` fails on exactly its TODOs and which decides nothing until it is finished.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

import houfu
from houfu.cli.commands import main
from houfu.kb.ingest import analyse, damage_guesses, draft_parameters, outline, parse_responsibility
from houfu.kb.loader import load
from houfu.kb.validate import validate
from tests.new_documents import BUNDLED

ROOT = Path(__file__).resolve().parent.parent
KB = houfu.load()


def _recall(doc_id: str) -> dict[str, tuple[int, int]]:
    d = KB.documents[doc_id]
    draft = analyse(d.scraped_text, KB, d.doc.jurisdiction)
    numbers = {c.number for c in draft.outline.clauses}
    clauses = (sum(c.number in numbers for c in d.clauses), len(d.clauses))
    got_bodies = want_bodies = 0
    for c in d.clauses:
        if c.responsibility is None:
            continue
        r = draft.responsibilities.get(c.number)
        read = [(b.as_written, b.role, b.body) for b in r.bodies] if r else []
        want = [(b.as_written, c.responsibility.role_of(b), b.body) for b in c.responsibility.bodies]
        want_bodies += len(want)
        got_bodies += sum(1 for w in want if w in read)
    params = [(c.number, p) for c in d.clauses for m in c.measures for p in m.parameters]
    found = sum(1 for number, p in params if any(
        (g.value, g.unit, g.bound) == (p.value, p.unit, p.bound) for g in draft.parameters.get(number, [])))
    return {"clause numbers": clauses, "responsibility bodies": (got_bodies, want_bodies),
            "parameters": (found, len(params))}


@pytest.mark.parametrize("doc_id", ["dingnan-2023", "shiyan-2019"])
def test_the_scaffold_recovers_what_the_hand_made_knowledge_base_holds(doc_id):
    r = _recall(doc_id)
    assert r["clause numbers"][0] == r["clause numbers"][1] > 10, r
    assert r["responsibility bodies"][0] == r["responsibility bodies"][1], r  # body by body, role and id
    found, total = r["parameters"]
    assert total and found / total >= 0.9, r


def test_the_seed_damage_is_proposed_for_repair_as_the_hand_made_documents_repaired_it():
    for doc_id in ("dingnan-2023", "shiyan-2019"):
        d = KB.documents[doc_id]
        draft = analyse(d.scraped_text, KB, d.doc.jurisdiction)
        proposed = {(g.scraped, g.repaired) for g in draft.repairs}
        # Each hand repair of numbering, dates, 文号 and broken lines is proposed in substance.
        for rep in d.doc.repairs:
            if any(k in rep.reason for k in ("Item number", "Part number", "Date characters", "broken across")):
                assert any(rep.repaired.replace("\n", "") in (new or "").replace("\n", "") or
                           (new or "").replace("\n", "") in rep.repaired.replace("\n", "")
                           for _, new in proposed), (doc_id, rep.scraped)
        # And nothing is applied that a person has not seen: every applied repair is listed.
        assert d.doc.chrome and {c.text.replace("\xa0", " ") for c in d.doc.chrome} <= {
            g.scraped.replace("\xa0", " ") for g in draft.chrome}


COUNTY = """首页 > 政务公开 > 文件
关于印发《信丰县易地搬迁后续扶持三年行动方案》的通知
信府办字〔2024〕12号
各乡镇人民政府,县直各单位:
现将《信丰县易地搬迁后续扶持三年行动方案》印发给你们,请认真贯彻执行。
信丰县人民政府办公室
2024年3月8日
信丰县易地搬迁后续扶持三年行动方案
为落实《江西省易地搬迁后续扶持工作方案》(赣发改振兴〔2023〕88号)要求,制定本方案。
一、目标任务
到2025年底,安置点就业率达到90%以上。
二、重点工作
(一)稳定就业。每半年开展不少于1次招聘会,对跨省务工人员给予一次性交通补贴300元。(县人力资源和社会保障局牵头指导推进)
(二)技能培训。
1.开展订单式培训,每人每天补贴30元,最长不超过15天。
2.培训合格率不低于80%。
(牵头单位:县人社局;配合单位:县财政局、县乡村振兴局)
(三)产业帮扶。支持建设帮扶车间,每个车间补贴不超过5万元。(县乡村振兴局牵头,县农业农村局、县工信局按职责分工负责)
(五)社区治理。每月走访搬迁户。
责任单位:县民政局、各乡镇
"""


def test_a_county_document_in_other_wordings_is_outlined_with_its_gaps_flagged():
    lines = COUNTY.splitlines()
    plan = outline(lines, lines.index("信丰县易地搬迁后续扶持三年行动方案") + 1)
    assert [c.number for c in plan.clauses] == ["序言", "一", "二(一)", "二(二)", "二(三)", "二(五)"]
    assert any("(五)" in p and "(三)" in p for p in plan.problems)  # 二(四) is missing
    assert "1.开展订单式培训" in plan.clauses[3].text  # 1. under (二) stays with its item


def test_every_responsibility_wording_is_read_body_by_body_with_roles_and_alias_variants():
    lead_only = parse_responsibility("……招聘会。(县人力资源和社会保障局牵头指导推进)", KB, "dingnan")
    assert [(b.as_written, b.role, b.body) for b in lead_only.bodies] == [("县人力资源和社会保障局", "lead", "dn_hrss")]
    labelled = parse_responsibility("2.培训合格率不低于80%。\n(牵头单位:县人社局;配合单位:县财政局、县乡村振兴局)",
                                    KB, "dingnan")
    assert [(b.as_written, b.role) for b in labelled.bodies] == [
        ("县人社局", "lead"), ("县财政局", "shared"), ("县乡村振兴局", "shared")]
    mixed = parse_responsibility("……补贴。(县乡村振兴局牵头,县农业农村局、县工信局按职责分工负责)", KB, "dingnan")
    assert [(b.as_written, b.role) for b in mixed.bodies] == [
        ("县乡村振兴局", "lead"), ("县农业农村局", "shared"), ("县工信局", "shared")]
    assert mixed.form == "mixed"
    line = parse_responsibility("每月走访搬迁户。\n责任单位:县民政局、各乡镇", KB, "dingnan")
    assert [b.as_written for b in line.bodies] == ["县民政局", "各乡镇"] and line.form == "line"
    # A name is scoped by the jurisdiction: Dingnan's 县人社局 is not another county's, which stays unresolved.
    elsewhere = parse_responsibility("(县人社局牵头负责)", KB, "yunxi")
    assert [(b.as_written, b.body) for b in elsewhere.bodies] == [("县人社局", None)]
    assert parse_responsibility("推动一体化建设。积极将安置点纳入规划。", KB, "dingnan") is None


@pytest.mark.parametrize("text,value,unit,bound", [
    ("800人以上", 800, "people", "min"),
    ("每季度开展不少于1次", 1, "times_per_quarter", "min"),
    ("每年至少接受1次", 1, "times_per_year", "min"),
    ("每月回访", 1, "times_per_month", "min"),
    ("最高补贴不超过1万元", 10000, "yuan", "max"),
    ("补贴期限最长3年", 3, "years", "max"),
    ("不低于20年", 20, "years", "min"),
    ("就业率达到90%以上", 90, "percent", "min"),
    ("收入低于5000元", 5000, "yuan", "max"),
    ("以16周岁以上", 16, "age", "min"),
    ("截至2020年底", 2020, "calendar_year_end", "baseline"),
    ("补贴300元", 300, "yuan", "exact"),
])
def test_each_number_becomes_a_draft_parameter_with_its_unit_and_bound(text, value, unit, bound):
    got = draft_parameters(text)
    assert any((p.value, p.unit, p.bound) == (value, unit, bound) and p.text in text for p in got), got


def test_a_number_without_a_known_unit_is_still_drafted_and_dates_and_document_numbers_are_not():
    got = draft_parameters("按照赣发改振兴〔2023〕88号,于2024年3月8日前达到3级")
    assert [(p.value, p.unknown_unit) for p in got] == [(3.0, True)]


def test_scrape_damage_is_proposed_never_applied_silently():
    lines = ["十堰市扶贫攻坚领导小组", "2019916", "根据《意见》(鄂扶组发201910)文件精神", "定南县巩固拓展脱贫攻坚成果同乡村振兴有效",
             "衔接工作领导小组办公室", "对于800人以上)安置点,按程序单独成立村(社区)"]
    got = {g.reason.split(";")[0]: (g.scraped, g.repaired) for g in damage_guesses(lines, None)}
    assert got["the date lost its 年/月/日"] == ("2019916", "2019年9月16日")
    assert got["a document number (文号) lost its brackets 〔〕 and 号"][1] == "鄂扶组发〔2019〕10号"
    assert got["one line broken in two by the page layout"][1].endswith("有效衔接工作领导小组办公室")
    bracket = next(v for k, v in got.items() if k.startswith("a closing bracket"))
    assert bracket[1] is None  # a lost word: for a person to restore, not guessed


@pytest.fixture
def policies(tmp_path):
    folder = tmp_path / "policies"
    shutil.copytree(ROOT / "policies", folder, ignore=shutil.ignore_patterns("__pycache__"))
    return folder


def test_a_scaffolded_folder_fails_validation_only_on_its_todos_and_decides_nothing_until_done(policies, tmp_path):
    scraped = tmp_path / "page.txt"
    scraped.write_text(KB.documents["shiyan-2019"].scraped_text, encoding="utf-8")
    got = CliRunner().invoke(main, ["--policies", str(policies), "kb", "scaffold", str(scraped), "--id",
                                    "shiyan-redraft", "--jurisdiction", "shiyan", "--prefix", "sr", "--json"])
    assert got.exit_code == 0, got.output
    kb = load(policies)
    errors = [e for e in validate(kb) if "shiyan-redraft" in str(e.file)]
    assert errors and all(e.message.startswith("TODO") for e in errors), [e for e in errors
                                                                          if not e.message.startswith("TODO")][:5]
    assert kb.documents["shiyan-redraft"].draft
    report = houfu.evaluator(kb).determine(kb.models.household.model_validate(
        {"id": "X", "jurisdiction": "郧阳区"}), None)
    assert [d.id for d in report.documents] == ["shiyan-2019"]  # the draft speaks to no household
    stats = CliRunner().invoke(main, ["--policies", str(policies), "kb", "stats", "--json"])
    from houfu.kb.validate import drafts

    assert json.loads(stats.output)["documents"]["shiyan-redraft"]["drafts"] == len(
        drafts(kb.documents["shiyan-redraft"])) > 0
    assert json.loads(stats.output)["documents"]["shiyan-2019"]["drafts"] == 0
    again = CliRunner().invoke(main, ["--policies", str(policies), "kb", "scaffold", str(scraped), "--id",
                                      "shiyan-redraft"])
    assert again.exit_code == 2 and "--force" in again.output and "Traceback" not in again.output


@pytest.mark.parametrize("args,says", [
    (["--id", "Bad Id"], "lower-case letters"),
    (["--id", "ok-2024", "--jurisdiction", "atlantis"], "unknown jurisdiction"),
])
def test_bad_scaffold_arguments_are_one_line(tmp_path, args, says):
    page = tmp_path / "p.txt"
    page.write_text(COUNTY, encoding="utf-8")
    got = CliRunner().invoke(main, ["kb", "scaffold", str(page), "-o", str(tmp_path / "out"), *args])
    assert got.exit_code == 2 and says in got.output and len(got.output.strip().splitlines()) == 1


def test_a_missing_or_unreadable_page_is_one_line(tmp_path):
    got = CliRunner().invoke(main, ["kb", "scaffold", str(tmp_path / "none.txt"), "--id", "x-1", "-o", str(tmp_path)])
    assert got.exit_code == 2 and "no such file" in got.output
    broken = tmp_path / "broken.txt"
    broken.write_bytes(COUNTY.encode("utf-8")[:40] + b"\xff\xfe\xfd" + COUNTY.encode("utf-8")[40:])
    got = CliRunner().invoke(main, ["kb", "scaffold", str(broken), "--id", "x-1", "-o", str(tmp_path)])
    assert got.exit_code == 2 and "byte" in got.output and len(got.output.strip().splitlines()) == 1
    gbk = tmp_path / "gbk.txt"
    gbk.write_bytes(COUNTY.encode("gbk"))
    got = CliRunner().invoke(main, ["kb", "scaffold", str(gbk), "--id", "x-1", "-o", str(tmp_path), "--encoding",
                                    "utf-8"])
    assert got.exit_code == 2 and "not valid utf-8" in got.output


def test_a_page_a_government_site_serves_in_gbk_is_drafted_as_its_utf8_twin(tmp_path):
    """Many county sites serve GBK: the page's encoding is detected (or given) and the draft is UTF-8."""
    drafts = {}
    for enc in ("utf-8", "gbk"):
        page = tmp_path / f"{enc}.txt"
        page.write_bytes(COUNTY.encode(enc))
        got = CliRunner().invoke(main, ["kb", "scaffold", str(page), "--id", f"x-{enc}", "-o", str(tmp_path / "out"),
                                        "--json"])
        assert got.exit_code == 0, got.output
        folder = tmp_path / "out" / f"x-{enc}"
        drafts[enc] = {n: (folder / n).read_text(encoding="utf-8") for n in ("scraped.txt", "source.txt")}
    assert drafts["gbk"] == drafts["utf-8"] and drafts["gbk"]["scraped.txt"] == COUNTY


def test_full_width_brackets_and_punctuation_are_read_as_the_ascii_ones_and_quoted_as_typed():
    lp, rp, colon, semi, comma = "\uff08", "\uff09", "\uff1a", "\uff1b", "\uff0c"
    page = "\n".join([
        "一、重点工作",
        f"{lp}一{rp}稳定就业。每年开展不少于2次招聘会。{lp}县人社局牵头{comma}县财政局配合{rp}",
        f"{lp}二{rp}技能培训。培训合格率不低于80\uff05。",
        f"{lp}牵头单位{colon}县人社局{semi}配合单位{colon}县财政局、县乡村振兴局{rp}",
    ])
    plan = outline(page.splitlines())
    assert [c.number for c in plan.clauses] == ["一(一)", "一(二)"]
    assert plan.clauses[0].text.startswith(f"{lp}一{rp}")  # verbatim, bracket as typed
    first = parse_responsibility(plan.clauses[0].text, KB, "dingnan")
    assert [(b.as_written, b.role) for b in first.bodies] == [("县人社局", "lead"), ("县财政局", "shared")]
    second = parse_responsibility(plan.clauses[1].text, KB, "dingnan")
    assert [(b.as_written, b.role) for b in second.bodies] == [
        ("县人社局", "lead"), ("县财政局", "shared"), ("县乡村振兴局", "shared")]
    assert any((p.value, p.unit) == (80, "percent") for p in draft_parameters(plan.clauses[1].text))


def test_a_name_several_bodies_share_asks_which_and_the_jurisdiction_picks_one():
    from houfu.kb.graph import resolve_body
    from houfu.kb.loader import KBError

    shared = "十堰市各县(市、区)人民政府"  # two Shiyan bodies carry this full name
    with pytest.raises(KBError, match="names 2 bodies") as err:
        resolve_body(KB, shared)
    assert "sy_localities" in err.value.message and "sy_county_governments" in err.value.message
    bundled = houfu.load(BUNDLED)  # one county (Dingnan) has a 县人社局 there
    assert resolve_body(bundled, "县人社局", "定南县") == resolve_body(bundled, "县人社局") == "dn_hrss"
    assert resolve_body(KB, "县人社局", "定南县") == "dn_hrss"  # whatever other counties the folder holds
    assert resolve_body(KB, "dn_hrss") == "dn_hrss"
    got = CliRunner().invoke(main, ["duties", "县人社局", "--jurisdiction", "atlantis"])
    assert got.exit_code == 1 and "unknown jurisdiction" in got.output and "Traceback" not in got.output
    got = CliRunner().invoke(main, ["duties", shared])
    assert got.exit_code == 1 and "say which" in got.output


def test_units_are_data_a_new_one_is_read_by_its_words_and_an_unlisted_one_is_refused(tmp_path):
    folder = tmp_path / "policies"
    shutil.copytree(ROOT / "policies", folder, ignore=shutil.ignore_patterns("__pycache__"))
    assert [(p.value, p.unit) for p in draft_parameters("每半年开展不少于2次", KB)] == [(2.0, "times_per_half_year")]
    assert [(p.value, p.unit) for p in draft_parameters("连续就业满6个月", KB)] == [(6.0, "months")]
    # A county text counting in 工作日: one line of data, no Python.
    with (folder / "units.yaml").open("a", encoding="utf-8") as fh:
        fh.write("  - {id: working_days, zh: 个工作日, en: working days, words: [个工作日]}\n")
    kb = load(folder)
    assert [(p.value, p.unit) for p in draft_parameters("5个工作日内办结", kb)] == [(5.0, "working_days")]
    clauses = folder / "shiyan-2019" / "clauses.yaml"
    clauses.write_text(clauses.read_text(encoding="utf-8").replace("unit: people", "unit: persons", 1), "utf-8")
    errors = validate(load(folder))
    assert any(e.key.endswith(".unit") and "unknown unit 'persons'" in e.message for e in errors)


def test_a_number_the_scaffold_cannot_place_in_a_sentence_is_listed_never_dropped(tmp_path):
    page = tmp_path / "p.txt"
    page.write_text("县方案\n一、主要措施\n(一)开展3项行动。各乡镇要落实责任。\n", encoding="utf-8")
    got = CliRunner().invoke(main, ["kb", "scaffold", str(page), "--id", "x-2024", "-o", str(tmp_path), "--json"])
    assert got.exit_code == 0, got.output
    import json

    todo = json.loads(got.output)["todo"]
    assert any("3项" in t and "no drafted sentence" in t for t in todo)


@pytest.mark.parametrize("text,date,words", [
    ("2024年底前建成", "2024-12-31", "2024年底前"),
    ("2024年6月底前,各安置点建成就业服务站", "2024-06-30", "2024年6月底前"),
    ("2024年2月底前完成", "2024-02-29", "2024年2月底前"),  # a leap year's February
    ("2025年3月前完成摸底", "2025-02-28", "2025年3月前"),  # before March begins (the reading says to check)
    ("于2024年3月8日前达到", "2024-03-07", "2024年3月8日前"),  # before the day itself
    ("到2025年底,安置点全部建成", "2025-12-31", "2025年底"),  # a goal's target date (issue 26), not a baseline
    ("到2025年6月底,安置点全部建成", "2025-06-30", "2025年6月底"),
])
def test_a_date_something_is_due_by_is_drafted_as_a_deadline_not_as_numbers(text, date, words):
    from houfu.kb.ingest import draft_deadlines

    (deadline,) = draft_deadlines(text)
    assert (deadline.date.isoformat(), deadline.text) == (date, words)
    assert draft_parameters(text) == []  # its year and month are no parameter's


def test_the_execution_period_and_the_texts_own_counting_convention_are_drafted_for_review():
    from houfu.kb.ingest import draft_metadata

    meta = draft_metadata(["本方案自印发之日起施行,执行期至2026年12月31日。",
                           "本方案所称“以上”“不少于”均含本数,“低于”不含本数。"])
    assert meta["in_force_until"] == {"date": "2026-12-31", "quote": "执行期至2026年12月31日",
                                      "reading": "the day named, included"}
    assert meta["convention"]["inclusive"] == ["以上", "不少于"] and meta["convention"]["exclusive"] == ["低于"]
    assert draft_metadata(["没有执行期的方案。"])["convention"] is None


@pytest.mark.parametrize("sentence,force,modality", [
    ("推动帮扶车间规范化可持续运营。", "directive", "obligation"),  # 可持续 is not 可
    ("提升基本公共服务可及性。", "directive", "obligation"),  # 可及 is not 可
    ("发展可致富的特色产业。", "directive", "obligation"),  # 可致富 is not 可
    ("认真落实《关于支持易地扶贫搬迁后续扶持的若干意见》。", "directive", "obligation"),  # 支持 in a cited title
    ("贯彻《就业支持办法》,引导企业吸纳搬迁群众就业。", "encouraged", "obligation"),  # the verb outside it
    ("有条件的地方可开通远程招聘系统。", "conditional", "permission"),  # 可 as a word of its own
    ("支持搬迁群众自主创业。", "encouraged", "obligation"),
    ("不得以未落户为由拒绝入学。", "mandatory", "prohibition"),
])
def test_the_scaffold_drafts_force_from_words_not_characters(sentence, force, modality):
    """Issue 26, item 6: the draft's force is the force rubric's reading of jieba's words (7 of 55 measures of
    the real pages were read from characters inside words)."""
    from houfu.kb.ingest import draft_measures

    (m,) = draft_measures(sentence, None)
    assert (m.force.value, m.modality.value) == (force, modality)


#: Issue 26, item 3: every phrasing of a responsibility list the issue names, read as a sequence of bodies and
#: role markers; (names and roles, form, what is flagged for a person).
LISTS = [
    ("做好就业服务。(县乡村振兴局牵头负责,县人社局、县财政局、县发改局,各乡镇人民政府按职责分工负责)",
     [("县乡村振兴局", "lead"), ("县人社局", "shared"), ("县财政局", "shared"), ("县发改局", "shared"),
      ("各乡镇人民政府", "shared")], "mixed", 0),
    ("做好就业服务。\n牵头单位:县发改局。\n协同单位:县人社局、县财政局。",
     [("县发改局", "lead"), ("县人社局", "shared"), ("县财政局", "shared")], "labelled", 0),
    ("做好就业服务。\n牵头单位:县发改局。", [("县发改局", "lead")], "line", 0),  # lead, and no 。 in the name
    ("做好就业服务。\n配合单位:县人社局", [("县人社局", "shared")], "line", 0),
    ("做好就业服务。\n责任单位:县发改局、县人社局", [("县发改局", "shared"), ("县人社局", "shared")], "line", 0),
    ("做好就业服务。(牵头单位:县人社局;配合单位:县财政局、县乡村振兴局)",
     [("县人社局", "lead"), ("县财政局", "shared"), ("县乡村振兴局", "shared")], "labelled", 0),
    ("做好就业服务。(县人社局牵头,县财政局、县民政局配合)",
     [("县人社局", "lead"), ("县财政局", "shared"), ("县民政局", "shared")], "mixed", 0),
    ("做好就业服务。(县人社局牵头,县财政局协同)", [("县人社局", "lead"), ("县财政局", "shared")], "mixed", 0),
    ("做好就业服务。(县人社局牵头指导推进)", [("县人社局", "lead")], "trailing_list", 0),
    ("做好就业服务。(县人社局、县财政局等按职责分工负责)", [("县人社局", "shared"), ("县财政局", "shared")],
     "trailing_list", 0),
    # a name with no role marker after the lead: read as shared, and flagged, never silently
    ("做好就业服务。(县人社局牵头,县财政局、县民政局)",
     [("县人社局", "lead"), ("县财政局", "shared"), ("县民政局", "shared")], "mixed", 2),
]


@pytest.mark.parametrize("text,read,form,flagged", LISTS)
def test_a_responsibility_list_is_read_as_a_grammar_of_bodies_and_role_markers(text, read, form, flagged):
    r = parse_responsibility(text, KB, "dingnan")
    assert [(b.as_written, b.role) for b in r.bodies] == read
    assert r.form == form and len(r.problems) == flagged and text.endswith(r.list_text)
    assert r.open_list == ("等按" in text)


def test_the_preambles_convention_makes_the_first_listed_body_lead():
    from houfu.kb.ingest import first_listed_leads

    preamble = "现将有关事项通知如下(项目分工列在首位的为牵头单位,其他为主要参加单位)。"
    leads = first_listed_leads(preamble)
    assert leads and "列在首位" in leads
    r = parse_responsibility("做好就业服务。\n责任单位:县发改局、县人社局、县财政局", KB, "dingnan", leads)
    assert [(b.as_written, b.role) for b in r.bodies] == [("县发改局", "lead"), ("县人社局", "shared"),
                                                          ("县财政局", "shared")]
    assert r.basis == leads
    # A list that marks its own roles keeps them; and without the convention the first is not a lead.
    own = parse_responsibility("做好。(县人社局牵头,县财政局配合)", KB, "dingnan", leads)
    assert [b.role for b in own.bodies] == ["lead", "shared"] and own.basis is None
    assert first_listed_leads(KB.documents["dingnan-2023"].source_text) is None


def test_a_list_the_grammar_cannot_read_fully_is_a_todo_for_a_person(tmp_path):
    page = tmp_path / "p.txt"
    page.write_text("县方案\n一、主要措施\n(一)稳定就业。各乡镇要落实责任。(县人社局牵头,县财政局、县民政局)\n"
                    "(二)技能培训。开展培训。(县人社局、县财政局等按职责分工负责)\n", encoding="utf-8")
    got = CliRunner().invoke(main, ["kb", "scaffold", str(page), "--id", "x-2024", "-o", str(tmp_path), "--json"])
    assert got.exit_code == 0, got.output
    todo = json.loads(got.output)["todo"]
    assert sum("not read fully" in t and "x24.1.1" in t for t in todo) == 2
    assert any("x24.1.2" in t and "等" in t for t in todo)


def test_the_bundled_documents_lists_read_as_their_data_says_with_nothing_flagged():
    for doc_id in ("dingnan-2023", "shiyan-2019"):
        d = KB.documents[doc_id]
        for c in d.clauses:
            r = parse_responsibility(c.text, KB, d.doc.jurisdiction)
            assert (r is None) == (c.responsibility is None), c.id
            if r is not None:
                assert r.problems == [] and r.list_text == c.responsibility.list_text, c.id
                assert [(b.as_written, b.role) for b in r.bodies] == [
                    (b.as_written, c.responsibility.role_of(b)) for b in c.responsibility.bodies], c.id


def test_a_year_end_the_text_measures_against_stays_a_baseline():
    """不低于2020年底水平 is a level to compare with, not a date to be done by."""
    from houfu.kb.ingest import draft_deadlines

    text = "以确保就业人数不低于2020年底水平为底线"
    assert draft_deadlines(text) == []
    assert [(p.value, p.unit, p.bound) for p in draft_parameters(text)] == [(2020.0, "calendar_year_end", "baseline")]
