"""Shared command plumbing: find the workspace and open the store from the typer context."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer

from callacct.cli._output import err_console
from callacct.config import Workspace, open_workspace, resolve_workspace_dir
from callacct.store import Store, open_store


def workspace_from(ctx: typer.Context) -> Workspace:
    option: Path | None = (ctx.find_root().obj or {}).get("workspace")
    return open_workspace(resolve_workspace_dir(option))


@contextmanager
def store_of(workspace: Workspace) -> Iterator[Store]:
    """Open the workspace store, telling the user once if another process holds it."""
    told = False

    def waiting(seconds: float) -> None:
        nonlocal told
        if not told and err_console.is_terminal:
            err_console.print("[dim]waiting for another callacct process to finish...[/]")
        told = True

    settings = workspace.settings.store
    store = open_store(
        workspace.store_path,
        lock_timeout_s=settings.lock_timeout_s,
        memory_limit=settings.memory_limit,
        on_wait=waiting,
    )
    try:
        yield store
    finally:
        store.close()
