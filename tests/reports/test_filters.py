"""Filters: relative periods from an injected "now", merging a run's options over defaults."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from callacct.errors import UsageError
from callacct.query.scope import Scope
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


@pytest.mark.parametrize("period", ["last_0_days", "last-00-days", "last 0 days"])
def test_a_period_of_no_day_is_refused(period: str) -> None:
    with pytest.raises(UsageError, match="is no day; last_1_days is today"):
        Filters().merged({"period": period})


def test_a_period_and_dates_together_are_refused() -> None:
    with pytest.raises(UsageError, match="a period and from/to cannot be given together"):
        Filters().merged({"start": "2026-01-01", "period": "last_month"})
    with pytest.raises(UsageError, match="cannot be given together"):
        Filters(period="last_month").merged({"period": "today", "end": "2026-01-01"})
    # A run's dates still replace a default period, and a run's period default dates.
    assert Filters(period="last_month").merged({"start": "2026-01-01"}).period is None
    assert Filters(start="2026-01-01").merged({"period": "today"}).start is None


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("2026-12-01", "2026-11-01"),
        ("2026-11-02", "2026-11-01"),
        ("2026-11-01 10:00", "2026-11-01 10:00"),
        ("2026-11-01T10:00+00:00", "2026-11-01T10:30+02:00"),
    ],
)
def test_an_empty_or_reversed_range_is_refused(start: str, end: str) -> None:
    message = f"from {start} to {end} is an empty range: the end must come after the start"
    with pytest.raises(UsageError, match=message.replace("+", r"\+")):
        Filters().merged({"start": start, "end": end})
    with pytest.raises(UsageError, match="is an empty range"):
        resolve_period(Filters.model_construct(start=start, end=end), PARIS, NOW)


def test_one_day_is_a_range() -> None:
    start, end = resolve_period(Filters().merged({"start": "2026-11-01", "end": "2026-11-01"}),
                                PARIS, NOW)  # fmt: skip
    assert (start, end) == (
        dt.datetime(2026, 11, 1, tzinfo=PARIS),
        dt.datetime(2026, 11, 2, tzinfo=PARIS),
    )
