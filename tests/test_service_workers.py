"""Several processes on one records store (issue 25): `houfu serve --workers 2`, and two writers at once.

The hash chain takes one writer at a time across processes (SQLite: the write lock, waited for, in WAL mode;
PostgreSQL: an advisory lock), so no record is lost and the chain verifies.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml

from houfu.records.store import RecordStore, default_url
from tests.live_server import free_port

ROOT = Path(__file__).resolve().parent.parent
HOUFU = [sys.executable, "-m", "houfu"]
BODY = yaml.safe_load((ROOT / "examples" / "dingnan-household.yaml").read_text(encoding="utf-8"))


def _writer(url: str, prefix: str, n: int) -> None:
    import datetime as dt

    import houfu

    kb = houfu.load()
    store = RecordStore(url)
    for i in range(n):
        record = kb.models.household.model_validate({**BODY, "id": f"{prefix}-{i}"})
        store.add(record, houfu.evaluator(kb).determine(record, dt.date(2026, 1, 1)), prefix)
    store.close()


def test_two_processes_writing_records_at_once_lose_none_and_keep_one_valid_chain(tmp_path: Path) -> None:
    url = default_url(tmp_path / "data")
    RecordStore(url).close()  # made and migrated once, as `houfu serve` does before its workers start
    ctx = multiprocessing.get_context("spawn")
    writers = [ctx.Process(target=_writer, args=(url, name, 40)) for name in ("a", "b")]
    for w in writers:
        w.start()
    for w in writers:
        w.join(timeout=300)
        assert w.exitcode == 0
    store = RecordStore(url)
    check = store.verify()
    assert check.ok and check.records == 80, check
    users = {r.user for r in store.list(limit=1000)}
    assert users == {"a", "b"}
    store.close()
    got = subprocess.run([*HOUFU, "records", "verify", "--data-dir", str(tmp_path / "data")], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert got.returncode == 0, got.stdout + got.stderr


def _post(base: str, i: int) -> tuple[str, int]:
    body = json.dumps({**BODY, "id": f"W-{i}"}).encode("utf-8")
    req = urllib.request.Request(f"{base}/v1/check?as_of=2026-01-01", data=body,
                                 headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.load(r)["record_id"], r.status


def _workers(pid: int) -> list[int]:
    """The processes uvicorn spawned to serve (not multiprocessing's resource tracker)."""
    children = [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    return [c for c in children if b"spawn_main" in Path(f"/proc/{c}/cmdline").read_bytes()]


def test_houfu_serve_with_two_workers_answers_from_two_processes_and_records_every_check(tmp_path: Path) -> None:
    port = free_port()
    data = tmp_path / "data"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    log = (tmp_path / "serve.log").open("wb")
    server = subprocess.Popen([*HOUFU, "serve", "--dev", "--workers", "2", "--port", str(port), "--data-dir",
                               str(data)], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=5):
                    break
            except OSError:
                assert server.poll() is None, (tmp_path / "serve.log").read_text()
                time.sleep(0.1)
        workers = _workers(server.pid)
        assert len(workers) == 2, workers
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda i: _post(base, i), range(120)))
        assert all(status == 200 for _, status in answers)
        assert len({rid for rid, _ in answers}) == 120
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=60)
        log.close()
    store = RecordStore(default_url(data))
    check = store.verify()
    assert check.ok and check.records == 120, check
    assert {r.record_id for r in store.list(limit=1000)} == {rid for rid, _ in answers}
    store.close()
    got = subprocess.run([*HOUFU, "records", "verify", "--data-dir", str(data)], cwd=ROOT, capture_output=True,
                         text=True, timeout=120)
    assert got.returncode == 0, got.stdout + got.stderr


def _cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime, in clock ticks


def test_kept_alive_connections_are_spread_over_both_workers(tmp_path: Path) -> None:
    """Each worker listens on the port itself (SO_REUSEPORT), so the kernel spreads new connections over them. With
    uvicorn's one shared socket, one worker took all 16 kept-alive connections of the benchmark and the other stood
    idle (issue 25). Sixteen connections, ten checks each: every worker must have done checks' work (a check is a few
    ms of CPU; all sixteen on one worker would be a chance of 1 in 32,768 with the kernel's spreading)."""
    import http.client

    port = free_port()
    log = (tmp_path / "serve.log").open("wb")
    server = subprocess.Popen([*HOUFU, "serve", "--dev", "--workers", "2", "--port", str(port), "--data-dir",
                               str(tmp_path / "data")], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                              stdout=log, stderr=subprocess.STDOUT)
    try:
        for _ in range(600):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5):
                    break
            except OSError:
                assert server.poll() is None, (tmp_path / "serve.log").read_text()
                time.sleep(0.1)
        workers = _workers(server.pid)
        assert len(workers) == 2, workers
        connections = [http.client.HTTPConnection("127.0.0.1", port, timeout=60) for _ in range(16)]

        def checks(k: int, first: int = 0, n: int = 10) -> None:
            for i in range(first, first + n):
                connections[k].request("POST", "/v1/check?as_of=2026-01-01",
                                       body=json.dumps({**BODY, "id": f"K-{k}-{i}"}).encode("utf-8"),
                                       headers={"content-type": "application/json"})
                r = connections[k].getresponse()
                r.read()
                assert r.status == 200

        # Opened one after another, each with a first check, as a client or a proxy opens them while its load
        # grows: this is how the shared socket gave them all to one worker.
        for k in range(16):
            checks(k, 10, 1)
        before = {w: _cpu_ticks(w) for w in workers}
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(checks, range(16)))
        used = {w: _cpu_ticks(w) - before[w] for w in workers}
        ticks = os.sysconf("SC_CLK_TCK")
        assert all(t >= 0.03 * ticks for t in used.values()), used  # each at least 30 ms: several checks
        for c in connections:
            c.close()
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=60)
        log.close()
    assert server.returncode == 0, (tmp_path / "serve.log").read_text()


def test_a_port_in_use_is_one_line_and_exit_3_with_two_workers_as_with_one(tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        for workers in ("1", "2"):
            p = subprocess.run([*HOUFU, "serve", "--dev", "--workers", workers, "--port", str(port), "--data-dir",
                                str(tmp_path / "data")], cwd=ROOT, capture_output=True, text=True, timeout=120)
            assert p.returncode == 3, p.stderr
            assert "address already in use" in p.stderr and "Traceback" not in p.stderr, p.stderr
            assert "internal error" not in p.stderr, p.stderr
