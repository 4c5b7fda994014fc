"""Open the store: one DuckDB file per workspace, shared safely between processes.

DuckDB lets one process at a time open a file for writing. A second `callacct` (two cron
ingests, or an ingest while a report runs) waits with back-off until the first closes the file,
up to `store.lock_timeout_s`, then fails with a clear message: never a corrupt store.
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
from callacct.store.recovery import discard_unfinished
from callacct.store.schema import MIGRATIONS

log = logging.getLogger(__name__)


@dataclass
class Store:
    """An open store: the DuckDB connection and the workspace folder that holds it."""

    con: duckdb.DuckDBPyConnection
    path: Path

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
            self.con.execute("ROLLBACK")
            raise
        self.con.execute("COMMIT")


def open_store(
    path: Path,
    *,
    lock_timeout_s: float = 300.0,
    memory_limit: str = "1GB",
    on_wait: Callable[[float], None] | None = None,
) -> Store:
    """Open (creating if needed) the store at `path` and bring its schema up to date.

    `on_wait(seconds_waited)` is called while another process holds the file.
    """
    con = _connect_with_backoff(path, lock_timeout_s, on_wait)
    try:
        con.execute("SET memory_limit = ?", [memory_limit])
        con.execute("SET preserve_insertion_order = false")
        # DuckDB draws its own progress bar on stdout for long queries: it would corrupt
        # --json output. Commands show their own progress on stderr.
        con.execute("SET enable_progress_bar = false")
        store = Store(con=con, path=path)
        migrate(store)
        discard_unfinished(con)
    except duckdb.Error as exc:
        con.close()
        raise StoreError(f"{path}: cannot prepare the store: {exc}") from exc
    except BaseException:
        con.close()
        raise
    return store


def _connect_with_backoff(
    path: Path, timeout: float, on_wait: Callable[[float], None] | None
) -> duckdb.DuckDBPyConnection:
    start = time.monotonic()
    delay = 0.05
    while True:
        try:
            return duckdb.connect(str(path))
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise StoreError(f"{path}: cannot open the store: {exc}") from exc
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
            raise StoreError(f"{path}: not a callacct store ({exc})") from exc


def migrate(store: Store) -> int:
    """Apply the migrations the store has not seen yet; return the schema version."""
    con = store.con
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL, "
        "applied_at TIMESTAMP NOT NULL DEFAULT (now()::TIMESTAMP))"
    )
    current = store.schema_version
    if current > len(MIGRATIONS):
        raise StoreError(
            f"{store.path}: the store has schema version {current} but this callacct knows "
            f"only up to {len(MIGRATIONS)}; upgrade callacct"
        )
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
