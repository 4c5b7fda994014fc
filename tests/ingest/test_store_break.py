"""Between batches an ingest can let go of the store: nothing is pending then, no transaction is
open and the run holds no other connection, so the store's connection may be closed (another
process reads meanwhile) and opened again, and the run goes on."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from callacct.api.chain import load_files
from callacct.config import Settings
from callacct.ingest.engine import ingest_paths
from callacct.store import Store, open_store, scalar
from tests.conftest import DENIKOND
from tests.ingest.test_disk_full import _big_cdr_file

SETTINGS = Settings.model_validate(
    {"ingest": {"batch_bytes": 64 * 1024, "parse_bytes": 64 * 1024, "commit_rows": 500}}
)
CONTENT = (
    "SELECT count(*), count(DISTINCT call_id), sum(duration_s), min(call_id), max(call_id) "
    "FROM calls"
)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """Four batches: two CDR files, a CMR file (another layout), two large files."""
    folder = tmp_path / "in"
    shutil.copytree(DENIKOND, folder)
    _big_cdr_file(folder / "cdr_StandAloneCluster_01_202112131408_1", 3000, 1)
    _big_cdr_file(folder / "cdr_StandAloneCluster_01_202112131408_2", 2000, 2)
    return folder


def test_the_store_is_closed_and_opened_again_between_batches(tmp_path: Path, folder: Path) -> None:
    plain = open_store(tmp_path / "plain.duckdb")
    expected = ingest_paths(plain, SETTINGS, [folder])
    content = plain.con.execute(CONTENT).fetchall()
    plain.close()

    seen: list[tuple[int, int, int]] = []
    threads: list[int] = []

    def between(store: Store) -> None:
        threads.append(int(scalar(store.con, "SELECT current_setting('threads')")))
        # Nothing open: beginning a transaction works (it fails inside one).
        store.con.execute("BEGIN TRANSACTION")
        store.con.execute("ROLLBACK")
        store.close()
        # Read-only, as another process would: possible only once every connection of the
        # run to the file is closed. Every file seen is whole.
        reader = duckdb.connect(str(store.path), read_only=True)
        row = reader.execute(
            "SELECT count(*) FILTER (status = 'done'), count(*) FILTER (status = 'loading'), "
            "(SELECT count(*) FROM calls) FROM ingest_files"
        ).fetchall()[0]
        reader.close()
        seen.append((int(row[0]), int(row[1]), int(row[2])))
        store.con = open_store(store.path).con

    store = open_store(tmp_path / "s.duckdb")
    store.con.execute("SET threads = 3")
    report = ingest_paths(store, SETTINGS, [folder], between_batches=between)
    assert report.to_dict(details=False) | {"run_id": ""} == expected.to_dict(details=False) | {
        "run_id": ""
    }
    assert store.con.execute(CONTENT).fetchall() == content
    store.close()
    assert len(seen) == 4  # one break after each batch
    assert [loading for _, loading, _ in seen] == [0, 0, 0, 0]
    assert [done for done, _, _ in seen] == sorted(done for done, _, _ in seen)
    assert seen[-1][0] == expected.files
    assert seen[-1][2] == expected.calls
    # The ingest's own DuckDB settings hold on a connection opened during a break.
    assert set(threads) == {1}


def test_a_load_takes_the_same_breaks(tmp_path: Path, folder: Path) -> None:
    breaks: list[int] = []

    def between(store: Store) -> None:
        breaks.append(int(scalar(store.con, "SELECT count(*) FROM ingest_files")))

    store = open_store(tmp_path / "s.duckdb")
    result = load_files(store, SETTINGS, [folder], between_batches=between, break_if=None)
    assert result.ingest.files == 5
    assert len(breaks) == 4
    # By default a load breaks only when a reader waits for the store: none does here.
    taken: list[bool] = []
    again = load_files(
        store, SETTINGS, [folder], force=True, between_batches=lambda s: taken.append(True)
    )
    store.close()
    assert again.ingest.duplicates > 0
    assert taken == []
