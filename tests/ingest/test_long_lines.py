"""A line longer than ingest.max_line_bytes is one reject: the other lines and files load, and
memory stays bounded whatever the input (a huge line, a quote that never closes)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from callacct.config import Settings, parse_settings
from callacct.errors import ConfigError
from callacct.ingest import list_rejects
from callacct.ingest.parse import LINE_TOO_LONG, cut_long_lines
from callacct.ingest.plan import Batches
from callacct.store import Store, scalar
from callacct.store.archive import read_archived
from tests.conftest import DENIKOND
from tests.ingest.helpers import ingest

SAMPLE = DENIKOND / "cdr_StandAloneCluster_02_202112131408_515359"
HEADER = b"".join(SAMPLE.read_bytes().splitlines(keepends=True)[:2])
RECORDS = [r for r in SAMPLE.read_bytes().splitlines()[2:] if r]
LIMIT = 8192  # CUCM lines are 1-2 KB


def _settings(*, small: bool) -> Settings:
    """Files read whole and joined (`small`), or read in pieces of 16 KiB."""
    batch = 64 * 1024 * 1024 if small else 1024
    return Settings.model_validate(
        {
            "ingest": {
                "max_line_bytes": LIMIT,
                "batch_bytes": batch,
                "parse_bytes": 16 * 1024,
                "commit_rows": 3,
            }
        }
    )


@pytest.mark.parametrize(
    ("chunk", "expected", "indexes"),
    [
        (b"a\nb\n", b"a\nb\n", []),
        (b"a\n" + b"x" * 11 + b"\nb\n", b"a\n\nb\n", [1]),
        (b"x" * 11 + b"\n" + b"y" * 30 + b"\r\nshort\n", b"\n\nshort\n", [0, 1]),
        (b"a\n" + b"z" * 11, b"a\n\n", [1]),  # a last line without a newline stays a line
        (b"0123456789\n" * 3, b"0123456789\n" * 3, []),  # exactly the limit is fine
    ],
)
def test_cut_long_lines(chunk: bytes, expected: bytes, indexes: list[int]) -> None:
    cut, rejects = cut_long_lines(chunk, 10)
    assert cut == expected
    assert [r.line_index for r in rejects] == indexes
    assert {r.reason for r in rejects} <= {LINE_TOO_LONG}
    assert all(len(r.raw) > 10 and "\n" not in r.raw for r in rejects)


@pytest.mark.parametrize("small", [True, False], ids=["whole", "pieces"])
def test_a_line_too_long_is_rejected_with_its_start_and_the_rest_loads(
    tmp_path: Path, store: Store, small: bool
) -> None:
    long_line = RECORDS[0][:300] + b"x" * 100_000  # the start of a record, then garbage
    body = [RECORDS[0], long_line, *RECORDS[1:5], b'"' + b"y," * 40_000]  # last: no newline
    path = tmp_path / "cdr_StandAloneCluster_02_202112131408_1"
    path.write_bytes(HEADER + b"\n".join(body))
    report = ingest(store, _settings(small=small), path)
    assert (report.rows_read, report.stored, report.rejected) == (7, 5, 2)
    rejects = {r["line"]: r for r in list_rejects(store)}
    assert set(rejects) == {4, 9}
    assert {r["reason"] for r in rejects.values()} == {LINE_TOO_LONG}
    assert rejects[4]["raw"].startswith(RECORDS[0][:300].decode())
    assert 4000 <= len(rejects[4]["raw"]) <= 4096
    assert "ingest.max_line_bytes" in rejects[4]["message"]
    # The archive keeps the file whole, long lines included.
    file_id = scalar(store.con, "SELECT file_id FROM ingest_files")
    assert read_archived(store, file_id) == path.read_bytes()


def test_an_unclosed_quote_costs_one_line(tmp_path: Path, store: Store) -> None:
    """A CSV parser reads everything after an unclosed quote as one field: here that is the
    rest of the file (thousands of records): one bounded reject, not one huge value."""
    body = [b'"' + RECORDS[0], *(RECORDS * 400)]
    path = tmp_path / "cdr_StandAloneCluster_02_202112131408_2"
    path.write_bytes(HEADER + b"\n".join(body) + b"\n")
    report = ingest(store, _settings(small=False), path)
    assert (report.rows_read, report.stored, report.rejected) == (1 + 400 * len(RECORDS), 13, 1)
    assert [(r["line"], r["reason"]) for r in list_rejects(store)] == [(3, "quoting")]


def test_a_long_valid_field_is_not_taken_for_broken_quoting(tmp_path: Path, store: Store) -> None:
    """Lines are bounded by ingest.max_line_bytes, not by the csv module's 128 KiB per field
    (used when a piece holds a bad line and is checked line by line)."""
    fields = RECORDS[0].split(b",")
    long_name = [*fields[:9], b'"' + b"n" * 200_000 + b'"', *fields[10:]]  # a long text field
    path = tmp_path / "cdr_StandAloneCluster_02_202112131408_3"
    path.write_bytes(HEADER + b",".join(long_name) + b"\n" + b"1,2,broken\n")
    settings = Settings.model_validate({"ingest": {"max_line_bytes": 1024 * 1024}})
    report = ingest(store, settings, path)
    assert (report.stored, report.rejected) == (1, 1)
    assert [r["reason"] for r in list_rejects(store)] == ["column_count"]


@pytest.mark.parametrize("value", [0, 1023, 65 * 1024 * 1024, "big"])
def test_max_line_bytes_is_validated(value: object) -> None:
    with pytest.raises(ConfigError, match=r"ingest\.max_line_bytes: "):
        parse_settings({"ingest": {"max_line_bytes": value}}, Path("callacct.toml"))


_MEASURE = textwrap.dedent(
    """
    import json, resource, sys
    from pathlib import Path
    from callacct.config import Settings
    from callacct.ingest.engine import ingest_paths
    from callacct.store import open_store

    store = open_store(Path(sys.argv[1]))
    report = ingest_paths(store, Settings(), sys.argv[2:])
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec (the parent is pytest).
    hwm = [line for line in open("/proc/self/status") if line.startswith("VmHWM")]
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    peak_mb = (int(hwm[0].split()[1]) if hwm else own) // 1024
    print(json.dumps({"peak_mb": peak_mb, **report.to_dict(details=False)}))
    """
)


@pytest.mark.slow
def test_memory_stays_bounded_with_huge_lines_and_other_files_load(tmp_path: Path) -> None:
    """Default settings: a 150 MB line in a file read in pieces, a 60 MB line opening a quote
    that never closes in a file read whole. Peak memory is measured loosely."""
    huge = tmp_path / "in" / "cdr_StandAloneCluster_01_202112131408_1"
    huge.parent.mkdir()
    with huge.open("wb") as fh:
        fh.write(HEADER + RECORDS[0] + b"\n")
        for _ in range(150):
            fh.write(b"x" * (1 << 20))
        fh.write(b"\n" + RECORDS[1] + b"\n")
    quote = tmp_path / "in" / "cdr_StandAloneCluster_01_202112131408_2"
    quote.write_bytes(HEADER + b'"' + b"y," * (30 << 20) + b"\n" + RECORDS[2] + b"\n")
    files = [str(huge), str(quote), *(str(p) for p in DENIKOND.iterdir())]
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(tmp_path / "s.duckdb"), *files],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert (report["files"], report["rejected"]) == (5, 2)
    assert report["stored"] + report["duplicates"] == report["rows_read"] - 2 > 3
    assert report["peak_mb"] < 1000, report  # about 2.3 GB, and failing, without the limit


class _FakeFile:
    def __init__(self, layout: str, size: int) -> None:
        self.size = size
        self.layout = type("L", (), {"signature": (layout,)})()


def test_small_files_of_many_layouts_do_not_pile_up() -> None:
    batches = Batches(batch_bytes=100)
    stored: list[list[int]] = []
    for n in range(40):  # ten layouts, files of 30 bytes: no layout ever fills a batch
        full = batches.add(_FakeFile(f"layout-{n % 10}", 30))  # type: ignore[arg-type]
        if full is not None:
            stored.append([f.size for f in full])
        assert batches.held < 200 + 30
    stored += [[f.size for f in batch] for batch in batches.rest()]
    assert sum(map(sum, stored)) == 40 * 30
    assert batches.held == 0
    assert len(stored) > 10  # stored before the end, not only by layout


def test_a_full_batch_is_stored_at_once() -> None:
    batches = Batches(batch_bytes=100)
    assert batches.add(_FakeFile("a", 60)) is None  # type: ignore[arg-type]
    full = batches.add(_FakeFile("a", 60))  # type: ignore[arg-type]
    assert full is not None
    assert [f.size for f in full] == [60, 60]
