"""`callacct report list|show|run|save|validate|export|import|delete`."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer
from rich.console import Console
from rich.table import Table

from callacct.api import check_report_files
from callacct.cli._app import app
from callacct.cli._context import (
    as_login_of,
    global_lang,
    language_of,
    split_values,
    workspace_from,
)
from callacct.cli._options import count_option, seconds_option
from callacct.cli._output import (
    check_out,
    console,
    file_console,
    print_error,
    print_json,
    styled,
    written,
)
from callacct.delivery import check_addresses
from callacct.delivery.mail import check_header
from callacct.errors import UsageError
from callacct.i18n import LANGUAGES, t
from callacct.reports.library import preview_path
from callacct.reports.render import RENDERERS
from callacct.reports.render.cells import period_text, text_rows, text_totals
from callacct.reports.result import ReportResult
from callacct.reports.spec import text_in

_FILE_WIDTH = 1000  # a table written to a file is as wide as its content

report_app = typer.Typer(
    no_args_is_help=True,
    help="Public and personal reports.\n\n"
    "Example: callacct report run cost-by-department --period last-month",
)
app.add_typer(report_app, name="report")


# Filter options, shared by `run` and `save`.
Period = Annotated[
    str | None,
    typer.Option(
        "--period",
        help="today, yesterday, this-week, last-week, this-month, last-month or last-N-days.",
    ),
]
From = Annotated[str | None, typer.Option("--from", help="First day (YYYY-MM-DD), inclusive.")]
To = Annotated[str | None, typer.Option("--to", help="Last day (YYYY-MM-DD), inclusive.")]
CallType = Annotated[str | None, typer.Option("--type", help="pstn (external), internal or all.")]
Ext = Annotated[list[str] | None, typer.Option("--ext", help="Extension(s), comma-separated.")]
User = Annotated[list[str] | None, typer.Option("--user", help="Login(s), comma-separated.")]
Dept = Annotated[list[str] | None, typer.Option("--department", help="Department(s).")]
CostCenter = Annotated[list[str] | None, typer.Option("--cost-center", help="Cost centre(s).")]
Site = Annotated[list[str] | None, typer.Option("--site", help="Site(s).")]
Gateway = Annotated[list[str] | None, typer.Option("--gateway", help="Gateway(s) or trunk(s).")]
Direction = Annotated[
    list[str] | None, typer.Option("--direction", help="incoming, outgoing, internal.")
]
Answered = Annotated[
    bool | None,
    typer.Option("--answered/--unanswered", help="Only answered, or only unanswered calls."),
]
DestClass = Annotated[
    list[str] | None,
    typer.Option("--class", help="Destination class(es): international, national, mobile, ..."),
]
Country = Annotated[list[str] | None, typer.Option("--country", help="Country code(s), e.g. SG.")]
Number = Annotated[str | None, typer.Option("--number", help="Calls to or from this number.")]
MinDuration = Annotated[int | None, seconds_option("--min-duration", "At least N seconds.")]
MaxDuration = Annotated[int | None, seconds_option("--max-duration", "At most N seconds.")]
MinCost = Annotated[str | None, typer.Option("--min-cost", help="Cost at least this.")]
MaxCost = Annotated[str | None, typer.Option("--max-cost", help="Cost at most this.")]
Where = Annotated[
    str | None,
    typer.Option(
        "--where",
        help="An expression over fields, e.g. \"called_number = '0065...' or duration >= 20\" "
        "(and, or, not, parentheses; =, !=, <, <=, >, >=, in (...), like, is null).",
    ),
]
Tz = Annotated[str | None, typer.Option("--tz", help="Time zone for dates and times shown.")]
GroupBy = Annotated[
    list[str] | None,
    typer.Option(
        "--group-by",
        metavar="FIELD[,FIELD]",
        help="Group the rows by these fields instead of the report's own (a report with "
        "measures; the error lists the fields allowed).",
    ),
]
Lang = Annotated[str | None, typer.Option("--lang", help=f"Language: {', '.join(LANGUAGES)}.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _overrides(**given: Any) -> dict[str, Any]:
    """The filters given on the command line, by filter key."""
    out: dict[str, Any] = {}
    for key, value in given.items():
        if value is None or (isinstance(value, list | tuple) and not value):
            continue
        if key in ("min_cost", "max_cost"):
            try:
                value = Decimal(value)
            except ArithmeticError:
                raise UsageError(f"--{key.replace('_', '-')}: {value!r} is not a number") from None
        out[key] = value
    return out


def _filters(
    period: str | None,
    start: str | None,
    end: str | None,
    call_type: str | None,
    ext: list[str] | None,
    user: list[str] | None,
    department: list[str] | None,
    cost_center: list[str] | None,
    site: list[str] | None,
    gateway: list[str] | None,
    direction: list[str] | None,
    answered: bool | None,
    dest_class: list[str] | None,
    country: list[str] | None,
    number: str | None,
    min_duration: int | None,
    max_duration: int | None,
    min_cost: str | None,
    max_cost: str | None,
    where: str | None,
) -> dict[str, Any]:
    return _overrides(
        period=period,
        start=start,
        end=end,
        type=call_type,
        extensions=split_values(ext),
        users=split_values(user),
        departments=split_values(department),
        cost_centers=split_values(cost_center),
        sites=split_values(site),
        gateways=split_values(gateway),
        directions=split_values(direction),
        answered=answered,
        classes=split_values(dest_class),
        countries=split_values(country),
        number=number,
        min_duration=min_duration,
        max_duration=max_duration,
        min_cost=min_cost,
        max_cost=max_cost,
        where=where,
    )


@report_app.command("list")
def list_command(ctx: typer.Context, lang: Lang = None, as_json: AsJson = False) -> None:
    """List public reports by category, then your personal reports.

    Examples:
      callacct report list
      callacct report list --json
      callacct --as jdupont report list --lang de
    """
    workspace = workspace_from(ctx)
    with workspace.holding():
        language = language_of(ctx, workspace, lang)
        entries = workspace.reports()
    if as_json:
        print_json([e.to_dict(language) for e in entries])
        return
    table = Table()
    for name in ("category", "name", "title", "description"):
        table.add_column(name, overflow="fold")
    previous = None
    for entry in entries:
        category = entry.spec.category if entry.public else f"{entry.spec.category} (personal)"
        shown = (
            "" if category == previous else t(f"report.category.{entry.spec.category}", language)
        )
        if not entry.public and shown:
            shown = f"{shown} ({t('report.category.personal', language).lower()})"
        table.add_row(
            shown,
            entry.spec.name,
            text_in(entry.spec.title, language),
            text_in(entry.spec.description, language),
        )
        previous = category
    console.print(table)


@report_app.command("show")
def show_command(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Report name (see 'callacct report list').")],
    lang: Lang = None,
    as_json: AsJson = False,
) -> None:
    """Show a report: description, default filters, its preview picture and its full spec.

    Examples:
      callacct report show cost-by-department
      callacct report show top-numbers --json
    """
    workspace = workspace_from(ctx)
    with workspace.holding():
        language = language_of(ctx, workspace, lang)
        entry = workspace.report(name)
    preview = preview_path(entry.spec.name) if entry.public else None
    if as_json:
        print_json(
            {
                **entry.to_dict(language),
                "filters": entry.spec.filters.given(),
                "spec": entry.spec.model_dump(mode="json", by_alias=True, exclude_defaults=True),
                "preview": str(preview) if preview else None,
            }
        )
        return
    spec = entry.spec
    console.print(
        styled("[bold]{}[/] ({}, {})", text_in(spec.title, language), spec.name, spec.category)
    )
    console.print(text_in(spec.description, language))
    given = spec.filters.given()
    if given:
        console.print("default filters: " + ", ".join(f"{k}={v}" for k, v in given.items()))
    if preview is not None:
        console.print(styled("preview: {}", str(preview)))
    console.print("")
    console.print(spec.to_yaml())


@report_app.command("run")
def run_command(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Report name (see 'callacct report list').")],
    period: Period = None,
    start: From = None,
    end: To = None,
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
    limit: Annotated[int | None, count_option("--limit", "At most N rows.")] = None,
    fmt: Annotated[
        str, typer.Option("--format", "-f", help=f"Output: {', '.join(_formats())}.")
    ] = "table",
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write to this file (default: stdout).")
    ] = None,
    lang: Lang = None,
    tz: Tz = None,
    group_by: GroupBy = None,
    as_json: Annotated[bool, typer.Option("--json", help="The same as --format json.")] = False,
    email: Annotated[
        list[str] | None,
        typer.Option(
            "--email",
            help="E-mail the result to these addresses (comma-separated), as --format "
            "(xlsx unless given), instead of writing it.",
        ),
    ] = None,
    subject: Annotated[
        str | None, typer.Option("--subject", help="With --email: the subject.")
    ] = None,
) -> None:
    """Run a report with its default filters, or with the filters given here replacing them.

    Times are shown in the reference time zone (--tz, else the saved report's, else the
    workspace's); --from/--to are days in that zone. --group-by groups the rows by other
    fields (sort, totals and chart follow; a note says when the chart changes).
    With the global --as LOGIN the report covers only what that person may see.
    xlsx, pdf and html are written to --out (default: NAME.FORMAT in the current folder); the
    other formats to --out when given (the table as plain text), else to the terminal. The
    folder of --out must exist.

    Examples:
      callacct report run cost-by-department --period last-month
      callacct report run calls-detail --type pstn --from 2021-02-01 --to 2021-03-24
        --ext 211,729,731 --direction outgoing --answered --class international
        --where "called_number = '006599775544' or duration >= 20" --tz US/Eastern
      callacct report run top-numbers --format csv --out top.csv
      callacct report run cost-by-class --group-by department,dest_class
      callacct --as jdupont report run user-bill --format json
      callacct report run cost-by-department --period last-month
        --email boss@example.com,cfo@example.com --format pdf
    """
    if email:
        _email(ctx, name, fmt, split_values(email), subject, lang, tz, limit, _filters(
            period, start, end, call_type, ext, user, department, cost_center, site, gateway,
            direction, answered, dest_class, country, number, min_duration, max_duration,
            min_cost, max_cost, where,
        ))  # fmt: skip
        return
    if subject is not None:
        raise UsageError("--subject goes with --email")
    fmt = "json" if as_json else fmt.lower()
    if fmt != "table" and fmt not in RENDERERS:
        raise UsageError(f"--format: {fmt!r} is not one of {', '.join(_formats())}")
    overrides = _filters(
        period, start, end, call_type, ext, user, department, cost_center, site, gateway,
        direction, answered, dest_class, country, number, min_duration, max_duration, min_cost,
        max_cost, where,
    )  # fmt: skip
    workspace = workspace_from(ctx)
    # A format that writes text goes to the terminal unless --out is given; the others to a file.
    to_file = fmt != "table" and RENDERERS.get(fmt).stream is None
    target = out or (Path(f"{name}.{fmt}") if to_file else None)
    if target is not None:
        check_out(target)  # before the report runs, not after
    grouping = list(split_values(group_by)) if group_by is not None else None
    result = workspace.run_report(
        name, overrides, language=lang or global_lang(ctx), tz=tz, group_by=grouping, limit=limit
    )
    if fmt != "table":
        if target is not None:
            file = target
            written(file, lambda: workspace.render(result, fmt, file))
        else:
            workspace.render(result, fmt, sys.stdout)
            sys.stdout.flush()
    elif target is None:
        _table(result, console)
    else:
        # The same table as on a terminal, as plain text (no colours), never wrapped.
        _to_file(
            target,
            lambda fh: _table(result, file_console(fh, _FILE_WIDTH)),
        )


def _email(
    ctx: typer.Context,
    name: str,
    fmt: str,
    to: tuple[str, ...],
    subject: str | None,
    lang: str | None,
    tz: str | None,
    limit: int | None,
    overrides: dict[str, Any],
) -> None:
    """`report run --email`: the result sent as a file (recorded in the deliveries)."""
    fmt = "xlsx" if fmt == "table" else fmt.lower()
    if fmt not in RENDERERS:
        raise UsageError(f"--format: {fmt!r} is not one of {', '.join(RENDERERS.names())}")
    # Addresses and subject are checked before the report runs.
    check_addresses(to)
    if subject is not None:
        check_header(subject, "--subject")
    workspace = workspace_from(ctx)
    result = workspace.run_report(name, overrides, language=lang, tz=tz, limit=limit)
    row = workspace.email_report(result, fmt, to, subject=subject)
    what = "written as a file (dry run)" if row.status == "dry-run" else "sent"
    console.print(styled("[green]{}[/] to {}: {}", what, row.recipient, row.subject))
    if row.error and row.status == "sent":
        print_error("warning:", row.error, "yellow")


def _formats() -> list[str]:
    """What --format accepts: the table on the terminal, and every registered renderer."""
    return ["table", *RENDERERS.names()]


def _to_file(out: Path, write: Callable[[TextIO], object]) -> None:
    """Write text to the file `out` (streamed: any size)."""

    def text() -> None:
        with out.open("w", encoding="utf-8", newline="") as fh:
            write(fh)

    written(out, text)


def _table(result: ReportResult, to: Console) -> None:
    table = Table(
        title=result.title,
        caption=t("ui.times_in", result.language, zone=result.timezone),
        caption_justify="right",
    )
    numeric = ("integer", "number", "money", "duration", "percent")
    for column in result.columns:
        table.add_column(column.label, justify="right" if column.kind in numeric else "left")
    # The same texts as the pdf and html renderers: numbers, money, durations, dates and
    # coded values in the report's language.
    for cells in text_rows(result):
        table.add_row(*cells)
    totals = text_totals(result)
    if totals is not None and result.columns:
        table.add_section()
        table.add_row(*totals, style="bold")
    header = [(t("ui.period", result.language), period_text(result))] if any(result.period) else []
    for label, value in header + result.filters:
        to.print(f"{label}: {value}", style="dim")
    if result.rows.height == 0:
        to.print(t("ui.no_rows", result.language))
        return
    to.print(table)


@report_app.command("save")
def save_command(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Name of the personal report (a-z, 0-9, -, _).")],
    base: Annotated[
        str, typer.Option("--from-report", help="The report it starts from (public or yours).")
    ],
    description: Annotated[
        str | None, typer.Option("--description", help="What the report is for.")
    ] = None,
    group: Annotated[
        str | None, typer.Option("--group", help="Your group/category for it (default: personal).")
    ] = None,
    title: Annotated[str | None, typer.Option("--title", help="Its title.")] = None,
    replace: Annotated[
        bool, typer.Option("--replace", help="Overwrite your report of that name.")
    ] = False,
    tz: Annotated[
        str | None,
        typer.Option("--tz", help="Time zone the report runs in unless a run gives --tz."),
    ] = None,
    group_by: GroupBy = None,
    period: Period = None,
    start: From = None,
    end: To = None,
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
    as_json: AsJson = False,
) -> None:
    """Save a personal report: an existing report with your filters as its defaults, and
    your grouping (--group-by) and time zone (--tz) if you give them.

    It belongs to the --as person (or the operator), is listed with the public reports and
    runs in one command.

    Examples:
      callacct report save my-intl --from-report international-by-country --period last-month
        --department Sales --description "Sales abroad" --group sales
      callacct report save cost-by-dept-ny --from-report cost-by-class --group-by department
        --tz America/New_York
      callacct report run my-intl
    """
    overrides = _filters(
        period, start, end, call_type, ext, user, department, cost_center, site, gateway,
        direction, answered, dest_class, country, number, min_duration, max_duration, min_cost,
        max_cost, where,
    )  # fmt: skip
    saved = workspace_from(ctx).save_report(
        name,
        base=base,
        filters=overrides,
        description=description,
        group=group,
        title=title,
        tz=tz,
        group_by=list(split_values(group_by)) if group_by is not None else None,
        replace=replace,
    )
    spec, owner = saved.spec, saved.owner
    if as_json:
        print_json({"name": spec.name, "owner": owner, "spec": json.loads(json.dumps(
            spec.model_dump(mode="json", by_alias=True, exclude_defaults=True)))})  # fmt: skip
        return
    console.print(f"saved personal report {spec.name!r}; run it with 'callacct report run {name}'")


@report_app.command("delete")
def delete_command(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Your personal report's name.")],
) -> None:
    """Delete one of your personal reports.

    Example:
      callacct report delete my-intl
    """
    workspace_from(ctx).delete_report(name)
    console.print(f"deleted personal report {name!r}")


@report_app.command("export")
def export_command(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Report name.")],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write to this file.")] = None,
) -> None:
    """Print a report's spec as YAML (to keep, share or import elsewhere).

    Examples:
      callacct report export my-intl > my-intl.yaml
      callacct report export top-numbers --out top.yaml
    """
    text = workspace_from(ctx).export_report(name)
    if out is None:
        sys.stdout.write(text)
        return
    check_out(out)
    _to_file(out, lambda fh: fh.write(text))


@report_app.command("import")
def import_command(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="A report spec (YAML).")],
    replace: Annotated[
        bool, typer.Option("--replace", help="Overwrite your report of that name.")
    ] = False,
    as_json: AsJson = False,
) -> None:
    """Import a report spec file as your personal report (validated first).

    Example:
      callacct report import my-intl.yaml
    """
    imported = workspace_from(ctx).import_report(path, replace=replace)
    if as_json:
        print_json({"name": imported.spec.name, "owner": imported.owner})
        return
    console.print(f"imported personal report {imported.spec.name!r}")


@report_app.command("validate")
def validate_command(
    ctx: typer.Context,
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Spec files (default: the public library and your reports)."),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Check report specs and list every problem with file, line and key (exit 1 if any).

    With the global --as LOGIN, files are checked as that person would save them (a masked
    number compared by range or pattern is a problem for a role whose numbers are masked).

    Examples:
      callacct report validate
      callacct report validate my-report.yaml other.yaml --json
    """
    if paths and as_login_of(ctx) is None:  # files alone need no workspace
        check = check_report_files(paths)
    else:  # as the --as person would save them, or the library and personal reports
        check = workspace_from(ctx).check_reports(paths)
    checked, problems = check.checked, check.problems
    if as_json:
        print_json(check.to_dict())
    else:
        for problem in problems:
            console.print(str(problem))
        if not problems:
            console.print(f"{checked} report specs are valid")
    if problems:
        raise typer.Exit(1)
