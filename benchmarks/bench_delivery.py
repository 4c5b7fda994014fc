"""E-mail delivery benchmark: prints figures and their ratio to a baseline of the same run.

    python benchmarks/bench_delivery.py            # 1,000 supervisors
    python benchmarks/bench_delivery.py --quick    # 20 supervisors, to check it still runs
    python benchmarks/bench_delivery.py --json

`schedule run-due` with 1,000 due per-supervisor deliveries: a weekly schedule of the
`user-bill` report, xlsx, `--to-supervisors`, in a workspace of 1,000 departments each with a
supervisor and two users (3,000 people, 10 calls a department in the week). Each delivery is
a report run within that supervisor's scope, rendered, and sent to an SMTP server (aiosmtpd)
on 127.0.0.1 running in its own process, which counts what it receives. Measured in a fresh
process: wall time and peak RSS (the process's VmHWM). Baseline, in another fresh process:
the same 1,000 scoped report runs rendered to xlsx in a loop in one process, with no e-mail,
no bookkeeping. CPU time includes the worker processes that prepare the reports
(`delivery.workers`); peak RSS is given for the process and for each worker. Target: ≤ 60 s
and ≤ 400 MB peak on 2 cores.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

DUE = dt.datetime(2026, 11, 30, 6, 0, tzinfo=dt.UTC)  # Monday 07:00 in Paris
WEEK = dt.datetime(2026, 11, 23, 8, 0)  # naive UTC, Monday of the week the run covers


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def serve(port: int) -> None:
    """The SMTP server process: counts messages; prints the count when terminated."""
    from aiosmtpd.controller import Controller

    class Counter:
        received = 0
        size = 0

        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            Counter.received += 1
            Counter.size += len(envelope.original_content or b"")
            return "250 OK"

    controller = Controller(Counter(), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    stopped = False

    def stop(_signal: int, _frame: object) -> None:
        nonlocal stopped
        stopped = True

    signal.signal(signal.SIGTERM, stop)
    while not stopped:
        time.sleep(0.1)
    controller.stop()
    print(json.dumps({"received": Counter.received, "bytes": Counter.size}), flush=True)


def build(root: Path, supervisors: int, port: int) -> None:
    """The workspace: people, calls (attributed and rated), the schedule."""
    import polars as pl

    from callacct import Workspace
    from callacct.config import Settings
    from callacct.store import open_store

    settings = Settings.model_validate(
        {
            "general": {"country": "FR", "timezone": "Europe/Paris", "currency": "EUR"},
            "dialplan": {"access_codes": ["0"], "extension_pattern": r"^\d{5}$"},
            "delivery": {
                "smtp": {"host": "127.0.0.1", "port": port, "security": "plain",
                         "from_address": "callacct@example.com"},
            },
        }
    )  # fmt: skip
    ws = Workspace.create(root, settings=settings)
    lines = ["login,name,email,language,role,department,cost_center,site,extension,manager,scope"]
    rows: list[dict[str, Any]] = []
    languages = ("en", "fr", "de", "es", "it", "ar")
    for d in range(supervisors):
        dept = f"D{d:04d}"
        lang = languages[d % len(languages)]
        boss = f"s{d:04d}"
        lines.append(f"{boss},Sup {d},{boss}@example.com,{lang},supervisor,{dept},CC{d},PAR,"
                     f"{10000 + 3 * d},,")  # fmt: skip
        for u in (1, 2):
            login = f"u{d:04d}{u}"
            ext = str(10000 + 3 * d + u)
            lines.append(f"{login},User {d}-{u},{login}@example.com,{lang},user,{dept},CC{d},"
                         f"PAR,{ext},{boss},")  # fmt: skip
            for c in range(5):
                call_id = len(rows) + 1
                rows.append({
                    "call_id": call_id, "source": "bench", "file_id": 0, "line_no": call_id,
                    "started_at": WEEK + dt.timedelta(days=c, minutes=d % 600),
                    "duration_s": 30 + 7 * c, "direction": "outgoing", "answered": True,
                    "disposition": "answered", "calling_number": ext,
                    "called_number": f"0{612000000 + call_id}",
                    "final_number": f"0{612000000 + call_id}",
                    "remote_number": f"+33{612000000 + call_id}", "extension": ext,
                    "peer_extension": None, "transfer": False, "forward": False,
                    "conference": False,
                })  # fmt: skip
    frame = pl.DataFrame(rows)
    store = open_store(ws.store_path)
    try:
        columns = ", ".join(frame.columns)
        store.con.register("bench_calls", frame.to_arrow())
        store.con.execute(f"INSERT INTO calls ({columns}) SELECT {columns} FROM bench_calls")
    finally:
        store.close()
    people = root / "people.csv"
    people.write_text("\n".join(lines) + "\n", encoding="utf-8")
    ws.directory_import(people, as_of="2026-01-01")
    ws.rate()
    ws.add_schedule(
        "bench-weekly",
        report="user-bill",
        every="week",
        on="mon",
        format="xlsx",
        recipients="supervisors",
        now=DUE - dt.timedelta(days=1),
    )


def _peak_mb() -> float:
    """Peak RSS of this process (VmHWM), MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def phase(root: Path, which: str) -> None:
    """One measured phase in this (fresh) process; prints JSON."""
    from callacct import Workspace
    from callacct.delivery.schedules import run_due
    from callacct.outcomes import lines_of

    ws = Workspace.open(root)
    started, cpu = time.perf_counter(), time.process_time()
    if which == "deliver":
        detail: Any = lines_of(run_due(ws, DUE))
    else:
        from zoneinfo import ZoneInfo

        from callacct.api.mailing import report_file
        from callacct.delivery.timing import Frequency

        filters = Frequency.parse("week").period(DUE, ZoneInfo("Europe/Paris")).filters()
        sizes = 0
        with ws.holding():
            for person in ws.people():
                if person["role"] != "supervisor":
                    continue
                result = ws.as_person(person["login"]).run_report(
                    "user-bill", filters, tz="Europe/Paris", record=False, now=DUE
                )
                sizes += len(report_file(result, "xlsx").content)
        detail = sizes
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    # Worker processes (reaped by now) count too: their CPU time, and their peak RSS.
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(json.dumps({
        "seconds": seconds,
        "cpu_s": cpu + children.ru_utime + children.ru_stime,
        "peak_mb": _peak_mb(),
        "worker_peak_mb": children.ru_maxrss / 1024,
        "detail": detail,
    }))  # fmt: skip


def _child(*args: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, *args], capture_output=True, text=True, check=True
    ).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="20 supervisors")
    parser.add_argument("--supervisors", type=int, default=1000)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("--root", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return
    if args.phase:
        phase(args.root, args.phase)
        return
    count = 20 if args.quick else args.supervisors
    folder = Path(tempfile.mkdtemp(prefix="callacct-bench-delivery-"))
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(port)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        assert server.stdout.readline().strip() == "ready"
        built = time.perf_counter()
        build(folder / "ws", count, port)
        build_s = time.perf_counter() - built
        baseline = _child("--phase", "baseline", "--root", str(folder / "ws"))
        deliver = _child("--phase", "deliver", "--root", str(folder / "ws"))
    finally:
        server.send_signal(signal.SIGTERM)
        out, _ = server.communicate(timeout=60)
        shutil.rmtree(folder, ignore_errors=True)
    counted = json.loads(out.strip().splitlines()[-1])
    figures = {
        "supervisors": count,
        "build_s": round(build_s, 1),
        "deliver_s": round(deliver["seconds"], 2),
        "deliver_cpu_s": round(deliver["cpu_s"], 2),
        "deliver_peak_mb": round(deliver["peak_mb"]),
        "deliver_worker_peak_mb": round(deliver["worker_peak_mb"]),
        "deliver_lines": deliver["detail"],
        "received": counted["received"],
        "received_mb": round(counted["bytes"] / 1e6, 1),
        "baseline_s": round(baseline["seconds"], 2),
        "baseline_cpu_s": round(baseline["cpu_s"], 2),
        "baseline_peak_mb": round(baseline["peak_mb"]),
        "ratio": round(deliver["seconds"] / baseline["seconds"], 2),
        "cpu_ratio": round(deliver["cpu_s"] / baseline["cpu_s"], 2),
        "load_average": os.getloadavg()[0],
    }
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print(f"run-due, {count:,} per-supervisor deliveries (xlsx, SMTP on 127.0.0.1):")
    print(f"  {figures['deliver_s']} s ({figures['deliver_cpu_s']} s CPU), "
          f"peak RSS {figures['deliver_peak_mb']} MB "
          f"(each worker process: {figures['deliver_worker_peak_mb']} MB), "
          f"{figures['received']:,} messages received ({figures['received_mb']} MB)")  # fmt: skip
    print(f"  baseline (the same {count:,} scoped report runs rendered, no e-mail): "
          f"{figures['baseline_s']} s ({figures['baseline_cpu_s']} s CPU), "
          f"peak RSS {figures['baseline_peak_mb']} MB")  # fmt: skip
    print(f"  ratio {figures['ratio']}x (CPU {figures['cpu_ratio']}x); "
          "targets <= 60 s, <= 400 MB peak "
          f"(load average at the end {figures['load_average']:.1f})")  # fmt: skip


if __name__ == "__main__":
    main()
