"""Build a complete demo workspace: settings, a directory of people, CUCM files, ingested.

The data is a function of the seed and the last day, so the same `seed` and `end` give the same
workspace byte for byte.
"""

from __future__ import annotations

import datetime as dt
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl

from callacct.api import Workspace
from callacct.config import Settings
from callacct.demo.alarms import add_demo_alarms
from callacct.demo.cdr_writer import DemoCdrSummary, write_demo_cdr_files
from callacct.demo.ldif import write_people_ldif
from callacct.demo.people import build_people, write_people_csv
from callacct.directory.scope import scope_for
from callacct.errors import UsageError
from callacct.ingest.engine import IngestReport
from callacct.progress import Progress
from callacct.rating import ImportReport, RateReport
from callacct.rating.tariff import EXAMPLE_TARIFFS
from callacct.store import Store

DEMO_SETTINGS = {
    "general": {"country": "FR", "timezone": "Europe/Paris", "currency": "EUR", "language": "fr"},
    # Paris dials 0 for an outside line, New York 9; extensions are 2000-2599 and 3000-3399.
    "dialplan": {
        "access_codes": ["0", "9"],
        "extension_pattern": r"^[23]\d{3}$",
        "local_area_codes": ["1"],
    },
    # Two sites, two dial plans: Paris (the default country) and New York.
    "sites": {
        "PAR": {"region": "FR", "access_codes": ["0"], "extensions": r"^2\d{3}$",
                "gateways": "^PAR-", "local_area_codes": ["1"]},
        "NYC": {"region": "US", "timezone": "America/New_York", "access_codes": ["9"],
                "extensions": r"^3\d{3}$", "gateways": "^NYC-",
                "local_area_codes": ["212", "646", "917", "332", "347", "718", "929"]},
    },
}  # fmt: skip
# Phone lock without a phone system: the dry-run backend records what it would do (set
# backend = "cucm-axl" and [lock.axl] to try it against `callacct lock stand-in`).
DEMO_SETTINGS["lock"] = {"backend": "dry-run", "axl": {"locked_css": "CSS_Locked"}}
# E-mail without a mail server: messages are written as .eml files into outbox/ (set
# dry_run = false and [delivery.smtp] to send them).
DEMO_SETTINGS["delivery"] = {"dry_run": True, "smtp": {"from_address": "callacct@example.com"}}
#: The demo's scheduled reports: (name, report, every, on, format, recipients).
DEMO_SCHEDULES = (
    ("department-weekly", "user-bill", "week", "mon", "xlsx", "supervisors"),
    ("bill-monthly", "user-bill", "month", "1", "pdf", "users"),
)
DEMO_PIN = "2580"  # the demo people's PIN on the phone menu (demo data only)
MANAGED = (
    "callacct.toml",
    "callacct.duckdb",
    "callacct.duckdb.wal",
    "archive",
    "cdr",
    "directory",
    "reports",
    "outbox",
)


@dataclass(frozen=True)
class DemoResult:
    """What `build_demo` made."""

    workspace: Path
    people: int
    cdr: DemoCdrSummary
    ingest: IngestReport
    calls_by_direction: dict[str, int]
    calls_by_disposition: dict[str, int]
    seconds: float
    tariffs: list[ImportReport]
    rating: RateReport
    reports: list[Path]
    example_login: str  # a person with the role "user", for `--as` examples

    def to_dict(self) -> dict[str, Any]:
        return {
            "workspace": str(self.workspace),
            "people": self.people,
            "first_day": self.cdr.first_day.isoformat(),
            "last_day": self.cdr.last_day.isoformat(),
            "cdr_files": len(self.cdr.cdr_files),
            "cmr_files": len(self.cdr.cmr_files),
            "cdr_records": self.cdr.cdr_records,
            "cmr_records": self.cdr.cmr_records,
            "malformed_lines": len(self.cdr.malformed),
            "ingest": self.ingest.to_dict(details=False),
            "calls_by_direction": self.calls_by_direction,
            "calls_by_disposition": self.calls_by_disposition,
            "tariffs": [
                f"{t.plan} v{t.version} ({t.currency}, {t.rates} rates)" for t in self.tariffs
            ],
            "rating": self.rating.to_dict(),
            "reports": [str(path) for path in self.reports],
            "seconds": round(self.seconds, 1),
        }


def build_demo(
    root: Path,
    *,
    seed: int = 42,
    days: int = 60,
    end: dt.date | None = None,
    people: int = 200,
    force: bool = False,
    progress: Progress | None = None,
    reports: bool = True,
) -> DemoResult:
    """Create the demo workspace at `root` and ingest its CDR files, through the API as any
    script would: tariffs, the directory (valid since ever, so every call is attributed to its
    person), then the CDR files (stored, attributed and rated), then a few reports.

    `force` replaces a previous demo workspace there (only the files callacct manages);
    `progress` follows the ingest; `reports`: also write a few reports into its `reports/`
    folder.
    """
    started = time.perf_counter()
    _prepare(root, force)
    workspace = Workspace.create(root, settings=Settings.model_validate(DEMO_SETTINGS))
    staff = build_people(seed, people)
    (root / "directory").mkdir(exist_ok=True)
    write_people_csv(staff, root / "directory" / "people.csv")
    write_people_ldif(staff, root / "directory", base_dn="dc=example,dc=com")
    last_day = end or (dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1))
    summary = write_demo_cdr_files(root / "cdr", people=staff, seed=seed, days=days, end=last_day)
    with workspace.holding(write=True):
        tariffs = [workspace.tariff_import(path, rate=False).report for path in EXAMPLE_TARIFFS]
        workspace.directory_import(root / "directory" / "people.csv")
        loaded = workspace.ingest([root / "cdr"], progress=progress, workers=1)
        written = _write_reports(workspace, root / "reports", summary) if reports else []
        with workspace.admin_store("the demo's phone locks", write=True) as store:
            _lock_demo(store, workspace.settings, staff)
        for name, report, every, on, fmt, recipients in DEMO_SCHEDULES:
            workspace.add_schedule(
                name, report=report, every=every, on=on, format=fmt, recipients=recipients
            )
        add_demo_alarms(workspace)
        calls = workspace.calls().frame
        _budget_demo(workspace, calls, staff, last_day)
    assert loaded.rating is not None  # not a dry run
    return DemoResult(
        workspace=workspace.root,
        people=len(staff),
        cdr=summary,
        ingest=loaded.ingest,
        calls_by_direction=_counts(calls, "direction"),
        calls_by_disposition=_counts(calls, "disposition"),
        tariffs=tariffs,
        rating=loaded.rating,
        reports=written,
        example_login=next((p.login for p in staff if p.role == "user"), staff[0].login),
        seconds=time.perf_counter() - started,
    )


def _counts(calls: pl.DataFrame, column: str) -> dict[str, int]:
    """Calls per value of `column`, in the order of the values."""
    counted = calls.group_by(column).len().sort(column)
    return {str(value): int(n) for value, n in counted.iter_rows()}


def _lock_demo(store: Store, settings: Settings, staff: Sequence[Any]) -> None:
    """Phone lock in the demo: phones learnt from the CDRs, PINs, and a few locks with their
    history (a person's own lock, an admin lock, a budget lock, one lifted again)."""
    from callacct.lock import Actor, LockService
    from callacct.lock.devices import learn_devices
    from callacct.lock.pins import hash_pin
    from callacct.lock.records import now_utc

    users = [p for p in staff if p.role == "user"]
    admin = next((p for p in staff if p.role == "admin"), None)
    if len(users) < 3 or admin is None:
        return
    now = now_utc()
    stored = hash_pin(DEMO_PIN)
    with store.transaction() as con:
        learn_devices(con, now=now)
        con.execute(
            "INSERT INTO lock_pins SELECT login, ?, 0, NULL, ?, 'demo' FROM users "
            "WHERE valid_to IS NULL",
            [stored, now],
        )
    own, other = users[0], users[1]

    def person(login: str) -> Actor:
        return Actor.person(scope_for(store.con, login, settings))

    LockService(store, settings, person(own.login)).lock(logins=[own.login])
    LockService(store, settings, person(admin.login)).lock(
        logins=[other.login], kind="admin", reason="left the company"
    )
    LockService(store, settings, person(own.login)).unlock(logins=[own.login])
    LockService(store, settings, person(own.login)).lock(logins=[own.login], reason="holiday")


def _budget_demo(
    workspace: Workspace, calls: pl.DataFrame, staff: Sequence[Any], last_day: dt.date
) -> None:
    """Budgets in the demo, evaluated at the end of its last day: the biggest spender of
    that month (among people not locked already) over a monthly budget, so the budget module
    locks their line (dry-run backend); the next one warned at 80 %; their department with
    a weekly budget carried over."""
    users = [p for p in staff if p.role == "user"][2:]  # the first two are locked already
    currency = workspace.settings.general.currency
    month = calls.filter(
        (pl.col("direction") == "outgoing")
        & (pl.col("currency") == currency)
        & (pl.col("started_at").dt.year() == last_day.year)
        & (pl.col("started_at").dt.month() == last_day.month)
        & pl.col("user").is_in([p.login for p in users])
    )
    spend = (
        month.group_by("user", "department")
        .agg(pl.col("cost").sum())
        .filter(pl.col("cost") > 0)
        .sort(["cost", "user"], descending=[True, False])
        .rows()
    )
    if len(spend) < 2:
        return
    (spent, department, cost), (warned, _, warned_cost) = spend[0], spend[1]
    now = dt.datetime.combine(last_day, dt.time(12), tzinfo=dt.UTC)
    workspace.set_budget(user=spent, amount=_cents(cost * Decimal("0.8")), warn_at=(80,), now=now)
    workspace.set_budget(user=warned, amount=_cents(warned_cost / Decimal("0.85")), now=now)
    if department:
        workspace.set_budget(
            department=department, amount=_cents(cost * 20), period="week", carry_over=True, now=now
        )


def _cents(amount: Decimal) -> Decimal:
    """To the cent, at least one cent."""
    return max(amount.quantize(Decimal("0.01")), Decimal("0.01"))


# Reports the demo writes: (public report, format, language).
DEMO_REPORTS = (
    ("cost-by-department", "xlsx", "fr"),
    ("user-bill", "xlsx", "en"),
    ("cost-by-class", "pdf", "fr"),
    ("international-by-country", "pdf", "ar"),
    ("busy-hour", "html", "en"),
    ("daily-cost-trend", "html", "de"),
)


def _write_reports(workspace: Workspace, folder: Path, cdr: DemoCdrSummary) -> list[Path]:
    """A few public reports over the whole demo period, in several formats and languages."""
    folder.mkdir(exist_ok=True)
    period = {"from": cdr.first_day.isoformat(), "to": cdr.last_day.isoformat(), "period": None}
    written = []
    for name, fmt, language in DEMO_REPORTS:
        result = workspace.run_report(name, period, language=language, record=False)
        path = folder / f"{name}-{language}.{fmt}"
        workspace.render(result, fmt, path)
        written.append(path)
    return written


def _prepare(root: Path, force: bool) -> None:
    if not root.exists():
        return
    if not root.is_dir():
        raise UsageError(f"{root}: exists and is not a folder")
    if not any(root.iterdir()):
        return
    if not (root / "callacct.toml").exists():
        raise UsageError(f"{root}: not empty and not a callacct workspace; choose another folder")
    if not force:
        raise UsageError(f"{root}: a workspace already exists; pass --force to rebuild the demo")
    for name in MANAGED:
        path = root / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
