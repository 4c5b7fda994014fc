"""The outbox against a real SMTP server on 127.0.0.1: what arrives, exactly once per key,
retries, failures recorded, TLS verified, AUTH, dry runs, the size limit."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from callacct.delivery import Attachment, Message, Outbox
from callacct.delivery.smtp import SmtpSender
from callacct.errors import DeliveryError
from tests.delivery.conftest import (
    SMTP_PASSWORD,
    SMTP_USER,
    Clock,
    ServerFactory,
    free_port,
    make_workspace,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _message(to: tuple[str, ...] = ("ana@example.com",), **extra: object) -> Message:
    values: dict[str, object] = {
        "to": to,
        "subject": "Coûts de novembre",
        "text": "Bonjour",
        "html": "<p>Bonjour</p>",
        "attachments": (Attachment("costs.xlsx", b"PK\x03\x04 not really", XLSX),),
        "language": "fr",
        **extra,
    }
    return Message(**values)  # type: ignore[arg-type]


def test_a_message_arrives_whole_and_is_recorded(
    tmp_path: Path, mail_server: ServerFactory, clock: Clock
) -> None:
    server = mail_server("plain")
    ws = make_workspace(tmp_path / "ws", server.smtp_settings(reply_to="help@example.com"))
    outbox = Outbox.of(ws, clock=clock)
    row = outbox.send(
        _message(("ana@example.com", "bo@example.com")), key="report:1", origin="report"
    )
    assert row.status == "sent", row.error
    assert row.recipients == ("ana@example.com", "bo@example.com")
    assert row.attempts == 1
    assert row.sent_at == clock.now
    [got] = server.received
    assert got.recipients == ["ana@example.com", "bo@example.com"]
    mime = got.message
    assert mime["Subject"] == "Coûts de novembre"
    assert mime["From"] == "callacct@example.com"
    assert mime["Reply-To"] == "help@example.com"
    assert mime["Content-Language"] == "fr"
    assert mime["Message-ID"] == row.message_id
    body = mime.get_body(("plain",))
    assert body is not None
    assert body.get_content().strip() == "Bonjour"
    html = mime.get_body(("html",))
    assert html is not None
    assert "<p>Bonjour</p>" in html.get_content()
    [attachment] = list(mime.iter_attachments())
    assert attachment.get_filename() == "costs.xlsx"
    assert attachment.get_content_type() == XLSX
    assert attachment.get_content() == b"PK\x03\x04 not really"


def test_a_key_is_sent_once(tmp_path: Path, mail_server: ServerFactory, clock: Clock) -> None:
    server = mail_server("plain")
    ws = make_workspace(tmp_path / "ws", server.smtp_settings())
    first = Outbox.of(ws, clock=clock).send(
        _message(), key="budget:ana:2026-11:80", origin="budget"
    )
    clock.advance(hours=1)
    again = Outbox.of(ws, clock=clock).send(
        _message(), key="budget:ana:2026-11:80", origin="budget"
    )
    assert len(server.received) == 1
    assert again == first


def test_starttls_with_auth(
    tmp_path: Path,
    mail_server: ServerFactory,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = mail_server("starttls", auth=True)
    monkeypatch.setenv("CALLACCT_SMTP_PASSWORD", SMTP_PASSWORD)
    ws = make_workspace(tmp_path / "ws", server.smtp_settings(user=SMTP_USER))
    caplog.set_level(logging.DEBUG)
    row = Outbox.of(ws, clock=clock).send(_message(), key="k1", origin="report")
    assert row.status == "sent", row.error
    assert len(server.received) == 1
    assert SMTP_PASSWORD not in caplog.text


def test_a_wrong_password_fails_for_good_without_showing_it(
    tmp_path: Path, mail_server: ServerFactory, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = mail_server("starttls", auth=True)
    monkeypatch.setenv("CALLACCT_SMTP_PASSWORD", "wrong-password-xyz")
    ws = make_workspace(tmp_path / "ws", server.smtp_settings(user=SMTP_USER))
    sleeps: list[float] = []
    row = Outbox(ws, clock=clock, sleep=sleeps.append).send(_message(), key="k1", origin="x")
    assert row.status == "failed"
    assert row.error is not None
    assert "refused the login of 'mailer'" in row.error
    assert "wrong-password-xyz" not in row.error
    assert sleeps == []  # permanent: no retry
    assert server.received == []


def test_no_password_in_the_environment(
    tmp_path: Path, mail_server: ServerFactory, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = mail_server("starttls", auth=True)
    monkeypatch.delenv("CALLACCT_SMTP_PASSWORD", raising=False)
    ws = make_workspace(tmp_path / "ws", server.smtp_settings(user=SMTP_USER))
    row = Outbox.of(ws, clock=clock).send(_message(), key="k1", origin="x")
    assert row.status == "failed"
    assert row.error is not None
    assert "$CALLACCT_SMTP_PASSWORD is empty" in row.error


def test_the_certificate_is_verified_by_default(
    tmp_path: Path, mail_server: ServerFactory, clock: Clock
) -> None:
    server = mail_server("starttls")
    smtp = server.smtp_settings()
    del smtp["ca_file"]
    ws = make_workspace(tmp_path / "ws", smtp)
    row = Outbox.of(ws, clock=clock).send(_message(), key="k1", origin="x")
    assert row.status == "failed"
    assert row.error is not None
    assert "does not verify" in row.error
    assert "delivery.smtp.ca_file" in row.error
    assert server.received == []


def test_implicit_tls(tmp_path: Path, mail_server: ServerFactory, clock: Clock) -> None:
    server = mail_server("tls")
    ws = make_workspace(tmp_path / "ws", server.smtp_settings())
    row = Outbox.of(ws, clock=clock).send(_message(), key="k1", origin="x")
    assert row.status == "sent", row.error
    assert len(server.received) == 1


def test_a_server_without_starttls_is_refused(
    tmp_path: Path, mail_server: ServerFactory, clock: Clock
) -> None:
    server = mail_server("plain")
    ws = make_workspace(tmp_path / "ws", {**server.smtp_settings(), "security": "starttls"})
    row = Outbox.of(ws, clock=clock).send(_message(), key="k1", origin="x")
    assert row.status == "failed"
    assert row.error is not None
    assert "does not offer STARTTLS" in row.error


def test_temporary_failures_are_retried_with_back_off(
    tmp_path: Path, mail_server: ServerFactory, clock: Clock
) -> None:
    server = mail_server("plain")
    server.handler.answers = ["451 4.3.0 try again later", "421 4.3.2 busy"]
    ws = make_workspace(tmp_path / "ws", server.smtp_settings(backoff_s=1, retries=3))
    sleeps: list[float] = []
    row = Outbox(ws, clock=clock, sleep=sleeps.append).send(_message(), key="k1", origin="x")
    assert row.status == "sent", row.error
    assert row.attempts == 3
    assert sleeps == [1, 2]
    assert len(server.received) == 1


def test_a_permanent_failure_is_not_retried_then_sent_on_the_next_call(
    tmp_path: Path, mail_server: ServerFactory, clock: Clock
) -> None:
    server = mail_server("plain")
    server.handler.answers = ["554 5.7.1 message refused"]
    ws = make_workspace(tmp_path / "ws", server.smtp_settings())
    sleeps: list[float] = []
    outbox = Outbox(ws, clock=clock, sleep=sleeps.append)
    row = outbox.send(_message(), key="k1", origin="x")
    assert row.status == "failed"
    assert sleeps == []
    assert row.error == "the SMTP server answered 554 5.7.1 message refused"
    again = outbox.send(_message(), key="k1", origin="x")
    assert again.status == "sent"
    assert again.attempts == 2
    assert len(server.received) == 1


def test_a_refused_recipient_is_recorded(
    tmp_path: Path, mail_server: ServerFactory, clock: Clock
) -> None:
    server = mail_server("plain")
    server.handler.refuse = {"gone@example.com": "550 5.1.1 no such mailbox"}
    ws = make_workspace(tmp_path / "ws", server.smtp_settings())
    row = Outbox.of(ws, clock=clock).send(
        _message(("ana@example.com", "gone@example.com")), key="k1", origin="x"
    )
    assert row.status == "sent"
    assert row.error == "refused by the server: gone@example.com: 550 5.1.1 no such mailbox"
    only = Outbox.of(ws, clock=clock).send(_message(("gone@example.com",)), key="k2", origin="x")
    assert only.status == "failed"
    assert only.error is not None
    assert "550 5.1.1 no such mailbox" in only.error


def test_smtp_down_is_recorded_then_sent_once_when_it_is_back(
    tmp_path: Path, mail_server: ServerFactory, clock: Clock
) -> None:
    port = free_port()
    smtp = {"host": "127.0.0.1", "port": port, "security": "plain", "backoff_s": 0.5}
    smtp["from_address"] = "callacct@example.com"
    ws = make_workspace(tmp_path / "ws", smtp)
    sleeps: list[float] = []
    down = Outbox(ws, clock=clock, sleep=sleeps.append).send(_message(), key="k1", origin="x")
    assert down.status == "failed"
    assert down.error is not None
    assert "cannot reach the SMTP server" in down.error
    assert "tried 4 times" in down.error
    assert sleeps == [0.5, 1.0, 2.0]
    assert down.attempts == 4
    server = mail_server("plain")
    ws2 = make_workspace(tmp_path / "ws2", server.smtp_settings())
    # The same store, the server now at another port: a retry sends it once.
    ws2.files = ws2.files.__class__(ws.root, ws2.settings)
    up = Outbox.of(ws2, clock=clock).send(_message(), key="k1", origin="x")
    assert up.status == "sent"
    assert up.id == down.id
    again = Outbox.of(ws2, clock=clock).send(_message(), key="k1", origin="x")
    assert again.status == "sent"
    assert len(server.received) == 1


def test_killed_between_intent_and_result(
    tmp_path: Path, mail_server: ServerFactory, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run killed after the server took the message, before the result was recorded: the
    claim holds while it could still be running, then the message goes again with the same
    Message-ID — the same mail, never a different one."""
    server = mail_server("plain")
    ws = make_workspace(tmp_path / "ws", server.smtp_settings(), lease_s=600)
    original = SmtpSender.send

    def killed(self: SmtpSender, *args: object, **kwargs: object) -> object:
        original(self, *args, **kwargs)  # type: ignore[arg-type]
        raise KeyboardInterrupt

    monkeypatch.setattr(SmtpSender, "send", killed)
    with pytest.raises(KeyboardInterrupt):
        Outbox.of(ws, clock=clock).send(_message(), key="k1", origin="x")
    monkeypatch.setattr(SmtpSender, "send", original)
    [row] = Outbox.of(ws, clock=clock).deliveries()
    assert row.status == "sending"
    clock.advance(seconds=300)
    meanwhile = Outbox.of(ws, clock=clock).send(_message(), key="k1", origin="x")
    assert meanwhile.status == "sending"
    assert len(server.received) == 1
    clock.advance(seconds=301)
    later = Outbox.of(ws, clock=clock).send(_message(), key="k1", origin="x")
    assert later.status == "sent"
    first, second = server.received
    assert first.message["Message-ID"] == second.message["Message-ID"] == later.message_id
    Outbox.of(ws, clock=clock).send(_message(), key="k1", origin="x")
    assert len(server.received) == 2


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("subject", "Costs\r\nBcc: eve@example.com"),
        ("to", ("ana@example.com\nBcc: eve@example.com",)),
        ("to", ("not an address",)),
        ("to", ()),
        ("reply_to", "a@example.com\r\nX: y"),
    ],
)
def test_header_injection_and_bad_addresses_are_refused(field: str, value: object) -> None:
    with pytest.raises(DeliveryError):
        _message(**{field: value})


def test_a_bad_attachment_name_is_refused() -> None:
    with pytest.raises(DeliveryError, match="line break"):
        Attachment("a\r\n.xlsx", b"", XLSX)
    with pytest.raises(DeliveryError, match="plain file name"):
        Attachment("../a.xlsx", b"", XLSX)


def test_an_attachment_over_the_limit_is_refused(
    tmp_path: Path, mail_server: ServerFactory, clock: Clock
) -> None:
    server = mail_server("plain")
    ws = make_workspace(tmp_path / "ws", server.smtp_settings(), max_attachment_bytes=1000)
    big = (Attachment("big.xlsx", b"x" * 2000, XLSX),)
    row = Outbox.of(ws, clock=clock).send(_message(attachments=big), key="k1", origin="x")
    assert row.status == "failed"
    assert row.error is not None
    assert "big.xlsx is 2,000 bytes, over delivery.max_attachment_bytes (1,000)" in row.error
    assert server.received == []


def test_an_attachment_over_the_limit_is_linked_when_set(
    tmp_path: Path, mail_server: ServerFactory, clock: Clock
) -> None:
    server = mail_server("plain")
    ws = make_workspace(
        tmp_path / "ws",
        server.smtp_settings(),
        max_attachment_bytes=1000,
        oversize="link",
        oversize_url="https://files.example.com/reports/",
    )
    big = (Attachment("big.xlsx", b"x" * 2000, XLSX),)
    row = Outbox.of(ws, clock=clock).send(_message(attachments=big), key="k1", origin="x")
    assert row.status == "sent", row.error
    mime = server.received[0].message
    assert list(mime.iter_attachments()) == []
    text = mime.get_body(("plain",))
    assert text is not None
    link = text.get_content().strip().splitlines()[-1]
    assert link.startswith("https://files.example.com/reports/k1-")
    assert link.endswith("/big.xlsx")
    saved = list((ws.root / "shared-reports").rglob("big.xlsx"))
    assert len(saved) == 1
    assert saved[0].read_bytes() == b"x" * 2000


def test_a_dry_run_writes_eml_files_and_does_not_stand_in_the_way(
    tmp_path: Path, mail_server: ServerFactory, clock: Clock
) -> None:
    server = mail_server("plain")
    ws = make_workspace(tmp_path / "ws", server.smtp_settings())
    dry = Outbox.of(ws, clock=clock, dry_run=True).send(_message(), key="k1", origin="x")
    assert dry.status == "dry-run"
    assert server.received == []
    [eml] = (ws.root / "outbox").glob("*.eml")
    assert eml.name.startswith("k1-")
    assert b"Subject: =?utf-8?" in eml.read_bytes()
    real = Outbox.of(ws, clock=clock).send(_message(), key="k1", origin="x")
    assert real.status == "sent"
    assert len(server.received) == 1
    assert real.message_id == dry.message_id


def test_no_server_configured_is_a_recorded_failure(tmp_path: Path, clock: Clock) -> None:
    ws = make_workspace(tmp_path / "ws")
    row = Outbox.of(ws, clock=clock).send(_message(), key="k1", origin="x")
    assert row.status == "failed"
    assert row.error is not None
    assert "set delivery.smtp.host" in row.error


def test_skipped_is_recorded_once(tmp_path: Path, clock: Clock) -> None:
    ws = make_workspace(tmp_path / "ws")
    outbox = Outbox.of(ws, clock=clock)
    row = outbox.skip(
        "s:1", origin="schedule", recipients=["a@example.com"], subject="S", reason="empty"
    )
    assert row.status == "skipped"
    assert row.error == "empty"
    assert outbox.send(_message(), key="s:1", origin="schedule").status == "skipped"
