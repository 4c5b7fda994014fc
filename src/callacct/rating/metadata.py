"""libphonenumber's metadata as plain tables, for classifying numbers by column.

`phonenumbers` describes every region with data: the national-number pattern and possible
lengths of each number type (fixed line, mobile, toll free, ...), the leading digits that pick a
region among those sharing a calling code, the national prefix for parsing and its transform
rule; and, per region, the short numbers and emergency numbers. `number_tables()` copies them
once per `phonenumbers` version into frozen dataclasses that `rating.classify_columns` turns
into Polars expressions.

This is the only module that reads phonenumbers' metadata objects, whose attributes are not a
documented API. If a release changes them, `number_tables()` returns None with a warning in the
log and every number is read by the per-number path. A pattern that Rust's `regex` (which
Polars uses) might read differently from Python's `re` makes its calling code (or, for the short
numbers, its region) `unportable`: numbers there are left to the per-number path too.

Example:
    >>> tables = number_tables()
    >>> tables is not None and tables.regions_of["44"]
    ('GB', 'GG', 'IM', 'JE')
    >>> tables.region("33", "FR").general.lengths
    (9,)
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final

import phonenumbers
import polars as pl
from phonenumbers import PhoneNumberType

log = logging.getLogger(__name__)

NON_GEOGRAPHIC: Final = "001"  # phonenumbers' region of +800, +808, +870, +881, +882, ...

# The types `number_type` tries, in its order, before fixed line and mobile.
KINDS: Final[tuple[tuple[int, str], ...]] = (
    (PhoneNumberType.PREMIUM_RATE, "premium_rate"),
    (PhoneNumberType.TOLL_FREE, "toll_free"),
    (PhoneNumberType.SHARED_COST, "shared_cost"),
    (PhoneNumberType.VOIP, "voip"),
    (PhoneNumberType.PERSONAL_NUMBER, "personal_number"),
    (PhoneNumberType.PAGER, "pager"),
    (PhoneNumberType.UAN, "uan"),
    (PhoneNumberType.VOICEMAIL, "voicemail"),
)

# Pattern syntax both engines read alike on strings of ASCII digits: digits, classes and
# ranges, groups, alternation, counted and plain repetition, anchors. `{,n}` (Python: 0 to n;
# Rust: an error), possessive repetition (Python 3.11) and anything else -- look-around,
# back-references, Unicode classes, nested classes and class set operations, which Rust reads
# where Python sees literals -- make a pattern unportable.
_TOKENS: Final = re.compile(r"(?:\\d|\(\?:|[0-9()|?*+{},$^\[\]-])*")
_POSSESSIVE: Final = re.compile(r"[?*+}]\+")


def rust_pattern(pattern: str) -> str:
    """`pattern` for Polars, in ASCII mode: on ASCII digits `\\d` means the same, and the
    regex compiles ≈ 7 times faster than with Unicode's digit classes."""
    return f"(?-u){pattern}"


def portable(pattern: str) -> bool:
    """Whether Python's `re` and Polars' regex engine read `pattern` alike on digit strings
    (by its syntax; `compiles` checks that Polars accepts it).

    >>> portable(r"[1-9]\\d{8}|(?:1|2[0-3])\\d{6}")
    True
    >>> portable(r"(?=1)\\d+"), portable(r"\\d{,3}"), portable(r"[[0-3]--2]"), portable(r"\\d++")
    (False, False, False, False)
    """
    if not _TOKENS.fullmatch(pattern) or "{," in pattern or "--" in pattern:
        return False
    if _POSSESSIVE.search(pattern):
        return False
    depth = 0
    for char in pattern:
        if char == "[":
            if depth:  # `[` inside a class: a literal to Python, a nested class to Rust
                return False
            depth = 1
        elif char == "]":
            depth = 0
    return True


def compiles(patterns: list[str]) -> bool:
    """Whether Polars compiles every one of `patterns` (as `rust_pattern` gives them)."""
    try:
        pl.select(
            pl.lit("", pl.String).str.contains(rust_pattern(p)).alias(str(i))
            for i, p in enumerate(patterns)
        )
    except pl.exceptions.PolarsError:
        return False
    return True


@dataclass(frozen=True)
class Desc:
    """One `PhoneNumberDesc`: pattern (None: matches nothing) and possible lengths."""

    pattern: str | None
    lengths: tuple[int, ...]
    local_lengths: tuple[int, ...]


@dataclass(frozen=True)
class NationalPrefix:
    """The national prefix for parsing: a pattern matched at the start of the national
    number, how many groups it has, and its transform rule in Polars' replacement syntax."""

    pattern: str
    groups: int
    transform: str | None


@dataclass(frozen=True)
class RegionData:
    """What `parse`, `region_code_for_number`, `number_type` and `is_possible_number` read
    of one region (or one non-geographic calling code, region '001')."""

    region: str
    country_code: int
    general: Desc
    kinds: tuple[tuple[int, Desc | None], ...]  # in the order of `KINDS`
    fixed_line: Desc | None
    mobile: Desc | None
    same_mobile_and_fixed_line: bool
    leading_digits: str | None
    national_prefix: NationalPrefix | None


@dataclass(frozen=True)
class ShortData:
    """A region's short-number metadata (what `shortnumberinfo` reads)."""

    general: Desc
    short_code: Desc
    emergency: Desc | None
    premium: Desc | None
    standard: Desc | None
    toll_free: Desc | None
    examples: tuple[str, ...]


@dataclass(frozen=True)
class NumberTables:
    """Every region's metadata, by calling code (as text, e.g. '33')."""

    version: str
    regions_of: dict[str, tuple[str, ...]]  # regions in phonenumbers' order, main first
    data: dict[tuple[str, str], RegionData]
    unportable: frozenset[str]  # calling codes left to the per-number path
    short: dict[str, ShortData]
    short_unportable: frozenset[str]  # regions whose short numbers are left to it
    examples: dict[str, tuple[str, ...]]  # calling code -> the national example numbers

    def region(self, code: str, region: str) -> RegionData:
        return self.data[(code, region)]

    def main(self, code: str) -> RegionData:
        """The data of the calling code's main region (`region_code_for_country_code`)."""
        return self.data[(code, self.regions_of[code][0])]


def number_tables() -> NumberTables | None:
    """The metadata of the installed `phonenumbers`, read once per version; None (with a
    warning in the log) when it is not shaped as this module expects."""
    return _load(phonenumbers.__version__)


@functools.lru_cache(maxsize=2)
def _load(version: str) -> NumberTables | None:
    try:
        return _read_tables(version)
    except (AttributeError, KeyError, TypeError, ValueError, IndexError, re.error) as exc:
        log.warning(
            "phonenumbers %s: its metadata could not be read for classifying by column (%s: "
            "%s); every number is classified one by one",
            version,
            type(exc).__name__,
            exc,
        )
        return None


def _read_tables(version: str) -> NumberTables:
    metadata = phonenumbers.PhoneMetadata
    regions_of: dict[str, tuple[str, ...]] = {}
    data: dict[tuple[str, str], RegionData] = {}
    unportable: set[str] = set()
    examples: dict[str, tuple[str, ...]] = {}
    for calling_code, regions in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.items():
        code = str(int(calling_code))
        regions_of[code] = tuple(str(region) for region in regions)
        for region in regions_of[code]:
            found = metadata.metadata_for_region_or_calling_code(int(code), region)
            if found is None:
                unportable.add(code)
                continue
            item = _region_data(region, found)
            data[(code, region)] = item
            if not _region_portable(item):
                unportable.add(code)
            examples[code] = (*examples.get(code, ()), *_examples(found))
    short: dict[str, ShortData] = {}
    short_unportable: set[str] = set()
    for region in phonenumbers.SUPPORTED_SHORT_REGIONS:
        found = metadata.short_metadata_for_region(region)
        if found is None:
            continue
        short_data = _short_data(found)
        if short_data is None or not _short_portable(short_data):
            short_unportable.add(region)
        if short_data is not None:
            short[region] = short_data
    return NumberTables(
        version=version,
        regions_of=regions_of,
        data=data,
        unportable=frozenset(unportable),
        short=short,
        short_unportable=frozenset(short_unportable),
        examples=examples,
    )


def _desc(desc: Any) -> Desc | None:
    if desc is None:
        return None
    pattern = desc.national_number_pattern
    return Desc(
        pattern=str(pattern) if pattern else None,
        lengths=tuple(int(n) for n in desc.possible_length),
        local_lengths=tuple(int(n) for n in desc.possible_length_local_only),
    )


def _region_data(region: str, found: Any) -> RegionData:
    general = _desc(found.general_desc)
    if general is None:
        raise ValueError(f"region {region} has no general description")
    prefix = found.national_prefix_for_parsing
    national_prefix = None
    if prefix:
        groups = re.compile(prefix).groups
        national_prefix = NationalPrefix(
            str(prefix), groups, _transform(found.national_prefix_transform_rule)
        )
    return RegionData(
        region=region,
        country_code=int(found.country_code),
        general=general,
        kinds=tuple((kind, _desc(getattr(found, name))) for kind, name in KINDS),
        fixed_line=_desc(found.fixed_line),
        mobile=_desc(found.mobile),
        same_mobile_and_fixed_line=bool(found.same_mobile_and_fixed_line_pattern),
        leading_digits=str(found.leading_digits) if found.leading_digits else None,
        national_prefix=national_prefix,
    )


_UNPORTABLE_RULE: Final = "\\unportable"


def _transform(rule: str | None) -> str | None:
    """Python's `re.sub` template (`9\\1`) in Polars' replacement syntax (`9${1}`)."""
    if not rule:
        return None
    if not re.fullmatch(r"(?:[0-9]|\\[1-9])*", rule):
        return _UNPORTABLE_RULE
    return re.sub(r"\\([1-9])", r"${\1}", rule)


def _examples(found: Any) -> Iterator[str]:
    for name in ("general_desc", "fixed_line", "mobile", *(name for _, name in KINDS)):
        desc = getattr(found, name)
        if desc is not None and desc.example_number:
            yield str(desc.example_number)


def _descs(item: RegionData | ShortData) -> Iterator[Desc]:
    if isinstance(item, RegionData):
        found = [item.general, item.fixed_line, item.mobile, *(desc for _, desc in item.kinds)]
    else:
        found = [item.general, item.short_code, item.emergency, item.premium, item.standard]
        found.append(item.toll_free)
    yield from (desc for desc in found if desc is not None)


def _region_portable(item: RegionData) -> bool:
    patterns = [desc.pattern for desc in _descs(item) if desc.pattern]
    if item.leading_digits:
        patterns.append(item.leading_digits)
    prefix = item.national_prefix
    if prefix is not None:
        if prefix.transform == _UNPORTABLE_RULE or (prefix.transform and not prefix.groups):
            return False
        patterns.append(prefix.pattern)
    # `_test_number_length` reads the first possible length as the shortest.
    return bool(item.general.lengths) and all(portable(pattern) for pattern in patterns)


def _short_data(found: Any) -> ShortData | None:
    general, short_code = _desc(found.general_desc), _desc(found.short_code)
    if general is None or short_code is None:
        return None
    return ShortData(
        general=general,
        short_code=short_code,
        emergency=_desc(found.emergency),
        premium=_desc(found.premium_rate),
        standard=_desc(found.standard_rate),
        toll_free=_desc(found.toll_free),
        examples=tuple(
            str(desc.example_number)
            for desc in (
                found.short_code,
                found.emergency,
                found.premium_rate,
                found.standard_rate,
                found.toll_free,
            )
            if desc is not None and desc.example_number
        ),
    )


def _short_portable(item: ShortData) -> bool:
    return all(portable(desc.pattern) for desc in _descs(item) if desc.pattern)
