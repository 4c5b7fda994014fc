"""Several processes and a killed process leave the store consistent."""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from callacct.store import Store, open_store, scalar
from callacct.store.archive import ArchiveFile, archive_files, read_archived
from tests.conftest import DENIKOND, Cli

UUID = re.compile(rb'"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"')


def _big_cdr_file(path: Path, rows: int, seed: int) -> None:
    """`rows` real sample records, each with a fresh pkid."""
    source = (DENIKOND / "cdr_StandAloneCluster_02_202112131408_515359").read_bytes().split(b"\n")
    header, records = source[:2], [r for r in source[2:] if r]
    rnd = random.Random(seed)
    out = [b"\n".join(header)]
    for i in range(rows):
        pkid = b'"%s"' % str(uuid.UUID(int=rnd.getrandbits(128))).encode()
        out.append(UUID.sub(pkid, records[i % len(records)], count=1))
    path.write_bytes(b"\n".join(out) + b"\n")


def _callacct(workspace: Path, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "callacct", "--workspace", str(workspace), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _set(cli: Cli, section: str, key: str, value: str) -> None:
    path = cli.workspace / "callacct.toml"
    text = path.read_text()
    text, n = re.subn(rf"(?m)^{key} = .*$", f"{key} = {value}", text)
    assert n == 1, key
    path.write_text(text)


def test_killed_ingest_leaves_nothing_half_stored(cli: Cli, tmp_path: Path) -> None:
    rows = 40_000
    big = tmp_path / "in" / "cdr_StandAloneCluster_01_202112131408_1"
    big.parent.mkdir()
    _big_cdr_file(big, rows, seed=1)
    _set(cli, "ingest", "batch_bytes", str(256 * 1024))
    _set(cli, "ingest", "parse_bytes", str(256 * 1024))
    _set(cli, "ingest", "commit_rows", "2000")
    archive = cli.workspace / "archive" / "raw"
    wal = cli.workspace / "callacct.duckdb.wal"
    proc = _callacct(cli.workspace, "ingest", str(big))
    deadline = time.monotonic() + 60
    # a write-ahead log this large means a first part of the file (2,000 records and their
    # calls) has been committed: the ledger's own commit writes a few KB
    while not (wal.is_file() and wal.stat().st_size > 256 * 1024):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "ingest never started writing"
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate()

    store = open_store(cli.workspace / "callacct.duckdb")
    assert scalar(store.con, "SELECT count(*) FROM records") == 0
    assert scalar(store.con, "SELECT count(*) FROM calls") == 0
    assert scalar(store.con, "SELECT count(*) FROM ingest_files") == 0
    store.close()

    report = cli.json("ingest", str(big))
    assert (report["files"], report["stored"], report["rejected"]) == (1, rows, 0)
    store = open_store(cli.workspace / "callacct.duckdb")
    assert scalar(store.con, "SELECT count(*) FROM records") == rows
    referenced = scalar(store.con, "SELECT archive FROM ingest_files")
    file_id = scalar(store.con, "SELECT file_id FROM ingest_files")
    assert read_archived(store, file_id) == big.read_bytes()
    store.close()
    on_disk = [p.relative_to(archive).as_posix() for p in archive_files(archive)]
    assert on_disk == [referenced], "the killed run's archive was not cleaned up"


def test_two_ingests_started_together_both_finish(cli: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(4):
        _big_cdr_file(folder / f"cdr_StandAloneCluster_01_20211213140{i}_{i}", 5_000, seed=i)
    procs = [_callacct(cli.workspace, "ingest", str(folder), "--json") for _ in range(2)]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    reports = [json.loads(out) for out, _ in outputs]
    assert sum(r["stored"] for r in reports) == 20_000
    assert sorted(r["files_skipped"] for r in reports) == [0, 4]


@pytest.mark.parametrize("command", [["calls"], ["ingest", "--rejects"]])
def test_waits_then_fails_clearly_when_the_store_stays_locked(cli: Cli, command: list[str]) -> None:
    _set(cli, "store", "lock_timeout_s", "0.5")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('ok', flush=True); "
            "time.sleep(30)",
            str(cli.workspace / "callacct.duckdb"),
        ],
        stdout=subprocess.PIPE,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == b"ok"
        started = time.monotonic()
        result = cli(*command)
        waited = time.monotonic() - started
    finally:
        holder.kill()
        holder.communicate()
    assert result.exit_code == 1
    assert "still in use by another callacct process" in result.output
    assert waited >= 0.5


def _fail_then_reload(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, seed: int, fail_at: int
) -> Store:
    """Ingest a 6,000-row file in small commits, failing at its `fail_at`-th piece: nothing of
    it may stay; a second run loads it whole. Returns the store (to be closed)."""
    from callacct.config import Settings
    from callacct.ingest import engine
    from callacct.ingest.chunks import ChunkLoader

    big = tmp_path / f"cdr_StandAloneCluster_01_202112131408_{seed}"
    _big_cdr_file(big, 6_000, seed=seed)
    settings = Settings.model_validate(
        {"ingest": {"batch_bytes": 64 * 1024, "parse_bytes": 64 * 1024, "commit_rows": 500}}
    )
    chunks = 0
    original = ChunkLoader.load

    def failing_chunk(self: ChunkLoader, *args: object) -> None:
        nonlocal chunks
        chunks += 1
        if chunks == fail_at:
            raise OSError("disk went away")
        original(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(ChunkLoader, "load", failing_chunk)
    store = open_store(tmp_path / "s.duckdb")
    with pytest.raises(OSError, match="disk went away"):
        engine.ingest_paths(store, settings, [big])
    for table in ("records", "calls", "ingest_files", "rejects"):
        assert scalar(store.con, f"SELECT count(*) FROM {table}") == 0, table
    monkeypatch.setattr(ChunkLoader, "load", original)
    report = engine.ingest_paths(store, settings, [big])
    assert (report.stored, report.rejected) == (6_000, 0)
    return store


def test_a_failure_mid_file_discards_the_committed_part(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fail_then_reload(tmp_path, monkeypatch, seed=3, fail_at=5).close()


def test_a_failure_after_the_last_commit_still_discards_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from callacct.config import Settings
    from callacct.ingest import engine, ledger

    big = tmp_path / "cdr_StandAloneCluster_01_202112131408_10"
    _big_cdr_file(big, 3_000, seed=4)
    settings = Settings.model_validate({"ingest": {"commit_rows": 500}})

    def broken_ledger(self: ledger.Ledger, files: object) -> None:
        raise OSError("ledger unwritable")

    monkeypatch.setattr(ledger.Ledger, "mark_done", broken_ledger)
    store = open_store(tmp_path / "s.duckdb")
    with pytest.raises(OSError, match="ledger unwritable"):
        engine.ingest_paths(store, settings, [big])
    for table in ("records", "calls", "ingest_files"):
        assert scalar(store.con, f"SELECT count(*) FROM {table}") == 0, table
    assert not archive_files(tmp_path / "archive")
    store.close()


def _calls_by_line(store: Store) -> list[tuple[object, ...]]:
    return store.con.execute("SELECT * EXCLUDE (file_id) FROM calls ORDER BY line_no").fetchall()


def test_calls_held_back_for_whole_row_groups_are_all_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from callacct.config import Settings
    from callacct.ingest import engine, staging

    big = tmp_path / "cdr_StandAloneCluster_01_202112131408_11"
    _big_cdr_file(big, 3_000, seed=5)
    (tmp_path / "plain").mkdir()
    plain = open_store(tmp_path / "plain" / "s.duckdb")
    engine.ingest_paths(plain, Settings(), [big])
    expected = _calls_by_line(plain)
    plain.close()
    # Tiny row groups and commits: most checkpoints write some calls and hold the rest back.
    monkeypatch.setattr(staging, "ROW_GROUP_ROWS", 7)
    settings = Settings.model_validate(
        {"ingest": {"batch_bytes": 64 * 1024, "parse_bytes": 64 * 1024, "commit_rows": 250}}
    )
    written: list[int] = []
    original = staging.CallStaging._write_tables

    def counting(self: staging.CallStaging, frames: list[tuple[str, object]]) -> None:
        written.extend(getattr(frame, "height", 0) for _, frame in frames)
        original(self, frames)  # type: ignore[arg-type]

    monkeypatch.setattr(staging.CallStaging, "_write_tables", counting)
    store = open_store(tmp_path / "s.duckdb")
    report = engine.ingest_paths(store, settings, [big])
    assert (report.stored, report.rejected, report.files) == (3_000, 0, 1)
    assert len(written) > 2
    assert all(n % 7 == 0 for n in written[:-1])
    assert _calls_by_line(store) == expected
    store.close()


def test_records_are_committed_in_whole_row_groups(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each commit of a large file ends on a whole row group of records; the piece that
    fills one leaves its other records to the next commit, deduplicated as if it had not."""
    from callacct.config import Settings
    from callacct.ingest import engine, staging

    big = tmp_path / "cdr_StandAloneCluster_01_202112131408_12"
    _big_cdr_file(big, 3_000, seed=8)
    lines = big.read_bytes().split(b"\n")
    # The first 400 records again at the end: duplicates of records of the first commits.
    big.write_bytes(b"\n".join([*lines[:-1], *lines[2:402]]) + b"\n")
    monkeypatch.setattr(staging, "ROW_GROUP_ROWS", 7)
    settings = Settings.model_validate(
        {"ingest": {"batch_bytes": 64 * 1024, "parse_bytes": 64 * 1024, "commit_rows": 250}}
    )
    committed: list[int] = []
    original = engine._Run._before_commit

    def counting(self: engine._Run, *, end_of_batch: bool) -> object:
        committed.append(scalar(self.store.con, "SELECT count(*) FROM records"))
        return original(self, end_of_batch=end_of_batch)

    monkeypatch.setattr(engine._Run, "_before_commit", counting)
    store = open_store(tmp_path / "s.duckdb")
    report = engine.ingest_paths(store, settings, [big])
    assert (report.rows_read, report.stored, report.duplicates) == (3_400, 3_000, 400)
    sizes = [after - before for before, after in zip([0, *committed], committed, strict=False)]
    assert len(sizes) > 5
    assert sizes[:-1] == [245] * (len(sizes) - 1)  # 250 rounded down to whole groups of 7
    assert 0 < sizes[-1] <= 245
    keys = "SELECT count(*), count(DISTINCT (record_key, record_time)) FROM records"
    assert store.con.execute(keys).fetchall() == [(3_000, 3_000)]
    store.close()


def test_a_failure_discards_calls_held_back_and_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from callacct.ingest import staging

    monkeypatch.setattr(staging, "ROW_GROUP_ROWS", 7)
    store = _fail_then_reload(tmp_path, monkeypatch, seed=6, fail_at=9)
    assert scalar(store.con, "SELECT count(DISTINCT call_id) FROM calls") == scalar(
        store.con, "SELECT count(*) FROM calls"
    )
    store.close()


def test_a_failed_archive_write_discards_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from callacct.config import Settings
    from callacct.ingest import engine

    big = tmp_path / "cdr_StandAloneCluster_01_202112131408_13"
    _big_cdr_file(big, 4_000, seed=7)
    settings = Settings.model_validate(
        {"ingest": {"batch_bytes": 64 * 1024, "parse_bytes": 64 * 1024, "commit_rows": 500}}
    )
    writes = 0
    original = ArchiveFile.append

    def failing_append(self: ArchiveFile, parts: list[bytes | memoryview]) -> None:
        nonlocal writes
        writes += 1
        if writes == 3:
            raise OSError("archive disk full")
        original(self, parts)

    monkeypatch.setattr(ArchiveFile, "append", failing_append)
    store = open_store(tmp_path / "s.duckdb")
    with pytest.raises(OSError, match="archive disk full"):
        engine.ingest_paths(store, settings, [big])
    for table in ("records", "calls", "ingest_files", "rejects"):
        assert scalar(store.con, f"SELECT count(*) FROM {table}") == 0, table
    assert not archive_files(tmp_path / "archive")
    monkeypatch.setattr(ArchiveFile, "append", original)
    report = engine.ingest_paths(store, settings, [big])
    assert (report.stored, report.rejected) == (4_000, 0)
    assert read_archived(store, scalar(store.con, "SELECT file_id FROM ingest_files")) == (
        big.read_bytes()
    )
    store.close()


def test_ingest_gives_duckdb_its_threads_and_memory_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from callacct.config import Settings
    from callacct.ingest import engine, staging

    big = tmp_path / "cdr_StandAloneCluster_01_202112131408_14"
    _big_cdr_file(big, 200, seed=8)
    store = open_store(tmp_path / "s.duckdb")
    store.con.execute("SET threads = 3")
    before = store.con.execute(
        "SELECT current_setting('threads'), current_setting('memory_limit')"
    ).fetchall()
    seen: list[object] = []
    original = staging.CallStaging._write_tables

    def watching(self: staging.CallStaging, frames: list[tuple[str, object]]) -> None:
        cursor = store.con.cursor()
        seen.append(scalar(cursor, "SELECT current_setting('threads')"))
        cursor.close()
        original(self, frames)  # type: ignore[arg-type]

    monkeypatch.setattr(staging.CallStaging, "_write_tables", watching)
    engine.ingest_paths(store, Settings(), [big])
    after = store.con.execute(
        "SELECT current_setting('threads'), current_setting('memory_limit')"
    ).fetchall()
    store.close()
    assert seen
    assert set(seen) == {1}  # calls are written while DuckDB runs on one thread
    assert after[0][0] == before[0][0] == 3
    # The limit is given back as the text DuckDB showed, which it may round by 0.1 MiB.
    assert after[0][1].split()[0][:3] == before[0][1].split()[0][:3]


def _call_files(cli: Cli, call_ids: set[int]) -> dict[int, tuple[int, int]]:
    """For each file with calls: (its calls, how many of them are in `call_ids`)."""
    store = open_store(cli.workspace / "callacct.duckdb", read_only=True)
    rows = store.con.execute("SELECT file_id, list(call_id) FROM calls GROUP BY file_id")
    files = {int(f): (len(ids), len(set(ids) & call_ids)) for f, ids in rows.fetchall()}
    store.close()
    return files


FILES = 40  # seconds of ingest on any machine: the readers start well before it ends


def test_calls_and_reports_are_read_while_another_process_ingests(cli: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(FILES):
        name = f"cdr_StandAloneCluster_01_2021121314{i:02d}_{i}"
        _big_cdr_file(folder / name, 6_000, seed=100 + i)
    # Every file a batch of its own (a few tenths of a second each): the run lasts seconds.
    _set(cli, "ingest", "batch_bytes", str(1024 * 1024))
    _set(cli, "store", "lock_timeout_s", "60")
    ingest = _callacct(cli.workspace, "ingest", str(folder), "--json")
    wal = cli.workspace / "callacct.duckdb.wal"
    deadline = time.monotonic() + 60
    while not (wal.is_file() and wal.stat().st_size > 1024 * 1024):  # its first files are in
        assert ingest.poll() is None, ingest.communicate()
        assert time.monotonic() < deadline, "ingest never started writing"
        time.sleep(0.02)
    reads = {
        "calls": ("calls", "--all", "--json"),
        "report": ("report", "run", "calls-detail", "--format", "json"),
    }
    seen: dict[str, tuple[float, str, str]] = {}
    for name, args in reads.items():
        started = time.monotonic()
        reader = _callacct(cli.workspace, *args)
        out, err = reader.communicate(timeout=60)
        assert reader.returncode == 0, err
        seen[name] = (time.monotonic() - started, out.decode(), err.decode())
        assert ingest.poll() is None, "the ingest ended before the reader got in"
    out, err = ingest.communicate(timeout=300)
    assert ingest.returncode == 0, err
    assert json.loads(out)["stored"] == FILES * 6_000

    calls_took, calls_out, calls_err = seen["calls"]
    assert calls_took < 15, calls_took  # one batch, not the whole run
    listed = json.loads(calls_out)
    # Whole files only: each file's calls are all listed or none.
    files = _call_files(cli, {call["call_id"] for call in listed})
    assert all(shown in (0, total) for total, shown in files.values()), files
    assert 0 < sum(shown for _, shown in files.values()) < sum(t for t, _ in files.values())
    # The ingest attributes and rates calls as it appends them: none is listed unfinished.
    assert all(call["dest_class"] is not None for call in listed)
    assert "stored but not attributed and rated yet" not in calls_err
    report_took, report_out, _ = seen["report"]
    assert report_took < 15, report_took
    assert json.loads(report_out)["report"]["name"] == "calls-detail"
