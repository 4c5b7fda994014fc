"""The demo has one alarm of each kind, and its calls make most of them fire."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from callacct.alarms import KINDS
from callacct.api import Workspace
from callacct.demo.workspace import build_demo


def test_the_demo_has_one_alarm_of_each_kind_and_most_fire(tmp_path: Path) -> None:
    result = build_demo(tmp_path / "demo", days=14, people=60, end=dt.date(2026, 11, 30),
                        reports=False)  # fmt: skip
    workspace = Workspace.open(result.workspace)
    entries = workspace.alarms().all()
    assert sorted(entry.alarm.kind.name for entry in entries) == sorted(KINDS)
    # A working day after the demo was built, 10:00 in Paris: no records since the build.
    now = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).replace(hour=9, minute=0)
    while now.weekday() >= 5:
        now += dt.timedelta(days=1)
    run = workspace.alarms().run(now=now)
    fired = {outcome.kind for outcome in run.outcomes if outcome.status == "fired"}
    assert fired == set(KINDS)
    assert not workspace.alarms().run(now=now).fired  # each reported once
