"""Statuses, amounts and missing facts for a whole caseload, from the column evaluator (``engine.columns``).

This mirrors ``Evaluator._determination`` step for step, over columns: the scope concept, applicability,
whether a covered entitlement is already satisfied, a site's compliance test and quota, and the amounts of
the measures that apply. The per-household trace stays with the single-record path (``check``/``explain``),
which remains the explainer; the screener gives each row its status, amounts, missing facts and the first
test that ruled it out.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from houfu.kb.conditions import visit
from houfu.kb.loader import KB, scope_concept_name
from houfu.kb.models import Measure
from houfu.kb.query import deadline_of

from .calculators import (
    Calculator,
    ColumnAmount,
    ColumnInput,
    load_calculators,
    load_column_calculators,
)
from .columns import (
    Caseload,
    ColumnProgram,
    Compiled,
    Items,
    Masks,
    Node,
    Table,
    _Compiler,
    _Ctx,
)
from .evaluator import _listed, years_since
from .logic import date_number, describe, full_years
from .periods import quota_plan
from .program import Program
from .results import Status, TargetKind

__all__ = ["STATUSES", "Decisions", "MeasureAmounts", "VectorEvaluator"]

#: status codes in the decisions' ``status`` matrix
STATUSES: tuple[Status, ...] = tuple(Status)
_CODE = {s: np.uint8(i) for i, s in enumerate(STATUSES)}


@dataclass
class MeasureAmounts:
    measure: int  # column in Decisions.measures
    amounts: list[ColumnAmount]


@dataclass
class Decisions:
    """One program's decisions for a caseload: a status per (row, measure), and what explains them."""

    entity: str
    documents: tuple[str, ...]
    measures: list[str]
    status: npt.NDArray[np.uint8]  # rows x measures, codes into STATUSES
    #: per measure: (rows, paths) pairs, each path missing on those rows (undetermined rows only)
    missing: dict[int, list[tuple[npt.NDArray[np.intp], list[str]]]] = field(default_factory=dict)
    #: per measure: for each row ruled out, the index of the first top-level test that failed, and the tests
    failed: dict[int, tuple[npt.NDArray[np.int16], list[str]]] = field(default_factory=dict)
    amounts: list[MeasureAmounts] = field(default_factory=list)

    def missing_lists(self, m: int) -> dict[int, list[str]]:
        """Missing paths by row for measure ``m``, sorted, each as often as the decisions name it (for tests and
        small outputs: a path named twice for one row is a bug the tests look for)."""
        out: dict[int, list[str]] = {}
        for rows, paths in self.missing.get(m, []):
            for r in rows.tolist():
                out.setdefault(r, []).extend(paths)
        return {r: sorted(ps) for r, ps in out.items()}


def _put(col: npt.NDArray[np.uint8], where: npt.NDArray[np.bool_], code: np.uint8) -> None:
    """``col[where] = code`` as a blend of whole columns: a boolean index costs about 3-4 ns a row where the mask
    is scattered (a branch per row), the blend a few tenths of that (issue 25: the statuses were a fifth of a
    decide)."""
    col ^= (col ^ np.uint8(code)) & np.negative(where.view(np.uint8))


class VectorEvaluator:
    """Decides whole caseloads; one compiled ``ColumnProgram`` per program, reused across partitions."""

    def __init__(self, kb: KB):
        self.kb = kb
        self.calculators = load_column_calculators(kb)
        self.scalars: dict[str, Calculator] = load_calculators(kb)  # they declare the parameters and concepts
        self._compiled: dict[int, ColumnProgram] = {}
        self._inputs: dict[tuple[int, str], tuple[Program, dict[str, Node], dict[str, Node]]] = {}
        self._member_nodes: dict[int, tuple[Program, Compiled, dict[str, Node]]] = {}
        self._years_since = years_since(kb)

    def compiled(self, program: Program) -> ColumnProgram:
        cp = self._compiled.get(id(program))
        if cp is None or cp.program is not program:
            cp = self._compiled[id(program)] = ColumnProgram(program)
        return cp

    def decide(self, program: Program, caseload: Caseload, as_of: dt.date, missing: bool = True,
               failed: bool = True) -> Decisions:
        """Every measure's status for the caseload; with ``missing``, the facts each undetermined row lacks; with
        ``failed``, the first top-level test that ruled each row out (the long determinations' column)."""
        kb = self.kb
        cp = self.compiled(program)
        caseload = self.derived(caseload, as_of)
        results = cp.evaluate(caseload)
        n = caseload.n
        measures: list[Measure] = []
        for doc_id in program.documents:
            for clause in kb.documents[doc_id].clauses:
                measures += [m for m in clause.measures if _listed(m, caseload.entity)]
        # Column-major: each measure's statuses are contiguous, so the masked writes below (and every reader's
        # status[:, j]) touch one run of memory rather than every row's stride.
        status = np.empty((n, len(measures)), dtype=np.uint8, order="F")
        # The amounts' member concepts and gates are nodes of the program's own (``_input_nodes``): their masks
        # come from the evaluation's context, where the rules computed most of them already.
        amounts_ctx = cp._ctx
        out = Decisions(caseload.entity, program.documents, [m.id for m in measures], status)
        for j, m in enumerate(measures):
            doc_id = kb.clause_doc[kb.measure_clause[m.id]]
            scope_key = f"{TargetKind.concept.value}:{scope_concept_name(doc_id)}"
            out_of_scope = results[scope_key][1] if scope_key in results else np.zeros(n, bool)
            col = status[:, j]
            if not m.rule:
                col[:] = _CODE[Status.undetermined]
                _put(col, out_of_scope, _CODE[Status.out_of_scope])
                continue
            t, f = results[f"{TargetKind.measure.value}:{m.id}"]
            col[:] = _CODE[Status.undetermined]
            _put(col, f, _CODE[Status.does_not_apply])
            _put(col, t, _CODE[Status.applies])
            why_key: list[tuple[str, npt.NDArray[np.bool_]]] = [(f"measure:{m.id}", ~(t | f))]
            sat = results.get(f"{TargetKind.satisfied.value}:{m.id}")
            if sat is not None:
                _put(col, t & sat[0], _CODE[Status.satisfied])
                why_key.append((f"satisfied:{m.id}", t & ~(sat[0] | sat[1])))
            req = results.get(f"{TargetKind.requires.value}:{m.id}")
            extra: list[tuple[npt.NDArray[np.bool_], str]] = []  # (rows, fact) still to ask beside the conditions'
            if req is not None:
                _put(col, t & ~(req[0] | req[1]), _CODE[Status.undetermined])
                _put(col, t & req[0], _CODE[Status.met])
                deadline = deadline_of(kb, m.id)
                not_yet = deadline is not None and as_of <= deadline.date  # 2024年底前, and the date has not passed
                _put(col, t & req[1], _CODE[Status.not_due if not_yet else Status.violated])
                why_key.append((f"requires:{m.id}", t & ~(req[0] | req[1])))
                if m.rule.done_on is not None and deadline is not None and not not_yet:
                    # Done, the deadline passed: on time or late by the completion date, as _on_time for one site.
                    day = caseload.main.column(m.rule.done_on)
                    done = t & req[0]
                    with np.errstate(invalid="ignore"):
                        _put(col, done & (day > date_number(deadline.date)), _CODE[Status.violated])
                    unknown = done & np.isnan(day)
                    _put(col, unknown, _CODE[Status.undetermined])
                    extra.append((unknown, m.rule.done_on))
            quota_missing = None
            if m.rule.quota is not None and m.id not in program.through_site:
                quota_missing = self._quota(m, program, caseload, col, t, as_of)
                # A quota decides every applicable row: what it leaves open is only its own count.
                why_key = [(k, r & ~t) for k, r in why_key]
            _put(col, out_of_scope, _CODE[Status.out_of_scope])
            if quota_missing is not None and m.rule.quota is not None:
                extra.append((quota_missing, m.rule.quota.count))
            if missing:
                out.missing[j] = self._missing(cp, caseload, why_key, extra, out_of_scope)
            if failed:
                out.failed[j] = self._failed(program, cp, caseload, m, f & ~out_of_scope)
            if m.rule.amounts:
                applies = col == _CODE[Status.applies]
                calc = self.calculators[m.rule.amounts]
                out.amounts.append(MeasureAmounts(j, calc.compute(self._input(cp, program, caseload, m, applies, amounts_ctx))))
        cp.release()
        return out

    def derived(self, caseload: Caseload, as_of: dt.date) -> Caseload:
        """The caseload with the facts the vocabulary derives on ``as_of`` filled in where they are not given (an
        age from a date of birth not after ``as_of``), as ``derive_facts`` does for one record. A new caseload:
        the one given is not changed, so it can be decided again on another date."""
        on = float(date_number(as_of))
        levels = {"main": caseload.main, "members": caseload.members.table, "entities": caseload.entities.table}
        changed = False
        for fact, source, records in self._years_since:
            for record, level in ((caseload.entity, "main"), ("member", "members"), ("entity", "entities")):
                table = levels[level]
                born = table.columns.get(source)
                if record not in records or born is None:
                    continue
                given = table.column(fact)
                with np.errstate(invalid="ignore"):
                    fill = np.isnan(given) & (born <= on)
                if fill.any():
                    values = given.copy()
                    values[fill] = full_years(born[fill], on)
                    levels[level] = Table(table.n, {**table.columns, fact: values}, table.codec)
                    changed = True
        if not changed:
            return caseload
        return Caseload(caseload.entity, levels["main"],
                        Items(levels["members"], caseload.members.owner, caseload.members.known),
                        Items(levels["entities"], caseload.entities.owner, caseload.entities.known), caseload.periods)

    def _input(self, cp: ColumnProgram, program: Program, caseload: Caseload, m: Measure,
               applies: npt.NDArray[np.bool_], ctx: _Ctx | None = None) -> ColumnInput:
        scalar = self.scalars[m.rule.amounts if m.rule and m.rule.amounts else ""]
        params = {role: program.parameters[pid] for role, pid in scalar.reads.items()}
        concept_nodes, gate_nodes = self._input_nodes(cp, m.rule.amounts if m.rule and m.rule.amounts else "")
        # One context: nodes shared by the concepts and gates (and by the measures of one decide) are computed once.
        ctx = ctx if ctx is not None else _Ctx(caseload)
        concepts: dict[str, Masks] = {name: node.masks(ctx) for name, node in concept_nodes.items()}
        gates = {fact: node.masks(ctx) for fact, node in gate_nodes.items()}
        return ColumnInput(caseload, applies, params, concepts, gates)

    def _input_nodes(self, cp: ColumnProgram, calculator: str) -> tuple[dict[str, Node], dict[str, Node]]:
        """The member concepts and gates an amount calculator reads, compiled once per program into the program's
        own nodes (``ColumnProgram.compiled``): a node the rules have too is the same node, computed once."""
        program = cp.program
        key = (id(program), calculator)
        got = self._inputs.get(key)
        if got is None or got[0] is not program:
            # The gates and the member concepts are compiled once per program, whatever the calculator: the same
            # nodes, so one decide's context computes each once for all its measures with amounts.
            shared = self._member_nodes.get(id(program))
            if shared is None or shared[0] is not program:
                compiled = cp.compiled
                member_facts = self.kb.models.paths("member")
                gates = {fact: visit(gate, _Compiler(program, "members", compiled))
                         for fact, gate in program.gates.items() if fact in member_facts}
                shared = self._member_nodes[id(program)] = (program, compiled, gates)
            _, compiled, gates = shared
            scalar = self.scalars[calculator]
            concepts = {name: _Compiler(program, "members", compiled)._concept_node(name, "members")
                        for name in scalar.uses_concepts}
            got = self._inputs[key] = (program, concepts, gates)
        return got[1], got[2]

    def _quota(self, m: Measure, program: Program, caseload: Caseload, col: npt.NDArray[np.uint8],
               applies: npt.NDArray[np.bool_], as_of: dt.date) -> npt.NDArray[np.bool_]:
        """每年/每季度不少于N次 over columns: the plan of ``engine.periods``, as ``judge`` reads it for one site;
        the rows left undetermined."""
        from .logic import resolve

        quota = m.rule.quota if m.rule else None
        assert quota is not None
        doc = self.kb.documents[self.kb.clause_doc[self.kb.measure_clause[m.id]]].doc
        plan = quota_plan(quota, doc, float(resolve(program, quota.min)), as_of)
        _, counts = caseload.periods.get(quota.count, (None, {}))
        n = caseload.n
        violated, unknown = np.zeros(n, bool), np.zeros(n, bool)
        ended = False
        for p in plan:
            if p.required is None or not p.complete:
                continue  # not judged, or under way
            ended = True
            got = counts.get(p.label)
            if got is None:
                unknown[:] = True
                continue
            with np.errstate(invalid="ignore"):
                violated |= got < p.required
            unknown |= np.isnan(got)
        if not ended:
            _put(col, applies, _CODE[Status.not_due])
            return np.zeros(n, bool)
        undetermined = applies & ~violated & unknown
        _put(col, applies, _CODE[Status.met])
        _put(col, undetermined, _CODE[Status.undetermined])
        _put(col, applies & violated, _CODE[Status.violated])
        return undetermined

    def _missing(self, cp: ColumnProgram, caseload: Caseload, why: list[tuple[str, npt.NDArray[np.bool_]]],
                 extra: list[tuple[npt.NDArray[np.bool_], str]], out_of_scope: npt.NDArray[np.bool_],
                 ) -> list[tuple[npt.NDArray[np.intp], list[str]]]:
        """The missing facts, from the condition that left each row open (as ``_determination`` picks it:
        applicability first, then whether it is satisfied, then the compliance test); a fact asked for itself
        (a quota's count, a completion date) overrides."""
        taken = out_of_scope.copy()
        parts: list[tuple[npt.NDArray[np.intp], list[str]]] = []
        for rows, fact in extra:
            parts.append((np.flatnonzero(rows & ~taken), [fact]))
            taken |= rows
        # A later test overrides an earlier one for the same row (requires over satisfied_if).
        for key, rows in reversed(why):
            rows = rows & ~taken
            if rows.any():
                parts += cp.missing(caseload, key, rows)
                taken |= rows
        return parts

    def _failed(self, program: Program, cp: ColumnProgram, caseload: Caseload, m: Measure,
                rows: npt.NDArray[np.bool_]) -> tuple[npt.NDArray[np.int16], list[str]]:
        """The first top-level test that is known false, by index into its descriptions (-1: none)."""
        from houfu.kb.conditions import AllOf

        when = program.by_key[f"{TargetKind.measure.value}:{m.id}"].when
        node = cp.nodes[f"{TargetKind.measure.value}:{m.id}"]
        parts = when.all if isinstance(when, AllOf) else [when] if when is not None else []
        nodes = getattr(node, "parts", [node]) if isinstance(when, AllOf) else [node]
        first = np.full(caseload.n, -1, dtype=np.int16)
        ctx = cp._ctx
        assert ctx is not None  # decide evaluated the program
        for i, sub in enumerate(nodes):
            _, f = sub.masks(ctx)
            first[rows & (first < 0) & f] = i
        return first, [describe(program, p) for p in parts]
