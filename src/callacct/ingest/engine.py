"""Ingest CDR files into the store: the run, from the files named to the files done.

Every record read ends as exactly one of stored, duplicate or rejected, and every file's counts
add up: `rows_read = stored + duplicates + rejected`. A file whose exact content (sha256) was
already ingested is skipped whole. A file is `loading` in the ledger until every row of it is
written, then `done`; a failure discards the files not done, and a run killed mid-way leaves
`loading` files that the next opening of the store discards (store/recovery.py). So no command
sees half a file, and the next run loads it completely. Large files are read in pieces and
committed every `ingest.commit_rows` records, which bounds memory.

The parts, one job each: `plan.py` (reading, hashing and recognising files; batches of small
files), `pieces.py` (a batch read into parsed pieces, archived as read), `chunks.py` (a parsed
piece counted, checked, deduplicated and stored), `staging.py` (calls appended in whole row
groups by a background writer; quality linked), `archiving.py` (the raw archive), `ledger.py`
(`ingest_files`: loading, done, content already loaded) and `cleanup.py` (what a failure
leaves). This module runs them: batches in order, each stored in transactions of at most
`ingest.commit_rows` records.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Callable, Generator, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import duckdb

from callacct.config import Settings
from callacct.ingest import cleanup
from callacct.ingest.archiving import RunArchive
from callacct.ingest.chunks import ChunkLoader
from callacct.ingest.dialects import DIALECTS, Dialect
from callacct.ingest.files import UnreadableFile, discover, file_size
from callacct.ingest.generic import mapping_dialects
from callacct.ingest.ledger import Ledger
from callacct.ingest.pieces import Piece, batch_pieces, large_file_pieces
from callacct.ingest.plan import Batches, LoadFile, Preparer, held
from callacct.ingest.prefetch import prefetch
from callacct.ingest.report import Advance, FileResult, IngestReport
from callacct.ingest.staging import CallStaging, CallWriter, Window, link_quality, union
from callacct.progress import READING, Progress, counting
from callacct.store import Store, scalar

__all__ = ["CallWriter", "FileResult", "IngestReport", "StoreBreak", "ingest_paths"]

log = logging.getLogger(__name__)

PREPARE_AHEAD = 500  # files read and hashed ahead of the batch being stored
# Called between batches with the store, when no transaction is open, every batch before is
# done and the run holds no other connection to it: it may close the store's connection (to
# let other processes in) and open it again, or replace it.
StoreBreak = Callable[[Store], object]


def ingest_paths(
    store: Store,
    settings: Settings,
    paths: Sequence[str | Path],
    *,
    dialect: Dialect | None = None,
    dry_run: bool = False,
    force: bool = False,
    progress: Progress | None = None,
    between_batches: StoreBreak | None = None,
    break_if: Callable[[Store], bool] | None = None,
    write_calls: CallWriter | None = None,
) -> IngestReport:
    """Ingest every file under `paths`; see the module docstring for the guarantees.

    `force` reads files again even when their content was stored (their records already
    stored count as duplicates). `progress` is told the bytes done (stage `reading`) of the
    bytes of every file found; `between_batches(store)` is called after each batch (see
    `StoreBreak`) for which `break_if(store)` is true (default: every batch). Attributing and
    rating the calls, and moving the files, are `callacct.api.chain.load_files`'s part; it
    gives `write_calls` to append the calls finished (see `staging.CallWriter`).
    """
    files = discover(paths)
    total = None if progress is None else sum(file_size(p) for p in files)
    advance = counting(progress, READING, total=total, unit="bytes")
    extra: list[Dialect] = []
    if dialect is None:
        # Every dialect detection may need, loaded once before any file is read: a broken
        # plug-in or a bad mapping in the settings stops the run at once.
        DIALECTS.all()
        extra = mapping_dialects(settings, store.root)
    with _IngestSettings(store, settings.ingest.memory_limit) as duckdb_settings:
        run = _Run(
            store,
            settings,
            dry_run=dry_run,
            force=force,
            progress=advance,
            extra=extra,
            write_calls=write_calls,
        )
        try:
            _ingest(run, files, dialect, between_batches, break_if, duckdb_settings)
        except (OSError, duckdb.Error) as exc:
            error = cleanup.stopped_error(store, run.report, exc)
            if error is None:
                raise
            raise error from exc
        finally:
            run.close()
    report = run.report
    report.results.sort(key=lambda r: r.path)
    return report


def _ingest(
    run: _Run,
    files: dict[Path, bool],
    dialect: Dialect | None,
    between_batches: StoreBreak | None,
    break_if: Callable[[Store], bool] | None,
    duckdb_settings: _IngestSettings,
) -> None:
    if not run.dry_run:
        cleanup.remove_orphan_archives(run.store)
    batch_bytes = run.settings.ingest.batch_bytes

    def stored() -> None:
        if between_batches is not None and (break_if is None or break_if(run.store)):
            run.take_break(between_batches, duckdb_settings)

    # Reading and hashing the next files overlaps with storing the current batch; whole files
    # read ahead are bounded in bytes too (a batch's worth). Stopped before the run closes.
    prepared = prefetch(
        run.preparer.prepare(files, dialect), depth=PREPARE_AHEAD, weight=held, budget=batch_bytes
    )
    with contextlib.closing(prepared):
        _store_prepared(run, prepared, stored)
    if not run.dry_run:
        run.finish()


def _store_prepared(
    run: _Run, prepared: Iterator[LoadFile | FileResult], stored: Callable[[], None]
) -> None:
    pending = Batches(run.settings.ingest.batch_bytes)
    for item in prepared:
        if isinstance(item, FileResult):
            run.report.add(item)
            run.progress(file_size(Path(item.path)))
            continue
        if item.data is None:
            try:
                run.ingest_large(item)
            except UnreadableFile as exc:  # its part is discarded: the other files go on
                item.result = FileResult(str(item.path), "failed", item.dialect.name)
                item.result.message = str(exc)
                run.report.add(item.result)
            stored()
            continue
        full = pending.add(item)
        if full is not None:
            run.ingest_batch(full)
            stored()
    for batch in pending.rest():
        run.ingest_batch(batch)
        stored()


class _IngestSettings:
    """DuckDB's memory limit and threads for the duration of an ingest, then the store's again.

    One DuckDB thread: the ingest already keeps every core busy with its own threads (parse,
    raw archive, rating, calls writer), and DuckDB's parallel append costs more CPU than it saves
    there (small appends pay for waking threads; parallel appends leave partly filled row
    groups that the next checkpoint rewrites).
    """

    def __init__(self, store: Store, limit: str) -> None:
        self.store = store
        self.limit = limit
        self.previous = scalar(store.con, "SELECT current_setting('memory_limit')")
        self.threads = scalar(store.con, "SELECT current_setting('threads')")

    def __enter__(self) -> _IngestSettings:
        self.apply()
        return self

    def apply(self) -> None:
        """Set the ingest's values (again, on a connection opened since)."""
        self.store.con.execute("SET memory_limit = ?", [self.limit])
        self.store.con.execute("SET threads = 1")

    def __exit__(self, *exc: object) -> None:
        try:
            self.store.con.execute("SET memory_limit = ?", [self.previous])
            self.store.con.execute("SET threads = ?", [self.threads])
        except duckdb.Error as error:  # a store a failure invalidated: that failure is reported
            log.debug("ingest settings not restored: %s", error)


@contextmanager
def _rolled_back(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """A transaction that is always rolled back (a dry run stores nothing)."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield
    finally:
        cleanup.rollback(con)


class _Run:
    """One ingest run: its report and its parts (see the module docstring)."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        *,
        dry_run: bool,
        force: bool,
        progress: Advance,
        extra: Sequence[Dialect],
        write_calls: CallWriter | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.dry_run = dry_run
        self.progress = progress
        self.report = IngestReport(dry_run=dry_run, run_id=uuid.uuid4().hex[:12])
        self.ledger = Ledger(store, self.report.run_id)
        self.preparer = Preparer(settings, self.ledger, force=force, extra_dialects=extra)
        self.archive = RunArchive(store.archive_dir, self.report.run_id)
        self.staging = CallStaging(store, write_calls)
        first_call = int(scalar(store.con, "SELECT coalesce(max(call_id), 0) + 1 FROM calls"))
        self.loader = ChunkLoader(
            settings, self.report, self.staging, next_call_id=first_call, dry_run=dry_run
        )
        self.awaiting: list[LoadFile] = []  # stored, waiting for their calls to be written
        self.next_file_id = -1  # dry runs number files downwards

    def ingest_batch(self, files: list[LoadFile]) -> None:
        """Store whole small files of one layout as one unit."""
        self._store_files(files, batch_pieces(files, self.settings, self.archive))

    def ingest_large(self, item: LoadFile) -> None:
        """Store one large file, parsed chunk by chunk, hashed and archived as it is read."""
        self._store_files([item], large_file_pieces(item, self.settings, self.archive))

    def _store_files(self, files: list[LoadFile], pieces: Iterator[Piece]) -> None:
        """Store `files`: they enter the ledger as `loading`, their records are committed
        every `commit_rows`, and once the calls of the last commit are written (at the next
        commit, or at the end of the run) they are marked done. Reading and parsing the next
        piece overlaps with storing this one. A failure, from the ledger entry on, discards
        them and the files still waiting for their calls."""
        first_call_id = self.loader.next_call_id
        if self.dry_run:
            self._dry_run(files, pieces, first_call_id)
            return
        ahead: Generator[Piece, None, None] | None = None
        try:
            ids = self.ledger.new_ids(len(files))
            for item, file_id in zip(files, ids, strict=True):
                item.result.file_id = file_id
            self.archive.open(files)
            self.ledger.add_loading(files)
            ahead = prefetch(pieces)
            more = True
            while more:
                with self.store.transaction():
                    more = self._load_until_commit(ahead)
                    if not more:
                        self.archive.close()
                    written = self._before_commit(end_of_batch=not more)
                self._after_commit(written)
        except BaseException:
            if ahead is not None:
                # The reading thread stops first: it would go on appending to the archive.
                ahead.close()
            self._failed(files, first_call_id)
            raise
        self.awaiting += files

    def _dry_run(self, files: list[LoadFile], pieces: Iterator[Piece], first_call_id: int) -> None:
        """Count the pieces as they would be stored, in a transaction rolled back."""
        ids = range(self.next_file_id, self.next_file_id - len(files), -1)
        self.next_file_id -= len(files)
        for item, file_id in zip(files, ids, strict=True):
            item.result.file_id = file_id
        try:
            with contextlib.closing(prefetch(pieces)) as ahead, _rolled_back(self.store.con):
                for dialect, parsed, segments, size in ahead:
                    self.loader.load(self.store.con, dialect, parsed, segments)
                    self.progress(size)
        finally:
            self.staging.drop()
            self.loader.forget()
            self.loader.next_call_id = first_call_id
        for item in files:
            self.report.add(item.result)

    def _load_until_commit(self, pieces: Iterator[Piece]) -> bool:
        """Store pieces until `commit_rows` records wait for a commit (then True: more may
        follow) or none is left (False). Calls are handed to the writer as soon as they fill
        a row group: fewer rows wait in memory."""
        self.loader.begin(self.store.con)
        for dialect, parsed, segments, size in pieces:
            self.loader.load(self.store.con, dialect, parsed, segments)
            self.progress(size)
            if self.loader.commit_due():
                # A huge DuckDB transaction would hold all its rows in memory. The file stays
                # 'loading' in the ledger until its last rows are in.
                return True
            if self.staging.row_group_full():
                self.staging.hand_over()
        return False

    def _before_commit(self, *, end_of_batch: bool) -> Window | None:
        """In the transaction about to be committed: mark done the files whose calls are
        written (their archives too), hand the staged calls to the writer (whole row groups,
        or everything at a batch's end). Returns the window of calls to link to quality.

        Only files waiting to be marked done make it wait for the writes in flight: within a
        large file, reading goes on while its calls are rated and appended."""
        self.loader.rows_since_commit = 0
        written = self.staging.take_written(everything=bool(self.awaiting))
        if self.awaiting:
            # Their raw archives too must be written; otherwise archiving goes on meanwhile.
            self.archive.finish()
            self.ledger.mark_done(self.awaiting)
        return union(written, self.staging.flush(end_of_batch=end_of_batch))

    def _after_commit(self, written: Window | None) -> None:
        completed, self.awaiting = self.awaiting, []
        for item in completed:
            self.report.add(item.result)
        if written is not None:
            with self.store.transaction() as con:
                link_quality(con, written)

    def _failed(self, files: list[LoadFile], first_call_id: int) -> None:
        """After a failure: roll back, discard `files` and those waiting for their calls."""
        cleanup.rollback(self.store.con)  # a failed commit may leave its transaction open
        self.staging.drop()
        self.loader.forget()
        self.loader.next_call_id = first_call_id
        self.archive.close()
        self.archive.finish(raise_errors=False)
        self._discard_awaiting()
        cleanup.discard(self.store, files)

    def finish(self) -> None:
        """Wait for the last calls and archives, mark the files waiting for them done, link
        quality."""
        try:
            window = self.staging.take_written()
            self.archive.finish()
            with self.store.transaction() as con:
                if self.awaiting:
                    self.ledger.mark_done(self.awaiting)
                if window is not None:
                    link_quality(con, window)
        except BaseException:
            self._discard_awaiting()
            raise
        completed, self.awaiting = self.awaiting, []
        for item in completed:
            self.report.add(item.result)

    def take_break(self, between_batches: StoreBreak, duckdb_settings: _IngestSettings) -> None:
        """Finish the batches stored so far, let go of every connection but the store's, and
        call `between_batches(store)`; then go on with the store's connection of then."""
        if not self.dry_run:
            self.finish()
        self.staging.release()
        with self.ledger.paused():  # the preparing thread waits meanwhile
            before = self.store.con
            between_batches(self.store)
            if self.store.con is not before:
                duckdb_settings.apply()

    def _discard_awaiting(self) -> None:
        """After a failure, the files not yet marked done are discarded (the next run loads
        them again): simpler and safer than guessing which of their rows made it."""
        self.staging.wait(raise_errors=False)
        self.archive.finish(raise_errors=False)
        waiting, self.awaiting = self.awaiting, []
        cleanup.discard(self.store, waiting)

    def close(self) -> None:
        self.archive.shutdown()
        self.staging.close()
        self.ledger.close()
