"""Benchmark (a script, not a test): the single household, cold and warm (issue 25).

    python benchmarks/bench_check.py [RUNS] [CHECKS]      (default 5 runs, 2,000 warm checks a run)

- **cold**: `houfu check examples/dingnan-household.yaml` as a whole new process, RUNS times after one run that
  fills the KB cache (houfu.kb.cache); wall time and CPU time (user + system) of each. The first run after an
  edit of the policy files (the cache rebuilt) is timed apart, and so is a run with HOUFU_CACHE=off.
- **warm**: `Evaluator.determine` of the same household (a full Report: statuses, reasons, missing facts,
  owners, the firing trace) in this process, with the default engine (the compiled closures) and with
  durable-rules; each run's median of CHECKS checks.

Minimum and median over the runs are printed, with the load average before and after (the machine is shared),
then the README's table rows.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "dingnan-household.yaml"


def _process(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, env=env)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def cold(runs: int) -> dict[str, tuple[float, float, float, float]]:
    houfu = str(Path(sys.executable).with_name("houfu"))
    argv = [houfu, "check", str(EXAMPLE), "--as-of", "2026-01-01"]
    # houfu's own modules compiled once, as an installed wheel has them (the shared venv sets
    # PYTHONDONTWRITEBYTECODE, which would otherwise compile every module of houfu on every run).
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "houfu")], check=True,
                   stdout=subprocess.DEVNULL)
    out = {}
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "HOUFU_CACHE": cache}
        first = [_process(argv, env)]  # fills the cache: the first run after an edit of the policy files
        timed = [_process(argv, env) for _ in range(runs)]
        off = [_process(argv, {**env, "HOUFU_CACHE": "off"}) for _ in range(max(3, runs // 2))]
    for name, got in (("cold check", timed), ("cold check, cache rebuilt", first), ("cold check, no cache", off)):
        walls, cpus = [w for w, _ in got], [c for _, c in got]
        out[name] = (min(walls), statistics.median(walls), min(cpus), statistics.median(cpus))
    return out


def warm(runs: int, checks: int) -> dict[str, tuple[float, float]]:
    import yaml

    import houfu
    from houfu.engine.evaluator import EngineKind

    kb = houfu.load()
    evaluator = houfu.evaluator(kb)
    household = kb.models.household.model_validate(yaml.safe_load(EXAMPLE.read_text(encoding="utf-8")))
    as_of = dt.date(2026, 1, 1)
    out = {}
    for name, engine in (("warm check (compiled closures, the default)", EngineKind.compiled),
                         ("warm check (durable-rules)", EngineKind.rete)):
        for _ in range(200):
            evaluator.determine(household, as_of, engine)
        medians = []
        for _ in range(runs):
            times = []
            for _ in range(checks):
                t = time.perf_counter()
                evaluator.determine(household, as_of, engine)
                times.append(time.perf_counter() - t)
            medians.append(statistics.median(times) * 1000)
        out[name] = (min(medians), statistics.median(medians))
    return out


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    checks = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    load_before = os.getloadavg()[0]
    c = cold(runs)
    w = warm(runs, checks)
    load_after = os.getloadavg()[0]
    for name, (wmin, wmed, cmin, cmed) in c.items():
        print(f"{name}: wall min {wmin:.3f} s, median {wmed:.3f} s; CPU min {cmin:.3f} s, median {cmed:.3f} s")
    for name, (lo, med) in w.items():
        print(f"{name}: median of each run's {checks} checks: min {lo:.3f} ms, median {med:.3f} ms")
    when = f"{dt.date.today().isoformat()}, {platform.node() or 'this machine'} ({os.cpu_count()} cores), load " \
           f"{load_before:.1f}-{load_after:.1f}"
    print()
    print("| figure | target | min / median | measured |")
    print("|---|---|---|---|")
    wmin, wmed, cmin, cmed = c["cold check"]
    print(f"| cold `houfu check FILE` (whole process; CPU time) | ≤ 0.25 s | {wmin:.2f} / {wmed:.2f} s "
          f"({cmin:.2f} / {cmed:.2f} s CPU) | {when} |")
    wmin, wmed, cmin, cmed = c["cold check, no cache"]
    print(f"| the same, `HOUFU_CACHE=off` | | {wmin:.2f} / {wmed:.2f} s ({cmin:.2f} / {cmed:.2f} s CPU) | {when} |")
    lo, med = w["warm check (compiled closures, the default)"]
    print(f"| warm check (`Evaluator.determine`, full report) | ≤ 1 ms | {lo:.2f} / {med:.2f} ms | {when} |")
    lo, med = w["warm check (durable-rules)"]
    print(f"| the same on durable-rules | | {lo:.2f} / {med:.2f} ms | {when} |")


if __name__ == "__main__":
    main()
