"""Cisco CUCM through AXL: a locked line's CSS becomes the locked CSS; unlocking restores it.

Lock = `getLine` (the line's uuid and its calling search space, saved), then `updateLine`
setting `shareLineAppearanceCssName` to `lock.axl.locked_css`; unlock = `getLine`, then
`updateLine` back to the saved CSS, exactly. A line already on the locked CSS is not written
again. Writes are retried on HTTP 503 (AXL's write throttling) or a throttling fault, with
exponential back-off; at most `lock.axl.concurrency` requests are in flight, and with
`lock.axl.writes_per_s` set, updates are paced. One HTTP session is kept (keep-alive and
CUCM's JSESSIONID cookie spare CUCM a login per request); TLS is verified against
`lock.axl.ca_file` unless turned off for a lab. The password comes from the environment only
and is never shown (`Secret`).
"""

from __future__ import annotations

import asyncio
import base64
import logging
import ssl
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar
from xml.etree.ElementTree import Element

import aiohttp

from callacct.errors import ConfigError
from callacct.lock.axl_soap import (
    AxlFault,
    AxlLine,
    envelope,
    get_line_request,
    parse_response,
    read_line,
    soap_action,
    update_line_css_request,
)
from callacct.lock.backends import BackendChange, BackendError, Line, LockBackend, Reading
from callacct.lock.transport import Secret, client_tls, retry_wait, secret_from_env

if TYPE_CHECKING:
    from callacct.config import LockAxlSettings, Settings

log = logging.getLogger(__name__)

# AXL codes of an item that does not exist: 5007 on get, 5003 on update.
_NOT_FOUND = (5007, 5003)
# Fault texts that mean "throttled, try later" rather than "refused".
_THROTTLED = ("throttl", "memory allocation")


class AxlBackend(LockBackend):
    name: ClassVar[str] = "cucm-axl"

    def __init__(
        self, settings: LockAxlSettings, password: Secret, tls: ssl.SSLContext | None
    ) -> None:
        self.settings = settings
        self.concurrency = settings.concurrency
        self._auth = Secret(
            "Basic "
            + base64.b64encode(f"{settings.user}:{password.reveal()}".encode()).decode("ascii")
        )
        self._tls = tls
        self._session: aiohttp.ClientSession | None = None
        self._pace = asyncio.Lock() if settings.writes_per_s else None
        self._next_write = 0.0
        #: Requests answered 503 (throttled) and retried, for reports and the benchmark.
        self.throttled = 0
        self.requests = 0

    @classmethod
    def from_settings(
        cls, settings: Settings, *, env: Mapping[str, str] | None = None, base: Path | None = None
    ) -> AxlBackend:
        axl = settings.lock.axl
        if not axl.url or not axl.user:
            raise ConfigError(
                "lock.axl.url and lock.axl.user must be set to lock lines on CUCM; set them in "
                "callacct.toml [lock.axl] (or use the dry-run backend)"
            )
        password = secret_from_env(axl.password_env, "lock.axl.password_env", env)
        tls = None
        if axl.url.startswith("https://"):
            tls = client_tls(ca_file=axl.ca_file, verify=axl.verify_tls, base=base)
            if not axl.verify_tls:
                log.warning("lock.axl.verify_tls is off: CUCM's certificate is not checked")
        return cls(axl, password, tls)

    def _where(self, extension: str) -> str:
        partition = self.settings.partition
        return f"line {extension}" + (f" in partition {partition}" if partition else "")

    async def lock(self, line: Line) -> BackendChange:
        found = await self.get_line(line.extension)
        locked = self.settings.locked_css
        if found.css == locked:
            return BackendChange(
                before=locked,
                after=locked,
                saved=None,
                line_key=found.uuid,
                note=f"{self._where(line.extension)} was already on {locked}",
            )
        await self.set_css(line.extension, found, locked)
        return BackendChange(
            before=found.css or "", after=locked, saved=found.css or "", line_key=found.uuid
        )

    async def unlock(self, line: Line, saved: str | None) -> BackendChange:
        if saved is None:
            raise BackendError(
                f"the calling search space {self._where(line.extension)} had before the lock "
                "is not known (it was already locked when callacct locked it); set it in CUCM, "
                "then check with 'callacct lock sync'"
            )
        found = await self.get_line(line.extension)
        if found.css != self.settings.locked_css:
            return BackendChange(
                before=found.css,
                after=found.css,
                line_key=found.uuid,
                note=f"{self._where(line.extension)} was no longer on "
                f"{self.settings.locked_css} (it has {found.css or 'no CSS'}); left as it is",
            )
        await self.set_css(line.extension, found, saved)
        return BackendChange(before=found.css, after=saved, line_key=found.uuid)

    async def read(self, line: Line) -> Reading:
        found = await self.get_line(line.extension)
        return Reading(found.css, found.css == self.settings.locked_css, found.uuid)

    async def get_line(self, extension: str) -> AxlLine:
        answer = await self.call(
            "getLine", get_line_request(extension, self.settings.partition or None), extension
        )
        node = answer.find("return/line")
        if node is None:
            raise BackendError(f"CUCM's getLine answer for {self._where(extension)} has no line")
        return read_line(node)

    async def set_css(self, extension: str, line: AxlLine, css: str) -> None:
        await self._paced()
        request = update_line_css_request(
            css,
            uuid=line.uuid,
            pattern=None if line.uuid else extension,
            partition=None if line.uuid else (self.settings.partition or None),
        )
        await self.call("updateLine", request, extension)

    async def _paced(self) -> None:
        if self._pace is None:
            return
        async with self._pace:
            now = time.monotonic()
            if self._next_write > now:
                await asyncio.sleep(self._next_write - now)
            self._next_write = max(now, self._next_write) + 1.0 / self.settings.writes_per_s

    def _open_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(
                    ssl=self._tls if self._tls is not None else True,
                    limit=self.settings.concurrency,
                ),
                timeout=aiohttp.ClientTimeout(
                    total=self.settings.timeout_s, sock_connect=self.settings.connect_timeout_s
                ),
                # CUCM is often addressed by its IP address: keep its session cookie anyway.
                cookie_jar=aiohttp.CookieJar(unsafe=True),
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def call(self, operation: str, body: str, extension: str) -> Element:
        """Send one AXL request; retry while CUCM throttles; the response element."""
        settings = self.settings
        data = envelope(settings.version, operation, body)
        session = self._open_session()
        attempt = 0
        while True:
            attempt += 1
            self.requests += 1
            status, content, retry_after = await self._post(session, operation, data)
            throttled = status == 503
            if not throttled and status in (401, 403, 404):
                raise self._http_error(status)
            fault: AxlFault | None = None
            if not throttled:
                try:
                    return parse_response(content, status, settings.version, operation)
                except AxlFault as exc:
                    fault = exc
                    throttled = any(word in exc.message.lower() for word in _THROTTLED)
                except ValueError as exc:
                    raise BackendError(
                        f"CUCM's answer to {operation} for {self._where(extension)} cannot be "
                        f"read (HTTP {status}, {exc}); check lock.axl.url and lock.axl.version"
                    ) from None
            if throttled and attempt <= settings.retries:
                self.throttled += 1
                wait = retry_wait(
                    attempt,
                    base=settings.backoff_s,
                    cap=settings.max_backoff_s,
                    retry_after=retry_after,
                )
                log.info("AXL throttled (%s); retry %d in %.1f s", operation, attempt, wait)
                await asyncio.sleep(wait)
                continue
            if throttled:
                raise BackendError(
                    f"CUCM kept throttling AXL writes after {attempt} attempts ({operation} "
                    f"for {self._where(extension)}); try again later, or lower "
                    "lock.axl.concurrency or lock.axl.writes_per_s"
                )
            assert fault is not None
            raise self._fault_error(fault, operation, extension)

    async def _post(
        self, session: aiohttp.ClientSession, operation: str, data: bytes
    ) -> tuple[int, bytes, str | None]:
        headers = {
            "Content-Type": "text/xml; charset=utf-8",
            "SOAPAction": soap_action(self.settings.version, operation),
            "Authorization": self._auth.reveal(),
        }
        url = self.settings.url
        try:
            async with session.post(url, data=data, headers=headers) as response:
                content = await response.read()
                return response.status, content, response.headers.get("Retry-After")
        except aiohttp.ClientConnectorCertificateError:
            raise BackendError(
                f"the certificate of {url} is not trusted; set lock.axl.ca_file to the CA "
                "bundle (PEM) that signed CUCM's Tomcat certificate",
                fatal=True,
            ) from None
        except aiohttp.ClientSSLError as exc:
            raise BackendError(
                f"TLS with {url} failed ({type(exc).__name__}); check lock.axl.url and "
                "lock.axl.ca_file",
                fatal=True,
            ) from None
        except aiohttp.ClientConnectionError as exc:
            raise BackendError(
                f"cannot reach CUCM at {url} ({type(exc).__name__}); check lock.axl.url and "
                "that the Cisco AXL Web Service runs",
                fatal=True,
            ) from None
        except TimeoutError:
            raise BackendError(
                f"CUCM did not answer {operation} within {self.settings.timeout_s:g} s "
                "(lock.axl.timeout_s)"
            ) from None

    def _http_error(self, status: int) -> BackendError:
        if status == 401:
            text = (
                f"CUCM refused the AXL user {self.settings.user!r} (HTTP 401); check "
                f"lock.axl.user and the password in ${self.settings.password_env}"
            )
        elif status == 403:
            text = (
                f"the AXL user {self.settings.user!r} may not use AXL (HTTP 403); give it the "
                "Standard AXL API Access role"
            )
        else:
            text = (
                f"no AXL service at {self.settings.url} (HTTP 404); check lock.axl.url and "
                "that the Cisco AXL Web Service is activated"
            )
        return BackendError(text, fatal=True)

    def _fault_error(self, fault: AxlFault, operation: str, extension: str) -> BackendError:
        if fault.code in _NOT_FOUND:
            return BackendError(
                f"{self._where(extension)} is not in CUCM ({fault}); check the extension "
                "and lock.axl.partition"
            )
        return BackendError(f"CUCM refused {operation} for {self._where(extension)} ({fault})")
