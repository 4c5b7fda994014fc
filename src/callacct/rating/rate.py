"""Rate calls: destination class, E.164 number, plan, version, band, matched rate and cost.

Everything runs on columns. Numbers are classified once per distinct number and dial plan
(cached in the store); the longest-prefix match joins the distinct numbers against the deck one
prefix length at a time, longest first; costs are exact integer arithmetic (`rating.cost`).
Only calls that a split plan cuts at a band boundary are costed one by one, and they are few.

`rate_calls` re-rates calls in the store in one transaction and reports what changed, or
rates new calls before they are appended (`append`: a first load then never updates the calls
it has just stored; `rate_new` rates them and leaves the append to its caller); `rate_frame`
does the work on a frame of calls and is what `explain` and the benchmarks use.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final
from zoneinfo import ZoneInfo

import duckdb
import polars as pl

from callacct.call_codes import FREE_CLASSES, SERVICE_CLASSES
from callacct.config import Settings
from callacct.formats import money_text
from callacct.progress import Progress
from callacct.rating.classify import PendingNumbers, classify_with_cache
from callacct.rating.cost import (
    MAX_BILLED_S,
    Part,
    billed_seconds,
    cost_of,
    raw_sixtieths,
    round_sixtieths,
    to_decimal,
)
from callacct.rating.pending import clear_rerate, rerate_pending
from callacct.rating.sites import RatingSite, rating_sites, site_expr
from callacct.rating.tariff import PlanRoute, Version, load_rates, load_routes, load_versions
from callacct.service_numbers import ServiceNumbers
from callacct.store import fetch_frame, registered, transaction

# What rating writes into `calls` (besides cost, which is stored as DECIMAL).
RATED_COLUMNS: Final = (
    "remote_number",
    "remote_dialled",
    "dest_class",
    "dest_country",
    "rating_site",
    "plan_id",
    "plan_version",
    "destination",
    "rate_prefix",
    "rate_band",
    "billed_s",
    "currency",
)
CALL_SQL: Final = """
    SELECT call_id, started_at, duration_s, direction, answered,
           coalesce(remote_dialled, remote_number) AS dialled,
           extension, peer_extension, gateway, site,
           remote_number AS old_remote_number, remote_dialled AS old_remote_dialled,
           dest_class AS old_dest_class, dest_country AS old_dest_country,
           rating_site AS old_rating_site, plan_id AS old_plan_id,
           plan_version AS old_plan_version, destination AS old_destination,
           rate_prefix AS old_rate_prefix, rate_band AS old_rate_band,
           billed_s AS old_billed_s, currency AS old_currency,
           CAST(CAST(cost AS DECIMAL(38, 6)) * 1000000 AS BIGINT) AS old_cost_u
    FROM calls
"""
# Calls rated at once (by call-id range): bounds memory on a store of any size (what a chunk
# costs: docs/benchmarks.md, Rating).
CHUNK_CALLS: Final = 250_000
# New numbers classified (and cached) at a time, before the calls are rated.
CLASSIFY_BATCH: Final = 250_000
_KEY: Final = ["plan_id", "plan_version", "band", "digits", "dest_class"]
# What `CALL_SQL` reads of a call not stored yet (new calls: `rate_new`), but its `old_*` values.
_NEW_CALL_COLUMNS: Final = (
    "call_id",
    "started_at",
    "duration_s",
    "direction",
    "answered",
    "extension",
    "peer_extension",
    "gateway",
    "site",
)
# `cost` (DECIMAL(18, 6)) from the exact micro-units of `cost_u`.
_COST_SQL: Final = "CAST(CAST(r.cost_u AS DECIMAL(18, 0)) * 0.000001 AS DECIMAL(18, 6))"


@dataclass
class Tariffs:
    """Everything rating needs from the store's tariff tables, loaded once per run."""

    routes: list[PlanRoute]
    versions: list[Version]
    rates: pl.DataFrame

    @classmethod
    def load(cls, con: duckdb.DuckDBPyConnection) -> Tariffs:
        return cls(load_routes(con), load_versions(con), load_rates(con))

    @property
    def empty(self) -> bool:
        return not self.versions

    def version(self, plan: str, version: int) -> Version | None:
        for item in self.versions:
            if item.plan == plan and item.version == version:
                return item
        return None


@dataclass
class RateReport:
    """What a rating run did; money per currency, exact."""

    calls: int = 0
    priced: int = 0
    changed: int = 0
    unpriced: int = 0
    no_tariff: bool = False
    delta: dict[str, Decimal] = field(default_factory=dict)
    total: dict[str, Decimal] = field(default_factory=dict)
    by_class: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    #: The pending re-rate (its reason) this run finished by rating every call.
    finished: str | None = None

    def add(self, other: RateReport) -> None:
        """Count `other`'s calls and money in this report too (a run rated in parts)."""
        self.calls += other.calls
        self.priced += other.priced
        self.changed += other.changed
        self.unpriced += other.unpriced
        self.no_tariff = self.no_tariff and other.no_tariff
        _add(self.delta, other.delta)
        _add(self.total, other.total)
        for dest_class, n in other.by_class.items():
            self.by_class[dest_class] = self.by_class.get(dest_class, 0) + n
        self.seconds += other.seconds
        self.finished = self.finished or other.finished

    def to_dict(self) -> dict[str, Any]:
        return {
            "calls": self.calls,
            "priced": self.priced,
            "changed": self.changed,
            "unpriced": self.unpriced,
            "no_tariff": self.no_tariff,
            "delta": {k: money_text(v) for k, v in sorted(self.delta.items())},
            "total": {k: money_text(v) for k, v in sorted(self.total.items())},
            "by_class": dict(sorted(self.by_class.items())),
            "seconds": round(self.seconds, 3),
            "finished_pending": self.finished,
        }

    @property
    def warnings(self) -> list[str]:
        out = []
        if self.finished is not None:
            out.append(
                f"every call was rated again: {self.finished} and the calls were not rated "
                "with it yet"
            )
        if self.no_tariff and self.calls:
            out.append(
                "no tariff plan is loaded: calls got destination classes but cost 0; "
                "load one with 'callacct tariff import PLAN.yaml'"
            )
        elif self.unpriced:
            out.append(
                f"{self.unpriced} answered external call(s) matched no plan or rate and cost 0; "
                "list them with 'callacct calls --unpriced'"
            )
        return out


def rate_calls(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    *,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    only_new: bool = False,
    call_ids: list[int] | None = None,
    progress: Progress | None = None,
    workers: int = 1,
    chunk: int = CHUNK_CALLS,
    append: pl.DataFrame | None = None,
    tariffs: Tariffs | None = None,
) -> RateReport:
    """Rate the calls started in [`start`, `end`) (naive UTC; all when None), or only those
    never rated, and store what changed, atomically.

    With `append`, new calls not stored yet (the `calls` table's columns, attributed), rate
    those instead and append them to `calls` rated, in one statement; the store's calls are
    not read, and a re-rate pending stays pending. `tariffs` are the store's, when the caller
    has them loaded already.

    `progress` follows the classification of new numbers, the long part of a first rating;
    `workers` > 1 spreads it over processes (see `classify_numbers`)."""
    began = time.perf_counter()
    if append is not None:
        rated = rate_new(con, settings, append, tariffs=tariffs, progress=progress, workers=workers)
        rated.append(con)
        rated.report.seconds = time.perf_counter() - began
        return rated.report
    pending = rerate_pending(con)
    narrowed = start is not None or end is not None or only_new or call_ids is not None
    if pending is not None and narrowed:
        # A tariff was stored but not applied (an import stopped before rating, or
        # --no-rate): costs of every call may be stale, not only of the calls asked for.
        start = end = call_ids = None
        only_new = False
    where: list[str] = []
    params: list[Any] = []
    if start is not None:
        where.append("started_at >= ?")
        params.append(start)
    if end is not None:
        where.append("started_at < ?")
        params.append(end)
    if only_new:
        where.append("dest_class IS NULL")
    if call_ids is not None:
        where.append("call_id IN (SELECT unnest(?::BIGINT[]))")
        params.append(call_ids)
    clause = " AND ".join(where) if where else "TRUE"
    tariffs = tariffs or Tariffs.load(con)
    report = RateReport(no_tariff=tariffs.empty, finished=pending if narrowed else None)
    every_call = not where
    low, high, count = con.execute(
        f"SELECT min(call_id), max(call_id), count(*) FROM calls WHERE {clause}",  # noqa: S608
        params,
    ).fetchall()[0]
    if count:
        # In call-id ranges, so memory stays bounded on any store; one transaction, so a
        # re-rate is all or nothing.
        ranges = range(int(low), int(high) + 1, chunk)
        # The classification cache is filled first and on its own: it holds nothing but
        # facts about numbers, and the UPDATEs below run much slower in a transaction that
        # also inserted into it (docs/benchmarks.md, Rating).
        _classify_ahead(con, settings, clause, params, ranges, chunk, progress, workers)
        with transaction(con):
            for first in ranges:
                calls = fetch_frame(
                    con,
                    f"{CALL_SQL} WHERE {clause} AND call_id BETWEEN ? AND ?",
                    [*params, first, first + chunk - 1],
                )
                if calls.height:
                    _rate_chunk(con, settings, calls, tariffs, report, progress, workers)
            if every_call:
                clear_rerate(con)
    elif every_call:
        clear_rerate(con)
    report.seconds = time.perf_counter() - began
    return report


def _classify_ahead(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    clause: str,
    params: list[Any],
    ranges: range,
    chunk: int,
    progress: Progress | None,
    workers: int,
) -> None:
    """Classify (and cache) every number the calls to rate were dialled to, before rating
    them: in batches of up to `CLASSIFY_BATCH` numbers (one pool of workers each) rather than
    per chunk of calls, and the chunks then find their numbers cached."""
    sites = rating_sites(settings)
    # `clause` is built by `rate_calls` from constant text; the values are parameters.
    sql = f"""
        SELECT site, extension, gateway, coalesce(remote_dialled, remote_number) AS dialled
        FROM calls WHERE {clause} AND call_id BETWEEN ? AND ? AND direction <> 'internal'
          AND coalesce(remote_dialled, remote_number) IS NOT NULL
    """  # noqa: S608
    wanted: list[pl.DataFrame] = []
    count = 0
    services = ServiceNumbers.of(settings.dialplan)
    for first in ranges:
        calls = fetch_frame(con, sql, [*params, first, first + chunk - 1])
        calls = calls.filter(services.kind_expr(pl.col("dialled")).is_null())
        numbers = calls.select(site_expr(sites).alias("rating_site"), pl.col("dialled")).unique()
        wanted.append(numbers)
        count += numbers.height
        if count >= CLASSIFY_BATCH:  # bounds memory: a first load can bring millions
            _classify_sites(con, sites, pl.concat(wanted).unique(), progress, workers)
            wanted, count = [], 0
    if wanted:
        _classify_sites(con, sites, pl.concat(wanted).unique(), progress, workers)


def _classify_sites(
    con: duckdb.DuckDBPyConnection,
    sites: list[RatingSite],
    numbers: pl.DataFrame,
    progress: Progress | None,
    workers: int,
) -> None:
    """Classify and cache `numbers` (`rating_site`, `dialled`) with each site's dial plan."""
    for site in sites:
        dialled = numbers.filter(pl.col("rating_site") == site.name).get_column("dialled")
        if dialled.len():
            classify_with_cache(con, dialled, site.plan, progress=progress, workers=workers)


@dataclass
class RatedNew:
    """New calls rated before they are stored (`rate_new`): what `append` writes, and what the
    rating did (`report`; its `seconds` are the rating's, not the append's)."""

    frame: pl.DataFrame  # the calls' own columns, `RATED_COLUMNS` and `cost_u`, by call id
    report: RateReport

    def append(self, con: duckdb.DuckDBPyConnection) -> None:
        """Append the calls to `calls`, rated, in one statement."""
        if not self.frame.height:
            return
        with registered(con, "_rated_new", self.frame):
            con.execute(
                f"INSERT INTO calls BY NAME SELECT * EXCLUDE (cost_u), {_COST_SQL} AS cost "  # noqa: S608
                "FROM _rated_new r"
            )


def rate_new(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    new: pl.DataFrame,
    *,
    tariffs: Tariffs | None = None,
    progress: Progress | None = None,
    workers: int = 1,
    pending: PendingNumbers | None = None,
) -> RatedNew:
    """Rate `new` calls, not stored yet (the `calls` table's columns, attributed), as
    `rate_calls(append=new)` rates them, without writing them: `RatedNew.append` does. Only
    the store's cache of classified numbers is read and filled (or, with `pending`, read,
    and the new numbers left in `pending` for the caller to write)."""
    began = time.perf_counter()
    tariffs = tariffs or Tariffs.load(con)
    report = RateReport(no_tariff=tariffs.empty)
    kept = new.select([c for c in new.columns if c not in RATED_COLUMNS and c != "cost"])
    if not new.height:
        return RatedNew(kept.with_columns(pl.lit(None, pl.Int64).alias("cost_u")), report)
    dialled = pl.col("remote_number")
    if "remote_dialled" in new.columns:
        dialled = pl.coalesce("remote_dialled", "remote_number")
    calls = new.select(*_NEW_CALL_COLUMNS, dialled.alias("dialled"))
    rated = rate_frame(
        con, settings, calls, tariffs, progress=progress, workers=workers, pending=pending
    )
    total = _counted(report, rated)
    # Never rated before: a call changes when it gets any value. One that gets none has no
    # currency and no cost, so the change in money, from nothing, is the total.
    got = pl.any_horizontal([pl.col(c).is_not_null() for c in (*RATED_COLUMNS, "cost_u")])
    report.changed += int(rated.select(got.sum()).item())
    _add(report.delta, total)
    rated = rated.select("call_id", *RATED_COLUMNS, "cost_u").sort("call_id")
    if kept.get_column("call_id").equals(rated.get_column("call_id")):
        # The same calls in the same order (ingest stages them by call id): side by side,
        # without a join and a sort of every column.
        frame = kept.hstack(rated.drop("call_id"))
    else:
        frame = kept.join(rated, on="call_id", how="left").sort("call_id")
    report.seconds = time.perf_counter() - began
    return RatedNew(frame, report)


def _rate_chunk(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    calls: pl.DataFrame,
    tariffs: Tariffs,
    report: RateReport,
    progress: Progress | None,
    workers: int,
) -> None:
    """Rate one chunk of stored calls (as `CALL_SQL` reads them), write the ones that changed
    (an UPDATE of the store's calls), add to `report`."""
    rated = rate_frame(con, settings, calls, tariffs, progress=progress, workers=workers)
    _counted(report, rated)
    changed = rated.filter(_changed_expr())
    report.changed += changed.height
    _add(report.delta, _sum_by(changed, "currency", "cost_u"))
    _add(report.delta, _sum_by(changed, "old_currency", "old_cost_u"), sign=-1)
    if changed.height:
        _write(con, changed)


def _counted(report: RateReport, rated: pl.DataFrame) -> dict[str, Decimal]:
    """Count `rated` calls in `report` (calls, priced, unpriced, per class, total cost); their
    cost per currency."""
    report.calls += rated.height
    report.priced += int(rated["priced"].sum())
    report.unpriced += int(rated["unpriced"].sum())
    for dest_class, n in rated.group_by("dest_class").len().iter_rows():
        report.by_class[dest_class] = report.by_class.get(dest_class, 0) + n
    total = _sum_by(rated, "currency", "cost_u")
    _add(report.total, total)
    return total


def _add(into: dict[str, Decimal], amounts: dict[str, Decimal], sign: int = 1) -> None:
    for currency, amount in amounts.items():
        into[currency] = into.get(currency, Decimal(0)) + sign * amount


def _sum_by(frame: pl.DataFrame, key: str, column: str) -> dict[str, Decimal]:
    sums = frame.group_by(key).agg(pl.col(column).fill_null(0).sum()).iter_rows()
    return {str(cur): to_decimal(int(total)) for cur, total in sums if cur is not None}


def _changed_expr() -> pl.Expr:
    checks = [pl.col(c).ne_missing(pl.col(f"old_{c}")) for c in RATED_COLUMNS]
    checks.append(pl.col("cost_u").ne_missing(pl.col("old_cost_u")))
    return pl.any_horizontal(checks)


def _write(con: duckdb.DuckDBPyConnection, changed: pl.DataFrame) -> None:
    frame = changed.select("call_id", *RATED_COLUMNS, "cost_u").sort("call_id")
    ids = frame.get_column("call_id")
    low, high = ids.min(), ids.max()
    assignments = ", ".join(f"{c} = r.{c}" for c in RATED_COLUMNS)
    with registered(con, "_rated", frame):
        # The call-id range lets DuckDB skip the row groups of other calls (zone maps).
        con.execute(
            f"""
            UPDATE calls SET {assignments},
                cost = {_COST_SQL}
            FROM _rated r WHERE calls.call_id = r.call_id AND calls.call_id BETWEEN ? AND ?
            """,  # noqa: S608 - column names are constants
            [low, high],
        )


def rate_frame(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    calls: pl.DataFrame,
    tariffs: Tariffs,
    *,
    progress: Progress | None = None,
    workers: int = 1,
    pending: PendingNumbers | None = None,
) -> pl.DataFrame:
    """`calls` (columns of `CALL_SQL`) with every `RATED_COLUMNS` column, `cost_u`
    (micro-units), `priced`, `unpriced`, `band`, the matched rate's columns, and `local_start`.
    `pending`: see `classify_with_cache`."""
    sites = rating_sites(settings)
    frame = calls.with_columns(site_expr(sites).alias("rating_site"))
    services = ServiceNumbers.of(settings.dialplan)
    frame = _classify(con, frame, sites, services, progress, workers, pending)
    frame = _local_times(frame, sites)
    frame = _route(frame, tariffs, settings.general.currency)
    frame = _match(frame, tariffs)
    frame = _cost(frame, tariffs)
    frame = _split(frame, tariffs, sites)
    return frame.with_columns(
        pl.col("plan_version").cast(pl.Int32), pl.col("billed_s").cast(pl.Int32)
    )


def _classify(
    con: duckdb.DuckDBPyConnection,
    frame: pl.DataFrame,
    sites: list[RatingSite],
    services: ServiceNumbers,
    progress: Progress | None,
    workers: int,
    pending: PendingNumbers | None = None,
) -> pl.DataFrame:
    """Destination class, country and E.164 number of each call. A call to a conference
    bridge, voicemail or another service number (the number dialled, or an internal call's
    other extension) takes that number's class, and its number is never read as a phone
    number."""
    internal = pl.col("direction") == "internal"
    # CALL_SQL reads `peer_extension`; frames built by hand (explain, benchmarks) may not.
    peer = pl.col("peer_extension") if "peer_extension" in frame.columns else pl.lit(None)
    frame = frame.with_columns(
        pl.when(internal)
        .then(services.kind_expr(peer.cast(pl.String)))
        .otherwise(services.kind_expr(pl.col("dialled")))
        .alias("_service")
    )
    external = frame.filter(
        ~internal & pl.col("dialled").is_not_null() & pl.col("_service").is_null()
    ).select("rating_site", "dialled")
    found = []
    for site in sites:
        numbers = external.filter(pl.col("rating_site") == site.name)["dialled"]
        if numbers.len():
            classes = classify_with_cache(
                con, numbers, site.plan, progress=progress, workers=workers, pending=pending
            )
            found.append(classes.with_columns(pl.lit(site.name).alias("rating_site")))
    lookup = (
        pl.concat(found)
        if found
        else pl.DataFrame(
            schema={
                "number": pl.String,
                "e164": pl.String,
                "dest_class": pl.String,
                "dest_country": pl.String,
                "rating_site": pl.String,
            }
        )
    )
    frame = frame.join(
        lookup.rename({"number": "dialled"}), on=["rating_site", "dialled"], how="left"
    )
    service = pl.col("_service")
    return frame.with_columns(
        pl.when(service.is_not_null())
        .then(service)
        .when(internal)
        .then(pl.lit("internal"))
        .otherwise(pl.col("dest_class").fill_null("unknown"))
        .alias("dest_class"),
        pl.when(internal | service.is_not_null())
        .then(None)
        .otherwise(pl.col("dest_country"))
        .alias("dest_country"),
        pl.coalesce("e164", "dialled").alias("remote_number"),
        pl.col("dialled").alias("remote_dialled"),
    ).drop("_service")


def _local_times(frame: pl.DataFrame, sites: list[RatingSite]) -> pl.DataFrame:
    zones = {site.name: site.timezone for site in sites}

    def local(column: pl.Expr) -> pl.Expr:
        out: pl.Expr = pl.lit(None, pl.Datetime("us"))
        for zone in sorted(set(zones.values())):
            names = [name for name, z in zones.items() if z == zone]
            converted = (
                column.dt.replace_time_zone("UTC")
                .dt.convert_time_zone(zone)
                .dt.replace_time_zone(None)
            )
            out = pl.when(pl.col("rating_site").is_in(names)).then(converted).otherwise(out)
        return out.cast(pl.Datetime("us"))

    started = pl.col("started_at").cast(pl.Datetime("us"))
    ended = started + pl.duration(seconds=pl.col("duration_s").clip(lower_bound=0))
    return frame.with_columns(local(started).alias("local_start"), local(ended).alias("local_end"))


def _route(frame: pl.DataFrame, tariffs: Tariffs, currency: str) -> pl.DataFrame:
    """Plan by gateway pattern (else the default plan), version in force on the local date."""
    plan: pl.Expr = pl.lit(None, pl.String)
    for route in tariffs.routes:
        if route.is_default:
            plan = pl.lit(route.plan)
    for route in reversed(tariffs.routes):
        if route.gateways:
            matches = pl.col("gateway").str.contains(route.gateways).fill_null(False)
            plan = pl.when(matches).then(pl.lit(route.plan)).otherwise(plan)
    frame = frame.with_columns(
        pl.when(pl.col("direction") != "internal").then(plan).alias("plan_id")
    )
    versions = pl.DataFrame(
        {
            "plan_id": [v.plan for v in tariffs.versions],
            "plan_version": [v.version for v in tariffs.versions],
            "valid_from": [dt.datetime.combine(v.valid_from, dt.time()) for v in tariffs.versions],
            "plan_currency": [v.currency for v in tariffs.versions],
            "rate_incoming": [v.rate_incoming for v in tariffs.versions],
        },
        schema={
            "plan_id": pl.String,
            "plan_version": pl.Int64,
            "valid_from": pl.Datetime("us"),
            "plan_currency": pl.String,
            "rate_incoming": pl.Boolean,
        },
    ).sort("valid_from")
    frame = (
        frame.sort("local_start")
        .join_asof(
            versions,
            left_on="local_start",
            right_on="valid_from",
            by="plan_id",
            strategy="backward",
            check_sortedness=False,  # sorted just above; Polars cannot check it with `by`
        )
        .drop("valid_from")
    )
    band: pl.Expr = pl.lit("", pl.String)
    for version in tariffs.versions:
        if not version.bands.empty:
            band = (
                pl.when(
                    (pl.col("plan_id") == version.plan)
                    & (pl.col("plan_version") == version.version)
                )
                .then(version.bands.expr(pl.col("local_start")))
                .otherwise(band)
            )
    # A call longer than MAX_BILLED_S (a corrupt record) is left unpriced rather than let
    # `price × seconds` overflow the exact integer arithmetic.
    answered = pl.col("answered") & pl.col("duration_s").is_between(0, MAX_BILLED_S)
    direction = pl.col("direction")
    priced = (
        answered
        & pl.col("plan_version").is_not_null()
        & ~pl.col("dest_class").is_in(SERVICE_CLASSES)
        & (
            (direction == "outgoing")
            | ((direction == "incoming") & pl.col("rate_incoming").fill_null(False))
        )
    )
    return frame.with_columns(
        pl.when(pl.col("plan_version").is_not_null()).then(band).alias("band"),
        priced.alias("priced"),
        # Internal calls cost nothing in no currency: any currency would be a guess.
        pl.when(direction != "internal")
        .then(pl.coalesce("plan_currency", pl.lit(currency)))
        .alias("currency"),
    )


_MATCH_SCHEMA: Final[dict[str, pl.DataType]] = {
    "plan_id": pl.String(),
    "plan_version": pl.Int64(),
    "band": pl.String(),
    "digits": pl.String(),
    "dest_class": pl.String(),
    "rate_prefix": pl.String(),
    "destination": pl.String(),
    "rate_row_band": pl.String(),
    "price_u": pl.Int64(),
    "connect_u": pl.Int64(),
    "min_u": pl.Int64(),
    "initial": pl.Int64(),
    "subsequent": pl.Int64(),
    "line_no": pl.Int64(),
}


def _match(frame: pl.DataFrame, tariffs: Tariffs) -> pl.DataFrame:
    """Longest prefix on the E.164 digits (band-specific rows before band-less ones at equal
    length), then the class default; short numbers (no '+') only take class defaults."""
    rates = tariffs.rates.rename(
        {"plan": "plan_id", "version": "plan_version", "band": "rate_row_band"}
    ).with_columns(pl.col("plan_version").cast(pl.Int64))
    remote = pl.col("remote_number")
    is_e164 = remote.str.starts_with("+").fill_null(False)
    digits = pl.when(is_e164).then(remote.str.slice(1)).otherwise(remote)
    frame = frame.with_columns(digits.alias("digits"))
    keys = frame.filter(pl.col("priced")).select(_KEY).unique()
    matched: list[pl.DataFrame] = []

    def take(candidates: pl.DataFrame, table: pl.DataFrame, on: list[str]) -> pl.DataFrame:
        """Join `candidates` to `table`, band-specific rows first; return the unmatched."""
        for specific in (True, False):
            if not candidates.height:
                break
            right = table.filter((pl.col("rate_row_band") != "") == specific)
            if specific:
                right = right.with_columns(pl.col("rate_row_band").alias("band"))
            hit = candidates.join(right, on=on + (["band"] if specific else []), how="inner")
            if hit.height:
                matched.append(hit.select(_MATCH_SCHEMA.keys()).cast(pl.Schema(_MATCH_SCHEMA)))
                candidates = candidates.join(hit.select(_KEY), on=_KEY, how="anti")
        return candidates

    pending = keys.filter(pl.col("digits").is_not_null()).join(
        frame.filter(pl.col("priced") & is_e164).select(_KEY).unique(), on=_KEY, how="semi"
    )
    by_prefix = rates.filter(pl.col("prefix") != "").drop("dest_class")
    lengths = sorted(set(by_prefix["prefix"].str.len_chars().to_list()), reverse=True)
    for length in lengths:
        if not pending.height:
            break
        longer = pending.filter(pl.col("digits").str.len_chars() >= length)
        shorter = pending.filter(pl.col("digits").str.len_chars() < length)
        left = take(
            longer.with_columns(pl.col("digits").str.slice(0, length).alias("rate_prefix")),
            by_prefix.filter(pl.col("prefix").str.len_chars() == length).rename(
                {"prefix": "rate_prefix"}
            ),
            ["plan_id", "plan_version", "rate_prefix"],
        )
        pending = pl.concat([left.drop("rate_prefix"), shorter])
    found = pl.concat(matched) if matched else pl.DataFrame(schema=_MATCH_SCHEMA)
    rest = keys.join(found.select(_KEY), on=_KEY, how="anti")
    defaults = rates.filter(pl.col("prefix") == "").with_columns(
        pl.concat_str(pl.lit("class:"), "dest_class").alias("rate_prefix")
    )
    if rest.height and defaults.height:
        take(rest, defaults.drop("prefix"), ["plan_id", "plan_version", "dest_class"])
    found = pl.concat(matched) if matched else pl.DataFrame(schema=_MATCH_SCHEMA)
    frame = frame.join(found, on=_KEY, how="left", nulls_equal=True)
    return frame.with_columns(
        (pl.col("priced") & pl.col("price_u").is_not_null()).alias("matched")
    ).drop("digits")


def _cost(frame: pl.DataFrame, tariffs: Tariffs) -> pl.DataFrame:
    billed = billed_seconds(
        pl.col("duration_s").cast(pl.Int64), pl.col("initial"), pl.col("subsequent")
    )
    raw = raw_sixtieths(billed, pl.col("price_u"), pl.col("connect_u"), pl.col("min_u"))
    cost: pl.Expr = pl.lit(0, pl.Int64)
    for version in tariffs.versions:
        chosen = (pl.col("plan_id") == version.plan) & (pl.col("plan_version") == version.version)
        cost = (
            pl.when(chosen)
            .then(round_sixtieths(raw, version.decimals, version.rounding))
            .otherwise(cost)
        )
    matched = pl.col("matched")
    excused = pl.col("dest_class").is_in(FREE_CLASSES)
    unpriced = (pl.col("direction") == "outgoing") & pl.col("answered") & ~matched & ~excused
    return frame.with_columns(
        pl.when(matched).then(cost).otherwise(pl.lit(0, pl.Int64)).alias("cost_u"),
        pl.when(matched).then(billed).alias("billed_s"),
        pl.when(matched & (pl.col("band") != "")).then(pl.col("band")).alias("rate_band"),
        pl.when(matched).then(pl.col("rate_prefix")).alias("rate_prefix"),
        pl.when(matched).then(pl.col("destination")).alias("destination"),
        unpriced.alias("unpriced"),
    )


def _split(frame: pl.DataFrame, tariffs: Tariffs, sites: list[RatingSite]) -> pl.DataFrame:
    """Re-cost, one by one, the calls of split plans that cross a band boundary."""
    splitting = [v for v in tariffs.versions if v.split_bands and not v.bands.empty]
    if not splitting:
        return frame
    crossing: pl.Expr = pl.lit(False)
    start_sod = (
        pl.col("local_start").dt.hour().cast(pl.Int64) * 3600
        + pl.col("local_start").dt.minute().cast(pl.Int64) * 60
        + pl.col("local_start").dt.second().cast(pl.Int64)
    )
    end_from_midnight = (
        (pl.col("local_end").dt.date() - pl.col("local_start").dt.date()).dt.total_days() * 86_400
        + pl.col("local_end").dt.hour().cast(pl.Int64) * 3600
        + pl.col("local_end").dt.minute().cast(pl.Int64) * 60
        + pl.col("local_end").dt.second().cast(pl.Int64)
    )
    for version in splitting:
        next_boundary: pl.Expr = pl.lit(86_400, pl.Int64)
        for minute in sorted(version.bands.boundaries(), reverse=True):
            if minute:
                next_boundary = (
                    pl.when(start_sod < minute * 60)
                    .then(pl.lit(minute * 60))
                    .otherwise(next_boundary)
                )
        crossing = (
            pl.when(
                (pl.col("plan_id") == version.plan) & (pl.col("plan_version") == version.version)
            )
            .then(end_from_midnight > next_boundary)
            .otherwise(crossing)
        )
    frame = frame.with_columns((pl.col("matched") & crossing).alias("_crossing"))
    todo = frame.filter(pl.col("_crossing"))
    if not todo.height:
        return frame.drop("_crossing")
    zones = {site.name: ZoneInfo(site.timezone) for site in sites}
    lookup = RateLookup(tariffs.rates)
    updates: dict[str, list[Any]] = {"call_id": [], "cost_u": [], "billed_s": [], "rate_band": []}
    for row in todo.iter_rows(named=True):
        found = tariffs.version(row["plan_id"], row["plan_version"])
        if found is None:  # pragma: no cover - rows come from the same tariffs
            continue
        version = found
        start = row["started_at"].replace(tzinfo=dt.UTC)
        pieces = version.bands.segments(start, row["duration_s"], zones[row["rating_site"]])
        parts = []
        for band, seconds in pieces:
            rate = lookup.find(
                version.plan, version.version, row["remote_number"], row["dest_class"], band
            )
            price = rate["price_u"] if rate is not None else row["price_u"]
            parts.append(Part(band, seconds, int(price)))
        costing = cost_of(
            parts,
            connect_u=int(row["connect_u"]),
            initial=int(row["initial"]),
            subsequent=int(row["subsequent"]),
            min_u=int(row["min_u"]),
            decimals=version.decimals,
            rounding=version.rounding,
        )
        updates["call_id"].append(row["call_id"])
        updates["cost_u"].append(costing.cost_u)
        updates["billed_s"].append(costing.billed_s)
        updates["rate_band"].append("+".join(band for band, _, _ in costing.parts))
    patch = pl.DataFrame(
        updates,
        schema={
            "call_id": pl.Int64,
            "cost_u": pl.Int64,
            "billed_s": pl.Int64,
            "rate_band": pl.String,
        },
    )
    return frame.update(patch.cast({"call_id": frame.schema["call_id"]}), on="call_id").drop(
        "_crossing"
    )


class RateLookup:
    """The rate row for one number at a time, chosen as `_match`'s joins choose it (split
    calls, explain)."""

    def __init__(self, rates: pl.DataFrame) -> None:
        self._rates = rates
        self._tables: dict[tuple[str, int], dict[tuple[str, str], dict[str, Any]]] = {}

    def _table(self, plan: str, version: int) -> dict[tuple[str, str], dict[str, Any]]:
        key = (plan, version)
        if key not in self._tables:
            rows = self._rates.filter(
                (pl.col("plan") == plan) & (pl.col("version") == version)
            ).iter_rows(named=True)
            self._tables[key] = {
                (row["prefix"] or f"class:{row['dest_class']}", row["band"]): row for row in rows
            }
        return self._tables[key]

    def find(
        self, plan: str, version: int, number: str | None, dest_class: str, band: str
    ) -> dict[str, Any] | None:
        """The rate row for `number` (E.164 or short) of class `dest_class` in `band`."""
        table = self._table(plan, version)
        bands = (band, "") if band else ("",)
        if number and number.startswith("+"):
            digits = number[1:]
            for length in range(len(digits), 0, -1):
                for row_band in bands:
                    row = table.get((digits[:length], row_band))
                    if row is not None:
                        return row
        for row_band in bands:
            row = table.get((f"class:{dest_class}", row_band))
            if row is not None:
                return row
        return None
