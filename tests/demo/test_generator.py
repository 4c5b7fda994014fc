"""Demo organisation and CUCM CDR/CMR generator: shape, quoting, consistency, determinism."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import re
import struct
from collections import Counter, defaultdict
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from callacct.demo import (
    SITES,
    DemoCdrSummary,
    Site,
    build_people,
    write_demo_cdr_files,
    write_people_csv,
)
from callacct.demo.planner import day_start
from callacct.ingest.cucm_fields import CDR_FIELDS, CMR_FIELDS

NAME_RE = re.compile(r"^(cdr|cmr)_StandAloneCluster_0[12]_\d{12}_\d+$")
INT_RE = re.compile(r"^-?\d+$")
CDR_NAMES = [n for n, _ in CDR_FIELDS]
CDR_TYPES = [t for _, t in CDR_FIELDS]
CMR_NAMES = [n for n, _ in CMR_FIELDS]
CMR_TYPES = [t for _, t in CMR_FIELDS]
CDR_IX = {n: i for i, n in enumerate(CDR_NAMES)}
CMR_IX = {n: i for i, n in enumerate(CMR_NAMES)}
TRUNKS = {s.trunk_device for s in SITES}
# Tuesday to Friday: every scenario (conferences only happen on working days) shows up.
END = dt.date(2025, 3, 14)
SEED = 11
INTERVAL = 60


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoCdrSummary:
    people = build_people(SEED, 40)
    out = tmp_path_factory.mktemp("demo")
    return write_demo_cdr_files(out, people=people, seed=SEED, days=4, end=END)


def _lines(path: Path) -> list[bytes]:
    data = path.read_bytes()
    assert data.endswith(b"\n")
    assert b"\r" not in data
    return data[:-1].split(b"\n")


def _malformed(summary: DemoCdrSummary) -> set[tuple[str, int]]:
    return {(m.file_name, m.line_no) for m in summary.malformed}


def _records(summary: DemoCdrSummary, kind: str) -> list[tuple[Path, int, list[str]]]:
    """Well-formed records of all files of a kind as (file, 1-based line, fields)."""
    bad = _malformed(summary)
    out: list[tuple[Path, int, list[str]]] = []
    for path in summary.cdr_files if kind == "cdr" else summary.cmr_files:
        for no, raw in enumerate(_lines(path)[2:], start=3):
            if (path.name, no) in bad:
                continue
            (fields,) = list(csv.reader([raw.decode("utf-8")]))
            out.append((path, no, fields))
    return out


def _close_epoch(name: str) -> int:
    stamp = name.split("_")[-2]
    return int(dt.datetime.strptime(stamp, "%Y%m%d%H%M").replace(tzinfo=dt.UTC).timestamp())


def _ip_text(value: str) -> str:
    return ".".join(str(b) for b in struct.pack("<i", int(value)))


# --- people ------------------------------------------------------------------------------------


def test_people_are_deterministic_and_plausible(tmp_path: Path) -> None:
    people = build_people(5, 200)
    assert people == build_people(5, 200)
    assert people != build_people(6, 200)
    assert len(people) == 200
    assert sum(p.site == "PAR" for p in people) == 150
    assert len({p.login for p in people}) == 200
    assert len({p.extension for p in people}) == 200
    assert len({p.device_name for p in people}) == 200
    roles = Counter(p.role for p in people)
    assert roles["admin"] == 2
    assert 1 <= roles["supervisor"] <= 20
    logins = {p.login for p in people}
    for p in people:
        assert re.fullmatch(r"SEP[0-9A-F]{12}", p.device_name)
        assert p.email == f"{p.login}@example.com"
        assert p.language in {"fr", "en", "de", "es", "it", "ar"}
        ext = int(p.extension)
        assert (2000 <= ext <= 2599) if p.site == "PAR" else (3000 <= ext <= 3399)
        assert p.cost_center.startswith("CC-")
        assert (p.manager is None) == (p.role == "supervisor")
        assert p.manager is None or p.manager in logins
    languages = Counter((p.site, p.language) for p in people)
    assert languages["PAR", "fr"] > 100
    assert languages["NYC", "en"] > 30

    path = tmp_path / "people.csv"
    write_people_csv(people, path)
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == [
        "login", "name", "email", "language", "role", "department", "cost_center", "site",
        "extension", "manager",
    ]  # fmt: skip
    assert len(rows) == 200
    assert rows[0]["login"] == people[0].login


# --- demo files --------------------------------------------------------------------------------


def test_same_seed_same_bytes_other_seed_differs(demo: DemoCdrSummary, tmp_path: Path) -> None:
    people = build_people(SEED, 40)
    again = write_demo_cdr_files(tmp_path / "a", people=people, seed=SEED, days=4, end=END)
    assert [p.name for p in again.files] == [p.name for p in demo.files]
    for mine, theirs in zip(demo.files, again.files, strict=True):
        assert mine.read_bytes() == theirs.read_bytes()
    assert again.malformed == demo.malformed
    assert again.counts == demo.counts

    other = write_demo_cdr_files(tmp_path / "b", people=people, seed=SEED + 1, days=4, end=END)
    mine_bytes = b"".join(p.read_bytes() for p in demo.files)
    assert b"".join(p.read_bytes() for p in other.files) != mine_bytes


def test_file_names_and_sequence_numbers(demo: DemoCdrSummary) -> None:
    assert demo.cdr_files
    assert demo.cmr_files
    assert sorted(demo.files) == sorted(demo.cdr_files + demo.cmr_files)
    assert {p.parent for p in demo.files} == {demo.out_dir}
    seq: dict[tuple[str, str], str] = {}
    by_node: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for path in demo.files:
        assert NAME_RE.match(path.name), path.name
        kind, _, node, stamp, number = path.name.split("_")
        # A cdr_ and cmr_ file of the same node and interval share the sequence number.
        assert seq.setdefault((node, stamp), number) == number
        if kind == "cdr":
            by_node[node].append((stamp, int(number)))
    for entries in by_node.values():
        entries.sort()
        numbers = [n for _, n in entries]
        assert numbers == sorted(numbers)
        assert len(set(numbers)) == len(numbers)


def test_header_lines_and_cucm_quoting(demo: DemoCdrSummary) -> None:
    cdr_head = ",".join(f'"{n}"' for n in CDR_NAMES).encode()
    cmr_head = ",".join(f'"{n}"' for n in CMR_NAMES).encode()
    for path in demo.cdr_files:
        lines = _lines(path)
        assert lines[0] == cdr_head
        assert lines[1] == ",".join(CDR_TYPES).encode()
        assert len(lines) > 2  # an interval without records writes no file
    for path in demo.cmr_files:
        lines = _lines(path)
        assert lines[0] == cmr_head
        assert lines[1] == ",".join(CMR_TYPES).encode()
    bad = _malformed(demo)
    for kind, types in (("cdr", CDR_TYPES), ("cmr", CMR_TYPES)):
        for path in demo.cdr_files if kind == "cdr" else demo.cmr_files:
            for no, raw in enumerate(_lines(path)[2:], start=3):
                if (path.name, no) in bad:
                    continue
                line = raw.decode("utf-8")
                (fields,) = list(csv.reader([line]))
                assert len(fields) == len(types)
                # No value contains a comma, so the raw tokens show the quoting.
                tokens = line.split(",")
                assert len(tokens) == len(types)
                for token, typ in zip(tokens, types, strict=True):
                    if typ == "INTEGER":
                        ok = INT_RE.match(token) or (kind == "cmr" and token == "")
                        assert ok, (path.name, no, token)
                    else:
                        assert re.fullmatch(r'"[^"]*"', token), (path.name, no, token)
    for _, _, fields in _records(demo, "cmr"):
        for name, typ in CMR_FIELDS:
            # Empty integers only in the video columns, as in real CMR files.
            if typ == "INTEGER" and fields[CMR_IX[name]] == "":
                assert "ideo" in name


def test_malformed_lines_are_exactly_where_the_summary_says(demo: DemoCdrSummary) -> None:
    kinds = {m.kind for m in demo.malformed}
    assert kinds == {
        "truncated",
        "non_integer",
        "unterminated_quote",
        "invalid_utf8",
        "disconnect_before_origination",
    }
    names = {p.name: p for p in demo.cdr_files}
    for m in demo.malformed:
        raw = _lines(names[m.file_name])[m.line_no - 1]
        if m.kind == "invalid_utf8":
            with pytest.raises(UnicodeDecodeError):
                raw.decode("utf-8")
            continue
        line = raw.decode("utf-8")
        if m.kind == "truncated":
            assert len(line.split(",")) < 133
        elif m.kind == "non_integer":
            tokens = line.split(",")
            assert any(
                not INT_RE.match(tok)
                for tok, t in zip(tokens, CDR_TYPES, strict=True)
                if t == "INTEGER"
            )
        elif m.kind == "unterminated_quote":
            assert line.count('"') % 2 == 1
        else:
            (fields,) = list(csv.reader([line]))
            disconnect = int(fields[CDR_IX["dateTimeDisconnect"]])
            assert disconnect < int(fields[CDR_IX["dateTimeOrigination"]])
    # No other line is damaged: everything else parses cleanly (checked above) and counts add up.
    total = sum(len(_lines(p)) - 2 for p in demo.cdr_files)
    assert total == demo.cdr_records == len(_records(demo, "cdr")) + len(demo.malformed)
    assert demo.cmr_records == sum(len(_lines(p)) - 2 for p in demo.cmr_files)


def test_pkids_are_unique_uuids(demo: DemoCdrSummary) -> None:
    pkids = [f[CDR_IX["pkid"]] for _, _, f in _records(demo, "cdr")]
    pkids += [f[CMR_IX["pkid"]] for _, _, f in _records(demo, "cmr")]
    assert len(pkids) == len(set(pkids))
    uuid_re = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
    assert all(uuid_re.match(p) for p in pkids)


def test_record_times_fall_inside_their_file_interval(demo: DemoCdrSummary) -> None:
    for kind, column, ix in (
        ("cdr", "dateTimeDisconnect", CDR_IX),
        ("cmr", "dateTimeStamp", CMR_IX),
    ):
        for path, _, fields in _records(demo, kind):
            close = _close_epoch(path.name)
            assert close - INTERVAL * 60 <= int(fields[ix[column]]) < close
    first = dt.datetime.combine(END - dt.timedelta(days=3), dt.time(), dt.UTC).timestamp()
    last = dt.datetime.combine(END + dt.timedelta(days=2), dt.time(), dt.UTC).timestamp()
    for _, _, f in _records(demo, "cdr"):
        assert first - 86400 < int(f[CDR_IX["dateTimeOrigination"]]) < last


def test_scenario_mix_is_present(demo: DemoCdrSummary) -> None:
    for key in (
        "internal", "outbound", "inbound", "answered", "abandoned", "missed", "busy", "failed",
        "transfer_records", "forward", "conference_records", "recording_records", "transfers",
        "conferences", "outbound_national", "outbound_mobile", "outbound_international",
    ):  # fmt: skip
        assert demo.counts[key] > 0, key
    assert demo.counts["transfer_records"] == 3 * demo.counts["transfers"]


def test_record_fields_follow_cucm_patterns(demo: DemoCdrSummary) -> None:
    seen: Counter[str] = Counter()
    splits: set[str] = set()
    finals: list[list[str]] = []
    access = {s.code: s.access_code for s in SITES}
    for _, _, f in _records(demo, "cdr"):
        g = f.__getitem__
        ix = CDR_IX
        connect, disconnect = int(g(ix["dateTimeConnect"])), int(g(ix["dateTimeDisconnect"]))
        assert int(g(ix["duration"])) == (disconnect - connect if connect else 0)
        assert int(g(ix["dateTimeOrigination"])) <= disconnect
        assert g(ix["globalCallId_ClusterID"]) == "StandAloneCluster"
        assert g(ix["globalCallID_callManagerId"]) == g(ix["origNodeId"]) in {"1", "2"}
        for side in ("orig", "dest"):
            value = g(ix[f"{side}IpAddr"])
            assert g(ix[f"{side}Ipv4v6Addr"]) == ("" if value == "0" else _ip_text(value))
        odev, ddev = g(ix["origDeviceName"]), g(ix["destDeviceName"])
        join = g(ix["joinOnBehalfOf"])
        if g(ix["origCause_value"]) == "393216":
            assert g(ix["destCause_value"]) == "393216"
            assert g(ix["origCallTerminationOnBehalfOf"]) in {"4", "10"}
            splits.add(g(ix["globalCallID_callId"]))
        if join == "10":
            seen["transfer_final"] += 1
            assert g(ix["lastRedirectRedirectReason"]) == "4"
            assert g(ix["lastRedirectRedirectOnBehalfOf"]) == "10"
            assert g(ix["lastRedirectDn"]) != g(ix["finalCalledPartyNumber"])
            finals.append(f)
        elif join == "5":
            seen["forward"] += 1
            reason = g(ix["lastRedirectRedirectReason"])
            assert reason in {"2", "15"}
            assert g(ix["origCalledPartyRedirectReason"]) == reason
            assert g(ix["origCalledPartyRedirectOnBehalfOf"]) == "5"
            assert g(ix["lastRedirectDn"]) == g(ix["originalCalledPartyNumber"])
            if ddev in TRUNKS:
                seen["forward_pstn"] += 1
                assert g(ix["calledPartyPatternUsage"]) == "5"
                assert g(ix["finalCalledPartyNumber"]).endswith(g(ix["outpulsedCalledPartyNumber"]))
        elif join == "4":
            seen["conference"] += 1
            assert re.fullmatch(r"b00\d{9}", g(ix["finalCalledPartyNumber"]))
            assert g(ix["comment"]).startswith("ConfControllerDn=")
            assert ";ConfControllerDeviceName=SEP" in g(ix["comment"])
            assert g(ix["destConversationId"]) != "0"
        elif join == "27":
            seen["recording"] += 1
            assert g(ix["callingPartyNumber"]).startswith("b00")
            assert ddev == "REC-SIPTRUNK-01"
            assert g(ix["origCalledPartyRedirectReason"]) == "354"
            assert g(ix["lastRedirectRedirectReason"]) == "354"
            if connect:
                assert g(ix["origCallTerminationOnBehalfOf"]) == "27"
                assert g(ix["destCallTerminationOnBehalfOf"]) == "27"
        elif odev.startswith("SEP") and ddev.startswith("SEP"):
            seen["internal"] += 1
            assert g(ix["callingPartyNumberPartition"]) == "PT_Internal"
            assert g(ix["finalCalledPartyNumberPartition"]) == "PT_Internal"
            assert g(ix["IncomingProtocolID"]) == g(ix["OutgoingProtocolID"]) == "0"
            assert g(ix["calledPartyPatternUsage"]) == "2"
        elif ddev in TRUNKS:
            seen["outbound"] += 1
            site = "PAR" if ddev.startswith("PAR") else "NYC"
            dialled = g(ix["finalCalledPartyNumber"])
            outpulsed = g(ix["outpulsedCalledPartyNumber"])
            assert dialled in {"112", "911"} or dialled == access[site] + outpulsed
            assert g(ix["OutgoingProtocolID"]) == "1"
            assert g(ix["calledPartyPatternUsage"]) == "5"
            assert (
                g(ix["finalCalledPartyNumberPartition"])
                == f"PT_PSTN_{'FR' if site == 'PAR' else 'US'}"
            )
            assert g(ix["destSpan"]) == g(ix["destLegIdentifier"])
        elif odev in TRUNKS:
            seen["inbound"] += 1
            assert g(ix["IncomingProtocolID"]) == "1"
            assert g(ix["callingPartyNumberPartition"]) == ""
            assert re.fullmatch(r"[23]\d{3}", g(ix["finalCalledPartyNumber"]))
            assert g(ix["origSpan"]) == g(ix["origLegCallIdentifier"])
        cause = g(ix["destCause_value"])
        if cause in {"17", "19"}:
            assert connect == 0
            seen[f"cause_{cause}"] += 1
    for key in (
        "internal", "outbound", "inbound", "transfer_final", "forward", "forward_pstn",
        "conference", "recording", "cause_17", "cause_19",
    ):  # fmt: skip
        assert seen[key] > 0, key
    # The final record of a transfer keeps the original call's globalCallID_callId.
    assert all(f[CDR_IX["globalCallID_callId"]] in splits for f in finals)


def test_call_ids_increase_with_time_per_node(demo: DemoCdrSummary) -> None:
    start: dict[tuple[str, int], int] = {}
    for _, _, f in _records(demo, "cdr"):
        key = (f[CDR_IX["globalCallID_callManagerId"]], int(f[CDR_IX["globalCallID_callId"]]))
        t0 = int(f[CDR_IX["dateTimeOrigination"]])
        start[key] = min(t0, start.get(key, t0))
    for node in ("1", "2"):
        ids = sorted((gcid, t) for (n, gcid), t in start.items() if n == node)
        times = [t for _, t in ids]
        assert times == sorted(times)


def test_cmr_records_belong_to_a_cdr_leg(demo: DemoCdrSummary) -> None:
    legs: set[tuple[str, str]] = set()
    for path in demo.cdr_files:
        # Split on commas so that the damaged lines still count (no value contains a comma).
        for raw in _lines(path)[2:]:
            tokens = raw.decode("utf-8", errors="replace").split(",")
            gcid = tokens[CDR_IX["globalCallID_callId"]]
            legs.add((gcid, tokens[CDR_IX["origLegCallIdentifier"]]))
            if len(tokens) > CDR_IX["destLegIdentifier"]:
                legs.add((gcid, tokens[CDR_IX["destLegIdentifier"]]))
    cmrs = _records(demo, "cmr")
    assert cmrs
    qualities = []
    for _, _, f in cmrs:
        assert (f[CMR_IX["globalCallID_callId"]], f[CMR_IX["callIdentifier"]]) in legs
        assert f[CMR_IX["cdrRecordType"]] == "2"
        assert f[CMR_IX["deviceName"]].startswith("SEP")
        duration = int(f[CMR_IX["duration"]])
        sent = int(f[CMR_IX["numberPacketsSent"]])
        assert abs(sent - 50 * duration) <= 3
        vq = dict(kv.split("=") for kv in f[CMR_IX["varVQMetrics"]].split(";"))
        assert set(vq) == {
            "MLQK",
            "MLQKav",
            "MLQKmn",
            "MLQKmx",
            "MLQKvr",
            "CCR",
            "ICR",
            "ICRmx",
            "CS",
            "SCS",
        }
        if float(vq["MLQK"]) > 0:
            qualities.append(float(vq["MLQK"]))
    # Mostly good quality, a few poor phones.
    assert max(qualities) > 4.0
    assert min(qualities) < 3.6


def test_full_default_demo(tmp_path: Path) -> None:
    """The documented default (200 people, 60 days) works; no timing asserted here."""
    people = build_people(1)
    summary = write_demo_cdr_files(tmp_path, people=people, seed=1, end=dt.date(2025, 3, 31))
    assert summary.first_day == dt.date(2025, 1, 31)
    assert 150_000 <= summary.cdr_records <= 250_000
    assert summary.cmr_records > 50_000
    assert len(summary.malformed) == 5
    assert all(v >= 0 for v in summary.counts.values())
    assert summary.counts["outbound_emergency"] > 0
    assert summary.counts["out_of_hours"] > 0
    assert summary.bytes_written == sum(p.stat().st_size for p in summary.files)


# Digests of the files the demo writes for these arguments. Two days around each change of the
# clocks of the two sites (New York 2025-03-09 and 11-02, Paris 03-30 and 10-26): the same seed
# writes the same bytes, and the sites' local times follow their time zones on those days.
DIGESTS = {
    (5, dt.date(2025, 3, 10)): "1071eeede53b7247f14092978239988c9f9b8f403057ee74990c91183a4d4a19",
    (6, dt.date(2025, 3, 31)): "dd678970bf817c476a5ef09e1436937067eafb240ab34661be37878a046dc981",
    (7, dt.date(2025, 10, 27)): "61e4b910904ff6f8d0dfba8814234844b54827de13f373bbdda1ae407f28e7a3",
    (8, dt.date(2025, 11, 3)): "4dee746121faf2795fe7a4b2cb1f431d061157f891dd6891062e4eaca73fbd99",
}


@pytest.mark.parametrize(("seed", "end"), list(DIGESTS))
def test_the_same_seed_writes_the_same_files(tmp_path: Path, seed: int, end: dt.date) -> None:
    summary = write_demo_cdr_files(
        tmp_path, people=build_people(seed, 24), seed=seed, days=2, end=end
    )
    digest = hashlib.sha256()
    for path in summary.files:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    assert digest.hexdigest() == DIGESTS[seed, end]


@pytest.mark.parametrize("site", SITES, ids=lambda s: s.code)
def test_day_start_counts_the_sites_local_clock(site: Site) -> None:
    zone = ZoneInfo(site.tz)
    first = dt.date(2024, 1, 1)
    for day in (first + dt.timedelta(days=n) for n in range(731)):  # two years of changes
        for hour in (6.5, 10, 18, 22.75):
            moment = dt.datetime.fromtimestamp(day_start(site, day) + int(hour * 3600), zone)
            assert (moment.date(), moment.hour + moment.minute / 60) == (day, hour), moment
