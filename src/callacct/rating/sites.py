"""Sites: where a call was dialled from, which decides its dial plan and its time zone.

`[general]` + `[dialplan]` describe the default site; `[sites.NAME]` tables add others, each
field falling back to the default's. A call belongs to the site its directory entry names (when
that is a configured site), else the first site whose `extensions` pattern matches its
extension, else the first whose `gateways` pattern matches its gateway, else the default.

Example:
    >>> from callacct.config import Settings
    >>> s = Settings.model_validate({"general": {"country": "FR", "timezone": "Europe/Paris"},
    ...     "sites": {"NYC": {"region": "US", "extensions": "^3"}}})
    >>> [(site.name, site.plan.region, site.timezone) for site in rating_sites(s)]
    [('NYC', 'US', 'Europe/Paris'), ('default', 'FR', 'Europe/Paris')]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import polars as pl

from callacct.config import AUTO, Settings
from callacct.rating.dialplan import DialPlan

DEFAULT_SITE: Final = "default"


@dataclass(frozen=True)
class RatingSite:
    """A site as rating sees it."""

    name: str
    plan: DialPlan
    timezone: str
    extensions: str
    gateways: str


def rating_sites(settings: Settings) -> list[RatingSite]:
    """The configured sites in settings order, the default site last."""
    general, dial = settings.general, settings.dialplan
    base: dict[str, Any] = {
        "access_codes": dial.access_codes,
        "extension_pattern": dial.extension_pattern,
    }
    if dial.international_prefix != AUTO:
        base["international_prefix"] = dial.international_prefix
    if dial.national_prefix != AUTO:
        base["national_prefix"] = dial.national_prefix
    if dial.local_area_codes:
        base["local_area_codes"] = dial.local_area_codes
    out: list[RatingSite] = []
    for name, site in settings.sites.items():
        region = site.region or general.country
        overrides: dict[str, Any] = {
            "access_codes": site.access_codes or dial.access_codes,
            "extension_pattern": site.extension_pattern or dial.extension_pattern,
        }
        if site.international_prefix != AUTO:
            overrides["international_prefix"] = site.international_prefix
        if site.national_prefix != AUTO:
            overrides["national_prefix"] = site.national_prefix
        if site.local_area_codes:
            overrides["local_area_codes"] = site.local_area_codes
        if region == general.country and site.region == "":
            overrides = {**base, **overrides}
        out.append(
            RatingSite(
                name=name,
                plan=DialPlan.for_region(region, **overrides),
                timezone=site.timezone or general.timezone,
                extensions=site.extensions,
                gateways=site.gateways,
            )
        )
    out.append(
        RatingSite(
            name=DEFAULT_SITE,
            plan=DialPlan.for_region(general.country, **base),
            timezone=general.timezone,
            extensions="",
            gateways="",
        )
    )
    return out


def site_expr(sites: list[RatingSite]) -> pl.Expr:
    """The site of each call from columns `site` (directory), `extension`, `gateway`."""
    configured = [site for site in sites if site.name != DEFAULT_SITE]
    out: pl.Expr = pl.lit(DEFAULT_SITE)
    for site in reversed(configured):
        if site.gateways:
            out = (
                pl.when(pl.col("gateway").str.contains(site.gateways).fill_null(False))
                .then(pl.lit(site.name))
                .otherwise(out)
            )
    for site in reversed(configured):
        if site.extensions:
            out = (
                pl.when(pl.col("extension").str.contains(site.extensions).fill_null(False))
                .then(pl.lit(site.name))
                .otherwise(out)
            )
    names = [site.name for site in configured]
    return pl.when(pl.col("site").is_in(names)).then(pl.col("site")).otherwise(out)
