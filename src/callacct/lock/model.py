"""Lock states, the rules between them, and the values the lock service returns.

An extension is locked for up to three reasons at once: its person locked it (`user`), the
budget module did (`budget`), an administrator did (`admin`). The state shown is the strongest
reason — `admin-locked`, then `locked-budget`, then `locked` — and the line is unlocked in the
phone system only when no reason is left. Each reason is lifted only by whoever may lift it:
an admin lock by an admin or a supervisor of the person, a budget lock by the budget module.

Example:
    >>> flags = Flags(user=True, admin=True)
    >>> flags.state
    'admin-locked'
    >>> decide(flags, "unlock", "user", how="cli").refusal
    'locked by an administrator; an admin or a supervisor of the person lifts it with --admin'
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Any, Literal

UNLOCKED = "unlocked"
LOCKED = "locked"
LOCKED_BUDGET = "locked-budget"
ADMIN_LOCKED = "admin-locked"
STATES = (UNLOCKED, LOCKED, LOCKED_BUDGET, ADMIN_LOCKED)

#: How a change was asked for (a `lock_events.how`).
HOWS = ("cli", "phone", "workstation", "budget", "admin")

Action = Literal["lock", "unlock"]
Kind = Literal["user", "budget", "admin"]

#: Outcome results: `changed` (stored; the phone system changed if it had to), `unchanged`
#: (nothing to do), `refused` (the rules said no), `failed` (the phone system did not do
#: it: nothing stored but the event), `skipped` (not tried: the phone system was unusable).
RESULTS = ("changed", "unchanged", "refused", "failed", "skipped")


@dataclass(frozen=True)
class Flags:
    """The reasons an extension is locked."""

    user: bool = False
    budget: bool = False
    admin: bool = False
    user_how: str | None = None

    @property
    def locked(self) -> bool:
        return self.user or self.budget or self.admin

    @property
    def state(self) -> str:
        if self.admin:
            return ADMIN_LOCKED
        if self.budget:
            return LOCKED_BUDGET
        return LOCKED if self.user else UNLOCKED

    def with_kind(self, kind: Kind, value: bool, how: str | None = None) -> Flags:
        if kind == "user":
            return replace(self, user=value, user_how=how if value else None)
        if kind == "budget":
            return replace(self, budget=value)
        return replace(self, admin=value)


@dataclass(frozen=True)
class Decision:
    """What a request does to one extension's flags: `after` (None: nothing to do), or a
    refusal saying why not."""

    before: Flags
    after: Flags | None = None
    refusal: str | None = None
    note: str = ""

    @property
    def backend_action(self) -> Action | None:
        """What the phone system must do: only when the line goes from open to locked or back."""
        if self.after is None or self.after.locked == self.before.locked:
            return None
        return "lock" if self.after.locked else "unlock"


def decide(flags: Flags, action: Action, kind: Kind, *, how: str) -> Decision:
    """Apply one request to an extension's flags (permissions are checked before).

    A person's own unlock never lifts a budget or admin lock; an unlock from a workstation
    (logon, session unlock) lifts only a lock a workstation set, so a phone locked by hand
    stays locked when its person logs on.

    >>> decide(Flags(user=True, user_how="phone"), "unlock", "user", how="workstation").note
    'kept: locked from the phone, not by the workstation'
    >>> decide(Flags(budget=True), "unlock", "user", how="phone").refusal
    'locked by the budget until its next period; only the budget module lifts it'
    >>> decide(Flags(), "lock", "admin", how="cli").backend_action
    'lock'
    """
    current = getattr(flags, kind)
    if action == "lock":
        if current:
            return Decision(flags, note=f"already {_reason_text(kind)}")
        return Decision(flags, flags.with_kind(kind, True, how))
    if kind == "user":
        if flags.admin:
            return Decision(
                flags,
                refusal="locked by an administrator; an admin or a supervisor of the person "
                "lifts it with --admin",
            )
        if flags.budget:
            return Decision(
                flags,
                refusal="locked by the budget until its next period; only the budget "
                "module lifts it",
            )
        if current and how == "workstation" and flags.user_how != "workstation":
            where = _HOW_TEXT.get(flags.user_how or "", "elsewhere")
            return Decision(flags, note=f"kept: locked {where}, not by the workstation")
    if not current:
        return Decision(flags, note=f"not {_reason_text(kind)}")
    return Decision(flags, flags.with_kind(kind, False))


_HOW_TEXT = {
    "cli": "with the command line",
    "phone": "from the phone",
    "admin": "by an administrator",
    "budget": "by the budget",
}


def _reason_text(kind: Kind) -> str:
    return {"user": "locked", "budget": "locked by the budget", "admin": "admin-locked"}[kind]


@dataclass(frozen=True)
class Target:
    """An extension to act on, with the person holding it now (None: nobody)."""

    extension: str
    login: str | None = None
    name: str | None = None
    email: str | None = None
    language: str | None = None
    department: str | None = None
    cost_center: str | None = None
    site: str | None = None

    def person(self) -> dict[str, Any]:
        """The fields `Scope.allows_person` reads."""
        return {
            "login": self.login,
            "department": self.department,
            "cost_center": self.cost_center,
            "site": self.site,
        }


@dataclass(frozen=True)
class LockRow:
    """What the store holds for one extension (`locks`)."""

    extension: str
    flags: Flags = field(default_factory=Flags)
    login: str | None = None
    reason: str | None = None
    changed_by: str | None = None
    since: dt.datetime | None = None
    backend: str | None = None
    line_key: str | None = None
    saved: str | None = None
    applied: str | None = None


@dataclass(frozen=True)
class Outcome:
    """What happened to one extension."""

    extension: str
    login: str | None
    action: str
    result: str
    state_before: str
    state_after: str
    backend: str
    message: str = ""
    css_before: str | None = None
    css_after: str | None = None

    @property
    def ok(self) -> bool:
        return self.result in ("changed", "unchanged")

    def to_dict(self) -> dict[str, Any]:
        return {
            "extension": self.extension,
            "login": self.login,
            "action": self.action,
            "result": self.result,
            "state_before": self.state_before,
            "state_after": self.state_after,
            "backend": self.backend,
            "message": self.message,
            "css_before": self.css_before,
            "css_after": self.css_after,
        }


@dataclass(frozen=True)
class ChangeReport:
    """The outcome of a lock or unlock, one per extension, in extension order."""

    action: str
    outcomes: list[Outcome]

    @property
    def ok(self) -> bool:
        return all(outcome.ok for outcome in self.outcomes)

    def counts(self) -> dict[str, int]:
        return {r: sum(o.result == r for o in self.outcomes) for r in RESULTS}

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "ok": self.ok,
            **self.counts(),
            "outcomes": [outcome.to_dict() for outcome in self.outcomes],
        }


@dataclass(frozen=True)
class LockStatus:
    """One extension in `lock status`."""

    extension: str
    login: str | None
    name: str | None
    department: str | None
    state: str
    reason: str | None
    changed_by: str | None
    since: dt.datetime | None
    backend: str
    pin_set: bool
    pin_blocked_until: dt.datetime | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "extension": self.extension,
            "login": self.login,
            "name": self.name,
            "department": self.department,
            "state": self.state,
            "reason": self.reason,
            "changed_by": self.changed_by,
            "since": _iso(self.since),
            "backend": self.backend,
            "pin_set": self.pin_set,
            "pin_blocked_until": _iso(self.pin_blocked_until),
        }


@dataclass(frozen=True)
class LockEvent:
    """One row of `lock_events`."""

    event_id: int
    happened_at: dt.datetime
    extension: str
    login: str | None
    actor: str
    how: str
    action: str
    reason: str | None
    backend: str
    result: str
    message: str | None
    state_before: str
    state_after: str
    css_before: str | None
    css_after: str | None

    def to_dict(self) -> dict[str, Any]:
        values = {name: getattr(self, name) for name in self.__dataclass_fields__}
        values["happened_at"] = _iso(self.happened_at)
        return values


def _iso(value: dt.datetime | None) -> str | None:
    """A stored (naive UTC) time as ISO 8601 with its offset."""
    return None if value is None else value.replace(tzinfo=dt.UTC).isoformat()
