"""The raw archive: every ingested file kept byte for byte, compressed, for audit and re-processing.

An archive file (`archive/raw/YYYY-MM/<run>-<n>.csv.zst`) is a sequence of zstd frames whose
decompressed stream is whole source files one after the other, exactly as they were read (header
lines, rejected and duplicate lines included). The ledger (`ingest_files`) gives each file its
archive, the offset of its first byte in that stream (`archive_at`) and its size, so a file comes
back exactly, and its sha256 proves it. Any zstd tool (and DuckDB's or Spark's CSV readers)
reads an archive as it is.

Keeping files rather than parsed lines costs one compression pass: no second parse of the text,
no per-line rows to build. A ledger row without an offset (`archive_at` NULL) has no archive
this module reads: reading it is a one-line error, and files under `archive/` that are not
`*.csv.zst` are never listed, read or deleted.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import pyarrow as pa

from callacct.errors import CallacctError
from callacct.store.connection import Store

SUFFIX = ".csv.zst"
_CODEC = pa.Codec("zstd")


class ArchiveFile:
    """One archive being written: whole files appended as zstd frames, one a hand-over (a
    piece of a large file, or the files of a batch), at Arrow's default zstd level, 1 (its
    ratio and speed on CDR text are in docs/benchmarks.md, Ingest). A piece compressed in one
    call costs less than the same bytes through a compressing stream, for the same ratio;
    the frames read back as one stream.

    Not thread-safe: the ingest appends from one writer thread, in order.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: BinaryIO | None = None

    def append(self, parts: list[bytes | memoryview]) -> None:
        """Append `parts` (the bytes of whole files, or of a large file in order).

        A failure (a full disk, a read-only folder) is an `OSError` naming the archive.
        """
        data = parts[0] if len(parts) == 1 else b"".join(parts)
        try:
            if self._file is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._file = self.path.open("wb")
            self._file.write(_CODEC.compress(data, asbytes=False))
        except OSError as exc:
            self._abandon()
            raise self._error(exc) from exc

    def close(self) -> None:
        if self._file is not None:
            file, self._file = self._file, None
            try:
                file.close()
            except OSError as exc:
                raise self._error(exc) from exc

    def _abandon(self) -> None:
        """Close the file, ignoring a second failure (its buffer cannot be written either)."""
        if self._file is not None:
            file, self._file = self._file, None
            with contextlib.suppress(OSError):
                file.close()

    def _error(self, exc: OSError) -> OSError:
        reason = exc.strerror or str(exc)
        return OSError(exc.errno, reason, str(self.path))


def read_archived(store: Store, file_id: int) -> bytes:
    """The exact content of ingested file `file_id`, from the raw archive."""
    path, archive, offset, size = _archived(store, file_id)
    data = b"".join(_blocks(store, archive, path, offset, size))
    if len(data) != size:
        raise CallacctError(f"{store.archive_dir / archive}: truncated archive of {path}")
    return data


def archived_line(store: Store, file_id: int, line_no: int) -> str:
    """The text of line `line_no` (1-based, header lines counted) of ingested file `file_id`.

    Reads the archive only up to that line.
    """
    if line_no < 1:
        raise CallacctError(f"line numbers start at 1, not {line_no}")
    path, archive, offset, size = _archived(store, file_id)
    seen = 0  # whole lines passed
    tail = b""  # a line begun in the block before
    for block in _blocks(store, archive, path, offset, size):
        lines = (tail + block).split(b"\n")
        tail = lines.pop()  # unfinished (or empty after a final newline)
        if seen + len(lines) >= line_no:
            return _text(lines[line_no - seen - 1])
        seen += len(lines)
    if tail and seen + 1 == line_no:
        return _text(tail)
    raise CallacctError(f"{path} has no line {line_no}")


def _blocks(store: Store, archive: str, path: str, offset: int, size: int) -> Iterator[bytes]:
    """The `size` bytes of one file from `offset` in its archive's stream, block by block.

    A missing or damaged archive is a one-line error naming it, never a traceback.
    """
    where = store.archive_dir / archive
    try:
        with pa.CompressedInputStream(str(where), "zstd") as stream:
            _skip(stream, offset)
            while size > 0:
                block: bytes = stream.read(min(size, 4 << 20))
                if not block:
                    return
                size -= len(block)
                yield block
    except (OSError, pa.ArrowException) as exc:
        raise CallacctError(
            f"{where}: cannot read the raw archive of {path} ({exc}); "
            "it was moved, deleted or damaged"
        ) from None


def _text(line: bytes) -> str:
    return line.rstrip(b"\r").decode("utf-8", errors="replace")


def _entry(store: Store, file_id: int) -> tuple[str, str, int | None, int]:
    """Path, archive, offset in it and size of an ingested file, from the ledger."""
    row = store.con.execute(
        "SELECT path, archive, archive_at, size FROM ingest_files "
        "WHERE file_id = ? AND status = 'done'",
        [file_id],
    ).fetchone()
    if row is None:
        raise CallacctError(f"no ingested file with id {file_id}")
    return str(row[0]), str(row[1] or ""), row[2], int(row[3])


def _archived(store: Store, file_id: int) -> tuple[str, str, int, int]:
    """Path, archive, offset and size of a file with a whole-file archive; a one-line error
    for a file with none (nothing archived, or an archive without an offset in the ledger)."""
    path, archive, offset, size = _entry(store, file_id)
    if not archive:
        raise CallacctError(f"{path}: nothing archived")
    if offset is None:
        raise CallacctError(
            f"{path}: {archive} is not a whole-file raw archive (*.csv.zst), the only kind "
            "callacct reads; look the line up in the source file itself"
        )
    return path, archive, offset, size


def _skip(stream: pa.CompressedInputStream, count: int) -> None:
    while count:
        got = len(stream.read(min(count, 16 << 20)))
        if not got:
            return
        count -= got


def remove_archive(path: Path) -> None:
    """Delete an archive a failed ingest wrote, and its month folder if that is left empty."""
    path.unlink(missing_ok=True)
    # Left when other archives of the month are there.
    with contextlib.suppress(OSError):
        path.parent.rmdir()


def archive_files(root: Path) -> list[Path]:
    """Every raw archive (`*.csv.zst`) under `root`."""
    if not root.is_dir():
        return []
    return sorted(p for p in root.rglob(f"*{SUFFIX}") if p.is_file())
