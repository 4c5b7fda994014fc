"""What a report says about itself: the period once in its header, descriptions that do not
contradict the filters, charts whose spec can be drawn."""

from __future__ import annotations

from pathlib import Path

import pypdf
import pytest

from callacct.i18n import LANGUAGES
from callacct.reports.library import public_reports
from callacct.reports.spec import validate_text
from tests.conftest import Cli

PERIOD = ("--from", "2026-11-18", "--to", "2026-11-20")


def test_the_period_is_printed_once_in_every_output(demo: Cli, tmp_path: Path) -> None:
    for fmt in ("pdf", "html"):
        out = tmp_path / f"trend.{fmt}"
        result = demo("report", "run", "daily-cost-trend", *PERIOD, "--lang", "en",
                      "--format", fmt, "--out", str(out))  # fmt: skip
        assert result.exit_code == 0, result.output
        if fmt == "pdf":
            text = pypdf.PdfReader(out).pages[0].extract_text()
            assert text.count("Period") == 1, text
        else:
            assert out.read_text(encoding="utf-8").count(">Period</th>") == 1
    table = demo("report", "run", "daily-cost-trend", *PERIOD, "--lang", "en")
    assert table.exit_code == 0, table.output
    assert table.output.count("Period:") == 1
    assert "Period: 2026-11-18 – 2026-11-20" in table.output
    document = demo(
        "report", "run", "daily-cost-trend", *PERIOD, "--format", "json", "--lang", "en"
    )
    assert "Period" not in document.output  # the period is the document's own "period"


@pytest.mark.parametrize("name", sorted(public_reports()))
def test_descriptions_do_not_state_the_default_period(name: str) -> None:
    """A run may replace a report's default period (`--period`, `--from`): a description
    that says "the last 30 days" would then be wrong; the header says the period."""
    spec = public_reports()[name]
    if spec.filters.period is None:
        return
    assert isinstance(spec.description, dict)
    for language in LANGUAGES:
        text = spec.description[language]  # type: ignore[index]
        assert not any(char.isdigit() for char in text), (language, text)


BASE = (
    "name: x\ncategory: c\ntitle: X\ndescription: ''\n"
    "group_by: [gateway, direction]\nmeasures:\n"
    "  - {name: calls, agg: count}\n  - {name: mos, agg: avg, field: mos}\n"
    "  - {name: cost, agg: sum, field: cost}\n"
)


@pytest.mark.parametrize(
    ("chart", "key", "message"),
    [
        ("{kind: pie, category: gateway, values: [calls, cost]}", "chart.values",
         "a pie draws one value; give one measure"),
        ("{kind: pie, category: gateway, values: [mos]}", "chart.values[0]",
         "a pie splits a whole into parts: 'mos' is an avg; use a count, sum or share, or a bar "
         "chart"),
        ("{kind: bar, category: gateway, values: [mos]}", "chart.values[0]",
         "'mos' is an average and the rows are also grouped by direction: averages of several "
         "rows cannot be combined into one per category; chart a count or sum, or group by the "
         "category alone"),
    ],
)  # fmt: skip
def test_charts_that_cannot_be_drawn_are_refused(chart: str, key: str, message: str) -> None:
    _, problems = validate_text(BASE + f"chart: {chart}\n", "x.yaml")
    assert [(p.line, p.key, p.message) for p in problems] == [(10, key, message)]


def test_charts_that_can_be_drawn_load() -> None:
    for chart in (
        "{kind: bar, category: gateway, values: [calls, cost]}",
        "{kind: pie, category: gateway, values: [cost]}",
    ):
        spec, problems = validate_text(BASE + f"chart: {chart}\n", "x.yaml")
        assert problems == []
        assert spec is not None
