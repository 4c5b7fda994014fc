"""Each of the eight kinds fires on a crafted data set and stays silent on a clean one."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from callacct import Workspace
from tests.alarms.conftest import NOW, add, arrive, call, run

SATURDAY_NIGHT = dt.datetime(2026, 12, 5, 22, 30)  # 23:30 in Paris

#: kind -> (params, calls that must fire it, calls that must not, how many it must find)
CASES: dict[str, tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]], int]] = {
    "out-of-hours": (
        {"hours": {"days": {"mon-fri": ["08:00-12:00", "13:00-18:00"]}}},
        [call(at=SATURDAY_NIGHT), call(at=dt.datetime(2026, 12, 1, 11, 30)), call()],
        [call(), call(at=dt.datetime(2026, 12, 1, 16, 59))],
        2,  # Saturday night, and 12:30 in Paris (lunch)
    ),
    "forbidden-numbers": (
        {"numbers": ["01 45 67 89 01"], "prefixes": ["0899"], "patterns": [r"^\+882"]},
        [
            call(),  # +33145678901 is listed in its national form
            call(remote="+33899123456"),
            call(remote="+88216000000", dest_class="unknown"),
            call(remote="+33612345678"),
        ],
        [call(remote="+33612345678"), call(direction="incoming", remote="+33899123456")],
        3,
    ),
    "international": (
        {"min_duration_s": 120, "countries": ["CU"]},
        [
            call(remote="+5371234567", dest_class="international", country="CU", duration_s=300),
            call(remote="+5371234567", dest_class="international", country="CU", duration_s=60),
            call(remote="+4930123456", dest_class="international", country="DE", duration_s=900),
        ],
        [call(remote="+4930123456", dest_class="international", country="DE", duration_s=900)],
        1,
    ),
    "unknown-destinations": (
        {"min_count": 2},
        [call(remote="+999123", dest_class="unknown")] * 2 + [call()],
        [call(remote="+999123", dest_class="unknown"), call()],  # one is below the minimum
        2,
    ),
    "undefined-extensions": (
        {},
        [call("2999"), call("2001", direction="internal", peer="2998", remote=None), call()],
        [call(), call("3001", direction="internal", peer="2001", remote=None)],
        2,
    ),
    "missed-calls": (
        {"more_than": 2, "period": "day", "extensions": ["3001"]},
        [call("3001", direction="incoming", answered=False, cost=None)] * 3,
        [call("3001", direction="incoming", answered=False, cost=None)] * 2
        + [call("2001", direction="incoming", answered=False, cost=None)] * 5,
        1,
    ),
    "spend-above": (
        {"per": "department", "amount": {"EUR": 5}, "period": "month"},
        [call(cost="3.00"), call("2002", cost="2.50")],  # Sales: 5.50 EUR
        [call(cost="3.00"), call("2002", cost="2.00"), call("3001", cost="9", currency="USD")],
        1,
    ),
}


@pytest.mark.parametrize("kind", sorted(CASES))
def test_each_kind_fires_on_its_case(org: Workspace, kind: str) -> None:
    params, firing, _, found = CASES[kind]
    add(org, {"name": "a", "kind": kind, "params": params})
    arrive(org, firing)
    result = run(org)
    assert result.fired, result.to_dict()
    (event,) = result.events
    assert event.found == found, event.rows
    assert event.kind == kind


@pytest.mark.parametrize("kind", sorted(CASES))
def test_each_kind_stays_silent_on_clean_calls(org: Workspace, kind: str) -> None:
    params, _, clean, _ = CASES[kind]
    add(org, {"name": "a", "kind": kind, "params": params})
    arrive(org, clean)
    result = run(org)
    assert not result.fired, result.to_dict()
    assert [o.status for o in result.outcomes] == ["silent"]


def test_rows_name_the_calls_found(org: Workspace) -> None:
    add(org, {"name": "abroad", "kind": "international"})
    (first, _) = arrive(
        org,
        [call(remote="+4930123456", dest_class="international", country="DE", cost="1.25"), call()],
    )
    (event,) = run(org).events
    (row,) = event.rows
    assert row["call_id"] == first
    assert row["number"] == "+4930123456"
    assert (row["cost"], row["currency"]) == ("1.25", "EUR")
    assert row["started_at"] == "2026-12-01T10:00:00"  # shown in the workspace's zone
    assert row["user"] == "alice"
    assert event.logins == ("alice",)


def test_the_spend_of_a_person_is_per_currency(org: Workspace) -> None:
    add(org, {"name": "spend", "kind": "spend-above", "params": {"amount": {"EUR": 4, "USD": 4}}})
    arrive(org, [call(cost="3"), call(cost="3", currency="USD"), call(cost="2", currency="USD")])
    (event,) = run(org).events
    assert [(r["person"], r["currency"], r["spent"]) for r in event.rows] == [("alice", "USD", "5")]
    assert event.period == "2026-12"


def test_dead_feed_fires_when_no_records_come_during_working_hours(org: Workspace) -> None:
    add(org, {"name": "feed", "kind": "dead-feed", "params": {"minutes": 30}})
    arrive(org, [call()], at=NOW - dt.timedelta(minutes=10))
    assert not run(org).fired  # records came 10 minutes ago
    later = NOW + dt.timedelta(minutes=40)
    (event,) = run(org, now=later).events
    assert event.summary == "no call records received for 50 working minutes"
    assert event.rows[0]["files_without_records"] == 0
    assert not run(org, now=later + dt.timedelta(minutes=15)).fired  # the same silence: once
    # Files keep arriving, but without records: still silent, still reported once.
    arrive(org, [], at=later + dt.timedelta(minutes=20))
    assert not run(org, now=later + dt.timedelta(minutes=30)).fired
    arrive(org, [call()], at=later + dt.timedelta(minutes=31))
    assert not run(org, now=later + dt.timedelta(minutes=32)).fired
    # A new silence is a new firing.
    (again,) = run(org, now=later + dt.timedelta(minutes=90)).events
    assert again.summary == "no call records received for 59 working minutes"


def test_dead_feed_counts_files_without_records(org: Workspace) -> None:
    add(org, {"name": "feed", "kind": "dead-feed", "params": {"minutes": 30}})
    arrive(org, [call()], at=NOW - dt.timedelta(hours=2))
    arrive(org, [], at=NOW - dt.timedelta(minutes=5))
    arrive(org, [], at=NOW - dt.timedelta(minutes=1))
    (event,) = run(org).events
    assert event.rows[0]["files_without_records"] == 2
    assert event.rows[0]["minutes_without"] == 120


def test_dead_feed_fires_when_ingest_never_ran_and_not_out_of_hours(org: Workspace) -> None:
    add(org, {"name": "feed", "kind": "dead-feed", "params": {"minutes": 30}})
    sunday = dt.datetime(2026, 12, 6, 12, tzinfo=dt.UTC)
    assert not run(org, now=sunday).fired
    (event,) = run(org).events
    assert event.summary == "no call records received yet"
    assert event.rows[0]["last_ingest_at"] is None


def test_alarms_wait_for_calls_an_ingest_has_not_finished(org: Workspace) -> None:
    add(org, {"name": "abroad", "kind": "international"})
    abroad = call(remote="+4930123456", dest_class="international", country="DE")
    arrive(org, [abroad, {**abroad, "dest_class": None}, abroad])
    first = run(org)
    assert first.events[0].found == 1  # the unrated call and those after it wait
    assert first.outcomes[0].calls_upto == first.outcomes[0].calls_after + 1


def test_dead_feed_counts_only_working_time(org: Workspace) -> None:
    add(org, {"name": "feed", "kind": "dead-feed", "params": {"minutes": 60}})
    friday = dt.datetime(2026, 11, 27, 16, 30, tzinfo=dt.UTC)  # 17:30 in Paris
    arrive(org, [call()], at=friday)
    monday = dt.datetime(2026, 11, 30, 7, 10, tzinfo=dt.UTC)  # 08:10: 40 working minutes
    assert not run(org, now=monday).fired
    (event,) = run(org, now=monday + dt.timedelta(minutes=20)).events  # 08:30: 60
    assert event.rows[0]["last_records_at"] == "2026-11-27T17:30:00+01:00"


def test_out_of_hours_can_watch_only_outgoing_or_only_external_calls(org: Workspace) -> None:
    hours = {"days": {"mon-fri": ["08:00-18:00"]}}
    add(org, {"name": "all", "kind": "out-of-hours", "params": {"hours": hours}})
    add(org, {"name": "outgoing", "kind": "out-of-hours",
              "params": {"hours": hours, "outgoing_only": True}})  # fmt: skip
    add(org, {"name": "external", "kind": "out-of-hours",
              "params": {"hours": hours, "external_only": True}})  # fmt: skip
    out, incoming, internal = arrive(
        org,
        [
            call(at=SATURDAY_NIGHT),
            call(at=SATURDAY_NIGHT, direction="incoming", cost=None),
            call(at=SATURDAY_NIGHT, direction="internal", peer="2002", remote=None, cost=None),
        ],
    )
    found = {e.alarm: [row["call_id"] for row in e.rows] for e in run(org).events}
    assert found == {
        "all": [out, incoming, internal],
        "outgoing": [out],
        "external": [out, incoming],
    }


def test_forbidden_numbers_are_compared_whatever_the_form_they_are_listed_in(
    org: Workspace,
) -> None:
    params = {"numbers": ["00 44 20 7946 0000", "3179"], "prefixes": ["00 1 900"]}
    add(org, {"name": "banned", "kind": "forbidden-numbers", "params": params})
    london, short, premium, _ = arrive(
        org,
        [
            call(remote="+442079460000", dest_class="international", country="GB"),
            # A short number the ingest could not make E.164: compared as dialled.
            call(remote=None, dialled="3179", dest_class="special", country=None),
            call(remote="+19005551234", dest_class="international", country="US"),
            call(remote="+442079460001", dest_class="international", country="GB"),
        ],
    )
    (event,) = run(org).events
    assert [row["call_id"] for row in event.rows] == [london, short, premium]


def test_international_calls_above_a_cost(org: Workspace) -> None:
    add(org, {"name": "dear", "kind": "international", "params": {"min_cost": "2.50"}})
    abroad = {"remote": "+4930123456", "dest_class": "international", "country": "DE"}
    dear, _, exact = arrive(
        org, [call(cost="9.99", **abroad), call(cost="2.49", **abroad), call(cost="2.50", **abroad)]
    )
    (event,) = run(org).events
    assert [row["call_id"] for row in event.rows] == [dear, exact]


def test_the_spend_of_a_cost_centre_is_its_members_together(org: Workspace) -> None:
    params = {"per": "cost_center", "amount": {"EUR": 5}, "period": "week"}
    add(org, {"name": "cc", "kind": "spend-above", "params": params})
    # alice and sue share CC-1100: 3 + 2.5 is above 5, though neither alone is.
    arrive(org, [call("2001", cost="3"), call("2002", cost="2.5"), call("3001", cost="4")])
    (event,) = run(org).events
    assert event.rows == [
        {"cost_center": "CC-1100", "period": "2026-W49", "spent": "5.5", "limit": "5",
         "currency": "EUR", "calls": 2},
    ]  # fmt: skip
    assert event.logins == ()  # a group: its members' supervisors are not mailed per person


def test_a_missed_internal_call_concerns_the_person_who_missed_it(org: Workspace) -> None:
    add(org, {"name": "missed", "kind": "missed-calls", "params": {"more_than": 1}})
    # bob (3001) calls alice (2001) twice; she misses both.
    missed = call("3001", direction="internal", peer="2001", remote=None, answered=False, cost=None)
    arrive(org, [missed, missed])
    (event,) = run(org).events
    assert event.rows == [
        {"extension": "2001", "user": "alice", "period": "2026-12-01", "missed": 2}
    ]
    assert event.logins == ("alice",)  # her supervisor is told, not bob's


def test_dead_feed_counts_working_time_across_a_daylight_saving_change(org: Workspace) -> None:
    add(org, {"name": "feed", "kind": "dead-feed", "params": {"minutes": 60}})
    friday = dt.datetime(2026, 3, 27, 16, 30, tzinfo=dt.UTC)  # 17:30 CET in Paris
    arrive(org, [call()], at=friday)
    # Paris is on summer time from Sunday 29 March: Monday 06:10 UTC is 08:10 CEST.
    monday = dt.datetime(2026, 3, 30, 6, 10, tzinfo=dt.UTC)
    assert not run(org, now=monday).fired  # 30 + 10 working minutes
    (event,) = run(org, now=monday + dt.timedelta(minutes=20)).events  # 08:30 CEST
    assert event.rows[0]["minutes_without"] == 60


@pytest.mark.parametrize(
    ("kind", "params", "label"),
    [
        ("missed-calls", {"more_than": 0, "period": "day"}, "2026-12-01"),
        ("missed-calls", {"more_than": 0, "period": "week"}, "2026-W49"),
        ("missed-calls", {"more_than": 0, "period": "month"}, "2026-12"),
        ("spend-above", {"amount": {"EUR": 0}, "period": "day"}, "2026-12-01"),
        ("spend-above", {"amount": {"EUR": 0}, "period": "week"}, "2026-W49"),
    ],
)
def test_period_kinds_name_the_local_period(
    org: Workspace, kind: str, params: dict[str, Any], label: str
) -> None:
    # 00:30 on Tuesday 1 December in Paris is still Monday 30 November in UTC.
    at = dt.datetime(2026, 11, 30, 23, 30)
    arrive(org, [call(at=at, direction="incoming", answered=False, cost="0.10")])
    add(org, {"name": "a", "kind": kind, "params": params})
    arrive(org, [call(at=at, direction="incoming", answered=False, cost="0.10")])
    (event,) = run(org).events
    assert event.period == label
    assert event.found == 1
