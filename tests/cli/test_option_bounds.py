"""Whole-number options and ids shared by several commands (`cli/_options.py`): below their
minimum, beyond DuckDB's BIGINT or not a number at all, they are one-line usage errors naming
the option."""

from __future__ import annotations

import pytest

from tests.conftest import Cli

TOO_LARGE = "99999999999999999999"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("calls", "--last", TOO_LARGE), f"--last: {TOO_LARGE} is too large"),
        (("calls", "--last", "0"), "--last must be at least 1"),
        (("ingest", "--rejects", "--last", TOO_LARGE), f"--last: {TOO_LARGE} is too large"),
        (("ingest", "--rejects", "--last", "-1"), "--last must be at least 1"),
        (("tariff", "show", "x", "--limit", TOO_LARGE), f"--limit: {TOO_LARGE} is too large"),
        (("tariff", "show", "x", "--limit", "-1"), "--limit must be at least 1"),
        (("report", "run", "top-numbers", "--limit", TOO_LARGE), "at most 9223372036854775807"),
        (("report", "run", "top-numbers", "--min-duration", "-5"), "must be at least 0"),
        (("calls", "explain", "0"), "ID must be at least 1"),
        (("calls", "explain", TOO_LARGE), f"ID: {TOO_LARGE} is too large"),
        (("calls", "explain", "abc"), "ID: 'abc' is not a whole number"),
        (("calls", "raw", "1.5"), "ID: '1.5' is not a whole number"),
        (("budget", "show", "abc"), "ID: 'abc' is not a whole number"),
        (("budget", "remove", "x1"), "ID: 'x1' is not a whole number"),
    ],
)
def test_out_of_range(cli: Cli, args: tuple[str, ...], message: str) -> None:
    result = cli(*args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert result.output.count("\n") == 1
    assert "internal error" not in result.output


def test_the_largest_values_are_accepted(cli: Cli) -> None:
    assert cli("calls", "--last", "9223372036854775807").exit_code == 0
    result = cli("report", "run", "top-numbers", "--limit", "9223372036854775807", "--json")
    assert result.exit_code == 0, result.output
