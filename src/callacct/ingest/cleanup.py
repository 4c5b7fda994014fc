"""What a failed or killed run leaves behind, removed; a full disk told in one line.

A failed batch's raw archives go first: they are files of this run, always removable, while the
store may not be writable (a full disk). Then its rows and ledger entries are deleted; if the
store refuses that too, its files stay `loading` in the ledger and the next opening of the store
discards their rows (`store/recovery.py`). Archives a killed run wrote but never committed are
referenced by nothing and are removed by the next ingest (`remove_orphan_archives`).
"""

from __future__ import annotations

import logging

import duckdb

from callacct.errors import StoreError
from callacct.ingest.plan import LoadFile
from callacct.ingest.report import IngestReport
from callacct.store import Store
from callacct.store.archive import archive_files, remove_archive
from callacct.store.disk import write_failure
from callacct.store.recovery import discard_files

log = logging.getLogger(__name__)


def discard(store: Store, files: list[LoadFile]) -> None:
    """Remove every raw archive and row of `files` (see the module docstring)."""
    if not files:
        return
    for name in sorted({f.archive for f in files if f.archive}):
        remove_archive(store.archive_dir / name)
    try:
        with store.transaction() as con:
            discard_files(con, [f.result.file_id or 0 for f in files])
    except duckdb.Error as exc:
        log.info(
            "%s: the rows of the failed files will be discarded when the store is next opened (%s)",
            store.path,
            exc,
        )


def rollback(con: duckdb.DuckDBPyConnection) -> None:
    """Roll back the open transaction, if there is one (a failed commit may have ended it)."""
    try:
        con.execute("ROLLBACK")
    except duckdb.Error:
        log.debug("no transaction to roll back (it had been committed)")


def remove_orphan_archives(store: Store) -> None:
    """Delete raw archives a killed run wrote but never committed."""
    root = store.archive_dir
    if not root.is_dir():
        return
    referenced = {
        r[0]
        for r in store.con.execute(
            "SELECT DISTINCT unnest(string_split(archive, ',')) FROM ingest_files "
            "WHERE archive <> ''"
        ).fetchall()
    }
    for path in archive_files(root):
        if path.relative_to(root).as_posix() not in referenced:
            log.info("removing uncommitted archive %s", path)
            path.unlink()


def stopped_error(store: Store, report: IngestReport, exc: BaseException) -> StoreError | None:
    """The one-line error for a run stopped by a disk that cannot be written (full, read-only),
    or None for any other failure. What the failed batch wrote is gone by then (`discard`)."""
    reason = write_failure(exc)
    if reason is None:
        return None
    where = exc.filename if isinstance(exc, OSError) and exc.filename else store.path
    before = f" ({report.files} file(s) loaded before it are stored)" if report.files else ""
    return StoreError(
        f"{where}: cannot write ({reason}). Nothing of the files being loaded was kept{before}; "
        "free space or make it writable, then run the ingest again"
    )
