"""Which phone is which extension: the `lock_devices` table, for the IP-phone service.

A phone asks for its menu with its device name (`#DEVICENAME#` in the service URL, e.g.
`SEP001122334455`). The map is kept in the store: set by hand (`lock device set`), or learnt
from the CDRs (`lock device learn`: each phone's extension is the one of its latest outgoing
or internal call), which never overrides a name set by hand. CDRs are already in callacct and
say which device made which extension's calls, so no phone-system lookup is needed. Only
desk phones (``SEP`` and a MAC address) are learnt: softphones do not run XML services, and
gateways make calls for many extensions.

Example:
    >>> check_device("SEP001122334455")
    'SEP001122334455'
    >>> check_device("SEP<x>")
    Traceback (most recent call last):
    ...
    callacct.errors.UsageError: 'SEP<x>' is not a device name (letters, digits, '_', '-'; at most 64)
"""  # noqa: E501

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

import duckdb

from callacct.errors import UsageError
from callacct.i18n import Message

_DEVICE = re.compile(r"[A-Za-z0-9_-]{1,64}")


def check_device(name: str) -> str:
    if not _DEVICE.fullmatch(name):
        raise UsageError(Message("error.not_a_device", name=repr(name)))
    return name


@dataclass(frozen=True)
class PhonePerson:
    """A phone, its extension and the person holding it now (None: nobody)."""

    device: str
    extension: str
    login: str | None
    name: str | None
    language: str | None


def set_device(
    con: duckdb.DuckDBPyConnection, device: str, extension: str, *, now: dt.datetime
) -> None:
    con.execute(
        "INSERT OR REPLACE INTO lock_devices VALUES (?, ?, 'manual', ?)",
        [check_device(device), extension, now],
    )


def remove_device(con: duckdb.DuckDBPyConnection, device: str) -> bool:
    found = con.execute("SELECT count(*) FROM lock_devices WHERE device = ?", [device]).fetchall()
    con.execute("DELETE FROM lock_devices WHERE device = ?", [device])
    return bool(found[0][0])


def learn_devices(con: duckdb.DuckDBPyConnection, *, now: dt.datetime) -> int:
    """Map each desk phone of the CDRs to the extension of its latest outgoing or internal
    call (names set by hand are kept); how many phones are mapped from CDRs now."""
    con.execute(
        """
        INSERT OR REPLACE INTO lock_devices
        SELECT device, extension, 'cdr', ? FROM (
            SELECT orig_device AS device, arg_max(extension, started_at) AS extension
            FROM calls
            WHERE orig_device IS NOT NULL AND extension IS NOT NULL
              AND direction IN ('outgoing', 'internal')
              AND regexp_full_match(orig_device, 'SEP[0-9A-Fa-f]{12}')
            GROUP BY orig_device
        )
        WHERE device NOT IN (SELECT device FROM lock_devices WHERE source = 'manual')
        """,
        [now],
    )
    rows = con.execute("SELECT count(*) FROM lock_devices WHERE source = 'cdr'").fetchall()
    return int(rows[0][0])


def list_devices(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    cursor = con.execute(
        "SELECT device, extension, source, updated_at FROM lock_devices ORDER BY device"
    )
    names = [d[0] for d in cursor.description or ()]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def phone_people(
    con: duckdb.DuckDBPyConnection, device: str | None = None
) -> dict[str, PhonePerson]:
    """device -> PhonePerson for every mapped phone (or only `device`)."""
    rows = con.execute(
        """
        SELECT d.device, d.extension, u.login, u.name, u.language
        FROM lock_devices d
        LEFT JOIN extensions e ON e.extension = d.extension AND e.valid_to IS NULL
        LEFT JOIN users u ON u.login = e.login AND u.valid_to IS NULL
        WHERE ?::VARCHAR IS NULL OR d.device = ?
        """,
        [device, device],
    ).fetchall()
    return {row[0]: PhonePerson(*row) for row in rows}
