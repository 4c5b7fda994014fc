"""Each role's view of the same calls (F-ACCESS-1), and no filter can widen a scope."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from callacct.directory import import_directory_csv, scope_for
from callacct.errors import UsageError
from callacct.query.calls import CallFilter, query_calls
from callacct.query.scope import Scope, admin_scope
from callacct.store import Store
from tests.directory.helpers import SETTINGS, add_call, write_csv

UTC = ZoneInfo("UTC")
DAY = dt.datetime(2026, 1, 5, 9)

PEOPLE = (
    "alice,Alice,,,user,Sales,CC-1100,PAR,2001,sue,",
    "bob,Bob,,,user,Marketing,CC-2700,NYC,3001,,",
    "sue,Sue,,,supervisor,Sales,CC-1100,PAR,2002,,",
    "sam,Sam,,,supervisor,Marketing,CC-2700,NYC,3002,,site:NYC",
    "cc,Cee,,,supervisor,Finance,CC-1300,PAR,2004,,cost_center:CC-1100;cost_center:CC-1300",
    "ada,Ada,,,admin,IT,CC-1400,PAR,2003,,",
)

# call id -> (direction, extension, peer, remote)
CALLS = {
    1: ("outgoing", "2001", None, "0612345678"),  # alice
    2: ("incoming", "3001", None, "2125550100"),  # bob
    3: ("internal", "2001", "3001", None),  # alice -> bob
    4: ("outgoing", "2002", None, "0699999999"),  # sue
    5: ("outgoing", "2999", None, "0611111111"),  # nobody's extension
    6: ("internal", "3002", "2003", None),  # sam -> ada
    7: ("outgoing", "2004", None, "0622222222"),  # cc
}

EXPECTED = {
    "alice": {1, 3},
    "bob": {2, 3},  # the internal call where bob was the peer
    "sue": {1, 3, 4},  # department Sales (3: alice's side)
    "sam": {2, 3, 6},  # site NYC, either side
    "cc": {1, 3, 4, 7},  # cost centres CC-1100 (Sales PAR) and CC-1300
    "ada": {1, 2, 3, 4, 5, 6, 7},
}


@pytest.fixture
def org(store: Store, tmp_path: Path) -> Store:
    import_directory_csv(store.con, write_csv(tmp_path / "people.csv", *PEOPLE), SETTINGS)
    for call_id, (direction, ext, peer, remote) in CALLS.items():
        add_call(store.con, call_id, DAY, direction, ext, peer=peer, remote=remote)
    from callacct.directory import attribute_calls

    attribute_calls(store.con, new_only=True)
    return store


def _ids(store: Store, scope: Scope, flt: CallFilter | None = None) -> set[int]:
    frame, total = query_calls(store.con, flt or CallFilter(), UTC, scope=scope)
    assert total == frame.height
    return set(frame["call_id"].to_list())


@pytest.mark.parametrize("login", sorted(EXPECTED))
def test_each_role_sees_its_calls(org: Store, login: str) -> None:
    scope = scope_for(org.con, login, SETTINGS)
    assert _ids(org, scope) == EXPECTED[login]


def test_scopes_resolved_from_the_directory(org: Store) -> None:
    assert scope_for(org.con, "alice", SETTINGS) == Scope(role="user", login="alice")
    sue = scope_for(org.con, "sue", SETTINGS)
    assert (sue.role, sue.departments, sue.sites) == ("supervisor", ("Sales",), ())
    sam = scope_for(org.con, "sam", SETTINGS)
    assert (sam.departments, sam.sites) == ((), ("NYC",))
    assert scope_for(org.con, "cc", SETTINGS).cost_centers == ("CC-1100", "CC-1300")
    assert scope_for(org.con, "ada", SETTINGS).role == "admin"
    with pytest.raises(UsageError, match="no such person"):
        scope_for(org.con, "mallory", SETTINGS)


def test_operator_is_admin(org: Store) -> None:
    assert _ids(org, admin_scope(SETTINGS)) == set(CALLS)


def test_supervisor_scope_default_is_configurable(org: Store) -> None:
    by_site = SETTINGS.model_copy(
        update={"directory": SETTINGS.directory.model_copy(update={"supervisor_scope": ("site",)})}
    )
    sue = scope_for(org.con, "sue", by_site)
    assert (sue.departments, sue.sites) == ((), ("PAR",))
    assert _ids(org, sue) == {1, 3, 4, 6, 7}  # either side in PAR; 5 is nobody's


WIDENING_FILTERS = [
    CallFilter(extensions=("3001",)),
    CallFilter(extensions=("2999", "3002", "2002")),
    CallFilter(number="0699999999"),
    CallFilter(number="2125550100"),
    CallFilter(directions=("incoming", "outgoing", "internal")),
    CallFilter(dispositions=("answered", "missed")),
    CallFilter(start=dt.datetime(2000, 1, 1, tzinfo=UTC), end=dt.datetime(2100, 1, 1, tzinfo=UTC)),
    CallFilter(last=1000),
    CallFilter(number="' OR 1=1 --"),
    CallFilter(extensions=("' OR TRUE OR '",)),
]


@pytest.mark.parametrize("login", ["alice", "bob", "sue", "sam"])
@pytest.mark.parametrize("flt", WIDENING_FILTERS)
def test_no_filter_widens_a_scope(org: Store, login: str, flt: CallFilter) -> None:
    scope = scope_for(org.con, login, SETTINGS)
    try:
        seen = _ids(org, scope, flt)
    except UsageError:
        return  # refused outright: nothing shown
    assert seen <= EXPECTED[login]
    assert seen == _ids(org, admin_scope(SETTINGS), flt) & EXPECTED[login]


def test_a_new_holder_does_not_see_the_previous_holders_calls(org: Store, tmp_path: Path) -> None:
    moved = [line.replace(",2001,", ",,") for line in PEOPLE] + ["zoe,,,,user,Sales,,PAR,2001,,"]
    import_directory_csv(
        org.con,
        write_csv(tmp_path / "b.csv", *moved),
        SETTINGS,
        as_of=DAY + dt.timedelta(days=1),
    )
    add_call(org.con, 8, DAY + dt.timedelta(days=2), "outgoing", "2001", remote="0612345678")
    from callacct.directory import attribute_calls

    attribute_calls(org.con, new_only=True)
    assert _ids(org, scope_for(org.con, "zoe", SETTINGS)) == {8}
    assert _ids(org, Scope.for_user("alice")) == {1, 3}


def test_an_empty_supervisor_scope_sees_nothing(org: Store) -> None:
    scope = Scope(role="supervisor", login="x")
    assert scope.predicate() == ("FALSE", [])
    assert _ids(org, scope) == set()
    assert _ids(org, dataclasses.replace(scope, role="user", login=None)) == set()


def test_an_unknown_role_sees_nothing(org: Store) -> None:
    assert _ids(org, Scope(role="auditor", login="x", departments=("Sales",))) == set()


def test_missing_slapd_skips_here_and_fails_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.directory.conftest import _need

    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="not installed"):
        _need("callacct-no-such-binary")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI must install it"):
        _need("callacct-no-such-binary")


@pytest.mark.parametrize("login", sorted(EXPECTED))
def test_reads_of_one_call_by_id_stay_in_scope(org: Store, login: str) -> None:
    from callacct.query.calls import call_in_scope

    scope = scope_for(org.con, login, SETTINGS)
    assert {i for i in [*CALLS, 99] if call_in_scope(org.con, i, scope)} == EXPECTED[login]


# reader -> the people whose own calls they may read (their home)
MAY_LOOK_AT = {
    "alice": {"alice"},
    "bob": {"bob"},
    "sue": {"alice", "sue"},  # department Sales
    "sam": {"bob", "sam"},  # site NYC
    "cc": {"alice", "sue", "cc"},  # cost centres CC-1100 and CC-1300
    "ada": set(EXPECTED),
}


@pytest.mark.parametrize("reader", sorted(MAY_LOOK_AT))
def test_person_view_is_the_one_check_of_whose_calls(org: Store, reader: str) -> None:
    from callacct.directory import person_view

    scope = scope_for(org.con, reader, SETTINGS)
    for login in [*EXPECTED, "mallory"]:
        if login not in MAY_LOOK_AT[reader]:
            with pytest.raises(UsageError, match=f"'{login}': no such person"):
                person_view(org.con, scope, login, SETTINGS)
            continue
        view = person_view(org.con, scope, login, SETTINGS)
        own = _ids(org, Scope.for_user(login))
        # Their own calls, and only those the reader may see.
        assert _ids(org, view) == own & EXPECTED[reader], (reader, login)
        assert view.mask_digits == scope.mask_digits


def test_person_view_masks_for_the_reader(org: Store) -> None:
    from callacct.directory import person_view

    masked = SETTINGS.model_copy(
        update={"masking": SETTINGS.masking.model_copy(update={"supervisor": 3})}
    )
    sue = scope_for(org.con, "sue", masked)
    view = person_view(org.con, sue, "alice", masked)
    frame, _ = query_calls(org.con, CallFilter(), UTC, scope=view)
    assert frame.filter(frame["call_id"] == 1)["remote_number"].to_list() == ["0612345***"]
