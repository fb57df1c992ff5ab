"""Compile a ``Program`` into durable-rules rulesets and run it.

Three-valued logic on a Rete engine: each target gets a rule that fires when
its condition is *known true* and one that fires when it is *known false*;
when neither fires the target is undetermined.  A concept is asserted as a
fact ``{t: concept, name, value}`` and later rules join on it, so derived
facts chain inside the engine.  Each household member is a fact of its own:
"some member" is a join, "every member" is a negation ("no member is not"),
and member concepts are expanded in place inside those member patterns.

Field-guide rules followed (shared/docs/durable_rules.md): a ``SyncHost``
without timer threads; one entity per sid, deleted after use; an INTAKE rule
so every sid runs an action; keep-rules for derived facts; action errors read
back from the state; at most ``MAX_PATTERNS`` patterns on the entity fact per
ruleset (error 303 above 64), so big programs are split into several rulesets,
each carrying the concept rules it needs.
"""

from __future__ import annotations

import datetime as dt
import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from durable import engine as durable_engine
from durable.engine import MessageNotHandledException, MessageObservedException

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
    QuantifierVisitor,
    visit,
    walk,
)

from .logic import Facts, Truth, date_number, resolve
from .program import Program, Target
from .results import EngineFailure, Firing, TargetKind

__all__ = ["EngineFailure", "ProgramTooLarge", "ReteEngine"]

MAX_PATTERNS = 48
#: $and/$or nodes one pattern may hold: durable-rules keeps two expressions for each (the operator and its end)
#: in a sequence of at most 32 and fails with error 113 (ERR_EXPRESSION_LIMIT_EXCEEDED) at the 32nd
#: (reproduced on 2.0.28: fifteen pass, sixteen fail; the tests themselves do not count).
MAX_CONNECTIVES = 15

Pattern = dict[str, Any]
Quad = tuple[Pattern, Pattern, Pattern, Pattern]


class ProgramTooLarge(ValueError):
    """A target needs more rules than one durable-rules ruleset can hold (error 303 above 64)."""


@dataclass(frozen=True)
class Alt:
    """One way for a condition to be decided: all of these must match together."""

    pattern: Pattern | None = None  # on the entity fact
    concepts: frozenset[tuple[str, bool]] = frozenset()  # concept facts to join on
    exists: tuple[tuple[str, Pattern], ...] = ()  # (item type, pattern): some member/entity fact matches each
    absent: tuple[tuple[str, Pattern], ...] = ()  # no item fact matches any (durable negation)
    known: frozenset[str] = frozenset()  # item types whose list is given (<type>_count exists)


class SyncHost(durable_engine.Host):  # type: ignore[misc]
    def _run(self) -> None:  # no background timer threads: they race our calls
        pass


def _flat(op: str, ps: list[Pattern]) -> list[Pattern]:
    """The parts of an ``op`` ($and, $or) pattern, nested ones of the same op spliced in and repeats dropped:
    a gated test repeats its gate's tests (two gated facts of one member repeat the age of 16), and durable-rules
    holds only so many $and/$or in one pattern (``MAX_CONNECTIVES``)."""
    out: list[Pattern] = []
    for p in ps:
        for q in (p[op] if set(p) == {op} else [p]):
            if q and q not in out:
                out.append(q)
    return out


def _and(ps: list[Pattern]) -> Pattern:
    ps = _flat("$and", ps)
    return ps[0] if len(ps) == 1 else {"$and": ps}


def _or(ps: list[Pattern]) -> Pattern:
    ps = _flat("$or", ps)
    return ps[0] if len(ps) == 1 else {"$or": ps}


class _Single(QuantifierVisitor[Quad]):
    """Kleene logic as patterns over one fact: (T, F, NT, NF) for a join-free condition.

    T matches when the condition is known true, F when known false, NT when it
    is not known true, NF when it is not known false.  NT/NF feed durable's
    negation (``$not``) for "every member" tests.  Member tests run on separate
    member facts, because durable mis-evaluates ``$or`` of ``$and`` inside
    ``$iany``/``$iall`` (reproduced on 2.0.28).
    """

    def __init__(self, program: Program):
        self.program = program

    def fact(self, c: Fact) -> Quad:
        key = c.fact
        raw = c.value
        keys = [key]
        value: Any
        if isinstance(raw, FactRef):
            keys.append(raw.fact_ref)
            value = {"$m": raw.fact_ref}
        else:
            value = resolve(self.program, raw)
            if isinstance(value, dt.date):  # durable-rules compares numbers: yyyymmdd, as the facts carry it
                value = date_number(value)
        if c.op is Op.in_:
            yes = _or([{key: v} for v in value])
            no = _and([{"$neq": {key: v}} for v in value])
        else:
            t, f = {Op.eq: (None, "$neq"), Op.ne: ("$neq", None), Op.ge: ("$gte", "$lt"), Op.gt: ("$gt", "$lte"),
                    Op.le: ("$lte", "$gt"), Op.lt: ("$lt", "$gte")}[c.op]
            yes = {key: value} if t is None else {t: {key: value}}
            no = {key: value} if f is None else {f: {key: value}}
        # A comparison never matches a fact that lacks its own key (every operator, $neq included, nested keys
        # too: reproduced on 2.0.28), so only the other fact of a fact-to-fact comparison needs its $ex, which
        # keeps patterns within MAX_CONNECTIVES.
        known: list[Pattern] = [{"$ex": {k: 1}} for k in keys[1:]]
        unknown: list[Pattern] = [{"$nex": {k: 1}} for k in keys]
        return _and(known + [yes]), _and(known + [no]), _or(unknown + [no]), _or(unknown + [yes])

    def _parts(self, items: list[Condition]) -> tuple[list[Pattern], list[Pattern], list[Pattern], list[Pattern]]:
        quads = [visit(c, self) for c in items]
        return [q[0] for q in quads], [q[1] for q in quads], [q[2] for q in quads], [q[3] for q in quads]

    def all_of(self, c: AllOf) -> Quad:
        t, f, nt, nf = self._parts(c.all)
        return _and(t), _or(f), _or(nt), _and(nf)

    def any_of(self, c: AnyOf) -> Quad:
        t, f, nt, nf = self._parts(c.any)
        return _or(t), _and(f), _and(nt), _or(nf)

    def not_(self, c: Not) -> Quad:
        t, f, nt, nf = visit(c.not_, self)
        return f, t, nf, nt

    def member_concept(self, c: MemberConceptIs) -> Quad:
        t, f, nt, nf = visit(self.program.concepts[c.member_concept], self)
        return (t, f, nt, nf) if c.value else (f, t, nf, nt)

    def _joined(self, form: str) -> Quad:
        raise AssertionError(f"{form} needs a join; it is compiled by _Alts, not as one pattern")

    def quantified(self, collection: str, every: bool, inner: Condition) -> Quad:
        return self._joined(f"a quantifier over {collection}")

    def concept(self, c: ConceptIs) -> Quad:
        return self._joined("concept")


def _needs_joins(cond: Condition) -> bool:
    return any(isinstance(n, ConceptIs | AnyMember | AllMembers | AnyEntity | AllEntities) for n, _ in walk(cond))


#: The durable fact type of the items of each collection.
ITEM_TYPE = {MEMBERS: "member", ENTITIES: "entity"}


def _product(groups: list[list[Alt]]) -> list[Alt]:
    out = []
    for combo in itertools.product(*groups):
        pats = [a.pattern for a in combo if a.pattern]
        out.append(Alt(
            pattern=_and(pats) if pats else None,
            concepts=frozenset().union(*(a.concepts for a in combo)),
            exists=tuple(p for a in combo for p in a.exists),
            absent=tuple(p for a in combo for p in a.absent),
            known=frozenset().union(*(a.known for a in combo)),
        ))
    return out


Alts = tuple[list[Alt], list[Alt]]


class _Alts(QuantifierVisitor[Alts]):
    """Alternatives (rules) that make a condition known true, and known false."""

    def __init__(self, program: Program):
        self.single = _Single(program)

    def __call__(self, cond: Condition) -> Alts:
        if not _needs_joins(cond):
            t, f, _, _ = visit(cond, self.single)
            return [Alt(pattern=t)], [Alt(pattern=f)]
        return visit(cond, self)

    def fact(self, c: Fact) -> Alts:
        return self(c)

    def member_concept(self, c: MemberConceptIs) -> Alts:
        return self(c)

    def concept(self, c: ConceptIs) -> Alts:
        return ([Alt(concepts=frozenset({(c.concept, c.value)}))],
                [Alt(concepts=frozenset({(c.concept, not c.value)}))])

    def quantified(self, collection: str, every: bool, inner: Condition) -> Alts:
        """Some item: a join on an item fact; every item: no item fact that is not (durable negation)."""
        item = ITEM_TYPE[collection]
        t, f, nt, nf = visit(inner, self.single)
        if every:
            return [Alt(absent=((item, nt),), known=frozenset({item}))], [Alt(exists=((item, f),))]
        return [Alt(exists=((item, t),))], [Alt(absent=((item, nf),), known=frozenset({item}))]

    def not_(self, c: Not) -> Alts:
        t, f = self(c.not_)
        return f, t

    def all_of(self, c: AllOf) -> Alts:
        parts = [self(x) for x in c.all]
        return _product([p[0] for p in parts]), [a for p in parts for a in p[1]]

    def any_of(self, c: AnyOf) -> Alts:
        parts = [self(x) for x in c.any]
        return [a for p in parts for a in p[0]], _product([p[1] for p in parts])


RuleDef = dict[str, Any]


class ReteEngine:
    """One durable-rules host holding the compiled rulesets of one program.

    Re-entrant and thread-safe: each call gets its own sids and its own trace
    (actions file their firing under the sid they ran for), and calls into the
    durable-rules host are serialised by a lock, since its C engine is not
    documented as safe for concurrent use (and holds the GIL anyway).
    """

    def __init__(self, program: Program):
        self.program = program
        self.host = SyncHost()
        self._traces: dict[str, list[Firing]] = {}
        self._lock = threading.Lock()
        self._referenced = _referenced_facts(program)
        self.rulesets = self._compile()
        self.host.set_rulesets(self.rulesets)
        self._sid = itertools.count()

    def _action(self, target: Target, value: bool, alt: int) -> Callable[[Any], None]:
        firing = Firing(rule=f"{target.key}#{'T' if value else 'F'}{alt}", kind=target.kind, name=target.name,
                        value=value, document=target.document, clause_id=target.clause_id,
                        clause_number=target.clause_number)
        fact = {"t": target.kind.value, "name": target.name, "value": value}
        traces = self._traces

        def action(c: Any) -> None:
            try:
                c.assert_fact(dict(fact))
            except MessageObservedException:  # a second alternative proved the same thing
                return
            traces[c.m.sid].append(firing)

        return action

    def _compile(self) -> dict[str, dict[str, RuleDef]]:
        comp = _Alts(self.program)
        entity = self.program.entity
        concept_rules: dict[str, RuleDef] = {}
        concept_patterns = 0
        chunks: list[dict[str, RuleDef]] = []
        current: dict[str, RuleDef] = {}
        patterns = 0
        for target in self.program.targets:
            ts, fs = comp(target.when) if target.when is not None else ([Alt()], [])
            rules: dict[str, RuleDef] = {}
            for value, alts in ((True, ts), (False, fs)):
                for i, alt in enumerate(alts):
                    patterns_ = _rule_patterns(entity, alt)
                    widest = max(_connectives(p) for q in patterns_ for p in q.values())
                    if widest > MAX_CONNECTIVES:
                        raise ProgramTooLarge(f"{target.key} needs {widest} and/or tests in one pattern; durable-rules "
                                              f"holds {MAX_CONNECTIVES}: split the condition into concepts")
                    # dist 0: a member already bound by one pattern may match another, and the
                    # negation ("no member is ...") sees every member, not only unbound ones.
                    rules[f"{target.key}#{'T' if value else 'F'}{i}"] = {
                        "all": patterns_, "dist": 0, "run": self._action(target, value, i)}
            if target.kind is TargetKind.concept:
                concept_rules.update(rules)
                concept_patterns += len(rules)
                if concept_patterns > MAX_PATTERNS // 2:
                    raise ProgramTooLarge(f"the concepts need {concept_patterns} rules; at most "
                                          f"{MAX_PATTERNS // 2} fit beside the measures in one ruleset")
                continue
            if len(rules) > MAX_PATTERNS - concept_patterns:
                raise ProgramTooLarge(f"{target.key} needs {len(rules)} rules (its any/all nesting over members "
                                      f"and concepts multiplies out); at most {MAX_PATTERNS - concept_patterns} fit "
                                      "in one durable-rules ruleset: split the condition into concepts")
            if current and patterns + len(rules) > MAX_PATTERNS - concept_patterns:
                chunks.append(current)
                current, patterns = {}, 0
            current.update(rules)
            patterns += len(rules)
        if current or not chunks:
            chunks.append(current)
        # Store-only rules: a fact type no rule matches would vanish (field guide, pitfall 1).
        keep = {f"KEEP_{t}": {"all": [{"k": {"t": t}}, {"z": {"t": "__never__"}}], "run": _noop}
                for t in (*_DERIVED, *ITEM_TYPE.values())}
        out = {}
        for i, chunk in enumerate(chunks):
            # Every chunk re-derives the concepts it may join on, then its own measures.
            out[f"{entity}_{i}"] = {"INTAKE": {"all": [{"m": {"t": entity}}], "run": _noop},
                                    **_fresh(concept_rules), **chunk, **_fresh(keep)}
        return out

    def evaluate(self, facts: Facts) -> tuple[dict[str, Truth], list[Firing]]:
        """Decide every target; a target no rule decided is None (unknown)."""
        results: dict[str, Truth] = {t.key: None for t in self.program.targets}
        fact, members = _durable_facts(self.program.entity, facts, self._referenced)
        trace: list[Firing] = []
        with self._lock:
            for name in self.rulesets:
                sid = str(next(self._sid))
                self._traces[sid] = trace
                try:
                    # Members first: "no member matches" rules are only sound for facts already present.
                    for m in members:
                        self.host.assert_fact(name, dict(m, sid=sid))
                    self.host.assert_fact(name, dict(fact, sid=sid))
                except MessageNotHandledException:  # pragma: no cover - INTAKE handles every entity
                    pass
                except Exception as exc:  # the C engine's errors (bad values) stop at this boundary
                    raise EngineFailure(f"durable-rules rejected the facts: {exc}") from None
                try:
                    err = self.host.get_state(name, sid).get("exception")
                    if err:
                        raise EngineFailure(f"a rule action failed in {name}: {err}")
                    for f in self.host.get_facts(name, sid):
                        if f.get("t") in _DERIVED:
                            results[f"{f['t']}:{f['name']}"] = f["value"]
                finally:
                    self.host.delete_state(name, sid)
                    del self._traces[sid]
        seen: set[str] = set()
        unique = []
        for f in trace:
            if f.rule not in seen:
                seen.add(f.rule)
                unique.append(f)
        return results, unique


_DERIVED = {t.value for t in TargetKind}


def _noop(c: Any) -> None:
    return None


def _fresh(rules: dict[str, RuleDef]) -> dict[str, RuleDef]:
    """Copy rule definitions: set_rulesets deletes the `run` keys of what it is given."""
    return {k: dict(v) for k, v in rules.items()}


def _rule_patterns(entity: str, alt: Alt) -> list[dict[str, Pattern]]:
    head: list[Pattern | None] = [{"t": entity}, alt.pattern] + [{"$ex": {f"{t}_count": 1}} for t in sorted(alt.known)]
    out: list[dict[str, Pattern]] = [{"m": _and([p for p in head if p])}]
    out += [{f"c{j}": {"$and": [{"t": "concept"}, {"name": n}, {"value": v}]}}
            for j, (n, v) in enumerate(sorted(alt.concepts))]
    out += [{f"x{j}": _and([{"t": t}, p])} for j, (t, p) in enumerate(alt.exists)]
    out += [{f"n{j}$not": _and([{"t": t}, p])} for j, (t, p) in enumerate(alt.absent)]
    return out


def _connectives(p: Any) -> int:
    """The $and/$or nodes of a pattern."""
    if isinstance(p, dict) and len(p) == 1:
        (key, value), = p.items()
        if key in ("$and", "$or"):
            return 1 + sum(_connectives(x) for x in value)
    return 0


def _referenced_facts(program: Program) -> dict[str | None, frozenset[str]]:
    """The facts any rule of the program reads, per level (None: the entity; or a collection's items);
    only these go to durable-rules."""
    names: dict[str | None, set[str]] = {None: set(), MEMBERS: set(), ENTITIES: set()}
    conds: list[tuple[Condition | None, str | None]] = [(t.when, None) for t in program.targets]
    for concept in program.concepts.values():
        conds.append((concept, MEMBERS))  # member concepts are inlined inside member patterns
        conds.append((concept, None))  # entity concepts run on the entity fact
    for cond, level in conds:
        for node, within in walk(cond, level):
            if isinstance(node, Fact):
                names[within].add(node.fact)
                if isinstance(node.value, FactRef):
                    names[within].add(node.value.fact_ref)
    return {k: frozenset(v) for k, v in names.items()}


def _durable_value(v: Any) -> Any:
    # durable-rules compares numbers: a date goes as yyyymmdd (the same number the columns hold).
    if isinstance(v, dt.date):
        return date_number(v)
    # durable-rules' JSON reader rejects exponent notation (error 204): an integral float goes as an int.
    if isinstance(v, float) and not isinstance(v, bool):
        if v.is_integer():
            return int(v)
        if "e" in repr(v):
            raise EngineFailure(f"the number {v!r} cannot be passed to durable-rules")
    return v


def _durable_facts(entity: str, facts: Facts,
                   referenced: dict[str | None, frozenset[str]]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The entity fact (with <item>_count for each list that is known) and one fact per member or entity."""
    fact = _nest({k: _durable_value(v) for k, v in facts.items() if v is not None and k in referenced[None]})
    fact["t"] = entity
    items: list[dict[str, Any]] = []
    for collection, item_type in ITEM_TYPE.items():
        listed = facts.get(collection)
        if listed is None:
            continue
        fact[f"{item_type}_count"] = len(listed)
        names = referenced[collection]
        items += [dict(_nest({k: _durable_value(v) for k, v in m.items() if v is not None and k in names}),
                       t=item_type, idx=i) for i, m in enumerate(listed)]
    return fact, items


def _nest(flat: dict[str, Any]) -> dict[str, Any]:
    """Dotted fact names (three_haves.staff) become nested objects, as durable reads them."""
    out: dict[str, Any] = {}
    for k, v in flat.items():
        if "." in k:
            head, rest = k.split(".", 1)
            out.setdefault(head, {})[rest] = v
        else:
            out[k] = v
    return out
