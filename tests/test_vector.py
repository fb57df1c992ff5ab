"""The column evaluator (engine.columns / engine.vector) is a third evaluator of the same rule data: it must
give every household and site the same status, the same missing facts and the same amounts as the reference
evaluator, and the same truth values as durable-rules, on generated caseloads and generated rule programs.

``HOUFU_DIFF_EXAMPLES`` scales it with the other differential tests (slow mode: 100,000 records per kind).
"""

from __future__ import annotations

import datetime as dt
import math
import os
from collections import defaultdict
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from houfu.engine.columns import ColumnProgram, caseload_from_facts, truth_values
from houfu.engine.evaluator import EngineKind, evaluator_for, flatten
from houfu.engine.logic import evaluate_plain
from houfu.engine.program import Program
from houfu.engine.rete import ProgramTooLarge, ReteEngine
from houfu.engine.vector import STATUSES, VectorEvaluator
from houfu.kb.facts import Site
from houfu.kb.loader import load_default
from tests.strategies import AS_OF, households, programs, sites

EXAMPLES = int(os.environ.get("HOUFU_DIFF_EXAMPLES", "5000"))
BATCH = 100
RETE_PER_BATCH = 5  # durable-rules is slow; it is held to the reference on every record elsewhere
SETTINGS: dict[str, Any] = dict(deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
COUNT = {"household": 0, "site": 0}


def _amounts_by_row(decisions: Any, caseload: Any) -> dict[tuple[int, str], list[tuple[str, float | None]]]:
    out: dict[tuple[int, str], list[tuple[str, float | None]]] = defaultdict(list)
    for ma in decisions.amounts:
        mid = decisions.measures[ma.measure]
        for a in ma.amounts:
            owner = (np.asarray(a.rows) if a.level == "main" else
                     caseload.members.owner[a.rows] if a.level == "members" else caseload.entities.owner[a.rows])
            for row, value in zip(owner.tolist(), np.asarray(a.values, dtype=float).tolist(), strict=True):
                out[(row, mid)].append((a.quantity, None if math.isnan(value) else round(value, 2)))
    return out


def _check_batch(kb: Any, records: list[Any], as_of: dt.date = AS_OF) -> None:
    ev = evaluator_for(kb)
    vec = VectorEvaluator(kb)
    groups: dict[int, list[int]] = defaultdict(list)
    programs_: dict[int, Program] = {}
    for i, r in enumerate(records):
        _, program = ev._program_for(r, as_of)
        groups[id(program)].append(i)
        programs_[id(program)] = program
    for key, rows in groups.items():
        program = programs_[key]
        entity = "site" if isinstance(records[rows[0]], Site) else "household"
        # With what a named site's record says (as the screener reads it); ages from dates of birth are left to
        # the column evaluator to derive.
        facts = [dict(flatten(records[i]), **ev.facts(records[i], as_of)[1]) for i in rows]
        caseload = caseload_from_facts(ev.kb.models, entity, facts, as_of)
        decisions = VectorEvaluator.decide(vec, program, caseload, as_of)
        amounts = _amounts_by_row(decisions, caseload)
        missing = {j: decisions.missing_lists(j) for j in range(len(decisions.measures))}
        truths = ColumnProgram(program).evaluate(caseload)
        for k, i in enumerate(rows):
            report = ev.determine(records[i], as_of, EngineKind.plain)
            COUNT[entity] += 1
            assert [d.measure_id for d in report.determinations] == decisions.measures
            for j, d in enumerate(report.determinations):
                got = STATUSES[decisions.status[k, j]]
                where = f"{d.measure_id} for {records[i].model_dump(exclude_none=True)}"
                assert got is d.status, f"status {got} != {d.status}: {where}"
                assert missing[j].get(k, []) == sorted(d.missing), f"missing {missing[j].get(k)} != {d.missing}: {where}"
                ref = [(a.quantity, None if a.value is None else round(a.value, 2)) for a in d.amounts]
                assert sorted(amounts.get((k, d.measure_id), []), key=str) == sorted(ref, key=str), \
                    f"amounts {amounts.get((k, d.measure_id))} != {ref}: {where}"
            if k < RETE_PER_BATCH:
                rete, _ = ev.rete(program).evaluate(facts[k])
                column = {t: truth_values(m)[k] for t, m in truths.items()}
                assert column == rete, f"columns and durable-rules disagree on {records[i]}"


# Hypothesis cannot draw a hundred households at once, so records are drawn one by one and checked a
# batch at a time, as a caseload; the last, partial batch is checked by the flush test below.
PENDING: dict[str, list[Any]] = {"household": [], "site": []}


def _add(kb: Any, entity: str, record: Any) -> None:
    PENDING[entity].append(record)
    if len(PENDING[entity]) >= BATCH:
        batch, PENDING[entity] = PENDING[entity], []
        _check_batch(kb, batch)


@settings(max_examples=EXAMPLES, **SETTINGS)
@given(households())
def test_household_caseloads_agree_with_the_reference_and_durable_rules(kb: Any, household: Any) -> None:
    _add(kb, "household", household)


@settings(max_examples=EXAMPLES, **SETTINGS)
@given(sites())
def test_site_caseloads_agree_with_the_reference_and_durable_rules(kb: Any, site: Any) -> None:
    _add(kb, "site", site)


def test_the_last_partial_batches_agree_too(kb: Any) -> None:
    for entity, batch in PENDING.items():
        PENDING[entity] = []
        if batch:
            _check_batch(kb, batch)


#: Days where a quota's periods or an age turn: the documents' first days and the days before, the last and first
#: day of a quarter and of a year, the end of a partial first period.
AS_OFS = [dt.date(2019, 9, 15), dt.date(2019, 9, 16), dt.date(2019, 12, 31), dt.date(2020, 1, 1),
          dt.date(2023, 7, 16), dt.date(2023, 7, 17), dt.date(2023, 9, 30), dt.date(2023, 10, 1),
          dt.date(2024, 1, 1), dt.date(2024, 12, 31), dt.date(2025, 1, 1), dt.date(2025, 4, 1), AS_OF]


@settings(max_examples=max(20, EXAMPLES // 100), **SETTINGS)
@given(st.lists(sites(), min_size=25, max_size=25), st.sampled_from(AS_OFS))
def test_sites_agree_on_every_day_a_period_turns(kb: Any, batch: list[Any], as_of: dt.date) -> None:
    _check_batch(kb, batch, as_of)


@settings(max_examples=max(20, EXAMPLES // 100), **SETTINGS)
@given(st.lists(households(), min_size=25, max_size=25), st.sampled_from(AS_OFS))
def test_households_agree_on_other_days_with_ages_from_dates_of_birth(kb: Any, batch: list[Any],
                                                                     as_of: dt.date) -> None:
    _check_batch(kb, batch, as_of)


RECORDS_PER_PROGRAM = 40
PAIRS = {"compared": 0}


def _check_program(program: Program, records: list[Any], entity: str) -> None:
    facts = [flatten(r) for r in records]
    truths = ColumnProgram(program).evaluate(caseload_from_facts(load_default().models, entity, facts, AS_OF))
    try:
        engine: ReteEngine | None = ReteEngine(program)
    except ProgramTooLarge:
        engine = None
    for k, f in enumerate(facts):
        plain = evaluate_plain(program, f)
        column = {t: truth_values(m)[k] for t, m in truths.items()}
        assert column == plain, f"columns and reference disagree\nprogram: {program.targets}\nrecord: {f}"
        if engine is not None and k < RETE_PER_BATCH:
            assert column == engine.evaluate(f)[0]
        PAIRS["compared"] += 1


@settings(max_examples=max(50, EXAMPLES // RECORDS_PER_PROGRAM), **SETTINGS)
@given(programs("household"), st.lists(households(), min_size=RECORDS_PER_PROGRAM, max_size=RECORDS_PER_PROGRAM))
def test_generated_household_programs_agree_over_columns(program: Program, records: list[Any]) -> None:
    _check_program(program, records, "household")


@settings(max_examples=max(25, EXAMPLES // RECORDS_PER_PROGRAM // 2), **SETTINGS)
@given(programs("site"), st.lists(sites(), min_size=RECORDS_PER_PROGRAM, max_size=RECORDS_PER_PROGRAM))
def test_generated_site_programs_agree_over_columns(program: Program, records: list[Any]) -> None:
    _check_program(program, records, "site")


def test_the_three_way_run_compared_every_record_it_generated() -> None:
    # Runs after the tests above in file order: the counts prove they ran at the size asked for.
    assert COUNT["household"] >= EXAMPLES * 0.9 and COUNT["site"] >= EXAMPLES * 0.9
    assert PAIRS["compared"] > 0


@given(st.lists(st.lists(st.integers(0, 40), max_size=30), min_size=1, max_size=5))
def test_the_rows_several_walks_find_a_fact_missing_on_are_each_row_once_in_order(runs: list[list[int]]) -> None:
    from houfu.engine.columns import _union

    arrays = [np.array(sorted(set(r)), dtype=np.intp) for r in runs]
    got = _union(arrays)
    assert got.tolist() == sorted({x for r in runs for x in r}) and got.dtype == np.intp


def test_a_decided_part_leaves_no_masks_behind_for_the_next_to_stack_on(kb: Any) -> None:
    """A decide lets go of its evaluation's masks (several MB a part) when it is done, so the screener's next part
    does not make its own on top of them; and a program asked for missing facts before any evaluation says so
    rather than reading another part's masks."""
    ev = evaluator_for(kb)
    vec = VectorEvaluator(kb)
    _, program = ev._program_for(kb.models.household(id="h", jurisdiction="定南县"), AS_OF)
    caseload = caseload_from_facts(kb.models, "household", [{}, {"sudden_hardship": True}], AS_OF)
    cp = vec.compiled(program)
    decisions = vec.decide(program, caseload, AS_OF)
    assert decisions.missing  # the missing facts were found from the masks before they were let go
    assert cp._ctx is None
    key = next(iter(cp.nodes))
    try:
        cp.missing(caseload, key, np.ones(2, bool))
    except ValueError as exc:
        assert "evaluation first" in str(exc)
    else:
        raise AssertionError("missing() read masks no evaluation had made")
    cp.evaluate(caseload)
    assert cp._ctx is not None  # evaluate alone keeps them for missing()
