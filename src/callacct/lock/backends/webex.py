"""Webex Calling: a locked person's outgoing calling permissions block every external call.

Lock = find the person (by e-mail, once: the id is kept as the line key), read their
`outgoingPermission` (saved as JSON), then `PUT` a person-level setting that allows internal
and toll-free calls and blocks every other call type; unlock = `PUT` the saved setting back.
Emergency calls are not among the call types these permissions govern, so they stay
reachable. 429 and 503 answers are retried after the server's `Retry-After` (capped by
`lock.webex.max_retry_after_s`). The token comes from the environment only.
"""

from __future__ import annotations

import asyncio
import json
import logging
import ssl
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import aiohttp

from callacct.lock.backends import BackendChange, BackendError, Line, LockBackend, Reading
from callacct.lock.transport import Secret, client_tls, retry_wait, secret_from_env

if TYPE_CHECKING:
    from callacct.config import LockWebexSettings, Settings

log = logging.getLogger(__name__)

#: Call types a lock leaves open; every other one is blocked.
ALLOWED_WHEN_LOCKED = ("INTERNAL_CALL", "TOLL_FREE")
CALL_TYPES = (
    "INTERNAL_CALL",
    "TOLL_FREE",
    "NATIONAL",
    "INTERNATIONAL",
    "OPERATOR_ASSISTED",
    "CHARGEABLE_DIRECTORY_ASSISTED",
    "SPECIAL_SERVICES_I",
    "SPECIAL_SERVICES_II",
    "PREMIUM_SERVICES_I",
    "PREMIUM_SERVICES_II",
)
# Read-only fields of the answer, not sent back.
_READ_ONLY = ("isCallTypeRestrictionEnabled",)


def locked_permissions() -> dict[str, Any]:
    """The outgoing permissions of a locked person."""
    return {
        "useCustomEnabled": True,
        "useCustomPermissions": True,
        "callingPermissions": [
            {
                "callType": call_type,
                "action": "ALLOW" if call_type in ALLOWED_WHEN_LOCKED else "BLOCK",
                "transferEnabled": call_type in ALLOWED_WHEN_LOCKED,
            }
            for call_type in CALL_TYPES
        ],
    }


def is_locked(permissions: Mapping[str, Any]) -> bool:
    """Whether `permissions` block every external call type (as a lock sets them)."""
    if not permissions.get("useCustomEnabled") or not permissions.get("useCustomPermissions"):
        return False
    actions = {
        str(item.get("callType")): str(item.get("action"))
        for item in permissions.get("callingPermissions") or ()
        if isinstance(item, Mapping)
    }
    return all(
        actions.get(call_type) == "BLOCK"
        for call_type in CALL_TYPES
        if call_type not in ALLOWED_WHEN_LOCKED
    )


def summary(permissions: Mapping[str, Any]) -> str:
    """A short text of a permission setting, for events."""
    if is_locked(permissions):
        return "external calls blocked"
    if not permissions.get("useCustomEnabled"):
        return "location defaults"
    blocked = sum(
        1
        for item in permissions.get("callingPermissions") or ()
        if isinstance(item, Mapping) and item.get("action") == "BLOCK"
    )
    return f"custom ({blocked} call types blocked)"


class WebexBackend(LockBackend):
    name: ClassVar[str] = "webex"

    def __init__(
        self, settings: LockWebexSettings, token: Secret, tls: ssl.SSLContext | None
    ) -> None:
        self.settings = settings
        self.concurrency = settings.concurrency
        self._auth = Secret("Bearer " + token.reveal())
        self._tls = tls
        self._session: aiohttp.ClientSession | None = None
        self.retried = 0

    @classmethod
    def from_settings(
        cls, settings: Settings, *, env: Mapping[str, str] | None = None, base: Path | None = None
    ) -> WebexBackend:
        webex = settings.lock.webex
        token = secret_from_env(webex.token_env, "lock.webex.token_env", env)
        tls = None
        if webex.base_url.startswith("https://"):
            tls = client_tls(ca_file=webex.ca_file, verify=webex.verify_tls, base=base)
        return cls(webex, token, tls)

    def _params(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        params = dict(extra or {})
        if self.settings.org_id:
            params["orgId"] = self.settings.org_id
        return params

    async def person_id(self, line: Line) -> str:
        if line.line_key:
            return line.line_key
        if not line.email:
            raise BackendError(
                f"{line.login or line.extension} has no e-mail address in the directory; "
                "Webex finds people by it"
            )
        answer = await self.request("GET", "/people", params=self._params({"email": line.email}))
        items = answer.get("items") if isinstance(answer, Mapping) else None
        if not items or not isinstance(items[0], Mapping) or not items[0].get("id"):
            raise BackendError(f"Webex has no person with the e-mail address {line.email}")
        return str(items[0]["id"])

    def _path(self, person: str) -> str:
        return f"/people/{person}/features/outgoingPermission"

    async def lock(self, line: Line) -> BackendChange:
        person = await self.person_id(line)
        current = await self.request("GET", self._path(person), params=self._params())
        if is_locked(current):
            return BackendChange(
                before=summary(current),
                after=summary(current),
                saved=None,
                line_key=person,
                note="external calls were already blocked",
            )
        saved = {k: v for k, v in current.items() if k not in _READ_ONLY}
        await self.request(
            "PUT", self._path(person), params=self._params(), body=locked_permissions()
        )
        return BackendChange(
            before=summary(current),
            after=summary(locked_permissions()),
            saved=json.dumps(saved, sort_keys=True),
            line_key=person,
        )

    async def unlock(self, line: Line, saved: str | None) -> BackendChange:
        if saved is None:
            raise BackendError(
                f"the calling permissions of {line.login or line.extension} before the lock are "
                "not known (they were already blocked); set them in Control Hub"
            )
        person = await self.person_id(line)
        try:
            original = json.loads(saved)
        except ValueError:
            raise BackendError(f"the saved permissions of {line.extension} are damaged") from None
        await self.request("PUT", self._path(person), params=self._params(), body=original)
        return BackendChange(
            before=summary(locked_permissions()), after=summary(original), line_key=person
        )

    async def read(self, line: Line) -> Reading:
        person = await self.person_id(line)
        current = await self.request("GET", self._path(person), params=self._params())
        return Reading(summary(current), is_locked(current), person)

    def _open_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(
                    ssl=self._tls if self._tls is not None else True,
                    limit=self.settings.concurrency,
                ),
                timeout=aiohttp.ClientTimeout(total=self.settings.timeout_s),
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """One API call; 429/503 retried after Retry-After; the JSON answer ({} if none)."""
        url = self.settings.base_url.rstrip("/") + path
        headers = {"Authorization": self._auth.reveal(), "Accept": "application/json"}
        session = self._open_session()
        attempt = 0
        while True:
            attempt += 1
            try:
                async with session.request(
                    method, url, params=params, json=body, headers=headers
                ) as response:
                    status = response.status
                    retry_after = response.headers.get("Retry-After")
                    content = await response.read()
            except aiohttp.ClientConnectorCertificateError:
                raise BackendError(
                    f"the certificate of {self.settings.base_url} is not trusted; set "
                    "lock.webex.ca_file",
                    fatal=True,
                ) from None
            except aiohttp.ClientConnectionError as exc:
                raise BackendError(
                    f"cannot reach {self.settings.base_url} ({type(exc).__name__})", fatal=True
                ) from None
            except TimeoutError:
                raise BackendError(
                    f"Webex did not answer {method} {path} within {self.settings.timeout_s:g} s"
                ) from None
            if status in (429, 503) and attempt <= self.settings.retries:
                self.retried += 1
                wait = retry_wait(
                    attempt, base=1.0, cap=self.settings.max_retry_after_s, retry_after=retry_after
                )
                log.info("Webex answered %d; retry %d in %.1f s", status, attempt, wait)
                await asyncio.sleep(wait)
                continue
            if status >= 400:
                raise self._error(status, method, path, content)
            if not content:
                return {}
            try:
                answer = json.loads(content)
            except ValueError:
                raise BackendError(f"Webex's answer to {method} {path} is not JSON") from None
            return answer if isinstance(answer, dict) else {"items": answer}

    def _error(self, status: int, method: str, path: str, content: bytes) -> BackendError:
        if status == 401:
            return BackendError(
                f"Webex refused the token (HTTP 401); renew ${self.settings.token_env}", fatal=True
            )
        if status == 403:
            return BackendError(
                "the Webex token may not change calling settings (HTTP 403); it needs the "
                "spark-admin:people_write scope, and Call Settings API access in Control Hub"
            )
        if status == 404:
            return BackendError(f"Webex has no such person ({method} {path}: HTTP 404)")
        if status in (429, 503):
            return BackendError(
                f"Webex kept answering HTTP {status} (too many requests) after "
                f"{self.settings.retries + 1} attempts; try again later"
            )
        try:
            message = str(json.loads(content).get("message") or "")[:200]
        except (ValueError, AttributeError):
            message = ""
        return BackendError(f"Webex refused {method} {path} (HTTP {status}) {message}".strip())
