"""Attribute calls to people as they were at call time (F-CALLS-3), mark undefined extensions.

One set-based UPDATE: each call's extension (and, for internal calls, the peer's extension) is
joined to the extension version in force at `started_at`, then to that person's version in force
at the same instant. A call whose extension or peer extension no version covers is marked
`undefined_extension` (watched by the F-ALARM-8 alarm).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb
import polars as pl

from callacct.store import fetch_frame, registered, scalar

# What attribution sets on a call.
ATTRIBUTED_COLUMNS = (
    "user_login",
    "department",
    "cost_center",
    "site",
    "peer_login",
    "peer_department",
    "peer_cost_center",
    "peer_site",
    "undefined_extension",
)


@dataclass(frozen=True)
class AttributionResult:
    """How many calls were (re)attributed, and how many of them have an undefined extension."""

    calls: int
    attributed: int
    undefined: int


# The holder of an extension at call time, and that holder's version at the same time.
_SIDE = """
    SELECT c.call_id, e.login, u.department, u.cost_center, u.site
    FROM {calls} c
    JOIN extensions e
      ON e.extension = c.{column}
     AND c.started_at >= e.valid_from
     AND (e.valid_to IS NULL OR c.started_at < e.valid_to)
    LEFT JOIN users u
      ON u.login = e.login
     AND c.started_at >= u.valid_from
     AND (u.valid_to IS NULL OR c.started_at < u.valid_to)
    WHERE {where}
"""


def attribute_calls(
    con: duckdb.DuckDBPyConnection,
    *,
    since: dt.datetime | None = None,
    new_only: bool = False,
    extension_pattern: str | None = None,
) -> AttributionResult:
    """Attribute calls: those started at or after `since` (naive UTC; all when None), or with
    `new_only` the calls never attributed yet (just ingested) — with both, either kind.

    After a directory change, `since` is when the change takes effect: earlier calls cannot
    change. With `extension_pattern` (dialplan.extension_pattern), a peer that does not look
    like an extension (a conference bridge, a trunk) is not an undefined extension.
    """
    conditions: list[str] = []
    params: list[object] = []
    if since is not None:
        conditions.append("c.started_at >= ?")
        params.append(since)
    if new_only:
        conditions.append("c.undefined_extension IS NULL")
    where = "(" + " OR ".join(conditions) + ")" if conditions else "TRUE"
    select = _attribution_sql("calls", where, extension_pattern)
    pattern = [extension_pattern, extension_pattern] if extension_pattern else []
    # Parameters in the order of their placeholders: the SELECT list, both sides, the WHERE.
    bound = pattern + params * 3
    con.execute(f"CREATE OR REPLACE TEMP TABLE _attribution AS {select}", bound)
    try:
        counted = con.execute(
            "SELECT count(*), count(login), count(*) FILTER (undefined) FROM _attribution"
        ).fetchall()[0]
        con.execute(
            """
            UPDATE calls SET
                user_login = a.login,
                department = a.department,
                cost_center = a.cost_center,
                site = a.site,
                peer_login = a.peer_login,
                peer_department = a.peer_department,
                peer_cost_center = a.peer_cost_center,
                peer_site = a.peer_site,
                undefined_extension = a.undefined
            FROM _attribution a
            WHERE calls.call_id = a.call_id
            """
        )
    finally:
        con.execute("DROP TABLE IF EXISTS _attribution")
    return AttributionResult(
        calls=int(counted[0]), attributed=int(counted[1]), undefined=int(counted[2])
    )


def _attribution_sql(calls: str, where: str, extension_pattern: str | None) -> str:
    """Each call of the table or view `calls` (a constant name) matching `where`, with its
    attribution; the extension pattern, when given, is a parameter of the SELECT list."""
    looks_like = "TRUE"
    if extension_pattern:
        looks_like = "regexp_matches({column}, ?)"
    own = _SIDE.format(calls=calls, column="extension", where=where)
    peer = _SIDE.format(calls=calls, column="peer_extension", where=where)
    # Only constant fragments are formatted into the SQL; values are bound parameters.
    return f"""
        SELECT c.call_id, o.login, o.department, o.cost_center, o.site,
               p.login AS peer_login, p.department AS peer_department,
               p.cost_center AS peer_cost_center, p.site AS peer_site,
               (c.extension IS NOT NULL AND o.login IS NULL
                AND {looks_like.format(column="c.extension")})
               OR (c.peer_extension IS NOT NULL AND p.login IS NULL
                AND {looks_like.format(column="c.peer_extension")}) AS undefined
        FROM {calls} c
        LEFT JOIN ({own}) o ON o.call_id = c.call_id
        LEFT JOIN ({peer}) p ON p.call_id = c.call_id
        WHERE {where}
    """  # noqa: S608


def attribute_frame(
    con: duckdb.DuckDBPyConnection, calls: pl.DataFrame, *, extension_pattern: str | None = None
) -> tuple[pl.DataFrame, AttributionResult]:
    """`calls` (not stored yet: `call_id`, `started_at`, `extension`, `peer_extension` and any
    other columns) with the columns `attribute_calls` would set, in the same order, and what
    was attributed. The same query as `attribute_calls`, on the frame instead of the table."""
    keys = calls.select("call_id", "started_at", "extension", "peer_extension")
    pattern: list[object] = [extension_pattern, extension_pattern] if extension_pattern else []
    with registered(con, "_attributing", keys) as name:
        found = fetch_frame(con, _attribution_sql(name, "TRUE", extension_pattern), pattern)
    found = found.rename({"login": "user_login", "undefined": "undefined_extension"}).cast(
        {"call_id": calls.schema["call_id"]}
    )
    if found.height != calls.height:
        # A call met twice (directory versions that overlap): one row per call, as the
        # UPDATE of `attribute_calls` writes one value per call. Otherwise each call is
        # there once (the query keeps every call) and there is nothing to look for.
        found = found.unique("call_id", keep="first", maintain_order=True)
    result = AttributionResult(
        calls=found.height,
        attributed=found.height - found.get_column("user_login").null_count(),
        undefined=int(found.get_column("undefined_extension").sum()),
    )
    found = found.sort("call_id")
    kept = calls.drop(ATTRIBUTED_COLUMNS, strict=False)
    if kept.get_column("call_id").equals(found.get_column("call_id")):
        # The calls in call-id order (as an ingest stages them): side by side, without a
        # join that gathers every column of the calls.
        return kept.hstack(found.drop("call_id")), result
    return kept.join(found, on="call_id", how="left", maintain_order="left"), result


def undefined_extension_count(con: duckdb.DuckDBPyConnection) -> int:
    """Calls from or to an extension that no directory entry covered at call time."""
    return int(scalar(con, "SELECT count(*) FROM calls WHERE undefined_extension"))
