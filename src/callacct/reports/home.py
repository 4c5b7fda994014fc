"""The home view of one person (F-HOME): their last calls, a summary, their most-used reports.

Everything is read through the query layer with the person's own-calls scope (the calls of
their extensions), within what the reader may see and with numbers masked for the reader
(`person_view`): a supervisor's home shows their own calls, not their department's, and
looking at someone else's home needs the right to see that person.

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
from callacct.directory.scope import Scope, person_view
from callacct.query.calls import CallFilter, calls_as_json, format_cost, query_calls
from callacct.reports.filters import Filters, resolve_period
from callacct.reports.library import most_used
from callacct.service_numbers import ServiceNumbers

HOME_LAST: Final = 20
NUMBER_HINT: Final = "callacct calls --number N"


@dataclass(frozen=True)
class HomeView:
    """What the home view shows for one person."""

    login: str
    timezone: str
    period: tuple[dt.datetime | None, dt.datetime | None]
    # Their last calls; `other_party` is who was at the other end, `other_class` the service
    # it is (conference, voicemail, service) when it is no phone (`callacct.service_numbers`).
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
            "last_calls": [
                {**call, "other_party": other, "other_class": kind}
                for call, other, kind in zip(
                    calls_as_json(self.last_calls),
                    self.last_calls.get_column("other_party").to_list(),
                    self.last_calls.get_column("other_class").to_list(),
                    strict=True,
                )
            ],
            "summary": {
                "calls_handled": self.calls_handled,
                "missed": self.missed,
                "cost": {cur: format_cost(amount) for cur, amount in self.cost.items()},
                "average_talk_s": self.average_talk_s,
            },
            "reports": [{"name": name, "runs": runs} for name, runs in self.reports],
            "hint": NUMBER_HINT,
        }


def other_party(login: str) -> pl.Expr:
    """Who was at the other end of each of `login`'s calls: the external number, else the
    other extension (the caller's, for an internal call they received).

    >>> calls = pl.DataFrame({"user": ["al", "bo"], "extension": ["2001", "2002"],
    ...     "peer_extension": ["2002", "2001"], "remote_number": [None, None]})
    >>> calls.select(other_party("al"))["other_party"].to_list()
    ['2002', '2002']
    """
    received = pl.col("user").is_null() | (pl.col("user") != login)
    other = pl.when(received).then(pl.col("extension")).otherwise(pl.col("peer_extension"))
    return pl.coalesce(pl.col("remote_number"), other).alias("other_party")


def home_view(
    con: duckdb.DuckDBPyConnection,
    login: str,
    settings: Settings,
    tz: ZoneInfo,
    *,
    reader: Scope,
    period: str | None = None,
    now: dt.datetime | None = None,
) -> HomeView:
    """The home view of `login` (a person in the directory now) as `reader` may see it
    (`UsageError` if they may not look at that person); the summary covers `period` (e.g.
    `this_month`; None: every call)."""
    own = person_view(con, reader, login, settings)
    frame, _ = query_calls(con, CallFilter(last=HOME_LAST), tz, scope=own)
    services = ServiceNumbers.of(settings.dialplan)
    frame = frame.sort(["started_at", "call_id"], descending=True).with_columns(
        other_party(login).alias("other_party")
    )
    frame = frame.with_columns(services.kind_expr(pl.col("other_party")).alias("other_class"))
    summary = Filters().merged({"period": period} if period else {})  # UsageError if bad
    start, end = resolve_period(summary, tz, now or dt.datetime.now(dt.UTC))
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
