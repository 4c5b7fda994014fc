"""Wall-clock time of calls in the reference time zone, as cheap SQL.

Stored times are naive UTC. Converting each row with ICU (`timezone(zone, ...)`) costs more
than the rest of a report (docs/benchmarks.md, Reports). The offset of a zone
changes only at its transitions (daylight saving), so within the period a report reads the
local time is `started_at + offset`, with the offset chosen by a short CASE over the few
transitions in that period (bound parameters, found with `zoneinfo`). Without a known period,
the ICU expression is used.

Example:
    >>> import datetime as dt
    >>> from zoneinfo import ZoneInfo
    >>> clock = local_clock(ZoneInfo("Europe/Paris"),
    ...                     dt.datetime(2026, 10, 1), dt.datetime(2026, 11, 1))
    >>> clock.sql
    '(started_at + to_seconds(CASE WHEN started_at < ? THEN ? ELSE ? END))'
    >>> clock.params
    (datetime.datetime(2026, 10, 25, 1, 0), 7200, 3600)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Final
from zoneinfo import ZoneInfo

ICU_SQL: Final = "timezone(?, timezone('UTC', started_at))"
# A period longer than this (in days) falls back to ICU: the CASE would grow too long.
MAX_DAYS: Final = 366 * 20


@dataclass(frozen=True)
class LocalClock:
    """SQL giving a call's local start time (`sql`, with `params` bound at each use)."""

    zone: str
    sql: str
    params: tuple[Any, ...]


def icu_clock(tz: ZoneInfo) -> LocalClock:
    """The exact per-row conversion (any period)."""
    return LocalClock(tz.key, ICU_SQL, (tz.key,))


def _offset(tz: ZoneInfo, utc: dt.datetime) -> int:
    offset = utc.replace(tzinfo=dt.UTC).astimezone(tz).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


def transitions(
    tz: ZoneInfo, first: dt.datetime, last: dt.datetime
) -> tuple[int, list[tuple[dt.datetime, int]]]:
    """The offset at `first` (naive UTC) and each (instant, new offset) up to `last`."""
    start_offset = _offset(tz, first)
    found: list[tuple[dt.datetime, int]] = []
    current, offset = first, start_offset
    step = dt.timedelta(hours=6)
    while current < last:
        following = min(current + step, last)
        new = _offset(tz, following)
        if new != offset:
            low, high = current, following  # offset(low) == offset, offset(high) == new
            while high - low > dt.timedelta(seconds=1):
                middle = low + (high - low) / 2
                if _offset(tz, middle) == offset:
                    low = middle
                else:
                    high = middle
            moment = high.replace(microsecond=0)
            if _offset(tz, moment) != new:
                moment += dt.timedelta(seconds=1)
            found.append((moment, new))
            offset = new
        current = following
    return start_offset, found


def local_clock(tz: ZoneInfo, first: dt.datetime | None, last: dt.datetime | None) -> LocalClock:
    """The cheapest exact SQL for local times of calls started in [first, last] (naive UTC)."""
    if first is None or last is None or last < first or (last - first).days > MAX_DAYS:
        return icu_clock(tz)
    start_offset, changes = transitions(tz, first, last)
    if not changes:
        return LocalClock(tz.key, "(started_at + to_seconds(?))", (start_offset,))
    branches = " ".join("WHEN started_at < ? THEN ?" for _ in changes)
    params: list[Any] = []
    offset = start_offset
    for moment, new in changes:
        params += [moment, offset]
        offset = new
    params.append(offset)
    return LocalClock(
        tz.key, f"(started_at + to_seconds(CASE {branches} ELSE ? END))", tuple(params)
    )
