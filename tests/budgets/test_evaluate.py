"""Evaluation: thresholds warned once, locks through the lock service, rollover in the
person's zone, carry-over, group budgets, admin locks, re-rating, late calls, currencies."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from callacct.api import Workspace
from tests.budgets.conftest import PEOPLE, Calls, Mails, budget_settings, make_workspace, utc


def _lock_states(workspace: Workspace, login: str) -> set[str]:
    with workspace.lock_service() as service:
        return {s.state for s in service.status(logins=[login])}


def test_thresholds_warn_once_per_period(workspace: Workspace, calls: Calls, mails: Mails) -> None:
    now = utc("2026-12-10 12:00")
    workspace.set_budget(user="alice", amount="50", warn_at="80,95", lock_at=0, now=now)
    calls.add("alice", "2026-12-02 09:00", "30")
    first = workspace.evaluate_budgets(now=now)
    assert first.events == []  # 60 %: below every threshold
    calls.add("alice", "2026-12-03 09:00", "11")  # 82 %
    second = workspace.evaluate_budgets(now=now)
    assert [(e.action, e.threshold) for e in second.events] == [("warned", 80)]
    assert mails.keys == ["budget:1:alice:2026-12-01:80"]
    mail = mails.sent["budget:1:alice:2026-12-01:80"]
    assert mail.to == ("alice@example.com",)
    assert mail.language == "fr"
    assert "82 %" in mail.subject
    assert "41,00" in mail.text
    # Running again: nothing new, no mail.
    assert workspace.evaluate_budgets(now=now).events == []
    assert mails.calls == 1
    calls.add("alice", "2026-12-04 09:00", "9")  # 100 %: 95 crossed
    third = workspace.evaluate_budgets(now=now + dt.timedelta(hours=1))
    assert [(e.action, e.threshold) for e in third.events] == [("warned", 95)]
    assert mails.keys == ["budget:1:alice:2026-12-01:80", "budget:1:alice:2026-12-01:95"]
    assert _lock_states(workspace, "alice") == {"unlocked"}  # lock_at 0: never locks
    history = workspace.budget_history()
    assert [(e.action, e.threshold) for e in history] == [("warned", 95), ("warned", 80)]


def test_jump_over_several_thresholds_sends_one_mail(
    workspace: Workspace, calls: Calls, mails: Mails
) -> None:
    now = utc("2026-12-10 12:00")
    workspace.set_budget(user="bob", amount="10", warn_at="50,80", lock_at=0, now=now)
    calls.add("bob", "2026-12-02 09:00", "9.5")
    events = workspace.evaluate_budgets(now=now).events
    assert sorted(e.threshold or 0 for e in events if e.action == "warned") == [50, 80]
    assert mails.keys == ["budget:1:bob:2026-12-01:80"]


def test_lock_at_threshold_and_unlock_at_next_month_in_the_persons_zone(
    workspace: Workspace, calls: Calls, mails: Mails
) -> None:
    # dave is in New York: his month starts at 05:00 UTC on the 1st (EST, UTC-5).
    now = utc("2026-12-20 12:00")
    workspace.set_budget(user="dave", amount="20", warn_at="", now=now)
    calls.add("dave", "2026-12-05 15:00", "20")
    evaluation = workspace.evaluate_budgets(now=now)
    assert [(e.action, e.login) for e in evaluation.events] == [("locked", "dave")]
    assert _lock_states(workspace, "dave") == {"locked-budget"}
    assert mails.keys == ["budget:1:dave:2026-12-01:lock"]
    # 04:59 UTC on January 1st is still December 31st in New York: still locked.
    assert workspace.evaluate_budgets(now=utc("2027-01-01 04:59")).events == []
    assert _lock_states(workspace, "dave") == {"locked-budget"}
    rollover = workspace.evaluate_budgets(now=utc("2027-01-01 05:00"))
    assert [(e.action, e.login) for e in rollover.events] == [("unlocked", "dave")]
    assert "new period 2027-01" in (rollover.events[0].message or "")
    assert _lock_states(workspace, "dave") == {"unlocked"}
    assert workspace.evaluate_budgets(now=utc("2027-01-02 00:00")).events == []
    status = workspace.budget_status("dave", now=utc("2027-01-02 00:00"))[0]
    assert status.period.label == "2027-01"
    assert status.spent == 0


def test_week_starts_on_monday_midnight_across_dst(workspace: Workspace, calls: Calls) -> None:
    # Paris goes to summer time on Sunday 2026-03-29: that week is 167 hours long, and the
    # next starts on Monday 2026-03-30 at 00:00 CEST = 2026-03-29 22:00 UTC.
    start = utc("2026-03-25 12:00")
    workspace.set_budget(user="alice", amount="10", period="week", warn_at="", now=start)
    status = workspace.budget_status("alice", now=start)[0]
    assert (status.period.starts_at, status.period.ends_at) == (
        dt.datetime(2026, 3, 22, 23, 0),
        dt.datetime(2026, 3, 29, 22, 0),
    )
    calls.add("alice", "2026-03-29 21:59", "10")  # Sunday 23:59 in Paris: still that week
    assert [e.action for e in workspace.evaluate_budgets(now=utc("2026-03-29 21:59")).events] == [
        "locked"
    ]
    assert _lock_states(workspace, "alice") == {"locked-budget"}
    events = workspace.evaluate_budgets(now=utc("2026-03-29 22:00")).events
    assert [e.action for e in events] == ["unlocked"]
    after = workspace.budget_status("alice", now=utc("2026-03-29 22:00"))[0]
    assert after.period.label == "2026-W14"
    assert after.spent == 0


def test_carry_over_adds_the_remainder_to_the_next_period(
    workspace: Workspace, calls: Calls
) -> None:
    workspace.set_budget(
        user="alice", amount="50", carry_over=True, warn_at="", now=utc("2026-11-10 12:00")
    )
    calls.add("alice", "2026-11-05 10:00", "12.345")
    workspace.evaluate_budgets(now=utc("2026-11-10 12:00"))
    events = workspace.evaluate_budgets(now=utc("2026-12-01 08:00")).events
    assert [(e.action, e.amount) for e in events] == [("carried-over", Decimal("37.655"))]
    status = workspace.budget_status("alice", now=utc("2026-12-01 08:00"))[0]
    assert status.carried_in == Decimal("37.655")
    assert status.allowance == Decimal("87.655")
    # Overspent periods carry nothing; without carry-over nothing is carried either.
    calls.add("alice", "2026-12-05 10:00", "100")
    later = workspace.evaluate_budgets(now=utc("2027-01-01 08:00")).events
    assert "carried-over" not in [e.action for e in later]
    assert workspace.budget_status("alice", now=utc("2027-01-01 08:00"))[0].carried_in == 0


def test_catching_up_several_periods_chains_the_carry_over(
    workspace: Workspace, calls: Calls
) -> None:
    workspace.set_budget(
        user="bob",
        amount="10",
        period="week",
        carry_over=True,
        warn_at="",
        lock_at=0,
        now=utc("2026-11-30 12:00"),
    )
    calls.add("bob", "2026-12-01 10:00", "4")
    events = workspace.evaluate_budgets(now=utc("2026-12-16 12:00")).events
    # Week of Nov 30: 6 left; week of Dec 7: 10 + 6 left.
    assert [e.amount for e in events if e.action == "carried-over"] == [
        Decimal("6"),
        Decimal("16"),
    ]
    assert workspace.budget_status("bob", now=utc("2026-12-16 12:00"))[0].allowance == 26


def test_group_budget_is_shared_and_locks_the_group(
    workspace: Workspace, calls: Calls, mails: Mails
) -> None:
    now = utc("2026-12-10 12:00")
    workspace.set_budget(department="Sales", amount="30", warn_at="50", now=now)
    calls.add("alice", "2026-12-02 09:00", "10")
    calls.add("bob", "2026-12-02 10:00", "6")
    calls.add("dave", "2026-12-02 10:00", "100")  # Support: not counted
    events = workspace.evaluate_budgets(now=now).events
    assert [(e.action, e.login) for e in events] == [("warned", None)]
    # Everyone of Sales is told, in their language.
    assert mails.keys == [
        "budget:1:alice:2026-12-01:50",
        "budget:1:bob:2026-12-01:50",
        "budget:1:carol:2026-12-01:50",
    ]
    assert "Sales" in mails.sent["budget:1:bob:2026-12-01:50"].subject
    calls.add("bob", "2026-12-03 10:00", "14")
    locked = workspace.evaluate_budgets(now=now).events
    assert sorted((e.action, e.login) for e in locked) == [
        ("locked", "alice"),
        ("locked", "bob"),
        ("locked", "carol"),
    ]
    assert _lock_states(workspace, "bob") == {"locked-budget"}  # both of bob's lines
    assert _lock_states(workspace, "dave") == {"unlocked"}
    status = workspace.budget_status("alice", now=now)[0]
    assert status.spent == Decimal("30")
    assert status.remaining == 0


def test_own_and_group_budget_both_apply(workspace: Workspace, calls: Calls) -> None:
    now = utc("2026-12-10 12:00")
    workspace.set_budget(user="alice", amount="100", warn_at="", now=now)
    workspace.set_budget(department="Sales", amount="10", warn_at="", now=now)
    calls.add("bob", "2026-12-02 10:00", "10")  # Sales spent: locks alice too
    workspace.evaluate_budgets(now=now)
    assert _lock_states(workspace, "alice") == {"locked-budget"}
    assert {s.budget.kind for s in workspace.budget_status("alice", now=now)} == {
        "user",
        "department",
    }
    # Raising the group's budget lifts the lock, as alice's own budget is not spent.
    workspace.set_budget(department="Sales", amount="50", warn_at="", now=now)
    assert _lock_states(workspace, "alice") == {"unlocked"}


def test_budget_unlock_never_lifts_an_admin_lock(workspace: Workspace, calls: Calls) -> None:
    workspace.set_budget(user="alice", amount="5", warn_at="", now=utc("2026-12-10 12:00"))
    calls.add("alice", "2026-12-02 10:00", "5")
    workspace.evaluate_budgets(now=utc("2026-12-10 12:00"))
    with workspace.lock_service(write=True) as service:
        service.lock(logins=["alice"], kind="admin", reason="audit")
    assert _lock_states(workspace, "alice") == {"admin-locked"}
    events = workspace.evaluate_budgets(now=utc("2027-01-01 00:00")).events
    assert [e.action for e in events] == ["unlocked"]  # the budget's own lock only
    assert _lock_states(workspace, "alice") == {"admin-locked"}
    with workspace.lock_service() as service:
        history = service.history(login="alice")
    assert [(h.action, h.state_after) for h in history][:2] == [
        ("budget-unlock", "admin-locked"),
        ("admin-lock", "admin-locked"),
    ]
    # And the person cannot lift a budget lock themselves.
    calls.add("alice", "2027-01-02 10:00", "5")
    workspace.evaluate_budgets(now=utc("2027-01-03 00:00"))
    with workspace.lock_service(write=True) as service:
        service.unlock(logins=["alice"], kind="admin")
    report = None
    with workspace.as_person("alice").lock_service(write=True) as service:
        report = service.unlock(logins=["alice"])
    assert not report.ok
    assert "budget" in report.outcomes[0].message
    assert _lock_states(workspace, "alice") == {"locked-budget"}


def test_lower_spend_after_rating_unlocks(workspace: Workspace, calls: Calls) -> None:
    now = utc("2026-12-10 12:00")
    workspace.set_budget(user="bob", amount="20", warn_at="", now=now)
    call = calls.add("bob", "2026-12-02 10:00", "25")
    workspace.evaluate_budgets(now=now)
    assert _lock_states(workspace, "bob") == {"locked-budget"}
    calls.set_cost(call, "5")  # what a corrected tariff does to the call
    events = workspace.evaluate_budgets(now=now).events
    assert [e.action for e in events] == ["unlocked"]
    assert "below the lock threshold" in (events[0].message or "")
    assert _lock_states(workspace, "bob") == {"unlocked"}


def test_rate_evaluates_the_budgets(workspace: Workspace, calls: Calls) -> None:
    workspace.set_budget(user="bob", amount="20", warn_at="")
    today = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    calls.add("bob", today.isoformat(timespec="seconds"), "25")
    workspace.evaluate_budgets()
    assert _lock_states(workspace, "bob") == {"locked-budget"}
    # Re-rating without a tariff plan leaves the call unpriced: the budget counts nothing.
    workspace.rate()
    assert workspace.budget_status("bob")[0].spent == 0
    assert _lock_states(workspace, "bob") == {"unlocked"}


def test_late_calls_of_a_closed_period_are_recorded_not_locked(
    workspace: Workspace, calls: Calls
) -> None:
    workspace.set_budget(user="alice", amount="10", warn_at="", now=utc("2026-11-20 12:00"))
    calls.add("alice", "2026-11-10 10:00", "4")
    workspace.evaluate_budgets(now=utc("2026-11-20 12:00"))
    workspace.evaluate_budgets(now=utc("2026-12-01 08:00"))
    calls.add("alice", "2026-11-30 20:00", "8")  # a November call that arrives in December
    events = workspace.evaluate_budgets(now=utc("2026-12-02 08:00")).events
    assert [(e.action, e.spent, e.amount) for e in events] == [
        ("late-spend", Decimal("12"), Decimal("8"))
    ]
    assert events[0].first_day == dt.date(2026, 11, 1)
    assert _lock_states(workspace, "alice") == {"unlocked"}
    assert workspace.evaluate_budgets(now=utc("2026-12-02 09:00")).events == []


def test_currencies_are_kept_apart(workspace: Workspace, calls: Calls) -> None:
    now = utc("2026-12-10 12:00")
    workspace.set_budget(user="alice", amount="10", warn_at="", now=now)
    workspace.set_budget(user="alice", amount="15", currency="USD", warn_at="", now=now)
    calls.add("alice", "2026-12-02 10:00", "9", currency="EUR")
    calls.add("alice", "2026-12-02 11:00", "14", currency="USD")
    statuses = {s.budget.currency: s for s in workspace.budget_status("alice", now=now)}
    assert statuses["EUR"].spent == 9
    assert statuses["EUR"].other_currencies == {"USD": 14}
    assert statuses["USD"].spent == 14
    assert statuses["USD"].other_currencies == {"EUR": 9}
    workspace.evaluate_budgets(now=now)
    assert _lock_states(workspace, "alice") == {"unlocked"}  # neither is spent


def test_classes_limit_what_counts(workspace: Workspace, calls: Calls) -> None:
    now = utc("2026-12-10 12:00")
    workspace.set_budget(user="alice", amount="10", classes="international", now=now)
    calls.add("alice", "2026-12-02 10:00", "3", dest_class="mobile")
    calls.add("alice", "2026-12-02 11:00", "2", dest_class="international")
    calls.add("alice", "2026-12-02 12:00", "50", direction="incoming")
    assert workspace.budget_status("alice", now=now)[0].spent == 2


def test_removing_a_budget_lifts_its_lock(workspace: Workspace, calls: Calls) -> None:
    now = utc("2026-12-10 12:00")
    budget = workspace.set_budget(user="alice", amount="1", warn_at="", now=now)
    calls.add("alice", "2026-12-02 10:00", "3")
    workspace.evaluate_budgets(now=now)
    evaluation = workspace.remove_budget(budget.budget_id, now=now)
    assert [e.action for e in evaluation.events] == ["unlocked"]
    assert _lock_states(workspace, "alice") == {"unlocked"}
    assert [e.action for e in workspace.budget_history()] == ["unlocked", "locked"]


def test_supervisor_warned_when_configured(tmp_path: Path) -> None:
    workspace = make_workspace(tmp_path / "sup", budget_settings(warn_supervisor=True))
    found = Mails()
    workspace.budget_notifier = found
    Calls(workspace).add("alice", "2026-12-02 10:00", "9")
    workspace.set_budget(
        user="alice", amount="10", warn_at="80", lock_at=0, now=utc("2026-12-10 12:00")
    )
    assert found.sent["budget:1:alice:2026-12-01:80"].to == (
        "alice@example.com",
        "carol@example.com",
    )


def test_the_persons_own_lock_stays_after_the_budget_lock_goes(
    workspace: Workspace, calls: Calls
) -> None:
    workspace.set_budget(user="bob", amount="5", warn_at="", now=utc("2026-12-10 12:00"))
    calls.add("bob", "2026-12-02 10:00", "5")
    workspace.evaluate_budgets(now=utc("2026-12-10 12:00"))
    with workspace.as_person("bob").lock_service(write=True) as service:
        assert service.lock(logins=["bob"], reason="holiday").ok
    assert _lock_states(workspace, "bob") == {"locked-budget"}
    workspace.evaluate_budgets(now=utc("2027-01-01 00:00"))
    assert _lock_states(workspace, "bob") == {"locked"}


def test_week_rolls_over_at_monday_midnight_in_new_york_across_dst(
    workspace: Workspace, calls: Calls
) -> None:
    # New York leaves summer time on Sunday 2026-11-01: the week of Oct 26 ends at Monday
    # Nov 2, 00:00 EST = 05:00 UTC (not 04:00, its Monday's offset before the change).
    start = utc("2026-10-28 12:00")
    workspace.set_budget(user="dave", amount="10", period="week", warn_at="", now=start)
    calls.add("dave", "2026-11-02 04:30", "10")  # Sunday 23:30 EST: still that week
    locked = workspace.evaluate_budgets(now=utc("2026-11-02 04:30")).events
    assert [(e.action, e.first_day) for e in locked] == [("locked", dt.date(2026, 10, 26))]
    assert workspace.evaluate_budgets(now=utc("2026-11-02 04:59")).events == []
    assert _lock_states(workspace, "dave") == {"locked-budget"}
    events = workspace.evaluate_budgets(now=utc("2026-11-02 05:00")).events
    assert [e.action for e in events] == ["unlocked"]
    assert _lock_states(workspace, "dave") == {"unlocked"}
    status = workspace.budget_status("dave", now=utc("2026-11-02 05:00"))[0]
    assert (status.period.label, status.spent) == ("2026-W45", 0)


def test_a_group_member_without_a_phone_is_not_a_failure_at_every_run(tmp_path: Path) -> None:
    workspace = make_workspace(tmp_path)
    people = tmp_path / "more.csv"
    people.write_text(
        PEOPLE + "frank,Frank Field,frank@example.com,en,user,Sales,CC1,PAR,,carol,\n",
        encoding="utf-8",
    )
    workspace.directory_import(people)
    now = utc("2026-12-10 12:00")
    workspace.set_budget(department="Sales", amount="10", warn_at="", now=now)
    Calls(workspace).add("alice", "2026-12-02 09:00", "11")
    first = workspace.evaluate_budgets(now=now).events
    assert sorted((e.action, e.login, e.result) for e in first) == [
        ("locked", "alice", "done"),
        ("locked", "bob", "done"),
        ("locked", "carol", "done"),
    ]
    assert workspace.evaluate_budgets(now=now + dt.timedelta(hours=1)).events == []
