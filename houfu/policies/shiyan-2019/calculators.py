"""Amount calculators of shiyan-2019, registered by name (``rule.amounts``)."""

from __future__ import annotations

from houfu.engine.calculators import (
    CalculatorInput,
    ColumnAmount,
    ColumnInput,
    calculator,
    column_calculator,
)
from houfu.engine.results import Amount


@calculator("training_shortfall", reads={"required_per_year": "sy.4.min_trainings_per_year"},
            concepts=("sy_working_age_able",))
def training_shortfall(inp: CalculatorInput) -> list[Amount]:
    """4: each member aged 16+ able to work gets at least 1 training a year; the shortfall per member."""
    need = int(inp.params["required_per_year"])
    out = []
    for i, m in enumerate(inp.facts.get("members") or []):
        if inp.member_concept("sy_working_age_able", m) is not True:
            continue
        done = m.get("trainings_this_year")
        out.append(Amount(
            calculator="training_shortfall", quantity="training_shortfall", unit="trainings", period="year",
            value=None if done is None else max(0, need - done), member=i, member_name=m.get("name"),
            basis={"required_per_year": need, "trainings_this_year": done},
            missing=[] if done is not None else [f"members[{i}].trainings_this_year"]))
    return out


@calculator("household_employment_gap", reads={"required": "sy.5.min_employed_per_household"})
def household_employment_gap(inp: CalculatorInput) -> list[Amount]:
    """5: at least 1 person in stable work per household able and willing to work."""
    need = int(inp.params["required"])
    members = inp.facts.get("members") or []
    # As the rule reads `employed`: only of a member it is asked of (the vocabulary's gate), so a child or a
    # member unable to work leaves no gap unknown, and a job counts once the gate is known to hold.
    asked = [inp.asked("employed", m) for m in members]
    employed = sum(1 for m, a in zip(members, asked, strict=True) if a is True and m.get("employed") is True)
    unknown = [f"members[{i}].employed" for i, (m, a) in enumerate(zip(members, asked, strict=True))
               if a is not False and (m.get("employed") is None or (m.get("employed") is True and a is None))]
    gap = max(0, need - employed)
    return [Amount(calculator="household_employment_gap", quantity="employment_gap", unit="people",
                   value=None if gap and unknown else gap,
                   basis={"required": need, "employed_members": employed},
                   missing=unknown if gap else [])]


@calculator("transaction_restriction", reads={"min_years": "sy.11.household_min_restriction_years"})
def transaction_restriction(inp: CalculatorInput) -> list[Amount]:
    """11: a registered home's sale is restricted, in principle, for no less than 20 years.

    A floor, not a countdown: the text names no start event and lets local rules set a longer period,
    so houfu states the minimum and never says when the restriction ends.
    """
    years = inp.params["min_years"]
    return [Amount(calculator="transaction_restriction", quantity="restriction_min_years", unit="years",
                   value=years, basis={"min_restriction_years": years, "floor_in_principle": True})]


# --- the same over a whole caseload (the screener); the differential test holds them to the above ---------------

@column_calculator("training_shortfall")
def training_shortfall_columns(inp: ColumnInput) -> list[ColumnAmount]:
    import numpy as np  # here, not at the top: a single check does not load numpy

    need = int(inp.params["required_per_year"])
    members = inp.caseload.members
    able, _ = inp.member_concepts["sy_working_age_able"]
    rows = np.flatnonzero(inp.applies[members.owner] & able)
    done = members.table.column("trainings_this_year")[rows]
    return [ColumnAmount("training_shortfall", "trainings", "members", rows, np.maximum(0, need - done))]


@column_calculator("household_employment_gap")
def household_employment_gap_columns(inp: ColumnInput) -> list[ColumnAmount]:
    import numpy as np  # here, not at the top: a single check does not load numpy

    need = int(inp.params["required"])
    members = inp.caseload.members
    n = len(members.known)
    employed_flag = members.table.column("employed")
    asked, not_asked = inp.member_gates["employed"]
    employed = np.bincount(members.owner[(employed_flag == 1) & asked], minlength=n)
    open_ = ~not_asked & (np.isnan(employed_flag) | ((employed_flag == 1) & ~asked))
    unknown = np.bincount(members.owner[open_], minlength=n) > 0
    gap = np.maximum(0, need - employed).astype(np.float64)
    gap[(gap > 0) & unknown] = np.nan
    rows = np.flatnonzero(inp.applies)
    return [ColumnAmount("employment_gap", "people", "main", rows, gap[rows])]


@column_calculator("transaction_restriction")
def transaction_restriction_columns(inp: ColumnInput) -> list[ColumnAmount]:
    import numpy as np  # here, not at the top: a single check does not load numpy

    rows = np.flatnonzero(inp.applies)
    return [ColumnAmount("restriction_min_years", "years", "main", rows, np.full(len(rows), inp.params["min_years"]))]
