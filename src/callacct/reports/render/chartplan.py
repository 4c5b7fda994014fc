"""Charts laid out once for HTML and PDF: the shapes of a bar, line or pie chart, placed from the
widths of the texts they hold, then written as SVG (`svg.py`) or drawn by reportlab (`pdf.py`).

What the layout guarantees, whatever the data:

- Category labels never overlap: from the widest label and the room each category has, the
  labels are drawn level, at 45° or upright, every label or every n-th one — whichever shows
  the most labels (`label_layout`); a label longer than `Style.max_label` ends with "…".
- The value axis has round ticks in the unit of its values: whole numbers for counts,
  minutes and hours for durations, money and numbers with the decimals their step needs.
- A legend lists each series (or each pie's categories) once, in columns of one width.
- A pie is drawn per currency (money of different currencies is never one whole); a pie's
  small slices beyond the first `PIE_SLICES - 1` are one "other" slice.
- The chart is as tall as its content: the labels' room is measured, not guessed.

Coordinates are points, y pointing down (as in SVG). Excel charts are Excel's own; `xlsx.py`
uses `label_layout` and `value_ticks` for their label interval, rotation and axis.

Example:
    >>> from callacct.reports.render.cells import ChartData, SeriesData
    >>> days = [f"2026-{m:02d}-{d:02d}" for m in (10, 11) for d in range(1, 31)]
    >>> data = ChartData(days, [SeriesData("Calls", [float(n) for n in range(60)], "integer")])
    >>> plan = plan_chart("line", data, SVG_STYLE, "en")
    >>> labels = [s for s in plan.shapes if isinstance(s, Text) and s.role == "category"]
    >>> len(labels), overlapping(labels)
    (30, [])
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import TYPE_CHECKING, Final, Literal

from callacct.i18n import format_duration, format_number, format_percent, t
from callacct.reports.render.metrics import fit_text, text_width

if TYPE_CHECKING:
    from callacct.reports.render.cells import ChartData, SeriesData

Anchor = Literal["start", "middle", "end"]
Measure = Callable[[str, float, bool], float]  # (text, size, bold) -> width in points

COLOURS: Final = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
                  "#bcbd22", "#17becf", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5",
                  "#c49c94", "#f7b6d2", "#dbdb8d", "#9edae5")  # fmt: skip
OTHER_COLOUR: Final = "#9a9a9a"
INK: Final = "#333333"
GRID: Final = "#dddddd"
AXIS: Final = "#555555"
#: Slices of a pie at most: the smallest beyond these are one "other" slice.
PIE_SLICES: Final = 10
#: A slice at least this share of its pie gets its percentage written on it.
PIE_LABEL_SHARE: Final = 0.05
#: Box of a text around its baseline, in ems: ascent above it, descent below (DejaVu Sans).
ASCENT: Final = 0.76
DESCENT: Final = 0.24


@dataclass(frozen=True)
class Style:
    """Sizes of one output's charts, in points."""

    width: float
    font: float  # axis labels and legends
    title_font: float  # a pie's own title
    plot_height: float  # height of the bars' and lines' plot area
    pie: float  # diameter of a pie
    max_label: float  # a longer category label is shortened with "…"


SVG_STYLE: Final = Style(width=720, font=11, title_font=12, plot_height=220, pie=210,
                         max_label=150)  # fmt: skip


def pdf_style(width: float) -> Style:
    """The style of PDF charts for a page `width` points wide."""
    return Style(width=width, font=7, title_font=8, plot_height=130, pie=130, max_label=100)


@dataclass(frozen=True)
class Text:
    """A text whose baseline starts (`anchor`) at x, y, turned `angle` degrees
    counter-clockwise around that point."""

    x: float
    y: float
    text: str
    size: float
    anchor: Anchor = "start"
    angle: float = 0.0
    bold: bool = False
    fill: str = INK
    role: str = ""  # category, value, legend, title, slice

    def corners(self, measure: Measure) -> list[tuple[float, float]]:
        """The four corners of the box the text covers, as drawn."""
        width = measure(self.text, self.size, self.bold)
        left = {"start": 0.0, "middle": -width / 2, "end": -width}[self.anchor]
        box = [(left, -ASCENT * self.size), (left + width, -ASCENT * self.size),
               (left + width, DESCENT * self.size), (left, DESCENT * self.size)]  # fmt: skip
        turn = math.radians(self.angle)
        cos, sin = math.cos(turn), math.sin(turn)
        return [(self.x + x * cos + y * sin, self.y - x * sin + y * cos) for x, y in box]


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    w: float
    h: float
    fill: str
    tip: str = ""
    series: str = ""


@dataclass(frozen=True)
class Line:
    x1: float
    y1: float
    x2: float
    y2: float
    stroke: str
    width: float = 1.0


@dataclass(frozen=True)
class PolyLine:
    points: tuple[tuple[float, float], ...]
    stroke: str
    width: float = 2.0
    series: str = ""


@dataclass(frozen=True)
class Dot:
    x: float
    y: float
    r: float
    fill: str
    tip: str = ""
    series: str = ""


@dataclass(frozen=True)
class Wedge:
    """A slice of a pie from `start` to `end`, degrees clockwise from twelve o'clock."""

    cx: float
    cy: float
    r: float
    start: float
    end: float
    fill: str
    tip: str = ""
    series: str = ""


Shape = Text | Rect | Line | PolyLine | Dot | Wedge


@dataclass(frozen=True)
class Plan:
    """A laid-out chart: its size and its shapes, in drawing order."""

    width: float
    height: float
    shapes: tuple[Shape, ...]


def measure_text(text: str, size: float, bold: bool = False) -> float:
    """Width of `text` in the shipped font: what both outputs draw with."""
    return text_width(text, size, bold)


def overlapping(texts: Sequence[Text], measure: Measure = measure_text) -> list[tuple[str, str]]:
    """The pairs of `texts` whose boxes overlap (by the separating-axis test)."""
    boxes = [(text.text, text.corners(measure)) for text in texts]
    found = []
    for i, (name, box) in enumerate(boxes):
        for other, second in boxes[i + 1 :]:
            if _polygons_overlap(box, second):
                found.append((name, other))
    return found


def _polygons_overlap(a: list[tuple[float, float]], b: list[tuple[float, float]]) -> bool:
    for polygon in (a, b):
        for i, (x1, y1) in enumerate(polygon):
            x2, y2 = polygon[(i + 1) % len(polygon)]
            nx, ny = y2 - y1, x1 - x2
            pa = [nx * x + ny * y for x, y in a]
            pb = [nx * x + ny * y for x, y in b]
            if max(pa) <= min(pb) + 1e-6 or max(pb) <= min(pa) + 1e-6:
                return False
    return True


# -- axes ----------------------------------------------------------------------------------

_DURATION_STEPS: Final = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800,
                          14400, 21600, 43200, 86400)  # fmt: skip


def _nice(raw: float, whole: bool) -> float:
    magnitude = 10.0 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        step = factor * magnitude
        if step >= raw - 1e-12 and not (whole and step != math.floor(step)):
            return step
    return 10 * magnitude


def value_ticks(low: float, high: float, kind: str, count: int = 5) -> tuple[list[float], int]:
    """Round tick values from at most `low` to at least `high` (about `count` steps) for values
    of `kind`, and the decimals their labels need: whole steps for counts (`integer`), steps of
    seconds, minutes and hours for durations.

    >>> value_ticks(0, 20000, "integer")
    ([0.0, 5000.0, 10000.0, 15000.0, 20000.0], 0)
    >>> value_ticks(0, 3, "integer")
    ([0.0, 1.0, 2.0, 3.0], 0)
    >>> value_ticks(0, 0.42, "money")
    ([0.0, 0.1, 0.2, 0.3, 0.4, 0.5], 1)
    >>> value_ticks(0, 5400, "duration")[0][:3]
    [0.0, 1800.0, 3600.0]
    """
    low, high = float(low), float(high)
    if high <= low:
        high = low + 1
    raw = (high - low) / count
    if kind == "duration" and raw <= _DURATION_STEPS[-1]:
        step = float(next(s for s in _DURATION_STEPS if s >= raw))
    elif kind == "duration":
        step = _nice(raw / 86400, True) * 86400
    else:
        step = _nice(raw, kind == "integer")
    first = math.floor(low / step + 1e-9) * step
    last = math.ceil(high / step - 1e-9) * step
    ticks = [round(first + i * step, 10) for i in range(round((last - first) / step) + 1)]
    decimals = 0
    if step != math.floor(step):
        decimals = max(0, -math.floor(math.log10(step)))
        if round(step * 10**decimals, 6) != round(step * 10**decimals):
            decimals += 1
    return [float(tick) + 0.0 for tick in ticks], decimals


def tick_text(value: float, kind: str, decimals: int, language: str) -> str:
    """A tick's label in the unit of `kind`."""
    if kind == "duration":
        return format_duration(round(value))
    number = Decimal(str(round(value, decimals)))
    if kind == "percent":
        return format_percent(number, language, decimals=decimals)
    return format_number(number, language, decimals=decimals)


def label_layout(
    labels: Sequence[str], slot: float, size: float, measure: Measure = measure_text
) -> tuple[int, float]:
    """(step, angle): draw every `step`-th label turned `angle` degrees (0, 45 or 90) so that
    no two overlap, when each category has `slot` points of axis: the fewest labels left out,
    then the least turned.

    >>> label_layout(["0", "1", "23"], 27, 11)
    (1, 0.0)
    >>> label_layout(["03.10.2026"] * 60, 11, 11)
    (2, 45.0)
    """
    widest = max((measure(label, size, False) for label in labels), default=0.0)
    height = (ASCENT + DESCENT) * size
    gap = 0.3 * size
    best: tuple[int, float] | None = None
    for angle in (0.0, 45.0, 90.0):
        need = widest + gap if angle == 0 else (height + gap) / math.sin(math.radians(angle))
        step = max(1, math.ceil(need / max(slot, 1e-6) - 1e-9))
        if best is None or step < best[0]:
            best = (step, angle)
    assert best is not None
    return best


def _category_label(x: float, y: float, text: str, size: float, angle: float) -> Text:
    """A category's label hanging below the axis at x: level and centred, or turned with its
    end at the tick (its middle line through the tick)."""
    if angle == 0:
        return Text(x, y + ASCENT * size, text, size, "middle", role="category")
    turn = math.radians(angle)
    shift = (ASCENT - DESCENT) / 2 * size
    return Text(x + shift * math.sin(turn), y + shift * math.cos(turn), text, size, "end",
                angle, role="category")  # fmt: skip


def _legend(
    entries: Sequence[tuple[str, str]],
    x0: float,
    y0: float,
    width: float,
    size: float,
    measure: Measure,
    series: bool,
) -> tuple[list[Shape], float]:
    """Swatches and labels in columns of one width, filled row by row; and their height."""
    if not entries:
        return [], 0.0
    swatch = 0.9 * size
    widths = [swatch + 0.4 * size + measure(label, size, False) for label, _ in entries]
    column = min(width, max(widths) + 1.5 * size)
    columns = max(1, min(len(entries), int(width // column)))
    line = 1.6 * size
    shapes: list[Shape] = []
    room = column - swatch - 0.4 * size - 0.5 * size
    for index, (label, colour) in enumerate(entries):
        row, col = divmod(index, columns)
        x, y = x0 + col * column, y0 + row * line
        name = label if series else ""
        shapes.append(Rect(x, y + (line - swatch) / 2, swatch, swatch, colour, series=name))
        text = label if measure(label, size, False) <= room else fit_text(label, room, size)
        baseline = y + line / 2 + (ASCENT - DESCENT) / 2 * size
        shapes.append(Text(x + swatch + 0.4 * size, baseline, text, size, role="legend"))
    rows = math.ceil(len(entries) / columns)
    return shapes, rows * line


def _margins(
    labels: list[str], width: float, left: float, right: float, size: float, measure: Measure
) -> tuple[float, float]:
    """Left and right margins widened so that the first and last category labels (level and
    centred, or turned) stay inside the chart."""
    count = max(len(labels), 1)
    for _ in range(2):  # widening changes each category's room, hence the layout: twice
        slot = (width - left - right) / count
        step, angle = label_layout(labels, slot, size, measure)
        placed = [_category_label(left + slot * (i + 0.5), 0, labels[i], size, angle)
                  for i in range(0, len(labels), step)]  # fmt: skip
        xs = [x for text in placed for x, _ in text.corners(measure)]
        if xs and min(xs) < 0:
            left += 2 - min(xs)
        if xs and max(xs) > width - 2:
            right += max(xs) - width + 2
    return left, right


def _axes(kind: str, data: ChartData, style: Style, language: str, measure: Measure) -> Plan:
    """A bar or line chart: legend (several series), value axis, category labels, series."""
    size, width = style.font, style.width
    shapes: list[Shape] = []
    top = 2.0
    if len(data.series) > 1:
        entries = [(s.label, COLOURS[i % len(COLOURS)]) for i, s in enumerate(data.series)]
        legend, height = _legend(entries, 0, top, width, size, measure, series=True)
        shapes += legend
        top += height + 0.4 * size
    values = [v for s in data.series for v in s.values if v is not None]
    axis_kind = data.series[0].kind if data.series else "number"
    ticks, decimals = value_ticks(min([0.0, *values]), max([0.0, *values]), axis_kind)
    texts = [tick_text(tick, axis_kind, decimals, language) for tick in ticks]
    labels = [fit_text(c, style.max_label, size) for c in data.categories]
    widest = max((measure(text, size, False) for text in texts), default=0.0)
    left, right = _margins(labels, width, widest + 0.8 * size, 0.8 * size, size, measure)
    slot = (width - left - right) / max(len(labels), 1)
    plot_bottom = top + 0.5 * size + style.plot_height
    span = (ticks[-1] - ticks[0]) or 1.0

    def y_of(value: float) -> float:
        return plot_bottom - (value - ticks[0]) / span * style.plot_height

    for tick, text in zip(ticks, texts, strict=True):
        shapes.append(Line(left, y_of(tick), width - right, y_of(tick), GRID))
        baseline = y_of(tick) + (ASCENT - DESCENT) / 2 * size
        shapes.append(Text(left - 0.5 * size, baseline, text, size, "end", role="value"))
    step, angle = label_layout(labels, slot, size, measure)
    below = plot_bottom + 0.4 * size
    bottom = below
    for index in range(0, len(labels), step):
        label = _category_label(left + slot * (index + 0.5), below, labels[index], size, angle)
        shapes.append(label)
        bottom = max(bottom, *(y for _, y in label.corners(measure)))
    drawn = _bars if kind == "bar" else _lines
    shapes += drawn(data, [left + slot * (i + 0.5) for i in range(len(labels))], slot, y_of,
                    size, language)  # fmt: skip
    shapes.append(Line(left, y_of(0.0), width - right, y_of(0.0), AXIS))
    return Plan(width, math.ceil(bottom + 0.4 * size), tuple(shapes))


def _bars(
    data: ChartData,
    centres: list[float],
    slot: float,
    y_of: Callable[[float], float],
    size: float,
    language: str,
) -> list[Shape]:
    """A bar per category and series: the series of a category side by side, sharing 80% of
    its room, each at most four ems wide."""
    shapes: list[Shape] = []
    group = min(slot * 0.8, len(data.series) * 4 * size)
    bar = group / max(len(data.series), 1)
    for number, series in enumerate(data.series):
        colour = COLOURS[number % len(COLOURS)]
        for index, value in enumerate(series.values):
            if value is None:
                continue
            x = centres[index] - group / 2 + bar * number
            y0, y1 = sorted((y_of(value), y_of(0.0)))
            tip = _tip(data.categories[index], series, value, language)
            shapes.append(Rect(x, y0, max(bar, 0.5), max(y1 - y0, 0.5), colour, tip,
                               series.label))  # fmt: skip
    return shapes


def _lines(
    data: ChartData,
    centres: list[float],
    slot: float,
    y_of: Callable[[float], float],
    size: float,
    language: str,
) -> list[Shape]:
    """A line per series, broken where it has no value; its points marked when there are at
    most 40."""
    shapes: list[Shape] = []
    count = len(centres)
    for number, series in enumerate(data.series):
        colour = COLOURS[number % len(COLOURS)]
        run: list[tuple[float, float]] = []
        for index, value in enumerate([*series.values, None]):
            if value is not None:
                run.append((centres[index], y_of(value)))
            elif run:
                shapes.append(PolyLine(tuple(run), colour, 1.6 if count > 60 else 2.0,
                                       series.label))  # fmt: skip
                run = []
        if count > 40:
            continue
        for index, value in enumerate(series.values):
            if value is not None:
                tip = _tip(data.categories[index], series, value, language)
                shapes.append(Dot(centres[index], y_of(value), 0.25 * size, colour, tip,
                                  series.label))  # fmt: skip
    return shapes


def _tip(category: str, series: SeriesData, value: float, language: str) -> str:
    return f"{category} — {series.label}: {_value_text(value, series.kind, language)}"


def _value_text(value: float, kind: str, language: str) -> str:
    if kind == "duration":
        return format_duration(round(value))
    if kind == "integer":
        return format_number(round(value), language)
    if kind == "percent":
        return format_percent(Decimal(str(value)), language)
    return format_number(Decimal(str(round(value, 2))), language, decimals=2)


# -- pies ----------------------------------------------------------------------------------


def pie_slices(values: Sequence[float | None]) -> list[tuple[int | None, float]]:
    """(category index, value) of a pie's positive values, largest first; beyond
    `PIE_SLICES` the smallest are one slice (index None: "other").

    >>> pie_slices([1.0, None, 3.0, 0.0])
    [(2, 3.0), (0, 1.0)]
    """
    found = sorted(
        ((i, float(v)) for i, v in enumerate(values) if v is not None and v > 0),
        key=lambda item: -item[1],
    )
    if len(found) <= PIE_SLICES:
        return list(found)
    kept: list[tuple[int | None, float]] = list(found[: PIE_SLICES - 1])
    return [*kept, (None, sum(v for _, v in found[PIE_SLICES - 1 :]))]


def slice_colours(pies: Sequence[Sequence[tuple[int | None, float]]]) -> dict[int | None, str]:
    """One colour per category over all the pies of a chart (the same category has the same
    colour in each), in the order the categories first appear; "other" grey and last."""
    order: list[int | None] = []
    for slices in pies:
        order += [i for i, _ in slices if i is not None and i not in order]
    colours: dict[int | None, str] = {i: COLOURS[n % len(COLOURS)] for n, i in enumerate(order)}
    if any(i is None for slices in pies for i, _ in slices):
        colours[None] = OTHER_COLOUR
    return colours


def _slice_label_radius(
    text: str, share: float, r: float, size: float, measure: Measure
) -> float | None:
    """How far from the centre a slice's percentage fits inside it (None: it does not fit,
    or the slice is smaller than `PIE_LABEL_SHARE`)."""
    if share < PIE_LABEL_SHARE:
        return None
    width = measure(text, size, True) + 0.4 * size
    height = (ASCENT + DESCENT) * size
    half = math.pi * min(share, 0.5)  # half the slice's angle, in radians
    # Far enough out for the slice to be wider than the label there, and the label's outer
    # corners still inside the circle.
    at = max(0.6 * r, (width / 2) / math.sin(half) + height / 2)
    if math.hypot(at + height / 2, width / 2) > 0.95 * r:
        return None
    return at


def _pie(data: ChartData, style: Style, language: str, measure: Measure) -> Plan:
    size = style.font
    pies = [(s, pie_slices(s.values)) for s in data.series]
    pies = [(s, slices) for s, slices in pies if slices]
    if not pies:
        return Plan(style.width, 0, ())
    colour = slice_colours([slices for _, slices in pies])
    order = list(colour)
    other = t("ui.other", language)
    gap = 2 * size
    diameter = min(style.pie, (style.width - gap * (len(pies) - 1)) / len(pies))
    pies_width = len(pies) * diameter + (len(pies) - 1) * gap
    single = len(pies) == 1
    entries = []
    for index in order:
        name = other if index is None else data.categories[index]
        if single:
            total = sum(v for _, v in pies[0][1])
            value = next(v for i, v in pies[0][1] if i == index)
            name = f"{name} ({format_percent(Decimal(str(100 * value / total)), language)})"
        entries.append((name, colour[index]))
    beside = style.width - pies_width - gap
    title_height = 1.8 * style.title_font
    shapes: list[Shape] = []
    for number, (series, slices) in enumerate(pies):
        x0 = number * (diameter + gap)
        shapes.append(Text(x0 + diameter / 2, style.title_font, fit_text(series.label, diameter,
                           style.title_font, True), style.title_font, "middle", bold=True,
                           role="title"))  # fmt: skip
        cx, cy, r = x0 + diameter / 2, title_height + diameter / 2, diameter / 2
        total = sum(v for _, v in slices)
        angle = 0.0
        for index, value in slices:
            share = value / total
            end = angle + 360 * share
            name = other if index is None else data.categories[index]
            percent = format_percent(Decimal(str(100 * share)), language)
            shapes.append(Wedge(cx, cy, r, angle, end, colour[index], f"{name}: {percent}",
                                series.label))  # fmt: skip
            at = _slice_label_radius(percent, share, r, size, measure)
            if at is not None:
                middle = math.radians((angle + end) / 2)
                lx, ly = cx + at * math.sin(middle), cy - at * math.cos(middle)
                shapes.append(Text(lx, ly + (ASCENT - DESCENT) / 2 * size, percent, size,
                                   "middle", bold=True, fill="#ffffff", role="slice"))  # fmt: skip
            angle = end
    pies_height = title_height + diameter
    if beside >= 10 * size:
        legend, height = _legend(entries, pies_width + gap, title_height, beside, size, measure,
                                 series=False)  # fmt: skip
        total_height = max(pies_height, title_height + height)
    else:
        legend, height = _legend(entries, 0, pies_height + size, style.width, size, measure,
                                 series=False)  # fmt: skip
        total_height = pies_height + size + height
    return Plan(style.width, math.ceil(total_height + 2), tuple(shapes + legend))


# -- mirrored for right-to-left reports ----------------------------------------------------

_MIRRORED_ANCHOR: Final[dict[Anchor, Anchor]] = {"start": "end", "middle": "middle",
                                                 "end": "start"}  # fmt: skip


def _mirror(plan: Plan) -> Plan:
    """The plan mirrored left to right (texts still read in their own direction)."""
    w = plan.width

    def flip(shape: Shape) -> Shape:
        if isinstance(shape, Text):
            return replace(shape, x=w - shape.x, anchor=_MIRRORED_ANCHOR[shape.anchor],
                           angle=-shape.angle)  # fmt: skip
        if isinstance(shape, Rect):
            return replace(shape, x=w - shape.x - shape.w)
        if isinstance(shape, Line):
            return replace(shape, x1=w - shape.x1, x2=w - shape.x2)
        if isinstance(shape, PolyLine):
            return replace(shape, points=tuple((w - x, y) for x, y in shape.points))
        if isinstance(shape, Dot):
            return replace(shape, x=w - shape.x)
        return replace(shape, cx=w - shape.cx, start=360 - shape.end, end=360 - shape.start)

    return Plan(plan.width, plan.height, tuple(flip(shape) for shape in plan.shapes))


def plan_chart(
    kind: str,
    data: ChartData,
    style: Style,
    language: str,
    *,
    rtl: bool = False,
    measure: Measure = measure_text,
) -> Plan:
    """The shapes of a `kind` chart (bar, line or pie) of `data`, `style.width` wide, mirrored
    for a right-to-left report."""
    plan = (
        _pie(data, style, language, measure)
        if kind == "pie"
        else _axes(kind, data, style, language, measure)
    )
    return _mirror(plan) if rtl else plan


__all__ = [
    "PIE_SLICES",
    "SVG_STYLE",
    "Plan",
    "Style",
    "Text",
    "label_layout",
    "overlapping",
    "pdf_style",
    "pie_slices",
    "plan_chart",
    "slice_colours",
    "tick_text",
    "value_ticks",
]
