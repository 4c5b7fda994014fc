"""Move ingested files away (`ingest --move-to`), once their calls are finished.

A file that cannot be moved is a warning naming it, never a reason to leave its calls
half-processed: it stays where it is, is skipped by the next run (its content is stored) and
moved then.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from callacct.ingest.engine import IngestReport


def move_processed(report: IngestReport, target: Path) -> None:
    """Move every file stored or already known to `target`; one warning per file that cannot
    be moved (it stays where it is, and the next run moves it)."""
    for result in report.results:
        if result.status not in ("stored", "skipped"):
            continue
        source = Path(result.path)
        try:
            target.mkdir(parents=True, exist_ok=True)
            dest = _free_name(target, source.name)
            _move(source, dest)
        except OSError as exc:
            report.files_not_moved += 1
            report.warnings.append(
                f"{source}: not moved to {target} ({exc.strerror or exc}); it stays where it "
                "is and the next ingest moves it"
            )
            continue
        result.moved_to = str(dest)


def _free_name(folder: Path, name: str) -> Path:
    dest = folder / name
    n = 1
    while dest.exists():
        dest = folder / f"{name}.{n}"
        n += 1
    return dest


def _move(source: Path, dest: Path) -> None:
    """`shutil.move`, leaving no partial copy when a move across file systems fails."""
    try:
        shutil.move(source, dest)
    except OSError:
        if source.exists() and dest.is_file():
            dest.unlink(missing_ok=True)
        raise
