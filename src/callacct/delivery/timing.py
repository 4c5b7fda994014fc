"""When a schedule runs and which period each run covers.

A frequency is `day`, `week`, `month`, `Nm` (every N minutes) or `Nh` (every N hours); day,
week and month runs happen `at` a local time (default 07:00), weekly ones `on` a weekday
(default Monday), monthly ones `on` a day of the month (default the 1st; 29-31 mean the
month's last day when it is shorter). Times are in the schedule's time zone.

Each run covers the period that ends where it starts: yesterday for a daily run, last
Monday–Sunday for a weekly one, last calendar month for a monthly one, the last N minutes or
hours otherwise. A period has a label (`2026-11-30`, `2026-W48`, `2026-11`,
`2026-12-02T06:00`), part of each delivery's key.

Example:
    >>> from zoneinfo import ZoneInfo
    >>> f = Frequency.parse("week", at="07:00", on="mon")
    >>> paris = ZoneInfo("Europe/Paris")
    >>> slot = f.next_slot(dt.datetime(2026, 12, 2, 12, 0, tzinfo=dt.UTC), paris)
    >>> slot.astimezone(paris).isoformat()
    '2026-12-07T07:00:00+01:00'
    >>> f.period(slot, paris).label
    '2026-W49'
    >>> Frequency.parse("month").period(dt.datetime(2026, 12, 1, 6, tzinfo=dt.UTC), paris).label
    '2026-11'
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from callacct.errors import UsageError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_EVERY = re.compile(r"(?P<n>[1-9]\d{0,3})(?P<unit>[mh])")


@dataclass(frozen=True)
class Period:
    """What one run covers: [start, end) (aware, in the schedule's zone) and its label."""

    start: dt.datetime
    end: dt.datetime
    label: str
    whole_days: bool

    def filters(self) -> dict[str, str]:
        """The report filters (`from`/`to`) selecting this period: days when it is whole
        days (the end day included), else date-times (the end excluded)."""
        if self.whole_days:
            last = (self.end - dt.timedelta(days=1)).date()
            return {"start": self.start.date().isoformat(), "end": last.isoformat()}
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}


@dataclass(frozen=True)
class Frequency:
    """How often a schedule runs (see the module's description)."""

    every: str
    at: dt.time = dt.time(7, 0)
    on: str | None = None

    @classmethod
    def parse(cls, every: str, *, at: str | None = None, on: str | None = None) -> Frequency:
        """A frequency from the options `--every`, `--at`, `--on`; `UsageError` if invalid."""
        every = every.strip().lower()
        interval = _EVERY.fullmatch(every)
        if every not in ("day", "week", "month") and interval is None:
            raise UsageError(
                f"--every: {every!r} is not day, week, month, Nm (minutes) or Nh (hours)"
            )
        if interval is not None and (at or on):
            raise UsageError("--at and --on go with --every day, week or month")
        when = dt.time(7, 0)
        if at:
            try:
                when = dt.time.fromisoformat(at)
            except ValueError:
                raise UsageError(f"--at: {at!r} is not a time HH:MM") from None
            if when.second or when.microsecond:
                raise UsageError(f"--at: {at!r}: give hours and minutes only")
        day: str | None = None
        if every == "day" and on:
            raise UsageError("--on goes with --every week (a weekday) or month (a day)")
        if every == "week":
            day = (on or "mon").strip().lower()[:3]
            if day not in WEEKDAYS:
                raise UsageError(f"--on: {on!r} is not a weekday ({', '.join(WEEKDAYS)})")
        if every == "month":
            day = (on or "1").strip()
            if not day.isdigit() or not 1 <= int(day) <= 31:
                raise UsageError(f"--on: {on!r} is not a day of the month (1 to 31)")
        if interval is not None:
            n, unit = int(interval["n"]), interval["unit"]
            minutes = n if unit == "m" else n * 60
            if minutes < 5 or minutes > 24 * 60 or (24 * 60) % minutes:
                raise UsageError(
                    f"--every {every}: from 5 minutes to 24 hours, dividing a day evenly "
                    "(5m, 10m, 15m, 30m, 1h, 2h, 3h, 4h, 6h, 8h, 12h...)"
                )
        return cls(every, when, day)

    @property
    def minutes(self) -> int | None:
        """The interval of an `Nm`/`Nh` frequency, in minutes (None for day/week/month)."""
        found = _EVERY.fullmatch(self.every)
        if found is None:
            return None
        n = int(found["n"])
        return n if found["unit"] == "m" else n * 60

    def describe(self) -> str:
        """A short text: `every week on mon at 07:00`.

        >>> Frequency.parse("month", on="15", at="06:30").describe()
        'every month on 15 at 06:30'
        """
        if self.minutes is not None:
            return f"every {self.every}"
        text = f"every {self.every}"
        if self.on is not None:
            text += f" on {self.on}"
        return f"{text} at {self.at.strftime('%H:%M')}"

    def next_slot(self, after: dt.datetime, tz: ZoneInfo) -> dt.datetime:
        """The first run time strictly after `after` (aware UTC in, aware UTC out)."""
        minutes = self.minutes
        if minutes is not None:
            local = after.astimezone(tz)
            midnight = dt.datetime.combine(local.date(), dt.time(), tzinfo=tz)
            step = dt.timedelta(minutes=minutes)
            # Slots from local midnight, counted on the UTC time line (a DST change shifts
            # one interval, it never repeats or drops a period).
            base = midnight.astimezone(dt.UTC)
            count = (after.astimezone(dt.UTC) - base) // step + 1
            return base + count * step
        local_day = after.astimezone(tz).date() - dt.timedelta(days=1)
        for _ in range(400):
            candidate = self._slot_on(local_day, tz)
            if candidate is not None and candidate > after:
                return candidate.astimezone(dt.UTC)
            local_day += dt.timedelta(days=1)
        raise AssertionError("no slot within 400 days")  # pragma: no cover

    def _slot_on(self, day: dt.date, tz: ZoneInfo) -> dt.datetime | None:
        if self.every == "week" and WEEKDAYS[day.weekday()] != self.on:
            return None
        if self.every == "month":
            wanted = min(int(self.on or "1"), calendar.monthrange(day.year, day.month)[1])
            if day.day != wanted:
                return None
        return _local(day, self.at, tz)

    def period(self, slot: dt.datetime, tz: ZoneInfo) -> Period:
        """The period the run at `slot` covers."""
        local = slot.astimezone(tz)
        minutes = self.minutes
        if minutes is not None:
            start = (slot - dt.timedelta(minutes=minutes)).astimezone(tz)
            return Period(start, local, start.strftime("%Y-%m-%dT%H:%M"), whole_days=False)
        today = local.date()
        if self.every == "day":
            first = today - dt.timedelta(days=1)
            return Period(
                _local(first, dt.time(), tz), _local(today, dt.time(), tz), first.isoformat(), True
            )
        if self.every == "week":
            monday = today - dt.timedelta(days=today.weekday())
            first = monday - dt.timedelta(days=7)
            year, week, _ = first.isocalendar()
            return Period(
                _local(first, dt.time(), tz),
                _local(monday, dt.time(), tz),
                f"{year}-W{week:02d}",
                True,
            )
        this_month = today.replace(day=1)
        first = (this_month - dt.timedelta(days=1)).replace(day=1)
        return Period(
            _local(first, dt.time(), tz),
            _local(this_month, dt.time(), tz),
            f"{first.year}-{first.month:02d}",
            True,
        )


def _local(day: dt.date, at: dt.time, tz: ZoneInfo) -> dt.datetime:
    """`day` at `at` in `tz`; a time skipped by a DST change is moved past the gap."""
    value = dt.datetime.combine(day, at, tzinfo=tz)
    back = value.astimezone(dt.UTC).astimezone(tz)
    return back if back.replace(tzinfo=None) != value.replace(tzinfo=None) else value
