"""Shared command plumbing: the workspace of the typer context, opened through the API."""

from __future__ import annotations

from pathlib import Path

import typer

from callacct.api import Workspace
from callacct.cli._output import err_console, print_error, styled


def workspace_from(ctx: typer.Context) -> Workspace:
    """The workspace of `--workspace` (else `$CALLACCT_HOME`, else the current folder), read as
    the global `--as` person; a person on a terminal is told once if another process holds
    the store, and every warning goes to stderr."""
    told = False

    def waiting(_seconds: float) -> None:
        nonlocal told
        if not told and err_console.is_terminal:
            err_console.print(styled("[dim]waiting for another callacct process to finish...[/]"))
        told = True

    option: Path | None = (ctx.find_root().obj or {}).get("workspace")
    return Workspace.open(option, as_login=as_login_of(ctx), on_wait=waiting, on_warning=warn)


def warn(message: str) -> None:
    """A warning on stderr, one line."""
    print_error("warning:", message, "yellow")


def as_login_of(ctx: typer.Context) -> str | None:
    """The login given with the global `--as`, if any."""
    value: str | None = (ctx.find_root().obj or {}).get("as_login")
    return value


def split_values(values: list[str] | None) -> tuple[str, ...]:
    """Repeatable, comma-separated option values as one tuple: `--ext 1,2 --ext 3`."""
    return tuple(v.strip() for item in values or () for v in item.split(",") if v.strip())
