"""HTML output read back with html.parser: table, escaping, inline SVG, direction."""

from __future__ import annotations

import tempfile
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import polars as pl
import pytest

from callacct.i18n import LANGUAGES, t
from callacct.reports.render import render
from callacct.reports.result import ReportResult
from tests.reports.fixtures import MALICIOUS, detail_result, narrow_result


class Page(HTMLParser):
    """The parts of a page the tests look at."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.cells: list[list[str]] = []
        self.headers: list[str] = []
        self._in: list[str] = []
        self.texts: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in.append(tag)
        if tag == "tr":
            self.cells.append([])

    def handle_endtag(self, tag: str) -> None:
        while self._in and self._in.pop() != tag:
            pass

    def handle_data(self, data: str) -> None:
        self.texts.append(data)
        if self._in and self._in[-1] in ("td", "th") and self.cells:
            self.cells[-1].append(data)
        if self._in and self._in[-1] == "th" and "thead" in self._in:
            self.headers.append(data)

    def attrs(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for name, attrs in self.tags if name == tag]


def _page(result_language: str = "en", rows: int = 4) -> tuple[str, Page]:
    return _render(detail_result(result_language, rows=rows))


def _render(result: ReportResult) -> tuple[str, Page]:
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "r.html"
        render(result, "html", out)
        text = out.read_text(encoding="utf-8")
    return text, Page(text)


def test_table_and_summary() -> None:
    text, page = _page()
    assert page.attrs("html")[0] == {"lang": "en", "dir": "ltr"}
    assert page.headers == ["User", "Extension", "#", "Cost", "Duration", "Started", "Day", "%",
                            "MOS", "Answered"]  # fmt: skip
    body = [row for row in page.cells if row and row[0] == "Alice Martin"]
    assert body[0][:6] == ["Alice Martin", "1000", "1", "€1,234.50", "1:02:05",
                           "2026-11-02 09:00:00"]  # fmt: skip
    assert [c for c in page.cells[-1] if c][:4] == ["Total", "10", "€4,938.06", "4:08:26"]
    assert "Times in Europe/Paris" in page.texts
    assert "<title>Cost — User</title>" in text
    assert '<meta name="viewport"' in text
    assert "overflow-x: auto" in text


def test_malicious_cells_are_escaped() -> None:
    text, page = _page()
    assert MALICIOUS in page.texts
    assert "<script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "Description &amp; &lt;b&gt;details&lt;/b&gt;" in text
    assert not page.attrs("script")


def test_chart_is_inline_svg() -> None:
    _text, page = _page()
    assert len(page.attrs("svg")) == 1
    assert page.attrs("rect")
    assert "http" not in "".join(a.get("href") or "" for a in page.attrs("link"))
    for kind, shape in (("pie", "path"), ("line", "polyline"), ("bar", "rect")):
        _, chart_page = _render(narrow_result("en", kind=kind))
        assert chart_page.attrs("svg")[0]["class"] == f"chart chart-{kind}"
        assert chart_page.attrs(shape)


def test_no_chart_no_rows() -> None:
    _, page = _render(detail_result("en", rows=0, chart=False))
    assert not page.attrs("svg")
    assert t("ui.no_rows", "en") in page.texts


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_language(language: str) -> None:
    _, page = _page(language, rows=2)
    expected = {"lang": language, "dir": "rtl" if language == "ar" else "ltr"}
    assert page.attrs("html")[0] == expected
    assert page.headers[0] == t("field.user", language)
    assert t("ui.period", language) in page.texts


def test_text_cells_take_their_own_direction() -> None:
    _, page = _page("ar", rows=6)
    cells = [attrs for attrs in page.attrs("td") if attrs.get("dir") == "auto"]
    assert len(cells) >= 12  # user and extension of 6 rows
    assert {"class": "num"} in page.attrs("td")


def test_coded_values_are_shown_in_the_language() -> None:
    result = narrow_result("fr")
    coded = result.rows.with_columns(
        dest_class=pl.Series(["mobile", "toll_free", "international", "premium"])
    )
    text, page = _render(replace(result, rows=coded))
    shown = [row[0] for row in page.cells if row and row[0] in ("mobile", "numéro vert",
             "international", "surtaxé", "toll_free", "premium")]  # fmt: skip
    assert shown == ["mobile", "numéro vert", "international", "surtaxé"]
    assert "toll_free" not in text  # neither in the table nor in the chart's labels
