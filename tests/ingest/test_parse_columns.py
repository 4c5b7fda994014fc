"""Only the columns accounting reads are typed; every line is still checked against the header.

The fast path asks Polars for the parsed columns only (`Layout.parsed`), which Polars reads
without counting the fields of the others: these tests pin what must not change with it.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from callacct.config import Settings
from callacct.ingest.cucm import CDR_ACCOUNTING, CucmCdr
from callacct.ingest.dialects import Layout
from callacct.ingest.parse import ParsedChunk, count_byte, count_lines, parse_chunk
from tests.conftest import DENIKOND

SAMPLE = DENIKOND / "cdr_StandAloneCluster_02_202112131407_515358"


def _sample() -> tuple[Layout, list[bytes]]:
    data = SAMPLE.read_bytes()
    layout = CucmCdr().layout(data[: 64 * 1024], Path(SAMPLE.name), Settings())
    records = [line for line in data.split(b"\n")[layout.header_lines :] if line]
    return layout, records


LAYOUT, RECORDS = _sample()
GOOD = RECORDS[0]


def _with(line: bytes, column: str, value: bytes) -> bytes:
    """`line` with the (unquoted) field of `column` set to `value`."""
    fields = line.split(b",")
    fields[LAYOUT.columns.index(column)] = value
    return b",".join(fields)


def _parse(*lines: bytes) -> ParsedChunk:
    return parse_chunk(b"\n".join(lines) + b"\n", LAYOUT)


def _reasons(parsed: ParsedChunk) -> dict[int, str]:
    return {r.line_index: r.reason for r in parsed.rejects}


def test_the_parsed_columns_are_those_accounting_reads_and_the_ends() -> None:
    columns = LAYOUT.columns
    assert LAYOUT.parsed[0] == columns[0]
    assert LAYOUT.parsed[-1] == columns[-1]
    assert set(LAYOUT.parsed) == CDR_ACCOUNTING & set(columns) | {columns[0], columns[-1]}
    assert len(LAYOUT.parsed) < len(columns)
    assert [c for c in columns if c in LAYOUT.parsed] == LAYOUT.parsed  # file order
    assert _parse(*RECORDS).frame.columns == ["_line", *LAYOUT.parsed]


def test_without_a_declaration_every_column_is_parsed() -> None:
    layout = Layout("x", 1, "a,b", {"a": LAYOUT.schema["pkid"], "b": LAYOUT.schema["duration"]})
    assert layout.parsed == ["a", "b"]
    assert layout.integer_columns() == [1]


def test_a_line_with_one_field_too_many_is_rejected_among_good_lines() -> None:
    parsed = _parse(*RECORDS[:5], GOOD + b',"extra"', *RECORDS[5:10])
    assert _reasons(parsed) == {5: "column_count"}
    assert parsed.frame.height == 10


@pytest.mark.parametrize("extra", [b",", b',""', b",,,"])
def test_empty_fields_too_many_are_rejected(extra: bytes) -> None:
    assert _reasons(_parse(*RECORDS[:3], GOOD + extra)) == {3: "column_count"}


def test_a_separator_inside_quotes_is_not_a_field() -> None:
    quoted = _with(GOOD, "callingPartyNumberPartition", b'"PT, with a comma"')
    parsed = _parse(*RECORDS[:3], quoted, *RECORDS[3:6])
    assert parsed.rejects == []
    assert parsed.frame.height == 7


def test_a_separator_inside_quotes_does_not_hide_a_line_too_long_or_too_short() -> None:
    quoted = _with(GOOD, "callingPartyNumberPartition", b'"PT, with a comma"')
    short = b",".join(GOOD.split(b",")[:-1])
    parsed = _parse(quoted, RECORDS[1], short, GOOD + b',"extra"', RECORDS[2])
    assert _reasons(parsed) == {2: "column_count", 3: "column_count"}
    assert parsed.frame.get_column("_line").to_list() == [0, 1, 4]


def test_a_column_accounting_does_not_read_may_hold_anything() -> None:
    """Not typed, whichever path reads the line: alone, or beside a bad line."""
    odd = _with(GOOD, "origNodeId", b"not-a-number")
    assert _parse(*RECORDS[:3], odd).rejects == []
    beside_bad = _parse(*RECORDS[:3], odd, _with(GOOD, "duration", b"1x"))
    assert _reasons(beside_bad) == {4: "not_integer"}
    assert beside_bad.frame.height == 4


def test_a_column_accounting_reads_is_still_typed() -> None:
    parsed = _parse(*RECORDS[:3], _with(GOOD, "duration", b"12x"))
    assert _reasons(parsed) == {3: "not_integer"}
    assert "duration" in parsed.rejects[0].message


@pytest.mark.parametrize("size", [0, 1, 1000, 64 * 1024 - 1, 64 * 1024, 300_000])
def test_bytes_are_counted_as_python_counts_them(size: int) -> None:
    rnd = random.Random(size)
    data = bytes(rnd.choice(b"ab,\n\x00\xff") for _ in range(size))
    for byte in (b",", b"\n", b"\x00", b"\xff", b";"):
        assert count_byte(data, byte) == data.count(byte)
    for start in {0, 1, size // 2, max(size - 1, 0)}:  # a file's body, after its header
        assert count_byte(data, b"\n", start) == data.count(b"\n", start)
    assert count_byte(data, b"a,") == data.count(b"a,")  # more than one byte: as Python does
    assert count_lines(data) == data.count(b"\n") + (0 if not data or data.endswith(b"\n") else 1)
