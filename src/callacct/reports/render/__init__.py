"""Output formats of a report run: the `Renderer` type and the registry of them.

`render(result, fmt, out)` writes a `ReportResult` to the file `out` in any registered format.
callacct's own are csv and json (`reports/export.py`, for tools), xlsx, pdf and html (this
package; see docs/report-rendering.md); an installed package adds others through the
`callacct.renderers` entry points (`callacct.registry`). A renderer that writes text has a
`stream` too, which writes to a terminal or any text stream.

Example:
    >>> RENDERERS.names()
    ['csv', 'html', 'json', 'pdf', 'xlsx']
    >>> RENDERERS.get("csv").stream is not None, RENDERERS.get("pdf").stream is None
    (True, True)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from callacct.errors import UsageError
from callacct.registry import Registry
from callacct.reports.result import ReportResult

WriteFile = Callable[[ReportResult, Path], None]
WriteText = Callable[[ReportResult, TextIO], None]


@dataclass(frozen=True)
class Renderer:
    """An output format: `write(result, path)` writes a file; `stream(result, text)`, when
    given, writes the same as text (shown on a terminal when no file is named)."""

    name: str
    title: str
    write: WriteFile
    stream: WriteText | None = None


def text_renderer(name: str, title: str, stream: WriteText) -> Renderer:
    """A renderer of text: its files are `stream`'s text in UTF-8, line ends as written."""

    def write(result: ReportResult, out: Path) -> None:
        with Path(out).open("w", encoding="utf-8", newline="") as fh:
            stream(result, fh)

    return Renderer(name, title, write, stream)


def _as_renderer(value: object) -> Renderer:
    if not isinstance(value, Renderer):
        raise TypeError(f"a {type(value).__name__}, not a callacct.reports.render.Renderer")
    return value


RENDERERS: Registry[Renderer] = Registry(
    "callacct.renderers", "output format", _as_renderer, name_of=lambda renderer: renderer.name
)


def render(result: ReportResult, fmt: str, out: Path) -> None:
    """Write `result` to the file `out` in format `fmt` (a registered one); a file that cannot
    be written is an `OSError`, whatever the format."""
    if fmt not in RENDERERS:
        known = ", ".join(RENDERERS.names())
        raise UsageError(f"cannot render format {fmt!r}: use one of {known}")
    RENDERERS.get(fmt).write(result, Path(out))


# -- callacct's own renderers: the registry's factories (callacct.registry.BUILTINS) ---------
# Each imports its module when first used: reportlab, xlsxwriter and jinja2 load only if asked.


def csv_renderer() -> Renderer:
    from callacct.reports.export import write_csv

    return text_renderer("csv", "CSV: a header of labels, then the rows", write_csv)


def json_renderer() -> Renderer:
    from callacct.reports.export import write_json

    return text_renderer("json", "JSON: report, columns, rows, totals", write_json)


def xlsx_renderer() -> Renderer:
    from xlsxwriter.exceptions import FileCreateError

    from callacct.reports.render.xlsx import render_xlsx

    def write(result: ReportResult, out: Path) -> None:
        try:
            render_xlsx(result, out)
        except FileCreateError as exc:  # xlsxwriter wraps the OSError
            cause = exc.args[0] if exc.args else None
            if isinstance(cause, OSError):
                raise cause from None
            raise OSError(str(exc)) from None

    return Renderer("xlsx", "Excel workbook", write)


def pdf_renderer() -> Renderer:
    from callacct.reports.render.pdf import render_pdf

    return Renderer("pdf", "PDF document", render_pdf)


def html_renderer() -> Renderer:
    from callacct.reports.render.html import render_html

    return Renderer("html", "HTML page (one self-contained file)", render_html)
