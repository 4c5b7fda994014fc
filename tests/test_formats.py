"""Money has one text rule; JSON rows converted by column say exactly what the per-value
conversion says, in batches."""

from __future__ import annotations

import datetime as dt
import io
import json
from decimal import Decimal
from typing import Any

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from callacct.formats import json_rows, money_text, write_json_array

PARIS = "Europe/Paris"


def expected(value: Any, money: bool) -> Any:
    """The per-value conversion callacct used before (reports' `json_value`, `calls_as_json`)."""
    if value is None:
        return None
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return money_text(value) if money else format(value.normalize(), "f")
    if isinstance(value, dt.timedelta):
        return int(value.total_seconds())
    return value


times = st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2090, 1, 1))
amounts = st.decimals(min_value=-(10**9), max_value=10**9, places=6, allow_nan=False)
texts = st.text(max_size=12)  # quotes, backslashes, control characters, any script
# Text a spreadsheet could take for a formula, or that needs quoting in CSV.
risky_texts = st.text(alphabet="=+-@\t\r\n,\"' 0123456789.eEaé", max_size=10)
waits = st.timedeltas(min_value=dt.timedelta(0), max_value=dt.timedelta(days=9))
floats = st.floats(allow_nan=False, allow_infinity=False)
COMMON = {
    "at": pl.Datetime("us"),
    "cost": pl.Decimal(18, 6),
    "rate": pl.Decimal(18, 6),
    "n": pl.Int64,
    "text": pl.String,
    "flag": pl.Boolean,
}


def rows_of(text: Any, other: Any) -> Any:
    """Lists of rows: the `COMMON` columns (`text` drawn from `text`), `other`, a date."""
    return st.lists(
        st.tuples(
            st.none() | times,
            st.none() | amounts,
            st.none() | amounts,
            st.none() | st.integers(-(2**40), 2**40),
            st.none() | text,
            st.none() | st.booleans(),
            st.none() | other,
            st.none() | st.dates(),
        ),
        max_size=30,
    )


def frame_of(rows: list[tuple[Any, ...]], other: str, other_type: Any) -> pl.DataFrame:
    """The rows with the same instants shown in a time zone too (`local`)."""
    schema = {**COMMON, other: other_type, "day": pl.Date}
    return pl.DataFrame(rows, schema=schema, orient="row").with_columns(
        pl.col("at").dt.replace_time_zone("UTC").dt.convert_time_zone(PARIS).alias("local")
    )


@settings(max_examples=60, deadline=None)
@given(rows=rows_of(texts, waits), batch=st.integers(1, 7))
def test_every_value_as_the_per_value_conversion_says(
    rows: list[tuple[Any, ...]], batch: int
) -> None:
    frame = frame_of(rows, "wait", pl.Duration("us"))
    names = frame.columns
    got = [json.loads(line) for line in json_rows(frame, money={"cost"}, batch=batch)]
    want = [
        {name: expected(value, name == "cost") for name, value in zip(names, row, strict=True)}
        for row in frame.iter_rows()
    ]
    assert got == want


def test_an_array_of_any_length_one_row_a_line() -> None:
    frame = pl.DataFrame({"n": list(range(5)), "s": ["a", 'b"', "é", None, "\n"]})
    out = io.StringIO()
    write_json_array(frame, out, indent="  ")
    text = out.getvalue()
    assert json.loads(text) == frame.to_dicts()
    assert text.count("\n") == 6  # "[", five rows, "]" on lines of their own
    empty = io.StringIO()
    write_json_array(frame.head(0), empty)
    assert empty.getvalue() == "[]"


@settings(max_examples=60, deadline=None)
@given(rows=rows_of(risky_texts, floats))
def test_csv_rows_by_column_read_back_as_the_per_value_cells(rows: list[tuple[Any, ...]]) -> None:
    import csv

    from callacct.reports import export
    from callacct.reports.result import Column, ReportResult

    frame = frame_of(rows, "mos", pl.Float64)
    kinds = {"cost": "money", "rate": "number", "n": "integer", "text": "text"}
    columns = [Column(key, key, kinds.get(key, "text")) for key in frame.columns]
    result = ReportResult(
        name="t",
        title="t",
        description="",
        language="en",
        timezone=PARIS,
        period=(None, None),
        filters=[],
        columns=columns,
        rows=frame,
    )
    out = io.StringIO()
    export.write_csv(result, out)
    read = list(csv.reader(io.StringIO(out.getvalue())))
    assert read[0] == frame.columns
    want = [
        [export._csv_cell(value, c.kind) for value, c in zip(row, columns, strict=True)]
        for row in frame.iter_rows()
    ]
    assert read[1:] == want


@given(amount=amounts, currency=st.sampled_from(["EUR", "USD", "JPY", "TND", None]))
def test_money_text_exact_keeps_every_digit(amount: Decimal, currency: str | None) -> None:
    text = money_text(amount, currency)
    number, _, code = text.partition(" ")
    assert Decimal(number) == amount  # nothing rounded, nothing lost
    assert len(number.partition(".")[2]) >= 2
    assert code == (currency or "")
    signed = money_text(amount, signed=True)
    assert signed == (number if amount < 0 else "+" + number)


@given(amount=amounts, language=st.sampled_from(["en", "de", "fr", "es", "it", "ar"]))
def test_money_text_for_people_is_rounded_to_the_minor_unit(amount: Decimal, language: str) -> None:
    from callacct.i18n import format_number

    rounded = format_number(amount, language, decimals=2)
    text = money_text(amount, "EUR", language)
    assert rounded.lstrip("-") in text
    assert text.startswith("-") == rounded.startswith("-")
    assert "€" in text


def test_money_text_cases() -> None:
    assert money_text(Decimal("0.320000")) == "0.32"
    assert money_text(Decimal("0.012500"), "EUR") == "0.0125 EUR"
    assert money_text(Decimal("-1.5"), "USD", signed=True) == "-1.50 USD"
    assert money_text(Decimal("0"), signed=True) == "+0.00"
    assert money_text(Decimal("0.050000"), decimals=0) == "0.05"
    assert money_text(Decimal("-5"), "USD", "en", signed=True) == "-$5.00"
    assert money_text(Decimal("5"), "CHF", "en", signed=True) == "+CHF\u00a05.00"
    assert money_text(Decimal("1234.565"), "EUR", "en", decimals=0) == "€1,235"
    assert money_text(0.1 + 0.2, "EUR") == "0.30000000000000004 EUR"  # a float as it prints
