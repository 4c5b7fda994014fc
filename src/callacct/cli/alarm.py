"""`callacct alarm`: add, list, show, change, pause, run alarms and read their firings."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from rich.table import Table

from callacct.alarms import KINDS
from callacct.alarms.mail import cell_text, column_label
from callacct.alarms.spec import apply_options
from callacct.api.alarms import AlarmEntry, AlarmEvent, AlarmRun
from callacct.cli._app import app
from callacct.cli._context import language_of, split_values, workspace_from
from callacct.cli._options import LangOption, count_option
from callacct.cli._output import ProgressLine, console, marked, print_json, styled, value_text
from callacct.errors import UsageError
from callacct.i18n import Message, catalogue, format_number, said_in, t
from callacct.query.calls import parse_when

alarm_app = typer.Typer(
    name="alarm",
    no_args_is_help=True,
    help="Alarms: calls out of hours, to forbidden numbers, spend above a limit, missed "
    "calls, international calls, a dead CDR feed, unrecognised destinations, undefined "
    "extensions. Evaluated on the calls that arrived since their last run; mailed only when "
    "they fire.\n\n"
    "Example: callacct alarm add --name abroad --kind international --to it@example.com",
)
app.add_typer(alarm_app)

Json = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
Name = Annotated[str, typer.Argument(help="The alarm's name.", show_default=False)]
File = Annotated[
    Path | None,
    typer.Argument(help="A YAML definition (see docs/alarms.md).", show_default=False),
]
NameOption = Annotated[str | None, typer.Option("--name", help="The alarm's name.")]
Kind = Annotated[
    str | None,
    typer.Option("--kind", help="One of: " + ", ".join(KINDS) + "."),
]
Description = Annotated[str | None, typer.Option("--description", help="What it is for.")]
Params = Annotated[
    list[str] | None,
    typer.Option(
        "--param",
        metavar="KEY=VALUE",
        help="A parameter of the kind (repeatable; value read as YAML), e.g. "
        "--param 'amount={EUR: 200}' --param period=month.",
    ),
]
Departments = Annotated[
    list[str] | None, typer.Option("--department", help="Watch this department (repeatable).")
]
CostCenters = Annotated[
    list[str] | None, typer.Option("--cost-center", help="Watch this cost centre (repeatable).")
]
Sites = Annotated[list[str] | None, typer.Option("--site", help="Watch this site (repeatable).")]
Extensions = Annotated[
    list[str] | None, typer.Option("--extension", help="Watch this extension (repeatable).")
]
People = Annotated[
    list[str] | None, typer.Option("--person", help="Watch this person's calls (repeatable).")
]
Every = Annotated[
    str | None,
    typer.Option("--every", help="When to check: 'ingest' (after each load), or 15m, 1h, 1d."),
]
To = Annotated[
    list[str] | None, typer.Option("--to", help="Mail this address when it fires (repeatable).")
]
Supervisors = Annotated[
    bool | None,
    typer.Option(
        "--supervisors/--no-supervisors",
        help="Also mail the supervisors (managers) of the people concerned.",
    ),
]
Xlsx = Annotated[
    bool | None,
    typer.Option("--xlsx/--no-xlsx", help="Attach the rows found as an Excel workbook."),
]
Language = Annotated[
    str | None,
    typer.Option(
        "--lang",
        help="Language of its mails (the command's own messages follow the global --lang).",
    ),
]


def _definition(
    base: dict[str, Any] | None,
    *,
    name: str | None,
    kind: str | None,
    description: str | None,
    params: list[str] | None,
    departments: list[str] | None,
    cost_centers: list[str] | None,
    sites: list[str] | None,
    extensions: list[str] | None,
    people: list[str] | None,
    every: str | None,
    to: list[str] | None,
    supervisors: bool | None,
    xlsx: bool | None,
    language: str | None,
) -> dict[str, Any]:
    return apply_options(
        base,
        name=name,
        kind=kind,
        description=description,
        params=params or (),
        scope={
            "departments": split_values(departments),
            "cost_centers": split_values(cost_centers),
            "sites": split_values(sites),
            "extensions": split_values(extensions),
            "people": split_values(people),
        },
        every=every,
        to=split_values(to),
        supervisors=supervisors,
        xlsx=xlsx,
        language=language,
    )


def _file_data(path: Path) -> dict[str, Any]:
    from callacct.yamlfile import read_yaml

    data = read_yaml(path).data
    if not isinstance(data, dict):
        raise UsageError(Message("error.alarm_not_mapping", path=str(path)))
    return data


@alarm_app.command("add")
def add_command(
    ctx: typer.Context,
    file: File = None,
    name: NameOption = None,
    kind: Kind = None,
    description: Description = None,
    params: Params = None,
    departments: Departments = None,
    cost_centers: CostCenters = None,
    sites: Sites = None,
    extensions: Extensions = None,
    people: People = None,
    every: Every = None,
    to: To = None,
    supervisors: Supervisors = None,
    xlsx: Xlsx = None,
    language: Language = None,
    backfill: Annotated[
        bool,
        typer.Option("--backfill", help="Also evaluate the calls already stored at its first run."),
    ] = False,
    as_json: Json = False,
) -> None:
    """Add an alarm from a YAML file, from options, or both (options win).

    It watches the calls that arrive from now on (with --backfill: those stored already
    too), within what you may see.

    Example: callacct alarm add --name night --kind out-of-hours --param
    'hours={days: {mon-fri: ["08:00-12:30", "13:30-18:00"]}}' --to security@example.com
    """
    ws = workspace_from(ctx)
    spoken = language_of(ctx, ws)
    alarms = ws.alarms()
    scope = (departments, cost_centers, sites, extensions, people)
    flags = (supervisors, xlsx)
    texts = (name, kind, description, every, language)
    if file is not None and not (params or to or any(scope) or any(texts)) and flags == (None,) * 2:
        entry = alarms.add(file, backfill=backfill)
    else:
        base = _file_data(file) if file is not None else None
        if base is None and (name is None or kind is None):
            raise UsageError(Message("error.alarm_name_and_kind"))
        data = _definition(
            base,
            name=name,
            kind=kind,
            description=description,
            params=params,
            departments=departments,
            cost_centers=cost_centers,
            sites=sites,
            extensions=extensions,
            people=people,
            every=every,
            to=to,
            supervisors=supervisors,
            xlsx=xlsx,
            language=language,
        )
        entry = alarms.add(data, source=str(file) if file else "(options)", backfill=backfill)
    _show_entry(entry, as_json, "added", spoken)


@alarm_app.command("edit")
def edit_command(
    ctx: typer.Context,
    name: Name,
    file: File = None,
    kind: Kind = None,
    description: Description = None,
    params: Params = None,
    departments: Departments = None,
    cost_centers: CostCenters = None,
    sites: Sites = None,
    extensions: Extensions = None,
    people: People = None,
    every: Every = None,
    to: To = None,
    supervisors: Supervisors = None,
    xlsx: Xlsx = None,
    language: Language = None,
    as_json: Json = False,
) -> None:
    """Change an alarm: a new YAML definition, or the keys given as options.

    A list option replaces that list. Its firings and watermark stay.

    Example: callacct alarm edit abroad --param min_duration_s=600
    """
    ws = workspace_from(ctx)
    spoken = language_of(ctx, ws)
    alarms = ws.alarms()
    base = _file_data(file) if file is not None else dict(alarms.show(name).alarm.data)
    data = _definition(
        base,
        name=None,
        kind=kind,
        description=description,
        params=params,
        departments=departments,
        cost_centers=cost_centers,
        sites=sites,
        extensions=extensions,
        people=people,
        every=every,
        to=to,
        supervisors=supervisors,
        xlsx=xlsx,
        language=language,
    )
    entry = alarms.edit(name, data, source=str(file) if file else f"alarm {name}")
    _show_entry(entry, as_json, "changed", spoken)


@alarm_app.command("list")
def list_command(ctx: typer.Context, lang: LangOption = None, as_json: Json = False) -> None:
    """List the alarms you may see (yours; an admin's: all).

    Example: callacct alarm list --json
    """
    ws = workspace_from(ctx)
    language = language_of(ctx, ws, lang)
    zone = ZoneInfo(ws.settings.general.timezone)
    entries = ws.alarms().all()
    if as_json:
        print_json([entry.to_dict() for entry in entries])
        return
    if not entries:
        console.print(t("cli.alarm.none", language))
        return
    table = Table(title=t("cli.alarm.title", language))
    for column in ("name", "kind", "owner", "every", "state", "last_run", "recipients"):
        table.add_column(t(f"cli.alarm.{column}", language))
    for entry in entries:
        table.add_row(
            entry.name,
            entry.alarm.kind.name,
            entry.owner,
            entry.alarm.every,
            _state(entry, language),
            _when(entry.last_run_at, zone, language),
            _recipients(entry, language),
        )
    console.print(table)


@alarm_app.command("show")
def show_command(
    ctx: typer.Context, name: Name, lang: LangOption = None, as_json: Json = False
) -> None:
    """Show an alarm: its definition (YAML) and state.

    Example: callacct alarm show abroad
    """
    ws = workspace_from(ctx)
    language = language_of(ctx, ws, lang)
    entry = ws.alarms().show(name)
    if as_json:
        print_json(entry.to_dict())
        return
    known = f"alarm.kind.{entry.alarm.kind.name}" in catalogue("en")
    title = t(f"alarm.kind.{entry.alarm.kind.name}", language) if known else entry.alarm.kind.title
    console.print(styled("[bold]{}[/] ({}, {})", entry.name, title, entry.owner))
    zone = ZoneInfo(ws.settings.general.timezone)
    console.print(
        t(
            "cli.alarm.state_line",
            language,
            state=_state(entry, language),
            every=entry.alarm.every,
            last_run=_when(entry.last_run_at, zone, language),
            watermark=entry.watermark,
        ),
    )
    console.print(entry.alarm.to_yaml().rstrip())


@alarm_app.command("remove")
def remove_command(
    ctx: typer.Context, name: Name, lang: LangOption = None, as_json: Json = False
) -> None:
    """Remove an alarm (its firings stay on record).

    Example: callacct alarm remove abroad
    """
    ws = workspace_from(ctx)
    language = language_of(ctx, ws, lang)
    ws.alarms().remove(name)
    if as_json:
        print_json({"removed": name})
        return
    console.print(t("cli.alarm.removed", language, name=name))


@alarm_app.command("pause")
def pause_command(
    ctx: typer.Context, name: Name, lang: LangOption = None, as_json: Json = False
) -> None:
    """Pause an alarm: it is not evaluated until resumed.

    Example: callacct alarm pause abroad
    """
    ws = workspace_from(ctx)
    language = language_of(ctx, ws, lang)
    _show_entry(ws.alarms().pause(name), as_json, "paused", language)


@alarm_app.command("resume")
def resume_command(
    ctx: typer.Context, name: Name, lang: LangOption = None, as_json: Json = False
) -> None:
    """Resume a paused alarm; the calls that arrived meanwhile are evaluated at its next run.

    Example: callacct alarm resume abroad
    """
    ws = workspace_from(ctx)
    language = language_of(ctx, ws, lang)
    _show_entry(ws.alarms().resume(name), as_json, "resumed", language)


@alarm_app.command("run")
def run_command(
    ctx: typer.Context,
    name: Annotated[
        str | None, typer.Argument(help="Only this alarm (default: every active one).")
    ] = None,
    due: Annotated[
        bool, typer.Option("--due", help="Only the alarms that are due (for cron).")
    ] = False,
    lang: LangOption = None,
    as_json: Json = False,
) -> None:
    """Evaluate alarms on the calls that arrived since their last run; exit code 1 if one fired.

    What fired is recorded and mailed. Exit code 1 when something fired or an alarm could not
    be evaluated (e.g. its owner left the directory), for scripts; 0 when all stayed silent.

    Example: callacct alarm run --due || echo 'an alarm fired'
    """
    ws = workspace_from(ctx)
    language = language_of(ctx, ws, lang)
    if name is not None and due:
        raise UsageError(Message("error.alarm_name_or_due"))
    line = ProgressLine(language, quiet=as_json)
    with line.running():
        result = ws.alarms().run(name, due=due, progress=line)
    show_run(result, as_json, due=due, language=language)
    if result.fired or result.failed:
        raise typer.Exit(1)


def show_run(result: AlarmRun, as_json: bool, *, due: bool = True, language: str = "en") -> None:
    """An alarm run: a table of the alarms evaluated, then what each firing found (`due`:
    only the alarms that were due were asked for), in `language`."""
    if as_json:
        print_json(result.to_dict())
        return
    if not result.outcomes:
        console.print(t("cli.alarm.run.none_due" if due else "cli.alarm.run.none_active", language))
        return
    table = Table(title=t("cli.alarm.run.title", language))
    for column in ("alarm", "kind", "result", "calls", "what", "mail"):
        table.add_column(
            t(f"cli.alarm.run.{column}", language), justify="right" if column == "calls" else "left"
        )
    for outcome in result.outcomes:
        window = (
            ""
            if outcome.calls_after is None or outcome.calls_upto is None
            else format_number(outcome.calls_upto - outcome.calls_after, language)
        )
        what = outcome.error or "; ".join(event.summary for event in outcome.events[:2])
        if len(outcome.events) > 2:
            more = format_number(len(outcome.events) - 2, language)
            what += " " + t("cli.alarm.run.more", language, count=more)
        style = {"fired": "bold yellow", "failed": "red"}.get(outcome.status, "")
        status = value_text("cli.alarm.status", outcome.status, language)
        mail = said_in(outcome.mail, language) if outcome.mail else ""
        table.add_row(outcome.alarm, outcome.kind, status, window, what, mail, style=style)
    console.print(table)


@alarm_app.command("events")
def events_command(
    ctx: typer.Context,
    since: Annotated[
        str | None,
        typer.Option("--since", help="Only firings from this day or moment (YYYY-MM-DD[THH:MM])."),
    ] = None,
    alarm: Annotated[str | None, typer.Option("--alarm", help="Only this alarm's.")] = None,
    limit: Annotated[int, count_option("--limit", "At most this many, newest first.")] = 100,
    rows: Annotated[bool, typer.Option("--rows", help="Also show the rows each found.")] = False,
    lang: LangOption = None,
    as_json: Json = False,
) -> None:
    """List alarm firings (of your alarms; an admin's: all), newest first.

    Example: callacct alarm events --since 2026-11-01 --alarm abroad --rows
    """
    ws = workspace_from(ctx)
    language = language_of(ctx, ws, lang)
    zone = ZoneInfo(ws.settings.general.timezone)
    start = None if since is None else parse_when(since, zone)
    events = ws.alarms().events(since=start, alarm=alarm, limit=limit)
    if as_json:
        print_json([event.to_dict() for event in events])
        return
    if not events:
        key = "cli.alarm.events.none" + ("_of" if alarm else "") + ("_since" if since else "")
        console.print(t(key, language, alarm=alarm, since=since))
        return
    table = Table(title=t("cli.alarm.events.title", language))
    for column in ("id", "fired", "alarm", "kind", "period", "found", "summary", "mailed"):
        table.add_column(
            t(f"cli.alarm.events.{column}", language),
            justify="right" if column in ("id", "found") else "left",
        )
    for event in events:
        table.add_row(
            str(event.event_id),
            _when(event.fired_at, zone, language),
            event.alarm,
            event.kind,
            event.period or "",
            format_number(event.found, language),
            event.summary,
            _when(event.mailed_at, zone, language) if event.mailed_at else t("filter.no", language),
        )
    console.print(table)
    if rows:
        for event in events:
            _show_rows(event, language)


#: Columns of an event's rows read as numbers (aligned right).
_NUMERIC = frozenset(
    {"call_id", "duration_s", "cost", "spent", "limit", "calls", "missed", "minutes_without",
     "files_without_records"}
)  # fmt: skip


def _show_rows(event: AlarmEvent, language: str) -> None:
    """The rows a firing found as its mail shows them: labelled columns, money with its
    currency's decimals, durations h:mm:ss, directions and classes in `language`."""
    title = f"#{event.event_id} {event.alarm}: {event.summary}"
    if event.found > len(event.rows):
        kept = format_number(len(event.rows), language)
        found = format_number(event.found, language)
        title += " " + t("cli.alarm.rows_kept", language, kept=kept, found=found)
    table = Table(title=title)
    for column in event.columns:
        table.add_column(
            column_label(column, language), justify="right" if column in _NUMERIC else "left"
        )
    for row in event.rows:
        table.add_row(*(cell_text(column, row, language) for column in event.columns))
    console.print(table)


def _show_entry(entry: AlarmEntry, as_json: bool, what: str, language: str) -> None:
    if as_json:
        print_json(entry.to_dict())
        return
    text = t(
        f"cli.alarm.entry.{what}",
        language,
        name=entry.name,
        kind=entry.alarm.kind.name,
        every=entry.alarm.every,
    )
    console.print(marked(text, entry.name))


def _state(entry: AlarmEntry, language: str) -> str:
    return t("cli.alarm.paused" if entry.paused else "cli.alarm.active", language)


def _recipients(entry: AlarmEntry, language: str) -> str:
    recipients = entry.alarm.recipients
    parts = list(recipients.to)
    if recipients.supervisors:
        parts.append(t("cli.alarm.supervisors", language))
    return ", ".join(parts)


def _when(moment: dt.datetime | None, zone: ZoneInfo, language: str = "en") -> str:
    """A moment in the workspace's zone, to the minute."""
    if moment is None:
        return t("alarm.never", language)
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")
