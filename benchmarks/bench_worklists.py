"""Benchmark the worklists: `houfu screen` of a synthetic caseload with and without --worklists.

    python benchmarks/bench_worklists.py [SIZE]        (default 100000 households)

The caseload (benchmarks/caseload.py: households, members, businesses, both jurisdictions) is written once as
Parquet; each run is a fresh `houfu screen` process with the example county clocks, timed from start to exit. The
difference between the two runs is what the worklists cost: gathering the rows, writing one XLSX per department,
and keeping the run and its rows in a fresh SQLite records store.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bench_screen import write_caseload  # noqa: E402

AS_OF = "2026-11-02"


def run(folder: Path, worklists: bool) -> tuple[float, str]:
    cmd = [sys.executable, "-m", "houfu", "screen", str(folder / "households.parquet"), "--members",
           str(folder / "members.parquet"), "--businesses", str(folder / "businesses.parquet"), "--as-of", AS_OF,
           "-q", "--clocks", str(ROOT / "examples" / "county-clocks.yaml"), "-o", str(folder / "d.parquet")]
    if worklists:
        out = folder / f"lists-{time.time_ns()}"
        cmd += ["--worklists", str(out), "--data-dir", str(out.with_suffix(".data"))]
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    took = time.perf_counter() - start
    if done.returncode not in (0, 2):
        raise SystemExit(done.stderr)
    return took, (done.stdout + done.stderr).strip().splitlines()[-1]


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / str(n)
        write_caseload(folder, n, set())
        plain, _ = run(folder, False)
        listed, said = run(folder, True)
        print(f"{n:,} households: screen {plain:.1f} s; with --worklists {listed:.1f} s "
              f"(worklists {listed - plain:.1f} s)\n  {said}")


if __name__ == "__main__":
    main()
