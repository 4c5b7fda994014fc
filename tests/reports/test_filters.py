"""Filters: relative periods from an injected "now", merging a run's options over defaults."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from callacct.directory.scope import Scope
from callacct.errors import UsageError
from callacct.reports.filters import Filters, resolve_period
from callacct.reports.library import public_reports
from callacct.reports.run import run_report
from callacct.store import open_store
from tests.reports.conftest import DEMO_NOW

PARIS = ZoneInfo("Europe/Paris")
# A Wednesday evening (23:30 in Paris, UTC+1).
NOW = dt.datetime(2026, 3, 18, 22, 30, tzinfo=dt.UTC)  # 23:30 in Paris


@pytest.mark.parametrize(
    ("period", "first", "after"),
    [
        ("today", "2026-03-18", "2026-03-19"),
        ("yesterday", "2026-03-17", "2026-03-18"),
        ("this_week", "2026-03-16", "2026-03-23"),
        ("last-week", "2026-03-09", "2026-03-16"),
        ("this month", "2026-03-01", "2026-04-01"),
        ("last_month", "2026-02-01", "2026-03-01"),
        ("last_7_days", "2026-03-12", "2026-03-19"),
        ("last_1_days", "2026-03-18", "2026-03-19"),
    ],
)
def test_relative_periods(period: str, first: str, after: str) -> None:
    start, end = resolve_period(Filters(period=period), PARIS, NOW)
    assert start is not None
    assert end is not None
    assert (start.date().isoformat(), end.date().isoformat()) == (first, after)
    assert start.tzinfo == PARIS
    assert start.time() == dt.time()


def test_now_is_read_in_the_reference_zone() -> None:
    late = dt.datetime(2026, 3, 31, 23, 30, tzinfo=dt.UTC)  # already April 1st in Paris
    start, _ = resolve_period(Filters(period="this_month"), PARIS, late)
    assert start is not None
    assert start.date().isoformat() == "2026-04-01"
    start, _ = resolve_period(Filters(period="this_month"), ZoneInfo("UTC"), late)
    assert start is not None
    assert start.date().isoformat() == "2026-03-01"


def test_january_last_month_is_december() -> None:
    start, end = resolve_period(
        Filters(period="last_month"), PARIS, dt.datetime(2026, 1, 10, tzinfo=dt.UTC)
    )
    assert start is not None
    assert end is not None
    assert (start.date(), end.date()) == (dt.date(2025, 12, 1), dt.date(2026, 1, 1))


def test_absolute_dates_end_inclusive_and_replace_a_period() -> None:
    defaults = Filters(period="last_month", directions=("outgoing",))
    merged = defaults.merged({"start": "2021-02-01", "end": "2021-03-24"})
    assert merged.period is None
    start, end = resolve_period(merged, ZoneInfo("US/Eastern"), NOW)
    assert start is not None
    assert end is not None
    assert start.isoformat() == "2021-02-01T00:00:00-05:00"
    assert end.isoformat() == "2021-03-25T00:00:00-04:00"
    assert merged.directions == ("outgoing",)
    again = merged.merged({"period": "today"})
    assert (again.start, again.end) == (None, None)


def test_bad_values_are_one_line_usage_errors() -> None:
    with pytest.raises(UsageError, match="unknown period 'fortnight'"):
        Filters().merged({"period": "fortnight"})
    with pytest.raises(UsageError, match="filter directions"):
        Filters().merged({"directions": ["sideways"]})
    with pytest.raises(UsageError, match="unknown field 'nope' at position 1"):
        Filters().merged({"where": "nope = 1"})


def test_a_relative_period_runs_from_the_injected_now(demo_root: Path) -> None:
    store = open_store(demo_root / "callacct.duckdb")
    try:
        spec = public_reports()["calls-detail"]
        result = run_report(
            store.con, spec, scope=Scope(role="admin"), tz=PARIS, language="en",
            overrides={"period": "yesterday"}, now=DEMO_NOW,
        )  # fmt: skip
        days = {value.date() for value in result.rows["started_at"]}
        assert days == {dt.date(2026, 11, 20)}
        assert result.period[0] == dt.datetime(2026, 11, 20, tzinfo=PARIS)
        week = run_report(
            store.con, public_reports()["daily-cost-trend"], scope=Scope(role="admin"),
            tz=PARIS, language="en", now=DEMO_NOW,
        )  # fmt: skip
        days = set(week.rows["day"].to_list())
        assert dt.date(2026, 11, 20) in days
        assert all(dt.date(2026, 10, 23) <= day <= dt.date(2026, 11, 21) for day in days)
        assert week.period[0] == dt.datetime(2026, 10, 23, tzinfo=PARIS)
    finally:
        store.close()
