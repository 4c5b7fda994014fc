"""The eight alarm kinds (F-ALARM-1..8): one registry, the single source of their names, what
they watch, and the parameters each takes (strict pydantic models: a key a kind does not
know is refused with its line).

Example:
    >>> sorted(KINDS)[:3]
    ['dead-feed', 'forbidden-numbers', 'international']
    >>> KINDS["spend-above"].periodic, KINDS["international"].periodic
    (True, False)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from callacct.alarms.hours import WorkingHours
from callacct.config import check_regex

Period = Literal["day", "week", "month"]
_NUMBER = re.compile(r"\+?[0-9][0-9 ()./-]*")
_CURRENCY = re.compile(r"[A-Z]{3}")


class KindParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OutOfHoursParams(KindParams):
    """F-ALARM-1: calls outside working hours, each read in its site's zone."""

    hours: WorkingHours = WorkingHours()
    outgoing_only: bool = Field(False, description="only calls the extension made")
    external_only: bool = Field(False, description="only calls to or from outside (not internal)")


class ForbiddenNumbersParams(KindParams):
    """F-ALARM-2: outgoing calls to listed numbers, prefixes or patterns, compared in E.164."""

    numbers: tuple[str, ...] = Field((), description="whole numbers, any dialled form")
    prefixes: tuple[str, ...] = Field((), description="number beginnings, e.g. '+33899', '0899'")
    patterns: tuple[str, ...] = Field((), description="regular expressions over the E.164 form")

    @field_validator("numbers", "prefixes")
    @classmethod
    def _numbers(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for number in value:
            if not _NUMBER.fullmatch(str(number).strip()):
                raise ValueError(
                    f"{number!r} is not a phone number; write digits, optionally '+' first"
                )
        return tuple(str(number).strip() for number in value)

    @field_validator("patterns")
    @classmethod
    def _patterns(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in value:
            check_regex(pattern)
        return value

    @model_validator(mode="after")
    def _something(self) -> ForbiddenNumbersParams:
        if not (self.numbers or self.prefixes or self.patterns):
            raise ValueError("list at least one of numbers, prefixes or patterns")
        return self


class SpendAboveParams(KindParams):
    """F-ALARM-3: a person, or a department / cost centre as a group, spends more than an
    amount (per currency) in a period."""

    per: Literal["person", "department", "cost_center"] = "person"
    amount: dict[str, Decimal] = Field(description="currency -> amount, e.g. {EUR: 200}")
    period: Period = "month"

    @field_validator("amount")
    @classmethod
    def _amount(cls, value: dict[str, Decimal]) -> dict[str, Decimal]:
        if not value:
            raise ValueError("give an amount per currency, e.g. {EUR: 200}")
        for currency, amount in value.items():
            if not _CURRENCY.fullmatch(currency):
                raise ValueError(f"{currency!r} is not a currency code such as EUR")
            if amount < 0:
                raise ValueError(f"{currency} {amount}: an amount cannot be negative")
        return value


class MissedCallsParams(KindParams):
    """F-ALARM-4: more than N missed calls on an extension (each, or any of a list) in a
    period."""

    more_than: int = Field(ge=0, le=10**9, description="fires when the count exceeds it")
    extensions: tuple[str, ...] = Field((), description="empty: every extension watched")
    period: Period = "day"


class InternationalParams(KindParams):
    """F-ALARM-5: outgoing international calls, optionally long, dear, or to chosen countries."""

    min_duration_s: int = Field(0, ge=0, le=10**9)
    min_cost: Decimal = Field(Decimal(0), ge=0, description="in the call's own currency")
    countries: tuple[str, ...] = Field((), description="ISO codes, e.g. [CU, KP]; empty: any")

    @field_validator("countries")
    @classmethod
    def _countries(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for code in value:
            if not re.fullmatch(r"[A-Za-z]{2}", code):
                raise ValueError(f"{code!r} is not a two-letter country code such as DE")
        return tuple(code.upper() for code in value)


class DeadFeedParams(KindParams):
    """F-ALARM-6: no call records received for N minutes during working hours."""

    minutes: int = Field(60, ge=1, le=60 * 24 * 31)
    hours: WorkingHours = WorkingHours()


class UnknownDestinationsParams(KindParams):
    """F-ALARM-7: outgoing calls to numbers of class `unknown`, at least a minimum count."""

    min_count: int = Field(1, ge=1, le=10**9)


class UndefinedExtensionsParams(KindParams):
    """F-ALARM-8: calls from or to extensions no one held in the directory at call time."""

    min_count: int = Field(1, ge=1, le=10**9)


@dataclass(frozen=True)
class Kind:
    """An alarm kind: its name, feature id, title, parameter model, and whether it fires once
    per threshold per period (else once per newly arrived call it finds)."""

    name: str
    feature: str
    title: str
    params: type[KindParams]
    periodic: bool = False
    on_calls: bool = True


KINDS: Final[dict[str, Kind]] = {
    kind.name: kind
    for kind in (
        Kind("out-of-hours", "F-ALARM-1", "Calls outside working hours", OutOfHoursParams),
        Kind(
            "forbidden-numbers", "F-ALARM-2", "Calls to forbidden numbers", ForbiddenNumbersParams
        ),
        Kind("spend-above", "F-ALARM-3", "Spend above a limit", SpendAboveParams, periodic=True),
        Kind(
            "missed-calls", "F-ALARM-4", "Too many missed calls", MissedCallsParams, periodic=True
        ),
        Kind("international", "F-ALARM-5", "International calls", InternationalParams),
        Kind("dead-feed", "F-ALARM-6", "No call records received", DeadFeedParams, on_calls=False),
        Kind(
            "unknown-destinations",
            "F-ALARM-7",
            "Calls to unrecognised destinations",
            UnknownDestinationsParams,
        ),
        Kind(
            "undefined-extensions",
            "F-ALARM-8",
            "Calls from or to undefined extensions",
            UndefinedExtensionsParams,
        ),
    )
}
