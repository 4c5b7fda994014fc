"""The scheduler's budget job: `run_due(workspace, now)` evaluates every budget (the same
evaluation as after an ingest) and returns one log line per action taken.

Listed by its text, `callacct.budgets.jobs:run_due`, among the delivery package's due jobs;
`workspace` is a `callacct.Workspace` (anything with its `evaluate_budgets`).
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from callacct.budgets.model import Evaluation


class BudgetHost(Protocol):
    def evaluate_budgets(self, *, now: dt.datetime | None = None) -> Evaluation: ...


def run_due(workspace: BudgetHost, now: dt.datetime) -> list[str]:
    """Evaluate the budgets at `now`; one line per action (warned, locked, ...)."""
    return workspace.evaluate_budgets(now=now).lines()
