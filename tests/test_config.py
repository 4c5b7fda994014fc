"""Settings checks that every part of callacct relies on."""

from __future__ import annotations

import re
from pathlib import Path

import phonenumbers
import pytest
from typer.testing import CliRunner

from callacct.cli import app
from callacct.config import load_settings, parse_settings
from callacct.errors import ConfigError
from callacct.problems import ProblemsError
from callacct.rating.sites import rating_sites


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ({"dialplan": {"extension_pattern": "^(?!9)\\d{4}$"}}, "dialplan.extension_pattern"),
        ({"sites": {"NYC": {"gateways": "(a)\\1"}}}, "sites.NYC.gateways"),
    ],
)
def test_patterns_the_column_engine_cannot_run_are_refused(
    raw: dict[str, object], key: str
) -> None:
    with pytest.raises(
        ConfigError, match=rf"^callacct\.toml: {re.escape(key)}: .* is not supported"
    ):
        parse_settings(raw, Path("callacct.toml"))


def test_every_bad_setting_is_named_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "callacct.toml"
    path.write_text(
        "[general]\n"
        'country = "US"\n'
        'currency = "dollars"  # wrong\n'
        "\n"
        "[sites.NYC]\n"
        'gateways = "^NYC-"\n'
        'region = "usa"\n'
        "\n"
        "[masking]\n"
        "guest = 3\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path)
    assert str(caught.value).splitlines() == [
        f"{path}:3: general.currency: 'dollars' is not an ISO currency code such as 'EUR'",
        f"{path}:10: masking.guest: unknown key; remove it or check its spelling",
        f"{path}:7: sites.NYC.region: 'usa' is not an ISO country code such as 'FR' or 'US'",
    ]
    assert isinstance(caught.value, ProblemsError)
    assert [p.line for p in caught.value.problems] == [3, 10, 7]


@pytest.mark.parametrize(
    ("raw", "key", "message"),
    [
        ({"general": {"country": "XX"}}, "general.country", "is not an ISO country code"),
        ({"general": {"country": "fr"}}, "general.country", "is not an ISO country code"),
        ({"sites": {"NYC": {"region": "ZZ"}}}, "sites.NYC.region", "is not an ISO country code"),
        ({"dialplan": {"access_codes": ["*9"]}}, "dialplan.access_codes", "1 to 4 digits"),
        ({"sites": {"A": {"access_codes": ["#"]}}}, "sites.A.access_codes", "1 to 4 digits"),
        ({"dialplan": {"international_prefix": ""}}, "dialplan.international_prefix", "digits"),
        ({"dialplan": {"national_prefix": "123"}}, "dialplan.national_prefix", "1 to 2 digits"),
        ({"sites": {"A": {"national_prefix": "0000"}}}, "sites.A.national_prefix", "digits"),
        ({"general": {"timezone": "localtime"}}, "general.timezone", "is not a time zone"),
        ({"sites": {"A": {"timezone": "right/UTC"}}}, "sites.A.timezone", "is not a time zone"),
        ({"ingest": {"source_timezone": "Factory"}}, "ingest.source_timezone", "not a time zone"),
        ({"store": {"memory_limit": "1KB"}}, "store.memory_limit", "is not a size from 16MB"),
        ({"ingest": {"memory_limit": "99999999999TB"}}, "ingest.memory_limit", "not a size"),
        ({"ldap": {"timeout_s": float("inf")}}, "ldap.timeout_s", "less than or equal"),
        ({"ingest": {"parse_bytes": 10**15}}, "ingest.parse_bytes", "less than or equal"),
    ],
)
def test_settings_later_steps_cannot_use_are_refused_when_loaded(
    raw: dict[str, object], key: str, message: str
) -> None:
    """Each of these loaded before, then failed later: the first ingest stored calls and
    stopped before rating them, a read failed in Polars or DuckDB, or LDAP never connected."""
    with pytest.raises(
        ConfigError, match=rf"callacct.toml: {re.escape(key)}[\[\]0-9]*: .*{message}"
    ):
        parse_settings(raw, Path("callacct.toml"))


def test_every_country_that_loads_makes_dial_plans() -> None:
    """What settings accept, rating can use: every country and site region builds its plans."""
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        settings = parse_settings(
            {"general": {"country": region}, "sites": {"B": {"region": region}}},
            Path("callacct.toml"),
        )
        assert [site.plan.region for site in rating_sites(settings)] == [region, region]


def test_init_refuses_an_unknown_country_and_leaves_no_workspace(tmp_path: Path) -> None:
    target = tmp_path / "ws"
    result = CliRunner().invoke(app, ["init", str(target), "--country", "XX"])
    assert result.exit_code == 2, result.output
    assert "general.country: 'XX' is not an ISO country code" in result.stderr
    assert not target.exists()
    refused = CliRunner().invoke(app, ["init", str(target), "--access-code", "*9"])
    assert refused.exit_code == 2
    assert "dialplan.access_codes" in refused.stderr


def test_a_zone_only_python_knows_is_refused_for_tz(tmp_path: Path) -> None:
    assert CliRunner().invoke(app, ["init", str(tmp_path / "ws")]).exit_code == 0
    result = CliRunner().invoke(app, ["-w", str(tmp_path / "ws"), "calls", "--tz", "localtime"])
    assert result.exit_code == 2
    assert result.stderr == "error: --tz: 'localtime' is not a time zone such as 'Europe/Paris'\n"
