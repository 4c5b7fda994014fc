"""Numbers, money, durations and dates in each language."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from callacct.formats import money_text
from callacct.i18n import (
    LANGUAGES,
    format_date,
    format_datetime,
    format_duration,
    format_number,
    format_percent,
)
from callacct.i18n.formats import conventions

NNBSP = "\u202f"
NBSP = "\u00a0"


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "1,234,567.89"),
        ("de", "1.234.567,89"),
        ("fr", f"1{NNBSP}234{NNBSP}567,89"),
        ("es", "1.234.567,89"),
        ("it", "1.234.567,89"),
        ("ar", "1,234,567.89"),
    ],
)
def test_number_separators(language: str, expected: str) -> None:
    assert format_number(Decimal("1234567.89"), language) == expected


def test_spanish_groups_from_five_digits() -> None:
    assert format_number(1234, "es") == "1234"
    assert format_number(12345, "es") == "12.345"
    assert format_number(1234, "it") == "1.234"


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "€1,234.57"),
        ("de", f"1.234,57{NBSP}€"),
        ("fr", f"1{NNBSP}234,57{NBSP}€"),
        ("es", f"1234,57{NBSP}€"),
        ("it", f"1.234,57{NBSP}€"),
        ("ar", f"1,234.57{NBSP}€"),
    ],
)
def test_money(language: str, expected: str) -> None:
    assert money_text(Decimal("1234.565"), "EUR", language) == expected


def test_money_minor_units_and_negative() -> None:
    assert money_text(Decimal("1234.4"), "JPY", "en") == "¥1,234"
    assert money_text(Decimal("1.2345"), "TND", "fr") == f"1,235{NBSP}TND"
    assert money_text(Decimal("-5"), "USD", "en") == "-$5.00"
    assert money_text(Decimal("0.000001"), "EUR", "en") == "€0.00"


def test_percent_and_duration() -> None:
    assert format_percent(Decimal("12.34"), "fr") == f"12,3{NBSP}%"
    assert format_percent(5, "en", decimals=0) == "5%"
    assert format_duration(0) == "0:00:00"
    assert format_duration(3600 * 100 + 61) == "100:01:01"


def test_dates() -> None:
    day = dt.date(2026, 3, 4)
    assert [format_date(day, lang) for lang in LANGUAGES] == [
        "2026-03-04", "04.03.2026", "04/03/2026", "04/03/2026", "04/03/2026", "04/03/2026",
    ]  # fmt: skip
    moment = dt.datetime(2026, 3, 4, 23, 30, tzinfo=dt.UTC)
    assert format_datetime(moment, "de", ZoneInfo("Europe/Berlin")) == "05.03.2026 00:30:00"


@given(st.decimals(min_value=-(10**12), max_value=10**12, places=6), st.sampled_from(LANGUAGES))
def test_number_reads_back_exactly(value: Decimal, language: str) -> None:
    conv = conventions(language)
    text = format_number(value, language)
    plain = text.replace(conv.group, "").replace(conv.decimal, ".")
    assert Decimal(plain) == value
