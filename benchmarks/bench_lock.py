"""Phone lock benchmark: prints figures and their ratio to a baseline of the same run.

    python benchmarks/bench_lock.py            # 1,000 lines; 15 s of phone requests
    python benchmarks/bench_lock.py --quick    # 50 lines; 2 s, to check it still runs
    python benchmarks/bench_lock.py --json

1. `lock on` for the 1,000 extensions of a department (`LockService.lock(department=...)`,
   the call `callacct lock on --department D` makes) against the AXL stand-in running as
   `callacct lock stand-in` in its own process, with CUCM-like write throttling (a queue of
   100 outstanding writes that drains 100 a second; a write beyond it gets HTTP 503, which
   callacct retries after a back-off) and `lock.axl.concurrency` requests in flight. Each
   line is a getLine and an updateLine. Baseline: the same number of bare getLine requests
   sent by one aiohttp session at the same concurrency to the same stand-in. Target ≤ 30 s.
2. `lock serve` answering phone menu requests (`GET /ipps/menu/DEVICE` for 1,000 known
   phones) at 100 requests a second, open loop over 4 keep-alive connections, latency taken
   from when each request was due; the server runs as `callacct lock serve` in its own
   process. Baseline: a bare aiohttp handler answering a fixed text, in its own process,
   under the same load. Target p99 ≤ 20 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from callacct.config import Settings, open_workspace, write_default_settings
from callacct.directory import import_directory_csv
from callacct.lock import Actor, LockService
from callacct.lock.axl_soap import envelope, get_line_request, soap_action
from callacct.lock.backends import LockBackend, make_backend
from callacct.lock.devices import set_device
from callacct.lock.records import now_utc
from callacct.store import open_store

PASSWORD = "bench-axl-password"  # the stand-in's throw-away credential
FIRST = 5000


def build_workspace(root: Path, lines: int, axl_url: str, concurrency: int) -> Path:
    """A workspace with `lines` people of department Bench (extensions 5000...), a phone
    each, the AXL backend pointed at the stand-in."""
    settings = Settings.model_validate(
        {
            "dialplan": {"extension_pattern": r"^\d{4}$"},
            "lock": {
                "backend": "cucm-axl",
                "axl": {
                    "url": axl_url,
                    "user": "axladmin",
                    "partition": "PT_Internal",
                    "concurrency": concurrency,
                },
            },
        }
    )
    write_default_settings(root, settings)
    people = root / "people.csv"
    rows = ["login,name,role,department,extension,language"]
    rows += [f"u{n},User {n},user,Bench,{n},en" for n in range(FIRST, FIRST + lines)]
    people.write_text("\n".join(rows) + "\n", encoding="utf-8")
    store = open_store(root / "callacct.duckdb")
    try:
        import_directory_csv(store.con, people, settings)
        with store.transaction() as con:
            for n in range(FIRST, FIRST + lines):
                set_device(con, f"SEP{n:012X}", str(n), now=now_utc())
    finally:
        store.close()
    return root


@contextmanager
def child(args: list[str], pattern: str, env: dict[str, str] | None = None) -> Iterator[int]:
    """Run `args` in its own process until the block ends; the port it says it listens on."""
    process = subprocess.Popen(
        args, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env
    )
    try:
        assert process.stderr is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = process.stderr.readline()
            found = re.search(pattern, line)
            if found:
                yield int(found[1])
                return
            if not line and process.poll() is not None:
                break
        raise RuntimeError(f"{args[:4]} did not start")
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()


def callacct(*args: str) -> list[str]:
    return [sys.executable, "-m", "callacct", *args]


async def bare_requests(url: str, count: int, concurrency: int) -> float:
    """Seconds for `count` getLine requests over one session, `concurrency` at a time."""
    auth = "Basic " + base64.b64encode(f"axladmin:{PASSWORD}".encode()).decode()
    headers = {
        "Content-Type": "text/xml; charset=utf-8",
        "SOAPAction": soap_action("14.0", "getLine"),
        "Authorization": auth,
    }
    gate = asyncio.Semaphore(concurrency)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one(n: int) -> None:
            body = envelope("14.0", "getLine", get_line_request(str(FIRST + n), "PT_Internal"))
            async with gate, session.post(url, data=body, headers=headers) as response:
                await response.read()

        began = time.perf_counter()
        await asyncio.gather(*(one(n % 1000) for n in range(count)))
        return time.perf_counter() - began


def lock_department(lines: int, concurrency: int) -> dict[str, Any]:
    env = {**os.environ, "CALLACCT_AXL_PASSWORD": PASSWORD}
    standin = callacct(
        "lock", "stand-in", "--port", "0", "--lines", f"{FIRST}-{FIRST + lines - 1}",
        "--throttle-queue", "100", "--throttle-drain", "100",
    )  # fmt: skip
    with child(standin, r"127\.0\.0\.1:(\d+)/axl/", env) as port:
        url = f"http://127.0.0.1:{port}/axl/"
        folder = Path(tempfile.mkdtemp(prefix="bench-lock-"))
        try:
            root = build_workspace(folder / "ws", lines, url, concurrency)
            workspace = open_workspace(root)
            backends: list[LockBackend] = []

            def factory(name: str) -> LockBackend:
                backend = make_backend(name, workspace.settings, env=env)
                backends.append(backend)
                return backend

            store = open_store(workspace.store_path)
            try:
                service = LockService(
                    store, workspace.settings, Actor.operator(workspace.settings),
                    backends=factory,
                )  # fmt: skip
                began = time.perf_counter()
                report = service.lock(department="Bench", kind="admin", reason="bench")
                seconds = time.perf_counter() - began
                drift = len(service.sync(department="Bench").drift)
            finally:
                store.close()
            baseline = asyncio.run(bare_requests(url, 2 * lines, concurrency))
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    axl = backends[0]
    return {
        "lines": lines,
        "concurrency": concurrency,
        "seconds": seconds,
        "lines_per_s": lines / seconds,
        "changed": report.counts()["changed"],
        "failed": report.counts()["failed"],
        "axl_requests": getattr(axl, "requests", 0),
        "throttled_503_retried": getattr(axl, "throttled", 0),
        "drift_after": drift,
        "baseline_bare_requests_s": baseline,
        "ratio_to_bare_requests": seconds / baseline,
        "within_30s": seconds <= 30,
    }


async def open_loop(url: str, paths: list[str], rate: float, seconds: float) -> list[float]:
    """Latencies (ms) of requests sent at `rate` a second for `seconds`, each measured from
    when it was due; 4 keep-alive connections."""
    connector = aiohttp.TCPConnector(limit=4)
    latencies: list[float] = []
    async with aiohttp.ClientSession(connector=connector) as session:
        for _ in range(20):  # warm up the connections
            async with session.get(url + paths[0]) as response:
                await response.read()

        async def one(path: str, due: float) -> None:
            async with session.get(url + path) as response:
                await response.read()
                assert response.status == 200
            latencies.append((time.perf_counter() - due) * 1000)

        tasks = []
        start = time.perf_counter() + 0.05
        for n in range(int(rate * seconds)):
            due = start + n / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(paths[n % len(paths)], due)))
        await asyncio.gather(*tasks)
    return latencies


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def hello_child() -> None:
    """The baseline server: a bare aiohttp handler with a fixed text."""

    async def hello(request: web.Request) -> web.Response:
        return web.Response(text="hello")

    app = web.Application()
    app.router.add_get("/{tail:.*}", hello)
    from callacct.web.runner import serve_forever

    serve_forever(
        app, "127.0.0.1", 0, on_start=lambda port: print(f"hello on :{port}", file=sys.stderr,
                                                          flush=True),
    )  # fmt: skip


def phone_menus(seconds: float) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="bench-serve-"))
    try:
        root = build_workspace(folder / "ws", 1000, "http://127.0.0.1:9/axl/", 4)
        paths = [f"/ipps/menu/SEP{n:012X}" for n in range(FIRST, FIRST + 1000)]
        serve = callacct("-w", str(root), "lock", "serve", "--port", "0")
        with child(serve, r"127\.0\.0\.1:(\d+)/ipps") as port:
            menus = asyncio.run(open_loop(f"http://127.0.0.1:{port}", paths, 100, seconds))
        with child([sys.executable, __file__, "--hello-child"], r"hello on :(\d+)") as port:
            hello = asyncio.run(open_loop(f"http://127.0.0.1:{port}", paths, 100, seconds))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    p99, base99 = percentile(menus, 0.99), percentile(hello, 0.99)
    return {
        "requests": len(menus),
        "rate_per_s": 100,
        "p50_ms": statistics.median(menus),
        "p99_ms": p99,
        "max_ms": max(menus),
        "baseline_p50_ms": statistics.median(hello),
        "baseline_p99_ms": base99,
        "ratio_p99_to_baseline": p99 / base99,
        "within_20ms_p99": p99 <= 20,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--concurrency", type=int, default=4, help="lock.axl.concurrency")
    parser.add_argument("--hello-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.hello_child:
        hello_child()
        return
    figures = {
        "lock_department": lock_department(50 if args.quick else 1000, args.concurrency),
        "phone_menu": phone_menus(2.0 if args.quick else 15.0),
    }
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    lock, menu = figures["lock_department"], figures["phone_menu"]
    print(
        f"lock on, {lock['lines']:,} lines (concurrency {lock['concurrency']}): "
        f"{lock['seconds']:.2f} s = {lock['lines_per_s']:.0f} lines/s, "
        f"{lock['changed']:,} changed, {lock['throttled_503_retried']} answers 503 retried, "
        f"{lock['axl_requests']:,} AXL requests; bare requests "
        f"{lock['baseline_bare_requests_s']:.2f} s -> {lock['ratio_to_bare_requests']:.2f}x; "
        f"drift after: {lock['drift_after']}"
    )
    print(
        f"phone menu at 100/s, {menu['requests']:,} requests: p50 {menu['p50_ms']:.2f} ms, "
        f"p99 {menu['p99_ms']:.2f} ms (max {menu['max_ms']:.1f}); bare aiohttp handler "
        f"p50 {menu['baseline_p50_ms']:.2f} ms, p99 {menu['baseline_p99_ms']:.2f} ms "
        f"-> p99 {menu['ratio_p99_to_baseline']:.2f}x"
    )
    print("targets: lock on 1,000 lines <= 30 s; phone menu p99 <= 20 ms at 100 requests/s")


if __name__ == "__main__":
    main()
