"""`callacct alarm ...`: exit codes, the lines a person sees, and `--json` = the API's result."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from callacct import Workspace
from tests.alarms.conftest import arrive, call, leave
from tests.conftest import SIETE, Cli

ABROAD = call(remote="+4930123456", dest_class="international", country="DE")


def _plain(data: Any) -> Any:
    return json.loads(json.dumps(data, default=str))


@pytest.fixture
def cli(org: Workspace) -> Cli:
    return Cli(org.root)


def test_add_list_show_edit_pause_resume_remove(org: Workspace, cli: Cli, tmp_path: Path) -> None:
    added = cli(
        "alarm", "add", "--name", "abroad", "--kind", "international",
        "--param", "countries=[DE, CU]", "--param", "min_duration_s=60",
        "--department", "Sales", "--to", "it@example.com,ops@example.com", "--supervisors",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    assert added.stdout.strip() == "alarm abroad added (international, every ingest)"
    listed = cli.json("alarm", "list")
    assert listed == _plain([entry.to_dict() for entry in org.alarms().all()])
    (entry,) = listed
    assert entry["params"] == {"min_duration_s": 60, "min_cost": "0", "countries": ["DE", "CU"]}
    assert entry["scope"]["departments"] == ["Sales"]
    assert entry["recipients"] == {
        "to": ["it@example.com", "ops@example.com"],
        "supervisors": True,
        "xlsx": False,
    }
    assert cli.json("alarm", "show", "abroad") == _plain(org.alarms().show("abroad").to_dict())
    shown = cli("alarm", "show", "abroad")
    assert "countries:" in shown.stdout
    edited = cli.json("alarm", "edit", "abroad", "--param", "min_duration_s=600", "--every", "1h")
    assert (edited["params"]["min_duration_s"], edited["every"]) == (600, "1h")
    assert edited["params"]["countries"] == ["DE", "CU"]  # the rest kept
    assert cli.json("alarm", "pause", "abroad")["paused"] is True
    assert cli.json("alarm", "resume", "abroad")["paused"] is False
    file = tmp_path / "abroad.yaml"
    file.write_text("name: abroad\nkind: international\nrecipients: {to: [x@example.com]}\n")
    assert cli.json("alarm", "edit", "abroad", str(file))["recipients"]["to"] == ["x@example.com"]
    removed = cli("alarm", "remove", "abroad")
    assert removed.exit_code == 0, removed.output
    assert cli.json("alarm", "list") == []
    assert "No alarms" in cli("alarm", "list").stdout


def test_run_exits_1_when_something_fired(org: Workspace, cli: Cli) -> None:
    assert cli("alarm", "add", "--name", "abroad", "--kind", "international").exit_code == 0
    quiet = cli("alarm", "run")
    assert quiet.exit_code == 0, quiet.output
    arrive(org, [ABROAD, ABROAD])
    fired = cli("alarm", "run", "abroad", "--json")
    assert fired.exit_code == 1, fired.output
    document = json.loads(fired.stdout)
    assert document["fired"] is True
    (outcome,) = document["alarms"]
    assert outcome["events"][0]["summary"] == "2 international call(s)"
    again = cli("alarm", "run")
    assert again.exit_code == 0, again.output
    assert "silent" in again.stdout
    events = cli.json("alarm", "events")
    assert events == _plain([event.to_dict() for event in org.alarms().events()])
    assert [e["found"] for e in events] == [2]
    table = cli("alarm", "events", "--rows")
    assert "+4930123456" in table.stdout
    assert cli.json("alarm", "events", "--since", "2099-01-01") == []


def test_run_exits_1_when_an_alarm_cannot_be_evaluated(org: Workspace, cli: Cli) -> None:
    org.as_person("alice").alarms().add({"name": "mine", "kind": "international"})
    leave(org, "alice")
    failed = cli("alarm", "run", "--json")
    assert failed.exit_code == 1, failed.output
    (outcome,) = json.loads(failed.stdout)["alarms"]
    assert outcome["status"] == "failed"


def test_run_due_skips_what_is_not_due(org: Workspace, cli: Cli) -> None:
    for name, every in (("abroad", "ingest"), ("hourly", "1h")):
        added = cli("alarm", "add", "--name", name, "--kind", "international", "--every", every)
        assert added.exit_code == 0, added.output
    first = cli.json("alarm", "run", "--due")  # nothing arrived: only the clock-checked one
    assert [o["alarm"] for o in first["alarms"]] == ["hourly"]
    arrive(org, [ABROAD])
    second = cli("alarm", "run", "--due", "--json")
    assert second.exit_code == 1
    assert [o["alarm"] for o in json.loads(second.stdout)["alarms"]] == ["abroad"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("alarm", "add", "--kind", "international"),
         "give a YAML file, or at least --name and --kind"),
        (("alarm", "add", "--name", "x", "--kind", "nope"),
         "(options): kind: 'nope' is not an alarm kind"),
        (("alarm", "add", "--name", "x", "--kind", "international", "--param", "oops"),
         "--param 'oops': write KEY=VALUE"),
        (("alarm", "show", "ghost"),
         "no alarm named 'ghost'; list them with 'callacct alarm list'"),
        (("alarm", "run", "ghost", "--due"), "give an alarm's name or --due, not both"),
        (("alarm", "events", "--since", "yesterday"), "'yesterday' is not a date"),
    ],
)  # fmt: skip
def test_bad_input_is_one_line_and_exit_2(cli: Cli, args: tuple[str, ...], message: str) -> None:
    result = cli(*args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_a_person_adds_alarms_of_their_own(org: Workspace, cli: Cli) -> None:
    added = cli("--as", "sue", "alarm", "add", "--name", "mine", "--kind", "international")
    assert added.exit_code == 0, added.output
    assert cli.json("alarm", "list")[0]["owner"] == "sue"
    assert cli.json("--as", "alice", "alarm", "list") == []
    refused = cli("--as", "alice", "alarm", "remove", "mine")
    assert refused.exit_code == 2


def test_ingest_with_alarms_evaluates_the_due_alarms(org: Workspace, cli: Cli) -> None:
    assert cli("alarm", "add", "--name", "all", "--kind", "undefined-extensions").exit_code == 0
    result = cli("ingest", str(SIETE), "--alarms", "--json")
    document = json.loads(result.stdout)
    assert [o["alarm"] for o in document["alarms"]["alarms"]] == ["all"]
    assert document["alarms"]["alarms"][0]["calls_upto"] == document["calls"]
    plain = cli("ingest", str(SIETE), "--force", "--no-alarms", "--json")
    assert "alarms" not in json.loads(plain.stdout)
    # Without --json, the ingest's table is followed by the run's (nothing due again yet).
    table = cli("ingest", str(SIETE), "--force", "--alarms")
    assert table.exit_code == 0, table.output
    assert table.stdout.rstrip().endswith("No alarm was due."), table.stdout


def test_remove_says_so_in_json(cli: Cli) -> None:
    assert cli("alarm", "add", "--name", "abroad", "--kind", "international").exit_code == 0
    assert cli.json("alarm", "remove", "abroad") == {"removed": "abroad"}
    assert cli.json("alarm", "list") == []


def test_the_rows_of_a_firing_read_as_in_its_mail(org: Workspace, cli: Cli) -> None:
    assert cli("alarm", "add", "--name", "abroad", "--kind", "international").exit_code == 0
    arrive(org, [{**ABROAD, "duration_s": 3725, "cost": Decimal("1.5")}])
    assert cli("alarm", "run").exit_code == 1
    table = cli("--lang", "en", "alarm", "events", "--rows")
    assert table.exit_code == 0, table.output
    header = next(line for line in table.stdout.splitlines() if "Call id" in line)
    assert "Started" in header
    assert "duration_s" not in table.stdout
    assert "1:02:05" in table.stdout  # a duration as h:mm:ss, not seconds
    assert "1.50" in table.stdout  # money with its currency's decimals
    assert "2026-12-01 10:00 " in table.stdout  # to the minute, in the workspace's zone
    german = cli("--lang", "de", "alarm", "events", "--rows")
    assert "ausgehend" in german.stdout
    assert "1,50" in german.stdout


def test_an_alarm_that_never_fired_is_named(cli: Cli) -> None:
    result = cli("alarm", "events", "--alarm", "abroad")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "Alarm abroad has not fired."


def test_the_setting_after_ingest_evaluates_alarms_with_every_ingest(
    org: Workspace, cli: Cli
) -> None:
    toml = org.root / "callacct.toml"
    text = toml.read_text(encoding="utf-8")
    assert "[alarms]\n" in text
    toml.write_text(
        text.replace("[alarms]\n", "[alarms]\nafter_ingest = true\n", 1).replace(
            "after_ingest = false\n", "", 1
        ),
        encoding="utf-8",
    )
    assert cli("alarm", "add", "--name", "all", "--kind", "undefined-extensions").exit_code == 0
    loaded = cli("ingest", str(SIETE), "--json")
    document = json.loads(loaded.stdout)
    assert [o["alarm"] for o in document["alarms"]["alarms"]] == ["all"]
    skipped = cli("ingest", str(SIETE), "--force", "--no-alarms", "--json")
    assert "alarms" not in json.loads(skipped.stdout)


def test_a_run_with_nothing_to_run_says_why(cli: Cli) -> None:
    nothing = cli("alarm", "run")
    assert nothing.exit_code == 0, nothing.output
    assert "No active alarm to run" in nothing.stdout
    assert cli("alarm", "run", "--due").stdout.strip() == "No alarm was due."
