"""A rule program: what to decide for one kind of entity, self-contained.

A *target* is something to decide for one entity: a concept (derived fact), a
measure's applicability, or a site measure's compliance test.  A ``Program``
carries its targets plus the definitions they need (concept conditions and
parameter values), so the evaluators (``engine.rete``, the plain ``engine.logic``)
need nothing else, and the differential test can generate programs of its own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from functools import cached_property

from houfu.kb.conditions import (
    MEMBERS,
    AllEntities,
    AllMembers,
    AllOf,
    AnyEntity,
    AnyMember,
    AnyOf,
    Assumed,
    ConceptIs,
    Condition,
    Fact,
    FactRef,
    Gated,
    GatedOpen,
    MemberConceptIs,
    Not,
    Op,
    ParamRef,
    QuantifierVisitor,
    visit,
    walk,
)
from houfu.kb.loader import KB, scope_concept_name
from houfu.kb.models import FactLabel

from .results import TargetKind

__all__ = ["Gates", "Target", "Program", "build_program", "concept_order", "gates_of"]


@dataclass(frozen=True)
class Target:
    kind: TargetKind
    name: str  # concept name or measure id
    document: str
    clause_id: str
    clause_number: str
    when: Condition | None

    @cached_property  # read many times per record
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
    #: fact -> its ask_if gate as compiled (gated itself), on the record the fact belongs to: whom it is asked of
    gates: Mapping[str, Condition] = field(default_factory=dict)
    #: measure ids decided for a household through its site (a site rule with ``reaches: households``)
    through_site: frozenset[str] = frozenset()
    #: the words a condition's description names the records a test ranges over by (policies/wording.yaml
    #: ``items``): ``members``, ``entities`` (of no declared kind), and each declared kind by its own names in the
    #: vocabulary (``records:``), e.g. workshop -> "employment workshop (帮扶车间)"
    item_words: Mapping[str, str] = field(default_factory=dict)
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


class Gates:
    """The ask_if gates of a vocabulary, compiled into rules (``Gated``, ``GatedOpen``).

    A fact is asked only of those its gate (policies/vocabulary.yaml ``ask_if``) lets through: no job questions
    for a 14-year-old, no school questions for a 72-year-old. A rule that tests such a fact is decided the same
    way: every test of a gated fact becomes "the gate holds and the test holds", so for someone the gate
    excludes the test is false and the measure does not apply, with the gate's reason, rather than waiting on
    a question houfu will never ask; where the gate is unknown the test stays unknown (and the gate's facts are
    what to ask). Outside its gate a fact has the value the vocabulary gives it (``otherwise``: a child's
    labour capacity is none) or none at all, which equals nothing: there a test that the value makes true
    (``ne``, or ``labor_capacity ne full`` for a child) becomes "the gate fails or the test holds".

    A gate that tests gated facts is compiled the same way: for a member unable to work, the 特困 gate's "not in
    work" holds, since no one asks them about work, instead of waiting on that question. So an answer a gate
    reads counts only where it is itself asked (a job, once the labour capacity is known): a 47-year-old
    recorded in work is asked his labour capacity before he is spared the 特困 question.
    """

    def __init__(self, labels: Mapping[str, FactLabel], simplify: bool = True):
        self.labels = {k: v for k, v in labels.items() if v.ask_if is not None}
        #: leave out a gate's tests that an all-of around already holds (``leaf``); off only to test that it
        #: changes nothing
        self.simplify = simplify
        self._compiled: dict[str, Condition] = {}
        self._building: list[str] = []

    def gate(self, fact: str) -> Condition | None:
        """The compiled gate of one fact (None if it has none)."""
        label = self.labels.get(fact)
        if label is None or label.ask_if is None:
            return None
        if fact not in self._compiled:
            if fact in self._building:
                raise ValueError(f"the ask_if gates form a cycle: {' -> '.join([*self._building, fact])}")
            self._building.append(fact)
            try:
                self._compiled[fact] = self.apply(label.ask_if)
            finally:
                self._building.pop()
        return self._compiled[fact]

    def apply(self, cond: Condition) -> Condition:
        """``cond`` with every test of a gated fact joined to its gate."""
        return visit(cond, _Gater(self))

    def all(self) -> dict[str, Condition]:
        out: dict[str, Condition] = {}
        for fact in self.labels:
            gate = self.gate(fact)
            assert gate is not None
            out[fact] = gate
        return out

    def leaf(self, c: Fact, given: frozenset[Hashable] = frozenset()) -> Condition:
        """``c`` joined to the gate of its fact (and of a fact it is compared with). ``given`` holds tests that
        are conjuncts of an all-of around it (reached through all-of and any-of only): a part of a gate among
        them is left out of the all-of form, which changes no truth value (idempotence of and; under an any-of
        too, since a false gate part is false for the whole all-of) and keeps durable-rules patterns small."""
        out: Condition = c
        for fact in dict.fromkeys([c.fact] + ([c.value.fact_ref] if isinstance(c.value, FactRef) else [])):
            gate = self.gate(fact)
            if gate is None:
                continue
            label = self.labels[fact]
            assert label.ask_if is not None and label.ask_if_why is not None
            if _holds_outside(c, fact, label.otherwise):
                out = GatedOpen(any=[Not(not_=gate), out], fact=fact, why=label.ask_if_why, asked_if=label.ask_if)
                continue
            parts = [g for g in _conjuncts(gate) if not self.simplify or _test_key(g) not in given]
            if parts:
                out = Gated(all=[parts[0] if len(parts) == 1 else AllOf(all=parts), out], fact=fact,
                            why=label.ask_if_why, asked_if=label.ask_if)
        return out


def _conjuncts(cond: Condition) -> list[Condition]:
    """The parts of an all-of (nested ones spliced), else the condition itself."""
    if isinstance(cond, AllOf):
        return [p for x in cond.all for p in _conjuncts(x)]
    return [cond]


def _test_key(cond: Condition) -> Hashable:
    """What a single test compares, to tell the same test written twice (with different ``why``s) apart from
    others; None for anything but a single test."""
    if not isinstance(cond, Fact):
        return None
    v = cond.value
    value: Hashable
    if isinstance(v, Assumed):
        value = v.assumed
    elif isinstance(v, ParamRef):
        value = ("param", v.param, v.times)
    elif isinstance(v, FactRef):
        value = ("fact", v.fact_ref)
    elif isinstance(v, list):
        value = tuple(v)
    else:
        value = v
    return (cond.fact, cond.op, value)


def _holds_outside(c: Fact, fact: str, otherwise: str | None) -> bool:
    """Whether test ``c`` holds for someone the gate of ``fact`` excludes: with the vocabulary's value for
    them (a code, so compared with a code or a list of codes), or with no value, which equals nothing (so
    only ``ne`` holds)."""
    if otherwise is None or isinstance(c.value, FactRef) or c.fact != fact:
        return c.op is Op.ne
    right = c.value
    match c.op:
        case Op.eq:
            return otherwise == right
        case Op.ne:
            return otherwise != right
        case Op.in_:
            return isinstance(right, list) and otherwise in right
        case _:
            return False  # a code is neither more nor less than a number


class _Gater(QuantifierVisitor[Condition]):
    """Joins every test of a gated fact to its gate; ``given`` holds the tests known to be conjuncts around."""

    def __init__(self, gates: Gates, given: frozenset[Hashable] = frozenset()):
        self.gates, self.given = gates, given

    def fact(self, c: Fact) -> Condition:
        return self.gates.leaf(c, self.given)

    def all_of(self, c: AllOf) -> Condition:
        # The single tests first, with what is given around; what they hold is given to the other parts.
        tests = {i: self.gates.leaf(x, self.given) for i, x in enumerate(c.all) if isinstance(x, Fact)}
        held = self.given | {_test_key(p) for t in tests.values() for p in _held(t)}
        inner = _Gater(self.gates, held)
        return AllOf(all=[tests[i] if i in tests else visit(x, inner) for i, x in enumerate(c.all)])

    def any_of(self, c: AnyOf) -> Condition:
        return AnyOf(any=[visit(x, self) for x in c.any])

    def not_(self, c: Not) -> Condition:
        return Not(not_=visit(c.not_, _Gater(self.gates)))

    def quantified(self, collection: str, every: bool, inner: Condition) -> Condition:
        body = visit(inner, _Gater(self.gates))
        if collection == MEMBERS:
            return AllMembers(all_members=body) if every else AnyMember(any_member=body)
        return AllEntities(all_entities=body) if every else AnyEntity(any_entity=body)

    def concept(self, c: ConceptIs) -> Condition:
        return c  # the concept's own definition is gated where the program keeps it

    def member_concept(self, c: MemberConceptIs) -> Condition:
        return c


def _held(cond: Condition) -> list[Condition]:
    """The single tests a gated test holds as conjuncts: its gate's and its own (an open gate holds none)."""
    if isinstance(cond, Gated):
        return _conjuncts(cond.gate) + _held(cond.test)
    return [cond] if isinstance(cond, Fact) else []


def gates_of(kb: KB) -> Gates:
    return Gates(kb.fact_labels)


def _concepts_in(cond: Condition | None) -> list[str]:
    return [n.concept for n, _ in walk(cond) if isinstance(n, ConceptIs)]


def build_program(kb: KB, entity: str, documents: tuple[str, ...]) -> Program:
    """The program for one entity kind and set of documents (the caller caches it).

    Two readings are applied to every rule here, once, so that all three evaluators share them:

    * the ask_if gates of the vocabulary (``Gates``): a test of a fact never asked of someone is false for them;
    * for households, a site measure that ``reaches: households`` is decided from the household's own site
      facts, by its applicability only (whether the site has done it is the site report's question).
    """
    documents = tuple(sorted(documents))
    gates = gates_of(kb)
    measure_targets: list[Target] = []
    through_site: set[str] = set()
    used: list[str] = []

    def add(kind: TargetKind, m_id: str, doc_id: str, clause_id: str, number: str, cond: Condition | None) -> None:
        gated = None if cond is None else gates.apply(cond)
        measure_targets.append(Target(kind, m_id, doc_id, clause_id, number, gated))
        used.extend(_concepts_in(gated))

    for doc_id in documents:
        dkb = kb.documents[doc_id]
        scope = scope_concept_name(doc_id)
        scope_ref = ConceptIs(concept=scope) if scope in kb.concepts else None
        for clause in dkb.clauses:
            for m in clause.measures:
                if not m.rule:
                    continue
                reached = entity == "household" and m.rule.entity == "site" and m.reaches == "households"
                if m.rule.entity != entity and not reached:
                    continue
                when = m.rule.when
                if scope_ref is not None:
                    # The document covers only some site types (dingnan: the county-seat site).
                    when = AllOf(all=[scope_ref] + ([when] if when is not None else []))
                add(TargetKind.measure, m.id, doc_id, clause.id, clause.number, when)
                if reached:
                    through_site.add(m.id)
                    continue
                if m.rule.satisfied_if is not None:
                    add(TargetKind.satisfied, m.id, doc_id, clause.id, clause.number, m.rule.satisfied_if)
                if m.rule.requires is not None:
                    add(TargetKind.requires, m.id, doc_id, clause.id, clause.number, m.rule.requires)
    all_concepts = {name: gates.apply(c.when) for name, c in kb.concepts.items()}
    targets: list[Target] = []
    for name in concept_order(all_concepts, [n for n in dict.fromkeys(used) if n in kb.concepts]):
        cid = kb.concept_clause[name]
        targets.append(Target(TargetKind.concept, name, kb.clause_doc[cid], cid, kb.clauses[cid].number,
                              all_concepts[name]))
    return Program(entity, documents, tuple(targets + measure_targets), all_concepts,
                   {pid: p.value for pid, p in kb.parameters.items()},
                   {d.id: d.date for dkb in kb.documents.values() for d in dkb.doc.deadlines},
                   gates.all(), frozenset(through_site), item_words(kb))


def item_words(kb: KB) -> dict[str, str]:
    """How a condition's description names what a quantifier ranges over (``Program.item_words``)."""
    words = dict(kb.wording.items) if kb.wording is not None else {}
    return words | {kind: f"{decl.en} ({decl.zh})" for kind, decl in kb.models.records.items()}
