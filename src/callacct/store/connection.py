"""Open the store: one DuckDB file per workspace, shared safely between processes.

DuckDB lets one process at a time open a file for writing, or several for reading. A second
`callacct` (two cron ingests, or an ingest while a report runs) waits with back-off until the
first closes the file, up to `store.lock_timeout_s`, then fails with a clear message: never a
corrupt store.

Commands that only read open the store read-only (`open_store(..., read_only=True)`): no
migration, no recovery, nothing written, so they work on a full disk or a read-only folder and
several of them run at once. Files a killed ingest left half-loaded are hidden from such a
reader (temporary views over the file tables leave their rows out: never half a file) until
the next writer removes them. A store that needs a migration is opened for writing once, after
an upgrade of callacct, then read-only.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from callacct.errors import StoreBusyError, StoreError
from callacct.store.recovery import FILE_TABLES, discard_unfinished
from callacct.store.schema import MIGRATIONS

log = logging.getLogger(__name__)


@dataclass
class Store:
    """An open store: the DuckDB connection and the workspace folder that holds it."""

    con: duckdb.DuckDBPyConnection
    path: Path
    read_only: bool = False

    @property
    def root(self) -> Path:
        return self.path.parent

    @property
    def archive_dir(self) -> Path:
        return self.root / "archive" / "raw"

    def close(self) -> None:
        self.con.close()

    @property
    def schema_version(self) -> int:
        version = scalar(self.con, "SELECT max(version) FROM schema_version")
        return int(version) if version is not None else 0

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """Run a block in one transaction: all of it is stored, or none of it."""
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield self.con
        except BaseException:
            try:
                self.con.execute("ROLLBACK")
            except duckdb.Error as exc:
                # A store the failure invalidated refuses even this: the failure is what to tell.
                log.debug("rollback refused after a failure: %s", exc)
            raise
        self.con.execute("COMMIT")


def open_store(
    path: Path,
    *,
    lock_timeout_s: float = 300.0,
    memory_limit: str = "1GB",
    on_wait: Callable[[float], None] | None = None,
    read_only: bool = False,
) -> Store:
    """Open (creating if needed) the store at `path` and bring its schema up to date.

    With `read_only`, nothing is written (DuckDB refuses any write on the connection) and
    files a killed ingest left half-loaded are hidden; only a store that does not exist yet or
    needs a migration is first opened for writing, once. `on_wait(seconds_waited)` is called
    while another process holds the file.
    """
    if read_only and path.is_file():
        store = _open(path, lock_timeout_s, memory_limit, on_wait, read_only=True)
        try:
            current = _schema_is_current(store)
            if current:
                _hide_unfinished(store)
        except BaseException:
            store.close()
            raise
        if current:
            return store
        store.close()
        log.info("%s: migrated before it is read", path)
    store = _open(path, lock_timeout_s, memory_limit, on_wait, read_only=False)
    if not read_only:
        return store
    store.close()
    return _open(path, lock_timeout_s, memory_limit, on_wait, read_only=True)


def _open(
    path: Path,
    lock_timeout_s: float,
    memory_limit: str,
    on_wait: Callable[[float], None] | None,
    *,
    read_only: bool,
) -> Store:
    con = _connect_with_backoff(path, lock_timeout_s, on_wait, read_only=read_only)
    try:
        con.execute("SET memory_limit = ?", [memory_limit])
        con.execute("SET preserve_insertion_order = false")
        # DuckDB draws its own progress bar on stdout for long queries: it would corrupt
        # --json output. Commands show their own progress on stderr.
        con.execute("SET enable_progress_bar = false")
        store = Store(con=con, path=path, read_only=read_only)
        if not read_only:
            migrate(store)
            discard_unfinished(con)
    except duckdb.Error as exc:
        con.close()
        raise damaged_store_error(path, exc) or StoreError(
            f"{path}: cannot prepare the store: {_first_line(exc)}"
        ) from exc
    except BaseException:
        con.close()
        raise
    return store


def _schema_is_current(store: Store) -> bool:
    """Whether every migration is applied (a store of a newer callacct is refused)."""
    if not scalar(
        store.con,
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'schema_version' "
        "AND database_name = current_database() AND schema_name = 'main'",
    ):
        return False
    version = store.schema_version
    if version > len(MIGRATIONS):
        raise _newer_store_error(store.path, version)
    return version == len(MIGRATIONS)


def _hide_unfinished(store: Store) -> int:
    """Hide, from a read-only connection, the rows of files a killed ingest left `loading`:
    temporary views named like the tables come first in name lookup and leave them out.
    Returns how many files are hidden."""
    con = store.con
    count = int(scalar(con, "SELECT count(*) FROM ingest_files WHERE status = 'loading'"))
    if not count:
        return 0
    database = '"' + str(scalar(con, "SELECT current_database()")).replace('"', '""') + '"'
    ledger = f"{database}.main.ingest_files"
    for table in FILE_TABLES:
        # Only this package's table names and the quoted database name go into the SQL.
        con.execute(
            f"CREATE TEMP VIEW {table} AS SELECT * FROM {database}.main.{table} "  # noqa: S608
            f"WHERE file_id NOT IN (SELECT file_id FROM {ledger} WHERE status = 'loading')"
        )
    con.execute(
        f"CREATE TEMP VIEW ingest_files AS SELECT * FROM {ledger} "  # noqa: S608
        "WHERE status <> 'loading'"
    )
    log.warning(
        "%s: %d file(s) left half-loaded by an interrupted ingest are not shown; "
        "the next ingest loads them again",
        store.path,
        count,
    )
    return count


def is_read_only(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether `con` was opened read-only (then caches are read, not filled).

    >>> is_read_only(duckdb.connect())
    False
    """
    return bool(scalar(con, "SELECT current_setting('access_mode')") == "read_only")


# DuckDB's words for a block whose checksum does not match (a damaged file).
_DAMAGE = ("corrupt database file", "checksum")


def damaged_store_error(path: Path, exc: BaseException) -> StoreError | None:
    """The one-line error for a damaged store file, if `exc` says it is damaged; else None.

    >>> damaged_store_error(Path("ws/callacct.duckdb"), duckdb.Error(
    ...     "Corrupt database file: computed checksum 1 does not match stored checksum 2"))
    StoreError('ws/callacct.duckdb: the store file is damaged (Corrupt database file: computed checksum 1 does not match stored checksum 2); restore it from a backup, or move it aside and rebuild it: ingest the CDR files again and import the directory and tariffs again')
    """  # noqa: E501
    text = str(exc)
    if not any(word in text.lower() for word in _DAMAGE):
        return None
    if "wal" in text.lower():
        return StoreError(
            f"{path}.wal: the store's write-ahead log is damaged ({_first_line(exc)}); "
            "move that file aside to open the store as of its last checkpoint (then ingest "
            "again the files of the last runs), or restore a backup"
        )
    return StoreError(
        f"{path}: the store file is damaged ({_first_line(exc)}); restore it from a "
        "backup, or move it aside and rebuild it: ingest the CDR files again and import "
        "the directory and tariffs again"
    )


def _first_line(exc: BaseException) -> str:
    """DuckDB's message without the advice it adds on further lines: messages stay one line."""
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def _newer_store_error(path: Path, version: int) -> StoreError:
    return StoreError(
        f"{path}: the store has schema version {version} but this callacct knows "
        f"only up to {len(MIGRATIONS)}; upgrade callacct"
    )


def _connect_with_backoff(
    path: Path, timeout: float, on_wait: Callable[[float], None] | None, *, read_only: bool
) -> duckdb.DuckDBPyConnection:
    start = time.monotonic()
    delay = 0.05
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise damaged_store_error(path, exc) or StoreError(
                    f"{path}: cannot open the store: {_first_line(exc)}"
                ) from exc
            waited = time.monotonic() - start
            if waited >= timeout:
                raise StoreBusyError(
                    f"{path}: still in use by another callacct process after {waited:.0f} s; "
                    "try again later or raise store.lock_timeout_s"
                ) from exc
            if on_wait is not None:
                on_wait(waited)
            log.debug("store locked by another process, waiting %.2f s", delay)
            time.sleep(min(delay, max(timeout - waited, 0.01)))
            delay = min(delay * 1.6, 2.0)
        except duckdb.Error as exc:
            raise damaged_store_error(path, exc) or StoreError(
                f"{path}: not a callacct store ({_first_line(exc)})"
            ) from exc


def migrate(store: Store) -> int:
    """Apply the migrations the store has not seen yet; return the schema version."""
    con = store.con
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL, "
        "applied_at TIMESTAMP NOT NULL DEFAULT (now()::TIMESTAMP))"
    )
    current = store.schema_version
    if current > len(MIGRATIONS):
        raise _newer_store_error(store.path, current)
    for version, sql in enumerate(MIGRATIONS[current:], start=current + 1):
        with store.transaction():
            con.execute(sql)
            con.execute("INSERT INTO schema_version (version) VALUES (?)", [version])
        log.info("store migrated to schema version %d", version)
    return store.schema_version


def fetch_frame(
    con: duckdb.DuckDBPyConnection, sql: str, params: list[object] | None = None
) -> pl.DataFrame:
    """Run `sql` with bound `params` and return the result as a Polars frame."""
    frame: pl.DataFrame = con.sql(sql, params=params or []).pl()
    return frame


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list[object] | None = None) -> Any:
    """The single value `sql` returns (the result is fully fetched, as DuckDB requires)."""
    rows = con.execute(sql, params or []).fetchall()
    return rows[0][0] if rows else None
