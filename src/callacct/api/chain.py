"""The workflows that span features, written once: every caller reaches them through
`callacct.Workspace`.

**Loading calls** (`load_files`): store the files (ingest), attribute, then rate, every call
stored but not yet finished, then move the files (`move_to`). A call stored but not yet
finished is recognisable in the store by a NULL marker: `undefined_extension` stays NULL until
the call is attributed (it is then true or false), `dest_class` until it is rated (it is then a
class, `unknown` at worst). `finish_pending` completes every such call, whichever run stored
it, and every ingest runs it, even one that stores nothing (all files already loaded), as does
`callacct rate`. So a run that fails after storing — killed while rating, stopped by a setting
that rating refuses, a full disk — leaves calls pending only until the next run; a failed run
also tries to finish them at once. Files are moved only after all of that.

Readers that wait for the store meanwhile are let in between the ingest's batches and before
attributing and rating (`Store.let_readers_in`): a report does not wait for a whole load.
They see the calls stored and not yet finished, and are told how many there are
(`Workspace` on every read).

**A directory change** (`rerate_after_directory`): rating reads a call with the dial plan of
its directory site, so calls attributed again are rated again when sites are configured.

Example (what `callacct ingest /var/cdr --move-to /var/cdr/done` does):

    result = load_files(store, settings, ["/var/cdr"], move_to=Path("/var/cdr/done"))
    result.ingest.stored, result.rating.priced, result.warnings
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path

import duckdb

from callacct.api.results import IngestResult
from callacct.config import Settings
from callacct.directory import AttributionResult, DirectoryImport, attribute_calls
from callacct.ingest.dialects import Dialect
from callacct.ingest.engine import StoreBreak, ingest_paths
from callacct.ingest.moving import move_processed
from callacct.progress import FINISHING, Progress, Step
from callacct.rating import RateReport, rate_calls
from callacct.store import Store

log = logging.getLogger(__name__)


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
    workers: int = 1,
    between_batches: StoreBreak | None = Store.let_readers_in,
    break_if: Callable[[Store], bool] | None = Store.readers_waiting,
) -> IngestResult:
    """Ingest `paths` (see `ingest_paths`), finish every pending call, then move the files.

    `progress` follows the reading (bytes), then the attribution and rating (`finishing`),
    with the classification of new numbers counted. Between batches, readers waiting for the
    store are let in (`between_batches` when `break_if`: `ingest_paths`'s break).
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
            between_batches=between_batches,
            break_if=break_if,
        )
    except Exception:
        if not dry_run:
            _try_to_finish(store, settings)
        raise
    if dry_run:
        return IngestResult(report)
    if progress is not None:
        progress(Step(FINISHING))
    attribution, rating = finish_pending(store, settings, progress=progress, workers=workers)
    if move_to is not None:
        move_processed(report, move_to)
    return IngestResult(report, attribution, rating)


def attribute_pending(con: duckdb.DuckDBPyConnection, settings: Settings) -> AttributionResult:
    """Attribute every call not attributed yet, as of its time (rating needs its site)."""
    return attribute_calls(
        con, new_only=True, extension_pattern=settings.dialplan.extension_pattern
    )


def finish_pending(
    store: Store,
    settings: Settings,
    *,
    progress: Progress | None = None,
    workers: int = 1,
) -> tuple[AttributionResult, RateReport]:
    """Attribute, then rate, every call stored but not finished (see the module docstring);
    readers waiting for the store are let in before each."""
    store.let_readers_in()
    attribution = attribute_pending(store.con, settings)
    store.let_readers_in()
    rating = rate_calls(store.con, settings, only_new=True, progress=progress, workers=workers)
    return attribution, rating


def _try_to_finish(store: Store, settings: Settings) -> None:
    """After a failed ingest, finish what earlier batches of it stored, if the store lets us;
    otherwise the next run does (the failure itself is what the caller reports)."""
    try:
        finish_pending(store, settings)
    except Exception as exc:  # the ingest's own error is the one to report
        log.info("calls stored before the failure stay pending until the next run (%s)", exc)


def rerate_after_directory(
    con: duckdb.DuckDBPyConnection, settings: Settings, result: DirectoryImport
) -> RateReport | None:
    """Rating reads a call with the dial plan of its directory site: when sites are configured
    and calls were attributed again, rate those calls again too (only changed ones are written)."""
    done = result.changes.attribution
    if result.changes.dry_run or done is None or not done.calls or not settings.sites:
        return None
    return rate_calls(con, settings, start=result.changes.effective_from)
