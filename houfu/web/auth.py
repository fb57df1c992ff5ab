"""Logging in without being guessed (issue 23, §2): every password check goes through ``Authenticator``.

- Throttled per account and per client address: after ``FREE_FAILURES`` failures in a row each further try must
  wait twice as long as the last (1 s, 2 s, 4 s … at most ``MAX_WAIT``), and after ``LOCK_AT`` failures an
  account is locked until a supervisor lifts the lock (``POST /v1/users/{name}/unlock``). A throttled try is
  answered 429 with ``Retry-After`` before any hashing, held up to ``TARPIT`` first, so guessing costs the service
  nothing and a guessing script cannot spin.
- argon2 runs in worker threads of its own, at most ``HASHING_AT_ONCE`` at a time (each takes 64 MiB and a core),
  at a low CPU priority (nice ``HASHING_NICE``, on Linux per thread): the event loop goes on answering first
  however many guessers hash at once, and forty logins at once cannot take gigabytes.
- At most ``HASHING_QUEUE`` password checks wait for those threads (``houfu serve --login-queue``); one more is
  answered 429 with ``Retry-After`` without hashing (``Busy``), and logged. As many places again are kept for
  tries from a clean address (no failed login in a row, at most ``CLEAN_TRIES`` tries a minute), and as many
  again for an address a user logged in from (the last ``KNOWN``), and those go first, known before clean: guessers who keep the queue full do not keep a real user out of it or behind them
  (a real login waited half a minute behind a hundred guessing addresses). A known or clean try is refused at once; any
  other is held up to ``BUSY_HOLD`` first, so a refused guesser cannot spin. An API token (no hashing) or
  ``/healthz`` never waits at all.
- An unknown name is verified against a dummy hash made once, so it costs what a known name costs.
- Each failure, throttled try and lockout is written to the ``houfu.security`` log.
- A script may send an API token (``Authorization: Bearer houfu_…``, made by ``houfu users token NAME``) instead
  of a password: it is looked up by its sha256, so it costs no hashing, and a lock does not stop it.

The failure counts and back-off of each key live in the service's memory; the counts of a real account are also
kept in the database (``users.failures``, revision 0008), so a restart or a second worker process does not give a
guesser a fresh start: the account locks after ``LOCK_AT`` failures in a row however many processes counted them.
A lock is kept in the database (``users.locked_at``), so a restart does not lift it, and a lock lifted elsewhere
(``houfu users unlock``, another process) is seen within ``REFRESH`` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

import anyio

from houfu.records.store import Users

__all__ = ["BUSY_HOLD", "CLEAN_REFUSALS", "CLEAN_TRIES", "CLEAN_WINDOW", "FREE_FAILURES", "HASHING_AT_ONCE", "HASHING_NICE",
           "HASHING_QUEUE", "KNOWN", "LOCK_AT", "MAX_WAIT", "REFRESH", "TARPIT", "Authenticator", "Busy", "Throttle",
           "Throttled", "hold", "security_log"]

#: The security log: failed logins, throttled tries, lockouts, refused forgeries and reads of personal records.
security_log = logging.getLogger("houfu.security")

#: Failures in a row before each try has to wait.
FREE_FAILURES = 5
#: Failures in a row after which an account is locked until a supervisor lifts it.
LOCK_AT = 20
#: The longest back-off, in seconds.
MAX_WAIT = 15 * 60
#: How often, at most, the locks kept in the database are read again while a locked account is tried (seconds).
REFRESH = 5.0
#: The nice value of the hashing threads (0 is the default, 19 the lowest): while guessers keep them busy, the
#: event loop (and every other request) gets the CPU first; a login waits rather than the whole service.
HASHING_NICE = 10
#: argon2 checks running at once (each takes 64 MiB of memory and a core for about 50 ms).
HASHING_AT_ONCE = 2
#: Password checks that may wait for a hashing thread (``houfu serve --login-queue``); one more is answered 429 at
#: once. As many again are kept for tries from an address with no failures in a row, which go first. Twice the
#: threads: a login waits at most about three checks' time (some 0.2 s on an idle machine).
HASHING_QUEUE = 2 * HASHING_AT_ONCE


class Throttled(Exception):
    """Too many failures: try again in ``retry_after`` seconds (``locked``: not before a supervisor says)."""

    def __init__(self, retry_after: int, locked: bool):
        self.retry_after, self.locked = retry_after, locked


class Busy(Throttled):
    """Too many password checks are waiting already: try again in ``retry_after`` seconds (nothing was hashed and
    nothing counts as a failure)."""

    def __init__(self, retry_after: int):
        super().__init__(retry_after, False)


#: A client address is "clean" (its password tries go first in the hashing queue, and have places kept for them)
#: while it has no failed login in a row and has made at most ``CLEAN_TRIES`` tries (and ``CLEAN_REFUSALS`` tries
#: refused for a full queue) in ``CLEAN_WINDOW`` seconds since its last login: a guesser always refused for a full
#: queue stops being clean too.
CLEAN_TRIES = 3
CLEAN_WINDOW = 60.0
#: Tries refused for a full queue within ``CLEAN_WINDOW`` after which an address is no longer clean (a guesser
#: refused at once would otherwise stay clean; a person trying again every few seconds does).
CLEAN_REFUSALS = 10
#: The addresses a user last logged in from that are remembered (in memory): their tries go before a clean
#: address's, so guessers from fresh addresses do not keep an office's users out either.
KNOWN = 10_000
#: The longest a throttled try is held before its 429, in seconds (a tarpit: a guessing script answered at once
#: only loops faster, and ten form guessers looping so held /healthz up to 440 ms at p99); tests set it to 0.
TARPIT = 1.0
#: The longest a try refused for a full queue is held before its 429 when its address is not clean, in seconds: a
#: guessing script refused at once would only loop faster and crowd the event loop. A clean try is answered at once.
BUSY_HOLD = 1.0


@dataclass
class _Count:
    failures: int = 0
    last: float = 0.0
    tries: int = 0  # password tries hashed since ``since`` (per address)
    refused: int = 0  # and refused for a full queue
    since: float = -math.inf


@dataclass
class Throttle:
    """Failures in a row per key (``user:NAME``, ``addr:IP``), the back-off they earn and the locks."""

    clock: Callable[[], float] = time.monotonic
    counts: dict[str, _Count] = field(default_factory=dict)
    locked: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)
    #: The locks kept in the database (``Users.locked``), if any; ``kept`` are the names whose lock it holds
    #: (a guessed name that is no user is locked in memory only).
    source: Callable[[], set[str]] | None = None
    kept: set[str] = field(default_factory=set)
    read_at: float = -math.inf
    #: The addresses users logged in from, the most recent ``KNOWN`` (in order, the newest last).
    known: dict[str, None] = field(default_factory=dict)

    def reload(self) -> None:
        """Read the locks kept in the database: one lifted there is lifted here, one made there is made here."""
        if self.source is None:
            return
        now = self.source()
        with self.lock:
            for name in self.kept - now:
                self.locked.discard(name)
                self.counts.pop(f"user:{name}", None)
            self.locked |= now
            self.kept = set(now)
            self.read_at = self.clock()

    def check(self, name: str, addr: str) -> None:
        """Raise ``Throttled`` if either key must still wait, or the account is locked."""
        if name in self.locked and name in self.kept and self.clock() - self.read_at > REFRESH:
            self.reload()  # lifted by `houfu users unlock` or another process?
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

    def failed(self, name: str, addr: str, kept: int | None = None) -> bool:
        """Count a failure (``kept``: the account's failures in a row as the database now counts them, this one
        included, which a restart or another process did not forget); True if it locked the account."""
        with self.lock:
            now = self.clock()
            for key in (f"user:{name}", f"addr:{addr}"):
                count = self.counts.setdefault(key, _Count())
                count.failures, count.last = count.failures + 1, now
            if kept is not None:
                count = self.counts[f"user:{name}"]
                count.failures = max(count.failures, kept)
            if self.counts[f"user:{name}"].failures >= LOCK_AT and name not in self.locked:
                self.locked.add(name)
                return True
            return False

    def tried(self, addr: str) -> int:
        """Count a password try from ``addr``; its place in the hashing queue: 0 for an address a user logged in
        from (``KNOWN``) with no failure since, 1 for a clean one (``CLEAN_TRIES``), 2 for any other."""
        with self.lock:
            now = self.clock()
            count = self.counts.setdefault(f"addr:{addr}", _Count())
            if now - count.since > CLEAN_WINDOW:
                count.tries, count.refused, count.since = 0, 0, now
            count.tries += 1
            if count.failures:
                return 2
            if addr in self.known:
                return 0
            return 1 if count.tries <= CLEAN_TRIES and count.refused <= CLEAN_REFUSALS else 2

    def refused(self, addr: str) -> None:
        """A try from ``addr`` was refused for a full queue: it counts as a refusal (``CLEAN_REFUSALS``), not as a
        try, so a real user who tries again during a burst of guessers is not taken for one."""
        with self.lock:
            count = self.counts.get(f"addr:{addr}")
            if count is not None:
                count.tries, count.refused = count.tries - 1, count.refused + 1

    def succeeded(self, name: str, addr: str) -> None:
        with self.lock:
            self.counts.pop(f"user:{name}", None)
            self.counts.pop(f"addr:{addr}", None)
            self.known.pop(addr, None)
            self.known[addr] = None  # the newest last
            while len(self.known) > KNOWN:
                del self.known[next(iter(self.known))]

    def unlock(self, name: str) -> bool:
        """Lift an account's lock and forget its failures; True if it was locked."""
        with self.lock:
            self.counts.pop(f"user:{name}", None)
            was = name in self.locked
            self.locked.discard(name)
            self.kept.discard(name)
            return was


async def hold(exc: Throttled) -> None:
    """Hold a throttled try up to ``TARPIT`` before its 429 (whichever way it came in)."""
    await anyio.sleep(min(float(exc.retry_after), TARPIT))


class Authenticator:
    """The one place a password is checked: throttled, off the event loop, and logged."""

    def __init__(self, users: Users, throttle: Throttle | None = None, at_once: int = HASHING_AT_ONCE,
                 queue: int = HASHING_QUEUE):
        self.users = users
        self.throttle = throttle or Throttle(source=users.locked)
        self.throttle.reload()  # the locks kept before a restart
        self.hashing = _LowPriorityThreads(at_once, queue)

    def unlock(self, name: str) -> bool:
        """Lift an account's lock, here and in the database; True if it was locked."""
        here = self.throttle.unlock(name[:100])
        kept = self.users.unlock(name[:100])
        return here or kept

    async def token(self, token: str, addr: str) -> tuple[str, str] | None:
        """The (name, role) of an API token's user, or None (logged); no hashing beyond a sha256."""
        found = await anyio.to_thread.run_sync(self.users.by_token, token)
        if found is None:
            security_log.warning("token refused addr=%s", addr)
        else:
            security_log.info("login user=%r addr=%s via=token", found[0], addr)
        return found

    async def check(self, name: str, password: str, addr: str, via: str) -> str | None:
        """The user's role, or None for a wrong name or password; raises ``Throttled`` before any hashing."""
        name = name[:100]
        try:
            self.throttle.check(name, addr)
        except Throttled as exc:
            security_log.warning("login throttled user=%r addr=%s via=%s retry_after=%ss locked=%s",
                                 name, addr, via, exc.retry_after, exc.locked)
            await hold(exc)
            raise
        place = self.throttle.tried(addr)
        try:
            checked = self.hashing.submit(self.users.verify, name, password, place=place)
        except Busy as exc:
            self.throttle.refused(addr)
            security_log.warning("login refused, %d password checks waiting already user=%r addr=%s via=%s "
                                 "retry_after=%ss place=%d", self.hashing.bound, name, addr, via, exc.retry_after,
                                 place)
            if place == 2:
                await anyio.sleep(min(float(exc.retry_after), BUSY_HOLD))
            raise
        verified: tuple[str | None, int, bool] = await asyncio.wrap_future(checked)
        role, before, locked_there = verified
        if locked_there:  # locked by another process (a second worker) since this one last read the locks
            with self.throttle.lock:
                self.throttle.locked.add(name)
                self.throttle.kept.add(name)
            security_log.warning("login throttled user=%r addr=%s via=%s locked=True (in the database)", name,
                                 addr, via)
            raise Throttled(MAX_WAIT, True)
        if role is None:
            kept = await anyio.to_thread.run_sync(self.users.failed, name)  # None: no such user
            locked = self.throttle.failed(name, addr, kept)
            security_log.warning("login failed user=%r addr=%s via=%s", name, addr, via)
            if locked:
                security_log.warning("account locked user=%r after %d failures in a row", name, LOCK_AT)
                if await anyio.to_thread.run_sync(self.users.lock, name):
                    with self.throttle.lock:
                        self.throttle.kept.add(name)
            return None
        self.throttle.succeeded(name, addr)
        if before:
            await anyio.to_thread.run_sync(self.users.succeeded, name)
        security_log.info("login user=%r addr=%s via=%s", name, addr, via)
        return role


class _LowPriorityThreads:
    """``at_once`` daemon threads, started on first use, each at nice ``HASHING_NICE``: a call submitted here runs
    on one of them. At most ``bound`` calls wait while the threads are busy (``pending`` counts those running and
    those waiting); ``submit`` raises ``Busy`` beyond that, with a ``Retry-After`` guessed from how long the last
    checks took. Calls wait in order of their ``place`` (0: from an address a user logged in from, 1: from a clean
    one, 2: any other; ``Throttle.tried``), first come first served within one; a call of place 1 may take
    ``bound`` more places than one of place 2, and one of place 0 ``bound`` more again: guessers who keep the
    queue full cannot keep a real user out of it. Daemon threads, so a stopping service does not first work
    through the hashes queued by guessers; a call whose caller has gone (its future cancelled) is skipped."""

    def __init__(self, at_once: int, bound: int = HASHING_QUEUE):
        self.at_once, self.bound = at_once, bound
        self.queue: queue.PriorityQueue[tuple[int, int, Future[Any], Callable[..., Any], tuple[Any, ...]]] = \
            queue.PriorityQueue()
        self.started = False
        self.lock = threading.Lock()
        self.pending = 0  # submitted and not yet done: running, or waiting for a thread
        self.seq = 0  # first come, first served, among calls of one priority
        self.took = 0.05  # seconds a check takes, a moving average (argon2 at houfu's parameters, idle)

    def submit(self, fn: Callable[..., Any], *args: Any, place: int = 2) -> Future[Any]:
        with self.lock:
            if not self.started:
                for i in range(self.at_once):
                    threading.Thread(target=self._work, name=f"houfu-argon2-{i}", daemon=True).start()
                self.started = True
            # Each place has ``bound`` more room than the one after it: guessers fill only their own.
            if self.pending >= self.at_once + self.bound * (3 - min(max(place, 0), 2)):
                # The queue drains at_once checks per check's time: by then there is room again.
                raise Busy(max(1, math.ceil(self.took * (self.pending - self.at_once + 1) / self.at_once)))
            self.pending += 1
            self.seq += 1
            seq = self.seq
        future: Future[Any] = Future()
        self.queue.put((place, seq, future, fn, args))
        return future

    def _work(self) -> None:
        _lowest_priority()
        while True:
            _, _, future, fn, args = self.queue.get()
            start = time.monotonic()
            try:
                if future.set_running_or_notify_cancel():
                    try:
                        future.set_result(fn(*args))
                    except BaseException as exc:  # handed to the caller, as run_in_executor would
                        future.set_exception(exc)
            finally:
                with self.lock:
                    self.pending -= 1
                    self.took = 0.8 * self.took + 0.2 * (time.monotonic() - start)


def _lowest_priority() -> None:
    """Run this thread (and the threads argon2 starts from it) at nice ``HASHING_NICE``, where the system
    allows: on Linux ``setpriority`` with a thread's own id sets that thread's nice value alone."""
    # Not Linux, or not allowed: the bound on hashing at once still holds.
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HASHING_NICE)
