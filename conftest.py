"""Collect rule tests written as data: policies/<doc>/tests/*.yaml (OpenFisca style).

The cases are read and checked by ``houfu.app.rulecases`` (the same code as ``houfu test``);
each case becomes one pytest item per evaluator.
"""

from __future__ import annotations

from typing import Any

import pytest


def pytest_collect_file(parent: Any, file_path: Any) -> Any:
    if file_path.suffix == ".yaml" and file_path.parent.name == "tests" and "policies" in file_path.parts:
        return RuleCaseFile.from_parent(parent, path=file_path)
    return None


class RuleCaseFile(pytest.File):
    def collect(self) -> Any:
        from houfu.app.rulecases import load_cases
        from houfu.engine.evaluator import EngineKind

        for case in load_cases(self.path):
            for engine in EngineKind:
                yield RuleCaseItem.from_parent(self, name=f"{case.name} [{engine.value}]", case=case, engine=engine)


class RuleCaseItem(pytest.Item):
    def __init__(self, *, case: Any, engine: Any, **kw: Any) -> None:
        super().__init__(**kw)
        self.case, self.engine = case, engine

    def runtest(self) -> None:
        from houfu.app.rulecases import run_case
        from houfu.engine.evaluator import evaluator_for
        from houfu.kb.loader import load_default

        result = run_case(evaluator_for(load_default()), self.case, self.engine, str(self.path))
        assert result.passed, "; ".join(result.problems)

    def repr_failure(self, excinfo: Any, style: Any = None) -> str:
        return f"{self.case.name}: {excinfo.value}"

    def reportinfo(self) -> Any:
        return self.path, 0, self.name
