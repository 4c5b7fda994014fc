"""An organisation for alarm tests, opened through the API, and calls that "arrive".

Paris (PAR, Europe/Paris) and New York (NYC, America/New_York). Alice (user, Sales, PAR,
2001, manager sue) and Bob (user, Support, NYC, 3001); Sue supervises Sales (numbers masked
to her: 4 digits), Sam supervises Support; Ada is an admin. Calls are written as an ingest
leaves them — attributed and rated — each batch with a ledger row of its own, numbered in
the order they arrive, as the ingest numbers them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from callacct import Workspace
from callacct.config import Settings
from callacct.store import open_store
from tests.delivery.conftest import mail_server, smtp_ca, smtp_ca_file  # noqa: F401 (fixtures)
from tests.directory.helpers import write_csv

PEOPLE = (
    "alice,Alice Martin,alice@example.com,fr,user,Sales,CC-1100,PAR,2001,sue,",
    "bob,Bob Smith,bob@example.com,en,user,Support,CC-2700,NYC,3001,sam,",
    "sue,Sue Petit,sue@example.com,de,supervisor,Sales,CC-1100,PAR,2002,,",
    "sam,Sam Hill,sam@example.com,en,supervisor,Support,CC-2700,NYC,3002,,",
    "ada,Ada King,ada@example.com,en,admin,IT,CC-1400,PAR,2003,,",
)
#: extension -> (login, department, cost centre, site)
HOLDERS = {
    "2001": ("alice", "Sales", "CC-1100", "PAR"),
    "3001": ("bob", "Support", "CC-2700", "NYC"),
    "2002": ("sue", "Sales", "CC-1100", "PAR"),
    "3002": ("sam", "Support", "CC-2700", "NYC"),
    "2003": ("ada", "IT", "CC-1400", "PAR"),
}
#: An ordinary working moment: Tuesday 1 December 2026, 10:00 in Paris.
WORKDAY = dt.datetime(2026, 12, 1, 9, 0)
NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)


def call(
    extension: str = "2001",
    *,
    at: dt.datetime = WORKDAY,
    direction: str = "outgoing",
    remote: str | None = "+33145678901",
    peer: str | None = None,
    answered: bool = True,
    duration_s: int = 60,
    dest_class: str | None = None,
    country: str | None = "FR",
    cost: str | None = "0.10",
    currency: str | None = "EUR",
    dialled: str | None = None,
    undefined: bool | None = None,
) -> dict[str, Any]:
    """One call as rating leaves it (`at`: its start, naive UTC)."""
    holder = HOLDERS.get(extension)
    peer_holder = HOLDERS.get(peer or "")
    if dest_class is None:
        dest_class = "internal" if direction == "internal" else "national"
    return {
        "started_at": at,
        "duration_s": duration_s if answered else 0,
        "direction": direction,
        "answered": answered,
        "disposition": "answered" if answered else "missed",
        "remote_number": None if direction == "internal" else remote,
        "remote_dialled": dialled,
        "extension": extension,
        "peer_extension": peer,
        "dest_class": dest_class,
        "dest_country": None if direction == "internal" else country,
        "cost": None if cost is None else Decimal(cost),
        "currency": currency,
        "user_login": holder[0] if holder else None,
        "department": holder[1] if holder else None,
        "cost_center": holder[2] if holder else None,
        "site": holder[3] if holder else None,
        "peer_login": peer_holder[0] if peer_holder else None,
        "peer_department": peer_holder[1] if peer_holder else None,
        "peer_cost_center": peer_holder[2] if peer_holder else None,
        "peer_site": peer_holder[3] if peer_holder else None,
        "undefined_extension": (holder is None or (peer is not None and peer_holder is None))
        if undefined is None
        else undefined,
    }


def arrive(
    workspace: Workspace, calls: Sequence[dict[str, Any]], *, at: dt.datetime = NOW
) -> list[int]:
    """Store `calls` as one file an ingest finished loading at `at`; their call ids."""
    store = open_store(workspace.store_path)
    try:
        con = store.con
        file_id = int(con.execute("SELECT nextval('file_id_seq')").fetchall()[0][0])
        first = int(con.execute("SELECT coalesce(max(call_id), 0) + 1 FROM calls").fetchall()[0][0])
        moment = at.astimezone(dt.UTC).replace(tzinfo=None)
        con.execute(
            "INSERT INTO ingest_files (file_id, path, name, size, sha256, dialect, rows_read, "
            "stored, duplicates, rejected, started_at, finished_at, status, run_id) VALUES "
            "(?, ?, ?, 1, ?, 'cucm-cdr', ?, ?, 0, 0, ?, ?, 'done', 'test')",
            [file_id, f"cdr_{file_id}", f"cdr_{file_id}", f"{file_id:064d}", len(calls),
             len(calls), moment, moment],
        )  # fmt: skip
        ids = []
        for offset, row in enumerate(calls):
            values = {
                "call_id": first + offset,
                "source": "test",
                "file_id": file_id,
                "line_no": offset + 3,
                "transfer": False,
                "forward": False,
                "conference": False,
                **row,
            }
            columns = ", ".join(values)
            marks = ", ".join("?" for _ in values)
            con.execute(f"INSERT INTO calls ({columns}) VALUES ({marks})", list(values.values()))
            ids.append(first + offset)
        return ids
    finally:
        store.close()


def leave(workspace: Workspace, login: str) -> None:
    """`login` leaves the directory (their record ends in January 2026)."""
    store = open_store(workspace.store_path)
    try:
        store.con.execute(
            "UPDATE users SET valid_to = TIMESTAMP '2026-01-01' WHERE login = ?", [login]
        )
    finally:
        store.close()


def clock(moment: dt.datetime = NOW) -> Any:
    return lambda: moment


def make_org(root: Path, people_csv: Path, smtp: dict[str, Any] | None = None) -> Workspace:
    """The organisation's workspace at `root` (mail through `smtp`, if given)."""
    site = {"PAR": ("FR", "Europe/Paris", "^2"), "NYC": ("US", "America/New_York", "^3")}
    settings = Settings.model_validate(
        {
            "general": {"country": "FR", "timezone": "Europe/Paris", "currency": "EUR"},
            "dialplan": {"extension_pattern": r"^[23]\d{3}$"},
            "masking": {"supervisor": 4},
            "sites": {
                name: {"region": region, "timezone": zone, "extensions": pattern}
                for name, (region, zone, pattern) in site.items()
            },
            "delivery": {"smtp": smtp or {}},
        }
    )
    workspace = Workspace.create(root, settings=settings)
    workspace.directory_import(write_csv(people_csv, *PEOPLE))
    return workspace


@pytest.fixture
def org(tmp_path: Path) -> Workspace:
    return make_org(tmp_path / "org", tmp_path / "people.csv")


@pytest.fixture
def mailed(tmp_path: Path, request: pytest.FixtureRequest) -> tuple[Workspace, Any]:
    """The organisation mailing through a real SMTP server on 127.0.0.1 (the delivery
    tests' `mail_server`), and that server."""
    server = request.getfixturevalue("mail_server")("plain")
    workspace = make_org(tmp_path / "org", tmp_path / "people.csv", server.smtp_settings())
    return workspace, server


def add(workspace: Workspace, data: dict[str, Any], **kwargs: Any) -> Any:
    """Add an alarm (mailed to it@example.com unless `data` says otherwise), at NOW."""
    definition = {"recipients": {"to": ["it@example.com"]}, **data}
    return workspace.alarms(clock=clock()).add(definition, **kwargs)


def run(workspace: Workspace, name: str | None = None, now: dt.datetime = NOW) -> Any:
    return workspace.alarms(clock=clock(now)).run(name, now=now)
