"""`lock serve` over real HTTP on 127.0.0.1: phone XML fetched and parsed back, the
workstation endpoint, the access log, a busy store, request limits."""

from __future__ import annotations

import json
import logging
import os
import shutil
import ssl
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element

import pytest
from defusedxml import ElementTree as SafeTree

from callacct.config import Settings, WorkspaceFiles, open_workspace, write_default_settings
from callacct.directory import import_directory_csv
from callacct.lock import Actor, LockService
from callacct.lock.devices import set_device
from callacct.lock.pins import set_pin
from callacct.lock.workstations import add_workstation
from callacct.store import open_store
from callacct.web.app import handler_args, make_app, server_tls
from callacct.web.runner import ServerThread
from tests.lock.conftest import PEOPLE

NOW = __import__("datetime").datetime(2026, 11, 20, 9, 0)


def build_workspace(root: Path, **serve: Any) -> tuple[WorkspaceFiles, str]:
    """A workspace (dry-run backend) with the test people, alice's and bob's phones, PINs
    2580, and a workstation token for alice's PC."""
    settings = Settings.model_validate(
        {
            "general": {"language": "en"},
            "dialplan": {"extension_pattern": r"^[23]\d{3}$"},
            "lock": {"serve": {"cache_s": 0, "store_timeout_s": 0.5, **serve}},
        }
    )
    write_default_settings(root, settings)
    (root / "people.csv").write_text(PEOPLE, encoding="utf-8")
    store = open_store(root / "callacct.duckdb")
    try:
        import_directory_csv(store.con, root / "people.csv", settings)
        with store.transaction() as con:
            set_device(con, "SEP00AA00AA0001", "2001", now=NOW)
            set_device(con, "SEP00AA00AA0002", "2002", now=NOW)
            set_device(con, "SEP00AA00AA0099", "2099", now=NOW)
            for login in ("alice", "bob"):
                set_pin(con, login, "2580", settings.lock, by="test", now=NOW)
            token = add_workstation(con, "PC-ALICE", "alice", by="test", now=NOW)
    finally:
        store.close()
    return open_workspace(root), token


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[WorkspaceFiles, ServerThread, str]]:
    workspace, token = build_workspace(tmp_path / "ws")
    app = make_app(workspace)
    with ServerThread(app, **handler_args(workspace.settings)) as server:
        yield workspace, server, token


def fetch(url: str, **headers: str) -> tuple[int, str, bytes]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers.get("Content-Type", ""), response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.headers.get("Content-Type", ""), error.read()


def phone(url: str) -> Element:
    """GET a phone page and parse it back (as the phone would: XML, declared UTF-8)."""
    status, content_type, body = fetch(url, **{"x-CiscoIPPhoneModelName": "CP-8845"})
    assert status == 200
    assert content_type == "text/xml; charset=utf-8"
    assert body.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    root: Element = SafeTree.fromstring(body)
    return root


def state(workspace: WorkspaceFiles, extension: str) -> str:
    store = open_store(workspace.store_path, read_only=True)
    try:
        rows = store.con.execute(
            "SELECT state FROM locks WHERE extension = ?", [extension]
        ).fetchall()
    finally:
        store.close()
    return rows[0][0] if rows else "unlocked"


def test_the_menu_in_the_persons_language(served) -> None:
    _, server, _ = served
    menu = phone(f"{server.url}/ipps/menu/SEP00AA00AA0001")
    assert menu.tag == "CiscoIPPhoneMenu"
    assert menu.findtext("Title") == "Verrouillage du téléphone"  # alice reads French
    assert menu.findtext("Prompt") == "2001 Alice Martin"
    items = [(i.findtext("Name"), i.findtext("URL")) for i in menu.iter("MenuItem")]
    assert items == [
        ("Verrouiller ma ligne", f"{server.url}/ipps/lock/SEP00AA00AA0001"),
        ("Déverrouiller ma ligne", f"{server.url}/ipps/unlock/SEP00AA00AA0001"),
        ("Changer mon code PIN", f"{server.url}/ipps/pin/SEP00AA00AA0001"),
        ("État du verrouillage", f"{server.url}/ipps/status/SEP00AA00AA0001"),
    ]


def test_lock_and_unlock_with_the_pin(served) -> None:
    workspace, server, _ = served
    form = phone(f"{server.url}/ipps/lock/SEP00AA00AA0001")
    assert form.tag == "CiscoIPPhoneInput"
    assert form.findtext("URL") == f"{server.url}/ipps/lock/SEP00AA00AA0001"
    item = form.find("InputItem")
    assert item is not None
    assert (item.findtext("QueryStringParam"), item.findtext("InputFlags")) == ("pin", "NP")
    assert form.findtext("Prompt") == "Saisissez votre code PIN à 4 chiffres"

    wrong = phone(f"{server.url}/ipps/lock/SEP00AA00AA0001?pin=1357")
    assert wrong.tag == "CiscoIPPhoneText"
    assert wrong.findtext("Text") == "Code PIN erroné. Encore 4 essais."
    assert state(workspace, "2001") == "unlocked"

    done = phone(f"{server.url}/ipps/lock/SEP00AA00AA0001?pin=2580")
    assert done.findtext("Text", "").startswith("Le poste 2001 est verrouillé.")
    assert state(workspace, "2001") == "locked"
    status = phone(f"{server.url}/ipps/status/SEP00AA00AA0001")
    assert status.findtext("Text") == "Le poste 2001 est verrouillé."

    opened = phone(f"{server.url}/ipps/unlock/SEP00AA00AA0001?pin=2580")
    assert opened.findtext("Text") == "Le poste 2001 est déverrouillé."
    store = open_store(workspace.store_path, read_only=True)
    events = store.con.execute("SELECT action, how, actor FROM lock_events ORDER BY 1").fetchall()
    store.close()
    assert events == [("lock", "phone", "alice"), ("unlock", "phone", "alice")]


def test_an_unknown_phone_is_told_so(served) -> None:
    _, server, _ = served
    for device in ("SEP00000000FFFF", "SEP<script>"):
        page = phone(f"{server.url}/ipps/menu/{urllib.request.quote(device)}")
        assert page.tag == "CiscoIPPhoneText"
        assert "is not known" in page.findtext("Text", "")
    nobody = phone(f"{server.url}/ipps/lock/SEP00AA00AA0099?pin=2580")
    assert nobody.findtext("Text") == "Extension 2099 belongs to nobody in the directory."


def test_xml_characters_in_names_and_reasons_are_escaped(served) -> None:
    workspace, server, _ = served
    menu = phone(f"{server.url}/ipps/menu/SEP00AA00AA0002")
    assert menu.findtext("Prompt") == "2002 Bob <b>&amp; Co</b>"  # exactly as in the directory
    reason = "</Text><Text>unlocked</Text> & 'x'"
    store = open_store(workspace.store_path)
    LockService(store, workspace.settings, Actor.operator(workspace.settings)).lock(
        extensions=["2002"], kind="admin", reason=reason
    )
    store.close()
    refused = phone(f"{server.url}/ipps/unlock/SEP00AA00AA0002?pin=2580")
    assert refused.findtext("Text") == (
        f"Extension 2002 is locked by an administrator ({reason}). "
        "Only an administrator can unlock it."
    )
    assert len(list(refused)) == 3  # Title, Prompt, Text: nothing injected
    assert state(workspace, "2002") == "admin-locked"


def test_changing_the_pin_on_the_phone(served) -> None:
    _, server, _ = served
    base = f"{server.url}/ipps/pin/SEP00AA00AA0002"
    form = phone(base)
    assert [i.findtext("QueryStringParam") for i in form.iter("InputItem")] == [
        "old",
        "new",
        "again",
    ]
    assert {i.findtext("InputFlags") for i in form.iter("InputItem")} == {"NP"}
    assert phone(f"{base}?old=2580&new=1357&again=1358").findtext("Text") == (
        "The two new PINs differ. Nothing was changed."
    )
    assert "not one digit repeated" in phone(f"{base}?old=2580&new=4444&again=4444").findtext(
        "Text", ""
    )
    assert phone(f"{base}?old=2580&new=1357&again=1357").findtext("Text") == (
        "Your PIN is changed."
    )
    locked = phone(f"{server.url}/ipps/lock/SEP00AA00AA0002?pin=1357")
    assert locked.findtext("Text", "").startswith("Extension 2002 is locked.")


def test_pins_never_reach_the_access_log(served, caplog: pytest.LogCaptureFixture) -> None:
    _, server, _ = served
    caplog.set_level(logging.INFO, logger="aiohttp.access")
    phone(f"{server.url}/ipps/lock/SEP00AA00AA0001?pin=2580")
    time.sleep(0.1)
    lines = [r.getMessage() for r in caplog.records if r.name == "aiohttp.access"]
    assert any("GET /ipps/lock/SEP00AA00AA0001 200" in line for line in lines), lines
    assert not any("2580" in line or "pin=" in line for line in lines)


def _post(url: str, token: str | None, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else b""
    request = urllib.request.Request(url, data=data, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        with error:
            content = error.read()
            return error.code, json.loads(content) if content.startswith(b"{") else content


def test_the_workstation_endpoint_needs_the_machines_token(served) -> None:
    workspace, server, token = served
    url = f"{server.url}/workstation/logoff"
    assert _post(url, None)[0] == 401
    assert _post(url, "not-the-token")[0] == 403
    assert state(workspace, "2001") == "unlocked"
    assert _post(url, token, {"user": "bob"})[0] == 409

    status, answer = _post(url, token, {"user": "alice"})
    assert (status, answer["ok"], answer["state"]) == (200, True, "locked")
    assert state(workspace, "2001") == "locked"
    status, answer = _post(f"{server.url}/workstation/logon", token)
    assert (status, answer["state"]) == (200, "unlocked")
    assert _post(f"{server.url}/workstation/reboot", token)[0] == 404


def test_a_busy_store_is_answered_try_again(tmp_path: Path) -> None:
    workspace, _ = build_workspace(tmp_path / "ws")
    app = make_app(workspace)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import sys, time, duckdb
                con = duckdb.connect({str(workspace.store_path)!r})
                print("held", flush=True)
                sys.stdin.read()
                """
            ),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        with ServerThread(app, **handler_args(workspace.settings)) as server:
            started = time.monotonic()
            page = phone(f"{server.url}/ipps/lock/SEP00AA00AA0001?pin=2580")
            assert time.monotonic() - started < 5
            # The phone map could not be read either: the phone is not known yet.
            assert page.tag == "CiscoIPPhoneText"
    finally:
        holder.communicate("", timeout=10)
    with ServerThread(make_app(workspace), **handler_args(workspace.settings)) as server:
        assert phone(f"{server.url}/ipps/menu/SEP00AA00AA0001").tag == "CiscoIPPhoneMenu"


def test_a_busy_store_after_the_menu_says_busy(served) -> None:
    workspace, server, _ = served
    assert phone(f"{server.url}/ipps/menu/SEP00AA00AA0001").tag == "CiscoIPPhoneMenu"
    from callacct.web.app import STATE

    server.app[STATE].ttl = 3600  # keep the map while the store is held
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, duckdb\n"
            f"con = duckdb.connect({str(workspace.store_path)!r})\nprint('held', flush=True)\n"
            "sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        page = phone(f"{server.url}/ipps/lock/SEP00AA00AA0001?pin=2580")
        assert page.findtext("Text") == "Occupé. Réessayez dans un instant."
    finally:
        holder.communicate("", timeout=10)


def test_requests_beyond_the_size_limit_are_refused(
    served, caplog: pytest.LogCaptureFixture
) -> None:
    _, server, _ = served
    caplog.set_level(logging.DEBUG)
    status, _, _ = fetch(f"{server.url}/ipps/menu/SEP00AA00AA0001?pin=2580&x={'a' * 20000}")
    assert status in (400, 414)
    time.sleep(0.1)
    assert "2580" not in caplog.text  # the server's log of the bad request has no query string
    status, _ = _post(f"{server.url}/workstation/logoff", "t", {"user": "x" * 20000})
    assert status == 413


@pytest.mark.skipif(not shutil.which("curl"), reason="curl is not installed")
def test_the_linux_hook_script_locks_and_unlocks(served, tmp_path: Path) -> None:
    workspace, server, token = served
    script = Path(__file__).parents[2] / "contrib" / "lock-hooks" / "linux" / "callacct-lock.sh"
    token_file = tmp_path / "token"
    token_file.write_text(token + "\n", encoding="utf-8")
    env = {
        "PATH": os.environ["PATH"],
        "CALLACCT_URL": server.url,
        "CALLACCT_TOKEN_FILE": str(token_file),
        "HOME": str(tmp_path),
        "USER": "alice",
    }
    subprocess.run(["sh", str(script), "logoff"], env=env, check=True, timeout=30)
    # The script sends the login of whoever runs it: here not alice, so it is refused (409).
    assert state(workspace, "2001") == "unlocked"
    fake_id = tmp_path / "bin"
    fake_id.mkdir()
    (fake_id / "id").write_text("#!/bin/sh\necho alice\n", encoding="utf-8")
    (fake_id / "id").chmod(0o755)
    env["PATH"] = f"{fake_id}:{env['PATH']}"
    subprocess.run(["sh", str(script), "logoff"], env=env, check=True, timeout=30)
    assert state(workspace, "2001") == "locked"
    subprocess.run(["sh", str(script), "logon"], env=env, check=True, timeout=30)
    assert state(workspace, "2001") == "unlocked"


def test_the_service_speaks_https_when_configured(tmp_path: Path, ca) -> None:
    cert = ca.issue_cert("127.0.0.1")
    cert.private_key_pem.write_to_path(str(tmp_path / "key.pem"))
    cert.cert_chain_pems[0].write_to_path(str(tmp_path / "cert.pem"))
    workspace, _ = build_workspace(
        tmp_path / "ws", tls_cert=str(tmp_path / "cert.pem"), tls_key=str(tmp_path / "key.pem")
    )
    tls = server_tls(workspace)
    assert tls is not None
    with ServerThread(make_app(workspace), tls=tls, **handler_args(workspace.settings)) as server:
        assert server.url.startswith("https://")
        context = ssl.create_default_context()
        ca.configure_trust(context)
        request = urllib.request.Request(f"{server.url}/ipps/menu/SEP00AA00AA0001")
        with urllib.request.urlopen(request, timeout=10, context=context) as response:
            menu = SafeTree.fromstring(response.read())
        assert menu.tag == "CiscoIPPhoneMenu"
        assert menu.findtext("MenuItem/URL", "").startswith(server.url + "/ipps/lock/")
        with pytest.raises(urllib.error.URLError):  # a client that does not know the CA
            urllib.request.urlopen(request, timeout=10, context=ssl.create_default_context())
