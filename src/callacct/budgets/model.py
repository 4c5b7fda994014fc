"""The values of budget control: a budget, its status in a period, an event, an evaluation.

A budget belongs to one person (`user`) or is shared by a group (`department`,
`cost_center`: every call of the group counts against one amount). It has one currency;
calls priced in another currency never count against it (they are shown apart). Its
thresholds are whole percentages of the period's *allowance*: the amount plus what the
previous period carried over, when the budget carries over.

Example:
    >>> b = Budget(1, "user", "alice", Decimal("50"), "EUR", "month", False, (80, 95), 100, None)
    >>> b.describe(), b.crossed(Decimal("45"), Decimal("50"))
    ('alice (person)', [80])
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final, Literal, get_args

from callacct.budgets.periods import Period, PeriodKind
from callacct.formats import money_text

if TYPE_CHECKING:
    from callacct.budgets.mail import BudgetMail

BudgetKind = Literal["user", "department", "cost_center"]
BUDGET_KINDS: Final[tuple[BudgetKind, ...]] = get_args(BudgetKind)
_KIND_TEXT: Final = {"user": "person", "department": "department", "cost_center": "cost centre"}

#: What the budget module records (`budget_events.action`).
ACTIONS: Final = ("warned", "locked", "unlocked", "carried-over", "late-spend", "lock-failed")


def money(value: Decimal | None) -> str | None:
    """A stored amount as exact text for machines (`money_text`), None kept."""
    return None if value is None else money_text(value)


@dataclass(frozen=True)
class Budget:
    """One row of `budgets`; `lock_at` None: this budget never locks."""

    budget_id: int
    kind: BudgetKind
    target: str
    amount: Decimal
    currency: str
    period: PeriodKind
    carry_over: bool
    warn_at: tuple[int, ...]
    lock_at: int | None
    classes: tuple[str, ...] | None
    created_by: str = "operator"
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None

    def describe(self) -> str:
        return f"{self.target} ({_KIND_TEXT[self.kind]})"

    def crossed(self, spent: Decimal, allowance: Decimal) -> list[int]:
        """The warning thresholds `spent` has reached out of `allowance`."""
        return [t for t in self.warn_at if reached(spent, allowance, t)]

    def lock_due(self, spent: Decimal, allowance: Decimal) -> bool:
        return self.lock_at is not None and reached(spent, allowance, self.lock_at)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.budget_id,
            "kind": self.kind,
            "target": self.target,
            "amount": money(self.amount),
            "currency": self.currency,
            "period": self.period,
            "carry_over": self.carry_over,
            "warn_at": list(self.warn_at),
            "lock_at": self.lock_at,
            "classes": None if self.classes is None else list(self.classes),
            "created_by": self.created_by,
            "updated_at": _iso(self.updated_at),
        }


def reached(spent: Decimal, allowance: Decimal, percent: int) -> bool:
    """Whether `spent` is at least `percent` % of `allowance` (exact, no rounding); with
    nothing allowed, any spend reaches every threshold.

    >>> reached(Decimal("40"), Decimal("50"), 80), reached(Decimal("39.99"), Decimal("50"), 80)
    (True, False)
    """
    if allowance <= 0:
        return spent > 0
    return spent * 100 >= allowance * percent


@dataclass(frozen=True)
class BudgetStatus:
    """A budget in its current period (F-BUDGET-2): allowance = amount + carried in;
    remaining = allowance − spent; `other_currencies`: calls that would count but are
    priced in another currency (never added); `lock_state` of each person's extensions
    (`locks`) when known."""

    budget: Budget
    period: Period
    carried_in: Decimal
    spent: Decimal
    other_currencies: dict[str, Decimal] = field(default_factory=dict)
    locks: dict[str, str] = field(default_factory=dict)

    @property
    def allowance(self) -> Decimal:
        return self.budget.amount + self.carried_in

    @property
    def remaining(self) -> Decimal:
        return self.allowance - self.spent

    @property
    def percent(self) -> Decimal:
        if self.allowance <= 0:
            return Decimal(0)
        return (self.spent * 100 / self.allowance).quantize(Decimal("0.1"))

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.budget.to_dict(),
            "period_label": self.period.label,
            "period_from": _iso(self.period.starts_at),
            "period_to": _iso(self.period.ends_at),
            "timezone": self.period.zone,
            "carried_in": money(self.carried_in),
            "allowance": money(self.allowance),
            "spent": money(self.spent),
            "remaining": money(self.remaining),
            "percent": f"{self.percent:f}",
            "other_currencies": {k: money(v) for k, v in self.other_currencies.items()},
            "locks": dict(self.locks),
        }


@dataclass(frozen=True)
class BudgetEvent:
    """One row of `budget_events` (F-BUDGET-3)."""

    event_id: int
    happened_at: dt.datetime
    budget_id: int
    kind: str
    target: str
    login: str | None
    first_day: dt.date
    action: str
    threshold: int | None
    allowance: Decimal | None
    spent: Decimal | None
    amount: Decimal | None
    currency: str
    result: str
    message: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.event_id,
            "happened_at": _iso(self.happened_at),
            "budget_id": self.budget_id,
            "kind": self.kind,
            "target": self.target,
            "login": self.login,
            "period": self.first_day.isoformat(),
            "action": self.action,
            "threshold": self.threshold,
            "allowance": money(self.allowance),
            "spent": money(self.spent),
            "amount": money(self.amount),
            "currency": self.currency,
            "result": self.result,
            "message": self.message,
        }


@dataclass(frozen=True)
class Evaluation:
    """What one evaluation did: the events it recorded and the number of budgets it read."""

    budgets: int
    events: list[BudgetEvent] = field(default_factory=list)
    #: The e-mails to send (when mailing), each exactly once per key.
    mails: list[BudgetMail] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(ACTIONS, 0)
        for event in self.events:
            out[event.action] = out.get(event.action, 0) + 1
        return out

    def lines(self) -> list[str]:
        """One log line per action taken."""
        return [_line(e) for e in self.events]

    def to_dict(self) -> dict[str, Any]:
        return {
            "budgets": self.budgets,
            **self.counts(),
            "events": [e.to_dict() for e in self.events],
        }


def _line(event: BudgetEvent) -> str:
    who = f" {event.login}" if event.login and event.login != event.target else ""
    what = {
        "warned": f"warned at {event.threshold}%",
        "locked": "locked",
        "unlocked": "unlocked",
        "carried-over": f"carried over {money(event.amount)} {event.currency}",
        "late-spend": f"late calls: {money(event.spent)} {event.currency} spent in a closed period",
        "lock-failed": "lock failed",
    }.get(event.action, event.action)
    note = f" ({event.message})" if event.message else ""
    return f"budget {event.budget_id} {event.target}{who}: {what}{note}"


def _iso(value: dt.datetime | None) -> str | None:
    """A stored (naive UTC) time as ISO 8601 with its offset."""
    return None if value is None else value.replace(tzinfo=dt.UTC).isoformat()
