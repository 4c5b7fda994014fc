"""One writer, several readers: readers get in at the writer's safe points; other writers wait.

The writer here is another process holding the store open for writing, as an ingest does, and
calling `Store.let_readers_in()` at its safe points.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from callacct.errors import StoreBusyError
from callacct.store import open_store, scalar
from callacct.store.sharing import ReadersGate, WriterLock, waiting_to_read

# A writer that holds the store for `seconds`, adding a row to report_runs and reaching a safe
# point every 50 ms; it prints how many times it let readers in.
WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from callacct.store import open_store
    store = open_store(Path(sys.argv[1]))
    print("holding", flush=True)
    let_in, end = 0, time.monotonic() + float(sys.argv[2])
    while time.monotonic() < end:
        with store.transaction() as con:
            con.execute("INSERT INTO report_runs VALUES ('w', 'x', now()::TIMESTAMP)")
        if sys.argv[3] == "yield":
            let_in += store.let_readers_in()
        time.sleep(0.05)
    with store.transaction() as con:  # the connection it got back works
        con.execute("INSERT INTO report_runs VALUES ('w', 'last', now()::TIMESTAMP)")
    store.close()
    print(let_in, flush=True)
    """
)


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    path = tmp_path / "callacct.duckdb"
    open_store(path).close()
    return path


def _writer(store_path: Path, mode: str) -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(store_path), "8", mode],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "holding"
    yield proc
    proc.kill()
    proc.communicate()


@pytest.fixture
def writer(store_path: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process writing the store for 8 s, letting readers in at its safe points."""
    yield from _writer(store_path, "yield")


@pytest.fixture
def holder(store_path: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process writing the store for 8 s with no safe point."""
    yield from _writer(store_path, "hold")


def test_a_reader_gets_in_at_the_writers_next_safe_point(
    store_path: Path, writer: subprocess.Popen[str]
) -> None:
    started = time.monotonic()
    reader = open_store(store_path, read_only=True, lock_timeout_s=5)
    waited = time.monotonic() - started
    seen = scalar(reader.con, "SELECT count(*) FROM report_runs WHERE owner = 'w'")
    reader.close()
    assert waited < 2, waited  # a safe point comes every 50 ms, the writer runs for 8 s
    assert seen >= 1  # what the writer committed before it let the reader in
    assert writer.poll() is None  # still writing
    out, _ = writer.communicate(timeout=30)
    assert writer.returncode == 0
    assert int(out.strip()) >= 1
    after = open_store(store_path, read_only=True)
    assert scalar(after.con, "SELECT count(*) FROM report_runs WHERE name = 'last'") == 1
    after.close()


def test_a_writer_without_safe_points_keeps_readers_out_up_to_the_timeout(
    store_path: Path, holder: subprocess.Popen[str]
) -> None:
    started = time.monotonic()
    with pytest.raises(StoreBusyError, match="still in use by another callacct process"):
        open_store(store_path, read_only=True, lock_timeout_s=0.5)
    assert 0.5 <= time.monotonic() - started < 3


def test_another_writer_waits_while_the_writer_lets_readers_in(
    store_path: Path, writer: subprocess.Popen[str]
) -> None:
    # Readers come and go (so the writer keeps closing the database), but no other writer
    # gets in: it waits for the writer lock, and says so when it gives up.
    for _ in range(3):
        open_store(store_path, read_only=True, lock_timeout_s=5).close()
    with pytest.raises(StoreBusyError, match="still in use by another callacct process"):
        open_store(store_path, lock_timeout_s=0.5)
    assert writer.poll() is None


def test_the_gate_tells_the_writer_that_a_reader_waits(store_path: Path) -> None:
    gate = ReadersGate.open(store_path)
    assert gate is not None
    assert not gate.readers_waiting()
    with waiting_to_read(store_path, deadline=time.monotonic() + 1) as held:
        assert held
        assert gate.readers_waiting()
        assert not gate.close_gate(timeout_s=0.1)  # the reader is not in yet
    assert not gate.readers_waiting()
    assert gate.close_gate(timeout_s=0.1)
    # Closed: a reader coming now waits at the gate (here: until its deadline).
    started = time.monotonic()
    with waiting_to_read(store_path, deadline=time.monotonic() + 0.2):
        pass
    assert time.monotonic() - started >= 0.2
    gate.open_gate()
    gate.close()


def test_the_writer_lock_is_taken_once_per_process(store_path: Path) -> None:
    first = WriterLock.acquire(store_path, timeout_s=0)
    second = WriterLock.acquire(store_path, timeout_s=0)  # the same process: no wait
    second.release()
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from pathlib import Path; from callacct.store.sharing import "
            "WriterLock; WriterLock.acquire(Path(sys.argv[1]), timeout_s=0.2)",
            str(store_path),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert probe.returncode == 1
    assert "TimeoutError" in probe.stderr  # still held by `first`
    first.release()
    WriterLock.acquire(store_path, timeout_s=0).release()


def test_where_the_lock_files_cannot_be_made_the_store_opens_as_before(
    store_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno
    import os

    from callacct.store import sharing

    for name in ("callacct.duckdb.readers", "callacct.duckdb.writer"):
        (store_path.parent / name).unlink()
    real_open = os.open

    def read_only_folder(path: object, *args: object) -> int:
        if str(path).endswith((".readers", ".writer")):
            raise OSError(errno.EROFS, "Read-only file system", str(path))
        return real_open(path, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(sharing.os, "open", read_only_folder)
    reader = open_store(store_path, read_only=True)
    assert scalar(reader.con, "SELECT count(*) FROM calls") == 0
    reader.close()
    writer = open_store(store_path)  # no lock files: nothing to share, nothing refused
    assert writer.gate is None
    assert not writer.let_readers_in()
    writer.close()
    assert not (store_path.parent / "callacct.duckdb.readers").exists()
