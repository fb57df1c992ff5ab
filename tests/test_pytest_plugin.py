"""The rule-case collector as a pytest plugin: a county's own policy folder runs its cases with plain pytest."""

from __future__ import annotations

import importlib.metadata
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

from houfu.authoring.pytest_plugin import policy_folder
from houfu.authoring.rulecases import load_cases
from houfu.engine.evaluator import EngineKind

ROOT = Path(__file__).resolve().parents[1]
POLICIES = ROOT / "houfu" / "policies"
PLUGIN = "houfu.authoring.pytest_plugin"


def _county(tmp_path: Path) -> Path:
    """A county's own policy folder, outside the repository: the policies with one document's site cases."""
    root = tmp_path / "county-policies"
    shutil.copytree(POLICIES, root, ignore=shutil.ignore_patterns("__pycache__", "tests", "__init__.py"))
    (root / "dingnan-2023" / "tests").mkdir()
    shutil.copy(POLICIES / "dingnan-2023" / "tests" / "sites.yaml", root / "dingnan-2023" / "tests")
    return root


def _pytest(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # Plain pytest once the entry point is installed; a checkout whose editable install predates it names the
    # plugin (the same module, registered under the same name).
    installed = any(ep.name == PLUGIN for ep in importlib.metadata.entry_points(group="pytest11"))
    named = [] if installed else ["-p", PLUGIN]
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
                           *named, str(folder), *args], cwd=folder.parent, capture_output=True, text=True,
                          timeout=600)


def test_the_entry_point_names_the_plugin_by_its_module():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["entry-points"]["pytest11"] == {PLUGIN: PLUGIN}


def test_a_county_s_policy_folder_runs_its_cases_once_per_evaluator(tmp_path):
    root = _county(tmp_path)
    cases = load_cases(root / "dingnan-2023" / "tests" / "sites.yaml")
    r = _pytest(root)
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"{len(cases) * len(EngineKind)} passed" in r.stdout, r.stdout


def test_a_case_the_county_s_rules_do_not_bear_out_fails_by_its_sentence(tmp_path):
    root = _county(tmp_path)
    path = root / "dingnan-2023" / "tests" / "sites.yaml"
    cases = yaml.safe_load(path.read_text(encoding="utf-8"))
    first = cases[0]
    status, ids = next((s, ids) for s, ids in first["output"].items() if ids)
    first["output"][status] = [*ids, "dn.no.such_measure"]
    path.write_text(yaml.safe_dump(cases, allow_unicode=True, sort_keys=False), encoding="utf-8")
    r = _pytest(root)
    assert r.returncode == 1, r.stdout + r.stderr
    assert f"{len(EngineKind)} failed" in r.stdout and first["name"] in r.stdout, r.stdout


def test_only_a_document_s_tests_in_a_policy_folder_are_rule_cases(tmp_path):
    root = _county(tmp_path)
    assert policy_folder(root / "dingnan-2023" / "tests" / "sites.yaml") == root
    assert policy_folder(root / "dingnan-2023" / "clauses.yaml") is None
    assert policy_folder(ROOT / "tests" / "badinput" / "manifest.json") is None
    # A drafted document outside a policy folder (the ingest example) is not run on its own.
    assert policy_folder(ROOT / "examples" / "ingest" / "xinfeng-2024" / "tests" / "households.yaml") is None


def test_in_the_repository_each_case_is_collected_once_per_evaluator():
    # The conftest names the plugin and the entry point loads it (when installed): one registration, one item.
    files = sorted(POLICIES.glob("*/tests/*.yaml"))
    cases = sum(len(load_cases(f)) for f in files)
    r = subprocess.run([sys.executable, "-m", "pytest", "--co", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
                        "houfu/policies"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    items = [ln for ln in r.stdout.splitlines() if "/tests/" in ln and ".yaml::" in ln]
    assert len(items) == len(set(items)) == cases * len(EngineKind)
