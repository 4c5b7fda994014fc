"""Another grouping (`--group-by`) and a saved time zone (`report save --tz`): validated in one
line, combined with measures, sort, totals, fill, charts and masking, the same through the API."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import openpyxl
import polars as pl
import pytest

from callacct import Workspace
from callacct.errors import UsageError
from callacct.i18n import LANGUAGES, t
from callacct.query.masking import mask_number
from callacct.reports.library import public_reports
from callacct.reports.regroup import check_group_by, groupable_fields, regroup
from callacct.reports.spec import validate_text
from tests.conftest import Cli
from tests.reports.test_masked_reports import DIGITS, _busy_user, _mask_users, _secrets

DEMO_DAYS = ("--from", "2026-11-01", "--to", "2026-11-30")


def _one_line_error(result: Any) -> str:
    assert result.exit_code == 2, result.output
    assert "internal error" not in result.output
    assert result.stderr.count("\n") == 1, result.stderr
    return str(result.stderr)


# -- the library -------------------------------------------------------------------------------


def test_the_grouping_replaces_the_reports_own_and_the_rest_follows() -> None:
    base = public_reports()["cost-by-class"]
    done = regroup(base, ["department", "site"], "en")
    spec = done.spec
    assert spec.group_by == ["department", "site"]
    assert [m.name for m in spec.measures] == [m.name for m in base.measures]
    assert spec.sort == ["-cost"]
    assert spec.totals
    assert spec.filters == base.filters
    assert spec.chart is not None
    assert (spec.chart.kind, spec.chart.category, spec.chart.values) == (
        "pie",
        "department",
        ["cost"],
    )
    assert done.notes == []
    assert isinstance(spec.title, dict)
    for language in LANGUAGES:
        fields = f"{t('field.department', language)}, {t('field.site', language)}"
        assert spec.title[language] == t(
            "report.grouped_title", language, title=base.title[language], fields=fields
        )  # type: ignore[index]


def test_the_same_grouping_is_the_report_unchanged() -> None:
    base = public_reports()["cost-by-class"]
    assert regroup(base, ["class"], "en").spec is base


def test_sort_and_fill_of_a_grouping_left_out_are_dropped() -> None:
    trend = public_reports()["daily-cost-trend"]
    done = regroup(trend, ["department"], "en")
    assert done.spec.sort == []
    assert done.spec.fill == []
    assert done.spec.chart is not None
    # A line joins points of a time; departments are drawn as bars.
    assert (done.spec.chart.kind, done.spec.chart.category) == ("bar", "department")


def test_a_time_series_shows_every_value_of_the_period() -> None:
    trend = public_reports()["daily-cost-trend"]
    assert regroup(trend, ["hour"], "en").spec.fill == ["hour"]
    assert regroup(trend, ["hour", "currency"], "en").spec.fill == ["hour"]
    assert regroup(trend, ["hour", "department"], "en").spec.fill == []
    weekdays = public_reports()["traffic-by-weekday"]
    assert regroup(weekdays, ["weekday", "site"], "en").spec.fill == ["weekday"]
    line = regroup(public_reports()["cost-by-class"], ["week"], "en").spec.chart
    assert line is not None
    assert line.category == "week"


def test_a_chart_that_cannot_be_drawn_is_dropped_with_a_note() -> None:
    quality = public_reports()["quality-by-site"]
    done = regroup(quality, ["site", "day"], "fr")
    assert done.spec.chart is None
    assert done.notes == [t("report.chart_dropped_average", "fr", fields=t("field.day", "fr"))]
    only_currency = regroup(public_reports()["cost-by-site"], ["currency"], "de")
    assert only_currency.spec.chart is None
    assert only_currency.notes == [t("report.chart_dropped_no_category", "de")]


@pytest.mark.parametrize(
    ("report", "fields", "message"),
    [
        ("cost-by-class", ["nope"], "'nope' is not a field 'cost-by-class' can be grouped by"),
        ("cost-by-class", ["call_id"], "'call_id' is not a field"),
        ("cost-by-class", ["cost"], "'cost' is not a field"),  # a measure of the report
        ("cost-by-class", ["site", "Site"], "'site' is given twice"),
        ("cost-by-class", [], "name at least one field"),
        ("calls-detail", ["site"], "'calls-detail' lists one row per call"),
    ],
)
def test_bad_groupings_are_refused_naming_what_is_allowed(
    report: str, fields: list[str], message: str
) -> None:
    with pytest.raises(UsageError, match=message) as caught:
        check_group_by(public_reports()[report], fields)
    text = str(caught.value)
    assert text.startswith("--group-by: ")
    assert "\n" not in text
    if "is not a field" in message:
        assert text.endswith(", ".join(groupable_fields(public_reports()[report])))
        assert "department" in text
        assert "cost," not in text


def test_a_spec_keeps_its_time_zone_and_a_bad_one_is_a_problem_with_its_line() -> None:
    text = (
        "name: x\ncategory: c\ntitle: X\ndescription: ''\ngroup_by: [hour]\n"
        "measures: [{name: calls, agg: count}]\ntimezone: {zone}\n"
    )
    spec, problems = validate_text(text.replace("{zone}", "Asia/Tokyo"), "x.yaml")
    assert problems == []
    assert spec is not None
    assert spec.timezone == "Asia/Tokyo"
    _, problems = validate_text(text.replace("{zone}", "Mars/Olympus"), "x.yaml")
    assert [(p.line, p.key) for p in problems] == [(7, "timezone")]
    assert "'Mars/Olympus' is not a time zone" in problems[0].message


# -- the command line --------------------------------------------------------------------------


def test_run_grouped_otherwise_adds_up_to_the_same_totals(demo: Cli, tmp_path: Path) -> None:
    base = demo.json("report", "run", "cost-by-class", *DEMO_DAYS)
    grouped = demo.json("report", "run", "cost-by-class", *DEMO_DAYS, "--group-by", "department")
    assert [c["key"] for c in grouped["columns"]][:2] == ["department", "currency"]
    assert grouped["totals"] == base["totals"]
    assert sum(row["calls"] for row in grouped["rows"]) == base["totals"]["calls"]
    # Sorted by the report's own sort key (cost, descending) within each currency's amounts.
    for currency in {row["currency"] for row in grouped["rows"]}:
        costs = [float(r["cost"]) for r in grouped["rows"] if r["currency"] == currency]
        assert costs == sorted(costs, reverse=True)
    chart = grouped["report"]["chart"]
    assert chart["category"] == "department"
    assert chart["kind"] == "pie"
    assert "— regroupé par Service" in grouped["report"]["title"]  # the demo speaks French
    # Every format draws it (one series per currency is the renderers' own rule, tested there).
    out = tmp_path / "g.xlsx"
    args = ("report", "run", "cost-by-class", *DEMO_DAYS, "--group-by", "department")
    result = demo(*args, "--format", "xlsx", "--out", str(out))
    assert result.exit_code == 0, result.output
    sheet = openpyxl.load_workbook(out).worksheets[0]
    cells = {str(c.value) for row in sheet.iter_rows() for c in row}
    assert {r["department"] for r in grouped["rows"]} <= cells
    for fmt in ("pdf", "html"):
        target = tmp_path / f"g.{fmt}"
        result = demo(*args, "--format", fmt, "--out", str(target))
        assert result.exit_code == 0, result.output
        assert target.stat().st_size > 0


def test_run_by_two_fields_comma_separated_or_repeated(demo: Cli) -> None:
    one = demo.json("report", "run", "cost-by-site", *DEMO_DAYS, "--group-by", "site,direction")
    two = demo.json(
        "report", "run", "cost-by-site", *DEMO_DAYS, "--group-by", "site", "--group-by", "direction"
    )
    assert one["rows"] == two["rows"]
    assert [c["key"] for c in one["columns"]][:3] == ["site", "direction", "currency"]


def test_a_grouping_by_hour_has_every_hour(demo: Cli) -> None:
    data = demo.json("report", "run", "daily-cost-trend", *DEMO_DAYS, "--group-by", "hour")
    currencies = {row["currency"] for row in data["rows"]}
    assert currencies
    for currency in currencies:
        hours = [row["hour"] for row in data["rows"] if row["currency"] == currency]
        assert hours == list(range(24))


def test_a_dropped_chart_is_said_on_stderr(demo: Cli) -> None:
    result = demo("report", "run", "quality-by-site", "--group-by", "site,day", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["report"]["chart"] is None
    language = "fr"  # the demo workspace's language
    assert result.stderr == (
        t("cli.warning", language)
        + " "
        + t("report.chart_dropped_average", language, fields=t("field.day", language))
        + "\n"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("cost-by-class", "--group-by", "nope"), "--group-by: 'nope' is not a field"),
        (("cost-by-class", "--group-by", "call_id"), "use one of day, week, month, hour"),
        (("calls-detail", "--group-by", "site"), "lists one row per call"),
        (("cost-by-class", "--group-by", ","), "name at least one field"),
    ],
)
def test_bad_groupings_are_one_line_usage_errors(
    demo: Cli, args: tuple[str, ...], message: str
) -> None:
    assert message in _one_line_error(demo("report", "run", *args))


def test_save_keeps_grouping_and_time_zone(demo_copy: Cli) -> None:
    result = demo_copy(
        "report", "save", "dept-ny", "--from-report", "cost-by-class", "--group-by", "department",
        "--tz", "America/New_York", "--title", "By department (New York)",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    exported = demo_copy("report", "export", "dept-ny").stdout
    assert "timezone: America/New_York" in exported
    assert "- department" in exported
    saved = demo_copy.json("report", "run", "dept-ny", *DEMO_DAYS)
    assert saved["report"]["timezone"] == "America/New_York"
    assert saved["report"]["title"] == "By department (New York)"
    assert next(c["key"] for c in saved["columns"]) == "department"
    direct = demo_copy.json(
        "report", "run", "cost-by-class", *DEMO_DAYS, "--group-by", "department",
        "--tz", "America/New_York",
    )  # fmt: skip
    assert saved["rows"] == direct["rows"]
    # --tz of a run wins over the saved zone; the days of --from/--to are in that zone.
    tokyo = demo_copy.json("report", "run", "dept-ny", *DEMO_DAYS, "--tz", "Asia/Tokyo")
    assert tokyo["report"]["timezone"] == "Asia/Tokyo"
    assert tokyo["report"]["period"]["from"].endswith("+09:00")
    assert saved["report"]["period"]["from"].endswith("-04:00")
    # A report saved from it keeps its zone unless given another.
    again = demo_copy("report", "save", "dept-ny-2", "--from-report", "dept-ny", "--site", "PAR")
    assert again.exit_code == 0, again.output
    assert "timezone: America/New_York" in demo_copy("report", "export", "dept-ny-2").stdout


def test_save_refuses_a_bad_zone_or_grouping_and_stores_nothing(demo_copy: Cli) -> None:
    bad_zone = demo_copy(
        "--lang", "en", "report", "save", "x", "--from-report", "busy-hour", "--tz", "Mars/X"
    )
    assert _one_line_error(bad_zone) == (
        "error: --tz: 'Mars/X' is not a time zone such as 'Europe/Paris'\n"
    )
    bad_group = demo_copy("report", "save", "x", "--from-report", "busy-hour", "--group-by", "x")
    assert "--group-by: 'x' is not a field 'busy-hour' can be grouped by" in _one_line_error(
        bad_group
    )
    names = [r["name"] for r in demo_copy.json("report", "list")]
    assert "x" not in names


def test_grouping_by_a_number_shows_what_a_masked_reader_may_see(demo_copy: Cli) -> None:
    login, calls = _busy_user(demo_copy)
    _mask_users(demo_copy)
    data = demo_copy.json(
        "--as", login, "report", "run", "cost-by-department", *DEMO_DAYS,
        "--type", "all", "--direction", "incoming,outgoing,internal", "--group-by", "remote_number",
    )  # fmt: skip
    text = json.dumps(data)
    assert not [secret for secret in _secrets(calls) if secret in text]
    expected: dict[str | None, int] = {}
    for call in calls:
        number = call["remote_number"]
        internal = number in (call["extension"], call["peer_extension"])
        shown = number if internal else mask_number(number, DIGITS)
        expected[shown] = expected.get(shown, 0) + 1
    got: dict[str | None, int] = {}
    for row in data["rows"]:  # money is per currency: one row per number and currency
        got[row["remote_number"]] = got.get(row["remote_number"], 0) + row["calls"]
    assert got == expected
    assert any(key and key.endswith("*" * DIGITS) for key in got)
    # Saving it keeps the grouping; its runs are masked the same way.
    result = demo_copy(
        "--as", login, "report", "save", "mine", "--from-report", "cost-by-department",
        "--group-by", "remote_number",
    )  # fmt: skip
    assert result.exit_code == 0, result.output


def test_the_chart_of_another_grouping_draws_each_category_once_per_currency(
    demo_root: Path,
) -> None:
    workspace = Workspace.open(demo_root)
    november = {"start": "2026-11-01", "end": "2026-11-30"}
    result = workspace.run_report("cost-by-class", november, group_by=["department"], record=False)
    chart = result.chart
    assert chart is not None
    assert (chart.kind, chart.category) == ("pie", "department")
    assert chart.categories is not None
    assert sorted(chart.categories) == sorted(set(result.rows["department"].to_list()))
    currencies = sorted(set(result.rows["currency"].to_list()))
    assert [s.currency for s in chart.series] == currencies
    for series in chart.series:  # each slice is that currency's amount, never a sum of two
        for category, value in zip(chart.categories, series.values, strict=True):
            rows = result.rows.filter(
                (pl.col("department") == category) & (pl.col("currency") == series.currency)
            )
            assert value == (rows["cost"].item() if rows.height else None)
    trend = workspace.run_report("daily-cost-trend", november, group_by=["site"], record=False)
    assert trend.chart is not None
    assert (trend.chart.kind, trend.chart.category) == ("bar", "site")
