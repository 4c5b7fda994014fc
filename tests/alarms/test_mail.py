"""An alarm's mail: subject and table in the reader's language, rows cut to the setting, the
workbook read back by structure, and supervisors sent only the rows of their people."""

from __future__ import annotations

import io

import openpyxl
import pytest

from callacct import Workspace
from callacct.alarms.mail import build_mail, rows_for
from callacct.alarms.records import event_rows
from callacct.store import open_store
from tests.alarms.conftest import add, arrive, call, run

ABROAD = call(remote="+4930123456", dest_class="international", country="DE", cost="1.5")


def _event(org: Workspace) -> dict[str, object]:
    store = open_store(org.store_path, read_only=True)
    try:
        (event,) = event_rows(store.con)
    finally:
        store.close()
    return event


def test_the_mail_of_a_firing_reads_well_in_each_language(org: Workspace) -> None:
    add(org, {"name": "abroad", "kind": "international"})
    arrive(org, [ABROAD, {**ABROAD, "duration_s": 3725}, call("3001", **{
        "remote": "=HYPERLINK(1)", "dest_class": "international", "country": "DE"})])  # fmt: skip
    run(org)
    event = _event(org)
    english = build_mail(event, language="en", rows_shown=2, xlsx=True)
    assert english.subject == "Alarm abroad: International calls"
    assert english.context["intro"] == "The alarm abroad fired: 3 found."
    assert english.context["headers"][:4] == ["Call id", "Started", "Extension", "User"]
    first = english.context["rows"][0]
    assert first[1] == "2026-12-01 10:00"
    assert first[5:] == ["outgoing", "+4930123456", "international", "DE", "0:01:00", "1.50", "EUR"]
    assert english.context["rows"][1][9] == "1:02:05"
    assert english.context["more"] == (
        "1 more not shown here: callacct alarm events --alarm abroad --rows"
    )
    german = build_mail(event, language="de")
    assert german.subject == "Alarm abroad: Auslandsanrufe"
    assert german.context["rows"][0][5] == "ausgehend"
    assert german.context["rows"][0][10] == "1,50"
    assert german.attachment is None
    name, data = english.attachment or ("", b"")
    assert name == f"alarm-abroad-{event['event_id']}.xlsx"
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    assert sheet is not None
    values = list(sheet.values)
    assert values[0][:3] == ("Call id", "Started", "Extension")
    assert len(values) == 4  # every row, not only those in the body
    assert values[1][10] == pytest.approx(1.5)
    assert values[3][6] == "'=HYPERLINK(1)"  # never a formula


def test_supervisors_get_only_the_rows_of_their_people() -> None:
    rows = [{"user": "alice", "n": 1}, {"user": "bob", "n": 2}, {"person": "alice", "n": 3}]
    assert [row["n"] for row in rows_for(rows, {"alice"})] == [1, 3]
    assert rows_for(rows, set()) == []


def test_each_recipient_gets_their_rows_in_the_alarms_language(org: Workspace) -> None:
    add(
        org,
        {
            "name": "abroad",
            "kind": "international",
            "language": "fr",
            "recipients": {"to": ["it@example.com"], "supervisors": True},
        },
    )
    arrive(org, [ABROAD, call("3001", **{"remote": "+4930123456", "dest_class":
        "international", "country": "DE"}), call("2999", **{"remote": "+4930123456",
        "dest_class": "international", "country": "DE"})])  # fmt: skip
    (event,) = run(org).events
    mails = dict(org.alarms().mails(event.event_id))
    assert sorted(mails) == ["it@example.com", "sam@example.com", "sue@example.com"]
    assert len(mails["it@example.com"].context["rows"]) == 3
    assert [row[3] for row in mails["sue@example.com"].context["rows"]] == ["alice"]
    # Numbers as Sue sees them (4 digits hidden from supervisors), the operator's list whole.
    assert mails["sue@example.com"].context["rows"][0][6] == "+493012****"
    assert mails["it@example.com"].context["rows"][0][6] == "+4930123456"
    assert [row[3] for row in mails["sam@example.com"].context["rows"]] == ["bob"]
    assert (
        mails["sue@example.com"].context["intro"]
        == "L'alarme abroad s'est déclenchée : 1 trouvé(s)."
    )
    assert mails["it@example.com"].subject == "Alarme abroad : Appels internationaux"


def test_the_supervisors_of_a_group_get_the_rows_of_their_peoples_groups(org: Workspace) -> None:
    recipients = {"supervisors": True}
    params = {"per": "department", "amount": {"EUR": 5}}
    add(org, {"name": "spend", "kind": "spend-above", "params": params,
              "recipients": recipients})  # fmt: skip
    arrive(org, [call("2001", cost="6"), call("3001", cost="9"), call("2003", cost="1")])
    (event,) = run(org).events
    assert sorted(row["department"] for row in event.rows) == ["Sales", "Support"]
    mails = dict(org.alarms().mails(event.event_id))
    # Alice (Sales) is managed by Sue, Bob (Support) by Sam.
    assert sorted(mails) == ["sam@example.com", "sue@example.com"]
    assert [row[0] for row in mails["sue@example.com"].context["rows"]] == ["Sales"]
    assert [row[0] for row in mails["sam@example.com"].context["rows"]] == ["Support"]
