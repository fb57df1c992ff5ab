"""Compiled templates kept on disk, so a new process need not compile the report's and letters' templates again.

Compiling the caseload report's templates took about 0.1-0.2 s of every ``houfu screen`` (issue 25). jinja2 keeps
a template's compiled code under a key of its name and file and checks it against the template's source, so an
edited template is compiled afresh. The key does not say how the environment compiles (whether it escapes HTML,
how it trims blocks), so each environment's way of compiling has a folder of its own: an HTML letter and a
Markdown one from the same template are different code.

The files live in the knowledge base's cache folder (``houfu.kb.cache``: ``$HOUFU_CACHE``, ``HOUFU_CACHE=off``
turns it off), under ``templates/``; as with the KB's own files, a file is read only if it is the current user's
own and no one else may write it (compiled code runs when loaded), and a cache that cannot be read or written is
simply not used.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from houfu.kb.cache import cache_dir, trusted

if TYPE_CHECKING:
    import jinja2

__all__ = ["keep_compiled"]


@cache
def _kept() -> Any:
    """The cache's class, made once (jinja2 is imported only when a template is rendered)."""
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


def _how(env: jinja2.Environment) -> str:
    """What decides the code an environment compiles a template to, besides the template itself."""
    import jinja2

    def named(x: Any) -> Any:
        """A setting as text that is the same in every process (a function by its name, not its address)."""
        if x is None or isinstance(x, bool | str):
            return x
        return f"{getattr(x, '__module__', '')}.{getattr(x, '__qualname__', type(x).__qualname__)}"

    settings = (jinja2.__version__, named(env.autoescape), env.trim_blocks, env.lstrip_blocks,
                env.keep_trailing_newline, env.newline_sequence, env.block_start_string, env.block_end_string,
                env.variable_start_string, env.variable_end_string, env.comment_start_string,
                env.comment_end_string, env.line_statement_prefix, env.line_comment_prefix, env.optimized,
                env.is_async, named(env.finalize), sorted(env.extensions))
    return hashlib.sha256(repr(settings).encode()).hexdigest()[:16]


def keep_compiled(env: jinja2.Environment) -> jinja2.Environment:
    """``env`` (a jinja2 environment), its compiled templates kept in the cache folder from now on (unless the
    cache is off or cannot be made)."""
    folder = cache_dir()
    if folder is None:
        return env
    where = folder / "templates" / _how(env)
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        # Each level made private itself: ``parents=True`` would make ``templates/`` with the umask's mode (0775
        # under umask 002), which ``trusted`` then refuses on every run.
        where.parent.mkdir(exist_ok=True, mode=0o700)
        where.mkdir(exist_ok=True, mode=0o700)
        if not (trusted(where / ".") and trusted(where.parent / ".")):
            return env
    except OSError:
        return env
    env.bytecode_cache = _kept()(str(where))
    return env
