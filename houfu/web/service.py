"""``houfu serve``: the JSON API and the caseworker's pages, each route one call into the library.

Every determination made here is kept as a decision record (``houfu.records``) and answered with its
``record_id``. Request bodies go through the same hardened reader and strict parser as the CLI, so a bad
body gets the same one-line, field-named error, as JSON. Pages are server-rendered jinja2 in zh (``?lang=en``
for English) and work without JavaScript.

Access: users log in (``houfu users add``); a caseworker creates and reads households, a supervisor also sees
sites and every record. Passwords are argon2 hashes; the session is a signed cookie (HttpOnly, Secure,
SameSite=Strict) and every form carries a CSRF token. The API also takes HTTP Basic credentials, for another
system. In ``--dev`` mode nobody logs in, and every page says so.

The app is built by ``houfu.web.app.create_app`` (re-exported here) from the routers in ``houfu.web.routes``;
this module runs it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from houfu.engine.evaluator import Evaluator
from houfu.kb.loader import KB
from houfu.records.store import RecordStore

from .app import create_app

__all__ = ["BODY_STEP", "BODY_TIMEOUT", "HEAD_TIMEOUT", "WORKER_SETTINGS", "create_app", "head_timeout_protocol",
           "serve", "server_config", "session_secret", "worker_app"]


#: The longest a client may take to send a request's head (line and headers), in seconds: a client that dribbles
#: its headers a byte at a time (slowloris) is answered 408 and cut off, and cannot hold a connection for ever.
HEAD_TIMEOUT = 10.0

#: The longest a client may take to send each ``BODY_STEP`` bytes of a request's body (or the whole of a smaller
#: one), in seconds: a body trickled a byte at a time is answered 408 and its connection closed. At least some
#: 2 KB/s over any 64 KiB: a 200 MB upload may take as long as it needs at that rate.
BODY_TIMEOUT = 30.0
BODY_STEP = 64 * 1024


#: The environment variable through which ``houfu serve --workers N`` tells each worker process what to serve
#: (the policy folder, the records database, the data folder of the session key, dev mode, the login queue): JSON,
#: no secrets of its own (a database URL is as the command was given it).
WORKER_SETTINGS = "HOUFU_SERVE_WORKER"


def _security_log() -> None:
    import logging

    logging.getLogger("houfu.security").setLevel(logging.INFO)
    if not logging.getLogger("houfu.security").handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
        logging.getLogger("houfu.security").addHandler(handler)


def serve(kb: KB, evaluator: Evaluator, store: RecordStore, host: str, port: int, dev: bool,
          secret: str | None = None, forwarded_allow_ips: str | None = None, workers: int = 1,
          policies: Path | None = None, data_dir: Path | None = None, login_queue: int | None = None) -> None:
    """Run the service with uvicorn until interrupted (``server_config``); the security log goes to stderr.
    ``login_queue``: the password checks that may wait for a hashing thread (``houfu.web.auth.HASHING_QUEUE``).

    With ``workers`` above 1, uvicorn starts that many processes on one socket, each building the service
    itself (``worker_app``: the KB from its disk cache, its own evaluator and connection to the records store,
    whose hash chain takes one writer at a time across processes); ``kb``, ``evaluator`` and ``store`` are then
    only this process's, and the workers read ``policies``, ``store.url`` and ``data_dir`` (the session key)."""
    import uvicorn

    from .auth import HASHING_QUEUE

    queue = HASHING_QUEUE if login_queue is None else login_queue
    _security_log()
    if workers <= 1:
        uvicorn.Server(server_config(create_app(kb, evaluator, store, dev, secret, queue), host, port,
                                     forwarded_allow_ips)).run()
        return
    os.environ[WORKER_SETTINGS] = json.dumps({
        "policies": str(policies) if policies else None, "database": store.url, "dev": dev,
        "data_dir": str(data_dir) if data_dir else None, "login_queue": queue})
    store.close()  # each worker opens its own
    config = server_config(f"{__name__}:worker_app", host, port, forwarded_allow_ips, workers=workers)
    from uvicorn.config import STARTUP_FAILURE
    from uvicorn.supervisors import Multiprocess

    # One socket, shared: every live worker serves every connection. A socket per worker (SO_REUSEPORT) spread the
    # connections, but two reviews left sockets no worker served (a replacement that cannot start, SIGTTOU, a
    # cleaned lock folder), where connections hang: docs/performance.md, issue 25's twelfth session.
    supervisor = Multiprocess(config, sockets=[config.bind_socket()])
    supervisor.run()
    if any(p.exitcode == STARTUP_FAILURE for p in supervisor.processes):
        # uvicorn's supervisor stops when a worker cannot start (it logged why): a failure, not a stop asked for.
        raise SystemExit(STARTUP_FAILURE)


def worker_app() -> Any:
    """The app of one worker process of ``houfu serve --workers N`` (a uvicorn factory), built from the settings
    the command left in ``HOUFU_SERVE_WORKER``."""
    from houfu.engine.evaluator import evaluator_for
    from houfu.kb.loader import load, load_default

    settings = json.loads(os.environ[WORKER_SETTINGS])
    _security_log()
    try:
        kb = load(settings["policies"]) if settings["policies"] else load_default()
        data_dir = Path(settings["data_dir"]) if settings["data_dir"] else None
        return create_app(kb, evaluator_for(kb), RecordStore(settings["database"]), settings["dev"],
                          session_secret(data_dir), settings["login_queue"])
    except Exception as exc:
        # A worker that cannot build the service (the policies changed on disk into a broken state, the database
        # gone) ends with uvicorn's startup failure, so the supervisor stops and `houfu serve` exits 3: it was
        # started again every second and a half, a traceback each time, and never said it had failed.
        import logging

        from uvicorn.config import STARTUP_FAILURE

        logging.getLogger("uvicorn.error").error("a worker could not start: %s: %s", type(exc).__name__, exc)
        raise SystemExit(STARTUP_FAILURE) from None


def server_config(app: Any, host: str, port: int, forwarded_allow_ips: str | None = None,
                  head_timeout: float = HEAD_TIMEOUT, body_timeout: float = BODY_TIMEOUT, workers: int = 1) -> Any:
    """uvicorn's configuration for the service: a request's head may be at most 16 KiB and must arrive within
    ``head_timeout`` seconds, each 64 KiB of its body within ``body_timeout``, an idle connection is closed after 5 s, and at most 200 connections are served at
    once (a slow or flooding client cannot hold them all), and a stopping service waits at most 10 s for the
    requests in hand; X-Forwarded-For/-Proto are believed only from
    ``forwarded_allow_ips`` (the TLS proxy), so the throttle sees the real client address. With ``workers``
    above 1, ``app`` is the import string of a factory (``worker_app``), and the protocol is named by its import
    string too, since uvicorn sends the configuration to each worker process."""
    import uvicorn

    many = workers > 1
    return uvicorn.Config(app, host=host, port=port, log_level="warning", proxy_headers=True,
                          forwarded_allow_ips=forwarded_allow_ips, timeout_keep_alive=5,
                          h11_max_incomplete_event_size=16 * 1024, limit_concurrency=200,
                          timeout_graceful_shutdown=10, workers=workers, factory=many,
                          http=f"{__name__}:HeadTimeoutProtocol"
                          if many and head_timeout == HEAD_TIMEOUT and body_timeout == BODY_TIMEOUT
                          else head_timeout_protocol(head_timeout, body_timeout))


def head_timeout_protocol(seconds: float, body_seconds: float = BODY_TIMEOUT) -> type[Any]:
    """uvicorn's HTTP/1.1 protocol (h11) with a deadline on each request's head and on its body. uvicorn bounds
    only the wait between requests (``timeout_keep_alive``, and only until the first byte of the next one
    arrives), so a client sending one header byte every few seconds held a connection for ever; here a timer
    starts when a connection opens and when a response is done, and ends when the head is complete (h11 leaves
    IDLE).

    A body trickled a byte at a time held its worker as long: a second timer starts when the head is complete and
    starts again each ``BODY_STEP`` bytes; if it runs out before the body is complete, the client is answered 408
    (or, if the service has answered already, as after a refusal before reading, the connection is closed). The
    time the service itself keeps the client waiting does not count: while uvicorn has stopped reading (the app
    has not taken the body yet) or the client waits for ``100 Continue``, the timer starts again."""
    import h11
    from uvicorn.protocols.http.h11_impl import H11Protocol

    from .auth import security_log

    class HeadTimeoutProtocol(H11Protocol):
        _head_timer: Any = None
        _body_timer: Any = None
        _body_seen = 0

        def _arm(self) -> None:
            self._disarm()
            self._head_timer = self.loop.call_later(seconds, self._head_timed_out)

        def _disarm(self) -> None:
            if self._head_timer is not None:
                self._head_timer.cancel()
                self._head_timer = None

        def _arm_body(self) -> None:
            self._disarm_body()
            self._body_seen = 0
            self._body_timer = self.loop.call_later(body_seconds, self._body_timed_out)

        def _disarm_body(self) -> None:
            if self._body_timer is not None:
                self._body_timer.cancel()
                self._body_timer = None

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self._arm()

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            if self.conn.their_state is not h11.IDLE:
                self._disarm()  # the head is complete (or the connection is done with)
            if self.conn.their_state is not h11.SEND_BODY:
                self._disarm_body()  # no body, or all of it is here
            elif self._body_timer is None:
                self._arm_body()  # the head is complete: the body's clock starts
            else:
                self._body_seen += len(data)
                if self._body_seen >= BODY_STEP:
                    self._arm_body()  # another 64 KiB arrived in time

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing():
                self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            self._disarm_body()
            super().connection_lost(exc)

        def _body_timed_out(self) -> None:
            self._body_timer = None
            if self.conn.their_state is not h11.SEND_BODY or self.transport.is_closing():
                return
            cycle = getattr(self, "cycle", None)
            if self.flow.read_paused or (cycle is not None and cycle.waiting_for_100_continue):
                self._arm_body()  # the service keeps the client waiting, not the other way round
                return
            client = self.client[0] if self.client else "-"
            security_log.warning("request body too slow addr=%s: answered 408, connection closed", client)
            if self.conn.our_state is h11.SEND_RESPONSE and (cycle is None or not cycle.response_started):
                self.transport.write(b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain\r\n"
                                     b"connection: close\r\ncontent-length: 33\r\n\r\n"
                                     b"the request body took too long.\r\n")
            self.transport.close()

        def _head_timed_out(self) -> None:
            self._head_timer = None
            if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
                self.transport.write(b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain\r\n"
                                     b"connection: close\r\ncontent-length: 33\r\n\r\n"
                                     b"the request head took too long.\r\n")
                self.transport.close()

    return HeadTimeoutProtocol


def __getattr__(name: str) -> Any:
    """``HeadTimeoutProtocol``: the protocol with the default deadline, by import string for worker processes."""
    if name == "HeadTimeoutProtocol":
        protocol = head_timeout_protocol(HEAD_TIMEOUT)
        globals()[name] = protocol
        return protocol
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def session_secret(data_dir: Path | None) -> str:
    """The key that signs session cookies: $HOUFU_SECRET, else a file made once in the data directory (0600)."""
    import os
    import secrets

    if os.environ.get("HOUFU_SECRET"):
        return os.environ["HOUFU_SECRET"]
    folder = data_dir or Path(os.environ.get("HOUFU_DATA_DIR", "houfu-data"))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "session.key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
    return path.read_text(encoding="utf-8").strip()
