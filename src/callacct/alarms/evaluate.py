"""Evaluating an alarm: DuckDB SQL over the calls that arrived since its last evaluation.

An evaluation covers a window of call ids — calls are numbered in the order they arrive, so
the window (watermark, upto] holds exactly the calls loaded since the last evaluation,
whatever their call time: a late CDR is seen once, nothing twice. Every query ANDs the
owner's `Scope` (the query layer's one predicate), so an alarm never sees more than its
owner may, and shows numbers masked as its owner sees them. Period kinds (spend, missed
calls) look at the whole periods the new calls fall in and fire once per threshold per
period (`marks` remember what fired). The feed alarm reads the ingest ledger, not calls.

Every kind is one or two SQL statements over columns; nothing loops over calls in Python.
DuckDB writes the rows kept as JSON (`to_json`), ready to be stored.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import Any, Final
from zoneinfo import ZoneInfo

import duckdb
import phonenumbers

from callacct.alarms.hours import week_minute_sql
from callacct.alarms.kinds import (
    DeadFeedParams,
    ForbiddenNumbersParams,
    InternationalParams,
    MissedCallsParams,
    OutOfHoursParams,
    SpendAboveParams,
    UndefinedExtensionsParams,
    UnknownDestinationsParams,
)
from callacct.alarms.localtime import local_sql
from callacct.alarms.spec import Alarm, Watch
from callacct.config import Settings
from callacct.query.masking import shown_number_sql
from callacct.query.scope import Scope

#: Rows kept with an event (and mailed); `found` counts them all.
MAX_ROWS: Final = 1000

#: The columns of an event about calls.
CALL_COLUMNS: Final = (
    "call_id",
    "started_at",
    "extension",
    "user",
    "department",
    "direction",
    "number",
    "dest_class",
    "dest_country",
    "duration_s",
    "cost",
    "currency",
)


@dataclass(frozen=True)
class Context:
    """What an evaluation needs: the store's connection, settings, the owner's scope, the
    moment (aware), and the reference time zone rows are shown in; `spans` may be shared by
    the evaluations of one run (a window's span is read once, whoever the owner)."""

    con: duckdb.DuckDBPyConnection
    settings: Settings
    scope: Scope
    now: dt.datetime
    zone: ZoneInfo
    spans: dict[Window, Span | None] = field(default_factory=dict)


@dataclass(frozen=True)
class Firing:
    """What one evaluation found: the period (period kinds), a summary, the rows kept (a
    JSON array, at most `MAX_ROWS`), how many were found in all, the marks that keep it from
    firing again, and the logins of the people concerned (for mailing their supervisors)."""

    summary: str
    columns: tuple[str, ...]
    rows_json: str
    found: int
    period: str | None = None
    marks: tuple[str, ...] = ()
    logins: tuple[str, ...] = ()

    @cached_property
    def rows(self) -> list[dict[str, Any]]:
        """The rows kept, as dicts."""
        rows: list[dict[str, Any]] = json.loads(self.rows_json)
        return rows


@dataclass(frozen=True)
class Window:
    """Calls whose id is in (after, upto]: those that arrived since the last evaluation."""

    after: int
    upto: int

    @property
    def empty(self) -> bool:
        return self.upto <= self.after


def last_finished_call(con: duckdb.DuckDBPyConnection, after: int) -> int:
    """The highest call id up to which every call after `after` is attributed and rated (a
    call an ingest has not finished waits for the next evaluation, not skipped)."""
    row = con.execute(
        "SELECT (SELECT min(call_id) FROM calls WHERE call_id > ? "
        "AND (undefined_extension IS NULL OR dest_class IS NULL)), "
        "(SELECT coalesce(max(call_id), 0) FROM calls)",
        [after],
    ).fetchall()[0]
    first_unfinished, last = row
    return int(last) if first_unfinished is None else int(first_unfinished) - 1


def evaluate(alarm: Alarm, ctx: Context, window: Window, fired: set[str]) -> list[Firing]:
    """What `alarm` finds in `window` (none: it stays silent). `fired`: the marks of its
    earlier firings, which never fire again (period kinds find theirs in `alarm_events`,
    for the periods at hand only)."""
    params = alarm.params
    if isinstance(params, DeadFeedParams):
        return _dead_feed(params, ctx, fired)
    span = _span(ctx, window)
    if span is None:
        return []
    if isinstance(params, SpendAboveParams):
        return _spend_above(params, alarm, ctx, window, span)
    if isinstance(params, MissedCallsParams):
        return _missed_calls(params, alarm, ctx, window, span)
    condition, values, summary, min_count = _call_condition(params, ctx)
    source: tuple[str, list[Any]] = ("calls", [])
    if isinstance(params, OutOfHoursParams):
        local, local_params = _site_local(ctx, span, params.hours.timezone)
        # The expression is callacct's constant text; zones and moments are parameters.
        relation = (
            f"(SELECT *, {week_minute_sql('local_start')} AS week_minute, "  # noqa: S608
            "CAST(local_start AS DATE) AS local_day "
            f"FROM (SELECT *, {local} AS local_start FROM calls)) AS calls"
        )
        source = (relation, local_params)
    return _calls_found(
        alarm.scope, ctx, window, span, source, (condition, values), summary, min_count
    )


@dataclass(frozen=True)
class Span:
    """The start times of the calls an evaluation reads (naive UTC), with the margin the
    periods around them need."""

    first: dt.datetime
    last: dt.datetime

    def widened(self) -> tuple[dt.datetime, dt.datetime]:
        return self.first - _SPAN_MARGIN, self.last + _SPAN_MARGIN


#: Wide enough for the whole months, weeks or days around the calls of a window.
_SPAN_MARGIN: Final = dt.timedelta(days=40)
#: How far from the window's calls the periods they fall in reach (a prefilter; the exact
#: period is grouped on local time).
_PERIOD_REACH: Final = {"day": 2, "week": 8, "month": 32}


def _span(ctx: Context, window: Window) -> Span | None:
    if window.empty:
        return None
    if window not in ctx.spans:
        first, last = ctx.con.execute(
            "SELECT min(started_at), max(started_at) FROM calls WHERE call_id > ? AND call_id <= ?",
            [window.after, window.upto],
        ).fetchall()[0]
        ctx.spans[window] = None if first is None else Span(first, last)
    return ctx.spans[window]


def _reference_local(ctx: Context, span: Span) -> tuple[str, list[Any]]:
    """A call's start in the reference zone (rows and periods are shown in it)."""
    return local_sql(*span.widened(), ctx.zone.key)


def _site_local(ctx: Context, span: Span, timezone: str) -> tuple[str, list[Any]]:
    """A call's start in `timezone` if given, else in its site's zone (`[sites.NAME]
    timezone`), else in the workspace's."""
    default = timezone or ctx.settings.general.timezone
    sites = {
        name: site.timezone
        for name, site in ctx.settings.sites.items()
        if site.timezone and site.timezone != default
    }
    return local_sql(*span.widened(), default, None if timezone else sites)


# -- kinds that list calls ---------------------------------------------------------------------


def _call_condition(params: Any, ctx: Context) -> tuple[str, list[Any], str, int]:
    """(SQL condition, its parameters, summary template, minimum count) of a call kind."""
    values: list[Any]
    if isinstance(params, OutOfHoursParams):
        working, values = params.hours.sql_on("week_minute", "local_day")
        # The cheap conditions first: DuckDB checks them in order, the hours on fewer rows.
        parts = []
        if params.outgoing_only:
            parts.append("direction = 'outgoing'")
        if params.external_only:
            parts.append("direction <> 'internal'")
        parts.append(f"NOT {working}")
        return " AND ".join(parts), values, "{n} call(s) outside working hours", 1
    if isinstance(params, ForbiddenNumbersParams):
        condition, values = _forbidden_sql(params, ctx.settings.general.country)
        return condition, values, "{n} call(s) to forbidden numbers", 1
    if isinstance(params, InternationalParams):
        parts = ["direction = 'outgoing'", "dest_class = 'international'"]
        values = []
        if params.min_duration_s:
            parts.append("duration_s >= ?")
            values.append(params.min_duration_s)
        if params.min_cost:
            parts.append("cost >= ?")
            values.append(params.min_cost)
        if params.countries:
            parts.append("dest_country IN (SELECT unnest(?::VARCHAR[]))")
            values.append(list(params.countries))
        return " AND ".join(parts), values, "{n} international call(s)", 1
    if isinstance(params, UnknownDestinationsParams):
        return (
            "direction = 'outgoing' AND dest_class = 'unknown'",
            [],
            "{n} outgoing call(s) to unrecognised destinations",
            params.min_count,
        )
    if isinstance(params, UndefinedExtensionsParams):
        return (
            "undefined_extension",
            [],
            "{n} call(s) from or to undefined extensions",
            params.min_count,
        )
    raise TypeError(f"no evaluation for {type(params).__name__}")


def _calls_found(
    watch: Watch,
    ctx: Context,
    window: Window,
    span: Span,
    source: tuple[str, list[Any]],
    condition: tuple[str, list[Any]],
    summary: str,
    min_count: int,
) -> list[Firing]:
    """One pass counts the calls found and takes the ids of the first `MAX_ROWS`; a second
    reads only those calls (the columns of the rows, for the ids' range of row groups)."""
    where, params = _base_where(watch, ctx.scope, window)
    relation, relation_params = source
    clause = f"{where} AND ({condition[0]})"
    params = [*relation_params, *params, *condition[1]]
    # Fragments are callacct's constants; values are bound parameters.
    count_sql = f"SELECT count(*), min(call_id, {MAX_ROWS}) FROM {relation} WHERE {clause}"  # noqa: S608
    count, ids = con_row(ctx.con, count_sql, params)
    if not count or int(count) < min_count:
        return []
    rows_json, logins = _call_rows(ctx, span, sorted(ids))
    return [
        Firing(
            summary=summary.format(n=int(count)),
            columns=CALL_COLUMNS,
            rows_json=rows_json,
            found=int(count),
            logins=tuple(logins or ()),
        )
    ]


def _call_rows(ctx: Context, span: Span, ids: list[int]) -> tuple[str, list[str] | None]:
    """The calls `ids` as a JSON array (by id; numbers as the owner sees them, times in the
    reference zone, money as exact text), and the logins among them, sorted."""
    number = shown_number_sql("remote_number", ctx.scope.mask_digits)
    local, local_params = _reference_local(ctx, span)
    sql = f"""
        SELECT to_json(list({{
                   'call_id': call_id,
                   'started_at': strftime({local}, '{_ISO_SECONDS}'),
                   'extension': extension, 'user': user_login, 'department': department,
                   'direction': direction, 'number': {number}, 'dest_class': dest_class,
                   'dest_country': dest_country, 'duration_s': duration_s,
                   'cost': {_money_sql("cost")}, 'currency': currency
               }} ORDER BY call_id)),
               list_sort(list(DISTINCT user_login) FILTER (WHERE user_login <> ''))
        FROM calls
        WHERE call_id >= ? AND call_id <= ? AND call_id IN (SELECT unnest(?::BIGINT[]))
    """  # noqa: S608
    rows_json, logins = con_row(ctx.con, sql, [*local_params, ids[0], ids[-1], ids])
    return str(rows_json), logins


# -- period kinds -------------------------------------------------------------------------------

_TRUNC: Final = {"day": "day", "week": "week", "month": "month"}


def _spend_above(
    params: SpendAboveParams, alarm: Alarm, ctx: Context, window: Window, span: Span
) -> list[Firing]:
    group = {"person": "user_login", "department": "department", "cost_center": "cost_center"}[
        params.per
    ]
    limits = sorted(params.amount.items())
    local, local_params = _reference_local(ctx, span)
    where, where_params = _scope_where(alarm.scope, ctx.scope)
    label = _LABEL[params.period]
    spent, limit = _money_sql("total"), _money_sql("lim")
    row = (
        f"{{'{params.per}': who, 'period': label, 'spent': {spent}, 'limit': {limit}, "
        "'currency': currency, 'calls': calls}"
    )
    login = "who" if params.per == "person" else "NULL::VARCHAR"
    tail = _per_period(row, "total DESC, who, currency, lim", login)
    new_where, new_params = _base_where(alarm.scope, ctx.scope, window)
    day = f"CAST({local} AS DATE)"
    trunc = f"date_trunc('{_TRUNC[params.period]}', day)"
    # The (group, period) pairs the window's calls touch, then the totals of those groups
    # over the periods' calls (the pairs are few: cheaper than one pass marking them). Calls
    # are summed per local day first, the periods made of the days: a date per call is
    # cheaper than truncating each call's time to its week or month.
    sql = f"""
        WITH new_days AS (
            SELECT DISTINCT {group} AS who, {day} AS day FROM calls
            WHERE {new_where} AND cost IS NOT NULL AND {group} IS NOT NULL
        ),
        new AS (SELECT DISTINCT who, {trunc} AS p FROM new_days),
        days AS (
            SELECT {group} AS who, {day} AS day, currency, sum(cost) AS total,
                   count(*) AS calls
            FROM calls
            WHERE {where} AND started_at >= ? AND started_at < ? AND cost IS NOT NULL
                  AND currency IS NOT NULL AND {group} IN (SELECT who FROM new)
            GROUP BY ALL
        ),
        totals AS (
            SELECT who, {trunc} AS p, currency, sum(total) AS total,
                   CAST(sum(calls) AS BIGINT) AS calls
            FROM days GROUP BY ALL
        ),
        limits AS (SELECT unnest(?::VARCHAR[]) AS currency, unnest(?::DECIMAL(18, 6)[]) AS lim),
        over AS (
            SELECT strftime(t.p, '{label}') AS label, t.who, t.currency, t.total, l.lim, t.calls
            FROM totals t JOIN new USING (who, p) JOIN limits l USING (currency)
            WHERE t.total > l.lim
        ),
        marked AS (
            SELECT *, concat_ws('|', label, who, currency, CAST(lim AS VARCHAR)) AS mark
            FROM over
        )
        {tail}
    """  # noqa: S608
    first, last = _period_bounds(span, params.period)
    rows = ctx.con.execute(
        sql,
        [
            *local_params,
            *new_params,
            *local_params,
            *where_params,
            first,
            last,
            [c for c, _ in limits],
            [a for _, a in limits],
            alarm.name,
        ],
    ).fetchall()
    return _by_period(
        rows,
        (params.per, "period", "spent", "limit", "currency", "calls"),
        f"{{n}} {params.per.replace('_', ' ')}(s) above the spending limit in {{period}}",
    )


def _missed_calls(
    params: MissedCallsParams, alarm: Alarm, ctx: Context, window: Window, span: Span
) -> list[Firing]:
    # The side that missed the call: ours on an incoming call, the called side on an
    # internal one (its holder, not the caller, is the person concerned).
    ext = (
        "CASE WHEN direction = 'incoming' THEN extension "
        "WHEN direction = 'internal' THEN peer_extension END"
    )
    holder = (
        "CASE WHEN direction = 'incoming' THEN user_login "
        "WHEN direction = 'internal' THEN peer_login END"
    )
    condition = "NOT answered AND direction IN ('incoming', 'internal')"
    values: list[Any] = []
    if params.extensions:
        condition += f" AND {ext} IN (SELECT unnest(?::VARCHAR[]))"
        values.append(list(params.extensions))
    local, local_params = _reference_local(ctx, span)
    # A date per call (its local day) is cheaper than a truncated time.
    day = f"CAST({local} AS DATE)"
    trunc = day if params.period == "day" else f"date_trunc('{_TRUNC[params.period]}', {day})"
    where, where_params = _scope_where(alarm.scope, ctx.scope)
    label = _LABEL[params.period]
    row = "{'extension': who, 'user': login, 'period': label, 'missed': missed}"
    tail = _per_period(row, "missed DESC, who", "login")
    # One pass over the periods' calls: the count per (extension, period), kept when a call
    # of the window falls in it and the count is above the threshold.
    sql = f"""
        WITH counts AS (
            SELECT {ext} AS who, {trunc} AS p, count(*) AS missed,
                   any_value({holder}) AS login
            FROM calls
            WHERE {where} AND started_at >= ? AND started_at < ? AND {condition}
                  AND {ext} IS NOT NULL
            GROUP BY ALL
            HAVING bool_or(call_id > ? AND call_id <= ?) AND count(*) > ?
        ),
        marked AS (
            SELECT strftime(p, '{label}') AS label, who, missed, login,
                   concat_ws('|', strftime(p, '{label}'), who, ?) AS mark
            FROM counts
        )
        {tail}
    """  # noqa: S608
    first, last = _period_bounds(span, params.period)
    rows = ctx.con.execute(
        sql,
        [
            *local_params,
            *where_params,
            first,
            last,
            *values,
            window.after,
            window.upto,
            params.more_than,
            str(params.more_than),
            alarm.name,
        ],
    ).fetchall()
    return _by_period(
        rows,
        ("extension", "user", "period", "missed"),
        f"{{n}} extension(s) with more than {params.more_than} missed calls in {{period}}",
    )


#: The text of a period: a day 2026-11-30, an ISO week 2026-W49, a month 2026-11.
_LABEL: Final = {"day": "%Y-%m-%d", "week": "%G-W%V", "month": "%Y-%m"}
#: The marks of an alarm's earlier firings, for the periods at hand (its name the parameter).
_FIRED: Final = (
    "SELECT unnest(e.marks) FROM alarm_events e WHERE e.alarm = ? "
    "AND e.period IN (SELECT label FROM marked)"
)


def _per_period(row: str, order: str, login: str) -> str:
    """The end of a period kind's statement, over its CTE `marked` (label, mark, and what
    `row`, `order` and `login` name): per period not fired yet, how many, their marks, the
    first `MAX_ROWS` as a JSON array (`row`: a struct), and the logins concerned."""
    return f"""
        SELECT label, count(*), list(mark ORDER BY {order}),
               to_json(list({row} ORDER BY {order})[:{MAX_ROWS}]),
               list_sort(list(DISTINCT {login}) FILTER (WHERE {login} <> ''))
        FROM marked
        WHERE mark NOT IN ({_FIRED})
        GROUP BY label
        ORDER BY label
    """  # noqa: S608


def _period_bounds(span: Span, period: str) -> tuple[dt.datetime, dt.datetime]:
    """A UTC range holding every period the window's calls fall in."""
    reach = dt.timedelta(days=_PERIOD_REACH[period])
    return span.first - reach, span.last + reach + dt.timedelta(days=1)


def _by_period(rows: list[tuple[Any, ...]], columns: tuple[str, ...], summary: str) -> list[Firing]:
    """A firing per period from `_per_period`'s rows."""
    return [
        Firing(
            summary=summary.format(n=int(found), period=label),
            columns=columns,
            rows_json=str(rows_json),
            found=int(found),
            period=label,
            marks=tuple(marks),
            logins=tuple(logins or ()),
        )
        for label, found, marks, rows_json, logins in rows
    ]


# -- the feed -----------------------------------------------------------------------------------


def _dead_feed(params: DeadFeedParams, ctx: Context, fired: set[str]) -> list[Firing]:
    """No call records for `minutes` of working time, checked in working hours: the moment
    of the newest file that brought calls, from the ingest ledger; files read since that held
    none count as silence, and so does no ingest at all. Fires once per silence (its start is
    the mark)."""
    zone = ZoneInfo(params.hours.timezone) if params.hours.timezone else ctx.zone
    local_now = ctx.now.astimezone(zone).replace(tzinfo=None)
    if not params.hours.is_working(local_now):
        return []
    last_call, files_since, last_run = ctx.con.execute(
        "WITH newest AS (SELECT max(file_id) AS file_id FROM calls) "
        "SELECT (SELECT f.finished_at FROM ingest_files f, newest n WHERE f.file_id = n.file_id), "
        "(SELECT count(*) FROM ingest_files f WHERE f.status = 'done' AND f.file_id > "
        " coalesce((SELECT file_id FROM newest), 0)), "
        "(SELECT max(finished_at) FROM ingest_files WHERE status = 'done')"
    ).fetchall()[0]
    since = last_call
    working = None
    if since is not None:
        # Only working time counts: a feed is silent at night and at weekends.
        working = params.hours.working_minutes(_local_moment(since, zone), local_now)
        if working < params.minutes:
            return []
    mark = f"silent-since|{since.isoformat() if since else 'never'}"
    if mark in fired:
        return []
    minutes = None if working is None else int(working)
    row = {
        "last_records_at": _shown_time(since, ctx.zone),
        "minutes_without": minutes,
        "files_without_records": int(files_since),
        "last_ingest_at": _shown_time(last_run, ctx.zone),
    }
    summary = (
        "no call records received yet"
        if since is None
        else f"no call records received for {minutes} working minutes"
    )
    return [Firing(summary, tuple(row), json.dumps([row], ensure_ascii=False), 1, marks=(mark,))]


# -- SQL pieces ---------------------------------------------------------------------------------


def _scope_where(watch: Watch, scope: Scope) -> tuple[str, list[Any]]:
    scope_sql, params = scope.predicate()
    parts = [scope_sql]
    params = list(params)
    if not watch.is_everything():
        watched: list[str] = []
        for values, columns in (
            (watch.departments, ("department", "peer_department")),
            (watch.cost_centers, ("cost_center", "peer_cost_center")),
            (watch.sites, ("site", "peer_site")),
            (watch.extensions, ("extension", "peer_extension")),
            (watch.people, ("user_login", "peer_login")),
        ):
            if values:
                for column in columns:
                    watched.append(f"{column} IN (SELECT unnest(?::VARCHAR[]))")
                    params.append(list(values))
        parts.append("(" + " OR ".join(watched) + ")")
    return " AND ".join(parts), params


def _base_where(watch: Watch, scope: Scope, window: Window) -> tuple[str, list[Any]]:
    where, params = _scope_where(watch, scope)
    return f"call_id > ? AND call_id <= ? AND {where}", [window.after, window.upto, *params]


def _forbidden_sql(params: ForbiddenNumbersParams, country: str) -> tuple[str, list[Any]]:
    """Outgoing calls whose number (E.164, or as dialled) is listed, begins with a listed
    prefix, or matches a listed pattern."""
    numbers = sorted({form for number in params.numbers for form in number_forms(number, country)})
    prefixes = sorted({e164_prefix(prefix, country) for prefix in params.prefixes})
    parts: list[str] = []
    values: list[Any] = []
    if numbers:
        parts.append(
            "(remote_number IN (SELECT unnest(?::VARCHAR[])) "
            "OR remote_dialled IN (SELECT unnest(?::VARCHAR[])))"
        )
        values += [numbers, numbers]
    for prefix in prefixes:
        parts.append("starts_with(remote_number, ?)")
        values.append(prefix)
    if params.patterns:
        parts.append("regexp_matches(remote_number, ?)")
        values.append("|".join(f"(?:{p})" for p in params.patterns))
    return f"direction = 'outgoing' AND ({' OR '.join(parts)})", values


def number_forms(number: str, country: str) -> set[str]:
    """A listed number in the forms a call may hold it: E.164 when it is one, and its digits.

    >>> sorted(number_forms("01 23 45 67 89", "FR"))
    ['+33123456789', '0123456789']
    """
    digits = "".join(ch for ch in number if ch.isdigit() or ch == "+")
    forms = {digits}
    try:
        parsed = phonenumbers.parse(number, country)
    except phonenumbers.NumberParseException:
        return forms
    if phonenumbers.is_possible_number(parsed):
        forms.add(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))
    return forms


def e164_prefix(prefix: str, country: str) -> str:
    """A listed number beginning in E.164: `+...` as given, the international prefix turned
    into `+`, the national prefix into the country code.

    >>> e164_prefix("0899", "FR"), e164_prefix("00 44 9", "FR"), e164_prefix("+1 900", "FR")
    ('+33899', '+449', '+1900')
    """
    digits = "".join(ch for ch in prefix if ch.isdigit() or ch == "+")
    if digits.startswith("+"):
        return digits
    meta = phonenumbers.PhoneMetadata.metadata_for_region(country)
    code = phonenumbers.country_code_for_region(country)
    international = (
        (meta.preferred_international_prefix or meta.international_prefix or "") if meta else ""
    )
    if international and international.isdigit() and digits.startswith(international):
        return "+" + digits[len(international) :]
    national = (meta.national_prefix or "") if meta else ""
    if national and digits.startswith(national):
        return f"+{code}{digits[len(national) :]}"
    return f"+{code}{digits}"


def con_row(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> tuple[Any, ...]:
    row: tuple[Any, ...] = con.execute(sql, params).fetchall()[0]
    return row


def _money(value: Decimal | None) -> str | None:
    return None if value is None else format(Decimal(value).normalize(), "f")


#: A moment as ISO 8601 to the second (`strftime`), as `isoformat(timespec="seconds")`.
_ISO_SECONDS: Final = "%Y-%m-%dT%H:%M:%S"


def _money_sql(column: str) -> str:
    """SQL of a DECIMAL column (a scale above 0, as money has) as exact text without trailing
    zeros, as `_money` writes it: 1.080000 -> '1.08', 500.000000 -> '500'."""
    return f"rtrim(rtrim(CAST({column} AS VARCHAR), '0'), '.')"


def _local_moment(value: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """A naive UTC moment as naive local time in `zone`."""
    return value.replace(tzinfo=dt.UTC).astimezone(zone).replace(tzinfo=None)


def _shown_time(value: dt.datetime | None, zone: ZoneInfo) -> str | None:
    if value is None:
        return None
    return value.replace(tzinfo=dt.UTC).astimezone(zone).isoformat(timespec="seconds")
