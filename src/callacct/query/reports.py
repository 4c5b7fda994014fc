"""Run compiled reports within the reader's scope: the report side of the query layer.

Like `query_calls`, every statement here ANDs `Scope.predicate()` to the report's conditions
(no report, filter or expression can widen it). Every statement reads `calls` through
`masked_calls_sql`: the external numbers are masked for the scope before anything is computed
from them, so an aggregate (`min`, `max`), a grouping key, a sort order, a totals row or a chart
label shows only what the reader may see. Conditions compare the stored numbers
(`stored_<column>`, with `=` and `in` only for a masked reader: see
`callacct.reports.expression.probes_numbers`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import duckdb
import polars as pl

from callacct.query.masking import masked_calls_sql
from callacct.query.scope import Scope
from callacct.store import fetch_frame


@dataclass
class ReportQuery:
    """A report's SQL over `calls`, without the reader's scope (added here, in one place):
    the select list, the conditions and the tail, each with its bound parameters. The text
    comes from the report compiler (registry fields, validated names, constant fragments)."""

    select: str
    select_params: list[Any]
    where: list[str]
    where_params: list[Any]
    group_by: str = ""
    order_by: str = ""
    limit: int | None = None
    totals_select: str | None = None
    totals_params: list[Any] = field(default_factory=list)


def _where(query: ReportQuery, scope: Scope) -> tuple[str, list[Any]]:
    scope_sql, scope_params = scope.predicate()
    conditions = [scope_sql, *(f"({c})" for c in query.where)]
    return "WHERE " + " AND ".join(conditions), scope_params + query.where_params


def fetch_report(
    con: duckdb.DuckDBPyConnection, query: ReportQuery, scope: Scope
) -> tuple[pl.DataFrame, dict[str, Any] | None]:
    """The rows of `query` in `scope` (numbers masked) and its totals row, if it has one."""
    where, where_params = _where(query, scope)
    calls = masked_calls_sql(scope.mask_digits)
    limit = "LIMIT ?" if query.limit is not None else ""
    # Text comes from the compiler (registry fields, validated names, constant fragments).
    sql = (
        f"SELECT {query.select} FROM {calls} {where} {query.group_by} "  # noqa: S608
        f"{query.order_by} {limit}"
    )
    params = query.select_params + where_params + ([query.limit] if limit else [])
    frame = fetch_frame(con, sql, params)
    totals = None
    if query.totals_select is not None:
        cursor = con.execute(
            f"SELECT {query.totals_select} FROM {calls} {where}",  # noqa: S608
            query.totals_params + where_params,
        )
        names = [d[0] for d in cursor.description or ()]
        row = cursor.fetchall()[0]
        totals = dict(zip(names, row, strict=True))
        if int(totals.get("__currencies") or 0) > 1:
            # Amounts in different currencies do not add up: the same totals per currency.
            cursor = con.execute(
                f'SELECT currency AS "__currency", {query.totals_select} '  # noqa: S608
                f"FROM {calls} {where} AND currency IS NOT NULL GROUP BY currency ORDER BY 1",
                query.totals_params + where_params,
            )
            names = [d[0] for d in cursor.description or ()]
            totals["__by_currency"] = {
                values[0]: dict(zip(names, values, strict=True)) for values in cursor.fetchall()
            }
    return frame, totals


def count_in_scope(con: duckdb.DuckDBPyConnection, query: ReportQuery, scope: Scope) -> int:
    """How many calls the report's conditions select in `scope`."""
    where, params = _where(query, scope)
    calls = masked_calls_sql(scope.mask_digits)
    rows = con.execute(f"SELECT count(*) FROM {calls} {where}", params).fetchall()  # noqa: S608
    return int(rows[0][0])


def call_time_range(
    con: duckdb.DuckDBPyConnection,
) -> tuple[dt.datetime | None, dt.datetime | None]:
    """The first and last start time stored (naive UTC), whatever the scope: used only to
    choose how local times are computed, never shown."""
    low, high = con.execute("SELECT min(started_at), max(started_at) FROM calls").fetchall()[0]
    return low, high
