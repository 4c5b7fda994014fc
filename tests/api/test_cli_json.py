"""Every command's `--json` is the API's result: the command line is an adapter over
`callacct.Workspace`, nothing more (STYLE 8)."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from callacct import CallFilter, Workspace
from tests.conftest import SIETE, Cli
from tests.directory.helpers import write_csv


def _plain(data: Any) -> Any:
    """As JSON reads it back (dates and decimals as the CLI prints them)."""
    return json.loads(json.dumps(data, default=str))


@pytest.fixture
def cli(org: Workspace) -> Cli:
    return Cli(org.root)


@pytest.mark.parametrize("login", [None, "alice", "sue"])
def test_reads(org: Workspace, cli: Cli, login: str | None) -> None:
    reader = org.as_person(login)
    who = ("--as", login) if login else ()
    assert cli.json(*who, "calls", "--all") == reader.calls(CallFilter()).to_dicts()
    assert cli.json(*who, "calls", "--last", "2") == reader.calls(CallFilter(last=2)).to_dicts()
    assert cli.json(*who, "calls", "explain", "1") == _plain(reader.explain(1).to_dict())
    language = reader.language()
    assert cli.json(*who, "report", "list") == [e.to_dict(language) for e in reader.reports()]
    ran = cli(*who, "report", "run", "user-bill", "--format", "json")
    assert ran.exit_code == 0, ran.output
    text = io.StringIO()
    reader.render(reader.run_report("user-bill"), "json", text)
    documents = [json.loads(ran.stdout), json.loads(text.getvalue())]
    for document in documents:
        document["report"].pop("generated_at")
    assert documents[0] == documents[1]
    home = cli.json(*who, "home", "--as", login or "ada")
    assert home == _plain(reader.home(login or "ada").to_dict())


def test_writes_and_admin_reads(org: Workspace, cli: Cli, tmp_path: Any) -> None:
    ingest = cli.json("ingest", str(SIETE), "--dry-run")
    api = org.ingest([str(SIETE)], dry_run=True).to_dict()
    for document in (ingest, api):
        document.pop("run_id")
    assert ingest == _plain(api)
    assert cli.json("ingest", "--rejects") == _plain(org.rejects())
    imported = cli.json("tariff", "import", "fr-carrier", "--dry-run")
    assert imported == _plain(org.tariff_import("fr-carrier", dry_run=True).to_dict())
    cli.json("tariff", "import", "fr-carrier")
    assert cli.json("tariff", "list") == _plain(org.tariffs())
    shown = cli.json("tariff", "show", "fr-carrier", "--limit", "5")
    assert shown == _plain(org.tariff("fr-carrier", limit=5))
    rated = [cli.json("rate"), org.rate().to_dict()]
    for document in rated:
        document.pop("seconds")
    assert rated[0] == rated[1]
    people = write_csv(tmp_path / "more.csv", "zoe,Zoe,,en,user,IT,CC-1400,PAR,2009,,")
    directory = cli.json("directory", "import", str(people), "--dry-run", "--as-of", "2026-02-01")
    api_directory = org.directory_import(people, dry_run=True, as_of="2026-02-01")
    assert directory == _plain(api_directory.to_dict())
