"""Settings checks that every part of callacct relies on."""

from __future__ import annotations

import doctest
import re
from pathlib import Path

import pytest

from callacct import config as config_module
from callacct.config import load_settings, parse_settings
from callacct.errors import ConfigError
from callacct.problems import ProblemsError


def test_doctests() -> None:
    result = doctest.testmod(config_module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0


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
