"""The command-line interface: the only package that prints."""

from __future__ import annotations

from callacct.cli import calls, demo, ingest, init, tariff  # noqa: F401  (registers the commands)
from callacct.cli._app import app


def main() -> None:
    app()


__all__ = ["app", "main"]
