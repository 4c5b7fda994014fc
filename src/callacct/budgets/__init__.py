"""Budget control (F-BUDGET): budgets per person or group, spend per period, warnings, the
phone locked when a budget is spent and unlocked at the next period, carry-over, history.

`model` holds the values, `periods` the weeks and months in a time zone, `records` the
tables, `evaluate` the evaluation (after ingest, re-rating and on the scheduler), `service`
what a reader may see and change, `mail` the e-mails it sends, `jobs` the scheduler's entry.
Locks go through the phone-lock service and mails through the delivery service, both given
by the API (`callacct.Workspace`). See docs/budgets.md.
"""

from callacct.budgets.evaluate import Locker, LockResult, evaluate, statuses
from callacct.budgets.mail import BudgetMail, Notifier
from callacct.budgets.model import (
    ACTIONS,
    BUDGET_KINDS,
    Budget,
    BudgetEvent,
    BudgetStatus,
    Evaluation,
)
from callacct.budgets.periods import PERIOD_KINDS, Period, period_at

__all__ = [
    "ACTIONS",
    "BUDGET_KINDS",
    "PERIOD_KINDS",
    "Budget",
    "BudgetEvent",
    "BudgetMail",
    "BudgetStatus",
    "Evaluation",
    "LockResult",
    "Locker",
    "Notifier",
    "Period",
    "evaluate",
    "period_at",
    "statuses",
]
