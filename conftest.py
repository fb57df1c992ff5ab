"""Collect rule tests written as data: policies/<doc>/tests/*.yaml (OpenFisca style).

Each case is named as a sentence and lists the measure ids expected per status,
plus optional computed amounts; it runs on both the durable-rules engine and the
plain reference evaluator.
"""

import datetime as dt

import pytest
import yaml


def pytest_collect_file(parent, file_path):
    if file_path.suffix == ".yaml" and file_path.parent.name == "tests" and "policies" in file_path.parts:
        return RuleCaseFile.from_parent(parent, path=file_path)


class RuleCaseFile(pytest.File):
    def collect(self):
        for case in yaml.safe_load(self.path.read_text(encoding="utf-8")):
            for engine in ("rete", "plain"):
                yield RuleCase.from_parent(self, name=f"{case['name']} [{engine}]", case=case, engine=engine)


class RuleCase(pytest.Item):
    def __init__(self, *, case, engine, **kw):
        super().__init__(**kw)
        self.case, self.engine = case, engine

    def runtest(self):
        from houfu.engine.evaluate import determine
        from houfu.kb.facts import Household, Site
        from houfu.kb.loader import load_default

        model = Site if self.case.get("kind") == "site" else Household
        record = model.model_validate(self.case["input"])
        as_of = self.case.get("as_of", dt.date(2026, 1, 1))
        report = determine(load_default(), record, as_of, engine=self.engine)
        status = {e["id"]: e for e in report["measures"]}
        for expected, ids in self.case["output"].items():
            for mid in ids:
                got = status[mid]["status"] if mid in status else "not listed"
                assert got == expected, f"{mid}: expected {expected}, got {got}"
        for mid, checks in (self.case.get("amounts") or {}).items():
            computed = status[mid]["amounts"]["computed"]
            for path, want in checks.items():
                got = _dig(computed, path)
                assert got == want, f"{mid} amounts {path}: expected {want}, got {got}"
        for mid, words in (self.case.get("missing") or {}).items():
            assert sorted(status[mid]["missing"]) == sorted(words), f"{mid} missing: {status[mid]['missing']}"

    def repr_failure(self, excinfo):
        return f"{self.case['name']}: {excinfo.value}"

    def reportinfo(self):
        return self.path, 0, self.name


def _dig(data, path):
    for part in str(path).split("."):
        data = data[int(part)] if isinstance(data, list) else data[part]
    return data
