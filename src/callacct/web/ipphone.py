"""The Cisco IP-phone XML service (F-LOCK-3).

CUCM's phone service URL is ``http(s)://HOST:PORT/ipps/menu/#DEVICENAME#``; the phone puts its
device name in place of the tag. Routes (the device name always in the path, so the values a
phone adds to a URL are its only query string):

- ``/ipps/menu/DEVICE``: `CiscoIPPhoneMenu` — lock, unlock, change PIN, status;
- ``/ipps/lock/DEVICE`` and ``/ipps/unlock/DEVICE``: a `CiscoIPPhoneInput` asking for the PIN
  (``NP``: digits, shown as stars); with ``?pin=`` the change, answered by `CiscoIPPhoneText`;
- ``/ipps/pin/DEVICE``: the old PIN, the new one twice; with them, the change;
- ``/ipps/status/DEVICE``: the state as `CiscoIPPhoneText`.

Texts are in the language of the phone's person (the workspace's language otherwise). Pages
that show a result are sent with ``Expires: -1`` so they leave the phone's history, and no page
is cached. A device that is not in the phone map gets a text saying so.
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

from callacct.errors import StoreError
from callacct.i18n import LANGUAGES, t
from callacct.lock.desk import Answer
from callacct.lock.devices import PhonePerson, check_device
from callacct.web import phonexml
from callacct.web.app import DESK, in_thread, phone_of

log = logging.getLogger(__name__)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/ipps/menu/{device}", menu)
    app.router.add_get("/ipps/lock/{device}", lock)
    app.router.add_get("/ipps/unlock/{device}", unlock)
    app.router.add_get("/ipps/pin/{device}", change_pin)
    app.router.add_get("/ipps/status/{device}", status)


def _xml(body: bytes, *, expires: bool = False) -> web.Response:
    headers = {"Cache-Control": "no-store"}
    if expires:
        headers["Expires"] = "-1"
    return web.Response(body=body, content_type="text/xml", charset="utf-8", headers=headers)


def _base(request: web.Request) -> str:
    configured = request.app[DESK].settings.lock.serve.public_url
    return configured or f"{request.scheme}://{request.host}"


def _language(request: web.Request, phone: PhonePerson | None) -> str:
    language = (phone.language or "") if phone is not None else ""
    language = language.split("-")[0].split("_")[0].lower()
    return language if language in LANGUAGES else request.app[DESK].settings.general.language


def _text(request: web.Request, phone: PhonePerson | None, key: str, **values: Any) -> web.Response:
    language = _language(request, phone)
    return _xml(
        phonexml.text(t("lock.menu.title", language), "", t(key, language, **values)),
        expires=True,
    )


async def _phone(request: web.Request) -> PhonePerson | web.Response:
    """The phone of the request, or the answer to give instead (unknown, busy)."""
    device = request.match_info["device"]
    try:
        check_device(device)
    except Exception:  # a name no phone has: answered like an unknown phone
        return _text(request, None, "lock.phone.unknown_device", device="?")
    phone = await phone_of(request.app, device)
    if phone is None:
        return _text(request, None, "lock.phone.unknown_device", device=device)
    return phone


async def menu(request: web.Request) -> web.Response:
    phone = await _phone(request)
    if isinstance(phone, web.Response):
        return phone
    language = _language(request, phone)
    base, device = _base(request), phone.device
    items = [
        (t("lock.menu.lock", language), f"{base}/ipps/lock/{device}"),
        (t("lock.menu.unlock", language), f"{base}/ipps/unlock/{device}"),
        (t("lock.menu.pin", language), f"{base}/ipps/pin/{device}"),
        (t("lock.menu.status", language), f"{base}/ipps/status/{device}"),
    ]
    prompt = f"{phone.extension} {phone.name}" if phone.name else t("lock.menu.prompt", language)
    return _xml(phonexml.menu(t("lock.menu.title", language), prompt, items))


async def _change(request: web.Request, action: str) -> web.Response:
    phone = await _phone(request)
    if isinstance(phone, web.Response):
        return phone
    desk = request.app[DESK]
    pin = request.query.get("pin")
    language = _language(request, phone)
    if pin is None:
        length = desk.settings.lock.pin_length
        title = t(f"lock.menu.{action}", language)
        url = f"{_base(request)}/ipps/{action}/{phone.device}"
        fields = [(t("lock.input.pin", language), "pin", "NP")]
        prompt = t("lock.input.enter_pin", language, length=length)
        return _xml(phonexml.input_form(title, prompt, url, fields), expires=True)
    return await _answer(request, phone, desk.change, phone, action, pin)


async def _answer(request: web.Request, phone: PhonePerson, work: Any, *args: Any) -> web.Response:
    try:
        answer: Answer = await in_thread(work, *args)
    except StoreError as exc:
        log.info("phone request answered 'busy': %s", exc)
        return _text(request, phone, "lock.phone.busy")
    return _text(request, phone, answer.key, **answer.values)


async def lock(request: web.Request) -> web.Response:
    return await _change(request, "lock")


async def unlock(request: web.Request) -> web.Response:
    return await _change(request, "unlock")


async def change_pin(request: web.Request) -> web.Response:
    phone = await _phone(request)
    if isinstance(phone, web.Response):
        return phone
    desk = request.app[DESK]
    query = request.query
    if not all(name in query for name in ("old", "new", "again")):
        language = _language(request, phone)
        fields = [
            (t("lock.input.old_pin", language), "old", "NP"),
            (t("lock.input.new_pin", language), "new", "NP"),
            (t("lock.input.again", language), "again", "NP"),
        ]
        url = f"{_base(request)}/ipps/pin/{phone.device}"
        form = phonexml.input_form(t("lock.menu.pin", language), "", url, fields)
        return _xml(form, expires=True)
    return await _answer(
        request, phone, desk.change_pin, phone, query["old"], query["new"], query["again"]
    )


async def status(request: web.Request) -> web.Response:
    phone = await _phone(request)
    if isinstance(phone, web.Response):
        return phone
    return await _answer(request, phone, request.app[DESK].state, phone)
