"""Numbers, money, durations and dates written the way each of the six languages writes them.

Money is written by `callacct.formats.money_text`, with these conventions.

Implemented here rather than with a locale library: six languages, a handful of rules, and
the results must not depend on the machine's locale settings.

| language | number | money | date and time |
|---|---|---|---|
| en | 1,234.56 | €1,234.56 | 2026-11-26 14:05:09 |
| de | 1.234,56 | 1.234,56 € | 26.11.2026 14:05:09 |
| fr | 1 234,56 (narrow no-break space) | 1 234,56 € | 26/11/2026 14:05:09 |
| es | 1234,56 and 12.345,67 (groups from five digits) | 1234,56 € | 26/11/2026 14:05:09 |
| it | 1.234,56 | 1.234,56 € | 26/11/2026 14:05:09 |
| ar | 1,234.56 (Western digits) | 1,234.56 € | 26/11/2026 14:05:09 |

Arabic uses Western (European) digits with the separators CLDR gives Arabic with Latin digits:
they are in every font, stay machine-readable when copied, and keep their order inside
right-to-left text without direction marks.

Example:
    >>> from decimal import Decimal
    >>> format_number(Decimal("1234.5"), "de", decimals=2)
    '1.234,50'
    >>> format_duration(3725)
    '1:02:05'
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Final

NARROW_NBSP: Final = "\u202f"
NBSP: Final = "\u00a0"


@dataclass(frozen=True)
class Conventions:
    """How one language writes numbers and dates."""

    decimal: str
    group: str
    min_grouping: int  # digits before the decimal point from which groups are separated
    money_before: bool  # currency sign before the amount (en) or after it
    percent_space: bool  # "12,5 %" rather than "12.5%"
    date: str  # strftime pattern of a date
    time: str  # strftime pattern of a time of day
    excel_date: str  # the same date as an Excel number format


CONVENTIONS: Final[dict[str, Conventions]] = {
    "en": Conventions(".", ",", 4, True, False, "%Y-%m-%d", "%H:%M:%S", "yyyy-mm-dd"),
    "de": Conventions(",", ".", 4, False, True, "%d.%m.%Y", "%H:%M:%S", "dd.mm.yyyy"),
    "fr": Conventions(",", NARROW_NBSP, 4, False, True, "%d/%m/%Y", "%H:%M:%S", "dd/mm/yyyy"),
    "es": Conventions(",", ".", 5, False, True, "%d/%m/%Y", "%H:%M:%S", "dd/mm/yyyy"),
    "it": Conventions(",", ".", 4, False, False, "%d/%m/%Y", "%H:%M:%S", "dd/mm/yyyy"),
    "ar": Conventions(".", ",", 4, False, False, "%d/%m/%Y", "%H:%M:%S", "dd/mm/yyyy"),
}

# Signs shown instead of the ISO code; other currencies are shown by their code.
CURRENCY_SIGNS: Final = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥", "INR": "₹"}
# Digits after the decimal point of a currency (ISO 4217), 2 when not listed.
CURRENCY_DIGITS: Final = {
    "JPY": 0, "KRW": 0, "ISK": 0, "CLP": 0, "VND": 0, "XOF": 0, "XAF": 0,
    "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
}  # fmt: skip


def conventions(language: str) -> Conventions:
    """The conventions of `language` (English ones for an unknown language)."""
    return CONVENTIONS.get(language, CONVENTIONS["en"])


def currency_digits(currency: str | None) -> int:
    """Minor-unit digits of `currency` (2 when unknown or not given)."""
    return CURRENCY_DIGITS.get((currency or "").upper(), 2)


def currency_sign(currency: str) -> str:
    """The sign shown for `currency`: €, $, £, ... or the ISO code itself."""
    return CURRENCY_SIGNS.get(currency.upper(), currency.upper())


def _decimal(value: Decimal | int | float) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(value)


def format_number(value: Decimal | int | float, language: str, decimals: int | None = None) -> str:
    """`value` with the language's separators; rounded half up to `decimals` when given,
    else written with the digits it has.

    Example:
        >>> format_number(1234567, "fr") == "1\u202f234\u202f567"
        True
        >>> format_number(1234, "es"), format_number(12345, "es")
        ('1234', '12.345')
        >>> format_number(-0.5, "en", decimals=0)
        '-1'
    """
    conv = conventions(language)
    number = _decimal(value)
    if decimals is not None:
        number = number.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    text = format(abs(number), "f")
    whole, _, fraction = text.partition(".")
    if len(whole) >= conv.min_grouping:
        groups: list[str] = []
        while len(whole) > 3:
            groups.insert(0, whole[-3:])
            whole = whole[:-3]
        groups.insert(0, whole)
        whole = conv.group.join(groups)
    sign = "-" if number < 0 and number != 0 else ""
    return sign + whole + (conv.decimal + fraction if fraction else "")


def format_percent(value: Decimal | int | float, language: str, decimals: int = 1) -> str:
    """A percentage given as 0..100.

    Example:
        >>> format_percent(12.5, "de"), format_percent(12.5, "en")
        ('12,5\xa0%', '12.5%')
    """
    number = format_number(value, language, decimals=decimals)
    return number + (NBSP if conventions(language).percent_space else "") + "%"


def format_duration(seconds: int | float | Decimal) -> str:
    """Whole seconds as h:mm:ss; hours go on past 24 (same in every language).

    Example:
        >>> format_duration(59), format_duration(90061)
        ('0:00:59', '25:01:01')
    """
    total = int(seconds)
    sign = "-" if total < 0 else ""
    hours, rest = divmod(abs(total), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{sign}{hours}:{minutes:02d}:{secs:02d}"


def format_date(value: dt.date, language: str) -> str:
    """A date in the language's numeric order.

    Example:
        >>> format_date(dt.date(2026, 11, 26), "de")
        '26.11.2026'
    """
    return value.strftime(conventions(language).date)


def format_datetime(value: dt.datetime, language: str, zone: dt.tzinfo | None = None) -> str:
    """A date and time of day, converted to `zone` first when given (and `value` is aware).

    A local time that happens twice (the hour repeated when clocks go back) is followed by its
    UTC offset, so that the two are told apart.

    Example:
        >>> format_datetime(dt.datetime(2026, 11, 26, 14, 5, 9), "fr")
        '26/11/2026 14:05:09'
        >>> from zoneinfo import ZoneInfo
        >>> first = dt.datetime(2026, 10, 25, 0, 30, tzinfo=dt.UTC)
        >>> [format_datetime(first + dt.timedelta(hours=h), "en", ZoneInfo("Europe/Paris"))
        ...  for h in (0, 1, 2)]
        ['2026-10-25 02:30:00 +02:00', '2026-10-25 02:30:00 +01:00', '2026-10-25 03:30:00']
    """
    if zone is not None and value.tzinfo is not None:
        value = value.astimezone(zone)
    conv = conventions(language)
    text = value.strftime(f"{conv.date} {conv.time}")
    return f"{text} {_offset(value)}" if is_ambiguous(value) else text


def is_ambiguous(value: dt.datetime) -> bool:
    """Whether `value`'s local time happens twice in its zone (the repeated hour when clocks
    go back); never for a naive time.

    Example:
        >>> from zoneinfo import ZoneInfo
        >>> is_ambiguous(dt.datetime(2026, 10, 25, 2, 30, tzinfo=ZoneInfo("Europe/Paris")))
        True
        >>> is_ambiguous(dt.datetime(2026, 10, 25, 3, 30, tzinfo=ZoneInfo("Europe/Paris")))
        False
    """
    if value.tzinfo is None:
        return False
    return value.replace(fold=1 - value.fold).utcoffset() != value.utcoffset()


def _offset(value: dt.datetime) -> str:
    """The UTC offset as ±HH:MM."""
    total = int((value.utcoffset() or dt.timedelta()).total_seconds()) // 60
    hours, minutes = divmod(abs(total), 60)
    return f"{'-' if total < 0 else '+'}{hours:02d}:{minutes:02d}"
