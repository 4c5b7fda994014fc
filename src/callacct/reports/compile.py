"""Compile a report spec and its filters to parameterised DuckDB SQL over `calls`.

The result is a `CompiledReport`: its `ReportQuery` (a select list, conditions and a tail,
each with its bound parameters) and the columns it shows. It has no scope: the query layer
(`callacct.query.reports`) ANDs the reader's scope to the conditions, in one place. SQL text is
built only from the field registry, the spec's validated identifiers and constant fragments;
every value is a parameter.

Money is never summed across currencies: a report with a money measure is also grouped by
`currency`, and a total of money is given only when the rows have one currency.

Example:
    >>> import datetime as dt
    >>> from zoneinfo import ZoneInfo
    >>> from callacct.reports.spec import ReportSpec
    >>> spec = ReportSpec(name="x", category="c", title="X", description="",
    ...     group_by=["department"], measures=[{"name": "calls", "agg": "count"}])
    >>> q = compile_report(spec, Filters(), ZoneInfo("UTC"), dt.datetime.now(dt.UTC))
    >>> q.select
    'department AS "department", count(*) AS "calls"'
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from callacct.query.reports import ReportQuery
from callacct.reports.clock import LocalClock, icu_clock
from callacct.reports.expression import field_sql, where_sql
from callacct.reports.fields import Field, find_field
from callacct.reports.filters import Filters, filter_sql
from callacct.reports.result import ColumnKind
from callacct.reports.spec import DATASETS, Measure, ReportSpec, measure_kind


@dataclass(frozen=True)
class PlannedColumn:
    """An output column: key, kind, and what it shows (a field, or a measure)."""

    key: str
    kind: ColumnKind
    field: Field | None = None
    measure: Measure | None = None
    hidden: bool = False  # fetched for sorting, not shown


@dataclass
class CompiledReport(ReportQuery):
    """A compiled report: its SQL without the scope (`ReportQuery`, which the query layer
    runs within a scope), its output columns, the period and filters it covers."""

    columns: list[PlannedColumn] = field(default_factory=list)
    period: tuple[dt.datetime | None, dt.datetime | None] = (None, None)
    filters: Filters = field(default_factory=Filters)


def _measure_sql(
    measure: Measure, clock: LocalClock, *, total: bool
) -> tuple[str, list[Any], ColumnKind]:
    """The aggregate of a measure, its parameters and the kind of its value."""
    condition = ""
    params_cond: list[Any] = []
    if measure.where:
        cond_sql, params_cond = where_sql(measure.where, clock.zone, clock)
        condition = f" FILTER (WHERE {cond_sql})"
    target = find_field(measure.field) if measure.field else None
    column, column_params = field_sql(target, clock) if target else ("", [])
    agg = measure.agg
    if agg == "count" or (agg == "share" and target is None):
        base = f"count(*){condition}"
        base_params = params_cond
        if agg == "count":
            return base, base_params, "integer"
        if total:
            return "CAST(100.0 AS DOUBLE)", [], "percent"
        return (
            f"round({base} * 100.0 / nullif(sum({base}) OVER (), 0), 2)",
            base_params + base_params,
            "percent",
        )
    assert target is not None
    inner, params = column, column_params
    if agg == "share":
        if total:
            return "CAST(100.0 AS DOUBLE)", [], "percent"
        summed = f"CAST(sum({inner}){condition} AS DOUBLE)"
        summed_params = params + params_cond
        partition = " PARTITION BY currency" if target.kind == "money" else ""
        return (
            f"round({summed} * 100.0 / nullif(sum({summed}) OVER ({partition.strip()}), 0), 2)",
            summed_params + summed_params,
            "percent",
        )
    kind = measure_kind(measure)
    if agg == "sum":
        sql = f"sum({inner}){condition}"
        if kind in ("duration", "integer"):
            sql = f"CAST({sql} AS BIGINT)"
    elif agg == "avg":
        sql = f"avg({inner}){condition}"
        if kind == "duration":
            sql = f"CAST(round({sql}) AS BIGINT)"
        elif kind == "money":
            sql = f"CAST({sql} AS DECIMAL(18, 4))"
        else:
            sql = f"round({sql}, 2)"
    else:
        sql = f"{agg}({inner}){condition}"
    return sql, params + params_cond, kind


def compile_report(
    spec: ReportSpec,
    filters: Filters,
    tz: ZoneInfo,
    now: dt.datetime,
    *,
    limit: int | None = None,
    clock: LocalClock | None = None,
) -> CompiledReport:
    """The query of `spec` run with `filters` (already merged with the spec's defaults);
    local times come from `clock` (default: exact per-row conversion)."""
    zone = clock or icu_clock(tz)
    where, where_params, period = filter_sql(filters, tz, now, zone)
    where.insert(0, DATASETS[spec.dataset])
    if spec.where:
        sql, params = where_sql(spec.where, tz.key, zone)
        where.append(sql)
        where_params = where_params + params
    plan = _detail(spec, zone) if spec.detail else _grouped(spec, zone)
    return CompiledReport(
        select=plan.select,
        select_params=plan.params,
        where=where,
        where_params=where_params,
        group_by=plan.group_by,
        order_by=plan.order_by,
        limit=limit or spec.limit,
        columns=plan.columns,
        totals_select=plan.totals_select if spec.totals else None,
        totals_params=plan.totals_params if spec.totals else [],
        period=period,
        filters=filters,
    )


@dataclass(frozen=True)
class _Plan:
    """What a detail or grouped report selects (the rest of its query is the same for both)."""

    select: str
    params: list[Any]
    group_by: str
    order_by: str
    columns: list[PlannedColumn]
    totals_select: str | None
    totals_params: list[Any]


def _order(spec: ReportSpec, defaults: list[str]) -> str:
    keys: list[str] = []
    seen: set[str] = set()
    for item in spec.sort:
        desc = item.startswith("-")
        key = item.removeprefix("-")
        found = find_field(key)
        key = found.name if found and key not in {m.name for m in spec.measures} else key
        seen.add(key)
        keys.append(f'"{key}" {"DESC" if desc else "ASC"} NULLS LAST')
    keys += [f'"{key}" ASC NULLS LAST' for key in defaults if key not in seen]
    return "ORDER BY " + ", ".join(keys) if keys else ""


def _detail(spec: ReportSpec, zone: LocalClock) -> _Plan:
    columns: list[PlannedColumn] = []
    for name in spec.columns:
        target = find_field(name)
        assert target is not None
        if target.name not in {c.key for c in columns}:
            columns.append(PlannedColumn(target.name, spec.formats.get(name, target.kind), target))
    keys = {c.key for c in columns}
    extra = []
    if "cost" in keys and "currency" not in keys:
        extra.append(("currency", False))
    extra += [("call_id", True)] if "call_id" not in keys else []
    for name, hidden in extra:
        target = find_field(name)
        assert target is not None
        columns.append(PlannedColumn(target.name, target.kind, target, hidden=hidden))
    parts, params = [], []
    for column in columns:
        assert column.field is not None
        sql, sql_params = field_sql(column.field, zone)
        parts.append(f'{sql} AS "{column.key}"')
        params += sql_params
    summable = [c for c in columns if c.kind in ("money", "duration") and not c.hidden]
    totals = None
    totals_params: list[Any] = []
    if spec.totals:
        totals_parts = ['count(*) AS "__rows"', 'count(DISTINCT currency) AS "__currencies"']
        for column in summable:
            assert column.field is not None
            sql, sql_params = field_sql(column.field, zone)
            cast = "BIGINT" if column.kind == "duration" else "DECIMAL(38, 6)"
            totals_parts.append(f'CAST(sum({sql}) AS {cast}) AS "{column.key}"')
            totals_params += sql_params
        totals = ", ".join(totals_parts)
    return _Plan(
        select=", ".join(parts),
        params=params,
        group_by="",
        order_by=_order(spec, ["started_at", "call_id"] if "started_at" in keys else ["call_id"]),
        columns=columns,
        totals_select=totals,
        totals_params=totals_params,
    )


def _grouped(spec: ReportSpec, zone: LocalClock) -> _Plan:
    columns: list[PlannedColumn] = []
    parts: list[str] = []
    params: list[Any] = []
    for name in spec.group_by:
        target = find_field(name)
        assert target is not None
        sql, sql_params = field_sql(target, zone)
        parts.append(f'{sql} AS "{target.name}"')
        params += sql_params
        columns.append(PlannedColumn(target.name, spec.formats.get(name, target.kind), target))
    group_count = len(parts)
    measured = [find_field(m.field) for m in spec.measures if m.field]
    has_money = any(f is not None and f.kind == "money" for f in measured)
    if has_money and "currency" not in {c.key for c in columns}:
        currency = find_field("currency")
        assert currency is not None
        parts.append('currency AS "currency"')
        columns.append(PlannedColumn("currency", "text", currency))
        group_count += 1
    totals_parts: list[str] = ['count(DISTINCT currency) AS "__currencies"']
    totals_params: list[Any] = []
    for measure in spec.measures:
        sql, sql_params, kind = _measure_sql(measure, zone, total=False)
        parts.append(f'{sql} AS "{measure.name}"')
        params += sql_params
        columns.append(
            PlannedColumn(measure.name, spec.formats.get(measure.name, kind), None, measure)
        )
        total_sql, total_params, _ = _measure_sql(measure, zone, total=True)
        totals_parts.append(f'{total_sql} AS "{measure.name}"')
        totals_params += total_params
    group_by = (
        "GROUP BY " + ", ".join(str(i + 1) for i in range(group_count)) if group_count else ""
    )
    group_keys = [c.key for c in columns[:group_count]]
    return _Plan(
        select=", ".join(parts),
        params=params,
        group_by=group_by,
        order_by=_order(spec, group_keys),
        columns=columns,
        totals_select=", ".join(totals_parts),
        totals_params=totals_params,
    )
