"""The durable-rules engine must agree with the plain reference evaluator, target by target."""

import os

from hypothesis import HealthCheck, given, settings

from houfu.engine.evaluate import documents_in_force, engine_for
from houfu.app.inputs import flatten, resolve_jurisdiction
from houfu.engine.program import build_program, evaluate_plain
from tests.strategies import households, sites

EXAMPLES = int(os.environ.get("HOUFU_DIFF_EXAMPLES", "5000"))


def _compare(kb, record, entity):
    import datetime as dt

    docs = documents_in_force(kb, resolve_jurisdiction(kb, record.jurisdiction, "-"), dt.date(2026, 1, 1))
    program = build_program(kb, entity, tuple(docs))
    facts = flatten(record)
    rete, _ = engine_for(kb, program).evaluate(facts)
    plain = evaluate_plain(kb, program, facts)
    diffs = {k: (rete[k], plain[k]) for k in plain if rete[k] != plain[k]}
    assert not diffs, f"engine and reference disagree on {record.model_dump(exclude_none=True)}: {diffs}"


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(households)
def test_households_agree(kb, household):
    _compare(kb, household, "household")


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(sites)
def test_sites_agree(kb, site):
    _compare(kb, site, "site")
