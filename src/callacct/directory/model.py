"""Directory entries as read from a CSV file or LDAP, before they are stored.

Example:
    >>> entry = DirectoryEntry(login="alice", role="supervisor", department="Sales",
    ...                        extensions=("2001",), scopes=parse_scopes("site:PAR"))
    >>> entry.scopes
    ('site:PAR',)
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from callacct.config import ROLES, SCOPE_KINDS
from callacct.i18n import LANGUAGES
from callacct.problems import Problem

#: What the store keeps of a person, besides their extensions (compared to detect a change).
USER_FIELDS = (
    "name",
    "email",
    "language",
    "role",
    "department",
    "cost_center",
    "site",
    "manager",
    "scopes",
    "dn",
)


@dataclass(frozen=True)
class DirectoryEntry:
    """One person as the source (CSV line, LDAP entry) describes them now."""

    login: str
    role: str = "user"
    name: str | None = None
    email: str | None = None
    language: str | None = None
    department: str | None = None
    cost_center: str | None = None
    site: str | None = None
    manager: str | None = None
    scopes: tuple[str, ...] = ()
    extensions: tuple[str, ...] = ()
    dn: str | None = None

    def user_values(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in USER_FIELDS}


@dataclass
class EntrySet:
    """Entries read from a source, and every problem found on the way."""

    entries: list[DirectoryEntry] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    read: int = 0


def parse_scopes(text: str | None) -> tuple[str, ...]:
    """Scopes such as ``department:Sales;site:PAR`` as sorted ``kind:value`` strings.

    >>> parse_scopes("site:PAR; department:Sales")
    ('department:Sales', 'site:PAR')
    >>> parse_scopes("floor:3")
    Traceback (most recent call last):
    ValueError: scope 'floor:3' must be department:NAME, cost_center:NAME or site:NAME
    """
    out: set[str] = set()
    for part in re.split(r"[;|]", text or ""):
        part = part.strip()
        if not part:
            continue
        kind, sep, value = part.partition(":")
        kind, value = kind.strip(), value.strip()
        if not sep or kind not in SCOPE_KINDS or not value:
            raise ValueError(
                f"scope {part!r} must be department:NAME, cost_center:NAME or site:NAME"
            )
        out.add(f"{kind}:{value}")
    return tuple(sorted(out))


def check_role(value: str | None) -> str:
    """A role name (empty means user).

    >>> check_role(" Admin ")
    'admin'
    """
    role = (value or "").strip().lower() or "user"
    if role not in ROLES:
        raise ValueError(f"role {value!r} must be one of {', '.join(ROLES)}")
    return role


def normalise_language(value: str | None, default: str) -> str:
    """A directory language (``fr``, ``fr-FR``, ``French`` is not) as one of ours, else default.

    >>> normalise_language("fr-FR", "en"), normalise_language("tlh", "en")
    ('fr', 'en')
    """
    code = (value or "").strip().lower()[:2]
    return code if code in LANGUAGES else default


def clean_extension(value: str) -> str:
    """An extension as dialled: spaces, dashes, dots and parentheses removed.

    >>> clean_extension(" 20-01 ")
    '2001'
    """
    return re.sub(r"[\s\-.()]", "", value)


def duplicate_problems(
    items: Iterable[tuple[DirectoryEntry, str, int | None]],
) -> tuple[list[DirectoryEntry], list[Problem]]:
    """Keep the first entry of each login and the first holder of each extension; `items`
    are entries with where they come from (file and line, or a DN and no line).

    A later entry with a login already seen is rejected; an extension already held by an
    earlier entry is dropped from the later one (both reported).
    """
    kept: list[DirectoryEntry] = []
    problems: list[Problem] = []
    logins: dict[str, str] = {}
    holders: dict[str, tuple[str, str]] = {}
    for entry, source, line in items:
        where = f"{source}:{line}" if line else source
        key = entry.login.lower()
        if key in logins:
            problems.append(
                Problem(
                    source, line, "", entry.login,
                    f"login {entry.login!r} already at {logins[key]}",
                )
            )  # fmt: skip
            continue
        logins[key] = where
        extensions: list[str] = []
        for ext in entry.extensions:
            if ext in holders and holders[ext][0] != entry.login:
                problems.append(
                    Problem(
                        source, line, "", ext,
                        f"extension {ext} already belongs to {holders[ext][0]!r} "
                        f"({holders[ext][1]}); not given to {entry.login!r}",
                    )
                )  # fmt: skip
                continue
            holders[ext] = (entry.login, where)
            if ext not in extensions:
                extensions.append(ext)
        if tuple(extensions) != entry.extensions:
            entry = replace(entry, extensions=tuple(extensions))
        kept.append(entry)
    return kept, problems
