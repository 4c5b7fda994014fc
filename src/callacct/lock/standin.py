"""An AXL stand-in: a real HTTP(S) server that answers like CUCM's AXL service, for tests,
benchmarks, the demo and trials (`callacct lock stand-in`). CUCM itself cannot run here.

It checks each request as CUCM does: HTTP Basic credentials (401 otherwise), POST with
`Content-Type: text/xml`, a SOAP 1.1 envelope whose body holds one operation in the namespace
`http://www.cisco.com/AXL/API/<version>` of a supported version, a SOAPAction naming the same
version and operation, and the operation's elements — known, unqualified, in the schema's
order, the required ones present. A request that breaks a rule gets HTTP 500 with a
`soapenv:Client` fault, as CUCM's SOAP stack answers a request that does not match its
schema. It keeps each line's calling search space; an unknown line is fault 5007 (getLine) or
5003 (updateLine); with throttling set, writes beyond what the change-notification queue holds
get HTTP 503, as CUCM's write throttling does.

Operations: getLine, updateLine (the line CSS), listLine, getCCMVersion.

Example:
    >>> standin = AxlStandIn(user="axl", password="pw")
    >>> standin.add_lines(["2001"], partition="PT_Internal", css="CSS_Normal")
    >>> standin.css_of("2001", "PT_Internal")
    'CSS_Normal'
"""

from __future__ import annotations

import asyncio
import base64
import hmac
import re
import time
import uuid as uuidlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from xml.etree.ElementTree import Element

from aiohttp import web

from callacct.config import AXL_VERSIONS
from callacct.i18n import Message
from callacct.lock.axl_soap import (
    AXL_NS_PREFIX,
    LINE_TAGS,
    SOAPENV,
    element,
    escape,
    fault_envelope,
    parse_xml,
    response_envelope,
)

# Element order of the requests, as in Cisco's schema (the part callacct and its tests use).
_KEY = ("uuid", "pattern", "routePartitionName")
_ORDER: dict[str, tuple[str, ...]] = {
    "getLine": (*_KEY, "returnedTags"),
    "updateLine": (
        *_KEY,
        "newPattern",
        "description",
        "newRoutePartitionName",
        "shareLineAppearanceCssName",
    ),
    "listLine": ("searchCriteria", "returnedTags", "skip", "first"),
    "getCCMVersion": ("processNodeName",),
}
_WRITES = ("updateLine",)
_MAX_BODY = 1024 * 1024
_ACTION = re.compile(r'"?CUCM:DB ver=(\d+\.\d+)(?: (\w+))?"?')


class _Malformed(Exception):
    """A request that does not match the schema: a `soapenv:Client` fault."""


@dataclass
class StandInLine:
    uuid: str
    pattern: str
    partition: str | None
    css: str | None
    description: str = ""


@dataclass
class AxlStandIn:
    """The stand-in's state and settings; `app()` is the aiohttp application serving it.

    `throttle_queue` > 0 models CUCM's change-notification queue: each write adds one, the
    queue drains `throttle_drain_per_s` a second, a write that finds it full gets HTTP 503.
    `fail_writes` answers that many next writes 503 whatever the queue. `css_names`, when
    given, are the calling search spaces that exist (another is fault 5007).
    """

    user: str = "axladmin"
    password: str = "axl-stand-in"  # noqa: S105 (the stand-in's own test credential)
    versions: Sequence[str] = AXL_VERSIONS
    css_names: set[str] | None = None
    throttle_queue: int = 0
    throttle_drain_per_s: float = 100.0
    fail_writes: int = 0
    delay_s: float = 0.0
    lines: dict[tuple[str, str | None], StandInLine] = field(default_factory=dict)
    #: (operation, SOAPAction, HTTP status) of every request, in order.
    requests: list[tuple[str, str, int]] = field(default_factory=list)
    _queue: float = 0.0
    _drained_at: float = field(default_factory=time.monotonic)

    def add_lines(
        self, patterns: Iterable[str], *, partition: str | None = None, css: str | None = None
    ) -> None:
        for pattern in patterns:
            self.lines[(pattern, partition)] = StandInLine(
                "{" + str(uuidlib.uuid4()).upper() + "}", pattern, partition, css
            )

    def css_of(self, pattern: str, partition: str | None = None) -> str | None:
        return self.lines[(pattern, partition)].css

    @property
    def throttled(self) -> int:
        return sum(1 for _, _, status in self.requests if status == 503)

    def app(self) -> web.Application:
        app = web.Application(client_max_size=_MAX_BODY)
        app.router.add_post("/axl/", self._handle)
        app.router.add_post("/axl", self._handle)
        app.router.add_get("/axl/", self._probe)
        return app

    # -- HTTP ---------------------------------------------------------------------------

    def _authorised(self, request: web.Request) -> bool:
        expected = "Basic " + base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
        return hmac.compare_digest(request.headers.get("Authorization", ""), expected)

    def _unauthorised(self) -> web.Response:
        return web.Response(
            status=401,
            text="<html><body><h1>HTTP Status 401 - Unauthorized</h1></body></html>",
            content_type="text/html",
            headers={"WWW-Authenticate": 'Basic realm="Cisco Web Services Realm"'},
        )

    async def _probe(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return self._unauthorised()
        return web.Response(text="Cisco CallManager: AXL Web Service (stand-in)")

    async def _handle(self, request: web.Request) -> web.Response:
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        action = request.headers.get("SOAPAction", "")
        if not self._authorised(request):
            self.requests.append(("", action, 401))
            return self._unauthorised()
        if not request.content_type.startswith("text/xml"):
            self.requests.append(("", action, 415))
            return web.Response(status=415, text="Unsupported Media Type")
        body = await request.read()
        try:
            version, operation, node = self._envelope(body, action)
        except _Malformed as exc:
            self.requests.append(("", action, 500))
            return self._xml(500, fault_envelope("soapenv:Client", str(exc)))
        if operation in _WRITES and self._throttle():
            self.requests.append((operation, action, 503))
            return web.Response(status=503, text="Service Unavailable")
        try:
            answer = self._operate(version, operation, node)
        except _Malformed as exc:
            self.requests.append((operation, action, 500))
            return self._xml(500, fault_envelope("soapenv:Client", str(exc)))
        except _Fault as fault:
            self.requests.append((operation, action, 500))
            return self._xml(
                500,
                fault_envelope("soapenv:Server", fault.message, code=fault.code, request=operation),
            )
        self.requests.append((operation, action, 200))
        return self._xml(200, answer)

    @staticmethod
    def _xml(status: int, body: bytes) -> web.Response:
        return web.Response(status=status, body=body, content_type="text/xml", charset="utf-8")

    def _throttle(self) -> bool:
        if self.fail_writes > 0:
            self.fail_writes -= 1
            return True
        if self.throttle_queue <= 0:
            return False
        now = time.monotonic()
        self._queue = max(0.0, self._queue - (now - self._drained_at) * self.throttle_drain_per_s)
        self._drained_at = now
        if self._queue + 1 > self.throttle_queue:
            return True
        self._queue += 1
        return False

    # -- the envelope -----------------------------------------------------------------------

    def _envelope(self, body: bytes, action: str) -> tuple[str, str, Element]:
        try:
            root = parse_xml(body)
        except Exception as exc:  # defusedxml raises several kinds: all are a malformed request
            raise _Malformed(
                f"Unmarshalling Error: {type(exc).__name__}: not well-formed XML"
            ) from None
        if root.tag != f"{{{SOAPENV}}}Envelope":
            raise _Malformed(f"Unmarshalling Error: {root.tag} is not a SOAP 1.1 Envelope")
        bodies = [child for child in root if child.tag == f"{{{SOAPENV}}}Body"]
        if len(bodies) != 1 or len(bodies[0]) != 1:
            raise _Malformed("Unmarshalling Error: the Body must hold exactly one operation")
        node = bodies[0][0]
        found = re.fullmatch(r"\{" + re.escape(AXL_NS_PREFIX) + r"([^}]+)\}(\w+)", node.tag)
        if not found:
            raise _Malformed(f"Unmarshalling Error: unexpected element {node.tag}")
        version, operation = found[1], found[2]
        if version not in self.versions:
            raise _Malformed(f"Unmarshalling Error: AXL version {version} is not supported")
        if operation not in _ORDER:
            raise _Malformed(f"Unmarshalling Error: unexpected element {operation}")
        soap = _ACTION.fullmatch(action.strip())
        if not soap:
            raise _Malformed(f'SOAPAction {action!r} is not "CUCM:DB ver={version} {operation}"')
        if soap[1] != version or (soap[2] is not None and soap[2] != operation):
            raise _Malformed(
                f"SOAPAction {action!r} does not match the request ({operation}, version {version})"
            )
        self._check_children(operation, node)
        return version, operation, node

    @staticmethod
    def _check_children(operation: str, node: Element) -> None:
        order = _ORDER[operation]
        last = -1
        for child in node:
            if child.tag not in order:
                raise _Malformed(
                    "Unmarshalling Error: cvc-complex-type.2.4.a: Invalid content was found "
                    f"starting with element '{child.tag}'. One of '{{{', '.join(order)}}}' "
                    "is expected."
                )
            index = order.index(child.tag)
            if index <= last and not (child.tag == "routePartitionName" and last == 1):
                raise _Malformed(
                    f"Unmarshalling Error: cvc-complex-type.2.4.a: element '{child.tag}' is "
                    "out of order"
                )
            last = index

    # -- operations ---------------------------------------------------------------------

    def _operate(self, version: str, operation: str, node: Element) -> bytes:
        if operation == "getCCMVersion":
            body = "<return><componentVersion><version>14.0.1.13900(2)</version>"
            body += "</componentVersion></return>"
            return response_envelope(version, operation, body)
        if operation == "listLine":
            return response_envelope(version, operation, self._list(node))
        line = self._find(node, operation)
        if operation == "getLine":
            tags = _returned(node)
            return response_envelope(
                version, operation, f"<return>{_line_xml(line, tags)}</return>"
            )
        css_node = node.find("shareLineAppearanceCssName")
        if css_node is not None:
            css = (css_node.text or "").strip() or None
            if css is not None and self.css_names is not None and css not in self.css_names:
                raise _Fault(
                    5007, "Item not valid: The specified Calling Search Space was not found"
                )
            line.css = css
        description = node.findtext("description")
        if description is not None:
            line.description = description
        return response_envelope(version, operation, f"<return>{escape(line.uuid)}</return>")

    def _find(self, node: Element, operation: str) -> StandInLine:
        code = 5007 if operation.startswith("get") else 5003
        missing = _Fault(code, "Item not valid: The specified Line was not found")
        uuid = node.findtext("uuid")
        pattern = node.findtext("pattern")
        if uuid is not None and pattern is not None:
            raise _Malformed("Unmarshalling Error: give uuid or pattern, not both")
        if uuid is not None:
            for line in self.lines.values():
                if line.uuid.lower() == uuid.strip().lower():
                    return line
            raise missing
        if pattern is None:
            raise _Malformed("Unmarshalling Error: uuid or pattern is required")
        partition = node.findtext("routePartitionName")
        if partition is not None:
            found = self.lines.get((pattern.strip(), partition.strip() or None))
            if found is None:
                raise missing
            return found
        candidates = [line for (p, _), line in self.lines.items() if p == pattern.strip()]
        if len(candidates) != 1:
            raise missing
        return candidates[0]

    def _list(self, node: Element) -> str:
        criteria = node.find("searchCriteria")
        if criteria is None or len(criteria) == 0:
            raise _Malformed("Unmarshalling Error: searchCriteria needs at least one element")
        if node.find("returnedTags") is None:
            raise _Malformed("Unmarshalling Error: returnedTags is required")
        like = criteria.findtext("pattern") or "%"
        regex = re.compile("^" + ".*".join(re.escape(part) for part in like.split("%")) + "$")
        skip = int(node.findtext("skip") or 0)
        first = int(node.findtext("first") or 0) or None
        found = sorted(
            (line for line in self.lines.values() if regex.match(line.pattern)),
            key=lambda line: (line.pattern, line.partition or ""),
        )
        chosen = found[skip : None if first is None else skip + first]
        tags = _returned(node)
        return "<return>" + "".join(_line_xml(line, tags) for line in chosen) + "</return>"


@dataclass(eq=False)
class _Fault(Exception):
    code: int
    message: str


def _returned(node: Element) -> tuple[str, ...]:
    tags = node.find("returnedTags")
    if tags is None or len(tags) == 0:
        return LINE_TAGS
    names = tuple(child.tag for child in tags)
    unknown = [name for name in names if name not in LINE_TAGS]
    if unknown:
        raise _Malformed(f"Unmarshalling Error: unknown returned tag '{unknown[0]}'")
    return names


def _line_xml(line: StandInLine, tags: Sequence[str]) -> str:
    values: dict[str, Any] = {
        "pattern": element("pattern", line.pattern),
        "description": element("description", line.description),
        "routePartitionName": (
            f'<routePartitionName uuid="{{PT-{escape(line.partition)}}}">'
            f"{escape(line.partition)}</routePartitionName>"
            if line.partition
            else '<routePartitionName uuid=""/>'
        ),
        "shareLineAppearanceCssName": (
            f'<shareLineAppearanceCssName uuid="{{CSS-{escape(line.css)}}}">'
            f"{escape(line.css)}</shareLineAppearanceCssName>"
            if line.css
            else '<shareLineAppearanceCssName uuid=""/>'
        ),
    }
    inner = "".join(values[tag] for tag in LINE_TAGS if tag in tags)
    return f'<line uuid="{escape(line.uuid)}">{inner}</line>'


def parse_patterns(text: str) -> list[str]:
    """Line numbers from ``2000-2099,3001``: ranges and single numbers.

    >>> parse_patterns("2000-2002,3001")
    ['2000', '2001', '2002', '3001']
    """
    out: list[str] = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        low, sep, high = part.partition("-")
        if sep:
            if not (low.isdigit() and high.isdigit()) or int(high) < int(low):
                raise ValueError(Message("error.not_a_line_range", part=repr(part)))
            if int(high) - int(low) > 100_000:
                raise ValueError(Message("error.too_many_lines", part=repr(part)))
            out += [str(n).zfill(len(low)) for n in range(int(low), int(high) + 1)]
        elif re.fullmatch(r"[0-9+*#]{1,24}", part):
            out.append(part)
        else:
            raise ValueError(Message("error.not_a_line_number", part=repr(part)))
    return out
