"""``python -m shopml`` runs the CLI."""

from shopml.cli.main import app

app()
