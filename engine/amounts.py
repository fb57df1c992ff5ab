"""Amount calculators named by rules (``rule.amounts``).

Each takes the knowledge base and the entity's facts and returns plain data.
Every number comes from a parameter in ``policies/`` by id; an unknown input
makes the affected figure ``None`` and lists the missing fact, never a zero.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from houfu.kb.loader import KB

from .logic import Facts, truth

__all__ = ["CALCULATORS", "compute"]


def _param(kb: KB, pid: str) -> float:
    return kb.parameters[pid].value


def incubation_subsidy(kb: KB, facts: Facts) -> dict[str, Any]:
    """dingnan 四(三): 60% of 物管费+卫生费+房租费, ≤ 1万元 per entity per quarter, ≤ 3 years."""
    rate = _param(kb, "dn.4.3.subsidy_rate") / 100
    cap = _param(kb, "dn.4.3.quarterly_cap")
    max_months = int(_param(kb, "dn.4.3.max_years") * 12)
    entities: dict[str, dict[str, Any]] = {}
    for i, m in enumerate(facts.get("members") or []):
        before = m.get("months_subsidized_before_quarter")
        if m.get("in_incubator") is not True or before is None or before >= max_months:
            continue
        key = m.get("incubator_entity") or f"members[{i}]"
        e = entities.setdefault(key, {"entity": key, "members": [], "months_before": 0,
                                      "monthly_covered_fees_yuan": 0.0, "missing": []})
        e["members"].append(i)
        # Members of one entity share its subsidy period; the longest history counts.
        e["months_before"] = max(e["months_before"], before)
        for fee in ("property_management", "sanitation", "rent"):
            v = m.get(f"monthly_incubator_fees_yuan.{fee}")
            if v is None:
                e["missing"].append(f"members[{i}].monthly_incubator_fees_yuan.{fee}")
            else:
                e["monthly_covered_fees_yuan"] += v
    out = []
    for e in entities.values():
        months = min(3, max_months - e["months_before"])
        uncapped = round(rate * e["monthly_covered_fees_yuan"] * months, 2)
        known = not e["missing"]
        out.append({
            "entity": e["entity"], "members": e["members"],
            "months_this_quarter": months,
            "monthly_covered_fees_yuan": e["monthly_covered_fees_yuan"] if known else None,
            "rate_percent": rate * 100,
            "uncapped_yuan": uncapped if known else None,
            "quarterly_cap_yuan": cap,
            "capped": known and uncapped > cap,
            "quarterly_subsidy_yuan": min(uncapped, cap) if known else None,
            "missing": e["missing"],
        })
    return {"per_entity": out, "not_covered": "utilities (水电费) are not among the fees the clause names",
            "max_months": max_months}


def training_shortfall(kb: KB, facts: Facts) -> dict[str, Any]:
    """shiyan 4: each member aged 16+ able to work gets ≥ 1 training a year; shortfall per member."""
    need = int(_param(kb, "sy.4.min_trainings_per_year"))
    group = kb.concepts["sy_working_age_able"].when
    rows = []
    for i, m in enumerate(facts.get("members") or []):
        if truth(kb, group, m, {}) is not True:
            continue
        done = m.get("trainings_this_year")
        rows.append({"member": i, "name": m.get("name"), "required_per_year": need,
                     "trainings_this_year": done,
                     "shortfall": None if done is None else max(0, need - done)})
    return {"per_member": rows}


def household_employment_gap(kb: KB, facts: Facts) -> dict[str, Any]:
    """shiyan 5: at least 1 person in stable work per household able and willing to work."""
    need = int(_param(kb, "sy.5.min_employed_per_household"))
    members = facts.get("members") or []
    flags = [m.get("employed") for m in members]
    employed = sum(1 for f in flags if f is True)
    unknown = [f"members[{i}].employed" for i, f in enumerate(flags) if f is None]
    gap = max(0, need - employed)
    return {"required": need, "employed_members": employed,
            "gap": None if gap and unknown else gap, "missing": unknown if gap else []}


def transaction_restriction(kb: KB, facts: Facts) -> dict[str, Any]:
    """shiyan 11: resale restricted for no less than 20 years from registration."""
    years = _param(kb, "sy.11.min_restriction_years")
    since = facts.get("years_since_certificate")
    return {"min_restriction_years": years, "years_since_certificate": since,
            "years_remaining_at_least": None if since is None else max(0, years - since)}


CALCULATORS: dict[str, Callable[[KB, Facts], dict[str, Any]]] = {
    "incubation_subsidy": incubation_subsidy,
    "training_shortfall": training_shortfall,
    "household_employment_gap": household_employment_gap,
    "transaction_restriction": transaction_restriction,
}


def compute(kb: KB, name: str, facts: Facts) -> dict[str, Any]:
    return CALCULATORS[name](kb, facts)
