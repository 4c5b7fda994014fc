"""What a reader may see (F-ACCESS-1): one `Scope` value, one parameterised SQL predicate.

The query layer ANDs `scope.predicate()` to every read of calls, so no filter, option or report
can reach outside it. Attribution is as of call time, so a new holder of an extension does not
see the previous holder's calls. A user sees the calls of their own extensions, including
internal calls where they were the peer; a supervisor sees every call whose either side belonged
to one of their departments, cost centres or sites; an admin sees everything. Who gets which
scope is the directory's part (`callacct.directory.scope`).

Example:
    >>> Scope.for_user("alice").predicate()
    ('(user_login = ? OR peer_login = ?)', ['alice', 'alice'])
    >>> Scope(role="supervisor", login="bob", departments=("Sales",)).predicate()[1]
    [['Sales'], ['Sales']]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from callacct.config import Settings

#: Scope kind -> (column of the call's own side, column of the peer side).
SCOPE_COLUMNS: Final = {
    "department": ("department", "peer_department"),
    "cost_center": ("cost_center", "peer_cost_center"),
    "site": ("site", "peer_site"),
}


@dataclass(frozen=True)
class Scope:
    """A role and what it covers; `mask_digits` trailing digits of external numbers hidden;
    `person`: only the calls of that person's extensions, within the rest (`person_view`).

    The role has no default: nothing becomes an admin by omission.
    """

    role: str
    login: str | None = None
    departments: tuple[str, ...] = ()
    cost_centers: tuple[str, ...] = ()
    sites: tuple[str, ...] = ()
    mask_digits: int = 0
    person: str | None = None

    @classmethod
    def for_user(cls, login: str, mask_digits: int = 0) -> Scope:
        return cls(role="user", login=login, mask_digits=mask_digits)

    def predicate(self) -> tuple[str, list[Any]]:
        """A SQL boolean over the `calls` columns and its bound parameters."""
        sql, params = self._role_predicate()
        if self.person is None:
            return sql, params
        return f"({sql} AND (user_login = ? OR peer_login = ?))", [*params, *[self.person] * 2]

    def _role_predicate(self) -> tuple[str, list[Any]]:
        if self.role == "admin":
            return "TRUE", []
        if self.role == "user":
            if not self.login:
                return "FALSE", []
            return "(user_login = ? OR peer_login = ?)", [self.login, self.login]
        if self.role != "supervisor":
            return "FALSE", []  # an unknown role sees nothing
        parts: list[str] = []
        params: list[Any] = []
        for kind, values in self.covers().items():
            if not values:
                continue
            for column in SCOPE_COLUMNS[kind]:
                # Column names come from the constant table above.
                parts.append(f"{column} IN (SELECT unnest(?::VARCHAR[]))")
                params.append(list(values))
        if not parts:
            return "FALSE", []
        return "(" + " OR ".join(parts) + ")", params

    def covers(self) -> dict[str, tuple[str, ...]]:
        return {
            "department": self.departments,
            "cost_center": self.cost_centers,
            "site": self.sites,
        }

    def allows_person(self, person: dict[str, Any]) -> bool:
        """Whether a directory entry (as `list_users` returns it) is within this scope."""
        if self.role == "admin":
            return True
        if self.role == "user":
            return person.get("login") == self.login
        return any(person.get(kind) in values for kind, values in self.covers().items())

    def describe(self) -> str:
        """A short human text, e.g. ``supervisor of department Sales, site PAR``."""
        if self.role == "admin":
            return "admin: every call"
        if self.role == "user":
            return f"user {self.login}: calls of their own extensions"
        covered = [
            f"{kind.replace('_', ' ')} {value}"
            for kind, values in self.covers().items()
            for value in values
        ]
        return f"supervisor {self.login}: calls of " + (", ".join(covered) or "nothing")

    def to_dict(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "login": self.login,
            "departments": list(self.departments),
            "cost_centers": list(self.cost_centers),
            "sites": list(self.sites),
            "mask_digits": self.mask_digits,
            **({"person": self.person} if self.person is not None else {}),
        }


def admin_scope(settings: Settings, login: str | None = None) -> Scope:
    """The operator of the workspace: every call, masked as configured for admins."""
    return Scope(role="admin", login=login, mask_digits=settings.masking.digits_for("admin"))
