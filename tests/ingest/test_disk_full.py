"""A disk that cannot be written (full, read-only): the ingest stops with one line saying what to
do, removes everything the failed batch wrote (raw archive included), and the next run loads
the files completely."""

from __future__ import annotations

import errno
import os
import random
import re
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import pytest

from callacct.config import Settings
from callacct.errors import StoreError
from callacct.ingest import chunks, cleanup, files, ledger, staging
from callacct.ingest.engine import ingest_paths
from callacct.store import Store, open_store, recovery, scalar
from callacct.store.archive import ArchiveFile, archive_files, read_archived
from tests.conftest import DENIKOND, Cli

UUID = re.compile(rb'"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"')
SETTINGS = Settings.model_validate(
    {"ingest": {"batch_bytes": 64 * 1024, "parse_bytes": 64 * 1024, "commit_rows": 500}}
)
FULL = OSError(errno.ENOSPC, "No space left on device")
DB_FULL = 'Could not write file "callacct.duckdb.wal": No space left on device'


def _big_cdr_file(path: Path, rows: int, seed: int) -> Path:
    """`rows` real sample records, each with a fresh pkid."""
    source = (DENIKOND / "cdr_StandAloneCluster_02_202112131408_515359").read_bytes().split(b"\n")
    header, records = source[:2], [r for r in source[2:] if r]
    rnd = random.Random(seed)
    out = [b"\n".join(header)]
    for i in range(rows):
        pkid = b'"%s"' % str(uuid.UUID(int=rnd.getrandbits(128))).encode()
        out.append(UUID.sub(pkid, records[i % len(records)], count=1))
    path.write_bytes(b"\n".join(out) + b"\n")
    return path


@pytest.fixture
def inputs(tmp_path: Path) -> list[Path]:
    """A batch of small files (stored first), then a large file read in pieces."""
    small = tmp_path / "in" / "small"
    shutil.copytree(DENIKOND, small)
    big = _big_cdr_file(tmp_path / "in" / "cdr_StandAloneCluster_01_202112131408_9", 3000, 1)
    return [small, big]


def _unreferenced_archives(store: Store) -> list[Path]:
    referenced = {
        store.archive_dir / str(r[0])
        for r in store.con.execute(
            "SELECT DISTINCT archive FROM ingest_files WHERE archive <> ''"
        ).fetchall()
    }
    return [p for p in archive_files(store.archive_dir) if p not in referenced]


def _empty_folders(root: Path) -> list[Path]:
    """Empty folders below `root` (month folders of the archive)."""
    return [Path(top) for top, dirs, files in os.walk(root) if not dirs and not files][1:]


def _nth_call_fails(count: int, error: BaseException, original: Callable[..., object]) -> object:
    calls = 0

    def failing(*args: object, **kwargs: object) -> object:
        nonlocal calls
        calls += 1
        if calls == count:
            raise error
        return original(*args, **kwargs)

    return failing


WRITE_POINTS: dict[str, tuple[object, str, int, BaseException]] = {
    "archive append": (ArchiveFile, "append", 3, FULL),
    "archive close": (ArchiveFile, "close", 2, FULL),
    "records": (chunks.ChunkLoader, "_insert", 7, duckdb.IOException(DB_FULL)),
    "calls writer": (staging.CallStaging, "_write_tables", 2, duckdb.IOException(DB_FULL)),
    "ledger entry of the next batch": (
        ledger.Ledger,
        "add_loading",
        2,
        duckdb.IOException(DB_FULL),
    ),
    "commit": (
        ledger.Ledger,
        "mark_done",
        2,
        duckdb.TransactionException(f"TransactionContext Error: Failed to commit: {DB_FULL}"),
    ),
}


@pytest.mark.parametrize("point", list(WRITE_POINTS))
def test_a_full_disk_at_any_write_point_leaves_nothing_of_the_failed_batch(
    tmp_path: Path, inputs: list[Path], monkeypatch: pytest.MonkeyPatch, point: str
) -> None:
    owner, name, count, error = WRITE_POINTS[point]
    original = getattr(owner, name)
    monkeypatch.setattr(owner, name, _nth_call_fails(count, error, original))
    store = open_store(tmp_path / "s.duckdb")
    with pytest.raises(StoreError) as raised:
        ingest_paths(store, SETTINGS, inputs)
    message = str(raised.value)
    assert "cannot write (no space left on device)" in message
    assert "free space" in message
    assert "\n" not in message
    # Files not done left nothing: no rows, no archive, no empty month folder.
    done = [r[0] for r in store.con.execute("SELECT status FROM ingest_files").fetchall()]
    assert set(done) <= {"done"}
    for table in ("records", "calls", "rejects"):
        assert (
            scalar(
                store.con,
                f"SELECT count(*) FROM {table} WHERE file_id NOT IN "
                "(SELECT file_id FROM ingest_files)",
            )
            == 0
        )
    assert _unreferenced_archives(store) == []
    assert _empty_folders(store.archive_dir) == []
    # Once there is room again, the next run loads everything, each file exactly once.
    monkeypatch.setattr(owner, name, original)
    ingest_paths(store, SETTINGS, inputs)
    assert scalar(store.con, "SELECT count(*) FROM ingest_files WHERE status = 'done'") == 4
    records = "SELECT count(*), count(DISTINCT (record_key, record_time)) FROM records"
    assert store.con.execute(records).fetchall() == [(3033, 3033)]  # 3000 + the samples' 33
    for (file_id,) in store.con.execute("SELECT file_id FROM ingest_files").fetchall():
        read_archived(store, file_id)
    store.close()


def test_the_archive_goes_even_when_the_store_cannot_be_cleaned(
    tmp_path: Path, inputs: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store invalidated by a full disk refuses the clean-up too: the archive is removed all
    the same, the disk error is the one reported, and the next opening discards the rows."""
    monkeypatch.setattr(ArchiveFile, "append", _nth_call_fails(3, FULL, ArchiveFile.append))

    def unwritable(con: duckdb.DuckDBPyConnection, ids: object) -> None:
        raise duckdb.IOException(DB_FULL)

    monkeypatch.setattr(cleanup, "discard_files", unwritable)
    store = open_store(tmp_path / "s.duckdb")
    with pytest.raises(StoreError, match="no space left on device"):
        ingest_paths(store, SETTINGS, inputs)
    assert _unreferenced_archives(store) == []
    assert scalar(store.con, "SELECT count(*) FROM ingest_files WHERE status = 'loading'") == 1
    store.close()
    monkeypatch.undo()
    store = open_store(tmp_path / "s.duckdb")
    assert scalar(store.con, "SELECT count(*) FROM ingest_files WHERE status = 'loading'") == 0
    assert recovery.discard_unfinished(store.con) == 0
    store.close()


def test_a_read_only_archive_folder_is_one_line_and_nothing_half_stored(
    cli: Cli, inputs: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    original = ArchiveFile.append

    def refused(self: ArchiveFile, parts: list[bytes | memoryview]) -> None:
        raise PermissionError(errno.EACCES, "Permission denied", str(self.path.parent))

    monkeypatch.setattr(ArchiveFile, "append", refused)
    result = cli("ingest", *map(str, inputs), "--json")
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"error: {cli.workspace / 'archive' / 'raw'}")
    assert "cannot write (permission denied)" in line
    assert cli.json("calls") == []
    monkeypatch.setattr(ArchiveFile, "append", original)
    assert cli.json("ingest", *map(str, inputs))["files"] == 4


def test_an_input_file_that_cannot_be_read_fails_alone(
    tmp_path: Path, inputs: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    original = files.Source.read

    def failing(self: files.Source, size: int) -> bytes:
        if self.path == inputs[1]:
            return self._guard(lambda: (_ for _ in ()).throw(OSError(errno.EIO, "I/O error")))
        return original(self, size)

    monkeypatch.setattr(files.Source, "read", failing)
    store = open_store(tmp_path / "s.duckdb")
    report = ingest_paths(store, SETTINGS, inputs)
    assert (report.files, report.files_failed) == (3, 1)
    failed = next(r for r in report.results if r.status == "failed")
    assert failed.message == f"{inputs[1]}: cannot read (I/O error)"
    assert _unreferenced_archives(store) == []
    store.close()


# -- a real small file system (needs root, as CI has) ----------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip("mounting a small tmpfs needs root")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_really_full_disk(small_disk: Path, inputs: list[Path]) -> None:
    bigger = _big_cdr_file(inputs[1].parent / "cdr_StandAloneCluster_01_202112131408_8", 60_000, 2)
    store = open_store(small_disk / "callacct.duckdb")
    with pytest.raises(StoreError, match=r"cannot write \(no space left on device\)"):
        ingest_paths(store, Settings(), [*inputs, bigger])
    store.close()
    assert _empty_folders(small_disk / "archive") == []
    assert not list((small_disk / "archive").rglob("*.zst"))
    subprocess.run(["mount", "-o", "remount,size=200m", str(small_disk)], check=True)
    store = open_store(small_disk / "callacct.duckdb")
    report = ingest_paths(store, Settings(), [*inputs, bigger])
    assert report.files == 5
    assert scalar(store.con, "SELECT count(*) FROM records") == report.stored
    store.close()


def test_a_really_read_only_archive(small_disk: Path, inputs: list[Path]) -> None:
    store = open_store(small_disk / "callacct.duckdb")
    raw = store.archive_dir
    raw.mkdir(parents=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(raw)], check=True)
    try:
        with pytest.raises(StoreError, match=r"cannot write \(read-only file system\)"):
            ingest_paths(store, SETTINGS, inputs)
        assert scalar(store.con, "SELECT count(*) FROM ingest_files") == 0
        assert scalar(store.con, "SELECT count(*) FROM records") == 0
    finally:
        subprocess.run(["umount", "-l", str(raw)], check=False)
    assert ingest_paths(store, SETTINGS, inputs).files == 4
    store.close()


def test_any_command_on_a_full_disk_says_so_in_one_line(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    from callacct.api import workspace

    def full(*args: object, **kwargs: object) -> None:
        raise duckdb.TransactionException(f"TransactionContext Error: Failed to commit: {DB_FULL}")

    monkeypatch.setattr(workspace, "rate_calls", full)
    result = cli("rate")
    assert result.exit_code == 2
    assert "internal error" not in result.output
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("error: the workspace: cannot write (no space left on device)")
