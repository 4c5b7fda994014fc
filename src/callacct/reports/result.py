"""What a report run produces, ready to render: the contract between runner and renderers.

Labels and titles are already in the run's language; values are typed (money `Decimal`,
durations whole seconds, times aware datetimes in the run's time zone) and formatted only by the
renderer, with `callacct.i18n` for the language's number and date formats.

Example:
    >>> import polars as pl
    >>> result = ReportResult(
    ...     name="cost-by-class", title="Cost by destination class", description="",
    ...     language="en", timezone="Europe/Paris", period=(None, None), filters=[],
    ...     columns=[Column("dest_class", "Destination class", "text"),
    ...              Column("cost", "Cost", "money", currency="EUR")],
    ...     rows=pl.DataFrame({"dest_class": ["mobile"], "cost": [1]}),
    ... )
    >>> [c.key for c in result.columns]
    ['dest_class', 'cost']
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

import polars as pl

from callacct.service_numbers import ServiceNumbers

ColumnKind = Literal[
    "text",  # str
    "integer",  # int (counts)
    "number",  # float or Decimal without unit (averages, MOS)
    "money",  # Decimal; `currency` names it when the whole column has one
    "duration",  # int seconds; shown h:mm:ss
    "datetime",  # aware datetime in the run's time zone
    "date",  # date
    "percent",  # Decimal or float, 0..100
    "boolean",
]
ChartKind = Literal["bar", "line", "pie"]


@dataclass(frozen=True)
class Column:
    """One output column: key in `ReportResult.rows`, translated label, kind."""

    key: str
    label: str
    kind: ColumnKind
    currency: str | None = None  # money: ISO currency when the column holds one only
    currency_key: str | None = None  # money: the column giving each row's currency otherwise


@dataclass(frozen=True)
class ChartSeries:
    """What one series of a chart draws: a measure, in one currency when it is money."""

    key: str  # the measure's column key
    label: str  # translated measure label, with the currency when there is one: "Cost (EUR)"
    kind: ColumnKind
    currency: str | None
    values: tuple[Any, ...]  # one per category of the chart; None where it has none


@dataclass(frozen=True)
class Chart:
    """A chart of the result: categories from one column, one series per value column and
    currency (amounts in different currencies are never added, nor drawn as one series).

    `categories` and `series` are the data drawn; when they are not given (a chart made by
    hand), renderers take them from the rows (`callacct.reports.charts.chart_series`).
    """

    kind: ChartKind
    category: str
    values: tuple[str, ...]
    title: str
    categories: tuple[Any, ...] | None = None  # typed category values, in the rows' order
    series: tuple[ChartSeries, ...] = ()


@dataclass(frozen=True)
class ReportResult:
    """A report run: everything a renderer needs and nothing it must look up."""

    name: str  # the report's name, e.g. "calls-detail"
    title: str  # translated
    description: str  # translated
    language: str  # en, de, fr, es, ar or it
    timezone: str  # IANA zone the times are shown in
    period: tuple[dt.datetime | None, dt.datetime | None]  # [start, end), aware
    filters: list[tuple[str, str]]  # translated (label, value) pairs: the filter summary
    columns: list[Column]
    rows: pl.DataFrame  # one column per `columns` key (extra columns are ignored)
    totals: dict[str, Any] | None = None  # column key -> total (None: no totals row)
    chart: Chart | None = None
    generated_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    # Which numbers are conference bridges, voicemail or other services: shown by name.
    services: ServiceNumbers = field(default_factory=ServiceNumbers)

    @property
    def rtl(self) -> bool:
        """Whether the language is written right to left."""
        return self.language == "ar"
