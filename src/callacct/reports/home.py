"""The home view of one person (F-HOME): their last calls, a summary, their most-used reports.

Everything is read through the query layer with the person's own-calls scope (the calls of
their extensions, numbers masked as their role requires), so a supervisor's home shows their
own calls, not their department's.

Example:
    >>> HOME_LAST
    20
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final
from zoneinfo import ZoneInfo

import duckdb
import polars as pl

from callacct.config import Settings
from callacct.directory.scope import Scope, scope_for
from callacct.query.calls import CallFilter, calls_as_json, format_cost, query_calls
from callacct.reports.filters import Filters, resolve_period
from callacct.reports.library import most_used

HOME_LAST: Final = 20
NUMBER_HINT: Final = "callacct calls --number N"


@dataclass(frozen=True)
class HomeView:
    """What the home view shows for one person."""

    login: str
    timezone: str
    period: tuple[dt.datetime | None, dt.datetime | None]
    last_calls: pl.DataFrame
    calls_handled: int
    missed: int
    cost: dict[str, Decimal]  # currency -> total cost of the calls they made
    average_talk_s: int | None
    reports: list[tuple[str, int]]  # (report name, runs)

    def to_dict(self) -> dict[str, Any]:
        start, end = self.period
        return {
            "login": self.login,
            "timezone": self.timezone,
            "period": {
                "from": start.isoformat() if start else None,
                "to": end.isoformat() if end else None,
            },
            "last_calls": calls_as_json(self.last_calls),
            "summary": {
                "calls_handled": self.calls_handled,
                "missed": self.missed,
                "cost": {cur: format_cost(amount) for cur, amount in self.cost.items()},
                "average_talk_s": self.average_talk_s,
            },
            "reports": [{"name": name, "runs": runs} for name, runs in self.reports],
            "hint": NUMBER_HINT,
        }


def home_view(
    con: duckdb.DuckDBPyConnection,
    login: str,
    settings: Settings,
    tz: ZoneInfo,
    *,
    period: str | None = None,
    now: dt.datetime | None = None,
) -> HomeView:
    """The home view of `login` (a person in the directory now); the summary covers `period`
    (e.g. `this_month`; None: every call)."""
    role_scope = scope_for(con, login, settings)  # UsageError if not in the directory
    own = Scope.for_user(login, role_scope.mask_digits)
    frame, _ = query_calls(con, CallFilter(last=HOME_LAST), tz, scope=own)
    frame = frame.sort(["started_at", "call_id"], descending=True)
    start, end = resolve_period(Filters(period=period), tz, now or dt.datetime.now(dt.UTC))
    scope_sql, params = own.predicate()
    where = [scope_sql]
    if start is not None:
        where.append("started_at >= ?")
        params.append(start.astimezone(dt.UTC).replace(tzinfo=None))
    if end is not None:
        where.append("started_at < ?")
        params.append(end.astimezone(dt.UTC).replace(tzinfo=None))
    clause = " AND ".join(where)
    # `clause` is the scope's predicate and constant fragments; values are parameters.
    summary_sql = (
        "SELECT count(*) FILTER (WHERE answered), count(*) FILTER (WHERE NOT answered), "  # noqa: S608
        "CAST(round(avg(duration_s) FILTER (WHERE answered)) AS BIGINT) "
        f"FROM calls WHERE {clause}"
    )
    handled, missed, talk = con.execute(summary_sql, params).fetchall()[0]
    costs = con.execute(
        f"SELECT currency, sum(cost) FROM calls WHERE {clause} AND user_login = ? "  # noqa: S608
        "AND cost IS NOT NULL AND currency IS NOT NULL GROUP BY currency ORDER BY currency",
        [*params, login],
    ).fetchall()
    return HomeView(
        login=login,
        timezone=tz.key,
        period=(start, end),
        last_calls=frame,
        calls_handled=int(handled),
        missed=int(missed),
        cost={str(cur): Decimal(amount) for cur, amount in costs},
        average_talk_s=None if talk is None else int(talk),
        reports=most_used(con, login),
    )
