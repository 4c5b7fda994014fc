"""Conference bridges and other service numbers shown by name: home, calls and reports for
people (xlsx, PDF, HTML, terminal); JSON and CSV keep the numbers."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb

from callacct.config import open_workspace
from callacct.directory.scope import Scope
from callacct.reports.export import write_csv
from callacct.reports.render import render
from callacct.reports.run import run_report
from callacct.reports.spec import load_text
from callacct.service_numbers import ServiceNumbers
from callacct.store import open_store
from tests.conftest import Cli


def _conference_login(con: duckdb.DuckDBPyConnection) -> str:
    """A person whose last 20 calls hold a call to a conference bridge."""
    row = con.execute(
        """
        SELECT user_login FROM (
            SELECT user_login, dest_class,
                   row_number() OVER (PARTITION BY user_login
                                      ORDER BY started_at DESC, call_id DESC) AS n
            FROM calls WHERE user_login IS NOT NULL)
        WHERE n <= 20 AND dest_class = 'conference' ORDER BY user_login LIMIT 1
        """
    ).fetchall()
    assert row, "the demo has conference calls"
    return str(row[0][0])


def test_home_and_calls_name_the_bridge(demo: Cli, demo_root: Path) -> None:
    store = open_store(open_workspace(demo_root).store_path, read_only=True)
    try:
        login = _conference_login(store.con)
    finally:
        store.close()
    document = demo("home", "--as", login, "--json")
    assert document.exit_code == 0, document.output
    calls = json.loads(document.output)["last_calls"]
    bridges = [c for c in calls if c["other_class"] == "conference"]
    assert bridges
    assert all(c["other_party"].startswith("b") for c in bridges)  # JSON keeps the number
    table = demo("home", "--as", login, "--lang", "en")
    assert f"Conference bridge {bridges[0]['other_party']}" in table.output
    listing = demo("calls", "--class", "conference", "--last", "3", "--lang", "en")
    assert listing.exit_code == 0, listing.output
    assert "Conference bridge b" in listing.output


SPEC = """
name: by-peer
category: c
title: By other extension
description: ''
filters: {type: internal}
group_by: [peer_extension]
measures: [{name: calls, agg: count}]
sort: [-calls]
chart: {kind: bar, category: peer_extension, values: [calls]}
"""


def test_reports_name_it_for_people_and_keep_it_for_tools(demo_root: Path, tmp_path: Path) -> None:
    workspace = open_workspace(demo_root)
    store = open_store(workspace.store_path, read_only=True)
    try:
        result = run_report(
            store.con, load_text(SPEC, "by-peer.yaml"), scope=Scope(role="admin"),
            tz=ZoneInfo("Europe/Paris"), language="en",
            services=ServiceNumbers.of(workspace.settings.dialplan),
        )  # fmt: skip
    finally:
        store.close()
    bridges = [p for p in result.rows["peer_extension"].to_list() if p and p.startswith("b")]
    assert bridges
    out = tmp_path / "r.html"
    render(result, "html", out)
    page = out.read_text(encoding="utf-8")
    assert f">Conference bridge {bridges[0]}</td>" in page
    assert 'class="category">Conference bridge b' in page  # the chart's labels too
    text = io.StringIO()
    write_csv(result, text)
    assert bridges[0] in [row[0] for row in csv.reader(io.StringIO(text.getvalue()))]
