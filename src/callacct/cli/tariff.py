"""`callacct tariff`: import, list and show tariff plans; `callacct rate`: re-rate calls."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from callacct.cli._app import app
from callacct.cli._context import language_of, warn, workspace_from
from callacct.cli._options import LangOption, count_option
from callacct.cli._output import ProgressLine, console, print_json, styled
from callacct.formats import money_text
from callacct.i18n import format_number, t
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
    lang: LangOption = None,
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
      callacct tariff import carrier.yaml --lang es
    """
    workspace = workspace_from(ctx)
    language = language_of(ctx, workspace, lang)
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
    _warn(done.warnings, language)
    if as_json:
        print_json(done.to_dict())
        return
    verb = "would_store" if dry_run else ("replaced" if report.replaced else "stored")
    console.print(
        t(
            f"cli.tariff.imported.{verb}",
            language,
            plan=report.plan,
            version=report.version,
            valid_from=report.valid_from,
            currency=report.currency,
            rates=format_number(report.rates, language),
        )
    )
    if rating is not None:
        show_rating(rating, language)


@tariff_app.command("list")
def list_command(
    ctx: typer.Context,
    lang: LangOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print plans as JSON.")] = False,
) -> None:
    """List tariff plans with their versions.

    Examples:
      callacct tariff list
      callacct tariff list --json
      callacct tariff list --lang it
    """
    workspace = workspace_from(ctx)
    language = language_of(ctx, workspace, lang)
    plans = workspace.tariffs()
    if as_json:
        print_json(plans)
        return
    if not plans:
        console.print(t("cli.tariff.none", language))
        return
    headers = ("plan", "default", "gateways", "version", "valid_from", "currency", "rates")
    table = Table(*(t(f"cli.tariff.{key}", language) for key in headers))
    for plan in plans:
        for version in plan["versions"]:
            table.add_row(
                plan["plan"],
                t("filter.yes", language) if plan["default"] else "",
                plan["gateways"] or "",
                str(version["version"]),
                version["valid_from"],
                version["currency"],
                format_number(version["rates"], language),
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
    lang: LangOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the plan as JSON.")] = False,
) -> None:
    """Show a plan: settings, time bands, holidays and its rates.

    Examples:
      callacct tariff show fr-carrier
      callacct tariff show fr-carrier --prefix 44 --json
      callacct tariff show fr-carrier --lang ar
    """
    workspace = workspace_from(ctx)
    language = language_of(ctx, workspace, lang)
    data = workspace.tariff(plan, version=version, prefix=prefix, limit=limit)
    if as_json:
        print_json(data)
        return
    console.print(styled("[bold]{}[/]", data["plan"]), end=" ")
    console.print(
        t(
            "cli.tariff.version_line",
            language,
            version=data["version"],
            valid_from=data["valid_from"],
            description=data["description"],
        )
        + "\n"
        + t(
            "cli.tariff.settings_line",
            language,
            currency=data["currency"],
            decimals=data["decimals"],
            rounding=data["rounding"],
            gateways=data["gateways"],
        )
        + (t("cli.tariff.default_plan", language) if data["default"] else "")
        + "; "
        + t("cli.tariff.split" if data["split_bands"] else "cli.tariff.by_start", language)
    )
    for band in data["bands"]:
        days = ", ".join(band["days"])
        hours = {"start": band["start"], "end": band["end"]}
        console.print("  " + t("cli.tariff.band", language, name=band["name"], days=days, **hours))
    if data["holidays"]:
        holidays = ", ".join(data["holidays"])
        console.print(
            "  " + t("cli.tariff.holidays", language, band=data["holiday_band"], days=holidays)
        )
    headers = ("line", "prefix", "destination", "class", "per_min", "connect", "increments",
               "minimum", "band")  # fmt: skip
    caption = t(
        "cli.tariff.rates_shown",
        language,
        shown=format_number(len(data["rates"]), language),
        total=format_number(data["rate_count"], language),
    )
    table = Table(*(t(f"cli.tariff.rate.{key}", language) for key in headers), caption=caption)
    for rate in data["rates"]:
        table.add_row(
            str(rate["line_no"]),
            rate["prefix"] or t("cli.tariff.rate.by_class", language),
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
    lang: LangOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Rate calls again (after a tariff or dial-plan change), atomically, and report how many
    costs changed and by how much. Running it twice changes nothing the second time.

    Examples:
      callacct rate
      callacct rate --from 2026-11-01 --to 2026-11-30 --json
      callacct --lang de rate
    """
    workspace = workspace_from(ctx)
    language = language_of(ctx, workspace, lang)
    line = ProgressLine(language)
    with line.running():
        report = workspace.rate(start, end, tz=tz, progress=line)
    if as_json:
        print_json(report.to_dict())
        _warn(report.warnings, language)
        return
    show_rating(report, language)


def show_rating(report: RateReport, language: str = "en") -> None:
    """The outcome of a rating run, for people; warnings on stderr."""
    delta = ", ".join(money_text(v, cur, signed=True) for cur, v in report.delta.items())
    total = ", ".join(money_text(v, cur) for cur, v in report.total.items()) or "0"
    console.print(
        t(
            "cli.rate.done",
            language,
            calls=format_number(report.calls, language),
            priced=format_number(report.priced, language),
            seconds=format_number(report.seconds, language, 2),
            changed=format_number(report.changed, language),
            delta=delta or t("cli.rate.no_change", language),
            total=total,
        )
    )
    _warn(report.warnings, language)


def _warn(warnings: list[str], language: str) -> None:
    for warning in warnings:
        warn(warning, language)
