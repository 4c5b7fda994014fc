"""Bad alarm definitions are refused with file, line, key and what to do — every problem at
once; good ones are stored as given."""

from __future__ import annotations

from pathlib import Path

import pytest

from callacct import Workspace
from callacct.alarms import parse_alarm
from callacct.problems import SpecProblems

GOOD = """\
name: night
kind: out-of-hours
description: calls out of hours at the Paris office
params:
  hours:
    days:
      mon-fri: ["08:00-12:30", "13:30-18:00"]
    holidays: [2026-12-25]
  external_only: true
scope:
  sites: [PAR]
every: 1h
recipients:
  to: [security@example.com]
  supervisors: true
  xlsx: true
language: fr
"""


def _problems(org: Workspace, text: str, tmp_path: Path) -> list[str]:
    path = tmp_path / "alarm.yaml"
    path.write_text(text)
    with pytest.raises(SpecProblems) as caught:
        org.alarms().add(path)
    return [str(problem).replace(str(path), "alarm.yaml") for problem in caught.value.problems]


def test_a_good_definition_is_stored_as_written(org: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "night.yaml"
    path.write_text(GOOD)
    entry = org.alarms().add(path)
    assert entry.alarm.every_minutes == 60
    assert entry.alarm.recipients.supervisors
    assert org.alarms().show("night").alarm.to_yaml() == parse_alarm(GOOD, "x").to_yaml()


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ("kind: out-of-hours", "kind: out-of-office"),
            "alarm.yaml:2: kind: 'out-of-office' is not an alarm kind; use out-of-hours, "
            "forbidden-numbers, spend-above, missed-calls, international, dead-feed, "
            "unknown-destinations, undefined-extensions",
        ),
        (
            ("sites: [PAR]", "departments: [Sales, Legal]"),
            "alarm.yaml:11: scope.departments[1]: no department 'Legal' is known; check "
            "'callacct directory list'",
        ),
        (
            ('"13:30-18:00"', '"13:30-12:00"'),
            "alarm.yaml:6: params.hours.days: '13:30-12:00': the end must come after the start "
            "(same day)",
        ),
        (
            ("every: 1h", "every: hourly"),
            "alarm.yaml:12: every: 'hourly' is not a frequency; use 'ingest' or e.g. 15m, 1h, 1d",
        ),
        (
            ("external_only: true", "external_only: true\n  colour: red"),
            "alarm.yaml:10: params.colour: unknown key; remove it or check its spelling",
        ),
        (
            ("to: [security@example.com]", "to: [security]"),
            "alarm.yaml:14: recipients.to: 'security' is not an e-mail address such as "
            "it@example.com",
        ),
    ],
)
def test_a_bad_definition_names_file_line_key_and_what_to_do(
    org: Workspace, tmp_path: Path, change: tuple[str, str], expected: str
) -> None:
    assert expected in _problems(org, GOOD.replace(*change), tmp_path)


def test_bad_patterns_and_negative_amounts(org: Workspace, tmp_path: Path) -> None:
    text = (
        "name: bad\nkind: forbidden-numbers\nparams:\n  patterns: ['^+33(']\n  numbers: [call-me]\n"
    )
    problems = _problems(org, text, tmp_path)
    assert problems[0].startswith("alarm.yaml:4: params.patterns: '^+33(' is not a valid regular")
    assert problems[1] == (
        "alarm.yaml:5: params.numbers: 'call-me' is not a phone number; write digits, "
        "optionally '+' first"
    )
    text = "name: dear\nkind: spend-above\nparams:\n  amount: {EUR: -5}\n  period: year\n"
    assert _problems(org, text, tmp_path) == [
        "alarm.yaml:4: params.amount: EUR -5: an amount cannot be negative",
        "alarm.yaml:5: params.period: 'year' is not one of 'day', 'week' or 'month'",
    ]


def test_every_problem_is_reported_at_once(org: Workspace, tmp_path: Path) -> None:
    text = "name: Bad Name\nkind: dead-feed\nevery: ingest\nscope: {people: [nobody]}\n"
    assert _problems(org, text, tmp_path) == [
        "alarm.yaml:1: name: 'Bad Name': use lower-case letters, digits, '-' and '_' (at most 63)",
        "alarm.yaml:3: every: a dead feed shows when no ingest brings calls: check it on a "
        "clock, e.g. every: 15m",
        "alarm.yaml:4: scope.people[0]: no person 'nobody' is known; check 'callacct "
        "directory list'",
    ]


def test_yaml_itself_is_checked(org: Workspace, tmp_path: Path) -> None:
    problems = _problems(org, "name: a\nname: b\nkind: international\n", tmp_path)
    assert problems == ["alarm.yaml:2: name: appears twice (lines 1 and 2); keep one"]
    assert _problems(org, "- a list\n", tmp_path) == [
        "alarm.yaml:1: an alarm is a mapping: name, kind, ..."
    ]
