"""A rule program: what to decide for one kind of entity, self-contained.

A *target* is something to decide for one entity: a concept (derived fact), a
measure's applicability, or a site measure's compliance test.  A ``Program``
carries its targets plus the definitions they need (concept conditions and
parameter values), so the evaluators (``engine.rete``, the plain ``engine.logic``)
need nothing else, and the differential test can generate programs of its own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from houfu.kb.conditions import AllOf, ConceptIs, Condition, walk
from houfu.kb.loader import KB, scope_concept_name

from .results import TargetKind

__all__ = ["Target", "Program", "build_program", "concept_order"]


@dataclass(frozen=True)
class Target:
    kind: TargetKind
    name: str  # concept name or measure id
    document: str
    clause_id: str
    clause_number: str
    when: Condition | None

    @property
    def key(self) -> str:
        return f"{self.kind.value}:{self.name}"


@dataclass(frozen=True)
class Program:
    """Targets in evaluation order (concepts first, each after those it rests on)."""

    entity: str
    documents: tuple[str, ...]
    targets: tuple[Target, ...]
    #: every concept the targets may use, household- and member-level: name -> condition
    concepts: Mapping[str, Condition]
    #: parameter id -> value, for ParamRef comparisons
    parameters: Mapping[str, float]
    #: deadline id -> the date the text sets, for DeadlineRef comparisons
    deadlines: Mapping[str, dt.date] = field(default_factory=dict)
    by_key: Mapping[str, Target] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_key", {t.key: t for t in self.targets})

    @property
    def concept_targets(self) -> tuple[Target, ...]:
        return tuple(t for t in self.targets if t.kind is TargetKind.concept)


def concept_order(concepts: Mapping[str, Condition], names: list[str]) -> list[str]:
    """Concepts sorted so that each comes after the concepts it rests on; a cycle is an error."""
    order: list[str] = []

    def visit_(name: str, path: tuple[str, ...]) -> None:
        if name in order:
            return
        if name in path:
            raise ValueError(f"concepts form a cycle: {' -> '.join(path + (name,))}")
        for node, _ in walk(concepts[name]):
            if isinstance(node, ConceptIs):
                visit_(node.concept, path + (name,))
        order.append(name)

    for n in names:
        visit_(n, ())
    return order


def _concepts_in(cond: Condition | None) -> list[str]:
    return [n.concept for n, _ in walk(cond) if isinstance(n, ConceptIs)]


def build_program(kb: KB, entity: str, documents: tuple[str, ...]) -> Program:
    """The program for one entity kind and set of documents (the caller caches it)."""
    documents = tuple(sorted(documents))
    measure_targets: list[Target] = []
    used: list[str] = []
    for doc_id in documents:
        dkb = kb.documents[doc_id]
        scope = scope_concept_name(doc_id)
        scope_ref = ConceptIs(concept=scope) if scope in kb.concepts else None
        for clause in dkb.clauses:
            for m in clause.measures:
                if not m.rule or m.rule.entity != entity:
                    continue
                when = m.rule.when
                if scope_ref is not None:
                    # The document covers only some site types (dingnan: the county-seat site).
                    when = AllOf(all=[scope_ref] + ([when] if when is not None else []))
                measure_targets.append(Target(TargetKind.measure, m.id, doc_id, clause.id, clause.number, when))
                used += _concepts_in(when)
                if m.rule.satisfied_if is not None:
                    measure_targets.append(Target(TargetKind.satisfied, m.id, doc_id, clause.id, clause.number,
                                                  m.rule.satisfied_if))
                    used += _concepts_in(m.rule.satisfied_if)
                if m.rule.requires is not None:
                    measure_targets.append(Target(TargetKind.requires, m.id, doc_id, clause.id, clause.number,
                                                  m.rule.requires))
                    used += _concepts_in(m.rule.requires)
    all_concepts = {name: c.when for name, c in kb.concepts.items()}
    targets: list[Target] = []
    for name in concept_order(all_concepts, [n for n in dict.fromkeys(used) if n in kb.concepts]):
        cid = kb.concept_clause[name]
        targets.append(Target(TargetKind.concept, name, kb.clause_doc[cid], cid, kb.clauses[cid].number,
                              kb.concepts[name].when))
    return Program(entity, documents, tuple(targets + measure_targets), all_concepts,
                   {pid: p.value for pid, p in kb.parameters.items()},
                   {d.id: d.date for dkb in kb.documents.values() for d in dkb.doc.deadlines})
