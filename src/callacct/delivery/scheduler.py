"""`callacct scheduler run`: a long-running process that runs the due jobs.

Built on the `schedule` package's job loop: one job, every `delivery.tick_s` seconds (and
once at start), runs every due job (`callacct.delivery.jobs`) at the clock's time. Between
ticks the store is closed — an ingest never waits for the scheduler — and each tick reads
the schedules afresh, so an added, changed, paused or removed schedule is followed without a
restart. `stop` (an event the caller sets on SIGTERM/SIGINT) ends the loop after the job in
progress; no period is lost or repeated, since each run is recorded exactly once
(`callacct.delivery.schedules`).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from typing import Any

import schedule

from callacct.errors import CallacctError

log = logging.getLogger(__name__)


def run_scheduler(
    run_due: Callable[[dt.datetime], list[str]],
    *,
    tick_s: int,
    stop: threading.Event,
    clock: Callable[[], dt.datetime],
    on_line: Callable[[str], None],
    max_ticks: int | None = None,
) -> int:
    """Run `run_due(now)` every `tick_s` seconds until `stop` is set (or `max_ticks` ticks
    were run); `on_line` receives each log line (prefixed with the time). The number of
    ticks run."""
    ticks = 0

    def tick() -> Any:
        nonlocal ticks
        ticks += 1
        now = clock()
        try:
            lines = run_due(now)
        except CallacctError as exc:
            lines = [f"error: {exc}"]
        for line in lines:
            on_line(f"{now.astimezone(dt.UTC).isoformat(timespec='seconds')} {line}")
        if max_ticks is not None and ticks >= max_ticks:
            stop.set()
            return schedule.CancelJob

    jobs = schedule.Scheduler()
    jobs.every(tick_s).seconds.do(tick)
    tick()
    while not stop.is_set():
        jobs.run_pending()
        wait = jobs.idle_seconds
        stop.wait(timeout=max(0.05, min(1.0, wait if wait is not None else 1.0)))
    jobs.clear()
    return ticks
