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

from callacct.store import scalar


@dataclass(frozen=True)
class AttributionResult:
    """How many calls were (re)attributed, and how many of them have an undefined extension."""

    calls: int
    attributed: int
    undefined: int


# The holder of an extension at call time, and that holder's version at the same time.
_SIDE = """
    SELECT c.call_id, e.login, u.department, u.cost_center, u.site
    FROM calls c
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
    looks_like = "TRUE"
    if extension_pattern:
        looks_like = "regexp_matches({column}, ?)"

    own = _SIDE.format(column="extension", where=where)
    peer = _SIDE.format(column="peer_extension", where=where)
    # Only constant fragments are formatted into the SQL; values are bound parameters.
    select = f"""
        SELECT c.call_id, o.login, o.department, o.cost_center, o.site,
               p.login AS peer_login, p.department AS peer_department,
               p.cost_center AS peer_cost_center, p.site AS peer_site,
               (c.extension IS NOT NULL AND o.login IS NULL
                AND {looks_like.format(column="c.extension")})
               OR (c.peer_extension IS NOT NULL AND p.login IS NULL
                AND {looks_like.format(column="c.peer_extension")}) AS undefined
        FROM calls c
        LEFT JOIN ({own}) o ON o.call_id = c.call_id
        LEFT JOIN ({peer}) p ON p.call_id = c.call_id
        WHERE {where}
    """  # noqa: S608
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


def undefined_extension_count(con: duckdb.DuckDBPyConnection) -> int:
    """Calls from or to an extension that no directory entry covered at call time."""
    return int(scalar(con, "SELECT count(*) FROM calls WHERE undefined_extension"))
