"""Latency of POST /v1/check on a running `houfu serve` (uvicorn, SQLite records), and 20 concurrent clients.

    python benchmarks/bench_service.py [REQUESTS] [RUNS]

Each run starts the service in this process on 127.0.0.1, warms it up, then sends REQUESTS sequential
checks of the bundled Dingnan household (a new id each, so each is recorded) and reports p50 and p99; then
200 checks from 20 concurrent clients. Minimum and median over the runs are printed.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    import uvicorn
    import yaml

    import houfu
    from houfu.records.store import RecordStore, default_url
    from houfu.web.service import create_app
    from tests.live_server import free_port

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    base_body = yaml.safe_load((ROOT / "examples" / "dingnan-household.yaml").read_text(encoding="utf-8"))
    p50s, p99s, rates = [], [], []
    for run in range(runs):
        store = RecordStore(default_url(Path(tempfile.mkdtemp())))
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(create_app(houfu.load(), houfu.evaluator(), store, dev=True),
                                               host="127.0.0.1", port=port, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.02)
        url = f"http://127.0.0.1:{port}/v1/check?as_of=2026-01-01"

        def post(i: int, run: int = run, url: str = url) -> float:
            body = json.dumps({**base_body, "id": f"B-{run}-{i}"}).encode("utf-8")
            t = time.perf_counter()
            with urllib.request.urlopen(urllib.request.Request(url, data=body, headers={
                    "content-type": "application/json"}), timeout=60) as r:
                r.read()
            return time.perf_counter() - t

        for i in range(20):
            post(-i - 1)
        lat = sorted(post(i) for i in range(n))
        p50s.append(lat[n // 2] * 1000)
        p99s.append(lat[int(n * 0.99) - 1] * 1000)
        t = time.perf_counter()
        with ThreadPoolExecutor(20) as pool:
            list(pool.map(post, range(n, n + 200)))
        rates.append(200 / (time.perf_counter() - t))
        server.should_exit = True
        thread.join()
        store.close()
        print(f"run {run + 1}: p50 {p50s[-1]:.1f} ms, p99 {p99s[-1]:.1f} ms, 20 clients {rates[-1]:.0f} checks/s",
              flush=True)
    print(f"POST /v1/check over {n} requests: p50 min {min(p50s):.1f} median {statistics.median(p50s):.1f} ms; "
          f"p99 min {min(p99s):.1f} median {statistics.median(p99s):.1f} ms; 200 checks from 20 clients: "
          f"min {min(rates):.0f} median {statistics.median(rates):.0f} checks/s")


if __name__ == "__main__":
    main()
