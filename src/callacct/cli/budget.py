"""`callacct budget`: budgets per person or group, their status, the calls they count, and
what the budget module did (F-BUDGET-1..4)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

import typer
from rich.table import Table

from callacct.budgets import PERIOD_KINDS, BudgetEvent, BudgetStatus, Evaluation
from callacct.cli._app import app
from callacct.cli._context import as_login_of, language_of, workspace_from
from callacct.cli._options import LangOption, bounded, count_option, id_argument, whole_option
from callacct.cli._output import console, duration_text, marked, print_json, value_text
from callacct.formats import money_text
from callacct.i18n import format_number, t

budget_app = typer.Typer(
    name="budget",
    no_args_is_help=True,
    help="Budget control: a budget per person, department or cost centre per week or month; "
    "warnings, the phone locked when it is spent and unlocked at the next period.\n\n"
    "Example: callacct budget set --user alice --amount 50 --currency EUR --period month",
)
app.add_typer(budget_app)

Json = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
BudgetId = Annotated[int, id_argument("The budget's id (see 'callacct budget list').")]


@budget_app.command("set")
def set_command(
    ctx: typer.Context,
    amount: Annotated[
        str,
        typer.Option("--amount", help="Amount per period, e.g. 50 or 49.90.", show_default=False),
    ],
    user: Annotated[
        str | None, typer.Option("--user", metavar="LOGIN", help="A person's own budget.")
    ] = None,
    department: Annotated[
        str | None, typer.Option("--department", help="A department's budget, shared by it.")
    ] = None,
    cost_center: Annotated[
        str | None, typer.Option("--cost-center", help="A cost centre's budget, shared by it.")
    ] = None,
    currency: Annotated[
        str | None,
        typer.Option(
            "--currency",
            help="ISO currency; only calls priced in it count (default: the workspace's).",
        ),
    ] = None,
    period: Annotated[
        str,
        typer.Option("--period", help=f"One of {', '.join(PERIOD_KINDS)}: weeks start on Monday."),
    ] = "month",
    carry_over: Annotated[
        bool,
        typer.Option(
            "--carry-over/--no-carry-over", help="Carry what is left into the next period."
        ),
    ] = False,
    warn: Annotated[
        str | None,
        typer.Option(
            "--warn",
            help="Warning thresholds in % of the allowance, e.g. 80,95 ('' for none; "
            "default: budgets.warn_at).",
        ),
    ] = None,
    lock_at: Annotated[
        int | None,
        typer.Option(
            "--lock-at",
            min=0,
            max=1000,
            help="Lock the phone at this % of the allowance; 0: never (default: budgets.lock_at).",
        ),
    ] = None,
    classes: Annotated[
        str | None,
        typer.Option(
            "--classes",
            help="Destination classes counted, e.g. international,mobile (default: every "
            "priced class).",
        ),
    ] = None,
    lang: LangOption = None,
    as_json: Json = False,
) -> None:
    """Give a person, a department or a cost centre a budget (admins), or change it.

    Setting it again for the same owner and currency changes it. A person's own budget and
    their group's both apply.

    Examples:
      callacct budget set --user alice --amount 50 --currency EUR --period month
      callacct budget set --department Sales --amount 400 --period week --carry-over --warn 75,90
      callacct budget set --user bob --amount 30 --classes international,mobile --lock-at 0
    """
    workspace = workspace_from(ctx)
    language = language_of(ctx, workspace, lang)
    budget = workspace.set_budget(
        user=user,
        department=department,
        cost_center=cost_center,
        amount=amount,
        currency=currency,
        period=period,
        carry_over=carry_over,
        warn_at=warn,
        lock_at=lock_at,
        classes=classes,
    )
    status = workspace.budget(budget.budget_id)
    if as_json:
        print_json(status.to_dict())
        return
    text = t("cli.budget.set", language, id=budget.budget_id, summary=_summary(status, language))
    console.print(marked(text, str(budget.budget_id)))


def _whose(kind: str, target: str, language: str) -> str:
    """Whose a budget is: `Sales (department)`."""
    return t(f"cli.budget.whose.{kind}", language, target=target)


def _summary(status: BudgetStatus, language: str) -> str:
    b = status.budget

    def money(amount: Decimal) -> str:
        return money_text(amount, b.currency, language)

    options = ""
    if b.carry_over:
        options += t("cli.budget.option.carried", language)
    if b.warn_at:
        thresholds = ", ".join(f"{threshold}%" for threshold in b.warn_at)
        options += t("cli.budget.option.warn_at", language, thresholds=thresholds)
    options += (
        t("cli.budget.option.lock_at", language, percent=b.lock_at)
        if b.lock_at
        else t("cli.budget.option.never_locks", language)
    )
    if b.classes:
        options += t("cli.budget.option.classes", language, classes=", ".join(b.classes))
    return t(
        "cli.budget.summary",
        language,
        whose=_whose(b.kind, b.target, language),
        amount=money(b.amount),
        period=value_text("cli.budget.period", b.period, language),
        options=options,
        label=status.period.label,
        spent=money(status.spent),
        remaining=money(status.remaining),
    )


def _table(title: str, statuses: list[BudgetStatus], language: str) -> Table:
    table = Table(title=title)
    money_columns = ("allowance", "spent", "left", "percent")
    for column in ("id", "whose", "period", "allowance", "spent", "left", "percent", "warn",
                   "lock_at"):  # fmt: skip
        table.add_column(
            t(f"cli.budget.{column}", language),
            justify="right" if column in money_columns else "left",
        )
    for s in statuses:
        b = s.budget
        over = b.lock_due(s.spent, s.allowance)
        table.add_row(
            str(b.budget_id),
            _whose(b.kind, b.target, language),
            f"{s.period.label} ({s.period.zone})",
            money_text(s.allowance, b.currency, language),
            money_text(s.spent, b.currency, language),
            money_text(s.remaining, b.currency, language),
            format_number(s.percent, language),
            ",".join(str(threshold) for threshold in b.warn_at) or "-",
            "-" if b.lock_at is None else str(b.lock_at),
            style="red" if over else ("yellow" if b.crossed(s.spent, s.allowance) else ""),
        )
    return table


@budget_app.command("list")
def list_command(ctx: typer.Context, lang: LangOption = None, as_json: Json = False) -> None:
    """The budgets you may see, each in its current period.

    Allowance (amount + carried over), spent, left, the thresholds.

    Examples:
      callacct budget list
      callacct --as carol budget list --json
      callacct budget list --lang fr
    """
    workspace = workspace_from(ctx)
    language = language_of(ctx, workspace, lang)
    statuses = workspace.budgets()
    if as_json:
        print_json([s.to_dict() for s in statuses])
        return
    if not statuses:
        console.print(t("cli.budget.none", language))
        return
    console.print(_table(t("cli.budget.title", language), statuses, language))


@budget_app.command("show")
def show_command(
    ctx: typer.Context, budget_id: BudgetId, lang: LangOption = None, as_json: Json = False
) -> None:
    """One budget: its settings and its current period.

    Example:
      callacct budget show 3 --json
    """
    workspace = workspace_from(ctx)
    language = language_of(ctx, workspace, lang)
    status = workspace.budget(budget_id)
    if as_json:
        print_json(status.to_dict())
        return
    b = status.budget
    title = t("cli.budget.budget", language, id=b.budget_id)
    console.print(marked(f"{title}: {_summary(status, language)}", title))
    lines = (
        t(
            "cli.budget.period_line",
            language,
            label=status.period.label,
            zone=status.period.zone,
            start=f"{status.period.starts_at:%Y-%m-%d %H:%M}",
            end=f"{status.period.ends_at:%Y-%m-%d %H:%M}",
        ),
        t(
            "cli.budget.allowance_line",
            language,
            allowance=money_text(status.allowance, b.currency, language),
            amount=money_text(b.amount, b.currency, language),
            carried=money_text(status.carried_in, b.currency, language),
        ),
        *(
            t(
                "cli.budget.not_counted",
                language,
                currency=currency,
                amount=money_text(amount, currency, language),
            )
            for currency, amount in status.other_currencies.items()
        ),
    )
    for line in lines:
        console.print("  " + line)


@budget_app.command("remove")
def remove_command(
    ctx: typer.Context, budget_id: BudgetId, lang: LangOption = None, as_json: Json = False
) -> None:
    """Remove a budget (admins); its history stays.

    Its budget locks are lifted unless another budget of the person is spent.

    Example:
      callacct budget remove 3
    """
    workspace = workspace_from(ctx)
    language = language_of(ctx, workspace, lang)
    evaluation = workspace.remove_budget(budget_id)
    if as_json:
        print_json({"removed": budget_id, **evaluation.to_dict()})
        return
    console.print(t("cli.budget.removed", language, id=budget_id))
    _print_lines(evaluation)


@budget_app.command("status")
def status_command(
    ctx: typer.Context,
    login: Annotated[
        str | None,
        typer.Option(
            "--as",
            metavar="LOGIN",
            help="Whose budgets (default: the global --as): yourself, or a person in your scope.",
        ),
    ] = None,
    lang: LangOption = None,
    as_json: Json = False,
) -> None:
    """A person's budgets (their own and their group's): spent, left, the line's lock state.

    Each in its current period, with the lock state of each of their extensions.

    Examples:
      callacct --as alice budget status
      callacct budget status --as alice --json
    """
    who = login or as_login_of(ctx)
    workspace = workspace_from(ctx)
    language = language_of(ctx, workspace, lang)
    statuses = workspace.budget_status(who)
    if as_json:
        print_json([s.to_dict() for s in statuses])
        return
    if not statuses:
        console.print(t("cli.budget.no_budget", language, who=who))
        return
    console.print(_table(t("cli.budget.title_of", language, who=who), statuses, language))
    locks = statuses[0].locks
    if locks:
        states = ", ".join(
            f"{ext} {value_text('cli.lock.state', state, language)}"
            for ext, state in sorted(locks.items())
        )
        console.print(t("cli.budget.line", language, states=states))


@budget_app.command("calls")
def calls_command(
    ctx: typer.Context,
    budget_id: Annotated[
        int | None,
        typer.Argument(
            help="The budget (default: the --as person's own).",
            show_default=False,
            callback=bounded("ID", 1),
        ),
    ] = None,
    login: Annotated[
        str | None,
        typer.Option("--as", metavar="LOGIN", help="Whose budget (default: the global --as)."),
    ] = None,
    last: Annotated[int, count_option("--last", "How many of the latest calls.")] = 20,
    lang: LangOption = None,
    as_json: Json = False,
) -> None:
    """The latest calls counted against a budget in its current period (those you may see).

    Examples:
      callacct --as alice budget calls
      callacct budget calls 3 --last 50 --json
    """
    workspace = workspace_from(ctx)
    language = language_of(ctx, workspace, lang)
    status, calls = workspace.budget_calls(budget_id, login=login or as_login_of(ctx), last=last)
    if as_json:
        print_json({"budget": status.to_dict(), "total": calls.total, "calls": calls.to_dicts()})
        return
    b = status.budget
    title = t(
        "cli.budget.calls_title",
        language,
        id=b.budget_id,
        whose=_whose(b.kind, b.target, language),
        period=status.period.label,
    )
    table = Table(title=title)
    for column in ("started", "extension", "number", "class", "duration", "cost"):
        table.add_column(
            t(f"cli.budget.call.{column}", language),
            justify="right" if column in ("duration", "cost") else "left",
        )
    for row in calls.frame.iter_rows(named=True):
        table.add_row(
            row["started_at"].strftime("%Y-%m-%d %H:%M"),
            row["extension"] or "",
            row["remote_number"] or "",
            value_text("value.dest_class", row["dest_class"], language)
            if row["dest_class"]
            else "",
            duration_text(row["duration_s"]),
            money_text(row["cost"], row["currency"]),
        )
    console.print(table)
    counted = t(
        "cli.budget.counted",
        language,
        calls=format_number(calls.total, language),
        spent=money_text(status.spent, b.currency, language),
    )
    console.print(counted)


@budget_app.command("history")
def history_command(
    ctx: typer.Context,
    budget_id: Annotated[
        int | None, whole_option("--budget", "One budget's actions.", minimum=1)
    ] = None,
    user: Annotated[
        str | None, typer.Option("--user", metavar="LOGIN", help="About this person.")
    ] = None,
    limit: Annotated[int, count_option("--limit", "Events shown, newest first.")] = 50,
    lang: LangOption = None,
    as_json: Json = False,
) -> None:
    """What the budget module did: warned, locked, unlocked, carried over, late spend.

    Examples:
      callacct budget history
      callacct --as carol budget history --user alice --json
    """
    workspace = workspace_from(ctx)
    language = language_of(ctx, workspace, lang)
    events = workspace.budget_history(budget_id=budget_id, login=user, limit=limit)
    if as_json:
        print_json([e.to_dict() for e in events])
        return
    _events_table(events, language)


def _events_table(events: list[BudgetEvent], language: str) -> None:
    table = Table(title=t("cli.budget.history", language))
    for column in ("when", "budget", "whose", "person", "period_from", "action", "amounts",
                   "note"):  # fmt: skip
        table.add_column(t(f"cli.budget.event.{column}", language))
    for e in events:
        amounts = ""
        if e.action == "carried-over" and e.amount is not None:
            amounts = money_text(e.amount, e.currency, language)
        elif e.spent is not None and e.allowance is not None:
            spent = money_text(e.spent, e.currency, language)
            amounts = f"{spent} / {money_text(e.allowance, e.currency, language)}"
        action = value_text("cli.budget.action", e.action, language)
        if e.action == "warned":
            action += f" {e.threshold}%"
        table.add_row(
            e.happened_at.strftime("%Y-%m-%d %H:%M"),
            str(e.budget_id),
            e.target,
            e.login or "",
            e.first_day.isoformat(),
            action,
            amounts,
            e.message or "",
            style="red" if e.result != "done" else "",
        )
    console.print(table)


@budget_app.command("evaluate")
def evaluate_command(ctx: typer.Context, lang: LangOption = None, as_json: Json = False) -> None:
    """Evaluate every budget now (admins), as ingest and the scheduler do.

    Warnings, locks, unlocks at a new period, carry-over. Running it again changes nothing.
    Exit code 1 when a lock or unlock failed.

    Example:
      callacct budget evaluate
    """
    workspace = workspace_from(ctx)
    language = language_of(ctx, workspace, lang)
    evaluation = workspace.evaluate_budgets()
    if as_json:
        print_json(evaluation.to_dict())
    else:
        _print_lines(evaluation)
        done = t(
            "cli.budget.evaluated",
            language,
            budgets=format_number(evaluation.budgets, language),
            actions=format_number(len(evaluation.events), language),
        )
        console.print(done)
    if any(e.result != "done" for e in evaluation.events):
        raise typer.Exit(1)


def budget_line(budget: dict[str, Any], language: str) -> str:
    """The line of a budget in `home`, in the person's language."""
    currency = budget["currency"]

    def shown(key: str) -> str:
        return money_text(Decimal(budget[key]), currency, language)

    return "  " + t(
        "home.budget",
        language,
        period=budget["period_label"],
        target=budget["target"],
        spent=shown("spent"),
        allowance=shown("allowance"),
        remaining=shown("remaining"),
    )


def _print_lines(evaluation: Evaluation) -> None:
    for line in evaluation.lines():
        console.print(line)
