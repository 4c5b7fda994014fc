"""The command-line interface: the only package that prints."""

from __future__ import annotations

from callacct.cli import (  # noqa: F401  (registers the commands)
    auth,
    calls,
    demo,
    directory,
    home,
    ingest,
    init,
    report,
    tariff,
)
from callacct.cli._app import app


def main() -> None:
    app()


__all__ = ["app", "main"]
