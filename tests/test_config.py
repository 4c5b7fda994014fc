"""Settings checks that every part of callacct relies on."""

from __future__ import annotations

import doctest
from pathlib import Path

import pytest

from callacct import config as config_module
from callacct.config import parse_settings
from callacct.errors import ConfigError


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
    with pytest.raises(ConfigError, match=f"key '{key}': .* is not supported"):
        parse_settings(raw, Path("callacct.toml"))
