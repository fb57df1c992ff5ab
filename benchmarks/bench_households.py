"""Benchmark (a script, not a test): households per second and peak memory, plus one cold check.

Usage: python benchmarks/bench_households.py [N] [RUNS]   (default 100000 households, 3 runs)
Prints the minimum and the median over the runs.
"""

import random
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import houfu
from houfu.kb.facts import Household


def synthetic(i: int, rng: random.Random) -> Household:
    members = [{"age": rng.choice([4, 15, 16, 30, 45, 70]), "labor_capacity": rng.choice(["full", "partial", "none"]),
                "employed": rng.random() < 0.5, "wants_job": rng.choice(["none", "local", "outside_county"]),
                "trainings_this_year": rng.randint(0, 2), "disability": rng.random() < 0.1}
               for _ in range(rng.randint(1, 5))]
    return houfu.load().models.household.model_validate({
        "id": f"B{i}", "jurisdiction": rng.choice(["dingnan", "shiyan", "郧阳区"]),
        "site_type": rng.choice(["county_seat_centralized", "town_centralized", "scattered"]),
        "category": rng.choice(["registered_poor", "co_relocated"]), "hukou_at_site": rng.random() < 0.5,
        "enrolled_medical_insurance": rng.random() < 0.9, "sudden_hardship": rng.random() < 0.05,
        "members": members})


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    evaluator = houfu.evaluator()
    rates = []
    statuses = 0
    for _ in range(runs):
        rng = random.Random(7)
        start = time.perf_counter()
        statuses = 0
        for i in range(n):
            statuses += len(evaluator.determine(synthetic(i, rng)).determinations)
        rates.append(n / (time.perf_counter() - start))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"households: {n} x {runs} runs, households/s min {min(rates):.0f} median {statistics.median(rates):.0f}, "
          f"determinations per run: {statuses}, peak RSS: {peak_mb:.0f} MB")
    cli = Path(sys.executable).with_name("houfu")
    example = Path(__file__).resolve().parents[1] / "examples" / "dingnan-household.yaml"
    cold = []
    for _ in range(5):
        t0 = time.perf_counter()
        subprocess.run([str(cli), "check", str(example), "--json"], check=True, capture_output=True)
        cold.append(time.perf_counter() - t0)
    print(f"cold `houfu check` (new process, 5 runs): min {min(cold):.2f} s, median {statistics.median(cold):.2f} s")


if __name__ == "__main__":
    main()
