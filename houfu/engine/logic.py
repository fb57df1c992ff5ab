"""Three-valued (Kleene) evaluation of rule conditions, done plainly in Python.

This is the *reference evaluator*: the durable-rules engine (``engine.rete``)
must agree with it on every input (tests/test_differential.py).  It also
explains results: which facts are missing and which known test ruled a measure
out.  ``None`` means unknown throughout; an unknown fact is never false.
Each question is a ``ConditionVisitor`` over the condition tree.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from houfu.kb.conditions import (
    ENTITIES,
    AllOf,
    AnyOf,
    Assumed,
    ConceptIs,
    Condition,
    DeadlineRef,
    Fact,
    FactRef,
    Gated,
    GatedOpen,
    MemberConceptIs,
    Not,
    Op,
    ParamRef,
    QuantifierVisitor,
    Value,
    visit,
)
from houfu.kb.models import ENTITY_KIND

from .closures import _NO_CONCEPTS, Memo, MemoClosure, compiled
from .program import Program

__all__ = ["Facts", "Truth", "date_number", "describe", "evaluate_plain", "failed_tests", "failed_tests_plain",
           "full_years", "kind_tested", "missing_facts", "number_date", "resolve", "split_fact_path", "truth", "truth_plain"]

Truth = bool | None
#: One entity's facts, flat with dotted names; ``members`` holds the members' facts (or is absent/None).
Facts = Mapping[str, Any]


def resolve(program: Program, value: Value | list[str]) -> Any:
    """A comparison value as a plain number, string, bool, date or list (a FactRef is left as it is)."""
    if isinstance(value, ParamRef):
        return program.parameters[value.param] * value.times
    if isinstance(value, Assumed):
        return value.assumed
    if isinstance(value, DeadlineRef):
        return program.deadlines[value.deadline]
    return value


def date_number(day: dt.date) -> int:
    """A date as the number yyyymmdd (2024-07-01 -> 20240701), as durable-rules and the columns hold it: the
    numbers sort as the days do, and full years are a subtraction (``full_years``)."""
    return day.year * 10000 + day.month * 100 + day.day


def number_date(number: float) -> dt.date:
    n = int(number)
    return dt.date(n // 10000, n // 100 % 100, n % 100)


def full_years(born: Any, on: float) -> Any:
    """Full years (完整周岁) from ``born`` to ``on``, both yyyymmdd numbers (or a column of them): one more on each
    anniversary, the anniversary included. Someone born on 29 February gains a year on 1 March in a year that has
    none (the subtraction reads 0228 as before 0229). houfu's reading of 周岁 in these texts; the criminal courts
    count from the day after the birthday, a rule that none of these measures uses."""
    return (on - born) // 10000


def _compare(op: Op, left: Any, right: Any) -> bool:
    match op:
        case Op.in_:
            return bool(left in right)
        case Op.eq:
            return bool(left == right)
        case Op.ne:
            return bool(left != right)
        case Op.ge:
            return bool(left >= right)
        case Op.gt:
            return bool(left > right)
        case Op.le:
            return bool(left <= right)
        case Op.lt:
            return bool(left < right)


def kleene_and(values: Iterable[Truth]) -> Truth:
    out: Truth = True
    for v in values:
        if v is False:
            return False
        if v is None:
            out = None
    return out


def kleene_or(values: Iterable[Truth]) -> Truth:
    out: Truth = False
    for v in values:
        if v is True:
            return True
        if v is None:
            out = None
    return out


class _Truth(QuantifierVisitor[Truth]):
    def __init__(self, program: Program, facts: Facts, concepts: Mapping[str, Truth]):
        self.program, self.facts, self.concepts = program, facts, concepts

    def fact(self, c: Fact) -> Truth:
        left = self.facts.get(c.fact)
        raw = c.value
        right = self.facts.get(raw.fact_ref) if isinstance(raw, FactRef) else resolve(self.program, raw)
        if left is None or right is None:
            return None
        return _compare(c.op, left, right)

    def all_of(self, c: AllOf) -> Truth:
        return kleene_and(visit(x, self) for x in c.all)

    def any_of(self, c: AnyOf) -> Truth:
        return kleene_or(visit(x, self) for x in c.any)

    def not_(self, c: Not) -> Truth:
        t = visit(c.not_, self)
        return None if t is None else not t

    def quantified(self, collection: str, every: bool, inner: Condition) -> Truth:
        items = self.facts.get(collection)
        if items is None:  # the list itself is unknown; an empty list is known
            return None
        values = (visit(inner, _Truth(self.program, m, {})) for m in items)
        return kleene_and(values) if every else kleene_or(values)

    def concept(self, c: ConceptIs) -> Truth:
        t = self.concepts.get(c.concept)
        return None if t is None else t == c.value

    def member_concept(self, c: MemberConceptIs) -> Truth:
        t = visit(self.program.concepts[c.member_concept], _Truth(self.program, self.facts, {}))
        return None if t is None else t == c.value


def truth(program: Program, cond: Condition | None, facts: Facts, concepts: Mapping[str, Truth]) -> Truth:
    """Kleene truth of ``cond`` over one entity's facts; ``concepts`` holds its derived concepts.

    Through the program's compiled closures (``engine.closures``): the explanations (missing facts, failed
    tests, letters' members, consistency checks) ask this many times per record. ``truth_plain`` walks the tree,
    as the reference evaluator does."""
    return True if cond is None else compiled(program).truth(cond, facts, concepts)


def truth_plain(program: Program, cond: Condition | None, facts: Facts, concepts: Mapping[str, Truth]) -> Truth:
    """Kleene truth of ``cond``, by walking its tree (the reference evaluator's own)."""
    return True if cond is None else visit(cond, _Truth(program, facts, concepts))


def evaluate_plain(program: Program, facts: Facts) -> dict[str, Truth]:
    """Decide every target with the reference evaluator; keys are Target.key."""
    concepts: dict[str, Truth] = {}
    out: dict[str, Truth] = {}
    for t in program.targets:
        value = truth_plain(program, t.when, facts, concepts)
        if t.kind.value == "concept":
            concepts[t.name] = value
        out[t.key] = value
    return out


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


class _Missing(QuantifierVisitor[list[str]]):
    """The unknown facts that keep an undetermined condition from being decided."""

    def __init__(self, program: Program, facts: Facts, concepts: Mapping[str, Truth], prefix: str = ""):
        self.program, self.facts, self.concepts, self.prefix = program, facts, concepts, prefix

    def __call__(self, cond: Condition) -> list[str]:
        if truth(self.program, cond, self.facts, self.concepts) is not None:
            return []
        return visit(cond, self)

    def fact(self, c: Fact) -> list[str]:
        out = [] if self.facts.get(c.fact) is not None else [self.prefix + c.fact]
        raw = c.value
        if isinstance(raw, FactRef) and self.facts.get(raw.fact_ref) is None:
            out.append(self.prefix + raw.fact_ref)
        return out

    def all_of(self, c: AllOf) -> list[str]:
        return _unique(x for sub in c.all for x in self(sub))

    def any_of(self, c: AnyOf) -> list[str]:
        return _unique(x for sub in c.any for x in self(sub))

    def not_(self, c: Not) -> list[str]:
        return self(c.not_)

    def quantified(self, collection: str, every: bool, inner: Condition) -> list[str]:
        items = self.facts.get(collection)
        if items is None:
            return [self.prefix + collection]
        return _unique(x for i, m in enumerate(items)
                       for x in _Missing(self.program, m, {}, f"{self.prefix}{collection}[{i}].")(inner))

    def concept(self, c: ConceptIs) -> list[str]:
        return self(self.program.concepts[c.concept])

    def member_concept(self, c: MemberConceptIs) -> list[str]:
        return _Missing(self.program, self.facts, {}, self.prefix)(self.program.concepts[c.member_concept])


def missing_facts(program: Program, cond: Condition | None, facts: Facts, concepts: Mapping[str, Truth]) -> list[str]:
    return [] if cond is None else _Missing(program, facts, concepts)(cond)


_ITEM_PATH = re.compile(r"^(members|entities)\[(\d+)\]\.(.+)$")


def split_fact_path(path: str) -> tuple[str | None, int | None, str]:
    """Undo the ``members[i].`` / ``entities[i].`` prefix that missing_facts puts on a fact:
    (collection, 0-based index, fact name)."""
    m = _ITEM_PATH.match(path)
    return (m.group(1), int(m.group(2)), m.group(3)) if m else (None, None, path)


def _show(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, bool):
        return "true" if v else "false"
    return "unknown" if v is None else str(v)


class _Describe(QuantifierVisitor[str]):
    """A compact, readable rendering of a condition."""

    def __init__(self, program: Program):
        self.program = program

    def fact(self, c: Fact) -> str:
        sym = {Op.eq: "=", Op.ne: "≠", Op.ge: "≥", Op.gt: ">", Op.le: "≤", Op.lt: "<", Op.in_: "in"}[c.op]
        raw = c.value
        if isinstance(raw, FactRef):
            return f"{c.fact} {sym} {raw.fact_ref}"
        if isinstance(raw, ParamRef):
            return f"{c.fact} {sym} {_show(resolve(self.program, raw))} [{raw.param}]"
        if isinstance(raw, DeadlineRef):
            return f"{c.fact} {sym} {_show(resolve(self.program, raw))} [{raw.deadline}]"
        return f"{c.fact} {sym} {_show(resolve(self.program, raw))}"

    def all_of(self, c: AllOf) -> str:
        if isinstance(c, Gated):
            return self._gated(c)
        return "(" + " and ".join(visit(x, self) for x in c.all) + ")"

    def any_of(self, c: AnyOf) -> str:
        if isinstance(c, GatedOpen):
            return self._gated(c)
        return "(" + " or ".join(visit(x, self) for x in c.any) + ")"

    def _gated(self, c: Gated | GatedOpen) -> str:
        # The test, and whom its fact is asked of (the vocabulary's gate).
        return f"{visit(c.test, self)} [{c.fact} asked if {visit(c.asked_if, self)}]"

    def not_(self, c: Not) -> str:
        return f"not {visit(c.not_, self)}"

    def quantified(self, collection: str, every: bool, inner: Condition) -> str:
        words = self.program.item_words
        kind = kind_tested(inner) if collection == ENTITIES else None
        item = words.get(kind or collection) or collection
        return f"{'every' if every else 'some'} {item}: {visit(inner, self)}"

    def concept(self, c: ConceptIs) -> str:
        return c.concept if c.value else f"not {c.concept}"

    def member_concept(self, c: MemberConceptIs) -> str:
        return c.member_concept if c.value else f"not {c.member_concept}"


def kind_tested(cond: Condition) -> str | None:
    """The declared kind an entity test is of (``entity_kind = workshop``, alone or among its ``all``), if one."""
    tests = cond.all if isinstance(cond, AllOf) and not isinstance(cond, Gated) else [cond]
    for t in tests:
        if isinstance(t, Fact) and t.fact == ENTITY_KIND and t.op is Op.eq and isinstance(t.value, str):
            return t.value
    return None


def describe(program: Program, cond: Condition | None) -> str:
    return "always" if cond is None else visit(cond, _Describe(program))


class _Failed(QuantifierVisitor[list[str]]):
    """The known tests that make a false condition false, described for people."""

    def __init__(self, program: Program, facts: Facts, concepts: Mapping[str, Truth], prefix: str = ""):
        self.program, self.facts, self.concepts, self.prefix = program, facts, concepts, prefix

    def __call__(self, cond: Condition) -> list[str]:
        if truth(self.program, cond, self.facts, self.concepts) is not False:
            return []
        return visit(cond, self)

    def fact(self, c: Fact) -> list[str]:
        return [f"{self.prefix}{compiled(self.program).described(c)} (is {_show(self.facts.get(c.fact))})"]

    def all_of(self, c: AllOf) -> list[str]:
        if isinstance(c, Gated) and truth(self.program, c.gate, self.facts, self.concepts) is False:
            # The gate is why: the fact is never asked of this person, so the test cannot hold for them.
            # The gate as the vocabulary writes it, where that is false too (it nearly always is).
            why = self(c.asked_if) or self(c.gate)
            return [f"{self.prefix}{c.fact} is not asked ({c.why}): " + "; ".join(why)]
        return _unique(x for sub in c.all for x in self(sub))

    def any_of(self, c: AnyOf) -> list[str]:
        if isinstance(c, GatedOpen):  # false only where the gate holds and the test fails: the test is why
            return self(c.test)
        return _unique(x for sub in c.any for x in self(sub))

    def not_(self, c: Not) -> list[str]:
        return [f"{self.prefix}not ({compiled(self.program).described(c.not_)})"]

    def quantified(self, collection: str, every: bool, inner: Condition) -> list[str]:
        items = self.facts.get(collection) or []
        if not items:
            return [f"{self.prefix}no {collection} listed"]
        return _unique(x for i, m in enumerate(items)
                       for x in _Failed(self.program, m, {}, f"{self.prefix}{collection}[{i}].")(inner))

    def concept(self, c: ConceptIs) -> list[str]:
        inner = self.program.concepts[c.concept]
        why = self(inner) or self(Not(not_=inner))
        return [f"{self.prefix}{c.concept} is {str(not c.value).lower()}: " + "; ".join(why)]

    def member_concept(self, c: MemberConceptIs) -> list[str]:
        inner = self.program.concepts[c.member_concept]
        why = _Failed(self.program, self.facts, {}, self.prefix)(inner if c.value else Not(not_=inner))
        head = f"{self.prefix}not {c.member_concept}"
        return [f"{head}: " + "; ".join(why)] if why else [head]


def failed_tests(program: Program, cond: Condition | None, facts: Facts, concepts: Mapping[str, Truth],
                 known_false: bool = False) -> list[str]:
    """The known tests that make a false condition false, described for people ([] unless it is false).
    ``known_false``: the caller has decided ``cond`` already (a report explains the measures its evaluation found
    false), so it is not decided again here.

    Through walkers compiled once per node (``_FailedCompiler``): a check explains every measure that does not
    apply, and the tree walk (``failed_tests_plain``, kept as the reference the tests compare with) dispatched on
    every node and decided each node twice, a third of a warm check."""
    if cond is None or (not known_false and compiled(program).closure(cond)(facts, concepts) is not False):
        return []
    return _explainer(program, cond)(facts, concepts, "", {})


def failed_tests_plain(program: Program, cond: Condition | None, facts: Facts,
                       concepts: Mapping[str, Truth]) -> list[str]:
    """``failed_tests`` by walking the tree (the reference)."""
    return [] if cond is None else _Failed(program, facts, concepts)(cond)


#: (facts, concepts, prefix, memo) -> why a node known to be false is false, each test after ``prefix``
#: (members[0]. …); ``memo`` keeps the truths the explanation has decided (``Compiled.memoised``)
Explainer = Callable[[Facts, Mapping[str, Truth], str, Memo], list[str]]


def _explainer(program: Program, cond: Condition) -> Explainer:
    made: Explainer = compiled(program).kept("failed", cond, lambda: visit(cond, _FailedCompiler(program)))
    return made


class _FailedCompiler(QuantifierVisitor[Explainer]):
    """``_Failed`` compiled: each node's explainer is called only where the node is known false (its parent
    decided it), and gives what ``_Failed`` gives for it, in the same order, with the descriptions made once."""

    def __init__(self, program: Program):
        self.program = program
        self.c = compiled(program)

    def _part(self, cond: Condition) -> tuple[MemoClosure, Explainer]:
        return self.c.memoised(cond), _explainer(self.program, cond)

    def _checked(self, cond: Condition) -> Explainer:
        """As ``_Failed.__call__``: why ``cond`` is false, or [] when it is not."""
        holds, why = self._part(cond)

        def checked(facts: Facts, concepts: Mapping[str, Truth], prefix: str, memo: Memo) -> list[str]:
            return why(facts, concepts, prefix, memo) if holds(facts, concepts, memo) is False else []

        return checked

    def fact(self, c: Fact) -> Explainer:
        text, key = self.c.described(c), c.fact

        def fact(facts: Facts, concepts: Mapping[str, Truth], prefix: str, memo: Memo) -> list[str]:
            return [f"{prefix}{text} (is {_show(facts.get(key))})"]

        return fact

    def _parts(self, children: list[Condition]) -> Explainer:
        parts = [self._part(x) for x in children]

        def each_false(facts: Facts, concepts: Mapping[str, Truth], prefix: str, memo: Memo) -> list[str]:
            out: list[str] = []  # a loop, not nested generators: the explanations' own time (issue 25)
            for holds, why in parts:
                if holds(facts, concepts, memo) is False:
                    out += why(facts, concepts, prefix, memo)
            return list(dict.fromkeys(out)) if len(out) > 1 else out

        return each_false

    def all_of(self, c: AllOf) -> Explainer:
        each_false = self._parts(c.all)
        if not isinstance(c, Gated):
            return each_false
        gate, asked, gate_why = self.c.memoised(c.gate), self._checked(c.asked_if), self._checked(c.gate)
        head = f"{c.fact} is not asked ({c.why}): "

        def gated(facts: Facts, concepts: Mapping[str, Truth], prefix: str, memo: Memo) -> list[str]:
            if gate(facts, concepts, memo) is False:
                # The gate is why: the fact is never asked of this person, so the test cannot hold for them.
                why = asked(facts, concepts, prefix, memo) or gate_why(facts, concepts, prefix, memo)
                return [prefix + head + "; ".join(why)]
            return each_false(facts, concepts, prefix, memo)

        return gated

    def any_of(self, c: AnyOf) -> Explainer:
        if isinstance(c, GatedOpen):  # false only where the gate holds and the test fails: the test is why
            return self._checked(c.test)
        return self._parts(c.any)

    def not_(self, c: Not) -> Explainer:
        text = f"not ({self.c.described(c.not_)})"

        def not_(facts: Facts, concepts: Mapping[str, Truth], prefix: str, memo: Memo) -> list[str]:
            return [prefix + text]

        return not_

    def quantified(self, collection: str, every: bool, inner: Condition) -> Explainer:
        holds, why = self._part(inner)
        none_listed = f"no {collection} listed"

        def quantified(facts: Facts, concepts: Mapping[str, Truth], prefix: str, memo: Memo) -> list[str]:
            items = facts.get(collection) or []
            if not items:
                return [prefix + none_listed]
            out: list[str] = []
            for i, m in enumerate(items):
                if holds(m, _NO_CONCEPTS, memo) is False:
                    out += why(m, _NO_CONCEPTS, f"{prefix}{collection}[{i}].", memo)
            return list(dict.fromkeys(out)) if len(out) > 1 else out

        return quantified

    def concept(self, c: ConceptIs) -> Explainer:
        definition = self.program.concepts[c.concept]
        holds, why = self._part(definition)
        negated = f"not ({self.c.described(definition)})"
        head = f"{c.concept} is {str(not c.value).lower()}: "

        def concept(facts: Facts, concepts: Mapping[str, Truth], prefix: str, memo: Memo) -> list[str]:
            # As _Failed: the definition's failed tests, else (it holds) the definition itself, negated.
            t = holds(facts, concepts, memo)
            because = why(facts, concepts, prefix, memo) if t is False else [prefix + negated] if t is True else []
            return [prefix + head + "; ".join(because)]

        return concept

    def member_concept(self, c: MemberConceptIs) -> Explainer:
        definition = self.program.concepts[c.member_concept]
        holds, why = self._part(definition)
        negated, value, name = f"not ({self.c.described(definition)})", c.value, c.member_concept

        def member_concept(facts: Facts, concepts: Mapping[str, Truth], prefix: str, memo: Memo) -> list[str]:
            t = holds(facts, _NO_CONCEPTS, memo)
            if value:
                because = why(facts, _NO_CONCEPTS, prefix, memo) if t is False else []
            else:
                because = [prefix + negated] if t is True else []
            head = f"{prefix}not {name}"
            return [f"{head}: " + "; ".join(because)] if because else [head]

        return member_concept
