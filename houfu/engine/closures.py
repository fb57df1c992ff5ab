"""Rule conditions compiled into Python closures: the single household's fast path (issue 25).

Each condition node of a program becomes one closure ``f(facts, concepts) -> Truth`` with the reference
evaluator's Kleene logic (``engine.logic``): an unknown fact is None, never false; "every member" of a known
empty list holds; a member concept is decided on the member's own facts. The tree is walked once, when the
program is first used, instead of on every test of every household; parameters and deadlines are resolved then.

``Compiled.evaluate`` decides every target of a program as ``evaluate_plain`` does, and also gives the firing
trace the durable-rules engine gives (``engine.rete``): one ``Firing`` per decided target, named by the rule
alternative (``#T0``, ``#F2`` …) in the order ``rete`` compiles them. Where several alternatives hold, this is
the first in that order (houfu's choice: the Rete agenda may fire another one first, so the trace can name a
different alternative for the same decision; the decisions themselves are checked against durable-rules in
tests/test_differential.py and every rule case).
"""

from __future__ import annotations

import operator
import weakref
from collections.abc import Callable, Mapping
from typing import Any, cast

from houfu.kb.conditions import (
    ENTITIES,
    MEMBERS,
    AllEntities,
    AllMembers,
    AllOf,
    AnyEntity,
    AnyMember,
    AnyOf,
    ConceptIs,
    Condition,
    Fact,
    FactRef,
    MemberConceptIs,
    Not,
    Op,
    walk,
)

from .program import Program
from .results import Firing, TargetKind

__all__ = ["Closure", "Compiled", "Memo", "MemoClosure", "compiled"]

Truth = bool | None
Facts = Mapping[str, Any]
Closure = Callable[[Facts, Mapping[str, Truth]], Truth]
#: the truths of the compound nodes one explanation has decided, by (node, facts, concepts): see ``memoised``.
#: Each entry holds the facts and concepts it was decided on, so neither id is reused while the memo lives.
Memo = dict[tuple[int, int, int], tuple[Truth, Facts, Mapping[str, Truth]]]
MemoClosure = Callable[[Facts, Mapping[str, Truth], Memo], Truth]

_NO_CONCEPTS: Mapping[str, Truth] = {}
#: closures kept per program before those of dead nodes are swept out
_MAX_KEPT = 20_000
_OPS: dict[Op, Callable[[Any, Any], Any]] = {
    Op.eq: operator.eq, Op.ne: operator.ne, Op.ge: operator.ge, Op.gt: operator.gt, Op.le: operator.le,
    Op.lt: operator.lt, Op.in_: lambda left, right: left in right,
}


def _always_unknown(facts: Facts, concepts: Mapping[str, Truth], memo: Memo | None = None) -> Truth:
    return None


def _needs_joins(cond: Condition) -> bool:
    return any(isinstance(n, ConceptIs | AnyMember | AllMembers | AnyEntity | AllEntities) for n, _ in walk(cond))


class Compiled:
    """One program's conditions as closures, built on first use and kept (thread-safe: built closures are
    never changed, and building one twice gives the same)."""

    def __init__(self, program: Program):
        self.program = program
        self._fns: dict[int, tuple[weakref.ref[Any], Closure]] = {}
        self._counts: dict[int, tuple[int, int]] = {}
        self._joins: dict[int, bool] = {}
        self._firings: dict[tuple[str, bool, int], Firing] = {}
        self._described: dict[int, tuple[weakref.ref[Any], str]] = {}
        self._kept: dict[tuple[str, int], tuple[weakref.ref[Any], Any]] = {}
        self._targets = [(t, self.closure(t.when) if t.when is not None else None) for t in program.targets]
        self._steps: list[_Step] | None = None

    # --- closures ---------------------------------------------------------------------------------------

    def closure(self, cond: Condition) -> Closure:
        hit = self._fns.get(id(cond))
        if hit is not None and hit[0]() is cond:
            return hit[1]
        fn = self._build(cond)
        # Kept by the node's id while the node lives (a weak reference: a node made for one explanation, as
        # failed tests make a Not, is not hoarded); an entry whose node died is replaced when its id is reused.
        if len(self._fns) >= _MAX_KEPT:
            self._fns = {k: v for k, v in self._fns.items() if v[0]() is not None}
        self._fns[id(cond)] = (weakref.ref(cond), fn)
        return fn

    def described(self, cond: Condition) -> str:
        """``logic.describe`` of a node, made once (an explanation names the same tests for every record)."""
        hit = self._described.get(id(cond))
        if hit is not None and hit[0]() is cond:
            return hit[1]
        from .logic import describe

        text = describe(self.program, cond)
        if len(self._described) >= _MAX_KEPT:
            self._described = {k: v for k, v in self._described.items() if v[0]() is not None}
        self._described[id(cond)] = (weakref.ref(cond), text)
        return text

    def truth(self, cond: Condition | None, facts: Facts, concepts: Mapping[str, Truth]) -> Truth:
        return True if cond is None else self.closure(cond)(facts, concepts)

    def kept(self, kind: str, cond: Condition, build: Callable[[], Any]) -> Any:
        """Something else made from a node once and kept beside its closure, as the closures are (an
        explanation's compiled walker: ``logic.failed_tests``)."""
        key = (kind, id(cond))
        hit = self._kept.get(key)
        if hit is not None and hit[0]() is cond:
            return hit[1]
        made = build()
        if len(self._kept) >= _MAX_KEPT:
            self._kept = {k: v for k, v in self._kept.items() if v[0]() is not None}
        self._kept[key] = (weakref.ref(cond), made)
        return made

    def memoised(self, cond: Condition) -> MemoClosure:
        """``closure(cond)`` that keeps each compound node's truth in a memo the caller passes and reads it from
        there when asked again for the same facts.

        For the explanations (``logic.failed_tests``): explaining a false node asks each child's truth, then
        explains the false children, which ask their own children's truths, so a node three levels down was
        decided three times, and once more by the closure of every node above it (five times a test for a
        member's "key group" concept). With one memo for one explanation, each is decided once. A test of one
        fact is not kept: deciding it costs what looking it up does."""
        made: MemoClosure = self.kept("memoised", cond, lambda: self._build_memoised(cond))
        return made

    def _build_memoised(self, cond: Condition) -> MemoClosure:
        match cond:
            case AllOf():
                return _junction_memoised(id(cond), [self.memoised(x) for x in cond.all], every=True)
            case AnyOf():
                return _junction_memoised(id(cond), [self.memoised(x) for x in cond.any], every=False)
            case Not():
                inner = self.memoised(cond.not_)

                def not_(facts: Facts, concepts: Mapping[str, Truth], memo: Memo) -> Truth:
                    t = inner(facts, concepts, memo)
                    return None if t is None else not t

                return not_
            case AnyMember():
                return _kept_truth(id(cond), _quantified_memoised(MEMBERS, False, self.memoised(cond.any_member)))
            case AllMembers():
                return _kept_truth(id(cond), _quantified_memoised(MEMBERS, True, self.memoised(cond.all_members)))
            case AnyEntity():
                return _kept_truth(id(cond), _quantified_memoised(ENTITIES, False, self.memoised(cond.any_entity)))
            case AllEntities():
                return _kept_truth(id(cond), _quantified_memoised(ENTITIES, True, self.memoised(cond.all_entities)))
            case MemberConceptIs():
                definition = self.memoised(self.program.concepts[cond.member_concept])
                wanted = cond.value

                def member_concept(facts: Facts, concepts: Mapping[str, Truth], memo: Memo) -> Truth:
                    t = definition(facts, _NO_CONCEPTS, memo)
                    return None if t is None else t == wanted

                return member_concept
        # A test of one fact, or of a household concept already decided: its closure takes the memo and
        # ignores it (no wrapper: a leaf is the most frequent call).
        return cast(MemoClosure, self.closure(cond))

    def _build(self, cond: Condition) -> Closure:
        match cond:
            case Fact():
                return self._fact(cond)
            case AllOf():
                return _all([self.closure(x) for x in cond.all])
            case AnyOf():
                return _any([self.closure(x) for x in cond.any])
            case Not():
                inner = self.closure(cond.not_)

                def not_(facts: Facts, concepts: Mapping[str, Truth]) -> Truth:
                    t = inner(facts, concepts)
                    return None if t is None else not t

                return not_
            case AnyMember():
                return _quantified(MEMBERS, False, self.closure(cond.any_member))
            case AllMembers():
                return _quantified(MEMBERS, True, self.closure(cond.all_members))
            case AnyEntity():
                return _quantified(ENTITIES, False, self.closure(cond.any_entity))
            case AllEntities():
                return _quantified(ENTITIES, True, self.closure(cond.all_entities))
            case ConceptIs():
                name, value = cond.concept, cond.value

                def concept(facts: Facts, concepts: Mapping[str, Truth], memo: Memo | None = None) -> Truth:
                    t = concepts.get(name)
                    return None if t is None else t == value

                return concept
            case MemberConceptIs():
                definition = self.closure(self.program.concepts[cond.member_concept])
                wanted = cond.value

                def member_concept(facts: Facts, concepts: Mapping[str, Truth]) -> Truth:
                    t = definition(facts, _NO_CONCEPTS)
                    return None if t is None else t == wanted

                return member_concept
        raise TypeError(f"not a condition: {cond!r}")  # pragma: no cover - Condition is closed

    def _fact(self, c: Fact) -> Closure:
        from .logic import resolve

        key, compare, raw = c.fact, _OPS[c.op], c.value
        if isinstance(raw, FactRef):
            ref = raw.fact_ref

            def fact_ref(facts: Facts, concepts: Mapping[str, Truth], memo: Memo | None = None) -> Truth:
                left, right = facts.get(key), facts.get(ref)
                if left is None or right is None:
                    return None
                return bool(compare(left, right))

            return fact_ref
        right = resolve(self.program, raw)
        if right is None:
            return _always_unknown

        def fact(facts: Facts, concepts: Mapping[str, Truth], memo: Memo | None = None) -> Truth:
            left = facts.get(key)
            return None if left is None else bool(compare(left, right))

        return fact

    # --- a whole program ------------------------------------------------------------------------------

    def evaluate(self, facts: Facts) -> tuple[dict[str, Truth], list[Firing]]:
        """Every target decided (keys are Target.key), and the firing trace, one firing per decided target."""
        concepts: dict[str, Truth] = {}
        out: dict[str, Truth] = {}
        trace: list[Firing] = []
        for target, fn, is_concept, firings in self._steps if self._steps is not None else self._make_steps():
            value = True if fn is None else fn(facts, concepts)
            if is_concept:
                concepts[target.name] = value
            out[target.key] = value
            if value is not None:
                firing = firings[value]
                if firing is None:
                    # Only a condition with several alternatives for this value is walked again to find which
                    # held (for one, it is the first: most targets, and the walk re-decided the whole condition).
                    firing = self._firing(target, value, self._first(target.when, value, facts, concepts) or 0)
                trace.append(firing)
        return out, trace

    def _make_steps(self) -> list[_Step]:
        """Per target, what ``evaluate`` needs, made once (issue 25): its closure, whether it is a concept, and
        its firing for each value that has one alternative (the first: most targets)."""
        steps: list[_Step] = []
        for target, fn in self._targets:
            counts = (1, 1) if target.when is None else self._count(target.when)
            steps.append((target, fn, target.kind is TargetKind.concept,
                          {True: self._firing(target, True, 0) if counts[0] == 1 else None,
                           False: self._firing(target, False, 0) if counts[1] == 1 else None}))
        self._steps = steps
        return steps

    def _firing(self, target: Any, value: bool, alt: int) -> Firing:
        key = (target.key, value, alt)
        firing = self._firings.get(key)
        if firing is None:
            firing = self._firings[key] = Firing(
                rule=f"{target.key}#{'T' if value else 'F'}{alt}", kind=target.kind, name=target.name, value=value,
                document=target.document, clause_id=target.clause_id, clause_number=target.clause_number)
        return firing

    # --- which of rete's alternatives: the same tree of alternatives as engine.rete's _Alts ----------------

    def _needs(self, cond: Condition) -> bool:
        hit = self._joins.get(id(cond))
        if hit is None:
            hit = self._joins[id(cond)] = _needs_joins(cond)
        return hit

    def _count(self, cond: Condition) -> tuple[int, int]:
        """How many alternatives make ``cond`` known true, and known false."""
        hit = self._counts.get(id(cond))
        if hit is not None:
            return hit
        if not self._needs(cond) or isinstance(cond, ConceptIs | AnyMember | AllMembers | AnyEntity | AllEntities):
            out = (1, 1)
        elif isinstance(cond, Not):
            t, f = self._count(cond.not_)
            out = (f, t)
        elif isinstance(cond, AllOf):
            counts = [self._count(x) for x in cond.all]
            out = (_prod(c[0] for c in counts), sum(c[1] for c in counts))
        else:
            assert isinstance(cond, AnyOf)
            counts = [self._count(x) for x in cond.any]
            out = (sum(c[0] for c in counts), _prod(c[1] for c in counts))
        self._counts[id(cond)] = out
        return out

    def _first(self, cond: Condition, value: bool, facts: Facts, concepts: Mapping[str, Truth]) -> int | None:
        """The index of the first alternative for ``value`` that holds (None if none does)."""
        if not self._needs(cond) or isinstance(cond, ConceptIs | AnyMember | AllMembers | AnyEntity | AllEntities):
            return 0 if self.closure(cond)(facts, concepts) is value else None
        if isinstance(cond, Not):
            return self._first(cond.not_, not value, facts, concepts)
        if isinstance(cond, AllOf):
            children = cond.all
        else:
            assert isinstance(cond, AnyOf)
            children = cond.any
        side = 0 if value else 1
        if isinstance(cond, AllOf) == value:  # a product of the children's alternatives (all true / any false)
            index = 0
            for child in children:
                i = self._first(child, value, facts, concepts)
                if i is None:
                    return None
                index = index * self._count(child)[side] + i
            return index
        offset = 0  # a concatenation (all false / any true): the first child that has one
        for child in children:
            i = self._first(child, value, facts, concepts)
            if i is not None:
                return offset + i
            offset += self._count(child)[side]
        return None


def _prod(values: Any) -> int:
    out = 1
    for v in values:
        out *= v
    return out


def _all(fns: list[Closure]) -> Closure:
    def all_(facts: Facts, concepts: Mapping[str, Truth]) -> Truth:
        out: Truth = True
        for fn in fns:
            v = fn(facts, concepts)
            if v is False:
                return False
            if v is None:
                out = None
        return out

    return all_


def _any(fns: list[Closure]) -> Closure:
    def any_(facts: Facts, concepts: Mapping[str, Truth]) -> Truth:
        out: Truth = False
        for fn in fns:
            v = fn(facts, concepts)
            if v is True:
                return True
            if v is None:
                out = None
        return out

    return any_


def _quantified(collection: str, every: bool, inner: Closure) -> Closure:
    stop: Truth = not every  # the value that decides at once: a member who fails (every), one who holds (some)

    def quantified(facts: Facts, concepts: Mapping[str, Truth]) -> Truth:
        items = facts.get(collection)
        if items is None:  # the list itself is unknown; an empty list is known
            return None
        out: Truth = every
        for item in items:
            v = inner(item, _NO_CONCEPTS)
            if v is stop:
                return stop
            if v is None:
                out = None
        return out

    return quantified


#: one target's step in ``Compiled.evaluate``: the target, its closure, whether it is a concept, and its firing
#: for each value that has one alternative
_Step = tuple[Any, Closure | None, bool, dict[bool, Firing | None]]


def _kept_truth(key: int, fn: MemoClosure) -> MemoClosure:
    def kept(facts: Facts, concepts: Mapping[str, Truth], memo: Memo) -> Truth:
        k = (key, id(facts), id(concepts))
        hit = memo.get(k)
        if hit is not None:
            return hit[0]
        t = fn(facts, concepts, memo)
        memo[k] = (t, facts, concepts)
        return t

    return kept


def _junction_memoised(key: int, fns: list[MemoClosure], every: bool) -> MemoClosure:
    """An "all" (``every``) or "any" of memoised closures, keeping its own truth (``_kept_truth`` written out:
    these are the most frequent compound nodes)."""
    stop: Truth = not every  # the value that decides at once: a false part of an "all", a true part of an "any"

    def junction(facts: Facts, concepts: Mapping[str, Truth], memo: Memo) -> Truth:
        k = (key, id(facts), id(concepts))
        hit = memo.get(k)
        if hit is not None:
            return hit[0]
        out: Truth = every
        for fn in fns:
            v = fn(facts, concepts, memo)
            if v is stop:
                out = stop
                break
            if v is None:
                out = None
        memo[k] = (out, facts, concepts)
        return out

    return junction


def _quantified_memoised(collection: str, every: bool, inner: MemoClosure) -> MemoClosure:
    stop: Truth = not every

    def quantified(facts: Facts, concepts: Mapping[str, Truth], memo: Memo) -> Truth:
        items = facts.get(collection)
        if items is None:
            return None
        out: Truth = every
        for item in items:
            v = inner(item, _NO_CONCEPTS, memo)
            if v is stop:
                return stop
            if v is None:
                out = None
        return out

    return quantified


_COMPILED: dict[int, Compiled] = {}


def compiled(program: Program) -> Compiled:
    """The closures of ``program``, built once and kept while the program lives."""
    hit = _COMPILED.get(id(program))
    if hit is not None and hit.program is program:
        return hit
    hit = _COMPILED[id(program)] = Compiled(program)
    weakref.finalize(program, _COMPILED.pop, id(program), None)
    return hit
