"""Generate CUCM CDR flat files for ingest benchmarks.

One big file::

    python benchmarks/generate_cucm.py --rows 1000000 --out big.cdr --seed 1

Many small CUCM-named files::

    python benchmarks/generate_cucm.py --files 2000 --rows-per-file 50 --out-dir cdr_many
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

# Runs from a source checkout without installing the package.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from callacct.demo.cdr_writer import (
    write_large_cdr_file,
    write_many_small_files,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    big = parser.add_argument_group("one large file")
    big.add_argument("--rows", type=int, help="number of records in the large file")
    big.add_argument("--out", type=Path, help="path of the large file")
    big.add_argument(
        "--columns", type=int, choices=(129, 133), default=133, help="CDR layout (default 133)"
    )
    many = parser.add_argument_group("many small files")
    many.add_argument("--files", type=int, help="number of small files")
    many.add_argument("--rows-per-file", type=int, default=50, help="records per file")
    many.add_argument("--out-dir", type=Path, help="folder for the small files")
    args = parser.parse_args(argv)

    if args.rows is None and args.files is None:
        parser.error("give --rows/--out or --files/--out-dir")
    started = time.perf_counter()
    if args.rows is not None:
        if args.out is None:
            parser.error("--rows needs --out")
        write_large_cdr_file(args.out, args.rows, seed=args.seed, columns=args.columns)
        size = args.out.stat().st_size
        print(f"{args.out}: {args.rows:,} records, {size / 1e6:,.1f} MB")
    if args.files is not None:
        if args.out_dir is None:
            parser.error("--files needs --out-dir")
        paths = write_many_small_files(args.out_dir, args.files, args.rows_per_file, seed=args.seed)
        size = sum(p.stat().st_size for p in paths)
        print(
            f"{args.out_dir}: {len(paths):,} files x {args.rows_per_file:,} records, "
            f"{size / 1e6:,.1f} MB"
        )
    print(f"done in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
