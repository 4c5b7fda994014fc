"""The jobs a scheduler runs: `callacct scheduler run` and `callacct schedule run-due` both
run every entry of `DUE_JOBS`, so they follow one rule.

An entry is `(name, "module:function")`, the function being
`run_due(workspace, now, *, progress=None) -> list[JobOutcome]` (`callacct.outcomes`: one
outcome per thing done, with its log line and status); it is imported when first run, so a
job's package is loaded only by the runs that need it. `progress` (`callacct.progress`) is told
the job's steps.

Example:
    >>> [name for name, _ in DUE_JOBS][:1]
    ['schedules']
"""

from __future__ import annotations

import datetime as dt
import importlib
import logging
from typing import Any, Protocol

from callacct.errors import CallacctError, ConfigError
from callacct.outcomes import JobOutcome
from callacct.progress import Progress

log = logging.getLogger(__name__)

#: Every job a scheduler runs, in order.
DUE_JOBS: tuple[tuple[str, str], ...] = (
    ("schedules", "callacct.delivery.schedules:run_due"),
    ("alarms", "callacct.alarms.jobs:run_due"),
    ("budgets", "callacct.budgets.jobs:run_due"),
)


class DueJob(Protocol):
    """A due job: what it did at `now`, one outcome per thing done."""

    def __call__(
        self, workspace: Any, now: dt.datetime, *, progress: Progress | None = None
    ) -> list[JobOutcome]: ...


def load_job(target: str) -> DueJob:
    """The function named `module:function`."""
    module_name, _, function = target.partition(":")
    try:
        found = getattr(importlib.import_module(module_name), function)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"due job {target!r} cannot be loaded: {exc}") from None
    if not callable(found):
        raise ConfigError(f"due job {target!r} is not a function")
    job: DueJob = found
    return job


def run_due_jobs(
    workspace: Any,
    now: dt.datetime,
    *,
    progress: Progress | None = None,
    jobs: tuple[tuple[str, str], ...] = DUE_JOBS,
) -> list[JobOutcome]:
    """Run every due job (of `jobs`) at `now`; their outcomes, in order. A job that raises is
    one `failed` outcome (line `<job>: error: ...`) and the others still run."""
    outcomes: list[JobOutcome] = []
    for name, target in jobs:
        try:
            outcomes += load_job(target)(workspace, now, progress=progress)
        except CallacctError as exc:
            outcomes.append(failed_job(name, exc))
            log.warning("%s: %s", name, exc)
    return outcomes


def failed_job(name: str, exc: Exception) -> JobOutcome:
    """The outcome of job `name` stopped by `exc`."""
    return JobOutcome(name, f"{name}: error: {exc}", "failed", error=str(exc))
