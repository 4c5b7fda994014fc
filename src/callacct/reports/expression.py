"""The filter expression language of `--where` and of report specs.

A small boolean language over the known fields (`callacct.reports.fields`), parsed by a
hand-written recursive-descent parser into a tree, then compiled to SQL in which every value is
a bound parameter. User text never becomes SQL: only field expressions from the registry and
operators from a fixed table do. Conditions on number fields compare the numbers as stored
(`stored_remote_number`, ...: the query layer's view of `calls`, `callacct.query.reports`), so
a reader whose numbers are masked can still look a number up with `=` or `in`.

Grammar (keywords are case-insensitive)::

    expr       := and_expr ("or" and_expr)*
    and_expr   := not_expr ("and" not_expr)*
    not_expr   := "not" not_expr | primary
    primary    := "(" expr ")" | comparison
    comparison := FIELD OP value
                | FIELD ["not"] "in" "(" value ("," value)* ")"
                | FIELD ["not"] "like" STRING
                | FIELD "is" ["not"] "null"
    OP         := "=" | "!=" | "<>" | "<" | "<=" | ">" | ">="
    value      := STRING | NUMBER | "true" | "false"

Strings are quoted with ' or " (a quote is doubled inside). Times compare with a date or
date-time in the run's time zone: `started_at >= '2021-02-01 08:00'`.

Example:
    >>> tree = parse("called_number = '006599775544' or duration >= 20")
    >>> sql, params = compile_expression(tree, icu_clock(ZoneInfo("UTC")))
    >>> sql
    '((stored_called_number = ?) OR (duration_s >= ?))'
    >>> params
    ['006599775544', 20]
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Final
from zoneinfo import ZoneInfo

from callacct.errors import UsageError
from callacct.query.masking import NUMBER_COLUMNS
from callacct.reports.clock import LocalClock, icu_clock
from callacct.reports.fields import FIELDS, Field, find_field

MAX_LENGTH: Final = 4000
MAX_DEPTH: Final = 40
#: The largest whole number a value may be (DuckDB's BIGINT).
MAX_INTEGER: Final = 2**63 - 1

COMPARISONS: Final = {"=": "=", "!=": "<>", "<>": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
KEYWORDS: Final = frozenset({"and", "or", "not", "in", "like", "is", "null", "true", "false"})
#: Fields holding external numbers, which a scope may mask.
NUMBER_FIELDS: Final = frozenset(NUMBER_COLUMNS)

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<number>-?\d+(?:\.\d+)?(?![A-Za-z_]))
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<string>'(?:[^']|'')*'|"(?:[^"]|"")*")
  | (?P<op><=|>=|<>|!=|=|<|>)
  | (?P<punct>[(),])
    """,
    re.VERBOSE,
)


class ExpressionError(UsageError):
    """An expression that cannot be used; the message names the position (1-based)."""


@dataclass(frozen=True)
class Token:
    kind: str  # name, keyword, number, string, op, punct, end
    text: str
    value: Any
    position: int  # 1-based character position


@dataclass(frozen=True)
class Comparison:
    """`field op value(s)`; `op` is one of `COMPARISONS`' SQL values, `IN`, `NOT IN`, `LIKE`,
    `NOT LIKE`, `IS NULL`, `IS NOT NULL`."""

    field: Field
    op: str
    values: tuple[Any, ...]
    position: int


@dataclass(frozen=True)
class And:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    item: Node


Node = Comparison | And | Or | Not


def tokenize(text: str) -> list[Token]:
    """The tokens of `text`, ending with an `end` token."""
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"expression longer than {MAX_LENGTH} characters")
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            char = text[pos]
            hint = " (an unterminated string?)" if char in "'\"" else ""
            raise ExpressionError(f"unexpected {char!r} at position {pos + 1}{hint}")
        kind = match.lastgroup or ""
        raw = match.group()
        if kind == "number":
            value: Any = Decimal(raw) if "." in raw else int(raw)
            if abs(value) > MAX_INTEGER:
                raise ExpressionError(
                    f"number {raw[:30]} at position {pos + 1} is too large (at most {MAX_INTEGER})"
                )
            tokens.append(Token("number", raw, value, pos + 1))
        elif kind == "name":
            lowered = raw.lower()
            is_kw = lowered in KEYWORDS
            tokens.append(Token("keyword" if is_kw else "name", raw, lowered, pos + 1))
        elif kind == "string":
            quote = raw[0]
            tokens.append(Token("string", raw, raw[1:-1].replace(quote * 2, quote), pos + 1))
        elif kind in ("op", "punct"):
            tokens.append(Token(kind, raw, raw, pos + 1))
        pos = match.end()
    tokens.append(Token("end", "", None, len(text) + 1))
    return tokens


class _Parser:
    def __init__(self, text: str, tz: str) -> None:
        self.tokens = tokenize(text)
        self.index = 0
        self.depth = 0
        self.tz = tz

    @property
    def current(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def at_keyword(self, *words: str) -> bool:
        return self.current.kind == "keyword" and self.current.value in words

    def fail(self, what: str, token: Token | None = None) -> ExpressionError:
        token = token or self.current
        found = "the end" if token.kind == "end" else repr(token.text)
        return ExpressionError(f"{what} at position {token.position}, found {found}")

    def expect_punct(self, char: str, what: str) -> Token:
        if self.current.kind == "punct" and self.current.text == char:
            return self.advance()
        raise self.fail(what)

    def parse(self) -> Node:
        if self.current.kind == "end":
            raise ExpressionError("empty expression")
        node = self.expr()
        if self.current.kind != "end":
            if self.current.kind == "punct" and self.current.text == ")":
                raise self.fail("unbalanced ')'")
            raise self.fail("expected 'and', 'or' or the end")
        return node

    def expr(self) -> Node:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.fail(f"expression nested deeper than {MAX_DEPTH}")
        items = [self.and_expr()]
        while self.at_keyword("or"):
            self.advance()
            items.append(self.and_expr())
        self.depth -= 1
        return items[0] if len(items) == 1 else Or(tuple(items))

    def and_expr(self) -> Node:
        items = [self.not_expr()]
        while self.at_keyword("and"):
            self.advance()
            items.append(self.not_expr())
        return items[0] if len(items) == 1 else And(tuple(items))

    def not_expr(self) -> Node:
        if self.at_keyword("not"):
            self.advance()
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise self.fail(f"expression nested deeper than {MAX_DEPTH}")
            item = self.not_expr()
            self.depth -= 1
            return Not(item)
        return self.primary()

    def primary(self) -> Node:
        token = self.current
        if token.kind == "punct" and token.text == "(":
            self.advance()
            node = self.expr()
            if not (self.current.kind == "punct" and self.current.text == ")"):
                raise self.fail(f"missing ')' for the '(' at position {token.position}")
            self.advance()
            return node
        return self.comparison()

    def comparison(self) -> Node:
        token = self.current
        if token.kind != "name":
            raise self.fail("expected a field name")
        self.advance()
        if self.current.kind == "punct" and self.current.text == "(":
            raise ExpressionError(
                f"functions are not allowed: {token.text!r} at position {token.position}"
            )
        found = find_field(token.text)
        if found is None:
            raise ExpressionError(
                f"unknown field {token.text!r} at position {token.position}; "
                f"known fields: {', '.join(FIELDS)}"
            )
        negate = False
        if self.at_keyword("not"):
            self.advance()
            negate = True
            if not self.at_keyword("in", "like"):
                raise self.fail("expected 'in' or 'like' after 'not'")
        if self.at_keyword("in"):
            self.advance()
            self.expect_punct("(", "expected '(' after 'in'")
            values = [self.value(found)]
            while self.current.kind == "punct" and self.current.text == ",":
                self.advance()
                values.append(self.value(found))
            self.expect_punct(")", "expected ',' or ')' in the list")
            return Comparison(found, "NOT IN" if negate else "IN", tuple(values), token.position)
        if self.at_keyword("like"):
            self.advance()
            if found.kind != "text":
                raise self.fail(f"'like' needs a text field; {found.name} is {found.kind}")
            pattern = self.current
            if pattern.kind != "string":
                raise self.fail("expected a quoted pattern after 'like'")
            self.advance()
            op = "NOT LIKE" if negate else "LIKE"
            return Comparison(found, op, (pattern.value,), token.position)
        if self.at_keyword("is"):
            self.advance()
            op = "IS NULL"
            if self.at_keyword("not"):
                self.advance()
                op = "IS NOT NULL"
            if not self.at_keyword("null"):
                raise self.fail("expected 'null' after 'is'")
            self.advance()
            return Comparison(found, op, (), token.position)
        if self.current.kind != "op":
            raise self.fail(
                f"expected an operator (=, !=, <, <=, >, >=, in, like, is) after {token.text!r}"
            )
        op = COMPARISONS[self.advance().text]
        if found.kind == "boolean" and op not in ("=", "<>"):
            raise self.fail(f"{found.name} is true or false: only = and != apply")
        return Comparison(found, op, (self.value(found),), token.position)

    def value(self, target: Field) -> Any:
        token = self.current
        if token.kind == "keyword" and token.value in ("true", "false"):
            if target.kind != "boolean":
                raise self.fail(f"{target.name} is {target.kind}, not true/false")
            self.advance()
            return token.value == "true"
        if token.kind == "number":
            self.advance()
            if target.kind == "text":
                return token.text  # extension = 211 means the text '211'
            if target.numeric:
                return token.value
            raise self.fail(f"{target.name} is {target.kind}; a number does not compare", token)
        if token.kind == "string":
            self.advance()
            if target.kind == "text":
                return token.value
            if target.kind in ("datetime", "date"):
                return _when(token, self.tz, target)
            if target.numeric:
                try:
                    return Decimal(token.value)
                except InvalidOperation:
                    raise self.fail(f"{target.name} needs a number", token) from None
            raise self.fail(f"{target.name} is true or false, not a string", token)
        raise self.fail("expected a value (a 'quoted string', a number, true or false)")


def _when(token: Token, tz: str, target: Field) -> dt.datetime | dt.date:
    text = str(token.value).strip()
    try:
        if target.kind == "date":
            return dt.date.fromisoformat(text)
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ExpressionError(
            f"{text!r} at position {token.position} is not a date (YYYY-MM-DD) or "
            "date-time (YYYY-MM-DD HH:MM)"
        ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(tz))
    # Stored times are naive UTC.
    return value.astimezone(dt.UTC).replace(tzinfo=None)


def parse(text: str, tz: str = "UTC") -> Node:
    """The tree of expression `text`; `ExpressionError` naming the position if it is not one.

    `tz` is the zone in which dates given as strings are read.
    """
    return _Parser(text, tz).parse()


def field_sql(target: Field, clock: LocalClock) -> tuple[str, list[Any]]:
    """The SQL of a field and its parameters (the clock's, for fields of local time)."""
    if target.local:
        uses = target.sql.count("{local}")
        return target.sql.replace("{local}", clock.sql), list(clock.params) * uses
    return target.sql, []


def condition_sql(target: Field, clock: LocalClock) -> tuple[str, list[Any]]:
    """The SQL a condition compares: a number field as stored (`stored_<name>`), any other
    field as `field_sql` gives it."""
    if target.name in NUMBER_FIELDS:
        return f"stored_{target.name}", []
    return field_sql(target, clock)


def compile_expression(node: Node, clock: LocalClock) -> tuple[str, list[Any]]:
    """Parameterised SQL for an expression tree, over the `calls` columns."""
    if isinstance(node, And | Or):
        parts, params = [], []
        for item in node.items:
            sql, item_params = compile_expression(item, clock)
            parts.append(sql)
            params += item_params
        joiner = " AND " if isinstance(node, And) else " OR "
        return "(" + joiner.join(f"({part})" for part in parts) + ")", params
    if isinstance(node, Not):
        sql, params = compile_expression(node.item, clock)
        return f"(NOT ({sql}))", params
    column, params = condition_sql(node.field, clock)
    if node.op in ("IS NULL", "IS NOT NULL"):
        return f"{column} {node.op}", params
    if node.op in ("IN", "NOT IN"):
        marks = ", ".join("?" for _ in node.values)
        return f"{column} {node.op} ({marks})", params + list(node.values)
    return f"{column} {node.op} ?", params + list(node.values)


def where_sql(text: str, tz: str, clock: LocalClock | None = None) -> tuple[str, list[Any]]:
    """Parse `text` (dates read in `tz`) and compile it (local times from `clock`)."""
    return compile_expression(parse(text, tz), clock or icu_clock(ZoneInfo(tz)))


_PROBING: Final = frozenset({"<", "<=", ">", ">=", "LIKE", "NOT LIKE"})


def number_probe(text: str) -> str | None:
    """Why expression `text` may not be used by a reader whose numbers are masked (it compares
    a number by range or pattern), or None if it may.

    >>> number_probe("remote_number like '+33%' or duration > 5")
    'remote_number like ... at position 1: numbers are masked for this role, so they can be \
compared only with = or in'
    >>> number_probe("remote_number = '+33612345678'") is None
    True
    """
    found = probes_numbers(parse(text))
    if found is None:
        return None
    return (
        f"{found.field.name} {found.op.lower()} ... at position {found.position}: "
        "numbers are masked for this role, so they can be compared only with = or in"
    )


def probes_numbers(node: Node) -> Comparison | None:
    """The first comparison that could reveal masked digits of a number (ranges and patterns
    on number fields: a few of them would read the hidden digits one by one), if any."""
    if isinstance(node, And | Or):
        for item in node.items:
            found = probes_numbers(item)
            if found is not None:
                return found
        return None
    if isinstance(node, Not):
        return probes_numbers(node.item)
    if node.field.name in NUMBER_FIELDS and node.op in _PROBING:
        return node
    return None
