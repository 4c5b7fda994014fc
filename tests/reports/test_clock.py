"""Local times from offsets and transitions equal the exact ICU conversion."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import duckdb
import pytest

from callacct.reports.clock import icu_clock, local_clock, transitions


@pytest.mark.parametrize(
    "zone", ["Europe/Paris", "US/Eastern", "Australia/Lord_Howe", "Asia/Kolkata", "UTC"]
)
def test_offsets_match_icu_around_every_transition(zone: str) -> None:
    tz = ZoneInfo(zone)
    first, last = dt.datetime(2025, 1, 1), dt.datetime(2027, 1, 1)
    con = duckdb.connect()
    # Every 7 minutes for two years, plus the seconds around each transition.
    _, changes = transitions(tz, first, last)
    con.execute(
        "CREATE TABLE calls AS SELECT ?::TIMESTAMP + to_seconds(i * 420) AS started_at "
        "FROM range(150000) r(i)",
        [first],
    )
    for moment, _ in changes:
        con.execute(
            "INSERT INTO calls SELECT ?::TIMESTAMP + to_seconds(i) FROM range(-2, 3) r(i)",
            [moment],
        )
    fast = local_clock(tz, first, last)
    exact = icu_clock(tz)
    differ = con.execute(
        f"SELECT count(*) FROM calls WHERE {fast.sql} <> {exact.sql}",
        [*fast.params, *exact.params],
    ).fetchall()[0][0]
    assert differ == 0
    assert (len(changes) == 0) == (zone in ("Asia/Kolkata", "UTC"))


def test_open_or_huge_periods_use_icu() -> None:
    tz = ZoneInfo("Europe/Paris")
    assert local_clock(tz, None, dt.datetime(2026, 1, 1)).sql == icu_clock(tz).sql
    assert local_clock(tz, dt.datetime(1900, 1, 1), dt.datetime(2026, 1, 1)).sql == (
        icu_clock(tz).sql
    )
    summer = local_clock(tz, dt.datetime(2026, 7, 1), dt.datetime(2026, 7, 31))
    assert summer.params == (7200,)
