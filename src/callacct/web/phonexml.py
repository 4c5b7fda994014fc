"""Cisco IP Phone XML objects: `CiscoIPPhoneMenu`, `CiscoIPPhoneInput`, `CiscoIPPhoneText`.

Every text is escaped (`& < > " '`), characters the phones cannot show (control characters
other than tab and line ends) are dropped, and names are cut to the phones' limits (menu item
names 64 characters, at most 100 items, at most 5 input fields). Element names are the ones
Cisco's Application Development Notes give; the phones' parser is case-sensitive.

Example:
    >>> text("Lock", "Done", "R&D <b>").decode()
    '<?xml version="1.0" encoding="utf-8"?>\\n<CiscoIPPhoneText><Title>Lock</Title><Prompt>Done</Prompt><Text>R&amp;D &lt;b&gt;</Text></CiscoIPPhoneText>'
"""  # noqa: E501

from __future__ import annotations

import re
from collections.abc import Sequence

_DROP = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")
HEADER = '<?xml version="1.0" encoding="utf-8"?>\n'
MAX_NAME = 64
MAX_ITEMS = 100
MAX_INPUTS = 5


def escape(value: str, limit: int | None = None) -> str:
    """`value` as phone XML text (escaped, cleaned, cut to `limit` characters)."""
    value = _DROP.sub("", value)
    if limit is not None:
        value = value[:limit]
    return (
        value.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&apos;")
    )


def _doc(body: str) -> bytes:
    return (HEADER + body).encode("utf-8")


def menu(title: str, prompt: str, items: Sequence[tuple[str, str]]) -> bytes:
    """A menu of (name, URL) items."""
    entries = "".join(
        f"<MenuItem><Name>{escape(name, MAX_NAME)}</Name><URL>{escape(url)}</URL></MenuItem>"
        for name, url in items[:MAX_ITEMS]
    )
    return _doc(
        f"<CiscoIPPhoneMenu><Title>{escape(title, MAX_NAME)}</Title>"
        f"<Prompt>{escape(prompt, MAX_NAME)}</Prompt>{entries}</CiscoIPPhoneMenu>"
    )


def input_form(title: str, prompt: str, url: str, fields: Sequence[tuple[str, str, str]]) -> bytes:
    """An input form of (display name, query parameter, input flags) fields; the phone sends
    the values to `url` as a query string (GET)."""
    items = "".join(
        f"<InputItem><DisplayName>{escape(name, MAX_NAME)}</DisplayName>"
        f"<QueryStringParam>{escape(param)}</QueryStringParam><DefaultValue></DefaultValue>"
        f"<InputFlags>{escape(flags)}</InputFlags></InputItem>"
        for name, param, flags in fields[:MAX_INPUTS]
    )
    return _doc(
        f"<CiscoIPPhoneInput><Title>{escape(title, MAX_NAME)}</Title>"
        f"<Prompt>{escape(prompt, MAX_NAME)}</Prompt><URL>{escape(url)}</URL>{items}"
        "</CiscoIPPhoneInput>"
    )


def text(title: str, prompt: str, body: str) -> bytes:
    """A page of text."""
    return _doc(
        f"<CiscoIPPhoneText><Title>{escape(title, MAX_NAME)}</Title>"
        f"<Prompt>{escape(prompt, MAX_NAME)}</Prompt><Text>{escape(body, 4000)}</Text>"
        "</CiscoIPPhoneText>"
    )
