"""The public Python API: `Workspace`, the one object every caller uses.

The command line, the demo builder, scripts — and the scheduler and web pages to come — open a
workspace as a person and call the same methods; workflows (ingest → attribute → rate, a
report in the reader's language) and the rules of who may see what are written once, here.

Example:
    >>> import callacct
    >>> callacct.Workspace is Workspace
    True
"""

from callacct.api.results import (
    CallList,
    DirectoryResult,
    IngestResult,
    Login,
    RawRecord,
    ReportCheck,
    TariffImport,
)
from callacct.api.workspace import Workspace, check_report_files
from callacct.query.calls import CallFilter
from callacct.query.scope import Scope
from callacct.reports.home import HomeView
from callacct.reports.library import ReportEntry
from callacct.reports.result import ReportResult

__all__ = [
    "CallFilter",
    "CallList",
    "DirectoryResult",
    "HomeView",
    "IngestResult",
    "Login",
    "RawRecord",
    "ReportCheck",
    "ReportEntry",
    "ReportResult",
    "Scope",
    "TariffImport",
    "Workspace",
    "check_report_files",
]
