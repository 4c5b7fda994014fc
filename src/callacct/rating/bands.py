"""Time bands of a tariff: which band a moment of a call falls in, in the site's time zone.

A plan lists bands in order; a moment is in the first band whose days include its weekday and
whose `start`-`end` range includes its time of day (`end` before `start` wraps past midnight,
e.g. 19:00-08:00; `end` 24:00 is the end of the day). Holidays are whole local days in the plan's
`holiday_band`. A moment in no band has band `""`, which only band-less rate rows price.

Example:
    >>> peak = Band(name="peak", days=("mon-fri",), start="08:00", end="19:00")
    >>> bands = BandTable((peak,), holidays=(), holiday_band="")
    >>> monday, sunday = dt.datetime(2026, 11, 23, 9, 0), dt.datetime(2026, 11, 22, 9, 0)
    >>> bands.band_at(monday), bands.band_at(sunday)
    ('peak', '')
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TIME = re.compile(r"([01]\d|2[0-3]):([0-5]\d)|24:00")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,39}")
UTC = ZoneInfo("UTC")


class Band(BaseModel):
    """One time band: weekdays (`mon`..`sun`, ranges such as `mon-fri`) and a time range."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(description="band name used in the rate deck's `band` column")
    days: tuple[str, ...] = Field(("mon-sun",), description="weekdays, e.g. ['mon-fri']")
    start: str = Field("00:00", description="local start time HH:MM")
    end: str = Field("24:00", description="local end time HH:MM (24:00 = end of day)")

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME.fullmatch(value):
            raise ValueError(f"band name {value!r}: use letters, digits, '_', '.', '-'")
        return value

    @field_validator("days")
    @classmethod
    def _days(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for item in value:
            parse_days(item)
        if not value:
            raise ValueError("list at least one day, e.g. ['mon-fri']")
        return value

    @field_validator("start", "end", mode="before")
    @classmethod
    def _unquoted(cls, value: object) -> object:
        # YAML 1.1 reads an unquoted 19:00 as the number 1140 (base 60).
        if isinstance(value, int) and not isinstance(value, bool):
            raise ValueError(
                f'{value} is not a time HH:MM; put times in quotes, e.g. "19:00" (without '
                "them YAML reads 19:00 as a number)"
            )
        return value

    @field_validator("start", "end")
    @classmethod
    def _time(cls, value: str) -> str:
        if not _TIME.fullmatch(value):
            raise ValueError(f"{value!r} is not a time HH:MM between 00:00 and 24:00")
        return value

    @model_validator(mode="after")
    def _range(self) -> Band:
        if self.start_minute == self.end_minute % 1440 and self.end != "24:00":
            raise ValueError(f"band {self.name!r}: start and end are the same time")
        if self.start == "24:00":
            raise ValueError(f"band {self.name!r}: start must be before 24:00")
        return self

    @property
    def weekdays(self) -> frozenset[int]:
        """ISO weekdays (Monday 1 ... Sunday 7) of the band."""
        out: set[int] = set()
        for item in self.days:
            out |= parse_days(item)
        return frozenset(out)

    @property
    def start_minute(self) -> int:
        return _minutes(self.start)

    @property
    def end_minute(self) -> int:
        return _minutes(self.end)

    @property
    def wraps(self) -> bool:
        return self.end_minute <= self.start_minute

    def holds(self, moment: dt.datetime) -> bool:
        """True when the local wall time `moment` is in this band."""
        minute = moment.hour * 60 + moment.minute
        if moment.isoweekday() not in self.weekdays:
            return False
        if self.wraps:
            return minute >= self.start_minute or minute < self.end_minute
        return self.start_minute <= minute < self.end_minute


def parse_days(text: str) -> set[int]:
    """ISO weekdays of `mon`, `sat-sun`, `fri-mon` (wrapping) ...

    >>> sorted(parse_days("fri-mon"))
    [1, 5, 6, 7]
    """
    parts = text.strip().lower().split("-")
    if len(parts) > 2 or any(part not in DAYS for part in parts):
        raise ValueError(f"{text!r} is not a day or day range such as 'mon-fri'")
    first = DAYS.index(parts[0])
    last = DAYS.index(parts[-1])
    span = (last - first) % 7
    return {(first + step) % 7 + 1 for step in range(span + 1)}


def _minutes(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


@dataclass(frozen=True)
class BandTable:
    """The bands and holidays of one plan version."""

    bands: tuple[Band, ...]
    holidays: tuple[dt.date, ...]
    holiday_band: str

    @property
    def names(self) -> frozenset[str]:
        names = {band.name for band in self.bands}
        if self.holiday_band:
            names.add(self.holiday_band)
        return frozenset(names)

    @property
    def empty(self) -> bool:
        return not self.bands and not (self.holidays and self.holiday_band)

    def band_at(self, moment: dt.datetime) -> str:
        """The band of the local wall time `moment`."""
        if self.holiday_band and moment.date() in self.holidays:
            return self.holiday_band
        for band in self.bands:
            if band.holds(moment):
                return band.name
        return ""

    def expr(self, local: pl.Expr) -> pl.Expr:
        """The band of each local (naive) datetime in `local`, as a Polars expression."""
        if self.empty:
            return pl.lit("", pl.String)
        minute = local.dt.hour().cast(pl.Int32) * 60 + local.dt.minute().cast(pl.Int32)
        weekday = local.dt.weekday()
        out: pl.Expr = pl.lit("", pl.String)
        # Built from the last band to the first, so the first band that holds wins.
        for band in reversed(self.bands):
            in_time = (
                (minute >= band.start_minute) | (minute < band.end_minute)
                if band.wraps
                else (minute >= band.start_minute) & (minute < band.end_minute)
            )
            days = weekday.is_in(sorted(band.weekdays))
            out = pl.when(days & in_time).then(pl.lit(band.name)).otherwise(out)
        if self.holiday_band and self.holidays:
            out = (
                pl.when(local.dt.date().is_in(list(self.holidays)))
                .then(pl.lit(self.holiday_band))
                .otherwise(out)
            )
        return out

    def boundaries(self) -> list[int]:
        """Minutes of the day where the band can change (midnight included)."""
        points = {0}
        for band in self.bands:
            points.add(band.start_minute % 1440)
            points.add(band.end_minute % 1440)
        return sorted(points)

    def segments(
        self, start_utc: dt.datetime, seconds: int, zone: ZoneInfo
    ) -> list[tuple[str, int]]:
        """The call from `start_utc` (aware) lasting `seconds`, cut where its band changes:
        `(band, seconds)` in order. Boundaries are local wall times, so a DST change moves
        them in UTC as it should."""
        end = start_utc + dt.timedelta(seconds=seconds)
        out: list[tuple[str, int]] = []
        at = start_utc
        while at < end:
            local = at.astimezone(zone)
            band = self.band_at(local.replace(tzinfo=None))
            cut = min(self._next_boundary(local, zone), end)
            length = int((cut - at).total_seconds())
            if out and out[-1][0] == band:
                out[-1] = (band, out[-1][1] + length)
            else:
                out.append((band, length))
            at = cut
        return out

    def _next_boundary(self, local: dt.datetime, zone: ZoneInfo) -> dt.datetime:
        day = local.replace(tzinfo=None, hour=0, minute=0, second=0, microsecond=0)
        after = local.astimezone(UTC)
        for offset in (0, 1, 2):
            base = day + dt.timedelta(days=offset)
            for minute in self.boundaries():
                wall = base + dt.timedelta(minutes=minute)
                moment = wall.replace(tzinfo=zone).astimezone(UTC)
                if moment > after:
                    return moment
        return after + dt.timedelta(days=1)  # pragma: no cover - boundaries include midnight
