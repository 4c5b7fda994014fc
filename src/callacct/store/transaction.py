"""One transaction: all of a block is stored, or none of it.

Every writer of the store uses this (or `Store.transaction()`, the same) rather than its own
BEGIN/COMMIT, so a failure always rolls back, and a rollback DuckDB refuses (a store the
failure invalidated, a full disk) never hides the failure itself.

Example:
    >>> import duckdb
    >>> con = duckdb.connect()
    >>> _ = con.execute("CREATE TABLE t (n INTEGER)")
    >>> with transaction(con):
    ...     _ = con.execute("INSERT INTO t VALUES (1)")
    >>> try:
    ...     with transaction(con):
    ...         _ = con.execute("INSERT INTO t VALUES (2)")
    ...         raise ValueError("stop")
    ... except ValueError:
    ...     pass
    >>> con.execute("SELECT list(n) FROM t").fetchall()
    [([1],)]
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import duckdb

log = logging.getLogger(__name__)


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """Run the block in one transaction on `con`: committed at its end, rolled back if it
    raises (the error is raised again)."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        try:
            con.execute("ROLLBACK")
        except duckdb.Error as exc:
            # A store the failure invalidated refuses even this: the failure is what to tell.
            log.debug("rollback refused after a failure: %s", exc)
        raise
    con.execute("COMMIT")
