"""PDF output read back as text with pypdf: title, summary, header on every page, page numbers,
shaped Arabic, landscape for wide tables."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import arabic_reshaper
import pypdf
import pytest
from bidi import get_display

from callacct.i18n import LANGUAGES, t
from callacct.reports.render import render
from callacct.reports.render.pdf import visual
from tests.reports.fixtures import ARABIC_NAME, MALICIOUS, detail_result, narrow_result


def _pages(path: Path) -> list[str]:
    return [page.extract_text() for page in pypdf.PdfReader(path).pages]


def _contains_shaped(text: str, logical: str) -> bool:
    """Whether `text` holds `logical` in its shaped (presentation) forms, in either order."""
    shaped = arabic_reshaper.reshape(logical)
    return shaped in text or get_display(shaped) in text


@pytest.fixture(scope="module")
def long_pdf(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    out = tmp_path_factory.mktemp("pdf") / "long.pdf"
    render(detail_result("en", rows=120), "pdf", out)
    return _pages(out)


def test_title_description_summary(long_pdf: list[str]) -> None:
    first = long_pdf[0]
    assert "Cost — User" in first
    assert "Description & <b>details</b>" in first
    assert "2026-11-01 – 2026-11-30" in first
    assert "Times in Europe/Paris" in first
    assert "Sales" in first
    assert "=1+1" in first


def test_header_repeated_and_page_numbers(long_pdf: list[str]) -> None:
    assert len(long_pdf) >= 3
    for number, text in enumerate(long_pdf, start=1):
        assert f"Page {number} of {len(long_pdf)}" in text
        assert re.search(r"User\s*Extension", text), number
    assert "Total" in long_pdf[-1]
    assert "Alice Martin" in long_pdf[1]
    assert MALICIOUS in long_pdf[0]  # drawn as text


def test_values_are_formatted(long_pdf: list[str]) -> None:
    first = long_pdf[0]
    assert "€1,234.50" in first
    assert "1:02:05" in first
    assert "2026-11-02 09:00:00" in first
    assert "12.5%" in first


def test_wide_table_is_landscape_narrow_portrait(tmp_path: Path) -> None:
    wide, narrow = tmp_path / "wide.pdf", tmp_path / "narrow.pdf"
    render(detail_result("en", rows=2), "pdf", wide)
    render(narrow_result("en"), "pdf", narrow)
    box = pypdf.PdfReader(wide).pages[0].mediabox
    assert box.width > box.height
    box = pypdf.PdfReader(narrow).pages[0].mediabox
    assert box.width < box.height


def test_arabic_is_shaped_and_right_to_left(tmp_path: Path) -> None:
    out = tmp_path / "ar.pdf"
    render(detail_result("ar", rows=80), "pdf", out)
    pages = _pages(out)
    assert _contains_shaped(pages[0], t("field.user", "ar"))
    assert _contains_shaped(pages[0], ARABIC_NAME)
    # presentation forms (U+FE70..U+FEFF), not the bare letters
    assert re.search("[\ufe70-\ufeff]", pages[0])
    assert not re.search("[\u0627-\u064a]", pages[0])
    assert _contains_shaped(pages[1], t("field.extension", "ar"))
    footer = pages[1].strip().splitlines()[-1]
    assert _contains_shaped(footer, "الصفحة")  # "Page 2 of n"
    assert "2" in footer
    assert str(len(pages)) in footer


def test_visual_leaves_latin_alone() -> None:
    assert visual("Alice +33 1") == "Alice +33 1"
    assert visual("أحمد") != "أحمد"


def test_empty_result_and_pie(tmp_path: Path) -> None:
    out = tmp_path / "empty.pdf"
    render(detail_result("en", rows=0), "pdf", out)
    text = _pages(out)[0]
    assert t("ui.no_rows", "en") in text
    assert "Page 1 of 1" in text
    out = tmp_path / "pie.pdf"
    render(narrow_result("en", kind="pie"), "pdf", out)
    text = _pages(out)[0]
    assert "$30.10" in text
    assert "premium" in text


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_language(tmp_path: Path, language: str) -> None:
    out = tmp_path / f"r-{language}.pdf"
    render(narrow_result(language, kind="bar"), "pdf", out)
    text = _pages(out)[0]
    label = t("field.dest_class", language)
    page = t("ui.page", language, page=1, pages=1)
    if language == "ar":
        assert _contains_shaped(text, label)
    else:
        assert label in text
        assert page in text


def test_long_arabic_text_is_broken_into_lines_before_reordering(tmp_path: Path) -> None:
    text = " ".join(["بداية", *["كلمة"] * 60, "نهاية"])  # "start", 60 x "word", "end"
    result = replace(detail_result("ar", rows=1), description=text)
    out = tmp_path / "ar.pdf"
    render(result, "pdf", out)
    lines = _pages(out)[0].splitlines()

    def line_of(word: str) -> int:
        shaped = arabic_reshaper.reshape(word)
        return next(i for i, line in enumerate(lines) if shaped in line or shaped[::-1] in line)

    assert line_of("بداية") < line_of("نهاية")  # the sentence starts on the first line drawn


@pytest.mark.parametrize("font", ["DejaVuSans.ttf", "DejaVuSans-Bold.ttf"])
def test_shipped_font_draws_every_message(font: str) -> None:
    from reportlab.pdfbase.ttfonts import TTFont

    from callacct.i18n import catalogue
    from callacct.reports.render.metrics import FONTS_DIR

    glyphs = TTFont("probe", str(FONTS_DIR / font)).face.charToGlyph
    texts = [text for lang in LANGUAGES for text in catalogue(lang).values()]
    texts += ["€£$¥₹✓✗…–\u202f\u00a0"]
    missing = {
        char
        for text in texts
        for char in arabic_reshaper.reshape(text)
        if not char.isspace() and ord(char) not in glyphs
    }
    assert not missing
    assert (FONTS_DIR / "LICENSE").is_file()


def test_totals_are_not_shortened(tmp_path: Path) -> None:
    out = tmp_path / "totals.pdf"
    render(detail_result("en", rows=40), "pdf", out)
    last = _pages(out)[-1]
    assert "€49,387.80" in last
    assert "Total" in last
