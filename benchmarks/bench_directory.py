"""Directory benchmark: attribution as of call time, and the cost of a scope on reads.

    python benchmarks/bench_directory.py            # 1M calls, 20,000 people (about a minute)
    python benchmarks/bench_directory.py --quick    # small sizes, to check it still runs

Figures:
  1. applying a directory of N people (each with one extension) to an empty store;
  2. `attribute_calls` over every call (the set-based as-of join), rows/s, against a plain
     `UPDATE calls SET user_login = extension` of the same rows (ratio = attribution / update);
  3. a department move of 1 % of the people (new versions + re-attribution from the move date);
  4. `calls --last 100` as an admin, a supervisor (one department) and a user: the ratio of the
     scoped read to the admin read.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from callacct.directory import DirectoryEntry, apply_snapshot, attribute_calls
from callacct.query.calls import CallFilter, query_calls
from callacct.query.scope import Scope
from callacct.store import open_store

DEPARTMENTS = [f"Dept {i:02d}" for i in range(40)]


def _people(count: int, moved: set[int] | None = None) -> list[DirectoryEntry]:
    return [
        DirectoryEntry(
            login=f"u{i:06d}",
            department=DEPARTMENTS[(i + (1 if moved and i in moved else 0)) % len(DEPARTMENTS)],
            cost_center=f"CC-{i % 97}",
            site=("PAR", "NYC", "LON")[i % 3],
            extensions=(str(100000 + i),),
        )
        for i in range(count)
    ]


def _fill_calls(con: object, calls: int, people: int, start: dt.datetime) -> None:
    con.execute(  # type: ignore[attr-defined]
        """
        INSERT INTO calls (call_id, source, file_id, line_no, started_at, duration_s, direction,
                           answered, disposition, extension, peer_extension, remote_number,
                           transfer, forward, conference)
        SELECT i, 'bench', 0, i, ?::TIMESTAMP + to_seconds(i * 2.5)::INTERVAL, 60,
               CASE WHEN i % 4 = 0 THEN 'internal' ELSE 'outgoing' END, TRUE, 'answered',
               (100000 + (hash(i) % ?))::VARCHAR,
               CASE WHEN i % 4 = 0 THEN (100000 + (hash(i + 7) % ?))::VARCHAR END,
               CASE WHEN i % 4 <> 0 THEN '0612' || lpad((i % 1000000)::VARCHAR, 6, '0') END,
               FALSE, FALSE, FALSE
        FROM range(?) t(i)
        """,
        [start, int(people * 1.02), people, calls],
    )


def _timed(fn: object) -> tuple[float, object]:
    t0 = time.perf_counter()
    value = fn()  # type: ignore[operator]
    return time.perf_counter() - t0, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    calls, people = (20_000, 500) if args.quick else (1_000_000, 20_000)
    start = dt.datetime(2026, 1, 1)
    figures: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(Path(tmp) / "callacct.duckdb", memory_limit="2GB")
        con = store.con
        _fill_calls(con, calls, people, start)
        since = dt.datetime(2000, 1, 1)
        seconds, _ = _timed(lambda: apply_snapshot(con, _people(people), source="csv", as_of=since))
        figures["directory_load"] = {"people": people, "seconds": round(seconds, 3)}
        baseline, _ = _timed(lambda: con.execute("UPDATE calls SET user_login = extension"))
        seconds, result = _timed(lambda: attribute_calls(con))
        figures["attribution"] = {
            "calls": calls,
            "seconds": round(seconds, 3),
            "calls_per_s": round(calls / seconds),
            "plain_update_s": round(baseline, 3),
            "ratio_to_plain_update": round(seconds / baseline, 2),
            "undefined": result.undefined,  # type: ignore[attr-defined]
        }
        middle = start + dt.timedelta(seconds=calls * 2.5 / 2)
        moved = set(random.Random(1).sample(range(people), people // 100))
        seconds, change = _timed(
            lambda: apply_snapshot(con, _people(people, moved), source="csv", as_of=middle)
        )
        figures["department_move"] = {
            "people_moved": len(change.changed),  # type: ignore[attr-defined]
            "seconds": round(seconds, 3),
        }
        zone = ZoneInfo("UTC")
        scopes = {
            "admin": Scope(role="admin"),
            "supervisor": Scope(role="supervisor", login="s", departments=(DEPARTMENTS[3],)),
            "user": Scope.for_user("u000042"),
        }
        reads: dict[str, float] = {}
        for name, scope in scopes.items():
            best = min(
                _timed(lambda s=scope: query_calls(con, CallFilter(last=100), zone, scope=s))[0]
                for _ in range(3)
            )
            reads[f"{name}_s"] = round(best, 4)
        for name in ("supervisor", "user"):
            reads[f"{name}_ratio_to_admin"] = round(reads[f"{name}_s"] / reads["admin_s"], 2)
        figures["scoped_read_last_100"] = reads
        store.close()
    if args.json:
        sys.stdout.write(json.dumps(figures, indent=2) + "\n")
        return
    for name, values in figures.items():
        sys.stdout.write(f"{name}: " + ", ".join(f"{k}={v}" for k, v in values.items()) + "\n")


if __name__ == "__main__":
    main()
