"""`callacct directory ...`, `auth check` and `--as` as a person and a script see them."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from callacct import Workspace
from callacct.cli import app
from callacct.config import load_settings, render_settings
from callacct.directory import list_users
from callacct.errors import NotFoundError
from callacct.i18n import t
from callacct.store import open_store
from tests.conftest import Cli
from tests.directory.conftest import PASSWORD_ENV, LdapServer, password_of
from tests.directory.helpers import add_call, write_csv


def _needs_admin(what: str, login: str, role: str) -> str:
    """The refusal of work for admins, in French: the people of `PEOPLE` read French."""
    role_fr = t(f"value.role.{role}", "fr")
    return t("error.needs_admin", "fr", what=what, login=repr(login), role=role_fr)


PEOPLE = (
    "alice,Alice Martin,alice@example.com,fr,user,Sales,CC-1100,PAR,2001,sue,",
    "bob,Bob Smith,bob@example.com,en,user,Marketing,CC-2700,NYC,3001,,",
    "sue,Sue Petit,sue@example.com,fr,supervisor,Sales,CC-1100,PAR,2002,,",
    "ada,Ada King,ada@example.com,en,admin,IT,CC-1400,PAR,2003;2013,,",
)
LIST_KEYS = {
    "login",
    "name",
    "email",
    "role",
    "language",
    "department",
    "cost_center",
    "site",
    "extensions",
}
DAY = dt.datetime(2026, 1, 5, 9)


def _set(cli: Cli, section: str, **values: Any) -> None:
    settings = load_settings(cli.workspace)
    current = getattr(settings, section)
    part = type(current).model_validate({**current.model_dump(), **values})
    settings = settings.model_copy(update={section: part})
    (cli.workspace / "callacct.toml").write_text(render_settings(settings))


@pytest.fixture
def org(cli: Cli, tmp_path: Path) -> Cli:
    """A workspace with four people and calls of each kind."""
    store = open_store(cli.workspace / "callacct.duckdb")
    try:
        add_call(store.con, 1, DAY, "outgoing", "2001", remote="0612345678")
        add_call(store.con, 2, DAY, "incoming", "3001", remote="2125550100")
        add_call(store.con, 3, DAY, "internal", "2001", peer="3001")
        add_call(store.con, 4, DAY, "outgoing", "2002", remote="0699999999")
        add_call(store.con, 5, DAY, "outgoing", "4999", remote="0611111111")
    finally:
        store.close()
    result = cli("directory", "import", str(write_csv(tmp_path / "people.csv", *PEOPLE)))
    assert result.exit_code == 0, result.output
    assert (
        "5 call(s) attributed again (4 to a person, 1 with an extension not in the directory)"
        in result.output
    )
    return cli


def test_import_reports_every_bad_line(cli: Cli, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "people.csv",
        "alice,,,,user,Sales,,,2001,,",
        "bob,,,,chief,Sales,,,2002,,",
        ",,,,user,Sales,,,2003,,",
        "carol,,not-an-email,,user,Sales,,,2004,,",
        "dave,,,,user,Sales,,,20x5,,",
        "alice,,,,user,IT,,,2006,,",
        "erin,,,,user,Sales,,,2001,,",
        "frank,,,,user,Sales,too,many,fields,here,x,y",
        "gina,,,,user,Sales,,,2008,,floor:3",
    )
    result = cli("directory", "import", str(path))
    assert result.exit_code == 1
    rejected = [line for line in result.output.splitlines() if line.startswith("rejected:")]
    assert [re.match(r"rejected: (people\.csv:\d+):", r)[1] for r in rejected] == [  # type: ignore[index]
        f"people.csv:{n}" for n in range(3, 11)
    ]
    data = cli.json("directory", "import", str(path), "--dry-run", code=1)
    assert data["read"] == 9
    assert data["rejected"] == 8
    assert data["problems"][0] == {
        "file": "people.csv",
        "line": 3,
        "key": "",
        "value": "",
        "message": "role 'chief' must be one of user, supervisor, admin",
    }
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        ("login,name,floor\n", "people.csv:1: unknown column 'floor'"),
        ("name,email\n", "people.csv:1: no 'login' column"),
    ],
)
def test_unusable_files_are_one_line_errors(
    cli: Cli, tmp_path: Path, content: str | None, message: str
) -> None:
    path = tmp_path / "people.csv"
    if content is not None:
        path.write_text(content)
    result = cli("directory", "import", str(path))
    assert result.exit_code == 2
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_list_and_show(org: Cli) -> None:
    people = org.json("directory", "list")
    assert [p["login"] for p in people] == ["ada", "alice", "bob", "sue"]
    assert set(people[0]) >= LIST_KEYS
    assert people[0]["extensions"] == ["2003", "2013"]
    assert people[1]["manager"] == "sue"
    store = open_store(org.workspace / "callacct.duckdb")
    try:
        library = list_users(store.con)
    finally:
        store.close()
    assert [p["login"] for p in library] == [p["login"] for p in people]
    table = org("directory", "list")
    assert table.exit_code == 0, table.output
    assert "Alice Martin" in table.output
    shown = org.json("directory", "show", "alice")
    assert shown["versions"][0]["department"] == "Sales"
    assert shown["extensions"][0]["extension"] == "2001"
    assert org("directory", "show", "alice").exit_code == 0
    missing = org("directory", "show", "nobody")
    assert missing.exit_code == 2
    assert "no such person" in missing.output


def test_calls_carry_attribution(org: Cli) -> None:
    calls = {c["call_id"]: c for c in org.json("calls", "--all")}
    assert (calls[1]["user"], calls[1]["department"], calls[1]["site"]) == ("alice", "Sales", "PAR")
    assert (calls[3]["user"], calls[3]["peer_user"]) == ("alice", "bob")
    assert calls[5]["undefined_extension"] is True
    assert calls[1]["undefined_extension"] is False


@pytest.mark.parametrize(
    ("login", "expected"),
    [("alice", {1, 3}), ("bob", {2, 3}), ("sue", {1, 3, 4}), ("ada", {1, 2, 3, 4, 5})],
)
def test_as_runs_calls_within_the_scope(org: Cli, login: str, expected: set[int]) -> None:
    assert {c["call_id"] for c in org.json("--as", login, "calls", "--all")} == expected


@pytest.mark.parametrize(
    "options",
    [
        ["--ext", "3001"],
        ["--ext", "2002,4999"],
        ["--number", "0699999999"],
        ["--number", "2125550100"],
        ["--direction", "incoming,outgoing,internal"],
        ["--disposition", "answered,missed,busy,failed"],
        ["--from", "2000-01-01", "--to", "2100-01-01"],
        ["--all"],
        ["--last", "100000"],
        ["--ext", "' OR 1=1 --"],
        ["--class", "mobile,national,unknown,internal"],
        ["--unpriced"],
    ],
)
def test_no_calls_option_widens_a_user_scope(org: Cli, options: list[str]) -> None:
    result = org("--as", "alice", "calls", *options, "--json")
    assert result.exit_code in (0, 2), result.output
    if result.exit_code == 0:
        seen = json.loads(result.stdout)
        assert all("alice" in (c["user"], c["peer_user"]) for c in seen)
        assert {c["call_id"] for c in seen} <= {1, 3}


def test_unknown_as_login_is_a_one_line_usage_error(org: Cli) -> None:
    result = org("--as", "mallory", "calls")
    assert result.exit_code == 2
    assert "--as 'mallory': no such person in the directory" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_as_limits_the_directory_and_forbids_changes(org: Cli, tmp_path: Path) -> None:
    assert [p["login"] for p in org.json("--as", "alice", "directory", "list")] == ["alice"]
    assert [p["login"] for p in org.json("--as", "sue", "directory", "list")] == ["alice", "sue"]
    assert org("--as", "alice", "directory", "show", "bob").exit_code == 2
    path = write_csv(tmp_path / "x.csv", *PEOPLE)
    refused = org("--as", "sue", "directory", "import", str(path))
    assert refused.exit_code == 2
    assert _needs_admin("directory import", "sue", "supervisor") in refused.output
    assert org("--as", "ada", "directory", "import", str(path)).exit_code == 0


def test_masking_in_table_and_json(org: Cli) -> None:
    _set(org, "masking", user=4, supervisor=2)
    calls = {c["call_id"]: c for c in org.json("--as", "alice", "calls", "--all")}
    assert calls[1]["remote_number"] == "061234****"
    assert calls[1]["called_number"] == "061234****"
    assert calls[1]["final_number"] == "061234****"
    assert calls[1]["calling_number"] == "2001"  # her own extension stays readable
    assert calls[3]["called_number"] == "3001"  # internal numbers are not masked
    table = org("--as", "alice", "calls", "--all")
    assert table.exit_code == 0, table.output
    assert "061234****" in table.output
    assert "0612345678" not in table.output
    sue = {c["call_id"]: c for c in org.json("--as", "sue", "calls", "--all")}
    assert sue[4]["remote_number"] == "06999999**"
    admin = {c["call_id"]: c for c in org.json("calls", "--all")}
    assert admin[1]["remote_number"] == "0612345678"
    _set(org, "masking", admin=3)
    assert {c["call_id"]: c for c in org.json("calls", "--all")}[1]["remote_number"] == (
        "0612345***"
    )
    assert "0612345***" in org("calls", "--all").output


def test_masking_settings_are_validated(org: Cli) -> None:
    path = org.workspace / "callacct.toml"
    path.write_text(path.read_text().replace("[masking]\n", "[masking]\nguest = 3\n"))
    result = org("calls")
    assert result.exit_code == 2
    line = path.read_text().splitlines().index("guest = 3") + 1
    assert f"callacct.toml:{line}: masking.guest: unknown key" in result.output


@pytest.mark.parametrize(
    "command",
    [
        ["directory", "import"],
        ["directory", "sync-ldap"],
        ["directory", "list"],
        ["directory", "show"],
        ["auth", "check"],
    ],
)
def test_every_command_has_help_with_an_example(command: list[str]) -> None:
    result = CliRunner().invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    assert "Example" in result.output


# --- with the real slapd ---------------------------------------------------------------------


@pytest.fixture
def ldap_ws(cli: Cli, ldap: LdapServer) -> Cli:
    _set(cli, "ldap", **ldap.settings().model_dump())
    return cli


def test_sync_ldap_cli(ldap_ws: Cli, ldap: LdapServer) -> None:
    preview = ldap_ws.json("directory", "sync-ldap", "--dry-run")
    assert preview["dry_run"] is True
    assert len(preview["added"]) == len(ldap.people) + 1
    assert ldap_ws.json("directory", "list") == []
    done = ldap_ws("directory", "sync-ldap")
    assert done.exit_code == 0, done.output
    people = ldap_ws.json("directory", "list")
    assert len(people) == len(ldap.people) + 1
    assert {p["source"] for p in people} == {"ldap"}


def test_auth_check_cli(ldap_ws: Cli, ldap: LdapServer) -> None:
    supervisor = next(p for p in ldap.people if p.role == "supervisor")
    with pytest.raises(NotFoundError, match="authenticated but is not in the callacct directory"):
        Workspace.open(ldap_ws.workspace).login(supervisor.login, password_of(supervisor))
    assert ldap_ws("directory", "sync-ldap").exit_code == 0
    result = ldap_ws(
        "auth", "check", supervisor.login, "--password-stdin", "--json",
        input=password_of(supervisor) + "\n",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["role"] == "supervisor"
    assert data["departments"] == [supervisor.department]
    assert "password" not in str(data).lower()
    # The command prints what the API's login returns.
    api = Workspace.open(ldap_ws.workspace).login(supervisor.login, password_of(supervisor))
    assert data == api.to_dict()
    prompted = ldap_ws("auth", "check", supervisor.login, input=password_of(supervisor) + "\n")
    assert prompted.exit_code == 0, prompted.output
    assert "role: supervisor" in prompted.output
    wrong = ldap_ws("auth", "check", supervisor.login, "--password-stdin", input="nope\n")
    assert wrong.exit_code == 1
    assert "wrong login or password" in wrong.output
    injected = ldap_ws("auth", "check", "*)(uid=*", "--password-stdin", input="x\n")
    assert injected.exit_code == 1
    empty = ldap_ws("auth", "check", supervisor.login, "--password-stdin", input="   \n")
    assert empty.exit_code == 2
    assert "empty password refused" in empty.output


def test_sync_without_ldap_url_says_what_to_set(cli: Cli) -> None:
    result = cli("directory", "sync-ldap")
    assert result.exit_code == 2
    assert "ldap.url is not set" in result.output


def test_service_password_never_printed(
    ldap_ws: Cli, ldap: LdapServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PASSWORD_ENV, "s3cret-wrong")
    result = ldap_ws("directory", "sync-ldap")
    assert result.exit_code == 2
    assert "s3cret-wrong" not in result.output
    assert "s3cret" not in (ldap_ws.workspace / "callacct.toml").read_text()


def test_ingest_attributes_new_calls(cli: Cli, cucm_files: Path, tmp_path: Path) -> None:
    people = write_csv(tmp_path / "p.csv", "ivan,Ivan,,,user,Support,,MOW,2427,,")
    assert cli("directory", "import", str(people)).exit_code == 0
    cli.json("ingest", str(cucm_files))
    calls = cli.json("calls", "--all")
    mine = [c for c in calls if "ivan" in (c["user"], c["peer_user"])]
    assert mine
    assert all(c["department"] == "Support" for c in mine if c["user"] == "ivan")
    assert all(c["undefined_extension"] is not None for c in calls)
    assert {c["call_id"] for c in cli.json("--as", "ivan", "calls", "--all")} == {
        c["call_id"] for c in mine
    }


def test_demo_workspace_has_a_directory(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["demo", str(tmp_path / "demo"), "--people", "20", "--days", "2", "--end", "2026-03-10"],
    )
    assert result.exit_code == 0, result.output
    ws = Cli(tmp_path / "demo")
    people = ws.json("directory", "list")
    assert len(people) == 20
    calls = ws.json("calls", "--all")
    assert all(c["user"] for c in calls if c["extension"])
    assert all(c["disposition"] == "failed" for c in calls if c["undefined_extension"])
    assert (tmp_path / "demo" / "directory" / "people.ldif").is_file()
    assert (tmp_path / "demo" / "directory" / "ad-lite.schema").is_file()
    user = next(p for p in people if p["role"] == "user")
    mine = ws.json("--as", user["login"], "calls", "--all")
    assert all(user["login"] in (c["user"], c["peer_user"]) for c in mine)


def test_ingest_and_rejects_need_an_admin(org: Cli, cucm_files: Path) -> None:
    for args in (["ingest", str(cucm_files)], ["ingest", "--rejects"]):
        refused = org("--as", "alice", *args)
        assert refused.exit_code == 2
        what = "ingest" if args[1] != "--rejects" else "ingest --rejects"
        assert _needs_admin(what, "alice", "user") in refused.output
    assert org("--as", "ada", "ingest", "--rejects").exit_code == 0


def test_raw_record_of_a_call_for_admins_only(cli: Cli, cucm_files: Path) -> None:
    cli("ingest", str(cucm_files))
    call = cli.json("calls", "--last", "1")[0]
    shown = cli.json("calls", "raw", str(call["call_id"]))
    source = Path(shown["file"]).read_text().splitlines()[shown["line"] - 1]
    assert shown["raw"] == source.rstrip("\r")
    assert shown["raw"].startswith("1,")  # cdrRecordType: a CDR
    text = cli("calls", "raw", str(call["call_id"]))
    assert text.exit_code == 0
    assert f"line {shown['line']}:" in text.output
    missing = cli("calls", "raw", "999999")
    assert missing.exit_code == 2
    assert "no call with id 999999" in missing.output


def test_raw_records_need_an_admin(org: Cli) -> None:
    refused = org("--as", "alice", "calls", "raw", "1")
    assert refused.exit_code == 2
    assert _needs_admin("calls raw", "alice", "user") in refused.output


def test_directory_benchmark_runs(tmp_path: Path) -> None:
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, str(root / "benchmarks" / "bench_directory.py"), "--quick", "--json"],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert figures["attribution"]["calls"] == 20_000
    assert figures["department_move"]["people_moved"] == 5


def test_explain_stays_in_the_scope_and_masks(org: Cli) -> None:
    assert org.json("--as", "alice", "calls", "explain", "1")["call_id"] == 1
    for other in ("2", "4", "5"):  # bob's, sue's, nobody's
        refused = org("--as", "alice", "calls", "explain", other)
        assert refused.exit_code == 2
        # Said in Alice's language.
        assert t("error.no_call", "fr", call_id=other) in refused.output
    plain = org.json("calls", "explain", "1")["remote_number"]
    _set(org, "masking", user=4)
    masked = org.json("--as", "alice", "calls", "explain", "1")
    assert masked["dialled"] == "061234****"
    assert masked["remote_number"] == plain[:-4] + "****"
    text = json.dumps(masked["steps"])
    assert "5678" not in text
    assert masked["remote_number"] in text


def test_rating_commands_need_an_admin(org: Cli) -> None:
    for command in (["rate"], ["tariff", "import", "fr-carrier"]):
        refused = org("--as", "alice", *command)
        assert refused.exit_code == 2, command
        assert _needs_admin(" ".join(command[:2]), "alice", "user") in refused.output
    assert org("--as", "ada", "rate").exit_code == 0


def test_a_move_to_another_site_rates_later_calls_with_its_dial_plan(
    cli: Cli, tmp_path: Path
) -> None:
    settings = cli.workspace / "callacct.toml"
    settings.write_text(
        settings.read_text()
        + '\n[sites.PAR]\nregion = "FR"\naccess_codes = ["0"]\n'
        + '\n[sites.NYC]\nregion = "US"\naccess_codes = ["9"]\n'
    )
    store = open_store(cli.workspace / "callacct.duckdb")
    try:
        # Dialled the Paris way to New York: international from PAR, unreadable from NYC.
        add_call(store.con, 1, DAY, "outgoing", "2001", remote="0012125550100")
        add_call(
            store.con, 2, DAY + dt.timedelta(days=30), "outgoing", "2001", remote="0012125550100"
        )
    finally:
        store.close()
    cli.json("directory", "import", str(write_csv(tmp_path / "a.csv", PEOPLE[0])))
    moved = write_csv(tmp_path / "b.csv", PEOPLE[0].replace(",PAR,", ",NYC,"))
    result = cli.json("directory", "import", str(moved), "--as-of", "2026-01-20")
    assert result["rating"]["changed"] == 1
    calls = {c["call_id"]: c for c in cli.json("calls", "--all")}
    assert (calls[1]["site"], calls[1]["dest_class"]) == ("PAR", "international")
    assert (calls[2]["site"], calls[2]["dest_class"]) == ("NYC", "unknown")


def test_a_person_whose_line_was_rejected_then_fixed_gets_their_past_calls(
    cli: Cli, tmp_path: Path
) -> None:
    store = open_store(cli.workspace / "callacct.duckdb")
    try:
        add_call(store.con, 1, DAY, "outgoing", "2001", remote="0612345678")
        add_call(store.con, 2, DAY, "outgoing", "3001", remote="0612345678")
    finally:
        store.close()
    broken = write_csv(tmp_path / "a.csv", PEOPLE[0], PEOPLE[1].replace(",user,", ",boss,"))
    assert cli("directory", "import", str(broken)).exit_code == 1
    fixed = write_csv(tmp_path / "b.csv", PEOPLE[0], PEOPLE[1])
    result = cli.json("directory", "import", str(fixed))
    assert result["added"] == ["bob"]
    assert result["effective_from"] == "1900-01-01T00:00:00+00:00"
    calls = {c["call_id"]: c for c in cli.json("calls", "--all")}
    assert (calls[1]["user"], calls[2]["user"]) == ("alice", "bob")
    versions = cli.json("directory", "show", "bob")["versions"]
    assert [v["valid_from"] for v in versions] == ["1900-01-01T00:00:00+00:00"]


def test_an_earlier_as_of_backdates_and_says_so(cli: Cli, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "a.csv", PEOPLE[0])
    cli.json("directory", "import", str(path), "--as-of", "2026-03-01")
    result = cli("directory", "import", str(path), "--as-of", "2000-01-01")
    assert result.exit_code == 0, result.output
    assert "backdated to 1999-12-31 21:00 UTC: alice" in result.stdout  # Moscow midnight
    again = cli.json("directory", "import", str(path), "--as-of", "2000-01-01")
    assert (again["backdated"], again["unchanged"]) == ([], 1)
