"""``python -m unifiedqr`` runs the CLI."""

from unifiedqr.cli import main

main()
