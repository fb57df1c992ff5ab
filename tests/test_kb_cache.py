"""The loaded knowledge base kept on disk (houfu.kb.cache): used when the files are as they were, never otherwise.

Each test loads a copy of the policy folder with its own cache folder (``HOUFU_CACHE``), so nothing here reads or
writes the user's cache.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from houfu.engine.evaluator import Evaluator
from houfu.kb import cache, loader
from houfu.kb.loader import KB, load

ROOT = Path(__file__).resolve().parent.parent
HOUSEHOLD = {"id": "c1", "jurisdiction": "shiyan", "members": [
    {"age": 30, "labor_capacity": "full", "employed": False, "trainings_this_year": 0}]}


@pytest.fixture
def policies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "policies"
    shutil.copytree(ROOT / "policies", folder, ignore=shutil.ignore_patterns("__pycache__", "__init__.py"))
    monkeypatch.setenv("HOUFU_CACHE", str(tmp_path / "cache"))
    return folder


def _no_parsing(*args: Any) -> KB:
    raise AssertionError("the policy files were parsed again")


def _pickles(policies: Path) -> list[Path]:
    return sorted((policies.parent / "cache").glob("kb-*.pickle"))


def test_a_second_load_reads_the_cache_and_gives_the_same_knowledge_base(policies: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    first = load(policies)
    assert len(_pickles(policies)) == 1
    monkeypatch.setattr(loader, "_load", _no_parsing)
    second = load(policies)
    assert second is not first and second.version == first.version and second.folder == policies
    assert list(second.measures) == list(first.measures) and second.measures == first.measures
    assert second.models.household.model_fields.keys() == first.models.household.model_fields.keys()
    as_of = dt.date(2026, 1, 1)
    reports = [Evaluator(kb).determine(kb.models.household.model_validate(HOUSEHOLD), as_of) for kb in (first, second)]
    assert reports[0] == reports[1]


def test_an_edited_policy_file_is_loaded_again_and_the_edit_is_seen(policies: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    before = load(policies)
    assert before.parameters["sy.4.min_trainings_per_year"].value == 1
    clauses = policies / "shiyan-2019" / "clauses.yaml"
    text = clauses.read_text(encoding="utf-8")
    edited = text.replace("    - id: sy.4.min_trainings_per_year\n      name: 每年最少培训次数\n      value: 1\n",
                          "    - id: sy.4.min_trainings_per_year\n      name: 每年最少培训次数\n      value: 2\n")
    assert edited != text
    clauses.write_text(edited, encoding="utf-8")
    with monkeypatch.context() as m:  # the old pickle is not taken for the edited files: they are parsed again
        m.setattr(loader, "_load", _no_parsing)
        with pytest.raises(AssertionError, match="parsed again"):
            load(policies)
    after = load(policies)
    assert after.parameters["sy.4.min_trainings_per_year"].value == 2
    assert after.version != before.version
    assert len(_pickles(policies)) == 2


def test_a_corrupt_cache_is_ignored_and_written_again(policies: Path) -> None:
    good = load(policies)
    [pickle] = _pickles(policies)
    pickle.write_bytes(b"\x80\x05not a pickle at all")
    again = load(policies)
    assert again.version == good.version and again.measures == good.measures
    assert cache.read(again.cache_key) is not None  # rewritten whole


def test_a_cache_file_others_may_write_is_not_read(policies: Path) -> None:
    kb = load(policies)
    [pickle] = _pickles(policies)
    assert cache.read(kb.cache_key) is not None
    pickle.chmod(0o666)
    assert cache.read(kb.cache_key) is None
    pickle.chmod(0o600)
    assert cache.read(kb.cache_key) is not None


def test_a_cache_kept_for_another_key_is_not_taken(policies: Path) -> None:
    load(policies)
    [pickle] = _pickles(policies)
    other = pickle.with_name("kb-" + "0" * 40 + ".pickle")
    shutil.copy(pickle, other)
    assert cache.read("0" * 64) is None  # it holds the key it was written under, not this one


def test_houfu_cache_off_writes_nothing(policies: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOUFU_CACHE", "off")
    load(policies)
    assert not (policies.parent / "cache").exists()


def test_a_cold_check_from_the_cache_prints_what_a_fresh_load_prints(policies: Path) -> None:
    env = {**os.environ, "HOUFU_POLICIES": str(policies), "PYTHONPATH": str(ROOT)}
    argv = [sys.executable, "-m", "houfu", "check", "examples/dingnan-household.yaml", "--as-of", "2026-01-01", "-v"]
    runs = [subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=120, env=env) for _ in range(2)]
    fresh = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=120,
                           env={**env, "HOUFU_CACHE": "off"})
    assert len(_pickles(policies)) >= 2  # the KB and the household program
    assert runs[0].returncode == runs[1].returncode == fresh.returncode == 0, runs[1].stderr
    assert runs[0].stdout == runs[1].stdout == fresh.stdout


_BUILT = """
import datetime as dt, sys, yaml
from pydantic import BaseModel
import houfu
from houfu.kb import conditions
kb = houfu.load()
household = kb.models.household.model_validate(yaml.safe_load(open(sys.argv[1], encoding="utf-8").read()))
report = houfu.evaluator(kb).determine(household, dt.date(2026, 1, 1))
assert any(d.act for d in report.determinations)  # the letters' act_if were read
print(sorted(n for n, c in vars(conditions).items()
             if isinstance(c, type) and issubclass(c, BaseModel) and c.__pydantic_complete__))
"""


def test_a_check_from_the_cache_builds_no_condition_model(policies: Path) -> None:
    """The programs and the letters' gated act_if come from the cache: building the condition models' validators
    took about 20 ms of a cold check (issue 25). A process with no cache builds them."""
    env = {**os.environ, "HOUFU_POLICIES": str(policies), "PYTHONPATH": str(ROOT)}
    argv = [sys.executable, "-c", _BUILT, str(ROOT / "examples" / "dingnan-school-family.yaml")]
    runs = [subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=120, env=env) for _ in range(2)]
    off = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=120, env={**env, "HOUFU_CACHE": "off"})
    assert [r.returncode for r in (*runs, off)] == [0, 0, 0], runs[0].stderr + off.stderr
    assert runs[1].stdout.strip() == "[]"
    assert "Gated" in off.stdout  # what the cache spares


def test_the_screen_messages_are_read_from_the_cache_only_while_the_file_is_as_it_was(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The messages' catalogue (templates/screen_messages.yaml) is kept parsed under the file's hash: the second
    reading (a new process's, the memo cleared) takes it without parsing and gets the same mapping."""
    import yaml

    import houfu
    from houfu.io import notes

    monkeypatch.setenv("HOUFU_CACHE", str(tmp_path / "cache"))
    raw = (ROOT / "houfu" / "templates" / "screen_messages.yaml").read_bytes()
    parsed = yaml.safe_load(raw.decode("utf-8"))
    notes._catalogue.cache_clear()
    assert notes._catalogue() == parsed
    key = notes._catalogue_key(raw, yaml.__version__, houfu.__version__)
    assert cache.read(key) == parsed
    # Another file, another PyYAML or another houfu is another key.
    assert len({key, notes._catalogue_key(raw + b"\n", yaml.__version__, houfu.__version__),
                notes._catalogue_key(raw, yaml.__version__ + "x", houfu.__version__),
                notes._catalogue_key(raw, yaml.__version__, houfu.__version__ + "x")}) == 4
    notes._catalogue.cache_clear()

    def no_parsing(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the messages were parsed again")

    monkeypatch.setattr(yaml, "load", no_parsing)
    try:
        assert notes._catalogue() == parsed
    finally:
        notes._catalogue.cache_clear()
