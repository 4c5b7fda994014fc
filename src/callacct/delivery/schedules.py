"""Scheduled reports: stored in `schedules`, run for each period exactly once.

A schedule sends a report (public or its owner's), with its filters, in a format, every day,
week, month or N minutes/hours (`callacct.delivery.timing`), to:

- `addresses`: the report run as its owner (within the owner's scope), to each address;
- `supervisors`: each supervisor in the directory with an e-mail address receives the
  report run as them — within their scope, in their language;
- `users`: each user receives the report run as them (their own calls: a monthly bill).

A report whose result is empty is not sent (recorded as `skipped`).

**Exactly once.** Each run of a schedule for a period is a row of `schedule_runs` (unique per
schedule and period), claimed before it starts; each message is a delivery with the key
`schedule:<name>:<period>:<address>` (`callacct.delivery.outbox`). So two runners at once
never run one period twice, a period missed during downtime runs once when the runner is
back (the `delivery.catch_up` most recent ones), a run killed midway is taken up again once
its claim runs out (what was sent is not sent again), and a run that could not send
(SMTP down) is tried again at each later run for a day, each message sent once when the
server is back.

`run_due(workspace, now, progress=...)` is the due job `callacct scheduler run` and `callacct
schedule run-due` run (`callacct.delivery.jobs.DUE_JOBS`): one `JobOutcome` per run (and per
period missed), its progress the `deliveries` stage, one step per recipient's message.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import multiprocessing
import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import duckdb

from callacct import i18n
from callacct.config import Settings
from callacct.delivery.mail import Message, check_addresses, check_header
from callacct.delivery.outbox import Delivery, Outbox, Outgoing
from callacct.delivery.timing import Frequency, Period
from callacct.errors import DeliveryError, NotFoundError, UsageError
from callacct.i18n import LANGUAGES
from callacct.outcomes import JobOutcome, Status
from callacct.progress import DELIVERIES, Progress, counting
from callacct.store import Store

log = logging.getLogger(__name__)

#: Who receives a schedule's report.
RECIPIENT_KINDS = ("addresses", "supervisors", "users")
#: The owner of a schedule made by the operator (no login).
OPERATOR = "(operator)"
#: The name of the schedules' due job (`callacct.delivery.jobs.DUE_JOBS`).
JOB = "schedules"
#: How long a run that could not send everything is tried again.
RETRY_FOR = dt.timedelta(days=1)
_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")


class ScheduleHost(Protocol):
    """What running a schedule needs of the workspace (`callacct.Workspace` is one)."""

    @property
    def root(self) -> Path: ...

    @property
    def settings(self) -> Settings: ...

    def delivery_store(self, *, write: bool = False) -> AbstractContextManager[Store]: ...

    def as_person(self, login: str | None) -> Any: ...

    def people(self, at: Any = None) -> list[dict[str, Any]]: ...


@dataclass(frozen=True)
class Schedule:
    """A stored schedule."""

    name: str
    owner: str
    report: str
    filters: Mapping[str, Any]
    frequency: Frequency
    format: str
    recipients: str  # addresses, supervisors or users
    addresses: tuple[str, ...]
    language: str | None
    subject: str | None
    timezone: str
    paused: bool
    created_at: dt.datetime
    next_run: dt.datetime
    last_run: dt.datetime | None = None
    last_period: str | None = None
    last_status: str | None = None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def owner_login(self) -> str | None:
        return None if self.owner == OPERATOR else self.owner

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "owner": self.owner,
            "report": self.report,
            "filters": dict(self.filters),
            "every": self.frequency.every,
            "at": self.frequency.at.strftime("%H:%M"),
            "on": self.frequency.on,
            "frequency": self.frequency.describe(),
            "format": self.format,
            "recipients": self.recipients,
            "addresses": list(self.addresses),
            "language": self.language,
            "subject": self.subject,
            "timezone": self.timezone,
            "paused": self.paused,
            "created_at": self.created_at.isoformat(),
            "next_run": None if self.paused else self.next_run.isoformat(),
            "last_run": None if self.last_run is None else self.last_run.isoformat(),
            "last_period": self.last_period,
            "last_status": self.last_status,
        }


def check_name(name: str) -> str:
    """A schedule name: lower-case letters, digits, `_ . -`, up to 64."""
    if not _NAME.fullmatch(name):
        raise UsageError(
            f"schedule name {name!r}: use lower-case letters, digits, '_', '.', '-' (1 to 64)"
        )
    return name


def new_schedule(
    *,
    name: str,
    owner: str,
    report: str,
    filters: Mapping[str, Any],
    frequency: Frequency,
    format: str,
    recipients: str,
    addresses: Sequence[str],
    language: str | None,
    subject: str | None,
    timezone: str,
    now: dt.datetime,
) -> Schedule:
    """A schedule checked (name, recipients, subject): `UsageError`/`DeliveryError` otherwise."""
    check_name(name)
    if recipients not in RECIPIENT_KINDS:
        raise UsageError(f"recipients {recipients!r}: one of {', '.join(RECIPIENT_KINDS)}")
    if recipients == "addresses":
        checked = check_addresses(addresses)
    elif addresses:
        raise UsageError("--to goes without --to-supervisors and --to-users")
    else:
        checked = ()
    if subject is not None:
        check_header(subject, "--subject")
    zone = ZoneInfo(timezone)
    return Schedule(
        name=name,
        owner=owner,
        report=report,
        filters=dict(filters),
        frequency=frequency,
        format=format,
        recipients=recipients,
        addresses=checked,
        language=language,
        subject=subject,
        timezone=timezone,
        paused=False,
        created_at=now,
        next_run=frequency.next_slot(now, zone),
    )


# -- the store -------------------------------------------------------------------------------

_COLUMNS = (
    "name, owner, report, filters, every, at_time, on_day, format, recipients, language, "
    "subject, timezone, paused, created_at, next_run, last_run, last_period, last_status"
)


def _naive(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.UTC).replace(tzinfo=None)


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    return None if value is None else value.replace(tzinfo=dt.UTC)


def _schedule(row: Sequence[Any]) -> Schedule:
    who = json.loads(row[8])
    created, next_run = _aware(row[13]), _aware(row[14])
    assert created is not None
    assert next_run is not None
    return Schedule(
        name=row[0],
        owner=row[1],
        report=row[2],
        filters=json.loads(row[3]),
        frequency=Frequency(row[4], dt.time.fromisoformat(row[5]), row[6]),
        format=row[7],
        recipients=who["kind"],
        addresses=tuple(who.get("addresses", ())),
        language=row[9],
        subject=row[10],
        timezone=row[11],
        paused=bool(row[12]),
        created_at=created,
        next_run=next_run,
        last_run=_aware(row[15]),
        last_period=row[16],
        last_status=row[17],
    )


def save_schedule(con: duckdb.DuckDBPyConnection, schedule: Schedule) -> None:
    """Store a new schedule (`UsageError` if the name is taken)."""
    if con.execute("SELECT 1 FROM schedules WHERE name = ?", [schedule.name]).fetchone():
        raise UsageError(
            f"schedule {schedule.name!r} exists; remove it first or choose another name"
        )
    who = {"kind": schedule.recipients, "addresses": list(schedule.addresses)}
    con.execute(
        f"INSERT INTO schedules ({_COLUMNS}) VALUES "  # noqa: S608 (constant column names)
        "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, NULL)",
        [
            schedule.name, schedule.owner, schedule.report,
            json.dumps(dict(schedule.filters), default=str),
            schedule.frequency.every, schedule.frequency.at.strftime("%H:%M"),
            schedule.frequency.on, schedule.format, json.dumps(who), schedule.language,
            schedule.subject, schedule.timezone, schedule.paused,
            _naive(schedule.created_at), _naive(schedule.next_run),
        ],
    )  # fmt: skip


def list_schedules(con: duckdb.DuckDBPyConnection) -> list[Schedule]:
    rows = con.execute(f"SELECT {_COLUMNS} FROM schedules ORDER BY name").fetchall()  # noqa: S608
    return [_schedule(row) for row in rows]


def get_schedule(con: duckdb.DuckDBPyConnection, name: str) -> Schedule:
    row = con.execute(
        f"SELECT {_COLUMNS} FROM schedules WHERE name = ?",  # noqa: S608
        [name],
    ).fetchone()
    if row is None:
        raise NotFoundError(i18n.Message("error.no_schedule", name=repr(name)))
    return _schedule(row)


def remove_schedule(con: duckdb.DuckDBPyConnection, name: str) -> None:
    get_schedule(con, name)
    con.execute("DELETE FROM schedules WHERE name = ?", [name])


def set_paused(
    con: duckdb.DuckDBPyConnection, name: str, paused: bool, now: dt.datetime
) -> Schedule:
    """Pause or resume; a resumed schedule runs from its next slot after `now` (the periods
    while it was paused are not sent)."""
    schedule = get_schedule(con, name)
    next_run = schedule.frequency.next_slot(now, schedule.zone) if not paused else None
    con.execute(
        "UPDATE schedules SET paused = ?, next_run = coalesce(?, next_run) WHERE name = ?",
        [paused, None if next_run is None else _naive(next_run), name],
    )
    return get_schedule(con, name)


@dataclass(frozen=True)
class ScheduleRun:
    schedule: str
    period: str
    due_at: dt.datetime
    status: str
    started_at: dt.datetime
    finished_at: dt.datetime | None
    sent: int
    skipped: int
    failed: int
    note: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "schedule": self.schedule,
            "period": self.period,
            "due_at": self.due_at.isoformat(),
            "status": self.status,
            "started_at": self.started_at.isoformat(),
            "finished_at": None if self.finished_at is None else self.finished_at.isoformat(),
            "sent": self.sent,
            "skipped": self.skipped,
            "failed": self.failed,
            "note": self.note,
        }


def list_runs(
    con: duckdb.DuckDBPyConnection, name: str | None = None, last: int = 50
) -> list[ScheduleRun]:
    """The runs of schedules (of `name`), most recent first."""
    rows = con.execute(
        "SELECT schedule, period, due_at, status, started_at, finished_at, sent, skipped, "
        "failed, note FROM schedule_runs WHERE ? IS NULL OR schedule = ? "
        "ORDER BY due_at DESC, schedule LIMIT ?",
        [name, name, last],
    ).fetchall()
    out = []
    for row in rows:
        due, started = _aware(row[2]), _aware(row[4])
        assert due is not None
        assert started is not None
        out.append(ScheduleRun(row[0], row[1], due, row[3], started, _aware(row[5]), *row[6:]))
    return out


# -- running ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DueRun:
    """One period of a schedule to run now."""

    schedule: Schedule
    slot: dt.datetime
    period: Period


@dataclass(frozen=True)
class RunOutcome:
    sent: int
    skipped: int
    failed: int
    pending: int  # being sent by another runner
    note: str | None = None

    @property
    def status(self) -> Status:
        if self.failed or self.pending:
            return "failed" if self.failed else "running"
        return "done" if self.sent or not self.skipped else "skipped"


def claim_due(
    con: duckdb.DuckDBPyConnection, now: dt.datetime, worker: str, lease_s: int, catch_up: int
) -> tuple[list[DueRun], list[JobOutcome]]:
    """The runs due at `now`, claimed for `worker` (in one transaction of the caller), and
    the outcomes (`skipped`) of the periods passed over (older than `catch_up`)."""
    missed_runs: list[JobOutcome] = []
    due: list[DueRun] = []
    until = _naive(now + dt.timedelta(seconds=lease_s))
    for schedule in list_schedules(con):
        if schedule.paused:
            continue
        zone = schedule.zone
        slots: list[dt.datetime] = []
        slot = schedule.next_run
        while slot <= now and len(slots) < 10_000:
            slots.append(slot)
            slot = schedule.frequency.next_slot(slot, zone)
        if slots:
            for missed in slots[:-catch_up]:
                period = schedule.frequency.period(missed, zone)
                _insert_run(con, schedule.name, period.label, missed, now, "skipped",
                            "missed while no runner ran; older than delivery.catch_up")  # fmt: skip
                missed_runs.append(
                    JobOutcome(
                        JOB,
                        f"schedule {schedule.name} {period.label}: missed, not sent",
                        "skipped",
                        subject=f"{schedule.name} {period.label}",
                    )
                )
            con.execute(
                "UPDATE schedules SET next_run = ? WHERE name = ?", [_naive(slot), schedule.name]
            )
        wanted = [(s, schedule.frequency.period(s, zone)) for s in slots[-catch_up:]]
        # Runs to take up again: failed within RETRY_FOR, or claimed by a runner that stopped.
        again = con.execute(
            "SELECT period, due_at FROM schedule_runs WHERE schedule = ? AND due_at >= ? AND "
            "(status = 'failed' OR (status = 'running' AND coalesce(claimed_until <= ?, TRUE))) "
            "ORDER BY due_at",
            [schedule.name, _naive(now - RETRY_FOR), _naive(now)],
        ).fetchall()
        labels = {period.label for _, period in wanted}
        for label, due_at in again:
            if label not in labels:
                aware = due_at.replace(tzinfo=dt.UTC)
                wanted.insert(0, (aware, schedule.frequency.period(aware, zone)))
        for slot_time, period in wanted:
            if _claim_run(con, schedule.name, period.label, slot_time, now, worker, until):
                due.append(DueRun(schedule, slot_time, period))
    return due, missed_runs


def _insert_run(
    con: duckdb.DuckDBPyConnection,
    name: str,
    label: str,
    due_at: dt.datetime,
    now: dt.datetime,
    status: str,
    note: str | None,
) -> None:
    if con.execute(
        "SELECT 1 FROM schedule_runs WHERE schedule = ? AND period = ?", [name, label]
    ).fetchone():
        return
    con.execute(
        "INSERT INTO schedule_runs (schedule, period, due_at, status, started_at, sent, "
        "skipped, failed, note) VALUES (?, ?, ?, ?, ?, 0, 0, 0, ?)",
        [name, label, _naive(due_at), status, _naive(now), note],
    )


def _claim_run(
    con: duckdb.DuckDBPyConnection,
    name: str,
    label: str,
    due_at: dt.datetime,
    now: dt.datetime,
    worker: str,
    until: dt.datetime,
) -> bool:
    found = con.execute(
        "SELECT status, claimed_until FROM schedule_runs WHERE schedule = ? AND period = ?",
        [name, label],
    ).fetchone()
    if found is None:
        con.execute(
            "INSERT INTO schedule_runs (schedule, period, due_at, status, claimed_by, "
            "claimed_until, started_at, sent, skipped, failed) "
            "VALUES (?, ?, ?, 'running', ?, ?, ?, 0, 0, 0)",
            [name, label, _naive(due_at), worker, until, _naive(now)],
        )
        return True
    status, claimed_until = found
    if status in ("done", "skipped"):
        return False
    if status == "running" and claimed_until is not None and claimed_until > _naive(now):
        return False
    con.execute(
        "UPDATE schedule_runs SET status = 'running', claimed_by = ?, claimed_until = ? "
        "WHERE schedule = ? AND period = ?",
        [worker, until, name, label],
    )
    return True


def finish_run(
    con: duckdb.DuckDBPyConnection, run: DueRun, outcome: RunOutcome, now: dt.datetime
) -> None:
    status = outcome.status
    con.execute(
        "UPDATE schedule_runs SET status = ?, claimed_by = NULL, claimed_until = NULL, "
        "finished_at = ?, sent = ?, skipped = ?, failed = ?, note = ? "
        "WHERE schedule = ? AND period = ?",
        [
            status, _naive(now), outcome.sent,
            outcome.skipped, outcome.failed, outcome.note, run.schedule.name, run.period.label,
        ],
    )  # fmt: skip
    con.execute(
        "UPDATE schedules SET last_run = ?, last_period = ?, last_status = ? WHERE name = ?",
        [_naive(now), run.period.label, status, run.schedule.name],
    )


@dataclass(frozen=True)
class Recipient:
    """Who receives one message of a run, and as whom the report runs for them."""

    address: str
    login: str | None  # run as this person (None: the operator)
    language: str | None


def recipients_of(schedule: Schedule, people: Sequence[Mapping[str, Any]]) -> list[Recipient]:
    """The recipients of a run: its addresses (the report run as the owner), or each
    supervisor / user of the directory who has an e-mail address (run as them)."""
    if schedule.recipients == "addresses":
        return [Recipient(a, schedule.owner_login, schedule.language) for a in schedule.addresses]
    role = "supervisor" if schedule.recipients == "supervisors" else "user"
    out = []
    seen: set[str] = set()
    for person in people:
        if person.get("role") != role or not person.get("email"):
            continue
        try:
            address = check_addresses([str(person["email"])])[0]
        except DeliveryError:
            log.warning(
                "%s: e-mail address %r is not valid; skipped", person["login"], person["email"]
            )
            continue
        if address in seen:  # two people, one mailbox: the first one's report
            log.warning("%s: %s receives another person's report already", person["login"], address)
            continue
        seen.add(address)
        # The person's language is known here: given, it saves the report run a look-up.
        own = person.get("language")
        language = schedule.language or (own if own in LANGUAGES else None)
        out.append(Recipient(address, str(person["login"]), language))
    return out


def _batches(items: Sequence[Recipient], size: int) -> Iterator[Sequence[Recipient]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass(frozen=True)
class Prepared:
    """A recipient's message, or None when their report is empty (then `subject` is the
    report's title, for the record)."""

    recipient: Recipient
    message: Message | None
    subject: str


def prepare_messages(
    workspace: Any,
    run: DueRun,
    recipients: Sequence[Recipient],
    advance: Callable[[int], None] | None = None,
) -> list[Prepared]:
    """For each recipient, the report run as them (or as the owner, once, for addresses),
    rendered into its e-mail; `advance(1)` is called as each one is ready."""
    schedule, period = run.schedule, run.period
    filters = {**schedule.filters, **period.filters()}
    filters.pop("period", None)
    shared: dict[str | None, Any] = {}
    out = []
    for recipient in recipients:
        reader = workspace.as_person(recipient.login)
        if schedule.recipients == "addresses" and recipient.login in shared:
            result = shared[recipient.login]
        else:
            result = reader.run_report(
                schedule.report,
                filters,
                language=recipient.language,
                tz=schedule.timezone,
                record=False,
                now=run.slot,
            )
            if schedule.recipients == "addresses":
                shared[recipient.login] = result
        if result.rows.height == 0:
            out.append(Prepared(recipient, None, schedule.subject or result.title))
        else:
            message: Message = reader.report_message(
                result, schedule.format, to=(recipient.address,), subject=schedule.subject
            )
            out.append(Prepared(recipient, message, message.subject))
        if advance is not None:
            advance(1)
    return out


def _prepare_in_worker(
    workspace_class: Any, root: Path, run: DueRun, recipients: Sequence[Recipient]
) -> list[Prepared]:
    """`prepare_messages` in a worker process, on the store opened read-only."""
    workspace = workspace_class.open(root)
    with workspace.holding():
        return prepare_messages(workspace, run, recipients)


#: Recipients from which a run's reports are prepared by several processes.
PARALLEL_FROM = 40


def worker_count(setting: int, recipients: int) -> int:
    """Processes preparing a run's reports: `delivery.workers` (0: the cores, up to 4), one
    for small runs (starting a process costs more than it saves).

    >>> worker_count(2, 1000), worker_count(2, 10), worker_count(1, 1000)
    (2, 1, 1)
    """
    if recipients < PARALLEL_FROM:
        return 1
    return setting or max(1, min(4, os.cpu_count() or 1))


def run_schedule(
    workspace: Any,
    outbox: Outbox,
    run: DueRun,
    *,
    batch: int,
    workers: int = 1,
    recipients: Sequence[Recipient] | None = None,
    advance: Callable[[int], None] | None = None,
) -> tuple[RunOutcome, list[Delivery]]:
    """Run one period of a schedule: for each recipient (`recipients`, else those of the
    directory now), the report run as them (or the owner), rendered, sent — `batch`
    recipients at a time: their reports prepared (by `workers` processes reading the store, or
    in this process holding it), then their messages sent while the store is closed. Empty
    results are recorded as skipped. `advance(n)` is told of each `n` messages prepared."""
    schedule = run.schedule
    if recipients is None:
        recipients = _recipients(workspace, [run])[0]
    rows: list[Delivery] = []
    count = 1 if schedule.recipients == "addresses" else worker_count(workers, len(recipients))
    with ExitStack() as stack:
        pool = None
        if count > 1:
            context = multiprocessing.get_context("spawn")  # never fork DuckDB's threads
            pool = stack.enter_context(ProcessPoolExecutor(count, mp_context=context))
        for group in _batches(recipients, batch):
            if pool is None:
                with workspace.holding(write=True):
                    prepared = prepare_messages(workspace, run, group, advance)
                    rows += _skip_empty(outbox, run, prepared)
            else:
                size = -(-len(group) // count)
                parts = [group[i : i + size] for i in range(0, len(group), size)]
                futures = [
                    pool.submit(_prepare_in_worker, type(workspace), workspace.root, run, part)
                    for part in parts
                ]
                prepared = []
                for part, future in zip(parts, futures, strict=True):
                    prepared += future.result()
                    if advance is not None:
                        advance(len(part))
                with workspace.holding(write=True):
                    rows += _skip_empty(outbox, run, prepared)
            rows += outbox.send_many(
                [
                    Outgoing(item.message, _key(run, item.recipient), "schedule", schedule.name)
                    for item in prepared
                    if item.message is not None
                ]
            )
    return _outcome(rows, len(recipients)), rows


def _key(run: DueRun, recipient: Recipient) -> str:
    return f"schedule:{run.schedule.name}:{run.period.label}:{recipient.address}"


def _skip_empty(outbox: Outbox, run: DueRun, prepared: Sequence[Prepared]) -> list[Delivery]:
    return [
        outbox.skip(
            _key(run, item.recipient),
            origin="schedule",
            recipients=[item.recipient.address],
            subject=item.subject,
            reason="the report is empty for this period",
            schedule=run.schedule.name,
        )
        for item in prepared
        if item.message is None
    ]


def _outcome(rows: Sequence[Delivery], expected: int) -> RunOutcome:
    sent = sum(row.status in ("sent", "dry-run") for row in rows)
    skipped = sum(row.status == "skipped" for row in rows)
    failed = [row for row in rows if row.status == "failed"]
    pending = sum(row.status == "sending" for row in rows)
    note = None
    if failed:
        note = f"{failed[0].recipient}: {failed[0].error}"
    elif expected == 0:
        note = "no recipient"
    return RunOutcome(sent, skipped, len(failed), pending, note)


def _recipients(workspace: Any, runs: Sequence[DueRun]) -> list[list[Recipient]]:
    """The recipients of each of `runs`, the directory read once for all of them."""
    people = None
    out = []
    for run in runs:
        if run.schedule.recipients != "addresses" and people is None:
            people = workspace.people()
        out.append(recipients_of(run.schedule, people or []))
    return out


def _planned(
    workspace: Any, runs: Sequence[DueRun]
) -> tuple[list[list[Recipient] | None], int | None]:
    """The recipients of each of `runs` and their number in all, for the progress; None for
    the recipients that cannot be found now (the run meets the error again and records it)
    and for a total that is not known."""
    try:
        found: list[list[Recipient] | None] = list(_recipients(workspace, runs))
    except (DeliveryError, UsageError, NotFoundError) as exc:
        log.warning("recipients not known before the runs: %s", exc)
        return [None] * len(runs), None
    return found, sum(len(recipients or ()) for recipients in found)


def run_due(
    workspace: Any,
    now: dt.datetime,
    *,
    dry_run: bool | None = None,
    outbox: Outbox | None = None,
    progress: Progress | None = None,
) -> list[JobOutcome]:
    """Run every schedule period due at `now`, each exactly once; one outcome per run (and
    per period missed). `progress` is told of each message prepared (stage `deliveries`, of
    the recipients of every due run).

    With `dry_run` the messages are written as `.eml` files and nothing is recorded as run
    (the schedules run again for real later)."""
    settings = workspace.settings.delivery
    outbox = outbox or Outbox.of(workspace, clock=lambda: now, dry_run=dry_run)
    if outbox.dry_run:
        return _dry_run(workspace, outbox, now, progress)
    with workspace.delivery_store(write=True) as store, store.transaction() as con:
        due, outcomes = claim_due(con, now, outbox.worker, settings.lease_s, settings.catch_up)
    if not due:
        return outcomes
    planned, total = _planned(workspace, due)
    advance = counting(progress, DELIVERIES, total=total, unit="messages")
    for run, recipients in zip(due, planned, strict=True):
        try:
            outcome, _ = run_schedule(
                workspace, outbox, run, batch=settings.batch, workers=settings.workers,
                recipients=recipients, advance=advance,
            )  # fmt: skip
        except (DeliveryError, UsageError, NotFoundError) as exc:
            outcome = RunOutcome(0, 0, 1, 0, str(exc))
        with workspace.delivery_store(write=True) as store, store.transaction() as con:
            finish_run(con, run, outcome, now)
        outcomes.append(job_outcome(run, outcome))
    return outcomes


def _dry_run(
    workspace: Any, outbox: Outbox, now: dt.datetime, progress: Progress | None
) -> list[JobOutcome]:
    """Every schedule's most recent period as `.eml` files; nothing recorded as run."""
    with workspace.delivery_store() as store:
        schedules = [s for s in list_schedules(store.con) if not s.paused]
    runs = []
    for schedule in schedules:
        slot = schedule.frequency.next_slot(now - dt.timedelta(days=32), schedule.zone)
        while (following := schedule.frequency.next_slot(slot, schedule.zone)) <= now:
            slot = following
        runs.append(DueRun(schedule, slot, schedule.frequency.period(slot, schedule.zone)))
    if not runs:
        return []
    planned, total = _planned(workspace, runs)
    advance = counting(progress, DELIVERIES, total=total, unit="messages")
    settings = workspace.settings.delivery
    outcomes = []
    for run, recipients in zip(runs, planned, strict=True):
        outcome, _ = run_schedule(
            workspace, outbox, run, batch=settings.batch, workers=settings.workers,
            recipients=recipients, advance=advance,
        )  # fmt: skip
        outcomes.append(job_outcome(run, outcome, dry=True))
    return outcomes


def job_outcome(run: DueRun, outcome: RunOutcome, *, dry: bool = False) -> JobOutcome:
    """A run's outcome as the due job reports it: its status and counts, and its line."""
    return JobOutcome(
        JOB,
        _line(run, outcome, dry=dry),
        outcome.status,
        subject=f"{run.schedule.name} {run.period.label}",
        sent=outcome.sent,
        skipped=outcome.skipped,
        failed=outcome.failed,
        error=outcome.note if outcome.failed else None,
    )


def _line(run: DueRun, outcome: RunOutcome, *, dry: bool = False) -> str:
    what = "written" if dry else "sent"
    text = (
        f"schedule {run.schedule.name} {run.period.label}: {outcome.sent} {what}, "
        f"{outcome.skipped} skipped (empty), {outcome.failed} failed"
    )
    if outcome.pending:
        text += f", {outcome.pending} being sent by another run"
    if outcome.note and outcome.failed:
        text += f" ({outcome.note})"
    return text
