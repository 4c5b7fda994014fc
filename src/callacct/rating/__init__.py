"""Rating: the destination class, country and (later) cost of each call."""

from callacct.rating.classify import (
    DEST_CLASSES,
    Classification,
    DestClass,
    classify_number,
    classify_numbers,
    classify_with_cache,
    ensure_number_cache,
    normalise_number,
)
from callacct.rating.dialplan import DialPlan, parse_dial_plan

__all__ = [
    "DEST_CLASSES",
    "Classification",
    "DestClass",
    "DialPlan",
    "classify_number",
    "classify_numbers",
    "classify_with_cache",
    "ensure_number_cache",
    "normalise_number",
    "parse_dial_plan",
]
