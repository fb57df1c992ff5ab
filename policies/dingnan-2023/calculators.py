"""Amount calculators of dingnan-2023, registered by name (``rule.amounts``)."""

from __future__ import annotations

from typing import Any

from houfu.engine.calculators import CalculatorInput, calculator
from houfu.engine.results import Amount

# 四(三): only these three fees are named; utilities (水电费) are recorded but not subsidised.
COVERED_FEES = ("property_management", "sanitation", "rent")


@calculator("incubation_subsidy", reads={"rate_percent": "dn.4.3.subsidy_rate",
                                         "quarterly_cap": "dn.4.3.quarterly_cap",
                                         "max_years": "dn.4.3.max_years"})
def incubation_subsidy(inp: CalculatorInput) -> list[Amount]:
    """四(三): 60% of 物管费+卫生费+房租费 a month, at most 1万元 per entity per quarter, for at most 3 years.

    Members who record the same ``incubator_entity`` share one entity and one cap; a member
    with no entity recorded is an entity of their own.  The quarter is three months, less
    whatever remains of the 36-month period (3 years read as 36 months).
    """
    rate = inp.params["rate_percent"] / 100
    cap = inp.params["quarterly_cap"]
    max_months = int(inp.params["max_years"] * 12)
    entities: dict[str, dict[str, Any]] = {}
    for i, m in enumerate(inp.facts.get("members") or []):
        before = m.get("months_subsidized_before_quarter")
        if m.get("in_incubator") is not True or before is None or before >= max_months:
            continue
        key = m.get("incubator_entity") or f"members[{i}]"
        e = entities.setdefault(key, {"members": [], "months_before": 0, "fees": 0.0, "missing": []})
        e["members"].append(i)
        # Members of one entity share its subsidy period; the longest history counts.
        e["months_before"] = max(e["months_before"], before)
        for fee in COVERED_FEES:
            v = m.get(f"monthly_incubator_fees_yuan.{fee}")
            if v is None:
                e["missing"].append(f"members[{i}].monthly_incubator_fees_yuan.{fee}")
            else:
                e["fees"] += v
    out = []
    for key, e in entities.items():
        months = min(3, max_months - e["months_before"])
        known = not e["missing"]
        uncapped = round(rate * e["fees"] * months, 2)
        out.append(Amount(
            calculator="incubation_subsidy", quantity="quarterly_subsidy", unit="yuan", period="quarter",
            value=min(uncapped, cap) if known else None, entity=key, members=e["members"],
            basis={"rate_percent": rate * 100, "monthly_covered_fees_yuan": e["fees"] if known else None,
                   "months": months, "uncapped_yuan": uncapped if known else None,
                   "quarterly_cap_yuan": cap, "capped": known and uncapped > cap, "max_months": max_months},
            missing=e["missing"]))
    return out
