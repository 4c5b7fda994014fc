"""Alarms through the API: `Workspace.alarms()` gives an `Alarms` acting as the reader.

The rules written once here: an alarm belongs to whoever added it (a person, or the
operator); a person lists, changes and runs their own alarms, an admin (and the operator)
every alarm. An alarm evaluates in its owner's scope, found again at every run, so it
never sees more than its owner may now — an owner who left the directory makes it fail, not
widen. Names in its scope are checked against the directory when it is added or changed.

Example:
    >>> import tempfile
    >>> from callacct.api import Workspace
    >>> ws = Workspace.create(Path(tempfile.mkdtemp()) / "acme", country="FR",
    ...                       timezone="Europe/Paris", currency="EUR")
    >>> entry = ws.alarms().add({"name": "abroad", "kind": "international",
    ...                          "recipients": {"to": ["it@example.com"]}})
    >>> entry.name, entry.owner, [a.name for a in ws.alarms().all()]
    ('abroad', '(operator)', ['abroad'])
    >>> ws.alarms().run().fired
    False
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final
from zoneinfo import ZoneInfo

import duckdb

from callacct import i18n
from callacct.alarms import (
    Alarm,
    Context,
    Facts,
    Window,
    evaluate,
    last_finished_call,
    parse_alarm,
    records,
    validate_alarm,
)
from callacct.alarms.evaluate import Span
from callacct.alarms.mail import (
    TEMPLATE,
    XLSX_TYPE,
    AlarmMail,
    build_mail,
    rows_for,
    template_loader,
)
from callacct.directory import list_users, scope_for
from callacct.errors import NotFoundError, UsageError
from callacct.progress import ALARMS, Progress, counting
from callacct.query.scope import Scope, admin_scope
from callacct.store import Store

if TYPE_CHECKING:
    from callacct.api.workspace import Workspace

log = logging.getLogger(__name__)

#: The owner of alarms added without a login (the workspace's operator).
OPERATOR = "(operator)"


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class AlarmEntry:
    """An alarm as stored: its definition, owner, state and where its evaluation stands."""

    alarm: Alarm
    owner: str
    paused: bool
    watermark: int
    created_at: dt.datetime
    updated_at: dt.datetime
    last_run_at: dt.datetime | None

    @property
    def name(self) -> str:
        return self.alarm.name

    def next_due(self) -> dt.datetime | None:
        """When a clock-checked alarm is next due (None: after each ingest, or paused)."""
        minutes = self.alarm.every_minutes
        if self.paused or minutes is None:
            return None
        if self.last_run_at is None:
            return self.created_at
        return self.last_run_at + dt.timedelta(minutes=minutes)

    def to_dict(self) -> dict[str, Any]:
        due = self.next_due()
        return {
            **self.alarm.to_dict(),
            "owner": self.owner,
            "paused": self.paused,
            "watermark": self.watermark,
            "created_at": _iso(self.created_at),
            "updated_at": _iso(self.updated_at),
            "last_run_at": _iso(self.last_run_at),
            "next_due": _iso(due),
        }


@dataclass(frozen=True)
class AlarmEvent:
    """One firing: what fired, when, for which period, and the rows found (`rows`, read
    from their JSON, `rows_json`, when first asked for)."""

    event_id: int
    alarm: str
    owner: str
    kind: str
    fired_at: dt.datetime
    period: str | None
    summary: str
    found: int
    columns: tuple[str, ...]
    rows_json: str = field(repr=False)
    logins: tuple[str, ...]
    mailed_at: dt.datetime | None

    @cached_property
    def rows(self) -> list[dict[str, Any]]:
        """The rows kept with the firing."""
        rows: list[dict[str, Any]] = json.loads(self.rows_json)
        return rows

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> AlarmEvent:
        """An event from `records.event_rows` (its rows already read from their JSON)."""
        event = cls(
            event_id=int(row["event_id"]),
            alarm=str(row["alarm"]),
            owner=str(row["owner"]),
            kind=str(row["kind"]),
            fired_at=_aware(row["fired_at"]),
            period=row["period"],
            summary=str(row["summary"]),
            found=int(row["found"]),
            columns=tuple(row["columns"]),
            rows_json=str(row["rows_json"]),
            logins=tuple(row["logins"]),
            mailed_at=None if row["mailed_at"] is None else _aware(row["mailed_at"]),
        )
        event.__dict__["rows"] = list(row["rows"])  # the cached property, not read twice
        return event

    def to_dict(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "alarm": self.alarm,
            "owner": self.owner,
            "kind": self.kind,
            "fired_at": _iso(self.fired_at),
            "period": self.period,
            "summary": self.summary,
            "found": self.found,
            "columns": list(self.columns),
            "rows": self.rows,
            "mailed_at": _iso(self.mailed_at),
        }


@dataclass(frozen=True)
class AlarmOutcome:
    """What one alarm's evaluation did: `fired` (with its events), `silent`, or `failed`."""

    alarm: str
    kind: str
    status: str
    calls_after: int | None = None
    calls_upto: int | None = None
    events: tuple[AlarmEvent, ...] = ()
    error: str | None = None
    mail: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "alarm": self.alarm,
            "kind": self.kind,
            "status": self.status,
            "calls_after": self.calls_after,
            "calls_upto": self.calls_upto,
            "events": [event.to_dict() for event in self.events],
            "error": self.error,
            "mail": self.mail,
        }


@dataclass(frozen=True)
class _Shared:
    """What the evaluations of one run share: the reference zone, and the span of each
    window read (one query per window, not per alarm)."""

    zone: ZoneInfo
    spans: dict[Window, Span | None]


@dataclass(frozen=True)
class AlarmRun:
    """What `alarm run` did, per alarm evaluated."""

    outcomes: tuple[AlarmOutcome, ...] = ()
    ran_at: dt.datetime = field(default_factory=_utcnow)

    @property
    def fired(self) -> bool:
        """Something fired (`alarm run` exits with 1, for scripts)."""
        return any(outcome.status == "fired" for outcome in self.outcomes)

    @property
    def failed(self) -> bool:
        return any(outcome.status == "failed" for outcome in self.outcomes)

    @property
    def events(self) -> list[AlarmEvent]:
        return [event for outcome in self.outcomes for event in outcome.events]

    def to_dict(self) -> dict[str, Any]:
        return {
            "ran_at": _iso(self.ran_at),
            "fired": self.fired,
            "alarms": [outcome.to_dict() for outcome in self.outcomes],
        }


class Alarms:
    """The alarms of a workspace, as its reader (`Workspace.alarms()`). `clock` gives the
    moment of changes and runs (default: the system clock)."""

    def __init__(
        self, workspace: Workspace, clock: Callable[[], dt.datetime] | None = None
    ) -> None:
        self.workspace = workspace
        self.clock = clock or _utcnow

    # -- definitions -------------------------------------------------------------------------

    def add(
        self,
        definition: str | Path | Mapping[str, Any],
        *,
        source: str | None = None,
        backfill: bool = False,
    ) -> AlarmEntry:
        """Add an alarm from a YAML file (a `Path`), YAML text, or its keys as a mapping.
        It watches calls that arrive from now on; `backfill`: the calls already stored too.
        `SpecProblems` (file, line, key, what to do) when the definition is not valid."""
        now = self.clock()
        with self.workspace._store(write=True) as store:
            owner = self._owner(store)
            alarm = self._validated(store, definition, source)
            if records.alarm_rows(store.con, [alarm.name]):
                raise UsageError(
                    f"an alarm named {alarm.name!r} exists; choose another name or "
                    f"'callacct alarm edit {alarm.name}'"
                )
            watermark = 0 if backfill else last_call(store.con)
            with store.transaction() as con:
                records.insert_alarm(
                    con,
                    name=alarm.name,
                    owner=owner,
                    kind=alarm.kind.name,
                    definition=alarm.to_yaml(),
                    watermark=watermark,
                    now=now,
                )
            return self._entry(store, alarm.name)

    def edit(
        self,
        name: str,
        definition: str | Path | Mapping[str, Any],
        *,
        source: str | None = None,
    ) -> AlarmEntry:
        """Replace alarm `name`'s definition (its name stays; its watermark and firings too)."""
        now = self.clock()
        with self.workspace._store(write=True) as store:
            self._row(store, name)
            alarm = self._validated(store, definition, source)
            if alarm.name != name:
                raise UsageError(
                    f"the definition is named {alarm.name!r}, not {name!r}; an alarm keeps "
                    "its name (remove it and add the new one to rename it)"
                )
            with store.transaction() as con:
                records.update_definition(con, name, alarm.kind.name, alarm.to_yaml(), now)
            return self._entry(store, name)

    def remove(self, name: str) -> None:
        """Remove alarm `name` (its firings stay on record)."""
        with self.workspace._store(write=True) as store:
            self._row(store, name)
            with store.transaction() as con:
                records.delete_alarm(con, name)

    def pause(self, name: str) -> AlarmEntry:
        return self._set_paused(name, True)

    def resume(self, name: str) -> AlarmEntry:
        """Evaluate alarm `name` again; what arrived while it was paused is evaluated then."""
        return self._set_paused(name, False)

    def all(self) -> list[AlarmEntry]:
        """The alarms the reader may see (their own; an admin's: all), by name."""
        with self.workspace._store() as store:
            return [self._to_entry(row) for row in self._visible(store)]

    def show(self, name: str) -> AlarmEntry:
        with self.workspace._store() as store:
            return self._entry(store, name)

    def check(
        self, definition: str | Path | Mapping[str, Any], *, source: str | None = None
    ) -> Alarm:
        """Validate a definition against the directory without storing it."""
        with self.workspace._store() as store:
            self._owner(store)
            return self._validated(store, definition, source)

    # -- evaluation --------------------------------------------------------------------------

    def run(
        self,
        name: str | None = None,
        *,
        due: bool = False,
        now: dt.datetime | None = None,
        mail: bool = True,
        progress: Progress | None = None,
    ) -> AlarmRun:
        """Evaluate alarm `name`, else the due alarms (`due`), else every active alarm the
        reader may run; record what fired, then mail it (`mail`; firings of the day before
        whose mail could not be sent are sent again). `AlarmRun.fired` says whether anything
        fired; `progress` is told of each alarm evaluated (stage `alarms`)."""
        moment = now or self.clock()
        if moment.tzinfo is None:
            raise UsageError("the moment of an alarm run needs a time zone")
        with self.workspace._store(write=True) as store:
            if name is not None:
                rows = [self._row(store, name)]
            else:
                rows = [row for row in self._visible(store) if not row["paused"]]
            if not rows:
                return AlarmRun((), moment)
            upto = last_finished_call(store.con, min(int(row["watermark"]) for row in rows))
            shared = _Shared(self.workspace._zone(None), {})
            entries = [self._to_entry(row) for row in rows]
            if due:
                entries = [entry for entry in entries if _is_due(entry, upto, moment)]
            advance = counting(progress, ALARMS, total=len(entries), unit="alarms")
            outcomes = []
            for entry in entries:
                outcomes.append(self._evaluate(store, entry, upto, moment, shared))
                advance(1)
        if mail:
            outcomes = self._deliver(outcomes, moment)
        return AlarmRun(tuple(outcomes), moment)

    def _deliver(self, outcomes: list[AlarmOutcome], now: dt.datetime) -> list[AlarmOutcome]:
        """Mail the firings of `outcomes`' alarms not mailed yet (from `MAIL_RETRY` before
        `now`), each recipient once (the outbox's key: alarm, firing, address); a firing is
        marked mailed when every one of its mails is sent. The store is not held while the
        outbox talks to the mail server."""
        from callacct.delivery import Attachment, Message, Outbox, Outgoing, render_mail
        from callacct.delivery.outbox import DONE

        names = [outcome.alarm for outcome in outcomes if outcome.status != "failed"]
        if not names:
            return outcomes
        delivery = self.workspace.settings.delivery
        if not delivery.dry_run and not delivery.smtp.host:
            note = i18n.Message("alarm.note.no_server")
            return [replace(o, mail=note) if o.events else o for o in outcomes]
        keys: dict[int, list[str]] = {}
        items: list[Outgoing] = []
        with self.workspace._store() as store:
            pending = records.event_rows(store.con, since=now - MAIL_RETRY, unmailed=True)
            for event in reversed(pending):
                if event["alarm"] not in names:
                    continue
                entry = self._entry(store, str(event["alarm"]))
                keys[int(event["event_id"])] = []
                for address, built in self._mails(store, entry, event):
                    text, html = render_mail(
                        TEMPLATE, built.context, built.language, loader=template_loader()
                    )
                    attachments = (
                        ()
                        if built.attachment is None
                        else (Attachment(built.attachment[0], built.attachment[1], XLSX_TYPE),)
                    )
                    message = Message(
                        to=(address,),
                        subject=built.subject,
                        text=text,
                        html=html,
                        attachments=attachments,
                        language=built.language,
                    )
                    key = f"alarm:{event['alarm']}:{event['event_id']}:{address}"
                    items.append(Outgoing(message, key, "alarm"))
                    keys[int(event["event_id"])].append(key)
        sent = Outbox.of(self.workspace, clock=self.clock).send_many(items)
        status = {d.key.removeprefix("dry-run:"): d for d in sent}
        done = [
            event_id
            for event_id, event_keys in keys.items()
            if all(key in status and status[key].status in DONE for key in event_keys)
        ]
        if done:
            with self.workspace._store(write=True) as store, store.transaction() as con:
                for event_id in done:
                    records.mark_mailed(con, event_id, now)
        return [_mail_note(outcome, keys, status, done, now) for outcome in outcomes]

    def events(
        self,
        *,
        since: dt.datetime | None = None,
        alarm: str | None = None,
        limit: int | None = 100,
    ) -> list[AlarmEvent]:
        """Firings the reader may see (of their own alarms; an admin: all), newest first."""
        with self.workspace._store() as store:
            owners = None if self._is_admin(store) else [self._owner(store)]
            rows = records.event_rows(
                store.con, since=since, owners=owners, alarm=alarm, limit=limit
            )
        return [AlarmEvent.from_row(row) for row in rows]

    # -- internals ---------------------------------------------------------------------------

    def _evaluate(
        self, store: Store, entry: AlarmEntry, upto: int, now: dt.datetime, shared: _Shared
    ) -> AlarmOutcome:
        alarm = entry.alarm
        window = Window(entry.watermark, max(upto, entry.watermark))
        try:
            scope = self._owner_scope(store, entry.owner)
        except UsageError as exc:
            return AlarmOutcome(alarm.name, alarm.kind.name, "failed", error=str(exc))
        ctx = Context(
            store.con,
            self.workspace.settings,
            scope,
            now,
            shared.zone,
            shared.spans,
        )
        # Kinds over calls find their earlier firings themselves (period kinds, for the
        # periods at hand); every mark of an alarm is read only for the feed.
        fired = set() if alarm.kind.on_calls else records.fired_marks(store.con, alarm.name)
        try:
            firings = evaluate(alarm, ctx, window, fired)
        except duckdb.Error as exc:
            log.warning("alarm %s: %s", alarm.name, exc)
            return AlarmOutcome(alarm.name, alarm.kind.name, "failed", error=str(exc))
        with store.transaction() as con:
            ids = records.record_run(
                con,
                alarm=alarm.name,
                owner=entry.owner,
                kind=alarm.kind.name,
                firings=firings,
                window=window,
                watermark=window.upto,
                now=now,
            )
        # What was stored, without reading it back.
        events = tuple(
            AlarmEvent(
                event_id=event_id,
                alarm=alarm.name,
                owner=entry.owner,
                kind=alarm.kind.name,
                fired_at=now.astimezone(dt.UTC),
                period=firing.period,
                summary=firing.summary,
                found=firing.found,
                columns=firing.columns,
                rows_json=firing.rows_json,
                logins=firing.logins,
                mailed_at=None,
            )
            for event_id, firing in zip(ids, firings, strict=True)
        )
        return AlarmOutcome(
            alarm.name,
            alarm.kind.name,
            "fired" if events else "silent",
            window.after,
            window.upto,
            events,
        )

    def mails(self, event_id: int) -> list[tuple[str, AlarmMail]]:
        """The mails of firing `event_id`: (address, mail) for each recipient, in the alarm's
        language (else its owner's, else the workspace's). An address of the alarm gets every
        row; the supervisor (directory manager) of the people concerned, their rows only."""
        with self.workspace._store() as store:
            rows = records.event_rows(store.con, ids=[event_id])
            if not rows:
                raise NotFoundError(f"no alarm firing {event_id}; see 'callacct alarm events'")
            event = rows[0]
            self._row(store, str(event["alarm"]))  # the reader may see that alarm
            entry = self._entry(store, str(event["alarm"]))
            return self._mails(store, entry, event)

    def _mails(
        self, store: Store, entry: AlarmEntry, event: Mapping[str, Any]
    ) -> list[tuple[str, AlarmMail]]:
        alarm = entry.alarm
        owner = None if entry.owner == OPERATOR else entry.owner
        language = self.workspace._language(store, alarm.language, owner)
        shown = self.workspace.settings.alarms.mail_rows
        everything = list(event["rows"])
        plan: dict[str, list[Mapping[str, Any]] | None] = dict.fromkeys(alarm.recipients.to)
        if alarm.recipients.supervisors:
            masking = self.workspace.settings.masking
            for address, (logins, role) in supervisors_of(store, event["logins"]).items():
                if address not in plan:
                    # Numbers as the supervisor sees them, never more than the owner did.
                    digits = masking.digits_for(role) if role in _ROLES else 0
                    plan[address] = [mask_row(row, digits) for row in rows_for(everything, logins)]
            # A group over its limit (spend per department or cost centre) concerns its
            # members: their managers get the rows of the groups their people belong to.
            for address, groups in group_supervisors(store, everything).items():
                if address not in plan:
                    plan[address] = [row for row in everything if _group_of(row) in groups]
        mails = []
        for address, rows in plan.items():
            if rows is not None and not rows:
                continue
            mail = build_mail(
                event,
                language=language,
                description=alarm.description,
                rows_shown=shown,
                xlsx=alarm.recipients.xlsx,
                rows=rows,
            )
            mails.append((address, mail))
        return mails

    def _owner_scope(self, store: Store, owner: str) -> Scope:
        if owner == OPERATOR:
            return admin_scope(self.workspace.settings)
        try:
            return scope_for(store.con, owner, self.workspace.settings)
        except UsageError:
            raise UsageError(
                f"its owner {owner!r} is no longer in the directory; remove the alarm or add "
                "it again as someone who is"
            ) from None

    def _validated(
        self, store: Store, definition: str | Path | Mapping[str, Any], source: str | None
    ) -> Alarm:
        facts = self._facts(store)
        if isinstance(definition, Path):
            return parse_alarm(definition.read_bytes(), source or str(definition), facts)
        if isinstance(definition, str):
            return parse_alarm(definition, source or "(alarm)", facts)
        return validate_alarm(dict(definition), source or "(alarm)", None, facts)

    def _facts(self, store: Store) -> Facts:
        people = list_users(store.con)

        def values(key: str) -> frozenset[str]:
            return frozenset(str(p[key]) for p in people if p.get(key))

        return Facts(
            departments=values("department"),
            cost_centers=values("cost_center"),
            sites=values("site") | frozenset(self.workspace.settings.sites),
            people=values("login"),
        )

    def _set_paused(self, name: str, paused: bool) -> AlarmEntry:
        now = self.clock()
        with self.workspace._store(write=True) as store:
            self._row(store, name)
            with store.transaction() as con:
                records.set_paused(con, name, paused, now)
            return self._entry(store, name)

    def _reader(self, store: Store) -> Scope:
        return self.workspace._reader(store)

    def _is_admin(self, store: Store) -> bool:
        return self._reader(store).role == "admin"

    def _owner(self, store: Store) -> str:
        self._reader(store)  # UsageError for a login that is not in the directory
        return self.workspace.as_login or OPERATOR

    def _visible(self, store: Store) -> list[dict[str, Any]]:
        rows = records.alarm_rows(store.con)
        if self._is_admin(store):
            return rows
        owner = self._owner(store)
        return [row for row in rows if row["owner"] == owner]

    def _row(self, store: Store, name: str) -> dict[str, Any]:
        for row in self._visible(store):
            if row["name"] == name:
                return row
        raise NotFoundError(f"no alarm named {name!r}; list them with 'callacct alarm list'")

    def _entry(self, store: Store, name: str) -> AlarmEntry:
        return self._to_entry(self._row(store, name))

    @staticmethod
    def _to_entry(row: Mapping[str, Any]) -> AlarmEntry:
        alarm = parse_alarm(str(row["definition"]), f"alarm {row['name']}")
        return AlarmEntry(
            alarm=alarm,
            owner=str(row["owner"]),
            paused=bool(row["paused"]),
            watermark=int(row["watermark"]),
            created_at=_aware(row["created_at"]),
            updated_at=_aware(row["updated_at"]),
            last_run_at=None if row["last_run_at"] is None else _aware(row["last_run_at"]),
        )


#: How far back a run sends again the mails of firings that could not be sent.
MAIL_RETRY: Final = dt.timedelta(days=1)


def _mail_note(
    outcome: AlarmOutcome,
    keys: Mapping[int, list[str]],
    status: Mapping[str, Any],
    done: list[int],
    now: dt.datetime,
) -> AlarmOutcome:
    """What became of the mails of `outcome`'s firings, in a few words (a `Message`, which
    the command line says in the reader's language)."""
    if not outcome.events:
        return outcome
    ids = [event.event_id for event in outcome.events]
    mails = [status[key] for event_id in ids for key in keys.get(event_id, ()) if key in status]
    failed = [d for d in mails if d.status == "failed"]
    if failed:
        note = i18n.Message("alarm.note.failed", error=failed[0].error)
    elif not mails:
        note = i18n.Message("alarm.note.no_one")
    else:
        note = i18n.Message("alarm.note.mailed", count=len(mails))
    events = tuple(
        replace(event, mailed_at=now) if event.event_id in done else event
        for event in outcome.events
    )
    return replace(outcome, events=events, mail=note)


def supervisors_of(store: Store, logins: Sequence[str]) -> dict[str, tuple[set[str], str]]:
    """E-mail address of each manager (in the directory now) -> the people of `logins` they
    manage, and the manager's role; people without a manager, or a manager without an
    address, are left out."""
    if not logins:
        return {}
    people = {str(p["login"]): p for p in list_users(store.con)}
    out: dict[str, tuple[set[str], str]] = {}
    for login in logins:
        manager = people.get(people.get(login, {}).get("manager") or "", {})
        address = manager.get("email")
        if address:
            out.setdefault(str(address), (set(), str(manager.get("role"))))[0].add(login)
    return out


_ROLES: Final = ("user", "supervisor", "admin")
#: The columns naming the group a row of a group firing is about.
_GROUP_COLUMNS: Final = ("department", "cost_center")


def _group_of(row: Mapping[str, Any]) -> tuple[str, str] | None:
    """(column, value) of the group a row is about; None for a row about a person or a call."""
    if "user" in row or "person" in row:
        return None
    for column in _GROUP_COLUMNS:
        if row.get(column):
            return column, str(row[column])
    return None


def group_supervisors(
    store: Store, rows: Sequence[Mapping[str, Any]]
) -> dict[str, set[tuple[str, str]]]:
    """E-mail address of each manager (in the directory now) of a member of the groups that
    `rows` are about -> those groups."""
    groups = {group for group in map(_group_of, rows) if group is not None}
    if not groups:
        return {}
    people = {str(p["login"]): p for p in list_users(store.con)}
    out: dict[str, set[tuple[str, str]]] = {}
    for person in people.values():
        mine = {(c, str(person.get(c))) for c in _GROUP_COLUMNS if person.get(c)} & groups
        address = people.get(str(person.get("manager") or ""), {}).get("email")
        if mine and address:
            out.setdefault(str(address), set()).update(mine)
    return out


def mask_row(row: Mapping[str, Any], digits: int) -> Mapping[str, Any]:
    """`row` with its `number` masked to `digits` trailing digits (a `*` already there counts
    as one of them), as `callacct.query.masking` masks numbers for a reader.

    >>> mask_row({"number": "+493012****"}, 6)["number"], mask_row({"number": None}, 4)
    ('+4930******', {'number': None})
    """
    number = row.get("number")
    if not digits or not isinstance(number, str):
        return row
    chars = list(number)
    left = digits
    for index in range(len(chars) - 1, -1, -1):
        if left == 0:
            break
        if chars[index].isdigit() or chars[index] == "*":
            chars[index] = "*"
            left -= 1
    return {**row, "number": "".join(chars)}


def last_call(con: duckdb.DuckDBPyConnection) -> int:
    """The id of the newest call stored (0: none)."""
    return int(con.execute("SELECT coalesce(max(call_id), 0) FROM calls").fetchall()[0][0])


def _is_due(entry: AlarmEntry, upto: int, now: dt.datetime) -> bool:
    """Whether an alarm is due: a clock-checked one when its time has come, one checked
    after each ingest when calls arrived since its last evaluation."""
    if entry.paused:
        return False
    if entry.alarm.every_minutes is None:
        return upto > entry.watermark
    due = entry.next_due()
    return due is None or due <= now


def _aware(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat(timespec="seconds")


__all__ = [
    "OPERATOR",
    "AlarmEntry",
    "AlarmEvent",
    "AlarmOutcome",
    "AlarmRun",
    "Alarms",
]
