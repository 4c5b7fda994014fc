"""`callacct home`: a person's last calls, summary and most-used reports (F-HOME)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from callacct.cli._app import app
from callacct.cli._context import as_login_of, global_lang, workspace_from
from callacct.cli._output import console, duration_text, print_json, styled
from callacct.cli.budget import budget_line
from callacct.errors import UsageError
from callacct.formats import money_text
from callacct.i18n import format_datetime, t
from callacct.service_numbers import named


@app.command("home")
def home_command(
    ctx: typer.Context,
    login: Annotated[
        str | None,
        typer.Option(
            "--as",
            metavar="LOGIN",
            help="Whose home (default: the global --as): yourself, or with the global --as a "
            "person within that person's scope.",
        ),
    ] = None,
    period: Annotated[
        str | None,
        typer.Option("--period", help="Summary period, e.g. this-month (default: every call)."),
    ] = None,
    tz: Annotated[str | None, typer.Option("--tz", help="Time zone of the times shown.")] = None,
    lang: Annotated[str | None, typer.Option("--lang", help="Language of the labels.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the home view as JSON.")] = False,
) -> None:
    """A person's home: their last 20 calls (type, time, duration, cost, gateway), a summary
    (calls handled, missed, total cost, average talk time) and the reports they run most.

    Numbers are masked as the reader's role requires (the global --as person, else the
    operator), whoever's home it is.

    Examples:
      callacct --as jdupont home
      callacct home --as jdupont --period this-month --json
      callacct --as msupervisor home --as jdupont
    """
    who = login or as_login_of(ctx)
    if who is None:
        raise UsageError("home needs a person: callacct --as LOGIN home")
    view = workspace_from(ctx).home(who, period=period, tz=tz, language=lang or global_lang(ctx))
    language = view.language
    if as_json:
        print_json(view.to_dict())
        return
    table = Table(title=f"{t('home.last_calls', language)} — {who}")
    for key in ("started_at", "direction", "remote_number", "duration_s", "cost", "gateway"):
        table.add_column(t(f"field.{key}", language))
    for row in view.last_calls.iter_rows(named=True):
        cost = (
            ""
            if row["cost"] is None
            else money_text(row["cost"], row["currency"], language, decimals=2)
        )
        direction = t(f"value.direction.{row['direction']}", language)
        table.add_row(
            format_datetime(row["started_at"], language),
            direction + ("" if row["answered"] else " ✗"),
            named(row["other_party"], row["other_class"], language) or "",
            duration_text(row["duration_s"]),
            cost,
            row["gateway"] or "",
        )
    console.print(table)
    costs = ", ".join(money_text(v, k, language) for k, v in view.cost.items()) or "0"
    talk = "" if view.average_talk_s is None else duration_text(view.average_talk_s)
    console.print(styled("[bold]{}[/]", t("home.summary", language)))
    console.print(f"  {t('home.calls_handled', language)}: {view.calls_handled}")
    console.print(f"  {t('home.missed', language)}: {view.missed}")
    console.print(f"  {t('home.total_cost', language)}: {costs}")
    console.print(f"  {t('home.average_talk', language)}: {talk}")
    for budget in view.budgets:
        console.print(budget_line(budget, language))
    if view.budgets and view.budgets[0]["locks"]:
        states = sorted(set(view.budgets[0]["locks"].values()))
        shown = ", ".join(t(f"value.lock_state.{state}", language) for state in states)
        console.print(f"  {t('home.budget_lock', language, state=shown)}")
    if view.reports:
        console.print(styled("[bold]{}[/]", t("home.reports", language)))
        for name, runs in view.reports:
            console.print(styled("  callacct report run {}   [dim]({})[/]", name, runs))
    console.print(styled("[dim]{}[/]", t("home.number_hint", language)))
