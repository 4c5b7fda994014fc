"""Number normalisation and destination classes, hand-checked per dial-plan form."""

from __future__ import annotations

import duckdb
import phonenumbers
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from phonenumbers import PhoneNumberType

from callacct.errors import ConfigError
from callacct.rating import (
    DEST_CLASSES,
    Classification,
    DestClass,
    DialPlan,
    classify_number,
    classify_numbers,
    classify_with_cache,
    normalise_number,
    parse_dial_plan,
)
from callacct.rating import classify as classify_module

PARIS = DialPlan.for_region("FR", local_area_codes=("1",))
NYC = DialPlan.for_region("US", local_area_codes=("212", "646", "917"))
LONDON = DialPlan.for_region("GB", local_area_codes=("20",))
BERLIN = DialPlan.for_region("DE", local_area_codes=("30",))


def example(region: str, kind: int) -> str:
    """The national significant number of libphonenumber's example of `kind` in `region`."""
    number = phonenumbers.example_number_for_type(region, kind)
    assert number is not None
    return phonenumbers.national_significant_number(number)


def check(
    raw: str, plan: DialPlan, e164: str | None, dest_class: DestClass, country: str | None
) -> None:
    assert classify_number(raw, plan) == Classification(e164, dest_class, country), raw


def test_plan_defaults_come_from_metadata() -> None:
    assert (PARIS.access_codes, PARIS.international_prefix, PARIS.national_prefix) == (
        ("0",),
        "00",
        "0",
    )
    assert (NYC.access_codes, NYC.international_prefix, NYC.national_prefix) == (("9",), "011", "1")
    assert (LONDON.international_prefix, BERLIN.national_prefix) == ("00", "0")
    assert DialPlan.for_region("RU").international_prefix == "810"  # metadata says "8~10"
    assert DialPlan.for_region("IT").national_prefix == ""


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"region": "XX"}, "key 'region': 'XX' is not an ISO country code"),
        ({"region": "FR", "access_codes": ["0a"]}, "key 'access_codes': access code '0a'"),
        ({"region": "FR", "extension_pattern": "("}, "key 'extension_pattern': '('"),
        ({"region": "FR", "colour": "blue"}, "key 'colour': unknown field"),
    ],
)
def test_plan_errors_are_one_line_with_the_field(raw: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_dial_plan(raw)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_plan_key_is_stable_and_changes_with_fields() -> None:
    assert PARIS.key == DialPlan.for_region("FR", local_area_codes=("1",)).key
    assert PARIS.key != DialPlan.for_region("FR").key


@pytest.mark.parametrize(
    "raw",
    ["0 01 42 68 53 00", "00142685300", "0142685300", "142685300", "+33 1 42 68 53 00",
     "0 0033 1 42 68 53 00", "0033142685300", "01.42.68.53.00#"],
)  # fmt: skip
def test_paris_fixed_line_in_every_form_is_local(raw: str) -> None:
    check(raw, PARIS, "+33142685300", "local", "FR")


def test_france() -> None:
    check("00612345678", PARIS, "+33612345678", "mobile", "FR")
    check(
        "0 0" + example("FR", PhoneNumberType.TOLL_FREE), PARIS, "+33801234567", "toll_free", "FR"
    )
    check(
        "0 0" + example("FR", PhoneNumberType.PREMIUM_RATE), PARIS, "+33891123456", "premium", "FR"
    )
    shared = example("FR", PhoneNumberType.SHARED_COST)
    check(f"00{shared}", PARIS, f"+33{shared}", "shared_cost", "FR")
    check("0 05 56 00 00 00", PARIS, "+33556000000", "national", "FR")  # Bordeaux
    check("0 0044 20 7946 0958", PARIS, "+442079460958", "international", "GB")
    check("0 00 1 212 555 0100", PARIS, "+12125550100", "international", "US")
    for short in ("112", "15", "17", "18", "015"):
        check(short, PARIS, short.removeprefix("0"), "emergency", "FR")
    check("0 118 712", PARIS, "118712", "premium", "FR")  # directory enquiries


def test_united_states() -> None:
    check("9 1 212 555 0100", NYC, "+12125550100", "local", "US")
    check("9 1 917 555 0100", NYC, "+19175550100", "local", "US")
    check("9 212 555 0100", NYC, "+12125550100", "local", "US")  # 10-digit dialling
    check("9 555 0100", NYC, "+12125550100", "local", "US")  # 7-digit: first local area code
    check("9 1 312 555 0100", NYC, "+13125550100", "national", "US")  # Chicago
    check("13125550100", NYC, "+13125550100", "national", "US")  # access code already stripped
    check("9 011 33 1 42 68 53 00", NYC, "+33142685300", "international", "FR")
    check("9 1 416 555 0123", NYC, "+14165550123", "international", "CA")  # same +1, Canada
    check("9 1 800 234 5678", NYC, "+18002345678", "toll_free", "US")
    check("9 1 900 234 5678", NYC, "+19002345678", "premium", "US")
    check("+1 (212) 555-0100", NYC, "+12125550100", "local", "US")
    check("911", NYC, "911", "emergency", "US")
    check("9911", NYC, "911", "emergency", "US")


def test_united_kingdom() -> None:
    check("9 020 7946 0958", LONDON, "+442079460958", "local", "GB")
    check("9 0121 234 5678", LONDON, "+441212345678", "national", "GB")
    mobile = example("GB", PhoneNumberType.MOBILE)
    check(f"90{mobile}", LONDON, f"+44{mobile}", "mobile", "GB")
    check("9 0800 123 4567", LONDON, "+448001234567", "toll_free", "GB")
    check("9 0901 234 5678", LONDON, "+449012345678", "premium", "GB")
    check("9 00 33 1 42 68 53 00", LONDON, "+33142685300", "international", "FR")
    check("999", LONDON, "999", "emergency", "GB")


def test_germany() -> None:
    check("0 030 123456", BERLIN, "+4930123456", "local", "DE")
    check("0 123456", BERLIN, "+4930123456", "local", "DE")  # local dialling, no area code
    mobile = example("DE", PhoneNumberType.MOBILE)
    check(f"00{mobile}", BERLIN, f"+49{mobile}", "mobile", "DE")
    check("0 0800 1234567890", BERLIN, "+498001234567890", "toll_free", "DE")
    check("0 0900 1234567", BERLIN, "+499001234567", "premium", "DE")
    check("0 00 33 1 42 68 53 00", BERLIN, "+33142685300", "international", "FR")
    check("0110", BERLIN, "110", "emergency", "DE")


def test_unknown_internal_and_garbage() -> None:
    check("0 00 999 123 456 789", PARIS, None, "unknown", None)  # +999 is not assigned
    check("9 011 999 123 456 789", NYC, None, "unknown", None)
    check("4321", PARIS, None, "internal", None)
    check("211", NYC, None, "internal", None)
    for garbage in ("", "   ", "abc", "+", "*67", "++33142685300", "٠١٢٣٤٥٦٧٨٩"):
        check(garbage, PARIS, None, "unknown", None)
    assert normalise_number("4321", PARIS) is None
    assert normalise_number("0 0033 6 12 34 56 78", PARIS) == "+33612345678"


def test_classify_numbers_one_row_per_distinct_number() -> None:
    numbers = pl.Series(["00612345678", "00612345678", None, "112", "4321"])
    frame = classify_numbers(numbers, PARIS)
    assert frame.columns == ["number", "e164", "dest_class", "dest_country"]
    assert frame.rows() == [
        ("00612345678", "+33612345678", "mobile", "FR"),
        ("112", "112", "emergency", "FR"),
        ("4321", None, "internal", None),
    ]
    assert classify_numbers(pl.Series([], dtype=pl.String), PARIS).height == 0


def test_cache_classifies_each_distinct_number_once(classified_one_by_one: list[str]) -> None:
    seen = classified_one_by_one
    con = duckdb.connect()
    first = classify_with_cache(con, pl.Series(["00612345678", "112", "00612345678"]), PARIS)
    assert sorted(seen) == ["00612345678", "112"]
    assert first.height == 2

    seen.clear()
    again = classify_with_cache(con, pl.Series(["112", "00612345678", "4321", None]), PARIS)
    assert seen == ["4321"]
    assert sorted(again.rows()) == [
        ("00612345678", "+33612345678", "mobile", "FR"),
        ("112", "112", "emergency", "FR"),
        ("4321", None, "internal", None),
    ]
    assert con.execute("SELECT count(*) FROM number_classes").fetchall() == [(3,)]

    seen.clear()
    classify_with_cache(con, pl.Series(["112"]), NYC)  # another plan: its own entries
    assert seen == ["112"]
    assert con.execute("SELECT count(*) FROM number_classes").fetchall() == [(4,)]
    con.close()


def test_numbers_classified_and_not_written_yet_are_found_and_not_written_twice(
    classified_one_by_one: list[str],
) -> None:
    seen = classified_one_by_one
    con = duckdb.connect()
    pending = classify_module.PendingNumbers()
    first = classify_with_cache(con, pl.Series(["112", "00612345678"]), PARIS, pending=pending)
    assert first.height == 2
    assert con.execute("SELECT count(*) FROM number_classes").fetchall() == [(0,)]
    taken = pending.take()
    seen.clear()
    # Not in the store yet: found among the pending ones, not classified again.
    again = classify_with_cache(con, pl.Series(["112", "4321"]), PARIS, pending=pending)
    assert seen == ["4321"]
    assert sorted(again["number"].to_list()) == ["112", "4321"]
    classify_module.PendingNumbers.write(con, taken)
    pending.written(taken)
    # Written: found in the store; the rest is still pending, then written once.
    seen.clear()
    third = classify_with_cache(
        con, pl.Series(["112", "4321", "00612345678"]), PARIS, pending=pending
    )
    assert seen == []
    assert sorted(third.rows()) == sorted([*first.rows(), ("4321", None, "internal", None)])
    rest = pending.take()
    classify_module.PendingNumbers.write(con, rest)
    pending.written(rest)
    assert pending.take() == []
    count = "SELECT count(*), count(DISTINCT number) FROM number_classes"
    assert con.execute(count).fetchall() == [(3, 3)]
    con.close()


def test_pending_numbers_are_taken_in_whole_multiples_the_rest_stays_found(
    classified_one_by_one: list[str],
) -> None:
    con = duckdb.connect()
    pending = classify_module.PendingNumbers()
    numbers = ["4321", "4322", "4323", "4324", "4325"]
    classify_with_cache(con, pl.Series(numbers[:2]), PARIS, pending=pending)
    assert pending.take(whole=3) == []  # two: not a whole three yet
    classify_with_cache(con, pl.Series(numbers[2:]), PARIS, pending=pending)
    (taken,) = pending.take(whole=3)
    assert taken.height == 3
    assert pending.take(whole=3) == []  # two left, found while pending
    classified_one_by_one.clear()
    found = classify_with_cache(con, pl.Series(numbers), PARIS, pending=pending)
    assert sorted(found["number"].to_list()) == numbers
    assert classified_one_by_one == []
    classify_module.PendingNumbers.write(con, [taken])
    pending.written([taken])
    rest = pending.take()
    assert sum(frame.height for frame in rest) == 2
    classify_module.PendingNumbers.write(con, rest)
    pending.written(rest)
    count = "SELECT count(*), count(DISTINCT number) FROM number_classes"
    assert con.execute(count).fetchall() == [(5, 5)]
    con.close()


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.text(),
            st.text(alphabet="0123456789+ -#()", max_size=20),
            st.from_regex(r"\A[09]{0,2}(00|011)?[0-9]{1,15}\Z"),
        ),
        max_size=8,
    )
)
def test_classify_numbers_never_raises(values: list[str]) -> None:
    for plan in (PARIS, NYC):
        frame = classify_numbers(pl.Series(values, dtype=pl.String), plan)
        assert frame.height == len(set(values))
        assert set(frame["dest_class"].to_list()) <= set(DEST_CLASSES)
        for e164, dest_class in frame.select("e164", "dest_class").iter_rows():
            if e164 is not None and e164.startswith("+"):
                assert phonenumbers.is_possible_number(phonenumbers.parse(e164)), e164
            assert dest_class != "internal" or e164 is None


def test_many_new_numbers_are_classified_by_worker_processes_the_same(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    numbers = [
        *(f"00{n}" for n in range(612345600, 612345700)),  # French mobiles
        *(f"0014{n}" for n in range(2685300, 2685400)),  # Paris, dialled with the access code
        *(f"0{n}" for n in range(800100100, 800100150)),  # toll free
        *(str(n) for n in range(2000, 2050)),  # extensions
        "112",
        "15",
        "not a number",
        "0099999999999999",
    ]
    series = pl.Series(numbers)
    serial = classify_numbers(series, PARIS, parallel_from=10**9)
    monkeypatch.setattr(classify_module, "_SLICE", 40)  # several slices, so several workers
    seen: list[tuple[int, int]] = []
    parallel = classify_numbers(
        series,
        PARIS,
        workers=2,
        parallel_from=1,
        progress=lambda step: seen.append((step.done, step.total or 0)),
    )
    assert parallel.rows() == serial.rows()
    assert len(seen) == -(-len(numbers) // 40)
    assert seen[-1] == (len(numbers), len(numbers))
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)
