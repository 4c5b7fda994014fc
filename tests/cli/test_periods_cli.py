"""Periods and date ranges are checked where every command parses them (`time_range`,
`Filters`): a range that can match nothing, a period of no day, or a period together with
dates is a one-line usage error, never an empty answer."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import Cli
from tests.directory.helpers import write_csv

REVERSED = ("--from", "2026-12-01", "--to", "2026-11-01")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("calls", *REVERSED), "from 2026-12-01 to 2026-11-01 is an empty range"),
        (("rate", *REVERSED), "from 2026-12-01 to 2026-11-01 is an empty range"),
        (("report", "run", "calls-detail", *REVERSED), "is an empty range"),
        (("report", "save", "x", "--from-report", "calls-detail", *REVERSED), "empty range"),
        (("report", "run", "calls-detail", "--period", "last-0-days"), "'last_0_days' is no day"),
        (
            ("report", "run", "calls-detail", "--from", "2026-01-01", "--period", "last-month"),
            "a period and from/to cannot be given together",
        ),
        (
            (
                "report",
                "save",
                "x",
                "--from-report",
                "top-numbers",
                "--to",
                "2026-01-01",
                "--period",
                "today",
            ),
            "a period and from/to cannot be given together",
        ),
    ],
)
def test_ranges_that_match_nothing_are_refused(
    cli: Cli, args: tuple[str, ...], message: str
) -> None:
    result = cli(*args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert result.output.count("\n") == 1


def test_home_periods_are_checked_too(cli: Cli, tmp_path: Path) -> None:
    people = write_csv(tmp_path / "p.csv", "alice,Alice,,en,user,Sales,,,2001,,")
    assert cli("directory", "import", str(people)).exit_code == 0
    for period, message in (
        ("last-0-days", "'last_0_days' is no day"),
        ("fortnight", "unknown period 'fortnight'"),
    ):
        result = cli("--as", "alice", "home", "--period", period)
        assert result.exit_code == 2, result.output
        assert message in result.output
        assert "internal error" not in result.output
    assert cli("--as", "alice", "home", "--period", "last-7-days").exit_code == 0
