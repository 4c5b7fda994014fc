"""`callacct calls`: list calls."""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo

import polars as pl
import typer
from rich.table import Table

from callacct.cli._app import app
from callacct.cli._context import scope_from, store_of, workspace_from
from callacct.cli._output import console, print_json
from callacct.config import check_timezone
from callacct.errors import UsageError
from callacct.query.calls import CallFilter, calls_as_json, parse_when, query_calls

DEFAULT_LAST = 100


def _split(values: list[str] | None) -> tuple[str, ...]:
    return tuple(v.strip() for item in values or () for v in item.split(",") if v.strip())


@app.command("calls")
def calls_command(
    ctx: typer.Context,
    start: Annotated[
        str | None, typer.Option("--from", help="First day (YYYY-MM-DD) or date-time.")
    ] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last day, inclusive.")] = None,
    ext: Annotated[
        list[str] | None, typer.Option("--ext", help="Extension(s), comma-separated.")
    ] = None,
    direction: Annotated[
        list[str] | None,
        typer.Option("--direction", help="incoming, outgoing or internal (comma-separated)."),
    ] = None,
    disposition: Annotated[
        list[str] | None,
        typer.Option("--disposition", help="answered, missed, busy or failed."),
    ] = None,
    number: Annotated[
        str | None, typer.Option("--number", help="Calls to or from this number.")
    ] = None,
    last: Annotated[
        int | None, typer.Option("--last", help=f"The N most recent (default {DEFAULT_LAST}).")
    ] = None,
    all_calls: Annotated[bool, typer.Option("--all", help="Every matching call.")] = False,
    tz: Annotated[
        str | None, typer.Option("--tz", help="Time zone to show times in (default: settings).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print calls as a JSON list.")] = False,
) -> None:
    """List calls, oldest first, with times in the reference time zone.

    An internal call appears once, and under both extensions when filtering by --ext.
    With the global --as LOGIN, only the calls that person may see are listed, with external
    numbers masked as their role requires.

    Examples:
      callacct calls --last 20
      callacct calls --from 2026-11-01 --to 2026-11-30 --ext 2001,2002 --direction outgoing
      callacct calls --number 0612345678 --json
      callacct --as jdupont calls --last 20
    """
    workspace = workspace_from(ctx)
    try:
        zone = ZoneInfo(check_timezone(tz or workspace.settings.general.timezone))
    except ValueError as exc:
        raise UsageError(f"--tz: {exc}") from None
    if last is not None and last < 1:
        raise UsageError("--last must be at least 1")
    flt = CallFilter(
        start=parse_when(start, zone) if start else None,
        end=parse_when(end, zone, end=True) if end else None,
        extensions=_split(ext),
        directions=_split(direction),
        dispositions=_split(disposition),
        number=number,
        last=None if all_calls else (last or DEFAULT_LAST),
    )
    with store_of(workspace) as store:
        scope = scope_from(ctx, workspace, store)
        frame, total = query_calls(store.con, flt, zone, scope=scope)
    if as_json:
        print_json(calls_as_json(frame))
        return
    _show(frame, total, zone)


def _show(frame: pl.DataFrame, total: int, zone: ZoneInfo) -> None:
    if frame.height == 0:
        console.print("No calls match.")
        return
    table = Table(caption=f"times in {zone.key}", caption_justify="right")
    table.add_column("id", justify="right", style="dim")
    table.add_column("started")
    table.add_column("dir")
    table.add_column("ext")
    table.add_column("user")
    table.add_column("remote / peer")
    table.add_column("duration", justify="right")
    table.add_column("result")
    table.add_column("cost", justify="right")
    table.add_column("gateway")
    arrows = {"incoming": "← in", "outgoing": "→ out", "internal": "↔ int"}
    for row in frame.iter_rows(named=True):
        flags = "".join(
            mark
            for key, mark in (("transfer", " ⇄"), ("forward", " ↪"), ("conference", " ⊕"))
            if row[key]
        )
        cost = "" if row["cost"] is None else f"{row['cost']:.2f} {row['currency'] or ''}"
        table.add_row(
            str(row["call_id"]),
            row["started_at"].strftime("%Y-%m-%d %H:%M:%S"),
            arrows.get(row["direction"], row["direction"]),
            row["extension"] or "",
            row["user"] or ("?" if row["undefined_extension"] else ""),
            (row["remote_number"] or row["peer_extension"] or "") + flags,
            _duration(row["duration_s"]),
            row["disposition"],
            cost,
            row["gateway"] or "",
        )
    console.print(table)
    if total > frame.height:
        console.print(f"[dim]{frame.height} of {total:,} matching calls; use --last N or --all[/]")


def _duration(seconds: int) -> str:
    minutes, sec = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{sec:02d}" if hours else f"{minutes}:{sec:02d}"
