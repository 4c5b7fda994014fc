"""The scheduler's alarm job: `callacct scheduler run` and `callacct schedule run-due` run it
with the other due jobs (`callacct.delivery.DUE_JOBS`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, Protocol

from callacct.outcomes import JobOutcome
from callacct.progress import Progress

#: The name of this due job.
JOB = "alarms"


class AlarmsHost(Protocol):
    """What the job needs of the workspace (`callacct.Workspace` is one)."""

    def alarms(self, *, clock: Callable[[], dt.datetime] | None = None) -> Any: ...


def run_due(
    workspace: AlarmsHost, now: dt.datetime, *, progress: Progress | None = None
) -> list[JobOutcome]:
    """Evaluate the due alarms at `now` and mail what fired; one outcome per alarm evaluated
    (`fired`, `done` when nothing fired, `failed` when it could not be evaluated), `progress`
    told of each (stage `alarms`)."""
    result = workspace.alarms(clock=lambda: now).run(due=True, now=now, progress=progress)
    outcomes = []
    for outcome in result.outcomes:
        name = outcome.alarm
        if outcome.status == "failed":
            line = f"alarm {name}: failed: {outcome.error}"
            outcomes.append(JobOutcome(JOB, line, "failed", subject=name, error=outcome.error))
        elif outcome.events:
            summaries = "; ".join(event.summary for event in outcome.events)
            mail = f" ({outcome.mail})" if outcome.mail else ""
            line = f"alarm {name}: fired: {summaries}{mail}"
            outcomes.append(JobOutcome(JOB, line, "fired", subject=name))
        else:
            line = f"alarm {name}: nothing to report"
            outcomes.append(JobOutcome(JOB, line, "done", subject=name))
    return outcomes
