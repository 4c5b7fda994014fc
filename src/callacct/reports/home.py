"""The home view of one person (F-HOME): their last calls, a summary, their most-used reports.

Everything is read through the query layer with the person's own-calls scope (the calls of
their extensions), within what the reader may see and with numbers masked for the reader
(`callacct.directory.person_view`, which the API applies): a supervisor's home shows their own
calls, not their department's, and looking at someone else's home needs the right to see that
person.

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

from callacct.formats import money_text
from callacct.query.calls import CallFilter, calls_as_json, query_calls, summarise_calls
from callacct.query.scope import Scope
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
    language: str = "en"  # of the labels a display shows
    # The person's budgets in their current period (`BudgetStatus.to_dict()`), and the lock
    # state of their extensions; filled in by the API (empty: no budget).
    budgets: tuple[dict[str, Any], ...] = ()

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
                "cost": {cur: money_text(amount) for cur, amount in self.cost.items()},
                "average_talk_s": self.average_talk_s,
            },
            "reports": [{"name": name, "runs": runs} for name, runs in self.reports],
            "hint": NUMBER_HINT,
            **({"budgets": list(self.budgets)} if self.budgets else {}),
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
    own: Scope,
    tz: ZoneInfo,
    *,
    services: ServiceNumbers | None = None,
    period: str | None = None,
    now: dt.datetime | None = None,
    language: str = "en",
) -> HomeView:
    """The home view of `login` read in `own`, the scope of their own calls as the reader
    may see them (`callacct.directory.person_view`); the summary covers `period` (e.g.
    `this_month`; None: every call); `services` names the numbers that lead to no phone
    (bridges alone when None)."""
    frame, _ = query_calls(con, CallFilter(last=HOME_LAST), tz, scope=own)
    services = services or ServiceNumbers()
    frame = frame.sort(["started_at", "call_id"], descending=True).with_columns(
        other_party(login).alias("other_party")
    )
    frame = frame.with_columns(services.kind_expr(pl.col("other_party")).alias("other_class"))
    summary = Filters().merged({"period": period} if period else {})  # UsageError if bad
    start, end = resolve_period(summary, tz, now or dt.datetime.now(dt.UTC))
    counts = summarise_calls(con, own, start=start, end=end, made_by=login)
    return HomeView(
        login=login,
        timezone=tz.key,
        period=(start, end),
        last_calls=frame,
        calls_handled=counts.answered,
        missed=counts.not_answered,
        cost=counts.cost,
        average_talk_s=counts.average_talk_s,
        reports=most_used(con, login),
        language=language,
    )
