"""Amount calculators, registered by name and kept with their policy.

A subsidy of a common shape (a fixed sum, so much a day up to a day cap, a rate of a base under a cap) is
declared as data in the document's ``calculators.yaml`` (``kb.models.DeclaredCalculator``); houfu builds both
forms of it here, for one record and for a caseload's columns.  A new shape is Python: a document folder may
hold ``calculators.py``.  Each calculator there is declared
with the ``calculator`` decorator, which names it and the parameters it reads::

    @calculator("incubation_subsidy",
                reads={"rate": "dn.4.3.subsidy_rate", "cap": "dn.4.3.quarterly_cap"})
    def incubation_subsidy(inp: CalculatorInput) -> list[Amount]: ...

A rule names its calculator (``rule.amounts: incubation_subsidy``).
``check_calculators`` (run by ``houfu kb validate``) rejects an unknown name and a
parameter a calculator reads that the KB lacks.  Every calculator returns
``Amount``s, one typed shape, so no renderer reaches into a private layout.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import TypeAdapter

if TYPE_CHECKING:  # numpy only for the column forms: a single check never imports it (issue 25, a cold check)
    pass

from houfu.kb.conditions import Condition
from houfu.kb.loader import KB, KBError
from houfu.kb.models import ENTITY_KIND, AmountShape, DeclaredCalculator
from houfu.kb.names import did_you_mean, suggest

from .logic import Facts, Truth, truth
from .program import Program
from .results import Amount

__all__ = ["Calculator", "CalculatorInput", "ColumnAmount", "ColumnCalculator", "ColumnInput", "calculator",
           "check_calculators", "column_calculator", "load_calculators", "load_column_calculators"]


@dataclass(frozen=True)
class CalculatorInput:
    """What a calculator sees: the entity's facts and its declared parameters by role."""

    facts: Facts
    params: Mapping[str, float]
    program: Program
    concepts: Mapping[str, Condition] = field(default_factory=dict)

    def member_concept(self, name: str, member: Facts) -> Truth:
        """A declared member concept (e.g. working age and able) for one member's facts."""
        return truth(self.program, self.concepts[name], member, {})

    def asked(self, fact: str, member: Facts) -> Truth:
        """Whether ``fact`` is asked of this member: its ask_if gate (True where it has none). A rule reads the
        fact only where this is true, and never waits on it where this is false (a child's job)."""
        gate = self.program.gates.get(fact)
        return True if gate is None else truth(self.program, gate, member, {})


Compute = Callable[[CalculatorInput], list[Amount]]


@dataclass(frozen=True)
class Calculator:
    name: str
    reads: Mapping[str, str]  # role -> parameter id
    uses_concepts: tuple[str, ...]
    compute: Compute
    origin: str = ""

    def __call__(self, program: Program, facts: Facts) -> list[Amount]:
        params = {role: program.parameters[pid] for role, pid in self.reads.items()}
        concepts = {n: program.concepts[n] for n in self.uses_concepts}
        got = self.compute(CalculatorInput(facts, params, program, concepts))
        # A policy folder's own code: what it returns is validated here, since a report takes it as it is
        # (``Determination.trusted``). A list of Amounts, as every bundled calculator returns, passes untouched.
        if type(got) is list and all(type(a) is Amount for a in got):
            return got
        return _amounts().validate_python(got)


@lru_cache(maxsize=1)
def _amounts() -> TypeAdapter[list[Amount]]:
    """Built on first use: a cold check of calculators that return Amounts builds no validator."""
    return TypeAdapter(list[Amount])


def calculator(name: str, reads: Mapping[str, str],
               concepts: tuple[str, ...] = ()) -> Callable[[Compute], Calculator]:
    """Declare a calculator: its name, the parameters it reads (role -> id) and member concepts it uses."""

    def wrap(fn: Compute) -> Calculator:
        return Calculator(name, dict(reads), tuple(concepts), fn, origin=fn.__module__)

    return wrap


@dataclass(frozen=True)
class ColumnAmount:
    """Amounts of one quantity for many households at once (the screener's form of ``Amount``).

    ``level`` says what ``rows`` index: households (main), members or businesses (entities); ``values`` is NaN
    where the amount is unknown."""

    quantity: str
    unit: str
    level: str
    rows: Any
    values: Any


@dataclass(frozen=True)
class ColumnInput:
    """What a column calculator sees: the caseload, the households it applies to, its parameters, and the
    member concepts it declared, as masks over the member rows (known true, known false)."""

    caseload: Any
    applies: Any
    params: Mapping[str, float]
    member_concepts: Mapping[str, Any]
    #: each gated member fact's ask_if gate as masks over the member rows (known true, known false): a member
    #: the gate rules out is never asked the fact, so its being unknown is no gap
    member_gates: Mapping[str, Any] = field(default_factory=dict)


ColumnCompute = Callable[[ColumnInput], list[ColumnAmount]]


@dataclass(frozen=True)
class ColumnCalculator:
    """The same calculator over columns, declared beside it under the same name; the differential test holds
    the two to the same amounts."""

    name: str
    compute: ColumnCompute


def column_calculator(name: str) -> Callable[[ColumnCompute], ColumnCalculator]:
    def wrap(fn: ColumnCompute) -> ColumnCalculator:
        return ColumnCalculator(name, fn)

    return wrap


def load_column_calculators(kb: KB) -> dict[str, ColumnCalculator]:
    """Every column calculator of the documents, by name: declared as data, or in ``calculators.py``."""
    out: dict[str, ColumnCalculator] = declared_calculators(kb)[1]
    for doc_id, dkb in kb.documents.items():
        path = dkb.folder / "calculators.py"
        if path.exists():
            module = sys.modules.get(f"houfu_policies_{doc_id.replace('-', '_')}_{kb.version}") or _import(
                path, f"houfu_policies_{doc_id.replace('-', '_')}_{kb.version}")
            out |= {obj.name: obj for obj in vars(module).values() if isinstance(obj, ColumnCalculator)}
    return out


def _import(path: Path, module_name: str) -> object:
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:  # pragma: no cover - a .py file always has a loader
        raise KBError(path, "-", "cannot import")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[module_name]
        raise KBError(path, "-", f"cannot import calculators: {type(exc).__name__}: {exc}") from None
    return module


# --- calculators declared as data (policies/<doc>/calculators.yaml) -------------------------


def _reads(d: DeclaredCalculator) -> dict[str, str]:
    roles = {"amount": d.amount, "max_days": d.max_days, "rate": d.rate, "cap": d.cap, "max_periods": d.max_periods}
    return {role: pid for role, pid in roles.items() if pid is not None}


def _figure(d: DeclaredCalculator, p: Mapping[str, float], rec: Facts,
            prefix: str) -> tuple[float | None, dict[str, float | int | bool | str | None], list[str]]:
    """One amount of a declared shape for one household, member or business: value, basis, missing facts."""
    basis: dict[str, float | int | bool | str | None] = {}
    missing: list[str] = []
    value: float | None = None
    if d.shape is AmountShape.fixed:
        value = p["amount"]
    elif d.shape is AmountShape.per_day:
        assert d.days is not None  # DeclaredCalculator's validator
        days = rec.get(d.days)
        basis |= {"per_day": p["amount"], "days": days, "max_days": p["max_days"]}
        if days is None:
            missing.append(prefix + d.days)
        else:
            value = p["amount"] * min(float(days), p["max_days"])
    elif d.shape in (AmountShape.per_period, AmountShape.rate_count_periods):
        assert d.periods is not None  # DeclaredCalculator's validator
        names = ([d.count] if d.count and d.shape is AmountShape.rate_count_periods else []) + [d.periods]
        got = {f: rec.get(f) for f in names}
        missing += [prefix + f for f, v in got.items() if v is None]
        periods = got[d.periods]
        count = got.get(d.count) if d.count and d.shape is AmountShape.rate_count_periods else 1
        basis |= {"rate": p["amount"], "count": count, "periods": periods, "max_periods": p.get("max_periods")}
        if not missing and periods is not None and count is not None:
            paid = min(float(periods), p["max_periods"]) if "max_periods" in p else float(periods)
            value = p["amount"] * float(count) * paid
    else:
        parts = {f: rec.get(f) for f in d.base}
        missing += [prefix + f for f, v in parts.items() if v is None]
        basis["rate_percent"] = p["rate"]
        if not missing:
            total = float(sum(v for v in parts.values() if v is not None))
            basis["base"] = total
            value = p["rate"] / 100 * total
    if "cap" in p:
        basis["cap"] = p["cap"]
        if value is not None:
            basis["capped"] = value > p["cap"]
            value = min(value, p["cap"])
    return (None if value is None else round(value, 2)), basis, missing


def _declared_scalar(d: DeclaredCalculator, unit: str) -> Compute:
    def compute(inp: CalculatorInput) -> list[Amount]:
        common = {"calculator": d.name, "quantity": d.quantity, "unit": unit, "period": d.period}
        out = []
        if d.per == "household":
            value, basis, missing = _figure(d, inp.params, inp.facts, "")
            return [Amount(**common, value=value, basis=basis, missing=missing)]
        if d.per == "member":
            assert d.who is not None  # DeclaredCalculator's validator
            for i, m in enumerate(inp.facts.get("members") or []):
                if inp.member_concept(d.who, m) is True:
                    value, basis, missing = _figure(d, inp.params, m, f"members[{i}].")
                    out.append(Amount(**common, value=value, member=i, member_name=m.get("name"), basis=basis,
                                      missing=missing))
            return out
        for i, e in enumerate(inp.facts.get("entities") or []):
            if d.kind is not None and e.get(ENTITY_KIND) != d.kind:
                continue  # a declared kind's amount is for the records known to be of it
            value, basis, missing = _figure(d, inp.params, e, f"entities[{i}].")
            out.append(Amount(**common, value=value, entity=e.get("name") or e["id"],
                              members=[n - 1 for n in e.get("owners") or []], basis=basis, missing=missing))
        return out

    return compute


def _declared_columns(d: DeclaredCalculator, unit: str) -> ColumnCompute:
    def compute(inp: ColumnInput) -> list[ColumnAmount]:
        import numpy as np

        caseload, p = inp.caseload, inp.params
        if d.per == "household":
            level, table, rows = "main", caseload.main, np.flatnonzero(inp.applies)
        else:
            items = caseload.members if d.per == "member" else caseload.entities
            due = inp.applies[items.owner]
            if d.who is not None:
                due = due & inp.member_concepts[d.who][0]
            if d.kind is not None:
                due = due & (items.table.column(ENTITY_KIND) == items.table.codec.encode_constant(ENTITY_KIND, d.kind))
            level, table, rows = ("members" if d.per == "member" else "entities"), items.table, np.flatnonzero(due)
        if d.shape is AmountShape.fixed:
            values = np.full(len(rows), p["amount"], dtype=np.float64)
        elif d.shape is AmountShape.per_day:
            assert d.days is not None
            values = p["amount"] * np.minimum(table.column(d.days)[rows], p["max_days"])
        elif d.shape in (AmountShape.per_period, AmountShape.rate_count_periods):
            assert d.periods is not None
            periods = table.column(d.periods)[rows].astype(np.float64)
            if "max_periods" in p:
                periods = np.minimum(periods, p["max_periods"])
            count = (table.column(d.count)[rows].astype(np.float64)
                     if d.count and d.shape is AmountShape.rate_count_periods else np.ones(len(rows)))
            values = p["amount"] * count * periods
        else:
            values = p["rate"] / 100 * sum((table.column(f)[rows] for f in d.base), np.zeros(len(rows)))
        if "cap" in p:
            values = np.minimum(values, p["cap"])
        return [ColumnAmount(d.quantity, unit, level, rows, np.round(values, 2))]

    return compute


def declared_calculators(kb: KB) -> tuple[dict[str, Calculator], dict[str, ColumnCalculator]]:
    """The calculators the documents declare as data, in both forms (one record; a caseload's columns)."""
    scalars: dict[str, Calculator] = {}
    columns: dict[str, ColumnCalculator] = {}
    for dkb in kb.documents.values():
        origin = str(dkb.folder / "calculators.yaml")
        for d in dkb.calculators:
            if d.name in scalars:
                raise KBError(origin, d.name, f"calculator {d.name!r} is declared twice")
            money = d.amount or d.cap or d.rate or ""
            unit = kb.parameters[money].unit if money in kb.parameters else "yuan"
            scalars[d.name] = Calculator(d.name, _reads(d), (d.who,) if d.who else (), _declared_scalar(d, unit),
                                         origin=origin)
            columns[d.name] = ColumnCalculator(d.name, _declared_columns(d, unit))
    return scalars, columns


def load_calculators(kb: KB) -> dict[str, Calculator]:
    """Every calculator of the documents, by name: declared as data (calculators.yaml) or in Python
    (``calculators.py``)."""
    out: dict[str, Calculator] = declared_calculators(kb)[0]
    for doc_id, dkb in kb.documents.items():
        path = dkb.folder / "calculators.py"
        if not path.exists():
            continue
        module = _import(path, f"houfu_policies_{doc_id.replace('-', '_')}_{kb.version}")
        for obj in vars(module).values():
            if isinstance(obj, Calculator):
                if obj.name in out:
                    raise KBError(path, obj.name, f"calculator {obj.name!r} is also declared in {out[obj.name].origin}")
                out[obj.name] = replace(obj, origin=str(path))
    return out


def check_calculators(kb: KB, calculators: Mapping[str, Calculator]) -> list[KBError]:
    """Unknown calculator names in rules; parameters or concepts a calculator needs that the KB lacks."""
    errs = []
    for mid, m in kb.measures.items():
        if m.rule and m.rule.amounts and m.rule.amounts not in calculators:
            path = kb.documents[kb.clause_doc[kb.measure_clause[mid]]].folder / "clauses.yaml"
            errs.append(KBError(path, f"measures[{mid}].rule.amounts", f"unknown calculator {m.rule.amounts!r}"
                                + did_you_mean(suggest(m.rule.amounts, calculators))))
    columns = load_column_calculators(kb)
    for c in calculators.values():
        if c.name not in columns:
            errs.append(KBError(c.origin, c.name, "no column version (@column_calculator) for the screener"))
        for role, pid in c.reads.items():
            if pid not in kb.parameters:
                errs.append(KBError(c.origin, f"{c.name}.reads.{role}", f"unknown parameter {pid!r}"))
        for name in c.uses_concepts:
            if name not in kb.concepts:
                errs.append(KBError(c.origin, f"{c.name}.concepts", f"unknown concept {name!r}"))
    for dkb in kb.documents.values():
        for d in dkb.calculators:
            facts = kb.models.paths(d.per)
            if d.kind is not None and d.kind not in kb.models.records:
                errs.append(KBError(str(dkb.folder / "calculators.yaml"), f"calculators[{d.name}].kind",
                                    f"{d.kind!r} is no record kind declared under `records:` of a vocabulary.yaml"))
            for name in [n for n in (d.days, d.count, d.periods) if n] + d.base:
                if name not in facts:
                    errs.append(KBError(str(dkb.folder / "calculators.yaml"), f"calculators[{d.name}]",
                                        f"{name!r} is not a {d.per} fact of the vocabulary"))
    return errs
