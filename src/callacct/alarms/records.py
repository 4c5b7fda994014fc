"""The alarms and their firings in the store (`alarms`, `alarm_events`).

Times are naive UTC, as everywhere in the store. An alarm's `watermark` is the last call id
it evaluated; it moves forward in the same transaction that records what the evaluation
found, so a crash never loses a firing nor reports one twice.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from typing import Any

import duckdb

from callacct.alarms.evaluate import Firing, Window

_ALARM_COLUMNS = (
    "name, owner, kind, definition, paused, watermark, created_at, updated_at, last_run_at"
)
_EVENT_COLUMNS = (
    "event_id, alarm, owner, kind, fired_at, period, summary, found, columns, rows_json, "
    "marks, logins, calls_after, calls_upto, mailed_at"
)


def _naive(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC).replace(tzinfo=None) if moment.tzinfo else moment


def _dicts(cursor: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    names = [d[0] for d in cursor.description or ()]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def insert_alarm(
    con: duckdb.DuckDBPyConnection,
    *,
    name: str,
    owner: str,
    kind: str,
    definition: str,
    watermark: int,
    now: dt.datetime,
) -> None:
    moment = _naive(now)
    con.execute(
        f"INSERT INTO alarms ({_ALARM_COLUMNS}) VALUES (?, ?, ?, ?, FALSE, ?, ?, ?, NULL)",  # noqa: S608
        [name, owner, kind, definition, watermark, moment, moment],
    )


def update_definition(
    con: duckdb.DuckDBPyConnection, name: str, kind: str, definition: str, now: dt.datetime
) -> None:
    con.execute(
        "UPDATE alarms SET kind = ?, definition = ?, updated_at = ? WHERE name = ?",
        [kind, definition, _naive(now), name],
    )


def set_paused(con: duckdb.DuckDBPyConnection, name: str, paused: bool, now: dt.datetime) -> None:
    con.execute(
        "UPDATE alarms SET paused = ?, updated_at = ? WHERE name = ?", [paused, _naive(now), name]
    )


def delete_alarm(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """The alarm goes; its firings stay (they are a record of what happened), without their
    marks: those keep the alarm that fired from firing twice, and must not hold back a new
    alarm given the same name."""
    con.execute("DELETE FROM alarms WHERE name = ?", [name])
    con.execute("UPDATE alarm_events SET marks = [] WHERE alarm = ?", [name])


def alarm_rows(
    con: duckdb.DuckDBPyConnection, names: Sequence[str] | None = None
) -> list[dict[str, Any]]:
    """Alarms (all, or those named), by name."""
    if names is None:
        cursor = con.execute(f"SELECT {_ALARM_COLUMNS} FROM alarms ORDER BY name")  # noqa: S608
    else:
        cursor = con.execute(
            f"SELECT {_ALARM_COLUMNS} FROM alarms "  # noqa: S608
            "WHERE name IN (SELECT unnest(?::VARCHAR[])) ORDER BY name",
            [list(names)],
        )
    return _dicts(cursor)


def fired_marks(con: duckdb.DuckDBPyConnection, alarm: str) -> set[str]:
    """The marks of every earlier firing of `alarm`."""
    rows = con.execute(
        "SELECT DISTINCT unnest(marks) FROM alarm_events WHERE alarm = ?", [alarm]
    ).fetchall()
    return {str(row[0]) for row in rows}


def record_run(
    con: duckdb.DuckDBPyConnection,
    *,
    alarm: str,
    owner: str,
    kind: str,
    firings: Iterable[Firing],
    window: Window,
    watermark: int,
    now: dt.datetime,
) -> list[int]:
    """Store what one evaluation found and move the alarm's watermark, together; the new
    events' ids."""
    moment = _naive(now)
    ids = []
    for firing in firings:
        row = con.execute(
            "INSERT INTO alarm_events (alarm, owner, kind, fired_at, period, summary, found, "
            "columns, rows_json, marks, logins, calls_after, calls_upto) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING event_id",
            [
                alarm,
                owner,
                kind,
                moment,
                firing.period,
                firing.summary,
                firing.found,
                list(firing.columns),
                firing.rows_json,
                list(firing.marks),
                list(firing.logins),
                window.after,
                window.upto,
            ],
        ).fetchall()
        ids.append(int(row[0][0]))
    con.execute(
        "UPDATE alarms SET watermark = ?, last_run_at = ? WHERE name = ?",
        [watermark, moment, alarm],
    )
    return ids


def event_rows(
    con: duckdb.DuckDBPyConnection,
    *,
    since: dt.datetime | None = None,
    owners: Sequence[str] | None = None,
    alarm: str | None = None,
    ids: Sequence[int] | None = None,
    unmailed: bool = False,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """Firings, newest first: since a moment, of some owners (None: all), of one alarm, with
    given ids, or not yet handed to the mail."""
    where = ["TRUE"]
    params: list[Any] = []
    if since is not None:
        where.append("fired_at >= ?")
        params.append(_naive(since))
    if owners is not None:
        where.append("owner IN (SELECT unnest(?::VARCHAR[]))")
        params.append(list(owners))
    if alarm is not None:
        where.append("alarm = ?")
        params.append(alarm)
    if ids is not None:
        where.append("event_id IN (SELECT unnest(?::BIGINT[]))")
        params.append(list(ids))
    if unmailed:
        where.append("mailed_at IS NULL")
    sql = (
        f"SELECT {_EVENT_COLUMNS} FROM alarm_events WHERE {' AND '.join(where)} "  # noqa: S608
        "ORDER BY event_id DESC"
    )
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    events = _dicts(con.execute(sql, params))
    for event in events:
        event["rows"] = json.loads(event["rows_json"])
    return events


def mark_mailed(con: duckdb.DuckDBPyConnection, event_id: int, now: dt.datetime) -> None:
    con.execute("UPDATE alarm_events SET mailed_at = ? WHERE event_id = ?", [_naive(now), event_id])
