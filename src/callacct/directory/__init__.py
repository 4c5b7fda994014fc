"""The directory (F-ACCESS, F-CALLS-3): people and extensions, effective-dated, from a CSV file
or LDAP / Active Directory; scopes of what each person may see; login; masking.

Example:
    >>> import tempfile, pathlib
    >>> from callacct.config import Settings
    >>> from callacct.store import open_store
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> text = "login,role,department,extension\\nalice,user,Sales,2001\\n"
    >>> _ = (root / "people.csv").write_text(text)
    >>> store = open_store(root / "callacct.duckdb")
    >>> result = import_directory_csv(store.con, root / "people.csv", Settings())
    >>> result.changes.added, result.problems
    (['alice'], [])
    >>> store.close()
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from callacct.config import Settings
from callacct.directory.attribution import AttributionResult, attribute_calls, attribute_frame
from callacct.directory.csv_import import COLUMNS, read_directory_csv
from callacct.directory.model import DirectoryEntry
from callacct.directory.scope import person_view, scope_for, scope_of_person
from callacct.directory.versions import DirectoryChanges, apply_snapshot, list_users, user_history
from callacct.problems import Problem
from callacct.progress import APPLYING, Progress, Step


@dataclass(frozen=True)
class DirectoryImport:
    """The result of `directory import` / `sync-ldap`: entries read, problems, changes."""

    source: str
    read: int
    accepted: int
    problems: list[Problem]
    changes: DirectoryChanges

    @property
    def has_problems(self) -> bool:
        return bool(self.problems)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "read": self.read,
            "accepted": self.accepted,
            "rejected": len(self.problems),
            "problems": [p.to_dict() for p in self.problems],
            **{k: v for k, v in self.changes.to_dict().items() if k != "source"},
        }


def import_directory_csv(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    settings: Settings,
    *,
    as_of: dt.datetime | None = None,
    dry_run: bool = False,
    now: dt.datetime | None = None,
) -> DirectoryImport:
    """Apply a directory CSV file as the state of the ``csv`` source; attribute calls.

    When lines are rejected, the people of the file are still updated but nobody missing from
    it is ended (a rejected line must not end its person).
    """
    read = read_directory_csv(
        path,
        extension_pattern=settings.dialplan.extension_pattern,
        default_language=settings.general.language,
    )
    changes = apply_snapshot(
        con,
        read.entries,
        source="csv",
        as_of=as_of,
        dry_run=dry_run,
        end_missing=not read.problems,
        extension_pattern=settings.dialplan.extension_pattern,
        now=now,
    )
    return DirectoryImport("csv", read.read, len(read.entries), read.problems, changes)


def sync_ldap_directory(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    *,
    as_of: dt.datetime | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> DirectoryImport:
    """Read every person from LDAP (paged) and apply them as the ``ldap`` source;
    `progress` follows the reading, then the storing."""
    from callacct.directory.ldap import read_ldap_directory

    read = read_ldap_directory(
        settings.ldap,
        extension_pattern=settings.dialplan.extension_pattern,
        default_language=settings.general.language,
        progress=progress,
    )
    if progress is not None:
        progress(Step(APPLYING, 0, len(read.entries), "people"))
    changes = apply_snapshot(
        con,
        read.entries,
        source="ldap",
        as_of=as_of,
        dry_run=dry_run,
        extension_pattern=settings.dialplan.extension_pattern,
    )
    return DirectoryImport("ldap", read.read, len(read.entries), read.problems, changes)


__all__ = [
    "COLUMNS",
    "AttributionResult",
    "DirectoryChanges",
    "DirectoryEntry",
    "DirectoryImport",
    "Problem",
    "apply_snapshot",
    "attribute_calls",
    "attribute_frame",
    "import_directory_csv",
    "list_users",
    "person_view",
    "scope_for",
    "scope_of_person",
    "sync_ldap_directory",
    "user_history",
]
