"""`callacct calls`: list calls; `callacct calls explain`: how a call's cost came about."""

from __future__ import annotations

import sys
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.table import Table

from callacct.api import CallFilter, CallList
from callacct.cli._app import app
from callacct.cli._context import language_of, split_values, workspace_from
from callacct.cli._options import LangOption, count_option, id_argument
from callacct.cli._output import console, duration_text, print_json, styled
from callacct.formats import money_text
from callacct.i18n import format_datetime, format_number, t
from callacct.service_numbers import ServiceNumbers

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
    lang: LangOption = None,
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
      callacct calls --last 20 --lang de
    """
    if ctx.invoked_subcommand is not None:
        return
    flt = CallFilter(
        start=start,
        end=end,
        extensions=split_values(ext),
        directions=split_values(direction),
        dispositions=split_values(disposition),
        number=number,
        dest_classes=split_values(dest_class),
        unpriced=unpriced,
        last=None if all_calls else (last or DEFAULT_LAST),
    )
    workspace = workspace_from(ctx)
    language = language_of(ctx, workspace, lang)
    found = workspace.calls(flt, tz=tz)
    if as_json:
        found.write_json(sys.stdout)
        sys.stdout.flush()
        return
    _show(found, workspace.services, language)


def _show(found: CallList, services: ServiceNumbers, language: str) -> None:
    frame, total, zone = found.frame, found.total, ZoneInfo(found.timezone)
    if frame.height == 0:
        console.print(t("ui.no_rows", language))
        return
    table = Table(caption=t("cli.calls.times_in", language, zone=zone.key), caption_justify="right")
    table.add_column(t("cli.calls.id", language), justify="right", style="dim")
    for key in ("started", "dir", "ext", "user", "remote"):
        table.add_column(t(f"cli.calls.{key}", language))
    table.add_column(t("cli.calls.duration", language), justify="right")
    table.add_column(t("cli.calls.result", language))
    table.add_column(t("cli.calls.cost", language), justify="right")
    table.add_column(t("cli.calls.gateway", language))
    arrows = {d: t(f"cli.calls.arrow.{d}", language) for d in ("incoming", "outgoing", "internal")}
    for row in frame.iter_rows(named=True):
        flags = "".join(
            mark
            for key, mark in (("transfer", " ⇄"), ("forward", " ↪"), ("conference", " ⊕"))
            if row[key]
        )
        cost = "" if row["cost"] is None else money_text(row["cost"], row["currency"])
        table.add_row(
            str(row["call_id"]),
            format_datetime(row["started_at"], language, zone),
            arrows.get(row["direction"], row["direction"]),
            services.label(row["extension"], language) or "",
            row["user"] or ("?" if row["undefined_extension"] else ""),
            (services.label(row["remote_number"] or row["peer_extension"], language) or "") + flags,
            duration_text(row["duration_s"]),
            t(f"value.disposition.{row['disposition']}", language) if row["disposition"] else "",
            cost,
            row["gateway"] or "",
        )
    console.print(table)
    if total > frame.height:
        shown = t(
            "cli.calls.more",
            language,
            shown=format_number(frame.height, language),
            total=format_number(total, language),
        )
        console.print(styled("[dim]{}[/]", shown))


@calls_app.command("explain")
def explain_command(
    ctx: typer.Context,
    call_id: Annotated[int, id_argument("Call id (see 'callacct calls').")],
    lang: LangOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the explanation as JSON.")] = False,
) -> None:
    """Show how a call's cost came about: site and dial plan, normalised number and class,
    plan and version, time band, matched rate, billed seconds, fees, minimum and rounding.

    Examples:
      callacct calls explain 1234
      callacct calls explain 1234 --json
    """
    workspace = workspace_from(ctx)
    language = language_of(ctx, workspace, lang)
    explanation = workspace.explain(call_id)
    if as_json:
        print_json(explanation.to_dict())
        return
    title = t("cli.calls.call", language, call_id=call_id)
    table = Table(title=title, show_header=False, box=None, padding=(0, 2, 0, 0))
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    for label, text in explanation.steps:
        table.add_row(label, text)
    console.print(table)


@calls_app.command("raw")
def raw_command(
    ctx: typer.Context,
    call_id: Annotated[int, id_argument("Call id (see 'callacct calls').")],
    lang: LangOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print it as JSON.")] = False,
) -> None:
    """Show the source record of a call, as the PBX wrote it: file, line and text, read back
    from the raw archive. For administrators (the record shows every number unmasked).

    Examples:
      callacct calls raw 1234
      callacct calls raw 1234 --json
    """
    workspace = workspace_from(ctx)
    language = language_of(ctx, workspace, lang)
    record = workspace.raw(call_id)
    if as_json:
        print_json(record.to_dict())
        return
    console.print(t("cli.calls.raw_line", language, file=record.file, line=record.line))
    console.print(record.text, soft_wrap=True)
