"""`callacct init`, `ingest` and `calls` as a user and a script see them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from callacct.cli import app
from callacct.config import open_workspace
from callacct.errors import ConfigError
from callacct.ingest.engine import IngestReport, ingest_paths
from callacct.query.calls import unfinished_calls
from callacct.store import open_store, scalar
from tests.conftest import Cli

INGEST_KEYS = {"files", "files_skipped", "rows_read", "stored", "duplicates", "rejected"}
CALL_KEYS = {
    "call_id",
    "started_at",
    "direction",
    "answered",
    "extension",
    "remote_number",
    "duration_s",
    "cost",
    "currency",
    "dest_class",
    "dest_country",
    "gateway",
    "user",
    "department",
    "cost_center",
    "site",
}


def test_init_creates_settings_and_store(cli: Cli) -> None:
    assert (cli.workspace / "callacct.toml").is_file()
    assert (cli.workspace / "callacct.duckdb").is_file()
    text = (cli.workspace / "callacct.toml").read_text()
    assert 'timezone = "Europe/Moscow"' in text
    assert "# reference time zone" in text


def test_init_refuses_an_existing_workspace(cli: Cli) -> None:
    result = CliRunner().invoke(app, ["init", str(cli.workspace)])
    assert result.exit_code == 2
    assert "already exists" in result.output


def test_init_rejects_a_bad_time_zone(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["init", str(tmp_path / "w"), "--timezone", "Mars/Olympus"])
    assert result.exit_code == 2
    assert "callacct.toml: general.timezone: 'Mars/Olympus' is not a time zone" in result.output
    assert "Traceback" not in result.output


def test_invalid_setting_names_key_and_file(cli: Cli) -> None:
    path = cli.workspace / "callacct.toml"
    path.write_text(path.read_text().replace('currency = "RUB"', 'currency = "rubles"'))
    result = cli("calls")
    assert result.exit_code == 2
    line = path.read_text().splitlines().index('currency = "rubles"') + 1
    assert f"callacct.toml:{line}: general.currency: 'rubles' is not" in result.output
    path.write_text(path.read_text() + "\n[nonsense]\nx = 1\n")
    result = cli("calls")
    assert result.exit_code == 2


def test_missing_workspace_says_what_to_do(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["--workspace", str(tmp_path), "calls"])
    assert result.exit_code == 2
    assert "callacct init" in result.output


def test_ingest_json_shape_and_rerun(cli: Cli, cucm_files: Path) -> None:
    first = cli.json("ingest", str(cucm_files))
    assert set(first) >= INGEST_KEYS
    assert (first["files"], first["rows_read"], first["stored"], first["rejected"]) == (
        5,
        38,
        38,
        0,
    )
    again = cli.json("ingest", str(cucm_files))
    assert (again["files"], again["files_skipped"], again["rows_read"]) == (0, 5, 0)


def test_ingest_json_equals_the_library_report(cli: Cli, cucm_files: Path) -> None:
    data = cli.json("ingest", str(cucm_files))
    fields = set(IngestReport.__dataclass_fields__)
    assert set(data) == fields | {"rating"}
    assert data["rating"]["calls"] == data["calls"]
    assert data["rating"]["no_tariff"] is True


def test_ingest_human_output(cli: Cli, cucm_files: Path) -> None:
    result = cli("ingest", str(cucm_files))
    assert result.exit_code == 0, result.output
    assert "rows read" in result.output
    assert "38" in result.output


def test_rejects_give_exit_code_1_and_are_listed(cli: Cli, cucm_files: Path) -> None:
    path = cucm_files / "cdr.txt"
    path.write_bytes(path.read_bytes() + b'\n1,2,"broken\n')
    result = cli("ingest", str(cucm_files))
    assert result.exit_code == 1
    assert "1 record(s) rejected" in result.output
    listed = cli.json("ingest", "--rejects")
    assert len(listed) == 1
    assert listed[0]["line"] == 6
    assert listed[0]["file"].endswith("cdr.txt")
    assert listed[0]["reason"] == "quoting"
    table = cli("ingest", "--rejects")
    assert "quoting" in table.output


def test_dry_run_stores_nothing(cli: Cli, cucm_files: Path) -> None:
    report = cli.json("ingest", str(cucm_files), "--dry-run")
    assert report["dry_run"] is True
    assert report["stored"] == 38
    assert cli.json("calls") == []
    assert cli.json("ingest", str(cucm_files))["stored"] == 38


def test_move_to_moves_processed_files(cli: Cli, cucm_files: Path, tmp_path: Path) -> None:
    done = tmp_path / "done"
    cli.json("ingest", str(cucm_files), "--move-to", str(done))
    assert sorted(p.name for p in done.iterdir()) == sorted(
        [
            "cdr.txt",
            "cmr.txt",
            "cdr_StandAloneCluster_02_202112131407_515358",
            "cdr_StandAloneCluster_02_202112131408_515359",
            "cmr_StandAloneCluster_02_202112131408_515359",
        ]
    )
    assert not list(cucm_files.iterdir())


def test_files_being_written_are_left_alone(cli: Cli, cucm_files: Path) -> None:
    (cucm_files / "cdr.txt").rename(cucm_files / "_cdr.txt")
    report = cli.json("ingest", str(cucm_files))
    assert report["files_in_progress"] == 1
    assert report["files"] == 4


def test_glob_and_unknown_files(cli: Cli, cucm_files: Path) -> None:
    (cucm_files / "notes.txt").write_text("hello\n")
    report = cli.json("ingest", str(cucm_files / "cdr_*"))
    assert report["files"] == 2
    report = cli.json("ingest", str(cucm_files))
    assert report["files_ignored"] == 1
    assert report["files"] == 3
    result = cli("ingest", str(cucm_files / "notes.txt"))
    assert result.exit_code == 1
    assert "not a CDR format" in result.output
    # What to do: the formats --format accepts (from the registry), or a mapping.
    assert (
        "one of asterisk, cucm-cdr, cucm-cmr, generic-csv:freeswitch-example, pass --format NAME"
        in result.output
    )
    assert "pass --mapping FILE" in result.output


def test_missing_path_is_a_usage_error(cli: Cli, tmp_path: Path) -> None:
    result = cli("ingest", str(tmp_path / "nope"))
    assert result.exit_code == 2
    assert "no such file or folder" in result.output


def test_unknown_format(cli: Cli, cucm_files: Path) -> None:
    result = cli("ingest", str(cucm_files), "--format", "nortel")
    assert result.exit_code == 2
    assert "unknown format 'nortel'" in result.output


def test_calls_json_keys_and_filters(cli: Cli, cucm_files: Path) -> None:
    cli.json("ingest", str(cucm_files))
    calls = cli.json("calls", "--all")
    assert len(calls) == 23
    assert set(calls[0]) >= CALL_KEYS
    # No tariff loaded: every call still has a class, and costs 0 in the workspace currency.
    assert {c["cost"] for c in calls} == {"0.00"}
    assert all(c["dest_class"] is not None for c in calls)
    assert calls[0]["started_at"].endswith("+03:00")
    outgoing = cli.json("calls", "--direction", "outgoing")
    assert {c["extension"] for c in outgoing} == {"5619", "1411"}
    both = cli.json("calls", "--ext", "2427")
    assert [(c["extension"], c["peer_extension"]) for c in both] == [("2427", "5212")]
    assert cli.json("calls", "--ext", "5212") == both
    last = cli.json("calls", "--last", "3")
    assert [c["call_id"] for c in last] == [c["call_id"] for c in calls[-3:]]
    by_number = cli.json("calls", "--number", "989913402077")
    assert len(by_number) == 4
    day = cli.json("calls", "--from", "2021-12-13", "--to", "2021-12-13")
    assert len(day) == 22
    utc = cli.json("calls", "--last", "1", "--tz", "UTC")
    assert utc[0]["started_at"].endswith("+00:00")


def test_calls_table_and_bad_options(cli: Cli, cucm_files: Path) -> None:
    cli.json("ingest", str(cucm_files))
    result = cli("calls", "--last", "5")
    assert result.exit_code == 0, result.output
    assert "times in Europe/Moscow" in result.output
    assert "of 23 matching calls" in result.output
    bad = cli("calls", "--from", "yesterday-ish")
    assert bad.exit_code == 2
    assert "is not a date" in bad.output
    assert cli("calls", "--direction", "sideways").exit_code == 2
    assert cli("calls", "--tz", "Nowhere/Land").exit_code == 2


def _command_paths(group: Any, prefix: tuple[str, ...] = ()) -> list[list[str]]:
    paths = []
    for name, command in group.commands.items():
        paths.append([*prefix, name])
        if hasattr(command, "commands"):
            paths += _command_paths(command, (*prefix, name))
    return paths


def test_every_command_has_help_with_an_example() -> None:
    root = typer.main.get_command(app)
    paths = _command_paths(root)
    assert {"init", "ingest", "calls", "tariff", "rate", "demo"} <= {p[0] for p in paths}
    for command in paths:
        result = CliRunner().invoke(app, [*command, "--help"])
        assert result.exit_code == 0, command
        assert "Example" in result.output, command


def test_json_output_is_only_json(cli: Cli, cucm_files: Path) -> None:
    result = cli("ingest", str(cucm_files), "--json")
    json.loads(result.stdout)


# -- nothing half-processed ------------------------------------------------------------------


def _pending(cli: Cli) -> tuple[int, int, int]:
    """Calls, and how many of them wait for attribution and for rating."""
    store = open_store(cli.workspace / "callacct.duckdb")
    try:
        calls = int(scalar(store.con, "SELECT count(*) FROM calls"))
        return (calls, *unfinished_calls(store.con))
    finally:
        store.close()


def test_files_that_cannot_be_moved_are_warnings_after_everything_else(
    cli: Cli, cucm_files: Path, tmp_path: Path
) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the folder should be\n")
    result = cli("ingest", str(cucm_files), "--move-to", str(blocker / "done"))
    assert result.exit_code == 1, result.output
    assert "internal error" not in result.output
    warnings = [line for line in result.stderr.splitlines() if "not moved to" in line]
    assert len(warnings) == 5
    assert all(line.startswith(f"warning: {cucm_files}") for line in warnings)
    assert _pending(cli) == (23, 0, 0)
    assert len(list(cucm_files.iterdir())) == 5
    # The next run skips them (stored) and still says so, without an internal error.
    again = cli.json("ingest", str(cucm_files), "--move-to", str(blocker / "done"), code=1)
    assert (again["files_skipped"], again["files_not_moved"], len(again["warnings"])) == (5, 5, 5)
    # Once the folder can be written, they are moved.
    done = tmp_path / "done"
    moved = cli.json("ingest", str(cucm_files), "--move-to", str(done))
    assert moved["files_not_moved"] == 0
    assert len(list(done.iterdir())) == 5
    assert {Path(r["moved_to"]).parent for r in moved["results"]} == {done}


def test_calls_a_failed_run_left_pending_are_finished_by_the_next_ingest(
    cli: Cli, cucm_files: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from callacct.api import chain

    def refusing(*args: object, **kwargs: object) -> None:
        raise ConfigError("general.country: 'XX' is not a country")

    # Rating fails both as the calls are stored (rate_new) and after the ingest (rate_calls).
    with monkeypatch.context() as patched:
        patched.setattr(chain, "rate_new", refusing)
        patched.setattr(chain, "rate_calls", refusing)
        failed = cli("ingest", str(cucm_files))
    assert failed.exit_code == 2
    assert _pending(cli) == (23, 0, 23)  # stored and attributed, not rated
    again = cli.json("ingest", str(cucm_files))
    assert (again["files_skipped"], again["stored"]) == (5, 0)
    assert again["rating"]["calls"] == 23
    assert _pending(cli) == (23, 0, 0)


def test_rate_attributes_calls_stored_without_attribution(cli: Cli, cucm_files: Path) -> None:
    people = cli.workspace / "people.csv"
    people.write_text(
        "login,name,email,language,role,department,cost_center,site,extension,manager,scope\n"
        "ada,Ada,ada@example.com,en,user,Sales,CC1,,1411,,\n",
        encoding="utf-8",
    )
    assert cli("directory", "import", str(people)).exit_code == 0
    # Stored by an ingest that stopped before attributing and rating (killed, say).
    store = open_store(cli.workspace / "callacct.duckdb")
    ingest_paths(store, open_workspace(cli.workspace).settings, [cucm_files])
    store.close()
    assert _pending(cli) == (23, 23, 23)
    assert cli("rate").exit_code == 0
    assert _pending(cli) == (23, 0, 0)
    mine = cli.json("calls", "--ext", "1411", "--all")
    assert mine
    assert {c["user"] for c in mine} == {"ada"}


def test_force_reads_files_again_without_storing_twice(cli: Cli, cucm_files: Path) -> None:
    cli.json("ingest", str(cucm_files))
    forced = cli.json("ingest", str(cucm_files), "--force")
    assert (forced["files"], forced["files_skipped"], forced["rows_read"]) == (5, 0, 38)
    assert (forced["stored"], forced["duplicates"], forced["rejected"]) == (0, 38, 0)
    assert len(cli.json("calls", "--all")) == 23


def test_rejects_show_whole_paths(
    cli: Cli, tmp_path: Path, cucm_files: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from callacct.cli import _output

    monkeypatch.setattr(_output.console, "width", 400)
    sample = (cucm_files / "cdr.txt").read_bytes()
    paths = []
    for folder in ("site-a", "site-b"):
        path = tmp_path / folder / "cdr.txt"
        path.parent.mkdir()
        path.write_bytes(sample + f'\n1,2,"broken {folder}\n'.encode())
        paths.append(path)
    assert cli("ingest", *map(str, paths)).exit_code == 1
    table = cli("ingest", "--rejects")
    assert table.exit_code == 0, table.output
    for path in paths:
        assert str(path) in table.output
