"""Building blocks shared by the text CDR dialects (Asterisk, generic CSV mappings).

These formats write local wall-clock times without an offset and bare numbers without the
partitions, device types or cause codes CUCM has, so the same questions come up for each: does
this local time exist, which record key is stable, which side of the call is an extension. Every
function here works on whole columns (Polars expressions, one DuckDB query), never row by row.

Example:
    >>> import polars as pl
    >>> frame = pl.DataFrame({"t": ["2024-03-31 01:30:00", "2024-03-31 02:30:00"]})
    >>> utc = local_to_utc(parse_local(pl.col("t"), ("%Y-%m-%d %H:%M:%S",)), "Europe/Paris")
    >>> frame.select(utc).to_series().to_list()
    [datetime.datetime(2024, 3, 31, 0, 30), None]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import duckdb
import polars as pl

from callacct.config import DialPlanSettings
from callacct.store import fetch_frame, registered

Check = tuple[pl.Expr, str, str]

DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"
_KEY_SEPARATOR = "\x1f"  # the parser rejects lines containing it, so joined fields never collide

# The columns (and their types) every dialect's `normalise` gives the engine for `calls`.
CALL_SCHEMA: dict[str, pl.DataType] = {
    "_row": pl.UInt32(),
    "source": pl.String(),
    "record_key": pl.String(),
    "global_call_id": pl.String(),
    "orig_leg_id": pl.Int64(),
    "dest_leg_id": pl.Int64(),
    "started_at": pl.Datetime("us"),
    "answered_at": pl.Datetime("us"),
    "ended_at": pl.Datetime("us"),
    "duration_s": pl.Int32(),
    "ring_s": pl.Int32(),
    "direction": pl.String(),
    "answered": pl.Boolean(),
    "disposition": pl.String(),
    "cause_code": pl.Int64(),
    "calling_number": pl.String(),
    "called_number": pl.String(),
    "final_number": pl.String(),
    "redirect_number": pl.String(),
    "remote_number": pl.String(),
    "extension": pl.String(),
    "peer_extension": pl.String(),
    "gateway": pl.String(),
    "orig_device": pl.String(),
    "dest_device": pl.String(),
    "transfer": pl.Boolean(),
    "forward": pl.Boolean(),
    "conference": pl.Boolean(),
}


def parse_local(text: pl.Expr, formats: Sequence[str]) -> pl.Expr:
    """Naive date-times from `text` (the first format that fits wins); null when none fits."""
    stripped = text.cast(pl.String).str.strip_chars()
    parsed = [stripped.str.to_datetime(fmt, time_unit="us", strict=False) for fmt in formats]
    return parsed[0] if len(parsed) == 1 else pl.coalesce(parsed)


def local_to_utc(
    naive: pl.Expr, timezone: str, *, ambiguous: Literal["earliest", "latest"] = "earliest"
) -> pl.Expr:
    """UTC (naive) for local times in `timezone`.

    A time in the autumn overlap is read as its first (summer-time) occurrence unless
    `ambiguous="latest"`; a time in the spring gap does not exist and becomes null, which
    `time_checks` turns into a reject.
    """
    return (
        naive.dt.replace_time_zone(timezone, ambiguous=ambiguous, non_existent="null")
        .dt.convert_time_zone("UTC")
        .dt.replace_time_zone(None)
    )


def local_to_utc_after(naive: pl.Expr, timezone: str, not_before: pl.Expr) -> pl.Expr:
    """Like `local_to_utc`, but an autumn-overlap time that would fall before `not_before`
    (a call that started in the first 02:xx and ended in the repeated one) takes its second
    occurrence."""
    early = local_to_utc(naive, timezone)
    late = local_to_utc(naive, timezone, ambiguous="latest")
    return pl.when(early < not_before).then(late).otherwise(early)


def blank(text: pl.Expr) -> pl.Expr:
    """True where a text column is null or only spaces."""
    return text.is_null() | (text.cast(pl.String).str.strip_chars() == "")


def time_checks(
    text: pl.Expr,
    label: str,
    formats: Sequence[str],
    timezone: str,
    *,
    required: bool,
) -> list[Check]:
    """Rejects for a local date-time column: empty (if required), unreadable, or in a DST gap."""
    naive = parse_local(text, formats)
    shown = " or ".join(repr(f) for f in formats)
    checks: list[Check] = []
    if required:
        checks.append((blank(text), "missing_time", f"{label} is empty"))
    checks += [
        (
            ~blank(text) & naive.is_null(),
            "bad_time",
            f"{label} is not a date-time in the format {shown}",
        ),
        (
            naive.is_not_null() & local_to_utc(naive, timezone).is_null(),
            "nonexistent_time",
            f"{label} is a local time that does not exist in {timezone} (the clocks went "
            "forward then); check ingest.source_timezone or the PBX clock",
        ),
    ]
    return checks


def stable_keys(frame: pl.DataFrame, columns: Sequence[str]) -> pl.Series:
    """A key per row that never changes between runs or library versions.

    The first 32 hex digits of the SHA-256 of the row's fields joined by a separator the parser
    never lets through (Polars' own `hash` differs between versions, so it cannot be a key).
    """
    text = frame.select(
        pl.concat_str(
            [pl.col(c).cast(pl.String).fill_null("") for c in columns],
            separator=_KEY_SEPARATOR,
        ).alias("text")
    ).with_row_index("i")
    with duckdb.connect() as con, registered(con, "_rows", text):
        keys = fetch_frame(con, "SELECT substr(sha256(text), 1, 32) AS k FROM _rows ORDER BY i")
    return keys.get_column("k").alias("record_key")


def strip_access_code(number: pl.Expr, codes: Sequence[str]) -> pl.Expr:
    """`number` without a leading outside-line access code (only when digits remain after it)."""
    result = number
    for code in sorted(codes, key=len, reverse=True):
        result = (
            pl.when(number.str.starts_with(code) & (number.str.len_chars() > len(code) + 2))
            .then(number.str.slice(len(code)))
            .otherwise(result)
        )
    return result


def is_extension(number: pl.Expr, dial: DialPlanSettings) -> pl.Expr:
    """True where `number` matches the installation's extension pattern (false when null)."""
    return number.fill_null("").str.contains(dial.extension_pattern)


def parties(
    calling: pl.Expr,
    called: pl.Expr,
    dial: DialPlanSettings,
    *,
    calling_trunk: pl.Expr | None = None,
    called_trunk: pl.Expr | None = None,
    answering: pl.Expr | None = None,
    direction: pl.Expr | None = None,
) -> dict[str, pl.Expr]:
    """Direction, extension, peer extension and remote number from the two numbers of a call.

    A side is internal when its number matches `dialplan.extension_pattern` and it did not come
    through a trunk (`calling_trunk` / `called_trunk`, when the format can tell). Internal caller
    and external callee: outgoing, the access code stripped into `remote_number`. Internal on both
    sides: internal. External caller: incoming — also when the called number is not an extension
    (a DID, or Asterisk's `s`), because the call still came in from outside; the one exception is
    a callee reached through a trunk from a caller that did not come through one (a call the PBX
    itself placed). `answering` is the extension that took the call when the format knows it
    (Asterisk's destination channel); it wins over the called number for incoming calls.
    `direction`, when the source states it, replaces the derived one.
    """
    no = pl.lit(False)
    calling_int = is_extension(calling, dial) & ~(
        calling_trunk if calling_trunk is not None else no
    )
    called_int = is_extension(called, dial) & ~(called_trunk if called_trunk is not None else no)
    placed_out = (
        (called_trunk & ~calling_trunk)
        if called_trunk is not None and calling_trunk is not None
        else no
    )
    if direction is None:
        direction = (
            pl.when(calling_int & called_int)
            .then(pl.lit("internal"))
            .when(calling_int | placed_out)
            .then(pl.lit("outgoing"))
            .otherwise(pl.lit("incoming"))
        )
    taker = called if answering is None else pl.coalesce(answering, called)
    none = pl.lit(None, pl.String)
    dialled = strip_access_code(called, dial.access_codes).str.replace_all("#", "", literal=True)
    return {
        "direction": direction,
        "extension": pl.when(direction == "incoming").then(taker).otherwise(calling),
        "peer_extension": pl.when(direction == "internal").then(taker).otherwise(none),
        "remote_number": pl.when(direction == "outgoing")
        .then(dialled)
        .when(direction == "incoming")
        .then(calling)
        .otherwise(none),
    }


def call_frame(frame: pl.DataFrame, columns: dict[str, pl.Expr]) -> pl.DataFrame:
    """The engine's `calls` frame: every `CALL_SCHEMA` column, typed, missing ones null/false."""
    exprs: list[pl.Expr] = []
    for name, dtype in CALL_SCHEMA.items():
        if name in columns:
            exprs.append(columns[name].cast(dtype).alias(name))
        elif dtype == pl.Boolean():
            exprs.append(pl.lit(False).alias(name))
        else:
            exprs.append(pl.lit(None, dtype).alias(name))
    return frame.select(exprs)
