"""The loaded knowledge base kept on disk, so a new process need not parse YAML and validate it again.

Parsing the 22 policy files and validating them into models is most of a cold ``houfu check`` (issue 25,
docs/performance.md). ``load`` keeps what it built as a pickle in the cache folder, keyed by:

- the SHA-256 of every file under the policy folder (their paths and bytes, as ``kb_version`` reads them),
  and the folder's own path (a loaded KB names its folder);
- houfu's version and the source of the modules that build the KB (``houfu/kb/*.py``), and the Python and
  pydantic versions (a pickle of models is only good for the classes that made it).

The folder is ``$HOUFU_CACHE`` if set, else ``$XDG_CACHE_HOME/houfu``, else ``~/.cache/houfu``;
``HOUFU_CACHE=off`` turns the cache off. Deleting it is always safe. A file is read only if it is the current
user's own and no one else may write it (a pickle runs code when read), and only if the key it holds is the key
of the files as they are now; one that is stale, corrupt, or cannot be read is ignored and written again.
Writing is atomic (a temporary file renamed over the old one), and a folder that cannot be written to is
simply not used.
"""

from __future__ import annotations

import copyreg
import hashlib
import os
import pickle
import sys
import tempfile
from pathlib import Path
from types import MappingProxyType
from typing import Any

__all__ = ["cache_dir", "cache_key", "derived_key", "read", "trusted", "write"]

#: Bump when the pickled form changes in a way the source hash would not show.
FORMAT = 1



def _proxy(items: dict[Any, Any]) -> MappingProxyType[Any, Any]:
    return MappingProxyType(items)


def _reduce_proxy(m: MappingProxyType[Any, Any]) -> tuple[Any, ...]:
    return _proxy, (dict(m),)


# The KB's indexes are read-only views (MappingProxyType), which pickle cannot take by itself.
copyreg.pickle(MappingProxyType, _reduce_proxy)


def cache_dir() -> Path | None:
    """Where the cache lives, or None when it is turned off (``HOUFU_CACHE=off``)."""
    given = os.environ.get("HOUFU_CACHE")
    if given:
        return None if given.lower() in ("off", "0", "no", "false") else Path(given)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "houfu"


def _code_hash() -> bytes:
    import pydantic

    from houfu._version import __version__

    h = hashlib.sha256()
    h.update(__version__.encode())

    h.update(f"\0{sys.version}\0{pydantic.VERSION}\0{FORMAT}\0".encode())
    for path in sorted(Path(__file__).parent.glob("*.py")):
        h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.digest()


def cache_key(folder: Path, content_hash: str) -> str:
    """The key of a KB loaded from ``folder`` whose files hash to ``content_hash`` (``loader.content_hash``)."""
    h = hashlib.sha256(_code_hash())
    h.update(str(folder.resolve()).encode() + b"\0" + content_hash.encode())
    return h.hexdigest()


def derived_key(base: str, *parts: str, sources: tuple[Path, ...] = ()) -> str:
    """The key of something built from a cached KB (``base``, its ``cache_key``) by the code in ``sources``: a
    rule program compiled by the engine room is kept under it."""
    h = hashlib.sha256(base.encode())
    for part in parts:
        h.update(b"\0" + part.encode())
    for path in sources:
        h.update(b"\0" + path.read_bytes())
    return h.hexdigest()


def _path(folder: Path, key: str) -> Path:
    return folder / f"kb-{key[:40]}.pickle"


#: Older files beyond this many are removed when one is written (each edit of a policy file makes a new key).
KEEP = 32


def _prune(folder: Path) -> None:
    files = sorted(folder.glob("kb-*.pickle"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in files[KEEP:]:
        old.unlink(missing_ok=True)


def trusted(path: Path) -> bool:
    """The file and its folder are the current user's, and no one else may write them."""
    if not hasattr(os, "getuid"):  # pragma: no cover - Windows: the user's profile folder is private
        return True
    uid = os.getuid()
    for p in (path.parent, path):
        st = p.stat()
        if st.st_uid != uid or st.st_mode & 0o022:
            return False
    return True


def read(key: str) -> Any | None:
    """What is kept under ``key`` (a KB, a program), or None (no cache, not trusted, another key, or unreadable)."""
    folder = cache_dir()
    if folder is None:
        return None
    path = _path(folder, key)
    try:
        if not trusted(path):
            return None
        with path.open("rb") as fh:
            stored_key, kb = pickle.load(fh)  # noqa: S301 - the user's own file, checked above, keyed below
    except Exception:  # noqa: BLE001 - a missing, corrupt or old cache is rebuilt, never an error
        return None
    return kb if stored_key == key else None


def write(key: str, kb: Any) -> None:
    """Keep ``kb`` (or any picklable thing built from one) under ``key``; a cache that cannot be written is skipped without a word."""
    folder = cache_dir()
    if folder is None:
        return
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        data = pickle.dumps((key, kb), protocol=pickle.HIGHEST_PROTOCOL)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".kb-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, _path(folder, key))
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        _prune(folder)
    except Exception:  # noqa: BLE001 - read-only home, full disk, an unpicklable calculator: just not cached
        return
