"""The dial plan numbers are read with: region, outside-line codes, prefixes, local area codes.

A `DialPlan` says how people on this PBX dial out, so that `0 01 42 68 53 00` in Paris and
`9 1 212 555 0100` in New York can both become E.164 numbers. `DialPlan.for_region` gives
sensible defaults, its prefixes taken from the phonenumbers metadata.

Example:
    >>> plan = DialPlan.for_region("US", local_area_codes=("212",))
    >>> plan.access_codes, plan.international_prefix, plan.national_prefix
    (('9',), '011', '1')
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any

import phonenumbers
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from callacct.config import (
    check_access_code,
    check_area_code,
    check_country,
    check_international_prefix,
    check_national_prefix,
    check_regex,
)
from callacct.errors import ConfigError

# The outside-line code PBXs most often use in each country; elsewhere `DEFAULT_ACCESS_CODE`,
# the same as the `dialplan.access_codes` setting's default.
_ACCESS_CODES: dict[str, str] = {
    "AT": "0",
    "BE": "0",
    "CA": "9",
    "CH": "0",
    "DE": "0",
    "ES": "0",
    "FR": "0",
    "GB": "9",
    "IE": "9",
    "IT": "0",
    "NL": "0",
    "US": "9",
}
DEFAULT_ACCESS_CODE = "9"
DEFAULT_EXTENSION_PATTERN = r"^\d{3,6}$"


class DialPlan(BaseModel):
    """How external numbers are dialled from one PBX (or site)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    region: str = Field(description="ISO 3166-1 alpha-2 country the PBX is in, e.g. 'FR'")
    access_codes: tuple[str, ...] = Field(
        (DEFAULT_ACCESS_CODE,),
        description="outside-line access code(s) dialled before PSTN numbers; one is stripped",
    )
    international_prefix: str = Field(
        "00", description="prefix dialled before a country code, e.g. '00' or '011'"
    )
    national_prefix: str = Field(
        "0", description="trunk prefix dialled before a national number ('0', '1'), or ''"
    )
    local_area_codes: tuple[str, ...] = Field(
        (),
        description="national area codes (without the national prefix) whose fixed lines are "
        "local calls, e.g. ['1'] for Paris or ['212', '646', '917'] for New York",
    )
    extension_pattern: str = Field(
        DEFAULT_EXTENSION_PATTERN, description="regular expression matching internal extensions"
    )

    # The same rules as the settings these fields come from (config.py), so that settings
    # that load always make a dial plan.
    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        return check_country(value)

    @field_validator("access_codes")
    @classmethod
    def _access_codes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(check_access_code(code) for code in value)

    @field_validator("international_prefix")
    @classmethod
    def _international_prefix(cls, value: str) -> str:
        return check_international_prefix(value)

    @field_validator("national_prefix")
    @classmethod
    def _national_prefix(cls, value: str) -> str:
        return check_national_prefix(value)

    @field_validator("local_area_codes")
    @classmethod
    def _local_area_codes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(check_area_code(code) for code in value)

    @field_validator("extension_pattern")
    @classmethod
    def _extension_pattern(cls, value: str) -> str:
        return check_regex(value)

    @property
    def country_code(self) -> int:
        """The calling code of `region` (33 for FR, 1 for US)."""
        return int(phonenumbers.country_code_for_region(self.region))

    @property
    def key(self) -> str:
        """A stable hash of every field: equal plans share it, any change gives a new one.

        >>> DialPlan.for_region("FR").key == DialPlan.for_region("FR").key
        True
        """
        text = self.model_dump_json()  # fields in declaration order: stable across runs
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    @classmethod
    def for_region(cls, region: str, **overrides: Any) -> DialPlan:
        """Defaults for `region`, the prefixes from phonenumbers; `overrides` replace fields.

        >>> DialPlan.for_region("FR").international_prefix
        '00'
        """
        code = region.upper()
        metadata = phonenumbers.PhoneMetadata.metadata_for_region(code)
        if metadata is None:
            raise ConfigError(f"dial plan: key 'region': {region!r} is not a known country")
        fields: dict[str, Any] = {
            "region": code,
            "access_codes": (_ACCESS_CODES.get(code, DEFAULT_ACCESS_CODE),),
            "international_prefix": _digits_prefix(
                metadata.preferred_international_prefix, metadata.international_prefix
            ),
            "national_prefix": metadata.national_prefix or "",
        }
        return parse_dial_plan({**fields, **overrides})


def _digits_prefix(preferred: str | None, pattern: str | None) -> str:
    # Metadata holds a pattern ("00[1-9]") or a dial string with a wait ("8~10"); a PBX dials
    # plain digits, so take the first candidate that is one.
    for text in (preferred, pattern):
        digits = (text or "").replace("~", "")
        if re.fullmatch(r"[0-9]{1,4}", digits):
            return digits
    return "00"


def parse_dial_plan(raw: Mapping[str, Any]) -> DialPlan:
    """Validate a dial-plan mapping; the first problem becomes a one-line `ConfigError`.

    >>> parse_dial_plan({"region": "XX"})
    Traceback (most recent call last):
    ...
    callacct.errors.ConfigError: dial plan: key 'region': 'XX' is not an ISO country code such as 'FR' or 'US'
    """  # noqa: E501
    try:
        return DialPlan.model_validate(dict(raw))
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(part) for part in err["loc"]) or "?"
        if err["type"] == "extra_forbidden":
            message = "unknown field; remove it or check its spelling"
        else:
            message = str(err["msg"]).removeprefix("Value error, ")
        more = f" (and {len(exc.errors()) - 1} more problem(s))" if len(exc.errors()) > 1 else ""
        raise ConfigError(f"dial plan: key '{key}': {message}{more}") from exc
