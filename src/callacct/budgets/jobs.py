"""The scheduler's budget job: `run_due(workspace, now)` evaluates every budget (the same
evaluation as after an ingest) and returns one outcome per action taken.

Listed by its text, `callacct.budgets.jobs:run_due`, among the delivery package's due jobs;
`workspace` is a `callacct.Workspace` (anything with its `evaluate_budgets`).
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from callacct.budgets.model import Evaluation
from callacct.outcomes import JobOutcome
from callacct.progress import BUDGETS, Progress, Step

#: The name of this due job.
JOB = "budgets"
#: Actions that are failures of the job's outcome (a line that could not be locked).
FAILED_ACTIONS = frozenset({"lock-failed"})


class BudgetHost(Protocol):
    def evaluate_budgets(self, *, now: dt.datetime | None = None) -> Evaluation: ...


def run_due(
    workspace: BudgetHost, now: dt.datetime, *, progress: Progress | None = None
) -> list[JobOutcome]:
    """Evaluate the budgets at `now`; one outcome per action (warned, locked, ...), `failed`
    for a lock that failed. `progress` is told of the evaluation as one step (`budgets`)."""
    if progress is not None:
        progress(Step(BUDGETS))
    evaluation = workspace.evaluate_budgets(now=now)
    return [
        JobOutcome(
            JOB,
            line,
            "failed" if event.action in FAILED_ACTIONS else "done",
            subject=f"budget {event.budget_id} {event.target}",
            error=event.message if event.action in FAILED_ACTIONS else None,
        )
        for event, line in zip(evaluation.events, evaluation.lines(), strict=True)
    ]
