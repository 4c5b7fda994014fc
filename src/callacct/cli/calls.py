"""`callacct calls`: list calls; `callacct calls explain`: how a call's cost came about."""

from __future__ import annotations

import sys
from typing import Annotated
from zoneinfo import ZoneInfo

import polars as pl
import typer
from rich.table import Table

from callacct.cli._app import app
from callacct.cli._context import (
    require_admin,
    scope_from,
    split_values,
    store_of,
    workspace_from,
    zone_option,
)
from callacct.cli._options import count_option, id_argument
from callacct.cli._output import console, print_json, styled
from callacct.errors import NotFoundError
from callacct.i18n import format_datetime
from callacct.query.calls import (
    CallFilter,
    call_in_scope,
    format_cost,
    query_calls,
    time_range,
    write_calls_json,
)
from callacct.rating import explain_call
from callacct.service_numbers import ServiceNumbers
from callacct.store.archive import archived_line

DEFAULT_LAST = 100


calls_app = typer.Typer(no_args_is_help=False)
app.add_typer(calls_app, name="calls")


@calls_app.callback(invoke_without_command=True)
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
    dest_class: Annotated[
        list[str] | None,
        typer.Option(
            "--class",
            help="Destination class(es): international, national, local, mobile, toll_free, "
            "premium, shared_cost, emergency, internal, unknown.",
        ),
    ] = None,
    unpriced: Annotated[
        bool,
        typer.Option("--unpriced", help="Only answered external calls no tariff rate priced."),
    ] = False,
    last: Annotated[
        int | None, count_option("--last", f"The N most recent (default {DEFAULT_LAST}).")
    ] = None,
    all_calls: Annotated[bool, typer.Option("--all", help="Every matching call.")] = False,
    tz: Annotated[
        str | None, typer.Option("--tz", help="Time zone to show times in (default: settings).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print calls as a JSON list.")] = False,
) -> None:
    """List calls, oldest first, with times in the reference time zone.

    An internal call appears once, and under both extensions when filtering by --ext.
    'callacct calls explain ID' shows how a call's cost came about.
    With the global --as LOGIN, only the calls that person may see are listed, with external
    numbers masked as their role requires.

    Examples:
      callacct calls --last 20
      callacct calls --from 2026-11-01 --to 2026-11-30 --ext 2001,2002 --direction outgoing
      callacct calls --number 0612345678 --json
      callacct calls --class unknown --last 50
      callacct calls explain 1234
      callacct --as jdupont calls --last 20
    """
    if ctx.invoked_subcommand is not None:
        return
    workspace = workspace_from(ctx)
    zone = zone_option(workspace, tz)
    first, after = time_range(start, end, zone)
    flt = CallFilter(
        start=first,
        end=after,
        extensions=split_values(ext),
        directions=split_values(direction),
        dispositions=split_values(disposition),
        number=number,
        dest_classes=split_values(dest_class),
        unpriced=unpriced,
        last=None if all_calls else (last or DEFAULT_LAST),
    )
    with store_of(workspace, read_only=True) as store:
        scope = scope_from(ctx, workspace, store)
        frame, total = query_calls(store.con, flt, zone, scope=scope)
    if as_json:
        write_calls_json(frame, sys.stdout)
        sys.stdout.flush()
        return
    _show(frame, total, zone, ServiceNumbers.of(workspace.settings.dialplan))


def _show(frame: pl.DataFrame, total: int, zone: ZoneInfo, services: ServiceNumbers) -> None:
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
        cost = "" if row["cost"] is None else f"{format_cost(row['cost'])} {row['currency'] or ''}"
        table.add_row(
            str(row["call_id"]),
            format_datetime(row["started_at"], "en", zone),
            arrows.get(row["direction"], row["direction"]),
            services.label(row["extension"], "en") or "",
            row["user"] or ("?" if row["undefined_extension"] else ""),
            (services.label(row["remote_number"] or row["peer_extension"], "en") or "") + flags,
            _duration(row["duration_s"]),
            row["disposition"],
            cost,
            row["gateway"] or "",
        )
    console.print(table)
    if total > frame.height:
        console.print(
            styled(
                "[dim]{} of {} matching calls; use --last N or --all[/]", frame.height, f"{total:,}"
            )
        )


def _duration(seconds: int) -> str:
    minutes, sec = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{sec:02d}" if hours else f"{minutes}:{sec:02d}"


@calls_app.command("explain")
def explain_command(
    ctx: typer.Context,
    call_id: Annotated[int, id_argument("Call id (see 'callacct calls').")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the explanation as JSON.")] = False,
) -> None:
    """Show how a call's cost came about: site and dial plan, normalised number and class,
    plan and version, time band, matched rate, billed seconds, fees, minimum and rounding.

    Examples:
      callacct calls explain 1234
      callacct calls explain 1234 --json
    """
    workspace = workspace_from(ctx)
    with store_of(workspace, read_only=True) as store:
        scope = scope_from(ctx, workspace, store)
        if not call_in_scope(store.con, call_id, scope):
            raise NotFoundError(f"no call with id {call_id}; find ids with 'callacct calls'")
        explanation = explain_call(store.con, workspace.settings, call_id)
    if scope.mask_digits:
        explanation = explanation.masked(scope.mask_digits)
    if as_json:
        print_json(explanation.to_dict())
        return
    table = Table(title=f"call {call_id}", show_header=False, box=None, padding=(0, 2, 0, 0))
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    for label, text in explanation.steps:
        table.add_row(label, text)
    console.print(table)


@calls_app.command("raw")
def raw_command(
    ctx: typer.Context,
    call_id: Annotated[int, id_argument("Call id (see 'callacct calls').")],
    as_json: Annotated[bool, typer.Option("--json", help="Print it as JSON.")] = False,
) -> None:
    """Show the source record of a call, as the PBX wrote it: file, line and text, read back
    from the raw archive. For administrators (the record shows every number unmasked).

    Examples:
      callacct calls raw 1234
      callacct calls raw 1234 --json
    """
    workspace = workspace_from(ctx)
    with store_of(workspace, read_only=True) as store:
        require_admin(ctx, workspace, store, "calls raw")
        row = store.con.execute(
            "SELECT c.file_id, c.line_no, f.path FROM calls c JOIN ingest_files f USING (file_id) "
            "WHERE c.call_id = ?",
            [call_id],
        ).fetchone()
        if row is None:
            raise NotFoundError(f"no call with id {call_id}; find ids with 'callacct calls'")
        file_id, line_no, path = row
        text = archived_line(store, file_id, line_no)
    if as_json:
        print_json({"call_id": call_id, "file": path, "line": line_no, "raw": text})
        return
    console.print(f"{path}, line {line_no}:", highlight=False)
    console.print(text, markup=False, highlight=False, soft_wrap=True)
