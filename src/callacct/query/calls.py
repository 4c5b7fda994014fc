"""List calls with filters, shown in a reference time zone, within the reader's scope.

Every read is limited by a `Scope` (what the person may see, F-ACCESS-1): its predicate is ANDed
to the filters, so no filter can widen it, and external numbers are masked as the scope says
(F-ACCESS-3) before any output sees them.

Example:
    >>> CallFilter(extensions=("2001",), last=20).extensions
    ('2001',)
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TextIO
from zoneinfo import ZoneInfo

import duckdb
import polars as pl

from callacct.call_codes import DEST_CLASSES, DIRECTIONS, DISPOSITIONS, FREE_CLASSES
from callacct.errors import UsageError
from callacct.formats import json_rows, write_json_array
from callacct.i18n import Message
from callacct.query.masking import mask_calls, shown_number_sql
from callacct.query.scope import Scope
from callacct.store import fetch_frame, scalar

# The keys of `callacct calls --json`, in order: scripts read them, so they only grow.
CALL_COLUMNS = (
    "call_id",
    "started_at",
    "answered_at",
    "ended_at",
    "direction",
    "answered",
    "disposition",
    "extension",
    "peer_extension",
    "remote_number",
    "calling_number",
    "called_number",
    "final_number",
    "duration_s",
    "ring_s",
    "cost",
    "currency",
    "dest_class",
    "dest_country",
    "gateway",
    "user",
    "department",
    "cost_center",
    "site",
    "peer_user",
    "undefined_extension",
    "transfer",
    "forward",
    "conference",
    "mos",
    "jitter_ms",
    "latency_ms",
    "loss_pct",
    "source",
    "global_call_id",
)


#: A moment or a day: a date-time (naive ones in the reading's time zone), a date, or the text
#: of one (`2026-11-30`, `2026-11-30T14:00`).
When = dt.datetime | dt.date | str


@dataclass(frozen=True)
class CallFilter:
    """What `callacct calls` can ask for. `start` and `end` are days or date-times in the
    reading's time zone: a day as `end` is included whole, a date-time is where it stops."""

    start: When | None = None
    end: When | None = None
    extensions: tuple[str, ...] = ()
    directions: tuple[str, ...] = ()
    dispositions: tuple[str, ...] = ()
    number: str | None = None
    dest_classes: tuple[str, ...] = ()
    unpriced: bool = False
    last: int | None = None


def parse_when(text: When, tz: ZoneInfo, *, end: bool = False) -> dt.datetime:
    """A date or date-time in `tz`; an end date means the end of that day.

    >>> parse_when("2026-03-01", ZoneInfo("UTC"), end=True).isoformat()
    '2026-03-02T00:00:00+00:00'
    >>> parse_when(dt.date(2026, 3, 1), ZoneInfo("UTC")).isoformat()
    '2026-03-01T00:00:00+00:00'
    """
    if isinstance(text, dt.datetime):
        value = text
    elif isinstance(text, dt.date):
        start = dt.datetime.combine(text, dt.time(), tzinfo=tz)
        return start + dt.timedelta(days=1) if end else start
    else:
        try:
            if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
                return parse_when(dt.date.fromisoformat(text), tz, end=end)
            value = dt.datetime.fromisoformat(text)
        except ValueError:
            raise UsageError(Message("error.not_a_date", value=repr(text))) from None
    return value if value.tzinfo else value.replace(tzinfo=tz)


def time_range(
    start: When | None, end: When | None, tz: ZoneInfo
) -> tuple[dt.datetime | None, dt.datetime | None]:
    """[start, end) of a `--from`/`--to` pair (days or date-times in `tz`, the end day
    included); `UsageError` if the range is empty or reversed, which would match nothing.

    >>> [t.isoformat() for t in time_range("2026-11-01", "2026-11-30", ZoneInfo("UTC"))]
    ['2026-11-01T00:00:00+00:00', '2026-12-01T00:00:00+00:00']
    >>> time_range("2026-12-01", "2026-11-01", ZoneInfo("UTC"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    callacct.errors.UsageError: from 2026-12-01 to 2026-11-01 is an empty range: ...
    """
    first = parse_when(start, tz) if start else None
    after = parse_when(end, tz, end=True) if end else None
    if first is not None and after is not None and after <= first:
        raise UsageError(Message("error.empty_range", start=start, end=end))
    return first, after


def _utc_naive(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.UTC).replace(tzinfo=None)


def query_calls(
    con: duckdb.DuckDBPyConnection, flt: CallFilter, tz: ZoneInfo, *, scope: Scope
) -> tuple[pl.DataFrame, int]:
    """Matching calls in `scope` (oldest first; the most recent `last` if set), numbers masked
    for the scope, and the total matched."""
    first, after = time_range(flt.start, flt.end, tz)
    scope_sql, scope_params = scope.predicate()
    where: list[str] = [scope_sql]
    params: list[Any] = list(scope_params)
    if first is not None:
        where.append("started_at >= ?")
        params.append(_utc_naive(first))
    if after is not None:
        where.append("started_at < ?")
        params.append(_utc_naive(after))
    if flt.extensions:
        where.append(
            "(extension IN (SELECT unnest(?::VARCHAR[])) "
            "OR peer_extension IN (SELECT unnest(?::VARCHAR[])))"
        )
        params += [list(flt.extensions), list(flt.extensions)]
    for column, values, allowed, what in (
        ("direction", flt.directions, DIRECTIONS, "direction"),
        ("disposition", flt.dispositions, DISPOSITIONS, "result"),
        ("dest_class", flt.dest_classes, DEST_CLASSES, "class"),
    ):
        if values:
            bad = [v for v in values if v not in allowed]
            if bad:
                raise UsageError(f"unknown {what} {bad[0]!r}; use {', '.join(allowed)}")
            where.append(f"{column} IN (SELECT unnest(?::VARCHAR[]))")
            params.append(list(values))
    if flt.number:
        digits = re.sub(r"[^0-9*#+]", "", flt.number)
        if not digits:
            raise UsageError(f"{flt.number!r} is not a phone number")
        # The whole number as stored; a part of it only against the number as the reader
        # sees it (masked digits would otherwise be read by trying endings).
        shown = shown_number_sql("remote_number", scope.mask_digits)
        where.append(
            "(? IN (remote_number, calling_number, called_number, final_number) "
            f"OR (length(?) >= 6 AND ends_with({shown}, ?)))"
        )
        params += [digits, digits.lstrip("+"), digits.lstrip("+")]
    if flt.unpriced:
        # The same rule as rating's `unpriced`: answered outgoing, no rate, not free by nature.
        where.append(
            "direction = 'outgoing' AND answered AND rate_prefix IS NULL "
            "AND dest_class NOT IN (SELECT unnest(?::VARCHAR[]))"
        )
        params.append(list(FREE_CLASSES))
    clause = "WHERE " + " AND ".join(where)
    # `clause` is built from constant fragments above; values are bound parameters.
    total = int(scalar(con, f"SELECT count(*) FROM calls {clause}", params))  # noqa: S608
    limit = ""
    if flt.last is not None:
        limit = "LIMIT ?"
    sql = f"""
        SELECT * FROM (
            SELECT call_id, started_at, answered_at, ended_at, direction, answered, disposition,
                   extension, peer_extension, remote_number, calling_number, called_number,
                   final_number, duration_s, ring_s, cost, currency, dest_class, dest_country,
                   gateway, user_login AS "user", department, cost_center, site,
                   peer_login AS peer_user, undefined_extension, transfer,
                   forward, conference, mos, jitter_ms, latency_ms, loss_pct, source,
                   global_call_id
            FROM calls {clause}
            ORDER BY started_at DESC, call_id DESC {limit}
        ) ORDER BY started_at, call_id
    """  # noqa: S608
    frame = fetch_frame(con, sql, params + ([flt.last] if flt.last is not None else []))
    frame = frame.with_columns(
        pl.col(c).dt.replace_time_zone("UTC").dt.convert_time_zone(str(tz))
        for c in ("started_at", "answered_at", "ended_at")
    )
    return mask_calls(frame, scope.mask_digits), total


def call_in_scope(con: duckdb.DuckDBPyConnection, call_id: int, scope: Scope) -> bool:
    """Whether call `call_id` exists and `scope` may see it: the check for every read of one
    call by id (an explanation, a detail view), so an id cannot reach outside the scope."""
    scope_sql, scope_params = scope.predicate()
    sql = f"SELECT count(*) FROM calls WHERE call_id = ? AND {scope_sql}"  # noqa: S608
    return int(scalar(con, sql, [call_id, *scope_params])) > 0


def calls_json_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """The `CALL_COLUMNS` of `frame` in order (null where it has none), for JSON output."""
    return frame.select(
        pl.col(key) if key in frame.columns else pl.lit(None).alias(key) for key in CALL_COLUMNS
    )


def write_calls_json(frame: pl.DataFrame, out: TextIO) -> None:
    """Calls as a JSON array, converted by column and written in batches (any number)."""
    write_json_array(calls_json_frame(frame), out, money=("cost",))
    out.write("\n")


def calls_as_json(frame: pl.DataFrame) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts: times ISO 8601 with offset, money as a decimal string."""
    return [json.loads(line) for line in json_rows(calls_json_frame(frame), money=("cost",))]


def call_source(
    con: duckdb.DuckDBPyConnection, call_id: int, scope: Scope
) -> tuple[int, int, str] | None:
    """Where call `call_id` was read from (file id, line, file path), if it exists and `scope`
    may see it: the way to a call's raw record, checked like every read of one call by id."""
    scope_sql, scope_params = scope.predicate()
    # The scope's predicate is constant text; the values are parameters.
    sql = (
        "SELECT c.file_id, c.line_no, f.path FROM calls c JOIN ingest_files f "  # noqa: S608
        f"USING (file_id) WHERE c.call_id = ? AND {scope_sql}"
    )
    rows = con.execute(sql, [call_id, *scope_params]).fetchall()
    if not rows:
        return None
    file_id, line_no, path = rows[0]
    return int(file_id), int(line_no), str(path)


@dataclass(frozen=True)
class CallSummary:
    """Counts and sums of the calls in a scope over a period."""

    answered: int
    not_answered: int
    average_talk_s: int | None
    cost: dict[str, Decimal]  # currency -> total cost of the calls `made_by` made


def summarise_calls(
    con: duckdb.DuckDBPyConnection,
    scope: Scope,
    *,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    made_by: str | None = None,
) -> CallSummary:
    """How many calls in `scope` started in [`start`, `end`) were answered or not, their
    average talk time, and the cost per currency of those of them that `made_by` made (every
    one of them when None)."""
    scope_sql, params = scope.predicate()
    where = [scope_sql]
    if start is not None:
        where.append("started_at >= ?")
        params.append(_utc_naive(start))
    if end is not None:
        where.append("started_at < ?")
        params.append(_utc_naive(end))
    clause = " AND ".join(where)
    # `clause` is the scope's predicate and constant fragments; values are parameters.
    summary_sql = (
        "SELECT count(*) FILTER (WHERE answered), count(*) FILTER (WHERE NOT answered), "  # noqa: S608
        "CAST(round(avg(duration_s) FILTER (WHERE answered)) AS BIGINT) "
        f"FROM calls WHERE {clause}"
    )
    answered, missed, talk = con.execute(summary_sql, params).fetchall()[0]
    made = "" if made_by is None else " AND user_login = ?"
    costs = con.execute(
        f"SELECT currency, sum(cost) FROM calls WHERE {clause}{made} "  # noqa: S608
        "AND cost IS NOT NULL AND currency IS NOT NULL GROUP BY currency ORDER BY currency",
        [*params, *([] if made_by is None else [made_by])],
    ).fetchall()
    return CallSummary(
        answered=int(answered),
        not_answered=int(missed),
        average_talk_s=None if talk is None else int(talk),
        cost={str(cur): Decimal(amount) for cur, amount in costs},
    )


def unfinished_calls(con: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    """How many calls are stored but not attributed yet, and how many not rated yet (an
    ingest storing them now, or one stopped before it finished; see `callacct.api`)."""
    # Conditions (not FILTER clauses): DuckDB then skips every row group whose statistics say
    # it has no NULL there, so on a store of finished calls this reads almost nothing (every
    # read asks it).
    row = con.execute(
        "SELECT (SELECT count(*) FROM calls WHERE undefined_extension IS NULL), "
        "(SELECT count(*) FROM calls WHERE dest_class IS NULL)"
    ).fetchall()[0]
    return int(row[0]), int(row[1])
