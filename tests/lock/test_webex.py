"""The Webex Calling backend against a Webex stand-in served on 127.0.0.1."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from callacct.lock.backends.webex import is_locked, locked_permissions
from callacct.web.runner import ServerThread
from tests.lock.conftest import lock_settings, service

ORIGINAL = {
    "useCustomEnabled": True,
    "useCustomPermissions": True,
    "isCallTypeRestrictionEnabled": False,
    "callingPermissions": [
        {"callType": "INTERNATIONAL", "action": "BLOCK", "transferEnabled": False},
        {"callType": "NATIONAL", "action": "ALLOW", "transferEnabled": True},
    ],
}


@dataclass
class WebexStandIn:
    """People by e-mail and their outgoing permissions; the first `busy` requests get 429."""

    busy: int = 0
    retry_after: str = "1"
    permissions: dict[str, dict[str, Any]] = field(default_factory=dict)
    seen: list[tuple[str, str, float]] = field(default_factory=list)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/v1/people", self.people)
        app.router.add_route("*", "/v1/people/{id}/features/outgoingPermission", self.outgoing)
        return app

    def _gate(self, request: web.Request) -> web.Response | None:
        self.seen.append((request.method, request.path, time.monotonic()))
        if request.headers.get("Authorization") != "Bearer webex-token":
            return web.json_response({"message": "bad token"}, status=401)
        if self.busy > 0:
            self.busy -= 1
            return web.json_response(
                {"message": "Too Many Requests"},
                status=429,
                headers={"Retry-After": self.retry_after},
            )
        return None

    async def people(self, request: web.Request) -> web.Response:
        refused = self._gate(request)
        if refused is not None:
            return refused
        email = request.query.get("email", "")
        items = [{"id": "P-" + email.split("@")[0]}] if email.endswith("@example.com") else []
        return web.json_response({"items": items})

    async def outgoing(self, request: web.Request) -> web.Response:
        refused = self._gate(request)
        if refused is not None:
            return refused
        person = request.match_info["id"]
        if request.method == "PUT":
            self.permissions[person] = json.loads(await request.read())
            return web.Response(status=204)
        return web.json_response(
            self.permissions.setdefault(person, json.loads(json.dumps(ORIGINAL)))
        )


@pytest.fixture
def webex() -> Iterator[tuple[WebexStandIn, ServerThread]]:
    state = WebexStandIn()
    with ServerThread(state.app()) as server:
        yield state, server


def settings_for(url: str):
    return lock_settings(backend="webex", webex={"base_url": url + "/v1", "retries": 3})


def test_lock_blocks_external_calls_and_unlock_gives_the_permissions_back(
    people_store, webex
) -> None:
    state, server = webex
    locks = service(people_store, settings_for(server.url), "alice")
    report = locks.lock(extensions=["2001"])
    assert report.ok, report.to_dict()
    assert state.permissions["P-alice"] == locked_permissions()
    assert is_locked(state.permissions["P-alice"])
    event = locks.history()[0]
    assert (event.css_before, event.css_after) == (
        "custom (1 call types blocked)",
        "external calls blocked",
    )
    assert locks.unlock(extensions=["2001"]).ok
    expected = {k: v for k, v in ORIGINAL.items() if k != "isCallTypeRestrictionEnabled"}
    assert state.permissions["P-alice"] == expected
    # The person was looked up by e-mail once, then by the id kept with the lock.
    assert [path for _, path, _ in state.seen].count("/v1/people") == 1


def test_429_retry_after_is_honoured(people_store, webex) -> None:
    state, server = webex
    state.busy = 2
    started = time.monotonic()
    report = service(people_store, settings_for(server.url)).lock(extensions=["2001"])
    assert report.ok, report.to_dict()
    times = [at for _, _, at in state.seen]
    assert times[1] - times[0] >= 0.9
    assert times[2] - times[1] >= 0.9
    assert time.monotonic() - started >= 1.8


def test_429_that_lasts_fails_and_changes_nothing(people_store, webex) -> None:
    state, server = webex
    state.busy, state.retry_after = 100, "0"
    report = service(people_store, settings_for(server.url)).lock(extensions=["2001"])
    assert report.outcomes[0].result == "failed"
    assert "kept answering HTTP 429" in report.outcomes[0].message
    assert state.permissions == {}


def test_a_person_without_webex_account_is_a_clear_failure(people_store, webex) -> None:
    _, server = webex
    people_store.con.execute("UPDATE users SET email = 'dave@elsewhere.org' WHERE login = 'dave'")
    report = service(people_store, settings_for(server.url)).lock(extensions=["2004"])
    assert report.outcomes[0].message == (
        "Webex has no person with the e-mail address dave@elsewhere.org"
    )


def test_the_token_comes_from_the_environment_only(people_store, webex) -> None:
    _, server = webex
    locks = service(people_store, settings_for(server.url))
    locks._env = {}
    from callacct.errors import ConfigError
    from callacct.lock.backends import make_backend

    with pytest.raises(ConfigError, match="CALLACCT_WEBEX_TOKEN is not set"):
        make_backend("webex", settings_for(server.url), env={})
