"""The scheduler's alarm job: `callacct scheduler run` and `callacct schedule run-due` run it
with the other due jobs (`callacct.delivery.DUE_JOBS`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, Protocol


class AlarmsHost(Protocol):
    """What the job needs of the workspace (`callacct.Workspace` is one)."""

    def alarms(self, *, clock: Callable[[], dt.datetime] | None = None) -> Any: ...


def run_due(workspace: AlarmsHost, now: dt.datetime) -> list[str]:
    """Evaluate the due alarms at `now` and mail what fired; one line per alarm evaluated."""
    result = workspace.alarms(clock=lambda: now).run(due=True, now=now)
    lines = []
    for outcome in result.outcomes:
        if outcome.status == "failed":
            lines.append(f"alarm {outcome.alarm}: failed: {outcome.error}")
        elif outcome.events:
            summaries = "; ".join(event.summary for event in outcome.events)
            mail = f" ({outcome.mail})" if outcome.mail else ""
            lines.append(f"alarm {outcome.alarm}: fired: {summaries}{mail}")
        else:
            lines.append(f"alarm {outcome.alarm}: nothing to report")
    return lines
