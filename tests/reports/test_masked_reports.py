"""No value derived from a masked number reaches any output unmasked: aggregates, grouping keys,
sort order, totals and chart labels, in every format; and what a masked reader may not ask is
refused when a personal report is saved or imported, not only when it runs."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pypdf
import pytest

from callacct.query.masking import mask_number
from tests.conftest import Cli

DEMO_DAYS = ("--from", "2026-11-01", "--to", "2026-11-30")
DIGITS = 4

MIN_MAX = """\
name: lo-hi
category: personal
title: Lowest and highest number
description: ''
group_by: [extension]
measures:
  - {name: calls, agg: count}
  - {name: lo, agg: min, field: remote_number}
  - {name: hi, agg: max, field: called_number}
sort: [-hi]
totals: true
"""

BY_NUMBER = """\
name: by-number
category: personal
title: Calls by number
description: ''
group_by: [remote_number]
measures:
  - {name: calls, agg: count}
  - {name: first_called, agg: min, field: final_number}
sort: [remote_number]
totals: true
chart: {kind: bar, category: remote_number, values: [calls]}
"""


def _mask_users(cli: Cli) -> None:
    settings = cli.workspace / "callacct.toml"
    settings.write_text(settings.read_text().replace("user = 0", f"user = {DIGITS}", 1))


def _busy_user(cli: Cli) -> tuple[str, list[dict[str, Any]]]:
    """A user with several external calls, and every call of theirs as an admin sees it."""
    calls: list[dict[str, Any]] = cli.json("calls", "--all", *DEMO_DAYS)
    by_user: dict[str, list[dict[str, Any]]] = {}
    for call in calls:
        for login in {call["user"], call["peer_user"]} - {None}:
            by_user.setdefault(login, []).append(call)
    people = {p["login"]: p for p in cli.json("directory", "list")}
    users = [login for login in by_user if people.get(login, {}).get("role") == "user"]
    login = max(users, key=lambda u: sum(c["direction"] != "internal" for c in by_user[u]))
    return login, by_user[login]


def _secrets(calls: list[dict[str, Any]]) -> set[str]:
    """The full external numbers of `calls` (those whose masked form differs)."""
    out = set()
    for call in calls:
        for key in ("remote_number", "calling_number", "called_number", "final_number"):
            value = call[key]
            internal = value in (call["extension"], call["peer_extension"])
            if value and not internal and len(value) > DIGITS + 2:
                out.add(value)
    return out


def _outputs(cli: Cli, tmp_path: Path, login: str, *args: str) -> Iterator[tuple[str, str]]:
    """(format, every text of the output) of one report run in each format."""
    for fmt in ("table", "json", "csv"):
        result = cli("--as", login, "report", "run", *args, "--format", fmt)
        assert result.exit_code == 0, result.output
        yield fmt, result.stdout
    for fmt in ("xlsx", "pdf", "html"):
        out = tmp_path / f"out.{fmt}"
        result = cli("--as", login, "report", "run", *args, "--format", fmt, "--out", str(out))
        assert result.exit_code == 0, result.output
        if fmt == "xlsx":
            book = openpyxl.load_workbook(out)
            cells = [str(c.value) for s in book.worksheets for r in s.iter_rows() for c in r]
            yield fmt, "\n".join(cells)
        elif fmt == "pdf":
            yield fmt, "\n".join(p.extract_text() for p in pypdf.PdfReader(out).pages)
        else:
            yield fmt, out.read_text()


@pytest.fixture
def masked(demo_copy: Cli, tmp_path: Path) -> tuple[Cli, str, list[dict[str, Any]]]:
    login, calls = _busy_user(demo_copy)
    _mask_users(demo_copy)
    for text, name in ((MIN_MAX, "lo-hi"), (BY_NUMBER, "by-number")):
        path = tmp_path / f"{name}.yaml"
        path.write_text(text)
        result = demo_copy("--as", login, "report", "import", str(path))
        assert result.exit_code == 0, result.output
    return demo_copy, login, calls


def test_min_and_max_of_a_number_are_masked_in_every_format(
    masked: tuple[Cli, str, list[dict[str, Any]]], tmp_path: Path
) -> None:
    cli, login, calls = masked
    secrets = _secrets(calls)
    assert secrets
    external = next(c for c in calls if c["direction"] == "outgoing" and c["called_number"])
    for where in ((), ("--where", f"call_id = {external['call_id']}")):
        for fmt, text in _outputs(cli, tmp_path, login, "lo-hi", *DEMO_DAYS, *where):
            leaked = sorted(s for s in secrets if s in text)
            assert not leaked, (fmt, where, leaked)
    data = cli.json("--as", login, "report", "run", "lo-hi", *DEMO_DAYS)
    highs = [row["hi"] for row in data["rows"] if row["hi"]]
    lows = [row["lo"] for row in data["rows"] if row["lo"]]
    assert highs
    assert any(value.endswith("*" * DIGITS) for value in highs + lows)
    # The totals row is computed on the masked values too.
    assert data["totals"]["hi"] == max(highs)
    assert highs == sorted(highs, reverse=True)  # sorted on what the reader sees


def test_grouping_by_a_masked_number_groups_by_its_masked_form(
    masked: tuple[Cli, str, list[dict[str, Any]]], tmp_path: Path
) -> None:
    cli, login, calls = masked
    secrets = _secrets(calls)
    for fmt, text in _outputs(cli, tmp_path, login, "by-number", *DEMO_DAYS):
        leaked = sorted(s for s in secrets if s in text)
        assert not leaked, (fmt, leaked)
    data = cli.json("--as", login, "report", "run", "by-number", *DEMO_DAYS)
    keys = [row["remote_number"] for row in data["rows"]]
    # One row per masked form: two numbers that differ only in hidden digits are one row.
    assert len(keys) == len(set(keys))
    assert keys == sorted(keys, key=lambda k: (k is None, k or ""))
    expected: dict[str | None, int] = {}
    for call in calls:
        number = call["remote_number"]
        internal = number in (call["extension"], call["peer_extension"])
        shown = number if internal else mask_number(number, DIGITS)
        expected[shown] = expected.get(shown, 0) + 1
    assert {row["remote_number"]: row["calls"] for row in data["rows"]} == expected


def test_the_number_filter_matches_a_masked_reader_only_on_the_whole_number(
    masked: tuple[Cli, str, list[dict[str, Any]]],
) -> None:
    """`--number` with the last digits of a number would read the hidden digits: for a masked
    reader a partial number matches what they see, the whole number still finds its calls."""
    cli, login, calls = masked
    call = next(
        c
        for c in calls
        if c["direction"] == "outgoing" and c["remote_number"] and len(c["remote_number"]) > 10
    )
    number = call["remote_number"]
    whole = cli.json("--as", login, "report", "run", "calls-with-number", "--number", number)
    assert mask_number(number, DIGITS) in {row["remote_number"] for row in whole["rows"]}
    tail = number[-8:]
    admin = cli.json("report", "run", "calls-with-number", "--number", tail)
    assert admin["rows"]
    probed = cli.json("--as", login, "report", "run", "calls-with-number", "--number", tail)
    assert probed["rows"] == []
    listed = cli.json("--as", login, "calls", "--number", tail)
    assert listed == []
    assert cli.json("calls", "--number", tail)


def test_masked_number_sql_equals_mask_number() -> None:
    import duckdb

    from callacct.query.masking import mask_sql

    con = duckdb.connect()
    values = ["+33612345678", "0612", "+1 (555) 12-34", "", "٣٤٥٦٧", "12a", "a", "+33 6 12 34 5 6"]
    for digits in (0, 1, 3, 4, 9, 20):
        sql = mask_sql("n", digits)
        got = [
            row[0]
            for row in con.execute(
                f"SELECT {sql} FROM unnest(?::VARCHAR[]) AS t(n)",
                [values],
            ).fetchall()
        ]
        assert got == [mask_number(v, digits) for v in values], digits


def test_probing_a_masked_number_is_refused_when_saved_or_imported(
    masked: tuple[Cli, str, list[dict[str, Any]]], tmp_path: Path
) -> None:
    cli, login, _ = masked
    for where in ("remote_number like '+33%'", "called_number >= '+3361'"):
        saved = cli(
            "--as", login, "report", "save", "probe", "--from-report", "calls-detail",
            "--where", where,
        )  # fmt: skip
        assert saved.exit_code == 2, (where, saved.output)
        assert "numbers are masked for this role" in saved.output
        assert saved.output.count("\n") == 1
    spec = tmp_path / "probe.yaml"
    for body in (
        "where: \"remote_number like '+33%'\"\ncolumns: [started_at, remote_number]\n",
        "filters: {where: \"final_number < '+4'\"}\ncolumns: [started_at]\n",
        "group_by: [extension]\nmeasures:\n"
        "  - {name: n, agg: count, where: \"called_number not like '00%'\"}\n",
    ):
        spec.write_text("name: probe\ncategory: personal\ntitle: P\ndescription: ''\n" + body)
        imported = cli("--as", login, "report", "import", str(spec))
        assert imported.exit_code == 2, (body, imported.output)
        assert f"{spec}:" in imported.output
        assert "numbers are masked for this role" in imported.output
        validated = cli("--as", login, "report", "validate", str(spec))
        assert validated.exit_code == 1
        assert cli("report", "import", str(spec), "--replace").exit_code == 0  # not masked
    listed = [e["name"] for e in cli.json("--as", login, "report", "list") if not e["public"]]
    assert "probe" not in listed


def test_a_text_column_cannot_be_formatted_as_a_number(demo: Cli, tmp_path: Path) -> None:
    spec = tmp_path / "fmt.yaml"
    spec.write_text(
        "name: fmt\ncategory: personal\ntitle: F\ndescription: ''\n"
        "columns: [started_at, remote_number]\nformats: {remote_number: integer}\n"
    )
    result = demo("report", "validate", str(spec), "--json")
    problems = json.loads(result.stdout)["problems"]
    assert [(p["line"], p["key"]) for p in problems] == [(6, "formats.remote_number")]
    assert re.search(r"remote_number is text", problems[0]["message"])
    assert demo("report", "import", str(spec)).exit_code == 2


def test_csv_writes_numbers_the_same_way_for_every_reader(
    masked: tuple[Cli, str, list[dict[str, Any]]],
) -> None:
    """One formula rule whatever the reader: an E.164 number is text, quoted so a spreadsheet
    keeps its + (the masked form would otherwise be a formula, the full one a bare number)."""
    cli, login, _ = masked
    args = ("report", "run", "top-numbers", *DEMO_DAYS, "--format", "csv")
    admin = list(csv.reader(io.StringIO(cli(*args).stdout)))
    user = list(csv.reader(io.StringIO(cli("--as", login, *args).stdout)))
    for table, masked_form in ((admin, False), (user, True)):
        numbers = [row[0] for row in table[1:-1]]
        assert numbers
        assert all(n.startswith("'+") for n in numbers if "+" in n), numbers
        assert any(n.endswith("****") for n in numbers) == masked_form


def test_a_stored_report_formatting_a_number_as_integer_is_a_clear_error(
    masked: tuple[Cli, str, list[dict[str, Any]]],
) -> None:
    """A personal report stored before formats were checked fails in one line naming it, and
    can still be deleted."""
    import duckdb

    cli, login, _ = masked
    text = (
        "name: old\ncategory: personal\ntitle: Old\ndescription: ''\n"
        "columns: [started_at, remote_number]\nformats: {remote_number: integer}\n"
    )
    con = duckdb.connect(str(cli.workspace / "callacct.duckdb"))
    con.execute(
        "INSERT INTO report_specs VALUES (?, 'old', '', 'personal', ?, now(), now())",
        [login, text],
    )
    con.close()
    for fmt in ("table", "csv", "xlsx"):
        result = cli("--as", login, "report", "run", "old", *DEMO_DAYS, "--format", fmt)
        assert result.exit_code == 2, result.output
        assert (
            "personal report old:6: formats.remote_number: remote_number is text" in result.output
        )
        assert "internal error" not in result.output
    assert cli("--as", login, "report", "delete", "old").exit_code == 0
