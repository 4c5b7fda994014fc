"""Budget periods: weeks from Monday, calendar months, in a time zone, as UTC instants.

A period is named by its first local day; it runs from that day's first instant in the zone to
the next period's first instant. Both ends are computed from local dates, never by adding hours
to an instant, so a week or a month across a daylight-saving change is still whole (a week
of 167 or 169 hours), and a day that starts at 01:00 because its midnight does not exist
starts at its first real instant.

Example:
    >>> from zoneinfo import ZoneInfo
    >>> p = period_at(dt.datetime(2026, 3, 29, 12, tzinfo=dt.UTC), "week", ZoneInfo("Europe/Paris"))
    >>> p.first, p.starts_at.isoformat(), p.ends_at.isoformat()
    (datetime.date(2026, 3, 23), '2026-03-22T23:00:00', '2026-03-29T22:00:00')
    >>> period_at(dt.datetime(2026, 12, 31, 23, 30, tzinfo=dt.UTC), "month",
    ...           ZoneInfo("Europe/Paris")).label
    '2027-01'
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Final, Literal, get_args
from zoneinfo import ZoneInfo

PeriodKind = Literal["week", "month"]
PERIOD_KINDS: Final[tuple[PeriodKind, ...]] = get_args(PeriodKind)


@dataclass(frozen=True)
class Period:
    """One budget period: its first local day and its bounds as naive UTC (as stored)."""

    kind: PeriodKind
    first: dt.date
    starts_at: dt.datetime
    ends_at: dt.datetime
    zone: str

    @property
    def label(self) -> str:
        """`2026-W14` for a week (ISO week), `2026-04` for a month."""
        if self.kind == "month":
            return f"{self.first.year:04d}-{self.first.month:02d}"
        year, week, _ = self.first.isocalendar()
        return f"{year:04d}-W{week:02d}"

    def following(self) -> Period:
        """The next period, in the same zone."""
        return period_of_day(_next_first(self.first, self.kind), self.kind, ZoneInfo(self.zone))


def first_day(day: dt.date, kind: PeriodKind) -> dt.date:
    """The first day of the period that contains `day`.

    >>> first_day(dt.date(2026, 12, 2), "week"), first_day(dt.date(2026, 12, 2), "month")
    (datetime.date(2026, 11, 30), datetime.date(2026, 12, 1))
    """
    if kind == "week":
        return day - dt.timedelta(days=day.weekday())
    return day.replace(day=1)


def _next_first(first: dt.date, kind: PeriodKind) -> dt.date:
    if kind == "week":
        return first + dt.timedelta(days=7)
    return dt.date(first.year + first.month // 12, first.month % 12 + 1, 1)


def local_midnight(day: dt.date, zone: ZoneInfo) -> dt.datetime:
    """The first instant of `day` in `zone`, as naive UTC.

    Where midnight does not exist (clocks go forward at 00:00), the wall time is read with the
    offset before the change, which is the first instant of the day.

    >>> local_midnight(dt.date(2026, 10, 25), ZoneInfo("Europe/Paris")).isoformat()
    '2026-10-24T22:00:00'
    """
    local = dt.datetime.combine(day, dt.time(), tzinfo=zone)
    return local.astimezone(dt.UTC).replace(tzinfo=None)


def period_of_day(first: dt.date, kind: PeriodKind, zone: ZoneInfo) -> Period:
    """The period that starts on local day `first` (a Monday, or a 1st)."""
    start = first_day(first, kind)
    return Period(
        kind,
        start,
        local_midnight(start, zone),
        local_midnight(_next_first(start, kind), zone),
        zone.key,
    )


def period_at(when: dt.datetime, kind: PeriodKind, zone: ZoneInfo) -> Period:
    """The period in force at instant `when` (aware, or naive meaning UTC) in `zone`."""
    aware = when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)
    period = period_of_day(aware.astimezone(zone).date(), kind, zone)
    utc = aware.astimezone(dt.UTC).replace(tzinfo=None)
    # The wall clock's date decides, except in the hour a clock going back repeats at midnight:
    # the bounds are instants, and an instant belongs to exactly one period.
    if utc < period.starts_at:
        return period_of_day(period.first - dt.timedelta(days=1), kind, zone)
    if utc >= period.ends_at:
        return period.following()
    return period
