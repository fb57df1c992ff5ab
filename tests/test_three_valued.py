"""Unknown is never false: knowing more can decide an undetermined measure, never flip a decided one."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from houfu.engine.evaluator import EngineKind, evaluator_for
from houfu.engine.results import Status
from tests.strategies import AS_OF, consistent, households, sites

SETTINGS = settings(max_examples=1500, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)


def _forget(record: Any, data: Any) -> Any:
    """The same record with a random subset of its known facts made unknown (the full record's age and date of
    birth made to agree first: see ``consistent``)."""
    raw = record.model_dump(exclude_none=True)
    for key in [k for k in raw if k not in ("id", "jurisdiction")]:
        if data.draw(st.booleans()):
            del raw[key]
    for m in raw.get("members", []):
        for key in list(m):
            if data.draw(st.booleans()):
                del m[key]
    return type(record).model_validate(raw)


def _truths(kb: Any, record: Any) -> dict[str, Any]:
    return evaluator_for(kb).truths(record, AS_OF, EngineKind.plain)[2]


@SETTINGS
@given(households(), st.data())
def test_more_household_facts_never_flip_a_decision(kb: Any, full: Any, data: Any) -> None:
    full = consistent(full)
    partial = _forget(full, data)
    before, after = _truths(kb, partial), _truths(kb, full)
    flipped = {k: (v, after[k]) for k, v in before.items() if v is not None and after[k] != v}
    assert not flipped


@SETTINGS
@given(sites(), st.data())
def test_more_site_facts_never_flip_a_decision(kb: Any, full: Any, data: Any) -> None:
    partial = _forget(full, data)
    before, after = _truths(kb, partial), _truths(kb, full)
    assert not {k for k, v in before.items() if v is not None and after[k] != v}


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(households())
def test_does_not_apply_always_names_a_known_fact_and_undetermined_names_a_missing_one(kb: Any, household: Any) -> None:
    for e in evaluator_for(kb).determine(household, AS_OF).determinations:
        if e.status is Status.does_not_apply:
            assert e.failed, e.measure_id
        if e.status is Status.undetermined and not e.not_decidable:
            assert e.missing, e.measure_id


#: Moves a status may make when more facts are known: from a non-verdict to anything; from "applies"
#: (covered, fulfilment unknown) to "satisfied" (covered and already met); and from "does_not_apply" to
#: "out_of_scope" (still not for this household, now because the whole document does not cover it).
REFINES = {Status.undetermined: set(Status), Status.not_due: set(Status), Status.applies: {Status.satisfied},
           Status.does_not_apply: {Status.out_of_scope}}


def _statuses(kb: Any, record: Any, engine: EngineKind) -> dict[str, Status]:
    report = evaluator_for(kb).determine(record, AS_OF, engine)
    return {d.measure_id: d.status for d in report.determinations}


def _refines_only(kb: Any, full: Any, data: Any) -> None:
    full = consistent(full)
    partial = _forget(full, data)
    before, after = _statuses(kb, partial, EngineKind.plain), _statuses(kb, full, EngineKind.plain)
    overturned = {k: (v, after[k]) for k, v in before.items() if after[k] != v and after[k] not in REFINES.get(v, set())}
    assert not overturned


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(households(), st.data())
def test_more_household_facts_only_refine_a_status(kb: Any, full: Any, data: Any) -> None:
    _refines_only(kb, full, data)


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(sites(), st.data())
def test_more_site_facts_only_refine_a_status(kb: Any, full: Any, data: Any) -> None:
    _refines_only(kb, full, data)


@settings(max_examples=600, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(st.one_of(households(), sites()))
def test_both_evaluators_give_the_same_status_for_every_measure(kb: Any, record: Any) -> None:
    assert _statuses(kb, record, EngineKind.rete) == _statuses(kb, record, EngineKind.plain)
