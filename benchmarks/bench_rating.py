"""Rating benchmark: prints figures and their ratio to baselines measured in the same run.

    python benchmarks/bench_rating.py             # full sizes (1M calls, 50k prefixes)
    python benchmarks/bench_rating.py --quick     # small sizes, to check it still runs

Figures:
  1. rating 1M calls against a 50,000-prefix deck (`rate_frame`: site, class lookup in the
     number cache, plan, version, band, longest-prefix match, exact cost), against an exact-key
     Polars join of a 1M-row frame with a 50,000-row table (ratio = rating / join);
  2. classifying the distinct numbers the first time (by column, and cached; see
     bench_classify.py for the column path against the per-number one);
  3. `callacct rate` end to end on a store holding those calls: first rating (every call
     written) and a re-rate that changes nothing;
  4. importing a 200,000-line rate deck (validation included), against `polars.read_csv` of it.
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

import duckdb
import polars as pl

from callacct.config import Settings
from callacct.rating.rate import CALL_SQL, Tariffs, rate_calls, rate_frame
from callacct.rating.tariff import import_tariff
from callacct.store import fetch_frame, open_store
from callacct.store.schema import MIGRATIONS

COUNTRIES = ("1", "44", "49", "33", "34", "39", "32", "41", "31", "81", "86", "61", "7", "55")
SETTINGS = Settings.model_validate(
    {"general": {"country": "FR", "timezone": "Europe/Paris", "currency": "EUR"}}
)


def write_deck(path: Path, prefixes: int, seed: int) -> list[str]:
    """A deck of `prefixes` distinct prefixes (country code + 1 to 6 digits), two bands for
    a tenth of them, and class defaults; returns the prefixes."""
    rng = random.Random(seed)
    chosen: set[str] = set(COUNTRIES)
    while len(chosen) < prefixes:
        cc = rng.choice(COUNTRIES)
        chosen.add(cc + str(rng.randrange(10 ** rng.randint(1, 6))).zfill(rng.randint(1, 6)))
    lines = ["prefix,destination,class,price_per_min,connect_fee,initial_increment_s,"
             "subsequent_increment_s,min_charge,band"]  # fmt: skip
    ordered = sorted(chosen)
    for index, prefix in enumerate(ordered):
        price = f"0.{rng.randrange(1, 999999):06d}"
        if index % 10 == 0:
            lines.append(f"{prefix},Dest {index},international,{price},0.01,30,6,0,peak")
            lines.append(f"{prefix},Dest {index},international,{price},0,30,6,0,offpeak")
        else:
            lines.append(f"{prefix},Dest {index},international,{price},0,60,60,0.05,")
    for dest_class in ("international", "national", "mobile", "unknown", "emergency"):
        lines.append(f",{dest_class} default,{dest_class},0.5,0,60,60,0,")
    path.write_text("\n".join(lines) + "\n")
    return ordered


def write_plan(folder: Path, deck: Path) -> Path:
    plan = folder / "bench.yaml"
    plan.write_text(
        "plan: bench\ncurrency: EUR\ndefault: true\nvalid_from: 2000-01-01\n"
        f"deck: {deck.name}\nbands:\n"
        "  - {name: peak, days: [mon-fri], start: '08:00', end: '19:00'}\n"
        "  - {name: offpeak, days: [mon-sun]}\n"
    )
    return plan


def make_calls(count: int, prefixes: list[str], numbers: int, seed: int) -> pl.DataFrame:
    """`count` answered outgoing calls over a month to `numbers` distinct international
    numbers, each one a deck prefix followed by random digits."""
    rng = random.Random(seed)
    pool = [
        "00" + (p + str(rng.randrange(10**9)).zfill(9))[:12]
        for p in (rng.choice(prefixes) for _ in range(numbers))
    ]
    start = dt.datetime(2026, 10, 1)
    step = dt.timedelta(seconds=1)
    month = 31 * 86400
    return pl.DataFrame(
        {
            "call_id": range(count),
            "started_at": [start + step * rng.randrange(month) for _ in range(count)],
            "duration_s": [rng.randrange(0, 1800) for _ in range(count)],
            "direction": ["outgoing"] * count,
            "answered": [True] * count,
            "dialled": [rng.choice(pool) for _ in range(count)],
            "extension": ["2001"] * count,
            "gateway": ["PAR-CUBE-01"] * count,
        },
        schema={
            "call_id": pl.Int64,
            "started_at": pl.Datetime("us"),
            "duration_s": pl.Int32,
            "direction": pl.String,
            "answered": pl.Boolean,
            "dialled": pl.String,
            "extension": pl.String,
            "gateway": pl.String,
        },
    )  # fmt: skip


def _store_calls(con: duckdb.DuckDBPyConnection, calls: pl.DataFrame) -> None:
    con.register("_bench", calls.to_arrow())
    con.execute(
        """
        INSERT INTO calls BY NAME
        SELECT call_id, 'bench' AS source, 0 AS file_id, call_id AS line_no, started_at,
               duration_s, direction, answered, 'answered' AS disposition,
               dialled AS remote_number, extension, gateway, false AS transfer,
               false AS forward, false AS conference
        FROM _bench
        """
    )
    con.unregister("_bench")


def bench(calls_n: int, prefixes_n: int, numbers_n: int, deck_lines: int, work: Path) -> dict:
    store = open_store(work / "callacct.duckdb")
    con = store.con
    deck = work / "bench.csv"
    prefixes = write_deck(deck, prefixes_n, seed=1)
    import_tariff(con, write_plan(work, deck))
    calls = make_calls(calls_n, prefixes, numbers_n, seed=2)
    _store_calls(con, calls)
    frame = fetch_frame(con, CALL_SQL)
    tariffs = Tariffs.load(con)

    started = time.perf_counter()
    rate_frame(con, SETTINGS, frame, tariffs)  # first run classifies the numbers
    cold = time.perf_counter() - started
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        rated = rate_frame(con, SETTINGS, frame, tariffs)
        timings.append(time.perf_counter() - started)
    rating = min(timings)

    keys = pl.DataFrame({"key": [p[:6] for p in prefixes], "price": range(len(prefixes))})
    left = frame.with_columns(pl.col("dialled").str.slice(2, 6).alias("key"))
    joins = []
    for _ in range(3):
        started = time.perf_counter()
        left.join(keys, on="key", how="left")
        joins.append(time.perf_counter() - started)
    join = min(joins)

    started = time.perf_counter()
    first = rate_calls(con, SETTINGS)
    first_s = time.perf_counter() - started
    started = time.perf_counter()
    again = rate_calls(con, SETTINGS)
    again_s = time.perf_counter() - started

    big = work / "big.csv"
    write_deck(big, deck_lines, seed=3)
    lines = sum(1 for _ in big.open()) - 1
    started = time.perf_counter()
    import_tariff(con, write_plan(work, big), valid_from=dt.date(2026, 1, 1))
    deck_s = time.perf_counter() - started
    started = time.perf_counter()
    pl.read_csv(big, infer_schema=False)
    read_s = time.perf_counter() - started
    store.close()
    matched = int(rated["matched"].sum())
    return {
        "rating": {
            "calls": calls_n,
            "prefixes": prefixes_n,
            "distinct_numbers": frame["dialled"].n_unique(),
            "matched": matched,
            "rating_s": round(rating, 3),
            "calls_per_s": round(calls_n / rating),
            "exact_join_s": round(join, 3),
            "ratio_to_join": round(rating / join, 2),
        },
        "classification": {
            "first_run_s": round(cold, 3),
            "numbers_per_s": round(frame["dialled"].n_unique() / max(cold - rating, 1e-9)),
        },
        "rate_command": {
            "first_s": round(first_s, 3),
            "first_changed": first.changed,
            "rerate_s": round(again_s, 3),
            "rerate_changed": again.changed,
        },
        "deck_import": {
            "lines": lines,
            "import_s": round(deck_s, 3),
            "read_csv_s": round(read_s, 3),
            "ratio_to_read_csv": round(deck_s / read_s, 2),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--prefixes", type=int, default=50_000)
    parser.add_argument("--numbers", type=int, default=100_000)
    parser.add_argument("--deck-lines", type=int, default=200_000)
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    if args.quick:
        args.calls, args.prefixes, args.numbers, args.deck_lines = 5_000, 2_000, 1_000, 3_000
    assert len(MIGRATIONS) >= 3
    with tempfile.TemporaryDirectory(prefix="callacct-bench-") as tmp:
        figures = bench(args.calls, args.prefixes, args.numbers, args.deck_lines, Path(tmp))
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    r, c, cmd, d = (figures[k] for k in ("rating", "classification", "rate_command", "deck_import"))
    print(
        f"rating: {r['calls']:,} calls, {r['prefixes']:,} prefixes, {r['distinct_numbers']:,} "
        f"numbers: {r['rating_s']} s = {r['calls_per_s']:,} calls/s; exact-key join "
        f"{r['exact_join_s']} s; ratio {r['ratio_to_join']}x"
    )
    print(f"classification (first run): {c['first_run_s']} s, {c['numbers_per_s']:,} numbers/s")
    print(
        f"callacct rate: first {cmd['first_s']} s ({cmd['first_changed']:,} changed), "
        f"again {cmd['rerate_s']} s ({cmd['rerate_changed']:,} changed)"
    )
    print(
        f"deck import: {d['lines']:,} lines in {d['import_s']} s; read_csv {d['read_csv_s']} s; "
        f"ratio {d['ratio_to_read_csv']}x"
    )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
