"""Options that choose whose data a command shows never reach past the global --as person's
rights: one check (`person_view`) for every such option, and numbers masked for the reader."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import typer.main

from callacct.cli import app
from tests.conftest import Cli
from tests.directory.helpers import add_call, write_csv

PEOPLE = (
    "alice,Alice Martin,,fr,user,Sales,CC-1100,PAR,2001,sue,",
    "bob,Bob Smith,,en,user,Marketing,CC-2700,NYC,3001,,",
    "sue,Sue Petit,,fr,supervisor,Sales,CC-1100,PAR,2002,,",
    "ada,Ada King,,en,admin,IT,CC-1400,PAR,2003,,",
)
DAY = dt.datetime(2026, 1, 5, 9)
# call id -> whose calls it is
OWNERS = {1: {"alice"}, 2: {"bob"}, 3: {"alice", "bob"}, 4: {"sue"}, 5: {"ada"}}


@pytest.fixture
def org(cli: Cli, tmp_path: Path) -> Cli:
    from callacct.store import open_store

    store = open_store(cli.workspace / "callacct.duckdb")
    try:
        add_call(store.con, 1, DAY, "outgoing", "2001", remote="+33612345678")
        add_call(store.con, 2, DAY, "incoming", "3001", remote="+12125550100")
        add_call(store.con, 3, DAY, "internal", "2001", peer="3001")
        add_call(store.con, 4, DAY, "outgoing", "2002", remote="+33699999999")
        add_call(store.con, 5, DAY, "outgoing", "2003", remote="+33611111111")
    finally:
        store.close()
    result = cli("directory", "import", str(write_csv(tmp_path / "people.csv", *PEOPLE)))
    assert result.exit_code == 0, result.output
    settings = cli.workspace / "callacct.toml"
    settings.write_text(settings.read_text().replace("supervisor = 0", "supervisor = 4", 1))
    return cli


def _home_ids(home: dict[str, Any]) -> set[int]:
    return {call["call_id"] for call in home["last_calls"]}


def test_a_user_cannot_open_someone_elses_home(org: Cli) -> None:
    for other in ("bob", "ada", "sue", "nobody"):
        result = org("--as", "alice", "home", "--as", other, "--json")
        assert result.exit_code == 2, (other, result.output)
        assert f"'{other}': no such person within what 'alice' may see" in result.output
        assert "last_calls" not in result.output
    assert _home_ids(org.json("--as", "alice", "home", "--as", "alice")) == {1, 3}


def test_a_supervisor_opens_the_homes_of_their_people_only(org: Cli) -> None:
    alice = org.json("--as", "sue", "home", "--as", "alice")
    assert _home_ids(alice) == {1, 3}
    for other in ("bob", "ada"):
        refused = org("--as", "sue", "home", "--as", other)
        assert refused.exit_code == 2, other
        assert "no such person within what 'sue' may see" in refused.output


def test_numbers_are_masked_for_the_reader_not_for_the_person(org: Cli) -> None:
    """Alice's role does not mask numbers; Sue's does: Sue sees Alice's calls masked."""
    own = org.json("--as", "alice", "home")
    assert {c["remote_number"] for c in own["last_calls"]} >= {"+33612345678"}
    seen_by_sue = org.json("--as", "sue", "home", "--as", "alice")
    numbers = {c["remote_number"] for c in seen_by_sue["last_calls"]} - {None}
    assert numbers == {"+3361234****"}
    human = org("--as", "sue", "home", "--as", "alice")
    assert human.exit_code == 0, human.output
    assert "+33612345678" not in human.output
    assert "+3361234****" in human.output


def test_the_operator_and_admins_open_any_home(org: Cli) -> None:
    assert _home_ids(org.json("home", "--as", "bob")) == {2, 3}
    assert _home_ids(org.json("--as", "ada", "home", "--as", "bob")) == {2, 3}
    missing = org("--as", "ada", "home", "--as", "nobody")
    assert missing.exit_code == 2
    assert "'nobody': no such person in the directory" in missing.output


def test_home_names_the_other_party_of_a_received_internal_call(org: Cli) -> None:
    bob = org.json("home", "--as", "bob")
    received = next(c for c in bob["last_calls"] if c["call_id"] == 3)
    assert received["other_party"] == "2001"  # alice called bob
    alice = org.json("home", "--as", "alice")
    made = next(c for c in alice["last_calls"] if c["call_id"] == 3)
    assert made["other_party"] == "3001"
    table = org("home", "--as", "bob")
    row = next(line for line in table.output.splitlines() if "internal" in line)  # bob: en
    assert "2001" in row
    assert "3001" not in row


def test_a_user_filter_in_a_report_stays_within_the_scope(org: Cli) -> None:
    data = org.json("--as", "alice", "report", "run", "calls-detail", "--user", "bob")
    assert [(row["direction"], row["extension"]) for row in data["rows"]] == [("internal", "2001")]
    everything = org.json("report", "run", "calls-detail", "--user", "bob")
    assert len(everything["rows"]) == 2


def test_directory_show_stays_within_the_scope(org: Cli) -> None:
    assert org("--as", "alice", "directory", "show", "bob").exit_code == 2
    assert org("--as", "alice", "directory", "show", "alice").exit_code == 0
    assert org("--as", "sue", "directory", "show", "alice").exit_code == 0
    assert org("--as", "sue", "directory", "show", "bob").exit_code == 2


def _identity_options() -> set[tuple[str, str]]:
    """(command, option or argument) of every parameter that names a person."""
    found: set[tuple[str, str]] = set()

    def walk(command: Any, path: str) -> None:
        for param in command.params:
            names = {param.name or "", *getattr(param, "opts", [])}
            if names & {"as_login", "login", "--as", "--owner", "--person", "--user", "user"}:
                found.add((path, max(getattr(param, "opts", []) or [param.name or ""], key=len)))
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, f"{path} {name}".strip())

    walk(typer.main.get_command(app), "")
    return found


def test_every_option_naming_a_person_is_known_and_checked() -> None:
    """A new option choosing whose data a command reads must go through `person_view` (and be
    added here with a test): these are all of them."""
    assert _identity_options() == {
        ("", "--as"),  # the global identity itself
        ("home", "--as"),  # person_view: the tests above
        ("directory show", "login"),  # scope.allows_person per version: the test above
        ("auth check", "login"),  # needs that person's password
        ("report run", "--user"),  # a filter, ANDed with the scope: the test above
        ("report save", "--user"),  # the same filter, saved as a default
        # The same filter kept with a schedule; each run is ANDed with its reader's scope
        # (tests/delivery/test_schedules.py: test_filters_are_kept_with_the_schedule).
        ("schedule add", "--user"),
        # Phone lock: LockService checks each extension against the actor's scope (refusal
        # before anything changes) and shows only people in scope (tests/lock/test_rules.py,
        # test_pins.py, test_cli.py).
        ("lock on", "--user"),
        ("lock off", "--user"),
        ("lock status", "--user"),
        ("lock history", "--user"),
        ("lock pin set", "--user"),
        ("lock pin reset", "--user"),
        ("lock workstation add", "--user"),  # admins only (require_admin)
        # What an alarm watches: ANDed with its owner's scope at every run, never widening it
        # (tests/alarms/test_scope_and_hours.py), and checked against the directory.
        ("alarm add", "--person"),
        ("alarm edit", "--person"),
        # Budgets (tests/budgets/test_cli.py, test_scope_...): status and calls of a person
        # go through person_view; history shows only the budgets the reader may see; set is
        # for admins only (require_admin).
        ("budget status", "--as"),
        ("budget calls", "--as"),
        ("budget history", "--user"),
        ("budget set", "--user"),
    }
