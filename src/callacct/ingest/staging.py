"""Calls and call-quality rows on their way to the store, and their linking.

Calls are wide rows, appended far faster in a few large frames than in many small ones: they
are staged (held in memory) and appended by a second DuckDB connection in a background thread,
in whole DuckDB row groups (`ROW_GROUP_ROWS`) as soon as one is staged and the rest at the end
of a batch. DuckDB rewrites a partly filled row group at its next checkpoint, and appends one
whole group as cheaply per row as several. One write at most is in flight (two with a
`CallWriter`, below); the writer commits on its own, which is safe because a file stays
`loading` in the ledger until all of its rows, calls included, are in. Once calls are written,
call-quality (CMR) metrics are linked to them over the time window of the records written
(`link_quality`).

A run may give its own `CallWriter` for the calls (`callacct.api.chain` attributes and rates
them there, so a first load never updates the calls it has just appended); quality rows are
always appended as they are. A `CallWriter` prepares the calls in a thread of its own (the
rating thread, with a third connection) and hands back the append that the writer's thread
runs: reading the next calls, preparing these and appending the previous ones overlap. Two
writes are then in flight at most (one being prepared, one being appended), in order; once a
write fails, the writes after it append nothing.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Protocol

import duckdb
import polars as pl

from callacct.store import Store, insert_frame

# DuckDB stores tables in row groups of this many rows.
ROW_GROUP_ROWS = 122_880
STAGED_TABLES = ("calls", "call_quality")
Window = tuple[dt.datetime, dt.datetime]  # a span of record times (UTC)
# Appends rows with the writer's connection, in one statement: all of them or none.
Append = Callable[[duckdb.DuckDBPyConnection], None]


class CallWriter(Protocol):
    """Prepares a frame of new calls (the `calls` table's columns as the dialect normalised
    them) with the rating thread's connection, and returns their `Append`; it writes nothing
    else that a failed ingest would have to take back."""

    def __call__(self, con: duckdb.DuckDBPyConnection, calls: pl.DataFrame, /) -> Append: ...

    def warm_up(self) -> None:
        """Load what preparing the first calls would wait for (run in the rating thread
        while they are read); a failure is for the first call to meet and report."""


# What a write appends, per table: rows as they are, or a `CallWriter`'s append.
Staged = pl.DataFrame | Append


class WriteSkipped(RuntimeError):
    """A write not made because an earlier write of the run failed (that one is reported)."""


class CallStaging:
    """The staged calls and quality rows of a run, and the thread that appends them."""

    def __init__(self, store: Store, write_calls: CallWriter | None = None) -> None:
        self.store = store
        self._write_calls = write_calls
        self._staged: dict[str, list[pl.DataFrame]] = {}
        self.window: Window | None = None  # of the records staged, not yet handed over
        self._linkable: Window | None = None  # of calls written, not yet linked to quality
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="calls")
        self._rater: ThreadPoolExecutor | None = None
        if write_calls is not None:
            self._rater = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rating")
            self._rater.submit(write_calls.warm_up)
        # Writes handed over and not waited for, oldest first, with their windows.
        self._inflight: list[tuple[Future[None], Window | None]] = []
        self._depth = 1 if self._rater is None else 2  # writes in flight at most
        self._failed = threading.Event()  # a write failed: the next ones append nothing
        self._cursor: duckdb.DuckDBPyConnection | None = None  # the writer's
        self._rating_cursor: duckdb.DuckDBPyConnection | None = None

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
        """Give the writer the whole row groups staged, without committing, once fewer writes
        than its depth are in flight. The windows of the writes it waits for are linked at the
        next commit."""
        self._linkable = union(self._linkable, self._wait(keep=self._depth - 1))
        frames = self._frames(everything=False)
        if frames:
            self._submit(frames)

    def take_written(self, *, everything: bool = True) -> Window | None:
        """The window of calls written and not linked yet: after waiting for every write in
        flight, or (not `everything`) of the writes finished by now, without waiting."""
        if everything:
            keep = 0
        else:
            finished = 0
            while finished < len(self._inflight) and self._inflight[finished][0].done():
                finished += 1
            keep = len(self._inflight) - finished
        written = union(self._linkable, self._wait(keep=keep))
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
            self._linkable = union(self._linkable, self._wait(keep=self._depth - 1))
            self._submit(frames)
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

    def _submit(self, frames: list[tuple[str, pl.DataFrame]]) -> None:
        """Hand `frames` to the rating thread (with a `CallWriter`), then to the writer's."""
        if self._rater is None:
            staged: list[tuple[str, Staged]] = list(frames)
            done = self._executor.submit(self._write_tables, staged)
        else:
            prepared = self._rater.submit(self._prepare_tables, frames)
            done = self._executor.submit(self._write_prepared, prepared)
        self._inflight.append((done, self.window))

    def wait(self, *, raise_errors: bool = True) -> Window | None:
        """Wait for every write in flight; return their time window (to link quality), or
        raise the first failure (None when not `raise_errors`)."""
        return self._wait(keep=0, raise_errors=raise_errors)

    def _wait(self, *, keep: int, raise_errors: bool = True) -> Window | None:
        """Wait for the oldest writes in flight until `keep` are left (all of them after a
        failure, which is then raised or, when not `raise_errors`, gives None); the window of
        those waited for."""
        window: Window | None = None
        error: BaseException | None = None
        while len(self._inflight) > keep or (error is not None and self._inflight):
            future, written = self._inflight.pop(0)
            failure = future.exception()
            if error is None and failure is not None:
                error = failure
            window = union(window, written)
        if not self._inflight:
            self._failed.clear()  # nothing left to skip: the next writes are made
        if error is not None:
            if raise_errors:
                raise error
            return None
        return window

    def _prepare_tables(self, frames: list[tuple[str, pl.DataFrame]]) -> list[tuple[str, Staged]]:
        """In the rating thread: the calls' append, from the run's `CallWriter`."""
        if self._failed.is_set():
            return []  # the write is skipped anyway: no rating for nothing
        if self._rating_cursor is None:
            self._rating_cursor = self.store.con.cursor()
        prepared: list[tuple[str, Staged]] = []
        for table, frame in frames:
            if table == "calls" and self._write_calls is not None:
                prepared.append((table, self._write_calls(self._rating_cursor, frame)))
            else:
                prepared.append((table, frame))
        return prepared

    def _write_prepared(self, prepared: Future[list[tuple[str, Staged]]]) -> None:
        """In the writer's thread: append what the rating thread prepared, in order."""
        try:
            if self._failed.is_set():
                raise WriteSkipped("not written: an earlier write of this run failed")
            self._write_tables(prepared.result())
        except BaseException:
            self._failed.set()
            raise

    def _write_tables(self, frames: list[tuple[str, Staged]]) -> None:
        if self._cursor is None:
            self._cursor = self.store.con.cursor()
        for table, staged in frames:
            if isinstance(staged, pl.DataFrame):
                insert_frame(self._cursor, table, staged)
            else:
                staged(self._cursor)

    def release(self) -> None:
        """Close the writer's and the rating thread's connections (nothing in flight): the
        store's connection may then be closed and opened again; the next write opens new ones.
        """
        cursors = (self._cursor, self._rating_cursor)
        self._cursor = self._rating_cursor = None
        for cursor in cursors:
            if cursor is not None:
                # A store a failure invalidated may refuse even this; the failure is reported.
                with contextlib.suppress(duckdb.Error):
                    cursor.close()

    def close(self) -> None:
        if self._rater is not None:
            self._rater.shutdown(wait=True)
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


def union(a: Window | None, b: Window | None) -> Window | None:
    """The window covering `a` and `b`."""
    if a is None or b is None:
        return a or b
    return min(a[0], b[0]), max(a[1], b[1])
