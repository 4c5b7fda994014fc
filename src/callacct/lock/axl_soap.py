"""AXL's SOAP envelopes, built from templates and read with a hardened parser.

Cisco's WSDL cannot be shipped, so the few requests callacct sends are written out here, in
the element order of Cisco's schema (AXLSoap.xsd 12.5-15), every value XML-escaped; answers
are parsed with defusedxml (no entities, no DTDs). The AXL stand-in reads requests with the
same names, so the two cannot drift apart.

Example:
    >>> body = envelope("14.0", "getLine", get_line_request("2001", "PT_<Int>"))
    >>> b"<routePartitionName>PT_&lt;Int&gt;</routePartitionName>" in body
    True
    >>> soap_action("14.0", "getLine")
    '"CUCM:DB ver=14.0 getLine"'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from xml.etree.ElementTree import Element

from defusedxml import ElementTree as SafeTree

SOAPENV = "http://schemas.xmlsoap.org/soap/envelope/"
AXL_NS_PREFIX = "http://www.cisco.com/AXL/API/"
LINE_TAGS = ("pattern", "description", "routePartitionName", "shareLineAppearanceCssName")

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def axl_namespace(version: str) -> str:
    return AXL_NS_PREFIX + version


def soap_action(version: str, operation: str) -> str:
    """The SOAPAction header CUCM's WSDL declares (quoted, as zeep sends it)."""
    return f'"CUCM:DB ver={version} {operation}"'


def escape(value: str) -> str:
    """`value` as XML text: `& < > " '` escaped; characters XML cannot carry refused.

    >>> escape("R&D <\\"x\\">")
    'R&amp;D &lt;&quot;x&quot;&gt;'
    """
    if _NOT_XML.search(value):
        raise ValueError(f"{value!r} holds characters XML cannot carry")
    return (
        value.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&apos;")
    )


def element(name: str, value: str | None) -> str:
    """``<name>value</name>``, escaped; an empty element for an empty or no value."""
    return f"<{name}/>" if not value else f"<{name}>{escape(value)}</{name}>"


def envelope(version: str, operation: str, body: str) -> bytes:
    """A whole AXL request: the SOAP envelope around ``<ns:operation>body</ns:operation>``."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<soapenv:Envelope xmlns:soapenv="{SOAPENV}" xmlns:ns="{axl_namespace(version)}">'
        f"<soapenv:Header/><soapenv:Body><ns:{operation}>{body}</ns:{operation}>"
        "</soapenv:Body></soapenv:Envelope>"
    ).encode()


def _line_key(pattern: str | None, partition: str | None, uuid: str | None) -> str:
    if uuid:
        return element("uuid", uuid)
    return element("pattern", pattern) + (
        element("routePartitionName", partition) if partition else ""
    )


def get_line_request(pattern: str, partition: str | None = None) -> str:
    """getLine by pattern (and partition): the line's CSS and uuid."""
    tags = "".join(f"<{tag}/>" for tag in LINE_TAGS)
    return _line_key(pattern, partition, None) + f"<returnedTags>{tags}</returnedTags>"


def update_line_css_request(
    css: str, *, uuid: str | None = None, pattern: str | None = None, partition: str | None = None
) -> str:
    """updateLine setting only the line CSS (`shareLineAppearanceCssName`)."""
    return _line_key(pattern, partition, uuid) + element("shareLineAppearanceCssName", css)


def list_line_request(pattern: str, *, skip: int = 0, first: int = 500) -> str:
    """listLine of the lines whose pattern is like `pattern` (``%`` any characters), paged."""
    tags = "".join(f"<{tag}/>" for tag in LINE_TAGS)
    return (
        f"<searchCriteria>{element('pattern', pattern)}</searchCriteria>"
        f"<returnedTags>{tags}</returnedTags>"
        f"<skip>{skip}</skip><first>{first}</first>"
    )


@dataclass(eq=False)
class AxlFault(Exception):
    """A SOAP fault from AXL: `code` is the `axlcode` (None when the fault has none)."""

    status: int
    faultcode: str
    message: str
    code: int | None = None
    request: str | None = None

    def __str__(self) -> str:
        code = f"AXL {self.code}" if self.code is not None else self.faultcode
        return f"{code}: {self.message}"


@dataclass(frozen=True)
class AxlLine:
    """A line as getLine/listLine return it."""

    uuid: str | None
    pattern: str
    partition: str | None
    css: str | None


def parse_xml(data: bytes) -> Element:
    """Parse XML with defusedxml: entities, DTDs and external references refused."""
    root: Element = SafeTree.fromstring(data, forbid_dtd=True)
    return root


def parse_response(data: bytes, status: int, version: str, operation: str) -> Element:
    """The ``<ns:operationResponse>`` element of an AXL answer; `AxlFault` for a fault,
    `ValueError` for anything else."""
    try:
        root = parse_xml(data)
    except Exception as exc:  # defusedxml raises several kinds; all mean "not an answer"
        raise ValueError(f"not XML ({type(exc).__name__})") from None
    body = root.find(f"{{{SOAPENV}}}Body")
    if root.tag != f"{{{SOAPENV}}}Envelope" or body is None:
        raise ValueError("not a SOAP envelope")
    fault = body.find(f"{{{SOAPENV}}}Fault")
    if fault is not None:
        detail = fault.find("detail/axlError")
        code = detail.findtext("axlcode") if detail is not None else None
        raise AxlFault(
            status=status,
            faultcode=(fault.findtext("faultcode") or "").strip(),
            message=(
                (detail.findtext("axlmessage") if detail is not None else None)
                or fault.findtext("faultstring")
                or "no message"
            ).strip(),
            code=int(code) if code and re.fullmatch(r"-?\d+", code.strip()) else None,
            request=detail.findtext("request") if detail is not None else None,
        )
    answer = body.find(f"{{{axl_namespace(version)}}}{operation}Response")
    if answer is None:
        raise ValueError(f"no {operation}Response in the answer")
    return answer


def read_line(node: Element) -> AxlLine:
    """An AxlLine from a ``<line>`` element of getLine/listLine."""
    css = node.find("shareLineAppearanceCssName")
    return AxlLine(
        uuid=node.get("uuid"),
        pattern=(node.findtext("pattern") or "").strip(),
        partition=(node.findtext("routePartitionName") or "").strip() or None,
        css=((css.text or "").strip() or None) if css is not None else None,
    )


def fault_envelope(
    faultcode: str, message: str, *, code: int | None = None, request: str | None = None
) -> bytes:
    """A SOAP 1.1 fault as CUCM writes it (``detail/axlError`` when there is an AXL code)."""
    detail = ""
    if code is not None:
        detail = (
            f"<detail><axlError><axlcode>{code}</axlcode>"
            f"<axlmessage>{escape(message)}</axlmessage>"
            f"<request>{escape(request or '')}</request></axlError></detail>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<soapenv:Envelope xmlns:soapenv="{SOAPENV}"><soapenv:Body><soapenv:Fault>'
        f"<faultcode>{escape(faultcode)}</faultcode><faultstring>{escape(message)}</faultstring>"
        f"{detail}</soapenv:Fault></soapenv:Body></soapenv:Envelope>"
    ).encode()


def response_envelope(version: str, operation: str, body: str) -> bytes:
    """A successful AXL answer: ``<ns:operationResponse>body</ns:operationResponse>``."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<soapenv:Envelope xmlns:soapenv="{SOAPENV}"><soapenv:Body>'
        f'<ns:{operation}Response xmlns:ns="{axl_namespace(version)}">{body}'
        f"</ns:{operation}Response></soapenv:Body></soapenv:Envelope>"
    ).encode()
