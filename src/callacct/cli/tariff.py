"""`callacct tariff`: import, list and show tariff plans; `callacct rate`: re-rate calls."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from callacct.cli._app import app
from callacct.cli._context import workspace_from
from callacct.cli._options import count_option
from callacct.cli._output import ProgressLine, console, print_error, print_json, styled
from callacct.formats import money_text
from callacct.rating import RateReport, TariffError
from callacct.rating.tariff import EXAMPLE_TARIFFS

tariff_app = typer.Typer(
    help="Tariff plans: rate decks with prices per destination prefix.\n\n"
    "Example: callacct tariff import carrier.yaml",
    no_args_is_help=True,
)
app.add_typer(tariff_app, name="tariff")


@tariff_app.command("import")
def import_command(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(
            help="Plan file (YAML, naming its rate deck) or a rate deck (CSV) with --plan; "
            f"shipped examples: {', '.join(sorted(p.stem for p in EXAMPLE_TARIFFS))}.",
            show_default=False,
        ),
    ],
    plan: Annotated[
        str | None, typer.Option("--plan", help="With a CSV deck: the plan it is a version of.")
    ] = None,
    valid_from: Annotated[
        str | None,
        typer.Option("--valid-from", help="First day (YYYY-MM-DD) the version is in force."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Validate only; store nothing.")
    ] = False,
    rate: Annotated[
        bool, typer.Option("--rate/--no-rate", help="Re-rate the calls after the import.")
    ] = True,
    replace_default: Annotated[
        bool,
        typer.Option(
            "--replace-default",
            help="Let a plan marked 'default: true' take the default from the current one.",
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Validate a tariff and store it as a new version (or replace the version with the same
    valid-from date). Every problem in the files is listed; nothing is stored if there is one.

    Examples:
      callacct tariff import carrier.yaml
      callacct tariff import carrier-2027.csv --plan carrier --valid-from 2027-01-01
      callacct tariff import fr-carrier            # a shipped example
      callacct tariff import carrier.yaml --dry-run --json
      callacct tariff import new-default.yaml --replace-default
    """
    workspace = workspace_from(ctx)
    try:
        done = workspace.tariff_import(
            file,
            plan=plan,
            valid_from=valid_from,
            dry_run=dry_run,
            rate=rate,
            replace_default=replace_default,
        )
    except TariffError as exc:
        if as_json:
            print_json({"problems": [p.to_dict() for p in exc.problems]})
        raise
    report, rating = done.report, done.rating
    _warn(done.warnings)
    if as_json:
        print_json(done.to_dict())
        return
    verb = "would store" if dry_run else ("replaced" if report.replaced else "stored")
    console.print(
        f"{report.plan} version {report.version} (valid from {report.valid_from}, "
        f"{report.currency}): {verb} {report.rates:,} rates"
    )
    if rating is not None:
        show_rating(rating)


@tariff_app.command("list")
def list_command(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print plans as JSON.")] = False,
) -> None:
    """List tariff plans with their versions.

    Examples:
      callacct tariff list
      callacct tariff list --json
    """
    plans = workspace_from(ctx).tariffs()
    if as_json:
        print_json(plans)
        return
    if not plans:
        console.print("No tariff plans; import one with 'callacct tariff import PLAN.yaml'.")
        return
    table = Table("plan", "default", "gateways", "version", "valid from", "currency", "rates")
    for plan in plans:
        for version in plan["versions"]:
            table.add_row(
                plan["plan"],
                "yes" if plan["default"] else "",
                plan["gateways"] or "",
                str(version["version"]),
                version["valid_from"],
                version["currency"],
                f"{version['rates']:,}",
            )
    console.print(table)


@tariff_app.command("show")
def show_command(
    ctx: typer.Context,
    plan: Annotated[str, typer.Argument(help="Plan name.", show_default=False)],
    version: Annotated[
        int | None,
        count_option("--version", "Version number (default: the latest)."),
    ] = None,
    prefix: Annotated[
        str | None, typer.Option("--prefix", help="Only rates whose prefix starts with this.")
    ] = None,
    limit: Annotated[int, count_option("--limit", "Rates shown at most.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print the plan as JSON.")] = False,
) -> None:
    """Show a plan: settings, time bands, holidays and its rates.

    Examples:
      callacct tariff show fr-carrier
      callacct tariff show fr-carrier --prefix 44 --json
    """
    data = workspace_from(ctx).tariff(plan, version=version, prefix=prefix, limit=limit)
    if as_json:
        print_json(data)
        return
    console.print(styled("[bold]{}[/]", data["plan"]), end=" ")
    console.print(
        f"version {data['version']} valid from {data['valid_from']} - "
        f"{data['description']}\n{data['currency']}, {data['decimals']} decimals, rounding "
        f"{data['rounding']}; gateways '{data['gateways']}'"
        f"{' (default plan)' if data['default'] else ''}"
        f"; {'split' if data['split_bands'] else 'rated by start time'} at band boundaries"
    )
    for band in data["bands"]:
        console.print(
            f"  band {band['name']}: {', '.join(band['days'])} {band['start']}-{band['end']}"
        )
    if data["holidays"]:
        console.print(f"  holidays ({data['holiday_band']}): {', '.join(data['holidays'])}")
    table = Table(
        "line", "prefix", "destination", "class", "per min", "connect", "incr.", "minimum", "band",
        caption=f"{len(data['rates'])} of {data['rate_count']:,} rates",
    )  # fmt: skip
    for rate in data["rates"]:
        table.add_row(
            str(rate["line_no"]),
            rate["prefix"] or "(class)",
            rate["destination"],
            rate["dest_class"],
            rate["price_per_min"],
            rate["connect_fee"],
            f"{rate['initial_increment_s']}/{rate['subsequent_increment_s']}",
            rate["min_charge"],
            rate["band"],
        )
    console.print(table)


@app.command("rate")
def rate_command(
    ctx: typer.Context,
    start: Annotated[
        str | None, typer.Option("--from", help="First day (YYYY-MM-DD) or date-time.")
    ] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last day, inclusive.")] = None,
    tz: Annotated[
        str | None, typer.Option("--tz", help="Time zone of --from/--to (default: settings).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Rate calls again (after a tariff or dial-plan change), atomically, and report how many
    costs changed and by how much. Running it twice changes nothing the second time.

    Examples:
      callacct rate
      callacct rate --from 2026-11-01 --to 2026-11-30 --json
    """
    workspace = workspace_from(ctx)
    line = ProgressLine()
    with line.running():
        report = workspace.rate(start, end, tz=tz, progress=line)
    if as_json:
        print_json(report.to_dict())
        _warn(report.warnings)
        return
    show_rating(report)


def show_rating(report: RateReport) -> None:
    """The outcome of a rating run, for people; warnings on stderr."""
    delta = ", ".join(money_text(v, cur, signed=True) for cur, v in report.delta.items()) or "none"
    total = ", ".join(money_text(v, cur) for cur, v in report.total.items()) or "0"
    console.print(
        f"rated {report.calls:,} calls ({report.priced:,} priced) in {report.seconds:.2f} s: "
        f"{report.changed:,} changed, cost change {delta}; total {total}"
    )
    _warn(report.warnings)


def _warn(warnings: list[str]) -> None:
    for warning in warnings:
        print_error("warning:", warning, "yellow")
