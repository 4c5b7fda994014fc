"""Working hours: time ranges per weekday (a lunch break is the gap between two ranges), and
holidays, read in a time zone. One definition, two readings: a SQL condition over the calls
(out-of-hours alarms, by column) and a check of one moment in Python (is the CDR feed
expected to flow now?). Both read a moment as local time in the zone given for it.

Example:
    >>> hours = WorkingHours.model_validate({"days": {"mon-fri": ["08:00-12:00", "13:00-18:00"]},
    ...                                     "holidays": ["2026-12-25"]})
    >>> hours.is_working(dt.datetime(2026, 12, 1, 12, 30))  # a Tuesday, lunch time
    False
    >>> hours.is_working(dt.datetime(2026, 12, 1, 9))
    True
    >>> hours.is_working(dt.datetime(2026, 12, 25, 9))  # a holiday
    False
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field, field_validator

#: Day names, Monday first (ISO weekday 1..7).
DAYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_RANGE = re.compile(r"(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})")


def _day_keys(key: str) -> list[int]:
    """`mon`, `mon-fri` -> ISO weekdays; `ValueError` for anything else."""
    first, sep, last = key.strip().lower().partition("-")
    if first not in DAYS or (sep and last not in DAYS):
        raise ValueError(
            f"{key!r} is not a day or a range of days; use {', '.join(DAYS)} or e.g. 'mon-fri'"
        )
    start = DAYS.index(first)
    end = DAYS.index(last) if sep else start
    if end < start:
        raise ValueError(f"{key!r}: the range must run forwards, e.g. 'mon-fri'")
    return [day + 1 for day in range(start, end + 1)]


def _time_range(text: str) -> tuple[dt.time, dt.time | None]:
    """`08:00-12:30` -> (08:00, 12:30); an end of 24:00 is None (midnight, the end of the day)."""
    match = _RANGE.fullmatch(str(text).strip())
    if not match:
        raise ValueError(f"{text!r} is not a time range such as '08:00-12:30'")
    h1, m1, h2, m2 = (int(part) for part in match.groups())
    if h1 > 23 or m1 > 59 or h2 > 24 or m2 > 59 or (h2 == 24 and m2):
        raise ValueError(f"{text!r}: no such time of day")
    start = dt.time(h1, m1)
    end = None if h2 == 24 else dt.time(h2, m2)
    if end is not None and end <= start:
        raise ValueError(f"{text!r}: the end must come after the start (same day)")
    return start, end


def _office_hours() -> dict[str, tuple[str, ...]]:
    return {"mon-fri": ("08:00-18:00",)}


class WorkingHours(BaseModel):
    """`days`: weekday (or range) -> time ranges; a day not named is not worked. `holidays`:
    days not worked at all. `timezone`: the zone moments are read in (empty: each call's
    site's zone, else the workspace's)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    days: dict[str, tuple[str, ...]] = Field(default_factory=_office_hours)
    holidays: tuple[dt.date, ...] = ()
    timezone: str = ""

    @field_validator("days")
    @classmethod
    def _days(cls, value: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        seen: dict[int, str] = {}
        for key, ranges in value.items():
            for day in _day_keys(key):
                if day in seen:
                    raise ValueError(f"{DAYS[day - 1]} is given twice ({seen[day]!r} and {key!r})")
                seen[day] = key
            for text in ranges:
                _time_range(text)
        return value

    def ranges(self) -> dict[int, list[tuple[dt.time, dt.time | None]]]:
        """ISO weekday -> its working ranges."""
        out: dict[int, list[tuple[dt.time, dt.time | None]]] = {}
        for key, texts in self.days.items():
            for day in _day_keys(key):
                out[day] = [_time_range(text) for text in texts]
        return out

    def is_working(self, local: dt.datetime) -> bool:
        """Whether the local (naive) moment `local` falls in working hours."""
        if local.date() in self.holidays:
            return False
        moment = local.time()
        return any(
            start <= moment and (end is None or moment < end)
            for start, end in self.ranges().get(local.isoweekday(), [])
        )

    def working_minutes(self, start: dt.datetime, end: dt.datetime) -> float:
        """Minutes of working time between the local (naive) moments `start` and `end` (at
        most a year of days is counted: beyond, it is a year's worth).

        >>> hours = WorkingHours.model_validate({"days": {"mon-fri": ["08:00-18:00"]}})
        >>> hours.working_minutes(dt.datetime(2026, 11, 27, 17, 30),  # a Friday
        ...                       dt.datetime(2026, 11, 30, 8, 30))   # the Monday after
        60.0
        """
        if end <= start:
            return 0.0
        start = max(start, end - dt.timedelta(days=366))
        total = 0.0
        ranges = self.ranges()
        day = start.date()
        while day <= end.date():
            if day not in self.holidays:
                midnight = dt.datetime.combine(day, dt.time())
                for first, last in ranges.get(day.isoweekday(), []):
                    opens = dt.datetime.combine(day, first)
                    closes = (
                        midnight + dt.timedelta(days=1)
                        if last is None
                        else (dt.datetime.combine(day, last))
                    )
                    overlap = min(closes, end) - max(opens, start)
                    total += max(overlap.total_seconds(), 0) / 60
            day += dt.timedelta(days=1)
        return total

    def sql(self, local: str) -> tuple[str, list[Any]]:
        """A SQL condition true when the local TIMESTAMP expression `local` (SQL text from the
        caller's constants) falls in working hours, and its parameters."""
        return self.sql_on(week_minute_sql(local), f"CAST({local} AS DATE)")

    def sql_on(self, week_minute: str, day: str) -> tuple[str, list[Any]]:
        """The same condition over the minute of the week (0: Monday 00:00) and the local
        date, as SQL expressions (a relation computes them once per call): whole integer
        comparisons, which DuckDB runs much faster than time-of-day casts per range."""
        spans: list[tuple[int, int]] = []
        for day_number, ranges in sorted(self.ranges().items()):
            base = (day_number - 1) * _MINUTES_PER_DAY
            for start, end in ranges:
                first = base + start.hour * 60 + start.minute
                last = base + (_MINUTES_PER_DAY if end is None else end.hour * 60 + end.minute)
                spans.append((first, last))
        if not spans:
            return "FALSE", []
        condition = (
            "(" + " OR ".join(f"({week_minute} >= ? AND {week_minute} < ?)" for _ in spans) + ")"
        )
        params: list[Any] = [value for span in spans for value in span]
        if self.holidays:
            condition = f"({condition} AND {day} NOT IN (SELECT unnest(?::DATE[])))"
            params.append(list(self.holidays))
        return condition, params


_MINUTES_PER_DAY: Final = 24 * 60


def week_minute_sql(local: str) -> str:
    """The minute of the week (0: Monday 00:00) of the local TIMESTAMP expression `local`.

    Seconds are dropped: working hours are given to the minute, so a call at 08:00:30 is in
    a range starting 08:00, one at 11:59:59 in a range ending 12:00. Integer arithmetic on
    microseconds, about twice as fast in DuckDB as `isodow`, `hour` and `minute`: counted
    from Monday 0001-01-01 00:00, so the division never meets a negative number.

    >>> import duckdb
    >>> sql = week_minute_sql("TIMESTAMP '2026-12-03 08:30:59'")  # a Thursday
    >>> duckdb.sql(f"SELECT {sql}").fetchall()[0][0] == 3 * 1440 + 8 * 60 + 30
    True
    """
    return f"((epoch_us({local}) + {_FROM_YEAR_ONE_US}) // 60000000 % {_MINUTES_PER_DAY * 7})"


#: Microseconds from Monday 0001-01-01 00:00 to 1970-01-01 00:00 (719,162 days).
_FROM_YEAR_ONE_US: Final = 719_162 * 86_400 * 1_000_000
