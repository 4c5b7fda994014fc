"""`callacct report ...` and `callacct home` on a small demo workspace."""

from __future__ import annotations

import csv
import importlib
import io
import json
from pathlib import Path
from typing import Any

import duckdb
import pytest

from callacct.i18n import t
from callacct.reports.library import public_reports
from tests.conftest import Cli, Plugins

NAMES = sorted(public_reports())
DEMO_DAYS = ("--from", "2026-11-01", "--to", "2026-11-30")


def run_json(cli: Cli, *args: str) -> dict[str, Any]:
    result = cli(*args, "--format", "json")
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def people(cli: Cli) -> list[dict[str, Any]]:
    listed: list[dict[str, Any]] = cli.json("directory", "list")
    return listed


def test_the_documented_example_runs_as_written(demo: Cli) -> None:
    args = (
        "report", "run", "calls-detail", "--type", "pstn", "--from", "2021-02-01",
        "--to", "2021-03-24", "--ext", "211,729,731", "--direction", "outgoing", "--answered",
        "--class", "international",
        "--where", "called_number = '006599775544' or duration >= 20", "--tz", "US/Eastern",
    )  # fmt: skip
    result = demo(*args)
    assert result.exit_code == 0, result.output
    assert t("ui.no_rows", "fr") in result.output  # the workspace speaks French
    data = run_json(demo, *args)
    assert data["report"]["timezone"] == "US/Eastern"
    assert data["report"]["period"] == {
        "from": "2021-02-01T00:00:00-05:00",
        "to": "2021-03-25T00:00:00-04:00",
    }
    labels = {f["label"]: f["value"] for f in data["report"]["filters"]}
    assert labels["Postes"] == "211, 729, 731"  # the workspace speaks French
    assert labels["Condition"] == "called_number = '006599775544' or duration >= 20"
    assert labels["Type d'appel"] == "externe (RTC)"
    assert data["rows"] == []


def test_the_documented_filters_select_the_right_calls(demo: Cli) -> None:
    data = run_json(
        demo, "report", "run", "calls-detail", *DEMO_DAYS, "--type", "pstn",
        "--direction", "outgoing", "--answered", "--class", "international",
        "--where", "called_number = '006599775544' or duration >= 20", "--tz", "US/Eastern",
    )  # fmt: skip
    assert data["rows"]
    for row in data["rows"]:
        assert row["direction"] == "outgoing"
        assert row["dest_class"] == "international"
        assert row["disposition"] == "answered"
        assert row["duration_s"] >= 20
        assert row["started_at"].endswith(("-05:00", "-04:00"))


@pytest.mark.parametrize("name", NAMES)
def test_every_public_report_runs_in_json_and_csv(demo: Cli, name: str) -> None:
    data = run_json(demo, "report", "run", name, *DEMO_DAYS)
    assert set(data) == {"report", "columns", "rows", "totals"}
    keys = [c["key"] for c in data["columns"]]
    assert all(list(row) == keys for row in data["rows"])
    if name not in ("calls-with-number",):
        assert data["rows"], name
    result = demo("report", "run", name, *DEMO_DAYS, "--format", "csv", "--lang", "de")
    assert result.exit_code == 0, result.output
    table = list(csv.reader(io.StringIO(result.stdout)))
    assert len(table[0]) == len(keys)
    extra = 1 if data["totals"] is not None else 0
    assert len(table) == 1 + len(data["rows"]) + extra


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("fmt", ["xlsx", "pdf", "html"])
def test_every_public_report_renders(demo: Cli, name: str, fmt: str, tmp_path: Path) -> None:
    out = tmp_path / f"{name}.{fmt}"
    result = demo("report", "run", name, *DEMO_DAYS, "--format", fmt, "--out", str(out))
    assert result.exit_code == 0, result.output
    assert out.stat().st_size > 0


@pytest.mark.parametrize("name", NAMES)
def test_every_report_is_limited_to_the_scope(demo: Cli, name: str) -> None:
    """A user sees exactly what an admin sees of that user's calls; a supervisor exactly
    their department's."""
    directory = people(demo)
    user = next(p for p in directory if p["role"] == "user" and p["extensions"])
    boss = next(p for p in directory if p["role"] == "supervisor")
    as_user = run_json(demo, "--as", user["login"], "report", "run", name, *DEMO_DAYS)
    login = user["login"]
    mine = run_json(
        demo, "report", "run", name, *DEMO_DAYS,
        "--where", f"user = '{login}' or peer_user = '{login}'",
    )  # fmt: skip
    assert as_user["rows"] == mine["rows"]
    assert as_user["totals"] == mine["totals"]
    as_boss = run_json(demo, "--as", boss["login"], "report", "run", name, *DEMO_DAYS)
    theirs = run_json(demo, "report", "run", name, *DEMO_DAYS, "--department", boss["department"])
    assert as_boss["rows"] == theirs["rows"]
    everyone = run_json(demo, "report", "run", name, *DEMO_DAYS)
    if name in ("calls-detail", "unanswered-incoming", "longest-calls"):
        assert len(as_user["rows"]) < len(everyone["rows"])


def test_a_where_cannot_widen_the_scope(demo: Cli) -> None:
    user = next(p for p in people(demo) if p["role"] == "user" and p["extensions"])
    scoped = run_json(demo, "--as", user["login"], "report", "run", "calls-detail", *DEMO_DAYS)
    widened = run_json(
        demo, "--as", user["login"], "report", "run", "calls-detail", *DEMO_DAYS,
        "--where", "user is not null or user is null",
    )  # fmt: skip
    assert widened["rows"] == scoped["rows"]


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ("called_number = '1' OR 1=1", "expected a field name at position 24"),
        ("user = 'x'; DELETE FROM calls", "unexpected ';' at position 11"),
        ("duration >= 20 and (cost > 1", "missing ')'"),
        ("version() = 1", "functions are not allowed"),
        ("secret = 1", "unknown field 'secret' at position 1"),
    ],
)
def test_malicious_where_is_refused_in_one_line(demo: Cli, where: str, message: str) -> None:
    result = demo("report", "run", "calls-detail", "--where", where)
    assert result.exit_code == 2
    assert message in result.output
    assert result.output.count("\n") == 1


def test_csv_neutralises_formulas(demo_copy: Cli) -> None:
    con = duckdb.connect(str(demo_copy.workspace / "callacct.duckdb"))
    con.execute(
        "UPDATE calls SET called_number = '=HYPERLINK(\"http://evil\")', gateway = '@SUM(A1)', "
        "user_login = '-2+3' WHERE call_id = (SELECT min(call_id) FROM calls "
        "WHERE direction = 'outgoing')"
    )
    con.close()
    result = demo_copy("report", "run", "calls-detail", *DEMO_DAYS, "--format", "csv")
    assert result.exit_code == 0, result.output
    cells = {cell for row in csv.reader(io.StringIO(result.stdout)) for cell in row}
    assert '\'=HYPERLINK("http://evil")' in cells
    assert "'@SUM(A1)" in cells
    assert "'-2+3" in cells
    assert not any(c.startswith(("=", "@", "+")) for c in cells)
    assert any(c.startswith("'+") for c in cells)  # E.164 numbers are text: kept with their +


def test_list_and_show(demo: Cli) -> None:
    listed = demo.json("report", "list")
    assert {"name", "category", "title", "description"} <= set(listed[0])
    assert len(listed) >= 18
    categories = [e["category"] for e in listed]
    assert categories == sorted(categories)
    german = demo.json("report", "list", "--lang", "de")
    assert next(e for e in german if e["name"] == "cost-by-site")["title"] == "Kosten pro Standort"
    shown = demo.json("report", "show", "top-numbers")
    assert shown["filters"] == {"type": "pstn", "directions": ["outgoing"]}
    assert shown["spec"]["limit"] == 20
    human = demo("report", "list")
    assert human.exit_code == 0
    assert "calls-detail" in human.output
    assert demo("report", "show", "nope").exit_code == 2


def test_language_follows_the_person(demo: Cli) -> None:
    directory = people(demo)
    arabic = next((p for p in directory if p["language"] == "ar"), None)
    if arabic is None:
        pytest.skip("no Arabic speaker in this demo")
    data = run_json(demo, "--as", arabic["login"], "report", "run", "cost-by-site", *DEMO_DAYS)
    assert data["report"]["language"] == "ar"
    assert data["report"]["title"] == "التكلفة حسب الموقع"
    forced = run_json(demo, "report", "run", "cost-by-site", *DEMO_DAYS, "--lang", "it")
    assert forced["report"]["title"] == "Costo per sede"
    assert forced["columns"][-2]["label"] == "Costo"


def test_money_is_exact_and_not_added_across_currencies(demo: Cli) -> None:
    data = run_json(demo, "report", "run", "cost-by-site", *DEMO_DAYS)
    rows = {row["site"]: row for row in data["rows"]}
    assert rows["PAR"]["currency"] == "EUR"
    assert rows["NYC"]["currency"] == "USD"
    assert isinstance(rows["PAR"]["cost"], str)
    # EUR + USD do not add up: one total per currency, each the sum of its rows.
    assert data["totals"]["cost"] == {"EUR": rows["PAR"]["cost"], "USD": rows["NYC"]["cost"]}
    assert data["totals"]["calls"] == sum(r["calls"] for r in data["rows"])
    paris = run_json(demo, "report", "run", "cost-by-site", *DEMO_DAYS, "--site", "PAR")
    assert paris["totals"]["cost"] == rows["PAR"]["cost"]


def test_personal_reports_save_run_export_import(demo_copy: Cli, tmp_path: Path) -> None:
    cli = demo_copy
    user = next(p for p in people(cli) if p["role"] == "user" and p["extensions"])
    saved = cli(
        "--as", user["login"], "report", "save", "my-intl", "--from-report",
        "international-by-country", "--from", "2026-11-01", "--to", "2026-11-30",
        "--description", "My calls abroad", "--group", "mine",
    )  # fmt: skip
    assert saved.exit_code == 0, saved.output
    listed = cli.json("--as", user["login"], "report", "list")
    mine = [e for e in listed if not e["public"]]
    title = next(e["title"] for e in listed if e["name"] == "international-by-country")
    assert mine == [
        {
            "name": "my-intl",
            "category": "mine",
            "title": title,
            "description": "My calls abroad",
            "public": False,
            "owner": user["login"],
            "kind": "summary",
        }
    ]
    assert not [e for e in cli.json("report", "list") if not e["public"]]  # not the operator's
    ran = run_json(cli, "--as", user["login"], "report", "run", "my-intl")
    base = run_json(
        cli, "--as", user["login"], "report", "run", "international-by-country", *DEMO_DAYS
    )
    assert ran["rows"] == base["rows"]
    exported = cli("--as", user["login"], "report", "export", "my-intl")
    assert exported.exit_code == 0
    path = tmp_path / "x.yaml"
    path.write_text(exported.stdout)
    assert "from: '2026-11-01'" in exported.stdout
    again = cli("--as", user["login"], "report", "import", str(path))
    assert again.exit_code == 2
    assert "--replace" in again.output
    assert cli("report", "import", str(path)).exit_code == 0  # the operator's copy
    assert run_json(cli, "report", "run", "my-intl")["rows"]
    clash = cli("report", "save", "top-numbers", "--from-report", "cost-by-site")
    assert clash.exit_code == 2
    assert "is a public report" in clash.output
    assert cli("report", "delete", "my-intl").exit_code == 0
    assert cli("report", "run", "my-intl").exit_code == 2


def test_validate_files(demo: Cli, tmp_path: Path) -> None:
    assert demo("report", "validate").exit_code == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ncategory: c\ntitle: T\ndescription: ''\ncolumns: [started, cost]\n")
    result = demo("report", "validate", str(bad))
    assert result.exit_code == 1
    assert f"{bad}:5: columns[0]: unknown field 'started'" in result.output
    data = json.loads(demo("report", "validate", str(bad), "--json").stdout)
    assert data["problems"] == [
        {
            "file": str(bad),
            "line": 5,
            "key": "columns[0]",
            "value": "started",
            "message": "unknown field 'started'",
        }
    ]
    assert demo("report", "import", str(bad)).exit_code == 2


def test_home(demo_copy: Cli) -> None:
    cli = demo_copy
    # The last user: other tests run reports as the first one (runs are counted).
    user = [p for p in people(cli) if p["role"] == "user" and p["extensions"]][-1]
    for _ in range(2):
        run_json(cli, "--as", user["login"], "report", "run", "user-bill")
    run_json(cli, "--as", user["login"], "report", "run", "top-numbers")
    home = cli.json("home", "--as", user["login"])
    assert 0 < len(home["last_calls"]) <= 20
    assert home["reports"] == [{"name": "user-bill", "runs": 2}, {"name": "top-numbers", "runs": 1}]
    assert home["hint"] == "callacct calls --number N"
    assert {"calls_handled", "missed", "cost", "average_talk_s"} <= set(home["summary"])
    starts = [c["started_at"] for c in home["last_calls"]]
    assert starts == sorted(starts, reverse=True)
    assert all(
        c["user"] == user["login"] or c["peer_user"] == user["login"] for c in home["last_calls"]
    )
    same = cli.json("--as", user["login"], "home")
    assert same["summary"] == home["summary"]
    human = cli("--as", user["login"], "home")
    assert human.exit_code == 0
    assert "callacct calls --number N" in human.output
    nobody = cli("home")
    assert nobody.exit_code == 2
    assert "home needs a person" in nobody.output


def test_numbers_are_masked_for_the_role_in_every_format(demo_copy: Cli) -> None:
    settings = demo_copy.workspace / "callacct.toml"
    settings.write_text(settings.read_text().replace("user = 0", "user = 4", 1))
    user = next(p for p in people(demo_copy) if p["role"] == "user" and p["extensions"])
    login = user["login"]
    for name in ("top-numbers", "calls-detail"):
        data = run_json(demo_copy, "--as", login, "report", "run", name, *DEMO_DAYS)
        numbers = [r["remote_number"] for r in data["rows"] if r["remote_number"]]
        external = [n for n in numbers if n.startswith("+")]
        assert external, name
        assert all(n.endswith("****") for n in external), name
        csv_out = demo_copy("--as", login, "report", "run", name, *DEMO_DAYS, "--format", "csv")
        assert all(n in csv_out.stdout for n in external[:3])
    admin = run_json(demo_copy, "report", "run", "top-numbers", *DEMO_DAYS)
    assert not any(str(r["remote_number"]).endswith("****") for r in admin["rows"])


def test_as_an_unknown_person_is_refused(demo: Cli) -> None:
    for args in (("report", "list"), ("report", "run", "cost-by-site"), ("home",)):
        result = demo("--as", "nobody", *args)
        assert result.exit_code == 2, args
        # Said in the workspace's language: the person's is not known.
        assert t("error.as_unknown", "fr", login="'nobody'") in result.output


def test_rendered_formats_go_to_the_renderer(demo: Cli, tmp_path: Path, plugins: Plugins) -> None:
    """The run hands the renderer the whole result and the file."""
    plugins.install(
        "recording-renderer",
        {"callacct.renderers": {"recorded": "recording_renderer:RENDERER"}},
        {
            "recording_renderer.py": """
                from callacct.reports.render import Renderer

                CALLS = []


                def write(result, out):
                    CALLS.append((result, out))
                    out.write_bytes(b"rendered")


                RENDERER = Renderer("recorded", "Recorded", write)
            """
        },
    )
    out = tmp_path / "site.rec"
    result = demo(
        "report", "run", "cost-by-site", *DEMO_DAYS, "--format", "recorded", "--out", str(out),
        "--lang", "ar",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    [(report, target)] = importlib.import_module("recording_renderer").CALLS
    assert (target, out.read_bytes()) == (out, b"rendered")
    assert report.rtl
    assert report.title == "التكلفة حسب الموقع"
    assert [c.kind for c in report.columns] == [
        "text", "text", "integer", "duration", "money", "percent"
    ]  # fmt: skip
    assert report.chart is not None
    assert report.chart.kind == "bar"
    assert report.period[0].isoformat() == "2026-11-01T00:00:00+01:00"
    assert all(label != t("ui.period", "ar") for label, _ in report.filters)  # shown once


def test_masked_numbers_cannot_be_probed_by_range_or_pattern(demo_copy: Cli) -> None:
    settings = demo_copy.workspace / "callacct.toml"
    settings.write_text(settings.read_text().replace("user = 0", "user = 4", 1))
    login = next(p for p in people(demo_copy) if p["role"] == "user")["login"]
    for where in ("remote_number > '+3361234'", "not called_number like '0033%'"):
        result = demo_copy("--as", login, "report", "run", "calls-detail", "--where", where)
        assert result.exit_code == 2, where
        assert "numbers are masked for this role" in result.output
    allowed = demo_copy(
        "--as", login, "report", "run", "calls-detail", "--where", "remote_number = '+1'"
    )
    assert allowed.exit_code == 0, allowed.output
    admin = demo_copy("report", "run", "calls-detail", "--where", "remote_number > '+3361234'")
    assert admin.exit_code == 0


def test_json_output_equals_the_library_result(demo: Cli, demo_root: Path) -> None:
    from zoneinfo import ZoneInfo

    from callacct.query.scope import Scope
    from callacct.reports.export import result_to_json
    from callacct.reports.run import run_report
    from callacct.store import open_store

    printed = run_json(demo, "report", "run", "user-bill", *DEMO_DAYS, "--lang", "es")
    store = open_store(demo_root / "callacct.duckdb")
    try:
        result = run_report(
            store.con, public_reports()["user-bill"], scope=Scope(role="admin"),
            tz=ZoneInfo("Europe/Paris"), language="es",
            overrides={"start": "2026-11-01", "end": "2026-11-30"},
        )  # fmt: skip
    finally:
        store.close()
    expected = result_to_json(result)
    for data in (printed, expected):
        data["report"].pop("generated_at")
    assert printed == expected
    assert printed["report"]["title"] == "Factura por usuario"
