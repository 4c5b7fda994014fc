"""An alarm never sees more than its owner may; working hours read in each site's zone,
across daylight-saving changes, the same in SQL and in Python."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callacct import Workspace
from callacct.alarms import WorkingHours
from callacct.errors import NotFoundError
from tests.alarms.conftest import NOW, add, arrive, call, clock, leave, run

ABROAD = {"dest_class": "international", "country": "DE", "remote": "+4930123456"}


def test_an_alarm_of_a_supervisor_reports_only_calls_in_their_scope(org: Workspace) -> None:
    sue = org.as_person("sue")
    sue.alarms(clock=clock()).add(
        {"name": "abroad", "kind": "international", "recipients": {"to": ["sue@example.com"]}}
    )
    # Watching a department outside her scope widens nothing.
    sue.alarms(clock=clock()).add(
        {"name": "support", "kind": "international", "scope": {"departments": ["Support"]}}
    )
    ids = arrive(org, [call("2001", **ABROAD), call("3001", **ABROAD), call("2999", **ABROAD)])
    result = sue.alarms(clock=clock()).run(now=NOW)
    assert [(o.alarm, o.status) for o in result.outcomes] == [
        ("abroad", "fired"),
        ("support", "silent"),
    ]
    (event,) = result.events
    assert [row["call_id"] for row in event.rows] == ids[:1]
    assert event.rows[0]["number"] == "+493012****"  # masked as Sue sees numbers
    # The same alarm as the operator's sees every call, numbers whole.
    add(org, {"name": "all-abroad", "kind": "international"}, backfill=True)
    (everything,) = run(org, "all-abroad").events
    assert [row["call_id"] for row in everything.rows] == ids
    assert everything.rows[0]["number"] == "+4930123456"


def test_people_see_and_change_only_their_own_alarms(org: Workspace) -> None:
    org.as_person("sue").alarms().add({"name": "sue-one", "kind": "international"})
    add(org, {"name": "ops", "kind": "international"})
    assert [a.name for a in org.as_person("sue").alarms().all()] == ["sue-one"]
    assert [a.name for a in org.as_person("ada").alarms().all()] == ["ops", "sue-one"]
    alice = org.as_person("alice").alarms()
    assert alice.all() == []
    for action in (alice.pause, alice.remove, alice.show):
        with pytest.raises(NotFoundError, match="no alarm named 'sue-one'"):
            action("sue-one")
    with pytest.raises(NotFoundError):
        alice.run("ops")
    assert org.alarms().show("sue-one").owner == "sue"


def test_an_alarm_whose_owner_left_fails_rather_than_widens(org: Workspace) -> None:
    org.as_person("alice").alarms().add({"name": "mine", "kind": "international"})
    leave(org, "alice")
    arrive(org, [call("3001", **ABROAD)])
    (outcome,) = run(org).outcomes
    assert outcome.status == "failed"
    assert "no longer in the directory" in str(outcome.error)


HOURS = {"days": {"mon-fri": ["08:00-18:00"]}}


def test_working_hours_follow_each_site_across_daylight_saving(org: Workspace) -> None:
    add(org, {"name": "night", "kind": "out-of-hours", "params": {"hours": HOURS}})
    # Paris leaves winter time on 29 March 2026, New York on 8 March.
    cases = {
        ("2001", dt.datetime(2026, 3, 27, 6, 30)): True,  # Fri 07:30 CET
        ("2001", dt.datetime(2026, 3, 30, 6, 30)): False,  # Mon 08:30 CEST
        ("2001", dt.datetime(2026, 3, 27, 16, 30)): False,  # Fri 17:30 CET
        ("2001", dt.datetime(2026, 3, 30, 16, 30)): True,  # Mon 18:30 CEST
        ("3001", dt.datetime(2026, 3, 6, 12, 30)): True,  # Fri 07:30 EST
        ("3001", dt.datetime(2026, 3, 9, 12, 30)): False,  # Mon 08:30 EDT
        ("3001", dt.datetime(2026, 10, 26, 12, 30)): False,  # Mon 08:30 EDT (Paris: winter)
        ("2001", dt.datetime(2026, 10, 26, 7, 30)): False,  # Mon 08:30 CET
        ("2001", dt.datetime(2026, 10, 23, 6, 30)): False,  # Fri 08:30 CEST
        ("2001", dt.datetime(2026, 10, 26, 6, 30)): True,  # Mon 07:30 CET
    }
    ids = arrive(org, [call(ext, at=at) for ext, at in cases])
    (event,) = run(org).events
    expected = [i for i, out in zip(ids, cases.values(), strict=True) if out]
    assert [row["call_id"] for row in event.rows] == expected


def test_holidays_and_a_zone_given_in_the_alarm(org: Workspace) -> None:
    hours = {**HOURS, "holidays": ["2026-12-25"], "timezone": "Asia/Tokyo"}
    add(org, {"name": "night", "kind": "out-of-hours", "params": {"hours": hours}})
    christmas = dt.datetime(2026, 12, 25, 2)  # 11:00 in Tokyo, a holiday
    tokyo_morning = dt.datetime(2026, 12, 24, 2)  # 11:00 in Tokyo
    ids = arrive(org, [call(at=christmas), call(at=tokyo_morning), call("3001", at=christmas)])
    (event,) = run(org).events
    assert [row["call_id"] for row in event.rows] == [ids[0], ids[2]]


_DEFINITIONS = st.fixed_dictionaries(
    {
        "days": st.dictionaries(
            st.sampled_from(["mon", "tue", "wed", "thu", "fri", "sat", "sun"]),
            st.lists(
                st.tuples(st.integers(0, 23), st.integers(0, 59), st.integers(1, 24 * 60)).map(
                    lambda t: (
                        f"{t[0]:02d}:{t[1]:02d}-"
                        + (
                            "24:00"
                            if t[0] * 60 + t[1] + t[2] >= 24 * 60
                            else f"{(t[0] * 60 + t[1] + t[2]) // 60:02d}:"
                            f"{(t[0] * 60 + t[1] + t[2]) % 60:02d}"
                        )
                    )
                ),
                max_size=3,
            ),
        ),
        "holidays": st.lists(st.dates(dt.date(2026, 1, 1), dt.date(2026, 12, 31)), max_size=3),
    }
)


@settings(max_examples=60, deadline=None)
@given(
    definition=_DEFINITIONS,
    moments=st.lists(
        st.datetimes(dt.datetime(2026, 1, 1), dt.datetime(2026, 12, 31)), min_size=1, max_size=20
    ),
)
def test_working_hours_read_the_same_in_sql_and_in_python(
    definition: dict[str, object], moments: list[dt.datetime]
) -> None:
    hours = WorkingHours.model_validate(definition)
    condition, params = hours.sql("t")
    con = duckdb.connect()
    # The select list's parameters come before the relation's.
    rows = con.execute(
        f"SELECT t, {condition} FROM (SELECT unnest(?::TIMESTAMP[]) AS t)", [*params, moments]
    ).fetchall()
    for moment, working in rows:
        assert bool(working) == hours.is_working(moment), (moment, definition)


@settings(max_examples=40, deadline=None)
@given(
    zone=st.sampled_from(
        ["Europe/Paris", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "UTC"]
    ),
    moments=st.lists(
        st.datetimes(dt.datetime(2020, 1, 1), dt.datetime(2030, 12, 31)), min_size=1, max_size=30
    ),
)
def test_local_time_by_offsets_is_the_zone_database_s(
    zone: str, moments: list[dt.datetime]
) -> None:
    from callacct.alarms.localtime import local_sql

    local, params = local_sql(min(moments), max(moments), zone, column="t")
    con = duckdb.connect()
    rows = con.execute(
        f"SELECT {local}, timezone(?, t AT TIME ZONE 'UTC') "
        "FROM (SELECT unnest(?::TIMESTAMP[]) AS t)",
        [*params, zone, moments],
    ).fetchall()
    for ours, icu in rows:
        assert ours == icu


def test_a_supervisors_period_alarm_counts_only_the_calls_in_their_scope(org: Workspace) -> None:
    sue = org.as_person("sue").alarms(clock=clock())
    for per in ("person", "department"):
        sue.add({"name": f"spend-{per}", "kind": "spend-above",
                 "params": {"per": per, "amount": {"EUR": 5}}})  # fmt: skip
    sue.add({"name": "missed", "kind": "missed-calls", "params": {"more_than": 1}})
    missed = {"direction": "incoming", "answered": False, "cost": None}
    arrive(
        org,
        [call("2001", cost="6"), call("3001", cost="50"), call("3002", cost="50")]
        + [call("3001", **missed)] * 3,
    )
    result = sue.run(now=NOW)
    found = {e.alarm: e.rows for e in result.events}
    assert found == {
        "spend-person": [{"person": "alice", "period": "2026-12", "spent": "6", "limit": "5",
                          "currency": "EUR", "calls": 1}],
        "spend-department": [{"department": "Sales", "period": "2026-12", "spent": "6",
                              "limit": "5", "currency": "EUR", "calls": 1}],
    }  # fmt: skip
