"""Calculators declared as data (issue 14): each shape gives the same figures one record at a time and over a
caseload's columns, and says which facts it is missing instead of guessing."""

from __future__ import annotations

import datetime as dt
import math
import shutil
from pathlib import Path

import numpy as np
import pytest

from houfu.engine.calculators import ColumnInput, declared_calculators
from houfu.engine.columns import caseload_from_facts
from houfu.engine.evaluator import Evaluator, flatten
from houfu.engine.vector import VectorEvaluator
from houfu.kb.loader import load

ROOT = Path(__file__).resolve().parent.parent
AS_OF = dt.date(2026, 1, 1)

# The shapes over the Dingnan parameters (四(三): 60%, at most 1万元 a quarter), in a copy of the policies.
DECLARED = """\
calculators:
- name: fee_share
  shape: rate_of_base
  per: entity
  rate: dn.4.3.subsidy_rate
  base: [monthly_incubator_fees_yuan.property_management, monthly_incubator_fees_yuan.rent]
  cap: dn.4.3.quarterly_cap
  period: quarter
  quantity: fee_share
  zh: "{who}费用补贴 {value} 元"
  en: "fee share for {who}: {value} yuan"
- name: per_household
  shape: fixed
  per: household
  amount: dn.4.3.quarterly_cap
  quantity: fixed_sum
  zh: "{value} 元"
  en: "{value} yuan"
- name: workshop_subsidy
  shape: rate_count_periods
  per: entity
  amount: dn.4.3.subsidy_rate
  count: workshop_workers
  periods: workshop_months
  max_periods: dn.4.3.max_years
  cap: dn.4.3.quarterly_cap
  period: year
  quantity: workshop_subsidy
  zh: "{who}帮扶车间补贴 {value} 元"
  en: "workshop subsidy for {who}: {value} yuan"
- name: per_person_month
  shape: per_period
  per: member
  who: dn_fallback_job_group
  amount: dn.4.3.subsidy_rate
  periods: trainings_this_year
  quantity: per_person_period
  zh: "{who} {value}"
  en: "{who} {value}"
- name: per_worker
  shape: per_day
  per: member
  who: dn_fallback_job_group
  amount: dn.4.3.subsidy_rate
  days: trainings_this_year
  max_days: dn.4.3.max_years
  quantity: per_day
  zh: "{who} {value}"
  en: "{who} {value}"
"""


@pytest.fixture(scope="module")
def kb(tmp_path_factory):
    folder = tmp_path_factory.mktemp("declared") / "policies"
    shutil.copytree(ROOT / "policies", folder, ignore=shutil.ignore_patterns("__pycache__"))
    (folder / "dingnan-2023" / "calculators.yaml").write_text(DECLARED, encoding="utf-8")
    (folder / "dingnan-2023" / "vocabulary.yaml").write_text(WORKSHOP, encoding="utf-8")
    return load(folder)


# A workshop (帮扶车间) as a business record of the document's own facts: workers and months (issue 26, item 1).
WORKSHOP = """\
facts:
- id: workshop_workers
  record: entity
  type: integer
  minimum: 0
  zh: "帮扶车间吸纳搬迁群众多少人?"
  en: "Relocated people the workshop employs?"
- id: workshop_months
  record: entity
  type: integer
  minimum: 0
  zh: "帮扶车间吸纳就业多少个月?"
  en: "Months the workshop has employed them?"
"""


HOUSEHOLDS = [
    {"id": "a", "jurisdiction": "dingnan", "members": [{"age": 30, "labor_capacity": "full", "disability": True,
                                                         "trainings_this_year": 5}],
     "entities": [{"id": "e", "monthly_incubator_fees_yuan": {"property_management": 1000, "rent": 4000},
                   "workshop_workers": 10, "workshop_months": 2}]},
    {"id": "b", "jurisdiction": "dingnan", "members": [{"age": 12, "labor_capacity": "none", "trainings_this_year": 2},
                                                       {"age": 40, "labor_capacity": "partial", "sex": "female",
                                                        "left_behind": True}],
     "entities": [{"id": "big", "monthly_incubator_fees_yuan": {"property_management": 9000, "rent": 9000},
                   "workshop_workers": 100, "workshop_months": 12},
                  {"id": "half", "monthly_incubator_fees_yuan": {"rent": 100}, "workshop_months": 3}]},
]


def _scalar(kb, name: str) -> list[list[tuple[float | None, list[str]]]]:
    ev = Evaluator(kb)
    out = []
    for raw in HOUSEHOLDS:
        record = kb.models.household.model_validate(raw)
        _, program = ev._program_for(record, AS_OF)
        out.append([(a.value, a.missing) for a in ev.calculators[name](program, flatten(record))])
    return out


def test_a_rate_of_a_base_is_capped_and_an_unknown_part_of_the_base_leaves_it_unknown(kb):
    got = _scalar(kb, "fee_share")
    assert got[0] == [(3000.0, [])]  # 60% of 1,000 + 4,000
    assert got[1] == [(10000.0, []), (None, ["entities[1].monthly_incubator_fees_yuan.property_management"])]


def test_a_fixed_sum_is_paid_once_per_household(kb):
    assert _scalar(kb, "per_household") == [[(10000.0, [])], [(10000.0, [])]]


def test_so_much_a_day_is_paid_for_the_members_it_is_for_up_to_the_day_cap(kb):
    got = _scalar(kb, "per_worker")
    assert got[0] == [(180.0, [])]  # 60 a "day" for at most 3 "days" (the Dingnan parameters, reused)
    assert got[1] == [(None, ["members[1].trainings_this_year"])]  # the child is not in the group; the woman's days unknown


def test_rate_times_count_times_periods_is_capped_and_an_unknown_count_leaves_it_unknown(kb):
    # 60 per worker per period, periods at most 3, capped at 10,000 (the Dingnan parameters, reused as data)
    got = _scalar(kb, "workshop_subsidy")
    assert got[0] == [(1200.0, [])]  # 60 × 10 workers × 2 months
    assert got[1] == [(10000.0, []),  # 60 × 100 × min(12, 3) = 18,000, capped at 10,000
                      (None, ["entities[1].workshop_workers"])]


@pytest.mark.parametrize("workers,months,value", [(0, 3, 0.0), (1, 0, 0.0), (55, 3, 9900.0), (56, 3, 10000.0),
                                                  (55, 4, 9900.0)])
def test_the_workshop_subsidy_at_its_boundaries(kb, workers, months, value):
    """55 workers × 3 months × 60 = 9,900, under the cap; 56 would be 10,080, capped; a 4th month is not paid."""
    ev = Evaluator(kb)
    record = kb.models.household.model_validate({"id": "w", "jurisdiction": "dingnan", "entities": [
        {"id": "w1", "workshop_workers": workers, "workshop_months": months}]})
    _, program = ev._program_for(record, AS_OF)
    (amount,) = ev.calculators["workshop_subsidy"](program, flatten(record))
    assert amount.value == value and amount.basis["capped"] is (workers * min(months, 3) * 60 > 10000)


def test_so_much_per_person_per_period_is_paid_for_the_members_it_is_for(kb):
    got = _scalar(kb, "per_person_month")
    assert got[0] == [(300.0, [])]  # 60 × 5 periods, no most
    assert got[1] == [(None, ["members[1].trainings_this_year"])]


@pytest.mark.parametrize("name", ["fee_share", "per_household", "per_worker", "workshop_subsidy", "per_person_month"])
def test_the_screener_form_gives_the_same_figures(kb, name):
    ev = Evaluator(kb)
    records = [kb.models.household.model_validate(raw) for raw in HOUSEHOLDS]
    _, program = ev._program_for(records[0], AS_OF)
    caseload = caseload_from_facts(kb.models, "household", [flatten(r) for r in records], AS_OF)
    scalar = declared_calculators(kb)[0][name]
    params = {role: program.parameters[pid] for role, pid in scalar.reads.items()}
    concepts = {}
    if scalar.uses_concepts:
        vec = VectorEvaluator(kb)
        ci = vec._input(vec.compiled(program), program, caseload, _measure_with(kb, name), np.ones(len(records), bool))
        concepts = ci.member_concepts
    (amount,) = declared_calculators(kb)[1][name].compute(
        ColumnInput(caseload, np.ones(len(records), bool), params, concepts))
    columns = [None if math.isnan(v) else v for v in np.asarray(amount.values, float).tolist()]
    assert columns == [value for row in _scalar(kb, name) for value, _ in row]


def _measure_with(kb, name):
    """A stand-in measure whose rule names the calculator (VectorEvaluator._input reads its concepts by it)."""
    m = kb.measures["dn.4.3.incubation_subsidy"]
    return m.model_copy(update={"rule": m.rule.model_copy(update={"amounts": name})})
