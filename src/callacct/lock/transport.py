"""What the backends share to call a phone system over HTTPS: secrets that never show, TLS
verified by default, waits before a retry.

The client is aiohttp's, the same library as the `lock serve` server (docs/dependencies.md):
one dependency for both, and asynchronous requests let one process keep a few AXL requests in
flight when a department is locked at once, without threads.

Example:
    >>> secret = Secret("s3cret")
    >>> secret, str(secret), secret.reveal()
    (Secret('***'), '***', 's3cret')
    >>> retry_wait(2, base=2.0, cap=30.0, retry_after="5")
    5.0
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Mapping
from pathlib import Path

from callacct.errors import ConfigError


class Secret:
    """A password or token: shown as ``***`` in reprs, logs and tracebacks."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    def __str__(self) -> str:
        return "***"


def secret_from_env(name: str, what: str, env: Mapping[str, str] | None = None) -> Secret:
    """The secret in environment variable `name`; `ConfigError` naming it when it is unset."""
    value = (os.environ if env is None else env).get(name, "")
    if not value:
        raise ConfigError(
            f"{what}: environment variable {name} is not set; set it (secrets are "
            "never read from callacct.toml)"
        )
    return Secret(value)


def client_tls(*, ca_file: str, verify: bool, base: Path | None = None) -> ssl.SSLContext:
    """The TLS context of a client: the server's certificate and name verified against
    `ca_file` (else the system CAs), TLS 1.2 at least. `verify=False` is for a lab only."""
    context = ssl.create_default_context()
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if ca_file:
        path = Path(ca_file)
        if base is not None and not path.is_absolute():
            path = base / path
        try:
            context.load_verify_locations(cafile=str(path))
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(f"{path}: cannot read it as a CA bundle (PEM): {exc}") from None
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def retry_wait(attempt: int, *, base: float, cap: float, retry_after: str | None = None) -> float:
    """Seconds to wait before retry number `attempt` (1, 2, ...): the server's Retry-After
    (seconds) when it gives one, else `base` doubled at each attempt; never above `cap`.

    >>> [retry_wait(n, base=2.0, cap=30.0) for n in (1, 2, 3, 4, 5)]
    [2.0, 4.0, 8.0, 16.0, 30.0]
    """
    if retry_after is not None:
        try:
            seconds = float(retry_after)
        except ValueError:
            seconds = -1.0
        if seconds >= 0:
            return min(seconds, cap)
    return float(min(base * 2 ** (attempt - 1), cap))
