"""What a phone or a workstation may ask, with the identity it proves: a PIN typed on the
phone, a machine's token. Answers are message keys (`lock.phone.*`) with their values, which
the HTTP layer shows in the person's language.

Example:
    >>> Answer("lock.phone.locked", {"extension": "2001"}).ok
    True
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from callacct.config import Settings
from callacct.errors import LockError
from callacct.lock import pins, records
from callacct.lock.devices import PhonePerson, phone_people
from callacct.lock.model import ChangeReport
from callacct.lock.service import Actor, BackendFactory, LockService, StoreSource
from callacct.lock.workstations import token_owner, workstation_action
from callacct.query.scope import Scope

_FAILED = ("failed", "skipped")


@dataclass(frozen=True)
class Answer:
    """A message key and its values; `ok` unless the request was refused or failed."""

    key: str
    values: dict[str, Any] = field(default_factory=dict)
    ok: bool = True
    state: str | None = None


class Desk:
    """The phone service and workstation hooks over one workspace's store."""

    def __init__(
        self,
        stores: StoreSource,
        settings: Settings,
        *,
        root: Path | None = None,
        env: Mapping[str, str] | None = None,
        backends: BackendFactory | None = None,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.stores, self.settings = stores, settings
        self._root, self._env, self._backends = root, env, backends
        self._clock = clock or records.now_utc

    def _service(self, login: str, how: str) -> LockService:
        actor = Actor.person(Scope.for_user(login), how)
        return LockService(
            self.stores,
            self.settings,
            actor,
            root=self._root,
            env=self._env,
            backends=self._backends,
            clock=self._clock,
        )

    def phones(self, device: str | None = None) -> dict[str, PhonePerson]:
        """The phone map (or one phone's entry)."""
        with self.stores(write=False) as store:
            return phone_people(store.con, device)

    def state(self, phone: PhonePerson) -> Answer:
        with self.stores(write=False) as store:
            rows = records.load_rows(store.con, [phone.extension])
        row = rows.get(phone.extension)
        state = row.flags.state if row is not None else "unlocked"
        key = "lock.phone.state_" + state.replace("-", "_")
        return Answer(key, {"extension": phone.extension, "reason": _reason(row)}, state=state)

    def _check_pin(self, login: str, pin: str) -> Answer | None:
        with self.stores(write=True) as store, store.transaction() as con:
            check = pins.verify_pin(con, login, pin, self.settings.lock, now=self._clock())
        if check.ok:
            return None
        if check.reason == "missing":
            return Answer("lock.phone.no_pin", ok=False)
        if check.reason == "blocked":
            until = check.blocked_until or self._clock()
            return Answer(
                "lock.phone.pin_blocked",
                {"time": until.replace(tzinfo=dt.UTC).strftime("%H:%M UTC")},
                ok=False,
            )
        return Answer("lock.phone.wrong_pin", {"attempts": check.attempts_left}, ok=False)

    def change(self, phone: PhonePerson, action: str, pin: str) -> Answer:
        """Lock or unlock the phone's extension with its person's PIN."""
        if phone.login is None:
            return Answer("lock.phone.nobody", {"extension": phone.extension}, ok=False)
        refused = self._check_pin(phone.login, pin)
        if refused is not None:
            return refused
        service = self._service(phone.login, "phone")
        if action == "lock":
            report = service.lock(extensions=[phone.extension])
        else:
            report = service.unlock(extensions=[phone.extension])
        return self._answer(report, phone.extension)

    def _answer(self, report: ChangeReport, extension: str) -> Answer:
        outcome = report.outcomes[0]
        values: dict[str, Any] = {"extension": extension}
        if outcome.result in _FAILED:
            return Answer("lock.phone.failed", values, ok=False, state=outcome.state_after)
        if outcome.result == "refused":
            with self.stores(write=False) as store:
                row = records.load_rows(store.con, [extension]).get(extension)
            values["reason"] = _reason(row)
            key = (
                "lock.phone.admin_locked"
                if outcome.state_before == "admin-locked"
                else "lock.phone.budget_locked"
            )
            return Answer(key, values, ok=False, state=outcome.state_before)
        state = outcome.state_after
        if state == "unlocked":
            return Answer("lock.phone.unlocked", values, state=state)
        if state == "locked":
            return Answer("lock.phone.locked", values, state=state)
        return Answer("lock.phone.state_" + state.replace("-", "_"), values, state=state)

    def change_pin(self, phone: PhonePerson, old: str, new: str, again: str) -> Answer:
        """Change the PIN of the phone's person: the old PIN, the new one twice."""
        if phone.login is None:
            return Answer("lock.phone.nobody", {"extension": phone.extension}, ok=False)
        if new != again:
            return Answer("lock.phone.pin_mismatch", ok=False)
        try:
            pins.check_new_pin(new, self.settings.lock.pin_length)
        except LockError:
            return Answer(
                "lock.phone.pin_invalid", {"length": self.settings.lock.pin_length}, ok=False
            )
        refused = self._check_pin(phone.login, old)
        if refused is not None:
            return refused
        now = self._clock()
        with self.stores(write=True) as store, store.transaction() as con:
            pins.set_pin(con, phone.login, new, self.settings.lock, by=phone.login, now=now)
        return Answer("lock.phone.pin_changed")

    def workstation(self, token: str, event: str, user: str | None = None) -> Answer | None:
        """A workstation's event; None when the token is unknown (the caller refuses it)."""
        action = workstation_action(event)
        with self.stores(write=True) as store, store.transaction() as con:
            owner = token_owner(con, token, now=self._clock())
        if owner is None:
            return None
        machine, login = owner
        if user is not None and user.lower() != login.lower():
            return Answer("lock.workstation.other_user", {"machine": machine}, ok=False)
        service = self._service(login, "workstation")
        logins = [login]
        report = service.lock(logins=logins) if action == "lock" else service.unlock(logins=logins)
        failed = [o for o in report.outcomes if o.result in _FAILED]
        values = {
            "machine": machine,
            "login": login,
            "extensions": [o.to_dict() for o in report.outcomes],
        }
        if failed:
            return Answer("lock.phone.failed", values, ok=False)
        return Answer("lock.workstation.done", values, state=report.outcomes[0].state_after)


def _reason(row: Any) -> str:
    return str(getattr(row, "reason", None) or "-")
