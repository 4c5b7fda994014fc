"""Report specs: YAML loaded safely, validated strictly, every problem with file, line and key.

Three stages: `yaml` composes the document (duplicate keys refused, each key's line kept), the
pydantic models check shapes and values (`extra="forbid"`), then `check_spec` checks meaning:
fields exist in the registry, measures apply to their field, sort keys and chart columns exist,
expressions parse. All problems are collected, not only the first.

Example:
    >>> spec, problems = validate_text(
    ...     "name: by-dept\\ncategory: billing\\ntitle: By department\\ndescription: ''\\n"
    ...     "group_by: [department]\\nmeasures:\\n  - {name: calls, agg: count}\\n"
    ...     "  - {name: cost, agg: total, field: cost}\\n", "by-dept.yaml")
    >>> [(p.source, p.line, p.path) for p in problems]
    [('by-dept.yaml', 8, 'measures[1].agg')]
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Final, Literal

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from callacct.errors import SpecError, UsageError
from callacct.i18n import LANGUAGES
from callacct.reports.expression import MAX_INTEGER, ExpressionError, number_probe, parse
from callacct.reports.fields import find_field
from callacct.reports.filters import Filters
from callacct.reports.result import ChartKind, ColumnKind

Language = Literal["en", "de", "fr", "es", "ar", "it"]
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
    limit: int | None = Field(None, ge=1, le=MAX_INTEGER)
    totals: bool = False
    chart: ChartSpec | None = None
    formats: dict[str, ColumnKind] = {}

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


class SpecProblems(SpecError):
    """A spec with problems: the message names the first, `problems` holds them all."""

    def __init__(self, problems: list[Problem]) -> None:
        more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
        super().__init__(f"{problems[0]}{more}")
        self.problems = problems


@dataclass(frozen=True)
class Problem:
    """One problem of a spec: where (file, line, key path) and what."""

    source: str
    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.line else self.source
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.source, "line": self.line, "key": self.path, "message": self.message}


def format_path(parts: tuple[str | int, ...]) -> str:
    """`("measures", 2, "agg")` -> `measures[2].agg`."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _compose(text: str, source: str) -> tuple[Any, dict[tuple[str | int, ...], int], list[Problem]]:
    """The document, the line of every key path, and structural problems (duplicate keys)."""
    lines: dict[tuple[str | int, ...], int] = {(): 1}
    problems: list[Problem] = []
    try:
        loader = yaml.SafeLoader(text)
        try:
            node = loader.get_single_node()
            if node is None:
                return None, lines, [Problem(source, 1, "", "the file is empty")]

            def walk(current: yaml.Node, path: tuple[str | int, ...]) -> None:
                if isinstance(current, yaml.MappingNode):
                    seen: set[str] = set()
                    for key_node, value_node in current.value:
                        key = str(key_node.value)
                        child = (*path, key)
                        line = key_node.start_mark.line + 1
                        if key in seen:
                            problems.append(
                                Problem(source, line, format_path(child), "duplicate key")
                            )
                        seen.add(key)
                        lines.setdefault(child, line)
                        walk(value_node, child)
                elif isinstance(current, yaml.SequenceNode):
                    for index, item in enumerate(current.value):
                        child = (*path, index)
                        lines.setdefault(child, item.start_mark.line + 1)
                        walk(item, child)

            walk(node, ())
            data = loader.construct_document(node)
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        return None, lines, [Problem(source, line, "", f"not valid YAML: {reason}")]
    return data, lines, problems


def _line(lines: dict[tuple[str | int, ...], int], path: tuple[str | int, ...]) -> int | None:
    while path not in lines and path:
        path = path[:-1]
    return lines.get(path)


def validate_text(
    text: str, source: str, *, masked_numbers: bool = False
) -> tuple[ReportSpec | None, list[Problem]]:
    """The spec in `text` and every problem found (the spec is None if there is any);
    `masked_numbers`: also what a reader whose numbers are masked may not ask
    (`masked_number_problems`)."""
    data, lines, problems = _compose(text, source)
    if data is None and problems:
        return None, problems
    if not isinstance(data, dict):
        return None, [Problem(source, 1, "", "a report spec is a mapping of keys (name, ...)")]
    try:
        spec = ReportSpec.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            loc = tuple(p for p in error["loc"] if not _is_union_tag(p))
            message = error["msg"].removeprefix("Value error, ")
            problems.append(Problem(source, _line(lines, loc), format_path(loc), message))
        return None, _unique(problems)
    meaning = check_spec(spec) + (masked_number_problems(spec) if masked_numbers else [])
    for path, message in meaning:
        problems.append(Problem(source, _line(lines, path), format_path(path), message))
    return (None if problems else spec), problems


def _is_union_tag(part: str | int) -> bool:
    # pydantic names the union member tried (`str`, `dict[...]`) in the location.
    return isinstance(part, str) and (part == "str" or part.startswith("dict["))


def _unique(problems: list[Problem]) -> list[Problem]:
    seen: set[str] = set()
    out = []
    for problem in problems:
        if str(problem) not in seen:
            seen.add(str(problem))
            out.append(problem)
    return out


def check_spec(spec: ReportSpec) -> list[tuple[tuple[str | int, ...], str]]:
    """Problems of meaning, as (key path, message)."""
    out: list[tuple[tuple[str | int, ...], str]] = []
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
        at: tuple[str | int, ...] = ("measures", index)
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
        if _canonical(spec.chart.category) not in group_keys:
            out.append((("chart", "category"), "the chart's category must be a group_by field"))
        kinds = output_kinds(spec)
        for index, value in enumerate(spec.chart.values):
            if value not in names:
                out.append((("chart", "values", index), f"{value!r} is not a measure"))
            elif kinds[value] not in NUMERIC_KINDS:
                message = f"{value!r} is {kinds[value]}: a chart draws numbers"
                out.append((("chart", "values", index), message))
    for key in spec.formats:
        if _canonical(key) not in keys:
            out.append((("formats", key), f"{key!r} is not a column of the report"))
    out += _format_problems(spec)
    if spec.where is not None:
        out += _expression(("where",), spec.where)
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


def _format_problems(spec: ReportSpec) -> list[tuple[tuple[str | int, ...], str]]:
    """Formats change how a number is shown; text, times, dates and booleans keep their kind
    (a number format on a text column fails on its first value that is not a number)."""
    out: list[tuple[tuple[str | int, ...], str]] = []
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


def masked_number_problems(spec: ReportSpec) -> list[tuple[tuple[str | int, ...], str]]:
    """What a reader whose numbers are masked may not save: a range or pattern comparison of
    a number field (in `where`, `filters.where` or a measure's `where`), which would read the
    hidden digits a few at a time. Expressions that do not parse are reported by `check_spec`.

    Everything shown of a number (a column, a grouping, a minimum or maximum) is masked by the
    query layer for such a reader, so only comparisons need refusing.
    """
    out: list[tuple[tuple[str | int, ...], str]] = []
    texts: list[tuple[tuple[str | int, ...], str | None]] = [
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


def _expression(path: tuple[str | int, ...], text: str) -> list[tuple[tuple[str | int, ...], str]]:
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
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"{path}: cannot read the report spec: {exc}") from None
    return load_text(text, str(path))


def missing_languages(value: Text) -> list[str]:
    """The languages `value` has no text for (all but one for a plain string)."""
    if isinstance(value, str):
        return [lang for lang in LANGUAGES if lang != "en"]
    return [lang for lang in LANGUAGES if not dict(value).get(lang)]
