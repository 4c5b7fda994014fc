"""`callacct lock serve`: one aiohttp application for the IP-phone service and workstation
hooks (later the portal, gadgets and CURRI), on the configured address and port, HTTPS when a
certificate is configured.

The store is never held between requests: a request that reads or writes opens it for that
moment (waiting at most `lock.serve.store_timeout_s`, then the phone is told to try again),
one at a time in this process, so cron's ingest never waits for the service for longer than a
request. The phone-to-person map that every menu needs is kept in memory for
`lock.serve.cache_s` seconds (and kept when the store is busy), so menus are answered without
opening the store. The access log never shows query strings: the phones send PINs in them.
"""

from __future__ import annotations

import asyncio
import logging
import re
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from callacct.config import Settings, WorkspaceFiles
from callacct.errors import ConfigError, StoreBusyError, StoreError
from callacct.lock.desk import Desk
from callacct.lock.devices import PhonePerson
from callacct.lock.service import BackendFactory
from callacct.store import Store, open_store
from callacct.web.runner import serve_forever

log = logging.getLogger(__name__)
T = TypeVar("T")


class AccessLog(AbstractAccessLogger):
    """Method, path (never the query string: PINs), status and time of each request."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info(
            "%s %s %s %d %.1f ms",
            request.remote,
            request.method,
            request.path,
            response.status,
            time * 1000,
        )


_QUERY = re.compile(r"\?[^\s'\")]*")


class NoQueryStrings(logging.Filter):
    """Takes query strings (PINs) out of aiohttp's server log: a request it cannot read (a
    request line too long) is logged with the line it read, query string included."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = _QUERY.sub("?…", str(record.msg))
        if record.args:
            record.args = tuple(
                _QUERY.sub("?…", arg) if isinstance(arg, str) else arg
                for arg in (record.args if isinstance(record.args, tuple) else (record.args,))
            )
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            record.msg = f"{record.msg}: {type(error).__name__}: " + _QUERY.sub(
                "?…", str(error).splitlines()[0] if str(error) else ""
            )
            record.exc_info = None
            record.exc_text = None
        return True


def _quiet_query_strings() -> None:
    for name in ("aiohttp.server", "aiohttp.web", "aiohttp.access"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, NoQueryStrings) for f in logger.filters):
            logger.addFilter(NoQueryStrings())


class WorkspaceStores:
    """Opens the workspace's store for one request: read-only to read, for writing to write,
    one at a time (DuckDB refuses two openings of one file with different modes in a process),
    waiting at most `timeout_s` for another process."""

    def __init__(self, workspace: WorkspaceFiles, timeout_s: float) -> None:
        self.workspace = workspace
        self.timeout_s = timeout_s
        self._one = threading.Lock()

    @contextmanager
    def __call__(self, *, write: bool = False) -> Iterator[Store]:
        with self._one:
            store = open_store(
                self.workspace.store_path,
                lock_timeout_s=self.timeout_s,
                memory_limit=self.workspace.settings.store.memory_limit,
                read_only=not write,
            )
            try:
                yield store
            finally:
                store.close()


@dataclass
class ServeState:
    """The phone map cache: device -> person, reloaded at most every `ttl` seconds."""

    ttl: float
    phones: dict[str, PhonePerson] = field(default_factory=dict)
    loaded_at: float = float("-inf")
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def fresh(self) -> bool:
        return time.monotonic() - self.loaded_at < self.ttl


DESK: web.AppKey[Desk] = web.AppKey("desk", Desk)
STATE: web.AppKey[ServeState] = web.AppKey("state", ServeState)


async def in_thread(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run blocking work (the store, the phone system) off the event loop."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(None, partial(function, *args, **kwargs))


async def phone_of(app: web.Application, device: str) -> PhonePerson | None:
    """The phone's entry, from the cache (reloaded when stale; kept if the store is busy)."""
    state, desk = app[STATE], app[DESK]
    if not state.fresh():
        async with state.lock:
            if not state.fresh():
                try:
                    state.phones = await in_thread(desk.phones)
                    state.loaded_at = time.monotonic()
                except StoreError as exc:
                    log.info("phone map not reloaded (%s); the previous one is used", exc)
    return state.phones.get(device)


def make_app(
    workspace: WorkspaceFiles,
    *,
    env: Mapping[str, str] | None = None,
    backends: BackendFactory | None = None,
) -> web.Application:
    """The application: IP-phone routes under /ipps/, the workstation hook under
    /workstation/, and /health."""
    from callacct.web import ipphone, workstation

    settings = workspace.settings.lock.serve
    _quiet_query_strings()
    app = web.Application(client_max_size=settings.max_request_bytes)
    stores = WorkspaceStores(workspace, settings.store_timeout_s)
    app[DESK] = Desk(stores, workspace.settings, root=workspace.root, env=env, backends=backends)
    app[STATE] = ServeState(ttl=settings.cache_s)
    ipphone.add_routes(app)
    workstation.add_routes(app)
    app.router.add_get("/health", _health)
    return app


async def _health(request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


def handler_args(settings: Settings) -> dict[str, Any]:
    """Request limits for the server: request line and header sizes."""
    limit = settings.lock.serve.max_request_bytes
    return {
        "access_log_class": AccessLog,
        "max_line_size": limit,
        "max_field_size": limit,
        "keepalive_timeout": 120.0,
    }


def server_tls(workspace: WorkspaceFiles) -> ssl.SSLContext | None:
    """The HTTPS context of `lock.serve.tls_cert`/`tls_key`, or None for plain HTTP."""
    serve = workspace.settings.lock.serve
    if not serve.tls_cert:
        return None
    cert, key = (
        Path(p) if Path(p).is_absolute() else workspace.root / p
        for p in (serve.tls_cert, serve.tls_key)
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(str(cert), str(key))
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(
            f"{cert}: cannot load it with its key {key} ({exc}); check lock.serve.tls_cert "
            "and lock.serve.tls_key"
        ) from None
    return context


def busy_error(exc: BaseException) -> bool:
    """Whether `exc` means "the store is held by another process right now"."""
    return isinstance(exc, StoreBusyError)


def serve(
    workspace: WorkspaceFiles,
    *,
    address: str | None = None,
    port: int | None = None,
    run_for: float | None = None,
    on_start: Callable[[int], None] | None = None,
) -> None:
    """Serve until interrupted (or for `run_for` seconds) on the configured address and port
    (or those given); `on_start(port)` once listening."""
    settings = workspace.settings
    app = make_app(workspace)
    serve_forever(
        app,
        address or settings.lock.serve.address,
        settings.lock.serve.port if port is None else port,
        server_tls(workspace),
        run_for=run_for,
        on_start=on_start,
        **handler_args(settings),
    )


def check_serve(workspace: WorkspaceFiles) -> dict[str, Any]:
    """What `lock serve --check` reports: the TLS files load, the store opens, how many phones
    and workstations are known."""
    tls = server_tls(workspace)
    stores = WorkspaceStores(workspace, workspace.settings.store.lock_timeout_s)
    with stores(write=False) as store:
        phones = store.con.execute("SELECT count(*) FROM lock_devices").fetchall()[0][0]
        machines = store.con.execute("SELECT count(*) FROM lock_workstations").fetchall()[0][0]
    serve = workspace.settings.lock.serve
    return {
        "address": serve.address,
        "port": serve.port,
        "https": tls is not None,
        "phones": int(phones),
        "workstations": int(machines),
    }
