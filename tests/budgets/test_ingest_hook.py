"""Ingest evaluates the budgets when there are budgets (and only then)."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import Cli


def test_ingest_evaluates_budgets_when_there_are_some(
    cli: Cli, cucm_files: Path, tmp_path: Path
) -> None:
    first = sorted(cucm_files.iterdir())[0]
    rest = cucm_files.parent / "rest"
    rest.mkdir()
    for path in sorted(cucm_files.iterdir())[1:]:
        path.rename(rest / path.name)
    assert "budgets" not in cli.json("ingest", str(first))  # no budget: not evaluated
    people = tmp_path / "people.csv"
    people.write_text("login,role\nalice,user\n")
    cli.json("directory", "import", str(people))
    cli.json("budget", "set", "--user", "alice", "--amount", "10")
    loaded = cli.json("ingest", str(rest))
    assert loaded["stored"] > 0
    assert loaded["budgets"]["locked"] == 0
    assert set(loaded["budgets"]) >= {"warned", "locked", "unlocked", "carried-over"}
