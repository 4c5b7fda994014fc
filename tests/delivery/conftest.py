"""Delivery fixtures: a real SMTP server (aiosmtpd) on 127.0.0.1 — plain, STARTTLS with a
trustme certificate, implicit TLS, AUTH — that keeps what it receives, and workspaces whose
settings point at it."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import socket
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from callacct import Workspace
from callacct.config import Settings

SMTP_USER = "mailer"
SMTP_PASSWORD = "s3cret-smtp-pw"
START = dt.datetime(2026, 12, 2, 6, 0, tzinfo=dt.UTC)


@dataclass
class Received:
    sender: str
    recipients: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.data, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class Handler:
    """Keeps every message; `answers` (popped first) lets a test make the server answer DATA
    with a failure; `refuse` lists recipients refused at RCPT."""

    received: list[Received] = field(default_factory=list)
    answers: list[str] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.answers:
            return self.answers.pop(0)
        content = envelope.original_content or b""
        self.received.append(
            Received(str(envelope.mail_from), list(envelope.rcpt_tos), bytes(content))
        )
        return "250 Message accepted"


@dataclass
class MailServer:
    host: str
    port: int
    handler: Handler
    ca_file: Path | None
    security: str
    controller: Controller

    @property
    def received(self) -> list[Received]:
        return self.handler.received

    def smtp_settings(self, **extra: Any) -> dict[str, Any]:
        values: dict[str, Any] = {
            "host": self.host,
            "port": self.port,
            "security": self.security,
            "from_address": "callacct@example.com",
            "timeout_s": 5,
            "backoff_s": 0.01,
        }
        if self.ca_file is not None:
            values["ca_file"] = str(self.ca_file)
        return {**values, **extra}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _authenticate(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == SMTP_USER.encode()
        and auth_data.password == SMTP_PASSWORD.encode()
    )
    return AuthResult(success=ok, handled=False)


@pytest.fixture(scope="session")
def smtp_ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="session")
def smtp_ca_file(smtp_ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("smtp-ca") / "ca.pem"
    smtp_ca.cert_pem.write_to_path(str(path))
    return path


def _server_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    return context


ServerFactory = Callable[..., MailServer]


@pytest.fixture
def mail_server(smtp_ca: trustme.CA, smtp_ca_file: Path) -> Iterator[ServerFactory]:
    """Starts SMTP servers on 127.0.0.1: `mail_server("plain"|"starttls"|"tls", auth=False)`."""
    started: list[Controller] = []

    def start(security: str = "plain", *, auth: bool = False, port: int = 0) -> MailServer:
        handler = Handler()
        port = port or free_port()
        kwargs: dict[str, Any] = {}
        context = None if security == "plain" else _server_context(smtp_ca)
        if security == "starttls":
            kwargs.update(tls_context=context, require_starttls=True)
        if auth:
            kwargs.update(authenticator=_authenticate, auth_required=True)
        controller = Controller(
            handler,
            hostname="127.0.0.1",
            port=port,
            ssl_context=context if security == "tls" else None,
            server_hostname="127.0.0.1",
            **kwargs,
        )
        controller.start()
        started.append(controller)
        ca_file = None if security == "plain" else smtp_ca_file
        return MailServer("127.0.0.1", port, handler, ca_file, security, controller)

    yield start
    for controller in started:
        controller.stop()


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: dt.datetime = START) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def make_workspace(path: Path, smtp: dict[str, Any] | None = None, **delivery: Any) -> Workspace:
    settings = Settings.model_validate(
        {
            "general": {"country": "FR", "timezone": "Europe/Paris", "currency": "EUR"},
            "dialplan": {"access_codes": ["0"], "extension_pattern": r"^[23]\d{3}$"},
            "delivery": {**delivery, "smtp": smtp or {}},
        }
    )
    return Workspace.create(path, settings=settings)


# A small organisation: two departments with a supervisor each (French, Arabic) and users in
# several languages; outgoing calls in the week of Monday 2026-11-23 (2026-W48) in Paris.
PEOPLE = (
    "ana,Ana Roux,ana@example.com,fr,user,Sales,CC-1,PAR,2001,sam,",
    "ben,Ben Hill,ben@example.com,en,user,Sales,CC-1,PAR,2002,sam,",
    "carl,Carl Weber,carl@example.com,de,user,Support,CC-2,PAR,2101,sara,",
    "dina,Dina Haddad,dina@example.com,ar,user,Support,CC-2,PAR,2102,sara,",
    "eve,Eve Quiet,eve@example.com,it,user,Support,CC-2,PAR,2103,sara,",
    "sam,Sam Petit,sam@example.com,fr,supervisor,Sales,CC-1,PAR,2003,,",
    "sara,Sara Nasser,sara@example.com,ar,supervisor,Support,CC-2,PAR,2104,,",
    "ada,Ada King,ada@example.com,en,admin,IT,CC-9,PAR,2900,,",
)
#: extension -> department
DEPARTMENTS = {
    "2001": "Sales", "2002": "Sales", "2003": "Sales",
    "2101": "Support", "2102": "Support", "2103": "Support", "2104": "Support",
}  # fmt: skip
WEEK_START = dt.datetime(2026, 11, 23, 9, 0)  # Monday, naive UTC (10:00 in Paris)
#: Monday 2026-11-30 07:00 in Paris: the weekly run for 2026-W48 is due.
WEEKLY_DUE = dt.datetime(2026, 11, 30, 6, 0, tzinfo=dt.UTC)


def weekly_to_supervisors(org: Workspace) -> None:
    """A weekly calls-detail schedule (xlsx) to each supervisor, added before WEEKLY_DUE."""
    org.add_schedule(
        "dept-weekly",
        report="calls-detail",
        every="week",
        on="mon",
        at="07:00",
        format="xlsx",
        recipients="supervisors",
        now=WEEKLY_DUE - dt.timedelta(days=3),
    )


def org_workspace(root: Path, smtp: dict[str, Any] | None = None, **delivery: Any) -> Workspace:
    """The organisation's workspace (operator), calls attributed and rated."""
    from callacct.store import open_store
    from tests.directory.helpers import add_call, write_csv

    ws = make_workspace(root, smtp, **delivery)
    store = open_store(ws.store_path)
    try:
        calls = [("2001", 3), ("2002", 2), ("2101", 4), ("2102", 1), ("2003", 1), ("2104", 2)]
        call_id = 0
        for extension, count in calls:
            for i in range(count):
                call_id += 1
                started = WEEK_START + dt.timedelta(days=i % 5, minutes=call_id)
                add_call(store.con, call_id, started, "outgoing", extension,
                         remote=f"+3361234{call_id:04d}")  # fmt: skip
        # A call of the week before, outside every period tested.
        add_call(store.con, 999, WEEK_START - dt.timedelta(days=7), "outgoing", "2001",
                 remote="+33699999999")  # fmt: skip
    finally:
        store.close()
    people = write_csv(root.parent / "people.csv", *PEOPLE)
    ws.directory_import(people, as_of="2026-01-01")
    ws.rate()
    return Workspace.open(root)


@pytest.fixture
def server(mail_server: ServerFactory) -> MailServer:
    """A plain SMTP server on 127.0.0.1."""
    return mail_server("plain")


@pytest.fixture
def org(tmp_path: Path, server: MailServer) -> Workspace:
    """The organisation's workspace, sending to `server`."""
    return org_workspace(tmp_path / "org", server.smtp_settings())
