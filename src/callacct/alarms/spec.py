"""Alarm definitions: a YAML file (or the same keys given to `callacct alarm add`) loaded
safely, validated into strict models, checked against the directory, and resolved into an
immutable `Alarm`. Every problem is reported at once, each with file, line and key path and
what to do.

Example:
    >>> alarm = parse_alarm("name: late\\nkind: international\\nrecipients: {to: [a@b.example]}\\n",
    ...                     "late.yaml")
    >>> alarm.kind.name, alarm.every, alarm.every_minutes
    ('international', 'ingest', None)
    >>> parse_alarm("name: x\\nkind: nope\\n", "x.yaml")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    callacct.problems.SpecProblems: x.yaml:2: kind: 'nope' is not an alarm kind; use ...
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from callacct.alarms.kinds import KINDS, Kind, KindParams
from callacct.errors import UsageError
from callacct.i18n import LANGUAGES
from callacct.problems import KeyPath, Problem, SpecProblems, from_validation, line_of
from callacct.yamlfile import parse_yaml

_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")
_EVERY = re.compile(r"(\d{1,5})\s*(m|h|d)")
_UNIT_MINUTES: Final = {"m": 1, "h": 60, "d": 24 * 60}
_ADDRESS = re.compile(r"[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\"]+")
#: How often a dead-feed alarm is checked when its definition does not say.
DEAD_FEED_EVERY: Final = "15m"
#: The largest alarm definition accepted.
MAX_BYTES: Final = 256 * 1024


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Watch(_Strict):
    """What an alarm watches; empty: everything its owner may see. Several lists: a call that
    any of them names (either side of the call)."""

    departments: tuple[str, ...] = ()
    cost_centers: tuple[str, ...] = ()
    sites: tuple[str, ...] = ()
    extensions: tuple[str, ...] = ()
    people: tuple[str, ...] = ()

    def is_everything(self) -> bool:
        return not (
            self.departments or self.cost_centers or self.sites or self.extensions or self.people
        )


class Recipients(_Strict):
    """Who is mailed when the alarm fires: addresses, and/or the supervisors (managers in the
    directory) of the people concerned; `xlsx`: the rows also attached as a workbook."""

    to: tuple[str, ...] = ()
    supervisors: bool = False
    xlsx: bool = False

    @field_validator("to")
    @classmethod
    def _addresses(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for address in value:
            if not _ADDRESS.fullmatch(address):
                raise ValueError(f"{address!r} is not an e-mail address such as it@example.com")
        return value


class AlarmModel(_Strict):
    """The keys of an alarm definition."""

    name: str
    kind: str
    description: str = ""
    params: dict[str, Any] = Field(default_factory=dict)
    scope: Watch = Watch()
    every: str = "ingest"
    recipients: Recipients = Recipients()
    language: str | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME.fullmatch(value):
            raise ValueError(f"{value!r}: use lower-case letters, digits, '-' and '_' (at most 63)")
        return value

    @field_validator("kind")
    @classmethod
    def _kind(cls, value: str) -> str:
        if value not in KINDS:
            raise ValueError(f"{value!r} is not an alarm kind; use {', '.join(KINDS)}")
        return value

    @field_validator("every")
    @classmethod
    def _every(cls, value: str) -> str:
        every_minutes(value)
        return value

    @field_validator("language")
    @classmethod
    def _language(cls, value: str | None) -> str | None:
        if value is not None and value not in LANGUAGES:
            raise ValueError(f"{value!r} is not one of {', '.join(LANGUAGES)}")
        return value


def every_minutes(text: str) -> int | None:
    """Minutes between checks of `every` (`15m`, `1h`, `1d`); None for `ingest` (after each
    load that brought calls).

    >>> every_minutes("15m"), every_minutes("2h"), every_minutes("ingest")
    (15, 120, None)
    """
    if text == "ingest":
        return None
    match = _EVERY.fullmatch(text.strip())
    if not match or int(match[1]) == 0:
        raise ValueError(f"{text!r} is not a frequency; use 'ingest' or e.g. 15m, 1h, 1d")
    return int(match[1]) * _UNIT_MINUTES[match[2]]


@dataclass(frozen=True)
class Facts:
    """What the directory and the settings hold, to check names against (None: not checked)."""

    departments: frozenset[str] | None = None
    cost_centers: frozenset[str] | None = None
    sites: frozenset[str] | None = None
    people: frozenset[str] | None = None


@dataclass(frozen=True)
class Alarm:
    """A validated alarm definition."""

    name: str
    kind: Kind
    params: KindParams
    scope: Watch
    every: str
    recipients: Recipients
    language: str | None
    description: str
    data: dict[str, Any] = field(compare=False)

    @property
    def every_minutes(self) -> int | None:
        return every_minutes(self.every)

    def to_yaml(self) -> str:
        """The definition as YAML (what `alarm show` prints and `alarm edit` starts from)."""
        return yaml.safe_dump(self.data, sort_keys=False, allow_unicode=True)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind.name,
            "description": self.description,
            "params": self.params.model_dump(mode="json"),
            "scope": self.scope.model_dump(mode="json"),
            "every": self.every,
            "recipients": self.recipients.model_dump(mode="json"),
            "language": self.language,
        }


def parse_alarm(text: str | bytes, source: str, facts: Facts | None = None) -> Alarm:
    """An alarm from YAML text; `SpecProblems` listing every problem."""
    doc = parse_yaml(text, source, max_bytes=MAX_BYTES)
    return validate_alarm(doc.data, source, doc.lines, facts)


def validate_alarm(
    data: Any,
    source: str,
    lines: Mapping[KeyPath, int] | None = None,
    facts: Facts | None = None,
) -> Alarm:
    """An alarm from loaded data (`lines`: the line of each key path, if from a file)."""
    lines = lines or {}
    if not isinstance(data, dict):
        raise SpecProblems(
            [Problem(source, line_of(lines, ()), "", "", "an alarm is a mapping: name, kind, ...")]
        )
    problems: list[Problem] = []
    try:
        model = AlarmModel.model_validate(data)
    except ValidationError as exc:
        problems += from_validation(exc, source, lines)
        model = None
    kind_name = data.get("kind")
    params: KindParams | None = None
    if isinstance(kind_name, str) and kind_name in KINDS:
        raw = data.get("params") or {}
        try:
            params = KINDS[kind_name].params.model_validate(raw)
        except ValidationError as exc:
            problems += from_validation(exc, source, lines, prefix=("params",))
    every = data.get("every", "ingest")
    if kind_name == "dead-feed":
        if "every" not in data:
            every = DEAD_FEED_EVERY
        elif every == "ingest":
            problems.append(
                Problem(
                    source,
                    line_of(lines, ("every",)),
                    "every",
                    "ingest",
                    "a dead feed shows when no ingest brings calls: check it on a clock, "
                    "e.g. every: 15m",
                )
            )
    try:
        watch = Watch.model_validate(data.get("scope") or {})
    except ValidationError:
        pass  # reported with the whole definition's problems
    else:
        problems += _check_names(watch, source, lines, facts or Facts())
    if problems or model is None or params is None:
        problems.sort(key=lambda problem: problem.line or 0)
        raise SpecProblems(problems or [Problem(source, None, "", "", "not a valid alarm")])
    return Alarm(
        name=model.name,
        kind=KINDS[model.kind],
        params=params,
        scope=model.scope,
        every=str(every),
        recipients=model.recipients,
        language=model.language,
        description=model.description,
        data=dict(data),
    )


_ADVICE: Final = {
    "departments": ("department", "check 'callacct directory list'"),
    "cost_centers": ("cost centre", "check 'callacct directory list'"),
    "sites": ("site", "check the [sites] of callacct.toml and 'callacct directory list'"),
    "people": ("person", "check 'callacct directory list'"),
}


def _check_names(
    watch: Watch, source: str, lines: Mapping[KeyPath, int], facts: Facts
) -> list[Problem]:
    problems = []
    for key, (what, advice) in _ADVICE.items():
        known: frozenset[str] | None = getattr(facts, key)
        if known is None:
            continue
        values: Sequence[str] = getattr(watch, key)
        for index, value in enumerate(values):
            if value not in known:
                path: KeyPath = ("scope", key, index)
                problems.append(
                    Problem(
                        source,
                        line_of(lines, path),
                        f"scope.{key}[{index}]",
                        value,
                        f"no {what} {value!r} is known; {advice}",
                    )
                )
    return problems


def apply_options(
    data: Mapping[str, Any] | None,
    *,
    name: str | None = None,
    kind: str | None = None,
    description: str | None = None,
    params: Sequence[str] = (),
    scope: Mapping[str, Sequence[str]] | None = None,
    every: str | None = None,
    to: Sequence[str] = (),
    supervisors: bool | None = None,
    xlsx: bool | None = None,
    language: str | None = None,
) -> dict[str, Any]:
    """A definition (`data`, or a new one) with the keys given as command options: `params`
    as `key=value` (a dotted key reaches inside, the value is read as YAML:
    `countries=[CU, KP]`, `amount={EUR: 200}`); lists in `scope` and `to` replace those of
    `data`. `UsageError` for a parameter that is not `key=value`.

    >>> data = apply_options({"name": "a", "kind": "international"}, params=["countries=[CU]"],
    ...                      scope={"departments": ["Sales"]})
    >>> data["params"], data["scope"]
    ({'countries': ['CU']}, {'departments': ['Sales']})
    """
    out: dict[str, Any] = dict(data or {})
    for key, value in (
        ("name", name),
        ("kind", kind),
        ("description", description),
        ("every", every),
        ("language", language),
    ):
        if value is not None:
            out[key] = value
    for item in params:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--param {item!r}: write KEY=VALUE, e.g. --param min_count=5")
        value = parse_yaml(text, f"--param {key}", max_bytes=MAX_BYTES).data if text else ""
        target = out.setdefault("params", {})
        *parents, last = key.strip().split(".")
        for part in parents:
            target = target.setdefault(part, {})
            if not isinstance(target, dict):
                raise UsageError(f"--param {key}: {part} is not a mapping")
        target[last] = value
    for key, values in (scope or {}).items():
        if values:
            out.setdefault("scope", {})[key] = list(values)
    if to:
        out.setdefault("recipients", {})["to"] = list(to)
    for key, flag in (("supervisors", supervisors), ("xlsx", xlsx)):
        if flag is not None:
            out.setdefault("recipients", {})[key] = flag
    return out
