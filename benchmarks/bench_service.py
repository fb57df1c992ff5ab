"""Latency and throughput of POST /v1/check on a running `houfu serve --workers N` (SQLite records), issue 25.

    python benchmarks/bench_service.py [REQUESTS] [RUNS] [WORKERS]     (default 1000, 3, "1,2")

For each worker count, each run starts `houfu serve --dev --workers N` as its own process on 127.0.0.1 with a
fresh records store, warms it up, then sends REQUESTS sequential checks of the bundled Dingnan household (a new id
each, so each is recorded) over one kept-alive connection and reports p50 and p99; then 4 x REQUESTS / 5 checks
from 16 concurrent clients (each on its own kept-alive connection) for the throughput. Minimum and median over
the runs are printed, with the load average (the clients run on the same cores as the service) and the cores the
service's processes (from /proc, Linux) and the clients used while the clients ran, then the README's table rows
and `houfu records verify` of each run's store.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLIENTS = 16


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Client:
    def __init__(self, port: int, body: dict):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.body = body

    def post(self, ident: str) -> float:
        data = json.dumps({**self.body, "id": ident}).encode("utf-8")
        for attempt in (1, 2):  # the service closes a connection idle for 5 s: open it again once
            try:
                t = time.perf_counter()
                self.conn.request("POST", "/v1/check?as_of=2026-01-01", body=data,
                                  headers={"content-type": "application/json"})
                r = self.conn.getresponse()
                r.read()
                took = time.perf_counter() - t
                break
            except (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected):
                self.conn.close()
                if attempt == 2:
                    raise
        if r.status != 200:
            raise RuntimeError(f"HTTP {r.status}")
        return took


def _cpu_of_tree(pid: int) -> dict[int, float]:
    """CPU seconds (user + system) used so far by a process and by each process under it (Linux /proc; empty
    elsewhere): the service and its worker processes."""
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    total: dict[int, float] = {}
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total[p] = (int(fields[11]) + int(fields[12])) / tick  # utime, stime (fields 14 and 15 of stat)
            for task in Path(f"/proc/{p}/task").iterdir():
                children = task / "children"
                if not children.exists():  # a kernel without CONFIG_PROC_CHILDREN: the workers cannot be found
                    return {}
                todo += [int(c) for c in children.read_text().split()]
        except (OSError, IndexError, ValueError):
            continue  # a process that ended meanwhile
    return total


def one_run(workers: int, n: int, run: int, body: dict
            ) -> tuple[float, float, float, bool, list[float], float]:
    houfu = str(Path(sys.executable).with_name("houfu"))
    port = _free_port()
    with tempfile.TemporaryDirectory() as data:
        server = subprocess.Popen([houfu, "serve", "--dev", "--workers", str(workers), "--port", str(port),
                                   "--data-dir", data], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(600):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.1)
            warm = [_Client(port, body) for _ in range(CLIENTS)]
            for i, c in enumerate(warm):  # each worker process builds its programs on its first checks
                for j in range(10):
                    c.post(f"warm-{run}-{i}-{j}")
            seq = warm[0]
            lat = sorted(seq.post(f"S-{run}-{i}") for i in range(n))
            total = 4 * n // 5
            per = total // CLIENTS
            for i, c in enumerate(warm):  # their connections again, after the sequential part
                c.post(f"rewarm-{run}-{i}")

            def client(k: int) -> None:
                for i in range(per):
                    warm[k].post(f"C-{run}-{k}-{i}")

            threads = [threading.Thread(target=client, args=(k,)) for k in range(CLIENTS)]
            # The cores each side used while the clients ran: the clients share the machine's cores with the
            # service, so what they take is a core the workers cannot have.
            served, clients = _cpu_of_tree(server.pid), time.process_time()
            t = time.perf_counter()
            for th in threads:
                th.start()
            for th in threads:
                th.join()
            took = time.perf_counter() - t
            rate = per * CLIENTS / took
            after = _cpu_of_tree(server.pid)
            # Per process, busiest first: the service's parent and its workers (with one worker, the one process).
            service_cores = sorted(((after[p] - served.get(p, 0.0)) / took for p in after), reverse=True)
            client_cores = (time.process_time() - clients) / took
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(timeout=60)
        verified = subprocess.run([houfu, "records", "verify", "--data-dir", data], capture_output=True).returncode == 0
    return lat[n // 2] * 1000, lat[int(n * 0.99) - 1] * 1000, rate, verified, service_cores, client_cores


def main() -> None:
    import yaml

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    counts = [int(w) for w in (sys.argv[3] if len(sys.argv) > 3 else "1,2").split(",")]
    body = yaml.safe_load((ROOT / "examples" / "dingnan-household.yaml").read_text(encoding="utf-8"))
    results = {}
    load_before = os.getloadavg()[0]
    for workers in counts:
        p50s, p99s, rates, cores = [], [], [], []
        for run in range(runs):
            p50, p99, rate, ok, per_process, client_cores = one_run(workers, n, run, body)
            service_cores = sum(per_process) if per_process else float("nan")
            p50s.append(p50)
            p99s.append(p99)
            rates.append(rate)
            cores.append((service_cores, client_cores))
            print(f"{workers} worker(s), run {run + 1}: p50 {p50:.1f} ms, p99 {p99:.1f} ms, {CLIENTS} clients "
                  f"{rate:.0f} checks/s (the service used {service_cores:.2f} cores: "
                  f"{', '.join(f'{c:.2f}' for c in per_process if c >= 0.005) or '-'} by process; the clients "
                  f"{client_cores:.2f}); records verify: {'ok' if ok else 'FAILED'}; load "
                  f"{os.getloadavg()[0]:.1f}", flush=True)
        results[workers] = (min(p50s), statistics.median(p50s), min(rates), statistics.median(rates),
                            statistics.median(c for c, _ in cores), statistics.median(c for _, c in cores))
    load_after = os.getloadavg()[0]
    when = f"{dt.date.today().isoformat()}, {platform.node() or 'this machine'} ({os.cpu_count()} cores), load " \
           f"{load_before:.1f}-{load_after:.1f}"
    print()
    print("| figure | target | min / median | measured |")
    print("|---|---|---|---|")
    for workers, (p_lo, p_med, r_lo, r_med, s_cores, c_cores) in results.items():
        print(f"| `POST /v1/check` p50, {workers} worker(s), recorded | ≤ 5 ms | {p_lo:.1f} / {p_med:.1f} ms | {when} |")
        print(f"| `POST /v1/check` throughput, {workers} worker(s), {CLIENTS} clients | | {r_lo:.0f} / {r_med:.0f} "
              f"checks/s (service {s_cores:.2f} cores, clients {c_cores:.2f}; medians) | {when} |")
    if 1 in results and 2 in results:
        print(f"| throughput, 2 workers over 1 (medians) | ≥ 1.7× | {results[2][3] / results[1][3]:.2f}× | {when} |")


if __name__ == "__main__":
    main()
