"""Problems of a file a person wrote, one type for all of them, and the error that carries them.

Every validated file (tariff plan and deck, report spec, generic CSV mapping, directory CSV,
settings) reports what is wrong as `Problem`s: the file, the line, the key path or column, the
value and what to do. Validation collects them all; `ProblemsError` carries the list and reads
one line per problem (`file:line: key.path: message`), at most `MAX_SHOWN` of them.

Example:
    >>> problem = Problem("plan.yaml", 3, "currency", "euro", "'euro' is not a currency")
    >>> str(problem)
    "plan.yaml:3: currency: 'euro' is not a currency"
    >>> print(SpecProblems([problem, Problem("plan.yaml", None, message="empty deck")]))
    plan.yaml:3: currency: 'euro' is not a currency
    plan.yaml: empty deck
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from pydantic import ValidationError

from callacct.errors import CallacctError, ConfigError, DirectoryError, SpecError

#: A key path inside a document: mapping keys and list positions (`("measures", 2, "agg")`).
KeyPath = tuple[str | int, ...]
#: The line (1-based) of every key path of a loaded document.
LineMap = Mapping[KeyPath, int]

#: Problems listed in an error's message; the rest are counted (all are in `.problems`).
MAX_SHOWN: Final = 20
_VALUE_CHARS: Final = 80


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a file: where (file, line, key path or column), the value, and what."""

    file: str
    line: int | None = None
    key: str = ""
    value: str = ""
    message: str = ""

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.key}: {self.message}" if self.key else f"{where}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "key": self.key,
            "value": self.value,
            "message": self.message,
        }


def format_problems(problems: Sequence[Problem], note: str = "", limit: int = MAX_SHOWN) -> str:
    """One line per problem (the first `limit`), then how many more; `note` ends the text.

    >>> many = [Problem("d.csv", n, "prefix", "", "bad") for n in range(2, 6)]
    >>> print(format_problems(many, "nothing was stored", limit=2))
    d.csv:2: prefix: bad
    d.csv:3: prefix: bad
    (and 2 more problems); nothing was stored
    """
    lines = [str(problem) for problem in problems[:limit]]
    if len(problems) > limit:
        lines.append(f"(and {len(problems) - limit} more problems)")
    if note:
        lines[-1] = f"{lines[-1]}; {note}" if lines else note
    return "\n".join(lines)


class ProblemsError(CallacctError):
    """A file with problems: `problems` holds every one, the message lists them."""

    def __init__(self, problems: Iterable[Problem], note: str = "") -> None:
        self.problems = list(problems)
        self.note = note
        super().__init__(format_problems(self.problems, note))


class SpecProblems(ProblemsError, SpecError):
    """Problems of a spec file: report spec, tariff plan or deck, CSV mapping, YAML."""


class ConfigProblems(ProblemsError, ConfigError):
    """Problems of the workspace settings."""


class DirectoryProblems(ProblemsError, DirectoryError):
    """Problems that make a directory file unusable as a whole."""


def format_path(parts: Sequence[str | int]) -> str:
    """`("measures", 2, "agg")` -> `measures[2].agg`.

    >>> format_path(("columns", "direction", "values", "IN")), format_path(())
    ('columns.direction.values.IN', '')
    """
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def line_of(lines: LineMap, path: KeyPath) -> int | None:
    """The line of `path`, else of its nearest parent that has one."""
    while path not in lines and path:
        path = path[:-1]
    return lines.get(path)


def show_value(value: object) -> str:
    """A scalar as text for `Problem.value` (cut short); "" for lists, mappings and None."""
    if isinstance(value, str | int | float | Decimal | dt.date | dt.time):
        text = str(value)
        return text if len(text) <= _VALUE_CHARS else text[: _VALUE_CHARS - 1] + "…"
    return ""


def problem_text(error: Mapping[str, Any]) -> str:
    """What a pydantic error means, said the same way for every file."""
    kind = error["type"]
    if kind == "missing":
        return "required"
    if kind == "extra_forbidden":
        return "unknown key; remove it or check its spelling"
    if kind == "literal_error":
        return f"{error['input']!r} is not one of {error['ctx']['expected']}"
    return str(error["msg"]).removeprefix("Value error, ")


def _is_type_tag(part: str | int) -> bool:
    # pydantic names the union member or wrapper it tried (`str`, `dict[...]`,
    # `function-after[...]`) in the location; it is no key of the file.
    return isinstance(part, str) and (
        part in ("str", "int", "float", "bool", "list", "dict", "tuple", "none") or "[" in part
    )


def from_validation(
    exc: ValidationError, file: str, lines: LineMap | None = None, prefix: KeyPath = ()
) -> list[Problem]:
    """One `Problem` per pydantic error, each with its key path and line; none twice."""
    out: list[Problem] = []
    seen: set[Problem] = set()
    for error in exc.errors():
        path = (*prefix, *(part for part in error["loc"] if not _is_type_tag(part)))
        problem = Problem(
            file,
            line_of(lines or {}, path),
            format_path(path),
            show_value(error.get("input")),
            problem_text(error),
        )
        if problem not in seen:
            seen.add(problem)
            out.append(problem)
    return out
