"""The font every output is measured and drawn with, and the width of a text in it.

PDF text is set in DejaVu Sans (shipped in `fonts/`, registered with reportlab here); HTML
pages and SVG charts ask for it first, so the widths measured here are the widths drawn, and
charts place their labels from them (a browser without DejaVu Sans uses a font of similar
width).

Example:
    >>> round(text_width("Total", 10), 1)
    25.1
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Final

import arabic_reshaper
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

FONT: Final = "CallacctSans"
FONT_BOLD: Final = "CallacctSans-Bold"
FONTS_DIR: Final = Path(__file__).parent / "fonts"
#: The font families SVG and HTML ask for: the shipped font first, then fonts of like width.
FONT_FAMILY: Final = "'DejaVu Sans', Verdana, 'Bitstream Vera Sans', sans-serif"


@cache
def register_fonts() -> None:
    """Register the shipped DejaVu Sans regular and bold with reportlab (once)."""
    pdfmetrics.registerFont(TTFont(FONT, str(FONTS_DIR / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont(FONT_BOLD, str(FONTS_DIR / "DejaVuSans-Bold.ttf")))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT_BOLD)


def text_width(text: str, size: float, bold: bool = False) -> float:
    """The width of `text` at `size` points in DejaVu Sans (Arabic letters in the forms they
    are drawn with)."""
    register_fonts()
    shaped = text if text.isascii() else arabic_reshaper.reshape(text)
    return float(pdfmetrics.stringWidth(shaped, FONT_BOLD if bold else FONT, size))


def fit_text(text: str, width: float, size: float, bold: bool = False) -> str:
    """`text` shortened with "…" to fit in `width` points.

    >>> fit_text("Customer Service", 40, 10)
    'Custo…'
    """
    if text_width(text, size, bold) <= width:
        return text
    low, high = 0, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if text_width(text[:middle] + "…", size, bold) <= width:
            low = middle
        else:
            high = middle - 1
    return text[:low] + "…"


__all__ = ["FONT", "FONT_BOLD", "FONT_FAMILY", "fit_text", "register_fonts", "text_width"]
