"""Bad lines become rejects with line numbers; re-ingesting in any shape changes nothing."""

from __future__ import annotations

import tempfile
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from callacct.config import Settings
from callacct.ingest import list_rejects, staging
from callacct.ingest.engine import ingest_paths
from callacct.store import Store, fetch_frame, open_store, scalar
from callacct.store.archive import read_archived
from tests.conftest import DENIKOND, SIETE

SETTINGS = Settings.model_validate({"dialplan": {"access_codes": ["0"]}})


def _split(path: Path) -> tuple[bytes, list[bytes]]:
    lines = path.read_bytes().split(b"\n")
    return b"\n".join(lines[:2]) + b"\n", [line for line in lines[2:] if line]


# (header, records) groups of the real samples: 129-col CDR, 133-col CDR, 46-col and 48-col CMR
CDR129 = _split(DENIKOND / "cdr_StandAloneCluster_02_202112131407_515358")
CDR129_B = _split(DENIKOND / "cdr_StandAloneCluster_02_202112131408_515359")
CMR46 = _split(DENIKOND / "cmr_StandAloneCluster_02_202112131408_515359")
CDR133 = _split(SIETE / "cdr.txt")
CMR48 = _split(SIETE / "cmr.txt")
GROUPS = [
    (CDR129[0], CDR129[1] + CDR129_B[1]),
    (CDR133[0], CDR133[1]),
    (CMR46[0], CMR46[1]),
    (CMR48[0], CMR48[1]),
]
GOOD = CDR129[1][0]


def _calls_projection(store: Store) -> list[dict[str, Any]]:
    frame = fetch_frame(
        store.con,
        "SELECT c.* EXCLUDE (call_id, file_id, line_no), r.record_key "
        "FROM calls c JOIN records r USING (file_id, line_no)",
    )
    return list(frame.sort("record_key").iter_rows(named=True))


@cache
def _baseline() -> tuple[tuple[tuple[str, Any], ...], ...]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for i, (header, records) in enumerate(GROUPS):
            (folder / f"f{i}").write_bytes(header + b"\n".join(records) + b"\n")
        store = open_store(folder / "s.duckdb")
        ingest_paths(store, SETTINGS, [folder / f"f{i}" for i in range(len(GROUPS))])
        rows = _calls_projection(store)
        store.close()
    return tuple(tuple(sorted(r.items())) for r in rows)


@st.composite
def deliveries(draw: st.DrawFn) -> list[list[tuple[str, bytes]]]:
    """Runs of files: records re-split, re-ordered, repeated and renamed."""
    files: list[tuple[str, bytes]] = []
    for g, (header, records) in enumerate(GROUPS):
        order = draw(st.permutations(range(len(records))))
        extra = draw(st.lists(st.sampled_from(range(len(records))), max_size=3))
        picked = list(order) + extra
        cuts = sorted(draw(st.sets(st.integers(1, max(1, len(picked) - 1)), max_size=3)))
        bounds = [0, *cuts, len(picked)]
        for i in range(len(bounds) - 1):
            part = picked[bounds[i] : bounds[i + 1]]
            if not part:
                continue
            name = draw(st.sampled_from(["cdr_X_01_202501010000_", "export-", "x"]))
            body = header + b"\n".join(records[j] for j in part)
            if draw(st.booleans()):
                body += b"\n"
            files.append((f"{name}{g}-{i}", body))
    files = draw(st.permutations(files))
    runs = draw(st.integers(1, 3))
    cut = sorted(draw(st.sets(st.integers(0, len(files)), max_size=runs - 1)))
    bounds = [0, *cut, len(files)]
    batches = [files[bounds[i] : bounds[i + 1]] for i in range(len(bounds) - 1)]
    if draw(st.booleans()):
        batches.append(files)  # everything delivered again
    return batches


@hsettings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(deliveries())
def test_same_calls_whatever_the_order_names_and_splits(
    runs: list[list[tuple[str, bytes]]],
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        store = open_store(root / "s.duckdb")
        total = 0
        for n, batch in enumerate(runs):
            folder = root / f"run{n}"
            folder.mkdir()
            for name, body in batch:
                (folder / name).write_bytes(body)
            report = ingest_paths(store, SETTINGS, [folder])
            assert report.rows_read == report.stored + report.duplicates + report.rejected
            assert report.rejected == 0
            total += report.stored
        rows = _calls_projection(store)
        stored_records = store.con.execute("SELECT count(*) FROM records").fetchall()[0]
        store.close()
    assert stored_records == (total,)
    assert tuple(tuple(sorted(r.items())) for r in rows) == _baseline()


def _ingest_lines(tmp: Path, lines: list[bytes], store: Store) -> Any:
    path = tmp / "cdr_StandAloneCluster_02_202112131407_1"
    path.write_bytes(CDR129[0] + b"\n".join(lines) + b"\n")
    return ingest_paths(store, SETTINGS, [path])


def test_each_kind_of_bad_line_is_rejected_with_its_line(tmp_path: Path, store: Store) -> None:
    fields = GOOD.split(b",")
    bad_int = b",".join([fields[0], b"12x", *fields[2:]])
    truncated = b",".join(fields[:-3])
    too_many = GOOD + b',"extra"'
    broken_quote = GOOD.replace(b'"2427"', b'"2427', 1)
    not_utf8 = GOOD.replace(b'"2427"', b'"24\xff27"', 1)
    # disconnect (field 48) before origination (field 4)
    impossible = b",".join([*fields[:48], b"1000", *fields[49:]])
    lines = [
        GOOD,
        bad_int,
        truncated,
        b"",
        too_many,
        broken_quote,
        not_utf8,
        impossible,
        CDR129[1][1],
    ]
    report = _ingest_lines(tmp_path, lines, store)
    assert (report.rows_read, report.stored, report.duplicates, report.rejected) == (8, 2, 0, 6)
    rejects = {(r["line"], r["reason"]) for r in list_rejects(store)}
    assert rejects == {
        (4, "not_integer"),
        (5, "column_count"),
        (7, "column_count"),
        (8, "quoting"),
        (9, "encoding"),
        (10, "impossible_time"),
    }
    by_line = {r["line"]: r for r in list_rejects(store)}
    assert "globalCallID_callManagerId" in by_line[4]["message"]
    assert "12x" in by_line[4]["raw"]
    assert "129" in by_line[5]["message"]


def test_duplicate_record_in_the_same_file(tmp_path: Path, store: Store) -> None:
    report = _ingest_lines(tmp_path, [GOOD, GOOD, CDR129[1][1]], store)
    assert (report.stored, report.duplicates, report.rejected) == (2, 1, 0)


def test_record_resent_in_another_file_is_a_duplicate(tmp_path: Path, store: Store) -> None:
    _ingest_lines(tmp_path, [GOOD], store)
    other = tmp_path / "resent"
    other.write_bytes(CDR129[0] + GOOD + b"\n" + CDR129[1][2] + b"\n")
    report = ingest_paths(store, SETTINGS, [other])
    assert (report.stored, report.duplicates) == (1, 1)
    assert store.con.execute("SELECT count(*) FROM calls").fetchall()[0] == (2,)


@hsettings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    garbage=st.lists(
        st.binary(max_size=300).map(lambda b: b.replace(b"\n", b"")), min_size=1, max_size=6
    ),
    positions=st.lists(st.integers(0, 30), min_size=6, max_size=6),
)
def test_garbage_never_crashes_and_counts_reconcile(
    garbage: list[bytes], positions: list[int]
) -> None:
    lines = list(CDR129[1])
    inserted = []
    for junk, pos in zip(garbage, positions, strict=False):
        at = min(pos, len(lines))
        lines.insert(at, junk)
        inserted.append(junk)
    blank = sum(1 for junk in inserted if not junk.rstrip(b"\r").strip())
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(Path(tmp) / "s.duckdb")
        report = _ingest_lines(Path(tmp), lines, store)
        rejects = list_rejects(store, last=100)
        store.close()
    assert report.rows_read == len(lines) - blank
    assert report.rows_read == report.stored + report.duplicates + report.rejected
    assert report.stored == len(CDR129[1])
    assert report.rejected == len(inserted) - blank
    assert all(r["line"] >= 3 and r["reason"] for r in rejects)


def test_utf8_bom_and_crlf_files(tmp_path: Path, store: Store) -> None:
    path = tmp_path / "windows.csv"
    body = CDR129[0].replace(b"\n", b"\r\n") + b"\r\n".join(CDR129[1]) + b"\r\n"
    path.write_bytes(b"\xef\xbb\xbf" + body)
    report = ingest_paths(store, SETTINGS, [path])
    assert (report.stored, report.rejected) == (len(CDR129[1]), 0)
    # the archive keeps the file as it was: BOM, header and line ends included
    file_id = scalar(store.con, "SELECT file_id FROM ingest_files")
    assert read_archived(store, file_id) == path.read_bytes()


def test_tiny_parse_pieces_and_commits_give_the_same_calls(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for i, (header, records) in enumerate(GROUPS):
        for j, record in enumerate(records):
            (folder / f"f{i}-{j:03d}").write_bytes(header + record + b"\n")
    tiny = Settings.model_validate(
        {
            "dialplan": {"access_codes": ["0"]},
            "ingest": {"batch_bytes": 20_000, "parse_bytes": 1024, "commit_rows": 3},
        }
    )
    store = open_store(tmp_path / "s.duckdb")
    report = ingest_paths(store, tiny, [folder])
    rows = _calls_projection(store)
    store.close()
    assert report.files == sum(len(records) for _, records in GROUPS)
    assert (report.rejected, report.duplicates) == (0, 0)
    assert tuple(tuple(sorted(r.items())) for r in rows) == _baseline()


@pytest.mark.parametrize("row_group", [1, 2, 5])
def test_calls_written_in_small_row_groups_give_the_same_calls(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, row_group: int
) -> None:
    # Calls and quality rows are handed to the writer whenever a row group fills, between
    # commits and across batches: the stored calls and their linked quality stay the same.
    monkeypatch.setattr(staging, "ROW_GROUP_ROWS", row_group)
    folder = tmp_path / "in"
    folder.mkdir()
    for i, (header, records) in enumerate(GROUPS):
        for j in range(0, len(records), 4):
            (folder / f"f{i}-{j:03d}").write_bytes(header + b"\n".join(records[j : j + 4]) + b"\n")
    tiny = Settings.model_validate(
        {
            "dialplan": {"access_codes": ["0"]},
            "ingest": {"batch_bytes": 20_000, "parse_bytes": 4096, "commit_rows": 7},
        }
    )
    store = open_store(tmp_path / "s.duckdb")
    report = ingest_paths(store, tiny, [folder])
    rows = _calls_projection(store)
    store.close()
    assert (report.rejected, report.duplicates) == (0, 0)
    assert tuple(tuple(sorted(r.items())) for r in rows) == _baseline()


def test_time_messages_say_what_is_wrong(tmp_path: Path, store: Store) -> None:
    """A negative time is not "missing or zero"."""
    names = CDR129[0].split(b"\n")[0].split(b",")
    at = {n.strip(b'"').decode(): i for i, n in enumerate(names)}

    def with_value(column: str, value: bytes, pkid: str) -> bytes:
        fields = GOOD.split(b",")
        fields[at[column]] = value
        fields[at["pkid"]] = f'"{pkid}"'.encode()
        return b",".join(fields)

    lines = [
        with_value("dateTimeOrigination", b"-5", "00000000-0000-0000-0000-000000000001"),
        with_value("dateTimeOrigination", b"0", "00000000-0000-0000-0000-000000000002"),
        with_value("dateTimeConnect", b"-3", "00000000-0000-0000-0000-000000000003"),
        with_value("dateTimeDisconnect", b"-1", "00000000-0000-0000-0000-000000000004"),
    ]
    report = _ingest_lines(tmp_path, lines, store)
    assert report.rejected == 4
    got = {(r["line"], r["reason"], r["message"]) for r in list_rejects(store)}
    assert got == {
        (3, "impossible_time", "dateTimeOrigination is negative (before 1970)"),
        (4, "missing_time", "dateTimeOrigination is missing or 0"),
        (5, "impossible_time", "dateTimeConnect is negative (before 1970)"),
        (6, "impossible_time", "dateTimeDisconnect is negative (before 1970)"),
    }
