"""Classify many numbers at once with Polars: the column path of `classify_numbers`.

`classify_number` reads one number with phonenumbers' functions. This module takes the same
steps on whole columns, with expressions built from phonenumbers' metadata
(`rating.metadata`): separators and access codes stripped, emergency numbers and extensions
recognised, each candidate reading parsed as `phonenumbers.parse` parses it (calling code,
national prefix for parsing and its transform rule, possible lengths), the region of a shared
calling code picked as `region_code_for_number` picks it (leading digits, else the first region
where the number is valid), the type patterns matched in `number_type`'s order, the dial plan's
local area codes tried, then short numbers classified by their cost. Each regular expression is
applied by Polars to the numbers of one calling code at a time.

Numbers it cannot read with certainty are returned `undecided`, for the per-number path: text
with characters outside ASCII (whose spaces the two regex engines do not list alike), and the
numbers of a calling code (or the short numbers of a region) whose patterns Rust's regex engine
might read differently from Python's, or whose example numbers (from the metadata, and variants
of them) this module reads unlike phonenumbers -- checked the first time a process meets it,
with a warning in the log when they disagree. A property test checks that both paths give the
same answers.

Example:
    >>> plan = DialPlan.for_region("FR", local_area_codes=("1",))
    >>> result = classify_columns(pl.Series(["0 01 42 68 53 00", "112", "06 12 34 56 78"]), plan)
    >>> result.classified.rows()
    [('0 01 42 68 53 00', '+33142685300', 'local', 'FR'), ('112', '112', 'emergency', 'FR'), ('06 12 34 56 78', '+33612345678', 'mobile', 'FR')]
    >>> result.undecided.to_list()
    []
"""  # noqa: E501

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import phonenumbers
import polars as pl
from phonenumbers import NumberParseException, PhoneNumberType
from phonenumbers import ValidationResult as Possible

from callacct.rating.dialplan import DialPlan
from callacct.rating.metadata import (
    NON_GEOGRAPHIC,
    Desc,
    NumberTables,
    RegionData,
    ShortData,
    compiles,
    number_tables,
    portable,
    rust_pattern,
)

log = logging.getLogger(__name__)

RESULT_SCHEMA: Final[dict[str, pl.DataType]] = {
    "number": pl.String(),
    "e164": pl.String(),
    "dest_class": pl.String(),
    "dest_country": pl.String(),
}
# One reading of a digit string as '+' + digits: request, calling code, national significant
# number, region (`region_code_for_number`), type (`number_type`), `is_valid_number`,
# `is_possible_number`.
_READING: Final = pl.Schema(
    {
        "req": pl.UInt32(),
        "cc": pl.String(),
        "nsn": pl.String(),
        "region": pl.String(),
        "kind": pl.Int16(),
        "valid": pl.Boolean(),
        "possible": pl.Boolean(),
    }
)
_UNKNOWN_KIND: Final = PhoneNumberType.UNKNOWN
# `classify._SEPARATORS` on ASCII text, where Python's `\s` is these 10 characters; text with
# other characters (Unicode spaces, which the two engines do not list alike) is left undecided.
_SEPARATORS: Final = r"[\t\n\x0b\x0c\r\x1c-\x1f \-.()/#]"
_ASCII_TEXT: Final = r"^[\x00-\x7f]*$"
_DIALLABLE: Final = r"^\+?[0-9]{1,40}$"
_MIN_NSN, _MAX_NSN = 2, 17  # phonenumbers' _MIN_LENGTH_FOR_NSN, _MAX_LENGTH_FOR_NSN
_MAX_TEXT: Final = 64  # longer than any string read here (40 digits + calling and area codes)
_SHORT_MAX: Final = 6  # `classify._is_short_number`
_NSN: Final = pl.col("nsn")
_NSN_LENGTH: Final = pl.col("nsn").str.len_bytes()


@dataclass(frozen=True)
class ColumnResult:
    """`classified`: rows of `RESULT_SCHEMA`; `undecided`: numbers for the per-number path."""

    classified: pl.DataFrame
    undecided: pl.Series


def classify_columns(numbers: pl.Series, plan: DialPlan) -> ColumnResult:
    """Classify the distinct strings `numbers` under `plan` as `classify_number` does.

    All of them come back undecided when the metadata cannot be used here (see above); nulls
    are left out."""
    numbers = numbers.cast(pl.String).drop_nulls().rename("number")
    reader = _reader()
    if reader is None or not reader.short_usable(plan.region):
        return ColumnResult(pl.DataFrame(schema=RESULT_SCHEMA), numbers)
    return _PlanColumns(reader, plan).classify(numbers)


def column_path_available() -> bool:
    """Whether this process classifies by column (the metadata could be read)."""
    return _reader() is not None


# --- expressions from the metadata -------------------------------------------------------


def _fullmatch(desc: Desc | None, column: pl.Expr, length: pl.Expr) -> pl.Expr | None:
    """`_is_number_matching_desc`: a possible length (when the description lists any) and
    the whole pattern; None where it can never match."""
    if desc is None or not desc.pattern:
        return None
    hit = column.str.contains(rust_pattern(f"^(?:{desc.pattern})$"))
    return length.is_in(desc.lengths) & hit if desc.lengths else hit


@functools.cache
def _kind_expr(data: RegionData) -> pl.Expr:
    """`_number_type_helper` of column `nsn` in region `data`: the first type whose
    description matches, in its order (built once: building expressions costs more than
    applying them to small frames)."""
    general = _fullmatch(data.general, _NSN, _NSN_LENGTH)
    unknown = pl.lit(_UNKNOWN_KIND, pl.Int16)
    if general is None:
        return unknown
    cases = [(~general, unknown)]
    for kind, desc in data.kinds:
        hit = _fullmatch(desc, _NSN, _NSN_LENGTH)
        if hit is not None:
            cases.append((hit, pl.lit(kind, pl.Int16)))
    fixed = _fullmatch(data.fixed_line, _NSN, _NSN_LENGTH)
    mobile = _fullmatch(data.mobile, _NSN, _NSN_LENGTH)
    either = pl.lit(PhoneNumberType.FIXED_LINE_OR_MOBILE, pl.Int16)
    if fixed is not None:
        if data.same_mobile_and_fixed_line:
            cases.append((fixed, either))
        else:
            if mobile is not None:
                cases.append((fixed & mobile, either))
            cases.append((fixed, pl.lit(PhoneNumberType.FIXED_LINE, pl.Int16)))
    if mobile is not None and not data.same_mobile_and_fixed_line:
        cases.append((mobile, pl.lit(PhoneNumberType.MOBILE, pl.Int16)))
    return _first_of(cases, unknown)


def _first_of(cases: list[tuple[pl.Expr, pl.Expr]], default: pl.Expr) -> pl.Expr:
    """`when(c1).then(v1).when(c2).then(v2)...otherwise(default)`."""
    out = default
    for condition, value in reversed(cases):
        out = pl.when(condition).then(value).otherwise(out)
    return out


def _length_result(length: int, desc: Desc) -> int:
    """`_test_number_length` against the general description (number type UNKNOWN)."""
    lengths = desc.lengths
    if length in desc.local_lengths:
        return int(Possible.IS_POSSIBLE_LOCAL_ONLY)
    if lengths[0] == length:
        return int(Possible.IS_POSSIBLE)
    if lengths[0] > length:
        return int(Possible.TOO_SHORT)
    if lengths[-1] < length:
        return int(Possible.TOO_LONG)
    return int(Possible.IS_POSSIBLE if length in lengths[1:] else Possible.INVALID_LENGTH)


@functools.cache
def _lengths_with(desc: Desc, results: tuple[int, ...]) -> tuple[int, ...]:
    """The lengths (up to any this module reads) for which `_test_number_length` gives one
    of `results`."""
    return tuple(n for n in range(_MAX_TEXT + 1) if _length_result(n, desc) in results)


def _descs(data: RegionData) -> list[Desc]:
    found = [data.general, data.fixed_line, data.mobile, *(desc for _, desc in data.kinds)]
    return [desc for desc in found if desc is not None]


# --- reading digit strings as phonenumbers parses '+' + digits -----------------------------


class _Reader:
    """Reads digit strings as `phonenumbers.parse("+" + digits)`, and what `is_valid_number`,
    `region_code_for_number`, `number_type` and `is_possible_number` say of the result."""

    def __init__(self, tables: NumberTables) -> None:
        self.tables = tables
        codes = sorted(tables.regions_of, key=lambda code: (len(code), code))
        # Shorter codes first: the shortest prefix that is a calling code wins, as in
        # `_extract_country_code`.
        self._code_pattern = "^(" + "|".join(codes) + ")"
        self._usable: dict[str, bool] = {}
        self._short_usable: dict[str, bool] = {}
        self._pipelines: dict[str, Callable[[pl.LazyFrame], pl.LazyFrame]] = {}

    def short_usable(self, region: str) -> bool:
        """Whether the short and emergency numbers of `region` can be read here: their
        patterns are portable and the region's example short numbers (and variants of them)
        are read as phonenumbers reads them."""
        if region not in self._short_usable:
            data = self.tables.short.get(region)
            usable = data is None or (
                region not in self.tables.short_unportable
                and compiles([f"^(?:{d.pattern})$" for d in _short_descs(data) if d.pattern])
            )
            if usable and data is not None:
                problem = _short_check(region, data)
                if problem is not None:
                    _disagrees(f"the short number {problem!r} in {region}")
                    usable = False
            self._short_usable[region] = usable
        return self._short_usable[region]

    def read(self, requests: pl.DataFrame) -> tuple[pl.DataFrame, pl.Series]:
        """`requests` (`req`, `s`: digits) read as '+' + s: a row of `_READING` per request
        that phonenumbers parses (none for those it refuses), and the requests whose calling
        code is left to the per-number path."""
        s = pl.col("s")
        frame = (
            requests.filter(s.str.len_bytes() >= 3)  # '+12' is not a viable number
            .with_columns(s.str.extract(self._code_pattern, 1).alias("cc"))
            .filter(pl.col("cc").is_not_null())
            .with_columns(s.str.slice(pl.col("cc").str.len_bytes()).alias("rest"))
            .filter(pl.col("rest").str.len_bytes() >= _MIN_NSN)
            .drop("s")
        )
        self._check(frame.get_column("cc").unique().to_list())
        usable = [code for code, ok in self._usable.items() if ok]
        lost = frame.filter(~pl.col("cc").is_in(usable)).get_column("req")
        return self._read(frame.filter(pl.col("cc").is_in(usable))), lost

    def _check(self, codes: list[str]) -> None:
        """Decide, for each of `codes` not seen yet, whether its numbers can be read here:
        its patterns are portable and compile, and numbers built from its regions' example
        numbers (as they are, one digit short or long, behind a national prefix 0) are read
        as phonenumbers reads them."""
        new = [code for code in codes if code not in self._usable]
        for code in new:
            self._usable[code] = code not in self.tables.unportable and compiles(
                self._patterns(code)
            )
        tried = [code for code in new if self._usable[code]]
        checks = [
            (code, variant)
            for code in tried
            for national in self.tables.examples.get(code, ())
            for variant in (national, national[:-1], f"{national}0", f"0{national}")
        ]
        if not checks:
            return
        frame = pl.DataFrame(
            {"cc": [code for code, _ in checks], "rest": [rest for _, rest in checks]},
            schema={"cc": pl.String, "rest": pl.String},
        ).with_row_index("req")
        found = self._read(frame.filter(pl.col("rest").str.len_bytes() >= _MIN_NSN))
        ours = {
            int(row["req"]): (
                f"+{row['cc']}{row['nsn']}",
                row["valid"],
                row["region"],
                row["kind"],
                row["possible"],
            )
            for row in found.iter_rows(named=True)
        }
        for index, (code, rest) in enumerate(checks):
            if self._usable[code] and ours.get(index) != _reference(f"+{code}{rest}"):
                _disagrees(f"+{code}{rest}")
                self._usable[code] = False

    def _patterns(self, code: str) -> list[str]:
        patterns: list[str] = []
        for region in self.tables.regions_of[code]:
            data = self.tables.data.get((code, region))
            if data is None:
                continue
            patterns += [f"^(?:{desc.pattern})$" for desc in _descs(data) if desc.pattern]
            if data.leading_digits:
                patterns.append(f"^(?:{data.leading_digits})")
            if data.national_prefix is not None:
                patterns.append(f"^((?:{data.national_prefix.pattern}))")
        return patterns

    def _read(self, frame: pl.DataFrame) -> pl.DataFrame:
        """`read` of requests (`req`, `cc`, `rest`) whose calling codes are usable."""
        codes: list[str] = []
        plans: list[pl.LazyFrame] = []
        for (code,), group in frame.partition_by("cc", as_dict=True).items():
            codes.append(str(code))
            plans.append(self._pipeline(str(code))(group.lazy()))
        parts = [
            frame if len(self.tables.regions_of[code]) == 1 else self._shared(code, frame)
            for code, frame in zip(codes, pl.collect_all(plans), strict=True)
        ]
        return pl.concat(parts) if parts else pl.DataFrame(schema=_READING)

    def _pipeline(self, code: str) -> Callable[[pl.LazyFrame], pl.LazyFrame]:
        if code not in self._pipelines:
            self._pipelines[code] = _code_pipeline(code, self.tables)
        return self._pipelines[code]

    def _shared(self, code: str, frame: pl.DataFrame) -> pl.DataFrame:
        """`_region_code_for_number_from_list` for a calling code several regions share: the
        first region, in phonenumbers' order, whose leading digits start the number or, for a
        region without, where the number is valid; then the type in that region."""
        datas = [self.tables.region(code, region) for region in self.tables.regions_of[code]]
        by_digits = [data for data in datas if data.leading_digits]
        # `_head` is what the leading-digit patterns, tried in order, matched at the start:
        # the first of them that matches it is the first that matches the number.
        firsts = {
            head: next(d.region for d in by_digits if re.match(str(d.leading_digits), head))
            for head in frame.get_column("_head").drop_nulls().unique().to_list()
        }
        pending = frame.with_columns(
            pl.col("_head").replace_strict(firsts, default=None, return_dtype=pl.String)
        )
        done: list[pl.DataFrame] = []
        for data in datas:
            if not pending.height:
                break
            region = pl.lit(data.region, pl.String).alias("region")
            if data.leading_digits:
                if data.region not in firsts.values():
                    continue  # no number starts with its leading digits
                mine = (pl.col("_head") == data.region).fill_null(False)
                hit = pending.filter(mine).with_columns(region, _kind_expr(data).alias("kind"))
                pending = pending.filter(~mine)
            else:
                pending = pending.with_columns(_kind_expr(data).alias("kind"))
                hit = pending.filter(pl.col("kind") != _UNKNOWN_KIND).with_columns(region)
                pending = pending.filter(pl.col("kind") == _UNKNOWN_KIND).drop("kind")
            done.append(hit)
        done.append(
            pending.with_columns(
                pl.lit(None, pl.String).alias("region"),
                pl.lit(_UNKNOWN_KIND, pl.Int16).alias("kind"),
            )
        )
        # `is_valid_number_for_region` also wants the region's own calling code.
        right = [
            d.region for d in datas if d.region == NON_GEOGRAPHIC or d.country_code == int(code)
        ]
        valid = pl.col("region").is_in(right).fill_null(False) & (pl.col("kind") != _UNKNOWN_KIND)
        columns = [name for name in _READING.names() if name != "valid"]
        found = pl.concat(part.select(columns) for part in done)
        return found.with_columns(valid.alias("valid")).select(_READING.names())


def _code_pipeline(code: str, tables: NumberTables) -> Callable[[pl.LazyFrame], pl.LazyFrame]:
    """What `parse` and the checks after it do with the numbers of calling code `code`
    (columns `req`, `cc`, `rest`: the digits after the code), as a function of a frame,
    its expressions built once. For a shared code, the region is picked by `_shared`."""
    main = tables.main(code)
    strip = _national_prefix_step(main) if main.national_prefix is not None else None
    possible = _NSN_LENGTH.is_in(
        _lengths_with(main.general, (Possible.IS_POSSIBLE, Possible.IS_POSSIBLE_LOCAL_ONLY))
    ).alias("possible")
    datas = [tables.region(code, region) for region in tables.regions_of[code]]
    in_range = _NSN_LENGTH.is_between(_MIN_NSN, _MAX_NSN)
    columns: list[pl.Expr]
    if len(datas) == 1:
        data = datas[0]
        right = data.region == NON_GEOGRAPHIC or data.country_code == int(code)
        kind = _kind_expr(data)
        columns = [
            pl.lit(data.region, pl.String).alias("region"),
            kind.alias("kind"),
            ((kind != _UNKNOWN_KIND) & right).alias("valid"),
            possible,
        ]
        keep = list(_READING.keys())
    else:
        heads = "|".join(f"(?:{d.leading_digits})" for d in datas if d.leading_digits)
        head = _NSN.str.extract(rust_pattern(f"^({heads})"), 1) if heads else pl.lit(None)
        columns = [head.cast(pl.String).alias("_head"), possible]
        keep = ["req", "cc", "nsn", "possible", "_head"]

    def pipeline(frame: pl.LazyFrame) -> pl.LazyFrame:
        if strip is not None:
            frame = strip(frame)
        frame = frame.rename({"rest": "nsn"}).filter(in_range)
        return frame.with_columns(columns).select(keep)

    return pipeline


def _national_prefix_step(main: RegionData) -> Callable[[pl.LazyFrame], pl.LazyFrame]:
    """`parse`'s use of `_maybe_strip_national_prefix_carrier_code` on `rest`: the national
    prefix for parsing (or its transform) is taken off when the number does not stop fitting
    the general pattern by losing it, and what remains has a possible length or is too long."""
    prefix = main.national_prefix
    assert prefix is not None
    rest = pl.col("rest")
    head = rest.str.extract(rust_pattern(f"^((?:{prefix.pattern}))"), 1)
    after = rest.str.slice(head.str.len_bytes())
    if prefix.transform is not None:
        last = rest.str.extract(rust_pattern(f"^((?:{prefix.pattern}))"), prefix.groups + 1)
        transformed = rest.str.replace(rust_pattern(f"^(?:{prefix.pattern})"), prefix.transform)
        after = pl.when(last.is_not_null()).then(transformed).otherwise(after)
    keeps: pl.Expr = pl.lit(False)
    if main.general.pattern:
        general = rust_pattern(f"^(?:{main.general.pattern})$")
        keeps = rest.str.contains(general) & ~pl.col("after").str.contains(general)
    take = _lengths_with(main.general, (Possible.IS_POSSIBLE, Possible.TOO_LONG))
    stripped = (
        pl.when(~keeps & pl.col("after").str.len_bytes().is_in(take))
        .then(pl.col("after"))
        .otherwise(rest)
        .alias("rest")
    )
    no_head, has_head = head.is_null(), head.is_not_null()

    def step(frame: pl.LazyFrame) -> pl.LazyFrame:
        prefixed = (
            frame.filter(has_head)
            .with_columns(after.alias("after"))
            .with_columns(stripped)
            .drop("after")
        )
        return pl.concat([frame.filter(no_head), prefixed])

    return step


# --- one dial plan ----------------------------------------------------------------------------


class _PlanColumns:
    """The steps of `classify_number` under one dial plan, on a frame of numbers."""

    def __init__(self, reader: _Reader, plan: DialPlan) -> None:
        self.reader = reader
        self.plan = plan
        self.short = reader.tables.short.get(plan.region)
        self.code = str(plan.country_code)

    def classify(self, numbers: pl.Series) -> ColumnResult:
        frame = pl.DataFrame({"number": numbers}).with_row_index("id")
        number = pl.col("number")
        clean = number.str.contains(_ASCII_TEXT)
        undecided = [frame.filter(~clean).get_column("number")]
        work = frame.filter(clean).with_columns(
            number.str.replace_all(_SEPARATORS, "").alias("text")
        )
        diallable = pl.col("text").str.contains(_DIALLABLE)
        done = [_rows(work.filter(~diallable), None, "unknown", None)]
        work = self._candidates(work.filter(diallable))

        emergency = self._emergency()
        if emergency is not None:
            work = work.with_columns(emergency.alias("_emergency"))
            found = work.filter(pl.col("_emergency").is_not_null())
            done.append(_rows(found, pl.col("_emergency"), "emergency", self.plan.region))
            work = work.filter(pl.col("_emergency").is_null())
        internal = self._extensions(work.get_column("text"))
        done.append(_rows(work.filter(internal), None, "internal", None))
        work = self._readings(work.filter(~internal))

        valid = [pl.col(f"valid_{slot}").fill_null(False) for slot in (0, 1)]
        lost = pl.col("lost_0") | (~valid[0] & pl.col("lost_1"))
        undecided.append(work.filter(lost).get_column("number"))
        work = work.filter(~lost)
        # In `classify_number`'s order: a valid reading of either candidate, else a short
        # number, else a possible reading, else nothing. Short numbers are looked for only
        # among the numbers left (few), a reading's answer is already in its columns.
        chosen = work.filter(valid[0] | valid[1])
        done.append(chosen.select("id", "number", *_pick(valid[0], 0, 1)))
        work = work.filter(~(valid[0] | valid[1]))
        if self.short is not None:
            maybe_short = (pl.col("first").str.len_bytes() <= _SHORT_MAX) | (
                pl.col("second").str.len_bytes() <= _SHORT_MAX
            ).fill_null(False)
            short = [_short_class(pl.col(cand), self.short) for cand in ("first", "second")]
            found = (
                work.filter(maybe_short)
                .with_columns(short[0].alias("_short_0"), short[1].alias("_short_1"))
                .filter(pl.col("_short_0").is_not_null() | pl.col("_short_1").is_not_null())
            )
            first = pl.col("_short_0").is_not_null()
            done.append(
                found.select(
                    "id",
                    "number",
                    pl.when(first).then(pl.col("first")).otherwise(pl.col("second")).alias("e164"),
                    pl.coalesce("_short_0", "_short_1").alias("dest_class"),
                    pl.lit(self.plan.region, pl.String).alias("dest_country"),
                )
            )
            work = work.join(found.select("id"), on="id", how="anti")
        possible = pl.col("e164_0").is_not_null()
        done.append(
            work.select("id", "number", *_pick(possible, 0, 1)).with_columns(
                pl.col("dest_class").fill_null("unknown")  # neither reading is possible
            )
        )
        schema = pl.Schema({"id": pl.UInt32(), **RESULT_SCHEMA})
        classified = pl.concat([part.select(schema.names()).cast(schema) for part in done])
        classified = classified.sort("id").drop("id")
        return ColumnResult(classified, pl.concat(undecided))

    def _candidates(self, frame: pl.DataFrame) -> pl.DataFrame:
        """`first`: the text without the plan's access code (the longest that fits), else the
        text; `second`: the text as given when an access code was stripped, else null."""
        text = pl.col("text")
        plus = text.str.starts_with("+")
        stripped: pl.Expr = pl.lit(None, pl.String)
        codes = sorted(self.plan.access_codes, key=len, reverse=True)
        for code in reversed(codes):
            fits = ~plus & text.str.starts_with(code) & (text.str.len_bytes() > len(code))
            stripped = pl.when(fits).then(text.str.slice(len(code))).otherwise(stripped)
        return frame.with_columns(
            pl.coalesce(stripped, text).alias("first"),
            pl.when(stripped.is_not_null()).then(text).alias("second"),
        )

    def _emergency(self) -> pl.Expr | None:
        """The candidate that is an emergency number of the plan's region (first, then
        second), else null."""
        if self.short is None:
            return None
        first = _emergency_expr(self.short, pl.col("first"))
        second = _emergency_expr(self.short, pl.col("second"))
        if first is None or second is None:
            return None
        return (
            pl.when(first)
            .then(pl.col("first"))
            .when(second.fill_null(False))
            .then(pl.col("second"))
        )

    def _extensions(self, texts: pl.Series) -> pl.Series:
        """`re.search(plan.extension_pattern, text)`: by Polars when the pattern is one both
        engines read alike, else by Python's `re`."""
        pattern = self.plan.extension_pattern
        if portable(pattern) and compiles([pattern]):
            return texts.str.contains(rust_pattern(pattern))
        compiled = re.compile(pattern)
        return pl.Series([compiled.search(text) is not None for text in texts], dtype=pl.Boolean)

    def _readings(self, work: pl.DataFrame) -> pl.DataFrame:
        """`work` with what `_parse` reads in each candidate N (0: `first`, 1: `second`):
        `e164_N`, `dest_class_N`, `dest_country_N` when the reading is valid or possible (null
        otherwise), `valid_N`, and `lost_N` when it is left to the per-number path."""
        plan = self.plan
        columns: list[pl.Expr] = []
        for slot, name in ((0, "first"), (1, "second")):
            cand = pl.col(name)
            plus = cand.str.starts_with("+")
            international = ~plus & cand.str.starts_with(plan.international_prefix)
            has_prefix: pl.Expr = pl.lit(False)
            if plan.national_prefix:
                has_prefix = ~plus & ~international & cand.str.starts_with(plan.national_prefix)
            cut = (
                pl.when(plus)
                .then(1)
                .when(international)
                .then(len(plan.international_prefix))
                .when(has_prefix)
                .then(len(plan.national_prefix))
                .otherwise(0)
            )
            # Digits after '+' or the international prefix are read as they are; a national
            # number (its prefix cut off) behind the plan's calling code.
            tail = cand.str.slice(cut)
            digits = (
                pl.when(plus | international)
                .then(tail)
                .otherwise(pl.concat_str(pl.lit(self.code), tail))
            )
            columns += [
                digits.alias(f"s_{slot}"),
                tail.alias(f"national_{slot}"),
                (~plus & ~international & ~has_prefix).alias(f"bare_{slot}"),
            ]
        work = work.with_columns(columns)
        # A second candidate read the same way as the first gives the same answer wherever
        # it would be looked at (only when the first is not valid), so it is not read again.
        same = (pl.col("s_1") == pl.col("s_0")) & (~pl.col("bare_1") | pl.col("bare_0"))
        requests = pl.concat(
            [
                work.select(
                    (pl.col("id") * 2).alias("req"),
                    pl.col("s_0").alias("s"),
                    pl.col("national_0").alias("national"),
                    pl.col("bare_0").alias("bare"),
                ),
                work.filter(pl.col("s_1").is_not_null() & ~same.fill_null(False)).select(
                    (pl.col("id") * 2 + 1).alias("req"),
                    pl.col("s_1").alias("s"),
                    pl.col("national_1").alias("national"),
                    pl.col("bare_1").alias("bare"),
                ),
            ]
        )
        work = work.drop("s_0", "s_1", "national_0", "national_1", "bare_0", "bare_1")
        found, lost = self.reader.read(requests.select("req", "s"))
        if plan.local_area_codes:
            found, lost = self._local(requests, found, lost)
        answers = self._answers(found)
        lost_reqs = lost.implode()
        for slot in (0, 1):
            mine = (pl.col("req") % 2) == slot
            work = work.join(
                answers.filter(mine).select(
                    (pl.col("req") // 2).alias("id"),
                    *(
                        pl.col(c).alias(f"{c}_{slot}")
                        for c in ("valid", "e164", "dest_class", "dest_country")
                    ),
                ),
                on="id",
                how="left",
            ).with_columns((pl.col("id") * 2 + slot).is_in(lost_reqs).alias(f"lost_{slot}"))
        return work

    def _answers(self, found: pl.DataFrame) -> pl.DataFrame:
        """What each reading that is valid or possible answers (`req`, `valid`, `e164`,
        `dest_class`, `dest_country`): `_classify_valid` for a valid one, class unknown
        with the country of its calling code for a possible one."""
        useful = found.filter(pl.col("valid") | pl.col("possible"))
        valid = useful.filter("valid")
        possible = useful.filter(~pl.col("valid"))
        dest_class, country = self._valid_class()
        return pl.concat(
            [
                valid.select(
                    "req",
                    "valid",
                    _E164,
                    dest_class.alias("dest_class"),
                    country.alias("dest_country"),
                ),
                possible.select(
                    "req",
                    "valid",
                    _E164,
                    pl.lit("unknown", pl.String).alias("dest_class"),
                    self._main_country().alias("dest_country"),
                ),
            ]
        )

    def _local(
        self, requests: pl.DataFrame, found: pl.DataFrame, lost: pl.Series
    ) -> tuple[pl.DataFrame, pl.Series]:
        """`_parse`'s second try for national numbers dialled without prefix that are not
        valid but possible: each local area code in turn, the first valid reading wins (as
        regions with local dialling allow: US 7-digit, DE)."""
        local = requests.filter("bare").join(
            found.filter(~pl.col("valid") & pl.col("possible")).select("req"), on="req", how="semi"
        )
        tries = pl.concat(
            local.select(
                "req",
                pl.lit(order, pl.Int32).alias("order"),
                pl.concat_str(pl.lit(self.code + area), "national").alias("s"),
            )
            for order, area in enumerate(self.plan.local_area_codes)
        ).with_row_index("try")
        read, lost_tries = self.reader.read(tries.select(pl.col("try").alias("req"), "s"))
        better = (
            read.filter("valid")
            .rename({"req": "try"})
            .join(tries.select("try", "req", "order"), on="try")
            .sort("order")
            .unique("req", keep="first")
            .select(_READING.names())
        )
        lost_local = tries.filter(pl.col("try").is_in(lost_tries.implode())).get_column("req")
        found = pl.concat([found.join(better, on="req", how="anti"), better])
        return found, pl.concat([lost, lost_local])

    def _valid_class(self) -> tuple[pl.Expr, pl.Expr]:
        """`_classify_valid` of a reading: international (or non-geographic toll free)
        outside the plan's region, else by type, fixed lines in a local area code local."""
        region, kind = pl.col("region"), pl.col("kind")
        foreign = region != self.plan.region
        free_anywhere = (region == NON_GEOGRAPHIC) & (kind == PhoneNumberType.TOLL_FREE)
        local: pl.Expr = pl.lit(False)
        for area in self.plan.local_area_codes:
            local = local | pl.col("nsn").str.starts_with(area)
        fixed = kind.is_in([PhoneNumberType.FIXED_LINE, PhoneNumberType.FIXED_LINE_OR_MOBILE])
        dest_class = (
            pl.when(foreign & free_anywhere)
            .then(pl.lit("toll_free"))
            .when(foreign)
            .then(pl.lit("international"))
            .when(kind.is_in([PhoneNumberType.MOBILE, PhoneNumberType.PAGER]))
            .then(pl.lit("mobile"))
            .when(kind == PhoneNumberType.TOLL_FREE)
            .then(pl.lit("toll_free"))
            .when(kind == PhoneNumberType.PREMIUM_RATE)
            .then(pl.lit("premium"))
            .when(kind == PhoneNumberType.SHARED_COST)
            .then(pl.lit("shared_cost"))
            .when(fixed & local)
            .then(pl.lit("local"))
            .otherwise(pl.lit("national"))
        )
        country = pl.when(foreign & free_anywhere).then(None).otherwise(_iso(region))
        return dest_class, country

    def _main_country(self) -> pl.Expr:
        """The country of a reading's calling code (`region_code_for_country_code`)."""
        main = {code: regions[0] for code, regions in self.reader.tables.regions_of.items()}
        return _iso(pl.col("cc").replace_strict(main, default=None, return_dtype=pl.String))


def _emergency_expr(short: ShortData, cand: pl.Expr) -> pl.Expr | None:
    """`is_emergency_number(cand, region)`; None where the region has no emergency numbers."""
    if short.emergency is None or not short.emergency.pattern:
        return None
    return cand.str.contains(rust_pattern(f"^(?:{short.emergency.pattern})$"))


def _short_class(cand: pl.Expr, short: ShortData) -> pl.Expr:
    """The class of `cand` as a short number of the region of `short` (by its cost), else
    null: `is_valid_short_number_for_region`, then `expected_cost_for_region`."""
    length = cand.str.len_bytes()
    general = _fullmatch(short.general, cand, length)
    code = _fullmatch(short.short_code, cand, length)
    if general is None or code is None:
        return pl.lit(None, pl.String)
    valid = ~cand.str.starts_with("+") & (length <= _SHORT_MAX) & general & code
    cases = [(~length.is_in(short.general.lengths), pl.lit("national"))]
    for desc, name in (
        (short.premium, "premium"),
        (short.standard, "national"),
        (short.toll_free, "toll_free"),
    ):
        hit = _fullmatch(desc, cand, length)
        if hit is not None:
            cases.append((hit, pl.lit(name)))
    emergency = _emergency_expr(short, cand)
    if emergency is not None:
        cases.append((emergency, pl.lit("toll_free")))
    cost = _first_of(cases, pl.lit("national"))
    return pl.when(valid.fill_null(False)).then(cost)


def _short_descs(data: ShortData | None) -> list[Desc]:
    if data is None:
        return []
    found = [data.general, data.short_code, data.emergency, data.premium, data.standard]
    return [desc for desc in (*found, data.toll_free) if desc is not None]


def _rows(
    frame: pl.DataFrame, e164: pl.Expr | None, dest_class: str, country: str | None
) -> pl.DataFrame:
    return frame.select(
        "id",
        "number",
        (e164 if e164 is not None else pl.lit(None, pl.String)).alias("e164"),
        pl.lit(dest_class, pl.String).alias("dest_class"),
        pl.lit(country, pl.String).alias("dest_country"),
    )


_E164: Final = pl.concat_str(pl.lit("+"), "cc", "nsn").alias("e164")


def _pick(first: pl.Expr, slot: int, other: int) -> list[pl.Expr]:
    """The answer of reading `slot` where `first` holds, else of reading `other`."""
    return [
        pl.when(first)
        .then(pl.col(f"{name}_{slot}"))
        .otherwise(pl.col(f"{name}_{other}"))
        .alias(name)
        for name in ("e164", "dest_class", "dest_country")
    ]


def _iso(region: pl.Expr) -> pl.Expr:
    return pl.when(region.str.contains("^[A-Z]{2}$")).then(region)


# --- one reader per process, checked against phonenumbers ----------------------------------


def _reader() -> _Reader | None:
    return _reader_for(phonenumbers.__version__)


@functools.lru_cache(maxsize=2)
def _reader_for(version: str) -> _Reader | None:
    tables = number_tables()
    return _Reader(tables) if tables is not None and tables.version == version else None


def _disagrees(what: str) -> None:
    log.warning(
        "phonenumbers %s reads %s unlike the column path; such numbers are classified one by one",
        phonenumbers.__version__,
        what,
    )


def _reference(number: str) -> tuple[str, bool, str | None, int, bool] | None:
    """What phonenumbers says of '+' `number`: what `_Reader.read` computes."""
    try:
        parsed = phonenumbers.parse(number, None)
    except NumberParseException:
        return None
    return (
        phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164),
        phonenumbers.is_valid_number(parsed),
        phonenumbers.region_code_for_number(parsed),
        phonenumbers.number_type(parsed),
        phonenumbers.is_possible_number(parsed),
    )


def _short_check(region: str, data: ShortData) -> str | None:
    """The first of the region's example short numbers (as they are, one digit short or
    long) whose class or emergency status `_short_class` and `_emergency_expr` read unlike
    phonenumbers; None when they agree on all."""
    numbers = sorted(
        {n for e in data.examples for n in (e, e[:-1], e + "0") if n and len(n) <= _SHORT_MAX}
    )
    emergency = _emergency_expr(data, pl.col("n"))
    frame = pl.DataFrame({"n": numbers}, schema={"n": pl.String}).select(
        "n",
        _short_class(pl.col("n"), data).alias("short"),
        (emergency if emergency is not None else pl.lit(False)).alias("emergency"),
    )
    for number, short, is_emergency in frame.iter_rows():
        if (short, is_emergency) != _short_reference(number, region):
            return str(number)
    return None


def _short_reference(digits: str, region: str) -> tuple[str | None, bool]:
    """`classify_number`'s reading of `digits` as a short number of `region`: its class by
    cost if it is a valid short number, and whether it is an emergency number."""
    from callacct.rating import classify  # the per-number path imports this module

    short = None
    if classify._is_short_number(digits, region):
        cost = phonenumbers.expected_cost_for_region(classify._short(digits, region), region)
        short = classify._SHORT_COST_CLASSES.get(cost, "national")
    return short, phonenumbers.is_emergency_number(digits, region)
