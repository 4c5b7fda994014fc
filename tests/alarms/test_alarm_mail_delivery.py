"""Firings are mailed through a real SMTP server on 127.0.0.1 and parsed back: one mail per
recipient per firing, never twice, sent again when the server failed; only when something
fired."""

from __future__ import annotations

import datetime as dt
import io
from email.message import EmailMessage
from typing import Any

import openpyxl

from callacct import Workspace
from callacct.progress import Step
from callacct.store import open_store
from tests.alarms.conftest import NOW, add, arrive, call, run

ABROAD = {"remote": "+4930123456", "dest_class": "international", "country": "DE"}


def _parts(message: EmailMessage) -> tuple[str, str, list[Any]]:
    text = html = ""
    attachments = []
    for part in message.walk():
        if part.get_content_disposition() == "attachment":
            attachments.append(part)
        elif part.get_content_type() == "text/plain":
            text = part.get_content()
        elif part.get_content_type() == "text/html":
            html = part.get_content()
    return text, html, attachments


def test_a_firing_is_mailed_to_each_recipient_once(mailed: tuple[Workspace, Any]) -> None:
    org, server = mailed
    recipients = {"to": ["telecom@example.com"], "supervisors": True, "xlsx": True}
    add(
        org, {"name": "abroad", "kind": "international", "language": "de", "recipients": recipients}
    )
    assert not run(org).fired
    assert server.received == []  # nothing fired, nothing mailed
    arrive(org, [call("2001", **ABROAD), call("3001", **ABROAD), call("2001", **ABROAD)])
    result = run(org)
    (outcome,) = result.outcomes
    assert outcome.mail == "mailed: 3 message(s)"
    by_rcpt = {r.recipients[0]: r.message for r in server.received}
    assert sorted(by_rcpt) == ["sam@example.com", "sue@example.com", "telecom@example.com"]
    telecom = by_rcpt["telecom@example.com"]
    assert telecom["Subject"] == "Alarm abroad: Auslandsanrufe"
    text, html, attachments = _parts(telecom)
    assert "Der Alarm abroad wurde ausgelöst: 3 gefunden." in text
    assert text.count("+4930123456") == 3
    assert "<table" in html
    (workbook,) = attachments
    sheet = openpyxl.load_workbook(io.BytesIO(workbook.get_content())).active
    assert sheet is not None
    assert len(list(sheet.values)) == 4
    sue_text = _parts(by_rcpt["sue@example.com"])[0]
    assert "alice" in sue_text
    assert "bob" not in sue_text  # only the rows of her people
    # Mailed once: the firing is marked, a new run sends nothing more.
    assert org.alarms().events()[0].mailed_at is not None
    run(org)
    assert len(server.received) == 3


def test_a_failed_mail_is_sent_at_the_next_run(mailed: tuple[Workspace, Any]) -> None:
    org, server = mailed
    add(org, {"name": "abroad", "kind": "international"})
    arrive(org, [call("2001", **ABROAD)])
    server.handler.answers.append("554 mailbox unavailable")
    (outcome,) = run(org).outcomes
    assert outcome.mail is not None
    assert outcome.mail.startswith("mail failed: ")
    assert server.received == []
    assert org.alarms().events()[0].mailed_at is None
    again = run(org)  # nothing new fired; the earlier firing's mail goes now
    assert not again.fired
    assert [r.recipients for r in server.received] == [["it@example.com"]]
    assert org.alarms().events()[0].mailed_at is not None
    run(org)
    assert len(server.received) == 1


def test_without_a_mail_server_the_firing_waits(org: Workspace) -> None:
    add(org, {"name": "abroad", "kind": "international"})
    arrive(org, [call("2001", **ABROAD)])
    (outcome,) = run(org).outcomes
    assert outcome.mail == "not mailed: no mail server; set delivery.smtp.host in callacct.toml"
    store = open_store(org.store_path, read_only=True)
    try:
        assert store.con.execute("SELECT count(*) FROM deliveries").fetchall() == [(0,)]
    finally:
        store.close()


def test_the_scheduler_runs_the_due_alarms(mailed: tuple[Workspace, Any]) -> None:
    from callacct.delivery import run_due_jobs

    org, server = mailed
    add(org, {"name": "abroad", "kind": "international"})
    add(org, {"name": "hourly", "kind": "undefined-extensions", "every": "1h"})
    arrive(org, [call("2001", **ABROAD)])
    seen: list[Step] = []
    outcomes = run_due_jobs(org, NOW, progress=seen.append)
    alarms = {o.subject: (o.status, o.line) for o in outcomes if o.job == "alarms"}
    assert alarms == {
        "abroad": ("fired", "alarm abroad: fired: 1 international call(s) (mailed: 1 message(s))"),
        "hourly": ("done", "alarm hourly: nothing to report"),
    }
    assert [(s.done, s.total) for s in seen if s.stage == "alarms"] == [(0, 2), (1, 2), (2, 2)]
    assert len(server.received) == 1
    later = run_due_jobs(org, NOW + dt.timedelta(minutes=30))
    assert not [o for o in later if o.job == "alarms"]  # nothing due


def test_a_threshold_crossed_twice_in_a_period_is_mailed_once(
    mailed: tuple[Workspace, Any],
) -> None:
    org, server = mailed
    add(org, {"name": "spend", "kind": "spend-above", "params": {"amount": {"EUR": 5}}})
    arrive(org, [call("2001", cost="6")])
    assert run(org).fired
    assert [r.recipients for r in server.received] == [["it@example.com"]]
    assert "6.00" in _parts(server.received[0].message)[0]
    # Higher still in the same month: the same threshold, no second mail.
    arrive(org, [call("2001", cost="10")])
    assert not run(org, now=NOW + dt.timedelta(hours=1)).fired
    assert len(server.received) == 1
    # Next month crosses it again: a new period, a new mail.
    arrive(org, [call("2001", cost="7", at=dt.datetime(2027, 1, 4, 9))])
    assert run(org, now=NOW + dt.timedelta(days=40)).fired
    assert len(server.received) == 2
    assert "2027-01" in _parts(server.received[1].message)[0]
