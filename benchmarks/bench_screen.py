"""Benchmark `houfu screen` end to end, and the single-household path on the same data for the ratio.

    python benchmarks/bench_screen.py [SIZES] [RUNS] [--workers N] [--formats parquet,csv,jsonl]
    python benchmarks/bench_screen.py 10000,100000,1000000 3

For each size, a realistic caseload (benchmarks/caseload.py: household, member and business tables, both
jurisdictions, realistic missingness, Chinese headers and labels) is written once to a temporary folder as
Parquet (and CSV in GBK, and JSON Lines of records, for the smaller sizes). Each run is a fresh
`houfu screen` process reading the files and writing the determinations (Parquet) and the HTML report; its
wall time and peak RSS (from wait4) are measured, and the screener's own households/s (file in to report out,
imports excluded) read from its --json summary. Minimum and median over the runs are printed.

The single-household path (`Evaluator.determine`, the default engine, full report) is timed on a sample of the
same households, converted to records, in this process.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

AS_OF = "2026-01-01"


def write_caseload(folder: Path, n: int, formats: set[str]) -> None:
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    from benchmarks.caseload import caseload

    if (folder / "households.parquet").exists():
        return
    folder.mkdir(parents=True, exist_ok=True)
    tables = dict(zip(("households", "members", "businesses"), caseload(n), strict=True))
    for name, t in tables.items():
        pq.write_table(t, folder / f"{name}.parquet")
        if "csv" in formats:
            pcsv.write_csv(t, folder / f"{name}.utf8.csv")
            # GBK as Excel on Chinese Windows writes it.
            (folder / f"{name}.csv").write_bytes((folder / f"{name}.utf8.csv").read_text("utf-8").encode("gbk"))
            (folder / f"{name}.utf8.csv").unlink()
    if "jsonl" in formats:
        records_jsonl(folder, folder / "records.jsonl")


def records(folder: Path, limit: int | None = None) -> list[dict]:
    """The caseload as household records (the form `houfu check` reads), through the screener's own reader."""
    import houfu
    from houfu.io.tables import load_caseload
    from houfu.kb.conditions import ENTITIES, MEMBERS

    kb = houfu.load()
    loaded = load_caseload(kb, folder / "households.parquet", folder / "members.parquet",
                           folder / "businesses.parquet")
    c = loaded.caseload
    out = []
    n = loaded.n if limit is None else min(limit, loaded.n)
    for i in range(n):
        r: dict = {"id": loaded.id(i), "jurisdiction": loaded.jurisdictions[i].as_py()}
        for f, col in c.main.columns.items():
            v = c.main.codec.decode(f, col[i])
            if v is not None:
                r[f] = int(v) if isinstance(v, float) and v.is_integer() and c.main.codec.kinds[f] == "number" else v
        for key, items in ((MEMBERS, c.members), (ENTITIES, c.entities)):
            if not items.known[i]:
                continue
            lst = []
            for row in range(items.start[i], items.start[i] + items.count[i]):
                m: dict = {} if key == MEMBERS else {"id": f"E{i}-{row}"}
                for f, col in items.table.columns.items():
                    v = items.table.codec.decode(f, col[row])
                    if v is None:
                        continue
                    if "." in f:
                        head, tail = f.split(".", 1)
                        m.setdefault(head, {})[tail] = v
                    else:
                        m[f] = int(v) if isinstance(v, float) and v.is_integer() and items.table.codec.kinds[f] == "number" else v
                lst.append(m)
            r[key] = lst
        out.append(r)
    return out


def records_jsonl(folder: Path, path: Path) -> None:
    import orjson

    with path.open("wb") as fh:
        for r in records(folder):
            fh.write(orjson.dumps(r, option=orjson.OPT_SERIALIZE_NUMPY, default=float) + b"\n")


def run_screen(args: list[str]) -> tuple[float, float, int, dict]:
    """A fresh `houfu screen` process: wall seconds, peak RSS in MB, exit code, and its --json summary."""
    houfu = str(Path(sys.executable).with_name("houfu"))
    start = time.perf_counter()
    proc = subprocess.Popen([houfu, "screen", *args, "--as-of", AS_OF, "--json", "-q"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    out = proc.stdout.read() if proc.stdout else b""
    err = proc.stderr.read() if proc.stderr else b""
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 2):
        raise SystemExit(f"houfu screen failed ({code}): {err.decode()[-2000:]}")
    return wall, usage.ru_maxrss / 1024, code, json.loads(out)


def single_path(folder: Path, sample: int) -> float:
    """Households per second through `Evaluator.determine` (the default engine, the compiled closures; full
    report with the trace), on the same data."""
    import houfu

    ev = houfu.evaluator()
    model = houfu.load().models.household
    recs = [model.model_validate(r) for r in records(folder, sample)]
    as_of = dt.date.fromisoformat(AS_OF)
    for r in recs[:50]:
        ev.determine(r, as_of)
    start = time.perf_counter()
    for r in recs:
        ev.determine(r, as_of)
    return len(recs) / (time.perf_counter() - start)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("sizes", nargs="?", default="10000,100000,1000000")
    ap.add_argument("runs", nargs="?", type=int, default=3)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--formats", default="parquet,csv,jsonl")
    ap.add_argument("--keep", type=Path, help="Folder to keep the generated caseloads in (default: a temp folder).")
    ap.add_argument("--sample", type=int, default=2000, help="Households for the single-household path.")
    a = ap.parse_args()
    formats = set(a.formats.split(","))
    base = a.keep or Path(tempfile.mkdtemp(prefix="houfu-bench-"))
    single = None
    results = []
    for n in (int(x) for x in a.sizes.split(",")):
        folder = base / f"n{n}"
        t = time.perf_counter()
        write_caseload(folder, n, formats if n <= 200_000 else {"parquet"})
        print(f"caseload of {n:,} households ready in {time.perf_counter() - t:.1f} s ({folder})", flush=True)
        inputs = {"parquet": [str(folder / "households.parquet"), "--members", str(folder / "members.parquet"),
                              "--businesses", str(folder / "businesses.parquet")]}
        if (folder / "households.csv").exists():
            inputs["csv (GBK)"] = [str(folder / "households.csv"), "--members", str(folder / "members.csv"),
                                   "--businesses", str(folder / "businesses.csv")]
        if (folder / "records.jsonl").exists():
            inputs["jsonl"] = [str(folder / "records.jsonl")]
        for kind, args in inputs.items():
            walls, rss, rates, outs, loads = [], [], [], [], []
            for i in range(a.runs):
                loads.append(os.getloadavg()[0])  # other work on the machine's cores, as `uptime` gives it
                out = folder / f"out-{i}.parquet"
                wall, peak, _, summary = run_screen([*args, "-o", str(out), "--report", str(folder / "report.html"),
                                                     "--workers", str(a.workers)])
                walls.append(wall)
                # The process's own peak (getrusage in the child): wait4's figure can include the parent's
                # pages from before exec.
                rss.append(summary.get("peak_rss_mb") or peak)
                rates.append(summary["households_per_second"] or 0)
                outs.append(n / wall)
                out.unlink(missing_ok=True)
            row = {"households": n, "input": kind, "workers": a.workers,
                   "process_hh_per_s_min": int(min(outs)), "process_hh_per_s_median": int(statistics.median(outs)),
                   "screen_hh_per_s_min": int(min(rates)), "screen_hh_per_s_median": int(statistics.median(rates)),
                   "peak_rss_mb_min": int(min(rss)), "peak_rss_mb_median": int(statistics.median(rss)),
                   "load": f"{min(loads):.1f}-{max(loads):.1f}"}
            results.append(row)
            print(f"{n:>9,} {kind:<10} whole process: min {row['process_hh_per_s_min']:>9,} median "
                  f"{row['process_hh_per_s_median']:>9,} hh/s | screener (file in to report out): min "
                  f"{row['screen_hh_per_s_min']:>9,} median {row['screen_hh_per_s_median']:>9,} hh/s | peak RSS "
                  f"min {row['peak_rss_mb_min']} median {row['peak_rss_mb_median']} MB | load {row['load']}", flush=True)
        if single is None:
            single = single_path(folder, a.sample)
            print(f"single-household path (Evaluator.determine, default engine, full report): {single:,.0f} hh/s", flush=True)
    ratio = None
    if single:
        best = max(r["screen_hh_per_s_median"] for r in results if r["input"] == "parquet")
        ratio = best / single
        print(f"ratio, screener (Parquet, median) to the single-household path: {ratio:,.0f}x")
    print(json.dumps(results))
    print(readme_table(results, a.workers, single, ratio))


def readme_table(results: list[dict], workers: int, single: float | None, ratio: float | None) -> str:
    """The README's table, as printed: min / median of the runs, with the machine and the date."""
    import platform

    lines = [f"Measured {dt.date.today().isoformat()} on {platform.node() or 'this machine'} ({os.cpu_count()} cores, "
             f"{platform.python_implementation()} {platform.python_version()}), {workers} worker(s); min / median "
             "of the runs.", "",
             "| households | input | workers | households/s (file in to report out) | whole process | peak RSS (MB) | load |",
             "|---|---|---|---|---|---|---|"]
    for r in results:
        lines.append(f"| {r['households']:,} | {r['input']} | {r['workers']} | {r['screen_hh_per_s_min']:,} / "
                     f"{r['screen_hh_per_s_median']:,} | {r['process_hh_per_s_min']:,} / "
                     f"{r['process_hh_per_s_median']:,} | {r['peak_rss_mb_min']} / {r['peak_rss_mb_median']} | "
                     f"{r.get('load', '-')} |")
    if single:
        lines.append("")
        lines.append(f"Single-household path (Evaluator.determine, default engine, full report): {single:,.0f} households/s; "
                     f"ratio of the screener (Parquet, median) to it: {ratio:,.0f}x.")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
