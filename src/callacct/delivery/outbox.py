"""The outbox: every message sent exactly once, and every send recorded (`deliveries`).

A delivery has a key naming what it is (`schedule:<name>:<period>:<recipient>`,
`alarm:<alarm>:<event>`, `budget:<login>:<period>:<threshold>`, `report:<uuid>`). Sending:

1. **Intent.** In one short write to the store, the key is claimed: a new row `sending`,
   claimed by this process until now + `delivery.lease_s`. A key already `sent` (or `skipped`)
   is not sent again: its stored row is the answer. A key another process is sending (claim
   not expired) is left to it. A `failed` key, or one whose claim expired (a run killed
   between intent and result), is claimed again.
2. **SMTP**, with the store closed (an ingest never waits for a mail server). The Message-ID
   is derived from the key: a message sent again after a run was killed between the server's
   answer and step 3 has the same Message-ID, so it is the same mail, never a second,
   different one.
3. **Result**, in a second short write: `sent` (with the recipients the server refused, if
   any) or `failed` with the reason; a failed one is tried again on the next call.

With `delivery.dry_run` (or `Outbox(..., dry_run=True)`), messages are written as `.eml`
files into `delivery.dry_run_folder` and recorded as `dry-run` under the key `dry-run:<key>`,
so a dry run never stands in the way of the real sending later.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import logging
import os
import re
import socket
import time
import uuid
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Protocol

import duckdb

from callacct.config import Settings
from callacct.delivery.mail import Message, build_mime, domain_of, message_id
from callacct.delivery.smtp import SendFailure, SmtpSender
from callacct.errors import DeliveryError
from callacct.store import Store

log = logging.getLogger(__name__)

#: What a delivery's status may be.
STATUSES = ("sending", "sent", "failed", "skipped", "dry-run")
#: Statuses that are final: such a key is never sent again.
DONE = frozenset({"sent", "skipped", "dry-run"})

Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class DeliveryHost(Protocol):
    """What the outbox needs of the workspace it sends for (`callacct.Workspace` is one)."""

    @property
    def root(self) -> Path: ...

    @property
    def settings(self) -> Settings: ...

    def delivery_store(self, *, write: bool = False) -> AbstractContextManager[Store]: ...


@dataclass(frozen=True)
class Delivery:
    """A stored delivery: what was (or was meant to be) sent, to whom, and what came of it."""

    id: int
    key: str
    origin: str
    schedule: str | None
    recipients: tuple[str, ...]
    subject: str
    status: str
    error: str | None
    message_id: str
    created_at: dt.datetime
    sent_at: dt.datetime | None
    attempts: int
    size_bytes: int = 0

    @property
    def recipient(self) -> str:
        return ", ".join(self.recipients)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "key": self.key,
            "origin": self.origin,
            "schedule": self.schedule,
            "recipients": list(self.recipients),
            "subject": self.subject,
            "status": self.status,
            "error": self.error,
            "message_id": self.message_id,
            "size_bytes": self.size_bytes,
            "created_at": self.created_at.isoformat(),
            "sent_at": None if self.sent_at is None else self.sent_at.isoformat(),
            "attempts": self.attempts,
        }


@dataclass(frozen=True)
class Outgoing:
    """A message to send under `key`, for `origin` (schedule, alarm, budget, report)."""

    message: Message
    key: str
    origin: str
    schedule: str | None = None


_COLUMNS = (
    "id, key, origin, schedule, recipients, subject, status, error, message_id, created_at, "
    "sent_at, attempts, size_bytes"
)


def _naive(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.UTC).replace(tzinfo=None)


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    return None if value is None else value.replace(tzinfo=dt.UTC)


def _row(values: Sequence[Any]) -> Delivery:
    created = _aware(values[9])
    assert created is not None
    return Delivery(
        id=int(values[0]),
        key=values[1],
        origin=values[2],
        schedule=values[3],
        recipients=tuple(r for r in str(values[4]).split(", ") if r),
        subject=values[5],
        status=values[6],
        error=values[7],
        message_id=values[8],
        created_at=created,
        sent_at=_aware(values[10]),
        attempts=int(values[11]),
        size_bytes=int(values[12]),
    )


def stored_delivery(con: duckdb.DuckDBPyConnection, key: str) -> Delivery | None:
    """The delivery stored under `key`, if any."""
    found = con.execute(f"SELECT {_COLUMNS} FROM deliveries WHERE key = ?", [key]).fetchone()  # noqa: S608
    return None if found is None else _row(found)


def list_deliveries(
    con: duckdb.DuckDBPyConnection,
    *,
    schedule: str | None = None,
    origin: str | None = None,
    status: str | None = None,
    last: int = 50,
) -> list[Delivery]:
    """The most recent deliveries first (of `schedule`, `origin`, `status` when given)."""
    where, params = [], []
    for column, value in (("schedule", schedule), ("origin", origin), ("status", status)):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    sql = f"SELECT {_COLUMNS} FROM deliveries"  # noqa: S608 (column names are constants)
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY created_at DESC, id DESC LIMIT ?"
    rows = con.execute(sql, [*params, last]).fetchall()
    return [_row(row) for row in rows]


class Outbox:
    """Sends messages for a workspace, each exactly once per key, and records every send.

    `clock` gives the time (aware); `sleep` waits between SMTP retries; `dry_run` (default: the
    `delivery.dry_run` setting) writes `.eml` files instead of sending.
    """

    def __init__(
        self,
        host: DeliveryHost,
        *,
        clock: Clock | None = None,
        sleep: Callable[[float], None] = time.sleep,
        dry_run: bool | None = None,
    ) -> None:
        self.host = host
        self.settings = host.settings.delivery
        self._clock = clock or utc_now
        self._sleep = sleep
        self.dry_run = self.settings.dry_run if dry_run is None else dry_run
        # Who claims a delivery: this process (host, pid) and this outbox.
        self.worker = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    @classmethod
    def of(
        cls,
        workspace: DeliveryHost,
        *,
        clock: Clock | None = None,
        sleep: Callable[[float], None] = time.sleep,
        dry_run: bool | None = None,
    ) -> Outbox:
        """The outbox of `workspace` (a `callacct.Workspace`)."""
        return cls(workspace, clock=clock, sleep=sleep, dry_run=dry_run)

    def now(self) -> dt.datetime:
        return self._clock()

    # -- sending ----------------------------------------------------------------------------

    def send(
        self, message: Message, *, key: str, origin: str, schedule: str | None = None
    ) -> Delivery:
        """Send `message` once for `key`: the stored row when it was sent already, else the
        row of this attempt (`sent`, `failed` with the reason, or `sending` when another
        process is sending it now)."""
        return self.send_many([Outgoing(message, key, origin, schedule)])[0]

    def send_many(self, items: Sequence[Outgoing]) -> list[Delivery]:
        """Send several messages: the intents in one write, one SMTP conversation, the
        results in one write. One row per item, in order."""
        if not items:
            return []
        items = [self._keyed(item) for item in items]
        if len({item.key for item in items}) != len(items):
            raise DeliveryError("the same delivery key twice in one batch")
        with self.host.delivery_store(write=True) as store:
            claimed = self._claim(store, items)
        results: dict[str, tuple[str, str | None, int]] = {}
        try:
            if self.dry_run:
                for item in items:
                    if item.key in claimed:
                        results[item.key] = self._write_eml(item)
            else:
                self._transmit([item for item in items if item.key in claimed], results)
        finally:
            if claimed:
                with self.host.delivery_store(write=True) as store:
                    self._record(store, results)
                    # Interrupted before an item had a result (an error, KeyboardInterrupt):
                    # its claim runs out and the next run sends it.
                    rows = [stored_delivery(store.con, item.key) for item in items]
            else:
                with self.host.delivery_store() as store:
                    rows = [stored_delivery(store.con, item.key) for item in items]
        return [row for row in rows if row is not None]

    def skip(
        self,
        key: str,
        *,
        origin: str,
        recipients: Sequence[str],
        subject: str,
        reason: str,
        schedule: str | None = None,
    ) -> Delivery:
        """Record that nothing was sent for `key` (an empty report), unless it was sent."""
        if self.dry_run:
            key = f"dry-run:{key}"
        now = _naive(self.now())
        with self.host.delivery_store(write=True) as store, store.transaction() as con:
            found = stored_delivery(con, key)
            if found is None:
                con.execute(
                    "INSERT INTO deliveries (key, origin, schedule, recipients, subject, status, "
                    "error, message_id, size_bytes, created_at, sent_at, attempts) "
                    "VALUES (?, ?, ?, ?, ?, 'skipped', ?, '', 0, ?, NULL, 0)",
                    [key, origin, schedule, ", ".join(recipients), subject, reason, now],
                )
            elif found.status not in DONE and found.status != "sending":
                con.execute(
                    "UPDATE deliveries SET status = 'skipped', error = ? WHERE key = ?",
                    [reason, key],
                )
            row = stored_delivery(con, key)
        assert row is not None
        return row

    def _keyed(self, item: Outgoing) -> Outgoing:
        if not item.key or len(item.key) > 1000 or re.search(r"[\r\n\x00]", item.key):
            raise DeliveryError(f"delivery key {item.key[:60]!r}: one line, 1 to 1000 characters")
        return replace(item, key=f"dry-run:{item.key}") if self.dry_run else item

    def _message_id(self, key: str) -> str:
        return message_id(key.removeprefix("dry-run:"), domain_of(self.settings.smtp.from_address))

    def _mime(self, key: str, message: Message) -> EmailMessage:
        """`message` as sent (or written) under `key`: From, Reply-To, Date, Message-ID."""
        smtp = self.settings.smtp
        return build_mime(
            message,
            sender=smtp.from_address,
            message_id=self._message_id(key),
            reply_to=smtp.reply_to or None,
            date=self.now().timestamp(),
        )

    def _claim(self, store: Store, items: Sequence[Outgoing]) -> set[str]:
        """Claim the items to send now (see the module's description); their keys."""
        now = self.now()
        until = _naive(now + dt.timedelta(seconds=self.settings.lease_s))
        claimed: set[str] = set()
        with store.transaction() as con:
            for item in items:
                found = con.execute(
                    "SELECT status, claimed_until FROM deliveries WHERE key = ?", [item.key]
                ).fetchone()
                message = item.message
                if found is None:
                    con.execute(
                        "INSERT INTO deliveries (key, origin, schedule, recipients, subject, "
                        "status, error, message_id, size_bytes, created_at, sent_at, attempts, "
                        "claimed_by, claimed_until) "
                        "VALUES (?, ?, ?, ?, ?, 'sending', NULL, ?, ?, ?, NULL, 0, ?, ?)",
                        [
                            item.key, item.origin, item.schedule, ", ".join(message.to),
                            message.subject, self._message_id(item.key), message.size,
                            _naive(now), self.worker, until,
                        ],
                    )  # fmt: skip
                    claimed.add(item.key)
                    continue
                status, claim_end = found
                if status in DONE and not item.key.startswith("dry-run:"):
                    continue
                if status == "sending" and claim_end is not None and claim_end > _naive(now):
                    log.info("%s: being sent by another run; left to it", item.key)
                    continue
                if status == "sending":
                    log.warning(
                        "%s: a run was interrupted while sending it; sending it again with "
                        "the same Message-ID",
                        item.key,
                    )
                con.execute(
                    "UPDATE deliveries SET status = 'sending', claimed_by = ?, "
                    "claimed_until = ?, recipients = ?, subject = ?, size_bytes = ? "
                    "WHERE key = ?",
                    [
                        self.worker, until, ", ".join(message.to), message.subject,
                        message.size, item.key,
                    ],
                )  # fmt: skip
                claimed.add(item.key)
        return claimed

    def _transmit(
        self, items: Sequence[Outgoing], results: dict[str, tuple[str, str | None, int]]
    ) -> None:
        """Send the claimed items over one SMTP conversation; their results into `results`."""
        if not items:
            return
        smtp = self.settings.smtp
        try:
            sender = SmtpSender(smtp, sleep=self._sleep)
        except SendFailure as failure:
            for item in items:
                results[item.key] = ("failed", str(failure), 0)
            return
        with sender:
            for item in items:
                try:
                    message = self._fit(item)
                except DeliveryError as exc:
                    results[item.key] = ("failed", str(exc), 0)
                    continue
                mime = self._mime(item.key, message)
                try:
                    answer = sender.send(mime, message.to)
                except SendFailure as failure:
                    attempts = smtp.retries + 1 if failure.temporary else 1
                    results[item.key] = ("failed", str(failure), attempts)
                    log.warning("%s: not sent: %s", item.key, failure)
                    continue
                refused = "; ".join(f"{a}: {why}" for a, why in answer.refused.items())
                error = f"refused by the server: {refused}" if refused else None
                results[item.key] = ("sent", error, answer.attempts)

    def _fit(self, item: Outgoing) -> Message:
        """The message within the attachment size limit: as it is, or (oversize = link) with
        its attachments saved to `oversize_folder` and linked; `DeliveryError` otherwise."""
        message = item.message
        limit = self.settings.max_attachment_bytes
        if message.size <= limit:
            return message
        names = ", ".join(a.filename for a in message.attachments)
        if self.settings.oversize != "link":
            raise DeliveryError(
                f"attachment {names} is {message.size:,} bytes, over "
                f"delivery.max_attachment_bytes ({limit:,}); narrow the report, raise the "
                "limit, or set delivery.oversize = 'link'"
            )
        folder = self.host.root / self.settings.oversize_folder / _file_stem(item.key)
        folder.mkdir(parents=True, exist_ok=True)
        links = []
        for attachment in message.attachments:
            target = folder / attachment.filename
            target.write_bytes(attachment.content)
            base = self.settings.oversize_url
            links.append(
                f"{base.rstrip('/')}/{folder.name}/{attachment.filename}" if base else str(target)
            )
        text = message.text + "\n" + "\n".join(links) + "\n"
        page = message.html
        if page is not None:
            anchors = "".join(
                f'<p><a href="{html.escape(link)}">{html.escape(link)}</a></p>' for link in links
            )
            page = page.replace("</body>", anchors + "</body>", 1) if "</body>" in page else page
        return replace(message, text=text, html=page, attachments=())

    def _write_eml(self, item: Outgoing) -> tuple[str, str | None, int]:
        """The message as an `.eml` file in the dry-run folder."""
        try:
            message = self._fit(item)
        except DeliveryError as exc:
            return ("failed", str(exc), 0)
        mime = self._mime(item.key, message)
        folder = self.host.root / self.settings.dry_run_folder
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{_file_stem(item.key.removeprefix('dry-run:'))}.eml"
        target.write_bytes(mime.as_bytes())
        return ("dry-run", f"written to {target}", 0)

    def _record(self, store: Store, results: dict[str, tuple[str, str | None, int]]) -> None:
        now = _naive(self.now())
        with store.transaction() as con:
            for key, (status, error, attempts) in results.items():
                con.execute(
                    "UPDATE deliveries SET status = ?, error = ?, attempts = attempts + ?, "
                    "sent_at = CASE WHEN ? IN ('sent', 'dry-run') THEN ? ELSE sent_at END, "
                    "claimed_by = NULL, claimed_until = NULL WHERE key = ?",
                    [status, error, attempts, status, now, key],
                )

    # -- reading ----------------------------------------------------------------------------

    def deliveries(
        self,
        *,
        schedule: str | None = None,
        origin: str | None = None,
        status: str | None = None,
        last: int = 50,
    ) -> list[Delivery]:
        """The most recent deliveries first."""
        with self.host.delivery_store() as store:
            return list_deliveries(
                store.con, schedule=schedule, origin=origin, status=status, last=last
            )


def _file_stem(key: str) -> str:
    """A file name for a delivery key: readable, safe, unique (a hash of the key).

    >>> _file_stem("schedule:weekly/dept:2026-W48:ana@example.com")[:44]
    'schedule_weekly_dept_2026-W48_ana_example.co'
    """
    readable = re.sub(r"[^A-Za-z0-9._-]+", "_", key)[:80].strip("._")
    return f"{readable}-{hashlib.sha256(key.encode()).hexdigest()[:10]}"
