"""Several processes on one records store (issue 25): `houfu serve --workers 2`, and two writers at once.

The hash chain takes one writer at a time across processes (SQLite: the write lock, waited for, in WAL mode;
PostgreSQL: an advisory lock), so no record is lost and the chain verifies.
"""

from __future__ import annotations

import http.client
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
                              text=True)
    try:
        for _ in range(600):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5):
                    break
            except OSError:
                assert server.poll() is None, server.communicate()[1]
                time.sleep(0.1)
        server.send_signal(stop)
        _, err = server.communicate(timeout=60)
    finally:
        if server.poll() is None:
            server.kill()
    assert server.returncode == 0, err
    assert err.rstrip().endswith("houfu stopped"), err
    assert "terminated" not in err and "Traceback" not in err, err


def _sockets_on(pid: int, port: int) -> tuple[set[str], int]:
    """The listening sockets on ``port`` the process ``pid`` holds (their inodes) and how many connections on it
    it holds (Linux /proc)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    listening: set[str] = set()
    established = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[9] in inodes:
                if fields[3] == "0A":  # TCP_LISTEN
                    listening.add(fields[9])
                established += fields[3] == "01"  # TCP_ESTABLISHED
    return listening, established


def _serve_two(tmp_path: Path, port: int) -> tuple[subprocess.Popen[bytes], list[int]]:
    """`houfu serve --dev --workers 2` on ``port``, once each worker serves a socket of its own."""
    server = subprocess.Popen([*HOUFU, "serve", "--dev", "--workers", "2", "--port", str(port), "--data-dir",
                               str(tmp_path / "data")], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return server, _own_sockets(server, port)


def _own_sockets(server: subprocess.Popen[bytes], port: int) -> list[int]:
    """The two workers, once each holds one listening socket and the two differ."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert server.poll() is None, server.communicate()[1]
        workers = _workers(server.pid)
        held = [_sockets_on(w, port)[0] for w in workers]
        if len(workers) == 2 and all(len(h) == 1 for h in held) and held[0] != held[1]:
            return workers
        time.sleep(0.2)
    raise AssertionError(f"no two workers with a socket each: {[_sockets_on(w, port) for w in workers]}")


def _get(port: int) -> http.client.HTTPConnection:
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    c.request("GET", "/healthz")
    r = c.getresponse()
    assert r.status == 200 and r.read()
    return c


def test_with_two_workers_each_serves_its_own_socket_and_both_take_connections(tmp_path: Path) -> None:
    """On one shared socket the first worker to wake took every waiting connection, so kept-alive clients (a
    proxy's, the benchmark's 16) all went to one worker and the second core stayed idle. Each worker now serves a
    socket of its own (SO_REUSEPORT), held by the supervisor, and the kernel spreads new connections over them; a
    second `houfu serve` on the port is still refused, not let in beside the first."""
    port = free_port()
    server, workers = _serve_two(tmp_path, port)
    clients: list[http.client.HTTPConnection] = []
    try:
        mine = [_sockets_on(w, port)[0] for w in workers]
        assert _sockets_on(server.pid, port)[0] == mine[0] | mine[1]  # the supervisor holds both
        clients = [_get(port) for _ in range(16)]  # one after another, as kept-alive clients arrive
        held = [_sockets_on(w, port)[1] for w in workers]
        assert sum(held) == 16 and min(held) >= 1, held  # all 16 on one worker: 2 in 65,536 with two sockets
        for workers_flag in ("2", "1"):
            second = subprocess.run([*HOUFU, "serve", "--dev", "--workers", workers_flag, "--port", str(port),
                                     "--data-dir", str(tmp_path / "data2")], cwd=ROOT, capture_output=True,
                                    text=True, timeout=120)
            assert second.returncode == 3 and "already in use" in second.stderr, second.stderr
    finally:
        for c in clients:
            c.close()
        server.send_signal(signal.SIGTERM)
        server.communicate(timeout=60)


def test_a_worker_killed_is_replaced_on_its_own_socket_and_the_port_is_never_let_go(tmp_path: Path) -> None:
    """The supervisor holds the sockets: with both workers killed the port stays taken (no other program can bind
    it meanwhile), connections made then wait for the replacements rather than being refused or reset, and each
    replacement takes a dead worker's socket."""
    import socket

    port = free_port()
    server, workers = _serve_two(tmp_path, port)
    try:
        before = {frozenset(_sockets_on(w, port)[0]) for w in workers}
        for w in workers:
            os.kill(w, signal.SIGKILL)
        with socket.socket() as squatter:
            squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                squatter.bind(("127.0.0.1", port))
                raise AssertionError("the port was let go of while the workers were down")
            except OSError:
                pass
        clients = [_get(port) for _ in range(8)]  # waiting in the sockets' queues until the workers are back
        for c in clients:
            c.close()
        replaced = _own_sockets(server, port)
        assert not set(replaced) & set(workers)
        assert {frozenset(_sockets_on(w, port)[0]) for w in replaced} == before
    finally:
        server.send_signal(signal.SIGTERM)
        _, err = server.communicate(timeout=60)
    assert server.returncode == 0, err


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
