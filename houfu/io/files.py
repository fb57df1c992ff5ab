"""Files written whole: beside their target under a partial name, then moved onto it in one step.

A reader (a caseworker opening the folder, the next ``houfu screen --since``) sees either the earlier file or the
finished new one, never one cut off midway by an error, Ctrl-C or SIGTERM (issue 25)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

__all__ = ["partial_path", "written_whole"]


def partial_path(path: Path) -> Path:
    """Where ``path`` is written before it is done: ``.NAME.partial`` in the same folder (a rename within one
    file system is a single step)."""
    return path.with_name(f".{path.name}.partial")


@contextlib.contextmanager
def written_whole(path: Path) -> Iterator[Path]:
    """Yield the partial path to write; when the block ends, move it onto ``path``. If the block raises (anything,
    an interrupt too), the partial file is removed and an earlier file at ``path`` is left as it was."""
    partial = partial_path(path)
    try:
        yield partial
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, path)
