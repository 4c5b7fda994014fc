"""The demo's alarms: one of each kind, set so that the demo's calls make most of them fire
(`callacct alarm run` after building the demo; the feed alarm fires in working hours, as the
demo's calls stop the day before it is built)."""

from __future__ import annotations

from typing import Any, Final

from callacct.api import Workspace

TELECOM: Final = "telecom@example.com"

DEMO_ALARMS: Final[tuple[dict[str, Any], ...]] = (
    {
        "name": "night-calls",
        "kind": "out-of-hours",
        "description": "external calls outside office hours, in each site's time zone",
        "params": {
            "hours": {
                "days": {"mon-fri": ["08:00-12:30", "13:30-19:00"], "sat": ["09:00-12:00"]},
                "holidays": ["2026-12-25", "2027-01-01"],
            },
            "external_only": True,
        },
        "recipients": {"to": [TELECOM], "xlsx": True},
    },
    {
        "name": "premium-numbers",
        "kind": "forbidden-numbers",
        "description": "premium-rate numbers, as dialled in France or the US",
        "params": {"prefixes": ["0899", "0892", "+1900"], "patterns": [r"^\+8816"]},
        "recipients": {"to": [TELECOM], "supervisors": True},
    },
    {
        "name": "department-spend",
        "kind": "spend-above",
        "description": "a department spending more than 40 a week",
        "params": {"per": "department", "amount": {"EUR": 40, "USD": 40}, "period": "week"},
        "recipients": {"to": ["finance@example.com"]},
    },
    {
        "name": "missed-calls",
        "kind": "missed-calls",
        "description": "an extension missing more than 4 calls a day",
        "params": {"more_than": 4, "period": "day"},
        "recipients": {"supervisors": True},
    },
    {
        "name": "long-international",
        "kind": "international",
        "description": "international calls longer than 10 minutes",
        "params": {"min_duration_s": 600},
        "recipients": {"to": [TELECOM]},
    },
    {
        "name": "cdr-feed",
        "kind": "dead-feed",
        "description": "no call records for an hour in office hours",
        "params": {"minutes": 60, "hours": {"days": {"mon-fri": ["08:00-19:00"]}}},
        "every": "15m",
        "recipients": {"to": ["it@example.com"]},
    },
    {
        "name": "unknown-destinations",
        "kind": "unknown-destinations",
        "params": {"min_count": 3},
        "recipients": {"to": [TELECOM]},
    },
    {
        "name": "undefined-extensions",
        "kind": "undefined-extensions",
        "recipients": {"to": ["it@example.com"]},
    },
)


def add_demo_alarms(workspace: Workspace) -> list[str]:
    """Add the demo's alarms, covering the calls already stored (their first run fires)."""
    alarms = workspace.alarms()
    return [alarms.add(definition, backfill=True).name for definition in DEMO_ALARMS]
