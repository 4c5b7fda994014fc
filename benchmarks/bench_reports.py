"""Report benchmark: public reports over 10M rated calls to JSON, against a plain GROUP BY.

    python benchmarks/bench_reports.py            # 10M calls
    python benchmarks/bench_reports.py --quick    # 20,000 calls, to check it still runs
    python benchmarks/bench_reports.py --json     # the figures as JSON

The calls are generated straight into the `calls` table of a fresh store with SQL `range()`
(not through ingest): a month of calls from 20,000 extensions in 40 departments and 2 sites,
a third of them outgoing external calls with a cost, 1M distinct remote numbers, MOS on half.

For each report the figure is the best of three runs of `run_report` + the JSON document
(`write_json`, as `report run --format json` writes it), as the operator (admin) and as a
supervisor of one department (the scope predicate on). The baseline, measured in the same
run, is a hand-written
`SELECT department, count(*), sum(duration_s), sum(cost) FROM calls WHERE ... GROUP BY ALL`
over the same table, fetched.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from callacct.query.scope import Scope
from callacct.reports.export import write_json
from callacct.reports.library import public_reports
from callacct.reports.run import run_report
from callacct.reports.spec import ReportSpec
from callacct.store import open_store

REPORTS = (
    "cost-by-department",
    "user-bill",
    "cost-by-class",
    "international-by-country",
    "busy-hour",
    "traffic-by-weekday",
    "daily-cost-trend",
    "calls-by-gateway",
    "missed-by-extension",
    "quality-by-site",
    "top-numbers",
    "most-expensive-calls",
)
START = dt.datetime(2026, 10, 1)
NOW = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
TZ = ZoneInfo("Europe/Paris")
TARGET_S = 1.0

GENERATE = """
INSERT INTO calls (
    call_id, source, file_id, line_no, started_at, answered_at, ended_at, duration_s, ring_s,
    direction, answered, disposition, calling_number, called_number, remote_number, extension,
    gateway, transfer, forward, conference, dest_class, dest_country, cost, currency,
    user_login, department, cost_center, site, mos, jitter_ms, latency_ms, loss_pct,
    undefined_extension)
SELECT
    i, 'bench', 1, i,
    ?::TIMESTAMP + to_seconds((i * 7919) % (31 * 86400)),
    CASE WHEN i % 5 <> 0 THEN ?::TIMESTAMP + to_seconds((i * 7919) % (31 * 86400) + 5) END,
    ?::TIMESTAMP + to_seconds((i * 7919) % (31 * 86400) + 5 + (i % 5 <> 0)::INT * (i % 900)),
    CASE WHEN i % 5 <> 0 THEN (i % 900)::INT ELSE 0 END,
    (5 + i % 20)::INT,
    CASE i % 3 WHEN 0 THEN 'outgoing' WHEN 1 THEN 'incoming' ELSE 'internal' END,
    i % 5 <> 0,
    CASE WHEN i % 5 <> 0 THEN 'answered' ELSE 'missed' END,
    (2000 + i % 20000)::VARCHAR,
    '00' || (33100000000 + (i * 104729) % 1000000)::VARCHAR,
    '+' || (33100000000 + (i * 104729) % 1000000)::VARCHAR,
    (2000 + i % 20000)::VARCHAR,
    CASE WHEN i % 3 = 2 THEN NULL WHEN i % 2 = 0 THEN 'PAR-CUBE-01' ELSE 'NYC-CUBE-01' END,
    false, false, false,
    CASE WHEN i % 3 = 2 THEN 'internal'
         ELSE ['national', 'mobile', 'local', 'international', 'toll_free'][1 + i % 5] END,
    CASE WHEN i % 3 = 2 THEN NULL
         ELSE ['FR', 'DE', 'US', 'GB', 'ES', 'IT', 'SG'][1 + i % 7] END,
    CASE WHEN i % 3 = 0 AND i % 5 <> 0 THEN ((i % 900) * 0.0012)::DECIMAL(18, 6)
         ELSE 0::DECIMAL(18, 6) END,
    'EUR',
    'user' || (i % 20000)::VARCHAR,
    'Dept ' || (i % 20000 % 40)::VARCHAR,
    'CC-' || (1000 + i % 20000 % 40)::VARCHAR,
    CASE WHEN i % 20000 < 12000 THEN 'PAR' ELSE 'NYC' END,
    CASE WHEN i % 2 = 0 THEN 3.0 + (i % 150) / 100.0 END,
    CASE WHEN i % 2 = 0 THEN (i % 40)::INT END,
    CASE WHEN i % 2 = 0 THEN (i % 90)::INT END,
    CASE WHEN i % 2 = 0 THEN (i % 30) / 10.0 END,
    false
FROM range(?) AS r(i)
"""

BASELINE = """
SELECT department, count(*), sum(duration_s), sum(cost) FROM calls
WHERE direction = 'outgoing' GROUP BY ALL ORDER BY 4 DESC
"""


def best_of(runs: int, action: Callable[[], Any]) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20,000 calls")
    parser.add_argument("--calls", type=int, default=None, help="number of calls")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    count = args.calls or (20_000 if args.quick else 10_000_000)
    figures: dict[str, Any] = {"calls": count, "reports": {}}
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(Path(tmp) / "callacct.duckdb", memory_limit="4GB")
        con = store.con
        started = time.perf_counter()
        con.execute(GENERATE, [START, START, START, count])
        con.execute("CHECKPOINT")
        figures["generate_s"] = round(time.perf_counter() - started, 2)
        baseline = best_of(3, lambda: con.execute(BASELINE).fetchall())
        figures["baseline_group_by_s"] = round(baseline, 4)
        admin = Scope(role="admin")
        supervisor = Scope(role="supervisor", login="boss", departments=("Dept 7",))
        specs = public_reports()
        for name in REPORTS:
            spec = specs[name]
            sizes: dict[str, int] = {}

            def once(scope: Scope, spec: ReportSpec = spec, sizes: dict[str, int] = sizes) -> None:
                result = run_report(
                    con, spec, scope=scope, tz=TZ, language="en", now=NOW,
                    overrides={"start": "2026-10-01", "end": "2026-10-31"},
                )  # fmt: skip
                document = io.StringIO()
                write_json(result, document)
                sizes[scope.role] = len(document.getvalue())
                sizes[scope.role + "_rows"] = result.rows.height

            admin_s = best_of(3, lambda: once(admin))
            scoped_s = best_of(3, lambda: once(supervisor))
            figures["reports"][name] = {
                "admin_s": round(admin_s, 4),
                "ratio_to_group_by": round(admin_s / baseline, 2),
                "supervisor_s": round(scoped_s, 4),
                "rows": sizes["admin_rows"],
                "json_bytes": sizes["admin"],
                "within_1s": admin_s <= TARGET_S,
            }
        store.close()
    if args.json:
        sys.stdout.write(json.dumps(figures, indent=2) + "\n")
        return 0
    print(f"{count:,} calls generated in {figures['generate_s']} s")
    print(f"baseline GROUP BY department: {baseline:.3f} s")
    print(f"{'report':28} {'admin s':>8} {'ratio':>6} {'superv. s':>9} {'rows':>7}  ≤ 1 s")
    for name, item in figures["reports"].items():
        print(
            f"{name:28} {item['admin_s']:8.3f} {item['ratio_to_group_by']:6.1f} "
            f"{item['supervisor_s']:9.3f} {item['rows']:7,}  {'yes' if item['within_1s'] else 'NO'}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
