"""Commands that only read never write the store: they work when nothing can be written (a
full disk), even on a store a killed process left with a write-ahead log and a half-loaded
file, and show what they show when the disk is fine. A damaged store file is a one-line
error saying what to do."""

from __future__ import annotations

import datetime as dt
import json
import resource
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from callacct.store import open_store
from tests.conftest import Cli
from tests.directory.helpers import add_call

READS = (
    ("calls", "--all", "--json"),
    ("calls", "explain", "1", "--json"),
    ("report", "run", "calls-detail", "--format", "json"),
    ("tariff", "list", "--json"),
    ("ingest", "--rejects", "--json"),
)


def _no_writes() -> None:
    """In the child: any write to any file fails (EFBIG), as on a full disk, even for root."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))


def _run(
    workspace: Path, args: tuple[str, ...], *, full_disk: bool
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "callacct", "--workspace", str(workspace), *args],
        capture_output=True,
        text=True,
        preexec_fn=_no_writes if full_disk else None,
        timeout=120,
        check=False,
    )


def _killed_writer(store_path: Path) -> None:
    """A process that commits a change and is killed: its write-ahead log stays behind."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
            "c.execute(\"INSERT INTO report_runs VALUES ('x', 'calls-detail', "
            "now()::TIMESTAMP)\"); print('ok', flush=True); time.sleep(60)",
            str(store_path),
        ],
        stdout=subprocess.PIPE,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == b"ok"
    proc.send_signal(signal.SIGKILL)
    proc.communicate()


@pytest.fixture
def loaded(cli: Cli, cucm_files: Path) -> Cli:
    """The sample cluster ingested, plus a file a killed ingest left half-loaded."""
    cli.json("ingest", str(cucm_files))
    store = open_store(cli.workspace / "callacct.duckdb")
    store.con.execute(
        "INSERT INTO ingest_files (file_id, path, name, size, sha256, dialect, rows_read, stored, "
        "duplicates, rejected, started_at, finished_at, status, run_id) VALUES (999, '/x', 'x', "
        "1, 'x', 'cucm-cdr', 1, 1, 0, 0, now()::TIMESTAMP, now()::TIMESTAMP, 'loading', 'r')"
    )
    add_call(store.con, 99_999, dt.datetime(2021, 12, 13, 9), "outgoing", "5619", remote="0612")
    store.con.execute("UPDATE calls SET file_id = 999 WHERE call_id = 99999")
    store.close()
    _killed_writer(cli.workspace / "callacct.duckdb")
    assert (cli.workspace / "callacct.duckdb.wal").is_file()
    return cli


def _same(text: str) -> object:
    data = json.loads(text)
    if isinstance(data, dict) and "report" in data:
        data["report"].pop("generated_at")
    return data


def test_reads_work_when_nothing_can_be_written(loaded: Cli) -> None:
    full = {args: _run(loaded.workspace, args, full_disk=True) for args in READS}
    for args, result in full.items():
        assert result.returncode in (0, 1), (args, result.stderr)
        assert "error" not in result.stderr, (args, result.stderr)
    calls = json.loads(full[READS[0]].stdout)
    assert len(calls) == 23  # the sample's calls; never the half-loaded file's
    assert 99_999 not in {call["call_id"] for call in calls}
    assert (loaded.workspace / "callacct.duckdb.wal").is_file()  # still there: nothing written
    # With a disk to write on, the same answers; the next writer removes the half-loaded file.
    for args, result in full.items():
        assert _same(_run(loaded.workspace, args, full_disk=False).stdout) == _same(
            result.stdout
        ), args
    assert loaded("rate").exit_code == 0
    assert not (loaded.workspace / "callacct.duckdb.wal").is_file()
    store = open_store(loaded.workspace / "callacct.duckdb")
    assert store.con.execute("SELECT count(*) FROM calls WHERE call_id = 99999").fetchall() == [
        (0,)
    ]
    store.close()


def test_a_report_run_on_a_full_disk_skips_only_its_usage_note(loaded: Cli) -> None:
    run = ("report", "run", "calls-detail", "--format", "json")
    assert _run(loaded.workspace, run, full_disk=True).returncode == 0
    assert _run(loaded.workspace, run, full_disk=False).returncode == 0
    store = open_store(loaded.workspace / "callacct.duckdb", read_only=True)
    runs = store.con.execute("SELECT count(*) FROM report_runs WHERE name = 'calls-detail'")
    assert runs.fetchall() == [(2,)]  # the killed writer's, and the run with a disk to write
    store.close()


def _damage(path: Path, block: int) -> None:
    """Overwrite bytes inside one 256 KB block of a DuckDB file (its header is 12 KB)."""
    with path.open("r+b") as fh:
        fh.seek(12_288 + block * 262_144 + 4_096)
        fh.write(b"\xde\xad\xbe\xef" * 64)


def test_a_damaged_store_is_a_one_line_error_saying_what_to_do(
    cli: Cli, cucm_files: Path, tmp_path: Path
) -> None:
    cli.json("ingest", str(cucm_files))
    store = cli.workspace / "callacct.duckdb"
    pristine = tmp_path / "pristine.duckdb"
    shutil.copy(store, pristine)
    blocks = (pristine.stat().st_size - 12_288) // 262_144
    damaged: set[int] = set()
    for block in range(blocks):
        shutil.copy(pristine, store)
        _damage(store, block)
        for args in (("calls", "--all", "--json"), ("ingest", "--rejects", "--json")):
            result = cli(*args)
            assert result.exception is None or isinstance(result.exception, SystemExit)
            if result.exit_code == 0:
                continue  # the damaged block held nothing these commands read
            assert result.exit_code == 2, result.output
            assert result.stderr.startswith(f"error: {store}: the store file is damaged (")
            assert "restore it from a backup" in result.stderr
            assert len(result.stderr.splitlines()) == 1
            damaged.add(block)
    # The first block holds the catalogue (found when the store is opened); later ones rows
    # (found while they are read).
    assert 0 in damaged
    assert damaged - {0}, damaged
    duckdb.connect(str(pristine)).close()  # the copy itself was never touched


def test_a_damaged_write_ahead_log_says_which_file_to_move(cli: Cli, cucm_files: Path) -> None:
    cli.json("ingest", str(cucm_files))
    store = cli.workspace / "callacct.duckdb"
    _killed_writer(store)
    wal = cli.workspace / "callacct.duckdb.wal"
    with wal.open("r+b") as fh:
        fh.seek(wal.stat().st_size // 2)
        fh.write(b"\xde\xad\xbe\xef" * 16)
    result = cli("calls", "--json")
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"error: {wal}: the store's write-ahead log is damaged (")
    assert "move that file aside" in result.stderr
    assert len(result.stderr.splitlines()) == 1
    wal.rename(wal.with_suffix(".aside"))  # as the message says: the store opens again
    assert len(cli.json("calls", "--all")) == 23
