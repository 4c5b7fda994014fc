"""Workspace settings: `callacct.toml` in the workspace folder.

A workspace is found from `--workspace DIR`, else `$CALLACCT_HOME`, else the current folder.
Every setting has a documented default; a missing file or an invalid value is a `ConfigError`
naming the file, the line and the key (every invalid value, not only the first).

Example:
    >>> import tempfile, pathlib
    >>> ws = pathlib.Path(tempfile.mkdtemp())
    >>> _ = write_default_settings(ws)
    >>> load_settings(ws).general.timezone
    'UTC'
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
import polars as pl
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from callacct.errors import ConfigError
from callacct.i18n import LANGUAGES, Message
from callacct.problems import ConfigProblems, KeyPath, LineMap, from_validation

SETTINGS_FILE = "callacct.toml"
STORE_FILE = "callacct.duckdb"
ENV_HOME = "CALLACCT_HOME"
AUTO = "auto"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class GeneralSettings(_Section):
    """Where the installation is: used for display, numbering and money."""

    country: str = Field("US", description="ISO 3166-1 alpha-2 country of the installation")
    timezone: str = Field("UTC", description="reference time zone for everything shown")
    currency: str = Field("USD", description="ISO 4217 currency of costs")
    language: str = Field("en", description=f"default language: {', '.join(LANGUAGES)}")

    @field_validator("country")
    @classmethod
    def _country(cls, value: str) -> str:
        return check_country(value)

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        return check_timezone(value)

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        return check_currency(value)

    @field_validator("language")
    @classmethod
    def _language(cls, value: str) -> str:
        if value not in LANGUAGES:
            raise ValueError(f"{value!r} is not one of {', '.join(LANGUAGES)}")
        return value


class _DialFields(_Section):
    """Validators of the dial-plan keys that `[dialplan]` and `[sites.NAME]` share: the same
    rules as the dial plans rating builds from them, so that settings that load also rate."""

    @field_validator("access_codes", check_fields=False)
    @classmethod
    def _access_codes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(check_access_code(code) for code in value)

    @field_validator("international_prefix", check_fields=False)
    @classmethod
    def _international_prefix(cls, value: str) -> str:
        return value if value == AUTO else check_international_prefix(value)

    @field_validator("national_prefix", check_fields=False)
    @classmethod
    def _national_prefix(cls, value: str) -> str:
        return value if value == AUTO else check_national_prefix(value)

    @field_validator("local_area_codes", check_fields=False)
    @classmethod
    def _area_codes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(check_area_code(code) for code in value)


class DialPlanSettings(_DialFields):
    """How numbers look on this PBX."""

    access_codes: tuple[str, ...] = Field(
        ("9",), description="outside-line access code(s) dialled before PSTN numbers"
    )
    extension_pattern: str = Field(
        r"^\d{3,6}$", description="regular expression matching internal extensions"
    )
    gateway_pattern: str = Field(
        "",
        description="regular expression of device names that are PSTN gateways or trunks "
        "(in addition to what the CDR protocol fields say); empty for none",
    )
    onnet_trunk_pattern: str = Field(
        "",
        description="regular expression of trunk names that lead to other PBXs (on-net), "
        "not the PSTN; empty for none",
    )
    voicemail_pattern: str = Field(
        "",
        description="regular expression of voicemail pilot and port numbers (e.g. '^8000$'): "
        "calls to them are class 'voicemail', never read as phone numbers nor priced; empty "
        "for none",
    )
    service_pattern: str = Field(
        "",
        description="regular expression of other service numbers (music on hold, recorder, "
        "IVR pilots): class 'service', never read as phone numbers nor priced; empty for none "
        "(conference bridges, 'b' and digits, are recognised without it)",
    )
    international_prefix: str = Field(
        AUTO,
        description="prefix dialled before a country code ('00', '011'); 'auto' = the country's",
    )
    national_prefix: str = Field(
        AUTO,
        description="trunk prefix dialled before a national number ('0', '1', '' for none); "
        "'auto' = the country's",
    )
    local_area_codes: tuple[str, ...] = Field(
        (),
        description="area codes (without the national prefix) whose fixed lines are local "
        "calls, e.g. ['1'] for Paris or ['212', '646'] for New York",
    )

    @field_validator(
        "extension_pattern",
        "gateway_pattern",
        "onnet_trunk_pattern",
        "voicemail_pattern",
        "service_pattern",
    )
    @classmethod
    def _regex(cls, value: str) -> str:
        return check_regex(value)


class SiteSettings(_DialFields):
    """A site with its own dial plan and time zone (`[sites.NAME]`); unset keys come from
    `[general]` and `[dialplan]`."""

    region: str = Field("", description="ISO country of the site, e.g. 'US'")
    timezone: str = Field("", description="time zone of the site (tariff time bands use it)")
    access_codes: tuple[str, ...] = Field((), description="outside-line access code(s)")
    international_prefix: str = Field(AUTO, description="'00', '011'... or 'auto'")
    national_prefix: str = Field(AUTO, description="'0', '1', '' or 'auto'")
    local_area_codes: tuple[str, ...] = Field((), description="local area codes")
    extension_pattern: str = Field("", description="regex of internal extensions at the site")
    extensions: str = Field("", description="regex of the extensions that belong to the site")
    gateways: str = Field("", description="regex of the gateway/trunk names of the site")

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        return check_country(value) if value else value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        return check_timezone(value) if value else value

    @field_validator("extension_pattern", "extensions", "gateways")
    @classmethod
    def _regex(cls, value: str) -> str:
        return check_regex(value)


class StoreSettings(_Section):
    """The DuckDB store."""

    lock_timeout_s: float = Field(
        300.0, ge=0, description="how long to wait for another callacct process to finish"
    )
    memory_limit: str = Field("1GB", description="DuckDB memory limit")

    @field_validator("memory_limit")
    @classmethod
    def _memory(cls, value: str) -> str:
        return check_size(value)


class IngestSettings(_Section):
    """CDR ingest."""

    source_timezone: str = Field(
        "",
        description="time zone of CDR formats that write local times without an offset "
        "(Asterisk, FreeSWITCH, generic CSV); empty means general.timezone",
    )
    mappings: tuple[str, ...] = Field(
        (), description="generic CSV mapping files (YAML), relative to the workspace"
    )
    batch_bytes: int = Field(
        128 * 1024 * 1024,
        ge=1024,
        description="small files are joined into batches of this many bytes, each stored as "
        "one unit; a larger file is a batch of its own",
    )
    parse_bytes: int = Field(
        16 * 1024 * 1024,
        ge=1024,
        le=1024**3,
        description="bytes of CDR text parsed at once (about 2.5 times this in memory, twice: "
        "one part is parsed while the previous one is stored)",
    )
    max_line_bytes: int = Field(
        1024 * 1024,
        ge=1024,
        le=64 * 1024 * 1024,
        description="a line longer than this is rejected as line_too_long (its start kept, "
        "the raw archive has it whole) instead of being parsed: one malformed line, or a "
        "quote that never closes, then costs neither the other records nor the memory",
    )
    memory_limit: str = Field(
        "256MB",
        description="DuckDB memory limit while ingesting (parsing buffers come on top; "
        "with the default batch size a 5M-row file peaks under 1 GB)",
    )
    commit_rows: int = Field(
        250_000,
        ge=1,
        description="records written per commit of a large file, rounded down to whole "
        "row groups of 122,880 (bounds memory; the file counts as loaded only once all of it "
        "is in)",
    )

    @field_validator("source_timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        return check_timezone(value) if value else value

    @field_validator("memory_limit")
    @classmethod
    def _memory(cls, value: str) -> str:
        return check_size(value)


ROLES = ("user", "supervisor", "admin")
SCOPE_KINDS = ("department", "cost_center", "site")

# Active Directory: enabled people only.
AD_USER_FILTER = (
    "(&(objectCategory=person)(objectClass=user)(!(userAccountControl:1.2.840.113556.1.4.803:=2)))"
)


class LdapAttributes(_Section):
    """Which directory attribute holds each field (defaults: Active Directory)."""

    login: str = Field("sAMAccountName", description="login name")
    name: str = Field("displayName", description="display name")
    email: str = Field("mail", description="e-mail address")
    extensions: tuple[str, ...] = Field(
        ("ipPhone", "telephoneNumber"),
        description="attributes holding extensions, in order; values that do not match "
        "dialplan.extension_pattern (once spaces and dashes are removed) are ignored",
    )
    department: str = Field("department", description="department name")
    cost_center: str = Field(
        "extensionAttribute1", description="cost centre (AD has no standard attribute)"
    )
    site: str = Field("physicalDeliveryOfficeName", description="site / office")
    manager: str = Field("manager", description="manager (a DN, resolved to a login)")
    language: str = Field("preferredLanguage", description="language (en, fr-FR, ...)")
    scope: str = Field(
        "",
        description="attribute holding a supervisor's scope such as 'department:Sales;site:PAR' "
        "(empty: directory.supervisor_scope applies)",
    )


class LdapSettings(_Section):
    """LDAP / Active Directory: `directory sync-ldap` and `auth check`."""

    url: str = Field("", description="ldap://host[:port] or ldaps://host[:port]; empty: no LDAP")
    start_tls: bool = Field(True, description="StartTLS on ldap:// before any password is sent")
    ca_file: str = Field(
        "", description="CA bundle (PEM) that signed the server certificate; empty: system CAs"
    )
    bind_dn: str = Field("", description="service account DN used to search (empty: anonymous)")
    bind_password_env: str = Field(
        "CALLACCT_LDAP_PASSWORD",
        description="environment variable holding the service account password (never stored)",
    )
    base_dn: str = Field("", description="where people are searched")
    user_filter: str = Field(AD_USER_FILTER, description="LDAP filter selecting people")
    admin_groups: tuple[str, ...] = Field((), description="DNs of groups whose members are admins")
    supervisor_groups: tuple[str, ...] = Field(
        (), description="DNs of groups whose members are supervisors"
    )
    group_base_dn: str = Field(
        "",
        description="where groups nested in the role groups are looked for (empty: the "
        "directory root, the DC= part of the first role group)",
    )
    page_size: int = Field(500, ge=1, le=100_000, description="entries per page (AD allows 1000)")
    timeout_s: float = Field(
        10.0, gt=0, le=3600, description="connect and receive timeout in seconds"
    )
    attributes: LdapAttributes = LdapAttributes()

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if value and not re.fullmatch(r"ldaps?://[^\s/]+/?", value):
            raise ValueError(f"{value!r} is not an URL such as 'ldaps://dc1.example.com'")
        return value


class DirectorySettings(_Section):
    """The directory of people and extensions."""

    supervisor_scope: tuple[str, ...] = Field(
        ("department",),
        description="what a supervisor sees when no scope is given for them: their own "
        "department, cost_center and/or site",
    )

    @field_validator("supervisor_scope")
    @classmethod
    def _kinds(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for kind in value:
            if kind not in SCOPE_KINDS:
                raise ValueError(f"{kind!r} is not one of {', '.join(SCOPE_KINDS)}")
        return value


class MaskingSettings(_Section):
    """Privacy: trailing digits of external numbers shown as '*', per role (0: not masked)."""

    user: int = Field(0, ge=0, le=20, description="digits hidden from users")
    supervisor: int = Field(0, ge=0, le=20, description="digits hidden from supervisors")
    admin: int = Field(0, ge=0, le=20, description="digits hidden from admins")

    def digits_for(self, role: str) -> int:
        """How many trailing digits `role` does not see.

        >>> MaskingSettings(supervisor=4).digits_for("supervisor")
        4
        """
        return int(getattr(self, role))


class AlarmSettings(_Section):
    """Alarms (F-ALARM): when they are evaluated and what their mails hold."""

    after_ingest: bool = Field(
        False,
        description="evaluate the due alarms after every ingest, as 'ingest --alarms' does",
    )
    mail_rows: int = Field(
        50,
        ge=1,
        le=1000,
        description="rows shown in the body of an alarm's mail (all of them in its attachment)",
    )


AXL_VERSIONS = ("12.5", "14.0", "15.0")
_LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")
_SERVICE_URL = re.compile(r"(https?)://(\[[0-9a-fA-F:]+\]|[^\s/:?#\[\]]+)(:\d{1,5})?(/[^\s?#]*)?")


def check_service_url(value: str, what: str) -> str:
    """An https:// URL of a service callacct calls; http:// only on this machine (a stand-in).

    >>> check_service_url("https://cucm-pub.example.com:8443/axl/", "AXL")
    'https://cucm-pub.example.com:8443/axl/'
    >>> check_service_url("http://cucm-pub.example.com/axl/", "AXL")
    Traceback (most recent call last):
    ...
    ValueError: 'http://cucm-pub.example.com/axl/' is not an https:// URL of the AXL service (http:// only for 127.0.0.1 or localhost)
    """  # noqa: E501
    found = re.fullmatch(
        r"(https?)://(\[[0-9a-fA-F:]+\]|[^\s/:?#\[\]]+)(:\d{1,5})?(/[^\s?#]*)?", value
    )
    if not found or (found[1] == "http" and found[2] not in _LOOPBACK_HOSTS):
        raise ValueError(
            f"{value!r} is not an https:// URL of the {what} service "
            "(http:// only for 127.0.0.1 or localhost)"
        )
    return value


def check_file_setting(value: str) -> str:
    """A file name setting: empty, or a path without control characters."""
    if any(ord(char) < 32 for char in value):
        raise ValueError(f"{value!r} contains control characters")
    return value


class LockAxlSettings(_Section):
    """Cisco CUCM through AXL (SOAP over HTTPS): a locked line gets the locked CSS as its line
    calling search space; unlocking gives it back the CSS it had (docs/lock.md)."""

    url: str = Field(
        "", description="AXL service of the publisher, e.g. https://cucm-pub.example.com:8443/axl/"
    )
    user: str = Field("", description="application user with the Standard AXL API Access role")
    password_env: str = Field(
        "CALLACCT_AXL_PASSWORD",
        description="environment variable holding that user's password (never stored)",
    )
    version: str = Field("14.0", description="AXL schema version: 12.5, 14.0 or 15.0")
    partition: str = Field(
        "",
        description="route partition of the extensions' directory numbers "
        "(empty: lines are found by their number alone)",
    )
    locked_css: str = Field(
        "CSS_Locked",
        description="calling search space of a locked line: internal and emergency numbers only",
    )
    normal_css: tuple[str, ...] = Field(
        (),
        description="the calling search spaces lines normally have; refused as locked_css, "
        "and a line found on none of them is reported by 'lock sync'",
    )
    ca_file: str = Field(
        "", description="CA bundle (PEM) of CUCM's Tomcat certificate; empty: system CAs"
    )
    verify_tls: bool = Field(
        True, description="verify CUCM's certificate (turn off only for a lab, never in use)"
    )
    connect_timeout_s: float = Field(10.0, gt=0, le=600, description="connect timeout, seconds")
    timeout_s: float = Field(30.0, gt=0, le=3600, description="timeout of one AXL request, seconds")
    concurrency: int = Field(
        4, ge=1, le=64, description="AXL requests in flight at once when many lines change"
    )
    writes_per_s: float = Field(
        0.0,
        ge=0,
        le=1000,
        description="at most this many line updates a second (0: no pacing; CUCM's answer "
        "503 still slows callacct down)",
    )
    retries: int = Field(
        4, ge=0, le=20, description="attempts after the first when CUCM answers 503 (throttled)"
    )
    backoff_s: float = Field(
        2.0, ge=0, le=600, description="wait before the first retry; doubled at each retry"
    )
    max_backoff_s: float = Field(30.0, ge=0, le=3600, description="longest wait between retries")

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return check_service_url(value, "AXL") if value else value

    @field_validator("version")
    @classmethod
    def _version(cls, value: str) -> str:
        if value not in AXL_VERSIONS:
            raise ValueError(f"{value!r} is not one of {', '.join(AXL_VERSIONS)}")
        return value

    @field_validator("locked_css")
    @classmethod
    def _locked(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the locked calling search space must be named")
        return value

    @field_validator("ca_file")
    @classmethod
    def _ca(cls, value: str) -> str:
        return check_file_setting(value)

    @model_validator(mode="after")
    def _locked_is_not_normal(self) -> LockAxlSettings:
        if self.locked_css in self.normal_css:
            raise ValueError(
                f"locked_css {self.locked_css!r} is also one of normal_css: a locked line "
                "would keep its calling rights; name the CSS that has only internal and "
                "emergency numbers"
            )
        return self


class LockWebexSettings(_Section):
    """Webex Calling: a locked person's outgoing calling permissions block every external
    call type; unlocking gives back the permissions they had."""

    base_url: str = Field("https://webexapis.com/v1", description="Webex API base URL")
    token_env: str = Field(
        "CALLACCT_WEBEX_TOKEN",
        description="environment variable holding an admin token with spark-admin:people_write "
        "(never stored)",
    )
    org_id: str = Field("", description="organisation id (empty: the token's own organisation)")
    ca_file: str = Field("", description="CA bundle (PEM) to verify the API; empty: system CAs")
    verify_tls: bool = Field(True, description="verify the API's certificate")
    timeout_s: float = Field(30.0, gt=0, le=3600, description="timeout of one request, seconds")
    concurrency: int = Field(4, ge=1, le=64, description="requests in flight at once")
    retries: int = Field(
        4, ge=0, le=20, description="attempts after the first when the API answers 429 or 503"
    )
    max_retry_after_s: float = Field(
        120.0, ge=0, le=3600, description="longest Retry-After callacct waits for"
    )

    @field_validator("base_url")
    @classmethod
    def _url(cls, value: str) -> str:
        return check_service_url(value, "Webex")

    @field_validator("ca_file")
    @classmethod
    def _ca(cls, value: str) -> str:
        return check_file_setting(value)


class LockServeSettings(_Section):
    """`callacct lock serve`: the IP-phone XML service and the workstation endpoint."""

    address: str = Field(
        "127.0.0.1", description="address to listen on (the phones' VLAN side of this host)"
    )
    port: int = Field(8480, ge=1, le=65535, description="port to listen on")
    tls_cert: str = Field("", description="certificate (PEM) for HTTPS; empty: plain HTTP")
    tls_key: str = Field("", description="private key (PEM) of tls_cert")
    public_url: str = Field(
        "",
        description="URL phones use to reach the service, e.g. http://callacct.example.com:8480 "
        "(empty: taken from each request)",
    )
    max_request_bytes: int = Field(
        8192,
        ge=1024,
        le=1024 * 1024,
        description="longest request line, header or body accepted (phones send a few hundred)",
    )
    store_timeout_s: float = Field(
        2.0,
        ge=0,
        le=60,
        description="how long a request waits for the store (an ingest may hold it) before "
        "the phone is told to try again",
    )
    cache_s: float = Field(
        30.0,
        ge=0,
        le=3600,
        description="how long the phone-to-person map is reused before it is read again",
    )

    @field_validator("tls_cert", "tls_key")
    @classmethod
    def _files(cls, value: str) -> str:
        return check_file_setting(value)

    @field_validator("public_url")
    @classmethod
    def _public(cls, value: str) -> str:
        if value and not re.fullmatch(r"https?://[^\s/?#]+/?", value):
            raise ValueError(f"{value!r} is not an URL such as 'http://callacct.example.com:8480'")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _pair(self) -> LockServeSettings:
        if bool(self.tls_cert) != bool(self.tls_key):
            raise ValueError("tls_cert and tls_key go together: give both, or neither")
        return self


class LockSettings(_Section):
    """Phone lock (F-LOCK): backends, PINs, the phone and workstation service."""

    backend: str = Field(
        "dry-run",
        description="how lines are locked: cucm-axl, webex, or dry-run (records what it would do)",
    )
    site_backends: dict[str, str] = Field(
        default_factory=dict,
        description='backend of the extensions of a site, e.g. { NYC = "webex" }',
    )
    pin_length: int = Field(4, ge=4, le=12, description="digits of a PIN")
    pin_attempts: int = Field(
        5, ge=1, le=100, description="wrong PINs in a row before the PIN is blocked"
    )
    pin_block_minutes: int = Field(
        15, ge=1, le=7 * 24 * 60, description="how long a blocked PIN stays blocked"
    )
    axl: LockAxlSettings = LockAxlSettings()
    webex: LockWebexSettings = LockWebexSettings()
    serve: LockServeSettings = LockServeSettings()

    @field_validator("backend")
    @classmethod
    def _backend(cls, value: str) -> str:
        return check_lock_backend(value)

    @field_validator("site_backends")
    @classmethod
    def _site_backends(cls, value: dict[str, str]) -> dict[str, str]:
        for site, backend in value.items():
            try:
                check_lock_backend(backend)
            except ValueError as exc:
                raise ValueError(f"site {site!r}: {exc}") from None
        return value

    def backend_for(self, site: str | None) -> str:
        """The backend of an extension of `site` (None: no site known).

        >>> LockSettings(site_backends={"NYC": "webex"}).backend_for("NYC")
        'webex'
        >>> LockSettings().backend_for("PAR")
        'dry-run'
        """
        return self.site_backends.get(site or "", self.backend)


class BudgetSettings(_Section):
    """Budget control (F-BUDGET): defaults of `budget set`, who is warned, when it runs."""

    warn_at: tuple[int, ...] = Field(
        (80, 95), description="warning thresholds, % of the period's allowance (budget set --warn)"
    )
    lock_at: int = Field(
        100, ge=0, le=1000, description="lock threshold, % of the allowance; 0: never lock"
    )
    warn_supervisor: bool = Field(
        False, description="send the warnings to the person's manager too"
    )
    after_ingest: bool = Field(
        True, description="evaluate the budgets after each ingest (when there are budgets)"
    )
    max_catch_up: int = Field(
        60,
        ge=1,
        le=1000,
        description="periods a budget catches up at most when it was not evaluated for long "
        "(older ones are closed without carry-over)",
    )

    @field_validator("warn_at")
    @classmethod
    def _warn(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        return check_thresholds(value)


def check_thresholds(values: tuple[int, ...]) -> tuple[int, ...]:
    """Warning thresholds: whole percentages from 1 to 1000, sorted, each once.

    >>> check_thresholds((95, 80))
    (80, 95)
    >>> check_thresholds((0,))
    Traceback (most recent call last):
    ...
    ValueError: threshold 0 must be a whole percentage from 1 to 1000
    """
    for value in values:
        if not 1 <= value <= 1000:
            raise ValueError(f"threshold {value} must be a whole percentage from 1 to 1000")
    return tuple(sorted(set(values)))


def check_lock_backend(value: str) -> str:
    """A registered lock backend's name."""
    from callacct.registry import names_in

    names = names_in("callacct.lock_backends")
    if value not in names:
        raise ValueError(f"{value!r} is not a lock backend: {', '.join(names)}")
    return value


SMTP_SECURITY = ("starttls", "tls", "plain")


class DeliverySmtpSettings(_Section):
    """The SMTP server report, alarm and budget e-mails go through (docs/delivery.md)."""

    host: str = Field("", description="SMTP server name; empty: no server (only dry runs)")
    port: int = Field(
        0, ge=0, le=65535, description="port; 0: 587 for starttls, 465 for tls, 25 for plain"
    )
    security: str = Field(
        "starttls",
        description="starttls (upgrade before AUTH), tls (implicit TLS) or plain (no "
        "encryption: a local relay only; AUTH is refused over it)",
    )
    user: str = Field("", description="login for AUTH; empty: no AUTH")
    password_env: str = Field(
        "CALLACCT_SMTP_PASSWORD",
        description="environment variable holding the AUTH password (never stored)",
    )
    ca_file: str = Field("", description="CA bundle (PEM) to verify the server; empty: system CAs")
    verify_tls: bool = Field(
        True, description="verify the server's certificate (turn off only for a lab)"
    )
    timeout_s: float = Field(30.0, gt=0, le=600, description="timeout of one SMTP step, seconds")
    from_address: str = Field(
        "callacct@localhost", description="From: address of every message callacct sends"
    )
    reply_to: str = Field("", description="Reply-To: address (empty: none)")
    retries: int = Field(
        3,
        ge=0,
        le=20,
        description="attempts after the first on a temporary failure (4xx answer, refused "
        "connection, timeout); a permanent one (5xx) is not retried",
    )
    backoff_s: float = Field(
        2.0, ge=0, le=600, description="wait before the first retry; doubled at each retry"
    )
    max_backoff_s: float = Field(60.0, ge=0, le=3600, description="longest wait between retries")

    @field_validator("security")
    @classmethod
    def _security(cls, value: str) -> str:
        if value not in SMTP_SECURITY:
            raise ValueError(f"{value!r} is not one of {', '.join(SMTP_SECURITY)}")
        return value

    @field_validator("ca_file", "host", "user", "from_address", "reply_to")
    @classmethod
    def _text(cls, value: str) -> str:
        return check_file_setting(value)

    @property
    def effective_port(self) -> int:
        """The port to connect to.

        >>> DeliverySmtpSettings(security="tls").effective_port
        465
        """
        return self.port or {"starttls": 587, "tls": 465, "plain": 25}[self.security]


class DeliverySettings(_Section):
    """E-mail delivery and scheduled reports (F-REP-4, F-REP-5): see docs/delivery.md."""

    dry_run: bool = Field(
        False,
        description="write every message as an .eml file into dry_run_folder instead of "
        "sending it (recorded as 'dry-run')",
    )
    dry_run_folder: str = Field("outbox", description="where dry runs write (in the workspace)")
    max_attachment_bytes: int = Field(
        10_000_000, ge=1_000, le=1_000_000_000, description="largest attachment sent by e-mail"
    )
    oversize: str = Field(
        "refuse",
        description="a larger attachment: refuse (the delivery fails, saying so) or link "
        "(saved into oversize_folder, the message gives its link instead)",
    )
    oversize_folder: str = Field(
        "shared-reports", description="where 'link' saves attachments (in the workspace)"
    )
    oversize_url: str = Field(
        "",
        description="URL of oversize_folder as recipients reach it, e.g. "
        "https://files.example.com/reports/ (empty: the file's path is given)",
    )
    lease_s: int = Field(
        900,
        ge=30,
        le=86_400,
        description="a message being sent for longer than this is taken as interrupted (a "
        "killed run) and sent again, with the same Message-ID",
    )
    catch_up: int = Field(
        3,
        ge=1,
        le=366,
        description="after downtime, how many of a schedule's missed periods run (the most "
        "recent ones; older ones are recorded as skipped)",
    )
    tick_s: int = Field(
        60, ge=1, le=3600, description="how often 'scheduler run' looks for due jobs, seconds"
    )
    batch: int = Field(
        50,
        ge=1,
        le=10_000,
        description="report runs prepared while the store is open, before the SMTP "
        "conversation (the store is closed while mail is sent)",
    )
    workers: int = Field(
        0,
        ge=0,
        le=64,
        description="processes preparing the reports of a large run (to every supervisor or "
        "user); 0: the cores, up to 4",
    )
    smtp: DeliverySmtpSettings = DeliverySmtpSettings()

    @field_validator("oversize")
    @classmethod
    def _oversize(cls, value: str) -> str:
        if value not in ("refuse", "link"):
            raise ValueError(f"{value!r} is not one of refuse, link")
        return value

    @field_validator("dry_run_folder", "oversize_folder", "oversize_url")
    @classmethod
    def _paths(cls, value: str) -> str:
        return check_file_setting(value)


class Settings(_Section):
    """All workspace settings; each section is a table in `callacct.toml`."""

    general: GeneralSettings = GeneralSettings()
    dialplan: DialPlanSettings = DialPlanSettings()
    store: StoreSettings = StoreSettings()
    ingest: IngestSettings = IngestSettings()
    directory: DirectorySettings = DirectorySettings()
    masking: MaskingSettings = MaskingSettings()
    ldap: LdapSettings = LdapSettings()
    lock: LockSettings = LockSettings()
    delivery: DeliverySettings = DeliverySettings()
    alarms: AlarmSettings = AlarmSettings()
    budgets: BudgetSettings = BudgetSettings()
    sites: dict[str, SiteSettings] = Field(
        default_factory=dict,
        description="sites with their own dial plan, e.g. [sites.NYC]; calls are placed by "
        "their directory site, else by extension, else by gateway pattern",
    )

    @field_validator("sites")
    @classmethod
    def _site_names(cls, value: dict[str, SiteSettings]) -> dict[str, SiteSettings]:
        for name in value:
            if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,39}", name):
                raise ValueError(f"site name {name!r}: use letters, digits, '_', '.', '-'")
        return value

    @model_validator(mode="after")
    def _lock_sites(self) -> Settings:
        unknown = sorted(set(self.lock.site_backends) - set(self.sites))
        if unknown:
            raise ValueError(
                f"lock.site_backends names {', '.join(map(repr, unknown))}, not a site of "
                "[sites.NAME]; add the site or remove the line"
            )
        return self

    @property
    def source_timezone(self) -> str:
        return self.ingest.source_timezone or self.general.timezone


def check_regex(value: str) -> str:
    """Return `value` if it is a valid regular expression, else raise `ValueError`.

    Patterns run both in Python and on columns (Polars' RE2-like engine), so they must suit
    both: no look-around, no backreferences.

    >>> check_regex("^PAR-")
    '^PAR-'
    >>> check_regex("^(?!9)")
    Traceback (most recent call last):
    ...
    ValueError: '^(?!9)' is not supported: look-around and backreferences cannot be used
    """
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"{value!r} is not a valid regular expression: {exc}") from exc
    try:
        pl.Series([""]).str.contains(value)
    except pl.exceptions.ComputeError:
        raise ValueError(
            f"{value!r} is not supported: look-around and backreferences cannot be used"
        ) from None
    return value


def check_country(value: str) -> str:
    """Return `value` if it is a country callacct can read numbers of (ISO 3166-1 alpha-2, as
    the phonenumbers metadata knows it), else raise `ValueError`.

    >>> check_country("FR")
    'FR'
    >>> check_country("XX")
    Traceback (most recent call last):
    ...
    ValueError: 'XX' is not an ISO country code such as 'FR' or 'US'
    """
    if value not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(f"{value!r} is not an ISO country code such as 'FR' or 'US'")
    return value


def check_access_code(value: str) -> str:
    """An outside-line access code: 1 to 4 digits.

    >>> check_access_code("*9")
    Traceback (most recent call last):
    ...
    ValueError: access code '*9' must be 1 to 4 digits
    """
    if not re.fullmatch(r"[0-9]{1,4}", value):
        raise ValueError(f"access code {value!r} must be 1 to 4 digits")
    return value


def check_international_prefix(value: str) -> str:
    """The prefix dialled before a country code: 1 to 4 digits."""
    if not re.fullmatch(r"[0-9]{1,4}", value):
        raise ValueError(f"{value!r} must be 1 to 4 digits, e.g. '00' or '011'")
    return value


def check_national_prefix(value: str) -> str:
    """The trunk prefix dialled before a national number: empty, or 1 to 2 digits."""
    if not re.fullmatch(r"[0-9]{0,2}", value):
        raise ValueError(f"{value!r} must be empty or 1 to 2 digits, e.g. '0' or '1'")
    return value


def check_area_code(value: str) -> str:
    """A national area code without the national prefix: 1 to 6 digits."""
    if not re.fullmatch(r"[0-9]{1,6}", value):
        raise ValueError(f"area code {value!r} must be 1 to 6 digits")
    return value


def check_currency(value: str) -> str:
    """Return `value` if it looks like an ISO 4217 code, else raise `ValueError`."""
    if not re.fullmatch(r"[A-Z]{3}", value):
        raise ValueError(f"{value!r} is not an ISO currency code such as 'EUR'")
    return value


_SIZE_UNITS = {
    "KB": 1000, "MB": 1000**2, "GB": 1000**3, "TB": 1000**4,
    "KiB": 1024, "MiB": 1024**2, "GiB": 1024**3, "TiB": 1024**4,
}  # fmt: skip
# Below this DuckDB cannot run a query at all; above it, it refuses the setting.
_SIZE_RANGE = (16 * 1000**2, 1000**5)


def check_size(value: str) -> str:
    """Return `value` if it is a memory size DuckDB can work with, else raise `ValueError`.

    >>> check_size("512MB")
    '512MB'
    >>> check_size("1KB")
    Traceback (most recent call last):
    ...
    ValueError: '1KB' is not a size from 16MB to 1000TB, such as '1GB' or '512MB'
    """
    found = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)", value)
    size = float(found[1]) * _SIZE_UNITS[found[2]] if found else 0.0
    if not _SIZE_RANGE[0] <= size <= _SIZE_RANGE[1]:
        raise ValueError(f"{value!r} is not a size from 16MB to 1000TB, such as '1GB' or '512MB'")
    return value


def check_timezone(name: str) -> str:
    """Return `name` if it is an IANA time zone, else raise `ValueError`.

    Times are converted both in Python and on columns (Polars' own zone database), so a name
    only one of them knows (the system's 'localtime', 'posix/...', 'right/...') is refused.

    >>> check_timezone("Europe/Paris")
    'Europe/Paris'
    >>> check_timezone("localtime")
    Traceback (most recent call last):
    ...
    ValueError: 'localtime' is not a time zone such as 'Europe/Paris'
    """
    try:
        ZoneInfo(name)
        pl.Series([0], dtype=pl.Datetime("us", "UTC")).dt.convert_time_zone(name)
    except (ZoneInfoNotFoundError, ValueError, pl.exceptions.ComputeError) as exc:
        raise ValueError(f"{name!r} is not a time zone such as 'Europe/Paris'") from exc
    return name


@dataclass(frozen=True)
class WorkspaceFiles:
    """A workspace folder, where its files are, and its settings (`callacct.Workspace` is
    the workspace opened for use)."""

    root: Path
    settings: Settings

    @property
    def store_path(self) -> Path:
        return self.root / STORE_FILE

    @property
    def settings_path(self) -> Path:
        return self.root / SETTINGS_FILE

    @property
    def archive_dir(self) -> Path:
        return self.root / "archive"


def resolve_workspace_dir(option: Path | None) -> Path:
    """The folder named by `--workspace`, else `$CALLACCT_HOME`, else the current folder."""
    if option is not None:
        return option
    env = os.environ.get(ENV_HOME)
    if env:
        return Path(env)
    return Path.cwd()


def open_workspace(root: Path) -> WorkspaceFiles:
    """Load the workspace at `root`; `ConfigError` if it has no valid `callacct.toml`."""
    return WorkspaceFiles(root=root.resolve(), settings=load_settings(root))


def load_settings(root: Path) -> Settings:
    """Read and validate `root/callacct.toml`."""
    path = root / SETTINGS_FILE
    if not path.is_file():
        raise ConfigError(Message("error.no_workspace", path=path, root=root, env=ENV_HOME))
    try:
        text = path.read_text(encoding="utf-8")
        raw = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}); fix the file") from exc
    return parse_settings(raw, path, toml_lines(text))


def parse_settings(raw: dict[str, Any], path: Path, lines: LineMap | None = None) -> Settings:
    """Validate a settings mapping; every problem (file, line, key) in one `ConfigProblems`."""
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        raise ConfigProblems(from_validation(exc, str(path), lines)) from None


_TOML_TABLE = re.compile(r"\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_TOML_NAME = r"(?:[A-Za-z0-9_-]+|\"[^\"]*\"|'[^']*')"
_TOML_KEY = re.compile(rf"\s*({_TOML_NAME}(?:\s*\.\s*{_TOML_NAME})*)\s*=")
_TOML_PART = re.compile(r"\"([^\"]*)\"|'([^']*)'|([A-Za-z0-9_-]+)")


def toml_lines(text: str) -> dict[KeyPath, int]:
    """The line of each table and key of a TOML document, to name it in problems.

    >>> toml_lines('[general]\\ncountry = "XX"\\n\\n[sites.NYC]\\nregion = "ZZ"\\n')
    {('general',): 1, ('general', 'country'): 2, ('sites', 'NYC'): 4, ('sites', 'NYC', 'region'): 5}
    """
    lines: dict[KeyPath, int] = {}
    table: KeyPath = ()
    in_string = False
    for number, line in enumerate(text.splitlines(), start=1):
        quotes = line.count('"""') + line.count("'''")
        if in_string:
            in_string = quotes % 2 == 0
            continue
        in_string = quotes % 2 == 1
        if found := _TOML_TABLE.match(line):
            table = _toml_key(found.group(1))
            lines.setdefault(table, number)
        elif found := _TOML_KEY.match(line):
            lines.setdefault((*table, *_toml_key(found.group(1))), number)
    return lines


def _toml_key(text: str) -> KeyPath:
    return tuple(a or b or c for a, b, c in _TOML_PART.findall(text))


def render_settings(settings: Settings) -> str:
    """The TOML text of `settings`, every key with its description as a comment."""
    lines = [
        "# callacct workspace settings. Every key is optional; shown here with its value.",
        "# Secrets (LDAP, AXL, SMTP passwords, the Webex token) never go here: they come from "
        "the environment.",
    ]
    for section_name in Settings.model_fields:
        if section_name == "sites":
            continue
        lines += _render_table(section_name, getattr(settings, section_name))
    lines += ["", f"# {Settings.model_fields['sites'].description}"]
    if not settings.sites:
        lines += ["# [sites.NYC]", '# region = "US"', '# timezone = "America/New_York"']
        lines += ['# access_codes = ["9"]', '# extensions = "^3\\d{3}$"', '# gateways = "^NYC-"']
    for name, site in settings.sites.items():
        lines += _render_table(f"sites.{name}", site, changed_only=True)
    return "\n".join(lines) + "\n"


def _render_table(name: str, section: BaseModel, *, changed_only: bool = False) -> list[str]:
    lines = ["", f"[{name}]"]
    tables: list[str] = []
    for key, field in type(section).model_fields.items():
        value = getattr(section, key)
        if isinstance(value, BaseModel):
            tables += _render_table(f"{name}.{key}", value, changed_only=changed_only)
            continue
        if changed_only and value == field.default:
            continue
        if field.description and not changed_only:
            lines.append(f"# {field.description}")
        lines.append(f"{key} = {_toml_value(value)}")
    return lines + tables


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return (
            "{ "
            + ", ".join(f"{_toml_value(k)} = {_toml_value(v)}" for k, v in value.items())
            + " }"
        )
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def write_default_settings(root: Path, settings: Settings | None = None) -> Path:
    """Write `callacct.toml` into `root` (created if needed); refuse to overwrite one."""
    root.mkdir(parents=True, exist_ok=True)
    path = root / SETTINGS_FILE
    if path.exists():
        raise ConfigError(f"{path}: already exists; edit it, or choose another folder")
    path.write_text(render_settings(settings or Settings()), encoding="utf-8")
    return path
