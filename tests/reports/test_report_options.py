"""Bad values given to `report` commands are one-line usage errors saying what is allowed:
report names, whole numbers beyond DuckDB's range, output files, number formats."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from tests.conftest import Cli

DEMO_DAYS = ("--from", "2026-11-01", "--to", "2026-11-30")
NAME_RULE = "use 1 to 64 characters a-z, 0-9, - and _, starting with a letter or a digit"
BAD_NAMES = ["../../etc/passwd", "a b", "UPPER", "a" * 300, "[red]x", "_x", "é"]
TOO_LARGE = "99999999999999999999"


def one_line_error(result: object, code: int = 2) -> str:
    output: str = result.output  # type: ignore[attr-defined]
    assert result.exit_code == code, output  # type: ignore[attr-defined]
    assert "internal error" not in output
    assert output.count("\n") == 1, output
    return output


@pytest.mark.parametrize("name", BAD_NAMES)
def test_a_bad_report_name_is_refused_everywhere_with_the_allowed_form(
    demo_copy: Cli, name: str, tmp_path: Path
) -> None:
    for args in (
        ("report", "save", name, "--from-report", "top-numbers"),
        ("report", "save", "ok", "--from-report", name),
        ("report", "run", name),
        ("report", "show", name),
        ("report", "export", name),
        ("report", "delete", name),
    ):
        output = one_line_error(demo_copy(*args))
        assert NAME_RULE in output, args
        assert len(output) < 300
    spec = tmp_path / "x.yaml"
    spec.write_text(
        f"name: '{name}'\ncategory: personal\ntitle: X\ndescription: ''\ncolumns: [cost]\n"
    )
    output = one_line_error(demo_copy("report", "import", str(spec)))
    assert f"{spec}:1: name: " in output
    assert NAME_RULE in output


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--limit", TOO_LARGE, f"--limit: {TOO_LARGE} is too large (at most 9223372036854775807)"),
        ("--limit", "0", "--limit must be at least 1"),
        ("--limit", "-3", "--limit must be at least 1"),
        ("--min-duration", TOO_LARGE, "--min-duration: 99999999999999999999 is too large"),
        ("--max-duration", "-1", "--max-duration must be at least 0"),
    ],
)
def test_whole_numbers_stay_in_range(demo: Cli, option: str, value: str, message: str) -> None:
    output = one_line_error(demo("report", "run", "top-numbers", option, value))
    assert message in output
    if option != "--limit":
        saved = demo("report", "save", "x", "--from-report", "top-numbers", option, value)
        assert message in one_line_error(saved)


def test_a_number_in_an_expression_stays_in_range(demo: Cli, tmp_path: Path) -> None:
    result = demo("report", "run", "calls-detail", "--where", f"call_id = {TOO_LARGE}00000")
    assert "is too large (at most 9223372036854775807)" in one_line_error(result)
    spec = tmp_path / "big.yaml"
    spec.write_text(
        f"name: big\ncategory: c\ntitle: B\ndescription: ''\ncolumns: [cost]\nlimit: {TOO_LARGE}\n"
    )
    problems = json.loads(demo("report", "validate", str(spec), "--json").stdout)["problems"]
    assert [(p["line"], p["key"]) for p in problems] == [(6, "limit")]


@pytest.mark.parametrize("fmt", ["table", "json", "csv", "xlsx", "pdf", "html"])
def test_out_into_a_missing_folder_or_onto_a_folder(demo: Cli, tmp_path: Path, fmt: str) -> None:
    missing = tmp_path / "nowhere" / f"x.{fmt}"
    output = one_line_error(demo("report", "run", "cost-by-site", "-f", fmt, "-o", str(missing)))
    assert f"--out: the folder {missing.parent} does not exist; create it first" in output
    output = one_line_error(demo("report", "run", "cost-by-site", "-f", fmt, "-o", str(tmp_path)))
    assert f"--out: {tmp_path} is a folder; name a file in it" in output
    assert not missing.parent.exists()


def test_out_onto_a_file_that_cannot_be_written(demo: Cli, tmp_path: Path) -> None:
    """A system error while writing (here: a path through a file) names the file."""
    blocker = tmp_path / "file"
    blocker.write_text("")
    for fmt in ("xlsx", "csv"):
        target = blocker / f"x.{fmt}"
        output = one_line_error(demo("report", "run", "cost-by-site", "-f", fmt, "-o", str(target)))
        assert f"--out: the folder {blocker} is not a folder; create it first" in output


def test_a_table_goes_to_out_as_plain_text(demo: Cli, tmp_path: Path) -> None:
    out = tmp_path / "t.txt"
    result = demo("report", "run", "cost-by-site", *DEMO_DAYS, "--out", str(out))
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"wrote {out}"
    text = out.read_text()
    on_terminal = demo("report", "run", "cost-by-site", *DEMO_DAYS).stdout
    assert "\x1b[" not in text
    for line in on_terminal.splitlines():
        if "PAR" in line:
            assert line.strip() in text
    assert "PAR" in text


def test_export_out_is_checked_too(demo: Cli, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "x.yaml"
    output = one_line_error(demo("report", "export", "top-numbers", "--out", str(missing)))
    assert "does not exist; create it first" in output


@pytest.mark.parametrize("kind", ["integer", "number", "money", "duration", "percent"])
def test_every_number_format_renders_every_number(
    demo_copy: Cli, tmp_path: Path, kind: str
) -> None:
    spec = tmp_path / "kinds.yaml"
    spec.write_text(
        f"name: kinds-{kind}\ncategory: personal\ntitle: K\ndescription: ''\n"
        "group_by: [site]\nmeasures:\n"
        "  - {name: n, agg: count}\n"
        "  - {name: d, agg: sum, field: duration_s}\n"
        "  - {name: c, agg: sum, field: cost}\n"
        "  - {name: a, agg: avg, field: mos}\n"
        "  - {name: j, agg: max, field: jitter_ms}\n"
        "  - {name: s, agg: share, field: duration_s}\n"
        "totals: true\nchart: {kind: bar, category: site, values: [n, c]}\n"
        f"formats: {{n: {kind}, d: {kind}, c: {kind}, a: {kind}, j: {kind}, s: {kind}}}\n"
    )
    imported = demo_copy("report", "import", str(spec))
    assert imported.exit_code == 0, imported.output
    for fmt in ("table", "json", "csv", "xlsx", "pdf", "html"):
        out = tmp_path / f"k.{fmt}"
        result = demo_copy("report", "run", f"kinds-{kind}", *DEMO_DAYS, "-f", fmt, "-o", str(out))
        assert result.exit_code == 0, (fmt, result.output)
        assert out.stat().st_size > 0
    rows = list(csv.reader(io.StringIO((tmp_path / "k.csv").read_text())))
    assert len(rows) > 2
