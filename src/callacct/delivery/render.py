"""The e-mail layout: jinja2 templates giving a message's plain text and its HTML.

Every callacct e-mail extends one base (`base.html.j2`, `base.txt.j2`: header, content,
footer; `dir="rtl"` for Arabic) and may use its summary-table macro (`mail.summary_table`).
A feature passes its own templates as `loader` (a jinja2 `PackageLoader`); they find the base
and the macros beside theirs. HTML is autoescaped; an undefined variable is an error, never
an empty text. Texts come from the message catalogues through `t(key, **values)`.

Example:
    >>> text, html = render_mail("report", {"title": "Costs <Q4>", "period": "November 2026",
    ...     "filters": [], "summary_headers": ["Department", "Cost"],
    ...     "summary_rows": [["Sales", "12.00"]], "summary_total": None, "more_rows": 0,
    ...     "attachment": "costs.xlsx", "link": None, "body": None}, "en")
    >>> "Costs &lt;Q4&gt;" in html and "Costs <Q4>" in text
    True
    >>> 'dir="rtl"' in render_mail("report", {"title": "x", "period": "y", "filters": [],
    ...     "summary_headers": None, "summary_rows": [], "summary_total": None, "more_rows": 0,
    ...     "attachment": None, "link": None, "body": None}, "ar")[1]
    True
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from callacct.i18n import t

if TYPE_CHECKING:
    import jinja2

#: Languages written right to left.
RTL_LANGUAGES = frozenset({"ar"})


@lru_cache(maxsize=16)
def _environment(loader: jinja2.BaseLoader | None) -> jinja2.Environment:
    # jinja2 is loaded when a message is rendered, not when the command line starts.
    import jinja2

    own = jinja2.PackageLoader("callacct.delivery", "templates")
    env = jinja2.Environment(
        loader=own if loader is None else jinja2.ChoiceLoader([loader, own]),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "html.j2")),
        undefined=jinja2.StrictUndefined,
        trim_blocks=False,
        keep_trailing_newline=True,
    )
    env.globals.update(column_widths=_column_widths, pad_row=_pad_row, rule=_rule)
    return env


def render_mail(
    template_name: str,
    context: Mapping[str, Any],
    language: str,
    *,
    loader: jinja2.BaseLoader | None = None,
) -> tuple[str, str]:
    """(text, html) of `template_name` (`NAME.txt.j2` and `NAME.html.j2`) with `context`, in
    `language`; the templates also see `language`, `rtl`, `direction` and `t`."""
    env = _environment(loader)
    values = {
        **context,
        "language": language,
        "rtl": language in RTL_LANGUAGES,
        "direction": "rtl" if language in RTL_LANGUAGES else "ltr",
        "t": lambda key, **fill: t(key, language, **fill),
    }
    text = env.get_template(f"{template_name}.txt.j2").render(values)
    html = env.get_template(f"{template_name}.html.j2").render(values)
    return _tidy(text), html


def _tidy(text: str) -> str:
    """The text part without runs of blank lines the template's blocks leave."""
    lines = [line.rstrip() if line != "-- " else line for line in text.splitlines()]
    out: list[str] = []
    for line in lines:
        if not line and (not out or not out[-1]):
            continue
        out.append(line)
    return "\n".join(out).strip("\n") + "\n"


def _width(text: str) -> int:
    """Columns a text takes in a fixed-width font (wide East Asian characters take two)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _column_widths(lines: Sequence[Sequence[Any]]) -> list[int]:
    widths: list[int] = []
    for line in lines:
        for index, cell in enumerate(line):
            size = _width(str(cell))
            if index == len(widths):
                widths.append(size)
            else:
                widths[index] = max(widths[index], size)
    return widths


def _pad_row(line: Sequence[Any], widths: Sequence[int]) -> str:
    cells = [str(c) + " " * (w - _width(str(c))) for c, w in zip(line, widths, strict=False)]
    return "  ".join(cells).rstrip()


def _rule(widths: Sequence[int]) -> str:
    return "  ".join("-" * w for w in widths)
