"""Budgets as a person sees and changes them: set, list, show, remove, status, the calls
counted, the history — each within the reader's scope.

Who sees which budget: an admin every one; a supervisor those of the people and groups of
their scope (and their own); a user their own budget and those of their department and cost
centre. Only an admin sets or removes a budget (the API checks it). Spend shown is the whole
budget's (a group's total), while the calls listed are only those the reader may see.

Example:
    >>> parse_amount("50"), parse_classes("mobile,international")
    (Decimal('50'), ('international', 'mobile'))
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation

import polars as pl

from callacct.budgets import records
from callacct.budgets.evaluate import statuses, window
from callacct.budgets.model import BUDGET_KINDS, Budget, BudgetEvent, BudgetStatus
from callacct.budgets.periods import PERIOD_KINDS
from callacct.budgets.records import Person
from callacct.call_codes import DEST_CLASSES
from callacct.config import Settings, check_currency, check_thresholds
from callacct.errors import NotFoundError, UsageError
from callacct.i18n import Message
from callacct.query.scope import Scope
from callacct.query.spend import counted_calls
from callacct.store import Store

#: Classes a budget may count: those a call to the public network can have.
COUNTABLE_CLASSES = tuple(c for c in DEST_CLASSES if c != "internal")


def parse_amount(text: str | Decimal) -> Decimal:
    """A budget amount: a decimal number above 0 with at most 6 decimals."""
    try:
        value = Decimal(str(text).strip())
    except InvalidOperation:
        raise UsageError(Message("error.not_an_amount", value=repr(text))) from None
    if not value.is_finite() or value <= 0:
        raise UsageError(f"--amount: {text!r} must be above 0")
    if value.as_tuple().exponent < -6 or value >= Decimal(10) ** 12:  # type: ignore[operator]
        raise UsageError(f"--amount: {text!r} has too many digits (at most 12 + 6 decimals)")
    return value


def parse_thresholds(text: str | Sequence[int], option: str = "--warn") -> tuple[int, ...]:
    """`80,95` -> (80, 95); empty: no warning."""
    if isinstance(text, str):
        parts = [p.strip().rstrip("%") for p in text.split(",") if p.strip()]
        try:
            values = tuple(int(p) for p in parts)
        except ValueError:
            raise UsageError(
                f"{option}: {text!r} is not a list of percentages such as 80,95"
            ) from None
    else:
        values = tuple(text)
    try:
        return check_thresholds(values)
    except ValueError as exc:
        raise UsageError(f"{option}: {exc}") from None


def parse_classes(text: str | Sequence[str] | None) -> tuple[str, ...] | None:
    """Destination classes a budget counts (None: every priced class)."""
    if text is None:
        return None
    parts = [p.strip() for p in (text.split(",") if isinstance(text, str) else text) if p.strip()]
    bad = [p for p in parts if p not in COUNTABLE_CLASSES]
    if bad:
        raise UsageError(f"--classes: unknown class {bad[0]!r}; use {', '.join(COUNTABLE_CLASSES)}")
    return tuple(sorted(set(parts))) or None


def new_budget(
    settings: Settings,
    *,
    kind: str,
    target: str,
    amount: str | Decimal,
    currency: str | None,
    period: str,
    carry_over: bool,
    warn_at: str | Sequence[int] | None,
    lock_at: int | None,
    classes: str | Sequence[str] | None,
    created_by: str,
) -> Budget:
    """A budget checked from what `budget set` was given (defaults from `[budgets]`)."""
    if kind not in BUDGET_KINDS:
        raise UsageError(f"a budget belongs to one of {', '.join(BUDGET_KINDS)}, not {kind!r}")
    if not target.strip():
        raise UsageError("name whose budget it is: --user, --department or --cost-center")
    if period not in PERIOD_KINDS:
        raise UsageError(f"--period: {period!r} is not one of {', '.join(PERIOD_KINDS)}")
    code = (currency or settings.general.currency).upper()
    try:
        check_currency(code)
    except ValueError as exc:
        raise UsageError(f"--currency: {exc}") from None
    lock = settings.budgets.lock_at if lock_at is None else lock_at
    if not 0 <= lock <= 1000:
        raise UsageError("--lock-at: a whole percentage from 1 to 1000 (0: never lock)")
    return Budget(
        0,
        kind,
        target.strip(),
        parse_amount(amount),
        code,
        period,
        carry_over,
        settings.budgets.warn_at if warn_at is None else parse_thresholds(warn_at),
        lock or None,
        parse_classes(classes),
        created_by,
    )


def check_target(store: Store, budget: Budget) -> None:
    """The person or group exists in the directory now (`NotFoundError` otherwise)."""
    people = records.current_people(store.con)
    if budget.kind == "user":
        if budget.target not in people:
            raise NotFoundError(
                f"--user {budget.target!r}: no such person in the directory now; "
                "check 'callacct directory list'"
            )
        return
    if not any(getattr(p, budget.kind) == budget.target for p in people.values()):
        option = "--department" if budget.kind == "department" else "--cost-center"
        raise NotFoundError(
            f"{option} {budget.target!r}: nobody in the directory belongs to it now"
        )


def check_currency_known(store: Store, settings: Settings, budget: Budget) -> None:
    """Once tariffs are imported, the budget's currency is one calls can be priced in: the
    workspace's, a tariff's, or one calls are priced in already (`UsageError` otherwise: a
    typo would count nothing). Before any tariff, any code is taken."""
    if budget.currency == settings.general.currency:
        return
    rows = store.con.execute("SELECT DISTINCT currency FROM tariff_versions").fetchall()
    tariffs = {str(row[0]) for row in rows}
    if not tariffs:
        return
    priced = store.con.execute(
        "SELECT DISTINCT currency FROM calls WHERE currency IS NOT NULL"
    ).fetchall()
    known = tariffs | {str(row[0]) for row in priced} | {settings.general.currency}
    if budget.currency not in known:
        raise UsageError(
            f"--currency {budget.currency!r}: no tariff or call is priced in it; "
            f"use one of {', '.join(sorted(known))}"
        )


def visible(budget: Budget, scope: Scope, people: Mapping[str, Person]) -> bool:
    """Whether `scope` may see `budget` (see the module docstring)."""
    if scope.role == "admin":
        return True
    me = people.get(scope.login or "")
    if budget.kind == "user":
        if budget.target == scope.login:
            return True
        person = people.get(budget.target)
        return (
            scope.role == "supervisor"
            and person is not None
            and scope.allows_person(person.as_scope_row())
        )
    if me is not None and getattr(me, budget.kind) == budget.target:
        return True
    if scope.role != "supervisor":
        return False
    if budget.target in scope.covers()[budget.kind]:
        return True
    return any(
        getattr(p, budget.kind) == budget.target and scope.allows_person(p.as_scope_row())
        for p in people.values()
    )


def visible_budgets(store: Store, scope: Scope) -> list[Budget]:
    people = records.current_people(store.con)
    return [b for b in records.load_budgets(store.con) if visible(b, scope, people)]


def one_budget(store: Store, scope: Scope, budget_id: int) -> Budget:
    """Budget `budget_id` if the reader may see it; `NotFoundError` otherwise."""
    found = records.load_budgets(store.con, [budget_id])
    people = records.current_people(store.con)
    if not found or not visible(found[0], scope, people):
        raise NotFoundError(Message("error.no_budget", budget_id=budget_id))
    return found[0]


def budgets_of(store: Store, login: str) -> list[Budget]:
    """The budgets that apply to a person: their own and their groups' (F-BUDGET-2)."""
    people = records.current_people(store.con, [login])
    person = people.get(login)
    if person is None:
        return []
    return [
        b
        for b in records.load_budgets(store.con)
        if (b.kind == "user" and b.target == login)
        or (b.kind != "user" and getattr(person, b.kind) == b.target)
    ]


def status(
    store: Store, settings: Settings, budgets: Sequence[Budget], now: dt.datetime
) -> list[BudgetStatus]:
    return statuses(store, settings, budgets, now)


def calls_of(
    store: Store,
    settings: Settings,
    budget: Budget,
    scope: Scope,
    now: dt.datetime,
    *,
    last: int = 20,
) -> tuple[BudgetStatus, pl.DataFrame, int]:
    """The latest calls counted against `budget` in its current period that `scope` may
    see (F-BUDGET-4), newest first."""
    current = statuses(store, settings, [budget], now)[0]
    frame, total = counted_calls(store.con, window(budget, current.period), scope, last=last)
    return current, frame, total


def history(
    store: Store,
    scope: Scope,
    *,
    budget_id: int | None = None,
    login: str | None = None,
    limit: int = 100,
) -> list[BudgetEvent]:
    """The budget module's actions on the budgets the reader may see, newest first."""
    if budget_id is not None:
        ids = [one_budget(store, scope, budget_id).budget_id]
    elif scope.role == "admin":
        ids = None
    else:
        ids = [b.budget_id for b in visible_budgets(store, scope)]
    return records.read_events(store.con, budget_ids=ids, login=login, limit=limit)
