"""`Workspace.run_report(group_by=..., tz=...)` and `Workspace.save_report(tz=..., group_by=...)`:
the grouping and time zone of the command line, through the API, masked for the reader."""

from __future__ import annotations

import datetime as dt

import pytest

from callacct import Workspace
from callacct.errors import UsageError
from callacct.i18n import t


def test_the_api_groups_and_keeps_the_zone(org: Workspace) -> None:
    january = {"start": "2026-01-01", "end": "2026-01-31", "type": "all"}
    result = org.run_report("cost-by-site", january, group_by=["department"], tz="Asia/Tokyo")
    assert result.timezone == "Asia/Tokyo"
    assert next(c.key for c in result.columns) == "department"
    assert sorted(result.rows["department"].to_list()) == ["IT", "Sales"]  # outgoing calls
    assert result.period[0] == dt.datetime(2026, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=9)))
    with pytest.raises(UsageError, match="--group-by: 'nope' is not a field"):
        org.run_report("cost-by-site", january, group_by=["nope"])
    entry = org.save_report(
        "by-dept", base="cost-by-site", filters=january, tz="America/New_York",
        group_by=["department"],
    )  # fmt: skip
    assert entry.spec.timezone == "America/New_York"
    assert entry.spec.group_by == ["department"]
    saved = org.run_report("by-dept")
    assert saved.timezone == "America/New_York"
    assert saved.rows.equals(
        org.run_report("cost-by-site", january, group_by=["department"], tz="America/New_York").rows
    )
    with pytest.raises(UsageError, match="--tz: 'Nowhere' is not a time zone"):
        org.save_report("x", base="cost-by-site", tz="Nowhere")


def test_the_api_groups_numbers_masked_for_the_reader(org: Workspace) -> None:
    january = {"start": "2026-01-01", "end": "2026-01-31", "type": "all"}
    sue = org.as_person("sue")  # a supervisor of Sales, numbers masked to 4 digits
    result = sue.run_report("cost-by-site", january, group_by=["remote_number"])
    numbers = set(result.rows["remote_number"].to_list())
    assert "+3361234****" in numbers
    assert "+3369999****" in numbers
    assert not {"+33612345678", "+33699999999"} & numbers
    assert result.language == "de"
    assert result.title.endswith(" — gruppiert nach " + t("field.remote_number", "de"))
