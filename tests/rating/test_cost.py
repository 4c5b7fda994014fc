"""Cost arithmetic: hand-computed cases per increment scheme, fees, minimum, rounding; the
column path equals the one-call path; properties of cost in duration."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callacct.rating.cost import (
    ROUNDINGS,
    Part,
    Rounding,
    cost_of,
    price_frame,
    to_decimal,
    to_micro,
)


def one(
    duration: int,
    price: str,
    increments: tuple[int, int],
    *,
    connect: str = "0",
    minimum: str = "0",
    decimals: int = 2,
    rounding: Rounding = "half_up",
) -> tuple[int, Decimal]:
    """(billed seconds, cost) through the column path, checked against the one-call path."""
    frame = price_frame(
        [duration],
        [to_micro(price)],
        [to_micro(connect)],
        [increments[0]],
        [increments[1]],
        [to_micro(minimum)],
        decimals=decimals,
        rounding=rounding,
    )
    single = cost_of(
        [Part("", duration, to_micro(price))],
        connect_u=to_micro(connect),
        initial=increments[0],
        subsequent=increments[1],
        min_u=to_micro(minimum),
        decimals=decimals,
        rounding=rounding,
    )
    assert (frame["billed_s"][0], frame["cost_u"][0]) == (single.billed_s, single.cost_u)
    return single.billed_s, to_decimal(single.cost_u, decimals)


@pytest.mark.parametrize(
    ("duration", "billed", "cost"),
    [(0, 0, "0.00"), (1, 60, "0.10"), (60, 60, "0.10"), (61, 120, "0.20"), (179, 180, "0.30")],
)
def test_per_minute_60_60(duration: int, billed: int, cost: str) -> None:
    assert one(duration, "0.10", (60, 60)) == (billed, Decimal(cost))


@pytest.mark.parametrize(
    ("duration", "billed", "cost"),
    # 0.12/min: 30 s = 0.06; 36 s = 0.072 -> 0.07; 126 s = 0.252 -> 0.25; 42 s = 0.084 -> 0.08
    [(1, 30, "0.06"), (30, 30, "0.06"), (31, 36, "0.07"), (37, 42, "0.08"), (125, 126, "0.25")],
)
def test_first_half_minute_then_6_s(duration: int, billed: int, cost: str) -> None:
    assert one(duration, "0.12", (30, 6)) == (billed, Decimal(cost))


@pytest.mark.parametrize(
    ("duration", "cost"),
    # 0.09/min per second: 61 s = 0.0915 -> 0.09; 100 s = 0.15; 127 s = 0.1905 -> 0.19
    [(1, "0.00"), (61, "0.09"), (100, "0.15"), (127, "0.19")],
)
def test_per_second_1_1(duration: int, cost: str) -> None:
    assert one(duration, "0.09", (1, 1)) == (duration, Decimal(cost))


def test_connect_fee_is_added_once() -> None:
    # 0.05 + 0.10 x 120 s / 60 = 0.25
    assert one(61, "0.10", (60, 60), connect="0.05") == (120, Decimal("0.25"))
    # A 0 s answered call still pays the connect fee.
    assert one(0, "0.10", (60, 60), connect="0.05") == (0, Decimal("0.05"))


def test_minimum_charge_applies_only_below_it() -> None:
    # 0.01 x 60 / 60 = 0.01 < 0.15
    assert one(10, "0.01", (60, 60), minimum="0.15") == (60, Decimal("0.15"))
    # 0.10 x 180 / 60 = 0.30 > 0.15
    assert one(150, "0.10", (60, 60), minimum="0.15") == (180, Decimal("0.30"))


@pytest.mark.parametrize(
    ("price", "expected"),
    [
        # 60 s at 0.015 = 0.015: a tie between 0.01 and 0.02
        ("0.015", {"half_up": "0.02", "half_even": "0.02", "up": "0.02", "down": "0.01"}),
        # 0.025: tie, 2 is even
        ("0.025", {"half_up": "0.03", "half_even": "0.02", "up": "0.03", "down": "0.02"}),
        # 0.0151: above the tie
        ("0.0151", {"half_up": "0.02", "half_even": "0.02", "up": "0.02", "down": "0.01"}),
        # 0.0149: below the tie
        ("0.0149", {"half_up": "0.01", "half_even": "0.01", "up": "0.02", "down": "0.01"}),
    ],
)
def test_rounding_modes(price: str, expected: dict[str, str]) -> None:
    for mode in ROUNDINGS:
        assert one(60, price, (60, 60), rounding=mode)[1] == Decimal(expected[mode]), mode


def test_decimals_of_the_plan() -> None:
    # 0.0915 kept to 4 decimals, or to 0 (whole currency units: 0)
    assert one(61, "0.09", (1, 1), decimals=4) == (61, Decimal("0.0915"))
    assert one(61, "0.09", (1, 1), decimals=0, rounding="up") == (61, Decimal("1"))


def test_split_call_bills_extra_seconds_at_the_last_part() -> None:
    # 50 s peak at 0.12 + 20 s offpeak at 0.06, 30/6: 70 s -> 72 s billed, 2 extra offpeak.
    c = cost_of(
        [Part("peak", 50, to_micro("0.12")), Part("offpeak", 20, to_micro("0.06"))],
        connect_u=0, initial=30, subsequent=6, min_u=0, decimals=2, rounding="half_up",
    )  # fmt: skip
    # 0.12 x 50 / 60 = 0.10; 0.06 x 22 / 60 = 0.022 -> 0.122 -> 0.12
    assert c.billed_s == 72
    assert c.parts == (("peak", 50, 120_000), ("offpeak", 22, 60_000))
    assert to_decimal(c.cost_u) == Decimal("0.12")


def test_amounts_are_exact() -> None:
    assert to_micro("0.000001") == 1
    with pytest.raises(ValueError, match="more than 6 decimals"):
        to_micro("0.0000001")
    assert str(to_decimal(to_micro("1234567.891"))) == "1234567.891"


money = st.integers(min_value=0, max_value=5_000_000)
increments = st.integers(min_value=1, max_value=120)


@settings(max_examples=300, deadline=None)
@given(
    duration=st.integers(min_value=0, max_value=20_000),
    price=money,
    connect=money,
    minimum=money,
    initial=increments,
    subsequent=increments,
    decimals=st.integers(min_value=0, max_value=6),
    rounding=st.sampled_from(ROUNDINGS),
)
def test_cost_properties(
    duration: int,
    price: int,
    connect: int,
    minimum: int,
    initial: int,
    subsequent: int,
    decimals: int,
    rounding: Rounding,
) -> None:
    """Columns equal the one-call path; cost >= 0; never decreases as a call lasts longer;
    billed seconds cover the call and overshoot by less than one increment; the unrounded
    cost is exactly the formula's."""
    durations = [duration, duration + 1, duration + 59]
    frame = price_frame(
        durations, [price] * 3, [connect] * 3, [initial] * 3, [subsequent] * 3, [minimum] * 3,
        decimals=decimals, rounding=rounding,
    )  # fmt: skip
    costs = frame["cost_u"].to_list()
    assert costs == sorted(costs)
    assert min(costs) >= 0
    for d, billed, cost in zip(durations, frame["billed_s"], costs, strict=True):
        single = cost_of(
            [Part("", d, price)], connect_u=connect, initial=initial, subsequent=subsequent,
            min_u=minimum, decimals=decimals, rounding=rounding,
        )  # fmt: skip
        assert (billed, cost) == (single.billed_s, single.cost_u)
        if d:
            assert d <= billed < d + max(initial, subsequent)
        exact = max(Decimal(connect) + Decimal(price) * billed / 60, Decimal(minimum))
        assert abs(Decimal(cost) - exact) < Decimal(10) ** (6 - decimals)
