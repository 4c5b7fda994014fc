"""Lock fixtures: a directory of people in a store, the AXL stand-in served over HTTP(S) on
127.0.0.1, settings pointing at it, and test certificates made by trustme."""

from __future__ import annotations

import datetime as dt
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme

from callacct.config import Settings
from callacct.directory import import_directory_csv
from callacct.lock import Actor, LockService
from callacct.lock.standin import AxlStandIn
from callacct.store import Store, open_store
from callacct.web.runner import ServerThread

PASSWORD = "stand-in-pw"
ENV = {"CALLACCT_AXL_PASSWORD": PASSWORD, "CALLACCT_WEBEX_TOKEN": "webex-token"}
PEOPLE = (
    "login,name,email,language,role,department,cost_center,site,extension,manager,scope\n"
    "alice,Alice Martin,alice@example.com,fr,user,Sales,CC1,PAR,2001,,\n"
    "bob,Bob <b>&amp; Co</b>,bob@example.com,en,user,Sales,CC1,PAR,2002 2012,,\n"
    "carol,Carol Sup,carol@example.com,de,supervisor,Sales,CC1,PAR,2003,,\n"
    "dave,Dave Other,dave@example.com,it,user,Support,CC2,PAR,2004,,\n"
    "erin,Erin Admin,erin@example.com,en,admin,IT,CC3,PAR,2005,,\n"
)
LINES = ["2001", "2002", "2003", "2004", "2005", "2012", "2099"]


def lock_settings(**lock: Any) -> Settings:
    return Settings.model_validate(
        {
            "general": {"country": "FR", "timezone": "Europe/Paris", "language": "en"},
            "dialplan": {"extension_pattern": r"^[23]\d{3}$", "access_codes": ["0"]},
            "lock": lock,
        }
    )


def axl_settings(url: str, **axl: Any) -> Settings:
    values = {
        "url": url + "/axl/",
        "user": "axladmin",
        "partition": "PT_Internal",
        "locked_css": "CSS_Locked",
        "normal_css": ["CSS_Normal"],
        "backoff_s": 0.01,
        **axl,
    }
    return lock_settings(backend="cucm-axl", axl=values)


@pytest.fixture
def people_store(tmp_path: Path) -> Iterator[Store]:
    """A store whose directory has alice, bob (two extensions), carol (supervisor of Sales),
    dave (Support) and erin (admin)."""
    store = open_store(tmp_path / "callacct.duckdb")
    csv = tmp_path / "people.csv"
    csv.write_text(PEOPLE, encoding="utf-8")
    result = import_directory_csv(store.con, csv, lock_settings())
    assert not result.problems, result.problems
    yield store
    store.close()


@pytest.fixture
def standin() -> Iterator[tuple[AxlStandIn, ServerThread]]:
    """The AXL stand-in on plain HTTP, every line on CSS_Normal in PT_Internal."""
    state = AxlStandIn(user="axladmin", password=PASSWORD, css_names={"CSS_Normal", "CSS_Locked"})
    state.add_lines(LINES, partition="PT_Internal", css="CSS_Normal")
    with ServerThread(state.app()) as server:
        yield state, server


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def tls_standin(ca: trustme.CA, tmp_path: Path) -> Iterator[tuple[AxlStandIn, ServerThread, Path]]:
    """The AXL stand-in over HTTPS with a certificate for 127.0.0.1 signed by a test CA; the
    CA's PEM file is given back for `lock.axl.ca_file`."""
    state = AxlStandIn(user="axladmin", password=PASSWORD)
    state.add_lines(LINES, partition="PT_Internal", css="CSS_Normal")
    cert = ca.issue_cert("127.0.0.1", "localhost")
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(server_tls)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    with ServerThread(state.app(), tls=server_tls) as server:
        yield state, server, ca_file


def service(
    store: Store,
    settings: Settings,
    login: str | None = None,
    *,
    how: str = "cli",
    clock: dt.datetime | None = None,
) -> LockService:
    """A lock service acting as `login` (None: the operator)."""
    from callacct.directory.scope import scope_for

    actor = (
        Actor.operator(settings, how)
        if login is None
        else Actor.person(scope_for(store.con, login, settings), how)
    )
    return LockService(
        store, settings, actor, env=ENV, clock=(lambda: clock) if clock is not None else None
    )
