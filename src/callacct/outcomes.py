"""What a due job did, as data: one `JobOutcome` per thing done.

The jobs a scheduler runs (`callacct.delivery.jobs.DUE_JOBS`: scheduled reports, alarms,
budgets) each return a list of outcomes: the job, what the outcome is about, a status, the
messages sent, skipped and failed, and the log line people read. Callers decide from the data —
`callacct schedule run-due` exits 1 when an outcome `failed` — never from the text of a line.

Example:
    >>> sent = JobOutcome("schedules", "schedule s 2026-W48: 2 sent", sent=2)
    >>> broken = JobOutcome("budgets", "budgets: error: locked", "failed", error="locked")
    >>> any_failed([sent]), any_failed([sent, broken]), lines_of([sent])
    (False, True, ['schedule s 2026-W48: 2 sent'])
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final, Literal, get_args

#: `done`: done as asked; `skipped`: nothing to send (an empty report, a missed period);
#: `fired`: an alarm fired; `running`: messages another runner is sending; `failed`: a message
#: could not be sent, an alarm could not be evaluated, a lock failed, or the job raised.
Status = Literal["done", "skipped", "fired", "running", "failed"]
STATUSES: Final[tuple[str, ...]] = get_args(Status)


@dataclass(frozen=True, slots=True)
class JobOutcome:
    """One thing a due job did: `job` (its name in `DUE_JOBS`), the log `line`, a `status`,
    `subject` (what it is about: a schedule and period, an alarm, a budget), the messages
    `sent`, `skipped` (empty) and `failed`, and the `error` of a failure."""

    job: str
    line: str
    status: Status = "done"
    subject: str | None = None
    sent: int = 0
    skipped: int = 0
    failed: int = 0
    error: str | None = None

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"job outcome status {self.status!r} is not one of {STATUSES}")
        if self.failed and self.status != "failed":
            raise ValueError(f"{self.failed} failed message(s) make the status 'failed'")

    @property
    def ok(self) -> bool:
        """False when the outcome failed."""
        return self.status != "failed"

    def to_dict(self) -> dict[str, Any]:
        return {
            "job": self.job,
            "subject": self.subject,
            "status": self.status,
            "sent": self.sent,
            "skipped": self.skipped,
            "failed": self.failed,
            "error": self.error,
            "line": self.line,
        }


def any_failed(outcomes: Iterable[JobOutcome]) -> bool:
    """Whether any of `outcomes` failed."""
    return any(not outcome.ok for outcome in outcomes)


def lines_of(outcomes: Iterable[JobOutcome]) -> list[str]:
    """The log lines of `outcomes`, in order."""
    return [outcome.line for outcome in outcomes]
