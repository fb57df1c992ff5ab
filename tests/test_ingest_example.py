"""The ingestion example (issue 14, §4): a third county plan added with `houfu kb scaffold` and data alone.

In a copy of the policy folder: the registries get the example's lines, the finished folder goes beside the
two documents, and then it must validate and its rule cases must pass on both evaluators, with no Python
added. The scaffold, run again on its page, must still draft what the finished folder keeps.
"""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

import houfu
from houfu.cli.commands import main
from houfu.kb.ingest import analyse
from houfu.kb.loader import load
from houfu.kb.validate import validate
from tests.new_documents import BUNDLED

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "ingest"


@pytest.fixture(scope="module")
def policies(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ingest") / "policies"
    shutil.copytree(ROOT / "policies", folder, ignore=shutil.ignore_patterns("__pycache__"))
    for name, lines in yaml.safe_load((EXAMPLE / "registry.yaml").read_text(encoding="utf-8")).items():
        with (folder / name).open("a", encoding="utf-8") as fh:
            fh.write(textwrap.indent(lines, "  "))  # under the file's top-level list
    shutil.copytree(EXAMPLE / "xinfeng-2024", folder / "xinfeng-2024")
    return folder


def test_the_third_document_validates_with_no_python_of_its_own(policies):
    kb = load(policies)
    assert "xinfeng-2024" in kb.documents and not kb.documents["xinfeng-2024"].draft
    assert validate(kb) == []
    assert not list((policies / "xinfeng-2024").glob("*.py"))


def test_its_rule_cases_pass_on_both_evaluators(policies):
    got = CliRunner().invoke(main, ["--policies", str(policies), "test"])
    assert got.exit_code == 0, got.output
    assert "0 failed" in got.output and "GAP" not in got.output  # no rule of its own without its cases


def test_a_xinfeng_household_is_decided_by_its_plan_and_the_others_are_not(policies):
    kb = load(policies)
    report = houfu.evaluator(kb).determine(kb.models.household.model_validate(
        {"id": "X", "jurisdiction": "信丰县", "members": [{"age": 16, "labor_capacity": "full"}]}), None)
    assert [d.id for d in report.documents] == ["xinfeng-2024"]
    assert report.by_id("xf.2.1.annual_training").status.value == "applies"
    assert [o.body_id for o in report.by_id("xf.2.1.annual_training").owners][:1] == ["xf_hrss"]
    # Each county's 县人社局 is its own: the name alone asks which, the jurisdiction picks one.
    from houfu.kb.graph import resolve_body
    from houfu.kb.loader import KBError

    with pytest.raises(KBError, match="names 2 bodies"):
        resolve_body(kb, "县人社局")
    assert resolve_body(kb, "县人社局", "信丰县") == "xf_hrss" and resolve_body(kb, "县人社局", "dingnan") == "dn_hrss"


def test_the_scaffold_still_drafts_what_the_finished_folder_keeps(policies):
    kb = load(policies)
    doc = kb.documents["xinfeng-2024"]
    draft = analyse(doc.scraped_text, kb, "xinfeng")
    assert [c.number for c in draft.outline.clauses] == [c.number for c in doc.clauses]
    assert draft.source == doc.source_text
    for c in doc.clauses:
        if c.responsibility:
            read = draft.responsibilities[c.number]
            assert [(b.as_written, b.body) for b in read.bodies] == [(b.as_written, b.body)
                                                                     for b in c.responsibility.bodies]
    kept = {(p.value, p.unit, p.bound) for c in doc.clauses for m in c.measures for p in m.parameters}
    drafted = {(p.value, p.unit, p.bound) for ps in draft.parameters.values() for p in ps}
    assert kept <= drafted


def test_the_engine_and_the_reference_agree_on_it_from_the_moment_it_is_added(policies):
    from hypothesis import HealthCheck, given, settings

    from tests.strategies import households, jurisdiction_names
    from tests.test_differential import _compare_kb

    kb = load(policies)
    assert "信丰县" in jurisdiction_names(kb)  # the generated households reach the new county unasked

    @settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
    @given(households(kb))
    def agree(household):
        _compare_kb(kb, household)

    agree()


def test_compare_takes_every_document_loaded_or_the_two_or_more_named(policies):
    import json

    got = CliRunner().invoke(main, ["--policies", str(policies), "compare", "--topic", "training", "--json"])
    assert got.exit_code == 0, got.output
    assert list(json.loads(got.output)["documents"]) == ["dingnan-2023", "shiyan-2019", "xinfeng-2024"]
    two = CliRunner().invoke(main, ["--policies", str(policies), "compare", "--topic", "training", "--json",
                                    "--document", "shiyan-2019", "--document", "xinfeng-2024"])
    assert list(json.loads(two.output)["documents"]) == ["shiyan-2019", "xinfeng-2024"]
    brief = CliRunner().invoke(main, ["--policies", str(policies), "brief", "compare", "--topic", "training",
                                      "--format", "txt"])
    kb = load(policies)
    assert brief.exit_code == 0 and "3 份文件" in brief.output
    assert all(d.doc.title in brief.output for d in kb.documents.values())
    one = CliRunner().invoke(main, ["--policies", str(policies), "compare", "--topic", "training",
                                    "--document", "xinfeng-2024"])
    assert one.exit_code == 1 and "two or more" in one.output


def test_its_own_facts_and_amounts_are_data_and_exist_only_where_it_is_loaded(policies):
    import json

    import jsonschema

    kb = load(policies)
    for name in ("vocabulary", "calculators"):
        spec = json.loads((ROOT / "docs" / "schemas" / f"{name}.schema.json").read_text(encoding="utf-8"))
        jsonschema.validate(yaml.safe_load((policies / "xinfeng-2024" / f"{name}.yaml").read_text(encoding="utf-8")),
                            spec)
    assert {"works_in_another_province", "training_days"} <= set(kb.models.member.model_fields)
    assert kb.models.periodic["special_job_fairs"] == "quarter"
    # The installed knowledge base does not hold the plan, so a record giving its facts is refused, by name.
    from houfu.io.inputs import InputError, parse_record

    with pytest.raises(InputError, match="training_days"):
        parse_record({"id": "h", "members": [{"training_days": 3}]}, houfu.Household, "h.yaml", load(BUNDLED))
    schema = CliRunner().invoke(main, ["--policies", str(policies), "schema", "household"])
    assert "works_in_another_province" in schema.output


def test_a_mixed_list_keeps_its_lead_body_by_body(policies):
    kb = load(policies)
    found = houfu.owners("xf.2.1.annual_training", kb=kb)["documents"]["xinfeng-2024"]["matches"][0]["owners"]
    assert [(o["id"], o["role"]) for o in found] == [
        ("xf_hrss", "lead"), ("xf_rural_revitalization", "shared"), ("xf_education", "shared")]
    from houfu.kb.graph import analyses, build_graph

    without_lead = analyses(kb, build_graph(kb))["clauses_without_lead"]
    assert "xf.2.1" not in without_lead and "xf.2.2" in without_lead


def test_the_screener_agrees_with_the_single_household_path_on_it_amounts_and_deadlines_included(policies):
    import datetime as dt

    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from houfu.engine.columns import caseload_from_facts
    from houfu.engine.evaluator import flatten
    from houfu.engine.vector import STATUSES, VectorEvaluator
    from tests.strategies import households, sites
    from tests.test_vector import _check_batch

    kb = load(policies)

    @settings(max_examples=8, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
    @given(st.lists(households(kb), min_size=30, max_size=30))
    def agree(batch):
        _check_batch(kb, batch)

    agree()

    @settings(max_examples=12, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
    @given(st.lists(sites(kb), min_size=25, max_size=25),
           st.sampled_from([dt.date(2024, 3, 31), dt.date(2024, 4, 1), dt.date(2024, 6, 30), dt.date(2024, 7, 1),
                            dt.date(2024, 10, 15)]))
    def sites_agree(batch, as_of):  # its quarterly job fairs from a part-quarter, and its deadline with dates
        _check_batch(kb, batch, as_of)

    sites_agree()
    # A deadline over columns: not_due up to the date, violated after, as for one site; once it has passed, a
    # station done is met by its completion date on or before it, late after it, and asked about without one.
    ev, vec = houfu.evaluator(kb), VectorEvaluator(kb)
    stations = [kb.models.site.model_validate({"id": f"s{i}", "jurisdiction": "xinfeng", "employment_service": s,
                                            **({"station_completed_on": day} if day else {})})
             for i, (s, day) in enumerate([("none", None), ("station", "2024-06-30"), ("none", None),
                                           ("station", "2024-07-01"), ("center", None)])]
    for as_of in (dt.date(2024, 6, 30), dt.date(2024, 7, 1)):
        _, program = ev._program_for(stations[0], as_of)
        decisions = vec.decide(program, caseload_from_facts(kb.models, "site", [flatten(s) for s in stations], as_of),
                               as_of)
        j = decisions.measures.index("xf.2.4.service_station")
        got = [STATUSES[code].value for code in decisions.status[:, j]]
        reports = [ev.determine(s, as_of).by_id("xf.2.4.service_station") for s in stations]
        assert got == [r.status.value for r in reports]
        assert [decisions.missing_lists(j).get(k, []) for k in range(len(stations))] == [sorted(r.missing) for r in reports]
        before = as_of.day == 30
        assert got == (["not_due", "met", "not_due", "met", "met"] if before else
                       ["violated", "met", "violated", "violated", "undetermined"])
    late = ev.determine(stations[3], dt.date(2024, 7, 1)).by_id("xf.2.4.service_station")
    assert late.gap is not None and "2024-07-01" in late.gap.zh and "2024-06-30" in late.gap.zh


@pytest.mark.parametrize("bad,message", [
    (("days: training_days", "days: trainig_days"), "'trainig_days' is not a member fact of the vocabulary"),
    (("amount: xf.2.3.max_transport_subsidy", "amount: xf.2.3.max_subsidy"), "unknown parameter 'xf.2.3.max_subsidy'"),
    (("who: xf_cross_province_worker", "who: xf_cross_worker"), "unknown concept 'xf_cross_worker'"),
    (("{value} yuan a year", "{amount} yuan a year"), "only {who} and {value} can be filled in"),
])
def test_a_mistake_in_a_declared_calculator_is_one_line_naming_the_file(policies, tmp_path, bad, message):
    folder = tmp_path / "policies"
    shutil.copytree(policies, folder)
    path = folder / "xinfeng-2024" / "calculators.yaml"
    text = path.read_text(encoding="utf-8")
    assert bad[0] in text
    path.write_text(text.replace(bad[0], bad[1], 1), encoding="utf-8")
    got = CliRunner().invoke(main, ["--policies", str(folder), "kb", "validate"])
    assert got.exit_code != 0 and "Traceback" not in got.output
    assert "calculators.yaml" in got.output and message in got.output, got.output


def test_a_fact_declared_twice_is_refused_naming_both_files(policies, tmp_path):
    folder = tmp_path / "policies"
    shutil.copytree(policies, folder)
    path = folder / "xinfeng-2024" / "vocabulary.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("id: training_days", "id: trainings_this_year"),
                    encoding="utf-8")
    got = CliRunner().invoke(main, ["--policies", str(folder), "kb", "validate"])
    assert got.exit_code != 0 and "Traceback" not in got.output
    assert "xinfeng-2024/vocabulary.yaml" in got.output and "already declared in" in got.output, got.output
