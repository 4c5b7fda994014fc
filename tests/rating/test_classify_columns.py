"""The column path classifies exactly as `classify_number`, the reference, does.

The main test reads over 100,000 numbers under eleven countries' dial plans (and a few odd
plans): random digits behind every calling code and the metadata's example numbers with random
last digits, dialled in every form a plan allows (access code, international prefix, '+',
national prefix, without area code), short and emergency numbers, extensions, separators and
text that is no number at all. Every number gets the same (E.164, class, country) both ways.
"""

from __future__ import annotations

import dataclasses
import logging
import random
from collections.abc import Iterator

import phonenumbers
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from phonenumbers import PhoneMetadata, PhoneNumberType

from callacct.rating import classify as classify_module
from callacct.rating import classify_columns as columns_module
from callacct.rating import metadata as metadata_module
from callacct.rating.classify import (
    classify_number,
    classify_numbers,
    classify_with_cache,
)
from callacct.rating.classify_columns import classify_columns
from callacct.rating.dialplan import DialPlan
from callacct.rating.metadata import number_tables, portable

PLANS = {
    "FR": DialPlan.for_region("FR", local_area_codes=("1",)),
    "US": DialPlan.for_region("US", local_area_codes=("212", "646", "917")),
    "GB": DialPlan.for_region("GB", local_area_codes=("20", "121")),
    "DE": DialPlan.for_region("DE", local_area_codes=("30", "89")),
    "IT": DialPlan.for_region("IT", local_area_codes=("06",)),
    "ES": DialPlan.for_region("ES", local_area_codes=("91",)),
    "BY": DialPlan.for_region("BY", local_area_codes=("17",)),
    "JP": DialPlan.for_region("JP", local_area_codes=("3", "6")),
    "IN": DialPlan.for_region("IN", local_area_codes=("11", "22")),
    "BR": DialPlan.for_region("BR", local_area_codes=("11",)),
    "AU": DialPlan.for_region("AU", local_area_codes=("2", "3")),
}
# Plans a PBX may be configured with: several access codes, prefixes of its own, an extension
# pattern read by Python's `re` (outside the syntax both engines are known to read alike), no
# national prefix.
ODD_PLANS = {
    "AR": DialPlan.for_region("AR", access_codes=("0", "81"), local_area_codes=("11",)),
    "RU": DialPlan.for_region("RU", access_codes=("9", "8"), extension_pattern=r"^[1-7]\d{3}\b"),
    "CA": DialPlan.for_region("CA", international_prefix="00", local_area_codes=("416",)),
    "NL": DialPlan.for_region("NL", national_prefix="", access_codes=("0", "00")),
    "MX": DialPlan.for_region("MX", access_codes=("7",), extension_pattern=r"^[1-6]\d{2,4}$"),
}
SEPARATORS = " -.()/#"
GARBAGE = [
    "", " ", "+", "++33142685300", "+33 1 42 68 53 00 +", "abc", "*67", "0033-1-42-68",
    "٠١٢٣٤٥٦٧٨٩", "0\u00a0142685300", "\u2009+33142685300", "0\x1c142685300", "1" * 41,
    "+" + "9" * 40, "3" * 40, "#", "()", "0800 FLOWERS", "tel:+33142685300",
]  # fmt: skip


def example_numbers(region: str) -> Iterator[str]:
    """National significant numbers of the metadata's examples for `region`, of every type."""
    for kind in (
        PhoneNumberType.FIXED_LINE,
        PhoneNumberType.MOBILE,
        PhoneNumberType.TOLL_FREE,
        PhoneNumberType.PREMIUM_RATE,
        PhoneNumberType.SHARED_COST,
        PhoneNumberType.VOIP,
        PhoneNumberType.PERSONAL_NUMBER,
        PhoneNumberType.PAGER,
        PhoneNumberType.UAN,
        PhoneNumberType.VOICEMAIL,
    ):
        number = phonenumbers.example_number_for_type(region, kind)
        if number is not None:
            yield phonenumbers.national_significant_number(number)


def short_examples(region: str) -> list[str]:
    short = PhoneMetadata.short_metadata_for_region(region)
    if short is None:
        return []
    descs = [short.short_code, short.emergency, short.premium_rate, short.standard_rate]
    descs.append(short.toll_free)
    return [d.example_number for d in descs if d is not None and d.example_number]


def dialled(plan: DialPlan, rng: random.Random, count: int) -> list[str]:
    """`count` distinct numbers as people behind `plan` dial them (and some that are not)."""
    access = list(plan.access_codes)
    intl, national_prefix = plan.international_prefix, plan.national_prefix
    own = str(plan.country_code)
    codes = [str(code) for code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE]
    examples = {
        code: [n for r in regions for n in example_numbers(r)]
        for code, regions in (
            (str(c), rs) for c, rs in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.items()
        )
    }
    for code in phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS:
        number = phonenumbers.example_number_for_non_geo_entity(code)
        if number is not None:
            examples[str(code)].append(phonenumbers.national_significant_number(number))
    home = examples[own]
    shorts = short_examples(plan.region)

    def digits(low: int, high: int) -> str:
        return "".join(rng.choice("0123456789") for _ in range(rng.randint(low, high)))

    def mutate(number: str) -> str:
        keep = max(0, len(number) - rng.randint(0, 4))
        return number[:keep] + digits(len(number) - keep, len(number) - keep)

    def abroad(code: str, national: str) -> str:
        return rng.choice(
            [
                f"+{code}{national}",
                f"{intl}{code}{national}",
                f"{rng.choice(access)}{intl}{code}{national}",
                f"+{code}0{national}",
                f"{intl}{code}0{national}",
            ]
        )

    def at_home(national: str) -> str:
        return rng.choice(
            [
                f"{national_prefix}{national}",
                f"{rng.choice(access)}{national_prefix}{national}",
                national,
                f"{rng.choice(access)}{national}",
            ]
        )

    def local(national: str) -> str:
        for area in plan.local_area_codes:
            if national.startswith(area):
                return rng.choice(["", rng.choice(access)]) + national[len(area) :]
        area = rng.choice(plan.local_area_codes or ("",))
        return rng.choice(["", rng.choice(access)]) + mutate(national[len(area) :] or "5")

    def one() -> str:
        draw = rng.random()
        if draw < 0.25:  # random digits behind any calling code
            return abroad(rng.choice(codes), digits(0, 15))
        if draw < 0.45:  # near an allocated number of any country
            code = rng.choice(codes)
            return abroad(code, mutate(rng.choice(examples[code] or [digits(4, 12)])))
        if draw < 0.65:  # near an allocated number at home, with or without prefixes
            return at_home(mutate(rng.choice(home or [digits(4, 12)])))
        if draw < 0.72:  # without area code
            return local(rng.choice(home or [digits(4, 12)]))
        if draw < 0.82:  # random national digits
            return at_home(digits(1, 14))
        if draw < 0.9:  # short numbers, emergency numbers, extensions
            short = rng.choice([*shorts, "112", "911", "999", "110", "15", "17", "000", "100"])
            return rng.choice(["", rng.choice(access)]) + rng.choice([short, digits(2, 6)])
        if draw < 0.97:  # with separators
            text = rng.choice([at_home(rng.choice(home or ["1"])), abroad(own, digits(6, 12))])
            for _ in range(rng.randint(1, 4)):
                at = rng.randint(0, len(text))
                text = text[:at] + rng.choice(SEPARATORS) + text[at:]
            return text
        return rng.choice(GARBAGE) if rng.random() < 0.5 else digits(1, 45)

    found: set[str] = set()
    while len(found) < count:
        found.add(one())
    return sorted(found)


def reference(numbers: list[str], plan: DialPlan) -> list[tuple[str | None, str, str | None]]:
    out = []
    for number in numbers:
        got = classify_number(number, plan)
        out.append((got.e164, got.dest_class, got.dest_country))
    return out


@pytest.mark.parametrize(
    ("name", "plan", "count"),
    [*((name, plan, 9_000) for name, plan in PLANS.items()),
     *((name, plan, 2_000) for name, plan in ODD_PLANS.items())],
)  # fmt: skip
def test_column_path_agrees_with_classify_number(name: str, plan: DialPlan, count: int) -> None:
    numbers = dialled(plan, random.Random(f"columns-{name}"), count)
    result = classify_columns(pl.Series(numbers, dtype=pl.String), plan)
    expected = dict(zip(numbers, reference(numbers, plan), strict=True))
    got = {number: (e164, cls, country) for number, e164, cls, country in result.classified.rows()}
    wrong = [(n, got[n], expected[n]) for n in got if got[n] != expected[n]]
    assert not wrong, wrong[:10]
    assert len(got) + result.undecided.len() == len(numbers)
    # Only text with characters outside ASCII is left to the per-number path.
    assert all(not n.isascii() for n in result.undecided.to_list())
    assert result.classified["number"].to_list() == [n for n in numbers if n in got]
    if name == "FR":  # the numbers generated reach every class
        assert set(result.classified["dest_class"]) == {
            "international", "national", "local", "mobile", "toll_free", "premium",
            "shared_cost", "emergency", "internal", "unknown",
        }  # fmt: skip


def test_reader_reads_as_phonenumbers_parses() -> None:
    """Below the classes: what phonenumbers says of '+' + digits (E.164 form, validity, region,
    type, possibility), also where it does not change a class (a national prefix taken off a
    number that is too long anyway)."""
    tables = number_tables()
    assert tables is not None
    reader = columns_module._Reader(tables)
    rng = random.Random("reader")
    codes = [str(code) for code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE]
    # National prefixes for parsing with a transform rule, in the main region of their code:
    # Argentina's mobile 15 (0 11 15 2345 6789 -> 9 11 2345 6789), Brazil's carrier codes,
    # Japan, Madagascar, San Marino, Norfolk Island, Gabon -- and near misses.
    transforms = [
        "54011152345678", "540221152345678", "5411152345678", "5403543152345678",
        "55015119876543", "550211198765432", "5590211198765432", "55012212345678",
        "81000212345", "8100037680312345678", "810312345678",
        "2612123456", "26102123456", "378812345", "3789123456", "67212345", "672123456",
        "241011123456", "241060123456",
    ]  # fmt: skip
    random_digits = [
        rng.choice([*codes, *(n[:3] for n in transforms)])
        + rng.choice(["", "0", "1", "8", "9", "15", "011", "0221", "015"])
        + "".join(rng.choice("0123456789") for _ in range(rng.randint(0, 18)))
        for _ in range(15_000)
    ]
    near = [n[: len(n) - k] + d for n in transforms for k in (0, 1, 2) for d in ("", "5", "55")]
    numbers = sorted({*random_digits, *near})
    found, lost = reader.read(pl.DataFrame({"s": numbers}).with_row_index("req"))
    assert lost.len() == 0
    ours = {
        numbers[row["req"]]: (
            f"+{row['cc']}{row['nsn']}",
            row["valid"],
            row["region"],
            row["kind"],
            row["possible"],
        )
        for row in found.iter_rows(named=True)
    }
    wrong = [
        (n, ours.get(n), expected)
        for n in numbers
        if ours.get(n) != (expected := columns_module._reference(f"+{n}"))
    ]
    assert not wrong, wrong[:10]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.text(alphabet="0123456789+ -.()/#\t", max_size=22),
            st.from_regex(r"\A(\+|00|011|0|1|9)?[0-9]{1,16}\Z"),
            st.text(max_size=8),
        ),
        min_size=1,
        max_size=30,
        unique=True,
    ),
    st.sampled_from(sorted(PLANS)),
)
def test_any_text_is_read_alike(values: list[str], region: str) -> None:
    plan = PLANS[region]
    result = classify_columns(pl.Series(values, dtype=pl.String), plan)
    for number, e164, dest_class, country in result.classified.rows():
        assert (e164, dest_class, country) == reference([number], plan)[0], number


def test_classify_numbers_reads_by_column_from_a_thousand_numbers(
    classified_one_by_one: list[str],
) -> None:
    plan = PLANS["US"]
    numbers = dialled(plan, random.Random("many"), 1_500)
    seen = classified_one_by_one
    progress: list[tuple[int, int]] = []
    frame = classify_numbers(
        pl.Series([*numbers, *numbers[:10], None]),
        plan,
        progress=lambda step: progress.append((step.done, step.total or 0)),
    )
    assert frame["number"].to_list() == numbers  # distinct, in their first order
    assert seen == [n for n in numbers if not n.isascii()]
    assert progress[0] == (len(numbers) - len(seen), len(numbers))
    assert progress[-1] == (len(numbers), len(numbers))
    seen.clear()
    assert classify_numbers(pl.Series(numbers[:999]), plan).height == 999
    assert len(seen) == 999  # below `COLUMNS_FROM`: one by one


def test_a_failing_column_path_leaves_every_number_to_the_per_number_path(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def failing(numbers: pl.Series, plan: DialPlan) -> None:
        raise pl.exceptions.ComputeError("regex error: a pattern this Polars does not take")

    monkeypatch.setattr(classify_module, "classify_columns", failing)
    plan = PLANS["GB"]
    numbers = dialled(plan, random.Random("failing"), 1_000)
    with caplog.at_level(logging.WARNING):
        frame = classify_numbers(pl.Series(numbers), plan)
    assert frame.rows() == [
        (n, *found) for n, found in zip(numbers, reference(numbers, plan), strict=True)
    ]
    assert "classifying by column failed" in caplog.text


def test_numbers_the_column_path_leaves_are_read_one_by_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A calling code whose metadata is not portable goes to the per-number path, with the
    same answers."""
    tables = number_tables()
    assert tables is not None
    plan = PLANS["FR"]
    numbers = dialled(plan, random.Random("unportable"), 1_500)
    reader = columns_module._Reader(dataclasses.replace(tables, unportable=frozenset({"33"})))
    monkeypatch.setattr(columns_module, "_reader", lambda: reader)
    result = classify_columns(pl.Series(numbers), plan)
    expected = reference(numbers, plan)
    french = {
        number
        for number, (_, dest_class, country) in zip(numbers, expected, strict=True)
        if country == "FR" and dest_class != "emergency"
    }
    assert len(french) > 300
    assert french <= set(result.undecided.to_list())
    frame = classify_numbers(pl.Series(numbers), plan)
    assert frame.rows() == [(n, *found) for n, found in zip(numbers, expected, strict=True)]


def test_unreadable_metadata_leaves_everything_to_the_per_number_path(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    class Changed:
        """What a future phonenumbers might return: no `general_desc` any more."""

        country_code = 33

    monkeypatch.setattr(
        phonenumbers.PhoneMetadata,
        "metadata_for_region_or_calling_code",
        classmethod(lambda cls, code, region: Changed()),
    )
    metadata_module._load.cache_clear()
    columns_module._reader_for.cache_clear()
    try:
        with caplog.at_level(logging.WARNING):
            assert number_tables() is None
            assert not columns_module.column_path_available()
        assert "every number is classified one by one" in caplog.text
        numbers = pl.Series(["0142685300", "112", "4321"])
        result = classify_columns(numbers, PLANS["FR"])
        assert result.classified.height == 0
        assert result.undecided.to_list() == numbers.to_list()
    finally:
        monkeypatch.undo()
        metadata_module._load.cache_clear()
        columns_module._reader_for.cache_clear()
    assert columns_module.column_path_available()


def test_a_calling_code_read_unlike_phonenumbers_is_left_to_it(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Each calling code is checked against phonenumbers on the metadata's examples before
    its numbers are read by column; one that disagrees is left to the per-number path."""
    tables = number_tables()
    assert tables is not None
    real = columns_module._reference

    def changed(number: str) -> tuple[str, bool, str | None, int, bool] | None:
        found = real(number)
        if found is not None and number.startswith("+49"):
            return (found[0], not found[1], *found[2:])
        return found

    monkeypatch.setattr(columns_module, "_reference", changed)
    reader = columns_module._Reader(tables)
    monkeypatch.setattr(columns_module, "_reader", lambda: reader)
    with caplog.at_level(logging.WARNING):
        result = classify_columns(pl.Series(["+4930123456", "+33142685300"]), PLANS["FR"])
    assert result.undecided.to_list() == ["+4930123456"]
    assert result.classified["number"].to_list() == ["+33142685300"]
    assert "reads +49" in caplog.text


def test_short_numbers_read_unlike_phonenumbers_leave_the_plan_to_it(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    tables = number_tables()
    assert tables is not None
    monkeypatch.setattr(columns_module, "_short_reference", lambda digits, region: (None, True))
    reader = columns_module._Reader(tables)
    monkeypatch.setattr(columns_module, "_reader", lambda: reader)
    with caplog.at_level(logging.WARNING):
        result = classify_columns(pl.Series(["112", "+33142685300"]), PLANS["FR"])
    assert result.classified.height == 0
    assert result.undecided.to_list() == ["112", "+33142685300"]
    assert "in FR" in caplog.text


def test_cache_stores_what_the_column_path_found() -> None:
    import duckdb

    plan = PLANS["DE"]
    numbers = dialled(plan, random.Random("cache"), 1_100)
    con = duckdb.connect()
    first = classify_with_cache(con, pl.Series(numbers), plan)
    again = classify_with_cache(con, pl.Series(numbers), plan)
    assert sorted(first.rows()) == sorted(again.rows())
    expected = dict(zip(numbers, reference(numbers, plan), strict=True))
    assert {row[0]: row[1:] for row in first.rows()} == expected
    stored = con.execute("SELECT count(*) FROM number_classes").fetchall()[0][0]
    assert stored == len(numbers)
    con.close()


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        (r"[2-9]\d{9}|3\d{6}", True),
        (r"(?:1[0-2]|2)\d{3,5}", True),
        (r"^\d{3,6}$", True),
        (r"(?=1)\d+", False),  # look-ahead: Rust has none
        (r"(\d)\1", False),  # back-reference
        (r"\d{,3}", False),  # Python: 0 to 3; Rust: an error
        (r"[[:digit:]]", False),  # a POSIX class to Rust, a set of characters to Python
        (r"[0-9--5]", False),  # class subtraction in Rust
        (r"\d*+", False),  # possessive in Python 3.11
        (r"\p{N}", False),
        (r"\d\Z", False),
    ],
)
def test_portable_patterns(pattern: str, expected: bool) -> None:
    assert portable(pattern) is expected


def test_metadata_tables_hold_every_calling_code() -> None:
    tables = number_tables()
    assert tables is not None
    assert tables.version == phonenumbers.__version__
    assert set(tables.regions_of) == {str(c) for c in phonenumbers.COUNTRY_CODE_TO_REGION_CODE}
    assert tables.regions_of["1"][0] == "US"
    assert tables.main("7").region == "RU"
    assert tables.region("800", "001").general.pattern
    argentina = tables.main("54").national_prefix
    assert argentina is not None
    assert argentina.transform == "9${1}"
    assert not tables.unportable
    assert not tables.short_unportable
