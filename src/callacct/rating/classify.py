"""Destination class and E.164 form of the numbers calls went to or came from.

Numbers are read with a `DialPlan` and Google's libphonenumber metadata (the `phonenumbers`
package). `classify_number` reads one number with phonenumbers' functions: it is the reference.
`classify_numbers` reads many at once by column (`rating.classify_columns`: the same steps as
Polars expressions built from the same metadata, giving the same answers, many times faster:
docs/benchmarks.md) and gives what that path cannot decide to `classify_number`, spread over
worker processes when there are many. Classification runs on the DISTINCT numbers of a batch of
calls, and `classify_with_cache` keeps the results in the store so each number is classified once
per dial plan.

Example:
    >>> plan = DialPlan.for_region("FR", local_area_codes=("1",))
    >>> classify_number("0 01 42 68 53 00", plan)
    Classification(e164='+33142685300', dest_class='local', dest_country='FR')
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import multiprocessing
import os
import re
import threading
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Final

import duckdb
import phonenumbers
import polars as pl
from phonenumbers import NumberParseException, PhoneNumber, PhoneNumberType, ShortNumberCost
from phonenumbers import ValidationResult as Possible

from callacct.call_codes import DestClass
from callacct.progress import CLASSIFYING, Progress, Step
from callacct.rating.classify_columns import RESULT_SCHEMA, classify_columns
from callacct.rating.dialplan import DialPlan
from callacct.store import fetch_frame, is_read_only, registered
from callacct.store.schema import NUMBER_CLASSES_DDL

log = logging.getLogger(__name__)

# Bump when the rules below change, so cached classifications made by older rules are not used.
CLASSIFIER_VERSION: Final = 1

NUMBER_CACHE_SQL: Final = NUMBER_CLASSES_DDL

# Below this many numbers, reading them one by one is as quick as preparing the column path.
COLUMNS_FROM: Final = 1_000
# Below this many new numbers, starting worker processes costs more than it saves.
PARALLEL_FROM: Final = 20_000
_SLICE: Final = 5_000  # numbers per task given to a worker
PARALLEL_MAX: Final = 8  # worker processes at most


def default_workers() -> int:
    """Worker processes for classifying many numbers: one per core, at most `PARALLEL_MAX`."""
    return max(1, min(os.cpu_count() or 1, PARALLEL_MAX))


_SEPARATORS = re.compile(r"[\s\-.()/#]")
_DIALLABLE = re.compile(r"\+?[0-9]{1,40}")
_NON_GEOGRAPHIC = "001"  # phonenumbers' region for +800, +881, +882 ...

_TYPE_CLASSES: dict[int, DestClass] = {
    PhoneNumberType.MOBILE: "mobile",
    PhoneNumberType.PAGER: "mobile",
    PhoneNumberType.TOLL_FREE: "toll_free",
    PhoneNumberType.PREMIUM_RATE: "premium",
    PhoneNumberType.SHARED_COST: "shared_cost",
}
_LOCAL_TYPES = (PhoneNumberType.FIXED_LINE, PhoneNumberType.FIXED_LINE_OR_MOBILE)
_SHORT_COST_CLASSES: dict[int, DestClass] = {
    ShortNumberCost.TOLL_FREE: "toll_free",
    ShortNumberCost.PREMIUM_RATE: "premium",
    ShortNumberCost.STANDARD_RATE: "national",
    ShortNumberCost.UNKNOWN_COST: "national",
}


@dataclass(frozen=True)
class Classification:
    """Where a number leads: E.164 form (short numbers as dialled), class, ISO country."""

    e164: str | None
    dest_class: DestClass
    dest_country: str | None


_UNKNOWN = Classification(None, "unknown", None)
_INTERNAL = Classification(None, "internal", None)


def normalise_number(raw: str, plan: DialPlan) -> str | None:
    """The E.164 form of `raw` as dialled under `plan`; emergency and other short numbers as is.

    None for extensions and for text that cannot be a phone number. A number that has a
    possible length for its country but is not in an allocated range keeps its E.164 form (it
    classifies as `unknown`), so tariffs by prefix can still price it.

    >>> normalise_number("9 011 33 1 42 68 53 00", DialPlan.for_region("US"))
    '+33142685300'
    >>> normalise_number("9-911", DialPlan.for_region("US"))
    '911'
    """
    return classify_number(raw, plan).e164


def classify_number(raw: str, plan: DialPlan) -> Classification:
    """The E.164 form, destination class and country of one number dialled under `plan`.

    Order: emergency numbers (also behind an access code) first, since they often look like
    extensions; then extensions; then full numbers (access code stripped, else as given); then
    other short numbers (directory, service codes) by their cost.

    >>> plan = DialPlan.for_region("US", local_area_codes=("212",))
    >>> classify_number("9 1 800 234 5678", plan)
    Classification(e164='+18002345678', dest_class='toll_free', dest_country='US')
    >>> classify_number("911", plan).dest_class
    'emergency'
    """
    text = _SEPARATORS.sub("", raw)
    if not _DIALLABLE.fullmatch(text):
        return _UNKNOWN
    candidates = [text] if text.startswith("+") else _without_access_code(text, plan)
    region = plan.region
    for digits in candidates:
        if not digits.startswith("+") and phonenumbers.is_emergency_number(digits, region):
            return Classification(digits, "emergency", region)
    if re.search(plan.extension_pattern, text):
        return _INTERNAL
    possible: PhoneNumber | None = None
    for digits in candidates:
        number = _parse(digits, plan)
        if number is None:
            continue
        if phonenumbers.is_valid_number(number):
            return _classify_valid(number, plan)
        if possible is None and phonenumbers.is_possible_number(number):
            possible = number
    for digits in candidates:
        if not digits.startswith("+") and _is_short_number(digits, region):
            cost = phonenumbers.expected_cost_for_region(_short(digits, region), region)
            return Classification(digits, _SHORT_COST_CLASSES.get(cost, "national"), region)
    if possible is not None:
        country = phonenumbers.region_code_for_country_code(possible.country_code or 0)
        return Classification(_e164(possible), "unknown", _iso(country))
    return _UNKNOWN


def _without_access_code(text: str, plan: DialPlan) -> list[str]:
    # `calls.remote_number` has the access code stripped only when ingest knew it, so the text
    # is read both ways: access code stripped first (the dialled form), then as given.
    for code in sorted(plan.access_codes, key=len, reverse=True):
        if text.startswith(code) and len(text) > len(code):
            return [text[len(code) :], text]
    return [text]


def _parse(digits: str, plan: DialPlan) -> PhoneNumber | None:
    if digits.startswith("+"):
        return _parse_e164(digits)
    if digits.startswith(plan.international_prefix):
        return _parse_e164("+" + digits[len(plan.international_prefix) :])
    has_prefix = bool(plan.national_prefix) and digits.startswith(plan.national_prefix)
    national = digits[len(plan.national_prefix) :] if has_prefix else digits
    number = _parse_e164(f"+{plan.country_code}{national}")
    if number is None or phonenumbers.is_valid_number(number):
        return number
    if not has_prefix and phonenumbers.is_possible_number_with_reason(number) in (
        Possible.IS_POSSIBLE,
        Possible.IS_POSSIBLE_LOCAL_ONLY,
    ):
        # Dialled without area code, as regions with local dialling allow (US 7-digit, DE).
        for area in plan.local_area_codes:
            local = _parse_e164(f"+{plan.country_code}{area}{national}")
            if local is not None and phonenumbers.is_valid_number(local):
                return local
    return number


def _parse_e164(text: str) -> PhoneNumber | None:
    try:
        return phonenumbers.parse(text, None)
    except NumberParseException:
        return None


def _classify_valid(number: PhoneNumber, plan: DialPlan) -> Classification:
    e164 = _e164(number)
    region = phonenumbers.region_code_for_number(number)
    kind = phonenumbers.number_type(number)
    if region != plan.region:
        if region == _NON_GEOGRAPHIC and kind == PhoneNumberType.TOLL_FREE:
            return Classification(e164, "toll_free", None)
        return Classification(e164, "international", _iso(region))
    if kind in _TYPE_CLASSES:
        return Classification(e164, _TYPE_CLASSES[kind], region)
    national = phonenumbers.national_significant_number(number)
    if kind in _LOCAL_TYPES and national.startswith(plan.local_area_codes):
        return Classification(e164, "local", region)
    return Classification(e164, "national", region)


def _short(digits: str, region: str) -> PhoneNumber:
    # Built by hand: `phonenumbers.parse` would take a leading 0 for the national prefix.
    zeros = len(digits) - len(digits.lstrip("0") or "0")
    return PhoneNumber(
        country_code=phonenumbers.country_code_for_region(region),
        national_number=int(digits),
        italian_leading_zero=zeros > 0 or None,
        number_of_leading_zeros=zeros if zeros > 1 else None,
    )


def _is_short_number(digits: str, region: str) -> bool:
    # Short-number metadata describes numbers of up to 6 digits; longer ones are not short.
    return len(digits) <= 6 and phonenumbers.is_valid_short_number_for_region(
        _short(digits, region), region
    )


def _e164(number: PhoneNumber) -> str:
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _iso(region: str | None) -> str | None:
    return region if region and re.fullmatch(r"[A-Z]{2}", region) else None


def classify_numbers(
    numbers: pl.Series,
    plan: DialPlan,
    *,
    progress: Progress | None = None,
    workers: int = 1,
    parallel_from: int = PARALLEL_FROM,
    columns_from: int = COLUMNS_FROM,
) -> pl.DataFrame:
    """One row per distinct non-null value of `numbers`: `number, e164, dest_class, dest_country`,
    as `classify_number` gives them.

    From `columns_from` distinct numbers on, they are read by column; the numbers that path
    leaves (see `classify_columns`) are read one by one. With `workers` > 1 and at
    least `parallel_from` such numbers, they are read by that many worker processes. Those are
    spawned, so a script that asks for workers must guard its main code with
    `if __name__ == "__main__":`, as multiprocessing requires; the command line does.
    `progress` is told (stage `classifying`) as numbers are done.

    >>> plan = DialPlan.for_region("GB")
    >>> classify_numbers(pl.Series(["999", "999", None]), plan).row(0)
    ('999', '999', 'emergency', 'GB')
    """
    distinct = numbers.cast(pl.String).drop_nulls().unique(maintain_order=True).rename("number")
    total = distinct.len()
    by_column = pl.DataFrame(schema=RESULT_SCHEMA)
    rest = distinct
    if total >= columns_from:
        try:
            found = classify_columns(distinct, plan)
            by_column, rest = found.classified, found.undecided
        except pl.exceptions.PolarsError as exc:
            # E.g. a Polars release that refuses one of the patterns: the answers
            # are the reference's all the same, only slower.
            log.warning("classifying by column failed (%s); classifying one by one", exc)
        if progress is not None:
            progress(Step(CLASSIFYING, by_column.height, total, "numbers"))
    one_by_one = rest.to_list()
    results = _classify_all(
        one_by_one,
        plan,
        _offset(progress, by_column.height, total),
        min(workers, PARALLEL_MAX),
        parallel_from,
    )
    fresh = pl.DataFrame(
        {
            "number": one_by_one,
            "e164": [r.e164 for r in results],
            "dest_class": [r.dest_class for r in results],
            "dest_country": [r.dest_country for r in results],
        },
        schema=RESULT_SCHEMA,
    )
    if not by_column.height:
        return fresh
    if not fresh.height:
        return by_column  # in the order of `distinct`, as the column path keeps it
    both = pl.concat([by_column, fresh])
    return distinct.to_frame().join(both, on="number", how="left", maintain_order="left")


def _offset(progress: Progress | None, done: int, total: int) -> Progress | None:
    """`progress` for the numbers read one by one, after the `done` read by column."""
    if progress is None or not done:
        return progress
    told = progress

    def shifted(step: Step) -> None:
        told(Step(step.stage, done + step.done, total, step.unit))

    return shifted


def _classify_all(
    numbers: list[str],
    plan: DialPlan,
    progress: Progress | None,
    workers: int,
    parallel_from: int,
) -> list[Classification]:
    total = len(numbers)
    slices = [numbers[i : i + _SLICE] for i in range(0, total, _SLICE)]
    workers = min(workers, len(slices))
    if total < parallel_from or workers < 2:
        done = map(_classify_slice, slices, itertools.repeat(plan))
        return _collect(done, total, progress)
    # Spawned, not forked: forking a process that runs Polars' and DuckDB's threads can
    # deadlock the child.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        return _collect(pool.map(_classify_slice, slices, itertools.repeat(plan)), total, progress)


def _collect(
    parts: Iterator[list[Classification]], total: int, progress: Progress | None
) -> list[Classification]:
    results: list[Classification] = []
    for part in parts:
        results += part
        if progress is not None:
            progress(Step(CLASSIFYING, len(results), total, "numbers"))
    return results


def _classify_slice(numbers: list[str], plan: DialPlan) -> list[Classification]:
    return [classify_number(number, plan) for number in numbers]


def cache_key(plan: DialPlan) -> str:
    """The `number_classes.plan_key` of `plan`: its fields, the rules and the metadata version.

    A new phonenumbers release or new rules give a new key, so numbers are classified again
    rather than kept with stale metadata.
    """
    text = f"{plan.key}|{CLASSIFIER_VERSION}|{phonenumbers.__version__}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def ensure_number_cache(con: duckdb.DuckDBPyConnection) -> None:
    """Create the `number_classes` table if the store has none."""
    con.execute(NUMBER_CACHE_SQL).fetchall()


class PendingNumbers:
    """Numbers classified and not written to the store's cache yet: `classify_with_cache` finds
    them here as it finds those of the store, and leaves the new ones here instead of writing
    them, so that another connection writes them later (`take`, then `write` and `written`),
    e.g. in the transaction that appends the calls rated with them. Safe to share between the
    thread that classifies and the one that writes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rows: list[pl.DataFrame] = []  # plan_key, then RESULT_SCHEMA's columns
        self._taken = 0  # of `_rows`, handed out by `take` and not written yet

    def add(self, key: str, fresh: pl.DataFrame) -> None:
        if fresh.height:
            with self._lock:
                self._rows.append(_keyed(key, fresh))

    def find(self, key: str, wanted: pl.DataFrame) -> pl.DataFrame:
        """The pending classifications of `wanted`'s numbers for `key`."""
        with self._lock:
            rows = list(self._rows)
        found = [
            wanted.join(frame.filter(pl.col("plan_key") == key).drop("plan_key"), on="number")
            for frame in rows
        ]
        return pl.concat(found) if found else pl.DataFrame(schema=RESULT_SCHEMA)

    def take(self, whole: int = 1) -> list[pl.DataFrame]:
        """The classifications added since the last `take`, to write: as many as make whole
        multiples of `whole` rows (a DuckDB row group, say; none when fewer), the rest left
        for a later `take`. They stay found until `written` says so."""
        with self._lock:
            fresh = self._rows[self._taken :]
            count = sum(frame.height for frame in fresh)
            cut = count - count % whole
            if cut == 0:
                return []
            if cut < count:
                together = pl.concat(fresh)
                fresh = [together.head(cut), together.tail(count - cut)]
                self._rows[self._taken :] = fresh
                fresh = fresh[:1]
            self._taken += len(fresh)
        return fresh

    @staticmethod
    def write(con: duckdb.DuckDBPyConnection, taken: list[pl.DataFrame]) -> None:
        """Write classifications `take` gave into `number_classes`."""
        if taken:
            _insert_classes(con, pl.concat(taken))

    def written(self, taken: list[pl.DataFrame]) -> None:
        """`taken` is in the store: no longer pending."""
        with self._lock:
            ids = {id(frame) for frame in taken}
            kept = [frame for frame in self._rows if id(frame) not in ids]
            self._taken -= len(self._rows) - len(kept)
            self._rows = kept


def warm_up(plan: DialPlan) -> None:
    """Load what classifying numbers under `plan` needs the first time, once per process:
    phonenumbers' metadata, the column path's tables and expressions, and its check of the
    plan's calling code (a few of the region's example numbers are classified and forgotten).
    A first load calls it while its first calls are read, so their rating does not wait.

    >>> warm_up(DialPlan.for_region("FR"))
    """
    examples = [
        phonenumbers.example_number_for_type(plan.region, kind)
        for kind in (PhoneNumberType.FIXED_LINE, PhoneNumberType.MOBILE, PhoneNumberType.TOLL_FREE)
    ]
    numbers = [
        text
        for example in examples
        if example is not None
        for text in (
            _e164(example),
            phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.NATIONAL),
        )
    ]
    classify_numbers(pl.Series(numbers, dtype=pl.String), plan, columns_from=0)


def classify_with_cache(
    con: duckdb.DuckDBPyConnection,
    numbers: pl.Series,
    plan: DialPlan,
    *,
    progress: Progress | None = None,
    workers: int = 1,
    pending: PendingNumbers | None = None,
) -> pl.DataFrame:
    """Like `classify_numbers`, but numbers already in `number_classes` for `plan` are reused
    and new ones are classified once and stored there (or, with `pending`, left there for the
    caller to write).

    >>> con = duckdb.connect()
    >>> plan = DialPlan.for_region("US")
    >>> classify_with_cache(con, pl.Series(["911"]), plan)["dest_class"].to_list()
    ['emergency']
    >>> con.execute("SELECT count(*) FROM number_classes").fetchall()
    [(1,)]
    """
    writable = not is_read_only(con)  # a read-only store is read, not filled
    if writable:
        ensure_number_cache(con)
    key = cache_key(plan)
    wanted = numbers.cast(pl.String).drop_nulls().unique(maintain_order=True)
    wanted_frame = pl.DataFrame({"number": wanted}, schema={"number": pl.String()})
    known = pl.DataFrame(schema=RESULT_SCHEMA)
    if pending is not None:
        # Looked at first: what leaves it meanwhile is in the store when the store is read.
        known = pending.find(key, wanted_frame).cast(pl.Schema(RESULT_SCHEMA))
    look_up = wanted_frame.join(known.select("number"), on="number", how="anti")
    with registered(con, "_rating_wanted", look_up):
        cached = fetch_frame(
            con,
            "SELECT w.number, c.e164, c.dest_class, c.dest_country "
            "FROM _rating_wanted w JOIN number_classes c "
            "ON c.number = w.number AND c.plan_key = ?",
            [key],
        )
    cached = pl.concat([known, cached.cast(pl.Schema(RESULT_SCHEMA))])
    new = wanted_frame.join(cached.select("number"), on="number", how="anti")
    fresh = classify_numbers(new["number"], plan, progress=progress, workers=workers)
    if pending is not None:
        pending.add(key, fresh)
    elif fresh.height and writable:
        _insert_classes(con, _keyed(key, fresh))
    return pl.concat([cached.select(RESULT_SCHEMA.keys()), fresh])


def _keyed(key: str, classes: pl.DataFrame) -> pl.DataFrame:
    """`classes` (`RESULT_SCHEMA`'s columns) behind their plan's cache key, as stored."""
    return classes.select(pl.lit(key).alias("plan_key"), pl.all())


def _insert_classes(con: duckdb.DuckDBPyConnection, rows: pl.DataFrame) -> None:
    """Insert `rows` (`plan_key` and `RESULT_SCHEMA`'s columns) into `number_classes`."""
    with registered(con, "_rating_fresh", rows):
        con.execute(
            "INSERT INTO number_classes "
            "SELECT plan_key, number, e164, dest_class, dest_country FROM _rating_fresh"
        ).fetchall()
