"""Finding CDR files and reading them: named paths to files, and large files in chunks of whole
lines whose memory stays bounded whatever a line holds."""

from __future__ import annotations

import glob
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO, TypeVar

from callacct.errors import IngestError, UsageError
from callacct.ingest.parse import count_lines

SKIP_BYTES = 1 << 20  # read at once while passing over a line too long to parse
_T = TypeVar("_T")


def discover(paths: Sequence[str | Path]) -> dict[Path, bool]:
    """Files named by `paths` (files, folders read recursively, glob patterns), in order.

    The value tells whether the file was named explicitly: an unrecognised file found while
    walking a folder is ignored, an unrecognised file named on the command line is a failure.
    """
    found: list[tuple[Path, bool]] = []
    for item in paths:
        text = str(item)
        path = Path(text)
        if path.is_dir():
            found += [(p, False) for p in _walk(path)]
        elif path.is_file():
            found.append((path, True))
        elif any(ch in text for ch in "*?["):
            for match in sorted(Path(m) for m in glob.glob(text, recursive=True)):
                if match.is_file():
                    found.append((match, True))
                elif match.is_dir():
                    found += [(p, False) for p in _walk(match)]
        else:
            raise UsageError(f"{text}: no such file or folder")
    unique: dict[Path, bool] = {}
    for p, explicit in found:
        key = Path(os.path.abspath(p))
        unique[key] = unique.get(key, False) or explicit
    return unique


def _walk(folder: Path) -> list[Path]:
    """Files under `folder`, hidden files and folders left out (os.walk: no stat per file)."""
    files: list[Path] = []
    for top, folders, names in os.walk(folder):
        folders[:] = [d for d in folders if not d.startswith(".")]
        files += [Path(top, name) for name in names if not name.startswith(".")]
    return sorted(files)


def body_start(data: bytes, header_lines: int) -> int:
    """Where the records of `data` start, after the header lines (or a BOM)."""
    start = 0
    for _ in range(header_lines):
        nl = data.find(b"\n", start)
        if nl < 0:
            return len(data)
        start = nl + 1
    if start == 0 and data.startswith(b"\xef\xbb\xbf"):
        start = 3
    return start


def read_chunks(
    path: Path,
    header_lines: int,
    size: int,
    max_line: int,
    consume: Callable[[bytes], None],
) -> Iterator[tuple[bytes, int, int, int]]:
    """Chunks of whole lines of `path` after the header: each with the line number of its
    start, its number of lines and the bytes of the file it covers.

    Every byte read is given to `consume` as it was read, header included, so the file is
    hashed and archived in the same pass. Memory stays bounded whatever the file holds: a line
    longer than `max_line` ends its chunk with only its first `max_line + 1` bytes (enough for
    `parse_chunk` to reject it), the rest is read in pieces and only consumed.
    """
    with Source(path) as source:
        for _ in range(header_lines):
            header = source.readline(max_line + 1)
            consume(header)
            if header and not header.endswith(b"\n"):
                _skip_line(source, consume)
        line = header_lines + 1
        while True:
            chunk = source.read(size)
            if not chunk:
                return
            consume(chunk)
            covered = len(chunk)
            if not chunk.endswith(b"\n"):
                rest = source.readline(max_line + 1)
                consume(rest)
                covered += len(rest)
                chunk += rest
                if len(rest) > max_line and not rest.endswith(b"\n"):
                    covered += _skip_line(source, consume)
            if not chunk.endswith(b"\n"):
                chunk += b"\n"
            lines = count_lines(chunk)
            yield chunk, line, lines, covered
            line += lines


class UnreadableFile(IngestError):
    """A file that could not be read to its end (it fails alone; the run goes on)."""


class Source:
    """A file being read, whose read failures are `UnreadableFile`s: told apart from failures
    to write the store or the archive, which stop the run."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh: BinaryIO | None = None

    def __enter__(self) -> Source:
        self._fh = self._guard(lambda: self.path.open("rb"))
        return self

    def __exit__(self, *exc: object) -> None:
        if self._fh is not None:
            self._fh.close()

    def read(self, size: int) -> bytes:
        assert self._fh is not None
        fh = self._fh
        return self._guard(lambda: fh.read(size))

    def readline(self, limit: int) -> bytes:
        assert self._fh is not None
        fh = self._fh
        return self._guard(lambda: fh.readline(limit))

    def _guard(self, call: Callable[[], _T]) -> _T:
        try:
            return call()
        except OSError as exc:
            raise UnreadableFile(f"{self.path}: cannot read ({exc.strerror or exc})") from exc


def _skip_line(source: Source, consume: Callable[[bytes], None]) -> int:
    """Read the rest of the current line in bounded pieces, consuming them; bytes read."""
    skipped = 0
    while True:
        piece = source.readline(SKIP_BYTES)
        consume(piece)
        skipped += len(piece)
        if not piece or piece.endswith(b"\n"):
            return skipped


def file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
