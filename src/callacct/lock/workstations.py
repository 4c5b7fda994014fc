"""Workstation tokens (F-LOCK-4): a logoff or session lock locks the person's phone, a logon
or unlock unlocks it, asked by a hook script on the machine with a per-machine token.

A token is 256 random bits, shown once when the machine is added and stored as its SHA-256
(a random token needs no slow hash: nothing can be guessed from it). Each machine is tied to
one person; the hook may also send the name of who logs on, and a name that is not that
person's is refused.

Example:
    >>> workstation_action("logoff"), workstation_action("unlock")
    ('lock', 'unlock')
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from typing import Any

import duckdb

from callacct.errors import UsageError
from callacct.i18n import Message

#: Workstation events and what they do to the phone.
EVENTS = {"logoff": "lock", "lock": "lock", "logon": "unlock", "unlock": "unlock"}
_MACHINE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def workstation_action(event: str) -> str:
    try:
        return EVENTS[event]
    except KeyError:
        raise UsageError(f"{event!r} is not one of {', '.join(EVENTS)}") from None


def check_machine(name: str) -> str:
    if not _MACHINE.fullmatch(name):
        raise UsageError(Message("error.not_a_machine", name=repr(name)))
    return name


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def add_workstation(
    con: duckdb.DuckDBPyConnection, machine: str, login: str, *, by: str, now: dt.datetime
) -> str:
    """Tie `machine` to `login` with a new token (replacing any earlier one); the token, which
    is not stored and cannot be shown again."""
    token = secrets.token_urlsafe(32)
    con.execute(
        "INSERT OR REPLACE INTO lock_workstations VALUES (?, ?, ?, ?, ?, NULL)",
        [check_machine(machine), login, _digest(token), now, by],
    )
    return token


def remove_workstation(con: duckdb.DuckDBPyConnection, machine: str) -> bool:
    found = con.execute(
        "SELECT count(*) FROM lock_workstations WHERE machine = ?", [machine]
    ).fetchall()
    con.execute("DELETE FROM lock_workstations WHERE machine = ?", [machine])
    return bool(found[0][0])


def list_workstations(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    cursor = con.execute(
        "SELECT machine, login, created_at, created_by, last_used_at FROM lock_workstations "
        "ORDER BY machine"
    )
    names = [d[0] for d in cursor.description or ()]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def token_owner(
    con: duckdb.DuckDBPyConnection, token: str, *, now: dt.datetime
) -> tuple[str, str] | None:
    """(machine, login) of `token`, noting its use; None for an unknown token."""
    if not token or len(token) > 200:
        return None
    rows = con.execute(
        "SELECT machine, login FROM lock_workstations WHERE token_hash = ?", [_digest(token)]
    ).fetchall()
    if not rows:
        return None
    con.execute(
        "UPDATE lock_workstations SET last_used_at = ? WHERE machine = ?", [now, rows[0][0]]
    )
    return str(rows[0][0]), str(rows[0][1])
