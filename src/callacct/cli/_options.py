"""Option types shared by several commands, checked once here.

Whole numbers that end up in SQL (a limit, a number of calls, seconds) are bounded by DuckDB's
BIGINT: a larger value is a one-line usage error naming the option, never an error of the
database.

Example:
    >>> bounded("--limit", 1)(None, None, 20)
    20
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Final

import typer

from callacct.errors import UsageError
from callacct.i18n import LANGUAGES

#: The largest whole number an option takes (DuckDB's BIGINT).
MAX_INTEGER: Final = 2**63 - 1


def bounded(option: str, minimum: int) -> Callable[[Any, Any, int | None], int | None]:
    """A typer callback refusing a value of `option` below `minimum` or above `MAX_INTEGER`."""

    def check(_ctx: Any, _param: Any, value: int | None) -> int | None:
        if value is None:
            return value
        if value < minimum:
            raise UsageError(f"{option} must be at least {minimum}")
        if value > MAX_INTEGER:
            raise UsageError(f"{option}: {value} is too large (at most {MAX_INTEGER})")
        return value

    check.bounds = (minimum, MAX_INTEGER)  # type: ignore[attr-defined]
    return check


def count_option(option: str, help: str) -> Any:
    """A whole number of rows or calls, at least 1: `--limit`, `--last`."""
    return typer.Option(option, help=help, callback=bounded(option, 1))


def seconds_option(option: str, help: str) -> Any:
    """A number of seconds, at least 0: `--min-duration`, `--max-duration`."""
    return typer.Option(option, help=help, callback=bounded(option, 0))


def whole_number(name: str) -> Callable[[str], int]:
    """A typer parser of whole numbers: text that is not one is a one-line usage error
    naming `name`, as every other error of the command line (not click's boxed message).

    >>> whole_number("ID")("42")
    42
    >>> whole_number("ID")("abc")
    Traceback (most recent call last):
    ...
    callacct.errors.UsageError: ID: 'abc' is not a whole number
    """

    def parse(text: str) -> int:
        try:
            return int(text)
        except ValueError:
            raise UsageError(f"{name}: {text!r} is not a whole number") from None

    return parse


def id_argument(help: str) -> Any:
    """An id (a call's): a whole number from 1."""
    return typer.Argument(
        help=help,
        show_default=False,
        parser=whole_number("ID"),
        callback=bounded("ID", 1),
    )


def whole_option(option: str, help: str, minimum: int = 0) -> Any:
    """Any other whole number from `minimum` (a random seed, a version number)."""
    return typer.Option(option, help=help, callback=bounded(option, minimum))


#: `--lang` of a command that speaks to a person: its summaries, headers and errors in that
#: language (`callacct.cli._context.language_of` says which when it is not given).
LangOption = Annotated[
    str | None,
    typer.Option(
        "--lang",
        metavar="LANG",
        help=f"Language of the messages ({', '.join(LANGUAGES)}); default: the global --lang, "
        "else the --as person's, else the workspace's.",
    ),
]
