"""Excel workbooks (xlsxwriter): typed cells, one sheet of rows and one of the filter summary.

The rows sheet has a styled header (frozen, with an autofilter), one typed cell per value
(money as numbers with a currency format, durations as Excel times shown [h]:mm:ss, times as
Excel date-times in the report's zone), a totals row and, when the report has one, a native
chart. The workbook is written in xlsxwriter's constant-memory mode: rows go to disk in order
and are never held, so 100k rows cost little memory. Text is always written as a string; text
that a spreadsheet would take for a formula or a number (`cells.formula_like`: `=...`,
`+33612345678`) gets Excel's quote prefix, so editing the cell keeps it text, while it shows
as it is (no visible `'`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo

import polars as pl
import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from callacct.i18n import t
from callacct.i18n.formats import conventions, currency_digits, currency_sign
from callacct.reports.render.cells import (
    ChartData,
    SeriesData,
    chart_data,
    currency_index,
    formula_like,
    iter_rows,
    row_keys,
    summary_lines,
    text_formatter,
    words,
    zone_of,
)
from callacct.reports.render.chartplan import (
    label_layout,
    pie_slices,
    slice_colours,
    value_ticks,
)
from callacct.reports.result import Column, ReportResult

# The native chart plots at most this many rows (the first ones).
XLSX_CHART_MAX_POINTS: Final = 1000
_WIDTH_SAMPLE: Final = 200  # rows looked at to size the columns
_CHART_TYPES: Final = {"bar": "column", "line": "line", "pie": "pie"}
_HEADER: Final = {"bold": True, "bg_color": "#1F4E79", "font_color": "#FFFFFF",
                  "text_wrap": True, "valign": "top", "border": 1}  # fmt: skip
_SECONDS_PER_DAY: Final = 86400
_MICROSECONDS_PER_DAY: Final = 86_400_000_000
_EXCEL_EPOCH: Final = dt.datetime(1899, 12, 30)  # Excel's day 0 (1900 date system)


def excel_number(value: Any) -> float:
    """A cell value as the float Excel stores; a Decimal goes through its exact text, so the
    only rounding is the one to the nearest double."""
    if isinstance(value, Decimal):
        return float(str(value))
    return float(value)


def money_format(currency: str | None, language: str) -> str:
    """The Excel number format of amounts in `currency` (plain amounts without one).

    Example:
        >>> money_format("EUR", "en"), money_format("EUR", "de"), money_format(None, "fr")
        ('"€"#,##0.00', '#,##0.00 "€"', '#,##0.00')
    """
    digits = currency_digits(currency)
    number = "#,##0" + ("." + "0" * digits if digits else "")
    if not currency:
        return number
    sign = currency_sign(currency).replace('"', "")
    if conventions(language).money_before:
        return f'"{sign}"{number}'
    return f'{number} "{sign}"'


def sheet_name(text: str, fallback: str) -> str:
    """`text` made a valid sheet name (31 characters, none of []:*?/\\)."""
    name = re.sub(r"[\[\]:*?/\\]", " ", text).strip().strip("'")[:31].strip()
    return name or fallback[:31]


def _distinct(names: list[str]) -> list[str]:
    """`names` made distinct as Excel compares sheet names (case-insensitively): a repeated
    name gets " (2)", " (3)", ...

    >>> _distinct(["Filters", "filters", "Chart"])
    ['Filters', 'filters (2)', 'Chart']
    """
    taken: set[str] = set()
    out = []
    for name in names:
        candidate, number = name, 1
        while candidate.casefold() in taken:
            number += 1
            candidate = sheet_name(f"{name[:26]} ({number})", f"Sheet {number}")
        taken.add(candidate.casefold())
        out.append(candidate)
    return out


class _Formats:
    """Cell formats of one workbook, made once per distinct (number format, bold)."""

    def __init__(self, book: xlsxwriter.Workbook, language: str, zone: ZoneInfo) -> None:
        self.book = book
        self.language = language
        self.zone = zone
        self._made: dict[tuple[str | None, bool, bool], Format] = {}

    def get(self, num_format: str | None, bold: bool = False, quoted: bool = False) -> Format:
        key = (num_format, bold, quoted)
        if key not in self._made:
            props: dict[str, Any] = {}
            if num_format:
                props["num_format"] = num_format
            if bold:
                props.update(bold=True, top=1, bg_color="#DDEBF7")
            if quoted:
                props["quote_prefix"] = True
            self._made[key] = self.book.add_format(props)
        return self._made[key]

    def of(self, column: Column, currency: str | None = None, bold: bool = False) -> Format:
        return self.get(self.number_format(column, currency), bold)

    def number_format(self, column: Column, currency: str | None) -> str | None:
        conv = conventions(self.language)
        return {
            "integer": "#,##0",
            "number": "#,##0.00",
            "money": money_format(column.currency or currency, self.language),
            "percent": "0.0%",
            "duration": "[h]:mm:ss",
            "datetime": f"{conv.excel_date} hh:mm:ss",
            "date": conv.excel_date,
        }.get(column.kind)


_Writer = Callable[[int, int, Any, Any], None]


def _writer(sheet: Worksheet, column: Column, formats: _Formats, bold: bool = False) -> _Writer:
    """A function writing one value of `column` (and its row's currency) as a typed cell."""
    kind = column.kind
    fmt = formats.of(column, bold=bold)
    plain = formats.get(None, bold) if bold else None  # no style attribute on plain cells

    def blank(row: int, col: int) -> None:
        sheet.write_blank(row, col, None, plain)

    if kind == "text":

        def write_text(row: int, col: int, value: Any, _: Any) -> None:
            if value is None:
                blank(row, col)
                return
            text = str(value)
            cell = formats.get(None, bold, quoted=True) if formula_like(text) else plain
            sheet.write_string(row, col, text, cell)

        return write_text
    if kind == "boolean":

        def write_boolean(row: int, col: int, value: Any, _: Any) -> None:
            if value is None:
                blank(row, col)
            else:
                sheet.write_boolean(row, col, bool(value), plain)

        return write_boolean
    if kind in ("datetime", "date"):

        def write_moment(row: int, col: int, value: Any, _: Any) -> None:
            if isinstance(value, float):  # already an Excel serial (`excel_rows`)
                sheet.write_number(row, col, value, fmt)
                return
            if not isinstance(value, dt.date):
                blank(row, col)
                return
            if isinstance(value, dt.datetime) and value.tzinfo is not None:
                value = value.astimezone(formats.zone).replace(tzinfo=None)
            sheet.write_datetime(row, col, value, fmt)

        return write_moment
    per_currency = kind == "money" and column.currency is None
    if kind == "duration":

        def write_duration(row: int, col: int, value: Any, _: Any) -> None:
            if value is None:
                blank(row, col)
            elif isinstance(value, float):  # already in days (`excel_rows`)
                sheet.write_number(row, col, value, fmt)
            else:
                sheet.write_number(row, col, excel_number(value) / _SECONDS_PER_DAY, fmt)

        return write_duration

    def write_number(row: int, col: int, value: Any, currency: Any) -> None:
        if value is None:
            blank(row, col)
            return
        number = value
        if kind == "percent":
            number = (value if isinstance(value, Decimal) else Decimal(str(value))) / 100
        cell_format = formats.of(column, currency, bold) if per_currency and currency else fmt
        sheet.write_number(row, col, excel_number(number), cell_format)

    return write_number


def excel_rows(result: ReportResult) -> Iterator[tuple[Any, ...]]:
    """The rows as tuples in `row_keys` order, with date-times, dates and integer durations
    already turned into Excel serial numbers (days since 1899-12-30, times in the result's
    zone) by Polars, column at a time, rather than cell by cell."""
    frame = result.rows
    kinds = {column.key: column.kind for column in result.columns}
    exprs = []
    for key in row_keys(result):
        if key not in frame.columns:
            exprs.append(pl.lit(None).alias(key))
            continue
        dtype, kind, value = frame.schema[key], kinds.get(key), pl.col(key)
        if kind == "datetime" and isinstance(dtype, pl.Datetime):
            if dtype.time_zone is not None:
                value = value.dt.convert_time_zone(result.timezone).dt.replace_time_zone(None)
            since = value.cast(pl.Datetime("us")) - pl.lit(_EXCEL_EPOCH, pl.Datetime("us"))
            value = since.dt.total_microseconds() / _MICROSECONDS_PER_DAY
        elif kind == "date" and dtype == pl.Date:
            since = value - pl.lit(_EXCEL_EPOCH.date())
            value = since.dt.total_days().cast(pl.Float64)
        elif kind == "duration" and dtype.is_integer():
            value = value / _SECONDS_PER_DAY
        elif dtype == pl.String:
            value = words(result, key, dtype)  # coded values in words, as in PDF and HTML
        exprs.append(value.alias(key))
    yield from frame.select(exprs).iter_rows(buffer_size=2048)


def _column_widths(result: ReportResult) -> list[float]:
    zone = zone_of(result)
    formatters = [text_formatter(c, result.language, zone) for c in result.columns]
    widths = [max(len(word) for word in (c.label or " ").split()) for c in result.columns]
    widths = [max(w, min(len(c.label), 24)) for w, c in zip(widths, result.columns, strict=True)]
    keys = row_keys(result)
    for row in iter_rows(replace(result, rows=result.rows.head(_WIDTH_SAMPLE))):
        for i, column in enumerate(result.columns):
            cur = currency_index(column, keys)
            text = formatters[i](row[i], None if cur is None else row[cur])
            widths[i] = max(widths[i], len(text))
    return [min(max(width + 2, 8), 60) for width in widths]


def render_xlsx(result: ReportResult, out: Path) -> None:
    """Write `result` as an Excel workbook at `out`."""
    book = xlsxwriter.Workbook(
        str(out),
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    book.set_properties({"title": result.title, "subject": result.description})
    try:
        rows_name, summary_name, chart_name = _distinct(
            [
                sheet_name(result.title, result.name or "Report"),
                sheet_name(t("ui.filters", result.language), "Filters"),
                sheet_name(t("ui.chart_data", result.language), "Chart data"),
            ]
        )
        data = chart_data(result, limit=XLSX_CHART_MAX_POINTS)
        charted = data is not None and bool(data.categories) and bool(data.series)
        formats = _Formats(book, result.language, zone_of(result))
        _rows_sheet(book, rows_name, result, formats, chart_name, charted)
        _summary_sheet(book, summary_name, result)
        if charted:
            _chart_sheet(book, chart_name, result)
    finally:
        book.close()


def _rows_sheet(
    book: xlsxwriter.Workbook,
    name: str,
    result: ReportResult,
    formats: _Formats,
    chart_name: str,
    charted: bool,
) -> None:
    sheet = book.add_worksheet(name)
    if result.rtl:
        sheet.right_to_left()
    columns = result.columns
    header = book.add_format(_HEADER)
    quoted_header = book.add_format({**_HEADER, "quote_prefix": True})
    for col, width in enumerate(_column_widths(result)):
        sheet.set_column(col, col, width)
    sheet.set_row(0, 30)
    for col, column in enumerate(columns):
        label_format = quoted_header if formula_like(column.label) else header
        sheet.write_string(0, col, column.label, label_format)
    keys = row_keys(result)
    writers = [_writer(sheet, column, formats) for column in columns]
    currencies = [currency_index(column, keys) for column in columns]
    row_number = 0
    for row_number, row in enumerate(excel_rows(result), start=1):
        for col, (write, cur) in enumerate(zip(writers, currencies, strict=True)):
            write(row_number, col, row[col], None if cur is None else row[cur])
    last = row_number
    totals_row = last + 1
    if last == 0 and columns:
        sheet.write_string(1, 0, t("ui.no_rows", result.language))
        totals_row += 1
    if columns:
        sheet.autofilter(0, 0, last, len(columns) - 1)
    sheet.freeze_panes(1, 0)
    if result.totals is not None and columns:
        _totals_row(sheet, result, formats, totals_row)
    if charted:
        _chart(book, sheet, chart_name, result, len(columns) + 1)
    sheet.set_landscape()
    sheet.fit_to_pages(1, 0)


def _totals_row(sheet: Worksheet, result: ReportResult, formats: _Formats, row: int) -> None:
    """The totals, typed; money in several currencies gives one totals row per currency."""
    totals = result.totals or {}
    per_currency = [v for v in totals.values() if isinstance(v, dict)]
    currencies: list[str | None] = sorted({c for v in per_currency for c in v}) or [None]
    label = t("ui.total", result.language)
    for offset, total_currency in enumerate(currencies):
        for col, column in enumerate(result.columns):
            value = totals.get(column.key)
            currency = totals.get(column.currency_key) if column.currency_key else None
            if isinstance(value, dict):
                value, currency = value.get(total_currency), total_currency
            elif offset:
                continue  # counts and durations once, on the first totals row
            _writer(sheet, column, formats, bold=True)(row + offset, col, value, currency)
        if totals.get(result.columns[0].key) is None:
            text = f"{label} {total_currency}" if total_currency else label
            sheet.write_string(row + offset, 0, text, formats.get(None, True))


_CHART_WIDTH: Final = (520, 1100)  # px, least and most
_CHART_HEIGHT: Final = 360  # px
_PIE_SIZE: Final = (520, 320)  # px
_CHART_FONT_PX: Final = 9 * 96 / 72 * 0.95  # Excel's 9 pt axis labels, in DejaVu Sans widths


#: Room of a chart not given to its categories: the value axis's labels and the margins.
_CHART_FRAME: Final = 80  # px


def _chart_width(count: int) -> int:
    """A chart wide enough for its categories: about 20 px each, within `_CHART_WIDTH`."""
    least, most = _CHART_WIDTH
    return max(least, min(most, _CHART_FRAME + 20 * count))


def _axis_format(data: ChartData, language: str) -> str:
    """The value axis's number format: the first series' unit; money with its currency's
    sign only when every series is in that currency."""
    series = data.series[0]
    if series.kind == "money":
        currencies = {s.currency for s in data.series}
        return money_format(series.currency if len(currencies) == 1 else None, language)
    return {"integer": "#,##0", "duration": "[h]:mm", "percent": "0%"}.get(series.kind, "#,##0.##")


def _axis_scale(series: SeriesData) -> float:
    """Cells hold durations in days and percentages as fractions: the chart's axis too."""
    return {"duration": 1 / _SECONDS_PER_DAY, "percent": 1 / 100}.get(series.kind, 1.0)


def _chart(
    book: xlsxwriter.Workbook, sheet: Worksheet, data_sheet: str, result: ReportResult, col: int
) -> None:
    """The native chart(s) beside the rows, drawn from the chart-data sheet (`_chart_sheet`):
    one series per measure and currency; one pie per currency."""
    spec = result.chart
    data = chart_data(result, limit=XLSX_CHART_MAX_POINTS)
    assert spec is not None
    assert data is not None
    count = len(data.categories)
    if spec.kind == "pie":
        pies = _pies(data)
        colours = slice_colours(pies)
        for number, slices in enumerate(pies):
            chart = book.add_chart({"type": "pie"})
            assert chart is not None
            start, rows = 3 * number, len(slices)
            chart.add_series(
                {
                    "name": [data_sheet, 0, start + 1],
                    "categories": [data_sheet, 1, start, rows, start],
                    "values": [data_sheet, 1, start + 1, rows, start + 1],
                    "data_labels": {"percentage": True, "position": "best_fit"},
                    "points": [{"fill": {"color": colours[index]}} for index, _ in slices],
                }
            )
            chart.set_title({"name": data.series[number].label})
            chart.set_legend({"position": "right"})
            width, height = _PIE_SIZE
            chart.set_size({"width": width, "height": height})
            sheet.insert_chart(1, col, chart, {"y_offset": number * (height + 16)})
        return
    chart = book.add_chart({"type": _CHART_TYPES[spec.kind]})
    assert chart is not None
    for number in range(len(data.series)):
        chart.add_series(
            {
                "name": [data_sheet, 0, number + 1],
                "categories": [data_sheet, 1, 0, count, 0],
                "values": [data_sheet, 1, number + 1, count, number + 1],
                **({"marker": {"type": "circle", "size": 4}} if spec.kind == "line" else {}),
            }
        )
    width = _chart_width(count)
    slot = (width - _CHART_FRAME) / max(count, 1)
    step, angle = label_layout(data.categories, slot, _CHART_FONT_PX)
    chart.set_x_axis(
        {
            "interval_unit": step,
            "num_font": {"rotation": -int(angle)},
            **({"interval_tick": step} if step > 1 else {}),
        }
    )
    first = data.series[0]
    values = [v for s in data.series for v in s.values if v is not None]
    ticks, _ = value_ticks(min([0.0, *values]), max([0.0, *values]), first.kind)
    scale = _axis_scale(first)
    chart.set_y_axis(
        {
            "num_format": _axis_format(data, result.language),
            "min": ticks[0] * scale,
            "max": ticks[-1] * scale,
            "major_unit": (ticks[1] - ticks[0]) * scale,
            "major_gridlines": {"visible": True, "line": {"color": "#DDDDDD"}},
        }
    )
    chart.set_title({"name": spec.title})
    if len(data.series) > 1:
        chart.set_legend({"position": "top"})
    else:
        chart.set_legend({"none": True})
    chart.set_size({"width": width, "height": _CHART_HEIGHT})
    sheet.insert_chart(1, col, chart)


def _pies(data: ChartData) -> list[list[tuple[int | None, float]]]:
    """Each pie's slices, as the PDF and HTML pies have them."""
    return [pie_slices(series.values) for series in data.series]


def _chart_sheet(book: xlsxwriter.Workbook, name: str, result: ReportResult) -> None:
    """The data the chart draws, as a table: a category per row and a column per series (per
    measure and currency), or a block of (category, value) per pie."""
    data = chart_data(result, limit=XLSX_CHART_MAX_POINTS)
    assert result.chart is not None
    assert data is not None
    sheet = book.add_worksheet(name)
    if result.rtl:
        sheet.right_to_left()
    header = book.add_format(_HEADER)
    formats = _Formats(book, result.language, zone_of(result))
    by_key = {column.key: column for column in result.columns}
    category_label = by_key[result.chart.category].label if result.chart.category in by_key else ""
    other = t("ui.other", result.language)

    def writer(series: SeriesData) -> _Writer:
        return _writer(sheet, Column("value", series.label, series.kind, series.currency), formats)

    def text(row: int, col: int, value: str) -> None:
        quoted = formats.get(None, quoted=True) if formula_like(value) else None
        sheet.write_string(row, col, value, quoted)

    if result.chart.kind == "pie":
        pies = _pies(data)
        for n, series in enumerate(data.series):
            sheet.set_column(3 * n, 3 * n, 24)
            sheet.set_column(3 * n + 1, 3 * n + 1, 16)
            sheet.write_string(0, 3 * n, category_label, header)
            sheet.write_string(0, 3 * n + 1, series.label, header)
        for row in range(max((len(slices) for slices in pies), default=0)):
            for n, slices in enumerate(pies):
                if row < len(slices):
                    index, value = slices[row]
                    text(row + 1, 3 * n, other if index is None else data.categories[index])
                    writer(data.series[n])(row + 1, 3 * n + 1, _cell(value, data.series[n]), None)
        return
    sheet.set_column(0, 0, 24)
    sheet.set_column(1, len(data.series), 16)
    sheet.write_string(0, 0, category_label, header)
    for n, series in enumerate(data.series):
        sheet.write_string(0, n + 1, series.label, header)
    writers = [writer(series) for series in data.series]
    for row, category in enumerate(data.categories, start=1):
        text(row, 0, category)
        for n, series in enumerate(data.series):
            writers[n](row, n + 1, _cell(series.values[row - 1], series), None)


def _cell(value: float | None, series: SeriesData) -> Any:
    """A chart value as its cell takes it: seconds stay whole, other numbers exact text."""
    if value is None:
        return None
    if series.kind in ("integer", "duration"):
        return round(value)
    return Decimal(repr(value))


def _summary_sheet(book: xlsxwriter.Workbook, name: str, result: ReportResult) -> None:
    sheet = book.add_worksheet(name)
    if result.rtl:
        sheet.right_to_left()
    title: dict[str, Any] = {"bold": True, "font_size": 14}
    bold: dict[str, Any] = {"bold": True}
    made: dict[tuple[tuple[str, Any], ...], Format] = {}

    def write(row: int, col: int, text: str, props: dict[str, Any] | None = None) -> None:
        wanted = {**(props or {}), **({"quote_prefix": True} if formula_like(text) else {})}
        key = tuple(sorted(wanted.items()))
        if key not in made:
            made[key] = book.add_format(wanted)
        sheet.write_string(row, col, text, made[key])

    sheet.set_column(0, 0, 28)
    sheet.set_column(1, 1, 60)
    write(0, 0, result.title, title)
    row = 1
    if result.description:
        write(row, 0, result.description)
        row += 1
    row += 1
    for line in summary_lines(result):
        if line.heading:
            row += 1
        if line.label:
            write(row, 0, line.label, bold)
        if line.value:
            write(row, 1, line.value)
        row += 1
