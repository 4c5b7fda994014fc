"""What an ingest run tells its caller: a `FileResult` per file and an `IngestReport` per run.

Every record read ends as exactly one of stored, duplicate or rejected, so the counts always
reconcile, per file and in total: `rows_read = stored + duplicates + rejected`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

#: Told the number of bytes just processed, inside a run (its caller's `callacct.progress`
#: callback is told the running total).
Advance = Callable[[int], None]


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
