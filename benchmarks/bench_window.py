"""Latency of the caseworker's window pages (issue 22): the empty household form, the form posted to start the
interview, one answer changed from the side panel, and the record page, for the Dingnan walk-in.

    python benchmarks/bench_window.py [REQUESTS] [RUNS]

In-process (Starlette's TestClient, SQLite in memory, --dev): the page's own work, without the network. Each run
sends REQUESTS of each after a warm-up; the minimum and median of each run's median are printed, in ms.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FORM = {"lang": "zh", "id": "DN-WALKIN-22", "site": "dingnan_county_seat", "members_n": "3", "entities_n": "1",
        "m0.age": "58", "m0.sex": "male", "m1.age": "55", "m1.sex": "female", "m1.disability": "true",
        "m2.age": "14", "m2.sex": "male", "m2.left_behind": "true"}


def main() -> None:
    from fastapi.testclient import TestClient

    import houfu
    from houfu.records.store import RecordStore
    from houfu.web.service import create_app

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    client = TestClient(create_app(houfu.load(), houfu.evaluator(), RecordStore("sqlite://"), dev=True),
                        base_url="https://testserver")
    done = client.post("/households", data={**FORM, "go": "decide"}, follow_redirects=False)
    record = done.headers["location"]
    state = json.dumps({"id": "DN-WALKIN-22", "site": "dingnan_county_seat", "jurisdiction": "dingnan",
                        "members": [{"age": 58}, {"age": 55, "disability": True}, {"age": 14, "left_behind": True,
                                                                                  "unsupported_child": False}]})
    pages = {
        "GET / (the form)": lambda: client.get("/"),
        "POST /households (form -> interview)": lambda: client.post("/households", data={**FORM, "go": "interview"}),
        "POST /interview (one answer changed)": lambda: client.post("/interview", data={
            "lang": "zh", "state": state, "skipped": "[]", "edit_fact": "members[2].unsupported_child",
            "edit_answer": "true"}),
        "GET /records/{id} (the record page)": lambda: client.get(record),
    }
    for name, call in pages.items():
        assert call().status_code == 200, name
        medians = []
        for _ in range(runs):
            times = []
            for _ in range(n):
                t = time.perf_counter()
                call()
                times.append((time.perf_counter() - t) * 1000)
            medians.append(statistics.median(times))
        print(f"{name}: min {min(medians):.0f} ms, median {statistics.median(medians):.0f} ms "
              f"(median of {n} requests, {runs} runs)")


if __name__ == "__main__":
    main()
