"""Parse CDR text into typed columns, setting aside every line that is not a valid record.

The fast path hands a whole chunk of lines to Polars' CSV reader with the layout's schema, which
types only the columns accounting reads (`Layout.parsed`; the others may hold anything). It is
trusted only when its result provably matches the lines: one row per line, no short line padded
with nulls, and no line with more fields than the header. Anything else (a bad integer, broken
quoting, undecodable bytes, a wrong number of fields) sends the chunk through `validate_lines`,
which checks each line with Python's `csv` module and names the exact problem, then the good
lines go back through Polars.

The text of a line is looked up in the chunk only when it is needed (a reject, a blank-line
check): the raw archive keeps whole files, not lines (store/archive.py).

A line longer than `ingest.max_line_bytes` is never parsed: it is rejected as `line_too_long`
with its first `KEPT_BYTES` kept, so one malformed line (or a quote that never closes) costs
neither a whole file nor the memory of the machine.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache

import polars as pl
import pyarrow as pa

from callacct.ingest.dialects import Layout

_INT = re.compile(rb"-?\d{1,18}")
CAREFUL_LINES = 256  # below this, a failing piece is checked line by line
_RAW_SEPARATOR = "\x1f"
_COLUMN_COUNT_FROM = 64 * 1024  # bytes
LINE_TOO_LONG = "line_too_long"
_UNDECODED = re.compile(
    "[\udc80-\udcff]"
)  # bytes that are not UTF-8, as surrogateescape reads them
KEPT_BYTES = 4096  # of a line too long, what is kept with its reject
# The largest ingest.max_line_bytes allowed. Python's csv module refuses fields over 128 KiB by
# default, which would reject a long but valid line as badly quoted: lines are bounded by the
# setting instead, so the csv limit only has to be above it.
MAX_LINE_BYTES = 64 * 1024 * 1024
csv.field_size_limit(max(csv.field_size_limit(), MAX_LINE_BYTES))


@dataclass(frozen=True)
class Reject:
    """A line that is not a valid record."""

    line_index: int  # 0-based index of the line within the chunk
    reason: str
    message: str
    raw: str


@dataclass(frozen=True)
class ParsedChunk:
    """The records of one chunk.

    `frame` has one row per non-blank valid line with the layout's parsed columns
    (`Layout.parsed`) plus `_line`, the 0-based index of the line in the chunk (`text`).
    """

    frame: pl.DataFrame
    text: bytes
    rejects: list[Reject]
    lines: int  # lines in the chunk, blank ones included
    blank: int
    # Lines kept although some of their columns (named) held bytes that are not UTF-8: columns
    # accounting does not read, where those bytes were replaced by U+FFFD.
    replaced: list[tuple[int, tuple[str, ...]]] = field(default_factory=list)

    def raw_lines(self, indexes: Sequence[int]) -> list[str]:
        """The text of the lines at `indexes` (0-based), as stored with a reject."""
        return _raw_lines(self.text, indexes)


def count_lines(chunk: bytes) -> int:
    """Lines in `chunk`, counting a last line without a newline."""
    if not chunk:
        return 0
    return count_byte(chunk, b"\n") + (0 if chunk.endswith(b"\n") else 1)


def count_byte(data: bytes, byte: bytes, start: int = 0) -> int:
    """How many times `byte` (one byte) occurs in `data` from `start`, as `data.count`.

    The reading thread counts every byte it reads (lines, separators). Polars compares the
    bytes (seen as an Arrow array, not copied) without holding the interpreter's lock, which
    `bytes.count` holds throughout, so the other threads' Python code goes on meanwhile; it
    takes a sixth of the CPU of Arrow's own compare and sum. Small pieces are counted in
    Python.

    >>> count_byte(b"a,b,c", b","), count_byte(b"x" * 100_000 + b",", b","), count_byte(b",a,", b",", 1)
    (2, 1, 1)
    """  # noqa: E501
    size = len(data) - start
    if size < _COLUMN_COUNT_FROM or len(byte) != 1:
        return data.count(byte, start)
    values = pa.Array.from_buffers(pa.uint8(), size, [None, pa.py_buffer(data)], offset=start)
    return int(pl.Series(values).eq(byte[0]).sum())


def parse_chunk(
    chunk: bytes, layout: Layout, lines: int | None = None, *, max_line: int | None = None
) -> ParsedChunk:
    """Parse the data lines in `chunk` (no header lines) according to `layout`.

    `lines` is `count_lines(chunk)` when the caller already knows it (counting the lines of
    a large chunk costs as much as hashing it). Lines longer than `max_line` bytes are
    rejected, only their start kept (see `cut_long_lines`).
    """
    if lines is None:
        lines = count_lines(chunk)
    if max_line is not None and len(chunk) > max_line:
        chunk, too_long = cut_long_lines(chunk, max_line)
        if too_long:
            parsed = parse_chunk(chunk, layout, lines)
            return ParsedChunk(
                parsed.frame,
                parsed.text,
                parsed.rejects + too_long,
                parsed.lines,
                parsed.blank - len(too_long),
                parsed.replaced,
            )
    if lines == 0:
        return ParsedChunk(_empty(layout), chunk, [], 0, 0)
    fast = _fast_parse(chunk, layout, lines)
    if fast is not None:
        return fast
    middle = chunk.find(b"\n", len(chunk) // 2) + 1
    if lines <= CAREFUL_LINES or not 0 < middle < len(chunk):
        return _careful_parse(chunk, layout, lines)
    # A few bad lines should not send a whole batch down the slow path: halve until the pieces
    # that still fail are small. With one bad line this parses about twice the chunk.
    return _join(parse_chunk(chunk[:middle], layout), parse_chunk(chunk[middle:], layout))


def cut_long_lines(chunk: bytes, max_line: int) -> tuple[bytes, list[Reject]]:
    """`chunk` with every line longer than `max_line` bytes emptied, and their rejects.

    Looks at one window of `max_line` bytes per step from a line start (`rfind` of the last
    newline in it), so a chunk without long lines costs about `len(chunk) / max_line` steps.
    """
    long_lines: list[tuple[int, int]] = []  # (start, end) without the newline
    start, size = 0, len(chunk)
    while size - start > max_line:
        newline = chunk.rfind(b"\n", start, start + max_line + 1)
        if newline >= 0:
            start = newline + 1
            continue
        end = chunk.find(b"\n", start + max_line)
        end = size if end < 0 else end
        long_lines.append((start, end))
        start = end + 1
    if not long_lines:
        return chunk, []
    pieces: list[bytes] = []
    rejects: list[Reject] = []
    done = index = 0
    for start, end in long_lines:
        index += chunk.count(b"\n", done, start)
        kept = chunk[start : min(end, start + KEPT_BYTES)].rstrip(b"\r")
        rejects.append(
            Reject(
                index,
                LINE_TOO_LONG,
                f"line longer than ingest.max_line_bytes ({max_line:,} bytes); only its first "
                f"{len(kept):,} bytes are kept here (the raw archive has it whole)",
                kept.decode("utf-8", errors="replace"),
            )
        )
        pieces.append(chunk[done:start])
        done = end
    # A last line without a newline stays a line of its own, now empty.
    pieces.append(chunk[done:] if done < size else b"\n")
    return b"".join(pieces), rejects


def _join(left: ParsedChunk, right: ParsedChunk) -> ParsedChunk:
    shift = left.lines
    frame = pl.concat(
        [left.frame, right.frame.with_columns((pl.col("_line") + shift).cast(pl.UInt32))]
    )
    rejects = left.rejects + [
        Reject(r.line_index + shift, r.reason, r.message, r.raw) for r in right.rejects
    ]
    replaced = left.replaced + [(i + shift, columns) for i, columns in right.replaced]
    return ParsedChunk(
        frame,
        left.text + right.text,
        rejects,
        left.lines + right.lines,
        left.blank + right.blank,
        replaced,
    )


def _read(chunk: bytes, layout: Layout, *, every_column: bool = False) -> pl.DataFrame:
    """`chunk` read by Polars: the parsed columns (`Layout.parsed`), or `every_column` of the
    header, which also refuses a line with more fields than the header. Only the parsed columns
    are returned."""
    parsed = layout.parsed
    wanted = None if every_column or not layout.skips_columns else set(parsed)
    frame = pl.read_csv(
        io.BytesIO(chunk),
        has_header=False,
        schema=layout.schema,
        columns=None
        if wanted is None
        else [i for i, c in enumerate(layout.columns) if c in wanted],
        separator=layout.separator,
        quote_char=layout.quote_char,
        encoding="utf8",
        raise_if_empty=False,
    )
    return frame if len(parsed) == frame.width else frame.select(parsed)


def _fast_parse(
    chunk: bytes, layout: Layout, lines: int, *, every_column: bool = False
) -> ParsedChunk | None:
    if _RAW_SEPARATOR.encode() in chunk:
        return None  # the careful path rejects such lines (normalise joins fields with it)
    try:
        frame = _read(chunk, layout, every_column=every_column)
    except (pl.exceptions.PolarsError, ValueError):
        return None
    if frame.height != lines:
        return None  # a quoted newline, say: let the careful path decide
    frame = frame.with_row_index("_line")
    # Polars reads a blank line as a row of nulls, and a short line with its last columns null.
    # Rows whose last column is null are looked at in the text (rarely any): blank lines are
    # dropped; any other one, where the last column must be quoted, is a short line.
    last = frame.get_column(layout.columns[-1])
    blank: list[int] = []
    if last.null_count():
        suspect = last.is_null()
        if not layout.last_column_quoted:
            suspect &= frame.get_column(layout.columns[0]).is_null()
        suspects = frame.filter(suspect).get_column("_line").to_list()
        texts = _raw_lines(chunk, suspects)
        blank = [i for i, text in zip(suspects, texts, strict=True) if not text.strip()]
        if layout.last_column_quoted and len(blank) < len(suspects):
            return None  # a line too short: its last (quoted) column is missing
    if not every_column and layout.skips_columns:
        # Polars does not count the fields of columns it skips: a line with more fields than
        # the header would pass. As many separators as the header asks of every line proves
        # there is none (short lines are caught above); otherwise (a separator inside quotes,
        # say) every column is read.
        separators = (len(layout.schema) - 1) * (lines - len(blank))
        if count_byte(chunk, layout.separator.encode()) != separators:
            return _fast_parse(chunk, layout, lines, every_column=True)
    if blank:
        frame = frame.filter(~pl.col("_line").is_in(blank))
    return ParsedChunk(frame, chunk, [], lines, len(blank))


def _raw_lines(text: bytes, indexes: Sequence[int]) -> list[str]:
    if not indexes:
        return []
    lines = text.split(b"\n")
    return [lines[i].decode("utf-8", errors="replace").rstrip("\r") for i in indexes]


def _careful_parse(chunk: bytes, layout: Layout, lines: int) -> ParsedChunk:
    good, good_index, rejects, blank, replaced = validate_lines(chunk.split(b"\n")[:lines], layout)
    if good:
        body = b"\n".join(good) + b"\n"
        frame = _read(body, layout)
    else:
        frame = _empty(layout).drop("_line")
    frame = frame.with_columns(pl.Series("_line", good_index, pl.UInt32)).select(
        "_line", *layout.parsed
    )
    return ParsedChunk(frame, chunk, rejects, lines, blank, replaced)


def validate_lines(
    line_bytes: Sequence[bytes], layout: Layout
) -> tuple[list[bytes], list[int], list[Reject], int, list[tuple[int, tuple[str, ...]]]]:
    """Split lines into good ones (with their indexes) and rejects with a precise reason.

    Bytes that are not UTF-8 reject a line when they are in a column accounting reads
    (`layout.accounting`); elsewhere they are replaced by U+FFFD and the line is good: the
    last list names those lines and columns. Only the parsed columns must hold integers where
    the header says so (`Layout.integer_columns`).
    """
    expected = len(layout.schema)
    int_columns = layout.integer_columns()
    names = layout.columns
    good: list[bytes] = []
    good_index: list[int] = []
    rejects: list[Reject] = []
    replaced: list[tuple[int, tuple[str, ...]]] = []
    blank = 0
    for index, line in enumerate(line_bytes):
        stripped = line.rstrip(b"\r")
        if not stripped.strip():
            blank += 1
            continue
        try:
            text = stripped.decode("utf-8")
            undecodable = False
        except UnicodeDecodeError:
            # Each undecodable byte becomes one lone surrogate, so the fields still split.
            text = stripped.decode("utf-8", errors="surrogateescape")
            undecodable = True
        shown = stripped.decode("utf-8", errors="replace") if undecodable else text
        problem, fields = _line_problem(stripped, text, layout, expected, int_columns, names)
        if problem is not None:
            rejects.append(Reject(index, problem[0], problem[1], shown))
            continue
        if undecodable:
            columns = tuple(n for n, v in zip(names, fields, strict=True) if _UNDECODED.search(v))
            used = [c for c in columns if layout.accounting is None or c in layout.accounting]
            if used:
                rejects.append(
                    Reject(
                        index,
                        "encoding",
                        f"bytes that are not UTF-8 in column '{used[0]}', which accounting "
                        "reads; re-export the file as UTF-8",
                        shown,
                    )
                )
                continue
            stripped = shown.encode()
            replaced.append((index, columns))
        good.append(stripped)
        good_index.append(index)
    return good, good_index, rejects, blank, replaced


def _line_problem(
    raw: bytes,
    text: str,
    layout: Layout,
    expected: int,
    int_columns: list[int],
    names: list[str],
) -> tuple[tuple[str, str] | None, list[str]]:
    """The first problem of a line (reason, message) if any, and its fields."""
    if _RAW_SEPARATOR in text:
        return ("bad_character", "contains a control character (0x1F)"), []
    quote = layout.quote_char
    if quote is not None and not _well_quoted(layout.separator, quote).fullmatch(text):
        return (
            "quoting",
            "broken quoting: a quoted value is not closed or has text after it",
        ), []
    try:
        fields = next(
            csv.reader(
                [text],
                delimiter=layout.separator,
                quotechar=quote or '"',
                quoting=csv.QUOTE_MINIMAL if quote else csv.QUOTE_NONE,
                strict=True,
            )
        )
    except csv.Error as exc:
        return ("quoting", f"broken quoting ({exc})"), []
    if len(fields) != expected:
        return ("column_count", f"{len(fields)} fields where the header has {expected}"), fields
    for i in int_columns:
        value = fields[i]
        if value and not _INT.fullmatch(value.encode("utf-8", errors="surrogateescape")):
            shown = _UNDECODED.sub("\ufffd", value if len(value) <= 30 else value[:27] + "...")
            return (
                "not_integer",
                f"column '{names[i]}' should be an integer, not {shown!r}",
            ), fields
    if layout.last_column_quoted and quote is not None and not raw.endswith(quote.encode()):
        return ("quoting", f"column '{names[-1]}' should be quoted"), fields
    return None, fields


@cache
def _well_quoted(separator: str, quote: str) -> re.Pattern[str]:
    """Fields that are either quoted whole (quotes inside doubled) or contain no quote."""
    sep, q = re.escape(separator), re.escape(quote)
    field = f"(?:{q}(?:[^{q}]|{q}{q})*{q}|[^{q}{sep}]*)"
    return re.compile(f"{field}(?:{sep}{field})*", re.DOTALL)


def _empty(layout: Layout) -> pl.DataFrame:
    return pl.DataFrame(schema={"_line": pl.UInt32, **{c: layout.schema[c] for c in layout.parsed}})
