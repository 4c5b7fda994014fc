"""JSON and CSV output of a `ReportResult`, for tools (the json and csv renderers).

JSON (a stable shape): `{"report", "columns", "rows", "totals"}`; money is exact decimal text,
times ISO 8601 with their offset. CSV: a header of the translated labels, then the rows.

Formula neutralising (CSV injection), one rule for every reader: a text cell starting with `=`,
`+`, `-`, `@`, a tab or a carriage return gets a leading `'`, so a spreadsheet neither runs it
nor reads it as something else, unless it is a plain negative number (`-12.5`, read back as
that number). Numbers, money and durations are written as numbers, never neutralised. A phone
number is text: `+33612345678` is written `'+33612345678`, which a spreadsheet shows as
+33612345678, kept as text (without the quote it would drop the `+` and store the number
33612345678; a masked `+3361234****` would be read as a formula). So admins and masked
readers get the same rule, whatever the digits.

Example:
    >>> neutralise("=HYPERLINK(1)"), neutralise("+33612345678"), neutralise("-12.5")
    ("'=HYPERLINK(1)", "'+33612345678", '-12.5')
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from decimal import Decimal
from typing import Any, Final, TextIO

import polars as pl

from callacct.formats import (
    BATCH_ROWS,
    datetime_text,
    decimal_text,
    json_rows,
    money_text,
    write_json_array,
)
from callacct.i18n import t
from callacct.reports.result import ReportResult

FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")
# A negative number as plain as a spreadsheet reads it back: the one risky start left alone.
_NEGATIVE: Final = re.compile(r"-(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?")
# The same two tests, for Polars (whole-column regexes).
_NEGATIVE_TEXT: Final = f"^(?:{_NEGATIVE.pattern})$"
_RISKY_START: Final = r"^[=+\-@\t\r]"


def formula_like(text: str) -> bool:
    """Whether a spreadsheet would take text cell `text` for a formula or a number other than
    it shows (see the module docstring)."""
    return text.startswith(FORMULA_STARTS) and not _NEGATIVE.fullmatch(text)


def neutralise(text: str) -> str:
    """`text` made safe for a spreadsheet cell (see the module docstring)."""
    return "'" + text if formula_like(text) else text


def json_value(value: Any, kind: str) -> Any:
    """A cell as JSON: exact decimals as text, times ISO 8601, the rest unchanged."""
    if value is None:
        return None
    if isinstance(value, dict):  # a money total per currency
        return {currency: json_value(amount, kind) for currency, amount in value.items()}
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return money_text(value) if kind == "money" else format(value.normalize(), "f")
    if isinstance(value, dt.timedelta):
        return int(value.total_seconds())
    return value


def result_to_json(result: ReportResult) -> dict[str, Any]:
    """The JSON document of a run, as Python objects (for a small report; `write_json` writes
    any size)."""
    document = _document(result)
    frame, money = _rows(result)
    document["rows"] = [json.loads(line) for line in json_rows(frame, money=money)]
    return document


def write_json(result: ReportResult, out: TextIO) -> None:
    """The JSON document of a run, its rows converted by column and written in batches."""
    mark = "\x00rows\x00"
    text = json.dumps({**_document(result), "rows": mark}, indent=2, ensure_ascii=False)
    before, after = text.split(json.dumps(mark), 1)
    out.write(before)
    frame, money = _rows(result)
    write_json_array(frame, out, money=money, indent="  ")
    out.write(after + "\n")


def _rows(result: ReportResult) -> tuple[pl.DataFrame, list[str]]:
    """The rows frame with exactly the report's columns, and which of them are money."""
    frame = result.rows.select(
        pl.col(c.key) if c.key in result.rows.columns else pl.lit(None).alias(c.key)
        for c in result.columns
    )
    return frame, [c.key for c in result.columns if c.kind == "money"]


def _document(result: ReportResult) -> dict[str, Any]:
    """Everything of the JSON document but its rows (in key order: rows after columns)."""
    kinds = {c.key: c.kind for c in result.columns}
    totals = None
    if result.totals is not None:
        totals = {k: json_value(v, kinds.get(k, "")) for k, v in result.totals.items()}
    start, end = result.period
    return {
        "report": {
            "name": result.name,
            "title": result.title,
            "description": result.description,
            "language": result.language,
            "timezone": result.timezone,
            "period": {
                "from": start.isoformat() if start else None,
                "to": end.isoformat() if end else None,
            },
            "filters": [{"label": label, "value": value} for label, value in result.filters],
            "generated_at": result.generated_at.isoformat(),
            "chart": None
            if result.chart is None
            else {
                "kind": result.chart.kind,
                "category": result.chart.category,
                "values": list(result.chart.values),
                "title": result.chart.title,
            },
        },
        "columns": [
            {
                "key": c.key,
                "label": c.label,
                "kind": c.kind,
                **({"currency": c.currency} if c.currency else {}),
            }
            for c in result.columns
        ],
        "rows": [],
        "totals": totals,
    }


def _csv_cell(value: Any, kind: str) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return money_text(value) if kind == "money" else format(value.normalize(), "f")
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, dict):  # a money total per currency: "12.30 EUR; 4.05 USD"
        text = "; ".join(f"{_csv_cell(amount, kind)} {cur}" for cur, amount in value.items())
        return neutralise(text)
    return neutralise(str(value))


def write_csv(result: ReportResult, out: TextIO) -> None:
    """The rows as CSV (header of labels; a last row of totals when the report has them).

    Rows are converted by column and written by Polars in batches; the header and totals by
    Python's csv module, with the same quoting (a value with a comma, quote or line break is
    quoted).
    """
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([neutralise(c.label) for c in result.columns])
    frame, money = _rows(result)
    if frame.width == 1:  # Polars would write a lone empty value as an empty line
        for row in frame.iter_rows():
            writer.writerow([_csv_cell(row[0], result.columns[0].kind)])
        frame = frame.head(0)
    for start in range(0, frame.height, BATCH_ROWS):
        piece = _csv_ready(frame.slice(start, BATCH_ROWS), set(money))
        out.write(
            piece.write_csv(
                include_header=False, null_value="", quote_style="necessary", line_terminator="\n"
            )
        )
    if result.totals is not None and result.columns:
        cells = [_csv_cell(result.totals.get(c.key), c.kind) for c in result.columns]
        if not cells[0]:
            cells[0] = neutralise(t("ui.total", result.language))
        writer.writerow(cells)


def _csv_ready(frame: pl.DataFrame, money: set[str]) -> pl.DataFrame:
    """Every column as the text `_csv_cell` gives its values, computed by column (an empty
    text becomes null, which Polars writes as an empty field, as Python's csv module does)."""
    columns: list[pl.Series | pl.Expr] = []
    for name, dtype in frame.schema.items():
        col = pl.col(name)
        text: pl.Expr
        if isinstance(dtype, pl.Boolean):
            text = pl.when(col).then(pl.lit("true")).when(~col).then(pl.lit("false"))
        elif isinstance(dtype, pl.Datetime):
            text = datetime_text(col, dtype, sep=" ")
        elif isinstance(dtype, pl.Date):
            text = col.dt.to_string("%Y-%m-%d")
        elif isinstance(dtype, pl.Decimal):
            text = decimal_text(col, dtype, money=name in money)
        elif dtype.is_integer():
            text = col.cast(pl.String)
        elif isinstance(dtype, pl.String):
            risky = col.str.contains(_RISKY_START) & ~col.str.contains(_NEGATIVE_TEXT)
            text = pl.when(risky).then(pl.lit("'") + col).otherwise(col)
        else:  # floats (Python's shortest repr), durations and the rare rest: value by value
            kind = "money" if name in money else ""
            values = frame.get_column(name).to_list()
            columns.append(pl.Series(name, [_csv_cell(v, kind) for v in values], pl.String))
            continue
        columns.append(text.alias(name))
    ready = frame.select(columns)
    return ready.with_columns(
        pl.when(pl.col(name) != "").then(pl.col(name)).alias(name) for name in ready.columns
    )
