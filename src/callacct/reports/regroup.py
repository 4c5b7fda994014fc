"""Another grouping for a report: `--group-by FIELD[,FIELD]` on a run or a saved personal report.

`regroup(spec, ["department"])` is the report with its rows grouped by those fields instead,
and the rest of the spec made to fit:

- the fields are checked first: each must be one a report can group by (one line naming the
  fields allowed otherwise), given once, not the name of one of the report's measures;
- sort keys, fill and formats of the groupings left out are dropped (the measures' stay);
- a grouping by one time field (hour, weekday, day, week, month), alone or with the currency,
  is a time series and shows every value of the period (`fill`), as the public time series do;
- the chart follows: its category, if left out, becomes the first new grouping (a line over a
  grouping that is not a time becomes bars); a value it can no longer draw (an average of rows
  now also grouped by something else) is left out, and when nothing can be drawn the chart is
  dropped with a note saying why;
- the title says the grouping in every language ("... — grouped by Department"), unless the
  caller gives a title.

The masking rules do not change: a grouping by a number groups by what the reader sees of it
(`callacct.query.reports`), so grouping by a masked number shows its masked form.

Example:
    >>> from callacct.reports.library import public_reports
    >>> done = regroup(public_reports()["cost-by-class"], ["department"], "en")
    >>> done.spec.group_by, done.spec.chart.category, done.spec.sort
    (['department'], 'department', ['-cost'])
    >>> done.spec.title["en"]
    'Cost by destination class — grouped by Department'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from callacct.errors import UsageError
from callacct.i18n import LANGUAGES, t
from callacct.problems import format_path
from callacct.reports.fields import FIELDS, find_field
from callacct.reports.spec import (
    FILLABLE,
    ChartSpec,
    ReportSpec,
    check_spec,
    text_in,
)


@dataclass(frozen=True)
class Regrouped:
    """A report grouped another way, and what a person should be told about it (translated)."""

    spec: ReportSpec
    notes: list[str] = field(default_factory=list)


def groupable_fields(spec: ReportSpec) -> list[str]:
    """The fields `spec` can be grouped by: the registry's fields that group rows, except the
    names of its measures.

    >>> from callacct.reports.library import public_reports
    >>> "department" in groupable_fields(public_reports()["cost-by-class"])
    True
    >>> "cost" in groupable_fields(public_reports()["cost-by-class"])
    False
    """
    measures = {m.name for m in spec.measures}
    return [f.name for f in FIELDS.values() if f.groupable and f.name not in measures]


def check_group_by(spec: ReportSpec, names: Sequence[str]) -> list[str]:
    """The canonical field names of `names`; `UsageError` in one line when one cannot group
    `spec` (naming the fields that can), is given twice, or when `spec` lists one row per call.

    >>> from callacct.reports.library import public_reports
    >>> check_group_by(public_reports()["cost-by-class"], ["Department", "class"])
    ['department', 'dest_class']
    """
    if spec.detail:
        raise UsageError(
            f"--group-by: {spec.name!r} lists one row per call, with nothing to add up by "
            "group; give --group-by to a summary report (kind 'summary' in 'callacct report "
            "list --json')"
        )
    allowed = groupable_fields(spec)
    if not names:
        raise UsageError(f"--group-by: name at least one field; one of {', '.join(allowed)}")
    out: list[str] = []
    for name in names:
        found = find_field(name)
        if found is None or found.name not in allowed:
            raise UsageError(
                f"--group-by: {name!r} is not a field {spec.name!r} can be grouped by; "
                f"use one of {', '.join(allowed)}"
            )
        if found.name in out:
            raise UsageError(f"--group-by: {found.name!r} is given twice")
        out.append(found.name)
    return out


def regroup(
    spec: ReportSpec, names: Sequence[str], language: str, *, keep_title: bool = False
) -> Regrouped:
    """`spec` grouped by the fields `names` (see the module); notes in `language`. The same
    grouping as the spec's returns it unchanged."""
    keys = check_group_by(spec, names)
    if keys == [_canonical(g) for g in spec.group_by]:
        return Regrouped(spec)
    notes: list[str] = []
    measures = {m.name for m in spec.measures}
    outputs = set(keys) | measures | {"currency"}
    data: dict[str, Any] = spec.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    data["group_by"] = keys
    data["sort"] = [s for s in spec.sort if _canonical(s.removeprefix("-")) in outputs]
    data["formats"] = {k: v for k, v in spec.formats.items() if _canonical(k) in outputs}
    data["fill"] = _fill(spec, keys)
    chart, note = _chart(spec, keys, language)
    data["chart"] = None if chart is None else chart.model_dump(mode="json", exclude_none=True)
    if note:
        notes.append(note)
    if not keep_title:
        data["title"] = {
            lang: t(
                "report.grouped_title",
                lang,
                title=text_in(spec.title, lang),
                fields=", ".join(t(f"field.{key}", lang) for key in keys),
            )
            for lang in LANGUAGES
        }
    regrouped = ReportSpec.model_validate({k: v for k, v in data.items() if v is not None})
    problems = check_spec(regrouped)
    if problems:  # a combination the rules above do not foresee: said, never run wrong
        path, message = problems[0]
        raise UsageError(f"--group-by {','.join(keys)}: {format_path(path)}: {message}")
    return Regrouped(regrouped, notes)


def _canonical(name: str) -> str:
    found = find_field(name)
    return found.name if found else name


def _fill(spec: ReportSpec, keys: list[str]) -> list[str]:
    """The spec's filled groupings still there; a time series (one time grouping, alone or with
    the currency) is filled whatever the spec said."""
    kept = [name for name in spec.fill if _canonical(name) in keys]
    times = [key for key in keys if key in FILLABLE]
    if len(times) == 1 and not [k for k in keys if k not in (times[0], "currency")]:
        return times
    return kept


def _chart(spec: ReportSpec, keys: list[str], language: str) -> tuple[ChartSpec | None, str]:
    """The chart of the regrouped report, and a note when it changes what it draws."""
    chart = spec.chart
    if chart is None:
        return None, ""
    category = _canonical(chart.category)
    kind = chart.kind
    if category not in keys:
        candidates = [key for key in keys if key != "currency"]
        if not candidates:
            return None, t("report.chart_dropped_no_category", language)
        category = candidates[0]
        if kind == "line" and category not in FILLABLE:
            kind = "bar"
    others = [key for key in keys if key not in (category, "currency")]
    measures = {m.name: m for m in spec.measures}
    values = [v for v in chart.values if not (measures[v].agg == "avg" and others)]
    if not values:
        return None, t(
            "report.chart_dropped_average",
            language,
            fields=", ".join(t(f"field.{key}", language) for key in others),
        )
    # A title of its own named the category it drew; a new category takes the report's.
    title = chart.title if category == _canonical(chart.category) else None
    return ChartSpec(kind=kind, category=category, values=values, title=title), ""


__all__ = ["Regrouped", "check_group_by", "groupable_fields", "regroup"]
