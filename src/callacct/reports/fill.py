"""Time series without holes: every hour, weekday, day, week or month of the period as a row.

A grouped query returns only the groups that have calls, so an hour without calls, a Sunday
or a quiet day would be missing from the table and the chart would join its neighbours over
the gap. A spec's `fill: [hour]` asks for every value of those groupings: the rows are the
product of every value of each filled grouping (hours 0-23, weekdays 1-7, each day, ISO week
or month of the period) and of the combinations of the other groupings that have rows
(e.g. each currency); counts, sums and shares of the added rows are 0, other measures empty.
The rows are then sorted as the query sorts them.

Example:
    >>> from callacct.reports.compile import PlannedColumn
    >>> from callacct.reports.fields import field
    >>> from callacct.reports.spec import Measure
    >>> columns = [PlannedColumn("hour", "integer", field("hour")),
    ...            PlannedColumn("calls", "integer", None, Measure(name="calls", agg="count"))]
    >>> rows = pl.DataFrame({"hour": [9, 11], "calls": [4, 2]})
    >>> filled = fill_rows(rows, ["hour"], columns, (None, None), ["hour"])
    >>> filled.height, filled.filter(pl.col("hour") == 10)["calls"].item()
    (24, 0)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Final

import polars as pl

from callacct.errors import UsageError
from callacct.reports.compile import PlannedColumn
from callacct.reports.fields import find_field

#: Measures whose value for a group without calls is 0 (the others have none).
_ZERO_WHEN_EMPTY: Final = ("count", "sum", "share")
_PRESENT: Final = "__present"
#: The most days a filled grouping may span (30 years); a longer period is refused.
MAX_FILLED_VALUES: Final = 11_000


def _first_day(key: str, value: object) -> dt.date | None:
    """The first day of the `day`, `week` (ISO `2026-W12`) or `month` (`2026-03`) `value`."""
    if isinstance(value, dt.date):
        return value
    text = str(value)
    if key == "week" and len(text) == 8:
        return dt.date.fromisocalendar(int(text[:4]), int(text[6:]), 1)
    if key == "month" and len(text) == 7:
        return dt.date(int(text[:4]), int(text[5:7]), 1)
    return None


def _last_day(key: str, value: object) -> dt.date | None:
    first = _first_day(key, value)
    if first is None or key == "day":
        return first
    if key == "week":
        return first + dt.timedelta(days=6)
    following = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return following - dt.timedelta(days=1)


def _domain(
    frame: pl.DataFrame, key: str, period: tuple[dt.datetime | None, dt.datetime | None]
) -> pl.Series:
    """Every value of the grouping `key` in the period (an open side of it ends at the rows'
    first or last value), typed as the rows' column."""
    dtype = frame.schema[key]
    if key == "hour":
        return pl.Series(key, range(24)).cast(dtype)
    if key == "weekday":
        return pl.Series(key, range(1, 8)).cast(dtype)
    start, end = period
    seen = frame.get_column(key).drop_nulls().sort()
    first = start.date() if start is not None else None
    last = (end - dt.timedelta(microseconds=1)).date() if end is not None else None
    if seen.len():
        first = first or _first_day(key, seen[0])
        last = last or _last_day(key, seen[-1])
    if first is None or last is None or last < first:
        return seen.clear()
    count = (last - first).days + 1
    if count > MAX_FILLED_VALUES:
        raise UsageError(
            f"fill: {count:,} days from {first} to {last} are too many to list; give a period "
            f"of at most {MAX_FILLED_VALUES:,} days"
        )
    days = pl.date_range(first, last, "1d", eager=True).alias(key)
    if key == "day":
        return days.cast(dtype)
    text = days.dt.strftime("%G-W%V" if key == "week" else "%Y-%m")
    return text.unique(maintain_order=True).cast(dtype)


def fill_rows(
    frame: pl.DataFrame,
    fill: Sequence[str],
    columns: Sequence[PlannedColumn],
    period: tuple[dt.datetime | None, dt.datetime | None],
    sort: Sequence[str],
) -> pl.DataFrame:
    """`frame` (grouped rows, local values) with a row for every value of each grouping in
    `fill` over `period` (aware, in the run's zone), sorted by `sort` (the spec's sort keys,
    `-` for descending) then the groupings."""
    keys = [column.key for column in columns if column.measure is None]
    names = [(found.name if (found := find_field(name)) else name) for name in fill]
    filled = [key for key in names if key in keys and key in frame.columns]
    if not filled:
        return frame
    others = [key for key in keys if key not in filled]
    grid: pl.DataFrame | None = None
    for key in filled:
        values = _domain(frame, key, period)
        part = values.to_frame(key)
        grid = part if grid is None else grid.join(part, how="cross")
    assert grid is not None
    if others:
        combos = frame.select(others).unique(maintain_order=True)
        if not combos.height:
            combos = pl.DataFrame({k: [None] for k in others}, schema=frame.select(others).schema)
        grid = combos.join(grid, how="cross")
    marked = frame.with_columns(pl.lit(True).alias(_PRESENT))
    out = grid.select(keys).join(marked, on=keys, how="full", nulls_equal=True, coalesce=True)
    added = pl.col(_PRESENT).is_null()
    zeros = [
        pl.when(added)
        .then(pl.lit(0).cast(frame.schema[c.key]))
        .otherwise(pl.col(c.key))
        .alias(c.key)
        for c in columns
        if c.measure is not None and c.measure.agg in _ZERO_WHEN_EMPTY and c.key in frame.columns
    ]
    out = out.with_columns(zeros).drop(_PRESENT).select(frame.columns)
    return sort_rows(out, sort, keys)


def sort_rows(frame: pl.DataFrame, sort: Sequence[str], keys: Sequence[str]) -> pl.DataFrame:
    """`frame` sorted as the compiled query sorts (`compile._order`): the sort keys, then the
    groupings ascending, empty values last."""
    by: list[str] = []
    descending: list[bool] = []
    for item in sort:
        key = item.removeprefix("-")
        found = find_field(key)
        key = found.name if found is not None and key not in frame.columns else key
        if key in frame.columns and key not in by:
            by.append(key)
            descending.append(item.startswith("-"))
    for key in keys:
        if key in frame.columns and key not in by:
            by.append(key)
            descending.append(False)
    if not by:
        return frame
    return frame.sort(by, descending=descending, nulls_last=True, maintain_order=True)


__all__ = ["MAX_FILLED_VALUES", "fill_rows", "sort_rows"]
