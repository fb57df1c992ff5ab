"""Logging in without being guessed (issue 23, §2): every password check goes through ``Authenticator``.

- Throttled per account and per client address: after ``FREE_FAILURES`` failures in a row each further try must
  wait twice as long as the last (1 s, 2 s, 4 s … at most ``MAX_WAIT``), and after ``LOCK_AT`` failures an
  account is locked until a supervisor lifts the lock (``POST /v1/users/{name}/unlock``). A throttled try is
  answered 429 with ``Retry-After`` before any hashing, so guessing costs the service nothing.
- argon2 runs in a worker thread, at most ``HASHING_AT_ONCE`` at a time (each takes 64 MiB and a core): the
  event loop goes on answering, and forty logins at once cannot take gigabytes.
- An unknown name is verified against a dummy hash made once, so it costs what a known name costs.
- Each failure, throttled try and lockout is written to the ``houfu.security`` log.

The counts live in the service's memory (one process); a restart forgets them, and a locked account with them.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import anyio

from houfu.records.store import Users

__all__ = ["FREE_FAILURES", "HASHING_AT_ONCE", "LOCK_AT", "MAX_WAIT", "Authenticator", "Throttle", "Throttled",
           "security_log"]

#: The security log: failed logins, throttled tries, lockouts, refused forgeries and reads of personal records.
security_log = logging.getLogger("houfu.security")

#: Failures in a row before each try has to wait.
FREE_FAILURES = 5
#: Failures in a row after which an account is locked until a supervisor lifts it.
LOCK_AT = 20
#: The longest back-off, in seconds.
MAX_WAIT = 15 * 60
#: argon2 checks running at once (each takes 64 MiB of memory and a core for about 50 ms).
HASHING_AT_ONCE = 2


class Throttled(Exception):
    """Too many failures: try again in ``retry_after`` seconds (``locked``: not before a supervisor says)."""

    def __init__(self, retry_after: int, locked: bool):
        self.retry_after, self.locked = retry_after, locked


@dataclass
class _Count:
    failures: int = 0
    last: float = 0.0


@dataclass
class Throttle:
    """Failures in a row per key (``user:NAME``, ``addr:IP``), the back-off they earn and the locks."""

    clock: Callable[[], float] = time.monotonic
    counts: dict[str, _Count] = field(default_factory=dict)
    locked: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def check(self, name: str, addr: str) -> None:
        """Raise ``Throttled`` if either key must still wait, or the account is locked."""
        with self.lock:
            if name in self.locked:
                raise Throttled(MAX_WAIT, True)
            now = self.clock()
            wait = 0.0
            for key in (f"user:{name}", f"addr:{addr}"):
                count = self.counts.get(key)
                if count is not None and count.failures >= FREE_FAILURES:
                    backoff = min(2.0 ** (count.failures - FREE_FAILURES), MAX_WAIT)
                    wait = max(wait, count.last + backoff - now)
            if wait > 0:
                raise Throttled(max(1, math.ceil(wait)), False)

    def failed(self, name: str, addr: str) -> bool:
        """Count a failure; True if it locked the account."""
        with self.lock:
            now = self.clock()
            for key in (f"user:{name}", f"addr:{addr}"):
                count = self.counts.setdefault(key, _Count())
                count.failures, count.last = count.failures + 1, now
            if self.counts[f"user:{name}"].failures >= LOCK_AT and name not in self.locked:
                self.locked.add(name)
                return True
            return False

    def succeeded(self, name: str, addr: str) -> None:
        with self.lock:
            self.counts.pop(f"user:{name}", None)
            self.counts.pop(f"addr:{addr}", None)

    def unlock(self, name: str) -> bool:
        """Lift an account's lock and forget its failures; True if it was locked."""
        with self.lock:
            self.counts.pop(f"user:{name}", None)
            was = name in self.locked
            self.locked.discard(name)
            return was


class Authenticator:
    """The one place a password is checked: throttled, off the event loop, and logged."""

    def __init__(self, users: Users, throttle: Throttle | None = None, at_once: int = HASHING_AT_ONCE):
        self.users = users
        self.throttle = throttle or Throttle()
        self.limiter = anyio.CapacityLimiter(at_once)

    async def check(self, name: str, password: str, addr: str, via: str) -> str | None:
        """The user's role, or None for a wrong name or password; raises ``Throttled`` before any hashing."""
        name = name[:100]
        try:
            self.throttle.check(name, addr)
        except Throttled as exc:
            security_log.warning("login throttled user=%r addr=%s via=%s retry_after=%ss locked=%s",
                                 name, addr, via, exc.retry_after, exc.locked)
            raise
        role = await anyio.to_thread.run_sync(self.users.check, name, password, limiter=self.limiter)
        if role is None:
            locked = self.throttle.failed(name, addr)
            security_log.warning("login failed user=%r addr=%s via=%s", name, addr, via)
            if locked:
                security_log.warning("account locked user=%r after %d failures in a row", name, LOCK_AT)
            return None
        self.throttle.succeeded(name, addr)
        security_log.info("login user=%r addr=%s via=%s", name, addr, via)
        return role
