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

import itertools
from dataclasses import dataclass
from typing import Any

from durable import engine as durable_engine
from durable.engine import MessageNotHandledException, MessageObservedException

from houfu.kb.loader import KB
from houfu.kb.models import Condition, FactRef

from .logic import Facts, Truth, resolve
from .program import Program, Target

__all__ = ["ReteEngine", "Firing"]

MAX_PATTERNS = 48

Pattern = dict[str, Any]


@dataclass(frozen=True)
class Alt:
    """One way for a condition to be decided: all of these must match together."""

    pattern: Pattern | None = None  # on the entity fact
    concepts: frozenset[tuple[str, bool]] = frozenset()  # concept facts to join on
    exists: tuple[Pattern, ...] = ()  # some member fact matches each
    absent: tuple[Pattern, ...] = ()  # no member fact matches any (durable negation)
    members_known: bool = False  # the member list is given (member_count exists)


class SyncHost(durable_engine.Host):
    def _run(self):  # no background timer threads: they race our calls
        pass


Firing = dict[str, Any]  # {rule, kind, name, value, clause, document}


def _and(ps: list[Pattern]) -> Pattern:
    ps = [p for p in ps if p]
    return ps[0] if len(ps) == 1 else {"$and": ps}


def _or(ps: list[Pattern]) -> Pattern:
    return ps[0] if len(ps) == 1 else {"$or": ps}


class _Compiler:
    """Kleene logic as patterns: for each condition, four single-fact patterns.

    T matches when the condition is known true, F when known false, NT when it
    is not known true, NF when it is not known false.  NT/NF feed durable's
    negation (``$not``) for "every member" tests.  Member tests run on separate
    member facts, because durable mis-evaluates ``$or`` of ``$and`` inside
    ``$iany``/``$iall`` (reproduced on 2.0.28).
    """

    def __init__(self, kb: KB):
        self.kb = kb

    def leaf(self, cond: Condition) -> tuple[Pattern, Pattern, Pattern, Pattern]:
        key = cond.fact
        op, raw = cond.op
        keys = [key]
        if isinstance(raw, FactRef):
            keys.append(raw.fact_ref)
            value: Any = {"$m": raw.fact_ref}
        else:
            value = resolve(self.kb, raw)
        if op == "in":
            yes = _or([{key: v} for v in value])
            no = _and([{"$neq": {key: v}} for v in value])
        else:
            t, f = {"eq": (None, "$neq"), "ne": ("$neq", None), "ge": ("$gte", "$lt"), "gt": ("$gt", "$lte"),
                    "le": ("$lte", "$gt"), "lt": ("$lt", "$gte")}[op]
            yes = {key: value} if t is None else {t: {key: value}}
            no = {key: value} if f is None else {f: {key: value}}
        known = [{"$ex": {k: 1}} for k in keys]
        unknown = [{"$nex": {k: 1}} for k in keys]
        return _and(known + [yes]), _and(known + [no]), _or(unknown + [no]), _or(unknown + [yes])

    def single(self, cond: Condition) -> tuple[Pattern, Pattern, Pattern, Pattern]:
        """(T, F, NT, NF) for a condition over one fact, without concepts or quantifiers."""
        form = cond.form
        if form == "fact":
            return self.leaf(cond)
        if form in ("all", "any"):
            parts = list(zip(*[self.single(c) for c in (cond.all or cond.any)], strict=True))
            t, f, nt, nf = (list(p) for p in parts)
            if form == "all":
                return _and(t), _or(f), _or(nt), _and(nf)
            return _or(t), _and(f), _and(nt), _or(nf)
        if form == "not_":
            t, f, nt, nf = self.single(cond.not_)
            return f, t, nf, nt
        if form == "member_concept":
            t, f, nt, nf = self.single(self.kb.concepts[cond.member_concept].when)
            return (t, f, nt, nf) if cond.value else (f, t, nf, nt)
        raise AssertionError(f"{form} is not a single-fact condition")

    def alts(self, cond: Condition | None) -> tuple[list[Alt], list[Alt]]:
        """Alternatives that make the condition known true, and known false."""
        if cond is None:
            return [Alt()], []
        form = cond.form
        if not _needs_joins(cond):
            t, f, _, _ = self.single(cond)
            return [Alt(pattern=t)], [Alt(pattern=f)]
        if form == "concept":
            return ([Alt(concepts=frozenset({(cond.concept, cond.value)}))],
                    [Alt(concepts=frozenset({(cond.concept, not cond.value)}))])
        if form == "any_member":
            t, f, nt, nf = self.single(cond.any_member)
            return [Alt(exists=(t,))], [Alt(absent=(nf,), members_known=True)]
        if form == "all_members":
            t, f, nt, nf = self.single(cond.all_members)
            return [Alt(absent=(nt,), members_known=True)], [Alt(exists=(f,))]
        if form == "not_":
            t, f = self.alts(cond.not_)
            return f, t
        parts = [self.alts(c) for c in (cond.all or cond.any)]
        ts, fs = [p[0] for p in parts], [p[1] for p in parts]
        if form == "all":
            return _product(ts), [a for alts in fs for a in alts]
        return [a for alts in ts for a in alts], _product(fs)


def _needs_joins(cond: Condition) -> bool:
    return any(n.concept or n.any_member or n.all_members for n, _ in cond.walk())


def _product(groups: list[list[Alt]]) -> list[Alt]:
    out = []
    for combo in itertools.product(*groups):
        pats = [a.pattern for a in combo if a.pattern]
        out.append(Alt(
            pattern=_and(pats) if pats else None,
            concepts=frozenset().union(*(a.concepts for a in combo)),
            exists=tuple(p for a in combo for p in a.exists),
            absent=tuple(p for a in combo for p in a.absent),
            members_known=any(a.members_known for a in combo),
        ))
    return out


class ReteEngine:
    """One durable-rules host holding the compiled rulesets of one program."""

    def __init__(self, kb: KB, program: Program):
        self.kb, self.program = kb, program
        self.host = SyncHost()
        self.trace: list[Firing] = []
        self.rulesets = self._compile()
        self.host.set_rulesets(self.rulesets)
        self._sid = itertools.count()

    def _action(self, target: Target, value: bool, alt: int):
        firing = {"rule": f"{target.key}#{'T' if value else 'F'}{alt}", "kind": target.kind,
                  "name": target.name, "value": value, "clause": target.clause, "document": target.document}
        fact = {"t": target.kind, "name": target.name, "value": value}

        def action(c):
            try:
                c.assert_fact(dict(fact))
            except MessageObservedException:  # a second alternative proved the same thing
                return
            self.trace.append(firing)

        return action

    def _compile(self) -> dict[str, dict]:
        comp = _Compiler(self.kb)
        entity = self.program.entity
        concept_rules: dict[str, dict] = {}
        concept_patterns = 0
        chunks: list[dict[str, dict]] = []
        current: dict[str, dict] = {}
        patterns = 0
        for target in self.program.targets:
            ts, fs = comp.alts(target.when)
            rules = {}
            for value, alts in ((True, ts), (False, fs)):
                for i, alt in enumerate(alts):
                    rules[f"{target.key}#{'T' if value else 'F'}{i}"] = {
                        "all": _rule_patterns(entity, alt), "run": self._action(target, value, i)}
            if target.kind == "concept":
                concept_rules.update(rules)
                concept_patterns += len(rules)
                continue
            if current and patterns + len(rules) > MAX_PATTERNS - concept_patterns:
                chunks.append(current)
                current, patterns = {}, 0
            current.update(rules)
            patterns += len(rules)
        if current or not chunks:
            chunks.append(current)
        keep = {f"KEEP_{t}": {"all": [{"k": {"t": t}}, {"z": {"t": "__never__"}}], "run": lambda c: None}
                for t in ("concept", "measure", "requires", "member")}
        out = {}
        for i, chunk in enumerate(chunks):
            # Every chunk re-derives the concepts it may join on, then its own measures.
            out[f"{entity}_{i}"] = {"INTAKE": {"all": [{"m": {"t": entity}}], "run": lambda c: None},
                                    **_fresh(concept_rules), **chunk, **_fresh(keep)}
        return out

    def evaluate(self, facts: Facts) -> tuple[dict[str, Truth], list[Firing]]:
        """Decide every target; unknown targets are absent from the engine and None here."""
        self.trace = trace = []
        results: dict[str, Truth] = {t.key: None for t in self.program.targets}
        fact, members = _durable_facts(self.program.entity, facts)
        for name in self.rulesets:
            sid = str(next(self._sid))
            try:
                # Members first: "no member matches" rules are only sound for facts already present.
                for m in members:
                    self.host.assert_fact(name, dict(m, sid=sid))
                self.host.assert_fact(name, dict(fact, sid=sid))
            except MessageNotHandledException:  # pragma: no cover - INTAKE handles every entity
                pass
            try:
                err = self.host.get_state(name, sid).get("exception")
                if err:
                    raise RuntimeError(f"rule action failed in {name}: {err}")
                for f in self.host.get_facts(name, sid):
                    if f.get("t") in ("concept", "measure", "requires"):
                        results[f"{f['t']}:{f['name']}"] = f["value"]
            finally:
                self.host.delete_state(name, sid)
        seen = set()
        unique = [f for f in trace if not (f["rule"] in seen or seen.add(f["rule"]))]
        return results, unique


def _fresh(rules: dict[str, dict]) -> dict[str, dict]:
    """Copy rule definitions: set_rulesets deletes the `run` keys of what it is given."""
    return {k: dict(v) for k, v in rules.items()}


def _rule_patterns(entity: str, alt: Alt) -> list[dict[str, Pattern]]:
    head = [{"t": entity}, alt.pattern] + ([{"$ex": {"member_count": 1}}] if alt.members_known else [])
    out = [{"m": _and([p for p in head if p])}]
    out += [{f"c{j}": {"$and": [{"t": "concept"}, {"name": n}, {"value": v}]}}
            for j, (n, v) in enumerate(sorted(alt.concepts))]
    out += [{f"x{j}": _and([{"t": "member"}, p])} for j, p in enumerate(alt.exists)]
    out += [{f"n{j}$not": _and([{"t": "member"}, p])} for j, p in enumerate(alt.absent)]
    return out


def _durable_facts(entity: str, facts: Facts) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The entity fact (with member_count when members are known) and one fact per member."""
    fact = _nest({k: v for k, v in facts.items() if v is not None and k != "members"})
    fact["t"] = entity
    members = facts.get("members")
    if members is None:
        return fact, []
    fact["member_count"] = len(members)
    return fact, [dict(_nest({k: v for k, v in m.items() if v is not None}), t="member", idx=i)
                  for i, m in enumerate(members)]


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
