"""The scheduler's budget job: one of the delivery package's due jobs."""

from __future__ import annotations

from callacct.api import Workspace
from callacct.budgets.jobs import run_due
from callacct.delivery import DUE_JOBS, run_due_jobs
from tests.budgets.conftest import Calls, utc


def test_the_scheduler_runs_the_budget_evaluation(workspace: Workspace, calls: Calls) -> None:
    assert ("budgets", "callacct.budgets.jobs:run_due") in DUE_JOBS
    now = utc("2026-12-10 12:00")
    workspace.set_budget(user="bob", amount="5", warn_at="", now=now)
    calls.add("bob", "2026-12-02 10:00", "6")
    lines = run_due_jobs(workspace, now)
    assert "budget 1 bob: locked" in lines
    assert run_due(workspace, now) == []  # done already
    assert run_due(workspace, utc("2027-01-01 00:00")) == [
        "budget 1 bob: unlocked (new period 2027-01)"
    ]
