"""What every renderer shares: cell text in the report's language, the filter summary, chart
data, and formula neutralisation.

Example:
    >>> neutralise_formula("=HYPERLINK(1)"), neutralise_formula("-12.5"), neutralise_formula("ok")
    ("'=HYPERLINK(1)", '-12.5', 'ok')
    >>> formula_like("+33612345678"), formula_like("-12.5")
    (True, False)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final, NamedTuple
from zoneinfo import ZoneInfo

import polars as pl

from callacct.formats import money_text
from callacct.i18n import (
    catalogue,
    format_date,
    format_datetime,
    format_duration,
    format_number,
    format_percent,
    t,
)
from callacct.reports.charts import chart_series
from callacct.reports.export import formula_like as formula_like
from callacct.reports.export import neutralise
from callacct.reports.result import Column, ColumnKind, ReportResult
from callacct.service_numbers import NUMBER_COLUMNS

#: The one formula rule of every output (CSV and xlsx), defined with the CSV writer.
neutralise_formula = neutralise

# Bar charts drawn in PDF and HTML show at most this many categories (the first ones); lines
# and pies (whose small slices are grouped) at most `LINE_MAX_POINTS`.
CHART_MAX_POINTS: Final = 100
LINE_MAX_POINTS: Final = 1000
TRUE_MARK: Final = "✓"
FALSE_MARK: Final = "✗"


def zone_of(result: ReportResult) -> ZoneInfo:
    """The result's time zone."""
    return ZoneInfo(result.timezone)


def currency_index(column: Column, keys: list[str]) -> int | None:
    """Position in `keys` of the column giving `column`'s per-row currency, if any."""
    if column.kind == "money" and column.currency is None and column.currency_key in keys:
        return keys.index(column.currency_key)
    return None


def row_keys(result: ReportResult) -> list[str]:
    """The columns to read from `result.rows`: the shown ones, then per-row currencies."""
    keys = [column.key for column in result.columns]
    for column in result.columns:
        if column.currency_key and column.currency_key not in keys:
            keys.append(column.currency_key)
    return keys


def iter_rows(result: ReportResult) -> Iterator[tuple[Any, ...]]:
    """The rows as tuples in `row_keys` order; missing columns read as nulls, aware datetimes
    as naive ones in the result's time zone (converted by Polars, not row by row)."""
    frame = result.rows
    exprs = []
    for key in row_keys(result):
        if key not in frame.columns:
            exprs.append(pl.lit(None).alias(key))
            continue
        dtype = frame.schema[key]
        if isinstance(dtype, pl.Datetime) and dtype.time_zone is not None:
            local = pl.col(key).dt.convert_time_zone(result.timezone)
            exprs.append(local.dt.replace_time_zone(None))
        else:
            exprs.append(words(result, key, dtype))
    yield from frame.select(exprs).iter_rows(buffer_size=2048)


def words(result: ReportResult, key: str, dtype: pl.DataType) -> pl.Expr:
    """Column `key` as people read it: coded values (a direction, a destination class) in
    words, conference bridges and other service numbers named; other columns as they are."""
    column = pl.col(key)
    if dtype != pl.String:
        return column
    if labels := value_labels(key, result.language):
        return column.replace(labels)
    if key in NUMBER_COLUMNS:
        return result.services.label_expr(column, result.language).alias(key)
    return column


def value_labels(key: str, language: str) -> dict[str, str]:
    """Words for the coded values of column `key` (direction, disposition, destination
    class...) in `language`, from the catalogue's `value.<key>.<code>` entries; {} for a
    column without coded values. Machine outputs (JSON, CSV) keep the codes.

    >>> value_labels("dest_class", "fr")["toll_free"]
    'numéro vert'
    """
    prefix = f"value.{key}."
    return {
        name.removeprefix(prefix): t(name, language)
        for name in catalogue("en")
        if name.startswith(prefix)
    }


def text_formatter(column: Column, language: str, zone: ZoneInfo) -> Callable[[Any, Any], str]:
    """A function (value, row currency) -> the cell's text in `language`."""

    def text(value: Any, currency: Any) -> str:
        if value is None:
            return ""
        kind = column.kind
        if kind == "text":
            return " ".join(str(value).split())
        if kind == "boolean":
            return TRUE_MARK if value else FALSE_MARK
        if kind == "integer":
            return format_number(int(value), language)
        if kind == "number":
            return format_number(_numeric(value), language, decimals=2)
        if kind == "money" and isinstance(value, dict):  # a total per currency
            return " · ".join(
                money_text(_numeric(amount), cur, language) for cur, amount in value.items()
            )
        if kind == "money":
            return money_text(_numeric(value), column.currency or currency, language)
        if kind == "percent":
            return format_percent(_numeric(value), language)
        if kind == "duration":
            return format_duration(value)
        if kind == "datetime" and isinstance(value, dt.datetime):
            return format_datetime(value, language, zone if value.tzinfo else None)
        if kind == "date" and isinstance(value, dt.date):
            return format_date(value, language)
        return str(value)

    return text


def _numeric(value: Any) -> Decimal | int | float:
    if isinstance(value, Decimal | int | float):
        return value
    return Decimal(str(value))


def text_rows(result: ReportResult) -> Iterator[list[str]]:
    """Each row as the texts of its shown cells, in the report's language."""
    keys = row_keys(result)
    zone = zone_of(result)
    formatters = [text_formatter(c, result.language, zone) for c in result.columns]
    currencies = [currency_index(c, keys) for c in result.columns]
    for row in iter_rows(result):
        yield [
            fmt(row[i], None if cur is None else row[cur])
            for i, (fmt, cur) in enumerate(zip(formatters, currencies, strict=True))
        ]


def text_totals(result: ReportResult) -> list[str] | None:
    """The totals row as texts (the first cell says "Total" when it has no total)."""
    if result.totals is None:
        return None
    zone = zone_of(result)
    cells = []
    for column in result.columns:
        value = result.totals.get(column.key)
        currency = result.totals.get(column.currency_key) if column.currency_key else None
        cells.append(text_formatter(column, result.language, zone)(value, currency))
    if cells and not cells[0]:
        cells[0] = t("ui.total", result.language)
    return cells


def period_text(result: ReportResult) -> str:
    """The period as "first day – last day" (times shown only when not midnight)."""
    zone = zone_of(result)
    start, end = result.period

    def moment(value: dt.datetime | None, is_end: bool) -> str:
        if value is None:
            return "…"
        local = value.astimezone(zone) if value.tzinfo else value
        if local.time() == dt.time(0):
            day = local.date() - dt.timedelta(days=1) if is_end else local.date()
            return format_date(day, result.language)
        return format_datetime(local, result.language)

    return f"{moment(start, False)} – {moment(end, True)}"


@dataclass(frozen=True)
class SummaryLine:
    """One line of the filter summary; a heading has no value."""

    label: str
    value: str
    heading: bool = False


def summary_lines(result: ReportResult) -> list[SummaryLine]:
    """The filter summary: the period (once, when it has a bound), time zone, the other
    filters under a heading, generation time."""
    language = result.language
    lines = []
    if result.period != (None, None):
        lines.append(SummaryLine(t("ui.period", language), period_text(result)))
    lines.append(SummaryLine("", t("ui.times_in", language, zone=result.timezone)))
    if result.filters:
        lines.append(SummaryLine(t("ui.filters", language), "", heading=True))
        lines.extend(SummaryLine(label, value) for label, value in result.filters)
    generated = format_datetime(result.generated_at, language, zone_of(result))
    lines.append(SummaryLine(t("ui.generated", language), generated))
    return lines


class SeriesData(NamedTuple):
    """One series as drawn: its label (with its currency), values as floats (None: no value
    for that category), the kind of its values (the axis's unit) and currency."""

    label: str
    values: list[float | None]
    kind: ColumnKind = "number"
    currency: str | None = None


@dataclass(frozen=True)
class ChartData:
    """A chart's categories (as texts) and its series."""

    categories: list[str]
    series: list[SeriesData]


def chart_limit(kind: str) -> int:
    """How many categories a chart of `kind` draws at most (the first ones): a line follows
    every day of years, bars stay wide enough to see, a pie groups its small slices."""
    return LINE_MAX_POINTS if kind in ("line", "pie") else CHART_MAX_POINTS


def chart_data(result: ReportResult, limit: int | None = None) -> ChartData | None:
    """The data of `result.chart`, its first `limit` categories (default: `chart_limit`), in
    the report's language (None without a chart, or when the rows lack one of its columns)."""
    chart = result.chart
    if chart is None:
        return None
    if chart.categories is None:
        chart = chart_series(chart, result.rows, result.columns)
        if chart is None:
            return None
    count = chart_limit(chart.kind) if limit is None else limit
    by_key = {column.key: column for column in result.columns}
    category = by_key.get(chart.category) or Column(chart.category, chart.category, "text")
    fmt = text_formatter(category, result.language, zone_of(result))
    empty = t("ui.none", result.language)
    values = pl.Series(chart.category, list(chart.categories or ())[:count])
    if values.dtype == pl.String:
        values = values.to_frame().select(words(result, chart.category, pl.String())).to_series()
    categories = [fmt(value, None) or empty for value in values.to_list()]
    series = [
        SeriesData(
            item.label,
            [None if v is None else float(v) for v in item.values[:count]],
            item.kind,
            item.currency,
        )
        for item in chart.series
    ]
    return ChartData(categories, series)
