"""The raw archive gives back every ingested file byte for byte, whatever its shape."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import pytest

from callacct.config import Settings
from callacct.errors import CallacctError
from callacct.ingest.engine import ingest_paths
from callacct.store import Store, scalar
from callacct.store.archive import archive_files, archived_line, read_archived
from tests.ingest.test_cucm_robustness import CDR129, CDR133, CMR46, GOOD

ZSTD_FRAME = b"\x28\xb5\x2f\xfd"  # the magic number each zstd frame starts with
SETTINGS = Settings.model_validate({"dialplan": {"access_codes": ["0"]}})


def _ledger(store: Store) -> list[tuple[int, str, str, str]]:
    return [
        (int(r[0]), r[1], r[2], r[3])
        for r in store.con.execute(
            "SELECT file_id, path, sha256, archive FROM ingest_files ORDER BY file_id"
        ).fetchall()
    ]


def _assert_restored(store: Store) -> None:
    for file_id, path, sha256, _ in _ledger(store):
        content = read_archived(store, file_id)
        assert content == Path(path).read_bytes(), path
        assert hashlib.sha256(content).hexdigest() == sha256


def test_files_of_one_batch_come_back_exactly(tmp_path: Path, store: Store) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    # rejects, duplicates, blank lines, CRLF and no final newline are all kept as they were
    (folder / "a").write_bytes(CDR129[0] + b"\n".join(CDR129[1]) + b"\n\n")
    (folder / "b").write_bytes(CDR129[0] + GOOD + b"\nnot a record\r\n" + GOOD)
    (folder / "c").write_bytes(CDR133[0] + b"\n".join(CDR133[1]))
    (folder / "d").write_bytes(CMR46[0] + b"\n".join(CMR46[1]) + b"\n")
    report = ingest_paths(store, SETTINGS, [folder])
    assert (report.files, report.rejected, report.duplicates) == (4, 1, 2)
    _assert_restored(store)
    # files of the same layout share an archive
    archives = {archive for *_, archive in _ledger(store)}
    assert len(archives) == 3
    assert [p.name for p in archive_files(store.archive_dir)] == sorted(
        Path(a).name for a in archives
    )


def test_a_large_file_read_in_pieces_comes_back_exactly(tmp_path: Path, store: Store) -> None:
    path = tmp_path / "big"
    records = CDR129[1] * 40  # duplicates after the first round: stored once, archived all
    path.write_bytes(CDR129[0] + b"\n".join(records) + b"\n")
    tiny = SETTINGS.model_copy(
        update={
            "ingest": SETTINGS.ingest.model_copy(
                update={"batch_bytes": 16 * 1024, "parse_bytes": 8 * 1024, "commit_rows": 50}
            )
        }
    )
    report = ingest_paths(store, tiny, [path])
    assert report.rows_read == len(records)
    assert report.stored == len(CDR129[1])
    _assert_restored(store)
    # One zstd frame a piece; other tools read the frames as one stream (DuckDB here).
    (archive,) = archive_files(store.archive_dir)
    assert archive.read_bytes().count(ZSTD_FRAME) > 1
    with duckdb.connect() as con:  # its own: the module's default one is shared
        lines = con.execute(
            "SELECT count(*) FROM read_csv(?, compression = 'zstd', header = false, "
            "columns = {'line': 'VARCHAR'}, delim = '\x01', quote = '', escape = '')",
            [str(archive)],
        ).fetchall()
    assert lines == [(len(records) + 2,)]  # and the two header lines


def test_a_dry_run_archives_nothing(tmp_path: Path, store: Store) -> None:
    path = tmp_path / "a"
    path.write_bytes(CDR129[0] + b"\n".join(CDR129[1]) + b"\n")
    ingest_paths(store, SETTINGS, [path], dry_run=True)
    assert archive_files(store.archive_dir) == []


def test_a_file_without_a_whole_file_archive_says_why(tmp_path: Path, store: Store) -> None:
    with pytest.raises(CallacctError, match="no ingested file with id 42"):
        read_archived(store, 42)
    path = tmp_path / "a"
    path.write_bytes(CDR129[0] + GOOD + b"\n")
    ingest_paths(store, SETTINGS, [path])
    file_id = scalar(store.con, "SELECT file_id FROM ingest_files")
    # A ledger row with an archive but no offset in it: nothing callacct reads.
    other = store.archive_dir / "2026-01" / "run-00001.parquet"
    other.parent.mkdir(parents=True)
    other.write_bytes(b"PAR1")
    store.con.execute(
        "UPDATE ingest_files SET archive = '2026-01/run-00001.parquet', archive_at = NULL"
    )
    for read in (lambda: read_archived(store, file_id), lambda: archived_line(store, file_id, 3)):
        with pytest.raises(CallacctError, match=r"run-00001\.parquet is not a whole-file raw"):
            read()
    # Neither listed nor deleted: the next ingest's clean-up leaves what it does not know.
    assert other not in archive_files(store.archive_dir)
    second = tmp_path / "b"
    second.write_bytes(CDR133[0] + CDR133[1][0] + b"\n")
    ingest_paths(store, SETTINGS, [second])
    assert other.read_bytes() == b"PAR1"


def test_any_line_of_an_archived_file_is_read_back(tmp_path: Path, store: Store) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    files = {
        "a": CDR129[0] + b"\n".join(CDR129[1]) + b"\n",
        "b": (CDR129[0] + GOOD + b"\nnot a record\r\n" + CDR129[1][3]).replace(b"\n", b"\r\n"),
        "c": CDR133[0] + b"\n".join(CDR133[1]),  # no final newline
    }
    for name, content in files.items():
        (folder / name).write_bytes(content)
    ingest_paths(store, SETTINGS, [folder])
    for file_id, path, *_ in _ledger(store):
        lines = Path(path).read_bytes().split(b"\n")
        if not lines[-1]:
            lines.pop()
        for number, line in enumerate(lines, start=1):
            assert archived_line(store, file_id, number) == line.rstrip(b"\r").decode(), number
        with pytest.raises(CallacctError, match=f"has no line {len(lines) + 1}"):
            archived_line(store, file_id, len(lines) + 1)


def test_a_line_far_into_a_large_archive(tmp_path: Path, store: Store) -> None:
    path = tmp_path / "big"
    lines = [CDR129[1][i % len(CDR129[1])] for i in range(30_000)]
    path.write_bytes(CDR129[0] + b"\n".join(lines) + b"\n")
    ingest_paths(store, SETTINGS, [path])
    file_id = scalar(store.con, "SELECT file_id FROM ingest_files")
    header = CDR129[0].count(b"\n")
    for index in (0, 1, 12_345, 29_999):  # across the 4 MB blocks the reader takes
        assert archived_line(store, file_id, header + index + 1) == lines[index].decode()
    with pytest.raises(CallacctError, match="start at 1"):
        archived_line(store, file_id, 0)


def test_a_missing_or_damaged_archive_is_a_clear_error(tmp_path: Path, store: Store) -> None:
    path = tmp_path / "big"
    lines = [CDR129[1][i % len(CDR129[1])] for i in range(5_000)]
    path.write_bytes(CDR129[0] + b"\n".join(lines) + b"\n")
    ingest_paths(store, SETTINGS, [path])
    file_id = scalar(store.con, "SELECT file_id FROM ingest_files")
    (archive,) = archive_files(store.archive_dir)
    archive.write_bytes(archive.read_bytes()[:2_000])  # cut short
    for read in (
        lambda: read_archived(store, file_id),
        lambda: archived_line(store, file_id, 4_000),
    ):
        with pytest.raises(CallacctError, match=r"cannot read the raw archive of .*damaged"):
            read()
    archive.unlink()
    with pytest.raises(CallacctError, match="cannot read the raw archive"):
        archived_line(store, file_id, 1)
