"""Rule tests written as data: ``policies/<doc>/tests/*.yaml`` (the way ``openfisca test`` reads them).

Each case is named as a sentence and lists the measure ids expected per status, plus
optional computed amounts and missing facts::

    - name: An incubated entity with 5,555 yuan of covered fees a month stays under the cap
      as_of: 2026-01-01            # optional; default 2026-01-01
      kind: household              # or site
      input: {id: d4, jurisdiction: dingnan, ...}
      output: {applies: [dn.4.3.incubation_subsidy]}
      amounts: {dn.4.3.incubation_subsidy: {0.value: 9999.0, 0.basis.capped: false}}
      missing: {sy.12.medical_insurance: [enrolled_medical_insurance]}
      periods: {dn.4.1.job_fairs: {not_judged: ["2023"], violated: ["2024"], met: ["2025"]}}

Every case runs on both evaluators.  A misspelt key is an error naming the file, the
case and the nearest known key, never a silently skipped check.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from houfu.engine.evaluator import EngineKind, Evaluator
from houfu.engine.results import Report, Status
from houfu.kb.loader import KB
from houfu.kb.names import did_you_mean, suggest

__all__ = ["CaseFileError", "CaseResult", "RuleCase", "case_files", "coverage_gaps", "load_cases", "run_case", "run_cases"]

DEFAULT_AS_OF = dt.date(2026, 1, 1)


class RuleCase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    kind: Literal["household", "site"] = "household"
    as_of: dt.date = DEFAULT_AS_OF
    input: dict[str, Any]
    output: dict[Status | Literal["not listed"], list[str]]
    amounts: dict[str, dict[str, Any]] = {}
    missing: dict[str, list[str]] = {}
    #: a quota's periods by what became of each (a status, or not_judged); each list given is checked in full
    periods: dict[str, dict[Status | Literal["not_judged"], list[str]]] = {}


class CaseFileError(Exception):
    """A rule-case file that does not fit the format: file, case and what is wrong."""


@dataclass
class CaseResult:
    file: str
    name: str
    engine: EngineKind
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems


def case_files(kb: KB, path: Path | None = None) -> list[Path]:
    """The case files under ``path`` (a file or folder), or every document's ``tests/*.yaml``."""
    if path is None:
        return sorted(f for d in kb.documents.values() for f in (d.folder / "tests").glob("*.yaml"))
    return [path] if path.is_file() else sorted(path.rglob("tests/*.yaml")) or sorted(path.glob("*.yaml"))


def _field_error(path: Path, name: str, exc: ValidationError) -> CaseFileError:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"])
    if err["type"] == "extra_forbidden":
        key = str(err["loc"][-1])
        return CaseFileError(f"{path}: case {name!r}: unknown key {key!r}"
                             + did_you_mean(suggest(key, RuleCase.model_fields)))
    return CaseFileError(f"{path}: case {name!r}: {loc}: {err['msg']}")


def load_cases(path: Path) -> list[RuleCase]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CaseFileError(f"{path}: cannot read rule cases: {exc}") from None
    if not isinstance(raw, list):
        raise CaseFileError(f"{path}: expected a list of cases")
    out = []
    for i, item in enumerate(raw):
        name = item.get("name", f"#{i}") if isinstance(item, dict) else f"#{i}"
        try:
            out.append(RuleCase.model_validate(item))
        except ValidationError as exc:
            raise _field_error(path, str(name), exc) from None
    return out


def _dig(data: Any, path: str) -> Any:
    for part in str(path).split("."):
        data = data[int(part)] if isinstance(data, list) else data[part]
    return data


def check_report(case: RuleCase, report: Report) -> list[str]:
    """What in the report differs from what the case expects."""
    problems = []
    by = {d.measure_id: d for d in report.determinations}
    for expected, ids in case.output.items():
        want = expected.value if isinstance(expected, Status) else expected
        for mid in ids:
            got = by[mid].status.value if mid in by else "not listed"
            if got != want:
                problems.append(f"{mid}: expected {want}, got {got}")
    for mid, checks in case.amounts.items():
        if mid not in by:
            problems.append(f"{mid}: not listed, so no amounts")
            continue
        amounts = [a.model_dump(mode="json") for a in by[mid].amounts]
        for path, want in checks.items():
            try:
                got = _dig(amounts, path)
            except (KeyError, IndexError, ValueError):
                problems.append(f"{mid} amounts {path}: no such value in {amounts}")
                continue
            if got != want:
                problems.append(f"{mid} amounts {path}: expected {want}, got {got}")
    for mid, kinds in case.periods.items():
        listed = by[mid].periods if mid in by else []
        for kind, labels in kinds.items():
            word = kind.value if isinstance(kind, Status) else kind
            found = [p.period for p in listed if (not p.judged if word == "not_judged" else
                                                  p.judged and p.status is not None and p.status.value == word)]
            if found != labels:
                problems.append(f"{mid} periods {word}: expected {labels}, got {found}")
    for mid, words in case.missing.items():
        got_missing = by[mid].missing if mid in by else []
        if sorted(got_missing) != sorted(words):
            problems.append(f"{mid} missing: expected {sorted(words)}, got {sorted(got_missing)}")
    return problems


def run_case(evaluator: Evaluator, case: RuleCase, engine: EngineKind, file: str = "") -> CaseResult:
    model = evaluator.kb.models.record(case.kind)
    result = CaseResult(file, case.name, engine)
    try:
        record = model.model_validate(case.input)
    except ValidationError as exc:
        result.problems.append(f"input: {exc.errors()[0]['msg']}")
        return result
    result.problems = check_report(case, evaluator.determine(record, case.as_of, engine))
    return result


def iter_cases(files: list[Path]) -> Iterator[tuple[Path, RuleCase]]:
    for f in files:
        for case in load_cases(f):
            yield f, case


def run_cases(evaluator: Evaluator, files: list[Path]) -> list[CaseResult]:
    """Every case of every file, on both evaluators."""
    return [run_case(evaluator, case, engine, str(f)) for f, case in iter_cases(files) for engine in EngineKind]


#: The statuses a rule case can show a rule firing with, and the one that shows it not applying.
POSITIVE = frozenset({"applies", "met", "violated", "satisfied", "not_due"})
NEGATIVE = frozenset({"does_not_apply"})


def coverage_gaps(kb: KB, files: list[Path] | None = None) -> list[str]:
    """What each rule lacks among the cases (issue 26, item 7; `houfu test` reports what the suite would
    reject): a positive case for every rule, a negative one for a rule with a condition, both met and violated
    for a requirement, met, violated and not_due for a periodic quota, applies and satisfied for a rule that a
    household can already have satisfied.  ``files`` defaults to every document's cases."""
    seen: dict[str, set[str]] = {}
    for _, case in iter_cases(case_files(kb) if files is None else files):
        for status, ids in case.output.items():
            for mid in ids:
                seen.setdefault(mid, set()).add(str(getattr(status, "value", status)))
    missing = []
    for mid, m in kb.measures.items():
        if not m.rule:
            continue
        statuses = seen.get(mid, set())
        doc = kb.clause_doc[kb.measure_clause[mid]]
        if not statuses & POSITIVE:
            missing.append(f"{doc}: {mid}: no positive case")
        if m.rule.when is not None and not statuses & NEGATIVE:
            missing.append(f"{doc}: {mid}: no negative case")
        if m.rule.requires is not None and not {"met", "violated"} <= statuses:
            missing.append(f"{doc}: {mid}: needs both a met and a violated case")
        if m.rule.quota is not None and not {"met", "violated", "not_due"} <= statuses:
            missing.append(f"{doc}: {mid}: a periodic quota needs a met, a violated and a not_due case")
        if m.rule.satisfied_if is not None and not {"applies", "satisfied"} <= statuses:
            missing.append(f"{doc}: {mid}: needs an applies and a satisfied case")
    return missing
