"""Charts as inline SVG (bar, line, pie), drawn in Python: no script, nothing fetched.

The shapes and their places come from `chartplan` (the same layout the PDF draws); this module
only writes them. Every text put in the SVG is escaped. The SVG scales with its container
(`viewBox`, no fixed size), so it stays readable on a phone; each series is marked with
`data-series` (its label, with its currency) and each text with its role (`class`).

Example:
    >>> from callacct.reports.render.cells import ChartData, SeriesData
    >>> data = ChartData(["a", "b"], [SeriesData("Cost (EUR)", [1.0, 2.0], "money", "EUR")])
    >>> svg = chart_svg("bar", data, "Cost", "en")
    >>> svg.startswith("<svg") and svg.count('data-series="Cost (EUR)"') == 2
    True
"""

from __future__ import annotations

import math

from markupsafe import escape

from callacct.reports.render.cells import ChartData
from callacct.reports.render.chartplan import (
    SVG_STYLE,
    Dot,
    Line,
    Plan,
    PolyLine,
    Rect,
    Style,
    Text,
    Wedge,
    plan_chart,
)
from callacct.reports.render.metrics import FONT_FAMILY


def _n(value: float) -> str:
    """A coordinate, written the same way on every machine."""
    text = f"{value:.1f}"
    return "0.0" if text == "-0.0" else text


def _series(name: str) -> str:
    return f' data-series="{escape(name)}"' if name else ""


def _tip(text: str) -> str:
    return f"<title>{escape(text)}</title>" if text else ""


def _wedge(shape: Wedge) -> str:
    if shape.end - shape.start >= 359.999:
        body = (f'<circle cx="{_n(shape.cx)}" cy="{_n(shape.cy)}" r="{_n(shape.r)}" '
                f'fill="{shape.fill}"{_series(shape.series)}>')  # fmt: skip
        return body + _tip(shape.tip) + "</circle>"

    def point(angle: float) -> str:
        turn = math.radians(angle)
        x, y = shape.cx + shape.r * math.sin(turn), shape.cy - shape.r * math.cos(turn)
        return f"{_n(x)},{_n(y)}"

    large = 1 if shape.end - shape.start > 180 else 0
    path = (f"M{_n(shape.cx)},{_n(shape.cy)} L{point(shape.start)} "
            f"A{_n(shape.r)},{_n(shape.r)} 0 {large} 1 {point(shape.end)} Z")  # fmt: skip
    return (f'<path d="{path}" fill="{shape.fill}" stroke="#ffffff" stroke-width="1"'
            f"{_series(shape.series)}>{_tip(shape.tip)}</path>")  # fmt: skip


def _text(shape: Text) -> str:
    attrs = (f'x="{_n(shape.x)}" y="{_n(shape.y)}" font-size="{shape.size:g}" '
             f'text-anchor="{shape.anchor}" fill="{shape.fill}"')  # fmt: skip
    if shape.bold:
        attrs += ' font-weight="bold"'
    if shape.angle:
        attrs += f' transform="rotate({-shape.angle:g} {_n(shape.x)} {_n(shape.y)})"'
    if shape.role:
        attrs += f' class="{shape.role}"'
    return f"<text {attrs}>{escape(shape.text)}</text>"


def plan_svg(plan: Plan, title: str, kind: str) -> str:
    """`plan` as an `<svg>` element (a string of safe markup)."""
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {plan.width:g} '
            f'{plan.height:g}" role="img" aria-label="{escape(title)}" '
            f'class="chart chart-{kind}" font-family="{FONT_FAMILY}" direction="ltr">'
            f"<title>{escape(title)}</title>")  # fmt: skip
    parts = [head]
    for shape in plan.shapes:
        if isinstance(shape, Text):
            parts.append(_text(shape))
        elif isinstance(shape, Rect):
            parts.append(f'<rect x="{_n(shape.x)}" y="{_n(shape.y)}" width="{_n(shape.w)}" '
                         f'height="{_n(shape.h)}" fill="{shape.fill}"{_series(shape.series)}>'
                         f"{_tip(shape.tip)}</rect>")  # fmt: skip
        elif isinstance(shape, Line):
            parts.append(f'<line x1="{_n(shape.x1)}" y1="{_n(shape.y1)}" x2="{_n(shape.x2)}" '
                         f'y2="{_n(shape.y2)}" stroke="{shape.stroke}" '
                         f'stroke-width="{shape.width:g}"/>')  # fmt: skip
        elif isinstance(shape, PolyLine):
            points = " ".join(f"{_n(x)},{_n(y)}" for x, y in shape.points)
            parts.append(f'<polyline points="{points}" fill="none" stroke="{shape.stroke}" '
                         f'stroke-width="{shape.width:g}" stroke-linejoin="round"'
                         f"{_series(shape.series)}/>")  # fmt: skip
        elif isinstance(shape, Dot):
            parts.append(f'<circle cx="{_n(shape.x)}" cy="{_n(shape.y)}" r="{_n(shape.r)}" '
                         f'fill="{shape.fill}"{_series(shape.series)}>{_tip(shape.tip)}'
                         "</circle>")  # fmt: skip
        else:
            parts.append(_wedge(shape))
    return "".join(parts) + "</svg>"


def chart_svg(
    kind: str,
    data: ChartData,
    title: str,
    language: str,
    rtl: bool = False,
    style: Style = SVG_STYLE,
) -> str:
    """The chart as an `<svg>` element (a string of safe markup)."""
    # Laid out left to right (mirrored for RTL reports); the browser still orders the letters
    # of each label by itself.
    return plan_svg(plan_chart(kind, data, style, language, rtl=rtl), title, kind)


__all__ = ["chart_svg", "plan_svg"]
