"""The Asterisk dialect: layout detection, the real samples, rejects, DST, one call per call."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from callacct.config import Settings
from callacct.errors import IngestError
from callacct.ingest.asterisk import Asterisk
from callacct.ingest.dialects import detect_dialect, get_dialect
from callacct.store import Store, open_store
from callacct.store.archive import read_archived
from tests.ingest.helpers import calls_by_line, ingest

DATA = Path(__file__).parent.parent / "data"
MINEEV = DATA / "asterisk" / "mineevburyat_dj-asterisk-cdr" / "Master.csv"
KELY = DATA / "asterisk" / "KelySaina_cdr" / "Master.csv"
FREESWITCH = DATA / "freeswitch" / "Kxingyunliushui_freeswitch_tools" / "Master.csv"
CUCM_FILES = sorted((DATA / "cucm").rglob("c[dm]r*"))


def make_settings(**dialplan: Any) -> Settings:
    return Settings.model_validate(
        {
            "general": {"country": "RU", "timezone": "Asia/Irkutsk", "currency": "RUB"},
            "dialplan": {"access_codes": ["9"], "extension_pattern": r"^\d{3}$", **dialplan},
        }
    )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(tmp_path / "s.duckdb")
    yield s
    s.close()


def rejects(store: Store) -> list[tuple[int, str, str]]:
    return store.con.execute(
        "SELECT line_no, reason, message FROM rejects ORDER BY line_no"
    ).fetchall()


def head(path: Path) -> bytes:
    return path.read_bytes()[: 64 * 1024]


# A cdr_csv line with the 16 default columns; `csv_line` fills in what a test changes.
BASE = {
    "accountcode": "",
    "src": "201",
    "dst": "202",
    "dcontext": "internal",
    "clid": '"Alice" <201>',
    "channel": "SIP/201-00000001",
    "dstchannel": "SIP/202-00000002",
    "lastapp": "Dial",
    "lastdata": "SIP/202,30",
    "start": "2024-01-15 10:00:00",
    "answer": "2024-01-15 10:00:05",
    "end": "2024-01-15 10:01:05",
    "duration": 65,
    "billsec": 60,
    "disposition": "ANSWERED",
    "amaflags": "DOCUMENTATION",
}


def csv_line(**values: Any) -> str:
    fields = []
    for name, value in {**BASE, **values}.items():
        if isinstance(value, int):
            fields.append(str(value))
        elif name == "answer" and value == "":
            fields.append("")  # cdr_csv writes a bare empty answer for unanswered calls
        else:
            fields.append('"' + str(value).replace('"', '""') + '"')
    return ",".join(fields)


def write(tmp_path: Path, name: str, *lines: str) -> Path:
    path = tmp_path / name
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


# -- detection -----------------------------------------------------------------------------


def test_registered_and_detected() -> None:
    assert get_dialect("asterisk").name == "asterisk"
    assert detect_dialect(head(MINEEV), MINEEV).name == "asterisk"
    assert detect_dialect(head(KELY), KELY).name == "asterisk"


@pytest.mark.parametrize("path", [*CUCM_FILES, FREESWITCH], ids=lambda p: p.name)
def test_does_not_claim_other_formats(path: Path) -> None:
    assert not Asterisk().sniff(head(path), path)


@pytest.mark.parametrize(
    "text",
    [
        "a,b,c\n1,2,3\n",
        "date,from,to,seconds\n2024-01-15 10:00:00,201,202,60\n",
        # right width, but the disposition is a FreeSWITCH hangup cause (its "asterisk" template)
        csv_line(disposition="NORMAL_CLEARING"),
        "",
    ],
)
def test_does_not_claim_arbitrary_csv(text: str) -> None:
    assert not Asterisk().sniff(text.encode(), Path("x.csv"))


def test_layout_of_the_samples() -> None:
    settings = make_settings()
    big = Asterisk().layout(head(MINEEV), MINEEV, settings)
    assert big.header_lines == 0
    assert len(big.columns) == 21
    assert big.columns[-3:] == ["peeraccount", "linkedid", "sequence"]
    assert dict(big.options)["variant"] == "cdr_csv-21"
    custom = Asterisk().layout(head(KELY), KELY, settings)
    assert custom.columns[0] == "clid"
    assert custom.columns[8:11] == ["start", "answer", "end"]
    assert dict(custom.options)["variant"] == "cdr_custom-19"


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ([], []),
        (['"1705312800.1"'], ["uniqueid"]),
        (['"my note"'], ["userfield"]),
        (['"1705312800.1"', '""'], ["uniqueid", "userfield"]),
        (['""', '"1705312800.1"', "3"], ["peeraccount", "linkedid", "sequence"]),
        (['"pbx1-1705312800.1"', '""', '"1705312800.1"', "3"],
         ["uniqueid", "peeraccount", "linkedid", "sequence"]),
        (['"1705312800.1"', '""', '""', '"1705312800.1"', "3"],
         ["uniqueid", "userfield", "peeraccount", "linkedid", "sequence"]),
    ],
)  # fmt: skip
def test_cdr_csv_widths(extra: list[str], expected: list[str]) -> None:
    line = ",".join([csv_line(), *extra])
    layout = Asterisk().layout(line.encode() + b"\n", Path("Master.csv"), make_settings())
    assert layout.columns[16:] == expected
    assert len(layout.columns) == 16 + len(expected)


def test_cdr_custom_extra_columns() -> None:
    line = KELY.read_text(encoding="utf-8").splitlines()[0] + ',"did-1","rec.wav"'
    layout = Asterisk().layout(line.encode(), KELY, make_settings())
    assert layout.columns[18:] == ["sequence", "extra_1", "extra_2"]


def test_unknown_layout_with_format_forced(tmp_path: Path) -> None:
    path = write(tmp_path, "x.csv", "a,b,c")
    with pytest.raises(IngestError, match=r"not an Asterisk Master\.csv layout"):
        Asterisk().layout(path.read_bytes(), path, make_settings())


# -- the real samples --------------------------------------------------------------------------


def test_mineevburyat_sample(store: Store) -> None:
    report = ingest(store, make_settings(), MINEEV)
    assert (report.rows_read, report.stored, report.duplicates, report.rejected) == (84, 84, 0, 0)
    assert report.results[0].dialect == "asterisk"
    # Eight lines (four calls of two rows) have a caller name (clid) with bytes that are not
    # UTF-8: accounting does not read clid, so they are kept, the bytes replaced, and said.
    assert report.replaced == 8
    assert report.results[0].replaced_columns == ["clid"]
    assert len(report.warnings) == 1
    assert "8 record(s)" in report.warnings[0]
    assert "clid" in report.warnings[0]
    assert rejects(store) == []
    # Fan-out rows are records of one call each: 36 calls from 84 stored rows.
    kinds = dict(store.con.execute("SELECT kind, count(*) FROM records GROUP BY kind").fetchall())
    assert kinds == {"call": 36, "excluded": 48}
    calls = calls_by_line(store)
    assert len(calls) == 36
    assert {c["direction"] for c in calls.values()} == {"incoming"}
    # Four calls answered on one of their fan-out rows: each by the leg with billsec > 0.
    answered = {n: (calls[n]["duration_s"], calls[n]["remote_number"]) for n in (42, 43, 70, 79)}
    assert answered == {
        42: (30, "81079246516548"),
        43: (16, "81079243525786"),
        70: (24, "81079953571708"),
        79: (39, "81079247774111"),
    }
    # The raw archive keeps the original bytes.
    file_id = store.con.execute("SELECT file_id FROM ingest_files").fetchall()[0][0]
    assert read_archived(store, file_id) == MINEEV.read_bytes()


def test_mineevburyat_calls_read_by_hand(store: Store) -> None:
    ingest(store, make_settings(), MINEEV)
    calls = calls_by_line(store)

    # Line 1: answered by the PBX itself (Hangup), 27 s; local 15:07:24 at UTC+8.
    first = calls[1]
    assert first["started_at"] == dt.datetime(2024, 1, 27, 7, 7, 24)
    assert first["ended_at"] == dt.datetime(2024, 1, 27, 7, 7, 51)
    assert (first["disposition"], first["answered"], first["duration_s"]) == ("answered", True, 27)
    assert (first["calling_number"], first["remote_number"]) == ("89245555937", "89245555937")
    assert first["gateway"] == "SIP/211474"
    assert first["record_key"] == "1706368044.0:0"
    assert first["global_call_id"] == "1706368044.0"

    # Lines 4-6 (linkedid 1706369600.6): 301 and stadionpbx rang 60 s, nobody answered; the
    # trailing "ANSWERED" Hangup row has billsec 0. One missed call, shown on line 4.
    assert 5 not in calls
    assert 6 not in calls
    missed = calls[4]
    assert (missed["disposition"], missed["answered"]) == ("missed", False)
    assert (missed["duration_s"], missed["ring_s"]) == (0, 60)
    assert missed["answered_at"] is None
    assert missed["extension"] == "301"

    # Lines 7-13: seven NO ANSWER rows through Local channels: one missed call, shown on the
    # caller's longest row (line 10: SIP/211553 -> Local/ch2, 40 s).
    assert [n for n in calls if 7 <= n <= 13] == [10]
    assert (calls[10]["disposition"], calls[10]["ring_s"]) == ("missed", 40)
    assert calls[10]["gateway"] == "SIP/211553"

    # Lines 22-26: Local-channel fan-out then the direct bridge to 301: one answered call of
    # 17 s (line 26's billsec), rung from 02:04:06 local (the group's first start), 6 s to answer.
    assert [n for n in calls if 22 <= n <= 26] == [26]
    answered = calls[26]
    assert (answered["disposition"], answered["duration_s"], answered["ring_s"]) == (
        "answered",
        17,
        6,
    )
    assert answered["started_at"] == dt.datetime(2024, 1, 27, 18, 4, 6)
    assert answered["answered_at"] == dt.datetime(2024, 1, 27, 18, 4, 12)
    assert answered["extension"] == "301"
    assert answered["final_number"] == "301"

    # Lines 39-40: 301 answered after 5 s (43 s talk), the stadionpbx leg is dropped.
    assert 40 not in calls
    assert (calls[39]["duration_s"], calls[39]["ring_s"], calls[39]["extension"]) == (43, 5, "301")

    # Lines 63-64 and 65-66: both legs NO ANSWER: one missed call each.
    assert calls[63]["disposition"] == calls[65]["disposition"] == "missed"
    assert 64 not in calls
    assert 66 not in calls

    # Line 83: BUSY.
    assert (calls[83]["disposition"], calls[83]["answered"]) == ("busy", False)

    dispositions = store.con.execute(
        "SELECT disposition, count(*) FROM calls GROUP BY ALL ORDER BY 1"
    ).fetchall()
    assert dispositions == [("answered", 30), ("busy", 1), ("missed", 5)]


def test_default_extension_pattern_makes_six_digit_numbers_extensions(store: Store) -> None:
    settings = Settings.model_validate({"general": {"timezone": "Asia/Irkutsk"}})
    ingest(store, settings, MINEEV)
    calls = calls_by_line(store)
    # 214943 (a city number) and the DID 211553 both match ^\d{3,6}$: an "internal" call.
    assert calls[31]["direction"] == "internal"
    assert calls[1]["direction"] == "incoming"
    assert calls[1]["extension"] == "211474"


def test_kelysaina_cdr_custom_sample(store: Store) -> None:
    settings = make_settings(extension_pattern=r"^(\d{4}|client\d+)$")
    report = ingest(store, settings, KELY)
    assert (report.rows_read, report.stored, report.duplicates, report.rejected) == (14, 14, 0, 0)
    calls = calls_by_line(store)
    assert len(calls) == 14
    assert {c["direction"] for c in calls.values()} == {"internal"}
    first = calls[1]
    assert first["record_key"] == "1690325492.2:2"
    assert (first["calling_number"], first["called_number"]) == ("client1", "6789")
    assert (first["extension"], first["peer_extension"]) == ("client1", "client2")
    assert (first["duration_s"], first["ring_s"]) == (13, 18)
    assert calls[2]["disposition"] == "missed"
    assert (calls[2]["duration_s"], calls[2]["ring_s"]) == (0, 30)
    assert [n for n, c in calls.items() if not c["answered"]] == [2, 5, 10]


def test_reingest_stores_nothing_new(store: Store, tmp_path: Path) -> None:
    settings = make_settings()
    first = ingest(store, settings, MINEEV)
    again = ingest(store, settings, MINEEV)
    assert (again.files_skipped, again.rows_read, again.stored) == (1, 0, 0)
    # The same records in a file that grew by one call: only the new line is stored.
    grown = tmp_path / "Master.csv"
    extra = MINEEV.read_bytes().splitlines()[0].replace(b"1706368044.0", b"1706999999.0")
    grown.write_bytes(MINEEV.read_bytes() + extra + b"\n")
    report = ingest(store, settings, grown)
    assert (report.stored, report.duplicates, report.rejected) == (1, first.stored, 0)
    assert report.calls == 1


# -- values that cannot be right -----------------------------------------------------------------


def test_impossible_values_are_rejected_with_line_and_reason(store: Store, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "Master.csv",
        csv_line(),
        csv_line(end="2024-01-15 09:59:00", duration=0, billsec=0),
        csv_line(billsec=-1),
        csv_line(billsec=70),
        csv_line(disposition="MAYBE"),
        csv_line(start="15/01/2024 10:00"),
        csv_line(answer="2024-01-15 10:02:00"),
        csv_line()[: -len(',"DOCUMENTATION"')],
        csv_line(duration=""),
    )
    report = ingest(store, make_settings(), path, dialect=get_dialect("asterisk"))
    assert (report.rows_read, report.stored, report.rejected) == (9, 1, 8)
    got = {line: (reason, message) for line, reason, message in rejects(store)}
    assert got[2] == ("impossible_time", "end is before start")
    assert got[3] == ("impossible_value", "duration or billsec is negative")
    assert got[4] == ("impossible_value", "billsec is longer than duration")
    assert got[5][0] == "unknown_value"
    assert got[6][0] == "bad_time"
    assert "start is not a date-time" in got[6][1]
    assert got[7] == ("impossible_time", "answer is outside start..end")
    assert got[8][0] == "column_count"
    assert got[9][0] == "missing_value"


def test_dst_gap_is_a_reject_and_overlap_is_read(store: Store, tmp_path: Path) -> None:
    settings = Settings.model_validate(
        {"general": {"timezone": "UTC"}, "ingest": {"source_timezone": "Europe/Paris"}}
    )
    path = write(
        tmp_path,
        "Master.csv",
        csv_line(start="2024-03-31 01:59:00", answer="2024-03-31 01:59:05",
                 end="2024-03-31 03:00:05", duration=65, billsec=60),
        csv_line(start="2024-03-31 02:30:00", answer="2024-03-31 02:30:05",
                 end="2024-03-31 02:31:05"),
        # Autumn: 02:30 happens twice; a start there is read as the first (summer) 02:30.
        csv_line(start="2024-10-27 02:30:00", answer="2024-10-27 02:30:05",
                 end="2024-10-27 02:31:05"),
        # Started in the first 02:50 and ended in the repeated 02:10: 20 minutes, not negative.
        csv_line(start="2024-10-27 02:50:00", answer="2024-10-27 02:50:05",
                 end="2024-10-27 02:10:00", duration=1200, billsec=1195),
    )  # fmt: skip
    report = ingest(store, settings, path)
    assert (report.rows_read, report.stored, report.rejected) == (4, 3, 1)
    [(line, reason, message)] = rejects(store)
    assert (line, reason) == (2, "nonexistent_time")
    assert "does not exist in Europe/Paris" in message
    calls = calls_by_line(store)
    assert calls[1]["started_at"] == dt.datetime(2024, 3, 31, 0, 59)
    assert calls[1]["ended_at"] == dt.datetime(2024, 3, 31, 1, 0, 5)
    assert calls[3]["started_at"] == dt.datetime(2024, 10, 27, 0, 30)
    assert calls[4]["started_at"] == dt.datetime(2024, 10, 27, 0, 50)
    assert calls[4]["ended_at"] == dt.datetime(2024, 10, 27, 1, 10)


# -- direction -----------------------------------------------------------------------------------


def test_directions_from_numbers_and_channels(store: Store, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "Master.csv",
        csv_line(),  # 201 -> 202
        csv_line(dst="90612345678", dstchannel="SIP/provider-0000001a"),
        csv_line(src="0612345678", dst="202", channel="SIP/provider-0000001b"),
        csv_line(src="0612345678", dst="s", channel="SIP/provider-0000001c",
                 dstchannel="SIP/203-0000001d"),
        csv_line(dst="90612345678", dstchannel="", answer="", billsec=0,
                 disposition="CONGESTION"),
    )  # fmt: skip
    ingest(store, make_settings(), path)
    calls = calls_by_line(store)
    internal, outgoing, incoming, to_s, failed = (calls[n] for n in range(1, 6))
    assert (internal["direction"], internal["extension"], internal["peer_extension"]) == (
        "internal",
        "201",
        "202",
    )
    assert internal["gateway"] is None
    assert internal["remote_number"] is None
    assert (outgoing["direction"], outgoing["remote_number"], outgoing["gateway"]) == (
        "outgoing",
        "0612345678",
        "SIP/provider",
    )
    assert outgoing["extension"] == "201"
    assert (incoming["direction"], incoming["extension"], incoming["gateway"]) == (
        "incoming",
        "202",
        "SIP/provider",
    )
    assert incoming["remote_number"] == "0612345678"
    # Dialled "s" (no DID): the phone that answered is the extension.
    assert (to_s["direction"], to_s["extension"]) == ("incoming", "203")
    assert (failed["direction"], failed["disposition"], failed["gateway"]) == (
        "outgoing",
        "failed",
        None,
    )


def test_gateway_pattern_marks_trunk_channels(store: Store, tmp_path: Path) -> None:
    # A neighbouring PBX presents 4xx callers through the trunk "SIP/branch".
    path = write(tmp_path, "Master.csv", csv_line(src="401", channel="SIP/branch-00000001"))
    ingest(store, make_settings(gateway_pattern="^SIP/branch"), path)
    call = calls_by_line(store)[1]
    assert (call["direction"], call["gateway"], call["extension"]) == (
        "incoming",
        "SIP/branch",
        "202",
    )


def test_rows_without_uniqueid_use_a_stable_hash(store: Store, tmp_path: Path) -> None:
    path = write(tmp_path, "Master.csv", csv_line(), csv_line(src="203"))
    ingest(store, make_settings(), path)
    keys = [k for (k,) in store.con.execute("SELECT record_key FROM records").fetchall()]
    assert len(set(keys)) == 2
    assert all(len(k) == 32 for k in keys)
    grown = write(tmp_path, "Master2.csv", csv_line(), csv_line(src="203"), csv_line(src="204"))
    report = ingest(store, make_settings(), grown)
    assert (report.stored, report.duplicates) == (1, 2)


def test_short_cdr_custom_line_is_a_reject(store: Store, tmp_path: Path) -> None:
    # cdr_custom's last column (sequence) is a bare integer: Polars pads a short line with a
    # null there, which must not pass as a record.
    lines = KELY.read_bytes().splitlines()
    path = tmp_path / "Master.csv"
    path.write_bytes(lines[0] + b"\n" + lines[1].rsplit(b",", 1)[0] + b"\n")
    report = ingest(store, make_settings(), path)
    assert (report.rows_read, report.stored, report.rejected) == (2, 1, 1)
    assert rejects(store) == [(2, "missing_value", "sequence is empty (a short or damaged line)")]
