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

from callacct.config import AUTO, DialPlanSettings, Settings, SiteSettings
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
    base = _dial_fields(dial, dial.access_codes, dial.extension_pattern)
    out: list[RatingSite] = []
    for name, site in settings.sites.items():
        fields = _dial_fields(
            site,
            site.access_codes or dial.access_codes,
            site.extension_pattern or dial.extension_pattern,
        )
        if not site.region:  # same country as the default site: its prefixes apply too
            fields = {**base, **fields}
        plan = DialPlan.for_region(site.region or general.country, **fields)
        zone = site.timezone or general.timezone
        out.append(RatingSite(name, plan, zone, site.extensions, site.gateways))
    default_plan = DialPlan.for_region(general.country, **base)
    out.append(RatingSite(DEFAULT_SITE, default_plan, general.timezone, "", ""))
    return out


def _dial_fields(
    section: DialPlanSettings | SiteSettings, access_codes: tuple[str, ...], extension_pattern: str
) -> dict[str, Any]:
    """The `DialPlan` fields a settings section sets ('auto' and empty keys left out)."""
    fields: dict[str, Any] = {
        "access_codes": access_codes,
        "extension_pattern": extension_pattern,
    }
    if section.international_prefix != AUTO:
        fields["international_prefix"] = section.international_prefix
    if section.national_prefix != AUTO:
        fields["national_prefix"] = section.national_prefix
    if section.local_area_codes:
        fields["local_area_codes"] = section.local_area_codes
    return fields


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
