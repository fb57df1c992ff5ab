"""Statuses that settle (issue 19, items 3 and 5): the vocabulary's ask_if gates are part of the rules, and a site
measure that reaches households is in each household's report.

The rule cases under policies/*/tests hold the statuses at each boundary on both evaluators; these tests hold
what a status says beside it (the gate named as the reason, the through-site flag, the site record's facts) and
that compiling the gates changes no truth value it should not.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import HealthCheck, given, settings

from houfu.engine.evaluator import EngineKind, evaluator_for
from houfu.engine.logic import evaluate_plain
from houfu.engine.program import Gates, Program, Target, concept_order
from houfu.engine.results import Status, TargetKind
from houfu.kb.conditions import Gated, walk
from houfu.kb.loader import KB
from tests.strategies import households

AS_OF = dt.date(2026, 1, 1)


def _report(kb: KB, raw: dict[str, Any], engine: EngineKind = EngineKind.rete) -> Any:
    return evaluator_for(kb).determine(kb.models.household.model_validate(raw), AS_OF, engine)


def _child_and_worker(jurisdiction: str) -> dict[str, Any]:
    return {"id": "h", "jurisdiction": jurisdiction, "site_type": "county_seat_centralized", "entities": [],
            "members": [{"name": "父", "age": 44, "labor_capacity": "full", "employed": True,
                         "employment": "local_enterprise", "wants_job": "none", "wants_to_start_business": False},
                        {"name": "孩", "age": 14, "labor_capacity": "none", "school_stage": "junior_middle"}]}


def test_a_measure_a_gate_rules_out_names_the_gate_and_its_why(kb: KB) -> None:
    for engine in EngineKind:
        d = _report(kb, _child_and_worker("dingnan"), engine).by_id("dn.4.1.labour_export")
        assert d is not None and d.status is Status.does_not_apply and not d.missing
        why = kb.fact_labels["wants_job"].ask_if_why
        assert why and any(f.startswith("members[1].wants_job is not asked (") and why in f and
                           "members[1].age ≥ 16 (is 14)" in f for f in d.failed), d.failed


def test_no_question_is_put_that_its_gate_rules_out(kb: KB) -> None:
    report = _report(kb, _child_and_worker("dingnan"))
    asked = {q.fact for q in report.questions}
    assert not {f for f in asked if f.startswith("members[1].") and f.split(".")[-1] in
                ("wants_job", "employed", "wants_training", "wants_to_start_business", "cannot_work_away")}
    # and no measure waits on such a fact
    gated_out = {"members[1].wants_job", "members[1].employed", "members[1].wants_to_start_business"}
    assert not [d.measure_id for d in report.determinations if gated_out & set(d.missing)]


def test_a_letter_names_only_the_members_a_measure_reaches(kb: KB) -> None:
    raw = {"id": "h", "jurisdiction": "shiyan", "members": [
        {"name": "甲", "age": 30, "labor_capacity": "full", "wants_job": "local", "employed": False},
        {"name": "乙", "age": 15, "labor_capacity": "none", "wants_job": "local"}]}
    d = _report(kb, raw).by_id("sy.5.local_referral")
    assert d is not None and d.status is Status.applies and d.for_members == [0]


def test_a_site_measure_that_reaches_households_is_in_the_household_report_marked_through_site(kb: KB) -> None:
    for engine in EngineKind:
        report = _report(kb, {"id": "h", "jurisdiction": "shiyan", "site_type": "town_centralized"}, engine)
        d = report.by_id("sy.7.urban_standard")
        assert d is not None and d.status is Status.applies and d.through_site and d.subject == "site"
        assert [o.body_id for o in d.owners] == ["sy_localities"]
        assert not any(e.through_site for e in report.determinations if e.measure_id != "sy.7.urban_standard"
                       and e.measure_id != "sy.7.central_village_standard")
    site = evaluator_for(kb).determine(kb.models.site.model_validate(
        {"id": "s", "jurisdiction": "shiyan", "site_type": "town_centralized"}), AS_OF)
    d = site.by_id("sy.7.urban_standard")
    assert d is not None and d.status is Status.applies and not d.through_site


def test_a_named_site_supplies_its_recorded_facts_and_says_so(kb: KB) -> None:
    report = _report(kb, {"id": "h", "jurisdiction": "dingnan", "site": "县城集中安置点", "hukou_at_site": False})
    assert report.site_facts == {"site_type": "county_seat_centralized"}
    d = report.by_id("dn.3.1.residence_permit")
    assert d is not None and d.status is Status.applies
    # the household's own answer is never overridden: a contradiction is used as given, and pointed out
    report = _report(kb, {"id": "h", "jurisdiction": "dingnan", "site": "dingnan_county_seat",
                          "site_type": "town_centralized"})
    assert report.site_facts == {}
    assert [w.code for w in report.warnings] == ["site_record_differs"]
    assert report.warnings[0].fields == ["site_type", "site"]
    d = report.by_id("dn.3.1.residence_permit")
    assert d is not None and d.status is Status.out_of_scope


def test_every_gated_test_of_the_shipped_rules_names_its_fact_and_why(kb: KB) -> None:
    ev = evaluator_for(kb)
    gated = 0
    for docs in (("dingnan-2023",), ("shiyan-2019",)):
        program = ev.program("household", docs)
        for t in program.targets:
            for node, _ in walk(t.when):
                if isinstance(node, Gated):
                    gated += 1
                    assert node.fact in kb.fact_labels and node.why == kb.fact_labels[node.fact].ask_if_why
    assert gated > 10


def _program(kb: KB, gates: Gates) -> Program:
    """Every household rule (and site rule that reaches households) of the knowledge base, compiled with ``gates``."""
    concepts = {n: gates.apply(c.when) for n, c in kb.concepts.items()}
    targets = [Target(TargetKind.concept, n, "", "", "", concepts[n]) for n in concept_order(concepts, list(concepts))]
    for m in kb.measures.values():
        if m.rule is None or not (m.rule.entity == "household" or m.reaches == "households"):
            continue
        for kind, cond in ((TargetKind.measure, m.rule.when), (TargetKind.satisfied, m.rule.satisfied_if)):
            if cond is not None:
                targets.append(Target(kind, m.id, "", "", "", gates.apply(cond)))
    return Program("household", ("all",), tuple(targets), concepts,
                   {pid: p.value for pid, p in kb.parameters.items()}, gates.all())


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(households())
def test_leaving_out_gate_tests_an_all_of_already_holds_changes_no_truth_value(kb: KB, household: Any) -> None:
    """The compiler drops a gate's test where a conjunct around it holds the same test (to keep durable-rules
    patterns small); evaluated plainly, every rule is the same with and without that."""
    facts, _ = evaluator_for(kb).facts(household, dt.date(2026, 1, 1))
    simplified, full = _program(kb, Gates(kb.fact_labels)), _program(kb, Gates(kb.fact_labels, simplify=False))
    assert simplified.targets != full.targets  # something was left out
    assert evaluate_plain(simplified, facts) == evaluate_plain(full, facts)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(households())
def test_a_report_explains_what_each_engine_found_false_as_the_checked_explanation_does(kb: KB,
                                                                                       household: Any) -> None:
    """A report hands the failed-tests walk the conditions its evaluation found false without deciding them again
    (``known_false``, issue 25): for every engine's false targets that must give what the checked walk gives."""
    from houfu.engine.logic import failed_tests

    ev = evaluator_for(kb)
    for engine in EngineKind:
        program, facts, results, _ = ev.truths(household, AS_OF, engine)
        concepts = {t.name: results[t.key] for t in program.concept_targets}
        for t in program.targets:
            if results[t.key] is False:
                assert failed_tests(program, t.when, facts, concepts, known_false=True) == failed_tests(
                    program, t.when, facts, concepts), (engine, t.key)
