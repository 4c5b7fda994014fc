"""Phone lock (F-LOCK): lock and unlock extensions in the phone system, with an admin lock
that wins, budget locks, personal PINs, the IP-phone service and workstation hooks.

The service (`service.LockService`) decides and records; backends (`backends/`: CUCM AXL,
Webex Calling, dry-run) change the lines; `standin.py` is an AXL server for tests and demos.
See docs/lock.md.
"""

from callacct.lock.model import (
    ADMIN_LOCKED,
    LOCKED,
    LOCKED_BUDGET,
    STATES,
    UNLOCKED,
    ChangeReport,
    LockEvent,
    LockStatus,
    Outcome,
)
from callacct.lock.service import (
    Actor,
    LockService,
    SyncReport,
    held,
    lock_for_budget,
    unlock_for_budget,
)

__all__ = [
    "ADMIN_LOCKED",
    "LOCKED",
    "LOCKED_BUDGET",
    "STATES",
    "UNLOCKED",
    "Actor",
    "ChangeReport",
    "LockEvent",
    "LockService",
    "LockStatus",
    "Outcome",
    "SyncReport",
    "held",
    "lock_for_budget",
    "unlock_for_budget",
]
