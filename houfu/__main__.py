"""``python -m houfu`` runs the command line."""

from houfu.app.cli import main

main()
