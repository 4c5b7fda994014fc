"""What the API's methods return: values a script reads and the command line prints.

Every result has a `to_dict()` that is exactly what the matching command prints with `--json`
(a test checks they agree), so a script and `callacct ... --json` see the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TextIO

import polars as pl

from callacct.budgets import Evaluation
from callacct.directory import AttributionResult, DirectoryImport
from callacct.ingest.engine import IngestReport
from callacct.problems import Problem
from callacct.query.calls import calls_as_json, write_calls_json
from callacct.query.scope import Scope
from callacct.rating import ImportReport, RateReport

if TYPE_CHECKING:
    from callacct.api.alarms import AlarmRun


@dataclass
class IngestResult:
    """What one ingest did: the ingest report (with move warnings), then the attribution and
    rating of every call left to finish (None for a dry run)."""

    ingest: IngestReport
    attribution: AttributionResult | None = None
    rating: RateReport | None = None
    alarms: AlarmRun | None = None
    #: What the budget evaluation after the ingest did (None: not run, e.g. no budget).
    budgets: Evaluation | None = None

    @property
    def has_problems(self) -> bool:
        """Records were rejected, a file failed or could not be moved (exit code 1)."""
        return self.ingest.has_problems

    @property
    def warnings(self) -> list[str]:
        return [*self.ingest.warnings, *(self.rating.warnings if self.rating else ())]

    def to_dict(self) -> dict[str, Any]:
        out = {**self.ingest.to_dict(), "rating": self.rating.to_dict() if self.rating else None}
        if self.alarms is not None:
            out["alarms"] = self.alarms.to_dict()
        if self.budgets is not None:
            out["budgets"] = self.budgets.counts()
        return out


@dataclass(frozen=True)
class CallList:
    """Calls as a reader may see them (numbers masked for them), oldest first, times in
    `timezone`; `total` is how many matched (more than listed when limited)."""

    frame: pl.DataFrame
    total: int
    timezone: str

    def to_dicts(self) -> list[dict[str, Any]]:
        """The calls as `callacct calls --json` prints them (for a few calls)."""
        return calls_as_json(self.frame)

    def write_json(self, out: TextIO) -> None:
        """The calls as a JSON array, written in batches (any number)."""
        write_calls_json(self.frame, out)


@dataclass(frozen=True)
class RawRecord:
    """A call's source record, as the PBX wrote it."""

    call_id: int
    file: str
    line: int
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {"call_id": self.call_id, "file": self.file, "line": self.line, "raw": self.text}


@dataclass(frozen=True)
class DirectoryResult:
    """A directory import or LDAP sync, and the re-rating of the calls it attributed again to
    another site (None when nothing needed it)."""

    directory: DirectoryImport
    rating: RateReport | None = None

    @property
    def has_problems(self) -> bool:
        return self.directory.has_problems

    def to_dict(self) -> dict[str, Any]:
        rating = self.rating.to_dict() if self.rating else None
        return {**self.directory.to_dict(), "rating": rating}


@dataclass(frozen=True)
class TariffImport:
    """A tariff import, the re-rating after it (None: dry run or not asked for) and what to
    tell about it (the default plan taken over, costs left stale by `rate=False`)."""

    report: ImportReport
    rating: RateReport | None = None
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {**self.report.to_dict(), "rating": self.rating.to_dict() if self.rating else None}


@dataclass(frozen=True)
class Login:
    """Someone whose directory password was checked, and what they may see."""

    login: str
    dn: str
    scope: Scope

    def to_dict(self) -> dict[str, Any]:
        return {"login": self.login, "dn": self.dn, **self.scope.to_dict()}


@dataclass(frozen=True)
class ReportCheck:
    """Report specs checked, and every problem found in them."""

    checked: int
    problems: list[Problem]

    def to_dict(self) -> dict[str, Any]:
        return {"checked": self.checked, "problems": [p.to_dict() for p in self.problems]}
