"""Where a streamed screen's CPU goes, step by step, against what two cores allow (issue 25's floors).

    python benchmarks/bench_floors.py [SIZE] [RUNS] [--keep FOLDER]
    python benchmarks/bench_floors.py 1000000 3 --keep /tmp/speed-bench

The issue asks, of a target that is missed, for the figure, the profile and the floor that stops it. This script
measures, in this process and on one thread each, the CPU of each step of `houfu screen` over the benchmark's
Parquet caseload (benchmarks/caseload.py, written once, or found in FOLDER/nSIZE as bench_screen.py --keep
leaves it), and prints them beside the budget a target leaves: N households at R a second on C cores is N / R × C
CPU-seconds in all.

- *the Parquet decode alone*: the columns the screener reads, decoded batch by batch with nothing done to them:
  the floor of reading;
- *the pre-pass*: the ids counted (a file's text is bounded before it is decoded), their duplicates found and the
  members' and businesses' rows placed;
- *loading the parts*: the decode above, and each cell mapped to its code, its bad values found;
- *deciding*: the column evaluator, the missing facts, the amounts, the totals the report and lists are drawn from,
  and the wide table;
- *writing*: the wide table encoded to Parquet (a status per measure, the missing-facts masks, the amounts);
- *the whole run*: `screen_stream` as the command runs it (its threads overlapping), process CPU and wall;
- *JSON Lines, Arrow's parse alone* (with `--jsonl`): the same households as records (bench_screen.py writes
  `records.jsonl` for 200,000 and fewer), parsed by `pyarrow.json` with the vocabulary's schema and nothing else,
  CPU and wall: the floor of the JSON Lines figure.

Minimum and median over the runs. Nothing here is timed by a test: the figures are read by people.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

AS_OF = dt.date(2026, 1, 1)
TARGETS = [("Parquet, 1 worker", 500_000), ("Parquet, 2 workers", 1_000_000)]
JSONL_TARGET = 150_000


def _caseload(n: int, keep: Path | None) -> Path:
    folder = (keep / f"n{n}") if keep is not None else Path(tempfile.mkdtemp(prefix="houfu-floors-"))
    if not (folder / "households.parquet").exists():
        from benchmarks.bench_screen import write_caseload

        folder.mkdir(parents=True, exist_ok=True)
        write_caseload(folder, n, {"parquet"})
    return folder


def _decode(folder: Path, columns: dict[str, tuple[list[str], list[str]]]) -> None:
    import pyarrow.parquet as pq

    for name, (cols, labels) in columns.items():
        f = pq.ParquetFile(folder / f"{name}.parquet", read_dictionary=labels, pre_buffer=False, buffer_size=1 << 16)
        for _ in f.iter_batches(batch_size=50_000, columns=cols, use_threads=False):
            pass


def _read_columns(kb, folder: Path) -> dict[str, tuple[list[str], list[str]]]:
    """The columns of each file the screener maps to a fact or an id (the rest it leaves unread), and those it
    reads as dictionaries (the labels: text columns other than ids and names), as the screener reads them."""
    import pyarrow.parquet as pq

    from houfu.io.mapping import spec_for
    from houfu.io.tables import _header_map, _strings

    spec = spec_for(kb)
    out = {}
    for name, level in (("households", "household"), ("members", "member"), ("businesses", "entity")):
        schema = pq.read_schema(folder / f"{name}.parquet")
        mapping, _ = _header_map(kb, level, schema.names, spec)
        labels = [c for c in _strings(schema) if c in mapping and mapping[c] not in ("id", "household", "name")]
        out[name] = (sorted(mapping), labels)
    return out


def _parse_jsonl(kb, path: Path) -> tuple[float, float]:
    """Arrow's streamed JSON Lines parse of the records, as the screener's fast reader runs it: (CPU, wall)."""
    import resource

    import pyarrow as pa
    import pyarrow.json as pj

    from houfu.io.tables import _arrow_type

    def cpu() -> float:
        r = resource.getrusage(resource.RUSAGE_SELF)
        return r.ru_utime + r.ru_stime

    options = pj.ParseOptions(explicit_schema=pa.schema(list(_arrow_type(kb.models.household))),
                              unexpected_field_behavior="error")
    c, t = cpu(), time.perf_counter()
    with pj.open_json(path, parse_options=options) as reader:
        pa.Table.from_batches(list(reader), reader.schema)
    return cpu() - c, time.perf_counter() - t


def _one_run(kb, evaluator, folder: Path) -> dict[str, float]:
    """Each step's thread CPU over one streamed run, and the run's own process CPU and wall."""
    from houfu.screen import screener as S

    acc: collections.Counter[str] = collections.Counter()
    originals = []

    def wrap(owner, attr: str, name: str) -> None:
        orig = getattr(owner, attr)
        originals.append((owner, attr, orig))

        def timed(*a, **k):
            t = time.thread_time()
            try:
                return orig(*a, **k)
            finally:
                acc[name] += time.thread_time() - t
        setattr(owner, attr, timed)

    wrap(S, "_household_column", "pre-pass")
    wrap(S, "_household_positions", "pre-pass")
    wrap(S, "_first_rows_repeated", "pre-pass (its own thread)")
    wrap(S, "_load_part", "loading the parts (reading thread)")
    wrap(S.Screener, "chunk", "deciding (deciding thread)")
    wrap(S.Writer, "__call__", "writing the wide file (writing thread)")
    try:
        with tempfile.TemporaryDirectory(prefix="houfu-floors-") as out:
            t0, c0 = time.perf_counter(), time.process_time()
            S.screen_stream(kb, evaluator, folder / "households.parquet", folder / "members.parquet",
                            folder / "businesses.parquet", AS_OF, Path(out) / "d.parquet")
            acc["the whole run: process CPU"] = time.process_time() - c0
            acc["the whole run: wall"] = time.perf_counter() - t0
    finally:
        for owner, attr, orig in originals:
            setattr(owner, attr, orig)
    return dict(acc)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("size", nargs="?", type=int, default=1_000_000)
    ap.add_argument("runs", nargs="?", type=int, default=3)
    ap.add_argument("--keep", type=Path, help="a folder whose nSIZE holds the caseload (bench_screen.py --keep)")
    ap.add_argument("--jsonl", action="store_true", help="also time Arrow's parse of the caseload as JSON Lines "
                    "(records.jsonl, written if missing)")
    args = ap.parse_args()

    import houfu
    from houfu.io.tables import arrow_without_pandas

    arrow_without_pandas()
    kb, evaluator = houfu.load(), houfu.evaluator()
    folder = _caseload(args.size, args.keep)
    columns = _read_columns(kb, folder)
    rows: dict[str, list[float]] = collections.defaultdict(list)
    for _ in range(args.runs):
        c = time.thread_time()
        _decode(folder, columns)
        rows["the Parquet decode alone (the columns read)"].append(time.thread_time() - c)
        for k, v in _one_run(kb, evaluator, folder).items():
            rows[k].append(v)
        if args.jsonl:
            records = folder / "records.jsonl"
            if not records.exists():
                from benchmarks.bench_screen import records_jsonl

                records_jsonl(folder, records)
            cpu, wall = _parse_jsonl(kb, records)
            rows["JSON Lines, Arrow's parse alone: process CPU"].append(cpu)
            rows["JSON Lines, Arrow's parse alone: wall"].append(wall)
    n = args.size
    print(f"{n:,} households, {args.runs} runs, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print("| step | CPU s (min / median) | µs a household |")
    print("|---|---|---|")
    for k, v in rows.items():
        print(f"| {k} | {min(v):.2f} / {statistics.median(v):.2f} | {statistics.median(v) / n * 1e6:.2f} |")
    cpu = statistics.median(rows["the whole run: process CPU"])
    print()
    for name, rate in TARGETS:
        budget = n / rate * 2
        print(f"{name}: {rate:,} households/s on 2 cores allows {budget:.2f} CPU-s for {n:,}; the run uses "
              f"{cpu:.2f} ({cpu / budget:.1f}×), so at best {n / (cpu / 2):,.0f} households/s with both cores busy")
    floor = sum(statistics.median(rows[k]) for k in ("the Parquet decode alone (the columns read)", "pre-pass",
                                                      "writing the wide file (writing thread)"))
    print(f"Reading the columns, the pre-pass and writing the wide file alone: {floor:.2f} CPU-s, "
          f"{n / (floor / 2):,.0f} households/s on 2 cores before anything is decided")
    if args.jsonl:
        parse = statistics.median(rows["JSON Lines, Arrow's parse alone: process CPU"])
        budget = n / JSONL_TARGET * 2
        print(f"JSON Lines: {JSONL_TARGET:,} households/s on 2 cores allows {budget:.2f} CPU-s for {n:,}; Arrow's "
              f"parse alone uses {parse:.2f}, leaving {budget - parse:.2f} "
              f"({(budget - parse) / n * 1e6:.1f} µs a household) for everything else")


if __name__ == "__main__":
    main()
