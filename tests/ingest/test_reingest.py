"""When a file is read again: a file that stored nothing because of rejects, and `force`.
Records are never stored twice and the counts always reconcile."""

from __future__ import annotations

from pathlib import Path

from callacct.config import Settings
from callacct.ingest import list_rejects
from callacct.ingest.engine import IngestReport
from callacct.ingest.generic import SHIPPED_MAPPINGS, load_mapping
from callacct.store import Store, scalar
from tests.conftest import DENIKOND
from tests.ingest.helpers import ingest

DATA = Path(__file__).parent.parent / "data"
FREESWITCH = DATA / "freeswitch" / "Kxingyunliushui_freeswitch_tools" / "Master.csv"
CDR = DENIKOND / "cdr_StandAloneCluster_02_202112131408_515359"
SETTINGS = Settings.model_validate({"general": {"timezone": "Europe/Paris"}})


def _counts(report: IngestReport) -> tuple[int, int, int, int, int]:
    return (
        report.files_skipped,
        report.rows_read,
        report.stored,
        report.duplicates,
        report.rejected,
    )


def _ledger(store: Store) -> list[tuple[object, ...]]:
    return store.con.execute(
        "SELECT rows_read, stored, duplicates, rejected FROM ingest_files ORDER BY file_id"
    ).fetchall()


def test_a_file_that_stored_nothing_is_read_again_with_the_corrected_mapping(
    tmp_path: Path, store: Store
) -> None:
    shipped = SHIPPED_MAPPINGS / "freeswitch-example.yaml"
    # The sample was re-saved by a spreadsheet: every line is rejected with the shipped mapping.
    first = ingest(store, SETTINGS, FREESWITCH, dialect=load_mapping(shipped))
    assert _counts(first) == (0, 10, 0, 0, 10)
    # Read again as long as it stores nothing (still the wrong mapping: same rejects, once).
    again = ingest(store, SETTINGS, FREESWITCH, dialect=load_mapping(shipped))
    assert _counts(again) == (0, 10, 0, 0, 10)
    assert len(list_rejects(store, last=100)) == 10
    assert _ledger(store) == [(10, 0, 0, 10)]
    # The documented fix: a mapping that accepts the spreadsheet's times.
    fixed = tmp_path / "fs.yaml"
    fixed.write_text(
        shipped.read_text(encoding="utf-8").replace(
            'timestamp_format: "%Y-%m-%d %H:%M:%S"',
            'timestamp_format: ["%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M"]',
        ),
        encoding="utf-8",
    )
    loaded = ingest(store, SETTINGS, FREESWITCH, dialect=load_mapping(fixed))
    assert _counts(loaded) == (0, 10, 8, 2, 0)
    assert list_rejects(store) == []  # superseded by the read that stored them
    assert _ledger(store) == [(10, 8, 2, 0)]
    # Now it is loaded: skipped whole.
    assert _counts(ingest(store, SETTINGS, FREESWITCH, dialect=load_mapping(fixed)))[0] == 1


def test_files_with_nothing_to_gain_from_a_new_read_are_skipped(
    tmp_path: Path, store: Store
) -> None:
    header_only = tmp_path / "cdr_StandAloneCluster_02_202112131408_1"
    header_only.write_bytes(b"".join(CDR.read_bytes().splitlines(keepends=True)[:2]))
    copy = tmp_path / "cdr_StandAloneCluster_02_202112131408_2"
    ingest(store, SETTINGS, CDR)
    copy.write_bytes(CDR.read_bytes() + CDR.read_bytes().splitlines(keepends=True)[2])
    ingest(store, SETTINGS, copy)  # every record a duplicate: stores nothing, rejects nothing
    ingest(store, SETTINGS, header_only)
    for path in (CDR, copy, header_only):
        assert ingest(store, SETTINGS, path).files_skipped == 1, path.name


def test_force_reads_again_and_stores_nothing_twice(tmp_path: Path, store: Store) -> None:
    lines = CDR.read_bytes().splitlines(keepends=True)
    path = tmp_path / CDR.name
    path.write_bytes(b"".join([*lines, b'1,2,"broken\n']))
    first = ingest(store, SETTINGS, path)
    calls = scalar(store.con, "SELECT count(*) FROM calls")
    assert _counts(first) == (0, 14, 13, 0, 1)
    assert ingest(store, SETTINGS, path).files_skipped == 1
    forced = ingest(store, SETTINGS, path, force=True)
    assert _counts(forced) == (0, 14, 0, 13, 1)
    assert scalar(store.con, "SELECT count(*) FROM calls") == calls
    assert scalar(store.con, "SELECT count(*) FROM records") == 13
    assert [r["line"] for r in list_rejects(store)] == [16]  # the new read's, not twice
    assert _ledger(store) == [(14, 13, 0, 1), (14, 0, 13, 1)]
