"""The due jobs' interface: each returns `JobOutcome`s (status and counts as data, and the log
line), a job that raises is one failed outcome and the next job still runs, `progress` reaches
every job, and the schedules tell it of each message prepared."""

from __future__ import annotations

import datetime as dt
import inspect
from typing import Any

import pytest

from callacct import Workspace
from callacct.delivery import schedules as schedules_module
from callacct.delivery.jobs import DUE_JOBS, run_due_jobs
from callacct.delivery.schedules import run_due
from callacct.errors import ConfigError, DeliveryError
from callacct.outcomes import JobOutcome, any_failed, lines_of
from callacct.progress import Progress, Step
from tests.delivery.conftest import WEEKLY_DUE, MailServer, org_workspace, weekly_to_supervisors

NOW = dt.datetime(2026, 12, 7, 6, 0, tzinfo=dt.UTC)


def failing_job(workspace: Any, now: dt.datetime, *, progress: Progress | None = None) -> Any:
    raise DeliveryError("the mail server refused the login")


def quiet_job(
    workspace: Any, now: dt.datetime, *, progress: Progress | None = None
) -> list[JobOutcome]:
    if progress is not None:
        progress(Step("budgets"))
    return [JobOutcome("quiet", f"quiet at {now:%H:%M}", subject="all")]


def test_a_job_that_raises_is_a_failed_outcome_and_the_next_job_runs() -> None:
    seen: list[Step] = []
    jobs = (
        ("failing", f"{__name__}:failing_job"),
        ("missing", f"{__name__}:no_such_job"),
        ("quiet", f"{__name__}:quiet_job"),
    )
    outcomes = run_due_jobs(object(), NOW, progress=seen.append, jobs=jobs)
    assert [(o.job, o.status) for o in outcomes] == [
        ("failing", "failed"),
        ("missing", "failed"),
        ("quiet", "done"),
    ]
    assert outcomes[0].line == "failing: error: the mail server refused the login"
    assert outcomes[0].error == "the mail server refused the login"
    assert outcomes[1].line.startswith("missing: error: due job ")
    assert lines_of(outcomes)[2] == "quiet at 06:00"
    assert any_failed(outcomes)
    assert not any_failed(outcomes[2:])
    assert seen == [Step("budgets")]


def test_every_due_job_takes_progress() -> None:
    from callacct.delivery.jobs import load_job

    for _name, target in DUE_JOBS:
        parameters = inspect.signature(load_job(target)).parameters
        assert parameters["progress"].kind is inspect.Parameter.KEYWORD_ONLY, target
    with pytest.raises(ConfigError, match="cannot be loaded"):
        load_job("callacct.delivery.jobs:nothing_here")


def test_an_outcome_with_failed_messages_is_failed() -> None:
    with pytest.raises(ValueError, match="failed"):
        JobOutcome("schedules", "schedule s p: 0 sent, 0 skipped (empty), 1 failed", failed=1)
    with pytest.raises(ValueError, match="status"):
        JobOutcome("schedules", "x", "sideways")  # type: ignore[arg-type]
    assert JobOutcome("alarms", "alarm a: fired: 1 call", "fired").ok


def test_the_schedules_outcomes_and_progress(org: Workspace, server: MailServer) -> None:
    weekly_to_supervisors(org)
    seen: list[Step] = []
    [outcome] = run_due(org, WEEKLY_DUE, progress=seen.append)
    assert outcome.to_dict() == {
        "job": "schedules",
        "subject": "dept-weekly 2026-W48",
        "status": "done",
        "sent": 2,
        "skipped": 0,
        "failed": 0,
        "error": None,
        "line": "schedule dept-weekly 2026-W48: 2 sent, 0 skipped (empty), 0 failed",
    }
    assert seen == [Step("deliveries", done, 2, "messages") for done in (0, 1, 2)]
    seen.clear()
    assert run_due(org, WEEKLY_DUE + dt.timedelta(minutes=5), progress=seen.append) == []
    assert seen == []  # nothing due: no progress line


def test_a_failed_delivery_is_a_failed_outcome(tmp_path: Any) -> None:
    smtp = {"host": "127.0.0.1", "port": 9, "security": "plain", "retries": 0}
    org = org_workspace(tmp_path / "org", smtp)
    weekly_to_supervisors(org)
    [outcome] = run_due(org, WEEKLY_DUE)
    assert (outcome.status, outcome.sent, outcome.failed) == ("failed", 0, 2)
    assert outcome.error is not None
    assert "cannot reach the SMTP server 127.0.0.1:9" in outcome.error
    assert any_failed([outcome])


def test_missed_periods_are_skipped_outcomes(org: Workspace, server: MailServer) -> None:
    org.add_schedule(
        "daily",
        report="calls-detail",
        every="day",
        to=["ops@example.com"],
        now=dt.datetime(2026, 11, 22, 12, tzinfo=dt.UTC),
    )
    seen: list[Step] = []
    outcomes = run_due(org, dt.datetime(2026, 11, 28, 12, tzinfo=dt.UTC), progress=seen.append)
    assert [(o.subject, o.status, o.sent, o.skipped) for o in outcomes] == [
        ("daily 2026-11-22", "skipped", 0, 0),
        ("daily 2026-11-23", "skipped", 0, 0),
        ("daily 2026-11-24", "skipped", 0, 0),
        ("daily 2026-11-25", "done", 1, 0),
        ("daily 2026-11-26", "done", 1, 0),
        ("daily 2026-11-27", "skipped", 0, 1),
    ]
    assert not any_failed(outcomes)
    # One message for each of the three periods run, counted across the runs.
    assert [(s.done, s.total) for s in seen] == [(0, 3), (1, 3), (2, 3), (3, 3)]


def test_a_schedule_that_cannot_run_fails_and_the_others_run(
    org: Workspace, server: MailServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    weekly_to_supervisors(org)
    org.add_schedule(
        "ops-weekly",
        report="calls-detail",
        every="week",
        on="mon",
        at="07:00",
        to=["ops@example.com"],
        now=WEEKLY_DUE - dt.timedelta(days=3),
    )
    original = schedules_module.prepare_messages

    def broken(workspace: Any, run: Any, *args: Any) -> Any:
        if run.schedule.name == "dept-weekly":
            raise DeliveryError("the report cannot be rendered")
        return original(workspace, run, *args)

    monkeypatch.setattr(schedules_module, "prepare_messages", broken)
    outcomes = run_due(org, WEEKLY_DUE)
    assert {o.subject: (o.status, o.sent, o.failed, o.error) for o in outcomes} == {
        "dept-weekly 2026-W48": ("failed", 0, 1, "the report cannot be rendered"),
        "ops-weekly 2026-W48": ("done", 1, 0, None),
    }


def test_run_due_of_the_workspace_returns_every_jobs_outcomes(
    org: Workspace, server: MailServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    weekly_to_supervisors(org)
    seen: list[Step] = []
    outcomes = org.run_due(WEEKLY_DUE, progress=seen.append)
    assert [(o.job, o.status) for o in outcomes] == [("schedules", "done")]
    assert [s.stage for s in seen] == ["deliveries"] * 3 + ["budgets"]

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise DeliveryError("the outbox is full")

    monkeypatch.setattr(schedules_module, "run_due", broken)
    seen.clear()
    outcomes = org.run_due(WEEKLY_DUE + dt.timedelta(days=7), progress=seen.append)
    assert [(o.job, o.status, o.line) for o in outcomes] == [
        ("schedules", "failed", "schedules: error: the outbox is full")
    ]
    assert seen == [Step("budgets")]  # the next jobs ran: nothing to report


def test_the_due_jobs_stages_are_named_in_every_language() -> None:
    from callacct.cli._output import describe_step
    from callacct.i18n import LANGUAGES

    for stage in ("deliveries", "alarms", "budgets"):
        names = {language: describe_step(Step(stage), language) for language in LANGUAGES}  # type: ignore[arg-type]
        assert len(set(names.values())) == len(LANGUAGES), names  # each its own translation
        assert all(not name.startswith("cli.") for name in names.values()), names
    assert describe_step(Step("deliveries", 3, 10, "messages")) == "sending scheduled reports"
