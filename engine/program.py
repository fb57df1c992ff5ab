"""Turn the rule data of the documents in force into one list of targets.

A *target* is something to decide for one entity: a concept (derived fact),
a measure's applicability, or a site measure's compliance test.  Both
evaluators (``engine.rete`` and the plain ``engine.logic``) run the same
program, which is what makes the differential test meaningful.
"""

from __future__ import annotations

from dataclasses import dataclass

from houfu.kb.loader import KB, scope_concept_name
from houfu.kb.models import Condition

from .logic import Facts, Truth, concept_order, truth

__all__ = ["Target", "Program", "build_program", "evaluate_plain"]


@dataclass(frozen=True)
class Target:
    kind: str  # "concept" | "measure" | "requires"
    name: str  # concept name or measure id
    document: str
    clause: str
    when: Condition | None

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.name}"


@dataclass(frozen=True)
class Program:
    entity: str
    documents: tuple[str, ...]
    targets: tuple[Target, ...]

    @property
    def concepts(self) -> tuple[Target, ...]:
        return tuple(t for t in self.targets if t.kind == "concept")


def build_program(kb: KB, entity: str, documents: tuple[str, ...]) -> Program:
    """The program for one entity kind and set of documents, built once per KB."""
    documents = tuple(sorted(documents))
    cache_key = ("program", entity, documents)
    if cache_key in kb.cache:
        return kb.cache[cache_key]
    targets: list[Target] = []
    measure_targets: list[Target] = []
    used_concepts: list[str] = []
    for doc_id in documents:
        dkb = kb.documents[doc_id]
        scope = scope_concept_name(doc_id)
        scope_ref = Condition(concept=scope) if scope in kb.concepts else None
        for clause in dkb.clauses:
            for m in clause.measures:
                if not m.rule or m.rule.entity != entity:
                    continue
                when = m.rule.when
                if scope_ref is not None:
                    # The document covers only some site types (dingnan: the county-seat site).
                    when = Condition(all=[scope_ref] + ([when] if when else []))
                measure_targets.append(Target("measure", m.id, doc_id, clause.id, when))
                used_concepts += _concepts_in(when)
                if m.rule.requires is not None:
                    measure_targets.append(Target("requires", m.id, doc_id, clause.id, m.rule.requires))
                    used_concepts += _concepts_in(m.rule.requires)
    names = [n for n in dict.fromkeys(used_concepts) if n in kb.concepts]
    for name in concept_order(kb, names):
        c = kb.concepts[name]
        cid = kb.concept_clause[name]
        targets.append(Target("concept", name, kb.clause_doc[cid], cid, c.when))
    program = Program(entity, documents, tuple(targets + measure_targets))
    kb.cache[cache_key] = program
    return program


def _concepts_in(cond: Condition | None) -> list[str]:
    return [n.concept for n, _ in cond.walk() if n.concept] if cond else []


def evaluate_plain(kb: KB, program: Program, facts: Facts) -> dict[str, Truth]:
    """Decide every target with the reference evaluator; keys are Target.key."""
    concepts: dict[str, Truth] = {}
    out: dict[str, Truth] = {}
    for t in program.targets:
        value = truth(kb, t.when, facts, concepts)
        if t.kind == "concept":
            concepts[t.name] = value
        out[t.key] = value
    return out
