"""Load CDR files completely: store them, attribute and rate their calls, then move the files.

This is the one sequence the command line, the demo and scripts use to load calls. A call
stored but not yet finished is recognisable in the store by a NULL marker: `undefined_extension`
stays NULL until the call is attributed (it is then true or false), `dest_class` until it is
rated (it is then a class, `unknown` at worst). `finish_pending` completes every such call,
whichever run stored it, and every ingest runs it, even one that stores nothing (all files
already loaded), as does `callacct rate`. So a run that fails after storing — killed while
rating, stopped by a setting that rating refuses, a full disk — leaves calls pending only until
the next run; a failed run also tries to finish them at once.

Files are moved (`move_to`) only after all of that: a file that cannot be moved is a warning
naming it, never a reason to leave its calls half-processed; it stays where it is, is skipped
by the next run (its content is stored) and moved then.

Example (what `callacct ingest /var/cdr --move-to /var/cdr/done` does):

    result = load_files(store, settings, ["/var/cdr"], move_to=Path("/var/cdr/done"))
    result.ingest.stored, result.rating.priced, result.ingest.warnings
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from callacct.config import Settings
from callacct.directory import AttributionResult, attribute_calls
from callacct.ingest.dialects import Dialect
from callacct.ingest.engine import IngestReport, Progress, StoreBreak, ingest_paths
from callacct.rating import RateReport, rate_calls
from callacct.store import Store

log = logging.getLogger(__name__)

RatingProgress = Callable[[int, int], None]


@dataclass
class LoadResult:
    """What one load did: the ingest report (with move warnings), attribution and rating of
    the pending calls (None for a dry run)."""

    ingest: IngestReport
    attribution: AttributionResult | None = None
    rating: RateReport | None = None


def load_files(
    store: Store,
    settings: Settings,
    paths: Sequence[str | Path],
    *,
    dialect: Dialect | None = None,
    dry_run: bool = False,
    force: bool = False,
    move_to: Path | None = None,
    progress: Progress | None = None,
    on_total: Callable[[int], None] | None = None,
    on_finishing: Callable[[], None] | None = None,
    rating_progress: RatingProgress | None = None,
    workers: int = 1,
    between_batches: StoreBreak | None = None,
) -> LoadResult:
    """Ingest `paths` (see `ingest_paths`), finish every pending call, then move the files.

    `on_finishing()` is called when storing is over and attribution and rating begin;
    `rating_progress(done, total)` follows the classification of new numbers;
    `between_batches(store)` is `ingest_paths`'s break between batches.
    """
    try:
        report = ingest_paths(
            store,
            settings,
            paths,
            dialect=dialect,
            dry_run=dry_run,
            force=force,
            progress=progress,
            on_total=on_total,
            between_batches=between_batches,
        )
    except Exception:
        if not dry_run:
            _try_to_finish(store, settings)
        raise
    if dry_run:
        return LoadResult(report)
    if on_finishing is not None:
        on_finishing()
    attribution, rating = finish_pending(store, settings, progress=rating_progress, workers=workers)
    if move_to is not None:
        move_processed(report, move_to)
    return LoadResult(report, attribution, rating)


def attribute_pending(con: duckdb.DuckDBPyConnection, settings: Settings) -> AttributionResult:
    """Attribute every call not attributed yet, as of its time (rating needs its site)."""
    return attribute_calls(
        con, new_only=True, extension_pattern=settings.dialplan.extension_pattern
    )


def finish_pending(
    store: Store,
    settings: Settings,
    *,
    progress: RatingProgress | None = None,
    workers: int = 1,
) -> tuple[AttributionResult, RateReport]:
    """Attribute, then rate, every call stored but not finished (see the module docstring)."""
    attribution = attribute_pending(store.con, settings)
    rating = rate_calls(store.con, settings, only_new=True, progress=progress, workers=workers)
    return attribution, rating


def pending_calls(con: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    """How many calls wait for attribution, and how many for rating."""
    row = con.execute(
        "SELECT count(*) FILTER (undefined_extension IS NULL), "
        "count(*) FILTER (dest_class IS NULL) FROM calls"
    ).fetchall()[0]
    return int(row[0]), int(row[1])


def _try_to_finish(store: Store, settings: Settings) -> None:
    """After a failed ingest, finish what earlier batches of it stored, if the store lets us;
    otherwise the next run does (the failure itself is what the caller reports)."""
    try:
        finish_pending(store, settings)
    except Exception as exc:  # the ingest's own error is the one to report
        log.info("calls stored before the failure stay pending until the next run (%s)", exc)


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
