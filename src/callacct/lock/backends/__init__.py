"""Lock backends: how a phone system locks a line, behind one interface.

`LOCK_BACKENDS` is the registry (entry-point group `callacct.lock_backends`, callacct's own
listed in `callacct.registry.BUILTINS`): a name gives a `LockBackend` class. A backend is
imported only when used (the AXL backend needs aiohttp, the settings only the names), and
another installed package adds one by naming a function that returns its class. Settings,
`--help` and docs take the names from here.

Example:
    >>> backend_names()
    ('cucm-axl', 'dry-run', 'webex')
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from callacct.errors import LockError
from callacct.registry import Registry

if TYPE_CHECKING:
    from callacct.config import Settings


def backend_names() -> tuple[str, ...]:
    return tuple(LOCK_BACKENDS.names())


@dataclass(frozen=True)
class Line:
    """A line to lock: the extension, its person, and the phone system's key if known
    (the AXL line uuid, the Webex person id)."""

    extension: str
    login: str | None = None
    email: str | None = None
    line_key: str | None = None


@dataclass(frozen=True)
class BackendChange:
    """What the phone system did: `before`/`after` (the line's CSS, or a summary of Webex
    permissions), `saved` (what unlocking must give back; None when unknown), a note."""

    before: str | None
    after: str | None
    saved: str | None = None
    line_key: str | None = None
    note: str = ""


@dataclass(frozen=True)
class Reading:
    """A line as the phone system has it now: `current` (its CSS or a summary) and whether
    that is the locked setting."""

    current: str | None
    locked: bool
    line_key: str | None = None


class BackendError(LockError):
    """The phone system did not do what was asked. `fatal`: it will not do anything now (a
    refused password, an untrusted certificate, no answer), so the other lines are not tried."""

    def __init__(self, message: str, *, fatal: bool = False) -> None:
        super().__init__(message)
        self.fatal = fatal


class LockBackend(ABC):
    """A phone system. Methods are coroutines: several lines are changed at once, up to
    `concurrency`. `lock` reads the line first and reports what it had (`saved`), `unlock`
    gives back exactly what `lock` saved."""

    name: ClassVar[str]
    concurrency: int = 1

    @classmethod
    @abstractmethod
    def from_settings(
        cls, settings: Settings, *, env: Mapping[str, str] | None = None, base: Path | None = None
    ) -> LockBackend:
        """Build from the workspace settings; secrets from `env` (default: the environment);
        relative file names against `base` (the workspace)."""

    @abstractmethod
    async def lock(self, line: Line) -> BackendChange: ...

    @abstractmethod
    async def unlock(self, line: Line, saved: str | None) -> BackendChange: ...

    @abstractmethod
    async def read(self, line: Line) -> Reading: ...

    async def close(self) -> None:  # noqa: B027 (optional hook)
        """Release connections."""


def backend_class(name: str) -> type[LockBackend]:
    """The class registered as `name`."""
    if name not in LOCK_BACKENDS:
        raise LockError(f"{name!r} is not a lock backend: {', '.join(backend_names())}")
    return LOCK_BACKENDS.get(name)


def _backend(loaded: object) -> type[LockBackend]:
    if isinstance(loaded, type) and issubclass(loaded, LockBackend):
        return loaded
    raise TypeError(f"{type(loaded).__name__}, not a LockBackend class")


# callacct's own backends: functions returning the class, so that the registry does not
# instantiate it (a backend is built from the settings, `LockBackend.from_settings`).
def axl_backend() -> type[LockBackend]:
    from callacct.lock.backends.axl import AxlBackend

    return AxlBackend


def dry_run_backend() -> type[LockBackend]:
    from callacct.lock.backends.dryrun import DryRunBackend

    return DryRunBackend


def webex_backend() -> type[LockBackend]:
    from callacct.lock.backends.webex import WebexBackend

    return WebexBackend


LOCK_BACKENDS: Registry[type[LockBackend]] = Registry(
    "callacct.lock_backends", "lock backend", _backend, name_of=lambda cls: cls.name
)


def make_backend(
    name: str,
    settings: Settings,
    *,
    env: Mapping[str, str] | None = None,
    base: Path | None = None,
) -> LockBackend:
    """A ready backend named `name`."""
    return backend_class(name).from_settings(settings, env=env, base=base)


__all__ = [
    "LOCK_BACKENDS",
    "BackendChange",
    "BackendError",
    "Line",
    "LockBackend",
    "Reading",
    "backend_class",
    "backend_names",
    "make_backend",
]
