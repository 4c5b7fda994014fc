"""Workspace settings: `callacct.toml` in the workspace folder.

A workspace is found from `--workspace DIR`, else `$CALLACCT_HOME`, else the current folder.
Every setting has a documented default; a missing file or an invalid value is a `ConfigError`
naming the file and the key.

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

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from callacct.errors import ConfigError

SETTINGS_FILE = "callacct.toml"
STORE_FILE = "callacct.duckdb"
ENV_HOME = "CALLACCT_HOME"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class GeneralSettings(_Section):
    """Where the installation is: used for display, numbering and money."""

    country: str = Field("US", description="ISO 3166-1 alpha-2 country of the installation")
    timezone: str = Field("UTC", description="reference time zone for everything shown")
    currency: str = Field("USD", description="ISO 4217 currency of costs")
    language: str = Field("en", description="default language: en, de, fr, es, ar or it")

    @field_validator("country")
    @classmethod
    def _country(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Z]{2}", value):
            raise ValueError(f"{value!r} is not an ISO country code such as 'FR' or 'US'")
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        return check_timezone(value)

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Z]{3}", value):
            raise ValueError(f"{value!r} is not an ISO currency code such as 'EUR'")
        return value

    @field_validator("language")
    @classmethod
    def _language(cls, value: str) -> str:
        if value not in LANGUAGES:
            raise ValueError(f"{value!r} is not one of {', '.join(LANGUAGES)}")
        return value


class DialPlanSettings(_Section):
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

    @field_validator("access_codes")
    @classmethod
    def _access_codes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for code in value:
            if not re.fullmatch(r"[0-9*#]{1,4}", code):
                raise ValueError(f"access code {code!r} must be 1 to 4 digits")
        return value

    @field_validator("extension_pattern", "gateway_pattern", "onnet_trunk_pattern")
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
        description="bytes of CDR text parsed at once (about 2.5 times this in memory, twice: "
        "one part is parsed while the previous one is stored)",
    )
    memory_limit: str = Field(
        "256MB",
        description="DuckDB memory limit while ingesting (parsing buffers come on top; "
        "with the default batch size a 5M-row file peaks under 1 GB)",
    )
    commit_rows: int = Field(
        250_000,
        ge=1,
        description="records written per commit of a large file (bounds memory; the file "
        "counts as loaded only once all of it is in)",
    )

    @field_validator("source_timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        return check_timezone(value) if value else value

    @field_validator("memory_limit")
    @classmethod
    def _memory(cls, value: str) -> str:
        return check_size(value)


class Settings(_Section):
    """All workspace settings; each section is a table in `callacct.toml`."""

    general: GeneralSettings = GeneralSettings()
    dialplan: DialPlanSettings = DialPlanSettings()
    store: StoreSettings = StoreSettings()
    ingest: IngestSettings = IngestSettings()

    @property
    def source_timezone(self) -> str:
        return self.ingest.source_timezone or self.general.timezone


LANGUAGES = ("en", "de", "fr", "es", "ar", "it")


def check_regex(value: str) -> str:
    """Return `value` if it is a valid regular expression, else raise `ValueError`."""
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"{value!r} is not a valid regular expression: {exc}") from exc
    return value


def check_size(value: str) -> str:
    """Return `value` if it is a memory size DuckDB understands, else raise `ValueError`."""
    if not re.fullmatch(r"\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)", value):
        raise ValueError(f"{value!r} is not a size such as '1GB' or '512MB'")
    return value


def check_timezone(name: str) -> str:
    """Return `name` if it is an IANA time zone, else raise `ValueError`."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"{name!r} is not a time zone such as 'Europe/Paris'") from exc
    return name


@dataclass(frozen=True)
class Workspace:
    """A workspace folder and its settings."""

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


def open_workspace(root: Path) -> Workspace:
    """Load the workspace at `root`; `ConfigError` if it has no valid `callacct.toml`."""
    return Workspace(root=root.resolve(), settings=load_settings(root))


def load_settings(root: Path) -> Settings:
    """Read and validate `root/callacct.toml`."""
    path = root / SETTINGS_FILE
    if not path.is_file():
        raise ConfigError(
            f"{path}: no callacct workspace here; run 'callacct init {root}' "
            f"or pass --workspace / set {ENV_HOME}"
        )
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}); fix the file") from exc
    return parse_settings(raw, path)


def parse_settings(raw: dict[str, Any], path: Path) -> Settings:
    """Validate a settings mapping; the first problem becomes a one-line `ConfigError`."""
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(part) for part in err["loc"])
        if err["type"] == "extra_forbidden":
            message = "unknown setting; remove it or check its spelling"
        else:
            message = str(err["msg"]).removeprefix("Value error, ")
        more = f" (and {len(exc.errors()) - 1} more problem(s))" if len(exc.errors()) > 1 else ""
        raise ConfigError(f"{path}: key '{key}': {message}{more}") from exc


def render_settings(settings: Settings) -> str:
    """The TOML text of `settings`, every key with its description as a comment."""
    lines = [
        "# callacct workspace settings. Every key is optional; shown here with its value.",
        "# Secrets (LDAP, AXL, SMTP passwords) never go here: they come from the environment.",
    ]
    for section_name, section_field in Settings.model_fields.items():
        section = getattr(settings, section_name)
        lines += ["", f"[{section_name}]"]
        for key, field in type(section).model_fields.items():
            if field.description:
                lines.append(f"# {field.description}")
            lines.append(f"{key} = {_toml_value(getattr(section, key))}")
        del section_field
    return "\n".join(lines) + "\n"


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
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
