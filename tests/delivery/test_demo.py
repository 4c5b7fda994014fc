"""The demo workspace has its two schedules, and a dry run writes what they would send."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from pathlib import Path

from callacct import Workspace
from callacct.demo.workspace import build_demo


def test_the_demo_schedules_write_eml_files(tmp_path: Path) -> None:
    root = tmp_path / "demo"
    build_demo(root, days=8, people=20, end=dt.date(2026, 11, 29), reports=False)
    ws = Workspace.open(root)
    assert ws.settings.delivery.dry_run
    schedules = {s.name: s for s in ws.schedules()}
    assert set(schedules) == {"department-weekly", "bill-monthly"}
    assert schedules["department-weekly"].recipients == "supervisors"
    assert schedules["bill-monthly"].recipients == "users"
    outcomes = ws.run_due(dt.datetime(2026, 11, 30, 8, tzinfo=dt.UTC), dry_run=True)
    assert {outcome.status for outcome in outcomes} <= {"done", "skipped"}
    assert [outcome.line.split(":")[0] for outcome in outcomes] == [
        "schedule bill-monthly 2026-10",
        "schedule department-weekly 2026-W48",
    ]
    files = sorted((root / "outbox").glob("*.eml"))
    assert files
    weekly = [f for f in files if "department-weekly_2026-W48" in f.name]
    assert weekly
    message = email.message_from_bytes(weekly[0].read_bytes(), policy=email.policy.default)
    [attachment] = list(message.iter_attachments())  # type: ignore[attr-defined]
    assert attachment.get_filename() == "user-bill.xlsx"
    assert ws.schedule_history()["runs"] == []  # a dry run is not a run
