"""The workflows that span features, written once: every caller reaches them through
`callacct.Workspace`.

**Loading calls** (`load_files`): store the files (ingest), attribute, then rate, every call
stored but not yet finished, then move the files (`move_to`). The calls of the files are
attributed and rated as they are appended (`_FinishAsStored`, in a thread of their own while the
next calls are read and the previous ones appended: a first load then never updates the calls
it has just stored, which kept a whole load's updates in one transaction's memory);
what that leaves is finished after the ingest, as below. A call stored but not yet
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
from functools import partial
from pathlib import Path

import duckdb
import polars as pl

from callacct.api.results import IngestResult
from callacct.config import Settings
from callacct.directory import (
    AttributionResult,
    DirectoryImport,
    attribute_calls,
    attribute_frame,
)
from callacct.ingest import staging
from callacct.ingest.dialects import Dialect
from callacct.ingest.engine import StoreBreak, ingest_paths
from callacct.ingest.moving import move_processed
from callacct.ingest.staging import Append
from callacct.progress import FINISHING, Progress, Step
from callacct.rating import RateReport, Tariffs, rate_calls, rate_new
from callacct.rating.classify import PendingNumbers, warm_up
from callacct.rating.pending import rerate_pending
from callacct.rating.sites import rating_sites
from callacct.store import Store, insert_frame, transaction

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
    finisher = None
    if not dry_run and rerate_pending(store.con) is None:
        # With a re-rate pending, every call is rated after the ingest anyway.
        finisher = _FinishAsStored(store, settings, workers)
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
            write_calls=finisher,
        )
    except Exception:
        if not dry_run:
            _try_to_finish(store, settings)
        raise
    if dry_run:
        return IngestResult(report)
    if finisher is not None:
        finisher.write_numbers(store.con)
    if progress is not None:
        progress(Step(FINISHING))
    attribution, rating = finish_pending(store, settings, progress=progress, workers=workers)
    if finisher is not None:
        attribution, rating = finisher.added_to(attribution, rating)
    if move_to is not None:
        move_processed(report, move_to)
    return IngestResult(report, attribution, rating)


class _FinishAsStored:
    """Attributes and rates the calls of an ingest in the staging's rating thread and gives
    back their append (`ingest.staging.CallWriter`), which counts what was done once the calls
    are in. If attributing or rating fails, the calls are appended as they are: pending, so
    `finish_pending` meets the same failure after the ingest and reports it, and stops trying
    for the rest of the run."""

    def __init__(self, store: Store, settings: Settings, workers: int) -> None:
        self.settings = settings
        self.workers = workers
        self.tariffs = Tariffs.load(store.con)
        self.attribution = AttributionResult(calls=0, attributed=0, undefined=0)
        self.rating = RateReport(no_tariff=self.tariffs.empty)
        self.failed = False
        # Numbers classified, written to the store's cache with the calls rated with them, in
        # whole row groups (DuckDB merges partly filled ones at its next checkpoint, which
        # the command would wait for at its end); the rest after the ingest (`write_numbers`).
        self.numbers = PendingNumbers()

    def write_numbers(self, con: duckdb.DuckDBPyConnection) -> None:
        """Write the numbers classified and not written yet (fewer than a row group). They are
        a cache: if they cannot be written, the calls are stored all the same, and a store
        that refuses writes fails `finish_pending` next, which reports it."""
        numbers = self.numbers.take()
        if not numbers:
            return
        try:
            with transaction(con):
                PendingNumbers.write(con, numbers)
        except duckdb.Error as exc:
            log.info("classified numbers not cached (%s)", exc)
            return
        self.numbers.written(numbers)

    def warm_up(self) -> None:
        """Classify a few numbers under each site's dial plan (see `classify.warm_up`)."""
        try:
            for site in rating_sites(self.settings):
                warm_up(site.plan)
        except Exception as exc:  # the first calls rated meet it again, and report it
            log.debug("warming up the classification failed: %s", exc)

    def __call__(self, con: duckdb.DuckDBPyConnection, calls: pl.DataFrame) -> Append:
        if self.failed:
            return partial(insert_frame, table="calls", frame=calls)
        try:
            attributed, done = attribute_frame(
                con, calls, extension_pattern=self.settings.dialplan.extension_pattern
            )
        except Exception as exc:  # finish_pending meets it again and reports it
            self._give_up("attributed", exc)
            return partial(insert_frame, table="calls", frame=calls)
        try:
            rated = rate_new(
                con,
                self.settings,
                attributed,
                tariffs=self.tariffs,
                workers=self.workers,
                pending=self.numbers,
            )
        except Exception as exc:  # the same: the calls are stored pending
            self._give_up("rated", exc)
            return partial(insert_frame, table="calls", frame=attributed)
        numbers = self.numbers.take(whole=staging.ROW_GROUP_ROWS)

        def append(writer: duckdb.DuckDBPyConnection) -> None:
            # One commit for both (each commit is a write to disk).
            with transaction(writer):
                PendingNumbers.write(writer, numbers)
                rated.append(writer)
            self.numbers.written(numbers)
            self.attribution = _sum(self.attribution, done)
            self.rating.add(rated.report)

        return append

    def _give_up(self, what: str, exc: Exception) -> None:
        self.failed = True
        log.info("calls are %s after the ingest instead of as stored (%s)", what, exc)

    def added_to(
        self, attribution: AttributionResult, rating: RateReport
    ) -> tuple[AttributionResult, RateReport]:
        """What the run did in all: this and what `finish_pending` did after the ingest."""
        total = RateReport(no_tariff=rating.no_tariff)
        total.add(self.rating)
        total.add(rating)
        total.no_tariff = rating.no_tariff
        return _sum(self.attribution, attribution), total


def _sum(a: AttributionResult, b: AttributionResult) -> AttributionResult:
    return AttributionResult(
        calls=a.calls + b.calls,
        attributed=a.attributed + b.attributed,
        undefined=a.undefined + b.undefined,
    )


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
