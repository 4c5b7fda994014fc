"""Evaluating budgets: close ended periods (carry-over), count the current spend, warn once
per threshold, lock and unlock through the phone-lock service, record every action.

`evaluate(store, settings, now, locker=..., mailing=...)` is run after each ingest and re-rate
when budgets exist, and by the scheduler. It is idempotent: a run right after another one
changes nothing and sends nothing, because every decision compares the calls with what the
store already says was done:

1. **Rollover.** A budget's open period that has ended is closed with its final spend; with
   carry-over, a positive remainder is carried into the next period (a `carried-over`
   event); the next period is opened. A budget not evaluated for several periods closes each
   of them in turn (at most `budgets.max_catch_up`).
2. **Spend** of every open period, in one SQL statement (`callacct.query.spend`).
3. **Late calls.** Calls that arrive for the period closed last are recorded (`late-spend`)
   when they take it past its lock threshold (or, without one, past its allowance); they
   never lock in the new period, nor change what was carried over.
4. **Warnings.** A threshold reached in the current period and not yet warned is a `warned`
   event, and one e-mail (the highest threshold newly reached) to the person, or to each
   member of a group; never again in that period.
5. **Locks.** A person is to be budget-locked while any budget of theirs (their own, their
   group's) is at its lock threshold in its current period. People to lock are locked; people
   budget-locked whom no budget names (a new period, a re-rate that lowered the spend, a
   budget removed or raised) are unlocked. Only the budget's own lock is touched: an admin
   lock or the person's own lock stays (the lock service's rules).

Example:
    >>> import tempfile, pathlib, datetime as dt
    >>> from callacct.config import Settings
    >>> from callacct.store import open_store
    >>> store = open_store(pathlib.Path(tempfile.mkdtemp()) / "callacct.duckdb")
    >>> evaluate(store, Settings(), dt.datetime(2026, 12, 2)).budgets
    0
    >>> store.close()
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from callacct.budgets import records
from callacct.budgets.mail import BudgetMail, budget_mail
from callacct.budgets.model import Budget, BudgetStatus, Evaluation, reached
from callacct.budgets.periods import Period, period_at
from callacct.budgets.records import PeriodRow, Person
from callacct.config import Settings
from callacct.query.scope import Scope
from callacct.query.spend import Window, spend_in_windows, window_spend_sql
from callacct.store import Store


@dataclass(frozen=True)
class LockResult:
    """What the phone-lock service did for one person."""

    ok: bool
    message: str = ""


class Locker(Protocol):
    """The phone-lock service as budgets use it (the API gives one; `callacct.lock`)."""

    def budget_locked(self) -> set[str]:
        """The people with a budget lock on one of their extensions now."""
        ...

    def with_lines(self, logins: Sequence[str]) -> set[str]:
        """Those of `logins` who hold an extension now (the others have no line to lock)."""
        ...

    def lock(self, logins: Sequence[str], reason: str) -> dict[str, LockResult]:
        """Set the budget lock of every extension of `logins`."""
        ...

    def unlock(self, logins: Sequence[str], reason: str) -> dict[str, LockResult]:
        """Lift the budget lock of every extension of `logins` (other locks stay)."""
        ...


def site_zone(person: Person | None, settings: Settings) -> ZoneInfo:
    """The time zone of a person's site, else the workspace's."""
    site = settings.sites.get(person.site or "") if person is not None else None
    return ZoneInfo((site.timezone if site is not None else "") or settings.general.timezone)


def members(people: Mapping[str, Person]) -> dict[tuple[str, str], list[Person]]:
    """People by (group kind, group name)."""
    out: dict[tuple[str, str], list[Person]] = {}
    for person in people.values():
        for kind in ("department", "cost_center"):
            value = getattr(person, kind)
            if value:
                out.setdefault((kind, value), []).append(person)
    return out


def budget_zone(
    budget: Budget,
    people: Mapping[str, Person],
    groups: Mapping[tuple[str, str], list[Person]],
    settings: Settings,
) -> ZoneInfo:
    """A person's budget runs in their site's zone; a group's in its members' zone when they
    share one, else in the workspace's."""
    if budget.kind == "user":
        return site_zone(people.get(budget.target), settings)
    zones = {site_zone(p, settings).key for p in groups.get((budget.kind, budget.target), [])}
    return ZoneInfo(zones.pop() if len(zones) == 1 else settings.general.timezone)


def concerned(
    budget: Budget, people: Mapping[str, Person], groups: Mapping[tuple[str, str], list[Person]]
) -> list[Person]:
    """Who a budget warns and locks: its person, or the members of its group now."""
    if budget.kind == "user":
        person = people.get(budget.target)
        return [person] if person is not None else []
    return sorted(groups.get((budget.kind, budget.target), []), key=lambda p: p.login)


def window(budget: Budget, period: Period) -> Window:
    return Window(
        budget.budget_id,
        budget.kind,
        budget.target,
        budget.currency,
        budget.classes,
        period.starts_at,
        period.ends_at,
    )


def statuses(
    store: Store,
    settings: Settings,
    budgets: Sequence[Budget],
    now: dt.datetime,
    *,
    people: Mapping[str, Person] | None = None,
) -> list[BudgetStatus]:
    """Each budget in the period in force at `now` (read only: a budget never evaluated
    shows its period all the same, with nothing carried in)."""
    con = store.con
    people = records.current_people(con) if people is None else people
    groups = members(people)
    periods = {
        b.budget_id: period_at(now, b.period, budget_zone(b, people, groups, settings))
        for b in budgets
    }
    carried = records.carried_into(
        con, [b.budget_id for b in budgets], {p.first for p in periods.values()}
    )
    spend = spend_in_windows(
        con, [window(b, periods[b.budget_id]) for b in budgets], Scope(role="admin")
    )
    out = []
    for b in budgets:
        period = periods[b.budget_id]
        costs = spend.get(b.budget_id, {})
        out.append(
            BudgetStatus(
                b,
                period,
                carried.get((b.budget_id, period.first), Decimal(0)),
                costs.get(b.currency, Decimal(0)),
                {cur: v for cur, v in sorted(costs.items()) if cur != b.currency},
            )
        )
    return out


def evaluate(
    store: Store,
    settings: Settings,
    now: dt.datetime,
    *,
    locker: Locker | None = None,
    mailing: bool = False,
) -> Evaluation:
    """Evaluate every budget at `now` (naive UTC or aware); see the module docstring.

    Only the budgets that need something done are read into Python: the spend, the
    thresholds reached and not yet warned, and the lock threshold of every budget are
    decided by one SQL statement (`records.acting`). With `mailing`, the evaluation gives
    back the e-mails to send (`Evaluation.mails`): the caller sends them once the store is
    released, exactly once per key."""
    now = now.astimezone(dt.UTC).replace(tzinfo=None) if now.tzinfo else now
    con = store.con
    events: list[dict[str, Any]] = []
    rolled: set[int] = set()
    if records.rollover_due(con, now):
        everyone = records.current_people(con)
        every_budget = {b.budget_id: b for b in records.load_budgets(con)}
        rolled = _roll_over(store, settings, every_budget, everyone, members(everyone), now, events)
    count, kinds, between = records.budget_count(con)
    acting: list[records.Acting] = []
    if between is not None:
        spend_sql, params = window_spend_sql(
            "w", Scope(role="admin"), between=between, kinds=kinds, own_currency=True
        )
        acting = records.acting(con, spend_sql, params)
    budgets = {b.budget_id: b for b in records.load_budgets(con, [a.budget_id for a in acting])}
    opened = records.open_periods(con, list(budgets))
    current = {
        a.budget_id: BudgetStatus(
            budgets[a.budget_id],
            opened[a.budget_id].period,
            opened[a.budget_id].carried_in,
            a.spent,
        )
        for a in acting
        if a.budget_id in opened
    }
    people = records.people_for(
        con,
        [b.target for b in budgets.values() if b.kind == "user"],
        [(b.kind, b.target) for b in budgets.values() if b.kind != "user"],
    )
    groups = members(people)
    if settings.budgets.warn_supervisor:  # their managers, for the copy of the warnings
        managers = {p.manager for p in people.values() if p.manager} - set(people)
        people = {**records.people_for(con, sorted(managers), []), **people}
    last_call = _late_spend(store, now, events)
    new = {a.budget_id: a.new_thresholds for a in acting if a.new_thresholds}
    mails = _warnings(settings, current, new, people, groups, now, events, mailing)
    with store.transaction() as tx:
        written = records.write_events(tx, events)
        if last_call is not None:
            records.mark_calls_seen(tx, last_call)
    events.clear()
    if locker is not None:
        due = [current[a.budget_id] for a in acting if a.lock_due and a.budget_id in current]
        mails += _locks(store, settings, due, people, groups, rolled, locker, now, events, mailing)
        with store.transaction() as tx:
            written += records.write_events(tx, events)
    return Evaluation(count, written, mails)


def _event(
    budget: Budget,
    period: Period,
    action: str,
    now: dt.datetime,
    *,
    login: str | None = None,
    threshold: int | None = None,
    allowance: Decimal | None = None,
    spent: Decimal | None = None,
    amount: Decimal | None = None,
    result: str = "done",
    message: str | None = None,
) -> dict[str, Any]:
    return {
        "happened_at": now,
        "budget_id": budget.budget_id,
        "kind": budget.kind,
        "target": budget.target,
        "login": login,
        "first_day": period.first,
        "action": action,
        "threshold": threshold,
        "allowance": allowance,
        "spent": spent,
        "amount": amount,
        "currency": budget.currency,
        "result": result,
        "message": message,
    }


def _roll_over(
    store: Store,
    settings: Settings,
    budgets: Mapping[int, Budget],
    people: Mapping[str, Person],
    groups: Mapping[tuple[str, str], list[Person]],
    now: dt.datetime,
    events: list[dict[str, Any]],
) -> set[int]:
    """Close every open period that ended before `now`, carry over, open the next; open a
    first period for budgets without one. The budgets that rolled over."""
    con = store.con
    rolled: set[int] = set()
    opened = {bid: row for bid, row in records.open_periods(con).items() if bid in budgets}
    for _ in range(settings.budgets.max_catch_up + 1):
        ended = {bid: row for bid, row in opened.items() if row.period.ends_at <= now}
        if not ended:
            break
        spend = spend_in_windows(
            con,
            [window(budgets[bid], row.period) for bid, row in ended.items()],
            Scope(role="admin"),
        )
        opening: list[tuple[int, Period, Decimal]] = []
        closing: list[tuple[int, dt.date, Decimal]] = []
        with store.transaction() as tx:
            for bid, row in ended.items():
                budget = budgets[bid]
                spent = spend.get(bid, {}).get(budget.currency, Decimal(0))
                closing.append((bid, row.period.first, spent))
                following = _next_period(budget, row, people, groups, settings, now)
                left = budget.amount + row.carried_in - spent
                carry = left if budget.carry_over and left > 0 else Decimal(0)
                if following.starts_at > now:
                    del opened[bid]  # only after a change of zone: started afresh below
                    continue
                if carry:
                    events.append(
                        _event(
                            budget,
                            following,
                            "carried-over",
                            now,
                            allowance=budget.amount + row.carried_in,
                            spent=spent,
                            amount=carry,
                            message=f"from {row.period.label} to {following.label}",
                        )
                    )
                opening.append((bid, following, carry))
                opened[bid] = PeriodRow(bid, following, carry, None, None)
                rolled.add(bid)
            records.close_periods(tx, closing, now)
            records.insert_periods(tx, opening)
    missing = set(budgets) - set(opened)
    if missing:
        firsts = []
        for bid in sorted(missing):
            budget = budgets[bid]
            firsts.append(
                (
                    bid,
                    period_at(now, budget.period, budget_zone(budget, people, groups, settings)),
                    Decimal(0),
                )
            )
        with store.transaction() as tx:
            records.insert_periods(tx, firsts)
    return rolled


def _next_period(
    budget: Budget,
    row: PeriodRow,
    people: Mapping[str, Person],
    groups: Mapping[tuple[str, str], list[Person]],
    settings: Settings,
    now: dt.datetime,
) -> Period:
    """The period after `row`: in the budget's zone now, starting where `row` ended; the
    period at `now` when the budget fell further behind than `budgets.max_catch_up`."""
    zone = budget_zone(budget, people, groups, settings)
    following = period_at(row.period.ends_at, budget.period, zone)
    limit = settings.budgets.max_catch_up
    behind = period_at(now, budget.period, zone)
    if (behind.first - following.first).days > limit * (7 if budget.period == "week" else 31):
        return behind
    return following


def _late_spend(store: Store, now: dt.datetime, events: list[dict[str, Any]]) -> int | None:
    """Record calls that arrived after their period closed and took it over its lock
    threshold (or its allowance); each increase is recorded once. Only calls stored since
    the last evaluation can be late, so only the closed periods they fall in are counted.
    The id of the last call seen (None: no new call)."""
    con = store.con
    first, last = records.new_calls(con)
    if first is None:
        return last
    closed = records.last_closed_periods(con, ending_after=first)
    budgets = {b.budget_id: b for b in records.load_budgets(con, list(closed))}
    closed = {bid: row for bid, row in closed.items() if bid in budgets}
    if not closed:
        return last
    spend = spend_in_windows(
        con,
        [window(budgets[bid], row.period) for bid, row in closed.items()],
        Scope(role="admin"),
    )
    updates = []
    for bid, row in closed.items():
        budget = budgets[bid]
        spent = spend.get(bid, {}).get(budget.currency, Decimal(0))
        at_close = row.spent_at_close or Decimal(0)
        known = row.late_spent if row.late_spent is not None else at_close
        allowance = budget.amount + row.carried_in
        limit = budget.lock_at if budget.lock_at is not None else 100
        if (
            spent <= known
            or not reached(spent, allowance, limit)
            or reached(at_close, allowance, limit)
        ):
            continue
        updates.append((bid, row.period.first, spent))
        events.append(
            _event(
                budget,
                row.period,
                "late-spend",
                now,
                allowance=allowance,
                spent=spent,
                amount=spent - at_close,
                message=f"calls of {row.period.label} that arrived after it closed; "
                "no lock in the new period",
            )
        )
    if updates:
        with store.transaction() as tx:
            for bid, first_day, spent in updates:
                records.set_late_spent(tx, bid, first_day, spent)
    return last


def _warnings(
    settings: Settings,
    current: Mapping[int, BudgetStatus],
    new: Mapping[int, tuple[int, ...]],
    people: Mapping[str, Person],
    groups: Mapping[tuple[str, str], list[Person]],
    now: dt.datetime,
    events: list[dict[str, Any]],
    mailing: bool,
) -> list[BudgetMail]:
    """A `warned` event per threshold newly reached (`new`); the mail of the highest."""
    mails: list[BudgetMail] = []
    for bid, thresholds in sorted(new.items()):
        status = current[bid]
        budget = status.budget
        who = concerned(budget, people, groups)
        for threshold in thresholds:
            events.append(
                _event(
                    budget,
                    status.period,
                    "warned",
                    now,
                    login=budget.target if budget.kind == "user" else None,
                    threshold=threshold,
                    allowance=status.allowance,
                    spent=status.spent,
                    message=None if threshold != thresholds[-1] else _recipients(who, mailing),
                )
            )
        if mailing:
            mails += _mails(budget, status, who, people, settings, thresholds[-1])
    return mails


def _recipients(who: Sequence[Person], mailing: bool) -> str:
    mailed = [p.login for p in who if p.email]
    if not mailed:
        return "nobody to mail (no e-mail address)"
    shown = ", ".join(mailed[:5]) + (f" and {len(mailed) - 5} more" if len(mailed) > 5 else "")
    return f"mail to {shown}" if mailing else f"not mailed (e-mail is not set up): {shown}"


def _mails(
    budget: Budget,
    status: BudgetStatus,
    who: Sequence[Person],
    people: Mapping[str, Person],
    settings: Settings,
    threshold: int | None,
) -> list[BudgetMail]:
    out = []
    for person in who:
        manager = people.get(person.manager or "") if settings.budgets.warn_supervisor else None
        mail = budget_mail(
            budget,
            status.period,
            status.allowance,
            status.spent,
            person,
            threshold,
            manager_email=manager.email if manager is not None else None,
            fallback_language=settings.general.language,
        )
        if mail is not None:
            out.append(mail)
    return out


def _locks(
    store: Store,
    settings: Settings,
    due: Sequence[BudgetStatus],
    people: Mapping[str, Person],
    groups: Mapping[tuple[str, str], list[Person]],
    rolled: set[int],
    locker: Locker,
    now: dt.datetime,
    events: list[dict[str, Any]],
    mailing: bool,
) -> list[BudgetMail]:
    """Lock the people a budget at its lock threshold names; unlock the budget-locked people
    whom no budget names."""
    wanted: dict[str, BudgetStatus] = {}
    for status in sorted(due, key=lambda s: s.budget.budget_id):
        for person in concerned(status.budget, people, groups):
            wanted.setdefault(person.login, status)
    locked = locker.budget_locked()
    mails: list[BudgetMail] = []
    # A member of a group without a phone has no line to lock: nothing to do, nothing to
    # record (else every evaluation would record the same failure again).
    to_lock = sorted(locker.with_lines(sorted(set(wanted) - locked)))
    if to_lock:
        results = locker.lock(to_lock, "budget spent")
        for login in to_lock:
            status = wanted[login]
            result = results.get(login, LockResult(False, "no extension to lock"))
            events.append(
                _event(
                    status.budget,
                    status.period,
                    "locked" if result.ok else "lock-failed",
                    now,
                    login=login,
                    threshold=status.budget.lock_at,
                    allowance=status.allowance,
                    spent=status.spent,
                    result="done" if result.ok else "failed",
                    message=result.message or None,
                )
            )
            if result.ok and mailing:
                mails += _mails(status.budget, status, [people[login]], people, settings, None)
    to_unlock = sorted(locked - set(wanted))
    if to_unlock:
        last = records.last_lock_events(store.con)
        earlier = _open_statuses(store, {last.get(login, (0, ""))[0] for login in to_unlock})
        results = locker.unlock(to_unlock, "budget: no budget of theirs is spent now")
        for login in to_unlock:
            result = results.get(login, LockResult(False, "not unlocked"))
            budget_id = last.get(login, (0, ""))[0]
            was = earlier.get(budget_id)
            why = _unlock_reason(budget_id, was, rolled)
            budget = was.budget if was is not None else _removed(budget_id, login)
            period = was.period if was is not None else period_at(now, "month", ZoneInfo("UTC"))
            events.append(
                _event(
                    budget,
                    period,
                    "unlocked" if result.ok else "lock-failed",
                    now,
                    login=login,
                    allowance=None if was is None else was.allowance,
                    spent=None if was is None else was.spent,
                    result="done" if result.ok else "failed",
                    message="; ".join(m for m in (why, result.message) if m),
                )
            )
    return mails


def _open_statuses(store: Store, ids: set[int]) -> dict[int, BudgetStatus]:
    """Budgets `ids` in their open periods (the few that locked the people unlocked now)."""
    budgets = {b.budget_id: b for b in records.load_budgets(store.con, sorted(ids))}
    opened = records.open_periods(store.con, list(budgets))
    spend = spend_in_windows(
        store.con,
        [window(budgets[bid], row.period) for bid, row in opened.items()],
        Scope(role="admin"),
    )
    return {
        bid: BudgetStatus(
            budgets[bid],
            row.period,
            row.carried_in,
            spend.get(bid, {}).get(budgets[bid].currency, Decimal(0)),
        )
        for bid, row in opened.items()
    }


def _unlock_reason(budget_id: int, status: BudgetStatus | None, rolled: set[int]) -> str:
    if status is None:
        return "the budget was removed"
    if budget_id in rolled:
        return f"new period {status.period.label}"
    return "the spend is below the lock threshold (re-rated, or the budget changed)"


def _removed(budget_id: int, login: str) -> Budget:
    """A stand-in for a budget removed since it locked someone (its events stay)."""
    return Budget(budget_id, "user", login, Decimal(0), "", "month", False, (), None, None)


def mails_again(
    store: Store, settings: Settings, keys: Sequence[str], now: dt.datetime
) -> list[BudgetMail]:
    """The e-mails of `keys` (`budget:<id>:<login>:<period>:<threshold or lock>`, whose
    sending failed) built again with the figures of now, for those whose period is still the
    budget's open one: the delivery sends a failed key again when asked again."""
    wanted: dict[int, list[tuple[str, str, str, str]]] = {}
    for key in keys:
        parts = key.split(":")
        if len(parts) == 5 and parts[0] == "budget" and parts[1].isdigit():
            wanted.setdefault(int(parts[1]), []).append((key, parts[2], parts[3], parts[4]))
    if not wanted:
        return []
    current = _open_statuses(store, set(wanted))
    logins = sorted({login for items in wanted.values() for _, login, _, _ in items})
    people = records.people_for(store.con, logins, [])
    managers = {p.manager for p in people.values() if p.manager} - set(people)
    people = {**records.people_for(store.con, sorted(managers), []), **people}
    out: list[BudgetMail] = []
    for bid, items in sorted(wanted.items()):
        status = current.get(bid)
        for key, login, first_day, what in items:
            person = people.get(login)
            if status is None or person is None or status.period.first.isoformat() != first_day:
                continue
            threshold = None if what == "lock" else int(what) if what.isdigit() else -1
            if threshold == -1:
                continue
            for mail in _mails(status.budget, status, [person], people, settings, threshold):
                if mail.key == key:
                    out.append(mail)
    return out
