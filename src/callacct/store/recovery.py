"""Discard what an interrupted ingest left behind.

Ingest commits a large file in several steps and marks it `loading` in the ledger until its last
rows are in. A run that was killed leaves such a file: every store opening removes its rows, so
no command ever sees half a file, and the next ingest loads it again completely.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import duckdb

from callacct.store.transaction import transaction

log = logging.getLogger(__name__)

# Every table whose rows belong to an ingested file.
FILE_TABLES = ("records", "rejects", "calls", "call_quality")


def discard_files(con: duckdb.DuckDBPyConnection, file_ids: Sequence[int]) -> None:
    """Delete the rows and the ledger entries of `file_ids` (inside the caller's transaction)."""
    if not file_ids:
        return
    ids = list(file_ids)
    lo, hi = min(ids), max(ids)
    for table in FILE_TABLES:
        # The range predicate lets DuckDB skip row groups by their zone maps.
        con.execute(
            f"DELETE FROM {table} WHERE file_id BETWEEN ? AND ? "  # noqa: S608 (constant names)
            "AND file_id IN (SELECT unnest(?::BIGINT[]))",
            [lo, hi, ids],
        )
    con.execute("DELETE FROM ingest_files WHERE file_id IN (SELECT unnest(?::BIGINT[]))", [ids])


def discard_unfinished(con: duckdb.DuckDBPyConnection) -> int:
    """Remove every file an interrupted run left `loading`; return how many there were."""
    ids = [
        int(r[0])
        for r in con.execute("SELECT file_id FROM ingest_files WHERE status = 'loading'").fetchall()
    ]
    if ids:
        log.warning("discarding %d file(s) left half-loaded by an interrupted ingest", len(ids))
        with transaction(con):
            discard_files(con, ids)
    return len(ids)
