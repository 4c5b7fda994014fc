"""Renderers: a `ReportResult` written as an Excel workbook, a PDF document or an HTML page.

`render(result, fmt, out)` is the one entry point; `FORMATS` is the registry of the formats
rendered here (csv and json are written by the report runner). See docs/report-rendering.md.

Example:
    >>> sorted(FORMATS)
    ['html', 'pdf', 'xlsx']
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Final

from xlsxwriter.exceptions import FileCreateError

from callacct.errors import UsageError
from callacct.reports.render.html import render_html
from callacct.reports.render.pdf import render_pdf
from callacct.reports.render.xlsx import render_xlsx
from callacct.reports.result import ReportResult

FORMATS: Final[dict[str, Callable[[ReportResult, Path], None]]] = {
    "xlsx": render_xlsx,
    "pdf": render_pdf,
    "html": render_html,
}


def render(result: ReportResult, fmt: str, out: Path) -> None:
    """Write `result` to the file `out` in format `fmt` (xlsx, pdf or html); a file that cannot
    be written is an `OSError`, whatever the format."""
    renderer = FORMATS.get(fmt)
    if renderer is None:
        raise UsageError(f"cannot render format {fmt!r}: use one of {', '.join(sorted(FORMATS))}")
    try:
        renderer(result, Path(out))
    except FileCreateError as exc:  # xlsxwriter wraps the OSError
        cause = exc.args[0] if exc.args else None
        if isinstance(cause, OSError):
            raise cause from None
        raise OSError(str(exc)) from None
