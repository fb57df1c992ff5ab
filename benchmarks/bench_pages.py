"""Latency of every GET page of `houfu serve` for a logged-in supervisor, on a store of N households.

    python benchmarks/bench_pages.py [HOUSEHOLDS] [RUNS]

Starts the service (uvicorn, SQLite records in a temporary folder) on 127.0.0.1, keeps HOUSEHOLDS decisions
(default 500: the bundled Dingnan and Shiyan households under new ids and names), logs in as a supervisor through
the login form, then fetches every GET page of the app RUNS times (default 7) after one warm-up, and prints a
table of the minimum and median in milliseconds. A page whose path takes a parameter this script has no example
for is listed as skipped, so a new page is never silently left out.
"""

from __future__ import annotations

import re
import statistics
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

#: The pages the API's prefix does not hold; the API and the documentation are not pages.
NOT_PAGES = ("/v1/", "/openapi.json", "/docs", "/redoc", "/healthz", "/logout")


class Session:
    """A browser-like client: the session cookie carried by hand (it is Secure, and this is plain HTTP on
    loopback, where a cookie jar would hold it back)."""

    def __init__(self, base: str):
        self.base, self.cookie = base, ""

    def request(self, path: str, data: dict[str, str] | None = None) -> tuple[int, str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        req = urllib.request.Request(self.base + path, data=body, headers={"cookie": self.cookie} if self.cookie else {})
        if body is not None:
            req.add_header("content-type", "application/x-www-form-urlencoded")
            req.add_header("origin", self.base)

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args: Any, **kwargs: Any) -> None:
                return None

        opener = urllib.request.build_opener(NoRedirect)
        try:
            with opener.open(req, timeout=60) as r:
                status, headers, text = r.status, r.headers, r.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:
            status, headers, text = exc.code, exc.headers, exc.read().decode("utf-8", "replace")
        for value in headers.get_all("set-cookie") or []:
            if value.startswith("houfu_session="):
                self.cookie = value.split(";")[0]
        return status, text


def fill(kb: Any, store: Any) -> tuple[str, str, str]:
    """Keep the households; returns (a household id, its record id, an earlier record id of it)."""
    import yaml

    import houfu
    from houfu.io.inputs import parse_record
    from houfu.kb.facts import Household

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    evaluator = houfu.evaluator()
    bodies = [yaml.safe_load((ROOT / "examples" / name).read_text(encoding="utf-8"))
              for name in ("dingnan-household.yaml", "shiyan-household.yaml")]
    ids = []
    for i in range(n):
        raw = {**bodies[i % 2], "id": f"BENCH-{i:05d}", "name": f"测试{i}户"}
        record = parse_record(raw, Household, "bench", kb)
        ids.append(store.add(record, evaluator.determine(record, None), "li"))
    last = parse_record({**bodies[0], "id": "BENCH-00000", "name": "测试0户"}, Household, "bench", kb)
    newest = store.add(last, evaluator.determine(last, None), "li")
    return "BENCH-00000", newest, ids[0]


def main() -> None:
    import houfu
    from houfu.records.store import RecordStore, Users, default_url
    from houfu.web.app import create_app
    from tests.live_server import live_server

    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 7
    kb = houfu.load()
    store = RecordStore(default_url(Path(tempfile.mkdtemp())))
    household, record, earlier = fill(kb, store)
    Users(store).add("li", "bench-supervisor-password", "supervisor")
    measure = next(d.measure_id for d in store.get(record).report.determinations if d.status.value == "applies")
    examples = {"record_id": record, "household_id": household, "measure_id": measure, "clause_id": "dn.4.3",
                "name": "县人社局"}
    query = {"/households/{household_id}/diff": f"?before={earlier}&after={record}",
             "/search": "?q=" + urllib.parse.quote("测试1 "), "/households/": "?hid=" + urllib.parse.quote("测试1")}
    app = create_app(kb, houfu.evaluator(), store, dev=False, secret="bench")
    with live_server(app) as base:
        s = Session(base)
        _, form = s.request("/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', form)
        assert csrf, "the login page has no CSRF field"
        status, _ = s.request("/login", {"name": "li", "password": "bench-supervisor-password", "csrf": csrf[1],
                                         "next": "/"})
        assert status == 303, f"login answered {status}: {_[:300]}"
        rows = []
        try:  # newer FastAPI keeps an included router whole in app.routes
            from fastapi.routing import iter_route_contexts

            listed: Any = iter_route_contexts(app.routes)
        except ImportError:
            listed = app.routes
        for route in listed:
            path = getattr(route, "path", "")
            if "GET" not in (getattr(route, "methods", None) or ()) or path.startswith(NOT_PAGES) or path == "/login":
                continue
            params = re.findall(r"{(\w+)}", path)
            missing = [p for p in params if p not in examples]
            if missing:
                rows.append((path, None, None, f"skipped: no example for {', '.join(missing)}"))
                continue
            url = path.format(**{p: urllib.parse.quote(examples[p], safe="") for p in params}) + query.get(path, "")
            status, _ = s.request(url)  # warm-up (the graph draws its picture once)
            times = []
            for _ in range(runs):
                t = time.perf_counter()
                status, _ = s.request(url)
                times.append((time.perf_counter() - t) * 1000)
            rows.append((path, min(times), statistics.median(times), str(status)))
    store.close()
    width = max(len(r[0]) for r in rows)
    print(f"{'page':<{width}}  {'min ms':>8}  {'median ms':>9}  status   ({runs} runs, {sys.argv[1] if len(sys.argv) > 1 else 500}"
          " households)")
    for path, low, mid, note in rows:
        if low is None or mid is None:
            print(f"{path:<{width}}  {'':>8}  {'':>9}  {note}")
        else:
            print(f"{path:<{width}}  {low:8.1f}  {mid:9.1f}  {note}")


if __name__ == "__main__":
    main()
