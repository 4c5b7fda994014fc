"""Alarms (F-ALARM-1..8): definitions, the eight kinds and their evaluation over the calls
that arrived since the last one, the firings on record, and the mail that tells of them.

An alarm is a validated definition (`spec.py`) of one of the kinds of the registry
(`kinds.py`), evaluated as DuckDB SQL in its owner's scope (`evaluate.py`), its state and
firings kept in the store (`records.py`), its mail built by `mail.py`. The API
(`callacct.api.alarms`) adds the rules of who owns and runs which alarm.
"""

from callacct.alarms import records
from callacct.alarms.evaluate import Context, Firing, Window, evaluate, last_finished_call
from callacct.alarms.hours import WorkingHours
from callacct.alarms.kinds import KINDS, Kind
from callacct.alarms.spec import Alarm, Facts, parse_alarm, validate_alarm

__all__ = [
    "KINDS",
    "Alarm",
    "Context",
    "Facts",
    "Firing",
    "Kind",
    "Window",
    "WorkingHours",
    "evaluate",
    "last_finished_call",
    "parse_alarm",
    "records",
    "validate_alarm",
]
