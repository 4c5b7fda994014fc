"""Calls and call-quality rows on their way to the store, and their linking.

Calls are wide rows, appended far faster in a few large frames than in many small ones: they
are staged (held in memory) and appended by a second DuckDB connection in a background thread,
in whole DuckDB row groups (`ROW_GROUP_ROWS`) as soon as one is staged and the rest at the end
of a batch. DuckDB rewrites a partly filled row group at its next checkpoint, and appends one
whole group as cheaply per row as several. One write at most is in flight; the writer commits
on its own, which is safe because a file stays `loading` in the ledger until all of its rows,
calls included, are in. Once calls are written, call-quality (CMR) metrics are linked to them
over the time window of the records written (`link_quality`).

A run may give its own `CallWriter` for the calls (`callacct.api.chain` attributes and rates
them there, so a first load never updates the calls it has just appended); quality rows are
always appended as they are.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

import duckdb
import polars as pl

from callacct.store import Store

# DuckDB stores tables in row groups of this many rows.
ROW_GROUP_ROWS = 122_880
STAGED_TABLES = ("calls", "call_quality")
Window = tuple[dt.datetime, dt.datetime]  # a span of record times (UTC)
# Appends a frame of new calls (the `calls` table's columns as the dialect normalised them)
# with the writer's connection, in one statement: all of the frame or none of it.
CallWriter = Callable[[duckdb.DuckDBPyConnection, pl.DataFrame], None]


class CallStaging:
    """The staged calls and quality rows of a run, and the thread that appends them."""

    def __init__(self, store: Store, write_calls: CallWriter | None = None) -> None:
        self.store = store
        self._write_calls = write_calls
        self._staged: dict[str, list[pl.DataFrame]] = {}
        self.window: Window | None = None  # of the records staged, not yet handed over
        self._linkable: Window | None = None  # of calls written, not yet linked to quality
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="calls")
        self._inflight: tuple[Future[None], Window | None] | None = None
        self._cursor: duckdb.DuckDBPyConnection | None = None

    def stage(self, table: str, frame: pl.DataFrame) -> None:
        """Hold rows of `table` (calls or call_quality) until they are handed over."""
        self._staged.setdefault(table, []).append(frame)

    def widen(self, keys: pl.DataFrame) -> None:
        """Widen the window of staged records to those of `keys` (their `record_time`)."""
        lo, hi = keys.select(
            pl.col("record_time").min().alias("lo"), pl.col("record_time").max().alias("hi")
        ).row(0)
        if lo is not None:
            self.window = union(self.window, (lo, hi))

    def row_group_full(self) -> bool:
        """Whether a whole row group of some table is staged."""
        staged = (sum(f.height for f in frames) for frames in self._staged.values())
        return max(staged, default=0) >= ROW_GROUP_ROWS

    def hand_over(self) -> None:
        """Give the writer the whole row groups staged, without committing. The window of the
        write it waits for is linked at the next commit."""
        self._linkable = union(self._linkable, self.wait())
        frames = self._frames(everything=False)
        if frames:
            self._inflight = (self._executor.submit(self._write_tables, frames), self.window)

    def take_written(self) -> Window | None:
        """Wait for the write in flight; the window of calls written and not linked yet."""
        written = union(self._linkable, self.wait())
        self._linkable = None
        return written

    def flush(self, *, end_of_batch: bool) -> Window | None:
        """At a commit: hand over whole row groups, or everything at the end of a batch.

        Returns the window to link now when nothing is handed over (the records of that window
        have no calls waiting); rows held back keep the window open.
        """
        frames = self._frames(everything=end_of_batch)
        written = None
        if frames:
            self._inflight = (self._executor.submit(self._write_tables, frames), self.window)
        elif self.window is not None:
            written = self.window
        self.window = self.window if self._staged else None
        return written

    def drop(self) -> None:
        """Forget what is staged (a dry run, or a failed batch)."""
        self._staged, self.window = {}, None

    def _frames(self, *, everything: bool) -> list[tuple[str, pl.DataFrame]]:
        """The staged rows to write now: whole row groups, or `everything` at a batch's end.
        The rest stays staged."""
        staged, self._staged = self._staged, {}
        frames: list[tuple[str, pl.DataFrame]] = []
        for table in STAGED_TABLES:
            if not staged.get(table):
                continue
            frame = pl.concat(staged[table], how="vertical_relaxed")
            rest = 0 if everything else frame.height % ROW_GROUP_ROWS
            if rest:
                self._staged[table] = [frame.tail(rest)]
                frame = frame.head(frame.height - rest)
            if frame.height:
                frames.append((table, frame))
        return frames

    def wait(self, *, raise_errors: bool = True) -> Window | None:
        """Wait for the write in flight; return its time window (to link quality)."""
        if self._inflight is None:
            return None
        future, window = self._inflight
        self._inflight = None
        error = future.exception()
        if error is not None:
            if raise_errors:
                raise error
            return None
        return window

    def _write_tables(self, frames: list[tuple[str, pl.DataFrame]]) -> None:
        if self._cursor is None:
            self._cursor = self.store.con.cursor()
        for table, frame in frames:
            if table == "calls" and self._write_calls is not None:
                self._write_calls(self._cursor, frame)
            else:
                insert_into(self._cursor, table, frame)

    def release(self) -> None:
        """Close the writer's connection (nothing in flight): the store's connection may then
        be closed and opened again; the next write opens a new one."""
        cursor, self._cursor = self._cursor, None
        if cursor is not None:
            # A store a failure invalidated may refuse even this; the failure is reported.
            with contextlib.suppress(duckdb.Error):
                cursor.close()

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        self.release()


def link_quality(con: duckdb.DuckDBPyConnection, window: Window) -> None:
    """Join CMR metrics to their calls: same global call id, leg id of either side."""
    lo, hi = window
    con.execute(
        """
        UPDATE calls SET mos = q.mos, jitter_ms = q.jitter_ms, latency_ms = q.latency_ms,
                         loss_pct = q.loss_pct
        FROM (
            SELECT c.call_id, min(q.mos) AS mos, max(q.jitter_ms) AS jitter_ms,
                   max(q.latency_ms) AS latency_ms, max(q.loss_pct) AS loss_pct
            FROM calls c JOIN call_quality q
              ON q.global_call_id = c.global_call_id
             AND (q.leg_id = c.orig_leg_id OR q.leg_id = c.dest_leg_id)
            WHERE c.started_at BETWEEN ?::TIMESTAMP - INTERVAL 1 DAY
                                   AND ?::TIMESTAMP + INTERVAL 1 DAY
              AND q.recorded_at BETWEEN ?::TIMESTAMP - INTERVAL 1 DAY
                                    AND ?::TIMESTAMP + INTERVAL 1 DAY
            GROUP BY c.call_id
        ) q
        WHERE calls.call_id = q.call_id
        """,
        [lo, hi, lo, hi],
    )


def insert_into(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> None:
    """Append `frame` to `table` (a table name of this package, never user input)."""
    # Polars' own string layout (Arrow string views), which DuckDB reads as it is: the
    # default conversion to plain Arrow strings copies every text column first.
    con.register("_batch", frame.to_arrow(compat_level=pl.CompatLevel.newest()))
    try:
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _batch")  # noqa: S608
    finally:
        con.unregister("_batch")


def union(a: Window | None, b: Window | None) -> Window | None:
    """The window covering `a` and `b`."""
    if a is None or b is None:
        return a or b
    return min(a[0], b[0]), max(a[1], b[1])
