"""A pytest plugin: rule tests written as data (``<policy folder>/<doc>/tests/*.yaml``) run with plain ``pytest``.

Installed with houfu (the ``pytest11`` entry point in pyproject.toml), so a county keeping its own policy folder
runs its cases the way ``openfisca test`` runs a country package's::

    pytest my-policies/          # every document's tests/*.yaml, each case once per evaluator
    pytest my-policies/xinfeng-2024/tests/households.yaml -k 孵化

A case file is a ``*.yaml`` in a ``tests`` folder of a document folder (one with ``document.yaml``) of a policy
folder (one with ``vocabulary.yaml``, as ``houfu kb validate`` reads it); the cases are decided under that
policy folder's knowledge base, loaded once per run. The cases are read and checked by
``houfu.authoring.rulecases``, the same code as ``houfu test``; each case becomes one item per evaluator.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from houfu.authoring.rulecases import RuleCase, load_cases, run_case
from houfu.engine.evaluator import EngineKind, evaluator_for
from houfu.kb.loader import KB, default_policies_dir, load, load_default

__all__ = ["RuleCaseFile", "RuleCaseItem", "policy_folder", "pytest_collect_file"]


def policy_folder(file_path: Path) -> Path | None:
    """The policy folder a rule-case file belongs to, or None when the file is not a rule-case file."""
    tests = file_path.parent
    document, root = tests.parent, tests.parent.parent
    if (file_path.suffix == ".yaml" and tests.name == "tests" and (document / "document.yaml").is_file()
            and (root / "vocabulary.yaml").is_file()):
        return root
    return None


@cache
def _kb(root: Path) -> KB:
    # The installed knowledge base is shared with the rest of the process (load_default's cache).
    return load_default() if root.resolve() == default_policies_dir().resolve() else load(root)


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> RuleCaseFile | None:
    if policy_folder(file_path) is None:
        return None
    found: RuleCaseFile = RuleCaseFile.from_parent(parent, path=file_path)
    return found


class RuleCaseFile(pytest.File):
    """One case file: its cases, each on every evaluator."""

    def collect(self) -> Iterator[RuleCaseItem]:
        for case in load_cases(self.path):
            for engine in EngineKind:
                yield RuleCaseItem.from_parent(self, name=f"{case.name} [{engine.value}]", case=case, engine=engine)


class RuleCaseItem(pytest.Item):
    """One case on one evaluator: passes when the report has every status, amount and missing fact it lists."""

    def __init__(self, *, case: RuleCase, engine: EngineKind, **kw: Any) -> None:
        super().__init__(**kw)
        self.case, self.engine = case, engine

    def runtest(self) -> None:
        root = policy_folder(self.path)
        assert root is not None  # collected only from a policy folder
        result = run_case(evaluator_for(_kb(root)), self.case, self.engine, str(self.path))
        assert result.passed, "; ".join(result.problems)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        return f"{self.case.name}: {excinfo.value}"

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, self.name
