"""CDR ingest: dialects, parsing, validation and storage."""

from __future__ import annotations

from typing import Any

from callacct.store import Store


def list_rejects(store: Store, *, last: int = 50) -> list[dict[str, Any]]:
    """The most recent rejected records, newest first, with their file and line."""
    rows = store.con.execute(
        """
        SELECT f.path AS file, r.line_no AS line, r.reason, r.message, r.raw, r.file_id,
               f.finished_at AS ingested_at
        FROM rejects r JOIN ingest_files f USING (file_id)
        ORDER BY f.finished_at DESC, r.file_id DESC, r.line_no
        LIMIT ?
        """,
        [last],
    ).fetchall()
    keys = ("file", "line", "reason", "message", "raw", "file_id", "ingested_at")
    return [dict(zip(keys, row, strict=True)) for row in rows]
