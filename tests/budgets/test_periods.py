"""Periods: weeks from Monday and calendar months in a zone, whole across DST changes."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from callacct.budgets.periods import PERIOD_KINDS, local_midnight, period_at

ZONES = ("Europe/Paris", "America/New_York", "Australia/Lord_Howe", "America/Santiago", "UTC")


@settings(max_examples=300, deadline=None)
@given(
    when=st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2060, 1, 1)),
    kind=st.sampled_from(PERIOD_KINDS),
    zone=st.sampled_from(ZONES),
)
def test_every_instant_is_in_exactly_one_period(when: dt.datetime, kind: str, zone: str) -> None:
    period = period_at(when, kind, ZoneInfo(zone))  # type: ignore[arg-type]
    assert period.starts_at <= when < period.ends_at
    following = period.following()
    assert following.starts_at == period.ends_at  # no gap, no overlap
    assert period_at(period.ends_at, kind, ZoneInfo(zone)) == following  # type: ignore[arg-type]
    local = period.starts_at.replace(tzinfo=dt.UTC).astimezone(ZoneInfo(zone))
    assert local.date() == period.first
    if kind == "week":
        assert period.first.weekday() == 0
    else:
        assert period.first.day == 1


def test_a_week_across_a_dst_change_keeps_its_seven_days() -> None:
    paris = ZoneInfo("Europe/Paris")
    spring = period_at(dt.datetime(2026, 3, 28, 12), "week", paris)
    autumn = period_at(dt.datetime(2026, 10, 22, 12), "week", paris)
    assert spring.ends_at - spring.starts_at == dt.timedelta(hours=167)
    assert autumn.ends_at - autumn.starts_at == dt.timedelta(hours=169)
    assert autumn.first == dt.date(2026, 10, 19)


def test_month_starts_at_local_midnight_of_the_first() -> None:
    new_york = ZoneInfo("America/New_York")
    december = period_at(dt.datetime(2026, 12, 31, 23, 0), "month", new_york)
    assert (december.label, december.ends_at) == ("2026-12", dt.datetime(2027, 1, 1, 5, 0))
    assert period_at(dt.datetime(2027, 1, 1, 5, 0), "month", new_york).label == "2027-01"


def test_a_midnight_that_does_not_exist_starts_the_day_at_its_first_instant() -> None:
    # Santiago moved its clocks from 00:00 to 01:00 on 2026-09-06.
    santiago = ZoneInfo("America/Santiago")
    start = local_midnight(dt.date(2026, 9, 6), santiago)
    assert start.replace(tzinfo=dt.UTC).astimezone(santiago).hour == 1
    assert period_at(start, "week", santiago).starts_at <= start
