"""Charts as inline SVG (bar, line, pie), drawn in Python: no script, nothing fetched.

Every text put in the SVG is escaped. The SVG scales with its container (`viewBox`, no fixed
size), so it stays readable on a phone.

Example:
    >>> from callacct.reports.render.cells import ChartData
    >>> svg = chart_svg("bar", ChartData(["a", "b"], [("Cost", [1.0, 2.0])]), "Cost", "en")
    >>> svg.startswith("<svg") and svg.count("<rect") >= 2
    True
"""

from __future__ import annotations

import math
from typing import Final

from markupsafe import escape

from callacct.i18n import format_number
from callacct.reports.render.cells import ChartData

COLOURS: Final = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
                  "#7f7f7f", "#bcbd22", "#17becf")  # fmt: skip
WIDTH: Final = 720
HEIGHT: Final = 320
_LEFT, _RIGHT, _TOP, _BOTTOM = 64, 16, 16, 72


def _nice_max(value: float) -> float:
    """A round axis maximum at or above `value`."""
    if value <= 0:
        return 1.0
    magnitude = 10.0 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if step * magnitude >= value:
            return float(step * magnitude)
    return 10 * magnitude


def _short(text: str, length: int = 16) -> str:
    return text if len(text) <= length else text[: length - 1] + "…"


def chart_svg(kind: str, data: ChartData, title: str, language: str, rtl: bool = False) -> str:
    """The chart as an `<svg>` element (a string of safe markup)."""
    label = f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img"'
    # Laid out left to right here (mirrored for RTL reports); the browser still orders the
    # letters of each label by itself.
    head = f'{label} aria-label="{escape(title)}" class="chart chart-{kind}" direction="ltr">'
    head += f"<title>{escape(title)}</title>"
    if kind == "pie":
        return head + _pie(data, rtl) + "</svg>"
    return head + _axes_chart(kind, data, language, rtl) + "</svg>"


def _axes_chart(kind: str, data: ChartData, language: str, rtl: bool) -> str:
    categories = data.categories[::-1] if rtl else data.categories
    series = [(name, values[::-1] if rtl else values) for name, values in data.series]
    count = max(len(categories), 1)
    top = _nice_max(max((v for _, values in series for v in values), default=0.0))
    low = min(0.0, *(min(values, default=0.0) for _, values in series))
    span = (top - low) or 1.0
    plot_w, plot_h = WIDTH - _LEFT - _RIGHT, HEIGHT - _TOP - _BOTTOM

    def y(value: float) -> float:
        return _TOP + plot_h * (top - value) / span

    parts = []
    for tick in range(5):
        value = low + span * tick / 4
        ty = y(value)
        parts.append(f'<line x1="{_LEFT}" x2="{WIDTH - _RIGHT}" y1="{ty:.1f}" y2="{ty:.1f}" '
                     'stroke="#ddd"/>')  # fmt: skip
        parts.append(f'<text x="{_LEFT - 6}" y="{ty + 4:.1f}" text-anchor="end" font-size="11">'
                     f"{escape(format_number(round(value, 2), language))}</text>")  # fmt: skip
    slot = plot_w / count
    for index, category in enumerate(categories):
        cx = _LEFT + slot * (index + 0.5)
        parts.append(f'<text x="{cx:.1f}" y="{HEIGHT - _BOTTOM + 14}" font-size="11" '
                     f'text-anchor="end" transform="rotate(-35 {cx:.1f} {HEIGHT - _BOTTOM + 14})">'
                     f"{escape(_short(category))}</text>")  # fmt: skip
    for number, (name, values) in enumerate(series):
        colour = COLOURS[number % len(COLOURS)]
        if kind == "bar":
            bar_w = slot * 0.8 / max(len(series), 1)
            for index, value in enumerate(values):
                x = _LEFT + slot * index + slot * 0.1 + bar_w * number
                y0, y1 = sorted((y(value), y(0.0)))
                parts.append(f'<rect x="{x:.1f}" y="{y0:.1f}" width="{bar_w:.1f}" '
                             f'height="{max(y1 - y0, 0.5):.1f}" fill="{colour}">'
                             f"<title>{escape(name)}: {escape(format_number(value, language))}"
                             "</title></rect>")  # fmt: skip
        else:
            points = " ".join(
                f"{_LEFT + slot * (i + 0.5):.1f},{y(v):.1f}" for i, v in enumerate(values)
            )
            parts.append(f'<polyline points="{points}" fill="none" stroke="{colour}" '
                         'stroke-width="2"/>')  # fmt: skip
            for i, v in enumerate(values):
                parts.append(f'<circle cx="{_LEFT + slot * (i + 0.5):.1f}" cy="{y(v):.1f}" '
                             f'r="3" fill="{colour}"><title>{escape(name)}: '
                             f"{escape(format_number(v, language))}</title></circle>")  # fmt: skip
    if len(series) > 1:
        for number, (name, _) in enumerate(series):
            lx = _LEFT + 8 + number * 150
            parts.append(f'<rect x="{lx}" y="2" width="10" height="10" '
                         f'fill="{COLOURS[number % len(COLOURS)]}"/>'
                         f'<text x="{lx + 14}" y="11" font-size="11">'
                         f"{escape(_short(name, 20))}</text>")  # fmt: skip
    parts.append(f'<line x1="{_LEFT}" x2="{WIDTH - _RIGHT}" y1="{y(0.0):.1f}" '
                 f'y2="{y(0.0):.1f}" stroke="#333"/>')  # fmt: skip
    return "".join(parts)


def _pie(data: ChartData, rtl: bool) -> str:
    values = [max(v, 0.0) for v in data.series[0][1]] if data.series else []
    total = sum(values)
    if total <= 0:
        return ""
    radius = (HEIGHT - 40) / 2
    cx = WIDTH - radius - 20 if rtl else radius + 20
    cy = HEIGHT / 2
    legend_x = 20 if rtl else 2 * radius + 60
    parts = []
    angle = -math.pi / 2
    for index, (category, value) in enumerate(zip(data.categories, values, strict=False)):
        colour = COLOURS[index % len(COLOURS)]
        share = value / total
        if share >= 0.999999:
            parts.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{radius:.1f}" fill="{colour}"/>')
        elif share > 0:
            end = angle + 2 * math.pi * share
            x0, y0 = cx + radius * math.cos(angle), cy + radius * math.sin(angle)
            x1, y1 = cx + radius * math.cos(end), cy + radius * math.sin(end)
            large = 1 if share > 0.5 else 0
            parts.append(f'<path d="M{cx:.1f},{cy:.1f} L{x0:.1f},{y0:.1f} '
                         f'A{radius:.1f},{radius:.1f} 0 {large} 1 {x1:.1f},{y1:.1f} Z" '
                         f'fill="{colour}" stroke="#fff"><title>{escape(category)}: '
                         f"{share:.1%}</title></path>")  # fmt: skip
            angle = end
        if index < 14:
            ly = 24 + index * 19
            parts.append(f'<rect x="{legend_x}" y="{ly - 10}" width="12" height="12" '
                         f'fill="{colour}"/><text x="{legend_x + 18}" y="{ly}" font-size="12">'
                         f"{escape(_short(category, 40))} ({share:.1%})</text>")  # fmt: skip
    return "".join(parts)
