"""Tariff files: every problem reported with line and column before anything is stored;
versions by valid-from date; a deck alone as a new version; shipped examples are valid."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pytest

from callacct.errors import NotFoundError, UsageError
from callacct.rating import TariffError, import_tariff
from callacct.rating.tariff import EXAMPLE_TARIFFS, describe_plans, load_rates, show_plan
from callacct.store import Store
from tests.rating.helpers import HEADER, write_plan

BANDS = [{"name": "peak", "days": ["mon-fri"], "start": "08:00", "end": "19:00"}]


def problems(store: Store, path: Path, **kwargs: object) -> list[tuple[int | None, str, str]]:
    with pytest.raises(TariffError) as caught:
        import_tariff(store.con, path, **kwargs)  # type: ignore[arg-type]
    assert store.con.execute("SELECT count(*) FROM tariff_rates").fetchall() == [(0,)]
    return [(p.line, p.key, p.message) for p in caught.value.problems]


def test_every_problem_is_listed_with_line_and_column(store: Store, tmp_path: Path) -> None:
    rows = [
        "33,France,national,0.02,0,30,1,0,",  # line 2: fine
        "33,France again,national,0.03,0,30,1,0,",  # 3: duplicate prefix
        "44,UK,international,-0.01,0,30,6,0,",  # 4: negative price
        "49,Germany,international,0.04,0,0,6,0,",  # 5: zero increment
        "39,Italy,intl,0.04,0,30,6,0,",  # 6: unknown class
        "34,Spain,international,0.04,0,30,6,0,night",  # 7: unknown band
        "3x,Bad,international,0.04,0,30,6,0,",  # 8: bad prefix
        "41,Swiss,international,0.0400001,0,30,6,0,",  # 9: too many decimals
        "32,Belgium,international,0.04,0,30",  # 10: wrong field count
        ",No class,,0.5,0,60,60,0,",  # 11: class default without class
        "33,France peak,national,0.05,0,30,1,0,peak",  # 12: fine (another band)
    ]
    found = problems(store, write_plan(tmp_path, "p", rows, bands=BANDS))
    assert found == [
        (3, "prefix", "duplicate prefix 33 (first on line 2)"),
        (4, "price_per_min", "negative amount; prices are 0 or more"),
        (5, "initial_increment_s", "increment must be at least 1 second"),
        (6, "class", found[3][2]),
        (7, "band", "unknown band; the plan defines peak"),
        (8, "prefix", "prefix must be digits (a leading '+' is allowed), at most 15"),
        (9, "price_per_min", found[6][2]),
        (10, "", "6 fields, the header has 9"),
        (11, "class", "a row without prefix is a class default and needs a class"),
    ]
    assert "unknown class" in found[3][2]
    assert "at most 6 decimals" in found[6][2]


def test_header_and_plan_file_problems(store: Store, tmp_path: Path) -> None:
    deck = tmp_path / "d.csv"
    deck.write_text("prefix,price,cost\n33,1,2\n")
    plan = tmp_path / "p.yaml"
    plan.write_text("plan: p\ncurrency: EUR\nvalid_from: 2026-01-01\ndeck: d.csv\n")
    found = problems(store, plan)
    assert (1, "price", "unknown column; use " + HEADER.replace(",", ", ")) in found
    assert (1, "price_per_min", "required column is missing") in found
    plan.write_text("plan: P Q\ncurrency: euro\nvalid_from: someday\ndeck: d.csv\nfee: 1\n")
    keys = {column for _, column, _ in problems(store, plan)}
    assert keys == {"plan", "currency", "valid_from", "fee"}
    plan.write_text("plan: [unclosed\n")
    assert "not valid YAML" in problems(store, plan)[0][2]


def test_bad_bands_in_the_plan(store: Store, tmp_path: Path) -> None:
    bad = [{"name": "x", "days": ["mon-funday"]}, {"name": "y", "start": "25:00"}]
    found = problems(store, write_plan(tmp_path, "p", ["33,F,national,1,0,1,1,0,"], bands=bad))
    assert [column for _, column, _ in found] == ["bands[0].days", "bands[1].start"]


def test_versions_by_valid_from(store: Store, tmp_path: Path) -> None:
    first = import_tariff(store.con, write_plan(tmp_path, "p", ["33,F,national,0.02,0,1,1,0,"]))
    assert (first.version, first.replaced, first.rates) == (1, False, 1)
    later = write_plan(
        tmp_path, "p", ["33,F,national,0.03,0,1,1,0,", "44,UK,,0.04,0,1,1,0,"],
        valid_from="2026-11-15",
    )  # fmt: skip
    second = import_tariff(store.con, later)
    assert (second.version, second.replaced, second.rates) == (2, False, 2)
    again = import_tariff(store.con, later)
    assert (again.version, again.replaced) == (2, True)
    plans = describe_plans(store.con)
    assert [v["valid_from"] for v in plans[0]["versions"]] == ["2026-01-01", "2026-11-15"]
    assert load_rates(store.con).height == 3


def test_a_deck_alone_is_a_new_version_of_a_known_plan(store: Store, tmp_path: Path) -> None:
    import_tariff(
        store.con,
        write_plan(tmp_path, "p", ["33,F,national,0.02,0,1,1,0,peak"], bands=BANDS, decimals=3),
    )
    deck = tmp_path / "new.csv"
    deck.write_text(HEADER + "\n33,F,national,0.01,0,1,1,0,peak\n")
    report = import_tariff(store.con, deck, plan="p", valid_from=dt.date(2026, 6, 1))
    assert report.version == 2
    shown = show_plan(store.con, "p")
    assert (shown["version"], shown["decimals"], shown["bands"][0]["name"]) == (2, 3, "peak")
    assert shown["rates"][0]["price_per_min"] == "0.01"
    with pytest.raises(UsageError, match="--plan NAME and --valid-from"):
        import_tariff(store.con, deck)
    with pytest.raises(NotFoundError, match="no tariff plan 'q'"):
        import_tariff(store.con, deck, plan="q", valid_from=dt.date(2026, 6, 1))


def test_dry_run_stores_nothing(store: Store, tmp_path: Path) -> None:
    report = import_tariff(
        store.con, write_plan(tmp_path, "p", ["33,F,national,1,0,1,1,0,"]), dry_run=True
    )
    assert (report.rates, report.dry_run) == (1, True)
    assert store.con.execute("SELECT count(*) FROM tariff_plans").fetchall() == [(0,)]


def test_only_one_default_plan(store: Store, tmp_path: Path) -> None:
    import_tariff(store.con, write_plan(tmp_path, "a", ["33,F,,1,0,1,1,0,"], default=True))
    second = write_plan(tmp_path, "b", ["33,F,,1,0,1,1,0,"], default=True)
    # Taking the default from another plan is refused unless asked for, naming the line.
    with pytest.raises(TariffError) as caught:
        import_tariff(store.con, second)
    assert str(caught.value) == (
        f"{second}:5: default: 'a' is the default plan; import with --replace-default to make "
        "'b' the default instead, or set default: false; nothing was stored"
    )
    assert [p["default"] for p in describe_plans(store.con)] == [True]
    report = import_tariff(store.con, second, replace_default=True)
    assert report.warnings == ["'a' is no longer the default plan; 'b' is"]
    assert [p["default"] for p in describe_plans(store.con)] == [False, True]
    # The default plan imported again as the default needs nothing more.
    assert import_tariff(store.con, second).warnings == []
    # Importing it with default: false says the workspace now has no default plan.
    dropped = import_tariff(store.con, write_plan(tmp_path, "b", ["33,F,,1,0,1,1,0,"]))
    assert dropped.warnings == [
        "'b' was the default plan and is not any more (default: false): calls whose gateway "
        "no plan claims are not priced",
        "'b' has no gateways pattern and is not the default plan: it prices no call",
    ]


def test_semicolons_bom_and_defaults(store: Store, tmp_path: Path) -> None:
    deck = tmp_path / "d.csv"
    deck.write_bytes("\ufeffprefix;price_per_min\n+33;0,5\n44;0.5\n".encode())
    plan = tmp_path / "p.yaml"
    plan.write_text("plan: p\ncurrency: EUR\nvalid_from: 2026-01-01\ndeck: d.csv\n")
    found = problems(store, plan)
    assert found == [(2, "price_per_min", found[0][2])]  # '0,5' is not an amount
    deck.write_bytes("\ufeffprefix;price_per_min\n+33;0.5\n44;0.5\n".encode())
    import_tariff(store.con, plan)
    rate = show_plan(store.con, "p")["rates"][0]
    assert (rate["prefix"], rate["initial_increment_s"], rate["connect_fee"]) == ("33", 60, "0.00")


def test_shipped_examples_are_valid(store: Store) -> None:
    assert {p.stem for p in EXAMPLE_TARIFFS} == {"fr-carrier", "us-carrier"}
    currencies = {import_tariff(store.con, p).currency for p in EXAMPLE_TARIFFS}
    assert currencies == {"EUR", "USD"}


def test_amounts_too_large_for_exact_arithmetic(store: Store, tmp_path: Path) -> None:
    rows = ["33,F,,1000000.000001,0,1,1,0,", "44,UK,,1,1000001,1,1,0,", "49,DE,,1,0,1,1,9999999,"]
    found = problems(store, write_plan(tmp_path, "p", rows))
    assert [(line, column) for line, column, _ in found] == [
        (2, "price_per_min"),
        (3, "connect_fee"),
        (4, "min_charge"),
    ]
    assert all(message == "amount above 1,000,000; check the unit" for *_, message in found)


# -- references inside a plan, duplicate keys, values that do not exist ------------------------

PEAK_OFFPEAK = [
    {"name": "peak", "days": ["mon-fri"], "start": "08:00", "end": "19:00"},
    {"name": "offpeak", "days": ["mon-sun"]},
]
BOTH_BANDS = ["33,F,national,0.02,0,1,1,0,peak", "33,F,national,0.01,0,1,1,0,offpeak"]


def test_holiday_band_must_be_a_band_of_the_plan(store: Store, tmp_path: Path) -> None:
    path = write_plan(
        tmp_path, "p", BOTH_BANDS, bands=PEAK_OFFPEAK, holidays=["2026-12-25"],
        holiday_band="weekend",
    )  # fmt: skip
    line = path.read_text().splitlines().index("holiday_band: weekend") + 1
    assert problems(store, path) == [
        (
            line,
            "holiday_band",
            "'weekend' is not a band of this plan (it defines peak, offpeak); name one of its "
            "bands, or add the band to bands",
        )
    ]
    path = write_plan(tmp_path, "p", BOTH_BANDS, bands=PEAK_OFFPEAK, holidays=["2026-12-25"])
    assert [(key, message) for _, key, message in problems(store, path)] == [
        ("holidays", "holidays need a holiday_band: the band whose rates price calls on those days")
    ]
    path = write_plan(
        tmp_path, "p", BOTH_BANDS, bands=PEAK_OFFPEAK, holidays=["2026-12-25"],
        holiday_band="offpeak",
    )  # fmt: skip
    assert import_tariff(store.con, path).rates == 2


def test_every_band_is_priced_or_rows_without_band_price_it(store: Store, tmp_path: Path) -> None:
    path = write_plan(tmp_path, "p", BOTH_BANDS[:1], bands=PEAK_OFFPEAK)
    (found,) = problems(store, path)
    assert found[1:] == (
        "bands[1].name",
        "no deck row prices band 'offpeak' and every row names a band: its calls would cost "
        "nothing; add rows for it, or band-less rows",
    )
    assert found[0] == path.read_text().splitlines().index("- name: offpeak") + 1
    # A deck alone for the plan is held to the same rule.
    import_tariff(store.con, write_plan(tmp_path, "p", BOTH_BANDS, bands=PEAK_OFFPEAK))
    deck = tmp_path / "peak-only.csv"
    deck.write_text(HEADER + "\n" + BOTH_BANDS[0] + "\n")
    with pytest.raises(TariffError, match="no deck row prices band 'offpeak'"):
        import_tariff(store.con, deck, plan="p", valid_from=dt.date(2026, 6, 1))
    # Band-less rows price any band.
    rows = [BOTH_BANDS[0], "33,F,national,0.01,0,1,1,0,"]
    assert import_tariff(store.con, write_plan(tmp_path, "p", rows, bands=PEAK_OFFPEAK)).rates == 2


def test_a_band_defined_twice_names_its_line(store: Store, tmp_path: Path) -> None:
    path = write_plan(tmp_path, "p", BOTH_BANDS, bands=[*PEAK_OFFPEAK, dict(PEAK_OFFPEAK[0])])
    (found,) = problems(store, path)
    assert found == (
        path.read_text().splitlines().index("- name: peak", 10) + 1,
        "bands[2].name",
        "band 'peak' is defined twice (first as bands[0])",
    )


def test_duplicate_keys_in_a_plan_are_refused(store: Store, tmp_path: Path) -> None:
    (tmp_path / "d.csv").write_text(HEADER + "\n33,F,,1,0,1,1,0,\n")
    plan = tmp_path / "p.yaml"
    plan.write_text("plan: p\ncurrency: EUR\nvalid_from: 2026-01-01\ncurrency: USD\ndeck: d.csv\n")
    assert problems(store, plan) == [(4, "currency", "appears twice (lines 2 and 4); keep one")]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("valid_from: 2026-02-30",
         (3, "valid_from", "'2026-02-30' is not a valid date (day is out of range for month)")),
        ("valid_from: 2026-01-01\nholidays: [2026-13-01]",
         (4, "holidays[0]", "'2026-13-01' is not a valid date (month must be in 1..12)")),
        ('valid_from: "2026-02-30"',
         (3, "valid_from", "Input should be a valid date or datetime, day value is outside "
                           "expected range")),
        ("valid_from: 2026-01-01\ndecimals: " + "9" * 30,
         (4, "decimals", "Input should be less than or equal to 6")),
        ("valid_from: 2026-01-01\nbands: [{name: day, start: 08:00, end: 19:00}]",
         (4, "bands[0].end", '1140 is not a time HH:MM; put times in quotes, e.g. "19:00" '
                             "(without them YAML reads 19:00 as a number)")),
        ("valid_from: 2026-01-01\ngateways: '^(PAR'",
         (4, "gateways", "'^(PAR' is not a valid regular expression: missing ), unterminated "
                         "subpattern at position 1")),
    ],
)  # fmt: skip
def test_impossible_values_are_problems_with_their_line(
    store: Store, tmp_path: Path, line: str, expected: tuple[int, str, str]
) -> None:
    (tmp_path / "d.csv").write_text(HEADER + "\n33,F,,1,0,1,1,0,\n")
    plan = tmp_path / "p.yaml"
    plan.write_text(f"plan: p\ncurrency: EUR\n{line}\ndeck: d.csv\n")
    assert problems(store, plan) == [expected]


def test_a_yaml_bomb_or_a_huge_plan_is_refused_quickly(store: Store, tmp_path: Path) -> None:
    from tests.test_yamlfile import BILLION_LAUGHS

    plan = tmp_path / "p.yaml"
    plan.write_text(BILLION_LAUGHS)
    began = time.perf_counter()
    assert "aliases expand the document" in problems(store, plan)[0][2]
    assert time.perf_counter() - began < 1
    plan.write_text("plan: p\n" + "# padding\n" * 200_000)
    assert "too large for this file" in problems(store, plan)[0][2]
