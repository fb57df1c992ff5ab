"""Time in the scaffold's draft (issue 26, item 2): the execution period as the text states it, and a site's count
per period (安置点每季度至少举办1次) drafted as a quota whose first and last partial periods are named for a person to
read, never judged silently."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from houfu.authoring.scaffold import partial_periods
from houfu.cli.commands import main
from houfu.kb.ingest import execution_period
from houfu.kb.loader import load
from houfu.kb.validate import validate

ROOT = Path(__file__).resolve().parent.parent
D = dt.date


@pytest.mark.parametrize("period,start,end,says", [
    ("quarter", D(2025, 1, 1), D(2026, 12, 31), []),  # whole quarters from first to last
    ("quarter", D(2025, 1, 2), None, ["the first, 2025-Q1, is under it from 2025-01-02 only (89 of 90 days)"]),
    ("quarter", D(2025, 3, 31), D(2025, 12, 31), ["the first, 2025-Q1, is under it from 2025-03-31 only (1 of 90 days)"]),
    ("quarter", D(2025, 4, 1), D(2026, 6, 29),
     ["the last, 2026-Q2, is under it until 2026-06-29 only (90 of 91 days)"]),
    ("quarter", D(2024, 2, 10), D(2024, 2, 10), ["the first, 2024-Q1, is under it from 2024-02-10 only (51 of 91 days)",
                                                 "the last, 2024-Q1, is under it until 2024-02-10 only (41 of 91 days)"]),
    ("year", D(2024, 1, 1), D(2025, 12, 31), []),
    ("year", D(2024, 3, 15), D(2026, 3, 14), ["the first, 2024, is under it from 2024-03-15 only (292 of 366 days)",
                                              "the last, 2026, is under it until 2026-03-14 only (73 of 365 days)"]),
])
def test_the_first_and_last_partial_periods_at_their_boundaries(period, start, end, says):
    assert partial_periods(period, start, end) == says


@pytest.mark.parametrize("text,signed,start,until", [
    ("本方案自2024年1月1日起施行。", None, "2024-01-01", None),
    ("本办法自印发之日起施行,执行期至2026年12月31日。", "2025-02-10", "2025-02-10", "2026-12-31"),
    ("本方案自发布之日起实施。", None, None, None),  # no signing date to read 发布之日 as: nothing drafted
    ("方案执行期为2024年3月1日至2026年2月28日。", None, "2024-03-01", "2026-02-28"),
    ("本方案自2024年3月15日起施行,有效期3年。", None, "2024-03-15", "2027-03-14"),
    ("本意见自印发之日起执行,有效期五年。", "2024-02-29", "2024-02-29", "2029-02-28"),  # no 29 Feb in 2029
    ("没有写执行期的方案。", "2024-01-01", None, None),
])
def test_the_execution_period_is_drafted_from_the_text_s_own_words(text, signed, start, until):
    got = execution_period(text, signed)
    assert (got.get("in_force_from", {}).get("date"), got.get("in_force_until", {}).get("date")) == (start, until)
    assert all(v["quote"] in text and v["reading"] for v in got.values())


PAGE = """关于印发《信丰县安置点就业服务工作方案》的通知
信府办字〔2024〕21号
各乡镇人民政府:
现将《信丰县安置点就业服务工作方案》印发给你们,请认真组织实施。
信丰县人民政府办公室
2024年3月15日
信丰县安置点就业服务工作方案
一、主要任务
(一)举办招聘会。各安置点每季度至少举办1次专场招聘会。(县人社局负责)
(二)开展培训。对有劳动能力的搬迁群众,每年至少组织1次职业技能培训。(县人社局负责)
(三)开展普查。各安置点每年至少开展2次就业情况普查。(县人社局负责)
二、其他
本方案自印发之日起施行,执行期至2025年6月30日。
"""


@pytest.fixture
def drafted(tmp_path):
    folder = tmp_path / "policies"
    shutil.copytree(ROOT / "policies", folder, ignore=shutil.ignore_patterns("__pycache__"))
    page = tmp_path / "page.txt"
    page.write_text(PAGE, encoding="utf-8")
    got = CliRunner().invoke(main, ["--policies", str(folder), "kb", "scaffold", str(page), "--id", "xinfeng-2024b",
                                    "--jurisdiction", "ganzhou", "--prefix", "xq"])
    assert got.exit_code == 0, got.output
    return folder, got.output


def test_a_site_s_count_per_period_is_drafted_as_a_quota_with_its_partial_periods_named(drafted):
    folder, report = drafted
    doc = yaml.safe_load((folder / "xinfeng-2024b" / "document.yaml").read_text(encoding="utf-8"))
    assert (doc["in_force_from"], doc["in_force_until"]) == ("2024-03-15", "2025-06-30")
    measures = {m["quote"]: m for c in yaml.safe_load((folder / "xinfeng-2024b" / "clauses.yaml").read_text(
        encoding="utf-8"))["clauses"] for m in c.get("measures", [])}
    fairs = measures["各安置点每季度至少举办1次专场招聘会"]
    quota = fairs["rule"]["quota"]
    assert fairs["draft"] and fairs["rule"]["entity"] == "site" and "not_decidable" not in fairs
    assert (quota["period"], quota["min"], quota["partial"]["reading"]) == (
        "quarter", {"param": fairs["parameters"][0]["id"]}, "not_judged")
    assert quota["count"].startswith("TODO") and quota["partial"]["why"].startswith("TODO")
    assert "the first, 2024-Q1, is under it from 2024-03-15 only (17 of 91 days)" in quota["partial"]["why"]
    # 2025-06-30 ends a quarter: the last quarter is whole, and not named as partial
    assert "2025-Q2" not in quota["partial"]["why"]
    checks = measures["各安置点每年至少开展2次就业情况普查"]["rule"]["quota"]
    assert checks["period"] == "year" and "the last, 2025, is under it until 2025-06-30 only (181 of 365 days)" \
        in checks["partial"]["why"]
    # a person's training a year is no site's count: no quota is drafted for it
    training = measures["对有劳动能力的搬迁群众,每年至少组织1次职业技能培训"]
    assert "rule" not in training and training["not_decidable"].startswith("TODO")
    assert "quota of '每季度至少举办1次' per quarter: the first, 2024-Q1" in report
    assert "in_force_from: read as 2024-03-15 from '自印发之日起施行'" in report


def test_a_drafted_quota_does_not_pass_validate_until_a_person_names_its_count_and_reading(drafted):
    folder, _ = drafted
    errors = {e.key: e.message for e in validate(load(folder)) if "xinfeng-2024b" in str(e.file)}
    assert "is not a per-quarter count" in errors["clauses[xq.1.1].measures[xq.1.1.m1].rule.quota.count"]
    assert errors["clauses[xq.1.1].measures[xq.1.1.m1]"].startswith("TODO: draft measure")
    # a person who clears the measure's draft flag but not the reading is still told
    path = folder / "xinfeng-2024b" / "clauses.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    next(c for c in data["clauses"] if c["id"] == "xq.1.1")["measures"][0]["draft"] = False
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    errors = {e.key: e.message for e in validate(load(folder)) if "xinfeng-2024b" in str(e.file)}
    assert errors["clauses[xq.1.1].measures[xq.1.1.m1].rule.quota.partial.why"].startswith(
        "TODO: placeholder left: 'TODO: 每季度至少举办1次 sets its number for a whole quarter")
