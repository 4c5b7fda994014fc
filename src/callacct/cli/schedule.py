"""`callacct schedule add|list|show|remove|pause|resume|history|run-due` and
`callacct scheduler run`."""

from __future__ import annotations

import datetime as dt
import signal
import threading
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from callacct.cli._app import app
from callacct.cli._context import language_of, split_values, workspace_from
from callacct.cli._options import LangOption, count_option
from callacct.cli._output import ProgressLine, console, print_json, styled
from callacct.cli.report import (
    Answered,
    CallType,
    CostCenter,
    Country,
    Dept,
    DestClass,
    Direction,
    Ext,
    Gateway,
    MaxCost,
    MaxDuration,
    MinCost,
    MinDuration,
    Number,
    Site,
    User,
    Where,
    _filters,
)
from callacct.errors import UsageError
from callacct.i18n import LANGUAGES, Message, format_number, t
from callacct.outcomes import any_failed, lines_of

schedule_app = typer.Typer(
    no_args_is_help=True,
    help="Scheduled reports: a report e-mailed every day, week, month or N minutes/hours.\n\n"
    "Example: callacct schedule add sales-weekly --report cost-by-department --every week "
    "--to-supervisors",
)
app.add_typer(schedule_app, name="schedule")
scheduler_app = typer.Typer(
    no_args_is_help=True,
    help="The scheduler: a long-running process sending scheduled reports when due.\n\n"
    "Example: callacct scheduler run",
)
app.add_typer(scheduler_app, name="scheduler")

AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]
Name = Annotated[str, typer.Argument(help="Schedule name (see 'callacct schedule list').")]


def _now(value: str | None) -> dt.datetime | None:
    """`--now`: a moment (ISO 8601; without an offset, UTC) standing for the current time."""
    if value is None:
        return None
    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(Message("error.not_a_moment", option="--now", value=repr(value))) from None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


Now = Annotated[
    str | None,
    typer.Option(
        "--now",
        help="Act as if it were this moment (ISO 8601, UTC unless an offset is given); for "
        "tests and catching up by hand.",
    ),
]


@schedule_app.command("add")
def add_command(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="A name for the schedule: a-z, 0-9, _ . -")],
    report: Annotated[
        str, typer.Option("--report", "-r", help="Report to send (see 'callacct report list').")
    ],
    every: Annotated[
        str,
        typer.Option("--every", help="day, week, month, or Nm / Nh (every N minutes / hours)."),
    ],
    at: Annotated[
        str | None, typer.Option("--at", help="Time of day HH:MM (day/week/month; 07:00).")
    ] = None,
    on: Annotated[
        str | None,
        typer.Option("--on", help="Weekday (mon..sun) for --every week; day (1-31) for month."),
    ] = None,
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="Attachment: xlsx, pdf, csv, html or json.")
    ] = "xlsx",
    to: Annotated[
        list[str] | None, typer.Option("--to", help="E-mail address(es), comma-separated.")
    ] = None,
    to_supervisors: Annotated[
        bool,
        typer.Option(
            "--to-supervisors",
            help="Each supervisor receives the report within their own scope and language.",
        ),
    ] = False,
    to_users: Annotated[
        bool,
        typer.Option(
            "--to-users", help="Each user receives the report of their own calls (a bill)."
        ),
    ] = False,
    lang: Annotated[
        str | None,
        typer.Option(
            "--lang",
            help=f"Language of the reports ({', '.join(LANGUAGES)}); default: each reader's "
            "(the command's own messages follow the global --lang).",
        ),
    ] = None,
    subject: Annotated[
        str | None, typer.Option("--subject", help="Subject (default: report and period).")
    ] = None,
    tz: Annotated[
        str | None, typer.Option("--tz", help="Time zone of --at and the periods.")
    ] = None,
    call_type: CallType = None,
    ext: Ext = None,
    user: User = None,
    department: Dept = None,
    cost_center: CostCenter = None,
    site: Site = None,
    gateway: Gateway = None,
    direction: Direction = None,
    answered: Answered = None,
    dest_class: DestClass = None,
    country: Country = None,
    number: Number = None,
    min_duration: MinDuration = None,
    max_duration: MaxDuration = None,
    min_cost: MinCost = None,
    max_cost: MaxCost = None,
    where: Where = None,
    now: Annotated[
        str | None,
        typer.Option(
            "--now",
            help="Count the first run from this moment (ISO 8601, UTC unless an offset is "
            "given) instead of now: an earlier moment makes the next run-due catch up.",
        ),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Schedule a report to be e-mailed every day, week, month or N minutes/hours.

    Each run covers the period its frequency gives — yesterday (day),
    last Monday–Sunday (week), last calendar month (month), the last N minutes/hours — in
    the schedule's time zone, and is sent exactly once. An empty result is not sent. The
    report, its filters and the addresses are checked now. With the global --as OWNER the
    schedule is that person's and runs within their scope; --to-supervisors and --to-users
    need an admin.

    Examples:
      callacct schedule add sales-weekly --report cost-by-department --every week --on mon
        --at 07:00 --to-supervisors --format xlsx
      callacct schedule add bills --report user-bill --every month --on 1 --to-users --format pdf
      callacct schedule add intl --report international-by-country --every day
        --to boss@example.com,cfo@example.com --class international --subject "Daily intl"
      callacct --as sue schedule add my-team --report calls-detail --every week --to sue@example.com
    """
    workspace = workspace_from(ctx)
    language = language_of(ctx, workspace)
    targets = split_values(to)
    chosen = [bool(targets), to_supervisors, to_users]
    if sum(chosen) != 1:
        raise UsageError(Message("error.schedule_recipients"))
    recipients = "supervisors" if to_supervisors else "users" if to_users else "addresses"
    filters = _filters(
        None, None, None, call_type, ext, user, department, cost_center, site, gateway,
        direction, answered, dest_class, country, number, min_duration, max_duration, min_cost,
        max_cost, where,
    )  # fmt: skip
    added = workspace.add_schedule(
        name,
        report=report,
        filters=filters,
        every=every,
        at=at,
        on=on,
        format=fmt.lower(),
        to=targets,
        recipients=recipients,
        language=lang,
        subject=subject,
        tz=tz,
        now=_now(now),
    )
    if as_json:
        print_json(added.to_dict())
        return
    line = t(
        "cli.schedule.added_line",
        language,
        name=added.name,
        report=added.report,
        when=added.frequency.describe(),
        first=_local(added.next_run, added.timezone),
    )
    console.print(_done("added", line, language))


def _done(what: str, line: str, language: str) -> Text:
    """What a command did to a schedule, its word in colour: `added sales-weekly: ...`."""
    style = "yellow" if what == "paused" else "green"
    return Text.assemble((t(f"cli.schedule.{what}", language), style), " ", line)


def _local(when: dt.datetime | None, zone: str) -> str:
    from zoneinfo import ZoneInfo

    if when is None:
        return "-"
    return when.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M %Z")


def _recipients(item: dict[str, Any], language: str) -> str:
    if item["recipients"] == "addresses":
        return ", ".join(item["addresses"])
    return t(f"cli.schedule.each.{item['recipients']}", language)


@schedule_app.command("list")
def list_command(ctx: typer.Context, lang: LangOption = None, as_json: AsJson = False) -> None:
    """List the schedules (yours; every schedule for an admin).

    Report, frequency, recipients, next run, last run and its status.

    Examples:
      callacct schedule list
      callacct schedule list --json
      callacct schedule list --lang de
    """
    workspace = workspace_from(ctx)
    language = language_of(ctx, workspace, lang)
    found = workspace.schedules()
    if as_json:
        print_json([s.to_dict() for s in found])
        return
    if not found:
        console.print(t("cli.schedule.none", language))
        return
    table = Table(title=t("cli.schedule.title", language))
    for column in ("name", "report", "when", "format", "to", "next_run", "last_run", "status"):
        table.add_column(t(f"cli.schedule.{column}", language))
    for s in found:
        item = s.to_dict()
        table.add_row(
            s.name,
            s.report,
            s.frequency.describe(),
            s.format,
            _recipients(item, language),
            t("cli.schedule.paused", language) if s.paused else _local(s.next_run, s.timezone),
            "-" if s.last_run is None else f"{s.last_period} ({_local(s.last_run, s.timezone)})",
            s.last_status or "-",
        )
    console.print(table)


@schedule_app.command("show")
def show_command(
    ctx: typer.Context, name: Name, lang: LangOption = None, as_json: AsJson = False
) -> None:
    """One schedule in full.

    Example: callacct schedule show sales-weekly
    """
    workspace = workspace_from(ctx)
    language = language_of(ctx, workspace, lang)
    found = workspace.schedule(name)
    item = found.to_dict()
    if as_json:
        print_json(item)
        return
    for key, value in item.items():
        if key in ("next_run", "last_run", "created_at") and value is not None:
            value = _local(dt.datetime.fromisoformat(value), found.timezone)
        elif key == "recipients":
            value = t(f"cli.schedule.recipients.{value}", language)
        elif isinstance(value, bool):
            value = t("filter.yes" if value else "filter.no", language)
        if isinstance(value, list | dict):
            value = (
                ", ".join(f"{k}={v}" for k, v in value.items())
                if isinstance(value, dict)
                else ", ".join(map(str, value))
            )
        label = t(f"cli.schedule.field.{key}", language)
        console.print(styled("[bold]{}[/]: {}", label, "-" if value in (None, "") else value))


@schedule_app.command("remove")
def remove_command(ctx: typer.Context, name: Name, lang: LangOption = None) -> None:
    """Remove a schedule; what it sent stays in its history.

    Example: callacct schedule remove sales-weekly
    """
    workspace = workspace_from(ctx)
    language = language_of(ctx, workspace, lang)
    workspace.remove_schedule(name)
    console.print(_done("removed", name, language))


@schedule_app.command("pause")
def pause_command(ctx: typer.Context, name: Name, lang: LangOption = None) -> None:
    """Pause a schedule: nothing is sent until it is resumed.

    Example: callacct schedule pause sales-weekly
    """
    workspace = workspace_from(ctx)
    language = language_of(ctx, workspace, lang)
    workspace.pause_schedule(name, True)
    console.print(_done("paused", name, language))


@schedule_app.command("resume")
def resume_command(ctx: typer.Context, name: Name, lang: LangOption = None) -> None:
    """Resume a paused schedule from its next run (periods while paused are not sent).

    Example: callacct schedule resume sales-weekly
    """
    workspace = workspace_from(ctx)
    language = language_of(ctx, workspace, lang)
    found = workspace.pause_schedule(name, False)
    next_run = _local(found.next_run, found.timezone)
    line = t("cli.schedule.resumed_line", language, name=name, next=next_run)
    console.print(_done("resumed", line, language))


@schedule_app.command("history")
def history_command(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Argument(help="Schedule name (default: all).")] = None,
    last: Annotated[int, count_option("--last", "The N most recent.")] = 20,
    lang: LangOption = None,
    as_json: AsJson = False,
) -> None:
    """What schedules sent: their runs and messages.

    Runs: period, sent, skipped, failed; messages: recipient, subject, status, error.

    Examples:
      callacct schedule history sales-weekly
      callacct schedule history --last 100 --json
    """
    workspace = workspace_from(ctx)
    language = language_of(ctx, workspace, lang)
    found = workspace.schedule_history(name, last=last)
    if as_json:
        print_json({key: [item.to_dict() for item in items] for key, items in found.items()})
        return
    runs = Table(title=t("cli.schedule.runs", language))
    counted = ("sent", "skipped", "failed")
    for column in ("schedule", "period", "status", *counted, "note"):
        runs.add_column(
            t(f"cli.schedule.run.{column}", language),
            justify="right" if column in counted else "left",
        )
    for run in found["runs"]:
        runs.add_row(
            run.schedule, run.period, run.status,
            *(format_number(getattr(run, column), language) for column in counted),
            run.note or "",
        )  # fmt: skip
    console.print(runs)
    sent = Table(title=t("cli.schedule.messages", language))
    for column in ("when", "schedule", "to", "subject", "status", "error"):
        sent.add_column(t(f"cli.schedule.message.{column}", language))
    for row in found["deliveries"]:
        when = row.sent_at or row.created_at
        sent.add_row(
            when.strftime("%Y-%m-%d %H:%M UTC"), row.schedule or "", row.recipient, row.subject,
            row.status, row.error or "",
        )  # fmt: skip
    console.print(sent)


@schedule_app.command("run-due")
def run_due_command(
    ctx: typer.Context,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Write each schedule's latest messages as .eml files (delivery.dry_run_folder) "
            "instead of sending; nothing is recorded as run.",
        ),
    ] = False,
    now: Now = None,
    lang: LangOption = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the outcomes as JSON, one object each.")
    ] = False,
) -> None:
    """Run what is due now, once, and exit (for cron or a systemd timer).

    Every schedule's periods not yet sent are run, then the due alarms and the budgets (one
    line per thing done); call it every few minutes. Runs at the same time and the scheduler
    do not send anything twice; periods missed while nothing ran are caught up. On a terminal
    a progress line follows the messages prepared. Exit 1 when an outcome failed: a message
    could not be sent (it is tried again at the next run), an alarm could not be evaluated, a
    budget's lock failed, or a job stopped on an error.

    Examples:
      callacct schedule run-due
      */5 * * * * callacct --workspace /srv/callacct schedule run-due   (crontab)
      callacct schedule run-due --dry-run
      callacct schedule run-due --json
    """
    workspace = workspace_from(ctx)
    # The progress line speaks the reader's language; the log lines stay as logged.
    line = ProgressLine(language_of(ctx, workspace, lang), quiet=as_json)
    with line.running():
        outcomes = workspace.run_due(_now(now), dry_run=dry_run, progress=line)
    if as_json:
        print_json([outcome.to_dict() for outcome in outcomes])
    else:
        for text in lines_of(outcomes):
            console.print(text)
    if any_failed(outcomes):
        raise typer.Exit(1)


@scheduler_app.command("run")
def scheduler_run_command(
    ctx: typer.Context,
    tick: Annotated[
        int | None,
        count_option("--tick", "Seconds between looks for due work (default delivery.tick_s)."),
    ] = None,
    once: Annotated[bool, typer.Option("--once", help="Run one tick and exit.")] = False,
    lang: LangOption = None,
) -> None:
    """Run the scheduler until stopped (SIGTERM or Ctrl-C).

    Every --tick seconds, what is due is sent, once. The store is open only while a job
    runs; schedule changes are picked up without a restart. One line per job on stdout.

    Examples:
      callacct scheduler run
      callacct --workspace /srv/callacct scheduler run --tick 30
    """
    from callacct.delivery.scheduler import run_scheduler

    workspace = workspace_from(ctx)
    language = language_of(ctx, workspace, lang)
    with workspace.admin_store("scheduler run"):
        pass  # refused at once for anyone but an admin, not at every tick
    stop = threading.Event()

    def stopping(_signal: int, _frame: object) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, stopping) for sig in (signal.SIGTERM, signal.SIGINT)}
    console.print(styled("[dim]{}[/]", t("cli.schedule.scheduler_started", language)))
    try:
        run_scheduler(
            lambda now: lines_of(workspace.run_due(now)),
            tick_s=tick or workspace.settings.delivery.tick_s,
            stop=stop,
            clock=lambda: dt.datetime.now(dt.UTC),
            on_line=lambda line: console.print(line),
            max_ticks=1 if once else None,
        )
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    console.print(styled("[dim]{}[/]", t("cli.schedule.scheduler_stopped", language)))
