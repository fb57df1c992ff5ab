"""``python -m houfu`` runs the command line."""

from houfu.cli.commands import run

run()
