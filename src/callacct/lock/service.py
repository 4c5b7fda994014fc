"""The lock service: who may lock what, the phone system, and the store, in one place.

`LockService(stores, settings, actor)` serves one person (`Actor`): the command line, a phone,
a workstation or the budget module. A change happens in three steps, so the store is held
only briefly and never while the phone system answers:

1. read the lock rows of the extensions and decide, per extension, with the rules of
   `model.decide` (and refuse the whole request if the person may not act on one of them);
2. ask the phone system — only for lines that go from open to locked or back — up to the
   backend's concurrency at once; a failure leaves that extension as it was;
3. in one transaction, store the new rows and an event for every change, refusal and failure.

`stores(write=...)` opens the store (`held(store)` for a store already open): the CLI passes
its open store, `lock serve` opens one per request with a short timeout.

Example:
    >>> import tempfile, pathlib
    >>> from callacct.config import Settings
    >>> from callacct.store import open_store
    >>> store = open_store(pathlib.Path(tempfile.mkdtemp()) / "callacct.duckdb")
    >>> service = LockService(store, Settings(), Actor.operator(Settings()))
    >>> report = service.lock(extensions=["2001"], kind="admin", reason="left")
    >>> report.outcomes[0].state_after, report.outcomes[0].result
    ('admin-locked', 'changed')
    >>> [e.action for e in service.history()]
    ['admin-lock']
    >>> store.close()
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from callacct.config import Settings
from callacct.errors import LockError, NotFoundError, UsageError
from callacct.lock import pins, records
from callacct.lock.backends import BackendChange, BackendError, Line, LockBackend, make_backend
from callacct.lock.model import (
    Action,
    ChangeReport,
    Decision,
    Flags,
    Kind,
    LockEvent,
    LockRow,
    LockStatus,
    Outcome,
    Target,
    decide,
)
from callacct.progress import LINES, Progress, Step
from callacct.query.scope import Scope, admin_scope
from callacct.store import Store

log = logging.getLogger(__name__)

StoreSource = Callable[..., AbstractContextManager[Store]]
BackendFactory = Callable[[str], LockBackend]

# One change at a time in a process (a `lock serve` answering several phones): the rows read in
# step 1 are still the rows when step 3 writes. Across processes the last change wins and
# `lock sync` shows any line that differs from the store.
_CHANGES = threading.Lock()


def held(store: Store) -> StoreSource:
    """A store source that always gives `store` (already open, not closed here)."""

    @contextmanager
    def source(*, write: bool = False) -> Iterator[Store]:
        yield store

    return source


@dataclass(frozen=True)
class Actor:
    """Who asks, with what scope, and how (`cli`, `phone`, `workstation`, `budget`, `admin`)."""

    scope: Scope
    how: str = "cli"
    name: str = "operator"

    @classmethod
    def operator(cls, settings: Settings, how: str = "cli") -> Actor:
        """Whoever runs callacct without --as: an admin."""
        return cls(admin_scope(settings), how, "operator")

    @classmethod
    def person(cls, scope: Scope, how: str = "cli") -> Actor:
        return cls(scope, how, scope.login or "operator")

    @classmethod
    def budget(cls, settings: Settings) -> Actor:
        """The budget module: the only one that sets or lifts a budget lock."""
        return cls(admin_scope(settings), "budget", "budget")


@dataclass(frozen=True)
class SyncItem:
    """One line compared with the phone system."""

    extension: str
    login: str | None
    state: str
    backend: str
    actual: str | None
    drift: bool
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


@dataclass(frozen=True)
class SyncReport:
    """`lock sync`: each line as callacct believes it and as the phone system has it."""

    items: list[SyncItem] = field(default_factory=list)

    @property
    def drift(self) -> list[SyncItem]:
        return [item for item in self.items if item.drift]

    def to_dict(self) -> dict[str, Any]:
        return {
            "lines": len(self.items),
            "drift": len(self.drift),
            "items": [item.to_dict() for item in self.items],
        }


class LockService:
    """Lock, unlock, status, history, PINs and sync, as one person."""

    def __init__(
        self,
        stores: StoreSource | Store,
        settings: Settings,
        actor: Actor,
        *,
        root: Path | None = None,
        env: Mapping[str, str] | None = None,
        backends: BackendFactory | None = None,
        clock: Callable[[], dt.datetime] | None = None,
        progress: Progress | None = None,
    ) -> None:
        self._stores: StoreSource = held(stores) if isinstance(stores, Store) else stores
        self.settings = settings
        self.actor = actor
        self._root = root
        self._env = env
        self._backends = backends or (lambda name: make_backend(name, settings, env=env, base=root))
        self._clock = clock or records.now_utc
        #: Told (stage `lines`) while the phone system changes many lines.
        self.progress = progress

    # -- choosing extensions -------------------------------------------------------------

    def targets(
        self,
        *,
        extensions: Sequence[str] = (),
        logins: Sequence[str] = (),
        department: str | None = None,
    ) -> list[Target]:
        """The extensions a request names, each with its person now. An extension nobody
        holds is accepted (for an admin) if it looks like an extension; a person or a
        department without extensions is a `NotFoundError`."""
        if not (extensions or logins or department):
            raise UsageError("name an extension, a person (--user) or a department (--department)")
        pattern = self.settings.dialplan.extension_pattern
        for extension in extensions:
            if not re.search(pattern, extension):
                raise UsageError(
                    f"{extension!r} is not an extension (dialplan.extension_pattern {pattern})"
                )
        with self._stores(write=False) as store:
            found = records.current_targets(
                store.con, extensions=extensions, logins=logins, department=department
            )
        by_extension = {t.extension: t for t in found}
        for login in logins:
            if not any(t.login == login for t in found):
                raise NotFoundError(
                    f"{login!r} has no extension in the directory now; check "
                    "'callacct directory show'"
                )
        if department is not None and not any(t.department == department for t in found):
            raise NotFoundError(f"department {department!r} has nobody with an extension now")
        chosen = {
            t.extension: t
            for t in found
            if t.extension in extensions or t.login in logins or t.department == department
        }
        for extension in extensions:
            chosen.setdefault(extension, by_extension.get(extension, Target(extension)))
        return [chosen[key] for key in sorted(chosen)]

    def _refusal(self, target: Target, kind: Kind) -> str | None:
        """Why the actor may not act on `target` with a `kind` lock; None if they may."""
        scope, who = self.actor.scope, self.actor.name
        if kind == "budget":
            if self.actor.how == "budget":
                return None
            return "only the budget module sets or lifts a budget lock"
        if scope.role == "admin":
            return None
        holder = f"{target.login}'s extension" if target.login else "held by nobody"
        if scope.role == "supervisor" and target.login and scope.allows_person(target.person()):
            return None
        if kind == "admin":
            return (
                f"{who} may not set or lift an admin lock on {target.extension} ({holder}): "
                "only an admin or a supervisor of the person may"
            )
        if target.login is not None and target.login == scope.login:
            return None
        return f"{who} may not lock or unlock {target.extension} ({holder})"

    # -- changes -----------------------------------------------------------------------

    def lock(
        self,
        *,
        extensions: Sequence[str] = (),
        logins: Sequence[str] = (),
        department: str | None = None,
        kind: Kind = "user",
        reason: str | None = None,
    ) -> ChangeReport:
        """Lock the extensions named (see `targets`) for `kind` (user, admin, budget)."""
        chosen = self.targets(extensions=extensions, logins=logins, department=department)
        return self.change("lock", kind, chosen, reason=reason)

    def unlock(
        self,
        *,
        extensions: Sequence[str] = (),
        logins: Sequence[str] = (),
        department: str | None = None,
        kind: Kind = "user",
        reason: str | None = None,
    ) -> ChangeReport:
        """Lift a `kind` lock of the extensions named; the line opens when no lock is left."""
        chosen = self.targets(extensions=extensions, logins=logins, department=department)
        return self.change("unlock", kind, chosen, reason=reason)

    def change(
        self, action: Action, kind: Kind, targets: Sequence[Target], *, reason: str | None = None
    ) -> ChangeReport:
        """Apply `action` for `kind` to `targets`; see the module docstring for the steps."""
        for target in targets:
            refusal = self._refusal(target, kind)
            if refusal is not None:
                raise LockError(refusal)
        if reason is not None and len(reason) > 500:
            raise UsageError("--reason: at most 500 characters")
        with _CHANGES:
            with self._stores(write=False) as store:
                rows = records.load_rows(store.con, [t.extension for t in targets])
            plans = [(t, rows.get(t.extension) or LockRow(t.extension)) for t in targets]
            decisions = [decide(row.flags, action, kind, how=self.actor.how) for _, row in plans]
            backends = {t.extension: self._backend_name(t, row) for t, row in plans}
            results = self._run_backends(plans, decisions, backends)
            now = self._clock()
            outcomes: list[Outcome] = []
            new_rows: list[LockRow] = []
            events: list[dict[str, Any]] = []
            name = action if kind == "user" else f"{kind}-{action}"
            for (target, row), decision in zip(plans, decisions, strict=True):
                result = results.get(target.extension)
                outcome, new_row = self._outcome(
                    target, row, decision, result, name, backends[target.extension], reason, now
                )
                outcomes.append(outcome)
                if new_row is not None:
                    new_rows.append(new_row)
                if outcome.result in ("changed", "refused", "failed"):
                    events.append(self._event(outcome, reason, now))
            with self._stores(write=True) as store, store.transaction() as con:
                records.write_rows(con, new_rows)
                records.write_events(con, events)
        return ChangeReport(name, outcomes)

    def _backend_name(self, target: Target, row: LockRow) -> str:
        if row.flags.locked and row.backend:
            return row.backend  # the backend that locked the line saved what unlocking needs
        return self.settings.lock.backend_for(self.site_of(target))

    def site_of(self, target: Target) -> str | None:
        """The person's site, else the configured site whose extensions match."""
        if target.site and target.site in self.settings.sites:
            return target.site
        for name, site in self.settings.sites.items():
            if site.extensions and re.search(site.extensions, target.extension):
                return name
        return target.site

    def _run_backends(
        self,
        plans: Sequence[tuple[Target, LockRow]],
        decisions: Sequence[Decision],
        backends: Mapping[str, str],
    ) -> dict[str, BackendChange | BackendError | None]:
        work = [
            (target, row, decision.backend_action)
            for (target, row), decision in zip(plans, decisions, strict=True)
            if decision.refusal is None and decision.backend_action is not None
        ]
        if not work:
            return {}
        return asyncio.run(self._backend_calls(work, backends))

    async def _backend_calls(
        self, work: Sequence[tuple[Target, LockRow, Action | None]], names: Mapping[str, str]
    ) -> dict[str, BackendChange | BackendError | None]:
        results: dict[str, BackendChange | BackendError | None] = {}
        opened: dict[str, LockBackend] = {}
        gates: dict[str, asyncio.Semaphore] = {}
        stopped: list[BackendError] = []

        done = 0

        async def one(target: Target, row: LockRow, action: Action | None) -> None:
            nonlocal done
            name = names[target.extension]
            backend = opened[name]
            async with gates[name]:
                if stopped:
                    results[target.extension] = None
                    return
                line = Line(target.extension, target.login, target.email, row.line_key)
                try:
                    if action == "lock":
                        results[target.extension] = await backend.lock(line)
                    else:
                        results[target.extension] = await backend.unlock(line, row.saved)
                except BackendError as exc:
                    results[target.extension] = exc
                    if exc.fatal:
                        stopped.append(exc)
                done += 1
                if self.progress is not None:
                    self.progress(Step(LINES, done, len(work), "lines"))

        try:
            for target, _, _ in work:
                name = names[target.extension]
                if name not in opened:
                    opened[name] = self._backends(name)
                    gates[name] = asyncio.Semaphore(opened[name].concurrency)
            await asyncio.gather(*(one(*item) for item in work))
        finally:
            for backend in opened.values():
                await backend.close()
        if stopped:
            for extension, result in results.items():
                if result is None:
                    results[extension] = BackendError(f"not tried: {stopped[0]}")
        return results

    def _outcome(
        self,
        target: Target,
        row: LockRow,
        decision: Decision,
        result: BackendChange | BackendError | None,
        action: str,
        backend: str,
        reason: str | None,
        now: dt.datetime,
    ) -> tuple[Outcome, LockRow | None]:
        base = Outcome(
            extension=target.extension,
            login=target.login,
            action=action,
            result="unchanged",
            state_before=decision.before.state,
            state_after=decision.before.state,
            backend=backend,
            message=decision.note,
        )
        if decision.refusal is not None:
            return replace(base, result="refused", message=decision.refusal), None
        if decision.after is None:
            return base, None
        if isinstance(result, BackendError):
            skipped = str(result).startswith("not tried:")
            return replace(
                base, result="skipped" if skipped else "failed", message=str(result)
            ), None
        change = result
        after = decision.after
        saved, applied, line_key, used = row.saved, row.applied, row.line_key, row.backend
        if change is not None:
            line_key = change.line_key or row.line_key
            if decision.backend_action == "lock":
                saved = change.saved if change.saved is not None else row.saved
                applied, used = change.after, backend
            else:
                saved = applied = used = None
        new_row = LockRow(
            extension=target.extension,
            flags=after,
            login=target.login,
            reason=reason if reason is not None else (row.reason if after.locked else None),
            changed_by=self.actor.name,
            since=now,
            backend=used,
            line_key=line_key,
            saved=saved,
            applied=applied,
        )
        outcome = replace(
            base,
            result="changed",
            state_after=after.state,
            message=change.note if change is not None else _kept_note(after),
            css_before=change.before if change is not None else None,
            css_after=change.after if change is not None else None,
        )
        return outcome, new_row

    def _event(self, outcome: Outcome, reason: str | None, now: dt.datetime) -> dict[str, Any]:
        return {
            "happened_at": now,
            "extension": outcome.extension,
            "login": outcome.login,
            "actor": self.actor.name,
            "how": self.actor.how,
            "action": outcome.action,
            "reason": reason,
            "backend": outcome.backend,
            "result": outcome.result,
            "message": outcome.message or None,
            "state_before": outcome.state_before,
            "state_after": outcome.state_after,
            "css_before": outcome.css_before,
            "css_after": outcome.css_after,
        }

    # -- reading -----------------------------------------------------------------------

    def status(
        self, *, department: str | None = None, logins: Sequence[str] = ()
    ) -> list[LockStatus]:
        """Every extension within the actor's scope with its lock state (F-LOCK-2)."""
        with self._stores(write=False) as store:
            people = records.people_with_locks(store.con)
            blocked = pins.pin_states(store.con)
        now = self._clock()
        out = []
        for row in people:
            if not self._sees(row):
                continue
            if department is not None and row["department"] != department:
                continue
            if logins and row["login"] not in logins:
                continue
            target = Target(
                **{k: row[k] for k in ("extension", "login", "site")}  # for the site's backend
            )
            until = blocked.get(row["login"])
            out.append(
                LockStatus(
                    extension=row["extension"],
                    login=row["login"],
                    name=row["name"],
                    department=row["department"],
                    state=row["state"] or "unlocked",
                    reason=row["reason"],
                    changed_by=row["changed_by"],
                    since=row["since"],
                    backend=row["backend"] or self.settings.lock.backend_for(self.site_of(target)),
                    pin_set=row["login"] in blocked,
                    pin_blocked_until=until if until is not None and until > now else None,
                )
            )
        return out

    def _sees(self, row: Mapping[str, Any]) -> bool:
        scope = self.actor.scope
        if scope.role == "admin":
            return True
        if not row.get("held"):
            return False
        return scope.allows_person(dict(row)) or row.get("login") == scope.login

    def history(
        self, *, extension: str | None = None, login: str | None = None, limit: int = 100
    ) -> list[LockEvent]:
        """The latest lock events within the actor's scope, newest first."""
        scope = self.actor.scope
        with self._stores(write=False) as store:
            if scope.role == "admin":
                logins = None if login is None else [login]
            else:
                people = records.people_with_locks(store.con)
                visible = {r["login"] for r in people if r["login"] and self._sees(r)}
                logins = sorted(visible if login is None else visible & {login})
            return records.read_events(store.con, extension=extension, logins=logins, limit=limit)

    # -- PINs ----------------------------------------------------------------------------

    def _pin_owner(self, login: str) -> None:
        """Only the person themselves, an admin or a supervisor of theirs changes a PIN."""
        scope = self.actor.scope
        if scope.role == "admin" or login == scope.login:
            with self._stores(write=False) as store:
                if not records.current_targets(store.con, logins=[login]):
                    raise NotFoundError(f"{login!r} has no extension in the directory now")
            return
        with self._stores(write=False) as store:
            found = records.current_targets(store.con, logins=[login])
        if scope.role == "supervisor" and found and scope.allows_person(found[0].person()):
            return
        raise LockError(f"{self.actor.name} may not change the PIN of {login!r}")

    def set_pin(self, login: str, new_pin: str, *, old_pin: str | None = None) -> None:
        """Set `login`'s PIN. The person changing their own PIN gives the old one (if set);
        an admin or their supervisor does not need it."""
        self._pin_owner(login)
        pins.check_new_pin(new_pin, self.settings.lock.pin_length)
        own = login == self.actor.scope.login and self.actor.scope.role != "admin"
        now = self._clock()
        with self._stores(write=True) as store, store.transaction() as con:
            pin_refusal = None
            if own and pins.has_pin(con, login):
                check = pins.verify_pin(con, login, old_pin or "", self.settings.lock, now=now)
                pin_refusal = None if check.ok else pin_error(check)
            if pin_refusal is None:
                pins.set_pin(con, login, new_pin, self.settings.lock, by=self.actor.name, now=now)
        if pin_refusal is not None:  # the wrong attempt is counted (committed) all the same
            raise pin_refusal

    def reset_pin(self, login: str) -> bool:
        """Remove `login`'s PIN and its block (an admin or supervisor); whether one was set."""
        if self.actor.scope.role == "user":
            raise LockError("only an admin or a supervisor resets a PIN; set yours with 'pin set'")
        self._pin_owner(login)
        with self._stores(write=True) as store, store.transaction() as con:
            return pins.reset_pin(con, login)

    def check_pin(self, login: str, pin: str) -> pins.PinCheck:
        """Check `login`'s PIN, counting a wrong one."""
        with self._stores(write=True) as store, store.transaction() as con:
            return pins.verify_pin(con, login, pin, self.settings.lock, now=self._clock())

    # -- sync ------------------------------------------------------------------------------

    def sync(self, *, department: str | None = None) -> SyncReport:
        """Compare each line in scope with the phone system (read only): drift is a line
        locked in callacct but not in the phone system, or the other way round."""
        shown = self.status(department=department)
        with self._stores(write=False) as store:
            rows = records.load_rows(store.con, [s.extension for s in shown])
        return asyncio.run(self._sync(shown, rows))

    async def _sync(self, shown: Sequence[LockStatus], rows: Mapping[str, LockRow]) -> SyncReport:
        opened: dict[str, LockBackend] = {}
        items: list[SyncItem] = []
        normal = set(self.settings.lock.axl.normal_css)

        async def one(status: LockStatus, gate: asyncio.Semaphore) -> SyncItem:
            row = rows.get(status.extension) or LockRow(status.extension)
            locked = row.flags.locked
            base = SyncItem(
                status.extension, status.login, status.state, status.backend, None, False, ""
            )
            if status.backend == "dry-run":
                return replace(base, message="dry-run: nothing to compare")
            line = Line(status.extension, status.login, None, row.line_key)
            async with gate:
                try:
                    reading = await opened[status.backend].read(line)
                except BackendError as exc:
                    return replace(base, drift=True, message=str(exc))
            if reading.locked != locked:
                text = (
                    "locked in callacct, open in the phone system"
                    if locked
                    else "open in callacct, locked in the phone system"
                )
                return replace(base, actual=reading.current, drift=True, message=text)
            if (
                not locked
                and status.backend == "cucm-axl"
                and normal
                and reading.current not in normal
            ):
                return replace(
                    base,
                    actual=reading.current,
                    drift=True,
                    message="on a CSS that is not one of lock.axl.normal_css",
                )
            return replace(base, actual=reading.current, message="as expected")

        try:
            gates: dict[str, asyncio.Semaphore] = {}
            for status in shown:
                if status.backend != "dry-run" and status.backend not in opened:
                    opened[status.backend] = self._backends(status.backend)
                    gates[status.backend] = asyncio.Semaphore(opened[status.backend].concurrency)
            dummy = asyncio.Semaphore(1)
            items = list(
                await asyncio.gather(*(one(s, gates.get(s.backend, dummy)) for s in shown))
            )
        finally:
            for backend in opened.values():
                await backend.close()
        return SyncReport(items)


def _kept_note(after: Flags) -> str:
    """The note of a change the phone system did not need: the line was and stays locked."""
    return f"the line stays locked ({after.state})" if after.locked else ""


def pin_error(check: pins.PinCheck) -> LockError:
    """The one-line refusal of a PIN check."""
    if check.reason == "missing":
        return LockError("no PIN is set; an admin or your supervisor sets one ('lock pin set')")
    if check.reason == "blocked":
        until = check.blocked_until.strftime("%H:%M UTC") if check.blocked_until else "later"
        return LockError(f"too many wrong PINs: the PIN is blocked until {until}")
    return LockError(f"wrong PIN ({check.attempts_left} attempts left before it is blocked)")


def lock_for_budget(
    stores: StoreSource | Store,
    settings: Settings,
    login: str,
    *,
    reason: str,
    root: Path | None = None,
    backends: BackendFactory | None = None,
) -> ChangeReport:
    """Lock every extension of `login` because their budget is spent (the budget module)."""
    service = LockService(stores, settings, Actor.budget(settings), root=root, backends=backends)
    return service.lock(logins=[login], kind="budget", reason=reason)


def unlock_for_budget(
    stores: StoreSource | Store,
    settings: Settings,
    login: str,
    *,
    reason: str,
    root: Path | None = None,
    backends: BackendFactory | None = None,
) -> ChangeReport:
    """Lift the budget lock of `login`'s extensions (a new budget period); other locks stay."""
    service = LockService(stores, settings, Actor.budget(settings), root=root, backends=backends)
    return service.unlock(logins=[login], kind="budget", reason=reason)
