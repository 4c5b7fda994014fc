"""The budget tables in the store (`budgets`, `budget_periods`, `budget_events`) and the few
facts of the directory budgets need (who is in a group, a person's site, e-mail, language
and manager), read with parameterised SQL, many rows at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import duckdb
import polars as pl

from callacct.budgets.model import Budget, BudgetEvent
from callacct.budgets.periods import Period
from callacct.store import registered

_BUDGET_COLUMNS = (
    "budget_id, kind, target, amount, currency, period, carry_over, warn_at, lock_at, classes, "
    "created_by, created_at, updated_at"
)


@dataclass(frozen=True)
class Person:
    """A person in the directory now, as budgets see them."""

    login: str
    name: str | None
    email: str | None
    language: str | None
    department: str | None
    cost_center: str | None
    site: str | None
    manager: str | None

    def as_scope_row(self) -> dict[str, Any]:
        return {
            "login": self.login,
            "department": self.department,
            "cost_center": self.cost_center,
            "site": self.site,
        }


def current_people(
    con: duckdb.DuckDBPyConnection, logins: Sequence[str] | None = None
) -> dict[str, Person]:
    """Everyone in the directory now (or only `logins`), by login."""
    sql = (
        "SELECT login, name, email, language, department, cost_center, site, manager "
        "FROM users WHERE valid_to IS NULL"
    )
    params: list[Any] = []
    if logins is not None:
        sql += " AND login IN (SELECT unnest(?::VARCHAR[]))"
        params.append(list(logins))
    return {row[0]: Person(*row) for row in con.execute(sql, params).fetchall()}


def _budget(row: tuple[Any, ...]) -> Budget:
    (bid, kind, target, amount, currency, period, carry, warn, lock_at, classes, by, at, upd) = row
    return Budget(
        int(bid),
        kind,
        target,
        Decimal(amount),
        currency,
        period,
        bool(carry),
        tuple(int(t) for t in warn),
        None if lock_at is None else int(lock_at),
        None if classes is None else tuple(classes),
        by,
        at,
        upd,
    )


def load_budgets(con: duckdb.DuckDBPyConnection, ids: Sequence[int] | None = None) -> list[Budget]:
    """The budgets (all, or those of `ids`), by id."""
    sql = f"SELECT {_BUDGET_COLUMNS} FROM budgets"  # noqa: S608
    params: list[Any] = []
    if ids is not None:
        sql += " WHERE budget_id IN (SELECT unnest(?::BIGINT[]))"
        params.append(list(ids))
    return [_budget(row) for row in con.execute(sql + " ORDER BY budget_id", params).fetchall()]


def any_budget(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(con.execute("SELECT EXISTS (SELECT 1 FROM budgets)").fetchall()[0][0])


def find_budget(
    con: duckdb.DuckDBPyConnection, kind: str, target: str, currency: str
) -> Budget | None:
    rows = con.execute(
        f"SELECT {_BUDGET_COLUMNS} FROM budgets WHERE kind = ? AND target = ? AND currency = ?",  # noqa: S608
        [kind, target, currency],
    ).fetchall()
    return _budget(rows[0]) if rows else None


def save_budget(con: duckdb.DuckDBPyConnection, budget: Budget, now: dt.datetime) -> Budget:
    """Insert `budget` (id 0) or update the budget of the same owner and currency. A change
    of period kind drops the open period, which is then started again as the new kind."""
    old = find_budget(con, budget.kind, budget.target, budget.currency)
    values = [
        budget.amount,
        budget.period,
        budget.carry_over,
        list(budget.warn_at),
        budget.lock_at,
        None if budget.classes is None else list(budget.classes),
    ]
    if old is None:
        rows = con.execute(
            "INSERT INTO budgets (kind, target, currency, amount, period, carry_over, warn_at, "
            "lock_at, classes, created_by, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING budget_id",
            [budget.kind, budget.target, budget.currency, *values, budget.created_by, now, now],
        ).fetchall()
        budget_id = int(rows[0][0])
    else:
        budget_id = old.budget_id
        con.execute(
            "UPDATE budgets SET amount = ?, period = ?, carry_over = ?, warn_at = ?, lock_at = ?, "
            "classes = ?, updated_at = ? WHERE budget_id = ?",
            [*values, now, budget_id],
        )
        if old.period != budget.period:
            con.execute(
                "DELETE FROM budget_periods WHERE budget_id = ? AND closed_at IS NULL", [budget_id]
            )
    return load_budgets(con, [budget_id])[0]


def delete_budget(con: duckdb.DuckDBPyConnection, budget_id: int) -> None:
    """Remove a budget and its periods; its events stay in the history."""
    con.execute("DELETE FROM budget_periods WHERE budget_id = ?", [budget_id])
    con.execute("DELETE FROM budgets WHERE budget_id = ?", [budget_id])


@dataclass(frozen=True)
class PeriodRow:
    """A row of `budget_periods`."""

    budget_id: int
    period: Period
    carried_in: Decimal
    spent_at_close: Decimal | None
    late_spent: Decimal | None


def _period_row(row: tuple[Any, ...], kinds: dict[int, str]) -> PeriodRow:
    budget_id, first, starts, ends, zone, carried, spent, late = row
    period = Period(kinds.get(int(budget_id), "month"), first, starts, ends, zone)  # type: ignore[arg-type]
    return PeriodRow(
        int(budget_id),
        period,
        Decimal(carried),
        None if spent is None else Decimal(spent),
        None if late is None else Decimal(late),
    )


_PERIOD_COLUMNS = (
    "p.budget_id, p.first_day, p.starts_at, p.ends_at, p.zone, p.carried_in, "
    "p.spent_at_close, p.late_spent"
)


def open_periods(
    con: duckdb.DuckDBPyConnection, ids: Sequence[int] | None = None
) -> dict[int, PeriodRow]:
    """Each budget's open period (the one the evaluation last counted in), of `ids` only
    when given."""
    where = "" if ids is None else " AND p.budget_id IN (SELECT unnest(?::BIGINT[]))"
    rows = con.execute(
        f"SELECT {_PERIOD_COLUMNS}, b.period FROM budget_periods p "  # noqa: S608
        f"JOIN budgets b USING (budget_id) WHERE p.closed_at IS NULL{where}",
        [] if ids is None else [list(ids)],
    ).fetchall()
    return {int(r[0]): _period_row(r[:-1], {int(r[0]): r[-1]}) for r in rows}


def last_closed_periods(
    con: duckdb.DuckDBPyConnection, ending_after: dt.datetime
) -> dict[int, PeriodRow]:
    """Each budget's most recently closed period (where late calls may still arrive), if it
    ends after `ending_after`."""
    rows = con.execute(
        f"SELECT * FROM (SELECT {_PERIOD_COLUMNS}, b.period FROM budget_periods p "  # noqa: S608
        "JOIN budgets b USING (budget_id) WHERE p.closed_at IS NOT NULL "
        "QUALIFY row_number() OVER (PARTITION BY p.budget_id ORDER BY p.first_day DESC) = 1) "
        "WHERE ends_at > ?",
        [ending_after],
    ).fetchall()
    return {int(r[0]): _period_row(r[:-1], {int(r[0]): r[-1]}) for r in rows}


def carried_into(
    con: duckdb.DuckDBPyConnection, budget_ids: Iterable[int], first_days: Iterable[dt.date]
) -> dict[tuple[int, dt.date], Decimal]:
    """What was carried into the given periods (budget id, first day) that have a row."""
    rows = con.execute(
        "SELECT budget_id, first_day, carried_in FROM budget_periods "
        "WHERE budget_id IN (SELECT unnest(?::BIGINT[])) "
        "AND first_day IN (SELECT unnest(?::DATE[]))",
        [list(budget_ids), list(first_days)],
    ).fetchall()
    return {(int(b), d): Decimal(c) for b, d, c in rows}


def insert_periods(
    con: duckdb.DuckDBPyConnection, rows: Sequence[tuple[int, Period, Decimal]]
) -> None:
    """Open periods: (budget id, period, carried in)."""
    if not rows:
        return
    frame = pl.DataFrame(
        {
            "budget_id": [r[0] for r in rows],
            "first_day": [r[1].first for r in rows],
            "starts_at": [r[1].starts_at for r in rows],
            "ends_at": [r[1].ends_at for r in rows],
            "zone": [r[1].zone for r in rows],
            "carried_in": [str(r[2]) for r in rows],
        },
        schema={
            "budget_id": pl.Int64,
            "first_day": pl.Date,
            "starts_at": pl.Datetime("us"),
            "ends_at": pl.Datetime("us"),
            "zone": pl.String,
            "carried_in": pl.String,
        },
    )
    with registered(con, "new_budget_periods", frame):
        con.execute(
            "INSERT INTO budget_periods (budget_id, first_day, starts_at, ends_at, zone, "
            "carried_in) SELECT budget_id, first_day, starts_at, ends_at, zone, "
            "CAST(carried_in AS DECIMAL(18, 6)) FROM new_budget_periods "
            "ON CONFLICT DO NOTHING"
        )


def close_periods(
    con: duckdb.DuckDBPyConnection,
    rows: Sequence[tuple[int, dt.date, Decimal]],
    now: dt.datetime,
) -> None:
    """Close periods (budget id, first day, spent) in one statement."""
    if not rows:
        return
    frame = pl.DataFrame(
        {
            "budget_id": [r[0] for r in rows],
            "first_day": [r[1] for r in rows],
            "spent": [str(r[2]) for r in rows],
        },
        schema={"budget_id": pl.Int64, "first_day": pl.Date, "spent": pl.String},
    )
    with registered(con, "closing_budget_periods", frame):
        con.execute(
            "UPDATE budget_periods p SET spent_at_close = CAST(c.spent AS DECIMAL(18, 6)), "
            "closed_at = ? FROM closing_budget_periods c "
            "WHERE p.budget_id = c.budget_id AND p.first_day = c.first_day",
            [now],
        )


def set_late_spent(
    con: duckdb.DuckDBPyConnection, budget_id: int, first_day: dt.date, spent: Decimal
) -> None:
    con.execute(
        "UPDATE budget_periods SET late_spent = ? WHERE budget_id = ? AND first_day = ?",
        [spent, budget_id, first_day],
    )


_EVENT_COLUMNS = (
    "happened_at",
    "budget_id",
    "kind",
    "target",
    "login",
    "first_day",
    "action",
    "threshold",
    "allowance",
    "spent",
    "amount",
    "currency",
    "result",
    "message",
)


def write_events(
    con: duckdb.DuckDBPyConnection, events: Sequence[dict[str, Any]]
) -> list[BudgetEvent]:
    """Store events (dicts of `_EVENT_COLUMNS`) in one statement; them with their ids."""
    if not events:
        return []
    money = ("allowance", "spent", "amount")
    frame = pl.DataFrame(
        {
            c: [None if e.get(c) is None else str(e[c]) for e in events]
            if c in money
            else [e.get(c) for e in events]
            for c in _EVENT_COLUMNS
        },
        schema={
            "happened_at": pl.Datetime("us"),
            "budget_id": pl.Int64,
            "kind": pl.String,
            "target": pl.String,
            "login": pl.String,
            "first_day": pl.Date,
            "action": pl.String,
            "threshold": pl.Int32,
            "allowance": pl.String,
            "spent": pl.String,
            "amount": pl.String,
            "currency": pl.String,
            "result": pl.String,
            "message": pl.String,
        },
    ).with_row_index("position")
    columns = ", ".join(_EVENT_COLUMNS)
    values = ", ".join(f"CAST({c} AS DECIMAL(18, 6))" if c in money else c for c in _EVENT_COLUMNS)
    with registered(con, "new_budget_events", frame) as name:
        # Ids follow the events' order: one nextval per row, in the frame's order.
        rows = con.execute(
            f"INSERT INTO budget_events ({columns}) SELECT {values} FROM {name} "  # noqa: S608
            f"ORDER BY position RETURNING event_id, {columns}"
        ).fetchall()
    return sorted((_event(row) for row in rows), key=lambda e: e.event_id)


def _event(row: Sequence[Any]) -> BudgetEvent:
    values = list(row)
    for index in (9, 10, 11):  # allowance, spent, amount
        if values[index] is not None:
            values[index] = Decimal(values[index])
    return BudgetEvent(*values)


def read_events(
    con: duckdb.DuckDBPyConnection,
    *,
    budget_ids: Sequence[int] | None = None,
    login: str | None = None,
    limit: int = 100,
) -> list[BudgetEvent]:
    """The latest events (of `budget_ids`, about `login`), newest first."""
    where: list[str] = ["TRUE"]
    params: list[Any] = []
    if budget_ids is not None:
        where.append("budget_id IN (SELECT unnest(?::BIGINT[]))")
        params.append(list(budget_ids))
    if login is not None:
        where.append("(login = ? OR login IS NULL)")
        params.append(login)
    sql = (
        f"SELECT event_id, {', '.join(_EVENT_COLUMNS)} FROM budget_events "  # noqa: S608
        f"WHERE {' AND '.join(where)} ORDER BY event_id DESC LIMIT ?"
    )
    return [_event(row) for row in con.execute(sql, [*params, limit]).fetchall()]


def warned(con: duckdb.DuckDBPyConnection, first_days: dict[int, dt.date]) -> set[tuple[int, int]]:
    """(budget id, threshold) already warned in each budget's period `first_days[id]`."""
    if not first_days:
        return set()
    rows = con.execute(
        "SELECT budget_id, threshold, first_day FROM budget_events "
        "WHERE action = 'warned' AND budget_id IN (SELECT unnest(?::BIGINT[]))",
        [list(first_days)],
    ).fetchall()
    return {(int(b), int(t)) for b, t, day in rows if first_days.get(int(b)) == day}


def last_lock_events(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[int, str]]:
    """Per person, the budget and action of their latest `locked`/`unlocked` event."""
    rows = con.execute(
        "SELECT login, budget_id, action FROM budget_events "
        "WHERE action IN ('locked', 'unlocked') AND login IS NOT NULL "
        "QUALIFY row_number() OVER (PARTITION BY login ORDER BY event_id DESC) = 1"
    ).fetchall()
    return {str(login): (int(b), str(a)) for login, b, a in rows}


def rollover_due(con: duckdb.DuckDBPyConnection, now: dt.datetime) -> bool:
    """Whether a budget's open period has ended, or a budget has no open period yet."""
    return bool(
        con.execute(
            "SELECT EXISTS (SELECT 1 FROM budget_periods WHERE closed_at IS NULL "
            "AND ends_at <= ?) OR EXISTS (SELECT 1 FROM budgets b WHERE NOT EXISTS "
            "(SELECT 1 FROM budget_periods p WHERE p.budget_id = b.budget_id "
            "AND p.closed_at IS NULL))",
            [now],
        ).fetchall()[0][0]
    )


def budget_count(
    con: duckdb.DuckDBPyConnection,
) -> tuple[int, set[str], tuple[dt.datetime, dt.datetime] | None]:
    """How many budgets there are, of which kinds, and when their open periods start and
    end (the earliest start and the latest end; None without any)."""
    rows = con.execute("SELECT kind, count(*) FROM budgets GROUP BY kind").fetchall()
    first, last = con.execute(
        "SELECT min(starts_at), max(ends_at) FROM budget_periods WHERE closed_at IS NULL"
    ).fetchall()[0]
    between = None if first is None else (first, last)
    return sum(int(n) for _, n in rows), {str(kind) for kind, _ in rows}, between


@dataclass(frozen=True)
class Acting:
    """A budget the evaluation must act on: its spend in its open period, the warning
    thresholds it reached there and has not warned yet, whether it is at its lock threshold."""

    budget_id: int
    spent: Decimal
    new_thresholds: tuple[int, ...]
    lock_due: bool


def _reached(percent: str) -> str:
    """SQL: `spent` is at least `percent` % of `allowance` (as `model.reached`)."""
    return f"CASE WHEN allowance <= 0 THEN spent > 0 ELSE spent * 100 >= allowance * {percent} END"


def acting(con: duckdb.DuckDBPyConnection, spend_sql: str, params: list[Any]) -> list[Acting]:
    """The budgets to act on now, from their open periods, in one statement; `spend_sql`
    (`callacct.query.spend.window_spend_sql` over the relation `w`) gives their spend."""
    windows = (
        "SELECT p.budget_id AS key, b.kind, b.target, b.currency, b.classes, p.starts_at, "
        "p.ends_at FROM budget_periods p JOIN budgets b USING (budget_id) "
        "WHERE p.closed_at IS NULL"
    )
    # Every fragment is this module's constant text or the query layer's SQL; values are
    # parameters.
    sql = f"""
        WITH w AS ({windows}),
        spend AS ({spend_sql}),
        done AS (
            SELECT e.budget_id, e.first_day, list(e.threshold) AS done FROM budget_events e
            JOIN budget_periods p ON p.budget_id = e.budget_id AND p.first_day = e.first_day
            AND p.closed_at IS NULL
            WHERE e.action = 'warned' GROUP BY e.budget_id, e.first_day
        ),
        s AS (
            SELECT b.budget_id, b.warn_at, b.lock_at, b.amount + p.carried_in AS allowance,
                   coalesce(sp.spent, 0) AS spent, coalesce(d.done, []) AS done
            FROM budgets b
            JOIN budget_periods p ON p.budget_id = b.budget_id AND p.closed_at IS NULL
            LEFT JOIN spend sp ON sp.key = b.budget_id AND sp.currency = b.currency
            LEFT JOIN done d ON d.budget_id = b.budget_id AND d.first_day = p.first_day
        ),
        r AS (
            SELECT budget_id, spent,
                   list_filter(warn_at, lambda t: {_reached("t")}
                               AND NOT list_contains(done, t)) AS new,
                   lock_at IS NOT NULL AND {_reached("lock_at")} AS lock_due
            FROM s
        )
        SELECT budget_id, spent, new, lock_due FROM r
        WHERE lock_due OR len(new) > 0 ORDER BY budget_id
    """  # noqa: S608
    return [
        Acting(int(bid), Decimal(spent), tuple(int(t) for t in new), bool(due))
        for bid, spent, new, due in con.execute(sql, params).fetchall()
    ]


def people_for(
    con: duckdb.DuckDBPyConnection,
    logins: Sequence[str],
    groups: Sequence[tuple[str, str]],
) -> dict[str, Person]:
    """The people now among `logins` or in one of `groups` ((kind, name): department or
    cost centre)."""
    departments = [name for kind, name in groups if kind == "department"]
    centres = [name for kind, name in groups if kind == "cost_center"]
    rows = con.execute(
        "SELECT login, name, email, language, department, cost_center, site, manager "
        "FROM users WHERE valid_to IS NULL AND (login IN (SELECT unnest(?::VARCHAR[])) "
        "OR department IN (SELECT unnest(?::VARCHAR[])) "
        "OR cost_center IN (SELECT unnest(?::VARCHAR[])))",
        [list(logins), departments, centres],
    ).fetchall()
    return {row[0]: Person(*row) for row in rows}


def new_calls(con: duckdb.DuckDBPyConnection) -> tuple[dt.datetime | None, int | None]:
    """Of the calls stored since the last evaluation: the earliest start, the last id."""
    rows = con.execute("SELECT max(last_call_id) FROM budget_marks").fetchall()
    mark = -1 if rows[0][0] is None else int(rows[0][0])
    first, last = con.execute(
        "SELECT min(started_at), max(call_id) FROM calls WHERE call_id > ?", [mark]
    ).fetchall()[0]
    return first, None if last is None else int(last)


def mark_calls_seen(con: duckdb.DuckDBPyConnection, last_call_id: int) -> None:
    con.execute("DELETE FROM budget_marks")
    con.execute("INSERT INTO budget_marks VALUES (?)", [last_call_id])
