"""Compiled templates kept on disk, so a new process need not compile the report's and letters' templates again.

Compiling the caseload report's templates took about 0.12 s of every ``houfu screen`` (issue 25). jinja2 keeps a
template's compiled code under a key of its name and checks it against the template's source, so an edited
template is compiled afresh. The files live in the knowledge base's cache folder (``houfu.kb.cache``:
``$HOUFU_CACHE``, ``HOUFU_CACHE=off`` turns it off), in ``templates/``; as with the KB's own files, a file is read
only if it is the current user's own and no one else may write it (compiled code runs when loaded), and a cache
that cannot be read or written is simply not used.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from houfu.kb.cache import cache_dir, trusted

__all__ = ["bytecode_cache"]


def _kept() -> Any:
    import jinja2.bccache

    class Kept(jinja2.bccache.FileSystemBytecodeCache):
        def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
            path = Path(self.directory) / (self.pattern % bucket.key)
            try:
                if not trusted(path):
                    return
                super().load_bytecode(bucket)
            except Exception:  # noqa: BLE001 - missing, corrupt or from another Python: compiled again
                bucket.reset()

        def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
            try:
                super().dump_bytecode(bucket)
            except OSError:  # a full disk or a folder made read-only since: just not kept
                return

    return Kept


@cache
def bytecode_cache() -> Any | None:
    """The jinja2 bytecode cache for houfu's environments, or None when the cache is off or cannot be made."""
    folder = cache_dir()
    if folder is None:
        return None
    where = folder / "templates"
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        where.mkdir(exist_ok=True, mode=0o700)
        if not trusted(where / "."):
            return None
    except OSError:
        return None
    return _kept()(str(where))
