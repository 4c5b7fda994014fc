"""Ingest CDR files into the store.

Every record read ends as exactly one of stored, duplicate or rejected, and every file's counts
add up: `rows_read = stored + duplicates + rejected`. A file whose exact content (sha256) was
already ingested is skipped whole. A file is `loading` in the ledger until every row of it is
written, then `done`; a failure discards the files not done, and a run killed mid-way leaves
`loading` files that the next opening of the store discards (store/recovery.py). So no command
sees half a file, and the next run loads it completely. Large files are read in pieces and
committed every `ingest.commit_rows` records, which bounds memory.

Small files are the common case (CUCM writes one per node per minute), and per-file overhead,
not parsing, decides throughput; files with the same layout are therefore joined and parsed
together, and every step works on columns (Polars, DuckDB SQL).

When readers wait for the store, the run lets them in once the batch being stored is done
(`Store.let_readers_in`): it stores what it has read, takes no more files, finishes them, and
goes on with the rest once the readers are in. So a report waits about one batch, not a run.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from callacct.config import Settings
from callacct.errors import CallacctError, IngestError, StoreError
from callacct.ingest.dialects import Dialect, Layout, detect_dialect
from callacct.ingest.files import (
    UnreadableFile,
    body_start,
    discover,
    file_size,
    read_chunks,
)
from callacct.ingest.generic import mapping_dialects
from callacct.ingest.parse import ParsedChunk, parse_chunk
from callacct.ingest.prefetch import prefetch
from callacct.progress import READING, Progress, counting
from callacct.store import Store, fetch_frame, scalar
from callacct.store.archive import SUFFIX as ARCHIVE_SUFFIX
from callacct.store.archive import ArchiveFile, archive_files, remove_archive
from callacct.store.disk import write_failure
from callacct.store.recovery import discard_files

log = logging.getLogger(__name__)

HEAD_BYTES = 64 * 1024
PREPARE_AHEAD = 500  # files read and hashed ahead of the batch being stored
# DuckDB stores tables in row groups of this many rows. An append that ends with a partly
# filled group leaves it to be rewritten (merged and compressed again) at the next checkpoint,
# so calls are appended in whole groups until the end of a batch.
ROW_GROUP_ROWS = 122_880
# A file whose content is loaded is skipped by the next runs, unless it stored nothing and had
# rejects: read again (after a corrected mapping, say) it may store them. A file that stored
# nothing because it has no records, or only duplicates, would gain nothing from a new read.
_KNOWN = "status = 'done' AND (stored > 0 OR rejected = 0)"
Window = tuple[dt.datetime, dt.datetime]  # a span of record times (UTC)


@dataclass
class FileResult:
    """What happened to one file."""

    path: str
    # stored | skipped (content already ingested) | in_progress (name starts with "_")
    # | ignored (found in a folder, not a CDR file) | failed
    status: str
    dialect: str | None = None
    rows_read: int = 0
    stored: int = 0
    duplicates: int = 0
    rejected: int = 0
    # Records kept although bytes that are not UTF-8 had to be replaced in these columns
    # (which accounting does not read); a warning, not a reject.
    replaced: int = 0
    replaced_columns: list[str] = field(default_factory=list)
    file_id: int | None = None
    message: str | None = None
    moved_to: str | None = None  # where --move-to put it


@dataclass
class IngestReport:
    """The outcome of one ingest run; the counts always reconcile."""

    files: int = 0
    files_skipped: int = 0
    files_in_progress: int = 0
    files_ignored: int = 0
    files_failed: int = 0
    rows_read: int = 0
    stored: int = 0
    duplicates: int = 0
    rejected: int = 0
    replaced: int = 0
    calls: int = 0
    quality_records: int = 0
    files_not_moved: int = 0
    dry_run: bool = False
    run_id: str = ""
    warnings: list[str] = field(default_factory=list)
    results: list[FileResult] = field(default_factory=list)

    @property
    def has_problems(self) -> bool:
        return self.rejected > 0 or self.files_failed > 0 or self.files_not_moved > 0

    def to_dict(self, *, details: bool = True) -> dict[str, Any]:
        data = asdict(self)
        if not details:
            data.pop("results")
        return data

    def add(self, result: FileResult) -> None:
        self.results.append(result)
        if result.status == "stored":
            self.files += 1
        elif result.status == "skipped":
            self.files_skipped += 1
        elif result.status == "in_progress":
            self.files_in_progress += 1
        elif result.status == "ignored":
            self.files_ignored += 1
        elif result.status == "failed":
            self.files_failed += 1
        self.rows_read += result.rows_read
        self.stored += result.stored
        self.duplicates += result.duplicates
        self.rejected += result.rejected
        self.replaced += result.replaced
        if result.replaced:
            self.warnings.append(
                f"{result.path}: {result.replaced} record(s) had bytes that are not UTF-8 in "
                f"{', '.join(result.replaced_columns)}, which accounting does not read: "
                "replaced by U+FFFD (the raw archive keeps the original bytes)"
            )


@dataclass
class _File:
    path: Path
    size: int
    sha256: str | None  # None: a large file hashed while it is read
    dialect: Dialect
    layout: Layout
    data: bytes | None  # whole content for small files; None for large ones read in chunks
    result: FileResult
    started_at: dt.datetime = field(default_factory=lambda: _utcnow())
    archive_at: int | None = None  # where the file starts in its archive's decompressed stream


def ingest_paths(
    store: Store,
    settings: Settings,
    paths: Sequence[str | Path],
    *,
    dialect: Dialect | None = None,
    dry_run: bool = False,
    force: bool = False,
    progress: Progress | None = None,
) -> IngestReport:
    """Ingest every file under `paths`; see the module docstring for the guarantees.

    `force` reads files again even when their content was stored (their records already
    stored count as duplicates). `progress` is told the bytes done (stage `reading`) of the
    bytes of every file found. Attributing and rating the calls, and moving the files,
    are `callacct.api.chain.load_files`'s part.
    """
    files = discover(paths)
    with _ingest_settings(store, settings.ingest.memory_limit):
        return _ingest(store, settings, files, dialect, dry_run, force, progress)


def _stopped(store: Store, report: IngestReport, exc: BaseException) -> StoreError | None:
    """The one-line error for a run stopped by a disk that cannot be written (full, read-only),
    or None for any other failure. What the failed batch wrote is gone by then (`_discard`)."""
    reason = write_failure(exc)
    if reason is None:
        return None
    where = exc.filename if isinstance(exc, OSError) and exc.filename else store.path
    before = f" ({report.files} file(s) loaded before it are stored)" if report.files else ""
    return StoreError(
        f"{where}: cannot write ({reason}). Nothing of the files being loaded was kept{before}; "
        "free space or make it writable, then run the ingest again"
    )


@contextmanager
def _ingest_settings(store: Store, limit: str) -> Iterator[None]:
    """DuckDB's memory limit and threads for the duration of an ingest, then the store's again.

    One DuckDB thread: the ingest already keeps every core busy with its own threads (parse,
    raw archive, calls writer), and DuckDB's parallel append costs more CPU than it saves
    there (small appends pay for waking threads; parallel appends leave partly filled row
    groups that the next checkpoint rewrites).
    """
    previous = scalar(store.con, "SELECT current_setting('memory_limit')")
    threads = scalar(store.con, "SELECT current_setting('threads')")
    store.con.execute("SET memory_limit = ?", [limit])
    store.con.execute("SET threads = 1")
    try:
        yield
    finally:
        try:
            store.con.execute("SET memory_limit = ?", [previous])
            store.con.execute("SET threads = ?", [threads])
        except duckdb.Error as exc:  # a store a failure invalidated: that failure is reported
            log.debug("ingest settings not restored: %s", exc)


def _ingest(
    store: Store,
    settings: Settings,
    files: dict[Path, bool],
    dialect: Dialect | None,
    dry_run: bool,
    force: bool,
    progress: Progress | None,
) -> IngestReport:
    total = None if progress is None else sum(file_size(p) for p in files)
    advance = counting(progress, READING, total=total, unit="bytes")
    run = _Run(store, settings, dry_run=dry_run, force=force, progress=advance)
    # Mappings named in the settings are loaded once, so a bad one stops the run at once.
    run.extra_dialects = [] if dialect is not None else mapping_dialects(settings, store.root)
    try:
        if not dry_run:
            run.remove_orphan_archives()
        taken: set[str] = set()  # content hashes of the files taken, every round
        remaining = files
        while remaining:
            remaining = _store_files(run, remaining, dialect, taken)
            if not dry_run:
                run.finish()
            if remaining:
                # Readers wait: everything so far is committed and nothing is in flight.
                run.seen_hashes &= taken  # not the files read ahead and left for next round
                run.release_connections()
                store.let_readers_in()
                run.con = store.con
                store.con.execute("SET memory_limit = ?", [settings.ingest.memory_limit])
                store.con.execute("SET threads = 1")
    except (OSError, duckdb.Error) as exc:
        error = _stopped(store, run.report, exc)
        if error is None:
            raise
        raise error from exc
    finally:
        run.close()
    report = run.report
    report.results.sort(key=lambda r: r.path)
    return report


def _store_files(
    run: _Run, files: dict[Path, bool], dialect: Dialect | None, taken: set[str]
) -> dict[Path, bool]:
    """Store `files`, in batches. When readers wait for the store once a batch (or a large
    file) is stored, take no more files: store those read, and return the files not reached
    (none when all are done). `taken` gets the content hash of every file taken."""
    batch_bytes = run.settings.ingest.batch_bytes
    pending = _Batches(batch_bytes)
    reached: set[Path] = set()
    stopped = False
    # Reading and hashing the next files overlaps with storing the current batch; whole
    # files read ahead are bounded in bytes too (a batch's worth).
    for item in prefetch(
        run.prepare(files, dialect), depth=PREPARE_AHEAD, weight=_held, budget=batch_bytes
    ):
        reached.add(Path(item.path))
        if isinstance(item, FileResult):
            run.report.add(item)
            run.progress(file_size(Path(item.path)))
            continue
        if item.sha256 is not None:
            taken.add(item.sha256)
        if item.data is None:
            try:
                run.ingest_large(item)
            except UnreadableFile as exc:  # its part is discarded: the other files go on
                item.result = FileResult(str(item.path), "failed", item.dialect.name)
                item.result.message = str(exc)
                run.report.add(item.result)
        else:
            full = pending.add(item)
            if full is None:
                continue
            run.ingest_batch(full)
        if run.store.readers_waiting():
            stopped = True
            break
    for batch in pending.rest():
        run.ingest_batch(batch)
    if not stopped:
        return {}
    return {path: explicit for path, explicit in files.items() if path not in reached}


class _Batches:
    """Small files waiting to be stored, joined by layout into batches of `batch_bytes`.

    Files of many layouts, each short of a batch, must not pile up: when the files waiting
    reach two batches' worth, the largest waiting batch is stored as it is.
    """

    def __init__(self, batch_bytes: int) -> None:
        self.batch_bytes = batch_bytes
        self.files: dict[tuple[object, ...], list[_File]] = {}
        self.sizes: dict[tuple[object, ...], int] = {}
        self.held = 0

    def add(self, item: _File) -> list[_File] | None:
        """Keep `item`; return the batch to store now, if one is due."""
        key = item.layout.signature
        self.files.setdefault(key, []).append(item)
        self.sizes[key] = self.sizes.get(key, 0) + item.size
        self.held += item.size
        if self.sizes[key] < self.batch_bytes:
            if self.held < 2 * self.batch_bytes:
                return None
            key = max(self.sizes, key=self.sizes.__getitem__)
        self.held -= self.sizes.pop(key)
        return self.files.pop(key)

    def rest(self) -> Iterator[list[_File]]:
        """The batches still waiting, at the end of the run."""
        while self.files:
            key = next(iter(self.files))
            self.held -= self.sizes.pop(key)
            yield self.files.pop(key)


class _Run:
    def __init__(
        self,
        store: Store,
        settings: Settings,
        *,
        dry_run: bool,
        force: bool,
        progress: Callable[[int], None],
    ):
        self.store = store
        self.con = store.con
        self.settings = settings
        self.progress = progress
        self.report = IngestReport(dry_run=dry_run, run_id=uuid.uuid4().hex[:12])
        self.dry_run = dry_run
        self.force = force
        self.seen_hashes: set[str] = set()
        self.archive_counter = 0
        self._archive_of: dict[int, str] = {}  # file id -> its archive (relative path)
        self._archive: ArchiveFile | None = None  # of the batch being stored
        self._archive_offset = 0
        self.large_sizes: set[int] = set()
        self._pending: dict[str, list[pl.DataFrame]] = {}
        self._pending_rows = 0
        self._window: Window | None = None
        self._linkable: Window | None = None  # of calls written, not yet linked to quality
        self.extra_dialects: list[Dialect] = []
        self._layouts: dict[tuple[str, bytes], tuple[Dialect, Layout]] = {}
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="archive")
        self._db_writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="calls")
        self._db_inflight: tuple[Future[None], Window | None] | None = None
        self._writer_con: duckdb.DuckDBPyConnection | None = None
        self._reader_con: duckdb.DuckDBPyConnection | None = None
        self._awaiting: list[_File] = []  # loaded, waiting for their calls to be written
        self._writes: list[Future[None]] = []  # archive writes (appended by the reading thread)
        self._writes_lock = threading.Lock()
        self.next_file_id = -1  # dry runs number files downwards
        self.next_call_id = int(scalar(self.con, "SELECT coalesce(max(call_id), 0) + 1 FROM calls"))

    # -- discovery -----------------------------------------------------------------------

    def prepare(
        self, files: dict[Path, bool], forced: Dialect | None
    ) -> Iterator[_File | FileResult]:
        """Read, hash and detect files, in order: yield those to ingest, and the results of
        those that are not (in progress, unreadable, unrecognised, content already stored).

        Runs in a thread ahead of the ingest (see `_ingest`), so it talks to DuckDB through its
        own cursor and never touches the report.
        """
        group: list[_File] = []
        size = 0
        for path, explicit in files.items():
            result = FileResult(path=str(path), status="stored")
            if path.name.startswith("_"):
                result.status = "in_progress"
                result.message = "name starts with '_': still being written, skipped"
                yield result
                continue
            try:
                item = self._open(path, forced, result)
            except CallacctError as exc:
                result.status = "failed" if explicit or result.dialect else "ignored"
                result.message = str(exc)
                yield result
                continue
            except OSError as exc:
                result.status = "failed"
                result.message = f"{path}: cannot read ({exc.strerror or exc})"
                yield result
                continue
            group.append(item)
            size += item.size
            if size >= self.settings.ingest.parse_bytes or len(group) >= 2000:
                yield from self._screen(group)
                group, size = [], 0
        yield from self._screen(group)

    def _screen(self, group: list[_File]) -> Iterator[_File | FileResult]:
        """Set aside the files whose content is already stored (or seen earlier in this run)."""
        known = self._known_hashes({c.sha256 for c in group if c.sha256})
        for item in group:
            if item.sha256 is not None and (
                item.sha256 in known or item.sha256 in self.seen_hashes
            ):
                item.result.status = "skipped"
                item.result.dialect = item.dialect.name
                item.result.message = "same content already ingested"
                yield item.result
                continue
            if item.sha256 is not None:
                self.seen_hashes.add(item.sha256)
            yield item

    @property
    def _reader(self) -> duckdb.DuckDBPyConnection:
        if self._reader_con is None:
            self._reader_con = self.con.cursor()
        return self._reader_con

    def _open(self, path: Path, forced: Dialect | None, result: FileResult) -> _File:
        size = path.stat().st_size
        large = size > self.settings.ingest.batch_bytes
        with path.open("rb") as fh:
            if large:
                head = fh.read(HEAD_BYTES)
                data = None
                sha = None
                # Content can only be known if a stored file has the same size: only then is
                # it worth reading the file twice; otherwise it is hashed while it is ingested.
                if not self.force and (
                    size in self.large_sizes
                    or scalar(
                        self._reader,
                        f"SELECT count(*) FROM ingest_files WHERE size = ? AND {_KNOWN}",  # noqa: S608
                        [size],
                    )
                ):
                    fh.seek(0)
                    sha = hashlib.file_digest(fh, "sha256").hexdigest()
                self.large_sizes.add(size)
            else:
                data = fh.read()
                head = data[:HEAD_BYTES]
                sha = hashlib.sha256(data).hexdigest()
        if not head.strip():
            raise IngestError(f"{path}: empty file")
        dialect, layout = self._layout(head, path, forced, result)
        return _File(path, size, sha, dialect, layout, data, result)

    def _layout(
        self, head: bytes, path: Path, forced: Dialect | None, result: FileResult
    ) -> tuple[Dialect, Layout]:
        """Detect the dialect and read the header, once per distinct header in a run."""
        second = head.find(b"\n", head.find(b"\n") + 1)
        key = (forced.name if forced else "", head[:second] if second > 0 else b"")
        if key[1] and key in self._layouts:
            dialect, layout = self._layouts[key]
            result.dialect = dialect.name
            return dialect, layout
        dialect = forced or detect_dialect(head, path, extra=self.extra_dialects)
        result.dialect = dialect.name
        layout = dialect.layout(head, path, self.settings)
        # Only a layout read wholly from header lines can be reused for another file.
        if key[1] and layout.header_lines >= 1:
            self._layouts[key] = (dialect, layout)
        return dialect, layout

    def _known_hashes(self, hashes: set[str]) -> set[str]:
        """Which of `hashes` are the content of a file already loaded (see `_KNOWN`)."""
        if not hashes or self.force:
            return set()
        rows = self._reader.execute(
            f"SELECT DISTINCT sha256 FROM ingest_files WHERE {_KNOWN} "  # noqa: S608
            "AND sha256 IN (SELECT unnest(?::VARCHAR[]))",
            [sorted(hashes)],
        ).fetchall()
        return {r[0] for r in rows}

    # -- ingest --------------------------------------------------------------------------

    def ingest_batch(self, files: list[_File]) -> None:
        """Store whole small files of one layout as one unit, parsed in pieces of
        `parse_bytes` (joined: per-file overhead, not parsing, is what costs)."""
        layout, dialect = files[0].layout, files[0].dialect
        max_line = self.settings.ingest.max_line_bytes

        def pieces() -> Iterator[tuple[ParsedChunk, list[tuple[_File, int, int]], int]]:
            # Views, not slices: the bodies are copied once, when they are joined.
            bodies: list[bytes | memoryview] = []
            segments: list[tuple[_File, int, int]] = []
            size = line = length = 0
            whole: list[bytes | memoryview] = []
            for n, item in enumerate(files):
                data = item.data
                assert data is not None
                item.archive_at = self._archive_offset
                self._archive_offset += len(data)
                whole.append(data)
                start = body_start(data, layout.header_lines)
                segments.append((item, line, layout.header_lines + 1))
                if start < len(data):
                    bodies.append(memoryview(data)[start:])
                    line += data.count(b"\n", start)
                    length += len(data) - start
                    if not data.endswith(b"\n"):
                        bodies.append(b"\n")
                        line += 1
                size += item.size
                if length >= self.settings.ingest.parse_bytes or n == len(files) - 1:
                    self._archive_bytes(whole)
                    body = b"".join(bodies)
                    yield parse_chunk(body, layout, line, max_line=max_line), segments, size
                    bodies, segments, whole, size, line, length = [], [], [], 0, 0, 0

        def work() -> None:
            for parsed, segments, size in prefetch(pieces()):
                self._chunk(dialect, layout, parsed, segments)
                self.progress(size)

        self._in_transaction(files, work)

    def ingest_large(self, item: _File) -> None:
        """Store one large file in one transaction, parsed chunk by chunk."""

        def parsed_chunks() -> Iterator[tuple[ParsedChunk, int, int]]:
            digest = hashlib.sha256()

            def read(data: bytes) -> None:
                digest.update(data)
                self._archive_bytes([data])

            item.archive_at = self._archive_offset
            ingest = self.settings.ingest
            for chunk, first_line, lines, size in read_chunks(
                item.path, item.layout.header_lines, ingest.parse_bytes, ingest.max_line_bytes, read
            ):
                parsed = parse_chunk(chunk, item.layout, lines, max_line=ingest.max_line_bytes)
                yield parsed, first_line, size
            item.sha256 = digest.hexdigest()

        def work() -> None:
            # Reading, hashing and parsing the next chunk overlaps with storing this one.
            for parsed, first_line, size in prefetch(parsed_chunks()):
                self._chunk(item.dialect, item.layout, parsed, [(item, 0, first_line)])
                self.progress(size)

        self._in_transaction([item], work)

    def _in_transaction(self, files: list[_File], work: Callable[[], None]) -> None:
        if self.dry_run:
            ids = list(range(self.next_file_id, self.next_file_id - len(files), -1))
            self.next_file_id -= len(files)
        else:
            ids = [
                int(r[0])
                for r in self.con.execute(
                    "SELECT nextval('file_id_seq') FROM range(?)", [len(files)]
                ).fetchall()
            ]
        for item, file_id in zip(files, ids, strict=True):
            item.result.file_id = file_id
        first_call_id = self.next_call_id
        if not self.dry_run:
            self._open_archive(ids)
            with self.store.transaction():
                self._insert("ingest_files", self._ledger_rows(files, status="loading"))
        self.con.execute("BEGIN TRANSACTION")
        try:
            work()
            self._close_archive()
            if self.dry_run:
                self._pending, self._pending_rows, self._window = {}, 0, None
                self.con.execute("ROLLBACK")
                self.next_call_id = first_call_id
            else:
                self._checkpoint(end_of_batch=True)
                self._awaiting += files
        except BaseException:
            self._rollback()
            self._pending, self._pending_rows, self._window = {}, 0, None
            self.next_call_id = first_call_id
            self._close_archive()
            self._finish_writes(raise_errors=False)
            if not self.dry_run:
                self._discard_awaiting()
                self._discard(files)
            raise
        if self.dry_run:
            for item in files:
                self.report.add(item.result)

    def _rollback(self) -> None:
        try:
            self.con.execute("ROLLBACK")
        except duckdb.Error:
            log.debug("no transaction to roll back (it had been committed)")

    def _chunk(
        self,
        dialect: Dialect,
        layout: Layout,
        parsed: ParsedChunk,
        segments: list[tuple[_File, int, int]],
    ) -> None:
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
        rejects = self._rejects(dialect, parsed, segments, locate)
        valid_mask = rejects.get_column("_ok")
        frame = parsed.frame.filter(valid_mask)
        where = locate(frame.get_column("_line"))
        keys = dialect.keys(frame, self.settings).with_columns(where)
        new_mask = self._new_records(keys)
        self._count(segments, keys.filter(~new_mask).get_column("seg"), "duplicates")
        self._count(segments, keys.filter(new_mask).get_column("seg"), "stored")
        if not bool(new_mask.any()):
            return
        frame = frame.filter(new_mask)
        keys = keys.filter(new_mask)
        self._store(dialect, frame, keys)
        if self.dry_run:
            return
        if self._pending_rows >= self.settings.ingest.commit_rows:
            # Commit along the way: a huge DuckDB transaction holds its rows in memory. The
            # file stays 'loading' in the ledger until its last rows are in, and a store
            # opened after a crash discards what a 'loading' file left (store.recovery).
            self._checkpoint(end_of_batch=False)
            self.con.execute("BEGIN TRANSACTION")
        elif max((sum(f.height for f in fs) for fs in self._pending.values()), default=0) >= (
            ROW_GROUP_ROWS
        ):
            # Calls are written as soon as they fill a row group: fewer rows wait in memory,
            # and DuckDB appends one group as cheaply per row as several.
            self._hand_over()

    def _count_read(
        self,
        parsed: ParsedChunk,
        segments: list[tuple[_File, int, int]],
        locate: Callable[[pl.Series], pl.DataFrame],
    ) -> None:
        lines = pl.concat(
            [
                parsed.frame.get_column("_line").cast(pl.Int64),
                pl.Series([r.line_index for r in parsed.rejects], dtype=pl.Int64),
            ]
        )
        self._count(segments, locate(lines).get_column("seg"), "rows_read")

    def _count_replaced(
        self,
        parsed: ParsedChunk,
        segments: list[tuple[_File, int, int]],
        locate: Callable[[pl.Series], pl.DataFrame],
    ) -> None:
        lines = pl.Series([index for index, _ in parsed.replaced], dtype=pl.Int64)
        seg = locate(lines).get_column("seg")
        self._count(segments, seg, "replaced")
        for index, (_, columns) in zip(seg.to_list(), parsed.replaced, strict=True):
            result = segments[index][0].result
            result.replaced_columns += [c for c in columns if c not in result.replaced_columns]

    @staticmethod
    def _count(segments: list[tuple[_File, int, int]], seg: pl.Series, attr: str) -> None:
        if seg.len() == 0:
            return
        counts = seg.value_counts()
        for index, count in counts.iter_rows():
            result = segments[index][0].result
            setattr(result, attr, getattr(result, attr) + int(count))

    def _rejects(
        self,
        dialect: Dialect,
        parsed: ParsedChunk,
        segments: list[tuple[_File, int, int]],
        locate: Callable[[pl.Series], pl.DataFrame],
    ) -> pl.DataFrame:
        """Mark rows with impossible values and store every reject of the chunk."""
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
            self._count(segments, rows.get_column("seg"), "rejected")
            self._insert("rejects", rows.drop("seg"))
        return checked

    def _new_records(self, keys: pl.DataFrame) -> pl.Series:
        """True for records neither seen earlier in this chunk nor already stored."""
        first = keys.select(pl.struct("record_key", "record_time").is_first_distinct()).to_series()
        if keys.height == 0:
            return first
        lo, hi = keys.select(
            pl.col("record_time").min().alias("lo"), pl.col("record_time").max().alias("hi")
        ).row(0)
        candidates = keys.select("record_key", "record_time").with_row_index("_i")
        self.con.register("_candidate_keys", candidates.to_arrow())
        try:
            stored = fetch_frame(
                self.con,
                "SELECT c._i FROM _candidate_keys c SEMI JOIN ("
                "  SELECT record_key, record_time FROM records"
                "  WHERE record_time BETWEEN ? AND ?) r"
                " ON r.record_key = c.record_key AND r.record_time = c.record_time",
                [lo, hi],
            )
        finally:
            self.con.unregister("_candidate_keys")
        already = pl.Series("already", [False] * keys.height, pl.Boolean)
        if stored.height:
            already = already.scatter(stored.get_column("_i").cast(pl.Int64), True)
        return first & ~already

    def _store(self, dialect: Dialect, frame: pl.DataFrame, keys: pl.DataFrame) -> None:
        normalised = dialect.normalise(frame.drop("_line"), self.settings)
        where = keys.select("file_id", "line_no")
        kind = pl.lit(dialect.kind)
        if normalised.calls is not None:
            is_call = pl.Series([False] * keys.height).scatter(
                normalised.calls.get_column("_row").cast(pl.Int64), True
            )
            kind = pl.when(is_call).then(pl.lit("call")).otherwise(pl.lit("excluded"))
        records = keys.select("file_id", "line_no", "record_key", "record_time").with_columns(
            kind.alias("kind")
        )
        self._insert("records", records)
        self._pending_rows += records.height
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
        self._window = _widen(self._window, keys)

    def _stage(self, table: str, frame: pl.DataFrame) -> None:
        """Hold calls (wide rows) until the next flush: DuckDB appends few large frames much
        faster than many small ones. Narrow tables are inserted at once, so dedupe sees them."""
        if not self.dry_run:  # a dry run rolls back: nothing to write
            self._pending.setdefault(table, []).append(frame)

    def _hand_over(self) -> None:
        """Give the writer the whole row groups of staged calls, without committing.

        Calls are appended by a second connection in a background thread while the main one
        goes on parsing: they commit on their own, which is safe because a file stays
        'loading' in the ledger until all of its rows, calls included, are in. One write at
        most is in flight; the window of the one it waits for is linked at the next commit.
        """
        self._linkable = _union(self._linkable, self._wait_for_calls())
        frames = self._staged_frames(everything=False)
        if frames:
            self._db_inflight = (self._db_writer.submit(self._write_tables, frames), self._window)

    def _staged_frames(self, *, everything: bool) -> list[tuple[str, pl.DataFrame]]:
        """The staged rows to write now: whole row groups, or `everything` at a batch's end.
        The rest stays staged (DuckDB rewrites a partly filled row group at its next
        checkpoint)."""
        pending, self._pending = self._pending, {}
        frames: list[tuple[str, pl.DataFrame]] = []
        for table in ("calls", "call_quality"):
            if not pending.get(table):
                continue
            frame = pl.concat(pending[table], how="vertical_relaxed")
            rest = 0 if everything else frame.height % ROW_GROUP_ROWS
            if rest:
                self._pending[table] = [frame.tail(rest)]
                frame = frame.head(frame.height - rest)
            if frame.height:
                frames.append((table, frame))
        return frames

    def _checkpoint(self, *, end_of_batch: bool) -> None:
        """Hand the staged calls to the writer, commit, link call quality (ends the open
        transaction).

        Within a batch, only whole row groups of calls are handed over (see `_hand_over`).
        The batch's last checkpoint hands over everything, so its files can be marked done
        once that write is in: at the next checkpoint, or at the end of the run.
        """
        self._pending_rows = 0
        written_window = _union(self._linkable, self._wait_for_calls())
        self._linkable = None
        if self._awaiting:
            # Their raw archives too must be written; otherwise archiving goes on meanwhile.
            self._finish_writes()
            self._update_ledger(self._awaiting)
        frames = self._staged_frames(everything=end_of_batch)
        if frames:
            self._db_inflight = (self._db_writer.submit(self._write_tables, frames), self._window)
        elif self._window is not None:
            written_window = _union(written_window, self._window)
        # Rows held back keep the window open: quality is linked once they are written too.
        self._window = self._window if self._pending else None
        self.con.execute("COMMIT")
        completed, self._awaiting = self._awaiting, []
        for item in completed:
            self.report.add(item.result)
        if written_window is not None:
            with self.store.transaction():
                self._link_quality(*written_window)

    def finish(self) -> None:
        """Wait for the last calls and archives, mark the files waiting for them done, link
        quality."""
        try:
            window = _union(self._linkable, self._wait_for_calls())
            self._linkable = None
            self._finish_writes()
            with self.store.transaction():
                if self._awaiting:
                    self._update_ledger(self._awaiting)
                if window is not None:
                    self._link_quality(*window)
        except BaseException:
            self._discard_awaiting()
            raise
        completed, self._awaiting = self._awaiting, []
        for item in completed:
            self.report.add(item.result)

    def _discard_awaiting(self) -> None:
        """After a failure, the files not yet marked done are discarded (the next run loads
        them again): simpler and safer than guessing which of their rows made it."""
        self._wait_for_calls(raise_errors=False)
        self._finish_writes(raise_errors=False)
        waiting, self._awaiting = self._awaiting, []
        self._discard(waiting)

    def _discard(self, files: list[_File]) -> None:
        """Remove every raw archive and row of `files`.

        The archives go first: they are files of this run, always removable, while the store
        may not be writable (a full disk). Then the files stay `loading` in the ledger and the
        next opening of the store discards their rows (store/recovery.py).
        """
        if not files:
            return
        ids = [f.result.file_id or 0 for f in files]
        names = {self._archive_of.pop(i) for i in ids if i in self._archive_of}
        for name in sorted(names):
            remove_archive(self.store.archive_dir / name)
        try:
            with self.store.transaction():
                discard_files(self.con, ids)
        except duckdb.Error as exc:
            log.info(
                "%s: the rows of the failed files will be discarded when the store is next "
                "opened (%s)",
                self.store.path,
                exc,
            )

    def _wait_for_calls(self, *, raise_errors: bool = True) -> Window | None:
        """Wait for the calls in flight; return their time window (to link quality)."""
        if self._db_inflight is None:
            return None
        future, window = self._db_inflight
        self._db_inflight = None
        error = future.exception()
        if error is not None:
            if raise_errors:
                raise error
            return None
        return window

    def _write_tables(self, frames: list[tuple[str, pl.DataFrame]]) -> None:
        if self._writer_con is None:
            self._writer_con = self.con.cursor()
        for table, frame in frames:
            _insert_into(self._writer_con, table, frame)

    def _insert(self, table: str, frame: pl.DataFrame) -> None:
        _insert_into(self.con, table, frame)

    def _link_quality(self, lo: dt.datetime, hi: dt.datetime) -> None:
        """Join CMR metrics to their calls: same global call id, leg id of either side."""
        self.con.execute(
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

    def _open_archive(self, file_ids: list[int]) -> None:
        """Start the archive of a batch (or large file): its files, whole, one after the other."""
        self.archive_counter += 1
        month = _utcnow().strftime("%Y-%m")
        name = f"{month}/{self.report.run_id}-{self.archive_counter:05d}{ARCHIVE_SUFFIX}"
        self._archive = ArchiveFile(self.store.archive_dir / name)
        self._archive_offset = 0
        for file_id in file_ids:
            self._archive_of[file_id] = name

    def _archive_bytes(self, parts: list[bytes | memoryview]) -> None:
        """Compress and append `parts` to the batch's archive in the archive thread, in order.

        Called by the reading thread as it reads; at most two pieces wait (each holds its text).
        """
        archive = self._archive
        if archive is None or not parts:
            return  # a dry run keeps nothing
        while True:
            with self._writes_lock:
                running = [f for f in self._writes if not f.done()]
                # Writes are waited for only when their files are marked done: report a
                # failed one now.
                for done in (f for f in self._writes if f.done()):
                    if (error := done.exception()) is not None:
                        raise error
                if len(running) < 2:
                    self._writes = [*running, self._writer.submit(archive.append, parts)]
                    return
            running[0].exception()

    def _close_archive(self) -> None:
        if self._archive is not None:
            with self._writes_lock:
                self._writes.append(self._writer.submit(self._archive.close))
            self._archive = None

    def _finish_writes(self, *, raise_errors: bool = True) -> None:
        with self._writes_lock:
            writes, self._writes = self._writes, []
        for future in writes:
            error = future.exception()
            if error is not None and raise_errors:
                raise error

    def close(self) -> None:
        self._writer.shutdown(wait=True)
        self._db_writer.shutdown(wait=True)
        self.release_connections()

    def release_connections(self) -> None:
        """Close the cursors of the store's connection this run opened (they are opened
        again when needed): the store may then close that connection."""
        for con in (self._writer_con, self._reader_con):
            if con is not None:
                # A store a failure invalidated may refuse even this; the failure is reported.
                with contextlib.suppress(duckdb.Error):
                    con.close()
        self._writer_con = self._reader_con = None

    def _ledger_rows(self, files: list[_File], *, status: str) -> pl.DataFrame:
        now = _utcnow()
        rows = []
        for item in files:
            r = item.result
            if status == "done" and r.rows_read != r.stored + r.duplicates + r.rejected:
                raise IngestError(f"{item.path}: counts do not reconcile ({r}); please report")
            rows.append(
                {
                    "file_id": r.file_id,
                    "path": str(item.path),
                    "name": item.path.name,
                    "size": item.size,
                    "sha256": item.sha256 or "",
                    "dialect": item.dialect.name,
                    "header": item.layout.header_text,
                    "rows_read": r.rows_read,
                    "stored": r.stored,
                    "duplicates": r.duplicates,
                    "rejected": r.rejected,
                    "started_at": item.started_at,
                    "finished_at": now,
                    "status": status,
                    "archive": self._archive_of.get(r.file_id or 0, ""),
                    "archive_at": item.archive_at,
                    "run_id": self.report.run_id,
                }
            )
        return pl.DataFrame(rows, schema_overrides={"archive_at": pl.Int64})

    def _update_ledger(self, files: list[_File]) -> None:
        """Mark the files done, with their counts, hash and archives; earlier reads of the same
        content are superseded (`_supersede`)."""
        rows = self._ledger_rows(files, status="done")
        self.con.register("_ledger", rows.to_arrow())
        try:
            self.con.execute(
                """
                UPDATE ingest_files SET sha256 = l.sha256, rows_read = l.rows_read,
                    stored = l.stored, duplicates = l.duplicates, rejected = l.rejected,
                    finished_at = l.finished_at, status = l.status, archive = l.archive,
                    archive_at = l.archive_at
                FROM _ledger l WHERE ingest_files.file_id = l.file_id
                """
            )
            self._supersede()
        finally:
            self.con.unregister("_ledger")

    def _supersede(self) -> None:
        """After a new read of content read before (`--force`, or a file that had stored
        nothing), the earlier reads' rejects are replaced by the new read's, and an earlier
        read that stored nothing is removed: the ledger and `ingest --rejects` tell what the
        latest read found, and the records stored once stay (the new read counted them as
        duplicates)."""
        earlier = (
            "SELECT f.file_id, f.stored FROM ingest_files f JOIN _ledger l "
            "ON f.sha256 = l.sha256 AND f.file_id <> l.file_id "
            "WHERE f.status = 'done' AND l.sha256 <> '' AND f.file_id NOT IN "
            "(SELECT file_id FROM _ledger)"
        )
        rows = self.con.execute(earlier).fetchall()
        if not rows:
            return
        ids = sorted({int(r[0]) for r in rows})
        self.con.execute("DELETE FROM rejects WHERE file_id IN (SELECT unnest(?::BIGINT[]))", [ids])
        discard_files(self.con, sorted({int(r[0]) for r in rows if r[1] == 0}))

    def remove_orphan_archives(self) -> None:
        """Delete raw archives a killed run wrote but never committed."""
        root = self.store.archive_dir
        if not root.is_dir():
            return
        referenced = {
            r[0]
            for r in self.con.execute(
                "SELECT DISTINCT unnest(string_split(archive, ',')) FROM ingest_files "
                "WHERE archive <> ''"
            ).fetchall()
        }
        for path in archive_files(root):
            if path.relative_to(root).as_posix() not in referenced:
                log.info("removing uncommitted archive %s", path)
                path.unlink()


def _insert_into(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> None:
    # Polars' own string layout (Arrow string views), which DuckDB reads as it is: the
    # default conversion to plain Arrow strings copies every text column first.
    con.register("_batch", frame.to_arrow(compat_level=pl.CompatLevel.newest()))
    try:
        # Table names here are constants of this module, never user input.
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _batch")  # noqa: S608
    finally:
        con.unregister("_batch")


def _widen(window: Window | None, keys: pl.DataFrame) -> Window | None:
    """The time window covering `window` and the records of `keys`."""
    lo, hi = keys.select(
        pl.col("record_time").min().alias("lo"), pl.col("record_time").max().alias("hi")
    ).row(0)
    return window if lo is None else _union(window, (lo, hi))


def _union(a: Window | None, b: Window | None) -> Window | None:
    if a is None or b is None:
        return a or b
    return min(a[0], b[0]), max(a[1], b[1])


def _attach(frame: pl.DataFrame, where: pl.DataFrame) -> pl.DataFrame:
    rows = frame.get_column("_row").cast(pl.Int64)
    return frame.drop("_row").with_columns(
        where.get_column("file_id").gather(rows),
        where.get_column("line_no").gather(rows),
    )


def _held(item: _File | FileResult) -> int:
    """Bytes of file content `item` holds in memory."""
    return item.size if isinstance(item, _File) and item.data is not None else 0


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)
