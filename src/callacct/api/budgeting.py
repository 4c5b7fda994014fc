"""How budgets reach the phone-lock service and the outbox: the `Locker` the budget
evaluation uses, acting as the budget module (the only one that sets or lifts a budget lock)
on the store the evaluation holds; and `send_budget_mails`, which renders the evaluation's
e-mails in the shared layout and sends each exactly once per key (`callacct.delivery`).

Example (what `Workspace.evaluate_budgets` does):

    locker = BudgetLocker(store, settings, root=workspace.root)
    evaluation = evaluate(store, settings, now, locker=locker, mailing=True)
    ...  # the store released
    send_budget_mails(workspace, evaluation.mails)
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import jinja2

from callacct.budgets import BudgetMail, Evaluation, LockResult
from callacct.budgets.evaluate import mails_again
from callacct.config import Settings
from callacct.delivery import DeliveryHost, Message, Outbox, Outgoing, render_mail
from callacct.delivery.outbox import list_deliveries
from callacct.errors import DeliveryError
from callacct.lock import Actor, ChangeReport, LockService
from callacct.lock import records as lock_records
from callacct.lock.model import Target
from callacct.lock.service import BackendFactory
from callacct.store import Store


class BudgetLocker:
    """Locks and unlocks people's extensions for their budget through `LockService`."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        *,
        root: Path | None = None,
        env: Mapping[str, str] | None = None,
        backends: BackendFactory | None = None,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self._store = store
        self._service = LockService(
            store,
            settings,
            Actor.budget(settings),
            root=root,
            env=env,
            backends=backends,
            clock=clock,
        )

    def budget_locked(self) -> set[str]:
        rows = lock_records.all_rows(self._store.con)
        return {row.login for row in rows.values() if row.flags.budget and row.login}

    def with_lines(self, logins: Sequence[str]) -> set[str]:
        if not logins:
            return set()
        found = lock_records.current_targets(self._store.con, logins=logins)
        return {t.login for t in found if t.login}

    def lock(self, logins: Sequence[str], reason: str) -> dict[str, LockResult]:
        return self._change("lock", logins, reason)

    def unlock(self, logins: Sequence[str], reason: str) -> dict[str, LockResult]:
        return self._change("unlock", logins, reason)

    def _change(self, action: str, logins: Sequence[str], reason: str) -> dict[str, LockResult]:
        found = lock_records.current_targets(self._store.con, logins=logins)
        held = {t.login for t in found}
        out = {
            login: LockResult(False, "no extension in the directory now")
            for login in logins
            if login not in held
        }
        targets = [t for t in found if t.login in held]
        if action == "unlock":
            # The person's budget-locked lines held by someone else today are unlocked too.
            rows = lock_records.all_rows(self._store.con)
            extensions = {t.extension for t in targets}
            for row in rows.values():
                if row.flags.budget and row.login in logins and row.extension not in extensions:
                    targets.append(Target(row.extension, row.login))
                    out.pop(row.login or "", None)
        if not targets:
            return out
        report = self._service.change(
            "lock" if action == "lock" else "unlock", "budget", targets, reason=reason
        )
        out.update(_by_person(report))
        return out


def _by_person(report: ChangeReport) -> dict[str, LockResult]:
    """One result per person: ok when every extension of theirs is."""
    out: dict[str, LockResult] = {}
    for outcome in report.outcomes:
        if outcome.login is None:
            continue
        before = out.get(outcome.login, LockResult(True))
        message = "; ".join(
            m
            for m in (
                before.message,
                "" if outcome.ok else f"{outcome.extension}: {outcome.message}",
            )
            if m
        )
        out[outcome.login] = LockResult(before.ok and outcome.ok, message)
    return out


log = logging.getLogger(__name__)

#: The budgets' own templates (`budget.txt.j2`, `budget.html.j2`), beside the shared layout.
_TEMPLATES = jinja2.PackageLoader("callacct.budgets", "templates")


def budget_message(mail: BudgetMail, settings: Settings) -> Message:
    """A budget e-mail as the delivery service sends it: text and HTML in the shared layout."""
    paragraphs = [p.splitlines() for p in mail.text.split("\n\n")]
    text, html = render_mail(
        "budget",
        {"subject": mail.subject, "paragraphs": paragraphs, "summary": list(mail.summary)},
        mail.language,
        loader=_TEMPLATES,
    )
    return Message(
        to=mail.to,
        subject=mail.subject,
        text=text,
        html=html,
        language=mail.language,
        reply_to=settings.delivery.smtp.reply_to or None,
    )


def mailing_on(settings: Settings) -> bool:
    """Whether budget e-mails are sent: an SMTP server is set, or dry runs are on."""
    return bool(settings.delivery.smtp.host) or settings.delivery.dry_run


def send_budget_mails(
    host: DeliveryHost,
    mails: Sequence[BudgetMail],
    *,
    clock: Callable[[], dt.datetime] | None = None,
) -> list[str]:
    """Send the budget e-mails in one SMTP conversation, each at most once per key; the
    status of each (`sent`, `failed`, `dry-run`, ...), in order."""
    if not mails:
        return []
    settings = host.settings
    statuses: dict[str, str] = {}
    outgoing = []
    for mail in mails:
        try:
            outgoing.append(Outgoing(budget_message(mail, settings), mail.key, "budget"))
        except DeliveryError as exc:  # an address the directory has wrong: that mail only
            log.warning("%s: not sent: %s", mail.key, exc)
            statuses[mail.key] = f"failed: {exc}"
    rows = Outbox.of(host, clock=clock).send_many(outgoing)
    statuses.update((row.key.removeprefix("dry-run:"), row.status) for row in rows)
    return [statuses.get(mail.key, "failed") for mail in mails]


def failed_budget_mails(
    store: Store, settings: Settings, evaluation: Evaluation, now: dt.datetime
) -> list[BudgetMail]:
    """The budget e-mails whose sending failed, built again to be sent again (those of
    budgets still in the same period), besides the evaluation's own."""
    own = {mail.key for mail in evaluation.mails}
    failed = [
        d.key
        for d in list_deliveries(store.con, origin="budget", status="failed", last=10_000)
        if d.key not in own
    ]
    return mails_again(store, settings, failed, now) if failed else []
