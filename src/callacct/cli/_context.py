"""Shared command plumbing: find the workspace and open the store from the typer context."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import typer

from callacct.cli._output import err_console, print_error, styled
from callacct.config import Workspace, check_timezone, open_workspace, resolve_workspace_dir
from callacct.directory.scope import Scope, admin_scope, scope_for
from callacct.errors import StoreError, UsageError
from callacct.rating.pending import stale_costs_warning
from callacct.store import Store, open_store
from callacct.store.connection import damaged_store_error

log = logging.getLogger(__name__)


def workspace_from(ctx: typer.Context) -> Workspace:
    option: Path | None = (ctx.find_root().obj or {}).get("workspace")
    return open_workspace(resolve_workspace_dir(option))


@contextmanager
def store_of(
    workspace: Workspace, *, read_only: bool = False, rates: bool = False
) -> Iterator[Store]:
    """Open the workspace store, telling the user once if another process holds it, and if
    stored costs may be stale (a tariff not applied yet) — unless the command `rates` the
    calls, which brings them up to date.

    Commands that only read pass `read_only=True`: nothing is written, so they work on a full
    disk or a read-only folder, and several run at once. A damaged store file, found when it is
    opened or while it is read, is a one-line error saying what to do.
    """
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
        read_only=read_only,
    )
    try:
        stale = None if rates else stale_costs_warning(store.con)
        if stale:
            print_error("warning:", stale, "yellow")
        yield store
    except duckdb.Error as exc:
        damaged = damaged_store_error(store.path, exc)
        if damaged is None:
            raise
        raise damaged from exc
    finally:
        store.close()


def record_usage(workspace: Workspace, note: Callable[[duckdb.DuckDBPyConnection], object]) -> None:
    """Write a note no command depends on (which reports a person runs, for `home`) after a
    read, without making the read wait or fail: skipped when another process holds the store,
    or it cannot be written (a full disk, a read-only folder)."""
    settings = workspace.settings.store
    try:
        store = open_store(
            workspace.store_path, lock_timeout_s=0, memory_limit=settings.memory_limit
        )
    except StoreError as exc:
        log.info("usage note skipped: %s", exc)
        return
    try:
        with store.transaction() as con:
            note(con)
    except duckdb.Error as exc:
        log.info("usage note skipped: %s", exc)
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
