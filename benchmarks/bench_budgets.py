"""Budget benchmark: prints figures and their ratio to a baseline of the same run.

    python benchmarks/bench_budgets.py            # 20,000 budgets, 1M calls in a month
    python benchmarks/bench_budgets.py --quick    # 500 budgets, 20,000 calls
    python benchmarks/bench_budgets.py --json

Evaluating 20,000 personal monthly budgets after an ingest (`Workspace.evaluate_budgets`,
what `ingest` runs when there are budgets): a store with 20,000 people (one extension each,
two sites in two time zones), 1M outgoing priced calls in the month, a budget each. The
first evaluation opens the periods and locks and warns whoever is over (not timed). Then
10,000 calls are added, as an ingest would, pushing a few dozen people over a threshold or
the lock threshold, and the evaluation after it is timed: the spend of every budget, the new
warnings, the locks through the lock service (dry-run backend) and the events, in the store the
ingest holds; then the same evaluation again, which has nothing to do. Baseline: one
`GROUP BY user_login, currency` of the month's outgoing priced calls on the same store.
Target ≤ 0.5 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from callacct.api import Workspace
from callacct.config import Settings

NOW = dt.datetime(2026, 11, 28, 12, tzinfo=dt.UTC)


def build(root: Path, people: int, calls: int) -> Workspace:
    settings = Settings.model_validate(
        {
            "general": {"country": "FR", "timezone": "Europe/Paris", "currency": "EUR"},
            "sites": {
                "PAR": {"timezone": "Europe/Paris"},
                "NYC": {"timezone": "America/New_York"},
            },
            "budgets": {"warn_at": [80, 95]},
        }
    )
    workspace = Workspace.create(root, settings=settings)
    with workspace.admin_store("benchmark data", write=True) as store, store.transaction() as con:
        con.execute(
            "INSERT INTO users SELECT 'u' || i, 'User ' || i, 'u' || i || '@example.com', 'en', "
            "'user', 'D' || (i % 200), 'C' || (i % 50), CASE WHEN i % 4 = 0 THEN 'NYC' "
            "ELSE 'PAR' END, NULL, [], 'csv', NULL, TIMESTAMP '2020-01-01', NULL, "
            "TIMESTAMP '2020-01-01' FROM range(?) t(i)",
            [people],
        )
        con.execute(
            "INSERT INTO extensions SELECT CAST(100000 + i AS VARCHAR), 'u' || i, 'csv', "
            "TIMESTAMP '2020-01-01', NULL, TIMESTAMP '2020-01-01' FROM range(?) t(i)",
            [people],
        )
        _add_calls(con, 0, calls, people, "2026-11-01 06:00", 27 * 86400)
        # Amounts from 1.02 to 4 times what each person spends, so some are near each threshold.
        con.execute(
            "INSERT INTO budgets (kind, target, amount, currency, period, carry_over, warn_at, "
            "lock_at, classes, created_by, created_at, updated_at) "
            "SELECT 'user', user_login, CAST(sum(cost) * (1.02 + (hash(user_login) % 300) / 100) "
            "AS DECIMAL(18, 2)), 'EUR', 'month', FALSE, [80, 95], 100, NULL, 'bench', "
            "now()::TIMESTAMP, now()::TIMESTAMP FROM calls GROUP BY user_login"
        )
    return workspace


def _add_calls(con: Any, first: int, n: int, people: int, start: str, spread_s: int) -> None:
    con.execute(
        "INSERT INTO calls (call_id, source, file_id, line_no, started_at, duration_s, "
        "direction, answered, disposition, remote_number, extension, transfer, forward, "
        "conference, dest_class, cost, currency, user_login, department, cost_center, site, "
        "undefined_extension) "
        "SELECT ? + i, 'bench', 0, i, CAST(? AS TIMESTAMP) + to_seconds(hash(i) % ?), 60, "
        "'outgoing', TRUE, 'answered', '+3361234' || (i % 10000), CAST(100000 + i % ? AS VARCHAR), "
        "FALSE, FALSE, FALSE, CASE WHEN i % 7 = 0 THEN 'international' ELSE 'mobile' END, "
        "CAST((hash(i * 7) % 300) / 100 AS DECIMAL(18, 6)), 'EUR', 'u' || (i % ?), "
        "'D' || (i % ? % 200), 'C' || (i % ? % 50), 'PAR', FALSE FROM range(?) t(i)",
        [first, start, spread_s, people, people, people, people, n],
    )


def group_by(workspace: Workspace) -> float:
    with workspace.admin_store("benchmark baseline") as store:
        started = time.perf_counter()
        store.con.execute(
            "SELECT user_login, currency, sum(cost) FROM calls WHERE direction = 'outgoing' "
            "AND cost IS NOT NULL AND started_at >= TIMESTAMP '2026-10-31 23:00' "
            "AND started_at < TIMESTAMP '2026-11-30 23:00' GROUP BY ALL"
        ).fetchall()
        return time.perf_counter() - started


def run(people: int, calls: int, added: int, repeat: int) -> dict[str, Any]:
    root = Path(tempfile.mkdtemp(prefix="callacct-bench-budgets-"))
    try:
        workspace = build(root / "ws", people, calls)
        first = workspace.evaluate_budgets(now=NOW)
        timings, reruns, baselines, counts = [], [], [], []
        for round_ in range(repeat):
            now = NOW + dt.timedelta(minutes=round_)
            # As in an ingest: the store is open, the calls are stored, then the evaluation.
            with workspace.holding(write=True):
                with workspace.admin_store("benchmark data", write=True) as store:
                    _add_calls(
                        store.con, calls + round_ * added, added, people, "2026-11-27 06:00", 86400
                    )
                baselines.append(group_by(workspace))
                started = time.perf_counter()
                evaluation = workspace.evaluate_budgets(now=now)
                timings.append(time.perf_counter() - started)
                started = time.perf_counter()
                again = workspace.evaluate_budgets(now=now)
                reruns.append(time.perf_counter() - started)
                assert again.events == []  # idempotent
            counts.append(evaluation.counts())
        evaluate_s = statistics.median(timings)
        rerun_s = statistics.median(reruns)
        baseline_s = statistics.median(baselines)
        return {
            "budgets": people,
            "calls": calls + repeat * added,
            "added_per_ingest": added,
            "first_evaluation": first.counts(),
            "after_ingest": counts,
            "evaluate_s": round(evaluate_s, 3),
            "rerun_s": round(rerun_s, 3),
            "group_by_s": round(baseline_s, 4),
            "ratio_to_group_by": round(evaluate_s / baseline_s, 1),
            "rerun_ratio_to_group_by": round(rerun_s / baseline_s, 1),
            "target_s": 0.5,
        }
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, to check it runs")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    if args.quick:
        figures = run(people=500, calls=20_000, added=1_000, repeat=2)
    else:
        figures = run(people=20_000, calls=1_000_000, added=10_000, repeat=5)
    if args.json:
        print(json.dumps({"evaluation": figures}, indent=2))
        return
    print(
        f"evaluate {figures['budgets']:,} budgets over {figures['calls']:,} calls after an "
        f"ingest of {figures['added_per_ingest']:,}: {figures['evaluate_s']} s "
        f"({figures['ratio_to_group_by']}x one GROUP BY of {figures['group_by_s']} s; "
        f"target {figures['target_s']} s)"
    )
    print(
        f"the same again, nothing to do: {figures['rerun_s']} s "
        f"({figures['rerun_ratio_to_group_by']}x)"
    )
    print(f"first evaluation: {figures['first_evaluation']}")
    print(f"after each ingest: {figures['after_ingest']}")


if __name__ == "__main__":
    main()
