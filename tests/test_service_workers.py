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

import pytest
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


@pytest.mark.parametrize("workers", ["1", "2"])
@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_houfu_serve_stopped_by_sigterm_or_ctrl_c_ends_cleanly_with_exit_0(tmp_path: Path, workers: str,
                                                                            stop: int) -> None:
    """A service manager stops a server with SIGTERM, a person with Ctrl-C: a clean end, not exit 143
    ("terminated"), which systemd takes for a failure, or 130. With one worker they were 143 and 130, with two 0."""
    port = free_port()
    server = subprocess.Popen([*HOUFU, "serve", "--dev", "--workers", workers, "--port", str(port), "--data-dir",
                               str(tmp_path / "data")], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while not _answers(port):
            assert server.poll() is None and time.monotonic() < deadline, server.communicate()[1]
            time.sleep(0.1)
        server.send_signal(stop)
        _, err = server.communicate(timeout=60)
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)  # the workers too: a failed test leaves no server behind
    assert server.returncode == 0, err
    assert err.rstrip().endswith("houfu stopped"), err
    assert "terminated" not in err and "Traceback" not in err, err


def test_a_worker_that_cannot_start_stops_the_service_with_exit_3(tmp_path: Path) -> None:
    """The policies changed on disk into a broken state while serving, then a worker died: its replacement cannot
    load them. It used to be started again every second and a half, a traceback each time, and `houfu serve` never
    said it had failed; now the service stops, one line says why, and the exit is 3 (a service manager's failure)."""
    import shutil

    policies = tmp_path / "policies"
    shutil.copytree(ROOT / "houfu" / "policies", policies)
    port = free_port()
    server = subprocess.Popen([*HOUFU, "--policies", str(policies), "serve", "--dev", "--workers", "2", "--port",
                               str(port), "--data-dir", str(tmp_path / "data")], cwd=ROOT,
                              env={**os.environ, "HOUFU_CACHE": str(tmp_path / "cache")}, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while len(_workers(server.pid)) < 2 or not _answers(port):
            assert server.poll() is None and time.monotonic() < deadline, server.communicate()[1]
            time.sleep(0.2)
        (policies / "bodies.yaml").write_text("bodies: [unclosed\n", encoding="utf-8")
        os.kill(_workers(server.pid)[0], signal.SIGKILL)
        _, err = server.communicate(timeout=120)
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)  # the workers too: a failed test leaves no server behind
    assert server.returncode == 3, err
    assert "a worker could not start: KBError" in err, err
    assert err.count("Traceback") == 0, err


def _answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5):
            return True
    except OSError:
        return False


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
            assert "already in use" in p.stderr and "Traceback" not in p.stderr, p.stderr
            assert "internal error" not in p.stderr, p.stderr


def test_processes_that_open_a_new_store_at_once_all_start(tmp_path: Path) -> None:
    """Two `houfu serve` (or any two commands that record) started at once on a new data folder raced to make the
    database file and its tables, and one failed ("table decision_records already exists", or the file made
    twice). One process at a time sets a store up now. Four processes, each opening the same new store at the same
    moment, three times over: every one starts, and the store is one chain."""
    code = ("import sys, time\n"
            "from houfu.records.store import RecordStore\n"
            "time.sleep(max(0.0, float(sys.argv[2]) - time.time()))\n"
            "RecordStore(sys.argv[1]).close()\n")
    for attempt in range(3):
        url = default_url(tmp_path / f"data-{attempt}")
        start = time.time() + 2.5  # after every process has imported houfu
        procs = [subprocess.Popen([sys.executable, "-c", code, url, str(start)], cwd=ROOT, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT) for _ in range(4)]
        outs = [(p.communicate(timeout=120)[0].decode(), p.returncode) for p in procs]
        assert all(rc == 0 for _, rc in outs), [out[-600:] for out, rc in outs if rc]
        store = RecordStore(url)
        assert store.verify().ok
        store.close()
