"""One parsed piece of a batch, stored.

Every line of the piece is counted for its file (a piece may join many small files); parse
problems and impossible values (`Dialect.checks`) are stored as rejects with their file and
line; duplicates are dropped on (record key, record time), within the piece with
`is_first_distinct` and against the store with a semi-join restricted to the piece's time
window (zone maps keep it cheap); the new records are inserted at once (dedupe must see them),
and their calls and quality rows, normalised by the dialect, are staged (`staging.py`). Every
step works on columns.

A large file is committed in whole DuckDB row groups of records (`commit_due`): the piece that
fills a commit's last row group leaves the rest of its records to the next transaction, which
inserts them before anything else (`begin`). A commit that ended on a partly filled row group
would leave DuckDB to merge it with the next one at its next checkpoint, which the command
waits for at its end.
"""

from __future__ import annotations

from collections.abc import Callable

import duckdb
import polars as pl

from callacct.config import Settings
from callacct.ingest import staging as staging_module
from callacct.ingest.dialects import Dialect
from callacct.ingest.parse import ParsedChunk
from callacct.ingest.plan import LoadFile
from callacct.ingest.report import IngestReport
from callacct.ingest.staging import CallStaging
from callacct.store import fetch_frame, insert_frame, registered

# A file's part of a piece: the file, the index of its first line in the piece, and the line
# number of that line in the file.
Segment = tuple[LoadFile, int, int]
Locate = Callable[[pl.Series], pl.DataFrame]


class ChunkLoader:
    """Stores the pieces of a run; counts into the files' results and the run's report.

    Call ids come from a counter held by the single writing process (no sequence, no index:
    both cost more than the insert itself). A dry run counts everything and stages nothing
    (its transaction is rolled back).
    """

    def __init__(
        self,
        settings: Settings,
        report: IngestReport,
        staging: CallStaging,
        *,
        next_call_id: int,
        dry_run: bool,
    ) -> None:
        self.settings = settings
        self.report = report
        self.staging = staging
        self.next_call_id = next_call_id
        self.dry_run = dry_run
        self.rows_since_commit = 0  # records inserted in the open transaction
        rows, group = settings.ingest.commit_rows, staging_module.ROW_GROUP_ROWS
        # Records a commit holds: whole row groups, unless told to commit fewer.
        self.commit_rows = rows - rows % group if rows >= group else rows
        self._carried: pl.DataFrame | None = None  # records for the next transaction

    def commit_due(self) -> bool:
        """Whether the open transaction holds the records of a commit."""
        return self.rows_since_commit >= self.commit_rows

    def begin(self, con: duckdb.DuckDBPyConnection) -> None:
        """Start a transaction's records with those the last commit left for it."""
        carried, self._carried = self._carried, None
        if carried is not None:
            self._insert(con, "records", carried)
            self.rows_since_commit += carried.height

    def forget(self) -> None:
        """After a failure, or a dry run: nothing waits for the next transaction."""
        self.rows_since_commit = 0
        self._carried = None

    def load(
        self,
        con: duckdb.DuckDBPyConnection,
        dialect: Dialect,
        parsed: ParsedChunk,
        segments: list[Segment],
    ) -> None:
        """Count, check, deduplicate and store the piece `parsed`, made of `segments`."""
        starts = pl.Series("start", [s[1] for s in segments], pl.Int64)
        firsts = pl.Series("first", [s[2] for s in segments], pl.Int64)
        file_ids = pl.Series("file_id", [s[0].result.file_id for s in segments], pl.Int64)

        def locate(line_index: pl.Series) -> pl.DataFrame:
            seg = (starts.search_sorted(line_index.cast(pl.Int64), side="right") - 1).alias("seg")
            return pl.DataFrame(
                {
                    "seg": seg,
                    "file_id": file_ids.gather(seg),
                    "line_no": line_index.cast(pl.Int64) - starts.gather(seg) + firsts.gather(seg),
                }
            )

        self._count_read(parsed, segments, locate)
        if parsed.replaced:
            self._count_replaced(parsed, segments, locate)
        rejects = self._rejects(con, dialect, parsed, segments, locate)
        valid_mask = rejects.get_column("_ok")
        frame = parsed.frame.filter(valid_mask)
        where = locate(frame.get_column("_line"))
        keys = dialect.keys(frame, self.settings).with_columns(where)
        new_mask = _new_records(con, keys)
        _count(segments, keys.filter(~new_mask).get_column("seg"), "duplicates")
        _count(segments, keys.filter(new_mask).get_column("seg"), "stored")
        if not bool(new_mask.any()):
            return
        self._store(con, dialect, frame.filter(new_mask), keys.filter(new_mask))

    def _insert(self, con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> None:
        insert_frame(con, table, frame)

    def _count_read(self, parsed: ParsedChunk, segments: list[Segment], locate: Locate) -> None:
        lines = pl.concat(
            [
                parsed.frame.get_column("_line").cast(pl.Int64),
                pl.Series([r.line_index for r in parsed.rejects], dtype=pl.Int64),
            ]
        )
        _count(segments, locate(lines).get_column("seg"), "rows_read")

    def _count_replaced(self, parsed: ParsedChunk, segments: list[Segment], locate: Locate) -> None:
        lines = pl.Series([index for index, _ in parsed.replaced], dtype=pl.Int64)
        seg = locate(lines).get_column("seg")
        _count(segments, seg, "replaced")
        for index, (_, columns) in zip(seg.to_list(), parsed.replaced, strict=True):
            result = segments[index][0].result
            result.replaced_columns += [c for c in columns if c not in result.replaced_columns]

    def _rejects(
        self,
        con: duckdb.DuckDBPyConnection,
        dialect: Dialect,
        parsed: ParsedChunk,
        segments: list[Segment],
        locate: Locate,
    ) -> pl.DataFrame:
        """Mark rows with impossible values and store every reject of the piece."""
        frame = parsed.frame
        reason: pl.Expr = pl.lit(None, pl.String)
        message: pl.Expr = pl.lit(None, pl.String)
        for condition, code, text in reversed(dialect.checks(frame, self.settings)):
            reason = pl.when(condition.fill_null(False)).then(pl.lit(code)).otherwise(reason)
            message = pl.when(condition.fill_null(False)).then(pl.lit(text)).otherwise(message)
        checked = frame.select(pl.col("_line"), reason.alias("reason"), message.alias("message"))
        checked = checked.with_columns(pl.col("reason").is_null().alias("_ok"))
        bad = checked.filter(~pl.col("_ok")).drop("_ok")
        bad = bad.with_columns(
            pl.Series("raw", parsed.raw_lines(bad.get_column("_line").to_list()), pl.String)
        )
        early = pl.DataFrame(
            {
                "_line": [r.line_index for r in parsed.rejects],
                "reason": [r.reason for r in parsed.rejects],
                "message": [r.message for r in parsed.rejects],
                "raw": [r.raw for r in parsed.rejects],
            },
            schema={
                "_line": pl.UInt32,
                "reason": pl.String,
                "message": pl.String,
                "raw": pl.String,
            },
        )
        all_bad = pl.concat([early, bad.with_columns(pl.col("_line").cast(pl.UInt32))])
        if all_bad.height:
            where = locate(all_bad.get_column("_line"))
            rows = all_bad.with_columns(where).select(
                "seg", "file_id", "line_no", "reason", "message", "raw"
            )
            _count(segments, rows.get_column("seg"), "rejected")
            self._insert(con, "rejects", rows.drop("seg"))
        return checked

    def _store(
        self,
        con: duckdb.DuckDBPyConnection,
        dialect: Dialect,
        frame: pl.DataFrame,
        keys: pl.DataFrame,
    ) -> None:
        """Insert the new records; stage their calls and quality rows."""
        normalised = dialect.normalise(frame.drop("_line"), self.settings)
        where = keys.select("file_id", "line_no")
        kind = pl.lit(dialect.kind)
        if normalised.calls is not None:
            is_call = pl.repeat(False, keys.height, dtype=pl.Boolean, eager=True).scatter(
                normalised.calls.get_column("_row").cast(pl.Int64), True
            )
            kind = pl.when(is_call).then(pl.lit("call")).otherwise(pl.lit("excluded"))
        records = keys.select("file_id", "line_no", "record_key", "record_time").with_columns(
            kind.alias("kind")
        )
        room = self.commit_rows - self.rows_since_commit
        if not self.dry_run and 0 < room < records.height:
            # Deduplication has seen them all: the rest goes in first thing next transaction.
            self._carried = records.slice(room)
            records = records.head(room)
        self._insert(con, "records", records)
        self.rows_since_commit += records.height
        if normalised.calls is not None and normalised.calls.height:
            # The record key stays in `records`: (file_id, line_no) leads there.
            calls = _attach(
                normalised.calls.drop("record_key", strict=False), where
            ).with_row_index("call_id", offset=self.next_call_id)
            self._stage("calls", calls.with_columns(pl.col("call_id").cast(pl.Int64)))
            self.next_call_id += calls.height
            self.report.calls += calls.height
        if normalised.quality is not None and normalised.quality.height:
            quality = _attach(normalised.quality, where)
            self._stage("call_quality", quality)
            self.report.quality_records += quality.height
        self.staging.widen(keys)

    def _stage(self, table: str, frame: pl.DataFrame) -> None:
        if not self.dry_run:  # a dry run rolls back: nothing to write
            self.staging.stage(table, frame)


def _new_records(con: duckdb.DuckDBPyConnection, keys: pl.DataFrame) -> pl.Series:
    """True for records neither seen earlier in this piece nor already stored."""
    first = keys.select(pl.struct("record_key", "record_time").is_first_distinct()).to_series()
    if keys.height == 0:
        return first
    lo, hi = keys.select(
        pl.col("record_time").min().alias("lo"), pl.col("record_time").max().alias("hi")
    ).row(0)
    candidates = keys.select("record_key", "record_time").with_row_index("_i")
    with registered(con, "_candidate_keys", candidates):
        stored = fetch_frame(
            con,
            "SELECT c._i FROM _candidate_keys c SEMI JOIN ("
            "  SELECT record_key, record_time FROM records"
            "  WHERE record_time BETWEEN ? AND ?) r"
            " ON r.record_key = c.record_key AND r.record_time = c.record_time",
            [lo, hi],
        )
    already = pl.repeat(False, keys.height, dtype=pl.Boolean, eager=True).alias("already")
    if stored.height:
        already = already.scatter(stored.get_column("_i").cast(pl.Int64), True)
    return first & ~already


def _count(segments: list[Segment], seg: pl.Series, attr: str) -> None:
    """Add to each file's `attr` the number of `seg` entries naming its segment."""
    if seg.len() == 0:
        return
    counts = seg.value_counts()
    for index, count in counts.iter_rows():
        result = segments[index][0].result
        setattr(result, attr, getattr(result, attr) + int(count))


def _attach(frame: pl.DataFrame, where: pl.DataFrame) -> pl.DataFrame:
    """`frame` with the file id and line number of its source record (by `_row`)."""
    rows = frame.get_column("_row").cast(pl.Int64)
    return frame.drop("_row").with_columns(
        where.get_column("file_id").gather(rows),
        where.get_column("line_no").gather(rows),
    )
