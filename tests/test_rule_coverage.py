"""Every rule has at least one positive case and one negative case among the YAML rule cases; `houfu test`
reports the same gaps for a new document (issue 26, item 7), so a clerk sees them before the suite does."""

import shutil
from pathlib import Path

import yaml
from click.testing import CliRunner

from houfu.authoring.rulecases import coverage_gaps
from houfu.cli.commands import main

POLICIES = Path(__file__).resolve().parents[1] / "policies"


def test_every_rule_has_a_positive_and_a_negative_case(kb):
    missing = coverage_gaps(kb)
    assert not missing, "\n".join(missing)


def test_houfu_test_names_a_rule_left_without_its_negative_case(tmp_path):
    folder = tmp_path / "policies"
    shutil.copytree(POLICIES, folder, ignore=shutil.ignore_patterns("__pycache__"))
    path = folder / "shiyan-2019" / "tests" / "households.yaml"
    cases = yaml.safe_load(path.read_text(encoding="utf-8"))
    negative = [c for c in cases if c["output"].get("does_not_apply")]
    assert negative
    mid = negative[0]["output"]["does_not_apply"][0]
    kept = [c for c in cases if mid not in c["output"].get("does_not_apply", [])]
    path.write_text(yaml.safe_dump(kept, allow_unicode=True, sort_keys=False), encoding="utf-8")
    got = CliRunner().invoke(main, ["--policies", str(folder), "test"])
    assert got.exit_code == 1, got.output
    assert f"GAP shiyan-2019: {mid}: no negative case" in got.output
