"""The rows of a firing are written as JSON by DuckDB: money as exact text like Python writes
it, the rows stored read back as the run returned them, and the cap on rows kept never caps
what was found nor the marks that keep a period from firing again."""

from __future__ import annotations

import importlib
from decimal import Decimal

import duckdb
import pytest

from callacct import Workspace
from tests.alarms.conftest import add, arrive, call, run

# `callacct.alarms` exports a function named `evaluate`: the module is imported by name.
evaluate_module = importlib.import_module("callacct.alarms.evaluate")


@pytest.mark.parametrize(
    ("value", "sql_type"),
    [
        ("0", "DECIMAL(18, 6)"),
        ("500", "DECIMAL(18, 6)"),
        ("1.08", "DECIMAL(18, 6)"),
        ("-0.5", "DECIMAL(18, 6)"),
        ("0.000001", "DECIMAL(18, 6)"),
        ("10", "DECIMAL(38, 6)"),
        ("123456789012.345678", "DECIMAL(38, 6)"),
    ],
)
def test_money_text_in_sql_is_the_python_text(value: str, sql_type: str) -> None:
    money_sql, money = evaluate_module._money_sql, evaluate_module._money
    sql = f"SELECT {money_sql('x')} FROM (SELECT CAST(? AS {sql_type}) AS x)"
    (text,) = duckdb.connect().execute(sql, [value]).fetchall()[0]
    assert text == money(Decimal(value))


def test_stored_rows_read_back_as_the_run_returned_them(org: Workspace) -> None:
    add(org, {"name": "abroad", "kind": "international"})
    add(org, {"name": "spend", "kind": "spend-above", "params": {"amount": {"EUR": 1}}})
    arrive(
        org,
        [
            call(remote="+4930123456", dest_class="international", country="DE", cost="1.5"),
            call("3001", remote="+4930123457", dest_class="international", cost="0.25"),
        ],
    )
    returned = {event.alarm: event.rows for event in run(org).events}
    stored = {event.alarm: event.rows for event in org.alarms().events()}
    assert set(returned) == {"abroad", "spend"}
    assert stored == returned
    assert [row["cost"] for row in returned["abroad"]] == ["1.5", "0.25"]
    assert [(row["person"], row["spent"], row["limit"]) for row in returned["spend"]] == [
        ("alice", "1.5", "1")
    ]


def test_rows_kept_are_capped_not_the_count_nor_the_marks(
    org: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(evaluate_module, "MAX_ROWS", 1)
    add(org, {"name": "missed", "kind": "missed-calls", "params": {"more_than": 0}})
    add(org, {"name": "abroad", "kind": "international"})
    missed = [
        call(extension, direction="incoming", answered=False, cost=None)
        for extension in ("2001", "3001")
    ]
    abroad = [call(dest_class="international"), call("3001", dest_class="international")]
    ids = arrive(org, [*missed, *abroad])
    events = {event.alarm: event for event in run(org).events}
    assert (events["missed"].found, len(events["missed"].rows)) == (2, 1)
    assert (events["abroad"].found, len(events["abroad"].rows)) == (2, 1)
    assert events["abroad"].rows[0]["call_id"] == ids[2]  # the first found, by arrival
    # Both extensions are marked for the day, though one row was kept: no second firing.
    arrive(org, missed)
    assert not run(org).fired
