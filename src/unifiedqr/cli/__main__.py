"""``python -m unifiedqr.cli`` runs the CLI."""

from unifiedqr.cli import main

main()
