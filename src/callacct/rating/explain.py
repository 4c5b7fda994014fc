"""Why a call costs what it costs: every step of its rating, as a person would redo it.

`explain_call` rates the call again with the same code as `callacct rate` (so the explanation
cannot drift from the stored cost), then recomputes the arithmetic one step at a time with
`rating.cost.cost_of` and says whether the stored cost still agrees with the tariffs in force.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any, Final
from zoneinfo import ZoneInfo

import duckdb

from callacct.config import Settings
from callacct.errors import NotFoundError
from callacct.formats import money_text
from callacct.query.masking import mask_in_text, mask_number
from callacct.rating.cost import MICRO, Costing, Part, cost_of, to_decimal
from callacct.rating.rate import CALL_SQL, RateLookup, Tariffs, rate_frame
from callacct.rating.sites import rating_sites
from callacct.rating.tariff import Version
from callacct.service_numbers import SERVICE_CLASSES
from callacct.store import fetch_frame

#: What a service number is, in explanations (English, as the rest of them).
_SERVICE_WORDS: Final = {
    "conference": "conference bridge",
    "voicemail": "voicemail number",
    "service": "service number",
}


@dataclass
class Explanation:
    """The steps, each a (label, text) pair, and the same facts as data for `--json`."""

    call_id: int
    steps: list[tuple[str, str]] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)

    def add(self, label: str, text: str) -> None:
        self.steps.append((label, text))

    def masked(self, digits: int) -> Explanation:
        """The same explanation with the remote party's number masked (F-ACCESS-3), in the
        steps' text and in the data alike."""
        numbers = [self.data.get("dialled"), self.data.get("remote_number")]
        data = dict(self.data)
        for key in ("dialled", "remote_number"):
            data[key] = mask_number(data.get(key), digits)
        steps = [(label, mask_in_text(text, numbers, digits)) for label, text in self.steps]
        return Explanation(self.call_id, steps, data)

    def to_dict(self) -> dict[str, Any]:
        return {
            "call_id": self.call_id,
            **self.data,
            "steps": [{"step": label, "text": text} for label, text in self.steps],
        }


def explain_call(con: duckdb.DuckDBPyConnection, settings: Settings, call_id: int) -> Explanation:
    """How call `call_id` was (or would now be) rated."""
    calls = fetch_frame(con, CALL_SQL + " WHERE call_id = ?", [call_id])
    if not calls.height:
        raise NotFoundError(f"no call with id {call_id}; find ids with 'callacct calls'")
    stored = calls.row(0, named=True)
    tariffs = Tariffs.load(con)
    row = rate_frame(con, settings, calls, tariffs).row(0, named=True)
    site = next(s for s in rating_sites(settings) if s.name == row["rating_site"])
    zone = ZoneInfo(site.timezone)
    started = row["started_at"].replace(tzinfo=dt.UTC)
    out = Explanation(call_id=call_id)
    plan = site.plan
    out.data = {
        "started_at": started.astimezone(zone).isoformat(),
        "duration_s": row["duration_s"],
        "direction": row["direction"],
        "answered": row["answered"],
        "site": site.name,
        "timezone": site.timezone,
        "dial_plan": {
            "region": plan.region,
            "access_codes": list(plan.access_codes),
            "international_prefix": plan.international_prefix,
            "national_prefix": plan.national_prefix,
            "local_area_codes": list(plan.local_area_codes),
        },
        "dialled": row["remote_dialled"],
        "remote_number": row["remote_number"],
        "dest_class": row["dest_class"],
        "dest_country": row["dest_country"],
        "plan": row["plan_id"],
        "plan_version": row["plan_version"],
        "band": row["rate_band"],
        "currency": row["currency"],
        "cost": money_text(to_decimal(row["cost_u"])),
        "stored_cost": (
            None if stored["old_cost_u"] is None else money_text(to_decimal(stored["old_cost_u"]))
        ),
    }
    out.add(
        "call",
        f"{row['direction']} call, {'answered' if row['answered'] else 'not answered'}, "
        f"{row['duration_s']} s, started {started.astimezone(zone):%Y-%m-%d %H:%M:%S %Z} "
        f"({started:%H:%M:%S} UTC), extension {row['extension'] or '-'}, "
        f"gateway {row['gateway'] or '-'}",
    )
    out.add(
        "site",
        f"{site.name}: {_site_reason(row, site.extensions, site.gateways)}; dial plan "
        f"{plan.region}, access code(s) {', '.join(plan.access_codes) or 'none'}, "
        f"international prefix {plan.international_prefix}, national prefix "
        f"{plan.national_prefix or 'none'}, local area codes "
        f"{', '.join(plan.local_area_codes) or 'none'}; time zone {site.timezone}",
    )
    if row["dest_class"] in SERVICE_CLASSES:
        number = row["remote_dialled"] if row["direction"] != "internal" else row["peer_extension"]
        out.add(
            "number",
            f"{number} is a {_SERVICE_WORDS[row['dest_class']]}, not a phone number: class "
            f"{row['dest_class']}, never priced",
        )
        _finish(out, row, stored)
        return out
    if row["direction"] == "internal":
        out.add("number", "internal call between extensions: class internal, no cost")
        _finish(out, row, stored)
        return out
    out.add(
        "number",
        f"{row['remote_dialled'] or '(none)'} -> {row['remote_number'] or '(none)'}: "
        f"class {row['dest_class']}, country {row['dest_country'] or '-'}",
    )
    version = (
        tariffs.version(row["plan_id"], row["plan_version"])
        if row["plan_version"] is not None
        else None
    )
    out.add("plan", _plan_text(row, tariffs, version))
    if version is None:
        _finish(out, row, stored)
        return out
    local = row["local_start"]
    out.add("band", _band_text(version, local, row))
    if not row["priced"]:
        reason = (
            "not answered: no cost"
            if not row["answered"]
            else "incoming call and the plan does not price incoming calls: no cost"
        )
        out.add("rate", reason)
        _finish(out, row, stored)
        return out
    if not row["matched"]:
        out.add(
            "rate",
            f"no prefix of {row['remote_number']} and no '{row['dest_class']}' class default "
            f"in {version.plan} v{version.version}: cost 0 (add a rate to the deck)",
        )
        _finish(out, row, stored)
        return out
    out.add(
        "rate",
        f"{_match_text(row)} -> {row['destination'] or '(no name)'} (deck line {row['line_no']}"
        f"{', band ' + row['rate_row_band'] if row['rate_row_band'] else ''}): "
        f"{_money(row['price_u'])}/min, connect fee {_money(row['connect_u'])}, increments "
        f"{row['initial']}/{row['subsequent']} s, minimum {_money(row['min_u'])}",
    )
    costing = _costing(row, version, zone, tariffs)
    _arithmetic(out, costing, row["currency"])
    out.data["billed_s"] = costing.billed_s
    out.data["rate"] = {
        "prefix": row["rate_prefix"],
        "destination": row["destination"],
        "deck_line": row["line_no"],
        "price_per_min": money_text(to_decimal(row["price_u"], 0), decimals=0),
        "connect_fee": money_text(to_decimal(row["connect_u"], 0), decimals=0),
        "initial_increment_s": row["initial"],
        "subsequent_increment_s": row["subsequent"],
        "min_charge": money_text(to_decimal(row["min_u"], 0), decimals=0),
    }
    if costing.cost_u != row["cost_u"]:  # pragma: no cover - the two paths are tested equal
        out.add("check", "the step-by-step cost differs from rating's; please report it")
    _finish(out, row, stored)
    return out


def _site_reason(row: dict[str, Any], extensions: str, gateways: str) -> str:
    if row["site"] == row["rating_site"]:
        return "the directory's site of the caller"
    if extensions and row["extension"] and re.search(extensions, row["extension"]):
        return f"extension {row['extension']} matches '{extensions}'"
    if gateways and row["gateway"] and re.search(gateways, row["gateway"]):
        return f"gateway {row['gateway']} matches '{gateways}'"
    return "no site pattern matched, the default site"


def _plan_text(row: dict[str, Any], tariffs: Tariffs, version: Version | None) -> str:
    if tariffs.empty:
        return "no tariff plan is loaded: cost 0"
    if row["plan_id"] is None:
        return f"no plan prices gateway {row['gateway'] or '-'} and there is no default plan"
    route = next(r for r in tariffs.routes if r.plan == row["plan_id"])
    gateway = row["gateway"] or ""
    why = (
        f"gateway {gateway} matches '{route.gateways}'"
        if route.gateways and re.search(route.gateways, gateway)
        else "the default plan"
    )
    if version is None:
        first = min(v.valid_from for v in tariffs.versions if v.plan == route.plan)
        return (
            f"{route.plan} ({why}), but no version is in force on "
            f"{row['local_start']:%Y-%m-%d} (the first starts {first}): cost 0"
        )
    return (
        f"{route.plan} ({why}), version {version.version} valid from {version.valid_from} "
        f"({version.currency}, {version.decimals} decimals, rounding {version.rounding}"
        f"{', split at band boundaries' if version.split_bands else ''})"
    )


def _band_text(version: Version, local: dt.datetime, row: dict[str, Any]) -> str:
    bands = version.bands
    if bands.empty:
        return "the plan has no time bands"
    when = f"{local:%a %Y-%m-%d %H:%M} local"
    if bands.holiday_band and local.date() in bands.holidays:
        return f"{when} is a holiday: band {bands.holiday_band}"
    for band in bands.bands:
        if band.holds(local):
            return f"{when} is in band {band.name} ({', '.join(band.days)} {band.start}-{band.end})"
    return f"{when} is in no band: only band-less rates apply"


def _match_text(row: dict[str, Any]) -> str:
    prefix = row["rate_prefix"]
    if prefix.startswith("class:"):
        return f"no prefix matched; class default for {prefix.removeprefix('class:')}"
    return f"longest matching prefix {prefix}"


def _costing(row: dict[str, Any], version: Version, zone: ZoneInfo, tariffs: Tariffs) -> Costing:
    parts = [Part(row["band"] or "", row["duration_s"], row["price_u"])]
    if version.split_bands and "+" in (row["rate_band"] or ""):
        lookup = RateLookup(tariffs.rates)
        start = row["started_at"].replace(tzinfo=dt.UTC)
        parts = []
        for band, seconds in version.bands.segments(start, row["duration_s"], zone):
            rate = lookup.find(
                version.plan, version.version, row["remote_number"], row["dest_class"], band
            )
            parts.append(Part(band, seconds, int(rate["price_u"] if rate else row["price_u"])))
    return cost_of(
        parts,
        connect_u=row["connect_u"],
        initial=row["initial"],
        subsequent=row["subsequent"],
        min_u=row["min_u"],
        decimals=version.decimals,
        rounding=version.rounding,
    )


def _arithmetic(out: Explanation, c: Costing, currency: str) -> None:
    duration = c.duration_s
    if duration <= 0:
        out.add("billed", "0 s of conversation: 0 s billed")
    elif duration <= c.initial_increment_s:
        out.add(
            "billed",
            f"{duration} s <= first increment {c.initial_increment_s} s: {c.billed_s} s billed",
        )
    else:
        rest = duration - c.initial_increment_s
        steps = (c.billed_s - c.initial_increment_s) // c.subsequent_increment_s
        out.add(
            "billed",
            f"{duration} s = {c.initial_increment_s} s + {rest} s; {rest} s rounded up to "
            f"{steps} x {c.subsequent_increment_s} s; billed {c.initial_increment_s} + "
            f"{steps * c.subsequent_increment_s} = {c.billed_s} s",
        )
    terms = [f"connect fee {_money(c.connect_u)}"] + [
        f"{_money(price)} x {seconds} s / 60" + (f" ({band})" if len(c.parts) > 1 else "")
        for band, seconds, price in c.parts
    ]
    raw = _exact(c.raw_sixtieths)
    out.add("cost", " + ".join(terms) + f" = {raw} {currency}")
    if c.min_applied:
        out.add("minimum", f"{raw} is below the minimum charge: {_money(c.min_u)}")
    out.add(
        "rounding",
        f"rounded {c.rounding.replace('_', ' ')} to {c.decimals} decimals: "
        + money_text(to_decimal(c.cost_u, c.decimals), currency, decimals=c.decimals),
    )


def _finish(out: Explanation, row: dict[str, Any], stored: dict[str, Any]) -> None:
    now = money_text(to_decimal(row["cost_u"]), row["currency"])
    if stored["old_cost_u"] is None:
        out.add("stored", f"not rated yet; rating now gives {now}")
    elif stored["old_cost_u"] == row["cost_u"] and stored["old_currency"] == row["currency"]:
        out.add("stored", f"stored cost {now} agrees with the tariffs in force")
    else:
        was = money_text(to_decimal(stored["old_cost_u"]), stored["old_currency"])
        out.add(
            "stored",
            f"stored cost is {was}, the tariffs in force now give {now}: run 'callacct rate' "
            "to update it",
        )


def _money(micro: int) -> str:
    return money_text(to_decimal(int(micro), 2))


def _exact(sixtieths: int) -> str:
    """A cost in 1/60 micro-units as an exact decimal (to 8 places, marked when it recurs)."""
    whole, rest = divmod(sixtieths, 60 * MICRO)
    places = f"{rest * 10**8 // (60 * MICRO):08d}".rstrip("0").ljust(2, "0")
    text = f"{whole}.{places}"
    exact = (rest * 10**8) % (60 * MICRO) == 0
    return text if exact else text + "..."
