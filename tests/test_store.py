"""The store's schema is versioned and migrated on open."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from callacct.errors import StoreError
from callacct.store import open_store, scalar
from callacct.store.schema import MIGRATIONS


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
