"""Effective dating, attribution as of call time (F-CALLS-3), undefined extensions (F-ALARM-8)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from callacct.directory import (
    attribute_calls,
    attribute_frame,
    import_directory_csv,
    list_users,
    user_history,
)
from callacct.directory.versions import SINCE_EVER
from callacct.errors import DirectoryError
from callacct.store import Store
from tests.directory.helpers import SETTINGS, add_call, write_csv

JAN = dt.datetime(2026, 1, 1)


def _calls(store: Store) -> dict[int, dict[str, Any]]:
    cur = store.con.execute(
        "SELECT call_id, user_login, department, cost_center, site, peer_login, "
        "peer_department, undefined_extension FROM calls ORDER BY call_id"
    )
    names = [d[0] for d in cur.description or ()]
    return {row[0]: dict(zip(names, row, strict=True)) for row in cur.fetchall()}


def test_department_move_mid_month_keeps_earlier_calls(store: Store, tmp_path: Path) -> None:
    first = write_csv(
        tmp_path / "v1.csv",
        "alice,Alice,,,user,Sales,CC-100,PAR,2001,,",
        "bob,Bob,,,user,Marketing,CC-700,PAR,2002,,",
    )
    import_directory_csv(store.con, first, SETTINGS, as_of=JAN)
    add_call(store.con, 1, dt.datetime(2026, 1, 5, 9), "outgoing", "2001", remote="0612345678")
    add_call(store.con, 2, dt.datetime(2026, 1, 20, 9), "outgoing", "2001", remote="0612345678")
    add_call(store.con, 3, dt.datetime(2026, 1, 20, 10), "internal", "2002", peer="2001")
    attribute_calls(store.con, new_only=True)
    assert _calls(store)[2]["department"] == "Sales"  # before the move is known

    moved = write_csv(
        tmp_path / "v2.csv",
        "alice,Alice,,,user,Finance,CC-300,PAR,2001,,",
        "bob,Bob,,,user,Marketing,CC-700,PAR,2002,,",
    )
    result = import_directory_csv(store.con, moved, SETTINGS, as_of=dt.datetime(2026, 1, 15))
    assert result.changes.changed == {"alice": ["department", "cost_center"]}
    calls = _calls(store)
    assert (calls[1]["department"], calls[1]["cost_center"]) == ("Sales", "CC-100")
    assert (calls[2]["department"], calls[2]["cost_center"]) == ("Finance", "CC-300")
    assert (calls[3]["user_login"], calls[3]["peer_login"]) == ("bob", "alice")
    assert calls[3]["peer_department"] == "Finance"
    # Nothing deleted: the old version is ended, the new one current.
    versions = user_history(store.con, "alice")["versions"]
    assert [(v["department"], v["valid_from"], v["valid_to"]) for v in versions] == [
        ("Sales", JAN, dt.datetime(2026, 1, 15)),
        ("Finance", dt.datetime(2026, 1, 15), None),
    ]
    at_10th = list_users(store.con, at=dt.datetime(2026, 1, 10))
    assert {p["login"]: p["department"] for p in at_10th}["alice"] == "Sales"


def test_an_extension_that_moves_keeps_its_calls_with_the_old_holder(
    store: Store, tmp_path: Path
) -> None:
    import_directory_csv(
        store.con,
        write_csv(tmp_path / "a.csv", "carol,,,,user,Sales,,,2003,,"),
        SETTINGS,
        as_of=JAN,
    )
    add_call(store.con, 1, dt.datetime(2026, 1, 5), "incoming", "2003", remote="0102030405")
    add_call(store.con, 2, dt.datetime(2026, 1, 12), "incoming", "2003", remote="0102030405")
    changes = import_directory_csv(
        store.con,
        write_csv(tmp_path / "b.csv", "carol,,,,user,Sales,,,,,", "dave,,,,user,IT,,,2003,,"),
        SETTINGS,
        as_of=dt.datetime(2026, 1, 10),
    ).changes
    assert changes.extensions_ended == [("2003", "carol")]
    assert changes.extensions_added == [("2003", "dave")]
    calls = _calls(store)
    assert calls[1]["user_login"] == "carol"
    assert (calls[2]["user_login"], calls[2]["department"]) == ("dave", "IT")
    assert user_history(store.con, "carol")["extensions"] == [
        {"extension": "2003", "valid_from": JAN, "valid_to": dt.datetime(2026, 1, 10)}
    ]


def test_undefined_extensions_are_marked(store: Store, tmp_path: Path) -> None:
    import_directory_csv(
        store.con, write_csv(tmp_path / "a.csv", "alice,,,,user,Sales,,,2001,,"), SETTINGS
    )
    add_call(store.con, 1, dt.datetime(2026, 1, 5), "outgoing", "2001", remote="0612345678")
    add_call(store.con, 2, dt.datetime(2026, 1, 5), "outgoing", "2999", remote="0612345678")
    add_call(store.con, 3, dt.datetime(2026, 1, 5), "internal", "2001", peer="2998")
    add_call(store.con, 4, dt.datetime(2026, 1, 5), "outgoing", None, remote="0612345678")
    # A conference bridge is not an extension (dialplan.extension_pattern says what is).
    add_call(store.con, 5, dt.datetime(2026, 1, 5), "internal", "2001", peer="b00106239001")
    pattern = SETTINGS.dialplan.extension_pattern
    result = attribute_calls(store.con, new_only=True, extension_pattern=pattern)
    assert (result.calls, result.attributed, result.undefined) == (5, 3, 2)
    calls = _calls(store)
    assert [calls[i]["undefined_extension"] for i in (1, 2, 3, 4, 5)] == [
        False,
        True,
        True,
        False,
        False,
    ]
    assert calls[3]["user_login"] == "alice"
    assert attribute_calls(store.con, new_only=True).calls == 0  # nothing new


def test_first_load_is_valid_since_ever_later_loads_from_now(store: Store, tmp_path: Path) -> None:
    add_call(store.con, 1, dt.datetime(2020, 6, 1), "outgoing", "2001", remote="0612345678")
    path = write_csv(tmp_path / "a.csv", "alice,,,,user,Sales,,,2001,,")
    first = import_directory_csv(store.con, path, SETTINGS)
    assert first.changes.as_of.year == 1900
    assert _calls(store)[1]["user_login"] == "alice"
    moved = write_csv(tmp_path / "b.csv", "alice,,,,user,IT,,,2001,,")
    second = import_directory_csv(store.con, moved, SETTINGS)
    assert second.changes.as_of.year >= 2026
    assert _calls(store)[1]["department"] == "Sales"


def test_changes_must_come_in_time_order(store: Store, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "a.csv", "alice,,,,user,Sales,,,2001,,")
    import_directory_csv(store.con, path, SETTINGS, as_of=dt.datetime(2026, 2, 1))
    moved = write_csv(tmp_path / "b.csv", "alice,,,,user,IT,,,2001,,")
    with pytest.raises(DirectoryError, match="apply directory changes in time order"):
        import_directory_csv(store.con, moved, SETTINGS, as_of=JAN)


def test_dry_run_and_unchanged_import_store_nothing(store: Store, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "a.csv", "alice,,,,user,Sales,,,2001,,", "bob,,,,user,IT,,,2002,,")
    dry = import_directory_csv(store.con, path, SETTINGS, dry_run=True)
    assert dry.changes.added == ["alice", "bob"]
    assert list_users(store.con) == []
    import_directory_csv(store.con, path, SETTINGS, as_of=JAN)
    again = import_directory_csv(store.con, path, SETTINGS)
    assert not again.changes.has_changes
    assert again.changes.unchanged == 2
    assert store.con.execute("SELECT count(*) FROM users").fetchall()[0][0] == 2


def test_people_missing_from_a_later_file_are_ended(store: Store, tmp_path: Path) -> None:
    both = write_csv(tmp_path / "a.csv", "alice,,,,user,Sales,,,2001,,", "bob,,,,user,IT,,,2002,,")
    import_directory_csv(store.con, both, SETTINGS, as_of=JAN)
    only_alice = write_csv(tmp_path / "b.csv", "alice,,,,user,Sales,,,2001,,")
    result = import_directory_csv(store.con, only_alice, SETTINGS, as_of=dt.datetime(2026, 2, 1))
    assert result.changes.ended == ["bob"]
    assert result.changes.extensions_ended == [("2002", "bob")]
    assert [p["login"] for p in list_users(store.con)] == ["alice"]
    assert store.con.execute("SELECT count(*) FROM users").fetchall()[0][0] == 2


def test_a_file_with_rejected_lines_ends_nobody(store: Store, tmp_path: Path) -> None:
    both = write_csv(tmp_path / "a.csv", "alice,,,,user,Sales,,,2001,,", "bob,,,,user,IT,,,2002,,")
    import_directory_csv(store.con, both, SETTINGS, as_of=JAN)
    broken = write_csv(
        tmp_path / "b.csv", "alice,,,,user,Sales,,,2001,,", "bob,,,,boss,IT,,,2002,,"
    )
    result = import_directory_csv(store.con, broken, SETTINGS, as_of=dt.datetime(2026, 2, 1))
    assert [str(p) for p in result.problems] == [
        "b.csv:3: role 'boss' must be one of user, supervisor, admin"
    ]
    assert result.changes.ended == []
    assert [p["login"] for p in list_users(store.con)] == ["alice", "bob"]


def _since(store: Store, login: str) -> tuple[list[dt.datetime], list[tuple[str, dt.datetime]]]:
    history = user_history(store.con, login)
    return (
        [v["valid_from"] for v in history["versions"]],
        [(e["extension"], e["valid_from"]) for e in history["extensions"]],
    )


def test_a_person_first_seen_in_a_later_load_is_valid_since_ever(
    store: Store, tmp_path: Path
) -> None:
    """A first file rejects bob's line; the corrected file adds him later. He arrives since
    ever, as if he had been in the first load: his past calls are his."""
    add_call(store.con, 1, dt.datetime(2020, 6, 1), "outgoing", "2001", remote="0612345678")
    add_call(store.con, 2, dt.datetime(2020, 6, 2), "outgoing", "2002", remote="0612345678")
    broken = write_csv(
        tmp_path / "a.csv", "alice,,,,user,Sales,,,2001,,", "bob,,,,boss,IT,,,2002,,"
    )
    first = import_directory_csv(store.con, broken, SETTINGS, now=dt.datetime(2026, 3, 1))
    assert first.changes.added == ["alice"]
    assert _calls(store)[2]["user_login"] is None
    fixed = write_csv(tmp_path / "b.csv", "alice,,,,user,Sales,,,2001,,", "bob,,,,user,IT,,,2002,,")
    second = import_directory_csv(store.con, fixed, SETTINGS, now=dt.datetime(2026, 3, 2))
    assert second.changes.as_of == dt.datetime(2026, 3, 2)
    assert second.changes.added == ["bob"]
    assert second.changes.effective_from == SINCE_EVER
    assert _since(store, "bob") == ([SINCE_EVER], [("2002", SINCE_EVER)])
    assert _calls(store)[2]["user_login"] == "bob"
    assert _calls(store)[2]["department"] == "IT"
    assert _calls(store)[2]["undefined_extension"] is False


def test_a_newcomer_takes_an_extension_from_where_its_last_holder_left(
    store: Store, tmp_path: Path
) -> None:
    add_call(store.con, 1, dt.datetime(2026, 1, 10), "outgoing", "2003", remote="0612345678")
    add_call(store.con, 2, dt.datetime(2026, 2, 10), "outgoing", "2003", remote="0612345678")
    add_call(store.con, 3, dt.datetime(2026, 3, 10), "outgoing", "2003", remote="0612345678")
    carol = write_csv(tmp_path / "a.csv", "carol,,,,user,Sales,,,2003,,")
    import_directory_csv(store.con, carol, SETTINGS, as_of=JAN)
    nobody = write_csv(tmp_path / "b.csv", "alice,,,,user,Sales,,,2001,,")
    import_directory_csv(store.con, nobody, SETTINGS, as_of=dt.datetime(2026, 2, 1))
    dave = write_csv(tmp_path / "c.csv", "alice,,,,user,Sales,,,2001,,", "dave,,,,user,IT,,,2003,,")
    result = import_directory_csv(store.con, dave, SETTINGS, now=dt.datetime(2026, 4, 1))
    assert result.changes.added == ["dave"]
    assert _since(store, "dave") == ([SINCE_EVER], [("2003", dt.datetime(2026, 2, 1))])
    assert [_calls(store)[i]["user_login"] for i in (1, 2, 3)] == ["carol", "dave", "dave"]


def test_a_returning_person_or_an_explicit_as_of_starts_then(store: Store, tmp_path: Path) -> None:
    ann = write_csv(tmp_path / "a.csv", "ann,,,,user,Sales,,,2001,,")
    import_directory_csv(store.con, ann, SETTINGS, as_of=JAN)
    empty = write_csv(tmp_path / "b.csv", "zed,,,,user,Sales,,,2009,,")
    import_directory_csv(store.con, empty, SETTINGS, as_of=dt.datetime(2026, 2, 1))
    back = write_csv(
        tmp_path / "c.csv",
        "zed,,,,user,Sales,,,2009,,",
        "ann,,,,user,Sales,,,2001,,",
        "new,,,,user,IT,,,2002,,",
    )
    result = import_directory_csv(store.con, back, SETTINGS, as_of=dt.datetime(2026, 3, 1))
    assert result.changes.added == ["ann", "new"]
    assert result.changes.effective_from == dt.datetime(2026, 3, 1)
    assert _since(store, "ann")[0] == [JAN, dt.datetime(2026, 3, 1)]  # came back then
    assert _since(store, "new") == ([dt.datetime(2026, 3, 1)], [("2002", dt.datetime(2026, 3, 1))])


def test_an_earlier_as_of_backdates_a_person_s_only_version(store: Store, tmp_path: Path) -> None:
    """Someone stored as starting too late (a later --as-of, or an older callacct that started
    latecomers 'now') is backdated by applying the same snapshot as of an earlier time."""
    add_call(store.con, 1, dt.datetime(2026, 1, 5), "outgoing", "2001", remote="0612345678")
    add_call(store.con, 2, dt.datetime(2026, 1, 6), "internal", "2002", peer="2001")
    path = write_csv(tmp_path / "a.csv", "eve,,,,user,Sales,,,2001,,", "fay,,,,user,IT,,,2002,,")
    import_directory_csv(store.con, path, SETTINGS, as_of=dt.datetime(2026, 3, 1))
    assert _calls(store)[1]["user_login"] is None
    dry = import_directory_csv(
        store.con, path, SETTINGS, as_of=dt.datetime(2000, 1, 1), dry_run=True
    )
    assert (dry.changes.backdated, dry.changes.unchanged) == (["eve", "fay"], 0)
    assert _since(store, "eve")[0] == [dt.datetime(2026, 3, 1)]
    result = import_directory_csv(store.con, path, SETTINGS, as_of=dt.datetime(2000, 1, 1))
    assert result.changes.backdated == ["eve", "fay"]
    assert result.changes.effective_from == dt.datetime(2000, 1, 1)
    assert _since(store, "eve") == ([dt.datetime(2000, 1, 1)], [("2001", dt.datetime(2000, 1, 1))])
    calls = _calls(store)
    assert (calls[1]["user_login"], calls[2]["user_login"], calls[2]["peer_login"]) == (
        "eve",
        "fay",
        "eve",
    )
    again = import_directory_csv(store.con, path, SETTINGS, as_of=dt.datetime(2000, 1, 1))
    assert (again.changes.backdated, again.changes.unchanged) == ([], 2)


_UNATTRIBUTED = (
    "SELECT call_id, line_no, started_at, extension, peer_extension FROM calls ORDER BY call_id"
)


def test_calls_not_stored_yet_are_attributed_as_stored_ones(store: Store, tmp_path: Path) -> None:
    """`attribute_frame` (an ingest's new calls) gives what `attribute_calls` stores, in the
    order of the calls given, each call keeping its other columns."""
    import_directory_csv(
        store.con,
        write_csv(
            tmp_path / "a.csv",
            "alice,,,,user,Sales,CC-1,PAR,2001,,",
            "bob,,,,user,IT,CC-2,NYC,2002,,",
        ),
        SETTINGS,
        as_of=JAN,
    )
    add_call(store.con, 1, dt.datetime(2026, 1, 5), "outgoing", "2001", remote="0612345678")
    add_call(store.con, 2, dt.datetime(2026, 1, 5), "internal", "2002", peer="2001")
    add_call(store.con, 3, dt.datetime(2026, 1, 5), "outgoing", "2999", remote="0612345678")
    add_call(store.con, 4, dt.datetime(2026, 1, 5), "incoming", None, remote="0612345678")
    pattern = SETTINGS.dialplan.extension_pattern
    new = store.con.sql(_UNATTRIBUTED).pl()
    in_order, result = attribute_frame(store.con, new, extension_pattern=pattern)
    shuffled, again = attribute_frame(store.con, new[[2, 0, 3, 1]], extension_pattern=pattern)
    stored = attribute_calls(store.con, new_only=True, extension_pattern=pattern)
    assert result == again == stored
    assert in_order["call_id"].to_list() == [1, 2, 3, 4]
    assert shuffled["call_id"].to_list() == [3, 1, 4, 2]  # the order given
    assert shuffled.sort("call_id").equals(in_order)
    assert in_order["line_no"].to_list() == [1, 2, 3, 4]  # each call keeps its columns
    calls = _calls(store)
    for row in in_order.iter_rows(named=True):
        assert {k: row[k] for k in calls[row["call_id"]]} == calls[row["call_id"]]


def test_a_call_met_twice_by_overlapping_versions_is_attributed_once(store: Store) -> None:
    """Two holders of one extension at the same time (versions that overlap): each call
    still gets one row, as the UPDATE of the stored calls gives it one value."""
    for login in ("ann", "bea"):
        store.con.execute(
            "INSERT INTO extensions VALUES ('2001', ?, 'csv', ?, NULL, ?)", [login, JAN, JAN]
        )
    add_call(store.con, 1, dt.datetime(2026, 1, 5), "outgoing", "2001", remote="0612345678")
    add_call(store.con, 2, dt.datetime(2026, 1, 5), "outgoing", "2999", remote="0612345678")
    new = store.con.sql(_UNATTRIBUTED).pl()
    attributed, result = attribute_frame(store.con, new)
    assert attributed.height == 2
    assert attributed["call_id"].to_list() == [1, 2]
    assert attributed["user_login"][0] in ("ann", "bea")
    assert (result.calls, result.attributed) == (2, 1)
    assert attributed.schema["user_login"] == pl.String
