"""Lock states and who may change them: admin lock wins, budget locks belong to the budget
module, workstations lift only their own locks, every change is an event."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import ClassVar

import pytest

from callacct.config import Settings
from callacct.errors import LockError, NotFoundError, UsageError
from callacct.lock import LockService, lock_for_budget, unlock_for_budget
from callacct.lock.backends import BackendChange, BackendError, Line, LockBackend, Reading
from callacct.lock.model import Flags, decide
from tests.conftest import Plugins
from tests.lock.conftest import lock_settings, service

SETTINGS = lock_settings()


class Recording(LockBackend):
    """A backend that records the calls it gets, and fails when told to."""

    name: ClassVar[str] = "recording"
    calls: ClassVar[list[tuple[str, str]]] = []
    fail: ClassVar[set[str]] = set()

    @classmethod
    def from_settings(
        cls, settings: Settings, *, env: Mapping[str, str] | None = None, base: Path | None = None
    ) -> Recording:
        return cls()

    async def lock(self, line: Line) -> BackendChange:
        self.calls.append(("lock", line.extension))
        if line.extension in self.fail:
            raise BackendError(f"line {line.extension}: refused")
        return BackendChange("CSS_Normal", "CSS_Locked", saved="CSS_Normal")

    async def unlock(self, line: Line, saved: str | None) -> BackendChange:
        self.calls.append(("unlock", line.extension))
        if line.extension in self.fail:
            raise BackendError(f"line {line.extension}: refused")
        return BackendChange("CSS_Locked", saved)

    async def read(self, line: Line) -> Reading:
        return Reading(None, False)


@pytest.fixture
def recording() -> type[Recording]:
    Recording.calls = []
    Recording.fail = set()
    return Recording


def as_(store, login: str | None, how: str = "cli") -> LockService:
    locks = service(store, SETTINGS, login, how=how)
    locks._backends = lambda name: Recording()
    return locks


def state(store, extension: str) -> str:
    rows = store.con.execute("SELECT state FROM locks WHERE extension = ?", [extension]).fetchall()
    return rows[0][0] if rows else "unlocked"


def test_a_person_locks_and_unlocks_their_own_extension(people_store, recording) -> None:
    alice = as_(people_store, "alice")
    assert alice.lock(logins=["alice"]).ok
    assert state(people_store, "2001") == "locked"
    assert alice.unlock(extensions=["2001"]).ok
    assert state(people_store, "2001") == "unlocked"
    assert recording.calls == [("lock", "2001"), ("unlock", "2001")]


def test_the_admin_lock_wins(people_store, recording) -> None:
    alice, erin, carol = (as_(people_store, who) for who in ("alice", "erin", "carol"))
    assert alice.lock(extensions=["2001"]).ok
    report = erin.lock(extensions=["2001"], kind="admin", reason="left unpaid calls")
    assert report.outcomes[0].state_after == "admin-locked"
    assert report.outcomes[0].message == "the line stays locked (admin-locked)"
    assert recording.calls == [("lock", "2001")]  # already locked: the phone system untouched

    refused = alice.unlock(extensions=["2001"])
    assert refused.outcomes[0].result == "refused"
    assert "locked by an administrator" in refused.outcomes[0].message
    assert state(people_store, "2001") == "admin-locked"
    with pytest.raises(LockError, match="alice may not set or lift an admin lock on 2001"):
        alice.unlock(extensions=["2001"], kind="admin")

    # A supervisor of the person lifts it; the person's own lock is still there.
    lifted = carol.unlock(extensions=["2001"], kind="admin")
    assert lifted.outcomes[0].state_after == "locked"
    assert alice.unlock(extensions=["2001"]).ok
    assert state(people_store, "2001") == "unlocked"
    assert recording.calls == [("lock", "2001"), ("unlock", "2001")]
    history = [(e.action, e.result, e.actor) for e in erin.history(extension="2001")]
    assert history == [
        ("unlock", "changed", "alice"),
        ("admin-unlock", "changed", "carol"),
        ("unlock", "refused", "alice"),
        ("admin-lock", "changed", "erin"),
        ("lock", "changed", "alice"),
    ]


def test_nobody_acts_outside_their_scope(people_store, recording) -> None:
    with pytest.raises(LockError, match=r"dave may not lock or unlock 2001 \(alice's extension"):
        as_(people_store, "dave").lock(extensions=["2001"])
    with pytest.raises(LockError, match="carol may not set or lift an admin lock on 2004"):
        as_(people_store, "carol").lock(extensions=["2004"], kind="admin")
    with pytest.raises(LockError, match="held by nobody"):
        as_(people_store, "carol").lock(extensions=["2099"])
    assert recording.calls == []
    assert as_(people_store, None).lock(extensions=["2099"]).ok  # the operator may


def test_requests_name_something_that_exists(people_store, recording) -> None:
    operator = as_(people_store, None)
    with pytest.raises(NotFoundError, match="'zoe' has no extension"):
        operator.lock(logins=["zoe"])
    with pytest.raises(NotFoundError, match="department 'Legal' has nobody"):
        operator.lock(department="Legal")
    with pytest.raises(UsageError, match="'12' is not an extension"):
        operator.lock(extensions=["12"])


def test_a_whole_department_and_a_person_with_two_extensions(people_store, recording) -> None:
    report = as_(people_store, "carol").lock(department="Sales", kind="admin", reason="audit")
    assert [o.extension for o in report.outcomes] == ["2001", "2002", "2003", "2012"]
    assert report.counts()["changed"] == 4
    bob = as_(people_store, "bob")
    assert [o.extension for o in bob.status()] == ["2002", "2012"]
    assert {s.state for s in bob.status()} == {"admin-locked"}
    assert {s.reason for s in bob.status()} == {"audit"}


def test_a_budget_lock_is_lifted_only_by_the_budget_module(people_store, recording) -> None:
    report = lock_for_budget(
        people_store, SETTINGS, "alice", reason="budget spent", backends=lambda name: Recording()
    )
    assert report.outcomes[0].state_after == "locked-budget"
    refused = as_(people_store, "alice").unlock(extensions=["2001"])
    assert "only the budget module lifts it" in refused.outcomes[0].message
    with pytest.raises(LockError, match="only the budget module"):
        as_(people_store, "erin").unlock(extensions=["2001"], kind="budget")
    assert state(people_store, "2001") == "locked-budget"
    report = unlock_for_budget(
        people_store, SETTINGS, "alice", reason="new period", backends=lambda name: Recording()
    )
    assert report.outcomes[0].state_after == "unlocked"
    events = as_(people_store, None).history(login="alice")
    assert [(e.action, e.how, e.actor) for e in events][::2] == [
        ("budget-unlock", "budget", "budget"),
        ("budget-lock", "budget", "budget"),
    ]


def test_a_failure_leaves_the_state_as_it_was(people_store, recording) -> None:
    recording.fail = {"2002"}
    report = as_(people_store, None).lock(logins=["alice", "bob"])
    results = {o.extension: o.result for o in report.outcomes}
    assert results == {"2001": "changed", "2002": "failed", "2012": "changed"}
    assert not report.ok
    assert state(people_store, "2002") == "unlocked"
    failed = [e for e in as_(people_store, None).history() if e.extension == "2002"]
    assert [(e.result, e.state_before, e.state_after, e.message) for e in failed] == [
        ("failed", "unlocked", "unlocked", "line 2002: refused")
    ]


def test_a_workstation_unlocks_only_what_a_workstation_locked(people_store, recording) -> None:
    by_hand = as_(people_store, "alice", "phone")
    assert by_hand.lock(extensions=["2001"]).ok
    workstation = as_(people_store, "alice", "workstation")
    kept = workstation.unlock(extensions=["2001"])
    assert kept.outcomes[0].result == "unchanged"
    assert kept.outcomes[0].message == "kept: locked from the phone, not by the workstation"
    assert by_hand.unlock(extensions=["2001"]).ok
    assert workstation.lock(extensions=["2001"]).ok
    assert workstation.unlock(extensions=["2001"]).outcomes[0].result == "changed"


def test_status_shows_everyone_in_scope(people_store, recording) -> None:
    as_(people_store, "erin").lock(extensions=["2004"], kind="admin")
    everyone = as_(people_store, None).status()
    assert [s.extension for s in everyone] == ["2001", "2002", "2003", "2004", "2005", "2012"]
    sales = as_(people_store, "carol").status()
    assert [s.login for s in sales] == ["alice", "bob", "carol", "bob"]
    assert [s.extension for s in as_(people_store, "alice").status()] == ["2001"]
    support = as_(people_store, None).status(department="Support")
    assert [(s.login, s.state, s.changed_by) for s in support] == [("dave", "admin-locked", "erin")]
    assert as_(people_store, "carol").history() == []  # erin's change is outside Sales


def test_decide_is_the_whole_rule_table() -> None:
    both = Flags(user=True, admin=True)
    assert decide(both, "unlock", "admin", how="cli").after == Flags(user=True)
    assert decide(Flags(), "unlock", "user", how="cli").note == "not locked"
    assert decide(Flags(budget=True), "lock", "budget", how="budget").after is None
    assert decide(Flags(budget=True), "lock", "user", how="cli").backend_action is None


def test_events_keep_the_time_they_happened(people_store, recording) -> None:
    when = dt.datetime(2026, 11, 20, 8, 30)
    locks = service(people_store, SETTINGS, "alice", clock=when)
    locks._backends = lambda name: Recording()
    locks.lock(extensions=["2001"], reason="holiday")
    event = locks.history()[0].to_dict()
    assert event["happened_at"] == "2026-11-20T08:30:00+00:00"
    assert (event["reason"], event["how"]) == ("holiday", "cli")


def test_a_package_adds_a_lock_backend_through_the_registry(plugins: Plugins) -> None:
    """callacct's own backends and a package's come from the `callacct.lock_backends` group;
    a package entry that gives something else is refused naming it."""
    from callacct.errors import PluginError
    from callacct.lock.backends import backend_class, backend_names

    assert backend_names() == ("cucm-axl", "dry-run", "webex")
    plugins.install(
        "pbx-lock",
        {"callacct.lock_backends": {"pbx": "pbx_lock:backend", "bad": "pbx_lock:NOT_A_CLASS"}},
        {
            "pbx_lock.py": """
            from callacct.lock.backends.dryrun import DryRunBackend

            class PbxBackend(DryRunBackend):
                name = "pbx"

            def backend():
                return PbxBackend

            NOT_A_CLASS = "a backend, they said"
            """
        },
    )
    assert backend_names() == ("bad", "cucm-axl", "dry-run", "pbx", "webex")
    assert backend_class("pbx").name == "pbx"
    with pytest.raises(PluginError, match=r"lock backend 'bad' from package pbx-lock 1\.0"):
        backend_class("bad")
