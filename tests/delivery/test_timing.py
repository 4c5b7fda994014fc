"""When schedules run and which period each run covers, in the schedule's zone."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from callacct.delivery.timing import Frequency
from callacct.errors import UsageError

PARIS = ZoneInfo("Europe/Paris")


def _utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def test_daily_runs_cover_yesterday() -> None:
    f = Frequency.parse("day", at="07:00")
    slot = f.next_slot(_utc(2026, 12, 2, 6, 0), PARIS)
    assert slot == _utc(2026, 12, 3, 6, 0)  # 07:00 Paris is 06:00 UTC in winter
    period = f.period(slot, PARIS)
    assert period.label == "2026-12-02"
    assert period.filters() == {"start": "2026-12-02", "end": "2026-12-02"}


def test_weekly_runs_cover_last_monday_to_sunday() -> None:
    f = Frequency.parse("week", on="mon", at="07:00")
    slot = f.next_slot(_utc(2026, 11, 25, 12), PARIS)
    assert slot == _utc(2026, 11, 30, 6, 0)
    period = f.period(slot, PARIS)
    assert period.label == "2026-W48"
    assert period.filters() == {"start": "2026-11-23", "end": "2026-11-29"}
    # A weekly run on another day still covers the last whole Monday–Sunday.
    wed = Frequency.parse("week", on="wed")
    assert wed.period(_utc(2026, 12, 2, 6), PARIS).filters()["end"] == "2026-11-29"


def test_monthly_runs_cover_last_calendar_month() -> None:
    f = Frequency.parse("month", on="31", at="08:30")
    slot = f.next_slot(_utc(2027, 2, 1), PARIS)
    assert slot.astimezone(PARIS) == dt.datetime(2027, 2, 28, 8, 30, tzinfo=PARIS)
    assert f.period(slot, PARIS).filters() == {"start": "2027-01-01", "end": "2027-01-31"}
    jan = Frequency.parse("month").period(_utc(2027, 1, 1, 6), PARIS)
    assert jan.label == "2026-12"


def test_every_n_minutes_covers_the_last_interval() -> None:
    f = Frequency.parse("15m")
    slot = f.next_slot(_utc(2026, 12, 2, 6, 7), PARIS)
    assert slot == _utc(2026, 12, 2, 6, 15)
    period = f.period(slot, PARIS)
    assert period.start == _utc(2026, 12, 2, 6, 0)
    assert period.label == "2026-12-02T07:00"
    assert period.filters()["end"] == "2026-12-02T07:15:00+01:00"


def test_summer_time_moves_the_utc_slot() -> None:
    f = Frequency.parse("day", at="07:00")
    assert f.next_slot(_utc(2026, 7, 1, 12), PARIS) == _utc(2026, 7, 2, 5, 0)
    # 02:30 does not exist on the day clocks go forward: the run happens after the gap.
    spring = Frequency.parse("day", at="02:30").next_slot(_utc(2026, 3, 28, 12), PARIS)
    assert spring.astimezone(PARIS).hour == 3


@pytest.mark.parametrize(
    ("every", "at", "on", "message"),
    [
        ("fortnight", None, None, "is not day, week, month"),
        ("7m", None, None, "dividing a day evenly"),
        ("2m", None, None, "from 5 minutes"),
        ("day", "25:00", None, "is not a time"),
        ("week", None, "funday", "is not a weekday"),
        ("month", None, "32", "is not a day of the month"),
        ("day", None, "mon", "--on goes with"),
        ("1h", "07:00", None, "--at and --on go with"),
    ],
)
def test_bad_frequencies_are_refused(
    every: str, at: str | None, on: str | None, message: str
) -> None:
    with pytest.raises(UsageError, match=message):
        Frequency.parse(every, at=at, on=on)


@given(
    st.sampled_from(["day", "week", "month", "30m", "2h"]),
    st.datetimes(min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2035, 1, 1)),
)
def test_slots_move_forward_and_periods_end_at_the_slot_day(
    every: str, moment: dt.datetime
) -> None:
    f = Frequency.parse(every)
    after = moment.replace(tzinfo=dt.UTC)
    slot = f.next_slot(after, PARIS)
    assert slot > after
    following = f.next_slot(slot, PARIS)
    assert following > slot
    first, second = f.period(slot, PARIS), f.period(following, PARIS)
    assert first.start < first.end < second.end
    assert first.label != second.label
    assert first.end == second.start  # consecutive runs leave no hole between periods
