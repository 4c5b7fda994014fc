"""What calls cost against budgets: spend per window and the calls counted, within a scope.

A *window* is what a budget counts in one period: the calls made by a person (`user`), or
by anyone of a department or cost centre as the call was attributed (`department`,
`cost_center`), outgoing, priced, started in [`starts_at`, `ends_at`) (naive UTC), of the
window's destination classes (None: every class), in the window's currency. Calls priced in
another currency never add to it: `spend_in_windows` returns them apart, per currency.

Every window is computed by one SQL statement (a hash join of the windows on the column they
name, then a range test), whatever their number, and the reader's scope is ANDed to it, as to
every read of calls.

Example:
    >>> import duckdb, datetime as dt
    >>> con = duckdb.connect()
    >>> _ = con.execute("CREATE TABLE calls AS SELECT 1 AS call_id, 'al' AS user_login, "
    ...     "'S' AS department, 'C' AS cost_center, 'outgoing' AS direction, "
    ...     "TIMESTAMP '2026-12-02 10:00' AS started_at, 1.5::DECIMAL(18,6) AS cost, "
    ...     "'EUR' AS currency, 'mobile' AS dest_class")
    >>> w = Window(1, "user", "al", "EUR", None, dt.datetime(2026, 12, 1), dt.datetime(2027, 1, 1))
    >>> spend_in_windows(con, [w], Scope(role="admin"))
    {1: {'EUR': Decimal('1.500000')}}
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

import duckdb
import polars as pl

from callacct.query.masking import mask_calls
from callacct.query.scope import Scope
from callacct.store import fetch_frame, registered

#: Budget kind -> the `calls` column that says whose a call is.
WINDOW_COLUMNS: Final = {
    "user": "user_login",
    "department": "department",
    "cost_center": "cost_center",
}

_COUNTED = (
    "c.direction = 'outgoing' AND c.cost IS NOT NULL AND c.currency IS NOT NULL "
    "AND c.started_at >= w.starts_at AND c.started_at < w.ends_at "
    "AND (w.classes IS NULL OR list_contains(w.classes, c.dest_class))"
)
_NAMES = itertools.count()


@dataclass(frozen=True)
class Window:
    """What one budget counts in one period (see the module docstring)."""

    key: int
    kind: str
    target: str
    currency: str
    classes: tuple[str, ...] | None
    starts_at: dt.datetime
    ends_at: dt.datetime


def _frame(windows: Sequence[Window]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "key": [w.key for w in windows],
            "kind": [w.kind for w in windows],
            "target": [w.target for w in windows],
            "currency": [w.currency for w in windows],
            "classes": [None if w.classes is None else list(w.classes) for w in windows],
            "starts_at": [w.starts_at for w in windows],
            "ends_at": [w.ends_at for w in windows],
        },
        schema={
            "key": pl.Int64,
            "kind": pl.String,
            "target": pl.String,
            "currency": pl.String,
            "classes": pl.List(pl.String),
            "starts_at": pl.Datetime("us"),
            "ends_at": pl.Datetime("us"),
        },
    )


def window_spend_sql(
    windows: str,
    scope: Scope,
    *,
    between: tuple[dt.datetime, dt.datetime],
    kinds: Iterable[str] = tuple(WINDOW_COLUMNS),
    own_currency: bool = False,
) -> tuple[str, list[Any]]:
    """SQL giving `key, currency, spent` for the windows of relation `windows` (columns `key,
    kind, target, currency, classes, starts_at, ends_at`; a table or view name, or a
    parenthesised query of the caller's constant text) and its parameters: the cost of the
    calls each counts, per currency (only its own with `own_currency`), within `scope`.
    `between`: no window starts before its first or ends after its second instant; `kinds`:
    the window kinds there are (a kind left out is not joined)."""
    scope_sql, scope_params = scope.predicate()
    # The scope's predicate reads the calls' own columns. `between` (the earliest start and
    # the latest end of the windows, as constants) lets DuckDB skip the row groups of other
    # months by their statistics, which a join condition alone does not.
    scoped = f"(SELECT * FROM calls WHERE {scope_sql} AND started_at >= ? AND started_at < ?)"  # noqa: S608
    counted = _COUNTED + (" AND c.currency = w.currency" if own_currency else "")
    parts = [
        f"SELECT w.key, c.currency, c.cost FROM {windows} w JOIN {scoped} c "  # noqa: S608
        f"ON c.{WINDOW_COLUMNS[kind]} = w.target WHERE w.kind = '{kind}' AND {counted}"
        for kind in WINDOW_COLUMNS
        if kind in set(kinds)
    ]
    if not parts:
        return (
            "SELECT NULL::BIGINT AS key, NULL AS currency, NULL::DECIMAL(38, 6) AS spent LIMIT 0",
            [],
        )
    # Table and column names come from this module's constants and the caller's constant
    # relation; values are parameters.
    sql = (
        "SELECT key, currency, sum(cost) AS spent FROM ("  # noqa: S608
        + " UNION ALL ".join(parts)
        + ") GROUP BY key, currency"
    )
    return sql, [*scope_params, *between] * len(parts)


def spend_in_windows(
    con: duckdb.DuckDBPyConnection, windows: Sequence[Window], scope: Scope
) -> dict[int, dict[str, Decimal]]:
    """Per window key, the cost per currency of the calls it counts (the window's own
    currency and any other; a window with no call is absent), within `scope`."""
    if not windows:
        return {}
    name = f"budget_windows_{next(_NAMES)}"
    between = (min(w.starts_at for w in windows), max(w.ends_at for w in windows))
    with registered(con, name, _frame(windows)):
        sql, params = window_spend_sql(
            name, scope, between=between, kinds={w.kind for w in windows}
        )
        rows = con.execute(sql, params).fetchall()
    out: dict[int, dict[str, Decimal]] = {}
    for key, currency, total in rows:
        out.setdefault(int(key), {})[str(currency)] = Decimal(total)
    return out


def counted_calls(
    con: duckdb.DuckDBPyConnection,
    window: Window,
    scope: Scope,
    *,
    last: int = 20,
) -> tuple[pl.DataFrame, int]:
    """The latest `last` calls `window` counts (in its currency) that `scope` may see, newest
    first, numbers masked for the scope, and how many there are."""
    column = WINDOW_COLUMNS[window.kind]
    scope_sql, scope_params = scope.predicate()
    where = f"c.{column} = ? AND c.currency = ? AND ({scope_sql}) AND " + _COUNTED.replace(
        "w.starts_at", "?"
    ).replace("w.ends_at", "?").replace("w.classes IS NULL", "?::VARCHAR[] IS NULL").replace(
        "list_contains(w.classes,", "list_contains(?::VARCHAR[],"
    )
    classes: Any = None if window.classes is None else list(window.classes)
    params: list[Any] = [
        window.target,
        window.currency,
        *scope_params,
        window.starts_at,
        window.ends_at,
        classes,
        classes,
    ]
    # `where` is built from this module's constants and the scope's predicate.
    total = int(con.execute(f"SELECT count(*) FROM calls c WHERE {where}", params).fetchall()[0][0])  # noqa: S608
    frame = fetch_frame(
        con,
        "SELECT c.call_id, c.started_at, c.direction, c.answered, c.extension, "  # noqa: S608
        "c.peer_extension, c.remote_number, c.duration_s, c.cost, c.currency, c.dest_class, "
        'c.dest_country, c.gateway, c.user_login AS "user", c.department, c.cost_center, c.site '
        f"FROM calls c WHERE {where} ORDER BY c.started_at DESC, c.call_id DESC LIMIT ?",
        [*params, last],
    )
    return mask_calls(frame, scope.mask_digits), total
