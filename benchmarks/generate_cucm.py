"""Generate CUCM CDR flat files for the ingest benchmarks.

One big file::

    python benchmarks/generate_cucm.py --rows 1000000 --out big.cdr --seed 1

Many small CUCM-named files::

    python benchmarks/generate_cucm.py --files 2000 --rows-per-file 50 --out-dir cdr_many

The records are drawn column-wise (no Python loop per record) from every extension of the demo's
two sites, and written in the real CUCM format by `callacct.demo.cdr_writer`: realistic enough
for ingest to do all its work, and a million rows in seconds. The demo's own files, planned call
by call, are `callacct.demo.write_demo_cdr_files`.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

# Runs from a source checkout without installing the package.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from callacct.demo.cdr_writer import (
    cdr_frame,
    csv_lines,
    cucm_file_name,
    file_header,
    random_u32,
    random_uuids,
    with_media_ports,
)
from callacct.demo.numbers import ROUTE_PATTERNS
from callacct.demo.people import INTERNAL_PARTITION, SITES
from callacct.demo.planner import RECORDER_TRUNK, SIP_503, ip_to_int
from callacct.ingest.cucm_fields import CDR_FIELDS

_BATCH_ROWS = 100_000
_BENCH_START = 1_735_891_200  # 2025-01-03 08:00 UTC


@dataclass(frozen=True)
class _Directory:
    """Every extension of both demo sites with a phone, for the vectorised benchmark generator."""

    ext: pl.Series
    device: pl.Series
    ip: pl.Series
    login: pl.Series
    site: pl.Series  # index into SITES


def _directory(rng: random.Random) -> _Directory:
    ext: list[str] = []
    device: list[str] = []
    ip: list[int] = []
    site_idx: list[int] = []
    for k, site in enumerate(SITES):
        for number in range(site.ext_first, site.ext_last + 1):
            ext.append(str(number))
            device.append(
                f"SEP{rng.choice(('00270D', '6886A7', 'CC7F75'))}{rng.getrandbits(24):06X}"
            )
            ip.append(ip_to_int(f"{site.subnet}.{rng.randint(1, 30)}.{rng.randint(2, 254)}"))
            site_idx.append(k)
    return _Directory(
        ext=pl.Series(ext, dtype=pl.String),
        device=pl.Series(device, dtype=pl.String),
        ip=pl.Series(ip, dtype=pl.Int64),
        login=pl.Series([f"u{e}" for e in ext], dtype=pl.String),
        site=pl.Series(site_idx, dtype=pl.Int64),
    )


def _by_site(site: pl.Expr, values: Sequence[Any]) -> pl.Expr:
    """values[site] for a site-index expression (two sites)."""
    return pl.when(site == 0).then(pl.lit(values[0])).otherwise(pl.lit(values[1]))


def _synthetic_core(
    rng: random.Random,
    directory: _Directory,
    td: pl.Series,
    row0: int,
    gcid_base: int,
    leg_base: int,
    node: pl.Series | None = None,
) -> pl.DataFrame:
    """A batch of core records with a realistic mix, generated column-wise (no Python loop)."""
    n = td.len()
    people = directory.ext.len()
    c = pl.col
    r = pl.DataFrame({f"r{k}": random_u32(rng, n) for k in range(12)})
    a = r["r2"] % people
    b = (a + 1 + r["r3"] % (people - 1)) % people
    frame = pl.DataFrame(
        {
            "row": pl.int_range(row0, row0 + n, eager=True, dtype=pl.Int64),
            "td": td,
            "kind": r["r0"] % 100,
            "oc": r["r1"] % 100,
            "cls": r["r6"] % 100,
            "ext_a": directory.ext.gather(a),
            "dev_a": directory.device.gather(a),
            "ip_a": directory.ip.gather(a),
            "login_a": directory.login.gather(a),
            "site_a": directory.site.gather(a),
            "ext_b": directory.ext.gather(b),
            "dev_b": directory.device.gather(b),
            "ip_b": directory.ip.gather(b),
            "login_b": directory.login.gather(b),
            "site_b": directory.site.gather(b),
            "d7": (r["r4"] % 10_000_000).cast(pl.String).str.zfill(7),
            "d1": r["r5"] % 8 + 2,
            "ring": r["r7"] % 20 + 1,
            "u1": (r["r8"] + 1) / 2**32,
            "u2": r["r9"] / 2**32,
            "hang": r["r10"] % 2,
            "fail": r["r11"] % 5,
            "pkid": random_uuids(rng, n),
        }
    )
    internal = c("kind") < 45
    outbound = (c("kind") >= 45) & (c("kind") < 80)
    inbound = c("kind") >= 80
    answered = c("oc") < 68
    abandoned = (c("oc") >= 68) & (c("oc") < 80)
    missed = (c("oc") >= 80) & (c("oc") < 88)
    busy = (c("oc") >= 88) & (c("oc") < 94)
    failed = c("oc") >= 94
    sa = c("site_a")
    par = sa == 0
    # Lognormal talk time (Box-Muller): median ~110 s, mostly 30 s - 10 min.
    z = (-2 * c("u1").log()).sqrt() * (2 * math.pi * c("u2")).cos()
    dur = (math.log(110) + 0.9 * z).exp().clip(1, 3600).cast(pl.Int64)
    cls = c("cls")
    dclass = (
        pl.when(cls < 55)
        .then(pl.lit("national"))
        .when(cls < 85)
        .then(pl.lit("mobile"))
        .when(cls < 97)
        .then(pl.lit("international"))
        .otherwise(pl.lit("tollfree"))
    )
    d8 = pl.concat_str(c("d1").cast(pl.String), c("d7"))
    carrier = (
        pl.when(par)
        .then(
            pl.when(cls < 55)
            .then(pl.concat_str(pl.lit("0"), (c("d1") % 5 + 1).cast(pl.String), d8))
            .when(cls < 85)
            .then(pl.concat_str(pl.lit("0"), (c("d1") % 2 + 6).cast(pl.String), d8))
            .when(cls < 97)
            .then(pl.concat_str(pl.lit("004420"), d8))
            .otherwise(pl.concat_str(pl.lit("0800"), c("d7").str.slice(1, 6)))
        )
        .otherwise(
            pl.when(cls < 55)
            .then(pl.concat_str(pl.lit("1212"), c("d1").cast(pl.String), c("d7").str.slice(1, 6)))
            .when(cls < 85)
            .then(pl.concat_str(pl.lit("1917"), c("d7")))
            .when(cls < 97)
            .then(pl.concat_str(pl.lit("0114420"), d8))
            .otherwise(pl.concat_str(pl.lit("1800"), c("d7")))
        )
    )
    caller = (
        pl.when(par)
        .then(pl.concat_str(pl.lit("06"), d8))
        .otherwise(pl.concat_str(pl.lit("646"), c("d7")))
    )
    patterns = {
        dc: _by_site(sa, [ROUTE_PATTERNS["PAR"][dc], ROUTE_PATTERNS["NYC"][dc]])
        for dc in ("national", "mobile", "international", "tollfree")
    }
    pattern = (
        pl.when(cls < 55)
        .then(patterns["national"])
        .when(cls < 85)
        .then(patterns["mobile"])
        .when(cls < 97)
        .then(patterns["international"])
        .otherwise(patterns["tollfree"])
    )
    trunk_dev = _by_site(sa, [s.trunk_device for s in SITES])
    trunk_ip = _by_site(sa, [ip_to_int(s.trunk_ip) for s in SITES])
    pstn_pt = _by_site(sa, [s.pstn_partition for s in SITES])
    access = _by_site(sa, [s.access_code for s in SITES])
    did = _by_site(sa, [s.did_prefix for s in SITES])
    callref = c("pkid").str.replace_all("-", "").str.reverse().str.to_uppercase()
    unanswered_secs = (
        pl.when(abandoned)
        .then(3 + c("ring"))
        .when(missed)
        .then(15 + c("ring"))
        .when(busy)
        .then(1 + c("ring") % 4)
        .otherwise(c("ring") % 6)
    )
    tc = pl.when(answered).then(c("td") - dur).otherwise(0)
    phone_dest = internal | inbound
    ddev = (
        pl.when(outbound)
        .then(trunk_dev)
        .when(busy | (internal & failed))
        .then(pl.lit(""))
        .when(internal)
        .then(c("dev_b"))
        .otherwise(c("dev_a"))
    )
    codec = (
        pl.when(~answered)
        .then(0)
        .when(~internal)
        .then(pl.when(par).then(2).otherwise(4))
        .when(c("site_a") != c("site_b"))
        .then(11)
        .when(par)
        .then(6)
        .otherwise(4)
    )
    failure_cause = (
        pl.when(outbound)
        .then(
            pl.col("fail").replace_strict(
                {0: 1, 1: 34, 2: SIP_503, 3: 28, 4: 41}, return_dtype=pl.Int64
            )
        )
        .otherwise(1)
    )
    dcause = (
        pl.when(answered & (c("hang") == 1))
        .then(16)
        .when(missed)
        .then(19)
        .when(busy)
        .then(17)
        .when(failed)
        .then(failure_cause)
        .otherwise(0)
    )
    ocause = pl.when((answered & (c("hang") == 0)) | abandoned).then(16).otherwise(0)
    dobo = pl.when(dcause == 0).then(0).when(failed & ~outbound).then(13).otherwise(12)
    node_expr = pl.lit(node) if node is not None else pl.when(par).then(1).otherwise(2)
    node_b = pl.when(c("site_b") == 0).then(1).otherwise(2)
    dnode = (
        pl.when(ddev == "")
        .then(0)
        .when(internal)
        .then(node_b)
        .otherwise(pl.when(par).then(1).otherwise(2))
    )
    session = pl.lit("00105000a000")
    core = frame.select(
        node=node_expr.cast(pl.Int64),
        dnode=dnode.cast(pl.Int64),
        gcid=gcid_base + c("row"),
        oleg=leg_base + 2 * c("row"),
        dleg=leg_base + 2 * c("row") + 1,
        t0=pl.when(answered).then(tc - c("ring")).otherwise(c("td") - unanswered_secs),
        tc=tc,
        td=c("td"),
        ocause=ocause,
        dcause=dcause,
        oip=pl.when(inbound).then(trunk_ip).otherwise(c("ip_a")),
        dip=pl.when(ddev == "")
        .then(0)
        .when(outbound)
        .then(trunk_ip)
        .when(internal)
        .then(c("ip_b"))
        .otherwise(c("ip_a")),
        codec=codec,
        oobo=pl.when(ocause == 16).then(12).otherwise(0),
        dobo=dobo,
        rob_o=pl.lit(0),
        rob_l=pl.lit(0),
        rr_o=pl.lit(0),
        rr_l=pl.lit(0),
        join=pl.lit(0),
        dconv=pl.lit(0),
        oconv=pl.lit(0),
        inproto=pl.when(inbound).then(1).otherwise(0),
        outproto=pl.when(outbound).then(1).otherwise(0),
        usage=pl.when(outbound).then(5).otherwise(2),
        calling=pl.when(inbound).then(caller).otherwise(c("ext_a")),
        cpt=pl.when(inbound).then(pl.lit("")).otherwise(pl.lit(INTERNAL_PARTITION)),
        ocalled=pl.when(outbound)
        .then(pl.concat_str(access, carrier))
        .when(internal)
        .then(c("ext_b"))
        .otherwise(c("ext_a")),
        ocpt=pl.when(outbound).then(pstn_pt).otherwise(pl.lit(INTERNAL_PARTITION)),
        fcalled=pl.when(outbound)
        .then(pl.concat_str(access, carrier))
        .when(internal)
        .then(c("ext_b"))
        .otherwise(c("ext_a")),
        fcpt=pl.when(outbound).then(pstn_pt).otherwise(pl.lit(INTERNAL_PARTITION)),
        lrdn=pl.lit(None, dtype=pl.String),
        lrpt=pl.lit(None, dtype=pl.String),
        odev=pl.when(inbound).then(trunk_dev).otherwise(c("dev_a")),
        ddev=ddev,
        comment=pl.lit(""),
        inref=pl.when(inbound).then(callref).otherwise(pl.lit("")),
        outref=pl.when(outbound).then(callref).otherwise(pl.lit("")),
        outcalling=pl.when(outbound).then(pl.concat_str(did, c("ext_a"))).otherwise(pl.lit("")),
        outcalled=pl.when(outbound).then(carrier).otherwise(pl.lit("")),
        opat=pl.when(outbound).then(pattern).otherwise(pl.lit(None, dtype=pl.String)),
        fpat=pl.when(outbound).then(pattern).otherwise(pl.lit(None, dtype=pl.String)),
        lpat=pl.when(outbound).then(pattern).otherwise(pl.lit(None, dtype=pl.String)),
        ologin=pl.when(inbound).then(pl.lit("")).otherwise(c("login_a")),
        dlogin=pl.when(ddev == "")
        .then(pl.lit(""))
        .when(internal)
        .then(c("login_b"))
        .when(inbound)
        .then(c("login_a"))
        .otherwise(pl.lit("")),
        osid=pl.when(inbound)
        .then(pl.lit(""))
        .otherwise(
            pl.concat_str(
                c("pkid").str.slice(0, 8), session, c("dev_a").str.slice(3).str.to_lowercase()
            )
        ),
        dsid=pl.when(phone_dest & (ddev != ""))
        .then(
            pl.concat_str(c("pkid").str.slice(28, 8), session, ddev.str.slice(3).str.to_lowercase())
        )
        .otherwise(pl.lit("")),
        pkid=c("pkid"),
        dclass=pl.when(outbound).then(dclass).otherwise(pl.lit("")),
    )
    return with_media_ports(core, rng)


def _bench_trunks() -> list[str]:
    return [s.trunk_device for s in SITES] + [RECORDER_TRUNK]


def write_large_cdr_file(path: Path, rows: int, *, seed: int = 1, columns: int = 133) -> None:
    """Write one CUCM CDR file with ``rows`` records, generated and appended 100k rows at a time.

    The mix is ~45 % internal, ~35 % outbound, ~20 % inbound, ~68 % answered; pkids are unique and
    ``dateTimeDisconnect`` increases by about 2.5 s per record. ``columns=129`` writes the older
    129-column layout (the first 129 fields). Memory stays bounded by one batch (~100k rows).
    """
    if columns not in (129, 133):
        raise ValueError("columns must be 129 or 133")
    if rows < 0:
        raise ValueError("rows must not be negative")
    rng = random.Random(seed)
    directory = _directory(rng)
    gcid_base = rng.randrange(1_000_000, 2_000_000)
    leg_base = rng.randrange(20_000_000, 30_000_000)
    trunks = _bench_trunks()
    with path.open("wb") as fh:
        fh.write(file_header(CDR_FIELDS[:columns]).encode())
        for row0 in range(0, rows, _BATCH_ROWS):
            n = min(_BATCH_ROWS, rows - row0)
            rows_idx = pl.int_range(row0, row0 + n, eager=True, dtype=pl.Int64)
            td = _BENCH_START + (rows_idx * 5) // 2
            core = _synthetic_core(rng, directory, td, row0, gcid_base, leg_base)
            cdr_frame(core, trunks, columns).write_csv(
                fh, include_header=False, quote_style="non_numeric", line_terminator="\n"
            )


def write_many_small_files(
    out_dir: Path, files: int, rows_per_file: int, *, seed: int = 1
) -> list[Path]:
    """Write ``files`` CUCM-named CDR files of ``rows_per_file`` records each (both header lines).

    Files alternate between node 01 and 02, one per node and minute, with increasing sequence
    numbers; each file's records disconnect within its minute.
    """
    if files < 0 or rows_per_file < 1:
        raise ValueError("files must be >= 0 and rows_per_file >= 1")
    rng = random.Random(seed)
    directory = _directory(rng)
    gcid_base = rng.randrange(1_000_000, 2_000_000)
    leg_base = rng.randrange(20_000_000, 30_000_000)
    seq_base = rng.randrange(100_000, 900_000)
    trunks = _bench_trunks()
    header = file_header(CDR_FIELDS).encode()
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    files_per_batch = max(1, _BATCH_ROWS // rows_per_file)
    for f0 in range(0, files, files_per_batch):
        nf = min(files_per_batch, files - f0)
        n = nf * rows_per_file
        row = pl.int_range(0, n, eager=True, dtype=pl.Int64)
        file_idx = f0 + row // rows_per_file
        within = row % rows_per_file
        minute_start = _BENCH_START + (file_idx // 2) * 60
        td = minute_start + (within * 60) // rows_per_file
        node = (file_idx % 2 + 1).alias("node")
        core = _synthetic_core(
            rng, directory, td, f0 * rows_per_file, gcid_base, leg_base, node=node
        )
        lines = csv_lines(cdr_frame(core, trunks, 133))
        for k in range(nf):
            idx = f0 + k
            name = cucm_file_name(
                "cdr", idx % 2 + 1, _BENCH_START + (idx // 2 + 1) * 60, seq_base + idx // 2
            )
            body = "\n".join(lines[k * rows_per_file : (k + 1) * rows_per_file])
            path = out_dir / name
            path.write_bytes(header + body.encode() + b"\n")
            paths.append(path)
    return paths


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
