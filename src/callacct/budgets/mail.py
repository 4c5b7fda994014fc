"""The e-mails of budget control, built (not sent) here: a warning when a threshold is
crossed, a notice when the line is locked. Texts come from the message catalogues, in the
recipient's language; amounts are written as that language writes money.

Each mail has the key that makes it exactly-once (`budget:<budget id>:<login>:<period>:
<threshold or "lock">`): whoever sends it sends a key at most once.

Example:
    >>> from decimal import Decimal
    >>> from callacct.budgets.model import Budget
    >>> from callacct.budgets.periods import period_at
    >>> from callacct.budgets.records import Person
    >>> import datetime as dt
    >>> from zoneinfo import ZoneInfo
    >>> b = Budget(7, "user", "al", Decimal("50"), "EUR", "month", False, (80,), 100, None)
    >>> period = period_at(dt.datetime(2026, 12, 2), "month", ZoneInfo("UTC"))
    >>> al = Person("al", "Al", "al@example.com", "en", "S", "C", None, None)
    >>> mail = budget_mail(b, period, Decimal("50"), Decimal("41"), al, 80)
    >>> mail.key, mail.to
    ('budget:7:al:2026-12-01:80', ('al@example.com',))
    >>> mail.subject
    'Budget: 82% of your budget for 2026-12 is spent'
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

from callacct.budgets.model import Budget
from callacct.budgets.periods import Period
from callacct.budgets.records import Person
from callacct.formats import money_text
from callacct.i18n import LANGUAGES, t


@dataclass(frozen=True)
class BudgetMail:
    """One e-mail to send: to the person (and their manager when configured)."""

    key: str
    to: tuple[str, ...]
    subject: str
    text: str
    language: str
    login: str
    budget_id: int
    threshold: int | None  # None: the lock notice
    #: (label, value) lines of the mail's summary table, in the mail's language.
    summary: tuple[tuple[str, str], ...] = ()


#: Sends mails, each exactly once per key; how each went ('sent', 'failed', ...), in order.
Notifier = Callable[[Sequence[BudgetMail]], list[str]]


def mail_key(budget_id: int, login: str, period: Period, what: int | str) -> str:
    return f"budget:{budget_id}:{login}:{period.first.isoformat()}:{what}"


def budget_mail(
    budget: Budget,
    period: Period,
    allowance: Decimal,
    spent: Decimal,
    person: Person,
    threshold: int | None,
    *,
    manager_email: str | None = None,
    fallback_language: str = "en",
) -> BudgetMail | None:
    """The warning for `threshold` (None: the lock notice) to `person`; None when they have
    no e-mail address."""
    recipients = tuple(a for a in (person.email, manager_email) if a)
    if not person.email:
        return None
    language = person.language if person.language in LANGUAGES else fallback_language
    percent = (
        (spent * 100 / allowance).to_integral_value(ROUND_FLOOR) if allowance > 0 else Decimal(100)
    )
    values: dict[str, str] = {
        "name": person.name or person.login,
        "percent": str(percent),
        "period": period.label,
        "spent": money_text(spent, budget.currency, language),
        "allowance": money_text(allowance, budget.currency, language),
        "remaining": money_text(allowance - spent, budget.currency, language),
        "target": budget.target,
    }
    group = "" if budget.kind == "user" else "_group"
    what = "warn" if threshold is not None else "lock"
    return BudgetMail(
        key=mail_key(budget.budget_id, person.login, period, threshold or "lock"),
        to=recipients,
        subject=t(f"budget.mail.{what}_subject{group}", language, **values),
        text=t(f"budget.mail.{what}_text{group}", language, **values),
        language=language,
        login=person.login,
        budget_id=budget.budget_id,
        threshold=threshold,
        summary=(
            (t("budget.mail.period", language), period.label),
            (t("budget.mail.allowance", language), values["allowance"]),
            (t("budget.mail.spent", language), f"{values['spent']} ({percent} %)"),
            (t("budget.mail.remaining", language), values["remaining"]),
        ),
    )
