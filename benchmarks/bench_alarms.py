"""Alarm benchmark: the eight kinds over 1M newly arrived calls, against a plain GROUP BY.

    python benchmarks/bench_alarms.py            # 1M calls stored, then 1M newly arrived
    python benchmarks/bench_alarms.py --quick    # 20,000 + 20,000, to check it still runs
    python benchmarks/bench_alarms.py --json     # the figures as JSON

A workspace (Paris and New York sites, each in its own time zone) gets a month of calls
stored with SQL `range()` (not through ingest, like the report benchmark): 20,000 extensions
in 40 departments, outgoing, incoming and internal calls, national, mobile, international
and unknown destinations, some premium numbers, a few undefined extensions, missed calls,
costs in EUR. Then one alarm of each kind (scope: everything, owner: the operator) is added,
and as many calls again arrive (the next month, and late calls of the first): the window of
every alarm is the new calls.

The figure is the best of three `Workspace.alarms().run()` (wall time; the process's CPU
time per run is given too, as the machine may be shared) — the command `callacct alarm
run` makes: the eight evaluations, their events stored, their watermarks moved — with the
alarms' watermarks put back between runs. Each kind is also timed alone (`evaluate`). The
baseline, measured in the same run, is one
`SELECT department, count(*) FROM calls WHERE call_id > ? GROUP BY ALL` over the same new
calls, fetched. Target: the eight kinds within 1 s on 2 cores.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from callacct.alarms import Context, Window, evaluate, parse_alarm
from callacct.api import Workspace
from callacct.config import Settings
from callacct.query.scope import admin_scope
from callacct.store import open_store

FIRST_MONTH = dt.datetime(2026, 10, 1)
SECOND_MONTH = dt.datetime(2026, 11, 1)
NOW = dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC)
TARGET_S = 1.0

SETTINGS = {
    "general": {"country": "FR", "timezone": "Europe/Paris", "currency": "EUR"},
    "dialplan": {"access_codes": ["0"], "extension_pattern": r"^\d{4,5}$"},
    "store": {"memory_limit": "2GB"},
    "sites": {
        "PAR": {"region": "FR", "timezone": "Europe/Paris", "extensions": "^2"},
        "NYC": {"region": "US", "timezone": "America/New_York", "extensions": "^3"},
    },
}

ALARMS = (
    "name: night\nkind: out-of-hours\nparams: {hours: {days: {mon-fri: ['08:00-12:30', "
    "'13:30-18:00']}, holidays: [2026-11-11]}, external_only: true}\n",
    "name: premium\nkind: forbidden-numbers\nparams: {prefixes: ['0899', '+1900'], "
    "numbers: ['01 00 00 00 42'], patterns: ['^\\+8816']}\n",
    "name: spend\nkind: spend-above\nparams: {per: department, amount: {EUR: 500}, period: week}\n",
    "name: missed\nkind: missed-calls\nparams: {more_than: 1, period: day}\n",
    "name: abroad\nkind: international\nparams: {min_duration_s: 600}\n",
    "name: feed\nkind: dead-feed\nparams: {minutes: 60}\nevery: 15m\n",
    "name: unknown\nkind: unknown-destinations\nparams: {min_count: 5}\n",
    "name: undefined\nkind: undefined-extensions\n",
)

GENERATE = """
INSERT INTO calls (
    call_id, source, file_id, line_no, started_at, duration_s, direction, answered,
    disposition, remote_number, extension, peer_extension, gateway, transfer, forward,
    conference, dest_class, dest_country, cost, currency, user_login, department,
    cost_center, site, rating_site, undefined_extension)
SELECT
    ? + i, 'bench', ?, i,
    -- a month of calls; one in fifty a month late (arrived with the next month's)
    ?::TIMESTAMP + to_seconds((i * 7919) % (30 * 86400)) - CASE WHEN i % 50 = 0
        THEN INTERVAL 30 DAY ELSE INTERVAL 0 DAY END,
    CASE WHEN i % 5 <> 0 THEN (i % 900)::INT ELSE 0 END,
    CASE i % 3 WHEN 0 THEN 'outgoing' WHEN 1 THEN 'incoming' ELSE 'internal' END,
    i % 5 <> 0,
    CASE WHEN i % 5 <> 0 THEN 'answered' ELSE 'missed' END,
    CASE WHEN i % 3 = 2 THEN NULL
         WHEN i % 997 = 0 THEN '+33899' || (100000 + i % 900000)::VARCHAR
         ELSE '+' || (33100000000 + (i * 104729) % 1000000)::VARCHAR END,
    (CASE WHEN i % 20000 < 12000 THEN 20000 ELSE 30000 END + i % 10000)::VARCHAR,
    CASE WHEN i % 3 = 2 THEN (20000 + (i * 31) % 10000)::VARCHAR END,
    CASE WHEN i % 3 = 2 THEN NULL WHEN i % 2 = 0 THEN 'PAR-CUBE-01' ELSE 'NYC-CUBE-01' END,
    false, false, false,
    CASE WHEN i % 3 = 2 THEN 'internal'
         WHEN i % 211 = 0 THEN 'unknown'
         ELSE ['national', 'mobile', 'local', 'international', 'toll_free'][1 + i % 5] END,
    CASE WHEN i % 3 = 2 THEN NULL
         ELSE ['FR', 'DE', 'US', 'GB', 'ES', 'IT', 'SG'][1 + i % 7] END,
    CASE WHEN i % 3 = 0 AND i % 5 <> 0 THEN ((i % 900) * 0.0012)::DECIMAL(18, 6)
         ELSE 0::DECIMAL(18, 6) END,
    'EUR',
    CASE WHEN i % 1009 <> 0 THEN 'user' || (i % 20000)::VARCHAR END,
    CASE WHEN i % 1009 <> 0 THEN 'Dept ' || (i % 20000 % 40)::VARCHAR END,
    CASE WHEN i % 1009 <> 0 THEN 'CC-' || (1000 + i % 20000 % 40)::VARCHAR END,
    CASE WHEN i % 20000 < 12000 THEN 'PAR' ELSE 'NYC' END,
    CASE WHEN i % 20000 < 12000 THEN 'PAR' ELSE 'NYC' END,
    i % 1009 = 0
FROM range(?) AS r(i)
"""

BASELINE = "SELECT department, count(*) FROM calls WHERE call_id > ? GROUP BY ALL"


def best_of(runs: int, action: Callable[[], Any], reset: Callable[[], Any] | None = None) -> float:
    times = []
    for _ in range(runs):
        if reset is not None:
            reset()
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return min(times)


def arrive(workspace: Workspace, count: int, month: dt.datetime, file_id: int) -> int:
    """`count` calls of `month` stored as one file; the last call id before them."""
    store = open_store(workspace.store_path, memory_limit="2GB")
    try:
        con = store.con
        first = int(con.execute("SELECT coalesce(max(call_id), 0) FROM calls").fetchall()[0][0])
        moment = NOW.replace(tzinfo=None) - dt.timedelta(minutes=5)
        con.execute(
            "INSERT INTO ingest_files (file_id, path, name, size, sha256, dialect, rows_read, "
            "stored, duplicates, rejected, started_at, finished_at, status, run_id) VALUES "
            "(?, 'bench', 'bench', 1, ?, 'cucm-cdr', ?, ?, 0, 0, ?, ?, 'done', 'bench')",
            [file_id, f"{file_id:064d}", count, count, moment, moment],
        )
        con.execute(GENERATE, [first + 1, file_id, month, count])
        con.execute("CHECKPOINT")
        return first
    finally:
        store.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20,000 calls")
    parser.add_argument("--calls", type=int, default=None, help="number of new calls")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    count = args.calls or (20_000 if args.quick else 1_000_000)
    figures: dict[str, Any] = {"new_calls": count, "stored_before": count, "kinds": {}}
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.model_validate(SETTINGS)
        workspace = Workspace.create(Path(tmp) / "bench", settings=settings)
        started = time.perf_counter()
        arrive(workspace, count, FIRST_MONTH, 1)
        alarms = workspace.alarms(clock=lambda: NOW)
        for text in ALARMS:
            alarms.add(text)
        watermark = arrive(workspace, count, SECOND_MONTH, 2)
        figures["generate_s"] = round(time.perf_counter() - started, 2)

        def reset() -> None:
            store = open_store(workspace.store_path)
            try:
                store.con.execute("DELETE FROM alarm_events")
                store.con.execute(
                    "UPDATE alarms SET watermark = ?, last_run_at = NULL", [watermark]
                )
            finally:
                store.close()

        store = open_store(workspace.store_path, read_only=True)
        try:
            baseline = best_of(3, lambda: store.con.execute(BASELINE, [watermark]).fetchall())
        finally:
            store.close()
        figures["baseline_group_by_s"] = round(baseline, 4)
        outcomes: dict[str, Any] = {}

        def run_all() -> None:
            result = alarms.run(now=NOW)
            outcomes.update({o.alarm: o for o in result.outcomes})

        cpu_before = time.process_time()
        total = best_of(3, run_all, reset)
        cpu = (time.process_time() - cpu_before) / 3  # the runs', resets are negligible
        figures["all_eight"] = {
            "seconds": round(total, 4),
            "cpu_s_per_run": round(cpu, 4),
            "ratio_to_group_by": round(total / baseline, 2),
            "within_1s": total <= TARGET_S,
            "fired": sorted(name for name, o in outcomes.items() if o.status == "fired"),
        }
        reset()  # each kind alone finds what the first run found (no earlier firings)
        store = open_store(workspace.store_path, read_only=True)
        try:
            ctx = Context(store.con, settings, admin_scope(settings), NOW, ZoneInfo("Europe/Paris"))
            upto = watermark + count
            for text in ALARMS:
                alarm = parse_alarm(text, "bench")
                found: list[int] = []

                def once(alarm: Any = alarm, found: list[int] = found) -> None:
                    firings = evaluate(alarm, ctx, Window(watermark, upto), set())
                    found[:] = [sum(f.found for f in firings)]

                seconds = best_of(3, once)
                figures["kinds"][alarm.kind.name] = {
                    "seconds": round(seconds, 4),
                    "ratio_to_group_by": round(seconds / baseline, 2),
                    "found": found[0],
                }
        finally:
            store.close()
    if args.json:
        sys.stdout.write(json.dumps(figures, indent=2) + "\n")
        return 0
    print(f"{count:,} calls stored, then {count:,} arrived; generated in {figures['generate_s']} s")
    print(f"baseline GROUP BY over the new calls: {baseline:.3f} s")
    every = figures["all_eight"]
    print(
        f"all eight kinds (alarm run): {every['seconds']:.3f} s, "
        f"{every['ratio_to_group_by']:.1f}x the baseline, "
        f"{every['cpu_s_per_run']:.3f} s CPU; ≤ 1 s: "
        f"{'yes' if every['within_1s'] else 'NO'}; fired: {', '.join(every['fired'])}"
    )
    print(f"{'kind':22} {'s':>7} {'ratio':>6} {'found':>9}")
    for name, item in figures["kinds"].items():
        print(
            f"{name:22} {item['seconds']:7.3f} {item['ratio_to_group_by']:6.1f} {item['found']:9,}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
