"""Benchmark (a script, not a test): households per second and peak memory, plus one cold check.

Usage: python benchmarks/bench_households.py [N]   (default 100000)
"""

import random
import resource
import subprocess
import sys
import time
from pathlib import Path

from houfu.engine.evaluate import determine
from houfu.kb.facts import Household
from houfu.kb.loader import load_default


def synthetic(i: int, rng: random.Random) -> Household:
    members = [{"age": rng.choice([4, 15, 16, 30, 45, 70]), "labor_capacity": rng.choice(["full", "partial", "none"]),
                "employed": rng.random() < 0.5, "wants_job": rng.choice(["none", "local", "outside_county"]),
                "trainings_this_year": rng.randint(0, 2), "disability": rng.random() < 0.1}
               for _ in range(rng.randint(1, 5))]
    return Household.model_validate({
        "id": f"B{i}", "jurisdiction": rng.choice(["dingnan", "shiyan", "郧阳区"]),
        "site_type": rng.choice(["county_seat_centralized", "town_centralized", "scattered"]),
        "category": rng.choice(["registered_poor", "co_relocated"]), "hukou_at_site": rng.random() < 0.5,
        "enrolled_medical_insurance": rng.random() < 0.9, "sudden_hardship": rng.random() < 0.05,
        "members": members})


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    kb = load_default()
    rng = random.Random(7)
    start = time.perf_counter()
    statuses = 0
    for i in range(n):
        statuses += len(determine(kb, synthetic(i, rng))["measures"])
    elapsed = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"households: {n}, seconds: {elapsed:.1f}, households/s: {n / elapsed:.0f}, "
          f"determinations: {statuses}, peak RSS: {peak_mb:.0f} MB")
    houfu = Path(sys.executable).with_name("houfu")
    example = Path(__file__).resolve().parents[1] / "examples" / "dingnan-household.yaml"
    t0 = time.perf_counter()
    subprocess.run([str(houfu), "check", str(example), "--json"], check=True, capture_output=True)
    print(f"cold `houfu check` (new process): {time.perf_counter() - t0:.2f} s")


if __name__ == "__main__":
    main()
