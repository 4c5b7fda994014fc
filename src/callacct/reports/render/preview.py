"""A report's preview: one SVG picture of what it shows — title, description, its chart and
its first rows — for the report library (`report show`, the web portal).

SVG rather than PNG: the same drawing code as the HTML charts (`chartplan`, `svg`), no image
library, a few kilobytes, text a reader (or a search) can select, sharp at any size, and the
same bytes from the same result on every machine (no timestamp, coordinates written to one
decimal), so a test can tell a preview that is out of date.

Example:
    >>> import datetime as dt, polars as pl
    >>> from callacct.reports.result import Column, ReportResult
    >>> result = ReportResult(name="x", title="Calls", description="", language="en",
    ...     timezone="UTC", period=(None, None), filters=[],
    ...     columns=[Column("site", "Site", "text"), Column("calls", "Calls", "integer")],
    ...     rows=pl.DataFrame({"site": ["PAR"], "calls": [3]}),
    ...     generated_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    >>> svg = preview_svg(result)
    >>> svg.startswith("<svg") and ">PAR</text>" in svg
    True
"""

from __future__ import annotations

from typing import Final

from markupsafe import escape

from callacct.i18n import t
from callacct.reports.render.cells import chart_data, text_rows
from callacct.reports.render.chartplan import SVG_STYLE, Style, plan_chart
from callacct.reports.render.metrics import FONT_FAMILY, fit_text, text_width
from callacct.reports.render.svg import plan_svg
from callacct.reports.result import ReportResult

WIDTH: Final = 720
PAD: Final = 16
#: Rows of the table shown under the chart.
PREVIEW_ROWS: Final = 8
_TITLE: Final = 18.0
_TEXT: Final = 11.0
_CELL: Final = 10.0
_ROW: Final = 18.0
_ACCENT: Final = "#1f4e79"
_NUMERIC: Final = ("integer", "number", "money", "duration", "percent")


def _n(value: float) -> str:
    return f"{value:.1f}"


def _text(x: float, y: float, text: str, size: float, **attrs: str) -> str:
    extra = "".join(f' {key.replace("_", "-")}="{value}"' for key, value in attrs.items())
    return f'<text x="{_n(x)}" y="{_n(y)}" font-size="{size:g}"{extra}>{escape(text)}</text>'


def _wrapped(text: str, width: float, size: float, lines: int) -> list[str]:
    """`text` in at most `lines` lines of `width` points (the last one cut with "…")."""
    out: list[str] = []
    line = ""
    for word in text.split():
        candidate = f"{line} {word}" if line else word
        if line and text_width(candidate, size) > width:
            out.append(line)
            line = word
        else:
            line = candidate
    if line:
        out.append(line)
    if len(out) > lines:
        out = out[:lines]
        out[-1] = fit_text(out[-1] + " …", width, size)
    return out


def _table(result: ReportResult, top: float) -> tuple[list[str], float]:
    """The first rows under a header, as many columns as fit the width; and its height."""
    columns = result.columns
    rows = [row for _, row in zip(range(PREVIEW_ROWS), text_rows(result), strict=False)]
    room = WIDTH - 2 * PAD
    widths = []
    for index, column in enumerate(columns):
        texts = [column.label] + [row[index] for row in rows]
        widest = max(text_width(text, _CELL, bold=n == 0) for n, text in enumerate(texts))
        widths.append(min(widest, 160.0) + 12)
    shown: list[int] = []
    used = 0.0
    for index, width in enumerate(widths):
        if used + width > room and shown:
            break
        shown.append(index)
        used += width
    spare = (room - used) / len(shown) if shown else 0.0
    parts = [f'<rect x="{PAD}" y="{_n(top)}" width="{_n(room)}" height="{_ROW:g}" '
             f'fill="{_ACCENT}"/>']  # fmt: skip
    x = float(PAD)
    places = []
    for index in shown:
        width = widths[index] + spare
        numeric = columns[index].kind in _NUMERIC
        places.append((index, x + width - 6 if numeric else x + 6, width - 12, numeric))
        x += width
    order = places
    if result.rtl:  # right to left: the first column on the right, anchors mirrored
        order = [(i, WIDTH - at, w, not numeric) for (i, at, w, numeric) in places]
    for index, at, width, end in order:
        label = fit_text(columns[index].label, width, _CELL, bold=True)
        anchor = "end" if end else "start"
        parts.append(_text(at, top + 13, label, _CELL, fill="#ffffff", font_weight="bold",
                           text_anchor=anchor))  # fmt: skip
    for number, row in enumerate(rows):
        y = top + _ROW * (number + 1)
        if number % 2:
            parts.append(f'<rect x="{PAD}" y="{_n(y)}" width="{_n(room)}" height="{_ROW:g}" '
                         'fill="#f2f6fa"/>')  # fmt: skip
        for index, at, width, end in order:
            cell = fit_text(row[index], width, _CELL)
            parts.append(_text(at, y + 13, cell, _CELL, fill="#1b1b1b",
                               text_anchor="end" if end else "start"))  # fmt: skip
    height = _ROW * (len(rows) + 1)
    if not rows:
        parts.append(_text(PAD + 6, top + _ROW + 13, t("ui.no_rows", result.language), _CELL,
                           fill="#555555"))  # fmt: skip
        height += _ROW
    return parts, height


def preview_svg(result: ReportResult) -> str:
    """The preview of `result` as a standalone SVG document."""
    rtl = result.rtl
    start_x = WIDTH - PAD if rtl else PAD
    anchor = "end" if rtl else "start"
    parts = [_text(start_x, PAD + _TITLE, result.title, _TITLE, font_weight="bold",
                   fill=_ACCENT, text_anchor=anchor)]  # fmt: skip
    y = PAD + _TITLE + 8
    for line in _wrapped(result.description, WIDTH - 2 * PAD, _TEXT, 3):
        y += _TEXT * 1.4
        parts.append(_text(start_x, y, line, _TEXT, fill="#444444", text_anchor=anchor))
    y += 12
    data = chart_data(result)
    if result.chart is not None and data is not None and data.categories and data.series:
        style = Style(**{**SVG_STYLE.__dict__, "width": WIDTH - 2 * PAD})
        plan = plan_chart(result.chart.kind, data, style, result.language, rtl=rtl)
        inner = plan_svg(plan, result.chart.title, result.chart.kind)
        # The chart's own <svg>, placed by x and y inside the preview.
        parts.append(inner.replace("<svg ", f'<svg x="{PAD}" y="{_n(y)}" width="{plan.width:g}" '
                                   f'height="{plan.height:g}" ', 1))  # fmt: skip
        y += plan.height + 12
    table, height = _table(result, y)
    parts += table
    total = y + height + PAD
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{total:.0f}" '
            f'viewBox="0 0 {WIDTH} {total:.0f}" font-family="{FONT_FAMILY}" role="img" '
            f'aria-label="{escape(result.title)}">'
            f'<title>{escape(result.title)}</title>'
            f'<rect width="{WIDTH}" height="{total:.0f}" fill="#ffffff"/>')  # fmt: skip
    return head + "".join(parts) + "</svg>\n"


__all__ = ["PREVIEW_ROWS", "preview_svg"]
