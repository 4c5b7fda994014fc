"""The real CUCM sample files ingest cleanly and their calls are classified as the README says."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from callacct.config import Settings
from callacct.ingest.engine import IngestReport, ingest_paths
from callacct.store import Store, fetch_frame


def _calls(
    store: Store, where: str = "TRUE", params: list[Any] | None = None
) -> list[dict[str, Any]]:
    frame = fetch_frame(
        store.con, f"SELECT * FROM calls WHERE {where} ORDER BY started_at, call_id", params
    )
    return list(frame.iter_rows(named=True))


@pytest.fixture
def loaded(store: Store, settings: Settings, cucm_files: Path) -> IngestReport:
    return ingest_paths(store, settings, [cucm_files])


def test_samples_ingest_with_zero_rejects(loaded: IngestReport) -> None:
    assert loaded.files == 5
    assert loaded.rejected == 0
    assert loaded.files_failed == 0
    # 11 + 13 + 3 CDR records and 8 + 3 CMR records (header lines excluded)
    assert loaded.rows_read == 38
    assert loaded.stored == 38
    assert loaded.duplicates == 0
    # 27 CDR records minus 4 built-in-bridge recording legs
    assert loaded.calls == 23
    assert loaded.quality_records == 11
    for result in loaded.results:
        assert result.rows_read == result.stored + result.duplicates + result.rejected


def test_recording_legs_are_not_calls(loaded: IngestReport, store: Store) -> None:
    kinds = dict(store.con.execute("SELECT kind, count(*) FROM records GROUP BY kind").fetchall())
    assert kinds == {"call": 23, "excluded": 4, "quality": 11}
    assert not _calls(store, "calling_number LIKE 'b00%' OR gateway LIKE '%Recording%'")


def test_busy_calls(loaded: IngestReport, store: Store) -> None:
    busy = _calls(store, "disposition = 'busy'")
    assert [(c["extension"], c["peer_extension"], c["cause_code"]) for c in busy] == [
        ("2213", "1222", 17),
        ("2213", "1222", 17),
    ]
    assert all(c["direction"] == "internal" and not c["answered"] for c in busy)


def test_no_answer_and_abandoned(loaded: IngestReport, store: Store) -> None:
    (no_answer,) = _calls(store, "cause_code = 19")
    assert no_answer["disposition"] == "missed"
    assert no_answer["extension"] == "2320"
    assert no_answer["direction"] == "incoming"
    abandoned = _calls(store, "calling_number = '1502'")
    assert abandoned[0]["disposition"] == "missed"
    assert abandoned[0]["duration_s"] == 0
    assert abandoned[0]["ring_s"] > 0


def test_outbound_pstn(loaded: IngestReport, store: Store) -> None:
    (call,) = _calls(store, "calling_number = '5619'")
    assert call["direction"] == "outgoing"
    assert call["extension"] == "5619"
    assert call["gateway"] == "vardc-gw-02"
    assert call["answered"]
    assert call["duration_s"] == 70
    # dialled 0079153656669: the outside-line code 0 is not part of the remote number
    assert call["remote_number"] == "079153656669"


def test_inbound_via_trunk(loaded: IngestReport, store: Store) -> None:
    calls = _calls(store, "calling_number = '6250'")
    assert {c["direction"] for c in calls} == {"incoming"}
    assert {c["gateway"] for c in calls} == {"var5f-gw-01"}
    assert [(c["extension"], c["disposition"]) for c in calls] == [
        ("2512", "missed"),
        ("2517", "answered"),
    ]
    assert all(c["remote_number"] == "6250" for c in calls)


def test_transfer_chain(loaded: IngestReport, store: Store) -> None:
    chain = _calls(store, "global_call_id = 'StandAloneCluster:2:2663303'")
    # CTI route point -> 1050 (transfers) -> 2312 (transfers) -> 2320 (no answer)
    assert len(chain) == 4
    assert all(c["direction"] == "incoming" for c in chain)
    transferred = [c["extension"] for c in chain if c["transfer"]]
    assert transferred == ["1050", "2312", "2320"]
    answered = [(c["extension"], c["duration_s"]) for c in chain if c["answered"]]
    assert answered == [("7153", 16), ("1050", 13), ("2312", 47)]
    consultation = _calls(store, "calling_number = '1050'")
    assert consultation[0]["transfer"]
    assert consultation[0]["direction"] == "internal"


def test_forward_to_pstn_is_paid_by_the_forwarding_extension(
    loaded: IngestReport, store: Store
) -> None:
    (call,) = _calls(store, "calling_number = '1410'")
    assert call["direction"] == "outgoing"
    assert call["forward"]
    assert not call["transfer"]
    assert call["extension"] == "1411"
    assert call["remote_number"] == "079039668727"
    assert call["disposition"] == "missed"


def test_internal_call_counts_once_and_shows_for_both(loaded: IngestReport, store: Store) -> None:
    for ext in ("2427", "5212"):
        rows = _calls(store, "extension = ? OR peer_extension = ?", [ext, ext])
        assert len(rows) == 1
    total = store.con.execute(
        "SELECT count(*) FROM calls WHERE global_call_id = 'StandAloneCluster:2:2663293'"
    ).fetchall()[0]
    assert total == (1,)


def test_quality_metrics_joined_to_calls(loaded: IngestReport, store: Store) -> None:
    (call,) = _calls(store, "calling_number = '1002'")
    assert call["mos"] == pytest.approx(4.5)
    assert call["jitter_ms"] is not None
    # the 133-column sample's CMR has no MLQK (SIP phone): MOS unknown, jitter known
    (siete,) = _calls(store, "calling_number = '5033466594'")
    assert siete["mos"] is None
    assert siete["latency_ms"] == 1


def test_133_column_file(loaded: IngestReport, store: Store) -> None:
    (call,) = _calls(store, "calling_number = '5033466594'")
    assert call["direction"] == "internal"
    assert call["peer_extension"] == "5033466593"
    assert call["duration_s"] == 11
    assert call["started_at"].year == 2025


def test_times_are_utc(loaded: IngestReport, store: Store) -> None:
    (call,) = _calls(store, "calling_number = '2427'")
    # dateTimeOrigination 1639404299 = 2021-12-13 14:04:59 UTC
    assert call["started_at"].isoformat() == "2021-12-13T14:04:59"
    assert call["answered_at"].isoformat() == "2021-12-13T14:05:01"
    assert call["ended_at"].isoformat() == "2021-12-13T14:06:06"
    assert call["ring_s"] == 2
