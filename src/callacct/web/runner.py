"""Run an aiohttp application: in the foreground until interrupted (commands), or in a thread
on a port of its own (tests, benchmarks, the demo's AXL stand-in).

Example:
    >>> from aiohttp import web
    >>> app = web.Application()
    >>> with ServerThread(app) as server:
    ...     server.url.startswith("http://127.0.0.1:")
    True
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import ssl
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Any

from aiohttp import web


async def start_site(
    app: web.Application,
    host: str,
    port: int,
    tls: ssl.SSLContext | None,
    **handler_args: Any,
) -> tuple[web.AppRunner, int]:
    """Start `app` listening on host:port (0: any free port); the runner and the port."""
    runner = web.AppRunner(app, handle_signals=False, **handler_args)
    await runner.setup()
    site = web.TCPSite(runner, host, port, ssl_context=tls, reuse_address=True)
    await site.start()
    addresses = runner.addresses
    return runner, int(addresses[0][1]) if addresses else port


def serve_forever(
    app: web.Application,
    host: str,
    port: int,
    tls: ssl.SSLContext | None = None,
    *,
    run_for: float | None = None,
    on_start: Callable[[int], None] | None = None,
    **handler_args: Any,
) -> None:
    """Serve `app` until SIGINT/SIGTERM (or for `run_for` seconds); `on_start(port)` once
    listening."""

    async def main() -> None:
        runner, bound = await start_site(app, host, port, tls, **handler_args)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, stop.set)
        if on_start is not None:
            on_start(bound)
        try:
            if run_for is None:
                await stop.wait()
            else:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), run_for)
        finally:
            await runner.cleanup()

    asyncio.run(main())


class ServerThread:
    """`app` served from a thread of its own on 127.0.0.1 (a free port unless given)."""

    def __init__(
        self,
        app: web.Application,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        tls: ssl.SSLContext | None = None,
        **handler_args: Any,
    ) -> None:
        self.app, self.host, self.tls = app, host, tls
        self.port = port
        self._handler_args = handler_args
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        scheme = "https" if self.tls is not None else "http"
        return f"{scheme}://{self.host}:{self.port}"

    def start(self) -> ServerThread:
        self._thread = threading.Thread(target=self._run, name="callacct-http", daemon=True)
        self._thread.start()
        self._ready.wait(30)
        if self._error is not None:
            raise self._error
        return self

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            self._runner, self.port = loop.run_until_complete(
                start_site(self.app, self.host, self.port, self.tls, **self._handler_args)
            )
        except BaseException as exc:  # reported to the thread that started it
            self._error = exc
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        loop.run_forever()
        loop.run_until_complete(self._runner.cleanup())
        loop.close()

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(30)

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
