"""PDF documents (reportlab platypus): title, description, filter summary, chart and the rows.

The table repeats its header on every page, every page says "Page x of y" in the report's
language, and a table of more than `PORTRAIT_MAX_COLUMNS` columns is laid out on landscape
pages. Text is set in DejaVu Sans (shipped in `fonts/`), which covers the Latin, Greek,
Cyrillic and Arabic scripts. PDF has no text shaping of its own, so Arabic text is reshaped
(contextual letter forms, `arabic-reshaper`) and put in visual order (Unicode bidi algorithm,
`python-bidi`) before it is drawn; an Arabic report is right-aligned with its columns in
right-to-left order.

Rows are drawn as plain strings in rows of fixed height (a cell too long for its column is
shortened with "…"), and the table is cut into one table per page by arithmetic
(`_PagedTable`), so the time grows with the rows only: 2,000 rows take well under a second.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final
from xml.sax.saxutils import escape

import arabic_reshaper
from bidi.algorithm import get_display
from reportlab.graphics.shapes import Circle, Drawing, Group, String
from reportlab.graphics.shapes import Line as PdfLine
from reportlab.graphics.shapes import PolyLine as PdfPolyLine
from reportlab.graphics.shapes import Rect as PdfRect
from reportlab.graphics.shapes import Wedge as PdfWedge
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from callacct.i18n import t
from callacct.reports.render.cells import (
    ChartData,
    chart_data,
    summary_lines,
    text_rows,
    text_totals,
)
from callacct.reports.render.chartplan import (
    Dot,
    Line,
    PolyLine,
    Rect,
    Text,
    Wedge,
    pdf_style,
    plan_chart,
)
from callacct.reports.render.metrics import FONT, FONT_BOLD, register_fonts
from callacct.reports.result import ReportResult

PORTRAIT_MAX_COLUMNS: Final = 7
TABLE_FONT_SIZE: Final = 7.5
ROW_HEIGHT: Final = 11.5
CELL_PADDING: Final = 3
MARGIN: Final = 12 * mm
_WIDTH_SAMPLE: Final = 300
_RTL_CHARS: Final = re.compile(r"[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc]")
_NUMERIC_KINDS: Final = {"integer", "number", "money", "duration", "percent"}
_HEADER_BG: Final = colors.HexColor("#1F4E79")
_STRIPE: Final = colors.HexColor("#F2F6FA")
_TOTALS_BG: Final = colors.HexColor("#DDEBF7")


def visual(text: str, rtl: bool = False) -> str:
    """`text` as it must be drawn: Arabic letters in their contextual forms and right-to-left
    runs in visual order (`rtl`: the paragraph's direction is right to left)."""
    if not _RTL_CHARS.search(text):
        return text
    return str(get_display(arabic_reshaper.reshape(text), base_dir="R" if rtl else "L"))


def _lines(text: str, width: float, font: str, size: float) -> list[str]:
    """`text` (in logical order) broken into lines of at most `width` points, at spaces."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line = ""
        for word in paragraph.split():
            candidate = f"{line} {word}" if line else word
            shaped = arabic_reshaper.reshape(candidate)
            if line and pdfmetrics.stringWidth(shaped, font, size) > width:
                lines.append(line)
                line = word
            else:
                line = candidate
        lines.append(line)
    return lines


def _fit(text: str, width: float, font: str, size: float) -> str:
    """`text` shortened with "…" to fit in `width` points."""
    if pdfmetrics.stringWidth(text, font, size) <= width:
        return text
    low, high = 0, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if pdfmetrics.stringWidth(text[:middle] + "…", font, size) <= width:
            low = middle
        else:
            high = middle - 1
    return text[:low] + "…"


class _Layout:
    """Page size and styles of one document."""

    def __init__(self, result: ReportResult) -> None:
        self.rtl = result.rtl
        self.pagesize = landscape(A4) if len(result.columns) > PORTRAIT_MAX_COLUMNS else A4
        self.width = self.pagesize[0] - 2 * MARGIN
        align = TA_RIGHT if self.rtl else TA_LEFT
        self.title = ParagraphStyle("title", fontName=FONT_BOLD, fontSize=16, leading=20,
                                    alignment=align, spaceAfter=4)  # fmt: skip
        self.body = ParagraphStyle("body", fontName=FONT, fontSize=9, leading=12, alignment=align)
        self.bold = ParagraphStyle("bold", parent=self.body, fontName=FONT_BOLD)
        self.header = ParagraphStyle("header", fontName=FONT_BOLD, fontSize=TABLE_FONT_SIZE,
                                     leading=TABLE_FONT_SIZE + 2, textColor=colors.white,
                                     alignment=align)  # fmt: skip
        self.header_end = ParagraphStyle("header_end", parent=self.header, alignment=TA_RIGHT)

    def paragraph(self, text: str, style: ParagraphStyle, width: float | None = None) -> Paragraph:
        """`text` as a paragraph. Right-to-left text is broken into lines of `width` points
        before it is put in visual order (reportlab would break the reordered text, so the
        first line drawn would hold the end of the sentence)."""
        if not _RTL_CHARS.search(text):
            return Paragraph(escape(text), style)
        lines = _lines(text, width or self.width, style.fontName, style.fontSize)
        return Paragraph("<br/>".join(escape(visual(line, self.rtl)) for line in lines), style)

    def ordered(self, cells: Sequence[Any]) -> list[Any]:
        """Cells in drawing order: right to left for an RTL report."""
        return list(reversed(cells)) if self.rtl else list(cells)


def render_pdf(result: ReportResult, out: Path) -> None:
    """Write `result` as a PDF document at `out`."""
    register_fonts()
    layout = _Layout(result)
    story: list[Flowable] = [layout.paragraph(result.title, layout.title)]
    if result.description:
        story.append(layout.paragraph(result.description, layout.body))
    story.append(Spacer(1, 4 * mm))
    story.append(_summary(result, layout))
    story.append(Spacer(1, 5 * mm))
    chart = chart_data(result)
    if result.chart is not None and chart is not None and chart.categories:
        if result.chart.title != result.title:  # else the report's title says it
            story.append(layout.paragraph(result.chart.title, layout.bold))
        story.append(chart_drawing(result.chart.kind, chart, layout, result.language))
        story.append(Spacer(1, 5 * mm))
    story.extend(_rows_table(result, layout))
    doc = SimpleDocTemplate(
        str(out),
        pagesize=layout.pagesize,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN + 4 * mm,
        title=result.title,
        subject=result.description,
        creator="callacct",
        author="callacct",
        lang=result.language,
    )
    doc.build(story, canvasmaker=_numbered_canvas(result.language, layout.rtl))


def _summary(result: ReportResult, layout: _Layout) -> Table:
    rows = []
    for line in summary_lines(result):
        label = layout.paragraph(line.label, layout.bold, 0.3 * layout.width - 12)
        value = layout.paragraph(line.value, layout.body, 0.7 * layout.width - 12)
        rows.append(layout.ordered([label, value]))
    widths = layout.ordered([0.3 * layout.width, 0.7 * layout.width])
    table = Table(rows, colWidths=widths, hAlign="RIGHT" if layout.rtl else "LEFT")
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                               ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
                               ("TOPPADDING", (0, 0), (-1, -1), 1)]))  # fmt: skip
    return table


def _column_widths(
    result: ReportResult, body: list[list[str]], totals: list[str] | None, layout: _Layout
) -> list[float]:
    """Natural widths (header words, the first rows, totals), scaled to fill the page width."""
    size = TABLE_FONT_SIZE
    widths = []
    for i, column in enumerate(result.columns):
        words = [pdfmetrics.stringWidth(w, FONT_BOLD, size) for w in column.label.split()] or [0]
        widest = max(words)
        for row in body[:_WIDTH_SAMPLE]:
            widest = max(widest, pdfmetrics.stringWidth(row[i], FONT, size))
        if totals:
            widest = max(widest, pdfmetrics.stringWidth(totals[i], FONT_BOLD, size))
        widths.append(min(widest, 180.0) + 2 * CELL_PADDING + 1)
    total = sum(widths) or 1.0
    return [width * layout.width / total for width in widths]


def _rows_table(result: ReportResult, layout: _Layout) -> list[Flowable]:
    columns = result.columns
    if not columns:
        return [layout.paragraph(t("ui.no_rows", result.language), layout.body)]
    body = [[visual(text, layout.rtl) for text in row] for row in text_rows(result)]
    totals = text_totals(result)
    widths = _column_widths(result, body, totals, layout)
    for row in body:
        for i, width in enumerate(widths):
            row[i] = _fit(row[i], width - 2 * CELL_PADDING, FONT, TABLE_FONT_SIZE)
    header = [
        layout.paragraph(
            column.label, layout.header_end if column.kind in _NUMERIC_KINDS else layout.header
        )
        for column in columns
    ]
    shown_totals = None
    if totals is not None:
        shown_totals = layout.ordered(
            [
                _fit(visual(text, layout.rtl), width - 2 * CELL_PADDING, FONT_BOLD, TABLE_FONT_SIZE)
                for text, width in zip(totals, widths, strict=True)
            ]
        )
    numeric = [i for i, c in enumerate(layout.ordered(columns)) if c.kind in _NUMERIC_KINDS]
    table = _PagedTable(
        layout.ordered(header),
        [layout.ordered(row) for row in body],
        shown_totals,
        layout.ordered(widths),
        numeric,
        layout.rtl,
    )
    flowables: list[Flowable] = [table]
    if not body:
        flowables += [Spacer(1, 3 * mm), layout.paragraph(t("ui.no_rows", result.language),
                                                          layout.body)]  # fmt: skip
    return flowables


class _PagedTable(Flowable):  # type: ignore[misc]
    """The rows table, cut into one reportlab `Table` per page, each with the header.

    Rows have a fixed height, so how many fit on a page is arithmetic; a single long `Table`
    would be re-measured on each split (time growing with rows × pages).
    """

    def __init__(
        self,
        header: list[Any],
        rows: list[list[str]],
        totals: list[str] | None,
        widths: list[float],
        numeric: list[int],
        rtl: bool,
        first_row: int = 0,
    ) -> None:
        super().__init__()
        self.header, self.rows, self.totals = header, rows, totals
        self.widths, self.numeric, self.rtl, self.first_row = widths, numeric, rtl, first_row
        self.hAlign = "CENTER"
        self._header_height: float | None = None

    def _part(self, rows: list[list[str]], totals: list[str] | None, first: int) -> _PagedTable:
        part = _PagedTable(
            self.header, rows, totals, self.widths, self.numeric, self.rtl, first_row=first
        )
        part._header_height = self._header_height
        return part

    def header_height(self) -> float:
        if self._header_height is None:
            _, height = self._table([], None).wrap(sum(self.widths), 10**6)
            self._header_height = float(height)
        return self._header_height

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        count = len(self.rows) + (self.totals is not None)
        self.width = sum(self.widths)
        self.height = self.header_height() + count * ROW_HEIGHT
        return self.width, self.height

    def split(self, avail_width: float, avail_height: float) -> list[Flowable]:
        fit = int((avail_height - self.header_height()) // ROW_HEIGHT)
        if fit >= len(self.rows):  # the rows fit, the totals row does not: keep one with it
            fit = len(self.rows) - 1
        if fit < 1:
            return []
        return [
            self._part(self.rows[:fit], None, self.first_row),
            self._part(self.rows[fit:], self.totals, self.first_row + fit),
        ]

    def draw(self) -> None:
        table = self._table(self.rows, self.totals)
        table.wrapOn(self.canv, self.width, self.height)
        table.drawOn(self.canv, 0, 0)

    def _table(self, rows: list[list[str]], totals: list[str] | None) -> Table:
        data: list[list[Any]] = [self.header, *rows]
        stripes = [colors.white, _STRIPE] if self.first_row % 2 == 0 else [_STRIPE, colors.white]
        style: list[tuple[Any, ...]] = [
            ("FONT", (0, 0), (-1, -1), FONT, TABLE_FONT_SIZE),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("LEFTPADDING", (0, 0), (-1, -1), CELL_PADDING),
            ("RIGHTPADDING", (0, 0), (-1, -1), CELL_PADDING),
            ("TOPPADDING", (0, 1), (-1, -1), 1),
            ("BOTTOMPADDING", (0, 1), (-1, -1), 2),
            ("BACKGROUND", (0, 0), (-1, 0), _HEADER_BG),
            ("ROWBACKGROUNDS", (0, 1), (-1, -1), stripes),
            ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#C8D3DF")),
            ("ALIGN", (0, 0), (-1, -1), "RIGHT" if self.rtl else "LEFT"),
        ]
        style += [("ALIGN", (i, 1), (i, -1), "RIGHT") for i in self.numeric]
        if totals is not None:
            data.append(totals)
            last = len(data) - 1
            style += [
                ("FONT", (0, last), (-1, last), FONT_BOLD, TABLE_FONT_SIZE),
                ("BACKGROUND", (0, last), (-1, last), _TOTALS_BG),
                ("LINEABOVE", (0, last), (-1, last), 0.8, colors.black),
            ]
        heights: list[float | None] = [None] + [ROW_HEIGHT] * (len(data) - 1)
        table = Table(data, colWidths=self.widths, rowHeights=heights, repeatRows=1)
        table.setStyle(TableStyle(style))
        return table


def chart_drawing(kind: str, data: ChartData, layout: _Layout, language: str) -> Drawing:
    """The chart as a reportlab drawing: the shapes `chartplan` lays out (as the HTML page
    draws them), y turned upwards, Arabic text shaped and in visual order."""
    plan = plan_chart(kind, data, pdf_style(layout.width), language, rtl=layout.rtl)
    height = plan.height
    drawing = Drawing(plan.width, height)
    for shape in plan.shapes:
        if isinstance(shape, Text):
            text = String(0, 0, visual(shape.text, layout.rtl), fontName=FONT_BOLD if shape.bold
                          else FONT, fontSize=shape.size, textAnchor=shape.anchor,
                          fillColor=colors.HexColor(shape.fill))  # fmt: skip
            turn = math.radians(shape.angle)
            cos, sin = math.cos(turn), math.sin(turn)
            drawing.add(Group(text, transform=(cos, sin, -sin, cos, shape.x, height - shape.y)))
        elif isinstance(shape, Rect):
            fill = colors.HexColor(shape.fill)
            bottom = height - shape.y - shape.h
            drawing.add(
                PdfRect(shape.x, bottom, shape.w, shape.h, fillColor=fill, strokeColor=None)
            )
        elif isinstance(shape, Line):
            drawing.add(PdfLine(shape.x1, height - shape.y1, shape.x2, height - shape.y2,
                                strokeColor=colors.HexColor(shape.stroke),
                                strokeWidth=shape.width * 0.6))  # fmt: skip
        elif isinstance(shape, PolyLine):
            points = [v for x, y in shape.points for v in (x, height - y)]
            drawing.add(PdfPolyLine(points, strokeColor=colors.HexColor(shape.stroke),
                                    strokeWidth=shape.width * 0.6, strokeLineJoin=1))  # fmt: skip
        elif isinstance(shape, Dot):
            fill = colors.HexColor(shape.fill)
            drawing.add(
                Circle(shape.x, height - shape.y, shape.r, fillColor=fill, strokeColor=None)
            )
        elif isinstance(shape, Wedge):
            fill = colors.HexColor(shape.fill)
            if shape.end - shape.start >= 359.999:
                drawing.add(Circle(shape.cx, height - shape.cy, shape.r, fillColor=fill,
                                   strokeColor=colors.white))  # fmt: skip
            else:
                drawing.add(PdfWedge(shape.cx, height - shape.cy, shape.r, 90 - shape.end,
                                     90 - shape.start, fillColor=fill, strokeColor=colors.white,
                                     strokeWidth=0.5))  # fmt: skip
    return drawing


def _numbered_canvas(language: str, rtl: bool) -> type[Canvas]:
    """A canvas class that writes "Page x of y" on each page once the page count is known."""

    class NumberedCanvas(Canvas):  # type: ignore[misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                text = visual(t("ui.page", language, page=self._pageNumber, pages=total), rtl)
                self.setFont(FONT, 8)
                self.setFillColor(colors.HexColor("#555555"))
                self.drawCentredString(self._pagesize[0] / 2, MARGIN / 2 + 2 * mm, text)
                super().showPage()
            super().save()

    return NumberedCanvas
