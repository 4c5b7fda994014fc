"""Build a complete demo workspace: settings, a directory of people, CUCM files, ingested.

The data is a function of the seed and the last day, so the same `seed` and `end` give the same
workspace byte for byte.
"""

from __future__ import annotations

import datetime as dt
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from callacct.config import Settings, open_workspace, write_default_settings
from callacct.demo.cdr_writer import DemoCdrSummary, write_demo_cdr_files
from callacct.demo.ldif import write_people_ldif
from callacct.demo.people import build_people, write_people_csv
from callacct.directory import import_directory_csv
from callacct.directory.scope import admin_scope, scope_for
from callacct.errors import UsageError
from callacct.ingest.engine import IngestReport, ingest_paths
from callacct.rating import ImportReport, RateReport, import_tariff, rate_calls
from callacct.rating.tariff import EXAMPLE_TARIFFS
from callacct.reports.library import public_reports
from callacct.reports.render import render
from callacct.reports.run import run_report
from callacct.service_numbers import ServiceNumbers
from callacct.store import Store, open_store

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
DEMO_PIN = "2580"  # the demo people's PIN on the phone menu (demo data only)
MANAGED = (
    "callacct.toml",
    "callacct.duckdb",
    "callacct.duckdb.wal",
    "archive",
    "cdr",
    "directory",
    "reports",
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
    progress: Callable[[int], None] | None = None,
    on_total: Callable[[int], None] | None = None,
    reports: bool = True,
) -> DemoResult:
    """Create the demo workspace at `root` and ingest its CDR files.

    `force` replaces a previous demo workspace there (only the files callacct manages);
    `reports`: also write a few reports into its `reports/` folder.
    """
    started = time.perf_counter()
    _prepare(root, force)
    settings = Settings.model_validate(DEMO_SETTINGS)
    write_default_settings(root, settings)
    workspace = open_workspace(root)
    staff = build_people(seed, people)
    (root / "directory").mkdir(exist_ok=True)
    write_people_csv(staff, root / "directory" / "people.csv")
    write_people_ldif(staff, root / "directory", base_dn="dc=example,dc=com")
    last_day = end or (dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1))
    summary = write_demo_cdr_files(root / "cdr", people=staff, seed=seed, days=days, end=last_day)
    store = open_store(workspace.store_path, lock_timeout_s=settings.store.lock_timeout_s)
    try:
        tariffs = [import_tariff(store.con, path) for path in EXAMPLE_TARIFFS]
        report = ingest_paths(
            store, workspace.settings, [root / "cdr"], progress=progress, on_total=on_total
        )
        # The demo's directory, valid since ever: every call is attributed to its person.
        import_directory_csv(store.con, root / "directory" / "people.csv", workspace.settings)
        rating = rate_calls(store.con, workspace.settings, only_new=True)
        written = (
            _write_reports(store, workspace.settings, root / "reports", summary) if reports else []
        )
        _lock_demo(store, workspace.settings, staff)
        by_direction = dict(
            store.con.execute(
                "SELECT direction, count(*) FROM calls GROUP BY ALL ORDER BY 1"
            ).fetchall()
        )
        by_disposition = dict(
            store.con.execute(
                "SELECT disposition, count(*) FROM calls GROUP BY ALL ORDER BY 1"
            ).fetchall()
        )
    finally:
        store.close()
    return DemoResult(
        workspace=workspace.root,
        people=len(staff),
        cdr=summary,
        ingest=report,
        calls_by_direction=by_direction,
        calls_by_disposition=by_disposition,
        tariffs=tariffs,
        rating=rating,
        reports=written,
        example_login=next((p.login for p in staff if p.role == "user"), staff[0].login),
        seconds=time.perf_counter() - started,
    )


def _lock_demo(store: Store, settings: Settings, staff: Sequence[Any]) -> None:
    """Phone lock in the demo: phones learnt from the CDRs, PINs, and a few locks with their
    history (a person's own lock, an admin lock, a budget lock, one lifted again)."""
    from callacct.lock import Actor, LockService, lock_for_budget
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
    own, other, spent = users[0], users[1], users[2]

    def person(login: str) -> Actor:
        return Actor.person(scope_for(store.con, login, settings))

    LockService(store, settings, person(own.login)).lock(logins=[own.login])
    LockService(store, settings, person(admin.login)).lock(
        logins=[other.login], kind="admin", reason="left the company"
    )
    LockService(store, settings, person(own.login)).unlock(logins=[own.login])
    lock_for_budget(store, settings, spent.login, reason="monthly budget spent")
    LockService(store, settings, person(own.login)).lock(logins=[own.login], reason="holiday")


# Reports the demo writes: (public report, format, language).
DEMO_REPORTS = (
    ("cost-by-department", "xlsx", "fr"),
    ("user-bill", "xlsx", "en"),
    ("cost-by-class", "pdf", "fr"),
    ("international-by-country", "pdf", "ar"),
    ("busy-hour", "html", "en"),
    ("daily-cost-trend", "html", "de"),
)


def _write_reports(
    store: Store, settings: Settings, folder: Path, cdr: DemoCdrSummary
) -> list[Path]:
    """A few public reports over the whole demo period, in several formats and languages."""
    folder.mkdir(exist_ok=True)
    library = public_reports()
    period = {"from": cdr.first_day.isoformat(), "to": cdr.last_day.isoformat(), "period": None}
    zone = ZoneInfo(settings.general.timezone)
    written = []
    for name, fmt, language in DEMO_REPORTS:
        result = run_report(
            store.con,
            library[name],
            scope=admin_scope(settings),
            tz=zone,
            language=language,
            overrides=period,
            services=ServiceNumbers.of(settings.dialplan),
        )
        path = folder / f"{name}-{language}.{fmt}"
        render(result, fmt, path)
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
