"""Report rendering benchmark: prints figures and their ratio to a baseline of the same run.

    python benchmarks/bench_render.py            # xlsx of 100,000 rows, PDF and HTML of 2,000
    python benchmarks/bench_render.py --quick    # small sizes, to check it still runs
    python benchmarks/bench_render.py --json

Each figure is measured in a fresh child process (this script with `--child`), which reports
its time and its own peak resident memory (`ru_maxrss`), so figures do not share memory:
  1. xlsx of a calls-detail result of 100,000 rows, 10 columns (text, integer, money, duration,
     date-time, ...), against writing the same rows with the standard `csv` module
     (ratio = xlsx / csv); target ≤ 10 s and ≤ 500 MB;
  2. PDF of 2,000 rows (same columns, landscape, header on every page); target ≤ 10 s;
  3. HTML of 2,000 rows, for reference.
The rows are built before the clock starts; the baseline reads them the same way (Polars
`iter_rows`) so the ratio is the renderer's own cost. CPU seconds are printed beside wall
seconds: on a shared machine they vary less.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import polars as pl

from callacct.reports.render import render
from callacct.reports.result import Chart, Column, ReportResult

XLSX_ROWS = 100_000
PDF_ROWS = 2_000
QUICK_ROWS = 500


def calls_result(rows: int, seed: int = 7) -> ReportResult:
    """A calls-detail result of `rows` rows, 10 columns, with totals and no chart."""
    rng = random.Random(seed)
    start = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    people = [f"User {i:04d}" for i in range(500)]
    classes = ["mobile", "national", "international", "local", "premium"]
    costs = [Decimal(rng.randrange(0, 500_000)) / 10_000 for _ in range(rows)]
    frame = pl.DataFrame(
        {
            "started_at": [start + dt.timedelta(seconds=37 * i) for i in range(rows)],
            "user": [people[i % len(people)] for i in range(rows)],
            "extension": [str(1000 + i % 4000) for i in range(rows)],
            "remote_number": [f"+336{rng.randrange(10**8):08d}" for _ in range(rows)],
            "dest_class": [classes[i % len(classes)] for i in range(rows)],
            "direction": ["outgoing" if i % 3 else "incoming" for i in range(rows)],
            "duration_s": [rng.randrange(1, 3600) for _ in range(rows)],
            "billed_s": [rng.randrange(0, 3600) for _ in range(rows)],
            "cost": costs,
            "answered": [i % 4 != 0 for i in range(rows)],
        },
        schema_overrides={"cost": pl.Decimal(18, 6), "started_at": pl.Datetime("us", "UTC")},
    )
    columns = [
        Column("started_at", "Started", "datetime"),
        Column("user", "User", "text"),
        Column("extension", "Extension", "text"),
        Column("remote_number", "Number", "text"),
        Column("dest_class", "Destination class", "text"),
        Column("direction", "Direction", "text"),
        Column("duration_s", "Duration", "duration"),
        Column("billed_s", "Billed time", "duration"),
        Column("cost", "Cost", "money", currency="EUR"),
        Column("answered", "Answered", "boolean"),
    ]
    return ReportResult(
        name="calls-detail",
        title="Calls",
        description="Every call of the period",
        language="en",
        timezone="Europe/Paris",
        period=(start, start + dt.timedelta(days=30)),
        filters=[("Department", "Sales")],
        columns=columns,
        rows=frame,
        totals={"duration_s": sum(frame["duration_s"]), "cost": sum(costs, Decimal(0))},
        chart=Chart("bar", "user", ("cost",), "Cost") if rows <= PDF_ROWS else None,
    )


def write_csv(result: ReportResult, out: Path) -> None:
    """The baseline: the same rows through the standard csv module."""
    keys = [column.key for column in result.columns]
    with out.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow([column.label for column in result.columns])
        writer.writerows(result.rows.select(keys).iter_rows())


def child(fmt: str, rows: int) -> dict[str, float]:
    """Build a result of `rows` rows, render it as `fmt`, report seconds and peak memory."""
    result = calls_result(rows)
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / f"report.{fmt}"
        began, cpu = time.perf_counter(), time.process_time()
        if fmt == "csv":
            write_csv(result, out)
        else:
            render(result, fmt, out)
        seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
        size = out.stat().st_size
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"seconds": seconds, "cpu_seconds": cpu, "peak_rss_mb": peak_kb / 1024, "bytes": size}


def measure(fmt: str, rows: int) -> dict[str, float]:
    """Run `child` in a fresh process."""
    done = subprocess.run(
        [sys.executable, __file__, "--child", fmt, str(rows)],
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(done.stdout))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--child", nargs=2, metavar=("FORMAT", "ROWS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child[0], int(args.child[1]))))
        return
    big = QUICK_ROWS if args.quick else XLSX_ROWS
    small = QUICK_ROWS if args.quick else PDF_ROWS
    xlsx, xlsx_csv = measure("xlsx", big), measure("csv", big)
    pdf, pdf_csv = measure("pdf", small), measure("csv", small)
    html = measure("html", small)
    figures = {
        "xlsx": {"rows": big, **xlsx, "csv_seconds": xlsx_csv["seconds"],
                 "ratio_to_csv": xlsx["seconds"] / xlsx_csv["seconds"],
                 "rows_per_s": big / xlsx["seconds"]},
        "pdf": {"rows": small, **pdf, "csv_seconds": pdf_csv["seconds"],
                "ratio_to_csv": pdf["seconds"] / pdf_csv["seconds"],
                "rows_per_s": small / pdf["seconds"]},
        "html": {"rows": small, **html, "ratio_to_csv": html["seconds"] / pdf_csv["seconds"]},
    }  # fmt: skip
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    for fmt, figure in figures.items():
        print(
            f"{fmt:4} {figure['rows']:>7,} rows: {figure['seconds']:6.2f} s "
            f"(CPU {figure['cpu_seconds']:.2f} s, {figure['ratio_to_csv']:.0f}× csv), "
            f"peak RSS {figure['peak_rss_mb']:.0f} MB, "
            f"{figure['bytes'] / 1e6:.1f} MB written"
        )
    print(f"targets: xlsx {XLSX_ROWS:,} rows ≤ 10 s and ≤ 500 MB; pdf {PDF_ROWS:,} rows ≤ 10 s")


if __name__ == "__main__":
    main()
