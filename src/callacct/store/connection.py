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

A writer lets waiting readers in at its safe points (`Store.let_readers_in`, between the
batches and stages of an ingest): it closes its connection, the readers open theirs, and it
opens it again once they are in. Lock files beside the store keep other writers out meanwhile
and tell the writer that readers wait (`callacct.store.sharing`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from callacct.errors import StoreBusyError, StoreError
from callacct.store.recovery import FILE_TABLES, discard_unfinished
from callacct.store.schema import MIGRATIONS
from callacct.store.sharing import READER_POLL_S, ReadersGate, WriterLock, waiting_to_read
from callacct.store.transaction import transaction

log = logging.getLogger(__name__)


@dataclass
class Store:
    """An open store: the DuckDB connection and the workspace folder that holds it.

    A writing store holds the writer lock (`writer`) until it is closed, and sees the readers'
    gate (`gate`) to let them in at safe points; `con` is then a new connection.
    """

    con: duckdb.DuckDBPyConnection
    path: Path
    read_only: bool = False
    lock_timeout_s: float = 300.0
    memory_limit: str = "1GB"
    on_wait: Callable[[float], None] | None = field(default=None, repr=False)
    writer: WriterLock | None = field(default=None, repr=False)
    gate: ReadersGate | None = field(default=None, repr=False)

    @property
    def root(self) -> Path:
        return self.path.parent

    @property
    def archive_dir(self) -> Path:
        return self.root / "archive" / "raw"

    def close(self) -> None:
        try:
            self.con.close()
        finally:
            if self.gate is not None:
                self.gate.close()
                self.gate = None
            if self.writer is not None:
                self.writer.release()
                self.writer = None

    def readers_waiting(self) -> bool:
        """Whether a reader waits for this writer to let it in."""
        return self.gate is not None and self.gate.readers_waiting()

    def let_readers_in(self) -> bool:
        """At a safe point of a writer (nothing uncommitted, no other connection or cursor of
        it in use): if readers wait, close the connection, let them in, and open a new one
        once they are in (waiting while they read, up to `lock_timeout_s`). Returns whether
        it did; `con` is then a new connection, with this store's settings."""
        if self.read_only or self.gate is None or not self.gate.readers_waiting():
            return False
        log.info("%s: letting waiting readers in", self.path)
        self.con.close()
        closed = self.gate.close_gate()
        try:
            con = _connect_with_backoff(
                self.path, self.lock_timeout_s, self.on_wait, read_only=False, poll_s=0.05
            )
            _configure(con, self.memory_limit)
            self.con = con
        finally:
            if closed:
                self.gate.open_gate()
        return True

    @property
    def schema_version(self) -> int:
        version = scalar(self.con, "SELECT max(version) FROM schema_version")
        return int(version) if version is not None else 0

    def transaction(self) -> AbstractContextManager[duckdb.DuckDBPyConnection]:
        """Run a block in one transaction: all of it is stored, or none of it
        (`callacct.store.transaction.transaction` on this store's connection)."""
        return transaction(self.con)


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
    while another process holds the file. A reader waiting for a writer is let in at the
    writer's next safe point; it waits at most `lock_timeout_s`, then `StoreBusyError`.
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
    writer = None
    if read_only:
        deadline = time.monotonic() + lock_timeout_s
        with waiting_to_read(path, deadline=deadline):
            con = _connect_with_backoff(
                path, lock_timeout_s, on_wait, read_only=True, poll_s=READER_POLL_S
            )
    else:
        writer = WriterLock.acquire(
            path, timeout_s=lock_timeout_s, on_wait=on_wait, busy=lambda s: _busy(path, s)
        )
        try:
            con = _connect_with_backoff(path, lock_timeout_s, on_wait, read_only=False)
        except BaseException:
            writer.release()
            raise
    store = Store(
        con=con,
        path=path,
        read_only=read_only,
        lock_timeout_s=lock_timeout_s,
        memory_limit=memory_limit,
        on_wait=on_wait,
        writer=writer,
    )
    try:
        _configure(con, memory_limit)
        if not read_only:
            migrate(store)
            discard_unfinished(con)
            store.gate = ReadersGate.open(path)
    except duckdb.Error as exc:
        store.close()
        raise damaged_store_error(path, exc) or StoreError(
            f"{path}: cannot prepare the store: {_first_line(exc)}"
        ) from exc
    except BaseException:
        store.close()
        raise
    return store


def _configure(con: duckdb.DuckDBPyConnection, memory_limit: str) -> None:
    con.execute("SET memory_limit = ?", [memory_limit])
    con.execute("SET preserve_insertion_order = false")
    # DuckDB draws its own progress bar on stdout for long queries: it would corrupt
    # --json output. Commands show their own progress on stderr.
    con.execute("SET enable_progress_bar = false")


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


def _busy(path: Path, waited: float) -> StoreBusyError:
    return StoreBusyError(
        f"{path}: still in use by another callacct process after {waited:.0f} s; "
        "try again later or raise store.lock_timeout_s"
    )


def _connect_with_backoff(
    path: Path,
    timeout: float,
    on_wait: Callable[[float], None] | None,
    *,
    read_only: bool,
    poll_s: float | None = None,
) -> duckdb.DuckDBPyConnection:
    """Connect, trying again while another process holds the file: with back-off, or every
    `poll_s` (a reader at the gate, a writer getting back in: the gap is short)."""
    start = time.monotonic()
    delay = poll_s or 0.05
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
                raise _busy(path, waited) from exc
            if on_wait is not None:
                on_wait(waited)
            log.debug("store locked by another process, waiting %.2f s", delay)
            time.sleep(min(delay, max(timeout - waited, 0.01)))
            if poll_s is None:
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


@contextmanager
def registered(con: duckdb.DuckDBPyConnection, name: str, frame: pl.DataFrame) -> Iterator[str]:
    """`frame` readable in SQL as the view `name` (a constant of the caller, never user
    input) for the block, which gets the name. It goes as Polars' own string layout (Arrow
    string views), which DuckDB reads as it is: the default conversion copies every text
    column first."""
    con.register(name, frame.to_arrow(compat_level=pl.CompatLevel.newest()))
    try:
        yield name
    finally:
        con.unregister(name)


def insert_frame(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> None:
    """Append `frame` to `table` (a table name of callacct's, never user input), its columns
    matched by name; the table's other columns get their defaults."""
    with registered(con, "_inserted_rows", frame):
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _inserted_rows")  # noqa: S608


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list[object] | None = None) -> Any:
    """The single value `sql` returns (the result is fully fetched, as DuckDB requires)."""
    rows = con.execute(sql, params or []).fetchall()
    return rows[0][0] if rows else None
