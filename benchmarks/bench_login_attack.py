"""/healthz under a login attack (issue 23, Done when): a real ``houfu serve`` in its own process, CLIENTS
threads sending wrong passwords by HTTP Basic (and, a tenth of them, by the login form's names) for SECONDS,
while one client asks /healthz every 50 ms. Prints the health probe's p50/p99/max and what the attackers got.

    python benchmarks/bench_login_attack.py 20,100 60
"""

from __future__ import annotations

import base64
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter

import requests


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run(clients: int, seconds: float) -> None:
    data = tempfile.mkdtemp(prefix="houfu-bench-login-")
    env = {**os.environ, "HOUFU_DATA_DIR": data, "HOUFU_SECRET": "bench"}
    py = sys.executable
    for name, role in (("cw1", "caseworker"), ("sup", "supervisor")):
        subprocess.run([py, "-m", "houfu", "users", "add", name, "--role", role, "--password-stdin"],
                       input="a-long-bench-password\n", text=True, env=env, check=True, capture_output=True)
    port = _port()
    server = subprocess.Popen([py, "-m", "houfu", "serve", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                requests.get(f"{base}/healthz", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        # The attackers in a process of their own, so the probe's times are the server's, not this process's GIL.
        attackers = subprocess.Popen([py, __file__, "--attack", base, str(clients), str(seconds)],
                                     stdout=subprocess.PIPE, text=True)
        time.sleep(1)
        took: list[float] = []
        end = time.monotonic() + seconds
        with requests.Session() as s:
            while time.monotonic() < end:
                start = time.perf_counter()
                s.get(f"{base}/healthz", timeout=30).raise_for_status()
                took.append((time.perf_counter() - start) * 1000)
                time.sleep(0.05)
        got = attackers.communicate(timeout=120)[0].strip()
        took.sort()
        p99 = took[max(0, int(len(took) * 0.99) - 1)]
        print(f"{clients} attackers, {seconds:g} s: /healthz n={len(took)} p50={statistics.median(took):.1f} ms "
              f"p99={p99:.1f} ms max={took[-1]:.1f} ms; attackers got {got}", flush=True)
    finally:
        server.terminate()
        server.wait(timeout=30)


def attack(base: str, clients: int, seconds: float) -> None:
    """CLIENTS threads sending wrong passwords for SECONDS; prints the statuses they got."""
    stop, got = threading.Event(), Counter[str]()

    def one(i: int) -> None:
        auth = "Basic " + base64.b64encode(f"cw{i % 5}:guess-{i}".encode()).decode()
        with requests.Session() as s:
            while not stop.is_set():
                try:
                    got[str(s.get(f"{base}/v1/owners?q=x", headers={"Authorization": auth}, timeout=30).status_code)] += 1
                except requests.RequestException:
                    got["error"] += 1

    threads = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join(timeout=30)
    print(dict(got))


if __name__ == "__main__" and sys.argv[1:2] == ["--attack"]:
    attack(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
elif __name__ == "__main__":
    for n in (int(x) for x in (sys.argv[1] if len(sys.argv) > 1 else "20,100").split(",")):
        run(n, float(sys.argv[2]) if len(sys.argv) > 2 else 60)
