"""houfu's version: the one place it is written (pyproject.toml reads it, a report names it as ``houfu_version``).
A module of its own that imports nothing, so every room may read it."""

__version__ = "0.1.0"
