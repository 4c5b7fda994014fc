"""Registries of what callacct can be extended with, and the one list of its own entries.

A registry maps a name to a factory: CDR dialects (entry-point group `callacct.dialects`),
report output formats (`callacct.renderers`) and, as they come, notifiers
(`callacct.notifiers`) and lock backends (`callacct.lock_backends`). callacct's own entries
are listed once, in `BUILTINS` below; another installed package adds entries through the
entry-point group of the same name (docs/architecture.md, "Extending callacct"), and they are
used exactly as callacct's own: `--format`, `--help`, detection and validation read the
registry. Nothing registers itself by being imported.

Names cost no import: they come from `BUILTINS` and from the installed packages' metadata. An
entry is loaded the first time it is used, once. A name given twice (by callacct and a package,
or by two packages) is refused when it is used; a plug-in that cannot be loaded, or gives
something its registry does not hold, is a `PluginError` naming it and its package.

An entry names a `module:attribute`: a class or a function called without arguments gives
the object (callacct's own entries may pass arguments), anything else is the object itself.

Example:
    >>> from callacct.ingest.dialects import DIALECTS
    >>> DIALECTS.names()[:3]
    ['asterisk', 'cucm-cdr', 'cucm-cmr']
    >>> DIALECTS.get("cucm-cdr").title
    'Cisco UCM CDR flat file'
"""

from __future__ import annotations

import functools
import importlib
import importlib.metadata
import inspect
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Generic, TypeVar

from callacct.errors import PluginError, UsageError

T = TypeVar("T")


@dataclass(frozen=True)
class Entry:
    """A registered name and where its object comes from."""

    name: str
    target: str  # module:attribute
    args: tuple[str, ...] = ()  # for callacct's own factories
    package: str = ""  # the installed package that gives it; "" for callacct

    @property
    def origin(self) -> str:
        return f"package {self.package} ({self.target})" if self.package else "callacct"

    def load(self) -> object:
        module, _, attribute = self.target.partition(":")
        loaded: object = importlib.import_module(module)
        for part in attribute.split(".") if attribute else ():
            loaded = getattr(loaded, part)
        if self.args or isinstance(loaded, type) or inspect.isfunction(loaded):
            loaded = loaded(*self.args)  # type: ignore[operator]
        return loaded


BUILTINS: Final[Mapping[str, tuple[Entry, ...]]] = {
    "callacct.dialects": (
        Entry("cucm-cdr", "callacct.ingest.cucm:CucmCdr"),
        Entry("cucm-cmr", "callacct.ingest.cucm:CucmCmr"),
        Entry("asterisk", "callacct.ingest.asterisk:Asterisk"),
        # Generic CSV mappings shipped with callacct (src/callacct/ingest/mappings/).
        Entry(
            "generic-csv:freeswitch-example",
            "callacct.ingest.generic:shipped_mapping",
            ("freeswitch-example",),
        ),
    ),
    "callacct.renderers": (
        Entry("csv", "callacct.reports.render:csv_renderer"),
        Entry("json", "callacct.reports.render:json_renderer"),
        Entry("xlsx", "callacct.reports.render:xlsx_renderer"),
        Entry("pdf", "callacct.reports.render:pdf_renderer"),
        Entry("html", "callacct.reports.render:html_renderer"),
    ),
    "callacct.notifiers": (),
    "callacct.lock_backends": (
        Entry("cucm-axl", "callacct.lock.backends:axl_backend"),
        Entry("dry-run", "callacct.lock.backends:dry_run_backend"),
        Entry("webex", "callacct.lock.backends:webex_backend"),
    ),
}


@functools.cache
def _plugins() -> Mapping[str, tuple[Entry, ...]]:
    """The entries installed packages declare for callacct's groups (read once)."""
    found: dict[str, list[Entry]] = {group: [] for group in BUILTINS}
    for group, entries in found.items():
        for point in importlib.metadata.entry_points(group=group):
            dist = point.dist
            package = f"{dist.name} {dist.version}" if dist is not None else "(unknown)"
            target = f"{point.module}:{point.attr}" if point.attr else point.module
            entries.append(Entry(point.name, target, package=package))
    return {group: tuple(entries) for group, entries in found.items()}


def names_in(group: str) -> list[str]:
    """The names of a group's entries, sorted, without loading any (for checking a setting
    that names one without importing the package that holds them).

    >>> "dry-run" in names_in("callacct.lock_backends")
    True
    """
    return sorted({entry.name for entry in (*BUILTINS[group], *_plugins()[group])})


_REGISTRIES: list[Registry[Any]] = []  # for `refresh`


class Registry(Generic[T]):
    """The entries of one group: callacct's own, then those of installed packages.

    `make` turns a loaded object into what the registry holds, raising `TypeError` (a short
    description of what it got) for anything else; `name_of` says the name an object carries,
    which must be its entry's.
    """

    def __init__(
        self,
        group: str,
        kind: str,
        make: Callable[[object], T],
        name_of: Callable[[T], str] | None = None,
    ) -> None:
        if group not in BUILTINS:
            raise ValueError(f"{group}: not a group of callacct.registry.BUILTINS")
        self.group = group
        self.kind = kind
        self._make = make
        self._name_of = name_of
        self._loaded: dict[str, T] = {}
        self._lock = threading.RLock()
        _REGISTRIES.append(self)

    def entries(self) -> list[Entry]:
        return [*BUILTINS[self.group], *_plugins()[self.group]]

    def names(self) -> list[str]:
        """Every name, sorted; nothing is loaded."""
        return names_in(self.group)

    def __contains__(self, name: object) -> bool:
        return any(entry.name == name for entry in self.entries())

    def get(self, name: str) -> T:
        """The object registered as `name`: `UsageError` if there is none, `PluginError` if
        it cannot be used."""
        with self._lock:
            if name in self._loaded:
                return self._loaded[name]
            given = [entry for entry in self.entries() if entry.name == name]
            if not given:
                known = ", ".join(self.names())
                raise UsageError(f"unknown {self.kind} {name!r}; use one of: {known}")
            if len(given) > 1:
                origins = " and by ".join(entry.origin for entry in given)
                raise PluginError(
                    f"the {self.kind} name {name!r} is given by {origins}; uninstall one of "
                    "those packages"
                )
            self._loaded[name] = self._load(given[0])
            return self._loaded[name]

    def all(self) -> list[T]:
        """Every registered object, by name (each is loaded)."""
        return [self.get(name) for name in self.names()]

    def _load(self, entry: Entry) -> T:
        def refused(why: str) -> PluginError:
            return PluginError(
                f"{self.kind} {entry.name!r} from {entry.origin} {why}; fix or uninstall "
                "that package"
            )

        try:
            loaded = entry.load()
        except Exception as exc:
            raise refused(f"cannot be loaded ({type(exc).__name__}: {_first_line(exc)})") from exc
        try:
            value = self._make(loaded)
        except TypeError as exc:
            raise refused(f"cannot be used: it gives {_first_line(exc)}") from None
        if self._name_of is not None and (named := self._name_of(value)) != entry.name:
            raise refused(f"gives a {self.kind} named {named!r}, not {entry.name!r}")
        return value


def refresh() -> None:
    """Read the installed packages' entries again and forget what was loaded (after a package
    was installed into the running process; tests)."""
    _plugins.cache_clear()
    for registry in _REGISTRIES:
        with registry._lock:
            registry._loaded.clear()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
