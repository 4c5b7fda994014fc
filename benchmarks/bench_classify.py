"""Classification benchmark: the column path against the per-number path, and a first load.

    python benchmarks/bench_classify.py               # 1M numbers; the 1M-row first load
    python benchmarks/bench_classify.py --quick       # small sizes, to check it still runs
    python benchmarks/bench_classify.py --only classify   # one figure: classify or load

Figures (each with the machine's load average before and after it):
  1. classifying N distinct numbers (default 1M) drawn as the CUCM benchmark generator draws
     the remote parties of its calls -- Paris and New York carrier numbers and callers, their
     digits at random, the generator's worst case -- with the default workspace's dial plan
     (US): `classify_numbers` (the column path, and the per-number path for what it leaves),
     against the per-number path on a sample of the same numbers measured in the same run, in
     one process and with a worker process per core (ratio of numbers per second);
  2. `callacct ingest` of the ingest benchmark's 1M-row file into a new workspace with a tariff
     loaded (the whole command in a fresh process: ingest, attribution, rating), against a
     bare `polars.read_csv` of the file with its schema in the same run; its peak RSS. Each
     of `--repeat` runs (3) times its own `read_csv` then ingests into a new workspace; the
     figures are the medians (the machine's noise moves both by 20-30 % from run to run);
  3. the CPU of what a first load does that `read_csv` does not, each part alone in this
     process against a `read_csv` of its own (`--no-parts` skips it): the file's sha256 and
     raw archive, appending the first run's calls and records to an empty store a row group
     at a time, attributing and rating those calls again with every number fresh. With the
     baseline's own CPU (the parse) they make a floor for the command's CPU, and so for its
     ratio: `read_csv` keeps both cores busy too, so no parallelism takes the ratio below it;
  4. then, into the same workspace, a load of numbers already known: the same file with every
     pkid changed (new calls to the same numbers), the same way.
`--rows 5000000` gives the 5M-row first load. The files are cached in `bench-data/` with the
ingest benchmark's files.
"""

from __future__ import annotations

# First, as on the command line: callacct sets Polars' allocator options before Polars loads.
import callacct  # noqa: F401

# isort: split
import argparse
import hashlib
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl

from callacct.config import IngestSettings
from callacct.rating.dialplan import DialPlan
from generate_cucm import write_large_cdr_file

DATA = Path(
    os.environ.get("CALLACCT_BENCH_DATA", Path(__file__).resolve().parent.parent / "bench-data")
)
NEVER: int = 10**12  # `columns_from` that keeps every number on the per-number path


def remote_numbers(count: int, seed: int) -> list[str]:
    """`count` distinct numbers shaped as the benchmark generator's remote parties
    (`callacct.demo.cdr_writer._synthetic_core`): outgoing calls from Paris (national, mobile,
    London, toll free) and New York (NYC, mobile, London, toll free) as the carrier gets them,
    and incoming callers, with the generator's mix (60 % of the people in Paris)."""
    rng = random.Random(seed)
    draw = rng.random

    def digits(n: int) -> str:
        return f"{int(draw() * 10**n):0{n}d}"

    found: dict[str, None] = {}  # distinct, in the order drawn
    while len(found) < count:
        paris = draw() < 0.6
        if draw() < 20 / 55:  # an incoming call: the caller
            found[f"06{2 + int(draw() * 8)}{digits(7)}" if paris else f"646{digits(7)}"] = None
            continue
        kind, d1 = int(draw() * 100), 2 + int(draw() * 8)
        if paris:
            if kind < 55:
                number = f"0{d1 % 5 + 1}{d1}{digits(7)}"
            elif kind < 85:
                number = f"0{d1 % 2 + 6}{d1}{digits(7)}"
            elif kind < 97:
                number = f"004420{d1}{digits(7)}"
            else:
                number = f"0800{digits(6)}"
        elif kind < 55:
            number = f"1212{d1}{digits(6)}"
        elif kind < 85:
            number = f"1917{digits(7)}"
        elif kind < 97:
            number = f"0114420{d1}{digits(7)}"
        else:
            number = f"1800{digits(7)}"
        found[number] = None
    return list(found)


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.2f}/{five:.2f}"


def bench_classify(count: int, sample: int) -> dict[str, Any]:
    # Imported here, so that the load figure also runs against older code (PYTHONPATH).
    from callacct.rating.classify import classify_numbers, default_workers
    from callacct.rating.classify_columns import column_path_available

    plan = DialPlan.for_region("US")
    load_before = _load()
    numbers = pl.Series(remote_numbers(count, seed=1), dtype=pl.String)
    # The first use in a process reads the metadata and checks each calling code met against
    # phonenumbers: timed apart, once per process.
    started = time.perf_counter()
    assert column_path_available()
    classify_numbers(numbers.head(2_000), plan)
    first_use = time.perf_counter() - started
    started = time.perf_counter()
    by_column = classify_numbers(numbers, plan)
    columns_s = time.perf_counter() - started
    assert by_column.height == count

    head = numbers.head(sample)
    started = time.perf_counter()
    one_by_one = classify_numbers(head, plan, columns_from=NEVER)
    single_s = time.perf_counter() - started
    workers = default_workers()
    started = time.perf_counter()
    classify_numbers(head, plan, columns_from=NEVER, workers=workers, parallel_from=0)
    pool_s = time.perf_counter() - started
    same = by_column.head(sample).equals(one_by_one)
    columns_rate = count / columns_s
    single_rate = sample / single_s
    pool_rate = sample / pool_s
    return {
        "numbers": count,
        "classes": dict(sorted(by_column.group_by("dest_class").len().iter_rows())),
        "first_use_s": round(first_use, 2),
        "columns_s": round(columns_s, 2),
        "columns_per_s": round(columns_rate),
        "sample": sample,
        "per_number_per_s": round(single_rate),
        "workers": workers,
        "per_number_workers_per_s": round(pool_rate),
        "ratio_to_per_number": round(columns_rate / single_rate, 1),
        "ratio_to_per_number_workers": round(columns_rate / pool_rate, 1),
        "same_answers_on_sample": same,
        "load_before": load_before,
        "load_after": _load(),
    }


def _big_file(rows: int) -> Path:
    """The ingest benchmark's file of `rows` rows (same name and seed: shared cache)."""
    path = DATA / f"cdr_StandAloneCluster_01_202601010000_{rows}"
    if not path.exists():
        DATA.mkdir(parents=True, exist_ok=True)
        write_large_cdr_file(path, rows, seed=rows)
    return path


# Every hex digit of a pkid moved to the next one: unique pkids again, none of the first file's.
_NEXT_HEX = str.maketrans("0123456789abcdefABCDEF", "123456789abcdef0BCDEFA")


def _same_numbers_file(path: Path) -> Path:
    """`path` with every pkid changed: the same numbers, calls new to the store."""
    other = path.with_name(path.name.replace("_202601010000_", "_202601020000_"))
    if not other.exists():
        schema = _schema(path)
        frame = pl.read_csv(path, skip_rows=2, has_header=False, schema=schema)
        frame = frame.with_columns(
            pl.col("pkid").map_elements(lambda t: t.translate(_NEXT_HEX), return_dtype=pl.String)
        )
        with path.open("rb") as fh, other.open("wb") as out:
            out.write(fh.readline() + fh.readline())
            frame.write_csv(
                out, include_header=False, quote_style="non_numeric", line_terminator="\n"
            )
    return other


def _schema(path: Path) -> dict[str, pl.DataType]:
    with path.open("rb") as fh:
        names = [n.strip('"') for n in fh.readline().decode().strip().split(",")]
        types = fh.readline().decode().strip().split(",")
    return {
        n: (pl.Int64() if t == "INTEGER" else pl.String())
        for n, t in zip(names, types, strict=False)
    }


# Runs the command line in this process and reports its peak RSS (VmHWM: Linux carries
# ru_maxrss over exec, so a child of a big parent would report the parent's size).
_RUN_CLI = """
import atexit, runpy, sys
def peak():
    hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')]
    sys.stderr.write(f"VMHWM {hwm[0].split()[1] if hwm else 0}\\n")
atexit.register(peak)
sys.argv = ['callacct', *sys.argv[1:]]
runpy.run_module('callacct', run_name='__main__')
"""


def _command_env() -> dict[str, str]:
    """The environment of the timed commands: Python keeps the bytecode it compiles (in a
    folder of its own, not the source tree), as an installed package has it. Without it,
    under PYTHONDONTWRITEBYTECODE, every command would compile callacct's sources again
    before doing anything, which no installed callacct does."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / "callacct-bench-pycache")
    return env


def _children_cpu() -> float:
    """CPU seconds (user and system) of the finished child processes so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _callacct(*args: str) -> tuple[float, int, str, float]:
    """Wall time, peak RSS (kB), output and CPU seconds (all its threads) of one `callacct`
    command in a fresh process (the commands before a timed one have compiled its bytecode:
    `_command_env`)."""
    cpu_before = _children_cpu()
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _RUN_CLI, *args],
        capture_output=True,
        text=True,
        check=False,
        env=_command_env(),
    )
    seconds = time.perf_counter() - started
    cpu = _children_cpu() - cpu_before
    if done.returncode != 0:
        raise SystemExit(f"callacct {' '.join(args)} failed: {done.stderr.strip()}")
    peaks = [line.split()[1] for line in done.stderr.splitlines() if line.startswith("VMHWM")]
    return seconds, int(peaks[-1]) if peaks else 0, done.stdout, cpu


def _timed_read_csv(path: Path, rows: int) -> tuple[float, float]:
    """Wall and CPU seconds (every thread) of the baseline: `polars.read_csv` of `path` with
    its schema."""
    started, cpu_before = time.perf_counter(), time.process_time()
    frame = pl.read_csv(path, skip_rows=2, has_header=False, schema=_schema(path))
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_before
    assert frame.height == rows
    return seconds, cpu


def bench_load(
    rows: int, work: Path, *, known: bool, parts: bool = True, repeat: int = 3
) -> dict[str, Any]:
    """The first load `repeat` times, each into a new workspace right after its own
    `read_csv` baseline (so both meet the same machine); the figures are the medians of
    the runs, each run's kept in `runs`."""
    path = _big_file(rows)
    load_before = _load()
    runs: list[dict[str, Any]] = []
    workspace = work
    for run in range(repeat):
        read_csv_s, read_csv_cpu = _timed_read_csv(path, rows)
        workspace = work / f"load-{run}"
        _callacct("init", str(workspace))
        _callacct("-w", str(workspace), "tariff", "import", "us-carrier")
        seconds, peak_kb, output, cpu = _callacct(
            "-w", str(workspace), "ingest", str(path), "--json"
        )
        report = json.loads(output)
        assert report["stored"] == rows, report
        runs.append(
            {
                "read_csv_s": round(read_csv_s, 2),
                "read_csv_cpu_s": round(read_csv_cpu, 2),
                "command_s": round(seconds, 2),
                "command_cpu_s": round(cpu, 2),
                "rating_s": (report.get("rating") or {}).get("seconds"),
                "ratio_to_read_csv": round(seconds / read_csv_s, 2),
                "peak_rss_mb": round(peak_kb / 1024),
            }
        )

    def median(key: str) -> Any:
        return round(statistics.median(r[key] for r in runs), 3)

    read_csv_s = median("read_csv_s")
    figures: dict[str, Any] = {
        "rows": rows,
        "file_mb": round(path.stat().st_size / 1e6, 1),
        "read_csv_s": read_csv_s,
        "command_s": median("command_s"),
        "rating_s": median("rating_s"),
        "ratio_to_read_csv": median("ratio_to_read_csv"),
        "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
        "runs": runs,
        "load_before": load_before,
        "load_after": _load(),
    }
    if parts:
        # Against a `read_csv` of its own, right before: the machine of the moment.
        _, read_csv_cpu = _timed_read_csv(path, rows)
        command_cpu = statistics.median(r["command_cpu_s"] for r in runs)
        figures["cpu_parts"] = bench_parts(path, work / "load-0", read_csv_cpu, command_cpu)
    if known:
        again = _same_numbers_file(path)
        seconds, peak_kb, output, _ = _callacct(
            "-w", str(workspace), "ingest", str(again), "--json"
        )
        report = json.loads(output)
        assert report["stored"] == rows, report
        figures |= {
            "known_command_s": round(seconds, 2),
            "known_rating_s": (report.get("rating") or {}).get("seconds"),
            "known_ratio_to_read_csv": round(seconds / read_csv_s, 2),
            "known_peak_rss_mb": round(peak_kb / 1024),
            "known_load_after": _load(),
        }
    return figures


# What a first load does that `read_csv` does not, each part measured alone in this process
# (`time.process_time`: every thread), on the file and on the store the first run loaded.
PIECE_BYTES = IngestSettings().parse_bytes  # as the ingest reads a large file


def _cpu_of(work: Callable[[], object]) -> float:
    before = time.process_time()
    work()
    return time.process_time() - before


def _hash_and_archive(path: Path, where: Path) -> tuple[float, float]:
    """CPU of the file's sha256 and of its raw archive (`ArchiveFile`, zstd frames of
    `PIECE_BYTES`), each over the pieces the ingest reads."""
    from callacct.store.archive import ArchiveFile

    with path.open("rb") as fh:
        pieces = list(iter(lambda: fh.read(PIECE_BYTES), b""))

    def sha256() -> None:
        digest = hashlib.sha256()
        for piece in pieces:
            digest.update(piece)

    def archive() -> None:
        out = ArchiveFile(where / "parts.csv.zst")
        for piece in pieces:
            out.append([piece])
        out.close()

    return _cpu_of(sha256), _cpu_of(archive)


def _append(workspace: Path, table: str, where: Path) -> float:
    """CPU of appending the stored rows of `table` again, a row group at a time (as the
    ingest's writers do), into an empty store of the same table on disk, one DuckDB thread."""
    import duckdb

    from callacct.ingest.staging import ROW_GROUP_ROWS
    from callacct.store import insert_frame, scalar

    with duckdb.connect(str(workspace / "callacct.duckdb"), read_only=True) as src:
        rows = src.sql(f"SELECT * FROM {table}").pl()  # in the order stored
        ddl = scalar(src, "SELECT sql FROM duckdb_tables() WHERE table_name = ?", [table])
    with duckdb.connect(str(where / f"{table}.duckdb"), config={"threads": 1}) as con:
        con.execute(ddl)

        def append() -> None:
            for start in range(0, rows.height, ROW_GROUP_ROWS):
                con.execute("BEGIN")
                insert_frame(con, table, rows.slice(start, ROW_GROUP_ROWS))
                con.execute("COMMIT")

        return _cpu_of(append)


def _rating(workspace: Path, where: Path) -> float:
    """CPU of attributing and rating the stored calls again as new calls (`attribute_frame`,
    `rate_new`), a row group at a time, on a copy of the store whose cache of classified
    numbers is empty: every number fresh, as on a first load."""
    import duckdb

    from callacct.config import load_settings
    from callacct.directory.attribution import ATTRIBUTED_COLUMNS, attribute_frame
    from callacct.ingest.staging import ROW_GROUP_ROWS
    from callacct.rating import Tariffs, rate_new
    from callacct.rating.classify import PendingNumbers
    from callacct.rating.rate import RATED_COLUMNS

    copy = where / "rating.duckdb"
    shutil.copyfile(workspace / "callacct.duckdb", copy)
    settings = load_settings(workspace)
    with duckdb.connect(str(copy)) as con:
        stored = con.sql("SELECT * FROM calls ORDER BY call_id").pl()
        con.execute("DELETE FROM number_classes")
        # As the ingest stages them: the number as dialled, nothing attributed or rated yet.
        unset = [pl.lit(None, stored.schema[c]).alias(c) for c in (*RATED_COLUMNS, "cost")]
        unset += [pl.lit(None, stored.schema[c]).alias(c) for c in ATTRIBUTED_COLUMNS]
        staged = stored.with_columns(unset).with_columns(
            stored.get_column("remote_dialled").alias("remote_number")
        )
        tariffs = Tariffs.load(con)

        def rate() -> None:
            for start in range(0, staged.height, ROW_GROUP_ROWS):
                attributed, _ = attribute_frame(con, staged.slice(start, ROW_GROUP_ROWS))
                rate_new(con, settings, attributed, tariffs=tariffs, pending=PendingNumbers())

        return _cpu_of(rate)


def bench_parts(
    path: Path, workspace: Path, read_csv_cpu: float, command_cpu: float
) -> dict[str, Any]:
    """The CPU of each part of a first load that `read_csv` does not do, its sum with the
    baseline's (the parse), as a multiple of the baseline: a floor for the command's ratio,
    whatever runs in parallel, since the baseline keeps every core busy too."""
    with tempfile.TemporaryDirectory(prefix="callacct-parts-") as tmp:
        where = Path(tmp)
        sha256, archive = _hash_and_archive(path, where)
        parts = {
            "sha256": sha256,
            "archive": archive,
            "calls_append": _append(workspace, "calls", where),
            "records_append": _append(workspace, "records", where),
            "rating": _rating(workspace, where),
        }
    floor = read_csv_cpu + sum(parts.values())
    return {
        "read_csv_cpu_s": round(read_csv_cpu, 2),
        "parts_cpu_s": {k: round(v, 4) for k, v in parts.items()},
        "parts_to_read_csv": {k: round(v / read_csv_cpu, 2) for k, v in parts.items()},
        "floor_cpu_s": round(floor, 2),
        "floor_to_read_csv": round(floor / read_csv_cpu, 2),
        "command_cpu_s": round(command_cpu, 2),
        "command_to_read_csv": round(command_cpu / read_csv_cpu, 2),
        "rest_cpu_s": round(command_cpu - floor, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--numbers", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=50_000, help="numbers read one by one")
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the file loaded")
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument(
        "--no-known", action="store_true", help="skip the load of numbers already known"
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="first loads measured (the median is given)"
    )
    parser.add_argument(
        "--no-parts", action="store_true", help="skip the CPU of the first load's parts"
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument(
        "--only", choices=("classify", "load"), action="append", help="run only this figure"
    )
    args = parser.parse_args()
    wanted = set(args.only or ("classify", "load"))
    if args.quick:
        args.numbers, args.sample, args.rows = 5_000, 1_000, 5_000
    figures: dict[str, dict[str, Any]] = {}
    if "classify" in wanted:
        c = figures["classification"] = bench_classify(args.numbers, args.sample)
        if not args.json:
            print(f"classify {c['numbers']:,} distinct numbers (load {c['load_before']})")
            print(f"  first use in a process  {c['first_use_s']} s")
            print(
                f"  by column   {c['columns_s']} s = {c['columns_per_s']:,} numbers/s   "
                "(target >= 400,000/s)"
            )
            print(
                f"  one by one  {c['per_number_per_s']:,} numbers/s in one process, "
                f"{c['per_number_workers_per_s']:,}/s with {c['workers']} workers "
                f"({c['sample']:,} of them)"
            )
            print(
                f"  ratio       {c['ratio_to_per_number']}x one process, "
                f"{c['ratio_to_per_number_workers']}x the workers   (target >= 15x); "
                f"same answers: {c['same_answers_on_sample']}",
                flush=True,
            )
    if "load" in wanted:
        with tempfile.TemporaryDirectory(prefix="callacct-bench-") as tmp:
            d = figures["first_load"] = bench_load(
                args.rows,
                Path(tmp),
                known=not args.no_known,
                parts=not args.no_parts,
                repeat=max(1, args.repeat),
            )
        if not args.json:
            print(f"first load of {d['rows']:,} rows ({d['file_mb']} MB, load {d['load_before']})")
            for i, r in enumerate(d["runs"], 1):
                print(
                    f"  run {i}: read_csv {r['read_csv_s']} s (CPU {r['read_csv_cpu_s']} s), "
                    f"callacct ingest {r['command_s']} s (CPU {r['command_cpu_s']} s, "
                    f"rating {r['rating_s']} s), {r['ratio_to_read_csv']}x, "
                    f"peak RSS {r['peak_rss_mb']:,} MB"
                )
            print(f"  read_csv        {d['read_csv_s']} s (baseline, median)")
            print(
                f"  callacct ingest {d['command_s']} s (median; rating {d['rating_s']} s), "
                f"{d['ratio_to_read_csv']}x read_csv (median of the runs' ratios)   "
                "(target <= 4x)"
            )
            print(
                f"  peak RSS        {d['peak_rss_mb']:,} MB (highest)   "
                "(target <= 1,200 MB; 1,500 MB for 5M rows)"
            )
            if "cpu_parts" in d:
                p = d["cpu_parts"]
                print(f"  CPU of the parts (read_csv again: {p['read_csv_cpu_s']} s of CPU):")
                for name, cpu in p["parts_cpu_s"].items():
                    print(f"    {name:15} {cpu:6.2f} s  {p['parts_to_read_csv'][name]}x read_csv")
                print(
                    f"    floor (read_csv + parts) {p['floor_cpu_s']} s = "
                    f"{p['floor_to_read_csv']}x read_csv; the command {p['command_cpu_s']} s = "
                    f"{p['command_to_read_csv']}x (the rest: {p['rest_cpu_s']} s)"
                )
            if "known_command_s" in d:
                print(
                    f"  same numbers, new calls: {d['known_command_s']} s "
                    f"(rating {d['known_rating_s']} s), {d['known_ratio_to_read_csv']}x read_csv, "
                    f"peak RSS {d['known_peak_rss_mb']:,} MB (load {d['known_load_after']})"
                )
    if args.json:
        print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
