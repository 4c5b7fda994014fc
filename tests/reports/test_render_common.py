"""The render entry point and what the renderers share."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from callacct.errors import UsageError
from callacct.reports.render import RENDERERS, cells, render
from callacct.reports.render.cells import (
    chart_data,
    neutralise_formula,
    period_text,
    summary_lines,
    text_rows,
    text_totals,
)
from tests.reports.fixtures import PARIS, detail_result, narrow_result


def test_unknown_format_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="use one of csv, html, json, pdf, xlsx"):
        render(detail_result(), "docx", tmp_path / "r.docx")
    assert set(RENDERERS.names()) == {"csv", "json", "xlsx", "pdf", "html"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+33 1 23", "'+33 1 23"),
        ("-A1", "'-A1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("-12", "-12"),
        ("-0,5", "-0,5"),
        ("-1.5e3", "-1.5e3"),
        ("+3.5e2", "'+3.5e2"),  # a spreadsheet would read 350
        ("+33612345678", "'+33612345678"),  # ... the number 33612345678, without its +
        ("+3361234****", "'+3361234****"),  # ... a formula
        ("-12 ", "'-12 "),
        ("plain", "plain"),
        ("", ""),
    ],
)
def test_neutralise_formula(text: str, expected: str) -> None:
    assert neutralise_formula(text) == expected


def test_text_rows_in_french() -> None:
    result = detail_result("fr", rows=1)
    row = next(text_rows(result))
    assert row[3] == "1\u202f234,50\u00a0€"
    assert row[4] == "1:02:05"
    assert row[5] == "02/11/2026 09:00:00"
    assert row[7] == "12,5\u00a0%"
    assert row[8] == "4,25"
    assert row[9] == "✓"
    assert text_totals(result) == ["Total", "", "1", "1\u202f234,50\u00a0€", "1:02:05",
                                   "", "", "", "", ""]  # fmt: skip


def test_per_row_currency_and_missing_cells() -> None:
    result = narrow_result("en")
    assert [row[2] for row in text_rows(result)] == ["€12.30", "€4.05", "$30.10", "€2.00"]
    sparse = replace(result, rows=result.rows.drop("currency"))
    assert next(row[2] for row in text_rows(sparse)) == "12.30"


def test_period_and_summary() -> None:
    result = detail_result("it")
    assert period_text(result) == "01/11/2026 – 30/11/2026"
    open_ended = replace(result, period=(dt.datetime(2026, 11, 1, 8, 30, tzinfo=PARIS), None))
    assert period_text(open_ended) == "01/11/2026 08:30:00 – …"
    lines = summary_lines(result)
    assert [line.label for line in lines] == ["Periodo", "", "Filtri", "Reparto", "Sede",
                                              "Generato il"]  # fmt: skip
    assert lines[2].heading


def test_chart_data_is_capped() -> None:
    result = detail_result("en", rows=150)
    unique = result.rows.with_columns(pl.format("user {}", pl.int_range(pl.len())).alias("user"))
    bars = replace(result, rows=unique)
    data = chart_data(bars)
    assert data is not None
    assert len(data.categories) == cells.CHART_MAX_POINTS
    assert data.series[0].label == "Cost"
    assert data.series[0].values[0] == pytest.approx(float(Decimal("1234.5")))
    line = chart_data(replace(bars, chart=replace(bars.chart, kind="line")))
    assert line is not None
    assert len(line.categories) == 150
    assert chart_data(replace(result, chart=None)) is None
    assert chart_data(replace(result, rows=result.rows.drop("cost"))) is None


def test_a_category_is_drawn_once() -> None:
    """The fixture repeats six users over 80 rows: the chart has six bars, each the sum of
    that user's rows."""
    result = detail_result("en", rows=80)
    data = chart_data(result)
    assert data is not None
    assert len(data.categories) == 6
    first = result.rows.filter(pl.col("user") == result.rows["user"][0])["cost"].sum()
    assert data.series[0].values[0] == pytest.approx(float(first))
