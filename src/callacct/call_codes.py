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
    # Calls to numbers that lead to no phone (`callacct.service_numbers`): rating gives these
    # from the number's form or the settings' patterns, never from libphonenumber.
    "conference",
    "voicemail",
    "service",
]
#: Every destination class a call may have.
DEST_CLASSES: Final[tuple[DestClass, ...]] = get_args(DestClass)

ServiceClass = Literal["conference", "voicemail", "service"]
#: The destination classes of calls to service numbers (also in `value.dest_class.*`).
SERVICE_CLASSES: Final[tuple[ServiceClass, ...]] = get_args(ServiceClass)

#: Classes a call may cost nothing in without counting as unpriced: calls to conference
#: bridges, voicemail and other service numbers are never priced.
FREE_CLASSES: Final[tuple[DestClass, ...]] = (
    "emergency",
    "toll_free",
    "internal",
    *SERVICE_CLASSES,
)
