"""The cost of a call, in exact integer arithmetic, for a column of calls or for one.

Money is held as integer **micro-units** (1 EUR = 1,000,000): a rate deck's prices have at most
six decimals, so every price is an exact integer there, and so is `price × billed seconds`. The
cost before rounding is `connect_fee × 60 + price_per_min × billed_s` in units of 1/60 micro; it
is raised to `min_charge × 60` if lower, then divided by `60 × 10^(6 - decimals)` with the plan's
rounding mode. No float is involved anywhere, so a cost equals what a person computes by hand.

Billed seconds: the first `initial_increment_s` are billed whole, the rest rounded **up** to a
multiple of `subsequent_increment_s` (60/60 bills per started minute, 30/6 a first half-minute
then per 6 s, 1/1 per second). A call of 0 s bills 0 s (connect fee and minimum still apply).

Example:
    >>> costs = price_frame([125], [150_000], [0], [30], [6], [0], decimals=2, rounding="half_up")
    >>> costs["billed_s"][0], costs["cost_u"][0]
    (126, 320000)
    >>> str(to_decimal(320000))
    '0.32'
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Final, Literal, get_args

import polars as pl

Rounding = Literal["half_up", "half_even", "up", "down"]
ROUNDINGS: Final[tuple[Rounding, ...]] = get_args(Rounding)

MICRO: Final = 1_000_000
MICRO_DECIMALS: Final = 6
# Keeps `price × billed` inside Int64: 1,000,000 per minute for up to 100 days of call.
MAX_PRICE_U: Final = 1_000_000 * MICRO
MAX_BILLED_S: Final = 100 * 86_400


def billed_seconds(duration: pl.Expr, initial: pl.Expr, subsequent: pl.Expr) -> pl.Expr:
    """Seconds billed for `duration`: the initial increment, then whole subsequent ones."""
    rest = (duration - initial).clip(lower_bound=0)
    steps = (rest + subsequent - 1) // subsequent
    return (
        pl.when(duration <= 0)
        .then(pl.lit(0, pl.Int64))
        .otherwise(initial + steps * subsequent)
        .cast(pl.Int64)
    )


def raw_sixtieths(billed: pl.Expr, price_u: pl.Expr, connect_u: pl.Expr, min_u: pl.Expr) -> pl.Expr:
    """`connect × 60 + price × billed`, at least `min × 60`: the cost in 1/60 micro-units."""
    raw: pl.Expr = connect_u * 60 + price_u * billed
    floor: pl.Expr = min_u * 60
    out: pl.Expr = pl.when(raw < floor).then(floor).otherwise(raw)
    return out


def round_sixtieths(sixtieths: pl.Expr, decimals: int, rounding: Rounding) -> pl.Expr:
    """Round a cost in 1/60 micro-units to `decimals` places; the result in micro-units."""
    scale = 10 ** (MICRO_DECIMALS - decimals)
    den = 60 * scale
    q: pl.Expr = sixtieths // den
    r: pl.Expr = sixtieths % den
    bump: pl.Expr
    if rounding == "half_up":
        bump = (2 * r >= den).cast(pl.Int64)
    elif rounding == "half_even":
        bump = ((2 * r > den) | ((2 * r == den) & (q % 2 == 1))).cast(pl.Int64)
    elif rounding == "up":
        bump = (r > 0).cast(pl.Int64)
    else:
        bump = pl.lit(0, pl.Int64)
    result: pl.Expr = (q + bump) * scale
    return result


def price_frame(
    duration: list[int],
    price_u: list[int],
    connect_u: list[int],
    initial: list[int],
    subsequent: list[int],
    min_u: list[int],
    *,
    decimals: int,
    rounding: Rounding,
) -> pl.DataFrame:
    """Billed seconds and cost (micro-units) of calls given as lists: a helper for tests and
    docs; rating itself applies the same expressions to its frames."""
    frame = pl.DataFrame(
        {
            "d": duration,
            "p": price_u,
            "c": connect_u,
            "i": initial,
            "s": subsequent,
            "m": min_u,
        },
        schema=dict.fromkeys("dpcism", pl.Int64),
    )
    billed = billed_seconds(pl.col("d"), pl.col("i"), pl.col("s"))
    return frame.select(
        billed.alias("billed_s"),
        round_sixtieths(
            raw_sixtieths(billed, pl.col("p"), pl.col("c"), pl.col("m")), decimals, rounding
        ).alias("cost_u"),
    )


def to_micro(value: Decimal | str) -> int:
    """Exact micro-units of a decimal amount with at most six decimals.

    >>> to_micro("0.0125")
    12500
    """
    amount = Decimal(value) * MICRO
    if amount != amount.to_integral_value():
        raise ValueError(f"{value} has more than {MICRO_DECIMALS} decimals")
    return int(amount)


def to_decimal(micro: int, decimals: int = 2) -> Decimal:
    """The amount of `micro` micro-units, shown with at least `decimals` places.

    >>> to_decimal(1_500_000), to_decimal(1_234_500, 2)
    (Decimal('1.50'), Decimal('1.2345'))
    """
    amount = Decimal(micro).scaleb(-MICRO_DECIMALS).normalize()
    exponent = min(int(amount.as_tuple().exponent), -decimals)
    return amount.quantize(Decimal(1).scaleb(exponent))


@dataclass(frozen=True)
class Part:
    """A stretch of a call rated at one rate: its band, its seconds, its price per minute."""

    band: str
    seconds: int
    price_u: int


@dataclass(frozen=True)
class Costing:
    """How one cost was computed, every step a person can redo."""

    duration_s: int
    billed_s: int
    initial_increment_s: int
    subsequent_increment_s: int
    parts: tuple[tuple[str, int, int], ...]  # (band, billed seconds, price micro per minute)
    connect_u: int
    min_u: int
    raw_sixtieths: int
    min_applied: bool
    decimals: int
    rounding: Rounding
    cost_u: int


def cost_of(
    parts: list[Part],
    *,
    connect_u: int,
    initial: int,
    subsequent: int,
    min_u: int,
    decimals: int,
    rounding: Rounding,
) -> Costing:
    """The cost of one call made of `parts` (one part unless a split plan cut it at band
    boundaries). Billed seconds are computed on the whole call with the first part's
    increments; the extra seconds that rounding up adds are billed at the last part's price.

    >>> c = cost_of([Part("peak", 61, 120_000)], connect_u=50_000, initial=60, subsequent=60,
    ...             min_u=0, decimals=2, rounding="half_up")
    >>> c.billed_s, to_decimal(c.cost_u)
    (120, Decimal('0.29'))
    """
    duration = sum(part.seconds for part in parts)
    if duration <= 0:
        billed = 0
    else:
        rest = max(duration - initial, 0)
        billed = initial + -(-rest // subsequent) * subsequent
    billed_parts: list[tuple[str, int, int]] = []
    for index, part in enumerate(parts):
        extra = billed - duration if index == len(parts) - 1 else 0
        billed_parts.append((part.band, part.seconds + extra, part.price_u))
    raw = connect_u * 60 + sum(seconds * price for _, seconds, price in billed_parts)
    floor = min_u * 60
    scale = 10 ** (MICRO_DECIMALS - decimals)
    den = 60 * scale
    q, r = divmod(max(raw, floor), den)
    if rounding == "half_up":
        q += 2 * r >= den
    elif rounding == "half_even":
        q += 2 * r > den or (2 * r == den and q % 2 == 1)
    elif rounding == "up":
        q += r > 0
    return Costing(
        duration_s=duration,
        billed_s=billed,
        initial_increment_s=initial,
        subsequent_increment_s=subsequent,
        parts=tuple(billed_parts),
        connect_u=connect_u,
        min_u=min_u,
        raw_sixtieths=raw,
        min_applied=floor > raw,
        decimals=decimals,
        rounding=rounding,
        cost_u=int(q) * scale,
    )
