"""Privacy masking of external numbers (F-ACCESS-3), one function for every output.

The trailing `digits` digits of each external number are replaced by ``*`` (other characters and
the length are kept). A number equal to one of the call's own extensions is internal and stays
readable. The query layer masks, so tables, JSON and files all show the same masked values:
`mask_calls` masks the rows `callacct calls` lists; reports read `calls` through `masked_calls_sql`,
a view in which the numbers are masked before anything is computed from them (an aggregate, a
grouping, a sort), so nothing derived from a number can show its hidden digits.

Example:
    >>> mask_number("+33612345678", 4)
    '+3361234****'
    >>> mask_number("0612", 6)
    '****'
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import polars as pl

#: Number columns of a call that may hold an external party.
NUMBER_COLUMNS = ("remote_number", "calling_number", "called_number", "final_number")


def mask_number(number: str | None, digits: int) -> str | None:
    """`number` with its last `digits` digits replaced by ``*``."""
    if number is None or digits <= 0:
        return number
    chars = list(number)
    left = digits
    for i in range(len(chars) - 1, -1, -1):
        if left == 0:
            break
        if chars[i].isdigit():
            chars[i] = "*"
            left -= 1
    return "".join(chars)


def mask_expr(column: str, digits: int) -> pl.Expr:
    """A Polars expression masking `column` like `mask_number` (vectorised).

    >>> pl.DataFrame({"n": ["0612345678", None]}).select(mask_expr("n", 3))["n"].to_list()
    ['0612345***', None]
    """
    # Replace one digit at a time from the right, so non-digits between them are kept.
    expr = pl.col(column)
    for _ in range(digits):
        expr = expr.str.replace(r"\d(\D*)$", "*$1")
    return expr.alias(column)


def mask_sql(column: str, digits: int) -> str:
    """SQL masking the text column `column` like `mask_number` (`column` is SQL text from the
    caller's constants, never user input).

    A number whose last `digits` characters are digits (the usual case) is cut and padded with
    ``*``; any other is masked one digit at a time from the right, as `mask_number` does.

    >>> mask_sql("remote_number", 0)
    'remote_number'
    """
    if digits <= 0:
        return column
    one_by_one = column
    for _ in range(digits):
        one_by_one = f"regexp_replace({one_by_one}, '\\p{{Nd}}(\\P{{Nd}}*)$', '*\\1')"
    return (
        f"CASE WHEN regexp_full_match(right({column}, {digits}), '\\p{{Nd}}*') "
        f"THEN left({column}, greatest(length({column}) - {digits}, 0)) "
        f"|| repeat('*', least(length({column}), {digits})) ELSE {one_by_one} END"
    )


def shown_number_sql(column: str, digits: int, table: str = "") -> str:
    """SQL of number column `column` of `calls` as a reader whose numbers are masked by
    `digits` sees it: masked unless it equals the call's extension or peer extension (an
    internal number), as `mask_calls` does."""
    own = f"{table}.{column}" if table else column
    if digits <= 0:
        return own
    ext, peer = (f"{table}.{c}" if table else c for c in ("extension", "peer_extension"))
    return f"CASE WHEN {own} IN ({ext}, {peer}) THEN {own} ELSE {mask_sql(own, digits)} END"


def masked_calls_sql(digits: int) -> str:
    """A relation standing for `calls` in a reader's queries: every column of `calls`, the
    number columns as the reader sees them (`shown_number_sql`), and each number as stored in
    ``stored_<column>``, for conditions only (a reader may look a number up with `=`).

    >>> "c.remote_number AS stored_remote_number" in masked_calls_sql(0)
    True
    """
    # Column names and digits come from constants and settings, never from a person.
    stored = ", ".join(f"c.{column} AS stored_{column}" for column in NUMBER_COLUMNS)
    if digits <= 0:
        return f"(SELECT c.*, {stored} FROM calls AS c) AS calls"  # noqa: S608
    shown = ", ".join(
        f"{shown_number_sql(column, digits, 'c')} AS {column}" for column in NUMBER_COLUMNS
    )
    return f"(SELECT c.* REPLACE ({shown}), {stored} FROM calls AS c) AS calls"  # noqa: S608


def mask_calls(frame: pl.DataFrame, digits: int) -> pl.DataFrame:
    """Mask the external numbers of a frame of calls (columns missing from it are skipped).

    A value equal to the call's `extension` or `peer_extension` is internal and kept.
    """
    if digits <= 0:
        return frame
    own = [c for c in ("extension", "peer_extension") if c in frame.columns]
    exprs = []
    for column in NUMBER_COLUMNS:
        if column not in frame.columns:
            continue
        internal = pl.lit(False)
        for other in own:
            internal = internal | (pl.col(column) == pl.col(other)).fill_null(False)
        exprs.append(
            pl.when(internal)
            .then(pl.col(column))
            .otherwise(mask_expr(column, digits))
            .alias(column)
        )
    return frame.with_columns(exprs) if exprs else frame


def mask_in_text(text: str, numbers: Iterable[str | None], digits: int) -> str:
    """`text` with every occurrence of the given external numbers masked: for free text that
    quotes a call's numbers (an explanation, an e-mail body). Longer numbers are replaced first.

    >>> mask_in_text("dialled 00612345678 -> +33612345678", ["00612345678", "+33612345678"], 4)
    'dialled 0061234**** -> +3361234****'
    """
    if digits <= 0:
        return text
    for number in sorted({n for n in numbers if n}, key=len, reverse=True):
        # Not inside a longer run of digits: '1234' must not hit '912345'.
        pattern = r"(?<!\d)" + re.escape(number) + r"(?!\d)"
        masked = mask_number(number, digits) or number
        text = re.sub(pattern, masked.replace("\\", "\\\\"), text)
    return text
