"""Run a report: merge filters, compile, query within the scope, and build the `ReportResult`
(translated title, description and labels; typed columns; filter summary; totals; chart).

Example:
    >>> import duckdb, datetime as dt
    >>> from zoneinfo import ZoneInfo
    >>> from callacct.query.scope import Scope
    >>> from callacct.store.schema import MIGRATIONS
    >>> con = duckdb.connect()
    >>> for sql in MIGRATIONS: _ = con.execute(sql)
    >>> spec = public_reports()["cost-by-department"]
    >>> result = run_report(con, spec, scope=Scope(role="admin"), tz=ZoneInfo("UTC"),
    ...                     language="en", now=dt.datetime(2026, 3, 1, tzinfo=dt.UTC))
    >>> result.rows.height, result.columns[0].label
    (0, 'Department')
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace
from typing import Any, Final
from zoneinfo import ZoneInfo

import duckdb
import polars as pl

from callacct.errors import UsageError
from callacct.i18n import t
from callacct.query.reports import call_time_range, fetch_report
from callacct.query.scope import Scope
from callacct.reports.charts import Combine, chart_series
from callacct.reports.clock import LocalClock, local_clock
from callacct.reports.compile import PlannedColumn, compile_report
from callacct.reports.expression import number_probe
from callacct.reports.fields import LOCAL_FIELDS, field, find_field
from callacct.reports.fill import fill_rows
from callacct.reports.filters import Filters, resolve_period
from callacct.reports.library import public_reports
from callacct.reports.result import Chart, Column, ReportResult
from callacct.reports.spec import ChartSpec, ReportSpec, text_in
from callacct.service_numbers import ServiceNumbers


def run_report(
    con: duckdb.DuckDBPyConnection,
    spec: ReportSpec,
    *,
    scope: Scope,
    tz: ZoneInfo,
    language: str,
    overrides: dict[str, Any] | None = None,
    now: dt.datetime | None = None,
    limit: int | None = None,
    services: ServiceNumbers | None = None,
) -> ReportResult:
    """The result of `spec` with its default filters replaced by `overrides`, as `scope` sees
    it, times in `tz`, texts in `language`; relative periods count from `now`. `services`: the
    workspace's service numbers (`ServiceNumbers.of(settings.dialplan)`), which the outputs
    for people name (conference bridges are recognised without it)."""
    moment = now or dt.datetime.now(dt.UTC)
    filters = spec.filters.merged(overrides or {})
    if scope.mask_digits > 0:
        _refuse_number_probes(spec, filters)
    clock = _clock(con, spec, filters, tz, moment) if uses_local_time(spec, filters) else None
    query = compile_report(spec, filters, tz, moment, limit=limit, clock=clock)
    row_limit = query.limit
    if spec.fill:
        query = replace(query, limit=None)  # the limit applies to the filled rows
    frame, raw_totals = fetch_report(con, query, scope)
    visible = [c for c in query.columns if not c.hidden]
    frame = _localise(frame, visible, tz)
    if spec.fill:
        frame = fill_rows(frame, spec.fill, visible, query.period, spec.sort)
        frame = frame.head(row_limit) if row_limit is not None else frame
    currencies = (
        frame["currency"].drop_nulls().unique().to_list() if "currency" in frame.columns else []
    )
    single = currencies[0] if len(currencies) == 1 else None
    columns = [_column(c, language, single, "currency" in frame.columns) for c in visible]
    frame = frame.select([c.key for c in visible])
    totals = _totals(raw_totals, visible, tz) if raw_totals is not None else None
    chart = None if spec.chart is None else _chart(spec, spec.chart, frame, columns, language)
    return ReportResult(
        name=spec.name,
        title=text_in(spec.title, language),
        description=text_in(spec.description, language),
        language=language,
        timezone=tz.key,
        period=query.period,
        filters=filter_summary(filters, language),
        columns=columns,
        rows=frame,
        totals=totals,
        chart=chart,
        generated_at=moment,
        services=services or ServiceNumbers(),
    )


#: How rows of a chart's category combine, by measure.
_COMBINE: Final[dict[str, Combine]] = {
    "count": "sum", "sum": "sum", "share": "sum", "min": "min", "max": "max", "avg": "avg"
}  # fmt: skip


def _chart(
    spec: ReportSpec, chart: ChartSpec, frame: pl.DataFrame, columns: list[Column], language: str
) -> Chart | None:
    """The chart's data: a category drawn once (rows of it combined as their measure allows),
    money, shares of money and averages one series per currency."""
    title = text_in(chart.title or spec.title, language)
    found = find_field(chart.category)
    category = found.name if found is not None else chart.category
    base = Chart(chart.kind, category, tuple(chart.values), title)
    combine: dict[str, Combine] = {}
    per_currency = []
    for measure in spec.measures:
        combine[measure.name] = _COMBINE[measure.agg]
        target = field(measure.field) if measure.field else None
        money = target is not None and target.kind == "money"
        if money or measure.agg == "avg":
            per_currency.append(measure.name)
    return chart_series(base, frame, columns, combine=combine, per_currency=per_currency)


def _refuse_number_probes(spec: ReportSpec, filters: Filters) -> None:
    """A reader whose numbers are masked may not compare them by range or pattern (checked
    when a personal report is saved too; here for a run's own --where, and for a report saved
    while the reader's numbers were not masked)."""
    for text in (spec.where, filters.where, *(m.where for m in spec.measures)):
        problem = None if text is None else number_probe(text)
        if problem is not None:
            raise UsageError(problem)


def uses_local_time(spec: ReportSpec, filters: Filters) -> bool:
    """Whether the report reads local times (hour, day, ...), not only compares instants."""
    names = [*spec.group_by, *spec.columns, *(m.field or "" for m in spec.measures)]
    if any((f := find_field(name)) is not None and f.local for name in names):
        return True
    texts = [spec.where, filters.where, *(m.where for m in spec.measures)]
    words = {w.lower() for text in texts if text for w in re.findall(r"[A-Za-z_]+", text)}
    return bool(words & LOCAL_FIELDS)


def _clock(
    con: duckdb.DuckDBPyConnection,
    spec: ReportSpec,
    filters: Filters,
    tz: ZoneInfo,
    now: dt.datetime,
) -> LocalClock:
    """The local-time SQL for the period the report reads (the stored calls' span when the
    period is open)."""
    start, end = resolve_period(filters, tz, now)
    first = start.astimezone(dt.UTC).replace(tzinfo=None) if start else None
    last = end.astimezone(dt.UTC).replace(tzinfo=None) if end else None
    if first is None or last is None:
        low, high = call_time_range(con)
        first = first or low
        last = last or (high + dt.timedelta(seconds=1) if high else None)
    return local_clock(tz, first, last)


def _localise(frame: pl.DataFrame, columns: list[PlannedColumn], tz: ZoneInfo) -> pl.DataFrame:
    times = [c.key for c in columns if c.kind == "datetime" and c.key in frame.columns]
    return frame.with_columns(
        pl.col(c).dt.replace_time_zone("UTC").dt.convert_time_zone(tz.key) for c in times
    )


def _column(planned: PlannedColumn, language: str, currency: str | None, keyed: bool) -> Column:
    if planned.measure is not None:
        measure = planned.measure
        if measure.label is not None:
            label = text_in(measure.label, language)
        elif measure.field is None:
            label = t(f"measure.{measure.agg}", language)
        else:
            name = t(field(measure.field).label_key, language)
            label = t(f"measure.{measure.agg}", language, field=name)
    else:
        assert planned.field is not None
        label = t(planned.field.label_key, language)
    money = planned.kind == "money"
    return Column(
        key=planned.key,
        label=label,
        kind=planned.kind,
        currency=currency if money else None,
        currency_key="currency" if money and keyed else None,
    )


def _totals(raw: dict[str, Any], columns: list[PlannedColumn], tz: ZoneInfo) -> dict[str, Any]:
    several = int(raw.get("__currencies") or 0) > 1
    out: dict[str, Any] = {}
    for column in columns:
        if column.key not in raw or column.key == "currency":
            continue
        value = raw[column.key]
        measure = column.measure
        money_share = (
            column.kind == "percent"
            and measure is not None
            and measure.field is not None
            and field(measure.field).kind == "money"
        )
        if several and column.kind == "money":
            # One amount per currency: amounts in different currencies do not add up.
            by_currency = raw.get("__by_currency") or {}
            value = {
                currency: sums[column.key]
                for currency, sums in by_currency.items()
                if sums.get(column.key) is not None
            } or None
        elif several and money_share:
            value = None  # a share of a sum across currencies means nothing
        if isinstance(value, dt.datetime) and value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC).astimezone(tz)
        out[column.key] = value
    return out


def filter_summary(filters: Filters, language: str) -> list[tuple[str, str]]:
    """Translated (label, value) pairs describing the filters of a run other than its period,
    which the result gives typed (`ReportResult.period`) and headers show once."""
    out: list[tuple[str, str]] = []
    given = filters.given()
    for key in ("period", "from", "to"):
        given.pop(key, None)
    translated = {
        "directions": "value.direction",
        "classes": "value.dest_class",
        "type": "value.type",
    }
    for key, value in given.items():
        if key in translated:
            values = value if isinstance(value, list) else [value]
            text = ", ".join(t(f"{translated[key]}.{v}", language) for v in values)
        elif isinstance(value, list):
            text = ", ".join(str(v) for v in value)
        elif isinstance(value, bool):
            text = t("filter.yes" if value else "filter.no", language)
        else:
            text = str(value)
        out.append((t(f"filter.{key}", language), text))
    return out


__all__ = ["filter_summary", "public_reports", "run_report"]
