"""Report specs: YAML loaded safely, validated strictly, every problem with file, line and key.

Three stages: the one YAML loader (`callacct.yamlfile`) reads the document (duplicate keys,
aliases that blow it up and oversized files refused, each key's line kept), the
pydantic models check shapes and values (`extra="forbid"`), then `check_spec` checks meaning:
fields exist in the registry, measures apply to their field, sort keys and chart columns exist,
expressions parse. All problems are collected, not only the first.

Example:
    >>> spec, problems = validate_text(
    ...     "name: by-dept\\ncategory: billing\\ntitle: By department\\ndescription: ''\\n"
    ...     "group_by: [department]\\nmeasures:\\n  - {name: calls, agg: count}\\n"
    ...     "  - {name: cost, agg: total, field: cost}\\n", "by-dept.yaml")
    >>> [(p.file, p.line, p.key) for p in problems]
    [('by-dept.yaml', 8, 'measures[1].agg')]
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Final, Literal

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from callacct.config import check_timezone
from callacct.errors import SpecError, UsageError
from callacct.i18n import LANGUAGES, Language
from callacct.problems import (
    KeyPath,
    Problem,
    SpecProblems,
    format_path,
    from_validation,
    line_of,
    show_value,
)
from callacct.reports.expression import ExpressionError, number_probe, parse
from callacct.reports.fields import find_field
from callacct.reports.filters import Filters
from callacct.reports.result import ChartKind, ColumnKind
from callacct.yamlfile import parse_yaml, read_limited

#: A text in one language, or per language (`{en: ..., fr: ...}`).
Text = str | dict[Language, str]
NAME_RULE: Final = "1 to 64 characters a-z, 0-9, - and _, starting with a letter or a digit"
_NAME: Final = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
IDENTIFIER_RULE: Final = "1 to 64 characters a-z, 0-9 and _, starting with a letter"
_IDENTIFIER: Final = re.compile(r"[a-z][a-z0-9_]{0,63}")


def _matching(pattern: re.Pattern[str], rule: str) -> AfterValidator:
    def check(value: str) -> str:
        if not pattern.fullmatch(value):
            raise ValueError(f"{_shown(value)} is not a name: use {rule}")
        return value

    return AfterValidator(check)


def _shown(value: str) -> str:
    """`value` quoted for a one-line message (long values cut)."""
    return repr(value if len(value) <= 40 else value[:40] + "…")


Name = Annotated[str, _matching(_NAME, NAME_RULE)]
Identifier = Annotated[str, _matching(_IDENTIFIER, IDENTIFIER_RULE)]


def check_report_name(name: str) -> str:
    """`name` if it can name a report; else `UsageError` saying the allowed form. Every
    command that takes a report name checks it here first (run, show, save, delete, ...).

    >>> check_report_name("my-intl")
    'my-intl'
    >>> check_report_name("../x")
    Traceback (most recent call last):
    ...
    callacct.errors.UsageError: report name '../x' is not a name: use 1 to 64 characters a-z, \
0-9, - and _, starting with a letter or a digit
    """
    if not _NAME.fullmatch(name):
        raise UsageError(f"report name {_shown(name)} is not a name: use {NAME_RULE}")
    return name


Agg = Literal["count", "sum", "avg", "min", "max", "share"]
#: Groupings whose every value in the period a report can show, empty ones as zero (`fill`).
FILLABLE: Final = ("hour", "weekday", "day", "week", "month")
#: Measures whose values add up across rows: what a pie can split into slices.
ADDITIVE: Final = ("count", "sum", "share")
#: Largest `limit` (the SQL LIMIT is a 64-bit integer; no report shows this many rows).
MAX_ROWS: Final = 1_000_000_000
#: Size limit of a report spec file (specs are a few KB).
MAX_SPEC_BYTES: Final = 1024 * 1024
DATASETS: Final = {
    "calls": "TRUE",  # every call
    "quality": "mos IS NOT NULL",  # calls with a voice-quality record (CUCM CMR)
}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Measure(_Model):
    """An aggregate column: `count` of calls, or `sum`/`avg`/`min`/`max`/`share` of a field."""

    name: Identifier
    agg: Agg
    field: str | None = None
    where: str | None = None  # counts only the calls matching this expression
    label: Text | None = None


class ChartSpec(_Model):
    kind: ChartKind
    category: str
    values: list[str] = Field(min_length=1)
    title: Text | None = None


class ReportSpec(_Model):
    """A report: which calls (dataset, filters, where), and either detail `columns` or
    `group_by` + `measures`; then sort, limit, totals, chart and column formats."""

    name: Name
    category: Name
    title: Text
    description: Text
    dataset: Literal["calls", "quality"] = "calls"
    filters: Filters = Filters()
    where: str | None = None
    columns: list[str] = []
    group_by: list[str] = []
    measures: list[Measure] = []
    sort: list[str] = []
    limit: int | None = Field(None, ge=1, le=MAX_ROWS)
    totals: bool = False
    fill: list[str] = []
    chart: ChartSpec | None = None
    formats: dict[str, ColumnKind] = {}
    #: The time zone the report runs in unless a run names one (else the workspace's).
    timezone: str | None = None

    @property
    def detail(self) -> bool:
        """One row per call (as opposed to grouped rows)."""
        return not self.measures

    def output_keys(self) -> list[str]:
        """The keys of the result columns (before the implicit currency column)."""
        if self.detail:
            return [_canonical(c) for c in self.columns]
        return [_canonical(g) for g in self.group_by] + [m.name for m in self.measures]

    def to_yaml(self) -> str:
        data = self.model_dump(mode="json", by_alias=True, exclude_defaults=True)
        if "filters" in data:
            data["filters"] = self.filters.given()
        return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def _canonical(name: str) -> str:
    found = find_field(name)
    return found.name if found else name


def text_in(value: Text, language: str) -> str:
    """`value` in `language`, else English, else any language given."""
    if isinstance(value, str):
        return value
    got: dict[str, str] = {str(k): v for k, v in value.items()}
    return got.get(language) or got.get("en") or next(iter(got.values()), "")


def validate_text(
    text: str | bytes, source: str, *, masked_numbers: bool = False
) -> tuple[ReportSpec | None, list[Problem]]:
    """The spec in `text` and every problem found (the spec is None if there is any);
    `masked_numbers`: also what a reader whose numbers are masked may not ask
    (`masked_number_problems`)."""
    try:
        document = parse_yaml(text, source, max_bytes=MAX_SPEC_BYTES)
    except SpecProblems as exc:
        return None, exc.problems
    data, lines = document.data, document.lines
    if data is None:
        return None, [Problem(source, 1, "", "", "the file is empty")]
    if not isinstance(data, dict):
        return None, [Problem(source, 1, "", "", "a report spec is a mapping of keys (name, ...)")]
    try:
        spec = ReportSpec.model_validate(data)
    except ValidationError as exc:
        return None, from_validation(exc, source, lines)
    meaning = check_spec(spec) + (masked_number_problems(spec) if masked_numbers else [])
    problems = [
        Problem(source, line_of(lines, path), format_path(path), _value_at(data, path), message)
        for path, message in meaning
    ]
    return (None if problems else spec), problems


def _value_at(data: object, path: KeyPath) -> str:
    """The scalar written at `path` in the loaded document, as text ("" if none)."""
    for part in path:
        if isinstance(data, list) and isinstance(part, int):
            data = data[part] if part < len(data) else None
        elif isinstance(data, dict):
            data = data.get(part)
        else:
            return ""
    return show_value(data)


def validate_file(
    path: Path, *, masked_numbers: bool = False
) -> tuple[ReportSpec | None, list[Problem]]:
    """`validate_text` of the file at `path`; a file that cannot be read is a problem too."""
    try:
        data = read_limited(path, MAX_SPEC_BYTES)
    except OSError as exc:
        return None, [Problem(str(path), None, "", "", f"cannot read: {exc.strerror or exc}")]
    except SpecProblems as exc:
        return None, exc.problems
    return validate_text(data, str(path), masked_numbers=masked_numbers)


def check_spec(spec: ReportSpec) -> list[tuple[KeyPath, str]]:
    """Problems of meaning, as (key path, message)."""
    out: list[tuple[KeyPath, str]] = []
    if spec.measures and spec.columns:
        out.append((("columns",), "give either columns (one row per call) or measures, not both"))
    if not spec.measures and not spec.columns:
        out.append(((), "give columns (one row per call) or group_by and measures"))
    if spec.group_by and not spec.measures:
        out.append((("measures",), "group_by needs at least one measure"))
    for key, value in (("title", spec.title), ("description", spec.description)):
        if isinstance(value, dict) and "en" not in value:
            out.append(((key,), "give at least the English text (en)"))
    for index, name in enumerate(spec.columns):
        if find_field(name) is None:
            out.append((("columns", index), f"unknown field {name!r}"))
    for index, name in enumerate(spec.group_by):
        found = find_field(name)
        if found is None:
            out.append((("group_by", index), f"unknown field {name!r}"))
        elif not found.groupable:
            out.append((("group_by", index), f"{found.name} cannot group rows (one per call)"))
    for key, names in (("columns", spec.columns), ("group_by", spec.group_by)):
        canonical = [_canonical(n) for n in names]
        for index, name in enumerate(canonical):
            if name in canonical[:index]:
                out.append(((key, index), f"{name!r} is given twice"))
    group_keys = {_canonical(g) for g in spec.group_by}
    for index, measure in enumerate(spec.measures):
        at: KeyPath = ("measures", index)
        if measure.name in group_keys or measure.name == "currency":
            out.append(((*at, "name"), f"{measure.name!r} is also a grouping"))
        if measure.field is None:
            if measure.agg not in ("count", "share"):
                out.append(((*at, "field"), f"{measure.agg} needs a field"))
        else:
            found = find_field(measure.field)
            if found is None:
                out.append(((*at, "field"), f"unknown field {measure.field!r}"))
            elif measure.agg in ("sum", "avg", "share") and not found.numeric:
                out.append(((*at, "field"), f"{measure.agg} needs a number; {found.name} is not"))
            elif measure.agg == "count":
                out.append(((*at, "field"), "count counts calls; use where to narrow them"))
        if measure.where is not None:
            out += _expression((*at, "where"), measure.where)
    names = [m.name for m in spec.measures]
    for name in {n for n in names if names.count(n) > 1}:
        out.append((("measures",), f"measure name {name!r} is used twice"))
    keys = set(spec.output_keys()) | {"currency"}
    for index, item in enumerate(spec.sort):
        key = item.removeprefix("-")
        if _canonical(key) not in keys:
            out.append((("sort", index), f"{key!r} is not a column of the report"))
    if spec.chart is not None:
        out += _chart_problems(spec, spec.chart)
    out += _fill_problems(spec)
    for key in spec.formats:
        if _canonical(key) not in keys:
            out.append((("formats", key), f"{key!r} is not a column of the report"))
    out += _format_problems(spec)
    if spec.where is not None:
        out += _expression(("where",), spec.where)
    if spec.timezone is not None:
        try:
            check_timezone(spec.timezone)
        except ValueError as exc:
            out.append((("timezone",), str(exc)))
    return out


def _chart_problems(spec: ReportSpec, chart: ChartSpec) -> list[tuple[KeyPath, str]]:
    """A chart draws numbers of measures per value of one grouping; a pie splits one count or
    sum into slices; an average is drawn only when the category alone groups the rows (the
    averages of several rows of a category cannot be combined)."""
    out: list[tuple[KeyPath, str]] = []
    group_keys = [_canonical(g) for g in spec.group_by]
    category = _canonical(chart.category)
    if category not in group_keys:
        out.append((("chart", "category"), "the chart's category must be a group_by field"))
    measures = {m.name: m for m in spec.measures}
    kinds = output_kinds(spec)
    others = [key for key in group_keys if key not in (category, "currency")]
    if chart.kind == "pie" and len(chart.values) > 1:
        out.append((("chart", "values"), "a pie draws one value; give one measure"))
    for index, value in enumerate(chart.values):
        at: KeyPath = ("chart", "values", index)
        measure = measures.get(value)
        if measure is None:
            out.append((at, f"{value!r} is not a measure"))
        elif kinds[value] not in NUMERIC_KINDS:
            out.append((at, f"{value!r} is {kinds[value]}: a chart draws numbers"))
        elif chart.kind == "pie" and measure.agg not in ADDITIVE:
            message = f"a pie splits a whole into parts: {value!r} is an {measure.agg}; use a "
            out.append((at, message + "count, sum or share, or a bar chart"))
        elif measure.agg == "avg" and others:
            message = (
                f"{value!r} is an average and the rows are also grouped by "
                f"{', '.join(others)}: averages of several rows cannot be combined into one "
                "per category; chart a count or sum, or group by the category alone"
            )
            out.append((at, message))
    return out


def _fill_problems(spec: ReportSpec) -> list[tuple[KeyPath, str]]:
    out: list[tuple[KeyPath, str]] = []
    group_keys = {_canonical(g) for g in spec.group_by}
    seen: list[str] = []
    for index, name in enumerate(spec.fill):
        key = _canonical(name)
        at: KeyPath = ("fill", index)
        if key not in FILLABLE:
            out.append((at, f"{name!r} cannot be filled: fill takes {', '.join(FILLABLE)}"))
        elif key not in group_keys:
            out.append((at, f"{name!r} is not in group_by: only a grouping can be filled"))
        elif key in seen:
            out.append((at, f"{name!r} is given twice"))
        seen.append(key)
    return out


#: Kinds of numbers: `formats` may show a number column as any of them.
NUMERIC_KINDS: Final = ("integer", "number", "money", "duration", "percent")


def measure_kind(measure: Measure) -> ColumnKind:
    """The kind of a measure's values: counts are integers, shares percentages, sums, minimums
    and maximums keep their field's kind, averages of durations and money stay durations and
    money, other averages are numbers."""
    if measure.agg == "count":
        return "integer"
    if measure.agg == "share":
        return "percent"
    found = find_field(measure.field or "")
    kind: ColumnKind = found.kind if found else "number"
    if measure.agg == "avg" and kind not in ("duration", "money"):
        return "number"
    return kind


def output_kinds(spec: ReportSpec) -> dict[str, ColumnKind]:
    """The kind of each output column of `spec` by key, before its `formats`."""
    kinds: dict[str, ColumnKind] = {"currency": "text"}
    for name in spec.columns if spec.detail else spec.group_by:
        found = find_field(name)
        if found is not None:
            kinds[found.name] = found.kind
    for measure in spec.measures:
        kinds[measure.name] = measure_kind(measure)
    return kinds


def _format_problems(spec: ReportSpec) -> list[tuple[KeyPath, str]]:
    """Formats change how a number is shown; text, times, dates and booleans keep their kind
    (a number format on a text column fails on its first value that is not a number)."""
    out: list[tuple[KeyPath, str]] = []
    kinds = output_kinds(spec)
    for key, wanted in spec.formats.items():
        natural = kinds.get(_canonical(key))
        if natural is None or wanted == natural:
            continue
        if natural not in NUMERIC_KINDS or wanted not in NUMERIC_KINDS:
            out.append(
                (
                    ("formats", key),
                    f"{_canonical(key)} is {natural}, not {wanted}: formats change only how a "
                    f"number is shown ({', '.join(NUMERIC_KINDS)})",
                )
            )
    return out


def masked_number_problems(spec: ReportSpec) -> list[tuple[KeyPath, str]]:
    """What a reader whose numbers are masked may not save: a range or pattern comparison of
    a number field (in `where`, `filters.where` or a measure's `where`), which would read the
    hidden digits a few at a time. Expressions that do not parse are reported by `check_spec`.

    Everything shown of a number (a column, a grouping, a minimum or maximum) is masked by the
    query layer for such a reader, so only comparisons need refusing.
    """
    out: list[tuple[KeyPath, str]] = []
    texts: list[tuple[KeyPath, str | None]] = [
        (("where",), spec.where),
        (("filters", "where"), spec.filters.where),
        *((("measures", i, "where"), m.where) for i, m in enumerate(spec.measures)),
    ]
    for path, text in texts:
        if text is None:
            continue
        try:
            problem = number_probe(text)
        except ExpressionError:
            continue
        if problem is not None:
            out.append((path, problem))
    return out


def _expression(path: KeyPath, text: str) -> list[tuple[KeyPath, str]]:
    try:
        parse(text)
    except ExpressionError as exc:
        return [(path, str(exc))]
    return []


def raise_problems(problems: list[Problem]) -> None:
    """A `SpecError` for `problems`: the first one, and how many more."""
    if not problems:
        return
    raise SpecProblems(problems)


def load_text(text: str, source: str, *, masked_numbers: bool = False) -> ReportSpec:
    """The spec in `text`; `SpecError` naming the first problem (file:line: key: what)."""
    spec, problems = validate_text(text, source, masked_numbers=masked_numbers)
    raise_problems(problems)
    assert spec is not None
    return spec


def load_file(path: Path) -> ReportSpec:
    """The spec in the file at `path`; `SpecError` listing its problems."""
    spec, problems = validate_file(path)
    raise_problems(problems)
    assert spec is not None
    return spec


def read_spec_text(path: Path) -> str:
    """The text of a spec file (at most `MAX_SPEC_BYTES`), for storing it as written."""
    try:
        return read_limited(path, MAX_SPEC_BYTES).decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"{path}: cannot read the report spec: {exc}") from None


def missing_languages(value: Text) -> list[str]:
    """The languages `value` has no text for (all but one for a plain string)."""
    if isinstance(value, str):
        return [lang for lang in LANGUAGES if lang != "en"]
    return [lang for lang in LANGUAGES if not dict(value).get(lang)]
