"""benchmarks/bench_floors.py runs on a small caseload and accounts for each step it names (issue 25's floors)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_floors_script_times_each_step_and_sets_the_run_against_each_target(tmp_path):
    got = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_floors.py"), "3000", "1", "--keep",
                          str(tmp_path), "--jsonl"], capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert got.returncode == 0, got.stderr
    # each step's median µs a household (the CPU seconds of a small caseload round to 0.00)
    rows = dict(re.findall(r"^\| ([^|]+?) \| [\d.]+ / [\d.]+ \| ([\d.]+) \|$", got.stdout, re.M))
    steps = ["the Parquet decode alone (the columns read)", "pre-pass", "loading the parts (reading thread)",
             "deciding (deciding thread)", "writing the wide file (writing thread)", "the whole run: process CPU",
             "the whole run: wall", "JSON Lines, Arrow's parse alone: process CPU"]
    assert [s for s in steps if s not in rows] == []
    assert all(float(rows[s]) > 0 for s in steps)
    # the steps run on the run's threads: none of them is more than the process used
    assert max(float(rows[s]) for s in steps[1:5]) <= float(rows["the whole run: process CPU"])
    assert "Parquet, 1 worker: 500,000 households/s on 2 cores allows 0.01 CPU-s for 3,000" in got.stdout
    assert re.search(r"^JSON Lines: 150,000 households/s on 2 cores allows 0.04 CPU-s for 3,000", got.stdout, re.M)
    assert (tmp_path / "n3000" / "households.parquet").exists() and (tmp_path / "n3000" / "records.jsonl").exists()
