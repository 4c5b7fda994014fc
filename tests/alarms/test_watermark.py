"""What an evaluation covers: the calls that arrived since the last one, by arrival, not by
call time — nothing twice, a late CDR once — and period thresholds once per period."""

from __future__ import annotations

import datetime as dt

from callacct import Workspace
from callacct.store import open_store
from tests.alarms.conftest import NOW, WORKDAY, add, arrive, call, run

ABROAD = call(remote="+4930123456", dest_class="international", country="DE")


def _found(workspace: Workspace) -> list[int]:
    return [row["call_id"] for event in run(workspace).events for row in event.rows]


def test_nothing_is_reported_twice(org: Workspace) -> None:
    add(org, {"name": "abroad", "kind": "international"})
    first = arrive(org, [ABROAD, ABROAD])
    assert _found(org) == first
    assert _found(org) == []
    second = arrive(org, [ABROAD])
    assert _found(org) == second


def test_a_late_cdr_is_reported_once_when_it_arrives(org: Workspace) -> None:
    add(org, {"name": "abroad", "kind": "international"})
    arrive(org, [ABROAD])
    run(org)
    # A call made a week ago arrives only now (a node's file held back): reported now, once.
    (late,) = arrive(org, [{**ABROAD, "started_at": WORKDAY - dt.timedelta(days=7)}])
    assert _found(org) == [late]
    assert _found(org) == []


def test_calls_stored_before_an_alarm_are_not_reported_unless_backfilled(org: Workspace) -> None:
    old = arrive(org, [ABROAD])
    add(org, {"name": "abroad", "kind": "international"})
    add(org, {"name": "all", "kind": "international"}, backfill=True)
    result = run(org)
    assert [(o.alarm, o.status) for o in result.outcomes] == [
        ("abroad", "silent"),
        ("all", "fired"),
    ]
    assert [row["call_id"] for row in result.events[0].rows] == old


def test_an_unfinished_call_is_reported_once_finished(org: Workspace) -> None:
    add(org, {"name": "abroad", "kind": "international"})
    ids = arrive(org, [ABROAD, {**ABROAD, "dest_class": None}, ABROAD])
    assert _found(org) == ids[:1]
    store = open_store(org.store_path)
    try:
        store.con.execute(
            "UPDATE calls SET dest_class = 'international' WHERE call_id = ?", [ids[1]]
        )
    finally:
        store.close()
    assert _found(org) == ids[1:]


def test_a_paused_alarm_evaluates_what_arrived_meanwhile_when_resumed(org: Workspace) -> None:
    add(org, {"name": "abroad", "kind": "international"})
    org.alarms().pause("abroad")
    ids = arrive(org, [ABROAD])
    assert run(org).outcomes == ()
    org.alarms().resume("abroad")
    assert _found(org) == ids


def test_a_threshold_crossed_twice_in_a_period_fires_once(org: Workspace) -> None:
    add(org, {"name": "spend", "kind": "spend-above", "params": {"amount": {"EUR": 5}}})
    arrive(org, [call(cost="6")])
    (event,) = run(org).events
    assert (event.period, event.rows[0]["spent"]) == ("2026-12", "6")
    arrive(org, [call(cost="10")])  # still above, higher: the same threshold in the same month
    assert not run(org).fired
    # Next month is a new period.
    arrive(org, [call(cost="7", at=dt.datetime(2027, 1, 4, 9))])
    (event,) = run(org, now=NOW + dt.timedelta(days=40)).events
    assert event.period == "2027-01"
    # A changed threshold is a new threshold.
    org.alarms().edit(
        "spend",
        {"name": "spend", "kind": "spend-above", "params": {"amount": {"EUR": 15}},
         "recipients": {"to": ["it@example.com"]}},
    )  # fmt: skip
    arrive(org, [call(cost="0.5")])
    (event,) = run(org).events
    assert (event.period, event.rows[0]["spent"], event.rows[0]["limit"]) == (
        "2026-12",
        "16.5",
        "15",
    )


def test_a_late_call_counts_in_its_own_period(org: Workspace) -> None:
    add(org, {"name": "spend", "kind": "spend-above", "params": {"amount": {"EUR": 5}}})
    arrive(org, [call(cost="4", at=dt.datetime(2026, 11, 20, 9))], at=NOW - dt.timedelta(days=10))
    assert not run(org).fired
    # November's call arrives in December: November goes above, reported once.
    arrive(org, [call(cost="2", at=dt.datetime(2026, 11, 29, 9))])
    (event,) = run(org).events
    assert (event.period, event.rows[0]["spent"]) == ("2026-11", "6")
    assert not run(org).fired


def test_missed_calls_fire_once_per_extension_and_day(org: Workspace) -> None:
    add(org, {"name": "missed", "kind": "missed-calls", "params": {"more_than": 1}})
    missed = call("3001", direction="incoming", answered=False, cost=None)
    arrive(org, [missed, missed])
    (event,) = run(org).events
    assert event.rows == [{"extension": "3001", "user": "bob", "period": "2026-12-01", "missed": 2}]
    assert event.logins == ("bob",)
    arrive(org, [missed])
    assert not run(org).fired
    arrive(org, [{**missed, "started_at": WORKDAY + dt.timedelta(days=1)}] * 2)
    (event,) = run(org).events
    assert event.period == "2026-12-02"


def test_periods_are_named_by_day_iso_week_and_month(org: Workspace) -> None:
    for period in ("day", "week", "month"):
        add(org, {"name": period, "kind": "spend-above",
                  "params": {"amount": {"EUR": 1}, "period": period}})  # fmt: skip
    arrive(org, [call(cost="2", at=dt.datetime(2027, 1, 1, 9))])  # ISO week 53 of 2026
    labels = {e.alarm: e.period for e in run(org, now=NOW + dt.timedelta(days=31)).events}
    assert labels == {"day": "2027-01-01", "week": "2026-W53", "month": "2027-01"}


def test_a_new_alarm_with_a_removed_ones_name_starts_afresh(org: Workspace) -> None:
    spend = {"name": "spend", "kind": "spend-above", "params": {"amount": {"EUR": 5}}}
    add(org, spend)
    arrive(org, [call(cost="6")])
    assert run(org).fired
    org.alarms().remove("spend")
    add(org, spend, backfill=True)  # the same definition, added again over every call
    (event,) = run(org).events
    assert (event.period, event.rows[0]["spent"]) == ("2026-12", "6")
