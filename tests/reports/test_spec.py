"""Report specs: strict validation naming file, line and key; the public library is complete."""

from __future__ import annotations

from pathlib import Path

import pytest

from callacct.errors import SpecError
from callacct.i18n import LANGUAGES
from callacct.reports.library import public_reports, validate_library
from callacct.reports.spec import load_file, missing_languages, validate_text

GOOD = """\
name: by-dept
category: billing
title: {en: By department, fr: Par service}
description: Cost per department.
group_by: [department]
measures:
  - {name: calls, agg: count}
  - {name: cost, agg: sum, field: cost}
sort: [-cost]
"""


def problems_of(text: str) -> list[tuple[int | None, str, str]]:
    spec, problems = validate_text(text, "r.yaml")
    assert spec is None
    return [(p.line, p.key, p.message) for p in problems]


def test_a_good_spec_loads() -> None:
    spec, problems = validate_text(GOOD, "r.yaml")
    assert problems == []
    assert spec is not None
    assert spec.output_keys() == ["department", "calls", "cost"]


def test_every_problem_has_file_line_and_key_path() -> None:
    text = GOOD.replace("agg: sum, field: cost", "agg: total, field: cost").replace(
        "sort: [-cost]", "sort: [-cost]\nlimit: 0\ncolour: blue"
    )
    found = problems_of(text)
    assert (8, "measures[1].agg", found[0][2]) == found[0]
    assert "'count', 'sum', 'avg', 'min', 'max' or 'share'" in found[0][2]
    assert (10, "limit", "Input should be greater than or equal to 1") in found
    assert (11, "colour", "unknown key; remove it or check its spelling") in found
    _spec, problems = validate_text(text, "r.yaml")
    assert str(problems[0]).startswith("r.yaml:8: measures[1].agg: ")


def test_meaning_is_checked_too() -> None:
    text = GOOD.replace("[department]", "[departement]").replace(
        "field: cost}", 'field: cost, where: "cost >> 1"}'
    )
    text += "chart: {kind: pie, category: site, values: [money]}\n"
    found = problems_of(text)
    assert (5, "group_by[0]", "unknown field 'departement'") in found
    assert any(p[:2] == (8, "measures[1].where") and "position 7" in p[2] for p in found)
    assert (10, "chart.category", "the chart's category must be a group_by field") in found
    assert (10, "chart.values[0]", "'money' is not a measure") in found


def test_duplicate_keys_and_bad_yaml() -> None:
    assert (2, "name", "appears twice (lines 1 and 2); keep one") in problems_of(
        "name: a\nname: b\n"
    )
    found = problems_of("name: [a\n")
    assert found[0][1] == ""
    assert "not valid YAML" in found[0][2]
    assert problems_of("- a\n- b\n")[0][2].startswith("a report spec is a mapping")


def test_load_file_raises_one_line_naming_the_first_problem(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(GOOD.replace("agg: count", "agg: cnt").replace("sort: [-cost]", "limit: -1"))
    with pytest.raises(SpecError) as caught:
        load_file(path)
    first, second = str(caught.value).splitlines()
    assert first.startswith(f"{path}:7: measures[0].agg: ")
    assert second.startswith(f"{path}:9: limit: ")


def test_the_public_library() -> None:
    assert validate_library() == []
    reports = public_reports()
    assert len(reports) >= 18
    assert {s.category for s in reports.values()} >= {
        "detail", "billing", "destinations", "traffic", "quality", "audit"
    }  # fmt: skip
    for spec in reports.values():
        assert missing_languages(spec.title) == [], spec.name
        assert missing_languages(spec.description) == [], spec.name
        for measure in spec.measures:
            assert measure.label is not None
            assert missing_languages(measure.label) == []
    assert set(LANGUAGES) == {"en", "de", "fr", "es", "ar", "it"}


def test_the_docs_list_every_public_report() -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "reports.md").read_text()
    for name in public_reports():
        assert f"| `{name}` |" in docs, name


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ("limit: 99999999999999999999",
         (10, "limit", "Input should be less than or equal to 1000000000")),
        ("filters: {from: 2026-02-30}",
         (10, "filters.from", "'2026-02-30' is not a valid date (day is out of range for month)")),
        ("filters: {from: '0001-01-01'}",
         (10, "filters.from", "'0001-01-01' is not a year from 1900 to 9998")),
        ("filters: {to: 9999-12-31}",
         (10, "filters.to", "'9999-12-31' is not a year from 1900 to 9998")),
        ("filters: {max_cost: 99999999999999999999999999999999999999}",
         (10, "filters.max_cost", "Input should be less than or equal to 1000000000000")),
        ("filters: {min_duration: 99999999999999999999}",
         (10, "filters.min_duration", "Input should be less than or equal to 1000000000")),
        ("limit: " + "9" * 5000, (10, "limit", "'" + "9" * 79 + "…' has too many digits")),
    ],
)  # fmt: skip
def test_values_sql_or_the_calendar_cannot_hold_are_refused(
    extra: str, expected: tuple[int, str, str]
) -> None:
    assert problems_of(GOOD + extra + "\n") == [expected]


def test_a_yaml_bomb_or_a_huge_spec_file_is_a_problem(tmp_path: Path) -> None:
    from tests.test_yamlfile import BILLION_LAUGHS

    path = tmp_path / "bomb.yaml"
    path.write_text(BILLION_LAUGHS)
    with pytest.raises(SpecError, match=r"bomb\.yaml:\d: aliases expand the document"):
        load_file(path)
    path.write_text(GOOD + "# padding\n" * 120_000)
    with pytest.raises(SpecError, match=r"bomb\.yaml: larger than 1,048,576 bytes, too large"):
        load_file(path)


def test_unquoted_dates_in_filters_are_days() -> None:
    spec, problems = validate_text(GOOD + "filters: {from: 2026-01-01, to: 2026-01-31}\n", "r")
    assert problems == []
    assert spec is not None
    assert (spec.filters.start, spec.filters.end) == ("2026-01-01", "2026-01-31")


def test_formats_change_only_how_numbers_are_shown() -> None:
    text = GOOD + "formats: {department: integer, calls: duration, cost: percent}\n"
    assert problems_of(text) == [
        (
            10,
            "formats.department",
            "department is text, not integer: formats change only how a number is shown "
            "(integer, number, money, duration, percent)",
        )
    ]


def test_a_chart_draws_numbers_only() -> None:
    text = GOOD.replace("  - {name: calls, agg: count}", "  - {name: lo, agg: min, field: site}")
    text += "chart: {kind: bar, category: department, values: [lo, cost]}\n"
    assert problems_of(text) == [(10, "chart.values[0]", "'lo' is text: a chart draws numbers")]


@pytest.mark.parametrize("name", ["../../etc/passwd", "a b", "UPPER", "a" * 300, "", "-x"])
def test_a_bad_name_says_the_allowed_form(name: str) -> None:
    found = problems_of(GOOD.replace("name: by-dept", f"name: '{name}'"))
    assert len(found) == 1
    line, path, message = found[0]
    assert (line, path) == (1, "name")
    assert message.endswith(
        "is not a name: use 1 to 64 characters a-z, 0-9, - and _, starting with a letter or a digit"
    )
    assert len(message) < 200
