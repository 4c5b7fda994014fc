"""The data a chart draws: one value per category, one series per measure and currency.

A report's rows may hold a category more than once: once per currency when it has money, and
once per value of its other groupings (`calls-by-gateway` counts per gateway *and* direction).
A chart draws each category once, so the rows of a category are combined as their measure
allows (counts, sums and shares add up; minimums and maximums stay minimums and maximums);
money, shares of money and averages are never combined across currencies: they get one series
per currency, named with it.

Example:
    >>> from decimal import Decimal
    >>> rows = pl.DataFrame({"dest_class": ["mobile", "mobile", "local"],
    ...     "currency": ["EUR", "USD", "EUR"], "calls": [3, 2, 1],
    ...     "cost": [Decimal("1.50"), Decimal("2.00"), Decimal("0.10")]})
    >>> columns = [Column("dest_class", "Class", "text"), Column("calls", "Calls", "integer"),
    ...            Column("cost", "Cost", "money", currency_key="currency")]
    >>> chart = chart_series(Chart("bar", "dest_class", ("calls", "cost"), ""), rows, columns)
    >>> chart.categories
    ('mobile', 'local')
    >>> for series in chart.series:
    ...     print(series.label, series.values)
    Calls (5, 1)
    Cost (EUR) (Decimal('1.50'), Decimal('0.10'))
    Cost (USD) (Decimal('2.00'), None)
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace
from typing import Final, Literal

import polars as pl

from callacct.reports.result import Chart, ChartSeries, Column

#: How the rows of one category are combined into the value a chart draws.
Combine = Literal["sum", "min", "max", "avg"]
#: The column giving each row's currency.
CURRENCY: Final = "currency"


def _combined(key: str, how: Combine) -> pl.Expr:
    column = pl.col(key)
    expr = {"sum": column.sum(), "min": column.min(), "max": column.max(), "avg": column.mean()}
    # A sum of nothing but nulls is no value, not zero.
    return pl.when(column.is_not_null().any()).then(expr[how]).otherwise(None).alias(key)


def chart_series(
    chart: Chart,
    rows: pl.DataFrame,
    columns: Sequence[Column],
    *,
    combine: Mapping[str, Combine] | None = None,
    per_currency: Collection[str] | None = None,
) -> Chart | None:
    """`chart` with its categories (in the order of the rows) and series; None when the rows
    lack one of its columns.

    `combine` says how each value's rows of one category add up (default: a sum);
    `per_currency` names the values drawn one series per currency (default: money and
    percentages) when the rows have a currency column.
    """
    category = chart.category
    if not {category, *chart.values} <= set(rows.columns):
        return None
    by_key = {column.key: column for column in columns}
    how = combine or {}
    has_currency = CURRENCY in rows.columns
    if per_currency is None:
        drawn = ("money", "percent")
        per_currency = [k for k in chart.values if k in by_key and by_key[k].kind in drawn]
    split = [key for key in chart.values if has_currency and key in per_currency]
    order = rows.select(category).unique(maintain_order=True)
    table = order.with_row_index("__order")
    plain = [key for key in chart.values if key not in split]
    if plain:
        sums = rows.group_by(category, maintain_order=True).agg(
            _combined(key, how.get(key, "sum")) for key in plain
        )
        table = table.join(sums, on=category, how="left", nulls_equal=True)
    currencies: list[str | None] = []
    if split:
        found = rows.get_column(CURRENCY).unique().to_list()
        currencies = sorted(c for c in found if c is not None) + [None] * (None in found)
        per = rows.group_by(category, CURRENCY, maintain_order=True).agg(
            _combined(key, how.get(key, "sum")) for key in split
        )
        for currency in currencies:
            part = per.filter(pl.col(CURRENCY).eq_missing(currency)).drop(CURRENCY)
            part = part.rename({key: _series_key(key, currency) for key in split})
            table = table.join(part, on=category, how="left", nulls_equal=True)
    table = table.sort("__order")
    series: list[ChartSeries] = []
    for key in chart.values:
        column = by_key.get(key) or Column(key, key, "number")
        for currency in currencies if key in split else [None]:
            name = _series_key(key, currency) if key in split else key
            label = f"{column.label} ({currency})" if currency else column.label
            values = tuple(table.get_column(name).to_list())
            series.append(ChartSeries(key, label, column.kind, currency, values))
    return replace(
        chart, categories=tuple(table.get_column(category).to_list()), series=tuple(series)
    )


def _series_key(key: str, currency: str | None) -> str:
    return f"{key}\x00{currency or ''}"


__all__ = ["CURRENCY", "Combine", "chart_series"]
