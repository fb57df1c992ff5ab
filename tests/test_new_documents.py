"""A new document keeps the suite green (issue 26, item 7): a copy of the policy folder with two more documents (the
Xinfeng plan and the Anyuan workshop measures, both written for houfu, data only; tests/new_documents.py) passes the
checks that read the policy folder, with no Python written.

Here, on every run: kb validate, the rule cases of all four documents on both evaluators (``houfu test`` and plain
pytest through the plugin), the three evaluators on generated households of the four documents, and the questions a
third and fourth 县人社局 raise. ``make test-new-documents`` runs the whole suite against the copy (slow mode).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from houfu.cli.commands import main
from houfu.kb.loader import load
from houfu.kb.validate import validate
from tests.new_documents import NEW_DOCUMENTS, ROOT, policy_copy_with_new_documents

NEW = [doc_id for _, doc_id in NEW_DOCUMENTS]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return policy_copy_with_new_documents(tmp_path_factory.mktemp("newdocs") / "policies")


def test_the_copy_validates_with_four_documents_and_no_python_of_the_new_ones(folder):
    kb = load(folder)
    assert sorted(kb.documents) == ["anyuan-2025", "dingnan-2023", "shiyan-2019", "xinfeng-2024"]
    assert validate(kb) == []
    for doc_id in NEW:
        assert not list((folder / doc_id).rglob("*.py")), doc_id
        said = " ".join((folder / doc_id / "document.yaml").read_text(encoding="utf-8").split())
        assert "not an official document" in said, doc_id  # written for houfu, and it says so
    assert kb.models.records["workshop"] and any(d.shape.value == "rate_count_periods"
                                                 for d in kb.documents["anyuan-2025"].calculators)


def test_every_rule_case_passes_on_both_evaluators_with_no_coverage_gap(folder):
    got = CliRunner().invoke(main, ["--policies", str(folder), "test"])
    assert got.exit_code == 0, got.output
    assert " 0 failed" in got.output and "GAP" not in got.output
    bundled = CliRunner().invoke(main, ["--policies", str(ROOT / "policies"), "test"]).output
    # the new documents' cases ran too: 20 of Anyuan's, each on the three evaluators, and Xinfeng's
    assert _passed(got.output) >= _passed(bundled) + 20


def _passed(output: str) -> int:
    return int(output.strip().rsplit("\n", 1)[-1].split()[0])


def test_plain_pytest_runs_the_copy_s_rule_cases_through_the_plugin(folder):
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(folder / "anyuan-2025")],
                         capture_output=True, text=True, cwd=folder.parent)
    assert out.returncode == 0, out.stdout[-2000:]
    assert "60 passed" in out.stdout  # 20 cases (7 of households, 13 of sites), each on the three evaluators


def test_the_three_evaluators_agree_on_generated_households_and_sites_of_the_four_documents(folder):
    import datetime as dt

    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from tests.strategies import households, jurisdiction_names, sites
    from tests.test_vector import _check_batch

    kb = load(folder)
    assert {"安远县", "信丰县"} <= set(jurisdiction_names(kb))

    @settings(max_examples=6, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
    @given(st.lists(households(kb), min_size=30, max_size=30))
    def agree(batch):
        _check_batch(kb, batch, dt.date(2025, 12, 1))

    agree()

    @settings(max_examples=6, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
    @given(st.lists(sites(kb), min_size=20, max_size=20),
           st.sampled_from([dt.date(2025, 3, 31), dt.date(2025, 4, 1), dt.date(2025, 10, 1)]))
    def sites_agree(batch, as_of):  # the workshop quota's first part-quarter; a site's training classes
        seen.update(e.entity_kind for s in batch for e in s.entities or [])
        _check_batch(kb, batch, as_of)

    seen: set[str | None] = set()
    sites_agree()
    assert "training_class" in seen  # sites listing records of a kind linked to a site were drawn


def test_three_counties_each_with_a_county_hrss_are_told_apart_by_jurisdiction(folder):
    from houfu.kb.graph import resolve_body
    from houfu.kb.loader import KBError

    kb = load(folder)
    with pytest.raises(KBError, match="names 3 bodies"):
        resolve_body(kb, "县人社局")
    assert [resolve_body(kb, "县人社局", j) for j in ("dingnan", "信丰县", "安远县")] == ["dn_hrss", "xf_hrss", "ay_hrss"]
    got = CliRunner().invoke(main, ["--policies", str(folder), "duties", "ay_hrss", "--json"])
    assert got.exit_code == 0, got.output
    assert "ay25.1.1.workshop_subsidy" in got.output and "dn.4.3" not in got.output


def test_compare_and_its_brief_take_all_four_documents(folder):
    got = CliRunner().invoke(main, ["--policies", str(folder), "compare", "--topic", "employment", "--json"])
    assert got.exit_code == 0, got.output
    assert list(json.loads(got.output)["documents"]) == ["anyuan-2025", "dingnan-2023", "shiyan-2019", "xinfeng-2024"]


def test_the_slow_mode_is_documented_where_a_maintainer_looks():
    assert "test-new-documents:" in (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "make test-new-documents" in (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
