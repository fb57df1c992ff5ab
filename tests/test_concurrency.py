"""Evaluation is re-entrant and thread-safe: checks from many threads equal a sequential run."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from houfu.engine.evaluator import Evaluator
from tests.strategies import AS_OF, households, sites


@settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(st.lists(st.one_of(households(), sites()), min_size=25, max_size=25))
def test_concurrent_checks_equal_sequential_ones(kb: Any, drawn: list[Any]) -> None:
    records = drawn * 4  # 100 checks, the same record often in flight on two threads at once
    sequential = [Evaluator(kb).determine(r, AS_OF) for r in records]
    shared = Evaluator(kb)  # one evaluator, its engines compiled under contention
    with ThreadPoolExecutor(max_workers=8) as pool:
        concurrent = list(pool.map(lambda r: shared.determine(r, AS_OF), records))
    for a, b in zip(sequential, concurrent, strict=True):
        # whole reports, traces (``why``) included: no call sees another call's firings
        assert a == b, a.id
