"""Sharing the store between one writing process and readers, with two lock files beside it.

DuckDB lets one process open the file for writing, or several open it read-only, never both.
A long writer (cron's ingest) would make every reader (a report, a web page) wait for its
whole run. So the writer lets readers in at its safe points:

- `callacct.duckdb.writer` is held (exclusive `flock`) by the one process that writes, for as
  long as it has the store open. Other writers wait for it; readers never touch it. So while a
  writer has closed the database file to let readers in, no other writer can take it.
- `callacct.duckdb.readers` is the readers' gate. A reader holds it shared while it opens the
  database (`waiting_to_read`); a writer at a safe point sees it held (`readers_waiting`),
  closes its connection, waits until the readers are in (the gate is free), closes the gate
  (exclusive) while it opens the database again, then opens the gate. Readers that come while
  the writer gets back in wait at the gate, and are let in at the next safe point.

Locks held by a process that dies are released by the system: nothing is left to clean up.
Where the files cannot be created (a read-only folder), there is nothing to share: readers
open the database as usual and writers run without letting readers in.

Example:
    >>> import tempfile, pathlib
    >>> store = pathlib.Path(tempfile.mkdtemp()) / "callacct.duckdb"
    >>> writer = WriterLock.acquire(store, timeout_s=1)
    >>> gate = ReadersGate.open(store)
    >>> gate.readers_waiting()
    False
    >>> writer.release()
"""

from __future__ import annotations

import errno
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Final

if sys.platform != "win32":
    import fcntl

log = logging.getLogger(__name__)

WRITER_SUFFIX: Final = ".writer"
READERS_SUFFIX: Final = ".readers"
#: How often a reader tries again while the writer holds the database or the gate.
READER_POLL_S: Final = 0.02
#: How long a writer waits for the waiting readers to get in before it goes on anyway.
LET_IN_S: Final = 10.0


def _lock_file(path: Path) -> int | None:
    """An open descriptor of the lock file `path` (created empty), or None when it cannot
    be created (a read-only folder, a full disk) or locked (a system without `flock`)."""
    if sys.platform == "win32":
        return None
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        if exc.errno in (
            errno.EROFS, errno.EACCES, errno.EPERM, errno.ENOENT, errno.ENOSPC, errno.EDQUOT
        ):  # fmt: skip
            log.debug("%s: cannot be created (%s); the store is not shared", path, exc)
            return None
        raise


def _try_lock(fd: int, kind: int) -> bool:
    try:
        fcntl.flock(fd, kind | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


@dataclass
class _Held:
    fd: int
    count: int


# Writer locks this process holds, by store path: a process may open its store twice (DuckDB
# shares one database between the connections of a process), and must not wait for itself.
_WRITERS: dict[Path, _Held] = {}
_WRITERS_LOCK = threading.Lock()


@dataclass
class WriterLock:
    """This process's right to write the store at `path` (see the module docstring)."""

    path: Path
    held: bool = True

    @classmethod
    def acquire(
        cls,
        store: Path,
        *,
        timeout_s: float,
        on_wait: Callable[[float], None] | None = None,
        busy: Callable[[float], Exception] | None = None,
    ) -> WriterLock:
        """Wait (with back-off) until no other process writes the store at `store`, up to
        `timeout_s`; then `busy(waited)` is raised (a `TimeoutError` by default)."""
        path = Path(str(store) + WRITER_SUFFIX)
        with _WRITERS_LOCK:
            held = _WRITERS.get(path)
            if held is not None:
                held.count += 1
                return cls(path)
        fd = _lock_file(path)
        if fd is None:
            return cls(path, held=False)
        start = time.monotonic()
        delay = 0.05
        while not _try_lock(fd, fcntl.LOCK_EX):
            waited = time.monotonic() - start
            if waited >= timeout_s:
                os.close(fd)
                raise (busy or _timeout)(waited)
            if on_wait is not None:
                on_wait(waited)
            time.sleep(min(delay, max(timeout_s - waited, 0.01)))
            delay = min(delay * 1.6, 2.0)
        with _WRITERS_LOCK:
            _WRITERS[path] = _Held(fd, 1)
        return cls(path)

    def release(self) -> None:
        if not self.held:
            return
        self.held = False
        with _WRITERS_LOCK:
            held = _WRITERS[self.path]
            held.count -= 1
            if held.count:
                return
            del _WRITERS[self.path]
        os.close(held.fd)  # releases the lock


def _timeout(waited: float) -> Exception:
    return TimeoutError(f"the store is still written by another process after {waited:.0f} s")


@dataclass
class ReadersGate:
    """The readers' gate of one store, as the writer sees it."""

    fd: int

    @classmethod
    def open(cls, store: Path) -> ReadersGate | None:
        fd = _lock_file(Path(str(store) + READERS_SUFFIX))
        return None if fd is None else cls(fd)

    def readers_waiting(self) -> bool:
        """Whether a reader waits to open the store (holds the gate)."""
        if _try_lock(self.fd, fcntl.LOCK_EX):
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            return False
        return True

    def close_gate(self, timeout_s: float = LET_IN_S) -> bool:
        """After the writer closed the database: wait until the readers waiting are in (the
        gate is free), then close the gate to newcomers while the writer opens the database
        again. Returns whether it is closed (False: readers still wait after `timeout_s`,
        a reader stuck somewhere; the writer goes on)."""
        until = time.monotonic() + timeout_s
        while not _try_lock(self.fd, fcntl.LOCK_EX):
            if time.monotonic() >= until:
                log.info("readers still waiting after %.0f s; the writer goes on", timeout_s)
                return False
            time.sleep(READER_POLL_S)
        return True

    def open_gate(self) -> None:
        """The writer is back: readers may queue at the gate again."""
        fcntl.flock(self.fd, fcntl.LOCK_UN)

    def close(self) -> None:
        os.close(self.fd)


@contextmanager
def waiting_to_read(store: Path, *, deadline: float) -> Iterator[bool]:
    """Hold the readers' gate (shared) while a reader opens the store; yields whether it is
    held (False where the gate cannot be created). Waits at the gate while a writer is getting
    back in, up to `deadline` (a `time.monotonic()` value)."""
    fd = _lock_file(Path(str(store) + READERS_SUFFIX))
    if fd is None:
        yield False
        return
    try:
        held = _try_lock(fd, fcntl.LOCK_SH)
        while not held and time.monotonic() < deadline:
            time.sleep(READER_POLL_S)
            held = _try_lock(fd, fcntl.LOCK_SH)
        yield held  # not held by the deadline: the open that follows says the store is busy
    finally:
        os.close(fd)  # releases the lock
