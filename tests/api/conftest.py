"""A small organisation opened through the API: four people at two sites, five calls.

Alice (user, Sales, PAR, French) made call 1 and the internal call 3 to Bob; Bob (user,
Marketing, NYC) received call 2 and call 3; Sue (supervisor of Sales, numbers masked to her)
made call 4; Ada (admin) made call 5.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from callacct import Workspace
from callacct.store import open_store
from tests.directory.helpers import add_call, write_csv

PEOPLE = (
    "alice,Alice Martin,,fr,user,Sales,CC-1100,PAR,2001,sue,",
    "bob,Bob Smith,,en,user,Marketing,CC-2700,NYC,3001,,",
    "sue,Sue Petit,,de,supervisor,Sales,CC-1100,PAR,2002,,",
    "ada,Ada King,,en,admin,IT,CC-1400,PAR,2003,,",
)
DAY = dt.datetime(2026, 1, 5, 9)
#: call id -> the people whose calls it is
OWNERS = {1: {"alice"}, 2: {"bob"}, 3: {"alice", "bob"}, 4: {"sue"}, 5: {"ada"}}
#: what each person may read
SEES = {
    "alice": {1, 3},
    "bob": {2, 3},
    "sue": {1, 3, 4},  # department Sales, either side
    "ada": {1, 2, 3, 4, 5},
}


@pytest.fixture
def org(tmp_path: Path) -> Workspace:
    """The operator's workspace of the organisation, every call attributed and rated."""
    root = tmp_path / "org"
    workspace = Workspace.create(root, timezone="UTC", extension_pattern=r"^[23]\d{3}$")
    store = open_store(workspace.store_path)
    try:
        add_call(store.con, 1, DAY, "outgoing", "2001", remote="+33612345678")
        add_call(store.con, 2, DAY, "incoming", "3001", remote="+12125550100")
        add_call(store.con, 3, DAY, "internal", "2001", peer="3001")
        add_call(store.con, 4, DAY, "outgoing", "2002", remote="+33699999999")
        add_call(store.con, 5, DAY, "outgoing", "2003", remote="+33611111111")
    finally:
        store.close()
    settings = root / "callacct.toml"
    settings.write_text(settings.read_text().replace("supervisor = 0", "supervisor = 4", 1))
    workspace = Workspace.open(root)
    workspace.directory_import(write_csv(tmp_path / "people.csv", *PEOPLE))
    workspace.rate()
    return workspace
