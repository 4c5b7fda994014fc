"""Rating: the destination class, country, plan and exact cost of each call."""

from callacct.call_codes import DEST_CLASSES, DestClass
from callacct.rating.classify import (
    Classification,
    classify_number,
    classify_numbers,
    classify_with_cache,
    ensure_number_cache,
    normalise_number,
)
from callacct.rating.dialplan import DialPlan, parse_dial_plan
from callacct.rating.explain import Explanation, explain_call
from callacct.rating.rate import RatedNew, RateReport, Tariffs, rate_calls, rate_new
from callacct.rating.tariff import ImportReport, TariffError, import_tariff

__all__ = [
    "DEST_CLASSES",
    "Classification",
    "DestClass",
    "DialPlan",
    "Explanation",
    "ImportReport",
    "RateReport",
    "RatedNew",
    "TariffError",
    "Tariffs",
    "classify_number",
    "classify_numbers",
    "classify_with_cache",
    "ensure_number_cache",
    "explain_call",
    "import_tariff",
    "normalise_number",
    "parse_dial_plan",
    "rate_calls",
    "rate_new",
]
