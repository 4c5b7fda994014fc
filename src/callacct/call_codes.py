"""The coded values of a call: its direction, its result and its destination class.

They belong to no feature: ingest writes them, rating sets the class, the query layer and
reports filter on them. One definition here, so a value means the same thing everywhere.

Example:
    >>> "mobile" in DEST_CLASSES, DIRECTIONS
    (True, ('incoming', 'outgoing', 'internal'))
"""

from __future__ import annotations

from typing import Final, Literal, get_args

Direction = Literal["incoming", "outgoing", "internal"]
DIRECTIONS: Final[tuple[Direction, ...]] = get_args(Direction)

Disposition = Literal["answered", "missed", "busy", "failed"]
DISPOSITIONS: Final[tuple[Disposition, ...]] = get_args(Disposition)

DestClass = Literal[
    "international",
    "national",
    "local",
    "mobile",
    "toll_free",
    "premium",
    "shared_cost",
    "emergency",
    "internal",
    "unknown",
]
DEST_CLASSES: Final[tuple[DestClass, ...]] = get_args(DestClass)

#: Classes a call may cost nothing in without counting as unpriced.
FREE_CLASSES: Final[tuple[DestClass, ...]] = ("emergency", "toll_free", "internal")
