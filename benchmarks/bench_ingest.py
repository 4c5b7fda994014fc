"""Ingest benchmark: prints figures and their ratio to baselines measured in the same run.

    python benchmarks/bench_ingest.py                 # full sizes (takes several minutes)
    python benchmarks/bench_ingest.py --quick         # small sizes, to check it still runs
    python benchmarks/bench_ingest.py --only large    # one figure: large, small or rss

Figures:
  1. one large CUCM file (default 1M rows): ingest time and rows/s, against a bare
     `polars.read_csv` of the same file with the same schema (ratio = ingest / read_csv);
  2. re-ingest of that file (already loaded: skipped by content hash);
  3. peak RSS of a separate process ingesting a very large file (default 5M rows);
  4. many small files (default 10,000 x 100 rows): rows/s, against reading the same files one
     by one with `polars.read_csv` (the per-file overhead a naive loader pays).
Generated files are cached in `bench-data/` (delete it to regenerate).
"""

from __future__ import annotations

# First, as on the command line: callacct sets Polars' allocator options before Polars loads.
import callacct  # noqa: F401

# isort: split
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

from callacct.config import Settings
from callacct.ingest.engine import ingest_paths
from callacct.store import open_store
from generate_cucm import write_large_cdr_file, write_many_small_files

DATA = Path(
    os.environ.get("CALLACCT_BENCH_DATA", Path(__file__).resolve().parent.parent / "bench-data")
)


def _schema(path: Path) -> dict[str, pl.DataType]:
    with path.open("rb") as fh:
        names = [n.strip('"') for n in fh.readline().decode().strip().split(",")]
        types = fh.readline().decode().strip().split(",")
    return {
        n: (pl.Int64() if t == "INTEGER" else pl.String())
        for n, t in zip(names, types, strict=False)
    }


def _big_file(rows: int) -> Path:
    path = DATA / f"cdr_StandAloneCluster_01_202601010000_{rows}"
    if not path.exists():
        DATA.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        write_large_cdr_file(path, rows, seed=rows)
        print(
            f"  generated {path.name} ({rows:,} rows) in {time.perf_counter() - started:.1f} s",
            file=sys.stderr,
        )
    return path


def _small_files(files: int, rows: int) -> Path:
    folder = DATA / f"small-{files}x{rows}"
    if not folder.exists():
        started = time.perf_counter()
        write_many_small_files(folder, files, rows, seed=7)
        print(
            f"  generated {files:,} files x {rows} rows in {time.perf_counter() - started:.1f} s",
            file=sys.stderr,
        )
    return folder


def bench_large(rows: int, settings: Settings, work: Path) -> dict[str, float]:
    path = _big_file(rows)
    size_mb = path.stat().st_size / 1e6
    schema = _schema(path)
    started = time.perf_counter()
    frame = pl.read_csv(path, skip_rows=2, has_header=False, schema=schema)
    baseline = time.perf_counter() - started
    assert frame.height == rows
    del frame
    store = open_store(_reset(work / "large") / "callacct.duckdb")
    started = time.perf_counter()
    report = ingest_paths(store, settings, [path])
    ingest = time.perf_counter() - started
    assert report.stored == rows, report.to_dict(details=False)
    started = time.perf_counter()
    again = ingest_paths(store, settings, [path])
    reingest = time.perf_counter() - started
    assert again.files_skipped == 1
    store.close()
    return {
        "rows": rows,
        "file_mb": round(size_mb, 1),
        "read_csv_s": round(baseline, 3),
        "ingest_s": round(ingest, 3),
        "rows_per_s": round(rows / ingest),
        "ratio_to_read_csv": round(ingest / baseline, 2),
        "reingest_s": round(reingest, 3),
    }


def bench_rss(rows: int, work: Path) -> dict[str, float]:
    path = _big_file(rows)
    target = _reset(work / "rss")
    code = (
        "import resource, sys, time\n"
        "from callacct.config import Settings\n"
        "from callacct.ingest.engine import ingest_paths\n"
        "from callacct.store import open_store\n"
        "store = open_store(__import__('pathlib').Path(sys.argv[2]) / 'callacct.duckdb')\n"
        "t = time.perf_counter()\n"
        "r = ingest_paths(store, Settings(), [sys.argv[1]])\n"
        "t = time.perf_counter() - t\n"
        "store.close()\n"
        # VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec, so a child started by a
        # big parent would report the parent's size.
        "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')]\n"
        "peak = int(hwm[0].split()[1]) if hwm else "
        "resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "print(r.stored, t, peak)\n"
    )
    out = (
        subprocess.run(
            [sys.executable, "-c", code, str(path), str(target)],
            check=True,
            capture_output=True,
            text=True,
        )
        .stdout.splitlines()[-1]
        .split()
    )
    stored, seconds, rss_kb = int(out[0]), float(out[1]), int(out[2])
    assert stored == rows
    return {
        "rows": rows,
        "file_mb": round(path.stat().st_size / 1e6, 1),
        "ingest_s": round(seconds, 2),
        "rows_per_s": round(rows / seconds),
        "peak_rss_mb": round(rss_kb / 1024),
    }


def bench_small(files: int, rows: int, settings: Settings, work: Path) -> dict[str, float]:
    folder = _small_files(files, rows)
    paths = sorted(folder.iterdir())
    schema = _schema(paths[0])
    started = time.perf_counter()
    total = sum(pl.read_csv(p, skip_rows=2, has_header=False, schema=schema).height for p in paths)
    baseline = time.perf_counter() - started
    store = open_store(_reset(work / "small") / "callacct.duckdb")
    started = time.perf_counter()
    report = ingest_paths(store, settings, [folder])
    ingest = time.perf_counter() - started
    store.close()
    assert report.stored == total == files * rows, report.to_dict(details=False)
    return {
        "files": files,
        "rows": total,
        "per_file_read_csv_s": round(baseline, 2),
        "ingest_s": round(ingest, 2),
        "rows_per_s": round(total / ingest),
        "files_per_s": round(files / ingest),
        "ratio_to_per_file_read_csv": round(ingest / baseline, 2),
    }


def _reset(folder: Path) -> Path:
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rss-rows", type=int, default=5_000_000)
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--rows-per-file", type=int, default=100)
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument(
        "--only", choices=("large", "small", "rss"), action="append", help="run only this figure"
    )
    args = parser.parse_args()
    wanted = set(args.only or ("large", "small", "rss"))
    if args.quick:
        args.rows, args.rss_rows, args.files, args.rows_per_file = 5_000, 10_000, 50, 20
    settings = Settings()
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="callacct-bench-") as tmp:
        work = Path(tmp)
        if "large" in wanted:
            large = results["large_file"] = bench_large(args.rows, settings, work)
            if not args.json:
                print(f"large file   {large['rows']:,} rows ({large['file_mb']} MB)")
                print(f"  read_csv   {large['read_csv_s']:.2f} s (baseline)")
                print(
                    f"  ingest     {large['ingest_s']:.2f} s = {large['rows_per_s']:,} rows/s, "
                    f"{large['ratio_to_read_csv']}x read_csv   (target >= 300,000 rows/s, <= 2.5x)"
                )
                print(f"  re-ingest  {large['reingest_s']:.2f} s   (target <= 1 s)", flush=True)
        if "small" in wanted:
            small = results["small_files"] = bench_small(
                args.files, args.rows_per_file, settings, work
            )
            if not args.json:
                print(f"small files  {small['files']:,} x {args.rows_per_file} rows")
                print(f"  read_csv per file {small['per_file_read_csv_s']:.2f} s (baseline)")
                print(
                    f"  ingest     {small['ingest_s']:.2f} s = {small['rows_per_s']:,} rows/s, "
                    f"{small['files_per_s']:,} files/s, {small['ratio_to_per_file_read_csv']}x "
                    "baseline (target >= 100,000 rows/s)",
                    flush=True,
                )
        if "rss" in wanted:
            rss = results["peak_rss"] = bench_rss(args.rss_rows, work)
            if not args.json:
                print(
                    f"peak RSS     {rss['rows']:,} rows ({rss['file_mb']} MB): "
                    f"{rss['peak_rss_mb']} MB in {rss['ingest_s']:.1f} s, "
                    f"{rss['rows_per_s']:,} rows/s   (target <= 1,024 MB)"
                )
    if args.json:
        print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
