"""The workstation endpoint (F-LOCK-4): ``POST /workstation/EVENT`` with
``Authorization: Bearer TOKEN`` (the machine's token from `callacct lock workstation add`);
EVENT is ``logoff`` or ``lock`` (lock the phone) or ``logon`` or ``unlock`` (unlock it). An
optional JSON body ``{"user": "LOGIN"}`` names who logs on or off: another person than the
machine's is refused. Answers are JSON; a missing token is 401, an unknown one 403.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from aiohttp import web

from callacct.errors import StoreError
from callacct.i18n import t
from callacct.lock.workstations import EVENTS
from callacct.web.app import DESK, in_thread

log = logging.getLogger(__name__)


def add_routes(app: web.Application) -> None:
    app.router.add_post("/workstation/{event}", event)


def _json(status: int, **values: Any) -> web.Response:
    return web.json_response(values, status=status, headers={"Cache-Control": "no-store"})


async def event(request: web.Request) -> web.Response:
    name = request.match_info["event"]
    if name not in EVENTS:
        return _json(404, ok=False, message=f"unknown event; use one of {', '.join(EVENTS)}")
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return _json(401, ok=False, message="a Bearer token is required")
    user = None
    body = await request.read()
    if body:
        try:
            data = json.loads(body)
            user = data.get("user") if isinstance(data, dict) else None
        except ValueError:
            return _json(400, ok=False, message='the body must be JSON, e.g. {"user": "jdoe"}')
        if user is not None and not isinstance(user, str):
            return _json(400, ok=False, message="user must be a string")
    desk = request.app[DESK]
    try:
        answer = await in_thread(desk.workstation, token.strip(), name, user)
    except StoreError as exc:
        log.info("workstation request answered 'busy': %s", exc)
        return _json(503, ok=False, message=t("lock.phone.busy", "en"))
    if answer is None:
        return _json(403, ok=False, message="unknown token")
    status = 200 if answer.ok else (409 if answer.key == "lock.workstation.other_user" else 502)
    return _json(
        status,
        ok=answer.ok,
        state=answer.state,
        message=t(
            answer.key, "en", **{k: v for k, v in answer.values.items() if k != "extensions"}
        ),
        extensions=answer.values.get("extensions", []),
    )
