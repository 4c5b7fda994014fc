"""Who may see what: the scope of a person in the directory (F-ACCESS-1).

A `Scope` (`callacct.query.scope`) is what the query layer applies; here it is made from a
person's directory entry (`scope_of_person`), found for a login (`scope_for`), or narrowed to
one person's calls for a reader (`person_view`, the one check for every option that chooses
whose data a command shows).

Example:
    >>> from callacct.config import Settings
    >>> scope_of_person({"login": "bob", "role": "supervisor", "department": "Sales"},
    ...                 Settings()).departments
    ('Sales',)
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import duckdb

from callacct.config import Settings
from callacct.directory.versions import list_users
from callacct.errors import UsageError
from callacct.i18n import Message
from callacct.query.scope import SCOPE_COLUMNS, Scope, admin_scope

__all__ = ["Scope", "admin_scope", "person_view", "scope_for", "scope_of_person"]


def scope_for(con: duckdb.DuckDBPyConnection, login: str, settings: Settings) -> Scope:
    """The scope of a person in the directory now; `UsageError` if they are not in it."""
    found = list_users(con, logins=[login])
    if not found:
        raise UsageError(Message("error.as_unknown", login=repr(login)))
    return scope_of_person(found[0], settings)


def person_view(
    con: duckdb.DuckDBPyConnection, reader: Scope, login: str, settings: Settings
) -> Scope:
    """The scope in which `reader` reads the calls of person `login` (their home, their own
    calls): that person's calls, within what the reader may see, numbers masked for the reader.

    The one check for every option that chooses whose data a command shows: a user may look
    only at themselves, a supervisor at themselves and at the people now within their scope,
    an admin (and the operator) at anyone in the directory. Anyone else is a `UsageError`
    that does not tell whether the person exists.
    """
    found = list_users(con, logins=[login])
    if login == reader.login and found:
        return Scope.for_user(login, reader.mask_digits)
    if reader.role == "admin":
        if not found:
            raise UsageError(
                f"{login!r}: no such person in the directory now; check 'callacct directory list'"
            )
        return replace(reader, person=login)
    if reader.role == "supervisor" and found and reader.allows_person(found[0]):
        return replace(reader, person=login)
    raise UsageError(
        f"{login!r}: no such person within what {reader.login!r} may see ({reader.describe()})"
    )


def scope_of_person(person: dict[str, Any], settings: Settings) -> Scope:
    """The scope of one directory entry (as `list_users` returns it)."""
    role = str(person["role"])
    mask = settings.masking.digits_for(role)
    login = str(person["login"])
    if role == "admin":
        return Scope(role="admin", login=login, mask_digits=mask)
    if role == "user":
        return Scope.for_user(login, mask)
    given: dict[str, set[str]] = {kind: set() for kind in SCOPE_COLUMNS}
    for item in person.get("scopes") or ():
        kind, _, value = str(item).partition(":")
        if kind in given and value:
            given[kind].add(value)
    if not any(given.values()):
        for kind in settings.directory.supervisor_scope:
            if person.get(kind):
                given[kind].add(str(person[kind]))
    return Scope(
        role="supervisor",
        login=login,
        departments=tuple(sorted(given["department"])),
        cost_centers=tuple(sorted(given["cost_center"])),
        sites=tuple(sorted(given["site"])),
        mask_digits=mask,
    )
