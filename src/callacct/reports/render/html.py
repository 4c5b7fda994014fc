"""HTML pages: one self-contained file (styles inline, charts as inline SVG, no script).

The page comes from the `templates/report.html.j2` Jinja template with autoescaping on and
undefined names refused, so a value such as `<script>` in a cell is shown, never run. The
table scrolls sideways on a narrow screen; an Arabic report is laid out right to left
(`dir="rtl"`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from callacct.i18n import t
from callacct.reports.render.cells import chart_data, summary_lines, text_rows, text_totals
from callacct.reports.render.svg import chart_svg
from callacct.reports.result import ReportResult

TEMPLATES: Final = Path(__file__).parent / "templates"
_NUMERIC_KINDS: Final = {"integer", "number", "money", "duration", "percent"}

_ENV: Final = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


def render_html(result: ReportResult, out: Path) -> None:
    """Write `result` as a self-contained HTML page at `out`."""
    chart = None
    data = chart_data(result)
    if result.chart is not None and data is not None and data.categories:
        svg = chart_svg(result.chart.kind, data, result.chart.title, result.language, result.rtl)
        # A chart titled as the report needs no caption of its own.
        caption = "" if result.chart.title == result.title else result.chart.title
        chart = {"title": caption, "svg": Markup(svg)}  # noqa: S704 (escaped in svg.py)
    template = _ENV.get_template("report.html.j2")
    columns = [
        # Text cells take their direction from their own first letter (dir="auto"): a phone
        # number or "-12.5" stays left to right in an Arabic report, an Arabic name in an
        # English one reads right to left.
        {"label": c.label, "numeric": c.kind in _NUMERIC_KINDS, "auto_dir": c.kind == "text"}
        for c in result.columns
    ]
    with out.open("w", encoding="utf-8") as stream:
        for piece in template.generate(
            result=result,
            direction="rtl" if result.rtl else "ltr",
            columns=columns,
            rows=text_rows(result),
            totals=text_totals(result),
            summary=summary_lines(result),
            chart=chart,
            no_rows=t("ui.no_rows", result.language),
            has_rows=result.rows.height > 0,
        ):
            stream.write(piece)
