"""The [lock] settings: every bad value named with its key; secrets never in the file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from callacct.config import Settings, parse_settings, render_settings
from callacct.errors import ConfigError


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"lock": {"backend": "pbx"}}, "lock.backend: 'pbx' is not a lock backend"),
        ({"lock": {"axl": {"url": "http://cucm.example.com:8443/axl/"}}}, "is not an https://"),
        ({"lock": {"axl": {"version": "9.1"}}}, "lock.axl.version: '9.1' is not one of"),
        ({"lock": {"axl": {"locked_css": " "}}}, "the locked calling search space must be named"),
        ({"lock": {"axl": {"concurrency": 0}}}, "lock.axl.concurrency"),
        ({"lock": {"pin_length": 3}}, "lock.pin_length"),
        ({"lock": {"serve": {"tls_cert": "cert.pem"}}}, "tls_cert and tls_key go together"),
        ({"lock": {"serve": {"port": 70000}}}, "lock.serve.port"),
        ({"lock": {"site_backends": {"NYC": "webex"}}}, "names 'NYC', not a site"),
        ({"lock": {"site_backends": {"NYC": "x"}}, "sites": {"NYC": {}}}, "site 'NYC': 'x'"),
        ({"lock": {"webex": {"base_url": "ftp://x"}}}, "lock.webex.base_url"),
    ],
)
def test_bad_lock_settings_are_named(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(".", r"\.")):
        parse_settings(raw, Path("callacct.toml"))


def test_loopback_http_is_accepted_for_the_standin() -> None:
    settings = parse_settings(
        {"lock": {"axl": {"url": "http://127.0.0.1:8443/axl/"}}}, Path("callacct.toml")
    )
    assert settings.lock.axl.url == "http://127.0.0.1:8443/axl/"


def test_the_default_file_documents_every_lock_key_and_reads_back() -> None:
    text = render_settings(Settings())
    for table, model in (
        ("[lock]", Settings().lock),
        ("[lock.axl]", Settings().lock.axl),
        ("[lock.webex]", Settings().lock.webex),
        ("[lock.serve]", Settings().lock.serve),
    ):
        assert table in text
        for key in type(model).model_fields:
            if key not in ("axl", "webex", "serve"):  # tables of their own
                assert f"\n{key} = " in text, key
    assert "verify_tls = true" in text
    assert 'password_env = "CALLACCT_AXL_PASSWORD"' in text
    import tomllib

    assert parse_settings(tomllib.loads(text), Path("callacct.toml")) == Settings()
    with_sites = Settings.model_validate(
        {"sites": {"NYC": {}}, "lock": {"site_backends": {"NYC": "webex"}}}
    )
    rendered = tomllib.loads(render_settings(with_sites))
    assert rendered["lock"]["site_backends"] == {"NYC": "webex"}
