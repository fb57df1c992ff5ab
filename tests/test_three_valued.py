"""Unknown is never false: knowing more can decide an undetermined measure, never flip a decided one."""

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from houfu.engine.evaluate import determine, documents_in_force
from houfu.app.inputs import flatten, resolve_jurisdiction
from houfu.engine.program import build_program, evaluate_plain
from tests.strategies import households, sites

SETTINGS = settings(max_examples=1500, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)


def _forget(record, data):
    """The same record with a random subset of its known facts made unknown."""
    raw = record.model_dump(exclude_none=True)
    for key in [k for k in raw if k not in ("id", "jurisdiction")]:
        if data.draw(st.booleans()):
            del raw[key]
    for m in raw.get("members", []):
        for key in list(m):
            if data.draw(st.booleans()):
                del m[key]
    return type(record).model_validate(raw)


def _truths(kb, record, entity):
    docs = documents_in_force(kb, resolve_jurisdiction(kb, record.jurisdiction, "-"), dt.date(2026, 1, 1))
    return evaluate_plain(kb, build_program(kb, entity, tuple(docs)), flatten(record))


@SETTINGS
@given(households, st.data())
def test_more_household_facts_never_flip_a_decision(kb, full, data):
    partial = _forget(full, data)
    before, after = _truths(kb, partial, "household"), _truths(kb, full, "household")
    flipped = {k: (v, after[k]) for k, v in before.items() if v is not None and after[k] != v}
    assert not flipped


@SETTINGS
@given(sites, st.data())
def test_more_site_facts_never_flip_a_decision(kb, full, data):
    partial = _forget(full, data)
    before, after = _truths(kb, partial, "site"), _truths(kb, full, "site")
    assert not {k for k, v in before.items() if v is not None and after[k] != v}


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(households)
def test_does_not_apply_always_names_a_known_fact_and_undetermined_names_a_missing_one(kb, household):
    for e in determine(kb, household, dt.date(2026, 1, 1))["measures"]:
        if e["status"] == "does_not_apply":
            assert e["failed"], e["id"]
        if e["status"] == "undetermined" and not e.get("not_decidable"):
            assert e["missing"], e["id"]
