"""Fuzz the input path: households and sites generated from their models (tests/strategies.py), then mutated
(hypothesis-jsonschema does not work with the current hypothesis, so the records come from the same
model-derived strategies as the differential tests).

Whatever the input, the result is a valid report or one clean error (InputError), never anything else.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from houfu.engine.evaluator import evaluator_for
from houfu.engine.results import Report
from houfu.io.inputs import InputError, parse_record
from houfu.io.reader import ReadError, read_bytes
from houfu.kb.facts import Household, Site
from houfu.kb.loader import FieldError
from tests.strategies import AS_OF, households, sites

GARBAGE = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
                    st.text(max_size=30), st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=5),
                                                                                              st.integers(), max_size=2))


@st.composite
def mutated(draw: st.DrawFn, model: type[Household] | type[Site]) -> Any:
    """A valid record, then up to three fields (top level, a member's or an entity's) replaced by garbage."""
    record: dict[str, Any] = draw(households() if model is Household else sites()).model_dump(mode="json",
                                                                                           exclude_none=True)
    for _ in range(draw(st.integers(0, 3))):
        target = record
        lists = [record.get("members"), record.get("entities")]
        nested = [v for items in lists if isinstance(items, list) for v in items if isinstance(v, dict)]
        if nested and draw(st.booleans()):
            target = draw(st.sampled_from(nested))
        key = draw(st.sampled_from(sorted(target) + ["id", "nonsense_field"]))
        target[key] = draw(GARBAGE)
    return record


def _answer(kb: Any, raw: Any, model: type[Household] | type[Site]) -> Report | str:
    try:
        data = read_bytes(json.dumps(raw, ensure_ascii=False).encode(), as_json=True).data
        record = parse_record(data, model, "<fuzz>", kb)
        return evaluator_for(kb).determine(record, AS_OF)
    except (ReadError, InputError) as exc:
        return str(exc)
    except FieldError as exc:
        return str(exc)


SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)


@SETTINGS
@given(mutated(Household))
def test_any_household_gives_a_report_or_one_clean_error(kb: Any, raw: Any) -> None:
    out = _answer(kb, raw, Household)
    assert isinstance(out, Report) or ("\n" not in out and out)


@SETTINGS
@given(mutated(Site))
def test_any_site_gives_a_report_or_one_clean_error(kb: Any, raw: Any) -> None:
    out = _answer(kb, raw, Site)
    assert isinstance(out, Report) or ("\n" not in out and out)
