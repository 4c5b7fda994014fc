"""`callacct.Workspace`: every method, and the rules of who may do and see what, which live
behind it once for every caller (the CLI, scripts, later a scheduler and web pages)."""

from __future__ import annotations

import datetime as dt
import io
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import callacct
from callacct import CallFilter, Workspace
from callacct.errors import ConfigError, NotFoundError, UsageError
from callacct.progress import Step
from callacct.store import open_store
from tests.api.conftest import DAY, SEES
from tests.conftest import DENIKOND, SIETE


def _ids(workspace: Workspace, flt: CallFilter | None = None) -> set[int]:
    return {int(c) for c in workspace.calls(flt).frame["call_id"]}


# -- opening -------------------------------------------------------------------------------


def test_open_finds_the_workspace_as_the_command_line_does(
    org: Workspace, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CALLACCT_HOME", str(org.root))
    assert Workspace.open().root == org.root
    monkeypatch.delenv("CALLACCT_HOME")
    monkeypatch.chdir(org.root)
    assert Workspace.open().root == org.root
    with pytest.raises(ConfigError, match="no callacct workspace here"):
        Workspace.open(tmp_path / "nothing")
    with pytest.raises(ConfigError, match="already exists"):
        Workspace.create(org.root)


def test_importing_callacct_is_cheap_and_exports_the_api() -> None:
    code = (
        "import sys, callacct; heavy = [m for m in ('polars', 'duckdb', 'callacct.api') "
        "if m in sys.modules]; print(heavy); print(callacct.Workspace.__module__)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert out == ["[]", "callacct.api.workspace"]
    assert callacct.Workspace is Workspace
    with pytest.raises(AttributeError):
        _ = callacct.NoSuchThing  # type: ignore[attr-defined]


def test_the_store_is_not_held_between_calls(org: Workspace) -> None:
    org.calls()
    org.reports()
    # Another process can take the store for writing at once.
    code = (
        "import sys; from pathlib import Path; from callacct.store import open_store; "
        "open_store(Path(sys.argv[1]), lock_timeout_s=0).close()"
    )
    subprocess.run([sys.executable, "-c", code, str(org.store_path)], check=True)


def test_holding_keeps_one_store_for_several_calls(org: Workspace) -> None:
    with org.holding():
        assert org.calls().total == 5
        with pytest.raises(UsageError, match="held for writing"):
            org.delete_report("mine")
        with pytest.raises(UsageError, match="already held"), org.holding():
            pass
    with org.holding(write=True):
        org.save_report("mine", base="calls-detail")
        org.delete_report("mine")
    assert org.calls().total == 5  # opened again, for this call only


# -- who may see what ---------------------------------------------------------------------------


@pytest.mark.parametrize("login", sorted(SEES))
def test_every_read_keeps_a_person_within_their_scope(org: Workspace, login: str) -> None:
    person = org.as_person(login)
    allowed = SEES[login]
    assert _ids(person) == allowed
    # No filter widens it: asking for every extension, or someone else's number.
    for flt in (
        CallFilter(extensions=("2001", "3001", "2002", "2003")),
        CallFilter(number="+12125550100"),
        CallFilter(start=DAY.date(), end=DAY.date()),
    ):
        assert _ids(person, flt) <= allowed
    for call_id in range(1, 6):
        if call_id in allowed:
            assert person.explain(call_id).call_id == call_id
        else:
            with pytest.raises(NotFoundError, match=f"no call with id {call_id}"):
                person.explain(call_id)
    rows = person.run_report("calls-detail", {"from": "2026-01-01", "to": "2026-01-31"})
    assert rows.rows.height == len(allowed)
    users = person.run_report("calls-detail", {"users": ["alice", "bob", "sue", "ada"]})
    assert users.rows.height <= len(allowed)
    visible = {p["login"] for p in person.people()}
    for other in ("alice", "bob", "sue", "ada"):
        if other in visible:
            assert person.person(other)["login"] == other
        else:
            with pytest.raises(NotFoundError, match="within your scope"):
                person.person(other)


def test_whose_home_a_person_may_open(org: Workspace) -> None:
    alice = org.as_person("alice")
    assert {int(c) for c in alice.home().last_calls["call_id"]} == {1, 3}
    for other in ("bob", "sue", "ada", "nobody"):
        with pytest.raises(UsageError, match=f"'{other}': no such person within"):
            alice.home(other)
    sue = org.as_person("sue")
    assert {int(c) for c in sue.home("alice").last_calls["call_id"]} == {1, 3}
    with pytest.raises(UsageError, match="no such person within what 'sue' may see"):
        sue.home("bob")
    assert {int(c) for c in org.home("bob").last_calls["call_id"]} == {2, 3}
    with pytest.raises(UsageError, match="home needs a person"):
        org.home()


def test_numbers_are_masked_for_the_reader_everywhere(org: Workspace) -> None:
    sue = org.as_person("sue")  # supervisors do not see the last 4 digits (conftest)
    assert "+3361234****" in set(sue.calls().frame["remote_number"])
    assert "+33612345678" not in json.dumps(sue.calls().to_dicts())
    explained = json.dumps(sue.explain(1).to_dict())
    assert "+33612345678" not in explained
    assert "+3361234****" in explained
    report = sue.run_report("calls-detail")
    assert "+33612345678" not in report.rows.write_csv()
    home = sue.home("alice").to_dict()
    assert {c["remote_number"] for c in home["last_calls"]} - {None} == {"+3361234****"}
    assert "+33612345678" in json.dumps(org.as_person("alice").calls().to_dicts())


@pytest.mark.parametrize(
    "write",
    [
        lambda w: w.ingest([str(SIETE)]),
        lambda w: w.rate(),
        lambda w: w.rejects(),
        lambda w: w.raw(1),
        lambda w: w.directory_import("people.csv"),
        lambda w: w.sync_ldap(),
        lambda w: w.tariff_import("fr-carrier"),
    ],
    ids=["ingest", "rate", "rejects", "raw", "directory_import", "sync_ldap", "tariff_import"],
)
@pytest.mark.parametrize("login", ["alice", "sue"])
def test_shared_data_and_raw_records_need_an_admin(
    org: Workspace, login: str, write: Callable[[Workspace], Any]
) -> None:
    with pytest.raises(UsageError, match=f"needs an admin; '{login}' is a"):
        write(org.as_person(login))


def test_an_admin_from_the_directory_may_do_what_the_operator_does(org: Workspace) -> None:
    ada = org.as_person("ada")
    with pytest.raises(NotFoundError, match="no call with id 1"):  # inserted, not ingested
        ada.raw(1)
    assert ada.rate().calls == 5
    assert ada.rejects() == []


def test_a_login_not_in_the_directory_reads_nothing(org: Workspace) -> None:
    mallory = org.as_person("mallory")
    for read in (mallory.calls, mallory.reports, mallory.people, mallory.scope):
        with pytest.raises(UsageError, match="--as 'mallory': no such person in the directory"):
            read()


def test_the_language_is_the_options_else_the_persons_else_the_workspaces(
    org: Workspace,
) -> None:
    alice, sue = org.as_person("alice"), org.as_person("sue")
    assert alice.run_report("cost-by-department").language == "fr"
    assert sue.run_report("cost-by-department").language == "de"
    assert alice.run_report("cost-by-department", language="it").language == "it"
    assert org.run_report("cost-by-department").language == "en"
    assert alice.home().language == "fr"
    assert org.home("sue").language == "de"  # the home's person's language
    with pytest.raises(UsageError, match="--lang: 'xx' is not one of"):
        alice.run_report("cost-by-department", language="xx")


def test_personal_reports_belong_to_their_owner(org: Workspace) -> None:
    alice = org.as_person("alice")
    saved = alice.save_report("mine", base="calls-detail", filters={"directions": ["outgoing"]})
    assert (saved.owner, saved.spec.name) == ("alice", "mine")
    assert "mine" in {e.spec.name for e in alice.reports()}
    assert alice.report("mine").owner == "alice"
    assert alice.report("calls-detail").public
    assert alice.run_report("mine").rows.height == 1  # her outgoing call
    for other in (org, org.as_person("bob")):
        assert "mine" not in {e.spec.name for e in other.reports()}
        with pytest.raises(NotFoundError):
            other.run_report("mine")
    text = alice.export_report("mine")
    assert text.startswith("name: mine")
    alice.delete_report("mine")
    path = org.root / "mine.yaml"
    path.write_text(text)
    assert org.import_report(path).owner == "(operator)"
    assert org.check_reports([path]).problems == []
    assert org.check_reports().checked > 20


def test_a_report_run_is_noted_for_the_readers_home(org: Workspace) -> None:
    alice = org.as_person("alice")
    for _ in range(2):
        alice.run_report("user-bill")
    alice.run_report("cost-by-class", record=False)
    assert alice.home().reports == [("user-bill", 2)]


# -- loading and rating ---------------------------------------------------------------------


def test_ingest_stores_attributes_rates_and_moves(tmp_path: Path) -> None:
    workspace = Workspace.create(
        tmp_path / "ws", country="RU", timezone="Europe/Moscow", currency="RUB",
        access_codes=["0"], extension_pattern=r"^\d{4}$",
    )  # fmt: skip
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for path in DENIKOND.iterdir():
        (inbox / path.name).write_bytes(path.read_bytes())
    steps: list[Step] = []
    loaded = workspace.ingest([inbox], move_to=tmp_path / "done", progress=steps.append)
    assert loaded.ingest.stored > 0
    assert not loaded.has_problems
    assert loaded.attribution is not None
    assert loaded.rating is not None
    assert loaded.rating.calls == workspace.calls().total > 0
    first = workspace.calls(CallFilter(last=1)).to_dicts()[0]
    record = workspace.raw(first["call_id"])
    source = (tmp_path / "done" / Path(record.file).name).read_text()
    assert source.splitlines()[record.line - 1] == record.text
    assert not any(inbox.iterdir())
    assert {s.stage for s in steps} >= {"reading", "finishing"}
    assert steps[0].total == sum(p.stat().st_size for p in (tmp_path / "done").iterdir())
    again = workspace.ingest([tmp_path / "done"], dry_run=True)
    assert (again.ingest.files_skipped, again.rating) == (3, None)
    assert workspace.rate("2021-12-13", dt.date(2021, 12, 13)).calls > 0
    with pytest.raises(UsageError, match="empty range"):
        workspace.rate("2021-12-14", "2021-12-13")
    with pytest.raises(UsageError, match="name at least one file"):
        workspace.ingest([])


def test_tariffs_and_explain(org: Workspace) -> None:
    imported = org.tariff_import("fr-carrier")
    assert imported.report.plan == "fr-carrier"
    assert imported.rating is not None
    assert imported.rating.calls == 5
    assert [p["plan"] for p in org.tariffs()] == ["fr-carrier"]
    assert org.tariff("fr-carrier", limit=3)["plan"] == "fr-carrier"
    not_rated = org.tariff_import("fr-carrier", rate=False, valid_from="2030-01-01")
    assert not_rated.rating is None
    assert any("costs may be out of date" in w for w in not_rated.warnings)
    steps = [label for label, _ in org.explain(1).steps]
    assert "cost" in steps or "rate" in steps
    with pytest.raises(UsageError, match="no such file"):
        org.tariff_import("no-such-plan")


def test_what_readers_are_told_besides_the_result(org: Workspace) -> None:
    told: list[str] = []
    reader = Workspace.open(org.root, on_warning=told.append)
    reader.tariff_import("fr-carrier", rate=False)
    told.clear()
    reader.calls()
    assert len(told) == 1
    assert told[0].startswith("costs may be out of date")
    store = open_store(org.store_path)
    store.con.execute("UPDATE calls SET dest_class = NULL WHERE call_id IN (1, 2)")
    store.close()
    told.clear()
    reader.calls()
    assert any(t.startswith("2 call(s) stored but not attributed and rated yet") for t in told)


def test_render_writes_documents_and_data(org: Workspace, tmp_path: Path) -> None:
    result = org.run_report("cost-by-department")
    org.render(result, "xlsx", tmp_path / "r.xlsx")
    assert (tmp_path / "r.xlsx").read_bytes()[:2] == b"PK"
    text = io.StringIO()
    org.render(result, "json", text)
    assert json.loads(text.getvalue())["report"]["name"] == "cost-by-department"
    org.render(result, "csv", tmp_path / "r.csv")
    assert (tmp_path / "r.csv").read_text().startswith("Department")
    with pytest.raises(UsageError, match="is written to a file"):
        org.render(result, "pdf", io.StringIO())
    with pytest.raises(UsageError, match="is not one of"):
        org.render(result, "docx", tmp_path / "r.docx")


def test_phone_lock_acts_as_the_reader(org: Workspace) -> None:
    with org.as_person("alice").lock_service() as service:
        assert (service.actor.name, service.actor.scope.role) == ("alice", "user")
    with org.lock_service() as service:
        assert (service.actor.name, service.actor.scope.role) == ("operator", "admin")
    with pytest.raises(UsageError, match="lock device list needs an admin; 'sue' is a"):  # noqa: SIM117
        with org.as_person("sue").admin_store("lock device list"):
            pass
    with org.as_person("ada").admin_store("lock device list") as store:
        assert store.read_only
