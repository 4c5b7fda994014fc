"""Messages: what is sent (`Message`, `Attachment`), checked when made, built as MIME.

A message refuses what would let a value change its headers: a CR or LF in a subject, an
address, a file name. Addresses are checked for the form `local@domain` (no display names,
no lists): one address, one recipient. The Message-ID is derived from the delivery key, so
the same delivery sent twice (a run killed after the server accepted it) is the same message
to every mail program that looks at it.

Example:
    >>> m = Message(to=("ana@example.com",), subject="Costs", text="Hello")
    >>> mid = message_id("k", "example.com")
    >>> mime = build_mime(m, sender="callacct@example.com", message_id=mid)
    >>> mime["To"], mime["Subject"], mime["Message-ID"].endswith("@example.com>")
    ('ana@example.com', 'Costs', True)
    >>> check_address("ana@example.com\\r\\nBcc: eve@example.com")
    Traceback (most recent call last):
    ...
    callacct.errors.DeliveryError: ...: a line break in an address; give one address per recipient
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate

from callacct.errors import DeliveryError

#: MIME types of the report formats, by file extension.
MIME_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
    "csv": "text/csv",
    "html": "text/html",
    "json": "application/json",
    "eml": "message/rfc822",
}

# local@domain: printable ASCII local part without spaces, quotes or angle brackets; a domain
# of dot-separated labels (an internationalised domain goes in its punycode form).
_ADDRESS = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}@"
    r"(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*"
)
_LINE_BREAK = re.compile(r"[\r\n\x00]")


def check_address(address: str) -> str:
    """`address` when it is one plain e-mail address, else `DeliveryError` saying why.

    >>> check_address(" ana@example.com ")
    'ana@example.com'
    >>> check_address("ana")
    Traceback (most recent call last):
    ...
    callacct.errors.DeliveryError: 'ana' is not an e-mail address such as name@example.com
    """
    if _LINE_BREAK.search(address):
        raise DeliveryError(
            f"{address!r}: a line break in an address; give one address per recipient"
        )
    value = address.strip()
    if not _ADDRESS.fullmatch(value) or ".." in value or value.startswith("."):
        raise DeliveryError(f"{value!r} is not an e-mail address such as name@example.com")
    return value


def check_addresses(addresses: Iterable[str]) -> tuple[str, ...]:
    """Each address checked, duplicates dropped (first kept), in order; at least one."""
    seen: dict[str, None] = {}
    for address in addresses:
        seen.setdefault(check_address(address).lower(), None)
    if not seen:
        raise DeliveryError("no recipient: give at least one e-mail address")
    return tuple(seen)


def check_header(value: str, what: str) -> str:
    """A header value (a subject, a file name) without line breaks (header injection)."""
    if _LINE_BREAK.search(value):
        raise DeliveryError(f"{what}: a line break is not allowed ({value[:60]!r})")
    return value


@dataclass(frozen=True)
class Attachment:
    """A file sent with a message: its name, its bytes and its MIME type."""

    filename: str
    content: bytes = field(repr=False)
    mime_type: str

    def __post_init__(self) -> None:
        check_header(self.filename, "attachment file name")
        if "/" in self.filename or "\\" in self.filename or not self.filename.strip():
            raise DeliveryError(f"attachment file name {self.filename!r}: a plain file name only")
        if not re.fullmatch(r"[a-z]+/[a-z0-9.+-]+", self.mime_type):
            raise DeliveryError(
                f"attachment {self.filename}: {self.mime_type!r} is not a MIME type"
            )

    @classmethod
    def of_format(cls, stem: str, fmt: str, content: bytes) -> Attachment:
        """A report file of format `fmt` (xlsx, pdf, csv, html, json) named `stem.fmt`."""
        return cls(f"{stem}.{fmt}", content, MIME_TYPES.get(fmt, "application/octet-stream"))


@dataclass(frozen=True)
class Message:
    """One e-mail: recipients (checked), subject, plain text and optional HTML part (already
    escaped by whoever rendered it), attachments, the recipients' language, a Reply-To."""

    to: tuple[str, ...]
    subject: str
    text: str
    html: str | None = None
    attachments: tuple[Attachment, ...] = ()
    language: str = "en"
    reply_to: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "to", check_addresses(self.to))
        check_header(self.subject, "subject")
        if self.reply_to is not None:
            object.__setattr__(self, "reply_to", check_address(self.reply_to))
        if not re.fullmatch(r"[a-z]{2}(-[A-Za-z0-9]{2,8})?", self.language):
            raise DeliveryError(f"language {self.language!r}: a code such as 'en' or 'fr'")

    @property
    def size(self) -> int:
        """Bytes of the attachments (what the size limit is about)."""
        return sum(len(a.content) for a in self.attachments)


def message_id(key: str, domain: str) -> str:
    """The Message-ID of the delivery `key`: the same key always gives the same id.

    >>> key = "schedule:weekly:2026-W48:ana@example.com"
    >>> message_id(key, "example.com") == message_id(key, "example.com")
    True
    >>> message_id(key, "example.com") == message_id(key + "x", "example.com")
    False
    """
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:40]
    return f"<callacct.{digest}@{domain}>"


def domain_of(address: str) -> str:
    """The domain of an address (for Message-IDs)."""
    return address.rpartition("@")[2] or "localhost"


def build_mime(
    message: Message,
    *,
    sender: str,
    message_id: str,
    reply_to: str | None = None,
    date: float | None = None,
) -> EmailMessage:
    """The MIME message: plain text, an HTML alternative when given, the attachments."""
    mime = EmailMessage()
    mime["From"] = Address(addr_spec=check_address(sender))
    mime["To"] = ", ".join(message.to)
    mime["Subject"] = message.subject
    mime["Date"] = formatdate(date, localtime=False, usegmt=True)
    mime["Message-ID"] = message_id
    answer = message.reply_to or reply_to
    if answer:
        mime["Reply-To"] = check_address(answer)
    mime["Auto-Submitted"] = "auto-generated"
    mime.set_content(message.text, subtype="plain", charset="utf-8")
    if message.html is not None:
        mime.add_alternative(message.html, subtype="html", charset="utf-8")
    for attachment in message.attachments:
        maintype, _, subtype = attachment.mime_type.partition("/")
        mime.add_attachment(
            attachment.content, maintype=maintype, subtype=subtype, filename=attachment.filename
        )
    # Set last: set_content() and add_attachment() move Content-* headers to the parts.
    mime["Content-Language"] = message.language
    return mime
