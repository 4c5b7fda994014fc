"""The SMTP conversation: plain, STARTTLS or implicit TLS, AUTH, retries with back-off.

One `SmtpSender` keeps its connection open across the messages of a batch (a thousand
reports are one conversation, not a thousand handshakes) and reconnects when the server
drops it. A failure is either temporary — a 4xx answer, a refused connection, a timeout, a
dropped connection: tried again after `backoff_s`, doubled each time up to `max_backoff_s`,
`retries` times — or permanent: a 5xx answer, a refused login, a certificate that does not
verify, a server without STARTTLS. Each raises `SendFailure` with `temporary` set, and a
message that says what to do.

Certificates are verified by default (the system CAs, or `ca_file`); AUTH is never sent over
an unencrypted connection. The password is read from the environment variable named by
`password_env` when a connection logs in, and never put into a message or a log line.
"""

from __future__ import annotations

import logging
import os
import smtplib
import socket
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from types import TracebackType

from callacct.config import DeliverySmtpSettings

log = logging.getLogger(__name__)


class SendFailure(Exception):
    """A message the server did not take: `temporary` (worth trying again) or not."""

    def __init__(self, message: str, *, temporary: bool) -> None:
        super().__init__(message)
        self.temporary = temporary


@dataclass(frozen=True)
class SendResult:
    """What the server answered: recipients it refused (with its answer); `attempts` made."""

    refused: Mapping[str, str]
    attempts: int


def tls_context(settings: DeliverySmtpSettings) -> ssl.SSLContext:
    """The TLS context of the server: verified against `ca_file` or the system CAs."""
    context = ssl.create_default_context(cafile=settings.ca_file or None)
    if not settings.verify_tls:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


class SmtpSender:
    """Sends messages through the configured server, one connection for many messages.

    `sleep` waits between retries (tests pass one that records the waits instead).
    """

    def __init__(
        self,
        settings: DeliverySmtpSettings,
        *,
        sleep: Callable[[float], None] = time.sleep,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        if not settings.host:
            raise SendFailure(
                "no SMTP server: set delivery.smtp.host in callacct.toml (or "
                "delivery.dry_run = true to write the messages as files)",
                temporary=False,
            )
        if settings.user and settings.security == "plain":
            raise SendFailure(
                "delivery.smtp: AUTH over an unencrypted connection is refused; use "
                "security = 'starttls' or 'tls'",
                temporary=False,
            )
        self.settings = settings
        self._sleep = sleep
        self._environ = os.environ if environ is None else environ
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> SmtpSender:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """End the conversation (QUIT), quietly if the server went away."""
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()

    def send(self, mime: EmailMessage, recipients: tuple[str, ...]) -> SendResult:
        """Send `mime` to `recipients`, retrying temporary failures; `SendFailure` when the
        server refuses it for good or the retries are used up."""
        s = self.settings
        wait = s.backoff_s
        attempt = 0
        while True:
            attempt += 1
            try:
                refused = self._send_once(mime, recipients)
                return SendResult(refused, attempt)
            except SendFailure as failure:
                self.close()
                if not failure.temporary or attempt > s.retries:
                    if failure.temporary and s.retries:
                        raise SendFailure(
                            f"{failure} (tried {attempt} times)", temporary=True
                        ) from None
                    raise
                log.info("temporary SMTP failure, trying again in %.1f s: %s", wait, failure)
                self._sleep(wait)
                wait = min(wait * 2, s.max_backoff_s)

    def _send_once(self, mime: EmailMessage, recipients: tuple[str, ...]) -> dict[str, str]:
        try:
            smtp = self._connection()
            try:
                refused = smtp.send_message(mime, to_addrs=list(recipients))
            except smtplib.SMTPServerDisconnected:
                # A connection kept open between messages that the server has closed.
                self.close()
                smtp = self._connection()
                refused = smtp.send_message(mime, to_addrs=list(recipients))
        except smtplib.SMTPRecipientsRefused as exc:
            answers = {addr: _answer(code, text) for addr, (code, text) in exc.recipients.items()}
            temporary = any(400 <= code < 500 for code, _ in exc.recipients.values())
            raise SendFailure(
                "the server refused every recipient: "
                + "; ".join(f"{addr}: {answer}" for addr, answer in answers.items()),
                temporary=temporary,
            ) from None
        except smtplib.SMTPAuthenticationError as exc:
            raise SendFailure(
                f"the SMTP server refused the login of {self.settings.user!r} "
                f"({_answer(exc.smtp_code, exc.smtp_error)}); check delivery.smtp.user and "
                f"${self.settings.password_env}",
                temporary=False,
            ) from None
        except smtplib.SMTPResponseException as exc:
            code = exc.smtp_code
            raise SendFailure(
                f"the SMTP server answered {_answer(code, exc.smtp_error)}",
                temporary=not 500 <= code < 600,
            ) from None
        except ssl.SSLCertVerificationError as exc:
            raise SendFailure(
                f"the certificate of {self._where()} does not verify ({exc.verify_message}); "
                "give its CA in delivery.smtp.ca_file",
                temporary=False,
            ) from None
        except ssl.SSLError as exc:
            raise SendFailure(
                f"TLS with {self._where()} failed ({exc.reason or exc}); check "
                "delivery.smtp.security and port",
                temporary=False,
            ) from None
        except smtplib.SMTPNotSupportedError as exc:
            raise SendFailure(f"{self._where()}: {exc}", temporary=False) from None
        except (smtplib.SMTPException, OSError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            kind = "timed out" if isinstance(exc, TimeoutError | socket.timeout) else reason
            raise SendFailure(
                f"cannot reach the SMTP server {self._where()}: {kind or type(exc).__name__}",
                temporary=True,
            ) from None
        return {addr: _answer(code, text) for addr, (code, text) in refused.items()}

    def _where(self) -> str:
        return f"{self.settings.host}:{self.settings.effective_port}"

    def _connection(self) -> smtplib.SMTP:
        if self._smtp is not None:
            return self._smtp
        s = self.settings
        context = tls_context(s)
        # The name given in EHLO: the host's own name, without a DNS look-up that may hang.
        local = socket.gethostname() or "localhost"
        smtp: smtplib.SMTP
        if s.security == "tls":
            smtp = smtplib.SMTP_SSL(
                s.host, s.effective_port, local_hostname=local, timeout=s.timeout_s,
                context=context,
            )  # fmt: skip
        else:
            smtp = smtplib.SMTP(s.host, s.effective_port, local_hostname=local, timeout=s.timeout_s)
        try:
            smtp.ehlo()
            if s.security == "starttls":
                if not smtp.has_extn("starttls"):
                    raise SendFailure(
                        f"{self._where()} does not offer STARTTLS; set delivery.smtp.security "
                        "to 'tls' (implicit TLS, port 465) or use a server that does",
                        temporary=False,
                    )
                smtp.starttls(context=context)
                smtp.ehlo()
            if s.user:
                password = self._environ.get(s.password_env, "")
                if not password:
                    raise SendFailure(
                        f"delivery.smtp.user is set but ${s.password_env} is empty; set the "
                        "password in that environment variable",
                        temporary=False,
                    )
                smtp.login(s.user, password)
        except BaseException:
            smtp.close()
            raise
        self._smtp = smtp
        return smtp


def _answer(code: int, text: bytes | str) -> str:
    """An SMTP answer as one line: `550 mailbox unknown`."""
    words = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return f"{code} {' '.join(words.split())}"
