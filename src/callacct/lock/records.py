"""The lock tables in the store: read and write with parameterised SQL, many rows at once.

`locks` holds one row per extension ever locked (an unlocked extension may have none);
`lock_events` one row per change or refused/failed attempt. Rows of a whole department are
written in one statement from a Polars frame, in the caller's transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

import duckdb
import polars as pl

from callacct.lock.model import Flags, LockEvent, LockRow, Target
from callacct.store import insert_frame, registered

_CURRENT_PEOPLE = """
    SELECT e.extension, u.login, u.name, u.email, u.language, u.department, u.cost_center, u.site
    FROM extensions e JOIN users u ON u.login = e.login AND u.valid_to IS NULL
    WHERE e.valid_to IS NULL
"""


def _dicts(cursor: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    names = [d[0] for d in cursor.description or ()]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def current_targets(
    con: duckdb.DuckDBPyConnection,
    *,
    extensions: Sequence[str] = (),
    logins: Sequence[str] = (),
    department: str | None = None,
) -> list[Target]:
    """Extensions held now by someone, chosen by extension, person or department."""
    sql = (
        f"SELECT * FROM ({_CURRENT_PEOPLE}) WHERE extension IN (SELECT unnest(?::VARCHAR[])) "  # noqa: S608
        "OR login IN (SELECT unnest(?::VARCHAR[])) OR department = ? ORDER BY extension"
    )
    rows = _dicts(con.execute(sql, [list(extensions), list(logins), department]))
    return [Target(**row) for row in rows]


def all_current_targets(con: duckdb.DuckDBPyConnection) -> list[Target]:
    """Every extension held by someone now."""
    return [Target(**row) for row in _dicts(con.execute(_CURRENT_PEOPLE + " ORDER BY 1"))]


def load_rows(con: duckdb.DuckDBPyConnection, extensions: Iterable[str]) -> dict[str, LockRow]:
    """The `locks` rows of `extensions` (missing: never locked)."""
    rows = _dicts(
        con.execute(
            "SELECT * FROM locks WHERE extension IN (SELECT unnest(?::VARCHAR[]))",
            [list(extensions)],
        )
    )
    return {row["extension"]: row_from_dict(row) for row in rows}


def all_rows(con: duckdb.DuckDBPyConnection) -> dict[str, LockRow]:
    return {row["extension"]: row_from_dict(row) for row in _dicts(con.execute("FROM locks"))}


def row_from_dict(row: dict[str, Any]) -> LockRow:
    return LockRow(
        extension=row["extension"],
        flags=Flags(
            user=row["user_locked"],
            budget=row["budget_locked"],
            admin=row["admin_locked"],
            user_how=row["user_how"],
        ),
        login=row["login"],
        reason=row["reason"],
        changed_by=row["changed_by"],
        since=row["since"],
        backend=row["backend"],
        line_key=row["line_key"],
        saved=row["saved"],
        applied=row["applied"],
    )


_LOCK_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "extension": pl.String,
    "login": pl.String,
    "state": pl.String,
    "user_locked": pl.Boolean,
    "user_how": pl.String,
    "budget_locked": pl.Boolean,
    "admin_locked": pl.Boolean,
    "reason": pl.String,
    "changed_by": pl.String,
    "since": pl.Datetime("us"),
    "backend": pl.String,
    "line_key": pl.String,
    "saved": pl.String,
    "applied": pl.String,
}

_EVENT_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "happened_at": pl.Datetime("us"),
    "extension": pl.String,
    "login": pl.String,
    "actor": pl.String,
    "how": pl.String,
    "action": pl.String,
    "reason": pl.String,
    "backend": pl.String,
    "result": pl.String,
    "message": pl.String,
    "state_before": pl.String,
    "state_after": pl.String,
    "css_before": pl.String,
    "css_after": pl.String,
}


def write_rows(con: duckdb.DuckDBPyConnection, rows: Sequence[LockRow]) -> None:
    """Insert or replace `locks` rows (in the caller's transaction)."""
    if not rows:
        return
    frame = pl.DataFrame(
        [
            {
                "extension": r.extension,
                "login": r.login,
                "state": r.flags.state,
                "user_locked": r.flags.user,
                "user_how": r.flags.user_how,
                "budget_locked": r.flags.budget,
                "admin_locked": r.flags.admin,
                "reason": r.reason,
                "changed_by": r.changed_by or "",
                "since": r.since,
                "backend": r.backend,
                "line_key": r.line_key,
                "saved": r.saved,
                "applied": r.applied,
            }
            for r in rows
        ],
        schema=_LOCK_SCHEMA,
    )
    with registered(con, "lock_rows_frame", frame):
        con.execute("INSERT OR REPLACE INTO locks BY NAME SELECT * FROM lock_rows_frame")


def write_events(con: duckdb.DuckDBPyConnection, events: Sequence[dict[str, Any]]) -> None:
    """Append `lock_events` rows (dicts with the columns of `_EVENT_SCHEMA`)."""
    if not events:
        return
    insert_frame(con, "lock_events", pl.DataFrame(list(events), schema=_EVENT_SCHEMA))


def read_events(
    con: duckdb.DuckDBPyConnection,
    *,
    extension: str | None = None,
    logins: Sequence[str] | None = None,
    limit: int = 100,
) -> list[LockEvent]:
    """The latest events, newest first; `logins` (None: anyone) limits whose."""
    sql = (
        "SELECT * FROM lock_events WHERE (?::VARCHAR IS NULL OR extension = ?) "
        "AND (?::VARCHAR[] IS NULL OR login IN (SELECT unnest(?::VARCHAR[]))) "
        "ORDER BY event_id DESC LIMIT ?"
    )
    names = None if logins is None else list(logins)
    rows = _dicts(con.execute(sql, [extension, extension, names, names, limit]))
    return [LockEvent(**row) for row in rows]


def people_with_locks(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Every extension held now or with a lock row: its person (if any) and lock row."""
    return _dicts(
        con.execute(
            f"""
            SELECT coalesce(p.extension, l.extension) AS extension,
                   coalesce(p.login, l.login) AS login, p.name, p.email, p.language,
                   p.department, p.cost_center, p.site, p.extension IS NOT NULL AS held,
                   l.state, l.reason, l.changed_by, l.since, l.backend
            FROM ({_CURRENT_PEOPLE}) p FULL OUTER JOIN locks l ON l.extension = p.extension
            ORDER BY 1
            """  # noqa: S608
        )
    )


def now_utc() -> dt.datetime:
    """Now, as the store keeps times: naive UTC."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)
