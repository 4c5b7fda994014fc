"""The store's schema is versioned and migrated on open; readers open it read-only."""

from __future__ import annotations

import datetime as dt
import hashlib
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import polars as pl
import pytest

from callacct.errors import StoreBusyError, StoreError
from callacct.store import Store, insert_frame, is_read_only, open_store, registered, scalar
from callacct.store.schema import MIGRATIONS
from tests.directory.helpers import add_call


def test_a_new_store_has_every_migration(tmp_path: Path) -> None:
    store = open_store(tmp_path / "s.duckdb")
    assert store.schema_version == len(MIGRATIONS)
    assert scalar(store.con, "SELECT count(*) FROM number_classes") == 0
    store.close()
    again = open_store(tmp_path / "s.duckdb")
    assert scalar(again.con, "SELECT count(*) FROM schema_version") == len(MIGRATIONS)
    again.close()


def test_an_older_store_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    con = duckdb.connect(str(path))
    con.execute(
        "CREATE TABLE schema_version (version INTEGER NOT NULL, "
        "applied_at TIMESTAMP NOT NULL DEFAULT (now()::TIMESTAMP))"
    )
    con.execute(MIGRATIONS[0])
    con.execute("INSERT INTO schema_version (version) VALUES (1)")
    con.close()
    store = open_store(path)
    assert store.schema_version == len(MIGRATIONS)
    assert scalar(store.con, "SELECT count(*) FROM number_classes") == 0
    store.close()


def test_a_store_from_a_newer_callacct_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    open_store(path).close()
    con = duckdb.connect(str(path))
    con.execute("INSERT INTO schema_version (version) VALUES (99)")
    con.close()
    with pytest.raises(StoreError, match="upgrade callacct"):
        open_store(path)


def test_not_a_store(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    path.write_text("hello")
    with pytest.raises(StoreError, match=r"s\.duckdb"):
        open_store(path)


def _file(con: duckdb.DuckDBPyConnection, file_id: int, status: str) -> None:
    """A ledger entry and one call of it."""
    con.execute(
        "INSERT INTO ingest_files (file_id, path, name, size, sha256, dialect, rows_read, stored, "
        "duplicates, rejected, started_at, finished_at, status, run_id) "
        "VALUES (?, ?, ?, 1, 'x', 'cucm-cdr', 1, 1, 0, 0, now()::TIMESTAMP, "
        "now()::TIMESTAMP, ?, 'run')",
        [file_id, f"/cdr/{file_id}", str(file_id), status],
    )
    add_call(con, file_id, dt.datetime(2026, 1, 5, 9), "outgoing", "2001", remote="0612345678")
    con.execute("UPDATE calls SET file_id = ? WHERE call_id = ?", [file_id, file_id])


def _snapshot(folder: Path) -> dict[str, tuple[int, str]]:
    return {
        p.name: (p.stat().st_mtime_ns, hashlib.sha256(p.read_bytes()).hexdigest())
        for p in folder.iterdir()
    }


def test_a_read_only_open_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    store = open_store(path)
    _file(store.con, 1, "done")
    store.close()
    before = _snapshot(tmp_path)
    reader = open_store(path, read_only=True)
    try:
        assert reader.read_only
        assert is_read_only(reader.con)
        assert scalar(reader.con, "SELECT count(*) FROM calls") == 1
        with pytest.raises(duckdb.Error, match="read-only"):
            reader.con.execute("DELETE FROM calls")
    finally:
        reader.close()
    assert _snapshot(tmp_path) == before  # nothing created, nothing changed


def test_a_reader_never_sees_a_half_loaded_file(tmp_path: Path) -> None:
    """A file a killed ingest left `loading` is hidden from a read-only open, which cannot
    remove it, until the next writer does."""
    path = tmp_path / "s.duckdb"
    store = open_store(path)
    _file(store.con, 1, "done")
    _file(store.con, 2, "loading")
    store.close()
    before = _snapshot(tmp_path)
    reader = open_store(path, read_only=True)
    try:
        assert reader.con.execute("SELECT file_id FROM calls").fetchall() == [(1,)]
        assert reader.con.execute("SELECT file_id FROM ingest_files").fetchall() == [(1,)]
        joined = "SELECT count(*) FROM calls c JOIN ingest_files f USING (file_id)"
        assert scalar(reader.con, joined) == 1
    finally:
        reader.close()
    assert _snapshot(tmp_path) == before
    writer = open_store(path)
    assert writer.con.execute("SELECT file_id FROM calls").fetchall() == [(1,)]
    writer.close()


def test_a_read_only_open_migrates_an_older_store_first(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    con = duckdb.connect(str(path))
    con.execute(
        "CREATE TABLE schema_version (version INTEGER NOT NULL, "
        "applied_at TIMESTAMP NOT NULL DEFAULT (now()::TIMESTAMP))"
    )
    con.execute(MIGRATIONS[0])
    con.execute("INSERT INTO schema_version (version) VALUES (1)")
    con.close()
    reader = open_store(path, read_only=True)
    assert reader.read_only
    assert reader.schema_version == len(MIGRATIONS)
    reader.close()
    fresh = open_store(tmp_path / "new.duckdb", read_only=True)  # no store yet: created once
    assert fresh.read_only
    assert fresh.schema_version == len(MIGRATIONS)
    fresh.close()


def test_a_read_only_open_refuses_a_newer_store(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    open_store(path).close()
    con = duckdb.connect(str(path))
    con.execute("INSERT INTO schema_version (version) VALUES (99)")
    con.close()
    with pytest.raises(StoreError, match="upgrade callacct"):
        open_store(path, read_only=True)


def _holder(path: Path, *, read_only: bool) -> subprocess.Popen[bytes]:
    """Another process that keeps the store open until killed."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; "
            "c = duckdb.connect(sys.argv[1], read_only=sys.argv[2] == 'ro'); "
            "print('ok', flush=True); time.sleep(60)",
            str(path),
            "ro" if read_only else "rw",
        ],
        stdout=subprocess.PIPE,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == b"ok"
    return proc


def test_a_reader_waits_for_a_writer_then_says_so(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    open_store(path).close()
    waits: list[float] = []
    holder = _holder(path, read_only=False)
    try:
        started = time.monotonic()
        with pytest.raises(StoreBusyError, match="still in use by another callacct process"):
            open_store(path, read_only=True, lock_timeout_s=0.5, on_wait=waits.append)
        waited = time.monotonic() - started
    finally:
        holder.kill()
        holder.communicate()
    assert waited >= 0.5
    assert waits
    assert waits == sorted(waits)
    open_store(path, read_only=True, lock_timeout_s=0).close()  # free again


def test_readers_share_the_store(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    store = open_store(path)
    _file(store.con, 1, "done")
    store.close()
    holder = _holder(path, read_only=True)
    try:
        reader = open_store(path, read_only=True, lock_timeout_s=0)
        assert scalar(reader.con, "SELECT count(*) FROM calls") == 1
        reader.close()
        with pytest.raises(StoreBusyError):  # a writer waits for the readers
            open_store(path, lock_timeout_s=0)
    finally:
        holder.kill()
        holder.communicate()


class _RollbackRefused:
    """A connection to a store a failure invalidated: it refuses even a rollback."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    def execute(self, sql: str, *args: object) -> None:
        self.statements.append(sql)
        if sql == "ROLLBACK":
            raise duckdb.FatalException("FATAL Error: database has been invalidated")


def test_a_refused_rollback_does_not_hide_the_failure(tmp_path: Path) -> None:
    con = _RollbackRefused()
    store = Store(con=con, path=tmp_path / "s.duckdb")  # type: ignore[arg-type]
    with pytest.raises(OSError, match="No space left"), store.transaction():
        raise OSError(28, "No space left on device")
    assert con.statements == ["BEGIN TRANSACTION", "ROLLBACK"]


def test_a_frame_is_readable_in_sql_for_its_block_only() -> None:
    con = duckdb.connect()
    frame = pl.DataFrame({"n": [1, 2, 3], "text": ["a", None, "é" * 40]})
    with registered(con, "_frame", frame) as name:
        assert name == "_frame"
        rows = con.execute("SELECT n, text FROM _frame ORDER BY n").fetchall()
    assert rows == [(1, "a"), (2, None), (3, "é" * 40)]
    with pytest.raises(RuntimeError, match="boom"), registered(con, "_frame", frame):
        raise RuntimeError("boom")
    with pytest.raises(duckdb.CatalogException):  # gone, even after a failure
        con.execute("SELECT * FROM _frame")


def test_a_frame_is_appended_by_column_name() -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE t (a INTEGER, b VARCHAR, c VARCHAR DEFAULT 'none')")
    insert_frame(con, "t", pl.DataFrame({"b": ["x", "y"], "a": [1, 2]}))
    assert con.execute("SELECT a, b, c FROM t ORDER BY a").fetchall() == [
        (1, "x", "none"),
        (2, "y", "none"),
    ]
    with pytest.raises(duckdb.CatalogException):
        con.execute("SELECT * FROM _inserted_rows")
