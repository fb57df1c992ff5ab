"""Files written whole: beside their target under a partial name of their own, then moved onto it in one step.

A reader (a caseworker opening the folder, the next ``houfu screen --since``) sees either the earlier file or the
finished new one, never one cut off midway by an error, Ctrl-C or SIGTERM (issue 25).

The partial file is made new (``O_EXCL``: never a file or link already there, so a link planted at a name it
might take is not written through) under a name no other run takes (two runs to one target each write their
own), with the mode an earlier file at the target had (else what the umask gives), and is flushed to the disk
before it is moved."""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path

__all__ = ["new_partial", "publish", "refuse_overlaps", "written_whole"]


def new_partial(path: Path) -> Path:
    """A new, empty file beside ``path`` to write it in: ``.NAME.<random>.partial``, made here and nowhere else."""
    while True:
        partial = path.with_name(f".{path.name}.{secrets.token_hex(4)}.partial")
        try:
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        try:
            with contextlib.suppress(FileNotFoundError):
                os.fchmod(fd, stat.S_IMODE(os.stat(path).st_mode))  # last month's file was 0640: so is this one
        finally:
            os.close(fd)
        return partial


def publish(partial: Path, path: Path) -> None:
    """Move a finished partial file onto ``path``: its bytes on the disk first, then the rename, then the folder's
    entry. If any step fails the partial file is removed and the error raised."""
    try:
        fd = os.open(partial, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    with contextlib.suppress(OSError):  # a folder some file systems will not open or sync: the rename stands
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


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
    publish(partial, path)


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
