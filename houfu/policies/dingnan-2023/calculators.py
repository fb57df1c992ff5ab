"""Amount calculators of dingnan-2023, registered by name (``rule.amounts``)."""

from __future__ import annotations

from houfu.engine.calculators import (
    CalculatorInput,
    ColumnAmount,
    ColumnInput,
    calculator,
    column_calculator,
)
from houfu.engine.results import Amount

# 四(三): only these three fees are named; utilities (水电费) are recorded but not subsidised.
COVERED_FEES = ("property_management", "sanitation", "rent")


@calculator("incubation_subsidy", reads={"rate_percent": "dn.4.3.subsidy_rate",
                                         "quarterly_cap": "dn.4.3.quarterly_cap",
                                         "max_years": "dn.4.3.max_years"})
def incubation_subsidy(inp: CalculatorInput) -> list[Amount]:
    """四(三): 60% of 物管费+卫生费+房租费 a month, at most 1万元 per entity per quarter, for at most 3 years.

    Computed once per business entity (每个入驻实体), however many members run it, and named by it.
    The quarter is three months, less whatever remains of the 36-month period (3 years read as 36 months).
    """
    rate = inp.params["rate_percent"] / 100
    cap = inp.params["quarterly_cap"]
    max_months = int(inp.params["max_years"] * 12)
    out = []
    for i, e in enumerate(inp.facts.get("entities") or []):
        before = e.get("months_subsidized_before_quarter")
        if e.get("in_incubator") is not True or before is None or before >= max_months:
            continue
        missing: list[str] = []
        fees = 0.0
        for fee in COVERED_FEES:
            v = e.get(f"monthly_incubator_fees_yuan.{fee}")
            if v is None:
                missing.append(f"entities[{i}].monthly_incubator_fees_yuan.{fee}")
            else:
                fees += v
        months = min(3, max_months - before)
        known = not missing
        uncapped = round(rate * fees * months, 2)
        out.append(Amount(
            calculator="incubation_subsidy", quantity="quarterly_subsidy", unit="yuan", period="quarter",
            value=min(uncapped, cap) if known else None, entity=e.get("name") or e["id"],
            members=[n - 1 for n in e.get("owners") or []],
            basis={"rate_percent": rate * 100, "monthly_covered_fees_yuan": fees if known else None,
                   "months": months, "uncapped_yuan": uncapped if known else None,
                   "quarterly_cap_yuan": cap, "capped": known and uncapped > cap, "max_months": max_months},
            missing=missing))
    return out


@column_calculator("incubation_subsidy")
def incubation_subsidy_columns(inp: ColumnInput) -> list[ColumnAmount]:
    """The same, for every entity of a caseload at once (the screener); NaN where a fee is unknown."""
    import numpy as np  # here, not at the top: a single check does not load numpy

    rate = inp.params["rate_percent"] / 100
    cap = inp.params["quarterly_cap"]
    max_months = int(inp.params["max_years"] * 12)
    entities = inp.caseload.entities
    table = entities.table
    before = table.column("months_subsidized_before_quarter")
    with np.errstate(invalid="ignore"):
        due = inp.applies[entities.owner] & (table.column("in_incubator") == 1) & (before < max_months)
    fees = sum(table.column(f"monthly_incubator_fees_yuan.{fee}")[due] for fee in COVERED_FEES)
    months = np.minimum(3, max_months - before[due])
    uncapped = np.round(rate * fees * months, 2)
    return [ColumnAmount("quarterly_subsidy", "yuan", "entities", np.flatnonzero(due), np.minimum(uncapped, cap))]
