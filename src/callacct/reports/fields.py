"""The fields reports know: the single registry that filters, groupings, measures, columns and
the `--where` language are checked against.

Each field is a constant SQL expression over the `calls` table; only these expressions ever reach
SQL text, user values are bound parameters. `{local}` stands for the call's start in the run's
time zone (see `callacct.reports.clock`), filled in by whoever compiles the expression.

Example:
    >>> field("duration").name, field("duration").kind
    ('duration_s', 'duration')
    >>> field("hour").sql
    'hour({local})'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from callacct.errors import UsageError
from callacct.reports.result import ColumnKind


@dataclass(frozen=True)
class Field:
    """A field: its canonical name, SQL over `calls`, kind, and whether it can group rows."""

    name: str
    sql: str
    kind: ColumnKind
    groupable: bool = True

    @property
    def label_key(self) -> str:
        """The `callacct.i18n` key of the field's label."""
        return f"field.{self.name}"

    @property
    def local(self) -> bool:
        """Whether the SQL needs the run's time zone (the clock's parameters at each use)."""
        return "{local}" in self.sql

    @property
    def numeric(self) -> bool:
        return self.kind in ("integer", "number", "money", "duration", "percent")


def _f(name: str, kind: ColumnKind, sql: str | None = None, *, groupable: bool = True) -> Field:
    return Field(name, sql or name, kind, groupable)


FIELDS: Final[dict[str, Field]] = {
    f.name: f
    for f in (
        _f("call_id", "integer", groupable=False),
        _f("started_at", "datetime", groupable=False),
        _f("answered_at", "datetime", groupable=False),
        _f("ended_at", "datetime", groupable=False),
        _f("day", "date", "CAST({local} AS DATE)"),
        _f("week", "text", "strftime({local}, '%G-W%V')"),
        _f("month", "text", "strftime({local}, '%Y-%m')"),
        _f("hour", "integer", "hour({local})"),
        _f("weekday", "integer", "isodow({local})"),
        _f("direction", "text"),
        _f("answered", "boolean"),
        _f("disposition", "text"),
        _f("extension", "text"),
        _f("peer_extension", "text"),
        _f("user", "text", "user_login"),
        _f("peer_user", "text", "peer_login"),
        _f("department", "text"),
        _f("cost_center", "text"),
        _f("site", "text"),
        _f("gateway", "text"),
        _f("orig_device", "text"),
        _f("dest_device", "text"),
        _f("remote_number", "text"),
        _f("calling_number", "text"),
        _f("called_number", "text"),
        _f("final_number", "text"),
        _f("dest_class", "text"),
        _f("dest_country", "text"),
        _f("destination", "text"),
        _f("plan_id", "text"),
        _f("currency", "text"),
        _f("source", "text"),
        _f("duration_s", "duration"),
        _f("ring_s", "duration"),
        _f("billed_s", "duration"),
        _f("cost", "money"),
        _f("mos", "number"),
        _f("jitter_ms", "integer"),
        _f("latency_ms", "integer"),
        _f("loss_pct", "number"),
        _f("transfer", "boolean"),
        _f("forward", "boolean"),
        _f("conference", "boolean"),
        _f("undefined_extension", "boolean", "coalesce(undefined_extension, false)"),
    )
}

#: Other names people use for a field.
ALIASES: Final[dict[str, str]] = {
    "duration": "duration_s",
    "ring": "ring_s",
    "ring_time": "ring_s",
    "billed": "billed_s",
    "country": "dest_country",
    "class": "dest_class",
    "login": "user",
    "user_login": "user",
    "cost_centre": "cost_center",
    "number": "remote_number",
}


#: Names of the fields that read the local time, for a quick check of expressions.
LOCAL_FIELDS: Final = frozenset(f.name for f in FIELDS.values() if f.local)


def find_field(name: str) -> Field | None:
    """The field called `name` (or an alias of it), case-insensitively; None if unknown."""
    key = name.lower()
    return FIELDS.get(ALIASES.get(key, key))


def field(name: str) -> Field:
    """The field called `name`; `UsageError` naming the known fields if there is none."""
    found = find_field(name)
    if found is None:
        raise UsageError(f"unknown field {name!r}; known fields: {', '.join(FIELDS)}")
    return found
