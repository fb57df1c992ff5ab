"""The attacks of issue 23, each as a test: refused before the body is read (§1), login that resists guessing
(§2) and forged requests (§3). Each failed on main before the fix."""

from __future__ import annotations

import base64
import logging
import socket
import statistics
import tempfile
import threading
import time
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient

import houfu
from houfu.records.store import RecordStore, Users, default_url
from houfu.web.app import create_app
from houfu.web.auth import FREE_FAILURES, LOCK_AT
from tests.live_server import live_server

EX = Path(__file__).resolve().parent.parent / "examples"
BODY = yaml.safe_load((EX / "dingnan-household.yaml").read_text(encoding="utf-8"))
CW_PW, SUP_PW = "caseworker-password-1", "supervisor-password-1"


@pytest.fixture
def store(tmp_path):
    store = RecordStore(default_url(tmp_path / "data"))
    Users(store).add("cw1", CW_PW, "caseworker")
    Users(store).add("sup", SUP_PW, "supervisor")
    yield store
    store.close()


@pytest.fixture
def app(store):
    return create_app(houfu.load(), houfu.evaluator(), store, dev=False, secret="security")


@pytest.fixture
def spool(tmp_path, monkeypatch):
    """Every temporary file and folder the service makes (an upload's spool, the screen's folder) goes here."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def _basic(name: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{name}:{password}".encode()).decode()}


def _send_head(base: str, head: str, first: bytes, wait: float) -> tuple[float, bytes]:
    """Send a request's head and the first bytes of a large body over a raw socket; the seconds until the
    server answered (or ``wait`` if it did not) and what it answered."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as s:
        start = time.perf_counter()
        s.sendall(head.encode("latin-1") + first)
        s.settimeout(wait)
        try:
            answer = s.recv(65536)
        except TimeoutError:
            return wait, b""
        took = time.perf_counter() - start
        s.settimeout(0.5)
        try:
            while more := s.recv(65536):
                answer += more
                if answer.endswith(b"}"):
                    break
        except (TimeoutError, ConnectionError):
            pass
        return took, answer


# --- §1 refuse before reading ------------------------------------------------------------------------------

def test_an_anonymous_400_mb_upload_is_refused_in_under_a_second_with_no_file_written(app, spool):
    head = ("POST /v1/screen HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=b\r\n"
            f"Content-Length: {400 * 1024 * 1024}\r\n\r\n")
    first = b"--b\r\nContent-Disposition: form-data; name=\"caseload\"; filename=\"a.csv\"\r\n\r\n" + b"x" * (1 << 20)
    with live_server(app) as base:
        took, answer = _send_head(base, head, first, 3.0)
    assert answer.startswith(b"HTTP/1.1 401"), answer[:200]
    assert took < 1.0
    assert b'"log in first"' in answer
    assert list(spool.iterdir()) == []


def test_a_caseworker_is_refused_a_supervisors_upload_before_it_is_read(app, spool):
    head = ("POST /v1/screen HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=b\r\n"
            f"Authorization: {_basic('cw1', CW_PW)['Authorization']}\r\n"
            f"Content-Length: {100 * 1024 * 1024}\r\n\r\n")
    with live_server(app) as base:
        took, answer = _send_head(base, head, b"--b\r\n" + b"x" * (1 << 20), 3.0)
    assert answer.startswith(b"HTTP/1.1 403") and took < 1.0
    assert list(spool.iterdir()) == []


def test_a_content_length_above_the_limit_is_413_at_once_even_for_a_supervisor(app, spool):
    head = ("POST /v1/screen HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=b\r\n"
            f"Authorization: {_basic('sup', SUP_PW)['Authorization']}\r\n"
            f"Content-Length: {300 * 1024 * 1024}\r\n\r\n")
    with live_server(app) as base:
        took, answer = _send_head(base, head, b"--b\r\n", 3.0)
    assert answer.startswith(b"HTTP/1.1 413") and took < 1.0
    assert b'"field":"-"' in answer
    assert list(spool.iterdir()) == []


def test_a_streamed_body_is_counted_and_cut_at_the_limit(app):
    from houfu.web.deps import MAX_BODY

    def chunks():
        for _ in range(MAX_BODY // (1 << 20) + 2):
            yield b" " * (1 << 20)

    with TestClient(app, base_url="https://testserver") as c:
        r = c.post("/v1/check", content=chunks(), headers={"Content-Type": "application/json", **_basic("cw1", CW_PW)})
    assert r.status_code == 413 and r.json()["field"] == "-"


def test_an_upload_that_fails_unexpectedly_leaves_no_folder_behind_and_answers_json(app, spool, monkeypatch):
    import houfu.screen.run

    def broken(*args, **kwargs):
        raise RuntimeError("the screener broke")

    monkeypatch.setattr(houfu.screen.run, "screen_files", broken)
    csv = (EX / "caseload.csv") if (EX / "caseload.csv").exists() else None
    data = csv.read_bytes() if csv else "户主身份证号,姓名\n1,张三\n".encode()
    with TestClient(app, base_url="https://testserver", raise_server_exceptions=False) as c:
        r = c.post("/v1/screen", files={"caseload": ("c.csv", data, "text/csv")}, headers=_basic("sup", SUP_PW))
    assert r.status_code == 500 and r.json()["field"] == "-"
    assert [p.name for p in spool.iterdir() if p.name.startswith("houfu-screen-")] == []


# --- §2 login that resists guessing ------------------------------------------------------------------------

class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_after_40_wrong_passwords_the_41st_try_even_the_right_one_is_refused_until_a_supervisor_unlocks(app):
    clock = Clock()
    app.state.service.auth.throttle.clock = clock
    with TestClient(app, base_url="https://testserver") as c:
        statuses = []
        for _ in range(40):
            clock.now += 10_000  # past any back-off: only the lock can stop the 41st
            statuses.append(c.get("/v1/owners?q=x", headers=_basic("cw1", "wrong-password")).status_code)
        assert statuses[:LOCK_AT] == [401] * LOCK_AT and set(statuses[LOCK_AT:]) == {429}
        clock.now += 10_000
        right = c.get("/v1/owners?q=x", headers=_basic("cw1", CW_PW))
        assert right.status_code == 429 and "locked" in right.json()["error"]
        assert int(right.headers["Retry-After"]) > 0
        # A supervisor (from another address) lifts the lock; then the right password works again.
        app.state.service.auth.throttle.counts.clear()
        assert c.post("/v1/users/cw1/unlock", headers=_basic("sup", SUP_PW)).json() == \
            {"user": "cw1", "was_locked": True}
        assert c.get("/v1/owners?q=x", headers=_basic("cw1", CW_PW)).status_code == 200


def test_failures_in_a_row_earn_a_back_off_answered_429_with_retry_after(app):
    app.state.service.auth.throttle.clock = Clock()
    with TestClient(app, base_url="https://testserver") as c:
        got = [c.get("/v1/owners?q=x", headers=_basic("cw1", "wrong-password")) for _ in range(FREE_FAILURES + 1)]
    assert [r.status_code for r in got] == [401] * FREE_FAILURES + [429]
    assert got[-1].headers["Retry-After"] == "1" and got[-1].json()["field"] == "password"


def test_one_address_guessing_many_names_is_throttled_too(app):
    app.state.service.auth.throttle.clock = Clock()
    with TestClient(app, base_url="https://testserver") as c:
        got = [c.get("/v1/owners?q=x", headers=_basic(f"guess{i}", "wrong-password")).status_code
               for i in range(FREE_FAILURES + 1)]
    assert got == [401] * FREE_FAILURES + [429]


def test_the_login_form_is_throttled_and_says_so(app):
    import re

    app.state.service.auth.throttle.clock = Clock()
    with TestClient(app, base_url="https://testserver") as c:
        token = re.search(r'name="csrf" value="([^"]+)"', c.get("/login?lang=en").text).group(1)
        for _ in range(FREE_FAILURES):
            assert c.post("/login", data={"name": "cw1", "password": "nope", "csrf": token,
                                          "lang": "en"}).status_code == 200
        r = c.post("/login", data={"name": "cw1", "password": CW_PW, "csrf": token, "lang": "en"})
    assert r.status_code == 429 and r.headers["Retry-After"] == "1" and "try again in 1 s" in r.text


def test_each_failed_login_is_written_to_the_security_log(app, caplog):
    with caplog.at_level(logging.WARNING, logger="houfu.security"), \
            TestClient(app, base_url="https://testserver") as c:
        c.get("/v1/owners?q=x", headers=_basic("cw1", "wrong-password"))
    assert any("login failed user='cw1'" in r.getMessage() and r.name == "houfu.security" for r in caplog.records)


def test_an_unknown_name_costs_what_a_known_name_costs(store):
    users = Users(store)
    users.check("nobody", "warm-up-password")
    hashed = []

    class Counting(type(users.hasher)):  # type: ignore[misc]
        def hash(self, *a, **k):
            hashed.append(1)
            return super().hash(*a, **k)

    dummy = users._dummy_hash()
    users.hasher = Counting()
    users._dummy = dummy

    def timed(name: str) -> float:
        start = time.perf_counter()
        users.check(name, "wrong-password")
        return time.perf_counter() - start

    known = statistics.median(timed("cw1") for _ in range(7))
    unknown = statistics.median(timed("nobody") for _ in range(7))
    assert hashed == []  # an unknown name is verified against a hash made once, not hashed afresh
    assert 0.6 < unknown / known < 1.5


def test_healthz_stays_quick_while_forty_wrong_logins_run_at_once(app):
    """Hashing runs in worker threads, two at a time: the event loop answers /healthz meanwhile."""
    import requests

    with live_server(app) as base:
        stop = threading.Event()

        def attack(i: int) -> None:
            with requests.Session() as c:
                while not stop.is_set():
                    c.get(f"{base}/v1/owners?q=x", headers=_basic(f"cw{i % 3}", "wrong-password"))

        attackers = [threading.Thread(target=attack, args=(i,), daemon=True) for i in range(40)]
        for t in attackers:
            t.start()
        took = []
        with requests.Session() as c:
            for _ in range(40):
                start = time.perf_counter()
                assert c.get(f"{base}/healthz").status_code == 200
                took.append(time.perf_counter() - start)
                time.sleep(0.02)
        stop.set()
        for t in attackers:
            t.join(timeout=10)
    assert max(took) < 0.5, f"slowest /healthz {max(took):.3f} s"
