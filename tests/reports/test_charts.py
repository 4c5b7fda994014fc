"""Charts managers can trust: one series (or pie) per currency in xlsx, PDF and HTML, a
category drawn once, labels that never overlap, whole numbers on count axes, legends that
match what is drawn."""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

import openpyxl
import polars as pl
import pypdf
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reportlab.graphics.shapes import Group, PolyLine, String, Wedge

from callacct.config import open_workspace
from callacct.directory.scope import Scope
from callacct.reports.library import public_reports
from callacct.reports.render import render
from callacct.reports.render.cells import ChartData, SeriesData, chart_data
from callacct.reports.render.chartplan import (
    PIE_SLICES,
    SVG_STYLE,
    Plan,
    Rect,
    Text,
    measure_text,
    overlapping,
    pdf_style,
    plan_chart,
    value_ticks,
)
from callacct.reports.render.pdf import _Layout, chart_drawing
from callacct.reports.result import Chart, Column, ReportResult
from callacct.reports.run import run_report
from callacct.store import open_store
from tests.reports.conftest import DEMO_END, DEMO_NOW
from tests.reports.fixtures import narrow_result

SVG = "{http://www.w3.org/2000/svg}"
TWO_CURRENCIES = ["Cost (EUR)", "Cost (USD)"]


def _run(root: Path, name: str, language: str = "en", **overrides: Any) -> ReportResult:
    workspace = open_workspace(root)
    store = open_store(workspace.store_path, read_only=True)
    try:
        period = {"from": "2026-11-18", "to": DEMO_END.isoformat(), "period": None}
        return run_report(
            store.con,
            public_reports()[name],
            scope=Scope(role="admin"),
            tz=ZoneInfo("Europe/Paris"),
            language=language,
            overrides={**period, **overrides},
            now=DEMO_NOW,
        )
    finally:
        store.close()


@pytest.fixture(scope="module")
def trend(demo_root: Path) -> ReportResult:
    """daily-cost-trend over the demo's days: rows interleaved EUR, USD, EUR, ..."""
    return _run(demo_root, "daily-cost-trend")


@pytest.fixture(scope="module")
def by_class(demo_root: Path) -> ReportResult:
    return _run(demo_root, "cost-by-class")


# -- the data: a category once, a series per currency ---------------------------------------


def test_interleaved_currencies_are_two_series_not_one(trend: ReportResult) -> None:
    assert trend.rows["currency"].to_list()[:2] == ["EUR", "USD"]  # what the table shows
    data = chart_data(trend)
    assert data is not None
    assert [s.label for s in data.series] == TWO_CURRENCIES
    assert data.categories == ["2026-11-18", "2026-11-19", "2026-11-20"]
    for series in data.series:
        currency = series.currency
        table = trend.rows.filter(pl.col("currency") == currency)["cost"].to_list()
        assert series.values == pytest.approx([float(v) for v in table])


def test_a_hand_made_chart_of_money_is_split_by_currency() -> None:
    result = narrow_result("en", kind="pie")
    result = replace(result, chart=replace(result.chart, values=("cost",)))  # type: ignore[arg-type]
    data = chart_data(result)
    assert data is not None
    assert [(s.label, s.currency) for s in data.series] == [
        ("Cost (EUR)", "EUR"), ("Cost (USD)", "USD")
    ]  # fmt: skip
    usd = data.series[1].values
    assert usd[data.categories.index("international")] == pytest.approx(30.10)
    assert sum(v is not None for v in usd) == 1


def test_counts_of_a_category_add_up_across_its_rows(demo_root: Path) -> None:
    """calls-by-gateway has a row per gateway, direction and currency; its chart a bar per
    gateway with all of its calls."""
    result = _run(demo_root, "calls-by-gateway")
    data = chart_data(result)
    assert data is not None
    assert len(data.categories) == len(set(data.categories)) == result.rows["gateway"].n_unique()
    totals = result.rows.group_by("gateway").agg(pl.col("calls").sum())
    expected = dict(totals.iter_rows())
    assert [s.label for s in data.series] == ["Calls"]
    assert dict(zip(data.categories, data.series[0].values, strict=True)) == expected


# -- each output draws them so -----------------------------------------------------------


def _chart_xml(path: Path) -> list[ElementTree.Element]:
    with zipfile.ZipFile(path) as archive:
        names = sorted(n for n in archive.namelist() if re.fullmatch(r"xl/charts/chart\d+\.xml", n))
        return [ElementTree.fromstring(archive.read(name)) for name in names]


C = "{http://schemas.openxmlformats.org/drawingml/2006/chart}"


def test_xlsx_line_has_a_series_per_currency(trend: ReportResult, tmp_path: Path) -> None:
    out = tmp_path / "trend.xlsx"
    render(trend, "xlsx", out)
    (chart,) = _chart_xml(out)
    series = chart.findall(f".//{C}ser")
    names = [s.find(f"{C}tx//{C}f").text for s in series]  # type: ignore[union-attr]
    assert names == ["'Chart data'!$B$1", "'Chart data'!$C$1"]
    values = [s.find(f"{C}val//{C}f").text for s in series]  # type: ignore[union-attr]
    assert values == ["'Chart data'!$B$2:$B$4", "'Chart data'!$C$2:$C$4"]
    data = openpyxl.load_workbook(out)["Chart data"]
    assert [c.value for c in data[1]] == ["Day", *TWO_CURRENCIES]
    usd = trend.rows.filter(pl.col("currency") == "USD")["cost"].to_list()
    assert [row[2].value for row in data.iter_rows(min_row=2)] == pytest.approx(
        [float(v) for v in usd]
    )
    assert data["B2"].number_format == '"€"#,##0.00'
    assert data["C2"].number_format == '"$"#,##0.00'
    # One axis for both currencies: plain numbers, no currency sign.
    assert chart.find(f".//{C}valAx/{C}numFmt").get("formatCode") == "#,##0.00"  # type: ignore[union-attr]


def test_xlsx_pie_per_currency(by_class: ReportResult, tmp_path: Path) -> None:
    out = tmp_path / "class.xlsx"
    render(by_class, "xlsx", out)
    charts = _chart_xml(out)
    assert len(charts) == 2
    titles = ["".join(t.text or "" for t in chart.iter("{http://schemas.openxmlformats.org/drawingml/2006/main}t"))
              for chart in charts]  # fmt: skip
    assert titles == TWO_CURRENCIES
    for chart in charts:
        assert len(chart.findall(f".//{C}ser")) == 1
        assert chart.find(f".//{C}pieChart") is not None
    data = openpyxl.load_workbook(out)["Chart data"]
    eur = [r[0].value for r in data.iter_rows(min_row=2) if r[0].value]
    usd = [r[3].value for r in data.iter_rows(min_row=2) if r[3].value]
    assert len(eur) == len(set(eur))  # no category twice in a pie
    assert len(usd) == len(set(usd))


def _svg_of(result: ReportResult, tmp_path: Path) -> ElementTree.Element:
    """The chart of the HTML page, parsed as XML (the page holds it inline)."""
    out = tmp_path / f"{result.name}.html"
    render(result, "html", out)
    found = re.search(r"<svg.*?</svg>", out.read_text(encoding="utf-8"), re.DOTALL)
    assert found is not None
    return ElementTree.fromstring(found.group(0))


def test_html_line_has_a_polyline_per_currency(trend: ReportResult, tmp_path: Path) -> None:
    svg = _svg_of(trend, tmp_path)
    lines = svg.findall(f"{SVG}polyline")
    assert [line.get("data-series") for line in lines] == TWO_CURRENCIES
    assert all(len((line.get("points") or "").split()) == 3 for line in lines)
    legend = [t.text for t in svg.findall(f"{SVG}text[@class='legend']")]
    assert legend == TWO_CURRENCIES


def test_html_pie_per_currency(by_class: ReportResult, tmp_path: Path) -> None:
    svg = _svg_of(by_class, tmp_path)
    titles = [t.text for t in svg.findall(f"{SVG}text[@class='title']")]
    assert titles == TWO_CURRENCIES
    slices = svg.findall(f"{SVG}path") + svg.findall(f"{SVG}circle")
    assert {s.get("data-series") for s in slices} == set(TWO_CURRENCIES)
    legend = [t.text for t in svg.findall(f"{SVG}text[@class='legend']")]
    assert len(legend) == len(set(legend))  # each category once, for both pies
    drawn = {(s.find(f"{SVG}title").text or "").split(":")[0] for s in slices}  # type: ignore[union-attr]
    assert drawn == set(legend)  # the legend lists what the pies draw


def _pdf_shapes(drawing: Any) -> Iterator[Any]:
    for shape in drawing.contents:
        if isinstance(shape, Group):
            yield from _pdf_shapes(shape)
        else:
            yield shape


@pytest.mark.parametrize("language", ["en", "ar"])
def test_pdf_draws_a_series_per_currency(demo_root: Path, language: str, tmp_path: Path) -> None:
    trend = _run(demo_root, "daily-cost-trend", language)
    data = chart_data(trend)
    assert data is not None
    drawing = chart_drawing("line", data, _Layout(trend), language)
    shapes = list(_pdf_shapes(drawing))
    assert len([s for s in shapes if isinstance(s, PolyLine)]) == 2
    texts = [s.text for s in shapes if isinstance(s, String)]
    assert sum("EUR" in text for text in texts) == 1
    assert sum("USD" in text for text in texts) == 1
    by_class = _run(demo_root, "cost-by-class", language)
    pie = chart_data(by_class)
    assert pie is not None
    drawn = list(_pdf_shapes(chart_drawing("pie", pie, _Layout(by_class), language)))
    assert sum(("EUR" in s.text) for s in drawn if isinstance(s, String)) == 1
    assert len([s for s in drawn if isinstance(s, Wedge)]) >= 2
    out = tmp_path / "trend.pdf"
    render(trend, "pdf", out)
    text = pypdf.PdfReader(out).pages[0].extract_text()
    assert "EUR" in text
    assert "USD" in text


# -- layout: labels that fit, round axes, legends ------------------------------------------


def _labels(plan: Plan, role: str = "category") -> list[Text]:
    return [s for s in plan.shapes if isinstance(s, Text) and s.role == role]


def _inside(plan: Plan, text: Text) -> bool:
    corners = text.corners(measure_text)
    return all(-0.5 <= x <= plan.width + 0.5 and -0.5 <= y <= plan.height + 0.5
               for x, y in corners)  # fmt: skip


def test_sixty_days_do_not_print_sixty_overlapping_dates() -> None:
    days = [(dt.date(2026, 10, 3) + dt.timedelta(days=n)).strftime("%d.%m.%Y") for n in range(60)]
    values = [float(n % 7) for n in range(60)]
    data = ChartData(days, [SeriesData("Kosten (EUR)", values, "money", "EUR")])
    for style in (SVG_STYLE, pdf_style(515)):
        plan = plan_chart("line", data, style, "de")
        labels = _labels(plan)
        assert 1 < len(labels) < 60
        assert overlapping(labels) == []
        assert all(_inside(plan, label) for label in labels)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.text(alphabet="abcdefghij KLMNOP-0123456789éü", min_size=1, max_size=40),
        min_size=1,
        max_size=150,
    ),
    st.sampled_from(["bar", "line"]),
    st.integers(min_value=1, max_value=3),
    st.sampled_from([SVG_STYLE, pdf_style(515), pdf_style(770)]),
)
def test_category_and_legend_labels_never_overlap(
    names: list[str], kind: str, count: int, style: Any
) -> None:
    currencies = ["EUR", "USD", "CHF"][:count]
    values = [float(i % 5) for i in range(len(names))]
    series = [SeriesData(f"Series {n} ({c})", values, "money", c) for n, c in enumerate(currencies)]
    plan = plan_chart(kind, ChartData(names, series), style, "en")
    labels = _labels(plan)
    assert labels
    assert overlapping(labels) == []
    assert overlapping(_labels(plan, "legend")) == []
    assert all(_inside(plan, text) for text in plan.shapes if isinstance(text, Text))


def test_count_axes_are_whole_numbers(demo_root: Path, tmp_path: Path) -> None:
    busy = _run(demo_root, "busy-hour")
    svg = _svg_of(busy, tmp_path)
    ticks = [t.text or "" for t in svg.findall(f"{SVG}text[@class='value']")]
    assert ticks
    assert all(re.fullmatch(r"[\d,]+", tick) for tick in ticks), ticks
    assert value_ticks(0, 20_000, "integer")[0][-1] == 20_000
    assert value_ticks(0, 3, "integer") == ([0.0, 1.0, 2.0, 3.0], 0)
    hours = [t.text for t in svg.findall(f"{SVG}text[@class='category']")]
    assert hours == [str(h) for h in range(24)]  # every hour, level


def test_a_pie_groups_its_small_slices_and_its_legend_matches() -> None:
    names = [f"C{n}" for n in range(25)]
    values = [float(100 - n) for n in range(25)]
    plan = plan_chart("pie", ChartData(names, [SeriesData("Cost (EUR)", values, "money", "EUR")]),
                      SVG_STYLE, "en")  # fmt: skip
    wedges = [s for s in plan.shapes if type(s).__name__ == "Wedge"]
    assert len(wedges) == PIE_SLICES
    legend = [t.text.split(" (")[0] for t in _labels(plan, "legend")]
    assert legend == [*names[: PIE_SLICES - 1], "other"]
    swatches = [s.fill for s in plan.shapes if isinstance(s, Rect)]
    assert swatches == [w.fill for w in wedges]  # each legend colour is its slice's


def test_charts_are_sized_to_their_content() -> None:
    short = ChartData(["a", "b"], [SeriesData("Calls", [1.0, 2.0], "integer")])
    long = ChartData([f"A rather long department name {n}" for n in range(30)],
                     [SeriesData("Calls", [1.0] * 30, "integer")])  # fmt: skip
    assert (
        plan_chart("bar", long, SVG_STYLE, "en").height
        > plan_chart("bar", short, SVG_STYLE, "en").height
    )


def test_right_to_left_charts_are_mirrored() -> None:
    data = ChartData(["a", "b", "c"], [SeriesData("Calls", [1.0, 2.0, 3.0], "integer")])
    ltr = _labels(plan_chart("bar", data, SVG_STYLE, "ar"))
    rtl = _labels(plan_chart("bar", data, SVG_STYLE, "ar", rtl=True))
    assert [t.x for t in rtl] == pytest.approx([SVG_STYLE.width - t.x for t in ltr])
    assert rtl[0].x > rtl[-1].x  # the first category on the right


def test_money_ticks_keep_the_decimals_their_step_needs() -> None:
    ticks, decimals = value_ticks(0, 0.42, "money")
    assert decimals == 1
    assert ticks[-1] == pytest.approx(0.5)
    assert value_ticks(0, Decimal("12.5") * 2, "money")[1] == 0


def _xlsx_axis(tmp_path: Path, categories: list[Any], kind: str) -> tuple[str | None, int]:
    """(label interval, label angle in degrees) of the category axis of an xlsx line chart
    of `categories` in two currencies."""
    rows = pl.DataFrame(
        {
            "category": [c for c in categories for _ in range(2)],
            "currency": ["EUR", "USD"] * len(categories),
            "cost": [Decimal(n % 9) for n in range(2 * len(categories))],
        },
        schema_overrides={"cost": pl.Decimal(18, 6)},
    )
    result = replace(
        narrow_result("en", kind="line"),
        columns=[
            Column("category", "Category", kind),  # type: ignore[arg-type]
            Column("currency", "Currency", "text"),
            Column("cost", "Cost", "money", currency_key="currency"),
        ],
        rows=rows,
        chart=Chart("line", "category", ("cost",), "Cost"),
    )
    out = tmp_path / "axis.xlsx"
    render(result, "xlsx", out)
    (chart,) = _chart_xml(out)
    assert len(chart.findall(f".//{C}ser")) == 2
    axis = chart.find(f".//{C}catAx")
    assert axis is not None
    skip = axis.find(f"{C}tickLblSkip")
    turn = axis.find(".//{http://schemas.openxmlformats.org/drawingml/2006/main}bodyPr")
    angle = 0 if turn is None else -int(turn.get("rot") or 0) // 60000
    return (None if skip is None else skip.get("val")), angle


def test_xlsx_labels_are_thinned_and_turned_as_the_layout_says(tmp_path: Path) -> None:
    days = [dt.date(2026, 10, 3) + dt.timedelta(days=n) for n in range(60)]
    assert _xlsx_axis(tmp_path, days, "date") == ("1", 90)  # 60 dates upright, each shown
    assert _xlsx_axis(tmp_path, list(range(24)), "integer") == ("1", 0)  # 24 hours level
