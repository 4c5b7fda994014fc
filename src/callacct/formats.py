"""Text of values for output, shared by every command, report and renderer.

**Money** has one rule, `money_text`: exact for machines (JSON, CSV, the `calls` table, the
rating summary), localised for people (report tables, PDF, HTML, the home view). Amounts are
`Decimal`, never float; nothing is rounded unless a language asks for it.

**Rows as JSON** (`json_rows`, `write_json_array`) are converted column by column, never a
Python dict per row: each row through Python objects cost several times the memory and time
of converting by column with Polars and writing in batches (docs/benchmarks.md, Reports).
Values are written as the rest of callacct writes them: times ISO 8601 (with their
offset when they have a time zone, with microseconds only when there are any), money as
`money_text` (`decimal_text` is its column form), other decimals without trailing zeros,
durations in whole seconds, the rest as it is (a float that is not a number becomes null).

Example:
    >>> import datetime as dt
    >>> money_text(Decimal("0.320000")), money_text(Decimal("0.0125"), "EUR")
    ('0.32', '0.0125 EUR')
    >>> money_text(Decimal("1234.565"), "EUR", "de"), money_text(Decimal("1.5"), signed=True)
    ('1.234,57\xa0€', '+1.50')
    >>> frame = pl.DataFrame({"at": [dt.datetime(2026, 11, 2, 9, 30)], "cost": [Decimal("0.5")]})
    >>> list(json_rows(frame, money={"cost"}))
    ['{"at":"2026-11-02T09:30:00","cost":"0.50"}']
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from decimal import Decimal
from typing import TextIO

import polars as pl

from callacct.i18n.formats import NBSP, conventions, currency_digits, currency_sign, format_number


def money_text(
    amount: Decimal | int | float,
    currency: str | None = None,
    language: str | None = None,
    *,
    decimals: int | None = None,
    signed: bool = False,
) -> str:
    """An amount of money as text: the one rule of every output.

    Without `language`, exact, for machines and the operator: every stored digit kept, at
    least `decimals` (default 2) places, then the currency code when given. With `language`,
    as people of that language write it: rounded half up to `decimals` places (default: the
    currency's minor unit), with the language's separators and the currency's sign. `signed`
    puts `+` before an amount that is not negative (a change). A float (an average a report
    computed) is taken as the decimal it prints as.

    >>> money_text(Decimal("12"), "USD"), money_text(Decimal("0.05"), decimals=0)
    ('12.00 USD', '0.05')
    >>> money_text(Decimal("-2.5"), None, "fr"), money_text(Decimal("3"), "CHF", "en")
    ('-2,50', 'CHF\xa03.00')
    >>> money_text(Decimal("1234.4"), "JPY", "en"), money_text(Decimal("0.4"), "EUR", "en", signed=True)
    ('¥1,234', '+€0.40')
    """  # noqa: E501
    if language is None:
        exact = Decimal(repr(amount)) if isinstance(amount, float) else Decimal(amount)
        text = _exact(exact, 2 if decimals is None else decimals)
        if signed and not text.startswith("-"):
            text = "+" + text
        return f"{text} {currency}" if currency else text
    digits = currency_digits(currency) if decimals is None else decimals
    number = format_number(amount, language, decimals=digits)
    if signed and not number.startswith("-"):
        number = "+" + number
    if not currency:
        return number
    sign = currency_sign(currency)
    if conventions(language).money_before:
        gap = "" if sign != currency.upper() else NBSP
        if number[:1] in "+-":
            return number[0] + sign + gap + number[1:]
        return sign + gap + number
    return number + NBSP + sign


def _exact(amount: Decimal, places: int) -> str:
    """`amount` with every digit it has, and at least `places` decimals."""
    amount = amount.normalize()
    exponent = min(int(amount.as_tuple().exponent), -places)
    return format(amount.quantize(Decimal(1).scaleb(exponent)), "f")


BATCH_ROWS = 50_000  # rows converted and written at a time: bounds memory


def json_ready(frame: pl.DataFrame, money: Collection[str] = ()) -> pl.DataFrame:
    """`frame` with every column in a type JSON writes as callacct shows it (see above)."""
    return frame.with_columns(
        _column(name, dtype, name in money) for name, dtype in frame.schema.items()
    )


def _column(name: str, dtype: pl.DataType, money: bool) -> pl.Expr:
    col = pl.col(name)
    if isinstance(dtype, pl.Datetime):
        return datetime_text(col, dtype)
    if isinstance(dtype, pl.Date):
        return col.dt.to_string("%Y-%m-%d")
    if isinstance(dtype, pl.Duration):
        return col.dt.total_seconds()
    if isinstance(dtype, pl.Decimal):
        return decimal_text(col, dtype, money=money)
    return col


def datetime_text(col: pl.Expr, dtype: pl.Datetime, sep: str = "T") -> pl.Expr:
    """ISO 8601, as Python's `isoformat(sep)`: the offset when there is a time zone,
    microseconds only when there are any."""
    offset = "%:z" if dtype.time_zone else ""
    return (
        pl.when(col.dt.microsecond() != 0)
        .then(col.dt.to_string(f"%Y-%m-%d{sep}%H:%M:%S%.6f{offset}"))
        .otherwise(col.dt.to_string(f"%Y-%m-%d{sep}%H:%M:%S{offset}"))
    )


def decimal_text(col: pl.Expr, dtype: pl.Decimal, *, money: bool) -> pl.Expr:
    """Exact decimal text: money as `money_text` writes it without a language (0.320000 ->
    0.32, 12 -> 12.00), anything else without trailing zeros (12.50 -> 12.5)."""
    if money:
        scale = max(dtype.scale or 0, 2)
        padded = col.cast(pl.Decimal(38, scale)).cast(pl.String)
        return padded.str.replace(r"^(-?\d+\.\d\d\d*?)0*$", "${1}")
    text = col.cast(pl.String)
    return (
        pl.when(text.str.contains(".", literal=True))
        .then(text.str.strip_chars_end("0").str.strip_chars_end("."))
        .otherwise(text)
    )


def json_rows(
    frame: pl.DataFrame, *, money: Collection[str] = (), batch: int = BATCH_ROWS
) -> Iterator[str]:
    """One JSON object per row, keys in column order."""
    for start in range(0, frame.height, batch):
        text = json_ready(frame.slice(start, batch), money).write_ndjson()
        # Split on "\n" only: a value may hold U+0085 or U+2028, which `splitlines` splits on
        # (a newline inside a value is written escaped).
        yield from text.removesuffix("\n").split("\n")


def write_json_array(
    frame: pl.DataFrame, out: TextIO, *, money: Collection[str] = (), indent: str = ""
) -> None:
    """The rows as a JSON array, one object per line (each line led by `indent` + 2 spaces).

    >>> import io
    >>> buffer = io.StringIO()
    >>> write_json_array(pl.DataFrame({"n": [1, 2]}), buffer)
    >>> buffer.getvalue()
    '[\\n  {"n":1},\\n  {"n":2}\\n]'
    """
    if frame.height == 0:
        out.write("[]")
        return
    out.write("[")
    first = True
    for line in json_rows(frame, money=money):
        out.write(("\n" if first else ",\n") + indent + "  " + line)
        first = False
    out.write("\n" + indent + "]")
