"""Excel output read back with openpyxl: header, typed cells, formats, filter sheet, safety."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from openpyxl.worksheet.worksheet import Worksheet

from callacct.i18n import LANGUAGES, t
from callacct.reports.render import render
from callacct.reports.render.xlsx import money_format, sheet_name
from tests.reports.fixtures import ARABIC_NAME, FORMULA, MALICIOUS, detail_result, narrow_result


def _rows_sheet(path: Path) -> tuple[openpyxl.Workbook, Worksheet]:
    book = openpyxl.load_workbook(path)
    return book, book.worksheets[0]


def test_header_typed_cells_and_number_formats(tmp_path: Path) -> None:
    out = tmp_path / "r.xlsx"
    render(detail_result("en", rows=6), "xlsx", out)
    _book, sheet = _rows_sheet(out)
    header = [cell.value for cell in sheet[1]]
    assert header == ["User", "Extension", "#", "Cost", "Duration", "Started", "Day", "%", "MOS",
                      "Answered"]  # fmt: skip
    assert sheet["A1"].font.b
    row = {header[i]: cell for i, cell in enumerate(sheet[2])}
    assert row["User"].value == "Alice Martin"
    assert row["Extension"].value == "1000"
    assert row["Extension"].data_type == "s"
    assert row["#"].value == 1
    assert row["#"].number_format == "#,##0"
    assert row["Cost"].value == pytest.approx(1234.5)
    assert row["Cost"].number_format == '"€"#,##0.00'
    assert row["Duration"].number_format == "[h]:mm:ss"
    assert row["Duration"].value == dt.timedelta(seconds=3725)
    # 08:00 UTC shown in Europe/Paris, tz-naive
    assert row["Started"].value == dt.datetime(2026, 11, 2, 9, 0)
    assert row["Started"].number_format == "yyyy-mm-dd hh:mm:ss"
    assert row["Day"].value == dt.datetime(2026, 11, 2)
    assert row["%"].value == pytest.approx(0.125)
    assert row["%"].number_format == "0.0%"
    assert row["MOS"].value == pytest.approx(4.25)
    assert row["Answered"].value is True


def test_autofilter_frozen_header_totals_and_chart(tmp_path: Path) -> None:
    out = tmp_path / "r.xlsx"
    render(detail_result("en", rows=6), "xlsx", out)
    _, sheet = _rows_sheet(out)
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:J7"
    totals = [cell.value for cell in sheet[8]]
    assert totals[0] == "Total"
    assert totals[2] == 21
    assert totals[3] == pytest.approx(7407.15)
    assert sheet.cell(8, 4).number_format == '"€"#,##0.00'
    assert sheet.cell(8, 4).font.b
    assert len(sheet._charts) == 1


def test_formula_cells_are_neutralised(tmp_path: Path) -> None:
    out = tmp_path / "r.xlsx"
    render(detail_result("en", rows=6), "xlsx", out)
    _, sheet = _rows_sheet(out)
    users = [sheet.cell(row, 1) for row in range(2, 8)]
    # Shown as they are, kept as text by Excel's quote prefix (no visible ').
    assert [cell.value for cell in users] == [
        "Alice Martin", FORMULA, MALICIOUS, ARABIC_NAME, "+33 1 23 45 67 89", "-12.5"
    ]  # fmt: skip
    assert [cell.quotePrefix for cell in users] == [False, True, False, False, True, False]
    assert all(cell.data_type == "s" for cell in users)


def test_filter_sheet(tmp_path: Path) -> None:
    out = tmp_path / "r.xlsx"
    render(detail_result("de", rows=2), "xlsx", out)
    book = openpyxl.load_workbook(out)
    assert book.sheetnames[1] == "Filter"
    lines = [tuple(row) for row in book.worksheets[1].iter_rows(values_only=True)]
    assert lines[0][0] == "Kosten — Benutzer"
    assert lines[1][0] == "Description & <b>details</b>"
    assert ("Zeitraum", "01.11.2026 – 30.11.2026") in lines
    assert (None, "Zeiten in Europe/Paris") in lines
    assert ("Abteilung", "Sales") in lines
    assert ("Standort", "=1+1") in lines
    quoted = [c.value for r in book.worksheets[1].iter_rows() for c in r if c.quotePrefix]
    assert quoted == ["=1+1"]
    assert ("Erstellt", "26.11.2026 03:30:00") in lines


def test_per_row_currency_and_chart_kinds(tmp_path: Path) -> None:
    out = tmp_path / "r.xlsx"
    render(narrow_result("fr", kind="line"), "xlsx", out)
    _, sheet = _rows_sheet(out)
    formats = [sheet.cell(row, 3).number_format for row in range(2, 6)]
    assert formats == ['#,##0.00 "€"', '#,##0.00 "€"', '#,##0.00 "$"', '#,##0.00 "€"']
    assert sheet.cell(5, 3).value == pytest.approx(2.000001)
    assert [cell.value for cell in sheet[6]][:2] == ["Total", 100]
    assert len(sheet._charts) == 1


def test_empty_result(tmp_path: Path) -> None:
    result = detail_result("en", rows=0)
    out = tmp_path / "r.xlsx"
    render(result, "xlsx", out)
    _, sheet = _rows_sheet(out)
    assert sheet.cell(1, 1).value == "User"
    assert sheet.cell(2, 1).value == t("ui.no_rows", "en")
    assert len(sheet._charts) == 0


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_language(tmp_path: Path, language: str) -> None:
    out = tmp_path / f"r-{language}.xlsx"
    render(detail_result(language, rows=3), "xlsx", out)
    book, sheet = _rows_sheet(out)
    assert sheet.cell(1, 1).value == t("field.user", language)
    assert sheet.sheet_view.rightToLeft is (True if language == "ar" else None)
    assert book.worksheets[1].sheet_view.rightToLeft is (True if language == "ar" else None)
    assert book.sheetnames[1] == t("ui.filters", language)


def test_helpers() -> None:
    assert money_format("JPY", "en") == '"¥"#,##0'
    assert money_format("CHF", "it") == '#,##0.00 "CHF"'
    assert sheet_name("Cost [by]: user/site?", "x") == "Cost  by   user site"
    assert sheet_name("", "calls-detail") == "calls-detail"
    assert len(sheet_name("x" * 40, "y")) == 31


def test_sheet_names_never_clash(tmp_path: Path) -> None:
    result = replace(narrow_result("en"), title="Filters", description="=cmd|' /C calc'!A0")
    out = tmp_path / "r.xlsx"
    render(result, "xlsx", out)
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["Filters", "Filters (2)", "Chart data"]
    render(replace(result, title="Chart data"), "xlsx", out)
    assert openpyxl.load_workbook(out).sheetnames == ["Chart data", "Filters", "Chart data (2)"]
    assert book.worksheets[1]["A2"].value == "=cmd|' /C calc'!A0"
    assert book.worksheets[1]["A2"].quotePrefix


def test_money_totals_per_currency_get_a_row_each(tmp_path: Path) -> None:
    totals = {"calls": 100, "cost": {"EUR": Decimal("18.350001"), "USD": Decimal("30.10")}}
    result = replace(narrow_result("fr"), totals=totals)
    out = tmp_path / "r.xlsx"
    render(result, "xlsx", out)
    _, sheet = _rows_sheet(out)
    last = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=sheet.max_row - 1)]
    assert last == [["Total EUR", 100, 18.350001], ["Total USD", None, 30.1]]
    assert "€" in sheet.cell(sheet.max_row - 1, 3).number_format
    assert "$" in sheet.cell(sheet.max_row, 3).number_format
    html = tmp_path / "r.html"
    render(result, "html", html)
    assert "18,35\u00a0€ · 30,10\u00a0$" in html.read_text(encoding="utf-8")
