"""`callacct schedule ...`, `callacct scheduler run` and `callacct report run --email`:
exit codes, the lines people see, `--json` equal to the API's result."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from callacct import Workspace
from callacct.delivery import Outbox
from callacct.errors import DeliveryError
from tests.conftest import Cli
from tests.delivery.conftest import WEEKLY_DUE, MailServer, org_workspace


@pytest.fixture
def cli(org: Workspace) -> Cli:
    return Cli(org.root)


def _add_weekly(cli: Cli, *extra: str) -> dict[str, object]:
    data: dict[str, object] = cli.json(
        "schedule", "add", "dept-weekly", "--report", "calls-detail", "--every", "week",
        "--on", "mon", "--at", "07:00", "--to-supervisors", "--format", "xlsx",
        "--now", (WEEKLY_DUE - dt.timedelta(days=2)).isoformat(), *extra,
    )  # fmt: skip
    return data


def test_add_list_show_pause_resume_remove(cli: Cli, org: Workspace) -> None:
    added = _add_weekly(cli)
    assert added["recipients"] == "supervisors"
    assert added["frequency"] == "every week on mon at 07:00"
    listed = cli.json("schedule", "list")
    assert listed == [s.to_dict() for s in org.schedules()]
    assert listed[0]["next_run"] is not None
    assert listed[0]["last_status"] is None
    assert cli.json("schedule", "show", "dept-weekly") == org.schedule("dept-weekly").to_dict()
    result = cli("schedule", "list")
    assert result.exit_code == 0, result.output
    assert "dept-weekly" in result.output
    assert "each of the supervisors" in result.output
    result = cli("schedule", "pause", "dept-weekly")
    assert result.exit_code == 0, result.output
    assert "paused dept-weekly" in result.output
    assert cli.json("schedule", "show", "dept-weekly")["next_run"] is None
    result = cli("schedule", "resume", "dept-weekly")
    assert result.exit_code == 0, result.output
    assert "resumed dept-weekly: next run" in result.output
    result = cli("schedule", "remove", "dept-weekly")
    assert result.exit_code == 0, result.output
    assert cli.json("schedule", "list") == []
    result = cli("schedule", "show", "dept-weekly")
    assert result.exit_code == 2
    assert "no schedule 'dept-weekly'; see 'callacct schedule list'" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--report", "nope", "--every", "day", "--to", "a@example.com"], "nope"),
        (["--report", "calls-detail", "--every", "day", "--to", "bad"], "is not an e-mail"),
        (["--report", "calls-detail", "--every", "day"], "give one of --to ADDRESSES"),
        (
            ["--report", "calls-detail", "--every", "day", "--to", "a@example.com",
             "--to-users"],
            "give one of",
        ),
        (["--report", "calls-detail", "--every", "often", "--to", "a@example.com"], "--every"),
        (
            ["--report", "calls-detail", "--every", "day", "--to", "a@example.com",
             "--type", "sideways"],
            "filter type",
        ),
        (
            ["--report", "calls-detail", "--every", "day", "--to", "a@example.com",
             "--subject", "a\nBcc: b@example.com"],
            "line break",
        ),
    ],
)  # fmt: skip
def test_add_refuses_bad_input_in_one_line(cli: Cli, args: list[str], message: str) -> None:
    result = cli("schedule", "add", "s", *args)
    assert result.exit_code in (1, 2), result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1, result.output


def test_run_due_history_and_exit_codes(cli: Cli, org: Workspace, server: MailServer) -> None:
    _add_weekly(cli)
    result = cli("schedule", "run-due", "--now", WEEKLY_DUE.isoformat())
    assert result.exit_code == 0, result.output
    assert result.output.strip() == (
        "schedule dept-weekly 2026-W48: 2 sent, 0 skipped (empty), 0 failed"
    )
    assert len(server.received) == 2
    again = cli("schedule", "run-due", "--now", WEEKLY_DUE.isoformat())
    assert again.exit_code == 0
    assert again.output == ""
    history = cli.json("schedule", "history", "dept-weekly")
    api = org.schedule_history("dept-weekly")
    assert history == json.loads(
        json.dumps({k: [item.to_dict() for item in v] for k, v in api.items()})
    )
    assert [run["status"] for run in history["runs"]] == ["done"]
    assert sorted(d["recipients"][0] for d in history["deliveries"]) == [
        "sam@example.com",
        "sara@example.com",
    ]
    table = cli("schedule", "history")
    assert table.exit_code == 0
    assert "2026-W48" in table.output
    assert cli.json("schedule", "list")[0]["last_status"] == "done"


def test_run_due_exits_1_when_mail_could_not_be_sent(tmp_path: Path) -> None:
    smtp = {"host": "127.0.0.1", "port": 9, "security": "plain", "retries": 0}
    org = org_workspace(tmp_path / "org", smtp)
    cli = Cli(org.root)
    _add_weekly(cli)
    result = cli("schedule", "run-due", "--now", WEEKLY_DUE.isoformat())
    assert result.exit_code == 1
    assert "2 failed (sam@example.com: cannot reach the SMTP server 127.0.0.1:9" in result.output


def test_run_due_exit_code_comes_from_the_outcomes(
    cli: Cli, org: Workspace, server: MailServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A job that raises is a failed outcome (exit 1) and the next jobs still run; a line that
    merely reads like a failure is not one."""
    from callacct.delivery import schedules as schedules_module
    from callacct.outcomes import JobOutcome

    def raising(*args: object, **kwargs: object) -> list[JobOutcome]:
        raise DeliveryError("the outbox is full")

    monkeypatch.setattr(schedules_module, "run_due", raising)
    result = cli("schedule", "run-due", "--now", WEEKLY_DUE.isoformat())
    assert result.exit_code == 1, result.output
    assert result.output.strip() == "schedules: error: the outbox is full"

    def alike(*args: object, **kwargs: object) -> list[JobOutcome]:
        return [
            JobOutcome("schedules", "schedule x 2026-W48: 1 sent, 0 skipped, 3 failed: error: ")
        ]

    monkeypatch.setattr(schedules_module, "run_due", alike)
    result = cli("schedule", "run-due", "--now", WEEKLY_DUE.isoformat())
    assert result.exit_code == 0, result.output


def test_run_due_json_is_the_list_of_outcomes(
    cli: Cli, org: Workspace, server: MailServer, tmp_path: Path
) -> None:
    _add_weekly(cli)
    outcomes = cli.json("schedule", "run-due", "--now", WEEKLY_DUE.isoformat())
    assert outcomes == [
        {
            "job": "schedules",
            "subject": "dept-weekly 2026-W48",
            "status": "done",
            "sent": 2,
            "skipped": 0,
            "failed": 0,
            "error": None,
            "line": "schedule dept-weekly 2026-W48: 2 sent, 0 skipped (empty), 0 failed",
        }
    ]
    assert cli.json("schedule", "run-due", "--now", WEEKLY_DUE.isoformat()) == []
    smtp = {"host": "127.0.0.1", "port": 9, "security": "plain", "retries": 0}
    down = Cli(org_workspace(tmp_path / "down", smtp).root)
    _add_weekly(down)
    [failed] = down.json("schedule", "run-due", "--now", WEEKLY_DUE.isoformat(), code=1)
    assert (failed["status"], failed["sent"], failed["failed"]) == ("failed", 0, 2)
    assert "cannot reach the SMTP server 127.0.0.1:9" in failed["error"]


@pytest.mark.parametrize(("terminal", "as_json"), [(True, False), (True, True), (False, False)])
def test_run_due_progress_line_on_a_terminal_only(
    cli: Cli,
    org: Workspace,
    server: MailServer,
    monkeypatch: pytest.MonkeyPatch,
    terminal: bool,
    as_json: bool,
) -> None:
    from rich.console import Console

    from callacct.cli import _output
    from callacct.cli import schedule as schedule_cli
    from callacct.progress import Step

    shown: list[tuple[bool, Step]] = []

    class Recording(_output.ProgressLine):
        def __call__(self, step: Step) -> None:
            shown.append((self.enabled, step))
            super().__call__(step)

    screen = io.StringIO()
    monkeypatch.setattr(
        _output, "err_console", Console(file=screen, force_terminal=terminal, width=100)
    )
    monkeypatch.setattr(schedule_cli, "ProgressLine", Recording)
    _add_weekly(cli)
    args = ["schedule", "run-due", "--now", WEEKLY_DUE.isoformat()]
    result = cli(*args, *(["--json"] if as_json else []))
    assert result.exit_code == 0, result.output
    drawn = terminal and not as_json
    assert {enabled for enabled, _ in shown} == {drawn}
    assert [step for _, step in shown if step.stage == "deliveries"] == [
        Step("deliveries", done, 2, "messages") for done in (0, 1, 2)
    ]
    assert bool(screen.getvalue()) == drawn
    if as_json:
        assert json.loads(result.stdout)[0]["sent"] == 2


def test_run_due_dry_run_writes_eml(cli: Cli, org: Workspace, server: MailServer) -> None:
    _add_weekly(cli)
    now = (WEEKLY_DUE + dt.timedelta(days=1)).isoformat()
    result = cli("schedule", "run-due", "--dry-run", "--now", now)
    assert result.exit_code == 0, result.output
    assert "2 written" in result.output
    assert len(list((org.root / "outbox").glob("*.eml"))) == 2
    assert server.received == []


def test_a_supervisor_may_not_run_the_scheduler(cli: Cli) -> None:
    for args in (["schedule", "run-due"], ["scheduler", "run", "--once"]):
        result = cli("--as", "sam", "--lang", "en", *args)
        assert result.exit_code == 2
        assert "needs an admin; 'sam' is a supervisor" in result.output


def test_scheduler_run_once(cli: Cli, org: Workspace, server: MailServer) -> None:
    result = cli("scheduler", "run", "--once")
    assert result.exit_code == 0, result.output
    assert "scheduler started" in result.output
    assert "scheduler stopped" in result.output


def test_scheduler_stops_on_sigterm(org: Workspace) -> None:
    env = {**os.environ, "CALLACCT_HOME": str(org.root)}
    process = subprocess.Popen(
        [sys.executable, "-m", "callacct", "scheduler", "run", "--tick", "3600"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    first = process.stdout.readline()  # the loop runs once it has said so
    assert "scheduler started" in first
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert "scheduler stopped" in out


def test_report_run_email(cli: Cli, org: Workspace, server: MailServer) -> None:
    result = cli(
        "report", "run", "cost-by-department", "--from", "2026-11-23", "--to", "2026-11-29",
        "--email", "boss@example.com,cfo@example.com", "--format", "pdf", "--lang", "de",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.output.startswith("sent to boss@example.com, cfo@example.com:")
    [got] = server.received
    assert got.recipients == ["boss@example.com", "cfo@example.com"]
    message = got.message
    assert message["Content-Language"] == "de"
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == "cost-by-department.pdf"
    assert attachment.get_content_type() == "application/pdf"
    text = message.get_body(("plain",))
    assert text is not None
    body = text.get_content()
    assert "Sales" in body
    assert "Support" in body
    [row] = Outbox.of(org).deliveries(origin="report")
    assert row.status == "sent"
    assert row.message_id == message["Message-ID"]
    assert cli.json("schedule", "history")["deliveries"] == []  # not a schedule's


def test_report_run_email_refuses_bad_addresses_before_running(cli: Cli) -> None:
    result = cli("report", "run", "calls-detail", "--email", "boss@example.com\r\nBcc: x@y.z")
    assert result.exit_code == 1
    assert "line break" in result.output
    result = cli("report", "run", "calls-detail", "--subject", "x")
    assert result.exit_code == 2
    assert "--subject goes with --email" in result.output


def test_report_run_email_failure_is_exit_1(tmp_path: Path) -> None:
    org = org_workspace(tmp_path / "org", {"host": "127.0.0.1", "port": 9, "retries": 0,
                                           "security": "plain"})  # fmt: skip
    result = Cli(org.root)("report", "run", "calls-detail", "--email", "boss@example.com")
    assert result.exit_code == 1
    assert "not sent to boss@example.com: cannot reach the SMTP server" in result.output
