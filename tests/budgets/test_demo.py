"""The demo workspace has budgets: one person over budget, locked through the dry-run backend."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from callacct.api import Workspace
from callacct.demo.workspace import build_demo


def test_the_demo_has_budgets_and_one_person_locked_by_theirs(tmp_path: Path) -> None:
    root = tmp_path / "demo"
    build_demo(root, days=3, people=20, end=dt.date(2026, 11, 20), reports=False)
    workspace = Workspace.open(root)
    now = dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC)
    budgets = workspace.budgets(now=now)
    assert [b.budget.kind for b in budgets] == ["user", "user", "department"]
    over = budgets[0]
    assert over.spent > over.allowance
    history = workspace.budget_history()
    assert {(e.action, e.login) for e in history} >= {
        ("locked", over.budget.target),
        ("warned", budgets[1].budget.target),
    }
    with workspace.lock_service() as service:
        states = {s.state for s in service.status(logins=[over.budget.target])}
        events = service.history(login=over.budget.target)
    assert states == {"locked-budget"}
    assert {(e.how, e.backend) for e in events} == {("budget", "dry-run")}
    # The person sees it on their home.
    home = workspace.as_person(over.budget.target).home(now=now)
    assert home.budgets[0]["spent"] == over.to_dict()["spent"]
