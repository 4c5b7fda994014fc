"""`callacct calls` as a person reads it."""

from __future__ import annotations

import datetime as dt
import json

from callacct.store import open_store
from tests.conftest import Cli
from tests.directory.helpers import add_call


def test_the_repeated_hour_shows_its_offset(cli: Cli) -> None:
    """When clocks go back, 02:30 happens twice in Paris: the table tells them apart, as the
    JSON's ISO times do."""
    store = open_store(cli.workspace / "callacct.duckdb")
    try:
        for call_id, hour in ((1, 0), (2, 1), (3, 2)):  # UTC: 02:30 CEST, 02:30 CET, 03:30 CET
            start = dt.datetime(2026, 10, 25, hour, 30)
            add_call(store.con, call_id, start, "outgoing", "2001", remote="0612345678")
    finally:
        store.close()
    table = cli("calls", "--tz", "Europe/Paris")
    assert table.exit_code == 0, table.output
    lines = [line for line in table.stdout.splitlines() if "2026-10-25" in line]
    assert "2026-10-25 02:30:00 +02:00" in lines[0]
    assert "2026-10-25 02:30:00 +01:00" in lines[1]
    assert "2026-10-25 03:30:00 " in lines[2]
    assert "+01:00" not in lines[2]
    data = json.loads(cli("calls", "--tz", "Europe/Paris", "--json").stdout)
    assert [c["started_at"] for c in data] == [
        "2026-10-25T02:30:00+02:00",
        "2026-10-25T02:30:00+01:00",
        "2026-10-25T03:30:00+01:00",
    ]
