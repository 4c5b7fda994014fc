"""A batch read into parsed pieces, in the thread that reads ahead of storing.

The small files of a batch are joined and parsed together in pieces of `ingest.parse_bytes`
(per-file overhead, not parsing, is what costs); a large file is read in chunks of whole lines
(`files.read_chunks`) and hashed as it is read. Every byte read is handed to the raw archive as
it is read, and each file's place in the archive noted.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

from callacct.config import Settings
from callacct.ingest.archiving import RunArchive
from callacct.ingest.chunks import Segment
from callacct.ingest.dialects import Dialect
from callacct.ingest.files import body_start, read_chunks
from callacct.ingest.parse import ParsedChunk, count_byte, parse_chunk
from callacct.ingest.plan import LoadFile

# A parsed piece: its dialect, the piece, its files' segments and its size in bytes.
Piece = tuple[Dialect, ParsedChunk, list[Segment], int]


def batch_pieces(files: list[LoadFile], settings: Settings, archive: RunArchive) -> Iterator[Piece]:
    """The small files `files` (one layout, read whole) joined and parsed piece by piece."""
    layout, dialect = files[0].layout, files[0].dialect
    ingest = settings.ingest
    # Views, not slices: the bodies are copied once, when they are joined.
    bodies: list[bytes | memoryview] = []
    segments: list[Segment] = []
    size = line = length = 0
    whole: list[bytes | memoryview] = []
    for n, item in enumerate(files):
        data = item.data
        assert data is not None
        archive.place(item, len(data))
        whole.append(data)
        start = body_start(data, layout.header_lines)
        segments.append((item, line, layout.header_lines + 1))
        if start < len(data):
            bodies.append(memoryview(data)[start:])
            line += count_byte(data, b"\n", start)
            length += len(data) - start
            if not data.endswith(b"\n"):
                bodies.append(b"\n")
                line += 1
        size += item.size
        if length >= ingest.parse_bytes or n == len(files) - 1:
            archive.append(whole)
            body = b"".join(bodies)
            parsed = parse_chunk(body, layout, line, max_line=ingest.max_line_bytes)
            yield dialect, parsed, segments, size
            bodies, segments, whole, size, line, length = [], [], [], 0, 0, 0


def large_file_pieces(item: LoadFile, settings: Settings, archive: RunArchive) -> Iterator[Piece]:
    """The large file `item` read, hashed (`item.sha256`, at the end) and parsed chunk by
    chunk."""
    ingest = settings.ingest
    layout = item.layout
    digest = hashlib.sha256()

    def read(data: bytes) -> None:
        digest.update(data)
        archive.append([data])

    archive.place(item, item.size)
    for chunk, first_line, lines, size in read_chunks(
        item.path, layout.header_lines, ingest.parse_bytes, ingest.max_line_bytes, read
    ):
        parsed = parse_chunk(chunk, layout, lines, max_line=ingest.max_line_bytes)
        yield item.dialect, parsed, [(item, 0, first_line)], size
    item.sha256 = digest.hexdigest()
