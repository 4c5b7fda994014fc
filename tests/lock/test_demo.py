"""The demo workspace has phone lock set up: dry-run backend, phones, PINs, locks, history."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from callacct.config import open_workspace
from callacct.demo.workspace import DEMO_PIN, build_demo
from callacct.lock import Actor, LockService
from callacct.lock.pins import verify_pin
from callacct.store import open_store


def test_the_demo_locks_a_few_lines_with_history(tmp_path: Path) -> None:
    root = tmp_path / "demo"
    build_demo(root, days=1, people=20, end=dt.date(2026, 11, 20))
    workspace = open_workspace(root)
    assert workspace.settings.lock.backend == "dry-run"
    store = open_store(workspace.store_path)
    try:
        locks = LockService(store, workspace.settings, Actor.operator(workspace.settings))
        states = sorted(s.state for s in locks.status() if s.state != "unlocked")
        assert states == ["admin-locked", "locked", "locked-budget"]
        assert len(locks.history()) == 5
        phones = store.con.execute("SELECT count(*) FROM lock_devices").fetchall()[0][0]
        assert phones > 0
        login = locks.status()[0].login
        assert login is not None
        now = dt.datetime(2026, 11, 20)
        assert verify_pin(store.con, login, DEMO_PIN, workspace.settings.lock, now=now).ok
    finally:
        store.close()
