"""The result models built without validation (``_Result.trusted``, issue 25) are the models validation builds.

A warm check builds its determinations with ``trusted``: the names are checked, the types are the evaluator's to
keep. These tests hold every report of the bundled examples and of generated households and sites to its own
validated round trip, field for field and byte for byte in JSON, with pydantic's serialiser warnings (a value of
the wrong type) as errors.
"""

from __future__ import annotations

import datetime as dt
import warnings
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings

from houfu.engine.evaluator import evaluator_for
from houfu.engine.results import Determination, Owner, Report, Status
from tests.strategies import AS_OF, households, sites

ROOT = Path(__file__).resolve().parent.parent
SETTINGS: dict[str, Any] = dict(deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)


def _held_to_its_round_trip(report: Report) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # PydanticSerializationUnexpectedValue: a field holds the wrong type
        text = report.model_dump_json()
        back = Report.model_validate_json(text)
        assert back == report
        assert back.model_dump_json() == text
        for made in report.determinations:
            again = Determination.model_validate(made.model_dump())
            assert again == made
            assert again.model_dump_json() == made.model_dump_json()


def _examples(kb: Any) -> list[Any]:
    out = []
    for path in sorted((ROOT / "examples").glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or "jurisdiction" not in data:
            continue  # a batch, a ledger's mapping, a county's clocks
        model = kb.models.household if "members" in data else kb.models.site
        out.append(model.model_validate(data))
    return out


def test_every_bundled_examples_report_is_what_validation_would_build(kb: Any) -> None:
    records = _examples(kb)
    assert len(records) >= 8  # the households and sites of examples/
    ev = evaluator_for(kb)
    for record in records:
        _held_to_its_round_trip(ev.determine(record, dt.date(2026, 1, 1)))


@settings(max_examples=300, **SETTINGS)
@given(households())
def test_a_generated_households_report_is_what_validation_would_build(kb: Any, household: Any) -> None:
    _held_to_its_round_trip(evaluator_for(kb).determine(household, AS_OF))


@settings(max_examples=150, **SETTINGS)
@given(sites())
def test_a_generated_sites_report_is_what_validation_would_build(kb: Any, site: Any) -> None:
    _held_to_its_round_trip(evaluator_for(kb).determine(site, AS_OF))


def test_trusted_refuses_a_name_the_model_does_not_have() -> None:
    with pytest.raises(TypeError, match="unknown.*'hanldes'"):
        Owner.trusted(body_id="x", name="县民政局", role="lead", hanldes=True)


def test_trusted_refuses_a_missing_required_field() -> None:
    with pytest.raises(TypeError, match="missing.*'role'"):
        Owner.trusted(body_id="x", name="县民政局")


def test_trusted_gives_each_instance_its_own_default_lists() -> None:
    base = dict(measure_id="m", document="d", clause_id="c", clause_number="一", heading="h", zh="z", en="e",
                subject="household", force="directive", quote="q", binds_household=False, owners=[], parameters=[])
    one, two = Determination.trusted(status=Status.applies, **base), Determination.trusted(status=Status.applies, **base)
    assert one.missing == [] and one.missing is not two.missing and one.why is not two.why
    validated = Determination(status=Status.applies, **base)
    assert one == validated and one.model_fields_set == validated.model_fields_set
    assert list(one.model_dump()) == list(Determination.model_fields)  # written in the model's order


def test_a_policy_folders_calculator_returning_plain_dicts_still_gives_amounts(kb: Any) -> None:
    """A county's calculators.py is not houfu's code: what it returns is validated (Calculator.__call__), since
    the report takes its amounts as they are."""
    import dataclasses

    from houfu.engine.evaluator import Evaluator
    from houfu.engine.results import Amount

    record = _examples_named(kb, "dingnan-incubator-business.yaml")
    ev = Evaluator(kb)
    given = ev.calculators["incubation_subsidy"]
    as_dicts = dataclasses.replace(given, compute=lambda inp: tuple(a.model_dump() for a in given.compute(inp)))
    ev.calculators = {**ev.calculators, "incubation_subsidy": as_dicts}
    report = ev.determine(record, dt.date(2026, 1, 1))
    amounts = next(d.amounts for d in report.determinations if d.amounts)
    assert type(amounts) is list and all(type(a) is Amount for a in amounts)
    assert report == evaluator_for(kb).determine(record, dt.date(2026, 1, 1))
    _held_to_its_round_trip(report)


def test_each_report_has_its_own_lists_of_owners_and_parameters(kb: Any) -> None:
    """The static parts of a determination are kept per measure; a report changed in place (a caller's own
    business) must not change the next one."""
    record = _examples_named(kb, "dingnan-household.yaml")
    ev = evaluator_for(kb)
    first = ev.determine(record, dt.date(2026, 1, 1))
    owned = next(d for d in first.determinations if d.owners)
    count = len(owned.owners)
    owned.owners.clear()
    again = ev.determine(record, dt.date(2026, 1, 1)).by_id(owned.measure_id)
    assert again is not None and len(again.owners) == count


@settings(max_examples=200, **SETTINGS)
@given(households())
def test_the_explanations_memo_is_right_when_each_lookup_makes_new_member_records(kb: Any, household: Any) -> None:
    """``failed_tests`` keeps truths by the facts' identity; facts that make a new member dict at every lookup
    (a Mapping may) must not be told another member's truth."""
    from collections.abc import Iterator, Mapping

    from houfu.engine.logic import failed_tests, failed_tests_plain
    from houfu.engine.results import TargetKind

    class Fresh(Mapping[str, Any]):
        def __init__(self, facts: dict[str, Any]):
            self.facts = facts

        def __getitem__(self, key: str) -> Any:
            value = self.facts[key]
            return [dict(x) for x in value] if isinstance(value, list) else value

        def __iter__(self) -> Iterator[str]:
            return iter(self.facts)

        def __len__(self) -> int:
            return len(self.facts)

    program, facts, values, _ = evaluator_for(kb).truths(household, AS_OF)
    concepts = {t.name: values[t.key] for t in program.targets if t.kind is TargetKind.concept}
    for t in program.targets:
        if values[t.key] is False:
            assert failed_tests(program, t.when, Fresh(facts), concepts) == \
                failed_tests_plain(program, t.when, facts, concepts), t.key


def _examples_named(kb: Any, name: str) -> Any:
    data = yaml.safe_load((ROOT / "examples" / name).read_text(encoding="utf-8"))
    return kb.models.household.model_validate(data)
