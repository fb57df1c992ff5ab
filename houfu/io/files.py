"""Files written whole: beside their target under a partial name of their own, then moved onto it in one step.

A reader (a caseworker opening the folder, the next ``houfu screen --since``) sees either the earlier file or the
finished new one, never one cut off midway by an error, Ctrl-C or SIGTERM (issue 25).

The partial file is made new (``O_EXCL``: never a file or link already there, so a link planted at a name it
might take is not written through) under a name no other run takes (two runs to one target each write their
own), is given the mode an earlier file at the target had (else what the umask gives) and flushed to the disk
before it is moved. It is reopened by name to be written: a folder others may write in could swap it for a link
between, which the folders houfu writes in (the user's own, a private temporary one) do not allow."""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["new_partial", "publish", "refuse_overlaps", "written_whole"]


def new_partial(path: Path) -> Path:
    """A new, empty file beside ``path`` to write it in: ``.NAME.<random>.partial``, made here and nowhere else."""
    while True:
        partial = path.with_name(f".{path.name}.{secrets.token_hex(4)}.partial")
        try:
            os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:
            continue
        return partial


def _flush(partial: Path, path: Path) -> None:
    """The partial file's bytes on the disk, and the mode the earlier file at ``path`` had (0640 last month: so this
    month), given only now: a read-only earlier file made the partial one unwritable when it was given at once."""
    fd = os.open(partial, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    with contextlib.suppress(FileNotFoundError):
        os.chmod(partial, stat.S_IMODE(os.stat(path).st_mode))


def _sync_folder(folder: Path) -> None:
    with contextlib.suppress(OSError):  # a folder some file systems will not open or sync: the rename stands
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Ctrl-C and SIGTERM held off for the block, then acted on as they would have been. In the main thread only
    (where Python runs its handlers, whichever thread the kernel gave the signal to: masking the main thread alone
    did not hold them, a review of issue 25 found, as the run's other threads took them); elsewhere, nothing."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    got: list[int] = []

    def hold(signum: int, frame: Any) -> None:
        got.append(signum)

    old: dict[int, Any] = {}
    try:
        for kind in (signal.SIGINT, getattr(signal, "SIGTERM", None)):
            if kind is not None:
                with contextlib.suppress(ValueError, OSError):  # a host that keeps its signals: left as they are
                    old[kind] = signal.signal(kind, hold)
        yield
    finally:
        for kind, handler in old.items():
            if handler is not None:
                signal.signal(kind, handler)
    if got:  # the block is done: the signal now does what it would have done (KeyboardInterrupt, houfu's exit 143)
        handler = old.get(got[0])
        if callable(handler):
            handler(got[0], None)
        elif handler == signal.SIG_DFL:
            signal.raise_signal(got[0])


def publish(*moves: tuple[Path, Path]) -> None:
    """Move finished partial files onto their targets, ``(partial, target)`` in order: each flushed first, then the
    renames back to back with Ctrl-C and SIGTERM held off until they are done (``_signals_held``), so files that
    belong together (determinations and their measures table) are never half one run's and half another's. If any
    step fails, the partial files not moved are removed and the error raised."""
    left = list(moves)
    try:
        for partial, path in moves:
            _flush(partial, path)
        with _signals_held() if len(moves) > 1 else contextlib.nullcontext():
            while left:
                os.replace(*left[0])
                left.pop(0)
    except BaseException:
        for partial, _ in left:
            partial.unlink(missing_ok=True)
        raise
    for folder in {path.parent for _, path in moves}:
        _sync_folder(folder)


@contextlib.contextmanager
def written_whole(path: Path) -> Iterator[Path]:
    """Yield a new partial file to write; when the block ends, move it onto ``path`` (``publish``). If the block
    raises (anything, an interrupt too), the partial file is removed and an earlier file at ``path`` is left as
    it was."""
    partial = new_partial(path)
    try:
        yield partial
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    publish((partial, path))


def _same(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)  # a link, a hard link, another spelling of the same file
    except OSError:  # one of them is not there yet
        return a.resolve() == b.resolve()


def refuse_overlaps(read: dict[str, Path | None], written: dict[str, Path | None]) -> None:
    """One line (``TableError``), before anything is read, if a file a run writes (or removes: an earlier errors
    file) is one it reads, or two it writes are one: ``-o x.csv --errors x.csv`` wrote the determinations and then
    removed them, and an errors path on the members file removed the members (found by a review of issue 25)."""
    from houfu.io.limits import TableError

    outs = [(k, p) for k, p in written.items() if p is not None]
    for i, (what, path) in enumerate(outs):
        for other, given in [(k, p) for k, p in read.items() if p is not None] + outs[:i]:
            if _same(path, given):
                raise TableError(f"{path}: -: {what} would be written over {other}; give another name")
