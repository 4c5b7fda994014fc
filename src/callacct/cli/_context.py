"""Shared command plumbing: find the workspace and open the store from the typer context."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from zoneinfo import ZoneInfo

import typer

from callacct.cli._output import err_console, styled
from callacct.config import Workspace, check_timezone, open_workspace, resolve_workspace_dir
from callacct.directory.scope import Scope, admin_scope, scope_for
from callacct.errors import UsageError
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
            err_console.print(styled("[dim]waiting for another callacct process to finish...[/]"))
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


def as_login_of(ctx: typer.Context) -> str | None:
    """The login given with the global `--as`, if any."""
    value: str | None = (ctx.find_root().obj or {}).get("as_login")
    return value


def scope_from(ctx: typer.Context, workspace: Workspace, store: Store) -> Scope:
    """The scope a read runs in: the `--as` person's, else the operator's (admin)."""
    login = as_login_of(ctx)
    if login is None:
        return admin_scope(workspace.settings)
    return scope_for(store.con, login, workspace.settings)


def require_admin(ctx: typer.Context, workspace: Workspace, store: Store, what: str) -> None:
    """Commands that change the directory run only as the operator or an admin."""
    scope = scope_from(ctx, workspace, store)
    if scope.role != "admin":
        raise UsageError(f"{what} needs an admin; {as_login_of(ctx)!r} is a {scope.role}")


def split_values(values: list[str] | None) -> tuple[str, ...]:
    """Repeatable, comma-separated option values as one tuple: `--ext 1,2 --ext 3`."""
    return tuple(v.strip() for item in values or () for v in item.split(",") if v.strip())


def zone_option(workspace: Workspace, tz: str | None) -> ZoneInfo:
    """The `--tz` zone, else the workspace's reference zone; a bad name is a usage error."""
    try:
        return ZoneInfo(check_timezone(tz or workspace.settings.general.timezone))
    except ValueError as exc:
        raise UsageError(f"--tz: {exc}") from None
