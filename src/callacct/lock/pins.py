"""Personal PINs (F-LOCK-2, F-LOCK-3): salted scrypt hashes, constant-time checks, blocking.

A PIN is stored as ``scrypt$N$r$p$salt$hash`` (base64), never as itself; the check recomputes
the hash and compares it with `hmac.compare_digest`. After `lock.pin_attempts` wrong PINs in
a row the PIN is blocked for `lock.pin_block_minutes`: while blocked even the right PIN is
refused, so guessing gains nothing; the right PIN, once unblocked, clears the count. PINs are
never logged, returned or kept anywhere else.

Example:
    >>> stored = hash_pin("2580")
    >>> stored.startswith("scrypt$"), pin_matches("2580", stored), pin_matches("2581", stored)
    (True, True, False)
    >>> check_new_pin("1111", 4)
    Traceback (most recent call last):
    ...
    callacct.errors.LockError: a PIN of one digit repeated is too easy to guess; choose another
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import itertools
import logging
import secrets
from dataclasses import dataclass
from typing import Any

import duckdb

from callacct.config import LockSettings
from callacct.errors import LockError

log = logging.getLogger(__name__)

# scrypt cost: N=2^14, r=8 needs 16 MB of memory a check: slow for a guesser, fine for a phone.
_N, _R, _P, _LENGTH = 2**14, 8, 1, 32


def hash_pin(pin: str, *, salt: bytes | None = None) -> str:
    """The stored form of `pin`: scrypt with a random 16-byte salt."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=_LENGTH)
    return "$".join(("scrypt", str(_N), str(_R), str(_P), _b64(salt), _b64(digest)))


def pin_matches(pin: str, stored: str) -> bool:
    """Whether `pin` hashes to `stored` (compared in constant time)."""
    try:
        name, n, r, p, salt, digest = stored.split("$")
        expected = base64.b64decode(digest)
        computed = hashlib.scrypt(
            pin.encode(),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
        )
    except (ValueError, TypeError):
        log.warning("a stored PIN hash is not in the scrypt form; treated as not matching")
        return False
    return name == "scrypt" and hmac.compare_digest(computed, expected)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def check_new_pin(pin: str, length: int) -> str:
    """Return `pin` if it can be a PIN: exactly `length` digits, not one digit repeated, not a
    run such as 1234 or 9876; else `LockError` (the message never shows the PIN)."""
    if len(pin) != length or not pin.isascii() or not pin.isdigit():
        raise LockError(f"a PIN is exactly {length} digits")
    if len(set(pin)) == 1:
        raise LockError("a PIN of one digit repeated is too easy to guess; choose another")
    steps = {int(b) - int(a) for a, b in itertools.pairwise(pin)}
    if steps in ({1}, {-1}):
        raise LockError("a PIN of consecutive digits is too easy to guess; choose another")
    return pin


@dataclass(frozen=True)
class PinCheck:
    """The answer to a PIN: `ok`, else why not (`missing`, `wrong`, `blocked`)."""

    ok: bool
    reason: str = ""
    attempts_left: int = 0
    blocked_until: dt.datetime | None = None


def set_pin(
    con: duckdb.DuckDBPyConnection,
    login: str,
    pin: str,
    settings: LockSettings,
    *,
    by: str,
    now: dt.datetime,
) -> None:
    """Store a new PIN for `login` (checked first), clearing any block."""
    stored = hash_pin(check_new_pin(pin, settings.pin_length))
    con.execute(
        "INSERT OR REPLACE INTO lock_pins (login, pin_hash, failed_attempts, blocked_until, "
        "set_at, set_by) VALUES (?, ?, 0, NULL, ?, ?)",
        [login, stored, now, by],
    )


def reset_pin(con: duckdb.DuckDBPyConnection, login: str) -> bool:
    """Remove `login`'s PIN and its block; whether there was one."""
    had = con.execute("SELECT count(*) FROM lock_pins WHERE login = ?", [login]).fetchall()[0][0]
    con.execute("DELETE FROM lock_pins WHERE login = ?", [login])
    return bool(had)


def has_pin(con: duckdb.DuckDBPyConnection, login: str) -> bool:
    rows = con.execute("SELECT count(*) FROM lock_pins WHERE login = ?", [login]).fetchall()
    return bool(rows[0][0])


def verify_pin(
    con: duckdb.DuckDBPyConnection,
    login: str,
    pin: str,
    settings: LockSettings,
    *,
    now: dt.datetime,
) -> PinCheck:
    """Check `pin` for `login`, counting a wrong one (run it in a write transaction)."""
    rows = con.execute(
        "SELECT pin_hash, failed_attempts, blocked_until FROM lock_pins WHERE login = ?", [login]
    ).fetchall()
    if not rows:
        return PinCheck(False, "missing")
    stored, failed, blocked_until = rows[0]
    if blocked_until is not None and blocked_until > now:
        return PinCheck(False, "blocked", blocked_until=blocked_until)
    if blocked_until is not None:  # the block has run out: a fresh count
        failed = 0
    if pin_matches(pin, stored):
        con.execute(
            "UPDATE lock_pins SET failed_attempts = 0, blocked_until = NULL WHERE login = ?",
            [login],
        )
        return PinCheck(True)
    failed += 1
    until = None
    if failed >= settings.pin_attempts:
        until = now + dt.timedelta(minutes=settings.pin_block_minutes)
        log.warning("PIN of %s blocked until %s after %d wrong attempts", login, until, failed)
    con.execute(
        "UPDATE lock_pins SET failed_attempts = ?, blocked_until = ? WHERE login = ?",
        [failed, until, login],
    )
    if until is not None:
        return PinCheck(False, "blocked", blocked_until=until)
    return PinCheck(False, "wrong", attempts_left=settings.pin_attempts - failed)


def pin_states(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """login -> blocked_until (None when not blocked) for everyone with a PIN."""
    return dict(con.execute("SELECT login, blocked_until FROM lock_pins").fetchall())
