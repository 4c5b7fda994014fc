"""The raw archive of a run: every file stored is kept whole, byte for byte, compressed.

Each batch (or large file) gets an archive of its own (`archive/raw/YYYY-MM/<run>-<n>.csv.zst`,
see `store/archive.py`) holding its files one after the other, exactly as read. Files are
compressed by a background thread as the reading thread reads them, in order; at most two
pieces wait, each holding its text. A batch's archive must be written before its files are
marked done (`finish`).
"""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from callacct.ingest.plan import LoadFile, utcnow
from callacct.store.archive import SUFFIX, ArchiveFile


class RunArchive:
    """The archives of one run (`run_id`) under `root`."""

    def __init__(self, root: Path, run_id: str) -> None:
        self.root = root
        self.run_id = run_id
        self._count = 0
        self._archive: ArchiveFile | None = None  # of the batch being stored
        self._offset = 0
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="archive")
        self._writes: list[Future[None]] = []  # appended by the reading thread
        self._lock = threading.Lock()

    def open(self, files: list[LoadFile]) -> None:
        """Start the archive of a batch (or large file) and name it in its files."""
        self._count += 1
        month = utcnow().strftime("%Y-%m")
        name = f"{month}/{self.run_id}-{self._count:05d}{SUFFIX}"
        self._archive = ArchiveFile(self.root / name)
        self._offset = 0
        for item in files:
            item.archive = name

    def place(self, item: LoadFile, size: int) -> None:
        """Note where `item` (`size` bytes, appended next) starts in the archive."""
        item.archive_at = self._offset
        self._offset += size

    def append(self, parts: list[bytes | memoryview]) -> None:
        """Compress and append `parts` to the batch's archive in the archive thread, in order.

        Called by the reading thread as it reads; at most two pieces wait (each holds its text).
        """
        archive = self._archive
        if archive is None or not parts:
            return  # a dry run keeps nothing
        while True:
            with self._lock:
                running = [f for f in self._writes if not f.done()]
                # Writes are waited for only when their files are marked done: report a
                # failed one now.
                for done in (f for f in self._writes if f.done()):
                    if (error := done.exception()) is not None:
                        raise error
                if len(running) < 2:
                    self._writes = [*running, self._executor.submit(archive.append, parts)]
                    return
            running[0].exception()

    def close(self) -> None:
        """End the batch's archive (written by the archive thread, after its last part)."""
        if self._archive is not None:
            with self._lock:
                self._writes.append(self._executor.submit(self._archive.close))
            self._archive = None

    def finish(self, *, raise_errors: bool = True) -> None:
        """Wait for every write handed over; raise the first failure unless told not to."""
        with self._lock:
            writes, self._writes = self._writes, []
        for future in writes:
            error = future.exception()
            if error is not None and raise_errors:
                raise error

    def shutdown(self) -> None:
        self._executor.shutdown(wait=True)
