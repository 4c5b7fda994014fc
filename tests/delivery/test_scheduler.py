"""The scheduler loop: a tick at start, one line per job (with the time), errors logged as a
line and the loop going on, a stop event ending it."""

from __future__ import annotations

import datetime as dt
import threading

from callacct.delivery.scheduler import run_scheduler
from callacct.errors import DeliveryError

NOW = dt.datetime(2026, 12, 7, 6, 0, tzinfo=dt.UTC)


def test_one_tick_logs_one_line_per_job() -> None:
    lines: list[str] = []
    seen: list[dt.datetime] = []

    def due(now: dt.datetime) -> list[str]:
        seen.append(now)
        return ["schedule a 2026-W49: 1 sent", "schedule b 2026-W49: 0 sent"]

    ticks = run_scheduler(
        due, tick_s=3600, stop=threading.Event(), clock=lambda: NOW, on_line=lines.append,
        max_ticks=1,
    )  # fmt: skip
    assert ticks == 1
    assert seen == [NOW]
    assert lines == [
        "2026-12-07T06:00:00+00:00 schedule a 2026-W49: 1 sent",
        "2026-12-07T06:00:00+00:00 schedule b 2026-W49: 0 sent",
    ]


def test_an_error_is_a_line_and_a_stop_ends_the_loop() -> None:
    lines: list[str] = []
    stop = threading.Event()

    def due(now: dt.datetime) -> list[str]:
        stop.set()  # as SIGTERM would, while a job runs: the loop ends after it
        raise DeliveryError("SMTP server unreachable")

    ticks = run_scheduler(due, tick_s=3600, stop=stop, clock=lambda: NOW, on_line=lines.append)
    assert ticks == 1
    assert lines == ["2026-12-07T06:00:00+00:00 error: SMTP server unreachable"]
