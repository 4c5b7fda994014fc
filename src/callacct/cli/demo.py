"""`callacct demo`: build a realistic demo workspace in one command."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from callacct.cli._app import app
from callacct.cli._options import whole_option
from callacct.cli._output import ProgressLine, console, print_json, styled
from callacct.demo.workspace import DemoResult, build_demo
from callacct.errors import UsageError
from callacct.formats import money_text


@app.command("demo")
def demo_command(
    directory: Annotated[Path, typer.Argument(help="Folder for the demo workspace.")] = Path(
        "demo-workspace"
    ),
    seed: Annotated[int, whole_option("--seed", "Random seed: same seed and end, same data.")] = 42,
    days: Annotated[int, typer.Option(help="Days of calls.", min=1, max=366)] = 60,
    end: Annotated[
        str | None, typer.Option(help="Last day of calls, YYYY-MM-DD (default: yesterday).")
    ] = None,
    people: Annotated[int, typer.Option(help="People in the company.", min=10, max=5000)] = 200,
    force: Annotated[
        bool, typer.Option("--force", help="Rebuild a demo workspace that already exists.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Build a demo workspace: a company of 200 people in Paris and New York, 60 days of
    Cisco CUCM CDR and CMR files in the real format (with a few malformed lines), ingested.

    Example: callacct demo ./demo --seed 7 --days 30 --force
    """
    try:
        last_day = dt.date.fromisoformat(end) if end else None
    except ValueError:
        raise UsageError(f"--end: {end!r} is not a date (YYYY-MM-DD)") from None
    line = ProgressLine()
    if not as_json:
        console.print(styled("Building the demo workspace in [bold]{}[/] ...", directory))
    with line.running():
        result = build_demo(
            directory,
            seed=seed,
            days=days,
            end=last_day,
            people=people,
            force=force,
            progress=line,
        )
    if as_json:
        print_json(result.to_dict())
        return
    _show(result)


def _show(result: DemoResult) -> None:
    cdr, report = result.cdr, result.ingest
    table = Table(title=f"demo workspace {result.workspace}", show_header=False)
    table.add_column(style="bold")
    table.add_column(justify="right")
    table.add_row("people", f"{result.people}")
    table.add_row("period", f"{cdr.first_day} .. {cdr.last_day}")
    table.add_row("CDR / CMR files", f"{len(cdr.cdr_files):,} / {len(cdr.cmr_files):,}")
    table.add_row("records read", f"{report.rows_read:,}")
    table.add_row("stored", f"{report.stored:,}")
    table.add_row("duplicates", f"{report.duplicates:,}")
    table.add_row(
        "rejected", f"{report.rejected:,} (the demo plants {len(cdr.malformed)} bad lines)"
    )
    table.add_row("calls", f"{report.calls:,}")
    for name, count in result.calls_by_direction.items():
        table.add_row(f"  {name}", f"{count:,}")
    for name, count in result.calls_by_disposition.items():
        table.add_row(f"  {name}", f"{count:,}")
    for tariff in result.tariffs:
        table.add_row(f"tariff {tariff.plan}", f"{tariff.rates} rates, {tariff.currency}")
    for currency, total in result.rating.total.items():
        table.add_row(f"cost ({currency})", money_text(total, language="en"))
    table.add_row("reports", f"{len(result.reports)} in {result.workspace / 'reports'}")
    table.add_row("time", f"{result.seconds:.1f} s")
    console.print(table)
    ws = result.workspace
    console.print("Try:")
    console.print(f"  callacct -w {ws} calls --last 20")
    console.print(f"  callacct -w {ws} calls --direction outgoing --ext 2001")
    console.print(f"  callacct -w {ws} ingest --rejects")
    console.print(f"  callacct -w {ws} tariff list")
    console.print(f"  callacct -w {ws} calls --class international --last 5")
    console.print(f"  callacct -w {ws} calls explain ID")
    console.print(f"  callacct -w {ws} report list")
    console.print(f"  callacct -w {ws} report run cost-by-department --period last-month")
    console.print(f"  callacct -w {ws} --as {result.example_login} home")
    console.print(f"  callacct -w {ws} schedule list")
    console.print(f"  callacct -w {ws} schedule run-due --dry-run   (the e-mails, as .eml files)")
    console.print(f"  callacct -w {ws} alarm run; callacct -w {ws} alarm events --rows")
    console.print(f"  callacct -w {ws} budget list; callacct -w {ws} budget history")
