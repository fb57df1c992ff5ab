"""Benchmark (a script, not a test): a warm check with the failed tests explained by the compiled walkers
(`engine.logic.failed_tests`, the default) against the tree walk they replaced (`failed_tests_plain`), issue 25.

    python benchmarks/bench_explanations.py [BLOCKS] [CHECKS]     (default 60 blocks of 50 checks)

Both run in this one process, in alternating blocks, so the machine's speed (which drifts on a shared host) is the
same for both; each block's checks are timed one by one and the median and minimum of all are printed.
"""

from __future__ import annotations

import datetime as dt
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
EXAMPLE = ROOT / "examples" / "dingnan-household.yaml"


def main() -> None:
    import yaml

    import houfu
    import houfu.engine.evaluator as evaluator_module
    from houfu.engine.logic import failed_tests, failed_tests_plain

    blocks = int(sys.argv[1]) if len(sys.argv) > 1 else 60
    checks = int(sys.argv[2]) if len(sys.argv) > 2 else 50
    kb = houfu.load()
    ev = houfu.evaluator(kb)
    household = kb.models.household.model_validate(yaml.safe_load(EXAMPLE.read_text(encoding="utf-8")))
    as_of = dt.date(2026, 1, 1)
    variants = {"tree walk (failed_tests_plain)": failed_tests_plain,
                "compiled walkers (failed_tests, the default)": failed_tests}
    reports = []
    for fn in variants.values():
        evaluator_module.failed_tests = fn  # type: ignore[attr-defined]
        reports.append(ev.determine(household, as_of).model_dump())
    assert reports[0] == reports[1], "the two explanations give different reports"
    for _ in range(300):
        ev.determine(household, as_of)
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(blocks):
        for name, fn in variants.items():
            evaluator_module.failed_tests = fn  # type: ignore[attr-defined]
            for _ in range(checks):
                t = time.perf_counter()
                ev.determine(household, as_of)
                times[name].append(time.perf_counter() - t)
    evaluator_module.failed_tests = failed_tests  # type: ignore[attr-defined]
    for name, got in times.items():
        print(f"{name}: median {statistics.median(got) * 1000:.3f} ms, min {min(got) * 1000:.3f} ms "
              f"over {len(got):,} checks")


if __name__ == "__main__":
    main()
