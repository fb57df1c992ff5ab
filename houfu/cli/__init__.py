"""The command line (click): one call into the library per command. The top room."""

from .commands import main, run

__all__ = ["main", "run"]
