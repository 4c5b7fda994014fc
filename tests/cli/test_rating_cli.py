"""`callacct tariff import/list/show`, `rate`, `calls explain`, `calls --class/--unpriced`."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from rich.console import Console

from callacct.cli import _output
from tests.conftest import Cli
from tests.rating.helpers import HEADER, write_plan

# The sample cluster dials 0 for an outside line and 8 10 for international (Russia).
DECK = [
    "7,Russia,national,0.50,0,60,60,0,",
    "7495,Moscow,local,0.20,0,60,60,0,",
    "79,Russia mobile,mobile,1.00,0,1,1,0,",
    ",World,international,9.00,0,60,60,0,",
    # The samples' one answered outgoing call goes to a number no Russian dial plan reads.
    ",Unallocated,unknown,2.00,0,60,60,0,",
]


def plan(tmp_path: Path, rows: list[str] = DECK, **fields: object) -> Path:
    return write_plan(
        tmp_path, "ru", rows, currency="RUB", default=True, valid_from="2000-01-01", **fields
    )


def test_import_list_show_and_calls_get_costs(cli: Cli, cucm_files: Path, tmp_path: Path) -> None:
    cli.json("ingest", str(cucm_files))
    imported = cli.json("tariff", "import", str(plan(tmp_path)))
    assert (imported["plan"], imported["version"], imported["rates"]) == ("ru", 1, 5)
    assert imported["rating"]["changed"] > 0
    listed = cli.json("tariff", "list")
    assert [(p["plan"], p["default"], len(p["versions"])) for p in listed] == [("ru", True, 1)]
    shown = cli.json("tariff", "show", "ru", "--prefix", "79")
    assert [r["prefix"] for r in shown["rates"]] == ["79"]
    assert shown["rates"][0]["price_per_min"] == "1.00"
    calls = cli.json("calls", "--all")
    priced = [c for c in calls if c["cost"] not in ("0.00", None)]
    assert priced
    assert all(c["currency"] == "RUB" for c in priced)
    assert all(c["dest_class"] for c in calls)
    human = cli("tariff", "show", "ru")
    assert human.exit_code == 0
    assert "Russia mobile" in human.output
    assert "ru" in cli("tariff", "list").output


def test_import_problems_exit_2_and_list_every_one(cli: Cli, tmp_path: Path) -> None:
    path = plan(tmp_path, ["7,R,national,-1,0,60,60,0,", "7,R,national,1,0,0,60,0,"])
    result = cli("tariff", "import", str(path))
    assert result.exit_code == 2
    assert "negative amount" in result.output
    assert "duplicate prefix 7" in result.output
    data = json.loads(cli("tariff", "import", str(path), "--json").stdout)
    assert [(p["line"], p["column"]) for p in data["problems"]] == [
        (2, "price_per_min"),
        (3, "initial_increment_s"),
        (3, "prefix"),
    ]
    assert cli.json("tariff", "list") == []


def test_rate_reports_changes_after_a_tariff_change(
    cli: Cli, cucm_files: Path, tmp_path: Path
) -> None:
    cli.json("ingest", str(cucm_files))
    cli.json("tariff", "import", str(plan(tmp_path)), "--no-rate")
    first = cli.json("rate")
    assert first["changed"] > 0
    assert first["delta"]["RUB"] == first["total"]["RUB"]
    assert cli.json("rate")["changed"] == 0
    doubled = [row.replace("2.00", "4.00") for row in DECK]
    cli.json("tariff", "import", str(plan(tmp_path, doubled)), "--no-rate")
    again = cli.json("rate", "--from", "2021-01-01", "--to", "2021-12-31")
    # 70 s, 60/60: 120 s at 2.00 = 4.00, now at 4.00 = 8.00
    assert (again["changed"], again["delta"], again["total"]) == (
        1,
        {"RUB": "4.00"},
        {"RUB": "8.00"},
    )
    human = cli("rate")
    assert human.exit_code == 0
    assert "rated" in human.output


def test_explain_and_filters(cli: Cli, cucm_files: Path, tmp_path: Path) -> None:
    cli.json("ingest", str(cucm_files))
    cli.json("tariff", "import", str(plan(tmp_path)))
    calls = cli.json("calls", "--all", "--direction", "outgoing")
    call = next(c for c in calls if c["answered"])
    data = cli.json("calls", "explain", str(call["call_id"]))
    assert data["cost"] == call["cost"]
    assert {s["step"] for s in data["steps"]} >= {"call", "site", "number", "plan", "stored"}
    human = cli("calls", "explain", str(call["call_id"]))
    assert human.exit_code == 0
    assert "stored" in human.output
    missing = cli("calls", "explain", "99999999")
    assert missing.exit_code == 2
    assert "no call with id" in missing.output
    classes = {c["dest_class"] for c in cli.json("calls", "--all")}
    for dest_class in classes:
        only = cli.json("calls", "--all", "--class", dest_class)
        assert only
        assert {c["dest_class"] for c in only} == {dest_class}
    assert cli("calls", "--class", "martian").exit_code == 2
    unpriced = cli.json("calls", "--all", "--unpriced")
    assert all(c["direction"] == "outgoing" for c in unpriced)
    assert all(c["cost"] == "0.00" for c in unpriced)


def test_ingest_warns_once_without_tariff(cli: Cli, cucm_files: Path) -> None:
    result = cli("ingest", str(cucm_files))
    assert result.output.count("no tariff plan is loaded") == 1


def test_deck_alone_needs_plan_and_date(cli: Cli, tmp_path: Path) -> None:
    deck = tmp_path / "d.csv"
    deck.write_text(HEADER + "\n7,R,national,1,0,60,60,0,\n")
    result = cli("tariff", "import", str(deck))
    assert result.exit_code == 2
    assert "--plan NAME and --valid-from DATE" in result.output
    assert cli("tariff", "import", str(deck), "--plan", "x", "--valid-from", "soon").exit_code == 2
    assert cli("tariff", "import", "no-such-file.yaml").exit_code == 2
    assert cli("tariff", "show", "nothing").exit_code == 2


def test_shipped_example_by_name(cli: Cli) -> None:
    data = cli.json("tariff", "import", "us-carrier", "--dry-run")
    assert (data["plan"], data["currency"], data["dry_run"]) == ("us-carrier", "USD", True)


def test_rating_progress_counts_then_goes_back_to_waiting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:

    screen = io.StringIO()
    monkeypatch.setattr(
        _output, "err_console", Console(file=screen, force_terminal=True, width=100)
    )
    bar = _output.CountProgress("rating calls", "classifying new numbers")
    with bar.running():
        assert bar._progress is not None
        task = bar._progress.tasks[0]
        assert (task.description, task.total) == ("rating calls", None)
        bar(500, 2000)
        assert (task.description, task.completed, task.total) == (
            "classifying new numbers",
            500,
            2000,
        )
        bar(2000, 2000)
        (task,) = bar._progress.tasks
        assert (task.description, task.total) == ("rating calls", None)
    assert bar._progress is None
    assert "rating calls" in screen.getvalue()
    off = _output.CountProgress("rating calls", "classifying new numbers")
    off.enabled = False
    with off.running():
        off(1, 2)  # not a terminal: nothing shown, nothing fails
    assert off._progress is None
