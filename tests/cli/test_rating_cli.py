"""`callacct tariff import/list/show`, `rate`, `calls explain`, `calls --class/--unpriced`."""

from __future__ import annotations

import io
import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from callacct.cli import _output
from callacct.progress import Step
from tests.conftest import Cli
from tests.rating.helpers import HEADER, write_plan

# The sample cluster dials 0 for an outside line and 8 10 for international (Russia).
DECK = [
    "7,Russia,national,0.50,0,60,60,0,",
    "7495,Moscow,local,0.20,0,60,60,0,",
    "79,Russia mobile,mobile,1.00,0,1,1,0,",
    ",World,international,9.00,0,60,60,0,",
    # The samples' one answered outgoing call goes to a number no Russian dial plan reads.
    ",Unallocated,unknown,2.00,0,60,60,0,",
]


def plan(tmp_path: Path, rows: list[str] = DECK, **fields: object) -> Path:
    return write_plan(
        tmp_path, "ru", rows, currency="RUB", default=True, valid_from="2000-01-01", **fields
    )


def test_import_list_show_and_calls_get_costs(cli: Cli, cucm_files: Path, tmp_path: Path) -> None:
    cli.json("ingest", str(cucm_files))
    imported = cli.json("tariff", "import", str(plan(tmp_path)))
    assert (imported["plan"], imported["version"], imported["rates"]) == ("ru", 1, 5)
    assert imported["rating"]["changed"] > 0
    listed = cli.json("tariff", "list")
    assert [(p["plan"], p["default"], len(p["versions"])) for p in listed] == [("ru", True, 1)]
    shown = cli.json("tariff", "show", "ru", "--prefix", "79")
    assert [r["prefix"] for r in shown["rates"]] == ["79"]
    assert shown["rates"][0]["price_per_min"] == "1.00"
    calls = cli.json("calls", "--all")
    priced = [c for c in calls if c["cost"] not in ("0.00", None)]
    assert priced
    assert all(c["currency"] == "RUB" for c in priced)
    assert all(c["dest_class"] for c in calls)
    human = cli("tariff", "show", "ru")
    assert human.exit_code == 0
    assert "Russia mobile" in human.output
    assert "ru" in cli("tariff", "list").output


def test_import_problems_exit_2_and_list_every_one(cli: Cli, tmp_path: Path) -> None:
    path = plan(tmp_path, ["7,R,national,-1,0,60,60,0,", "7,R,national,1,0,0,60,0,"])
    result = cli("tariff", "import", str(path))
    assert result.exit_code == 2
    assert "negative amount" in result.output
    assert "duplicate prefix 7" in result.output
    data = json.loads(cli("tariff", "import", str(path), "--json").stdout)
    assert [(p["line"], p["key"]) for p in data["problems"]] == [
        (2, "price_per_min"),
        (3, "initial_increment_s"),
        (3, "prefix"),
    ]
    assert cli.json("tariff", "list") == []


def test_rate_reports_changes_after_a_tariff_change(
    cli: Cli, cucm_files: Path, tmp_path: Path
) -> None:
    cli.json("ingest", str(cucm_files))
    cli.json("tariff", "import", str(plan(tmp_path)), "--no-rate")
    first = cli.json("rate")
    assert first["changed"] > 0
    assert first["delta"]["RUB"] == first["total"]["RUB"]
    assert cli.json("rate")["changed"] == 0
    doubled = [row.replace("2.00", "4.00") for row in DECK]
    cli.json("tariff", "import", str(plan(tmp_path, doubled)), "--no-rate")
    again = cli.json("rate", "--from", "2021-01-01", "--to", "2021-12-31")
    # 70 s, 60/60: 120 s at 2.00 = 4.00, now at 4.00 = 8.00
    assert (again["changed"], again["delta"], again["total"]) == (
        1,
        {"RUB": "4.00"},
        {"RUB": "8.00"},
    )
    human = cli("rate")
    assert human.exit_code == 0
    assert "rated" in human.output


def test_explain_and_filters(cli: Cli, cucm_files: Path, tmp_path: Path) -> None:
    cli.json("ingest", str(cucm_files))
    cli.json("tariff", "import", str(plan(tmp_path)))
    calls = cli.json("calls", "--all", "--direction", "outgoing")
    call = next(c for c in calls if c["answered"])
    data = cli.json("calls", "explain", str(call["call_id"]))
    assert data["cost"] == call["cost"]
    assert {s["step"] for s in data["steps"]} >= {"call", "site", "number", "plan", "stored"}
    human = cli("calls", "explain", str(call["call_id"]))
    assert human.exit_code == 0
    assert "stored" in human.output
    missing = cli("calls", "explain", "99999999")
    assert missing.exit_code == 2
    assert "no call with id" in missing.output
    classes = {c["dest_class"] for c in cli.json("calls", "--all")}
    for dest_class in classes:
        only = cli.json("calls", "--all", "--class", dest_class)
        assert only
        assert {c["dest_class"] for c in only} == {dest_class}
    assert cli("calls", "--class", "martian").exit_code == 2
    unpriced = cli.json("calls", "--all", "--unpriced")
    assert all(c["direction"] == "outgoing" for c in unpriced)
    assert all(c["cost"] == "0.00" for c in unpriced)


def test_ingest_warns_once_without_tariff(cli: Cli, cucm_files: Path) -> None:
    result = cli("ingest", str(cucm_files))
    assert result.output.count("no tariff plan is loaded") == 1


def test_deck_alone_needs_plan_and_date(cli: Cli, tmp_path: Path) -> None:
    deck = tmp_path / "d.csv"
    deck.write_text(HEADER + "\n7,R,national,1,0,60,60,0,\n")
    result = cli("tariff", "import", str(deck))
    assert result.exit_code == 2
    assert "--plan NAME and --valid-from DATE" in result.output
    assert cli("tariff", "import", str(deck), "--plan", "x", "--valid-from", "soon").exit_code == 2
    assert cli("tariff", "import", "no-such-file.yaml").exit_code == 2
    assert cli("tariff", "show", "nothing").exit_code == 2


def test_shipped_example_by_name(cli: Cli) -> None:
    data = cli.json("tariff", "import", "us-carrier", "--dry-run")
    assert (data["plan"], data["currency"], data["dry_run"]) == ("us-carrier", "USD", True)


def test_rating_progress_counts_then_goes_back_to_waiting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:

    screen = io.StringIO()
    monkeypatch.setattr(
        _output, "err_console", Console(file=screen, force_terminal=True, width=100)
    )
    line = _output.ProgressLine()
    with line.running():
        assert line._progress is not None
        line(Step("rating"))
        (task,) = line._progress.tasks
        assert (task.description, task.total) == ("rating calls", None)
        line(Step("classifying", 500, 2000, "numbers"))
        (task,) = line._progress.tasks
        assert (task.description, task.completed, task.total) == (
            "classifying new numbers",
            500,
            2000,
        )
        line(Step("classifying", 2000, 2000, "numbers"))
        (task,) = line._progress.tasks
        assert (task.description, task.total) == ("rating calls", None)
        line(Step("reading", 0, 10_000, "bytes"))
        line(Step("reading", 10_000, 10_000, "bytes"))  # a finished read stays shown
        (task,) = line._progress.tasks
        assert (task.description, task.completed, task.total) == ("ingest", 10_000, 10_000)
    assert line._progress is None
    assert "rating calls" in screen.getvalue()
    off = _output.ProgressLine()
    off.enabled = False
    with off.running():
        off(Step("classifying", 1, 2, "numbers"))  # not a terminal: nothing shown, nothing fails
    assert off._progress is None


# -- a tariff stored but not applied yet --------------------------------------------------------


def _import_killed_before_rating(workspace: Path, plan_file: Path) -> None:
    """`callacct tariff import PLAN` killed (SIGKILL) once the version is stored, right before
    the calls are rated again."""
    code = (
        "import os, signal, sys\n"
        "import callacct.api.workspace as api\n"
        "from callacct.cli import main\n"
        "api.rate_calls = lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL)\n"
        "sys.argv = ['callacct', '--workspace', sys.argv[1], 'tariff', 'import', sys.argv[2]]\n"
        "main()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(workspace), str(plan_file)],
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr.decode()


def _costs(cli: Cli) -> dict[int, str]:
    return {c["call_id"]: c["cost"] for c in cli.json("calls", "--all")}


STALE = "costs may be out of date: tariff ru version 1 was imported"


def test_a_tariff_import_killed_before_rating_is_never_silent(
    cli: Cli, cucm_files: Path, tmp_path: Path
) -> None:
    cli.json("ingest", str(cucm_files))
    cli.json("tariff", "import", str(plan(tmp_path)))
    people = tmp_path / "people.csv"
    people.write_text("login,role\nalice,user\n")
    cli.json("directory", "import", str(people))
    before = _costs(cli)
    assert "costs may be out of date" not in cli("calls", "--all").stderr
    doubled = [row.replace("2.00", "4.00") for row in DECK]
    _import_killed_before_rating(cli.workspace, plan(tmp_path, doubled))

    # The new version is stored, the costs are still the old ones: every command that shows
    # costs says so (on stderr: --json output stays clean).
    assert cli.json("tariff", "show", "ru", "--prefix", "7")["rates"][0]["price_per_min"] == "0.50"
    assert _costs(cli) == before
    for command in (
        ["calls", "--all", "--json"],
        ["calls", "--all"],
        ["report", "run", "calls-detail", "--format", "json"],
        ["--as", "alice", "home", "--json"],
    ):
        result = cli(*command)
        assert result.exit_code == 0, result.output
        assert STALE in result.stderr, command
        assert STALE not in result.stdout, command

    # `rate`, even for one day, rates every call and says why; then nothing is stale.
    rated = cli("rate", "--from", "2021-12-13", "--to", "2021-12-13", "--json")
    assert rated.exit_code == 0, rated.output
    assert STALE not in rated.stderr
    report = json.loads(rated.stdout)
    assert report["finished_pending"] == "tariff ru version 1 was imported"
    assert "every call was rated again" in rated.stderr
    after = _costs(cli)
    assert after != before
    assert {k for k in after if after[k] != before[k]} == {
        k for k in before if before[k] not in ("0.00", None)
    }
    assert "costs may be out of date" not in cli("calls", "--all").stderr
    assert cli.json("rate")["finished_pending"] is None


def test_the_next_ingest_finishes_a_pending_rerate(
    cli: Cli, cucm_files: Path, tmp_path: Path
) -> None:
    later = tmp_path / "later"
    later.mkdir()
    for path in sorted(cucm_files.iterdir())[-2:]:
        path.rename(later / path.name)
    cli.json("ingest", str(cucm_files))
    cli.json("tariff", "import", str(plan(tmp_path)))
    before = _costs(cli)
    _import_killed_before_rating(
        cli.workspace, plan(tmp_path, [row.replace("2.00", "4.00") for row in DECK])
    )
    ingested = cli("ingest", str(later), "--json")
    assert ingested.exit_code == 0, ingested.output
    assert json.loads(ingested.stdout)["rating"]["finished_pending"] == (
        "tariff ru version 1 was imported"
    )
    assert STALE not in ingested.stderr
    after = _costs(cli)
    assert any(after[k] != before[k] for k in before if before[k] not in ("0.00", None))
    assert cli.json("rate")["changed"] == 0


def test_no_rate_leaves_costs_marked_stale_until_rated(
    cli: Cli, cucm_files: Path, tmp_path: Path
) -> None:
    cli.json("ingest", str(cucm_files))
    result = cli("tariff", "import", str(plan(tmp_path)), "--no-rate")
    assert result.exit_code == 0, result.output
    assert "costs may be out of date: tariff ru version 1 was imported" in result.stderr
    assert "run 'callacct rate'" in cli("calls").stderr
    cli.json("rate")
    assert "costs may be out of date" not in cli("calls").stderr


@pytest.mark.parametrize(
    ("bad", "expected"),
    [
        ("valid_from: 2026-02-30", ":3: valid_from: '2026-02-30' is not a valid date"),
        ("valid_from: 2026-01-01\nholidays: [2026-13-01]", ":4: holidays[0]: '2026-13-01' is not"),
    ],
)
def test_impossible_dates_in_a_plan_are_one_line_errors(
    cli: Cli, tmp_path: Path, bad: str, expected: str
) -> None:
    path = plan(tmp_path)
    path.write_text(path.read_text().replace("valid_from: '2000-01-01'", bad))
    result = cli("tariff", "import", str(path))
    assert result.exit_code == 2, result.output
    assert "internal error" not in result.output
    assert f"{path}{expected}" in result.output.replace("\n", "")


def test_a_second_default_plan_needs_replace_default(cli: Cli, tmp_path: Path) -> None:
    cli.json("tariff", "import", str(plan(tmp_path)))
    other = write_plan(tmp_path, "other", DECK, currency="RUB", default=True)
    refused = cli("tariff", "import", str(other))
    assert refused.exit_code == 2
    assert "'ru' is the default plan; import with --replace-default" in refused.output
    taken = cli("tariff", "import", str(other), "--replace-default")
    assert taken.exit_code == 0, taken.output
    assert "'ru' is no longer the default plan; 'other' is" in taken.stderr
    assert [p["plan"] for p in cli.json("tariff", "list") if p["default"]] == ["other"]
