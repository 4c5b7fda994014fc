"""The benchmark data generator (benchmarks/generate_cucm.py): CUCM layout, mix, determinism."""

from __future__ import annotations

import csv
import datetime as dt
import re
import sys
from collections import Counter
from pathlib import Path

import pytest

from callacct.ingest.cucm_fields import CDR_FIELDS

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

from generate_cucm import write_large_cdr_file, write_many_small_files

NAME_RE = re.compile(r"^cdr_StandAloneCluster_0[12]_\d{12}_\d+$")
INT_RE = re.compile(r"^-?\d+$")
CDR_NAMES = [n for n, _ in CDR_FIELDS]
CDR_TYPES = [t for _, t in CDR_FIELDS]
CDR_IX = {n: i for i, n in enumerate(CDR_NAMES)}


def _lines(path: Path) -> list[bytes]:
    data = path.read_bytes()
    assert data.endswith(b"\n")
    assert b"\r" not in data
    return data[:-1].split(b"\n")


def _close_epoch(name: str) -> int:
    stamp = name.split("_")[-2]
    return int(dt.datetime.strptime(stamp, "%Y%m%d%H%M").replace(tzinfo=dt.UTC).timestamp())


@pytest.mark.parametrize("columns", [133, 129])
def test_large_file(tmp_path: Path, columns: int) -> None:
    path = tmp_path / "big.cdr"
    write_large_cdr_file(path, 2500, seed=3, columns=columns)
    lines = _lines(path)
    assert lines[0] == ",".join(f'"{n}"' for n in CDR_NAMES[:columns]).encode()
    assert lines[1] == ",".join(CDR_TYPES[:columns]).encode()
    assert len(lines) == 2502
    rows = list(csv.reader(line.decode() for line in lines[2:]))
    assert {len(r) for r in rows} == {columns}
    assert len({r[CDR_IX["pkid"]] for r in rows}) == 2500
    for line in lines[2:50]:
        for token, typ in zip(line.decode().split(","), CDR_TYPES[:columns], strict=True):
            assert INT_RE.match(token) if typ == "INTEGER" else token.startswith('"')
    kinds = Counter(
        "out" if r[CDR_IX["OutgoingProtocolID"]] == "1"
        else "in" if r[CDR_IX["IncomingProtocolID"]] == "1"
        else "int"
        for r in rows
    )  # fmt: skip
    assert min(kinds.values()) > 300
    answered = sum(r[CDR_IX["dateTimeConnect"]] != "0" for r in rows)
    assert 0.5 < answered / 2500 < 0.85
    again = tmp_path / "again.cdr"
    write_large_cdr_file(again, 2500, seed=3, columns=columns)
    assert again.read_bytes() == path.read_bytes()


def test_many_small_files(tmp_path: Path) -> None:
    paths = write_many_small_files(tmp_path, 7, 4, seed=2)
    assert len(paths) == len({p.name for p in paths}) == 7
    for path in paths:
        assert NAME_RE.match(path.name)
        lines = _lines(path)
        assert len(lines) == 6
        close = _close_epoch(path.name)
        for row in csv.reader(line.decode() for line in lines[2:]):
            assert len(row) == 133
            assert close - 60 <= int(row[CDR_IX["dateTimeDisconnect"]]) < close
            assert row[CDR_IX["globalCallID_callManagerId"]] == str(int(path.name.split("_")[2]))
