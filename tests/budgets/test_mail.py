"""Budget e-mails through the delivery service, against a real SMTP server on 127.0.0.1:
sent once per threshold and period, in the person's language, in the shared layout."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from aiosmtpd.controller import Controller

from callacct.api import Workspace
from tests.budgets.conftest import Calls, budget_settings, make_workspace, utc
from tests.delivery.conftest import (  # noqa: F401  (fixtures)
    Handler,
    ServerFactory,
    free_port,
    mail_server,
    smtp_ca,
    smtp_ca_file,
)


def _mailed_workspace(
    root: Path, server_settings: dict[str, object], **budgets: object
) -> Workspace:
    settings = budget_settings({"smtp": server_settings}, **budgets)
    return make_workspace(root, settings)


def test_warnings_and_lock_notice_are_mailed_once(
    tmp_path: Path,
    mail_server: ServerFactory,  # noqa: F811
) -> None:
    server = mail_server("starttls")
    workspace = _mailed_workspace(tmp_path, server.smtp_settings(), warn_supervisor=True)
    calls = Calls(workspace)
    now = utc("2026-12-10 12:00")
    workspace.set_budget(user="alice", amount="50", warn_at="80", now=now)
    calls.add("alice", "2026-12-02 09:00", "41")
    workspace.evaluate_budgets(now=now)
    assert len(server.received) == 1
    warning = server.received[0]
    assert sorted(warning.recipients) == ["alice@example.com", "carol@example.com"]
    message = warning.message
    assert message["Subject"] == "Budget : 82 % de votre budget de 2026-12 est dépensé"
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "vous avez dépensé 41,00" in text
    assert "Reste: 9,00" in text
    assert 'lang="fr"' in html
    assert "<th" in html
    assert "9,00" in html
    # Again: nothing new to say, nothing sent.
    workspace.evaluate_budgets(now=now)
    workspace.evaluate_budgets(now=now + dt.timedelta(hours=1))
    assert len(server.received) == 1
    calls.add("alice", "2026-12-03 09:00", "10")
    workspace.evaluate_budgets(now=now)
    assert len(server.received) == 2
    notice = server.received[1].message
    assert "verrouillée" in notice["Subject"]
    # The deliveries are recorded under the budget's keys.
    with workspace.delivery_store() as store:
        keys = [
            row[0]
            for row in store.con.execute(
                "SELECT key FROM deliveries WHERE origin = 'budget' ORDER BY key"
            ).fetchall()
        ]
    assert keys == ["budget:1:alice:2026-12-01:80", "budget:1:alice:2026-12-01:lock"]


def test_group_warning_in_each_members_language(
    tmp_path: Path,
    mail_server: ServerFactory,  # noqa: F811
) -> None:
    server = mail_server("plain")
    workspace = _mailed_workspace(tmp_path, server.smtp_settings())
    Calls(workspace).add("bob", "2026-12-02 09:00", "9")
    workspace.set_budget(
        department="Sales", amount="10", warn_at="80", lock_at=0, now=utc("2026-12-10 12:00")
    )
    subjects = {r.recipients[0]: r.message["Subject"] for r in server.received}
    assert set(subjects) == {"alice@example.com", "bob@example.com", "carol@example.com"}
    assert subjects["bob@example.com"] == "Budget of Sales: 90% for 2026-12 is spent"
    assert subjects["carol@example.com"].startswith("Budget von Sales")


def test_a_failed_warning_is_sent_again_by_the_next_evaluation(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there yet
    smtp = {"host": "127.0.0.1", "port": port, "security": "plain", "retries": 0}
    workspace = _mailed_workspace(tmp_path, {**smtp, "from_address": "callacct@example.com"})
    Calls(workspace).add("alice", "2026-12-02 09:00", "9")
    now = utc("2026-12-10 12:00")
    workspace.set_budget(user="alice", amount="10", warn_at="80", lock_at=0, now=now)
    assert [e.action for e in workspace.budget_history()] == ["warned"]
    assert _statuses(workspace) == [("budget:1:alice:2026-12-01:80", "failed")]
    # The server is there now: the next evaluation sends it, once.
    handler = Handler()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        workspace.evaluate_budgets(now=now + dt.timedelta(hours=1))
        workspace.evaluate_budgets(now=now + dt.timedelta(hours=2))
    finally:
        controller.stop()
    assert len(handler.received) == 1
    assert "90 %" in handler.received[0].message["Subject"]
    assert _statuses(workspace) == [("budget:1:alice:2026-12-01:80", "sent")]
    assert [e.action for e in workspace.budget_history()] == ["warned"]


def _statuses(workspace: Workspace) -> list[tuple[str, str]]:
    with workspace.delivery_store() as store:
        rows = store.con.execute("SELECT key, status FROM deliveries ORDER BY key").fetchall()
    return [(str(k), str(s)) for k, s in rows]


def test_dry_run_writes_eml_files(tmp_path: Path) -> None:
    workspace = make_workspace(tmp_path, budget_settings({"dry_run": True}))
    Calls(workspace).add("dave", "2026-12-02 15:00", "30")
    workspace.set_budget(user="dave", amount="20", warn_at="", now=utc("2026-12-10 12:00"))
    files = sorted((workspace.root / "outbox").glob("*.eml"))
    assert len(files) == 1
    assert "Budget esaurito" in files[0].read_text(encoding="utf-8")


def test_a_wrong_address_does_not_stop_the_others(
    tmp_path: Path,
    mail_server: ServerFactory,  # noqa: F811
) -> None:
    server = mail_server("plain")
    workspace = _mailed_workspace(tmp_path, server.smtp_settings())
    with workspace.admin_store("test", write=True) as store:
        store.con.execute(
            "UPDATE users SET email = 'bob@example.com\r\nBcc: x@evil.example' WHERE login = 'bob'"
        )
    Calls(workspace).add("alice", "2026-12-02 09:00", "9")
    workspace.set_budget(
        department="Sales", amount="10", warn_at="80", lock_at=0, now=utc("2026-12-10 12:00")
    )
    recipients = sorted(r.recipients[0] for r in server.received)
    assert recipients == ["alice@example.com", "carol@example.com"]
    assert all("evil" not in r.data.decode() for r in server.received)
