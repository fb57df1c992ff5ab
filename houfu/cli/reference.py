"""The command reference, generated from the click commands themselves (docs/cli.md, the README's table).

``make lint`` runs ``cog --check`` over both files, so a command, option or help text changed here and not
there fails the build: the reference is never kept by hand. To rewrite them: ``cog -r docs/cli.md README.md``.
"""

from __future__ import annotations

from collections.abc import Iterator

import click

from .commands import main

__all__ = ["cli_reference", "command_table", "commands"]

#: The width the help is laid out at, whatever the terminal: the files must not depend on who generated them.
WIDTH = 100


def commands(group: click.Group = main, name: str = "houfu") -> Iterator[tuple[click.Context, click.Command]]:
    """Every command and group under ``group``, in the order ``houfu --help`` lists them, with its context."""
    root = click.Context(group, info_name=name, terminal_width=WIDTH, max_content_width=WIDTH,
                         **group.context_settings)
    yield from _walk(root)


def _walk(ctx: click.Context) -> Iterator[tuple[click.Context, click.Command]]:
    yield ctx, ctx.command
    if isinstance(ctx.command, click.Group):
        for sub in ctx.command.list_commands(ctx):
            cmd = ctx.command.get_command(ctx, sub)
            if cmd is not None and not cmd.hidden:
                yield from _walk(click.Context(cmd, info_name=sub, parent=ctx))


def cli_reference() -> str:
    """Markdown: each command's full help (usage, options, examples), one section per command."""
    out = []
    for ctx, cmd in commands():
        out += [f"## `{ctx.command_path}`", "", "```text", cmd.get_help(ctx).rstrip(), "```", ""]
    return "\n".join(out)


def command_table() -> str:
    """Markdown: a table of the commands (not the groups) with the first line of each one's help."""
    rows = ["| command | what it does |", "|---|---|"]
    for ctx, cmd in commands():
        if isinstance(cmd, click.Group):
            continue
        anchor = ctx.command_path.replace(" ", "-")
        summary = cmd.get_short_help_str(limit=WIDTH).replace("|", "\\|")
        rows.append(f"| [`{ctx.command_path}`](docs/cli.md#{anchor}) | {summary} |")
    return "\n".join(rows) + "\n"
