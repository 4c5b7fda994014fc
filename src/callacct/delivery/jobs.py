"""The jobs a scheduler runs: `callacct scheduler run` and `callacct schedule run-due` both
run every entry of `DUE_JOBS`, so they follow one rule.

An entry is `(name, "module:function")`, the function being
`run_due(workspace, now) -> list[str]` (one log line per thing done); it is imported when
first run, so a job's package is loaded only by the runs that need it.

Example:
    >>> [name for name, _ in DUE_JOBS][:1]
    ['schedules']
"""

from __future__ import annotations

import datetime as dt
import importlib
import logging
from collections.abc import Callable
from typing import Any

from callacct.errors import CallacctError, ConfigError

log = logging.getLogger(__name__)

#: Every job a scheduler runs, in order.
DUE_JOBS: tuple[tuple[str, str], ...] = (
    ("schedules", "callacct.delivery.schedules:run_due"),
    ("alarms", "callacct.alarms.jobs:run_due"),
    ("budgets", "callacct.budgets.jobs:run_due"),
)

DueJob = Callable[[Any, dt.datetime], list[str]]


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


def run_due_jobs(workspace: Any, now: dt.datetime) -> list[str]:
    """Run every due job at `now`; their log lines. A job that fails is logged as one line
    (`<job>: error: ...`) and the others still run."""
    lines: list[str] = []
    for name, target in DUE_JOBS:
        try:
            lines += load_job(target)(workspace, now)
        except CallacctError as exc:
            lines.append(f"{name}: error: {exc}")
            log.warning("%s: %s", name, exc)
    return lines
