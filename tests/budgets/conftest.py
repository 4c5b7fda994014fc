"""Budget fixtures: a workspace with a directory (two sites in different zones), calls
written straight into the store as rating leaves them, and a notifier that keeps the mails."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from callacct.api import Workspace
from callacct.budgets import BudgetMail
from callacct.config import Settings

PEOPLE = (
    "login,name,email,language,role,department,cost_center,site,extension,manager,scope\n"
    "alice,Alice Martin,alice@example.com,fr,user,Sales,CC1,PAR,2001,carol,\n"
    "bob,Bob Stone,bob@example.com,en,user,Sales,CC1,PAR,2002 2012,carol,\n"
    "carol,Carol Sup,carol@example.com,de,supervisor,Sales,CC1,PAR,2003,,\n"
    "dave,Dave Other,dave@example.com,it,user,Support,CC2,NYC,2004,,\n"
    "erin,Erin Admin,erin@example.com,en,admin,IT,CC3,PAR,2005,,\n"
)
WHERE = {
    "alice": ("2001", "Sales", "CC1", "PAR"),
    "bob": ("2002", "Sales", "CC1", "PAR"),
    "carol": ("2003", "Sales", "CC1", "PAR"),
    "dave": ("2004", "Support", "CC2", "NYC"),
    "erin": ("2005", "IT", "CC3", "PAR"),
}


def budget_settings(delivery: dict[str, Any] | None = None, **budgets: Any) -> Settings:
    return Settings.model_validate(
        {
            "general": {"country": "FR", "timezone": "Europe/Paris", "currency": "EUR"},
            "dialplan": {"extension_pattern": r"^2\d{3}$", "access_codes": ["0"]},
            "sites": {
                "PAR": {"timezone": "Europe/Paris", "extensions": "^200[1-35]$"},
                "NYC": {"timezone": "America/New_York", "extensions": "^2004$"},
            },
            "budgets": budgets,
            "delivery": delivery or {},
        }
    )


def utc(text: str) -> dt.datetime:
    """An aware UTC instant from 'YYYY-MM-DD HH:MM'."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


class Calls:
    """Writes rated outgoing calls into the store (as ingest and rating leave them)."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self.next_id = 1

    def add(
        self,
        login: str,
        started: str,
        cost: str | None,
        *,
        currency: str = "EUR",
        dest_class: str = "mobile",
        direction: str = "outgoing",
        number: str = "+33612345678",
    ) -> int:
        extension, department, cost_center, site = WHERE[login]
        call_id = self.next_id
        self.next_id += 1
        started_at = dt.datetime.fromisoformat(started)
        with self.workspace.admin_store("test calls", write=True) as store:
            store.con.execute(
                "INSERT INTO calls (call_id, source, file_id, line_no, started_at, answered_at, "
                "ended_at, duration_s, direction, answered, disposition, remote_number, "
                "called_number, extension, transfer, forward, conference, dest_class, cost, "
                "currency, user_login, department, cost_center, site, undefined_extension) "
                "VALUES (?, 'test', 0, ?, ?, ?, ?, 60, ?, TRUE, 'answered', ?, ?, ?, FALSE, "
                "FALSE, FALSE, ?, ?, ?, ?, ?, ?, ?, FALSE)",
                [
                    call_id,
                    call_id,
                    started_at,
                    started_at,
                    started_at + dt.timedelta(seconds=60),
                    direction,
                    number,
                    number,
                    extension,
                    dest_class,
                    None if cost is None else Decimal(cost),
                    None if cost is None else currency,
                    login,
                    department,
                    cost_center,
                    site,
                ],
            )
        return call_id

    def set_cost(self, call_id: int, cost: str) -> None:
        with self.workspace.admin_store("test calls", write=True) as store:
            store.con.execute(
                "UPDATE calls SET cost = ? WHERE call_id = ?", [Decimal(cost), call_id]
            )


class Mails:
    """A notifier keeping every mail, exactly once per key as the delivery rule says."""

    def __init__(self) -> None:
        self.sent: dict[str, BudgetMail] = {}
        self.calls = 0

    def __call__(self, mails: Sequence[BudgetMail]) -> list[str]:
        self.calls += len(mails)
        for mail in mails:
            self.sent.setdefault(mail.key, mail)
        return ["sent"] * len(mails)

    @property
    def keys(self) -> list[str]:
        return sorted(self.sent)


def make_workspace(root: Path, settings: Settings | None = None) -> Workspace:
    workspace = Workspace.create(root / "ws", settings=settings or budget_settings())
    people = root / "people.csv"
    people.write_text(PEOPLE, encoding="utf-8")
    result = workspace.directory_import(people)
    assert not result.directory.problems, result.directory.problems
    return workspace


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    return make_workspace(tmp_path)


@pytest.fixture
def calls(workspace: Workspace) -> Calls:
    return Calls(workspace)


@pytest.fixture
def mails(workspace: Workspace) -> Mails:
    found = Mails()
    workspace.budget_notifier = found
    return found
