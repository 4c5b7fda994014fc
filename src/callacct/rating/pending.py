"""Re-rating left to do: a tariff stored but the calls not yet rated again with it.

`import_tariff` marks it in the transaction that stores the version, and `rate_calls` clears it
in the transaction that re-rates every call, so a command killed between the two leaves the
mark. While it is there, stored costs may be stale: commands that show costs say so, and the next
`rate_calls` (the next ingest or `callacct rate`) rates every call and clears it.

Example:
    >>> import duckdb
    >>> con = duckdb.connect()
    >>> _ = con.execute("CREATE TABLE pending_work (kind VARCHAR, reason VARCHAR, since TIMESTAMP)")
    >>> mark_rerate(con, "tariff fr version 2 was imported")
    >>> rerate_pending(con)
    'tariff fr version 2 was imported'
    >>> clear_rerate(con); rerate_pending(con) is None
    True
"""

from __future__ import annotations

import datetime as dt
from typing import Final

import duckdb

RERATE: Final = "rerate"


def mark_rerate(con: duckdb.DuckDBPyConnection, reason: str) -> None:
    """Record that stored costs must be computed again (`reason`: what changed)."""
    con.execute("DELETE FROM pending_work WHERE kind = ?", [RERATE])
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    con.execute("INSERT INTO pending_work VALUES (?, ?, ?)", [RERATE, reason, now])


def rerate_pending(con: duckdb.DuckDBPyConnection) -> str | None:
    """Why the calls must be rated again, or None when their costs follow the tariffs."""
    rows = con.execute(
        "SELECT reason FROM pending_work WHERE kind = ? ORDER BY since DESC LIMIT 1", [RERATE]
    ).fetchall()
    return str(rows[0][0]) if rows else None


def clear_rerate(con: duckdb.DuckDBPyConnection) -> None:
    """Every call was rated with the current tariffs."""
    con.execute("DELETE FROM pending_work WHERE kind = ?", [RERATE])


def stale_costs_warning(con: duckdb.DuckDBPyConnection) -> str | None:
    """The warning every command that shows costs gives while a re-rate is pending."""
    reason = rerate_pending(con)
    if reason is None:
        return None
    return (
        f"costs may be out of date: {reason} but the calls were not rated again since; "
        "run 'callacct rate' (the next ingest does it too)"
    )
