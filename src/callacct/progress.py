"""Progress of long work, told to whoever shows it: one callback type for every stage.

Library code never draws anything. Work that takes long (ingesting CDR files, classifying new
numbers, reading a directory, running the due jobs) calls a `Progress` callback with a `Step`:
which stage, how much of it is done, of how much (None when unknown). The command line draws a
bar from the steps; a script may log them, a web page may poll them; passing nothing costs
nothing.

Example:
    >>> seen = []
    >>> counter = counting(seen.append, READING, total=10, unit="bytes")
    >>> counter(4); counter(6)
    >>> [(s.stage, s.done, s.total) for s in seen]
    [('reading', 0, 10), ('reading', 4, 10), ('reading', 10, 10)]
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Literal

Stage = Literal[
    "reading",
    "finishing",
    "classifying",
    "rating",
    "directory",
    "applying",
    "lines",
    "deliveries",
    "alarms",
    "budgets",
]
Unit = Literal["bytes", "numbers", "people", "calls", "lines", "messages", "alarms"]

#: CDR files read and stored (bytes).
READING: Final = "reading"
#: Calls stored by an ingest being attributed and rated (length unknown).
FINISHING: Final = "finishing"
#: New numbers being classified (counted: the long part of a first rating).
CLASSIFYING: Final = "classifying"
#: Calls being rated again (length unknown).
RATING: Final = "rating"
#: People read from the directory (LDAP), page by page.
DIRECTORY: Final = "directory"
#: People being applied to the directory.
APPLYING: Final = "applying"
#: Phone lines being locked or unlocked on the phone system (counted).
LINES: Final = "lines"
#: Scheduled reports' messages being prepared and sent, one per recipient (counted).
DELIVERIES: Final = "deliveries"
#: Due alarms being evaluated (counted).
ALARMS: Final = "alarms"
#: Budgets being evaluated (length unknown).
BUDGETS: Final = "budgets"


@dataclass(frozen=True, slots=True)
class Step:
    """Where long work is: `done` of `total` `unit`s of `stage` (`total` None: unknown)."""

    stage: Stage
    done: int = 0
    total: int | None = None
    unit: Unit = "calls"


#: What long-running library functions accept as `progress=`.
Progress = Callable[[Step], None]


def counting(
    progress: Progress | None, stage: Stage, *, total: int | None, unit: Unit
) -> Callable[[int], None]:
    """A function to call with each amount done, telling `progress` the running total (it is
    told the start at once). Does nothing when `progress` is None."""
    if progress is None:
        return _nothing
    done = 0
    progress(Step(stage, 0, total, unit))

    def advance(amount: int) -> None:
        nonlocal done
        done += amount
        progress(Step(stage, done, total, unit))

    return advance


def _nothing(_amount: int) -> None:
    return None
