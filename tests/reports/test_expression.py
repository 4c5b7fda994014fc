"""The --where language: parsed into a tree, compiled with bound values, bad input refused."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from callacct.reports.clock import icu_clock
from callacct.reports.expression import (
    And,
    Comparison,
    ExpressionError,
    Not,
    Or,
    compile_expression,
    parse,
    where_sql,
)


def test_the_documented_condition() -> None:
    tree = parse("called_number = '006599775544' or duration >= 20")
    assert isinstance(tree, Or)
    assert [c.field.name for c in tree.items if isinstance(c, Comparison)] == [
        "called_number",
        "duration_s",
    ]
    sql, params = compile_expression(tree, icu_clock(ZoneInfo("UTC")))
    assert "006599775544" not in sql
    assert params == ["006599775544", 20]


def test_precedence_not_and_or_and_parentheses() -> None:
    tree = parse("not answered = true and (hour >= 8 or hour < 2) or cost > 1.5")
    assert isinstance(tree, Or)
    first = tree.items[0]
    assert isinstance(first, And)
    assert isinstance(first.items[0], Not)
    assert isinstance(first.items[1], Or)
    _, params = compile_expression(tree, icu_clock(ZoneInfo("US/Eastern")))
    assert params == [True, "US/Eastern", 8, "US/Eastern", 2, Decimal("1.5")]


def test_in_like_null_and_times() -> None:
    sql, params = where_sql(
        "extension in (211, '729') and called_number like '0065%' and user is not null "
        "and started_at >= '2021-02-01'",
        "US/Eastern",
    )
    assert "IN (?, ?)" in sql
    assert "LIKE ?" in sql
    assert "user_login IS NOT NULL" in sql
    assert params == ["211", "729", "0065%", dt.datetime(2021, 2, 1, 5, 0)]


def test_quotes_inside_strings_are_values() -> None:
    sql, params = where_sql("user = 'o''brien' or user = \"a\"\"b\"", "UTC")
    assert params == ["o'brien", 'a"b']
    assert "brien" not in sql


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("called_number = '1'; DROP TABLE calls", "unexpected ';' at position 20"),
        ("user = 'a' or 1 = 1", "expected a field name at position 15"),
        ("user = 'a' -- comment", "unexpected '-' at position 12"),
        ("duration >= 20 and (cost > 1", "missing ')' for the '(' at position 20"),
        ("(duration > 2))", "unbalanced ')' at position 15"),
        ("lower(user) = 'a'", "functions are not allowed: 'lower' at position 1"),
        ("password = 'x'", "unknown field 'password' at position 1"),
        ("duration ~ 3", "unexpected '~' at position 10"),
        ("duration >= 'abc'", "duration_s needs a number"),
        ("user = 'unterminated", 'unexpected "\'" at position 8 (an unterminated string?)'),
        ("answered > true", "only = and != apply"),
        ("", "empty expression"),
        ("duration = 1 union select login from users", "expected 'and', 'or' or the end"),
        ("user = (select login from users)", "expected a value"),
        ("(" * 100 + "duration = 1" + ")" * 100, "nested deeper"),
    ],
)
def test_bad_input_is_refused_with_the_position(text: str, message: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        parse(text)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)
