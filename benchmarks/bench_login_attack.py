"""/healthz under a login attack from many addresses (issue 23, Done when): a real ``houfu serve`` in its own
process; CLIENTS attackers, each from its own loopback address (127.0.0.2, 127.0.0.3 …: on Linux the whole of
127.0.0.0/8 is the loopback, so each is a distinct client address to the throttle), send wrong passwords for
SECONDS: most by HTTP Basic, guessing the five real names and names that do not exist, one in ten through the
login form (its CSRF token and cookie fetched first, as a browser would). Meanwhile one client asks /healthz every
50 ms from 127.0.0.1, and a real user logs in with the right password (HTTP Basic, as ``sup``, a name the
attackers never guess, from 127.0.1.1) every 0.5 s: how long that took and what it got (200, or 429 when the
queue of password checks is full). Prints the probe's p50/p99/max, the real logins' median/max and statuses, and
what the attackers got, for each run, then the min and median of the p99s over RUNS runs. The load average is
printed with each run: on a shared machine it says how much the figures mean.

    python benchmarks/bench_login_attack.py 0,20,100 60 3      # CLIENTS list (0: no attack, the machine's own
                                                               # noise), SECONDS, RUNS
"""

from __future__ import annotations

import base64
import http.client
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from urllib.parse import urlencode

PASSWORD = "a-long-bench-password"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run(clients: int, seconds: float) -> tuple[float, float]:
    """One run; the probe's p99 and the real logins' median, in ms."""
    data = tempfile.mkdtemp(prefix="houfu-bench-login-")
    env = {**os.environ, "HOUFU_DATA_DIR": data, "HOUFU_SECRET": "bench"}
    py = sys.executable
    for name, role in [(f"cw{i}", "caseworker") for i in range(5)] + [("sup", "supervisor")]:
        subprocess.run([py, "-m", "houfu", "users", "add", name, "--role", role, "--password-stdin"],
                       input=PASSWORD + "\n", text=True, env=env, check=True, capture_output=True)
    port = _port()
    server = subprocess.Popen([py, "-m", "houfu", "serve", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(300):
            try:
                _get(port, "/healthz", "127.0.0.1")
                break
            except OSError:
                time.sleep(0.1)
        # The attackers in a process of their own, so the probe's times are the server's, not this process's GIL.
        attackers = subprocess.Popen([py, __file__, "--attack", str(port), str(clients), str(seconds)],
                                     stdout=subprocess.PIPE, text=True)
        time.sleep(1)
        took: list[float] = []
        end = time.monotonic() + seconds
        logins: list[float] = []
        login_got = Counter[int]()

        def real_user() -> None:
            auth = "Basic " + base64.b64encode(f"sup:{PASSWORD}".encode()).decode()
            while time.monotonic() < end:
                start = time.perf_counter()
                try:
                    c = http.client.HTTPConnection("127.0.0.1", port, timeout=120, source_address=("127.0.1.1", 0))
                    c.request("GET", "/v1/owners?q=x", headers={"Authorization": auth})
                    response = c.getresponse()
                    response.read()
                    c.close()
                    login_got[response.status] += 1
                except (OSError, http.client.HTTPException):
                    login_got[0] += 1
                logins.append((time.perf_counter() - start) * 1000)
                time.sleep(0.5)

        user = threading.Thread(target=real_user, daemon=True)
        user.start()
        probe = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while time.monotonic() < end:
            start = time.perf_counter()
            probe.request("GET", "/healthz")
            response = probe.getresponse()
            response.read()
            assert response.status == 200, response.status
            took.append((time.perf_counter() - start) * 1000)
            time.sleep(0.05)
        got = attackers.communicate(timeout=120)[0].strip()
        user.join(timeout=150)
        took.sort()
        p99 = took[max(0, int(len(took) * 0.99) - 1)]
        login = statistics.median(logins) if logins else float("nan")
        print(f"{clients} attackers from {min(clients, 250)} addresses, {seconds:g} s: /healthz n={len(took)} "
              f"p50={statistics.median(took):.1f} ms p99={p99:.1f} ms max={took[-1]:.1f} ms; real login "
              f"n={len(logins)} median={login:.0f} ms max={max(logins, default=0):.0f} ms got "
              f"{dict(sorted(login_got.items()))}; attackers got {got}; load average "
              f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
        return p99, login
    finally:
        server.terminate()
        server.wait(timeout=30)


def _get(port: int, path: str, source: str) -> int:
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30, source_address=(source, 0))
    c.request("GET", path)
    status = c.getresponse().status
    c.close()
    return status


def attack(port: int, clients: int, seconds: float) -> None:
    """CLIENTS threads, each from its own address, sending wrong passwords for SECONDS; prints the statuses."""
    stop, got = threading.Event(), Counter[str]()

    def one(i: int) -> None:
        source = f"127.0.0.{2 + i % 250}"
        form = i % 10 == 9
        n = 0
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30, source_address=(source, 0))
        while not stop.is_set():
            n += 1
            # Real names and made-up ones, each try another password.
            name = f"cw{n % 5}" if n % 2 else f"guess-{i}-{n}"
            try:
                if form:
                    conn.request("GET", "/login")
                    page = conn.getresponse()
                    text = page.read().decode()
                    cookie = (page.getheader("set-cookie") or "").split(";")[0]
                    token = re.search(r'name="csrf" value="([^"]+)"', text)
                    body = urlencode({"name": name, "password": f"guess-{n}", "csrf": token[1] if token else ""})
                    conn.request("POST", "/login", body=body, headers={
                        "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})
                else:
                    auth = "Basic " + base64.b64encode(f"{name}:guess-{n}".encode()).decode()
                    conn.request("GET", "/v1/owners?q=x", headers={"Authorization": auth})
                response = conn.getresponse()
                response.read()
                got[f"{'form' if form else 'basic'} {response.status}"] += 1
            except (OSError, http.client.HTTPException):
                got["error"] += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30, source_address=(source, 0))
        conn.close()

    threads = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join(timeout=30)
    print(dict(sorted(got.items())))


if __name__ == "__main__" and sys.argv[1:2] == ["--attack"]:
    attack(int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]))
elif __name__ == "__main__":
    sizes = [int(x) for x in (sys.argv[1] if len(sys.argv) > 1 else "20,100").split(",")]
    secs = float(sys.argv[2]) if len(sys.argv) > 2 else 60
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    p99s: dict[int, list[float]] = {n: [] for n in sizes}
    medians: dict[int, list[float]] = {n: [] for n in sizes}
    for _ in range(runs):
        for n in sizes:
            p99, login = run(n, secs)
            p99s[n].append(p99)
            medians[n].append(login)
    for n, got in p99s.items():
        print(f"{n} attackers: /healthz p99 over {runs} run(s): min {min(got):.1f} ms, median "
              f"{statistics.median(got):.1f} ms; real login median over runs: min {min(medians[n]):.0f} ms, "
              f"median {statistics.median(medians[n]):.0f} ms", flush=True)
