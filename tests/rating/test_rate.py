"""Rating calls in the store: plans by gateway, versions by local date, bands in the site's
time zone (midnight, DST), longest prefix, class defaults, split calls, re-rating, explain."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from callacct.config import Settings
from callacct.errors import NotFoundError
from callacct.rating import explain_call, import_tariff, rate_calls, rate_new
from callacct.store import Store, open_store
from tests.rating.helpers import insert_calls, utc, write_plan

SETTINGS = Settings.model_validate(
    {
        "general": {"country": "FR", "timezone": "Europe/Paris", "currency": "EUR"},
        "dialplan": {"access_codes": ["0"], "extension_pattern": r"^\d{4}$"},
        "sites": {
            "NYC": {
                "region": "US",
                "timezone": "America/New_York",
                "access_codes": ["9"],
                "extensions": r"^3\d{3}$",
            }
        },
    }
)
DAY_NIGHT = [
    {"name": "day", "days": ["mon-sun"], "start": "07:00", "end": "19:00"},
    {"name": "night", "days": ["mon-sun"], "start": "19:00", "end": "07:00"},
]
WEEK = [
    {"name": "weekday", "days": ["mon-fri"]},
    {"name": "weekend", "days": ["sat-sun"]},
]
PARIS_MOBILE = "0612345678"  # +33612345678


def rated(store: Store, ids: list[int]) -> list[dict[str, Any]]:
    frame = store.con.execute(
        "SELECT call_id, dest_class, dest_country, remote_number, plan_id, plan_version, "
        "rate_prefix, rate_band, billed_s, cost, currency FROM calls "
        "WHERE call_id IN (SELECT unnest(?::BIGINT[]))",
        [ids],
    ).fetchall()
    keys = ("call_id", "dest_class", "dest_country", "remote_number", "plan_id",
            "plan_version", "rate_prefix", "rate_band", "billed_s", "cost", "currency")  # fmt: skip
    by_id = {row[0]: dict(zip(keys, row, strict=True)) for row in frame}
    return [by_id[call_id] for call_id in ids]


def costs(store: Store, ids: list[int]) -> list[Decimal]:
    return [row["cost"] for row in rated(store, ids)]


def test_band_boundary_at_midnight_and_split(store: Store, tmp_path: Path) -> None:
    rows = [
        "336,FR mobile,mobile,0.60,0,1,1,0,weekday",
        "336,FR mobile,mobile,0.30,0,1,1,0,weekend",
    ]
    import_tariff(store.con, write_plan(tmp_path, "p", rows, bands=WEEK, default=True))
    # Friday 2026-11-27 23:59:30 Paris (22:59:30 UTC), 60 s; then Saturday 00:00:00.
    friday = utc("2026-11-27T23:59:30+01:00")
    saturday = utc("2026-11-28T00:00:00+01:00")
    ids = insert_calls(
        store.con,
        [
            {"started_at": friday, "number": PARIS_MOBILE, "duration_s": 60},
            {"started_at": saturday, "number": PARIS_MOBILE, "duration_s": 60},
        ],
    )
    rate_calls(store.con, SETTINGS)
    first, second = rated(store, ids)
    # Rated by start time: 60 s at 0.60 = 0.60, 60 s at 0.30 = 0.30.
    assert (first["rate_band"], first["cost"]) == ("weekday", Decimal("0.60"))
    assert (second["rate_band"], second["cost"]) == ("weekend", Decimal("0.30"))
    # The same plan splitting at boundaries: 30 s x 0.60 + 30 s x 0.30 = 0.30 + 0.15 = 0.45.
    import_tariff(
        store.con, write_plan(tmp_path, "p", rows, bands=WEEK, default=True, split_bands=True)
    )
    report = rate_calls(store.con, SETTINGS)
    assert (report.changed, report.delta) == (1, {"EUR": Decimal("-0.15")})
    first, second = rated(store, ids)
    assert (first["rate_band"], first["cost"]) == ("weekday+weekend", Decimal("0.45"))
    assert second["cost"] == Decimal("0.30")


def test_bands_follow_the_sites_daylight_saving_time(store: Store, tmp_path: Path) -> None:
    rows = ["336,m,mobile,0.60,0,1,1,0,day", "336,m,mobile,0.30,0,1,1,0,night"]
    import_tariff(
        store.con, write_plan(tmp_path, "p", rows, bands=DAY_NIGHT, default=True, split_bands=True)
    )
    # Paris goes from UTC+1 to UTC+2 on 2026-03-29 at 02:00 local.
    calls = [
        {"started_at": dt.datetime(2026, 3, 28, 5, 30), "number": PARIS_MOBILE},  # 06:30 CET
        {"started_at": dt.datetime(2026, 3, 29, 5, 30), "number": PARIS_MOBILE},  # 07:30 CEST
        # 06:50 CEST for 20 min: the 07:00 boundary is 05:00 UTC that day, not 06:00.
        {"started_at": dt.datetime(2026, 3, 29, 4, 50), "number": PARIS_MOBILE,
         "duration_s": 1200},
        # Across the change itself: 01:30 CET .. 03:30 CEST is 1 hour of night.
        {"started_at": dt.datetime(2026, 3, 29, 0, 30), "number": PARIS_MOBILE,
         "duration_s": 3600},
    ]  # fmt: skip
    ids = insert_calls(store.con, calls)
    rate_calls(store.con, SETTINGS)
    result = rated(store, ids)
    assert [r["rate_band"] for r in result] == ["night", "day", "night+day", "night"]
    # 60 s night 0.30; 60 s day 0.60; 600 s x 0.30 + 600 s x 0.60 = 3.00 + 6.00; 3600 s x 0.30
    assert [r["cost"] for r in result] == [Decimal(x) for x in ("0.30", "0.60", "9.00", "18.00")]


def test_new_plan_version_mid_month_by_local_date(store: Store, tmp_path: Path) -> None:
    row = ["33,France,,0.10,0,60,60,0,"]
    import_tariff(store.con, write_plan(tmp_path, "p", row, default=True))
    import_tariff(
        store.con,
        write_plan(tmp_path, "p", ["33,France,,0.20,0,60,60,0,"], default=True,
                   valid_from="2026-11-15"),
    )  # fmt: skip
    ids = insert_calls(
        store.con,
        [
            {"started_at": utc("2026-11-14T22:59:00+00:00"), "number": PARIS_MOBILE},  # 23:59
            {"started_at": utc("2026-11-14T23:30:00+00:00"), "number": PARIS_MOBILE},  # 00:30
            {"started_at": utc("2026-11-30T10:00:00+00:00"), "number": PARIS_MOBILE},
        ],
    )
    rate_calls(store.con, SETTINGS)
    assert [(r["plan_version"], r["cost"]) for r in rated(store, ids)] == [
        (1, Decimal("0.10")),
        (2, Decimal("0.20")),
        (2, Decimal("0.20")),
    ]


def test_plans_by_gateway_prefixes_classes_and_what_costs_nothing(
    store: Store, tmp_path: Path
) -> None:
    fr = [
        "33,France,national,0.02,0,60,60,0,",
        "336,France mobile,mobile,0.10,0,60,60,0,",
        "1,North America,international,0.05,0,60,60,0,",
        ",Emergency,emergency,0,0,1,1,0,",
        ",World,international,0.90,0.15,60,60,0,",
    ]
    import_tariff(store.con, write_plan(tmp_path, "fr", fr, gateways="^PAR-", default=True))
    us = ["1,USA,national,0.01,0,6,6,0,", "33,France,international,0.03,0,60,60,0,"]
    import_tariff(store.con, write_plan(tmp_path, "us", us, gateways="^NYC-", currency="USD"))
    when = dt.datetime(2026, 11, 20, 12, 0)
    calls = [
        {"number": PARIS_MOBILE, "gateway": "PAR-CUBE"},  # 336 -> 0.10
        {"number": "0142685300", "gateway": "PAR-CUBE"},  # 33 -> 0.02
        {"number": "0012125550100", "gateway": "PAR-CUBE"},  # 1 -> 0.05
        {"number": "00818012345678", "gateway": "OTHER"},  # default plan, class default
        {"number": "112", "gateway": "PAR-CUBE"},  # short number: not prefix '1'
        {"number": "12125550100", "gateway": "NYC-CUBE", "extension": "3001"},  # NYC plan
        {"number": "01133142685300", "gateway": "NYC-CUBE", "extension": "3001"},
        {"number": PARIS_MOBILE, "answered": False, "duration_s": 0},  # not answered
        {"number": PARIS_MOBILE, "direction": "incoming"},  # incoming, not priced
        {"number": None, "direction": "internal", "extension": "2001"},
    ]
    ids = insert_calls(store.con, [{"started_at": when, **c} for c in calls])
    report = rate_calls(store.con, SETTINGS)
    result = rated(store, ids)
    assert [(r["dest_class"], r["rate_prefix"], r["cost"], r["currency"]) for r in result] == [
        ("mobile", "336", Decimal("0.10"), "EUR"),
        ("national", "33", Decimal("0.02"), "EUR"),
        ("international", "1", Decimal("0.05"), "EUR"),
        ("international", "class:international", Decimal("1.05"), "EUR"),
        ("emergency", "class:emergency", Decimal("0.00"), "EUR"),
        ("national", "1", Decimal("0.01"), "USD"),
        ("international", "33", Decimal("0.03"), "USD"),
        ("mobile", None, Decimal("0.00"), "EUR"),
        ("mobile", None, Decimal("0.00"), "EUR"),
        ("internal", None, Decimal("0.00"), None),
    ]
    assert result[0]["remote_number"] == "+33612345678"
    assert result[5]["remote_number"] == "+12125550100"
    assert (report.priced, report.unpriced) == (7, 0)


def test_band_specific_rows_and_longest_prefix(store: Store, tmp_path: Path) -> None:
    rows = [
        "33,France,,0.02,0,60,60,0,",
        "336,Mobile night,mobile,0.05,0,60,60,0,night",
        "3361,Mobile special,mobile,0.50,0,60,60,0,",
    ]
    import_tariff(store.con, write_plan(tmp_path, "p", rows, bands=DAY_NIGHT, default=True))
    ids = insert_calls(
        store.con,
        [
            {"started_at": utc("2026-11-20T22:00+01:00"), "number": "0623456789"},  # night
            {"started_at": utc("2026-11-20T12:00+01:00"), "number": "0623456789"},  # day
            {"started_at": utc("2026-11-20T22:00+01:00"), "number": "0612345678"},  # 3361
        ],
    )
    rate_calls(store.con, SETTINGS)
    assert [(r["rate_prefix"], r["cost"]) for r in rated(store, ids)] == [
        ("336", Decimal("0.05")),  # band-specific row at 336
        ("33", Decimal("0.02")),  # no day row at 336: the band-less 33
        ("3361", Decimal("0.50")),  # a longer band-less prefix beats 336/night
    ]


def test_incoming_calls_priced_when_the_plan_says_so(store: Store, tmp_path: Path) -> None:
    rows = ["33,France,,0.02,0,60,60,0,"]
    import_tariff(store.con, write_plan(tmp_path, "p", rows, default=True, rate_incoming=True))
    ids = insert_calls(
        store.con,
        [{"started_at": dt.datetime(2026, 11, 20), "number": "0142685300",
          "direction": "incoming"}],
    )  # fmt: skip
    rate_calls(store.con, SETTINGS)
    assert costs(store, ids) == [Decimal("0.02")]


def test_without_tariffs_calls_get_classes_and_zero(store: Store) -> None:
    ids = insert_calls(store.con, [{"started_at": dt.datetime(2026, 11, 20), "number": "112"}])
    report = rate_calls(store.con, SETTINGS)
    assert report.no_tariff
    assert "no tariff plan is loaded" in report.warnings[0]
    assert [(r["dest_class"], r["cost"]) for r in rated(store, ids)] == [
        ("emergency", Decimal("0.00"))
    ]


def test_unpriced_calls_are_counted(store: Store, tmp_path: Path) -> None:
    import_tariff(store.con, write_plan(tmp_path, "p", ["44,UK,,0.02,0,60,60,0,"], default=True))
    insert_calls(store.con, [{"started_at": dt.datetime(2026, 11, 20), "number": PARIS_MOBILE}])
    report = rate_calls(store.con, SETTINGS)
    assert report.unpriced == 1
    assert "1 answered external call(s) matched no plan or rate" in report.warnings[0]


def test_rerating_twice_changes_nothing_and_only_new_calls(store: Store, tmp_path: Path) -> None:
    import_tariff(store.con, write_plan(tmp_path, "p", ["33,F,,0.02,0,60,60,0,"], default=True))
    ids = insert_calls(
        store.con, [{"started_at": dt.datetime(2026, 11, 20), "number": "0142685300"}]
    )
    assert rate_calls(store.con, SETTINGS).changed == 1
    again = rate_calls(store.con, SETTINGS)
    assert (again.calls, again.changed, again.delta) == (1, 0, {})
    more = insert_calls(
        store.con, [{"started_at": dt.datetime(2026, 11, 21), "number": "0142685300"}]
    )
    new = rate_calls(store.con, SETTINGS, only_new=True)
    assert (new.calls, new.changed) == (1, 1)
    assert costs(store, ids + more) == [Decimal("0.02")] * 2


def test_rate_range_is_limited(store: Store, tmp_path: Path) -> None:
    import_tariff(store.con, write_plan(tmp_path, "p", ["33,F,,0.02,0,60,60,0,"], default=True))
    insert_calls(
        store.con,
        [{"started_at": dt.datetime(2026, 11, day), "number": "0142685300"} for day in (1, 2, 3)],
    )
    report = rate_calls(
        store.con, SETTINGS, start=dt.datetime(2026, 11, 2), end=dt.datetime(2026, 11, 3)
    )
    assert (report.calls, report.changed) == (1, 1)


def _numbers() -> st.SearchStrategy[str]:
    return st.sampled_from(
        ["0612345678", "0142685300", "0012125550100", "00441632960001", "112", "3615", "0800123456",
         "0899123456", "00999123", "abc", ""]
    )  # fmt: skip


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    calls=st.lists(
        st.fixed_dictionaries(
            {
                "number": _numbers(),
                "duration_s": st.integers(min_value=0, max_value=4000),
                "minute": st.integers(min_value=0, max_value=60 * 24 * 9),
                "answered": st.booleans(),
            }
        ),
        min_size=1,
        max_size=25,
    ),
    seed=st.integers(min_value=0, max_value=1000),
)
def test_rating_order_and_batches_do_not_matter(
    tmp_path_factory: pytest.TempPathFactory, calls: list[dict[str, Any]], seed: int
) -> None:
    folder = tmp_path_factory.mktemp("order")
    rows = [
        "33,F,,0.02,0.01,30,6,0.05,day", "33,F,,0.01,0,30,6,0,",
        "336,M,mobile,0.10,0,1,1,0,night", "44,UK,,0.04,0,60,60,0,",
        ",Rest,international,0.9,0,60,60,0,", ",Short,national,0.2,0,60,60,0,",
    ]  # fmt: skip
    plan = write_plan(folder, "p", rows, bands=DAY_NIGHT, default=True, split_bands=True)
    start = dt.datetime(2026, 3, 25)
    prepared = [
        {"started_at": start + dt.timedelta(minutes=c["minute"]), "number": c["number"] or None,
         "duration_s": c["duration_s"] if c["answered"] else 0, "answered": c["answered"]}
        for c in calls
    ]  # fmt: skip
    results = []
    for variant in range(2):
        store = open_store(folder / f"s{variant}.duckdb")
        import_tariff(store.con, plan)
        order = list(range(len(prepared)))
        if variant:
            random.Random(seed).shuffle(order)
        ids = insert_calls(store.con, [prepared[i] for i in order])
        by_input = dict(zip(order, ids, strict=True))
        if variant:
            chunk = [by_input[i] for i in range(0, len(order), 2)]
            rate_calls(store.con, SETTINGS, call_ids=chunk)
        rate_calls(store.con, SETTINGS, only_new=bool(variant), chunk=3 if variant else 1000)
        assert rate_calls(store.con, SETTINGS).changed == 0
        rows_now = rated(store, [by_input[i] for i in range(len(prepared))])
        results.append([{k: v for k, v in r.items() if k != "call_id"} for r in rows_now])
        store.close()
    assert results[0] == results[1]
    assert all(r["cost"] >= 0 for r in results[0])


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(numbers=st.lists(_numbers(), min_size=1, max_size=20))
def test_new_calls_report_what_rating_them_stored_reports(
    tmp_path_factory: pytest.TempPathFactory, numbers: list[str]
) -> None:
    """`rate_new` (an ingest's calls, never rated) counts calls, changes and money as
    `rate_calls` does for the same calls once stored."""
    folder = tmp_path_factory.mktemp("report")
    rows = ["33,F,,0.02,0.01,30,6,0.05,", "336,M,mobile,0.10,0,1,1,0,", "44,UK,,0.04,0,60,60,0,"]
    store = open_store(folder / "s.duckdb")
    try:
        import_tariff(store.con, write_plan(folder, "p", rows, default=True))
        start = dt.datetime(2026, 3, 25, 9)
        insert_calls(
            store.con,
            [{"started_at": start, "number": number or None} for number in numbers],
        )
        new = store.con.sql("SELECT * FROM calls").pl()
        fresh = rate_new(store.con, SETTINGS, new).report
        stored = rate_calls(store.con, SETTINGS)
    finally:
        store.close()
    fields = ("calls", "priced", "unpriced", "changed", "total", "delta", "by_class")
    assert {f: getattr(fresh, f) for f in fields} == {f: getattr(stored, f) for f in fields}
    assert fresh.changed == fresh.calls  # every call gets at least its destination class


def test_explain_redoes_the_arithmetic(store: Store, tmp_path: Path) -> None:
    rows = ["336,France mobile,mobile,0.12,0.05,30,6,0.10,day", "336,M,mobile,0.06,0,1,1,0,night"]
    import_tariff(store.con, write_plan(tmp_path, "p", rows, bands=DAY_NIGHT, default=True))
    ids = insert_calls(
        store.con,
        [{"started_at": utc("2026-11-20T10:00+01:00"), "number": PARIS_MOBILE, "duration_s": 125}],
    )
    rate_calls(store.con, SETTINGS)
    explanation = explain_call(store.con, SETTINGS, ids[0])
    steps = dict(explanation.steps)
    assert "0612345678 -> +33612345678: class mobile, country FR" in steps["number"]
    assert "band day (mon-sun 07:00-19:00)" in steps["band"]
    assert "longest matching prefix 336 -> France mobile (deck line 2" in steps["rate"]
    assert steps["billed"] == (
        "125 s = 30 s + 95 s; 95 s rounded up to 16 x 6 s; billed 30 + 96 = 126 s"
    )
    # 0.05 + 0.12 x 126 / 60 = 0.05 + 0.252 = 0.302 -> 0.30
    assert steps["cost"] == "connect fee 0.05 + 0.12 x 126 s / 60 = 0.302 EUR"
    assert steps["rounding"] == "rounded half up to 2 decimals: 0.30 EUR"
    assert "agrees with the tariffs in force" in steps["stored"]
    data = explanation.to_dict()
    assert (data["cost"], data["billed_s"], data["rate"]["deck_line"]) == ("0.30", 126, 2)
    # A tariff change makes the stored cost stale until `rate` runs.
    import_tariff(
        store.con,
        write_plan(tmp_path, "p", ["336,M,mobile,0.24,0.05,30,6,0.10,day", rows[1]],
                   bands=DAY_NIGHT, default=True),
    )  # fmt: skip
    stale = dict(explain_call(store.con, SETTINGS, ids[0]).steps)["stored"]
    assert "stored cost is 0.30 EUR, the tariffs in force now give 0.55 EUR" in stale
    with pytest.raises(NotFoundError):
        explain_call(store.con, SETTINGS, 999_999)


def test_explain_minimum_and_reasons_for_no_cost(store: Store, tmp_path: Path) -> None:
    import_tariff(
        store.con, write_plan(tmp_path, "p", ["33,F,,0.01,0,60,60,0.15,"], gateways="^PAR")
    )
    when = dt.datetime(2026, 11, 20, 10)
    ids = insert_calls(
        store.con,
        [
            {"started_at": when, "number": "0142685300", "gateway": "PAR-1"},
            {"started_at": when, "number": "0142685300", "gateway": "LYON-1"},
            {"started_at": when, "number": None, "direction": "internal"},
        ],
    )
    rate_calls(store.con, SETTINGS)
    minimum = dict(explain_call(store.con, SETTINGS, ids[0]).steps)
    assert minimum["minimum"] == "0.01 is below the minimum charge: 0.15"
    no_plan = dict(explain_call(store.con, SETTINGS, ids[1]).steps)
    assert "no plan prices gateway LYON-1 and there is no default plan" in no_plan["plan"]
    internal = dict(explain_call(store.con, SETTINGS, ids[2]).steps)
    assert "internal call" in internal["number"]


def test_a_rerate_is_all_or_nothing(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import_tariff(store.con, write_plan(tmp_path, "p", ["33,F,,0.02,0,60,60,0,"], default=True))
    ids = insert_calls(
        store.con,
        [{"started_at": dt.datetime(2026, 11, 20), "number": "0142685300"} for _ in range(5)],
    )
    writes = []

    def failing_write(con: Any, changed: Any) -> None:
        writes.append(changed.height)
        if len(writes) == 2:
            raise RuntimeError("disk full")
        real_write(con, changed)

    from callacct.rating import rate as rate_module

    real_write = rate_module._write
    monkeypatch.setattr(rate_module, "_write", failing_write)
    with pytest.raises(RuntimeError, match="disk full"):
        rate_calls(store.con, SETTINGS, chunk=2)
    assert writes == [2, 2]
    assert [r["dest_class"] for r in rated(store, ids)] == [None] * 5
    monkeypatch.undo()
    report = rate_calls(store.con, SETTINGS, chunk=2)
    assert (report.calls, report.changed, report.total) == (5, 5, {"EUR": Decimal("0.10")})


def test_an_impossibly_long_call_is_left_unpriced(store: Store, tmp_path: Path) -> None:
    rows = ["33,F,,1000000,0,1,1,0,"]  # the highest price a deck accepts
    import_tariff(store.con, write_plan(tmp_path, "p", rows, default=True))
    ids = insert_calls(
        store.con,
        [{"started_at": dt.datetime(2026, 11, 20), "number": "0142685300",
          "duration_s": 2_000_000_000}],
    )  # fmt: skip
    report = rate_calls(store.con, SETTINGS)
    assert report.unpriced == 1
    assert [(r["rate_prefix"], r["cost"]) for r in rated(store, ids)] == [(None, Decimal("0.00"))]


def test_new_calls_are_rated_in_call_id_order_whatever_their_order(
    store: Store, tmp_path: Path
) -> None:
    rows = ["336,FR mobile,mobile,0.60,0,1,1,0,", "331,Paris,national,0.10,0,1,1,0,"]
    import_tariff(store.con, write_plan(tmp_path, "p", rows, default=True))
    started = utc("2026-11-27T10:00:00+01:00")
    new = pl.DataFrame(
        {
            "call_id": [3, 1, 2],
            "started_at": [started] * 3,
            "duration_s": [60, 30, 90],
            "direction": ["outgoing"] * 3,
            "answered": [True] * 3,
            "remote_number": [PARIS_MOBILE, "0142685300", PARIS_MOBILE],
            "extension": ["2001"] * 3,
            "peer_extension": [None] * 3,
            "gateway": ["PAR-GW"] * 3,
            "site": [None] * 3,
            "line_no": [30, 10, 20],
        },
        schema_overrides={
            "started_at": pl.Datetime("us"),
            "peer_extension": pl.String,
            "site": pl.String,
        },
    )
    shuffled = rate_new(store.con, SETTINGS, new)
    in_order = rate_new(store.con, SETTINGS, new.sort("call_id"))
    assert shuffled.frame.equals(in_order.frame)
    assert shuffled.frame["call_id"].to_list() == [1, 2, 3]
    assert shuffled.frame["line_no"].to_list() == [10, 20, 30]  # each call keeps its columns
    assert shuffled.frame["dest_class"].to_list() == ["national", "mobile", "mobile"]
    assert shuffled.frame["cost_u"].to_list() == [50_000, 900_000, 600_000]
    assert shuffled.report.priced == in_order.report.priced == 3
