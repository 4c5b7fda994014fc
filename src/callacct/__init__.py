"""callacct: call accounting for Cisco CUCM and other PBXs.

Loads call detail records into DuckDB, works out who made each call and what it cost, and from
that produces reports, alarms, budgets and phone-line locks. `callacct.Workspace` is the API
(see `callacct.api`); importing `callacct` alone stays cheap: the API is loaded when first used.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# Polars' allocator (jemalloc) reads its options once, when Polars is first loaded, so they are
# set here, before any callacct module imports Polars (the command line always comes through
# here first). Freed pages are kept for reuse for 30 s instead of being handed back to the
# system almost at once: an ingest frees and allocates the columns of one 16 MB piece after
# another, and paid for it in page faults (measured in docs/benchmarks.md, Ingest). A value set
# in the environment wins.
ALLOCATOR_OPTIONS = "dirty_decay_ms:30000,muzzy_decay_ms:30000"
os.environ.setdefault("_RJEM_MALLOC_CONF", ALLOCATOR_OPTIONS)

if TYPE_CHECKING:
    from callacct.api import (
        CallFilter,
        CallList,
        DirectoryResult,
        HomeView,
        IngestResult,
        Login,
        RawRecord,
        ReportCheck,
        ReportEntry,
        ReportResult,
        Scope,
        TariffImport,
        Workspace,
    )

_API = (
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
)
__all__ = [
    "ALLOCATOR_OPTIONS",
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
    "__version__",
]


def __getattr__(name: str) -> Any:
    """The API's names, imported when first asked for (`callacct.Workspace`)."""
    if name in _API:
        from callacct import api

        return getattr(api, name)
    raise AttributeError(f"module 'callacct' has no attribute {name!r}")
