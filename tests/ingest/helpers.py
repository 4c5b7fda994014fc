"""Helpers shared by the dialect tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from callacct.config import Settings
from callacct.ingest.engine import IngestReport, ingest_paths
from callacct.store import Store


def ingest(store: Store, settings: Settings, path: Path, **kwargs: Any) -> IngestReport:
    """Ingest `path` and check that the counts reconcile."""
    report = ingest_paths(store, settings, [path], **kwargs)
    assert report.rows_read == report.stored + report.duplicates + report.rejected
    return report


def calls_by_line(store: Store) -> dict[int, dict[str, Any]]:
    """Every call with its record key, by the line of its source record."""
    rows = store.con.execute(
        "SELECT c.*, r.record_key FROM calls c JOIN records r USING (file_id, line_no) "
        "ORDER BY line_no"
    ).fetchall()
    names = [d[0] for d in store.con.description or []]
    return {row[names.index("line_no")]: dict(zip(names, row, strict=True)) for row in rows}
