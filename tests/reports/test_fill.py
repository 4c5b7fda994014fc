"""Time series show every hour, weekday and day of the period, empty ones as zero, in every
output (the rows themselves are filled); `fill` is checked like every other key."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
import pytest

from callacct.config import open_workspace
from callacct.directory.scope import Scope
from callacct.reports.compile import PlannedColumn
from callacct.reports.fields import field
from callacct.reports.fill import fill_rows, sort_rows
from callacct.reports.library import public_reports
from callacct.reports.run import run_report
from callacct.reports.spec import Measure, load_text, validate_text
from callacct.store import open_store
from tests.conftest import Cli
from tests.reports.conftest import DEMO_END, DEMO_NOW

PARIS = ZoneInfo("Europe/Paris")
# Two quiet days before the demo's three, and the demo's days.
WIDE = ("--from", "2026-11-16", "--to", DEMO_END.isoformat())


def _json(demo: Cli, name: str, *options: str) -> dict[str, object]:
    result = demo("report", "run", name, *options, "--format", "json")
    assert result.exit_code == 0, result.output
    document: dict[str, object] = json.loads(result.output)
    return document


def test_busy_hour_lists_all_24_hours(demo: Cli) -> None:
    rows = _json(demo, "busy-hour", *WIDE)["rows"]
    assert isinstance(rows, list)
    assert [row["hour"] for row in rows] == list(range(24))
    empty = [row for row in rows if row["calls"] == 0]
    assert empty  # the demo has quiet night hours
    assert all(row["answered"] == 0 and row["duration"] == 0 for row in empty)
    assert all(float(row["share_calls"]) == 0 for row in empty)


def test_traffic_by_weekday_lists_every_weekday_and_hour(demo: Cli) -> None:
    rows = _json(demo, "traffic-by-weekday", *WIDE)["rows"]
    assert isinstance(rows, list)
    assert [(row["weekday"], row["hour"]) for row in rows] == [
        (day, hour) for day in range(1, 8) for hour in range(24)
    ]


def test_daily_cost_trend_lists_every_day_per_currency_in_csv_too(demo: Cli) -> None:
    result = demo("report", "run", "daily-cost-trend", *WIDE, "--format", "csv", "--lang", "en")
    assert result.exit_code == 0, result.output
    table = list(csv.reader(io.StringIO(result.output)))
    header, body = table[0], table[1:-1]  # the last row holds the totals
    assert header[:2] == ["Day", "Currency"]
    days = [(dt.date(2026, 11, 16) + dt.timedelta(days=n)).isoformat() for n in range(5)]
    assert [(row[0], row[1]) for row in body] == [(d, c) for d in days for c in ("EUR", "USD")]
    quiet = [row for row in body if row[0] in days[:2]]
    assert all(row[2:] == ["0", "0.00"] for row in quiet), quiet


def test_fill_applies_before_the_limit_and_keeps_the_sort(demo_root: Path) -> None:
    workspace = open_workspace(demo_root)
    store = open_store(workspace.store_path, read_only=True)
    try:
        spec = public_reports()["busy-hour"].model_copy(update={"sort": ["-calls"]})
        result = run_report(
            store.con, spec, scope=Scope(role="admin"), tz=PARIS, language="en",
            overrides={"from": "2026-11-16", "to": DEMO_END.isoformat()}, now=DEMO_NOW,
            limit=30,
        )  # fmt: skip
    finally:
        store.close()
    calls = result.rows["calls"].to_list()
    assert len(calls) == 24
    assert calls == sorted(calls, reverse=True)
    hours_at_zero = result.rows.filter(pl.col("calls") == 0)["hour"].to_list()
    assert hours_at_zero == sorted(hours_at_zero)  # ties in hour order, as the query sorts


def _columns() -> list[PlannedColumn]:
    return [
        PlannedColumn("week", "text", field("week")),
        PlannedColumn("calls", "integer", None, Measure(name="calls", agg="count")),
        PlannedColumn("worst", "number", None, Measure(name="worst", agg="min", field="mos")),
    ]


def test_weeks_and_months_of_the_period() -> None:
    rows = pl.DataFrame({"week": ["2026-W10"], "calls": [5], "worst": [3.1]})
    start = dt.datetime(2026, 2, 25, tzinfo=PARIS)
    end = dt.datetime(2026, 3, 20, tzinfo=PARIS)
    filled = fill_rows(rows, ["week"], _columns(), (start, end), [])
    assert filled["week"].to_list() == ["2026-W09", "2026-W10", "2026-W11", "2026-W12"]
    assert filled["calls"].to_list() == [0, 5, 0, 0]
    assert filled["worst"].to_list() == [None, 3.1, None, None]  # no calls: no minimum
    months = pl.DataFrame({"month": ["2026-01", "2026-04"], "calls": [1, 2]})
    calls = PlannedColumn("calls", "integer", None, Measure(name="calls", agg="count"))
    columns = [PlannedColumn("month", "text", field("month")), calls]
    open_period = fill_rows(months, ["month"], columns, (None, None), [])
    assert open_period["month"].to_list() == ["2026-01", "2026-02", "2026-03", "2026-04"]


def test_no_calls_at_all_still_lists_the_period() -> None:
    calls = PlannedColumn("calls", "integer", None, Measure(name="calls", agg="count"))
    columns = [
        PlannedColumn("day", "date", field("day")),
        PlannedColumn("currency", "text", field("currency")),
        calls,
    ]
    empty = pl.DataFrame(schema={"day": pl.Date, "currency": pl.String, "calls": pl.Int64})
    start = dt.datetime(2026, 3, 1, tzinfo=PARIS)
    filled = fill_rows(empty, ["day"], columns, (start, start + dt.timedelta(days=3)), [])
    assert filled.rows() == [(dt.date(2026, 3, d), None, 0) for d in (1, 2, 3)]


def test_sort_rows_sorts_as_the_query() -> None:
    rows = pl.DataFrame({"hour": [3, 1, 2], "calls": [5, None, 5]})
    assert sort_rows(rows, ["-calls"], ["hour"])["hour"].to_list() == [2, 3, 1]


FILLABLE_TEXT = "hour, weekday, day, week, month"
SPEC = (
    "name: x\ncategory: c\ntitle: X\ndescription: ''\n"
    "group_by: [department, hour]\nmeasures:\n  - {name: calls, agg: count}\n"
)


@pytest.mark.parametrize(
    ("fill", "message"),
    [
        (
            "[department]",
            "'department' cannot be filled: fill takes hour, weekday, day, week, month",
        ),
        ("[day]", "'day' is not in group_by: only a grouping can be filled"),
        ("[hour, hour]", "'hour' is given twice"),
    ],
)
def test_fill_is_checked(fill: str, message: str) -> None:
    _, problems = validate_text(SPEC + f"fill: {fill}\n", "x.yaml")
    assert [(p.line, p.key, p.message) for p in problems][-1][2] == message
    assert problems[-1].key.startswith("fill[")


def test_fill_of_a_valid_spec_loads_and_is_saved() -> None:
    spec = load_text(SPEC + "fill: [hour]\n", "x.yaml")
    assert spec.fill == ["hour"]
    assert load_text(spec.to_yaml(), "again.yaml").fill == ["hour"]


def test_public_time_series_are_filled() -> None:
    library = public_reports()
    assert library["busy-hour"].fill == ["hour"]
    assert library["traffic-by-weekday"].fill == ["weekday", "hour"]
    assert library["daily-cost-trend"].fill == ["day"]
