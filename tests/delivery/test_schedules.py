"""Scheduled reports end to end, through a real SMTP server on 127.0.0.1: each supervisor
gets only their department in their language; each user their own bill; every period is
sent exactly once — catch-up after downtime, a killed run, SMTP down, two runners at once."""

from __future__ import annotations

import datetime as dt
import io
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from pypdf import PdfReader

from callacct import Workspace
from callacct.delivery import schedules as schedules_module
from callacct.delivery.schedules import run_due
from callacct.errors import DeliveryError, NotFoundError, UsageError
from callacct.outcomes import lines_of
from callacct.progress import Step
from tests.delivery.conftest import (
    DEPARTMENTS,
    WEEKLY_DUE,
    MailServer,
    Received,
    ServerFactory,
    free_port,
    org_workspace,
    weekly_to_supervisors,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def due_lines(org: Workspace, now: dt.datetime, **options: Any) -> list[str]:
    """The log lines of the schedules' due job at `now`."""
    return lines_of(run_due(org, now, **options))


def _by_recipient(received: list[Received]) -> dict[str, Received]:
    out: dict[str, Received] = {}
    for got in received:
        [to] = got.recipients
        assert to not in out, f"{to} received twice"
        out[to] = got
    return out


def _xlsx_rows(got: Received) -> list[list[object]]:
    [attachment] = list(got.message.iter_attachments())
    assert attachment.get_content_type() == XLSX
    book = openpyxl.load_workbook(io.BytesIO(attachment.get_content()), read_only=True)
    return [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]


def test_each_supervisor_gets_only_their_department_in_their_language(
    org: Workspace, server: MailServer
) -> None:
    weekly_to_supervisors(org)
    lines = due_lines(org, WEEKLY_DUE)
    assert lines == ["schedule dept-weekly 2026-W48: 2 sent, 0 skipped (empty), 0 failed"]
    got = _by_recipient(server.received)
    assert set(got) == {"sam@example.com", "sara@example.com"}
    sam, sara = got["sam@example.com"].message, got["sara@example.com"].message
    assert sam["Content-Language"] == "fr"
    assert sara["Content-Language"] == "ar"
    html = sara.get_body(("html",))
    assert html is not None
    assert 'dir="rtl"' in html.get_content()
    for address, extensions in (
        ("sam@example.com", {"2001", "2002", "2003"}),
        ("sara@example.com", {"2101", "2102", "2104"}),
    ):
        rows = _xlsx_rows(got[address])
        found = {str(cell) for row in rows for cell in row if str(cell) in DEPARTMENTS}
        assert found == extensions, (address, found)
        department = "Sales" if address.startswith("sam") else "Support"
        assert all(DEPARTMENTS[ext] == department for ext in found)
    # The call of the week before is outside the period.
    assert not any("99999999" in str(c) for row in _xlsx_rows(got["sam@example.com"]) for c in row)
    assert due_lines(org, WEEKLY_DUE + dt.timedelta(minutes=5)) == []
    assert len(server.received) == 2


def test_each_user_gets_their_own_bill_and_empty_ones_are_skipped(
    org: Workspace, server: MailServer
) -> None:
    org.add_schedule(
        "bills",
        report="user-bill",
        every="week",
        format="pdf",
        recipients="users",
        subject="Your calls",
        now=WEEKLY_DUE - dt.timedelta(days=1),
    )
    [line] = due_lines(org, WEEKLY_DUE)
    assert line == "schedule bills 2026-W48: 4 sent, 1 skipped (empty), 0 failed"
    got = _by_recipient(server.received)
    assert set(got) == {"ana@example.com", "ben@example.com", "carl@example.com",
                        "dina@example.com"}  # fmt: skip
    for address, received in got.items():
        assert received.message["Subject"] == "Your calls"
        [attachment] = list(received.message.iter_attachments())
        assert attachment.get_content_type() == "application/pdf"
        text = "".join(
            page.extract_text() for page in PdfReader(io.BytesIO(attachment.get_content())).pages
        )
        login = address.split("@")[0]
        lines = {line.strip() for line in text.splitlines()}
        assert login in lines, (login, text)
        assert not ({"ana", "ben", "carl", "dina", "eve"} - {login}) & lines
    history = org.schedule_history("bills")
    statuses = sorted(d.status for d in history["deliveries"])
    assert statuses == ["sent"] * 4 + ["skipped"]
    [skipped] = [d for d in history["deliveries"] if d.status == "skipped"]
    assert skipped.recipients == ("eve@example.com",)


def test_addresses_get_the_owners_report(org: Workspace, server: MailServer) -> None:
    sam = org.as_person("sam")
    sam.add_schedule(
        "sam-daily",
        report="calls-detail",
        every="day",
        to=["sam@example.com", "boss@example.com"],
        format="csv",
        now=dt.datetime(2026, 11, 23, 12, tzinfo=dt.UTC),
    )
    [line] = due_lines(org, dt.datetime(2026, 11, 24, 6, 0, tzinfo=dt.UTC))
    assert line == "schedule sam-daily 2026-11-23: 2 sent, 0 skipped (empty), 0 failed"
    got = _by_recipient(server.received)
    for received in got.values():
        [attachment] = list(received.message.iter_attachments())
        assert attachment.get_filename() == "calls-detail.csv"
        text = attachment.get_content()
        text = text.decode() if isinstance(text, bytes) else text
        assert "2001" in text
        assert "2101" not in text  # Support is outside Sam's scope
    # Only the owner (or an admin) sees the schedule.
    assert [s.name for s in sam.schedules()] == ["sam-daily"]
    assert org.as_person("ana").schedules() == []
    with pytest.raises(NotFoundError):
        org.as_person("ana").remove_schedule("sam-daily")


def test_catch_up_after_downtime(org: Workspace, server: MailServer) -> None:
    org.add_schedule(
        "daily",
        report="calls-detail",
        every="day",
        to=["ops@example.com"],
        now=dt.datetime(2026, 11, 22, 12, tzinfo=dt.UTC),
    )
    # Nothing ran from Monday 23rd to Saturday 28th: five daily periods were missed.
    lines = due_lines(org, dt.datetime(2026, 11, 28, 12, tzinfo=dt.UTC))
    assert lines[:3] == [
        "schedule daily 2026-11-22: missed, not sent",
        "schedule daily 2026-11-23: missed, not sent",
        "schedule daily 2026-11-24: missed, not sent",
    ]
    assert lines[3:] == [
        "schedule daily 2026-11-25: 1 sent, 0 skipped (empty), 0 failed",
        "schedule daily 2026-11-26: 1 sent, 0 skipped (empty), 0 failed",
        "schedule daily 2026-11-27: 0 sent, 1 skipped (empty), 0 failed",  # no call that day
    ]
    assert len(server.received) == 2
    subjects = {r.message["Subject"] for r in server.received}
    assert len(subjects) == 2
    assert due_lines(org, dt.datetime(2026, 11, 28, 13, tzinfo=dt.UTC)) == []
    assert len(server.received) == 2
    [schedule] = org.schedules()
    assert schedule.last_period == "2026-11-27"
    assert schedule.next_run == dt.datetime(2026, 11, 29, 6, tzinfo=dt.UTC)


def test_smtp_down_is_retried_next_tick_and_sent_once(
    tmp_path: Path, mail_server: ServerFactory
) -> None:
    port = free_port()
    smtp = {"host": "127.0.0.1", "port": port, "security": "plain", "retries": 0,
            "from_address": "callacct@example.com"}  # fmt: skip
    org = org_workspace(tmp_path / "org", smtp)
    weekly_to_supervisors(org)
    [line] = due_lines(org, WEEKLY_DUE)
    assert line.startswith("schedule dept-weekly 2026-W48: 0 sent, 0 skipped (empty), 2 failed")
    assert "cannot reach the SMTP server" in line
    [run] = org.schedule_history("dept-weekly")["runs"]
    assert run.status == "failed"
    server = mail_server("plain", port=port)
    [line] = due_lines(org, WEEKLY_DUE + dt.timedelta(minutes=5))
    assert line == "schedule dept-weekly 2026-W48: 2 sent, 0 skipped (empty), 0 failed"
    assert len(server.received) == 2
    assert due_lines(org, WEEKLY_DUE + dt.timedelta(minutes=10)) == []
    assert len(server.received) == 2
    [run] = org.schedule_history("dept-weekly")["runs"]
    assert run.status == "done"


def test_a_run_killed_after_sending_is_not_sent_again(
    org: Workspace, server: MailServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    weekly_to_supervisors(org)
    original = schedules_module.finish_run

    def killed(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(schedules_module, "finish_run", killed)
    with pytest.raises(KeyboardInterrupt):
        due_lines(org, WEEKLY_DUE)
    monkeypatch.setattr(schedules_module, "finish_run", original)
    assert len(server.received) == 2
    # While its claim lasts, the run may still be going: left alone.
    assert due_lines(org, WEEKLY_DUE + dt.timedelta(minutes=5)) == []
    later = WEEKLY_DUE + dt.timedelta(seconds=org.settings.delivery.lease_s + 60)
    [line] = due_lines(org, later)
    assert line == "schedule dept-weekly 2026-W48: 2 sent, 0 skipped (empty), 0 failed"
    assert len(server.received) == 2  # taken up again: what was sent is not sent again


def test_two_runners_at_once_send_once(org: Workspace, server: MailServer) -> None:
    weekly_to_supervisors(org)
    script = textwrap.dedent(
        f"""
        import datetime as dt
        from callacct import Workspace
        from callacct.delivery.schedules import run_due
        from callacct.outcomes import lines_of
        now = dt.datetime.fromisoformat({WEEKLY_DUE.isoformat()!r})
        print(lines_of(run_due(Workspace.open({str(org.root)!r}), now)))
        """
    )
    runners = [
        subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [runner.communicate(timeout=120)[0] for runner in runners]
    assert [runner.returncode for runner in runners] == [0, 0]
    assert len(server.received) == 2, outputs
    assert sorted(r.recipients[0] for r in server.received) == [
        "sam@example.com",
        "sara@example.com",
    ]
    assert sum("2 sent" in output for output in outputs) == 1, outputs


def test_a_paused_schedule_sends_nothing_and_resumes_from_its_next_run(
    org: Workspace, server: MailServer
) -> None:
    weekly_to_supervisors(org)
    org.pause_schedule("dept-weekly", now=WEEKLY_DUE - dt.timedelta(days=1))
    assert due_lines(org, WEEKLY_DUE) == []
    resumed = org.pause_schedule("dept-weekly", False, now=WEEKLY_DUE + dt.timedelta(hours=1))
    assert resumed.next_run == WEEKLY_DUE + dt.timedelta(days=7)
    assert due_lines(org, WEEKLY_DUE + dt.timedelta(hours=2)) == []
    assert server.received == []


def test_a_dry_run_writes_eml_files_and_records_no_run(org: Workspace, server: MailServer) -> None:
    weekly_to_supervisors(org)
    lines = due_lines(org, WEEKLY_DUE + dt.timedelta(days=2), dry_run=True)
    assert lines == ["schedule dept-weekly 2026-W48: 2 written, 0 skipped (empty), 0 failed"]
    files = sorted(p.name for p in (org.root / "outbox").glob("*.eml"))
    assert len(files) == 2
    assert all(name.startswith("schedule_dept-weekly_2026-W48_") for name in files)
    assert server.received == []
    assert org.schedule_history("dept-weekly")["runs"] == []
    # The real run still happens.
    assert due_lines(org, WEEKLY_DUE)[0].startswith("schedule dept-weekly 2026-W48: 2 sent")


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        ({"report": "no-such-report"}, NotFoundError, "no-such-report"),
        ({"filters": {"type": "sideways"}}, UsageError, "filter type"),
        ({"to": ["not-an-address"]}, DeliveryError, "is not an e-mail address"),
        ({"to": ["a@example.com\r\nBcc: x@example.com"]}, DeliveryError, "line break"),
        ({"subject": "Hi\nBcc: x@example.com"}, DeliveryError, "line break"),
        ({"format": "docx"}, UsageError, "is not one of"),
        ({"every": "yearly"}, UsageError, "is not day, week"),
        ({"name": "Bad Name"}, UsageError, "schedule name"),
        ({"language": "xx"}, UsageError, "--lang"),
    ],
)
def test_bad_schedules_are_refused_when_added(
    org: Workspace, change: dict[str, object], error: type[Exception], message: str
) -> None:
    values: dict[str, object] = {
        "name": "s",
        "report": "calls-detail",
        "every": "day",
        "to": ["ops@example.com"],
        **change,
    }
    name = values.pop("name")
    with pytest.raises(error, match=message):
        org.add_schedule(str(name), **values)  # type: ignore[arg-type]
    assert org.schedules() == []


def test_only_an_admin_sends_to_every_supervisor(org: Workspace) -> None:
    with pytest.raises(UsageError, match="needs an admin"):
        org.as_person("sam").add_schedule(
            "x", report="calls-detail", every="day", recipients="supervisors"
        )
    org.as_person("ada").add_schedule(
        "x", report="calls-detail", every="day", recipients="supervisors"
    )
    with pytest.raises(UsageError, match="exists"):
        org.add_schedule("x", report="calls-detail", every="day", to=["a@example.com"])


def test_filters_are_kept_with_the_schedule(org: Workspace, server: MailServer) -> None:
    from decimal import Decimal

    org.add_schedule(
        "sales-only",
        report="calls-detail",
        filters={"departments": ("Sales",), "min_cost": Decimal("0"), "type": "pstn"},
        every="week",
        to=["ops@example.com"],
        now=WEEKLY_DUE - dt.timedelta(days=1),
    )
    assert org.schedule("sales-only").filters == {
        "departments": ["Sales"],
        "min_cost": "0",
        "type": "pstn",
    }
    [line] = due_lines(org, WEEKLY_DUE)
    assert line.startswith("schedule sales-only 2026-W48: 1 sent")
    rows = _xlsx_rows(server.received[0])
    extensions = {str(cell) for row in rows for cell in row if str(cell) in DEPARTMENTS}
    assert extensions == {"2001", "2002", "2003"}


def test_large_runs_are_prepared_by_worker_processes(
    tmp_path: Path, mail_server: ServerFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reports of a run to many supervisors are prepared by worker processes: each still
    runs within its recipient's scope and language."""
    server = mail_server("plain")
    org = org_workspace(tmp_path / "org", server.smtp_settings(), workers=2, batch=1)
    monkeypatch.setattr(schedules_module, "PARALLEL_FROM", 1)
    org.add_schedule(
        "bills",
        report="user-bill",
        every="week",
        format="xlsx",
        recipients="users",
        now=WEEKLY_DUE - dt.timedelta(days=1),
    )
    seen: list[Step] = []
    [outcome] = run_due(org, WEEKLY_DUE, progress=seen.append)
    assert outcome.line == "schedule bills 2026-W48: 4 sent, 1 skipped (empty), 0 failed"
    # Each message prepared by a worker is told once its worker is done.
    assert seen == [Step("deliveries", done, 5, "messages") for done in range(6)]
    got = _by_recipient(server.received)
    for address, received in got.items():
        login = address.split("@")[0]
        cells = {str(cell) for row in _xlsx_rows(received) for cell in row}
        assert login in cells
        assert not ({"ana", "ben", "carl", "dina", "eve"} - {login}) & cells
    assert got["dina@example.com"].message["Content-Language"] == "ar"
    assert due_lines(org, WEEKLY_DUE + dt.timedelta(minutes=1)) == []
    assert len(server.received) == 4
