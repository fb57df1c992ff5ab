"""Three-valued (Kleene) evaluation of rule conditions, done plainly in Python.

This is the *reference evaluator*: the durable-rules engine (``engine.rete``)
must agree with it on every input (see tests/test_differential.py).  It also
explains results: which facts are missing and which known fact ruled a
measure out.  ``None`` means unknown throughout; an unknown fact is never
treated as false.
"""

from __future__ import annotations

import re
from typing import Any

from houfu.kb.loader import KB
from houfu.kb.models import Assumed, Condition, FactRef, ParamRef

__all__ = ["Truth", "truth", "missing_facts", "split_fact_path", "failed_tests", "resolve", "describe", "concept_order"]

Truth = bool | None
Facts = dict[str, Any]


def resolve(kb: KB, value: Any) -> Any:
    """A condition's comparison value as a plain number/str/bool (FactRef stays)."""
    if isinstance(value, ParamRef):
        return kb.parameters[value.param].value * value.times
    if isinstance(value, Assumed):
        return value.assumed
    return value


def _compare(op: str, left: Any, right: Any) -> bool:
    if op == "in":
        return left in right
    return {
        "eq": left == right, "ne": left != right, "ge": left >= right,
        "gt": left > right, "le": left <= right, "lt": left < right,
    }[op]


def _and(values: list[Truth]) -> Truth:
    if any(v is False for v in values):
        return False
    return True if all(v is True for v in values) else None


def _or(values: list[Truth]) -> Truth:
    if any(v is True for v in values):
        return True
    return False if all(v is False for v in values) else None


def truth(kb: KB, cond: Condition | None, facts: Facts, concepts: dict[str, Truth]) -> Truth:
    """Kleene truth of ``cond`` over one entity's flattened facts.

    ``facts["members"]`` holds the members' flattened facts (or is absent).
    ``concepts`` holds the entity's already-derived concepts.
    """
    if cond is None:
        return True
    form = cond.form
    if form == "fact":
        left = facts.get(cond.fact)
        op, raw = cond.op
        right = facts.get(raw.fact_ref) if isinstance(raw, FactRef) else resolve(kb, raw)
        if left is None or right is None:
            return None
        return _compare(op, left, right)
    if form == "all":
        return _and([truth(kb, c, facts, concepts) for c in cond.all])
    if form == "any":
        return _or([truth(kb, c, facts, concepts) for c in cond.any])
    if form == "not_":
        t = truth(kb, cond.not_, facts, concepts)
        return None if t is None else not t
    if form in ("any_member", "all_members"):
        members = facts.get("members")
        if members is None:
            return None
        inner = cond.any_member or cond.all_members
        values = [truth(kb, inner, m, {}) for m in members]
        return _or(values) if form == "any_member" else _and(values)
    if form == "concept":
        t = concepts.get(cond.concept)
        return None if t is None else t == cond.value
    if form == "member_concept":
        t = truth(kb, kb.concepts[cond.member_concept].when, facts, {})
        return None if t is None else t == cond.value
    raise AssertionError(form)


def missing_facts(kb: KB, cond: Condition | None, facts: Facts, concepts: dict[str, Truth],
                  prefix: str = "") -> list[str]:
    """The unknown facts that keep an undetermined condition from being decided."""
    if cond is None or truth(kb, cond, facts, concepts) is not None:
        return []
    form = cond.form
    if form == "fact":
        out = [] if facts.get(cond.fact) is not None else [prefix + cond.fact]
        raw = cond.op[1]
        if isinstance(raw, FactRef) and facts.get(raw.fact_ref) is None:
            out.append(prefix + raw.fact_ref)
        return out
    if form in ("all", "any"):
        return _unique(x for c in (cond.all or cond.any) for x in missing_facts(kb, c, facts, concepts, prefix))
    if form == "not_":
        return missing_facts(kb, cond.not_, facts, concepts, prefix)
    if form in ("any_member", "all_members"):
        members = facts.get("members")
        if members is None:
            return [prefix + "members"]
        inner = cond.any_member or cond.all_members
        return _unique(x for i, m in enumerate(members)
                       for x in missing_facts(kb, inner, m, {}, f"{prefix}members[{i}]."))
    if form == "concept":
        return missing_facts(kb, kb.concepts[cond.concept].when, facts, concepts, prefix)
    if form == "member_concept":
        return missing_facts(kb, kb.concepts[cond.member_concept].when, facts, {}, prefix)
    raise AssertionError(form)


_MEMBER_PATH = re.compile(r"^members\[(\d+)\]\.(.+)$")


def split_fact_path(path: str) -> tuple[int | None, str]:
    """Undo the ``members[i].`` prefix that missing_facts puts on member facts."""
    m = _MEMBER_PATH.match(path)
    return (int(m.group(1)), m.group(2)) if m else (None, path)


def failed_tests(kb: KB, cond: Condition | None, facts: Facts, concepts: dict[str, Truth],
                 prefix: str = "") -> list[str]:
    """The known tests that make a false condition false, described for people."""
    if cond is None or truth(kb, cond, facts, concepts) is not False:
        return []
    form = cond.form
    if form == "fact":
        return [f"{prefix}{describe(kb, cond)} (is {_show(facts.get(cond.fact))})"]
    if form in ("all", "any"):
        return _unique(x for c in (cond.all or cond.any) for x in failed_tests(kb, c, facts, concepts, prefix))
    if form == "not_":
        return [f"{prefix}not ({describe(kb, cond.not_)})"]
    if form in ("any_member", "all_members"):
        members = facts["members"]
        if not members:
            return [f"{prefix}no members listed"]
        inner = cond.any_member or cond.all_members
        return _unique(x for i, m in enumerate(members)
                       for x in failed_tests(kb, inner, m, {}, f"{prefix}members[{i}]."))
    if form == "concept":
        return [f"{prefix}{cond.concept} is {not cond.value}: "
                + "; ".join(failed_tests(kb, kb.concepts[cond.concept].when, facts, concepts, prefix)
                            or failed_tests(kb, _negate(kb.concepts[cond.concept].when), facts, concepts, prefix))]
    if form == "member_concept":
        inner = kb.concepts[cond.member_concept].when
        why = failed_tests(kb, inner if cond.value else _negate(inner), facts, {}, prefix)
        return [f"{prefix}not {cond.member_concept}: " + "; ".join(why)] if why else [f"{prefix}not {cond.member_concept}"]
    raise AssertionError(form)


def _negate(cond: Condition) -> Condition:
    return Condition(**{"not": cond})


def describe(kb: KB, cond: Condition | None) -> str:
    """A compact, readable rendering of a condition."""
    if cond is None:
        return "always"
    form = cond.form
    if form == "fact":
        op, raw = cond.op
        sym = {"eq": "=", "ne": "≠", "ge": "≥", "gt": ">", "le": "≤", "lt": "<", "in": "in"}[op]
        if isinstance(raw, FactRef):
            return f"{cond.fact} {sym} {raw.fact_ref}"
        if isinstance(raw, ParamRef):
            return f"{cond.fact} {sym} {_show(resolve(kb, raw))} [{raw.param}]"
        return f"{cond.fact} {sym} {_show(resolve(kb, raw))}"
    if form in ("all", "any"):
        joiner = " and " if form == "all" else " or "
        return "(" + joiner.join(describe(kb, c) for c in (cond.all or cond.any)) + ")"
    if form == "not_":
        return f"not {describe(kb, cond.not_)}"
    if form == "any_member":
        return f"some member: {describe(kb, cond.any_member)}"
    if form == "all_members":
        return f"every member: {describe(kb, cond.all_members)}"
    if form == "concept":
        return cond.concept if cond.value else f"not {cond.concept}"
    return cond.member_concept if cond.value else f"not {cond.member_concept}"


def concept_order(kb: KB, names: list[str]) -> list[str]:
    """Concepts sorted so that each comes after the concepts it rests on."""
    order: list[str] = []

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in order:
            return
        if name in path:
            raise ValueError(f"concepts form a cycle: {' -> '.join(path + (name,))}")
        for node, _ in kb.concepts[name].when.walk():
            if node.concept:
                visit(node.concept, path + (name,))
        order.append(name)

    for n in names:
        visit(n, ())
    return order


def _show(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, bool):
        return "true" if v else "false"
    return "unknown" if v is None else str(v)


def _unique(items) -> list[str]:
    return list(dict.fromkeys(items))
