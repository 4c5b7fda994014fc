"""The file ledger (`ingest_files`): one row per file an ingest reads.

A file enters the ledger as `loading`, committed before any row of it, and becomes `done`, with
its counts, hash and raw archive, only once every row of it (calls and archive included) is
written. A `loading` file is one whose rows nobody may see: a failed run discards them
(`cleanup.py`), a killed one leaves them to the next opening of the store
(`store/recovery.py`), and a read-only opening hides them.

The ledger also says which content is loaded already (`known_hashes`, `known_size`): such a
file is skipped by the next runs, unless that earlier read stored nothing and had rejects (read
again, after a corrected mapping say, it may store them). A file that stored nothing because it
has no records, or only duplicates, would gain nothing from a new read.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import duckdb
import polars as pl

from callacct.errors import IngestError
from callacct.ingest.plan import LoadFile, utcnow
from callacct.store import Store, insert_frame, registered, scalar
from callacct.store.recovery import discard_files

KNOWN = "status = 'done' AND (stored > 0 OR rejected = 0)"


class Ledger:
    """The ledger rows of one run (`run_id`).

    Lookups come from the thread that prepares files, ahead of the run, on a cursor of their
    own; writes happen in the run's transactions, on the store's connection.
    """

    def __init__(self, store: Store, run_id: str) -> None:
        self.store = store
        self.run_id = run_id
        self._cursor: duckdb.DuckDBPyConnection | None = None
        self._lock = threading.Lock()

    # -- lookups --------------------------------------------------------------------------

    def known_hashes(self, hashes: set[str]) -> set[str]:
        """Which of `hashes` are the content of a file already loaded (see `KNOWN`)."""
        if not hashes:
            return set()
        with self._reading() as cursor:
            rows = cursor.execute(
                f"SELECT DISTINCT sha256 FROM ingest_files WHERE {KNOWN} "  # noqa: S608
                "AND sha256 IN (SELECT unnest(?::VARCHAR[]))",
                [sorted(hashes)],
            ).fetchall()
        return {r[0] for r in rows}

    def known_size(self, size: int) -> bool:
        """Whether a file already loaded has `size` bytes (only then is a large file worth
        hashing before it is read)."""
        with self._reading() as cursor:
            sql = f"SELECT count(*) FROM ingest_files WHERE size = ? AND {KNOWN}"  # noqa: S608
            return bool(scalar(cursor, sql, [size]))

    @contextmanager
    def _reading(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with self._lock:
            if self._cursor is None:
                self._cursor = self.store.con.cursor()
            yield self._cursor

    @contextmanager
    def paused(self) -> Iterator[None]:
        """No lookup runs meanwhile and their cursor is closed, so the store's connection may
        be closed and opened again; lookups resume on the store's connection of then."""
        with self._lock:
            self._close_cursor()
            yield

    def close(self) -> None:
        with self._lock:
            self._close_cursor()

    def _close_cursor(self) -> None:
        cursor, self._cursor = self._cursor, None
        if cursor is not None:
            # A store a failure invalidated may refuse even this; the failure is reported.
            with contextlib.suppress(duckdb.Error):
                cursor.close()

    # -- writes ---------------------------------------------------------------------------

    def new_ids(self, count: int) -> list[int]:
        rows = self.store.con.execute(
            "SELECT nextval('file_id_seq') FROM range(?)", [count]
        ).fetchall()
        return [int(r[0]) for r in rows]

    def add_loading(self, files: list[LoadFile]) -> None:
        """Enter `files` as `loading`, committed before any of their rows is written."""
        with self.store.transaction() as con:
            insert_frame(con, "ingest_files", self._rows(files, status="loading"))

    def mark_done(self, files: list[LoadFile]) -> None:
        """Mark the files done, with their counts, hash and archives, in the open transaction;
        earlier reads of the same content are superseded (`_supersede`)."""
        con = self.store.con
        with registered(con, "_ledger", self._rows(files, status="done")):
            con.execute(
                """
                UPDATE ingest_files SET sha256 = l.sha256, rows_read = l.rows_read,
                    stored = l.stored, duplicates = l.duplicates, rejected = l.rejected,
                    finished_at = l.finished_at, status = l.status, archive = l.archive,
                    archive_at = l.archive_at
                FROM _ledger l WHERE ingest_files.file_id = l.file_id
                """
            )
            _supersede(con)

    def _rows(self, files: list[LoadFile], *, status: str) -> pl.DataFrame:
        now = utcnow()
        rows = []
        for item in files:
            r = item.result
            if status == "done" and r.rows_read != r.stored + r.duplicates + r.rejected:
                raise IngestError(f"{item.path}: counts do not reconcile ({r}); please report")
            rows.append(
                {
                    "file_id": r.file_id,
                    "path": str(item.path),
                    "name": item.path.name,
                    "size": item.size,
                    "sha256": item.sha256 or "",
                    "dialect": item.dialect.name,
                    "header": item.layout.header_text,
                    "rows_read": r.rows_read,
                    "stored": r.stored,
                    "duplicates": r.duplicates,
                    "rejected": r.rejected,
                    "started_at": item.started_at,
                    "finished_at": now,
                    "status": status,
                    "archive": item.archive,
                    "archive_at": item.archive_at,
                    "run_id": self.run_id,
                }
            )
        return pl.DataFrame(rows, schema_overrides={"archive_at": pl.Int64})


def _supersede(con: duckdb.DuckDBPyConnection) -> None:
    """After a new read of content read before (`--force`, or a file that had stored nothing),
    the earlier reads' rejects are replaced by the new read's, and an earlier read that stored
    nothing is removed: the ledger and `ingest --rejects` tell what the latest read found, and
    the records stored once stay (the new read counted them as duplicates)."""
    earlier = (
        "SELECT f.file_id, f.stored FROM ingest_files f JOIN _ledger l "
        "ON f.sha256 = l.sha256 AND f.file_id <> l.file_id "
        "WHERE f.status = 'done' AND l.sha256 <> '' AND f.file_id NOT IN "
        "(SELECT file_id FROM _ledger)"
    )
    rows = con.execute(earlier).fetchall()
    if not rows:
        return
    ids = sorted({int(r[0]) for r in rows})
    con.execute("DELETE FROM rejects WHERE file_id IN (SELECT unnest(?::BIGINT[]))", [ids])
    discard_files(con, sorted({int(r[0]) for r in rows if r[1] == 0}))
