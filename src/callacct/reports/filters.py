"""Report filters: what a spec's `filters:` and the options of `report run` can narrow.

The same model validates both (a spec's defaults and a run's options), so a key means the same
thing everywhere. Periods are absolute (`from`/`to`, days in the run's time zone, `to`
inclusive) or relative to an injected "now" (`period: last_month`). Filters compile to SQL
fragments with bound parameters; the reader's scope is added by the query layer, not here.

Example:
    >>> import datetime as dt
    >>> from zoneinfo import ZoneInfo
    >>> now = dt.datetime(2026, 3, 18, 15, 0, tzinfo=ZoneInfo("Europe/Paris"))
    >>> start, end = resolve_period(Filters(period="last_month"), ZoneInfo("Europe/Paris"), now)
    >>> start.date().isoformat(), end.date().isoformat()
    ('2026-02-01', '2026-03-01')
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any, Final, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from callacct.call_codes import DEST_CLASSES, DIRECTIONS, DestClass
from callacct.errors import UsageError
from callacct.query.calls import time_range
from callacct.reports.clock import LocalClock
from callacct.reports.expression import ExpressionError, parse, where_sql

CallType = Literal["pstn", "internal", "all"]
Direction = Literal["incoming", "outgoing", "internal"]
FIXED_PERIODS: Final = ("today", "yesterday", "this_week", "last_week", "this_month", "last_month")
_LAST_DAYS = re.compile(r"last_(\d{1,4})_days")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
#: Bounds of values that go into SQL: a cost is DECIMAL(18, 6), a duration an INTEGER of seconds.
MAX_COST: Final = Decimal(10**12)
MAX_SECONDS: Final = 10**9
FIRST_YEAR: Final = 1900
LAST_YEAR: Final = 9998


class Filters(BaseModel):
    """Every filter a report run accepts; None or empty means "not filtered"."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    period: str | None = Field(
        None,
        description="today, yesterday, this_week, last_week, this_month, last_month or "
        "last_N_days (N days up to and including today, N at least 1); not with from/to",
    )
    start: str | None = Field(
        None, alias="from", description="first day YYYY-MM-DD (or date-time), inclusive"
    )
    end: str | None = Field(None, alias="to", description="last day YYYY-MM-DD, inclusive")
    type: CallType | None = Field(
        None, description="pstn (external calls), internal, or all (the default)"
    )
    extensions: tuple[str, ...] = Field((), description="calls of these extensions (either side)")
    users: tuple[str, ...] = Field((), description="calls of these logins (either side)")
    departments: tuple[str, ...] = Field((), description="calls of these departments")
    cost_centers: tuple[str, ...] = Field((), description="calls of these cost centres")
    sites: tuple[str, ...] = Field((), description="calls of these sites")
    gateways: tuple[str, ...] = Field((), description="calls through these gateways or trunks")
    directions: tuple[Direction, ...] = Field((), description="incoming, outgoing, internal")
    answered: bool | None = Field(None, description="true: answered only; false: not answered")
    classes: tuple[DestClass, ...] = Field((), description="destination classes")
    countries: tuple[str, ...] = Field((), description="destination countries (ISO codes)")
    number: str | None = Field(None, description="calls to or from this number")
    min_duration: int | None = Field(
        None, ge=0, le=MAX_SECONDS, description="at least this many seconds"
    )
    max_duration: int | None = Field(
        None, ge=0, le=MAX_SECONDS, description="at most this many seconds"
    )
    min_cost: Decimal | None = Field(
        None, ge=-MAX_COST, le=MAX_COST, description="cost at least this"
    )
    max_cost: Decimal | None = Field(
        None, ge=-MAX_COST, le=MAX_COST, description="cost at most this"
    )
    where: str | None = Field(None, description="an expression (see the expression language)")

    @field_validator("period")
    @classmethod
    def _period(cls, value: str | None) -> str | None:
        if value is None:
            return value
        value = value.strip().lower().replace("-", "_").replace(" ", "_")
        days = _LAST_DAYS.fullmatch(value)
        if value not in FIXED_PERIODS and not days:
            raise ValueError(
                f"unknown period {value!r}; use {', '.join(FIXED_PERIODS)} or last_N_days"
            )
        if days and int(days.group(1)) < 1:
            raise ValueError(f"{value!r} is no day; last_1_days is today")
        return value

    @field_validator("start", "end", mode="before")
    @classmethod
    def _as_text(cls, value: object) -> object:
        """`from: 2026-01-01` unquoted in YAML is a date: the same day as the text."""
        return value.isoformat() if isinstance(value, dt.date) else value

    @field_validator("start", "end")
    @classmethod
    def _when(cls, value: str | None) -> str | None:
        if value is None:
            return value
        try:
            when = dt.datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(
                f"{value!r} is not a date (YYYY-MM-DD) or date-time (YYYY-MM-DDTHH:MM)"
            ) from None
        if not FIRST_YEAR <= when.year <= LAST_YEAR:
            # Moved to UTC and past their end, dates near year 1 or 9999 leave the calendar.
            raise ValueError(f"{value!r} is not a year from {FIRST_YEAR} to {LAST_YEAR}")
        return value

    @model_validator(mode="after")
    def _one_period(self) -> Filters:
        if self.period is not None and (self.start or self.end):
            raise ValueError("a period and from/to cannot be given together: give one or the other")
        try:
            # The order of two moments does not depend on the zone both are read in.
            time_range(self.start, self.end, ZoneInfo("UTC"))
        except UsageError as exc:
            raise ValueError(str(exc)) from None
        return self

    @field_validator("where")
    @classmethod
    def _where(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                parse(value)
            except ExpressionError as exc:
                raise ValueError(str(exc)) from None
        return value

    def merged(self, overrides: dict[str, Any]) -> Filters:
        """These filters with `overrides` (keys given by a run) replacing them; absolute dates
        replace a relative period and the other way round."""
        data = self.model_dump(by_alias=False)
        if "start" in overrides or "end" in overrides:
            data["period"] = None
        if overrides.get("period"):
            data["start"] = data["end"] = None
        data.update(overrides)
        try:
            return Filters.model_validate({_alias(k): v for k, v in data.items()})
        except ValidationError as exc:
            error = exc.errors()[0]
            key = ".".join(str(p) for p in error["loc"])
            message = error["msg"].removeprefix("Value error, ")
            raise UsageError(f"filter {key}: {message}" if key else f"filters: {message}") from None

    def given(self) -> dict[str, Any]:
        """Only the filters that are set, by their spec keys (`from`, `to`, ...)."""
        return {
            key: value
            for key, value in self.model_dump(by_alias=True, mode="json").items()
            if value not in (None, [], ())
        }


def _alias(key: str) -> str:
    return {"start": "from", "end": "to"}.get(key, key)


def _midnight(day: dt.date, tz: ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=tz)


def resolve_period(
    filters: Filters, tz: ZoneInfo, now: dt.datetime
) -> tuple[dt.datetime | None, dt.datetime | None]:
    """The [start, end) of the filters in `tz` (aware), relative periods counted from `now`."""
    if filters.start or filters.end:
        return time_range(filters.start, filters.end, tz)
    if filters.period is None:
        return None, None
    today = now.astimezone(tz).date()
    period = filters.period
    days = _LAST_DAYS.fullmatch(period)
    if days:
        count = int(days.group(1))
        first, after = today - dt.timedelta(days=count - 1), today + dt.timedelta(days=1)
    elif period == "today":
        first, after = today, today + dt.timedelta(days=1)
    elif period == "yesterday":
        first, after = today - dt.timedelta(days=1), today
    elif period in ("this_week", "last_week"):
        monday = today - dt.timedelta(days=today.weekday())
        if period == "last_week":
            monday -= dt.timedelta(days=7)
        first, after = monday, monday + dt.timedelta(days=7)
    else:
        month = today.replace(day=1)
        if period == "last_month":
            month = (month - dt.timedelta(days=1)).replace(day=1)
        following = (month + dt.timedelta(days=32)).replace(day=1)
        first, after = month, following
    return _midnight(first, tz), _midnight(after, tz)


def _utc(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.UTC).replace(tzinfo=None)


def _in(column: str, values: tuple[str, ...]) -> tuple[str, list[Any]]:
    return f"{column} IN (SELECT unnest(?::VARCHAR[]))", [list(values)]


def filter_sql(
    filters: Filters, tz: ZoneInfo, now: dt.datetime, clock: LocalClock | None = None
) -> tuple[list[str], list[Any], tuple[dt.datetime | None, dt.datetime | None]]:
    """SQL conditions over `calls` (to be ANDed), their parameters, and the period."""
    where: list[str] = []
    params: list[Any] = []

    def add(sql: str, values: list[Any]) -> None:
        where.append(sql)
        params.extend(values)

    start, end = resolve_period(filters, tz, now)
    if start is not None:
        add("started_at >= ?", [_utc(start)])
    if end is not None:
        add("started_at < ?", [_utc(end)])
    if filters.type == "pstn":
        add("direction IN ('incoming', 'outgoing')", [])
    elif filters.type == "internal":
        add("direction = 'internal'", [])
    pairs = (
        (filters.extensions, "extension", "peer_extension"),
        (filters.users, "user_login", "peer_login"),
        (filters.departments, "department", "peer_department"),
        (filters.cost_centers, "cost_center", "peer_cost_center"),
        (filters.sites, "site", "peer_site"),
    )
    for values, own, peer in pairs:
        if values:
            own_sql, own_params = _in(own, values)
            peer_sql, peer_params = _in(peer, values)
            add(f"({own_sql} OR {peer_sql})", own_params + peer_params)
    for values, column in (
        (filters.gateways, "gateway"),
        (filters.directions, "direction"),
        (filters.classes, "dest_class"),
        (tuple(c.upper() for c in filters.countries), "dest_country"),
    ):
        if values:
            add(*_in(column, tuple(values)))
    if filters.answered is not None:
        add("answered = ?", [filters.answered])
    if filters.number:
        digits = re.sub(r"[^0-9*#+]", "", filters.number)
        bare = digits.lstrip("+")
        # The whole number as stored; a part of it only against the number as the reader
        # sees it (masked digits would otherwise be read by trying endings).
        add(
            "(? IN (stored_remote_number, stored_calling_number, stored_called_number, "
            "stored_final_number) OR (length(?) >= 6 AND ends_with(remote_number, ?)))",
            [digits, bare, bare],
        )
    for value, sql in (
        (filters.min_duration, "duration_s >= ?"),
        (filters.max_duration, "duration_s <= ?"),
        (filters.min_cost, "cost >= ?"),
        (filters.max_cost, "cost <= ?"),
    ):
        if value is not None:
            add(sql, [value])
    if filters.where:
        add(*where_sql(filters.where, tz.key, clock))
    return where, params, (start, end)


__all__ = ["DEST_CLASSES", "DIRECTIONS", "Filters", "filter_sql", "resolve_period"]
