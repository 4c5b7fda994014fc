"""The outside numbers of the demo: who the demo's people call, and who calls them.

Numbers are written as the carrier at each site sends and expects them (Paris: national
``0…`` and ``00`` abroad; New York: ``1…`` and ``011`` abroad), and most are numbers
libphonenumber knows as allocated, so the demo's destinations classify as real ones do. People
call the same numbers again: each site and kind of number has a pool to draw from.

    >>> import random
    >>> from callacct.demo.people import site_by_code
    >>> book = NumberBook(random.Random(1))
    >>> carrier, dialled = book.destination(site_by_code("PAR"), "mobile")
    >>> dialled == "0" + carrier and carrier[:2] in ("06", "07")
    True
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Final

import phonenumbers

from callacct.demo.people import Site

__all__ = ["ROUTE_PATTERNS", "NumberBook", "is_allocated"]

#: Route patterns per site and destination class, as an administrator would configure them.
ROUTE_PATTERNS: Final[dict[str, dict[str, str]]] = {
    "PAR": {
        "national": "0.0[1-59]XXXXXXXX",
        "mobile": "0.0[67]XXXXXXXX",
        "international": "0.00!",
        "tollfree": "0.080XXXXXXX",
        "premium": "0.08[19]XXXXXXX",
        "emergency": "112",
        "unknown": "0.00!",
    },
    "NYC": {
        "national": "9.1[2-9]XX[2-9]XXXXXX",
        "mobile": "9.1[2-9]XX[2-9]XXXXXX",
        "international": "9.011!",
        "tollfree": "9.18[0-8][0-8]XXXXXXX",
        "premium": "9.1900XXXXXXX",
        "emergency": "911",
        "unknown": "9.011!",
    },
}
_US_AREA_CODES = ("212", "646", "718", "347", "516", "914", "201", "202", "312", "415", "617")
_US_MOBILE_AREA_CODES = ("917", "646", "347", "929")
_US_TOLLFREE = ("800", "888", "877", "866", "855")
# (country code, subscriber digits) for international destinations and callers.
_COUNTRIES: tuple[tuple[str, int], ...] = (
    ("44", 10), ("49", 10), ("1", 10), ("33", 9), ("34", 9), ("39", 10), ("212", 9),
    ("86", 11), ("81", 10), ("32", 9), ("41", 9), ("971", 9),
)  # fmt: skip
# 999 is a spare ITU country code: nothing can rate it, which is the point.
_UNKNOWN_COUNTRY = "999"
_POOL_SIZE = 300


def is_allocated(site: Site, number: str) -> bool:
    """Whether `number`, in the carrier's format at `site`, is an allocated number."""
    if number.startswith(site.international_prefix):
        text = "+" + number[len(site.international_prefix) :]
    elif site.country_code == "1":
        text = "+" + number if number.startswith("1") else "+1" + number
    else:
        text = "+" + site.country_code + number.removeprefix("0")
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(text, None))
    except phonenumbers.NumberParseException:
        return False


class NumberBook:
    """Outside numbers drawn from `rng`: destinations per class, callers, mobiles."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self._pools: dict[tuple[str, str], list[str]] = {}

    def digits(self, n: int) -> str:
        """n random digits."""
        return f"{int(self.rng.random() * 10**n):0{n}d}"

    def subscriber(self, n: int) -> str:
        """n digits not starting with 0 or 1 (area/subscriber numbers never do)."""
        return str(2 + int(self.rng.random() * 8)) + self.digits(n - 1)

    def allocated(self, site: Site, make: Callable[[], str]) -> str:
        """A number from `make` that libphonenumber knows as allocated (a few tries), so that
        the demo's destinations classify as real ones do."""
        number = make()
        for _ in range(30):
            if is_allocated(site, number):
                return number
            number = make()
        return number

    def pooled(self, site: Site, kind: str, make: Callable[[], str]) -> str:
        """A number from a pool of valid ones per site and kind: people call the same
        numbers again, and the pool keeps the demo fast."""
        pool = self._pools.get((site.code, kind))
        if pool is None:
            pool = [self.allocated(site, make) for _ in range(_POOL_SIZE)]
            self._pools[(site.code, kind)] = pool
        return self.rng.choice(pool)

    def mobile(self, site: Site) -> str:
        """A mobile number of the site's country (a person's own, or a caller's)."""
        if site.code == "PAR":
            return self.allocated(site, lambda: "0" + self.rng.choice("67") + self.digits(8))
        return self.allocated(
            site, lambda: "1" + self.rng.choice(_US_MOBILE_AREA_CODES) + self.digits(7)
        )

    def abroad(self, site: Site) -> str:
        """A number in another country, with the site's international prefix."""

        def make() -> str:
            cc, n = self.rng.choice([x for x in _COUNTRIES if x[0] != site.country_code])
            return site.international_prefix + cc + self.subscriber(n)

        return self.pooled(site, "international", make)

    def destination(self, site: Site, dclass: str) -> tuple[str, str]:
        """(carrier number, i.e. outpulsed digits; digits dialled by the user) for a class."""
        rng = self.rng
        if site.code == "PAR":
            if dclass == "national":
                number = self.pooled(
                    site, dclass, lambda: "0" + rng.choice("12345") + self.digits(8)
                )
            elif dclass == "mobile":
                number = self.pooled(site, dclass, lambda: self.mobile(site))
            elif dclass == "international":
                number = self.abroad(site)
            elif dclass == "tollfree":
                number = "0800" + self.digits(6)
            elif dclass == "premium":
                number = "089" + rng.choice("1239") + self.digits(6)
            elif dclass == "emergency":
                return site.emergency_number, site.emergency_number
            else:
                number = site.international_prefix + _UNKNOWN_COUNTRY + self.digits(8)
        else:
            if dclass == "national":
                number = self.pooled(
                    site, dclass, lambda: "1" + rng.choice(_US_AREA_CODES) + self.subscriber(7)
                )
            elif dclass == "mobile":
                number = self.pooled(site, dclass, lambda: self.mobile(site))
            elif dclass == "international":
                number = self.abroad(site)
            elif dclass == "tollfree":
                number = "1" + rng.choice(_US_TOLLFREE) + self.subscriber(7)
            elif dclass == "premium":
                number = "1900" + self.subscriber(7)
            elif dclass == "emergency":
                return site.emergency_number, site.emergency_number
            else:
                number = site.international_prefix + _UNKNOWN_COUNTRY + self.digits(8)
        return number, site.access_code + number

    def caller(self, site: Site) -> str:
        """An external caller as the carrier presents it: national format, a few international."""
        rng = self.rng
        if rng.random() < 0.06:
            return self.abroad(site)
        if site.code == "PAR":
            if rng.random() < 0.4:
                return self.pooled(site, "mobile", lambda: self.mobile(site))
            return self.pooled(site, "caller", lambda: "0" + rng.choice("123459") + self.digits(8))
        return self.pooled(
            site,
            "caller",
            lambda: rng.choice(_US_AREA_CODES + _US_MOBILE_AREA_CODES) + self.subscriber(7),
        )
