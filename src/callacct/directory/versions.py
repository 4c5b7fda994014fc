"""Effective dating: a directory snapshot becomes new versions; nothing is ever deleted.

A source (``csv`` or ``ldap``) describes its people as they are *now*. Applying that snapshot as
of a time T compares it with the current versions: a changed person gets their current version
ended at T and a new one from T; a person of that source who is missing is ended at T; an
extension given to someone else is ended for the old holder and starts for the new one. Calls
are then attributed with the versions in force when they were made (`attribution.py`), so a
move to another department does not rewrite last month's calls.

A person seen for the first time is valid since ever (`SINCE_EVER`) unless a time is given,
whenever they first arrive (in the first load of an empty directory, or in a later one after a
rejected line kept them out), so the calls already in the store are attributed to the people
the directory describes; so are their extensions, from the end of the extension's previous
holder (since ever if none). A snapshot applied as of a time before a person's first version
backdates that version (and the extensions they have held since it), when it is their only
version and the snapshot does not change it: the way to backdate someone.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import duckdb
import polars as pl

from callacct.directory.attribution import AttributionResult, attribute_calls
from callacct.directory.model import USER_FIELDS, DirectoryEntry
from callacct.errors import DirectoryError
from callacct.store import insert_frame, scalar, transaction

SINCE_EVER = dt.datetime(1900, 1, 1)


@dataclass
class DirectoryChanges:
    """What applying a snapshot changed (or would change, on a dry run)."""

    source: str
    as_of: dt.datetime
    dry_run: bool
    added: list[str] = field(default_factory=list)
    changed: dict[str, list[str]] = field(default_factory=dict)
    ended: list[str] = field(default_factory=list)
    unchanged: int = 0
    backdated: list[str] = field(default_factory=list)
    # The earliest time whose calls the change re-attributes: `as_of`, or earlier for people
    # valid since ever when they first arrive, or backdated.
    effective_from: dt.datetime | None = None
    extensions_added: list[tuple[str, str]] = field(default_factory=list)
    extensions_ended: list[tuple[str, str]] = field(default_factory=list)
    attribution: AttributionResult | None = None

    @property
    def has_changes(self) -> bool:
        return bool(
            self.added
            or self.changed
            or self.ended
            or self.backdated
            or self.extensions_added
            or self.extensions_ended
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "as_of": _iso(self.as_of),
            "dry_run": self.dry_run,
            "added": self.added,
            "changed": self.changed,
            "ended": self.ended,
            "unchanged": self.unchanged,
            "backdated": self.backdated,
            "effective_from": _iso(self.effective_from or self.as_of),
            "extensions_added": [{"extension": e, "login": u} for e, u in self.extensions_added],
            "extensions_ended": [{"extension": e, "login": u} for e, u in self.extensions_ended],
            "calls_reattributed": None if self.attribution is None else self.attribution.calls,
            "calls_attributed": None if self.attribution is None else self.attribution.attributed,
            "calls_undefined_extension": (
                None if self.attribution is None else self.attribution.undefined
            ),
        }


def _iso(value: dt.datetime) -> str:
    return value.replace(tzinfo=dt.UTC).isoformat()


def directory_is_empty(con: duckdb.DuckDBPyConnection) -> bool:
    return int(scalar(con, "SELECT count(*) FROM users")) == 0


def apply_snapshot(
    con: duckdb.DuckDBPyConnection,
    entries: list[DirectoryEntry],
    *,
    source: str,
    as_of: dt.datetime | None = None,
    dry_run: bool = False,
    end_missing: bool = True,
    extension_pattern: str | None = None,
    now: dt.datetime | None = None,
) -> DirectoryChanges:
    """Store `entries` as the state of `source` from `as_of` (naive UTC) on; attribute calls.

    `as_of` defaults to now, or to `SINCE_EVER` when the directory is empty; without it, a
    person the store has never seen is valid since ever. Versions must be applied in time
    order: an `as_of` before the start of a version it would end is refused; one before the
    start of a person's only version, which the snapshot leaves as it is, backdates it.
    `end_missing=False` keeps the people of `source` that `entries` does not mention (used when
    some input lines were rejected: their people must not be ended by mistake).
    """
    recorded = (now or dt.datetime.now(dt.UTC)).replace(tzinfo=None)
    explicit = as_of is not None
    if as_of is None:
        as_of = SINCE_EVER if directory_is_empty(con) else recorded
    changes = DirectoryChanges(source=source, as_of=as_of, dry_run=dry_run)

    current = _current_users(con)
    first_version = _first_versions(con)  # login -> (start of their first version, versions)
    incoming = {e.login: e for e in entries}
    to_end: list[str] = []
    new_rows: list[DirectoryEntry] = []
    starts: dict[str, dt.datetime] = {}  # person -> start of the version stored or backdated
    for login, entry in incoming.items():
        row = current.get(login)
        if row is None:
            changes.added.append(login)
            new_rows.append(entry)
            starts[login] = as_of if explicit or login in first_version else SINCE_EVER
            continue
        values = entry.user_values()
        diff = [name for name in USER_FIELDS if _norm(values[name]) != _norm(row[name])]
        if row["source"] != source:
            diff.append("source")
        if diff:
            changes.changed[login] = diff
            to_end.append(login)
            new_rows.append(entry)
            starts[login] = as_of
        elif row["valid_from"] > as_of and first_version[login] == (row["valid_from"], 1):
            changes.backdated.append(login)
            starts[login] = as_of
        else:
            changes.unchanged += 1
    for login, row in current.items():
        if end_missing and row["source"] == source and login not in incoming:
            changes.ended.append(login)
            to_end.append(login)

    current_ext = _current_extensions(con)  # extension -> (login, valid_from)
    wanted = {ext: e.login for e in entries for ext in e.extensions}
    ended_logins = set(changes.ended)
    ext_to_end: list[tuple[str, str]] = []
    for ext, (login, _) in current_ext.items():
        if ext in wanted:
            if wanted[ext] != login:
                ext_to_end.append((ext, login))
        elif login in incoming or login in ended_logins:
            ext_to_end.append((ext, login))
    ext_to_add = [
        (ext, login)
        for ext, login in wanted.items()
        if ext not in current_ext or current_ext[ext][0] != login
    ]
    changes.extensions_added = sorted(ext_to_add)
    changes.extensions_ended = sorted(ext_to_end)
    # A person valid from before `as_of` holds their extensions from then too, unless another
    # holder has one now (it moves at `as_of`) or had it since (it starts where theirs ended).
    last_end = _last_ends(con)
    ext_starts = {
        (ext, login): as_of
        if ext in current_ext or starts.get(login, as_of) >= as_of
        else max(starts[login], last_end.get(ext, SINCE_EVER))
        for ext, login in ext_to_add
    }
    ext_backdated = [
        (ext, login, max(as_of, last_end.get(ext, SINCE_EVER)))
        for ext, (login, since) in current_ext.items()
        if login in changes.backdated and since == current[login]["valid_from"]
    ]
    changes.effective_from = min(
        [as_of, *starts.values(), *ext_starts.values(), *(t for _, _, t in ext_backdated)]
    )

    latest = [current[login]["valid_from"] for login in to_end] + [
        current_ext[ext][1] for ext, _ in ext_to_end
    ]
    if latest and max(latest) > as_of:
        raise DirectoryError(
            f"as-of {as_of:%Y-%m-%d %H:%M:%S} UTC is before the latest change "
            f"({max(latest):%Y-%m-%d %H:%M:%S} UTC) of an entry it would change; "
            "apply directory changes in time order"
        )
    if dry_run:
        return changes
    if not changes.has_changes:  # still attribute calls never attributed (an ingest stopped)
        changes.attribution = attribute_calls(
            con, new_only=True, extension_pattern=extension_pattern
        )
        return changes

    with transaction(con):
        if to_end:
            con.execute(
                "UPDATE users SET valid_to = ? WHERE valid_to IS NULL "
                "AND login IN (SELECT unnest(?::VARCHAR[]))",
                [as_of, to_end],
            )
        if ext_to_end:
            con.execute(
                """
                UPDATE extensions SET valid_to = ?
                FROM (SELECT unnest(?::VARCHAR[]) AS ext, unnest(?::VARCHAR[]) AS holder) x
                WHERE valid_to IS NULL AND extension = x.ext AND login = x.holder
                """,
                [as_of, [e for e, _ in ext_to_end], [u for _, u in ext_to_end]],
            )
        if new_rows:
            froms = [starts[entry.login] for entry in new_rows]
            insert_frame(con, "users", _user_frame(new_rows, source, froms, recorded))
        if changes.backdated:
            con.execute(
                """
                UPDATE users SET valid_from = ?
                WHERE valid_to IS NULL AND login IN (SELECT unnest(?::VARCHAR[]))
                """,
                [as_of, changes.backdated],
            )
        if ext_backdated:
            con.execute(
                """
                UPDATE extensions SET valid_from = x.since
                FROM (SELECT unnest(?::VARCHAR[]) AS ext, unnest(?::VARCHAR[]) AS holder,
                             unnest(?::TIMESTAMP[]) AS since) x
                WHERE valid_to IS NULL AND extension = x.ext AND login = x.holder
                """,
                [
                    [e for e, _, _ in ext_backdated],
                    [u for _, u, _ in ext_backdated],
                    [t for _, _, t in ext_backdated],
                ],
            )
        if ext_to_add:
            frame = pl.DataFrame(
                {
                    "extension": [e for e, _ in ext_to_add],
                    "login": [u for _, u in ext_to_add],
                    "source": [source] * len(ext_to_add),
                    "valid_from": [ext_starts[pair] for pair in ext_to_add],
                    "valid_to": [None] * len(ext_to_add),
                    "recorded_at": [recorded] * len(ext_to_add),
                },
                schema_overrides={"valid_to": pl.Datetime("us")},
            )
            insert_frame(con, "extensions", frame)
    changes.attribution = attribute_calls(
        con, since=changes.effective_from, new_only=True, extension_pattern=extension_pattern
    )
    return changes


def _norm(value: object) -> object:
    if isinstance(value, list | tuple):
        return tuple(value)
    return value if value != "" else None


def _current_users(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, Any]]:
    cur = con.execute(
        "SELECT login, source, valid_from, " + ", ".join(USER_FIELDS) + " "
        "FROM users WHERE valid_to IS NULL"
    )
    names = [d[0] for d in cur.description or ()]
    return {row[0]: dict(zip(names, row, strict=True)) for row in cur.fetchall()}


def _first_versions(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[dt.datetime, int]]:
    """Every person the store has seen, from any source: their first start, their versions."""
    rows = con.execute("SELECT login, min(valid_from), count(*) FROM users GROUP BY login")
    return {login: (since, int(count)) for login, since, count in rows.fetchall()}


def _last_ends(con: duckdb.DuckDBPyConnection) -> dict[str, dt.datetime]:
    """When each extension's last ended holding ended."""
    rows = con.execute(
        "SELECT extension, max(valid_to) FROM extensions WHERE valid_to IS NOT NULL "
        "GROUP BY extension"
    )
    return dict(rows.fetchall())


def _current_extensions(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[str, dt.datetime]]:
    rows = con.execute(
        "SELECT extension, login, valid_from FROM extensions WHERE valid_to IS NULL"
    ).fetchall()
    return {ext: (login, since) for ext, login, since in rows}


def _user_frame(
    entries: list[DirectoryEntry],
    source: str,
    valid_from: list[dt.datetime],
    recorded: dt.datetime,
) -> pl.DataFrame:
    columns: dict[str, list[Any]] = {name: [] for name in ("login", *USER_FIELDS)}
    for entry in entries:
        columns["login"].append(entry.login)
        for name, value in entry.user_values().items():
            columns[name].append(list(value) if isinstance(value, tuple) else value)
    schema: dict[str, Any] = dict.fromkeys(columns, pl.Utf8)
    schema["scopes"] = pl.List(pl.Utf8)
    frame = pl.DataFrame(columns, schema=schema)
    return frame.with_columns(
        pl.lit(source).alias("source"),
        pl.Series("valid_from", valid_from, dtype=pl.Datetime("us")),
        pl.lit(None).cast(pl.Datetime("us")).alias("valid_to"),
        pl.lit(recorded).cast(pl.Datetime("us")).alias("recorded_at"),
    )


def list_users(
    con: duckdb.DuckDBPyConnection,
    *,
    at: dt.datetime | None = None,
    logins: list[str] | None = None,
) -> list[dict[str, Any]]:
    """People in force at `at` (naive UTC; default: now), sorted by login, with extensions."""
    where = (
        "valid_to IS NULL"
        if at is None
        else "valid_from <= ? AND (valid_to IS NULL OR ? < valid_to)"
    )
    params: list[Any] = [] if at is None else [at, at]
    ext_where = where.replace("valid_", "e.valid_")
    sql = f"""
        SELECT u.login, u.name, u.email, u.role, u.language, u.department, u.cost_center,
               u.site, u.manager, u.scopes, u.source, u.valid_from,
               coalesce((SELECT list(e.extension ORDER BY e.extension) FROM extensions e
                         WHERE e.login = u.login AND {ext_where}), []) AS extensions
        FROM users u WHERE {where.replace("valid_", "u.valid_")}
        {"AND u.login IN (SELECT unnest(?::VARCHAR[]))" if logins is not None else ""}
        ORDER BY u.login
    """  # noqa: S608
    bound = params + params + ([logins] if logins is not None else [])
    cur = con.execute(sql, bound)
    names = [d[0] for d in cur.description or ()]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def user_history(con: duckdb.DuckDBPyConnection, login: str) -> dict[str, Any]:
    """Every version of one person and every extension they held, oldest first."""
    cur = con.execute(
        "SELECT * EXCLUDE (login, recorded_at) FROM users WHERE login = ? ORDER BY valid_from",
        [login],
    )
    names = [d[0] for d in cur.description or ()]
    versions = [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
    extensions = [
        {"extension": ext, "valid_from": since, "valid_to": until}
        for ext, since, until in con.execute(
            "SELECT extension, valid_from, valid_to FROM extensions WHERE login = ? "
            "ORDER BY valid_from, extension",
            [login],
        ).fetchall()
    ]
    return {"login": login, "versions": versions, "extensions": extensions}
