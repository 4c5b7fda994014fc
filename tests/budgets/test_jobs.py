"""The scheduler's budget job: one of the delivery package's due jobs."""

from __future__ import annotations

from callacct.api import Workspace
from callacct.budgets.jobs import run_due
from callacct.delivery import DUE_JOBS, run_due_jobs
from callacct.outcomes import lines_of
from callacct.progress import Step
from tests.budgets.conftest import Calls, utc


def test_the_scheduler_runs_the_budget_evaluation(workspace: Workspace, calls: Calls) -> None:
    assert ("budgets", "callacct.budgets.jobs:run_due") in DUE_JOBS
    now = utc("2026-12-10 12:00")
    workspace.set_budget(user="bob", amount="5", warn_at="", now=now)
    calls.add("bob", "2026-12-02 10:00", "6")
    seen: list[Step] = []
    outcomes = run_due_jobs(workspace, now, progress=seen.append)
    assert [(o.job, o.subject, o.status, o.line) for o in outcomes if o.job == "budgets"] == [
        ("budgets", "budget 1 bob", "done", "budget 1 bob: locked")
    ]
    assert Step("budgets") in seen
    assert run_due(workspace, now) == []  # done already
    assert lines_of(run_due(workspace, utc("2027-01-01 00:00"))) == [
        "budget 1 bob: unlocked (new period 2027-01)"
    ]


def test_a_failed_lock_is_a_failed_outcome() -> None:
    import datetime as dt

    from callacct.budgets.model import BudgetEvent, Evaluation

    def event(action: str, message: str | None) -> BudgetEvent:
        return BudgetEvent(
            1, dt.datetime(2026, 12, 10, 12), 1, "user", "bob", "bob", dt.date(2026, 12, 1),
            action, None, None, None, None, "EUR", "done", message,
        )  # fmt: skip

    class Host:
        def evaluate_budgets(self, *, now: dt.datetime | None = None) -> Evaluation:
            return Evaluation(1, [event("lock-failed", "the phone system is down")])

    [outcome] = run_due(Host(), utc("2026-12-10 12:00"))
    assert (outcome.status, outcome.error) == ("failed", "the phone system is down")
    assert outcome.line == "budget 1 bob: lock failed (the phone system is down)"
