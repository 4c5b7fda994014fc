"""Planning a run: which files to load, what each holds, and in which batches they are stored.

`Preparer.prepare` reads and hashes each file (a small one whole; a large one only when a
loaded file has its size, otherwise while it is stored), recognises its dialect and layout
(once per distinct header), and sets aside what is not to be loaded: names starting with `_`
(still being written), unreadable or unrecognised files, content already loaded (the ledger's
`known_hashes`) or met earlier in the run. `Batches` joins the small files left, by layout,
into batches of `ingest.batch_bytes`: CUCM writes a file per node per minute, and per-file
overhead, not parsing, decides throughput. A larger file is a batch of its own.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from callacct.config import Settings
from callacct.errors import CallacctError, IngestError, PluginError
from callacct.ingest.dialects import Dialect, Layout, detect_dialect
from callacct.ingest.report import FileResult

if TYPE_CHECKING:
    from callacct.ingest.ledger import Ledger

HEAD_BYTES = 64 * 1024
SCREEN_FILES = 2000  # files whose hashes are looked up in the ledger at once (at most)


def utcnow() -> dt.datetime:
    """Now, as the store keeps times: UTC without a zone."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


@dataclass
class LoadFile:
    """A file to load, as prepared: its dialect and layout, and its content if it is small."""

    path: Path
    size: int
    sha256: str | None  # None: a large file hashed while it is read
    dialect: Dialect
    layout: Layout
    data: bytes | None  # whole content for small files; None for large ones read in chunks
    result: FileResult
    started_at: dt.datetime = field(default_factory=utcnow)
    archive: str = ""  # its raw archive, relative to the archive folder
    archive_at: int | None = None  # where the file starts in its archive's decompressed stream


def held(item: LoadFile | FileResult) -> int:
    """Bytes of file content `item` holds in memory."""
    return item.size if isinstance(item, LoadFile) and item.data is not None else 0


class Preparer:
    """Reads, hashes and recognises the files of one run (see the module docstring).

    Runs in a thread ahead of the run: it reads the store only through the ledger's lookups and
    never touches the run's report.
    """

    def __init__(
        self,
        settings: Settings,
        ledger: Ledger,
        *,
        force: bool,
        extra_dialects: Sequence[Dialect] = (),
    ) -> None:
        self.settings = settings
        self.ledger = ledger
        self.force = force
        self.extra_dialects = list(extra_dialects)
        self.seen_hashes: set[str] = set()
        self.large_sizes: set[int] = set()
        self._layouts: dict[tuple[str, bytes], tuple[Dialect, Layout]] = {}

    def prepare(
        self, files: dict[Path, bool], forced: Dialect | None
    ) -> Iterator[LoadFile | FileResult]:
        """Read, hash and detect files, in order: yield those to load, and the results of those
        that are not (in progress, unreadable, unrecognised, content already loaded)."""
        group: list[LoadFile] = []
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
            except PluginError:
                raise  # not this file's fault: the run stops
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
            if size >= self.settings.ingest.parse_bytes or len(group) >= SCREEN_FILES:
                yield from self._screen(group)
                group, size = [], 0
        yield from self._screen(group)

    def _screen(self, group: list[LoadFile]) -> Iterator[LoadFile | FileResult]:
        """Set aside the files whose content is already loaded (or seen earlier in this run)."""
        hashes = {c.sha256 for c in group if c.sha256}
        known = set() if self.force else self.ledger.known_hashes(hashes)
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

    def _open(self, path: Path, forced: Dialect | None, result: FileResult) -> LoadFile:
        size = path.stat().st_size
        large = size > self.settings.ingest.batch_bytes
        with path.open("rb") as fh:
            if large:
                head = fh.read(HEAD_BYTES)
                data = None
                sha = None
                # Content can only be known if a loaded file has the same size: only then is
                # it worth reading the file twice; otherwise it is hashed while it is stored.
                if not self.force and (size in self.large_sizes or self.ledger.known_size(size)):
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
        return LoadFile(path, size, sha, dialect, layout, data, result)

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


class Batches:
    """Small files waiting to be stored, joined by layout into batches of `batch_bytes`.

    Files of many layouts, each short of a batch, must not pile up: when the files waiting
    reach two batches' worth, the largest waiting batch is stored as it is.
    """

    def __init__(self, batch_bytes: int) -> None:
        self.batch_bytes = batch_bytes
        self.files: dict[tuple[object, ...], list[LoadFile]] = {}
        self.sizes: dict[tuple[object, ...], int] = {}
        self.held = 0

    def add(self, item: LoadFile) -> list[LoadFile] | None:
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

    def rest(self) -> Iterator[list[LoadFile]]:
        """The batches still waiting, at the end of the run."""
        while self.files:
            key = next(iter(self.files))
            self.held -= self.sizes.pop(key)
            yield self.files.pop(key)
