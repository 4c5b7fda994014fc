"""`callacct budget ...` and `home`: exit codes, the lines people see, JSON equal to the API,
and who may see and change which budget."""

from __future__ import annotations

import json
from typing import Any

import pytest

from callacct.api import Workspace
from tests.budgets.conftest import Calls
from tests.conftest import Cli


@pytest.fixture
def cli(workspace: Workspace) -> Cli:
    return Cli(workspace.root)


def _plain(value: Any) -> Any:
    return json.loads(json.dumps(value))


def test_set_list_show_remove(cli: Cli, workspace: Workspace, calls: Calls) -> None:
    result = cli("budget", "set", "--user", "alice", "--amount", "50", "--warn", "75,90")
    assert result.exit_code == 0, result.output
    # Amounts as the reader writes them (the workspace speaks English here).
    assert "budget 1 set: alice (person): €50.00 per month" in result.output
    assert "warn at 75%, 90%" in result.output
    assert "lock at 100%" in result.output
    group = cli.json(
        "budget", "set", "--department", "Sales", "--amount", "400", "--period", "week",
        "--carry-over", "--currency", "usd", "--classes", "international,mobile",
    )  # fmt: skip
    assert group["id"] == 2
    assert group["kind"] == "department"
    assert group["currency"] == "USD"
    assert group["carry_over"] is True
    assert group["classes"] == ["international", "mobile"]
    assert group["warn_at"] == [80, 95]  # the settings' default
    listed = cli.json("budget", "list")
    assert [b["id"] for b in listed] == [1, 2]
    assert listed == _plain([s.to_dict() for s in workspace.budgets()])
    shown = cli.json("budget", "show", "1")
    assert shown["allowance"] == "50.00"
    assert shown["remaining"] == "50.00"
    text = cli("budget", "show", "1")
    assert "allowance €50.00 = €50.00 + carried over €0.00" in text.output
    table = cli("budget", "list")
    assert table.exit_code == 0
    assert "Sales (department)" in table.output
    # Setting the same owner and currency again changes it.
    assert cli.json("budget", "set", "--user", "alice", "--amount", "60")["id"] == 1
    removed = cli("budget", "remove", "2")
    assert removed.exit_code == 0, removed.output
    assert "budget 2 removed" in removed.output
    assert [b["id"] for b in cli.json("budget", "list")] == [1]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--user", "alice", "--amount", "0"), "--amount: '0' must be above 0"),
        (("--user", "alice", "--amount", "ten"), "is not a number"),
        (("--user", "alice", "--amount", "5", "--period", "day"), "--period: 'day'"),
        (("--user", "alice", "--amount", "5", "--warn", "80,x"), "--warn: '80,x'"),
        (("--user", "alice", "--amount", "5", "--warn", "0"), "from 1 to 1000"),
        (("--user", "alice", "--amount", "5", "--classes", "moon"), "unknown class 'moon'"),
        (("--user", "alice", "--amount", "5", "--currency", "euro"), "--currency: 'EURO'"),
        (("--amount", "5"), "exactly one of --user, --department, --cost-center"),
        (("--user", "a", "--department", "S", "--amount", "5"), "exactly one of"),
        (("--user", "nobody", "--amount", "5"), "--user 'nobody': no such person"),
        (("--department", "Nowhere", "--amount", "5"), "nobody in the directory belongs"),
    ],
)
def test_set_refuses_bad_input_in_one_line(cli: Cli, args: tuple[str, ...], message: str) -> None:
    result = cli("budget", "set", *args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert cli.json("budget", "list") == []


def test_unknown_budget_and_non_admins(cli: Cli, workspace: Workspace) -> None:
    workspace.set_budget(user="alice", amount="5")
    missing = cli("budget", "show", "9")
    assert missing.exit_code == 2
    assert "no budget 9" in missing.output
    refused = cli(
        "--as", "carol", "--lang", "en", "budget", "set", "--user", "alice", "--amount", "9"
    )
    assert refused.exit_code == 2
    assert "budget set needs an admin; 'carol' is a supervisor" in refused.output
    assert cli("--as", "alice", "budget", "remove", "1").exit_code == 2
    assert cli("--as", "alice", "budget", "evaluate").exit_code == 2


def test_scope_supervisor_sees_budgets_of_their_scope_only(cli: Cli, workspace: Workspace) -> None:
    for kwargs in (
        {"user": "alice"},
        {"user": "dave"},
        {"department": "Sales"},
        {"department": "Support"},
        {"cost_center": "CC3"},
    ):
        workspace.set_budget(amount="10", **kwargs)  # type: ignore[arg-type]
    seen = {(b["kind"], b["target"]) for b in cli.json("--as", "carol", "budget", "list")}
    assert seen == {("user", "alice"), ("department", "Sales")}
    mine = {(b["kind"], b["target"]) for b in cli.json("--as", "alice", "budget", "list")}
    assert mine == {("user", "alice"), ("department", "Sales")}
    assert {b["target"] for b in cli.json("--as", "dave", "budget", "list")} == {
        "dave",
        "Support",
    }
    assert len(cli.json("--as", "erin", "budget", "list")) == 5
    # Outside the scope: as if it did not exist.
    assert cli("--as", "carol", "budget", "show", "2").exit_code == 2
    assert cli("--as", "carol", "budget", "status", "--as", "dave").exit_code == 2
    assert cli("--as", "alice", "budget", "status", "--as", "bob").exit_code == 2
    assert cli("--as", "alice", "budget", "calls", "--as", "bob").exit_code == 2
    assert cli("--as", "carol", "budget", "calls", "2").exit_code == 2
    assert cli("--as", "carol", "budget", "history", "--budget", "4").exit_code == 2


def test_status_calls_history_and_home(cli: Cli, workspace: Workspace, calls: Calls) -> None:
    workspace.set_budget(user="alice", amount="10", warn_at="50")
    workspace.set_budget(department="Sales", amount="100", warn_at="")
    calls.add("alice", _recent(), "6")
    calls.add("bob", _recent(), "7")
    workspace.evaluate_budgets()
    status = cli.json("--as", "alice", "budget", "status")
    assert [(s["kind"], s["spent"], s["remaining"]) for s in status] == [
        ("user", "6.00", "4.00"),
        ("department", "13.00", "87.00"),
    ]
    assert status[0]["locks"] == {"2001": "unlocked"}
    table = cli("--as", "alice", "--lang", "en", "budget", "status")
    assert table.exit_code == 0, table.output
    assert "2001 unlocked" in table.output
    # alice's calls against the group budget: her own only; the operator sees both.
    own = cli.json("--as", "alice", "budget", "calls", "2")
    assert [c["user"] for c in own["calls"]] == ["alice"]
    assert own["budget"]["spent"] == "13.00"
    every = cli.json("budget", "calls", "2")
    assert every["total"] == 2
    _, api_calls = workspace.budget_calls(2)
    assert every["calls"] == _plain(api_calls.to_dicts())
    mine = cli("--as", "alice", "budget", "calls")  # in alice's language, French
    assert mine.exit_code == 0, mine.output
    # Numbers and amounts alike as French writes them.
    assert "1 appel(s) imputé(s) ; dépensé 6,00\xa0€" in mine.output
    assert (
        "1 call(s) counted; spent €6.00"
        in cli("--as", "alice", "--lang", "en", "budget", "calls").output
    )
    history = cli.json("budget", "history")
    assert [(e["action"], e["threshold"], e["login"]) for e in history] == [("warned", 50, "alice")]
    assert cli.json("--as", "bob", "budget", "history") == []  # alice's own budget
    shown = cli("budget", "history")
    assert "warned 50%" in shown.output
    home = cli("--as", "alice", "home")
    assert home.exit_code == 0, home.output
    assert "Budget" in home.output  # alice reads French: the line is "Budget 2026-.. : ..."
    assert "reste" in home.output
    assert "Votre ligne : déverrouillée" in home.output  # the line's state in her language
    data = cli.json("--as", "alice", "home")
    assert [b["id"] for b in data["budgets"]] == [1, 2]


def test_evaluate_command_and_ingest_json(cli: Cli, workspace: Workspace, calls: Calls) -> None:
    workspace.set_budget(user="bob", amount="5", warn_at="")
    calls.add("bob", _recent(), "6")
    result = cli("budget", "evaluate")
    assert result.exit_code == 0, result.output
    assert "budget 1 bob: locked" in result.output
    assert cli.json("budget", "evaluate")["locked"] == 0  # nothing new


def _recent() -> str:
    import datetime as dt

    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0).isoformat()


def test_status_and_calls_without_a_person_say_what_to_give(cli: Cli) -> None:
    status = cli("budget", "status")
    assert status.exit_code == 2
    assert "whose budgets? name a person: callacct budget status --as LOGIN" in status.stderr
    calls = cli("budget", "calls")
    assert calls.exit_code == 2
    assert "which budget? give its id" in calls.stderr
    assert "Traceback" not in status.output + calls.output


def test_an_empty_list_says_who_gives_budgets(cli: Cli) -> None:
    empty = cli("--as", "alice", "budget", "list", "--lang", "en")
    assert empty.exit_code == 0, empty.output
    assert "No budget you may see. An admin gives one with" in empty.stdout


def test_a_currency_no_tariff_or_call_is_priced_in_is_refused(
    cli: Cli, workspace: Workspace
) -> None:
    workspace.tariff_import("fr-carrier")  # prices in EUR
    typo = cli("budget", "set", "--user", "alice", "--amount", "5", "--currency", "EUX")
    assert typo.exit_code == 2, typo.output
    assert "--currency 'EUX': no tariff or call is priced in it; use one of EUR" in typo.stderr
    assert cli.json("budget", "list") == []
    assert cli("budget", "set", "--user", "alice", "--amount", "5").exit_code == 0
