"""Every benchmark still runs (tiny sizes; figures are not checked: machines are noisy)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def quick(script: str, *args: str, data: Path | None = None) -> Any:
    """The figures `benchmarks/<script>` prints as JSON in its quick mode."""
    env = {**os.environ}
    if data is not None:
        env["CALLACCT_BENCH_DATA"] = str(data)
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), "--quick", "--json", *args],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_ingest_benchmark_reports_every_figure(tmp_path: Path) -> None:
    figures = quick("bench_ingest.py", data=tmp_path)
    assert figures["large_file"]["rows"] == 5_000
    assert figures["small_files"]["rows"] == 1_000
    assert figures["peak_rss"]["peak_rss_mb"] > 0
    assert {"ratio_to_read_csv", "reingest_s", "rows_per_s"} <= set(figures["large_file"])


def test_ingest_benchmark_runs_one_figure(tmp_path: Path) -> None:
    assert set(quick("bench_ingest.py", "--only", "small", data=tmp_path)) == {"small_files"}


def test_rating_benchmark_reports_every_figure() -> None:
    figures = quick("bench_rating.py")
    assert figures["rating"]["calls"] == 5_000
    assert figures["rating"]["matched"] == 5_000
    assert figures["rate_command"]["first_changed"] == 5_000
    assert figures["rate_command"]["rerate_changed"] == 0
    assert figures["deck_import"]["lines"] > 3_000


def test_classification_benchmark_reports_every_figure(tmp_path: Path) -> None:
    figures = quick("bench_classify.py", data=tmp_path)
    classify = figures["classification"]
    assert classify["numbers"] == 5_000
    assert classify["same_answers_on_sample"] is True
    assert {"columns_per_s", "per_number_per_s", "ratio_to_per_number"} <= set(classify)
    assert figures["first_load"]["rows"] == 5_000
    assert figures["first_load"]["peak_rss_mb"] > 0
    run = figures["first_load"]["runs"][0]
    assert run["command_cpu_s"] > 0
    assert run["read_csv_cpu_s"] > 0
    parts = figures["first_load"]["cpu_parts"]
    assert set(parts["parts_cpu_s"]) == {
        "sha256", "archive", "calls_append", "records_append", "rating"
    }  # fmt: skip
    assert all(cpu > 0 for cpu in parts["parts_cpu_s"].values())
    assert parts["floor_cpu_s"] > parts["read_csv_cpu_s"]


def test_render_benchmark_reports_every_figure() -> None:
    figures = quick("bench_render.py")
    assert figures["xlsx"]["rows"] == 500
    assert figures["pdf"]["rows"] == 500
    for fmt in ("xlsx", "pdf", "html"):
        assert figures[fmt]["seconds"] > 0
        assert figures[fmt]["peak_rss_mb"] > 0
        assert figures[fmt]["cpu_seconds"] > 0
        assert figures[fmt]["ratio_to_csv"] > 0


def test_report_benchmark_reports_every_figure() -> None:
    figures = quick("bench_reports.py")
    assert figures["calls"] == 20_000
    assert figures["baseline_group_by_s"] > 0
    assert len(figures["reports"]) >= 10
    for item in figures["reports"].values():
        assert {"admin_s", "ratio_to_group_by", "supervisor_s", "rows", "within_1s"} <= set(item)
        assert item["rows"] > 0


def test_lock_benchmark_reports_every_figure() -> None:
    figures = quick("bench_lock.py")
    lock = figures["lock_department"]
    assert (lock["lines"], lock["changed"], lock["failed"], lock["drift_after"]) == (50, 50, 0, 0)
    assert lock["axl_requests"] >= 100
    assert lock["ratio_to_bare_requests"] > 0
    menu = figures["phone_menu"]
    assert menu["requests"] == 200
    assert {"p50_ms", "p99_ms", "baseline_p99_ms", "ratio_p99_to_baseline"} <= set(menu)


def test_delivery_benchmark_reports_every_figure() -> None:
    figures = quick("bench_delivery.py")
    assert figures["supervisors"] == 20
    assert figures["received"] == 20
    assert figures["deliver_lines"] == [
        "schedule bench-weekly 2026-W48: 20 sent, 0 skipped (empty), 0 failed"
    ]
    assert figures["deliver_peak_mb"] > 0
    assert {"baseline_s", "deliver_s", "ratio"} <= set(figures)


def test_alarm_benchmark_reports_every_figure() -> None:
    figures = quick("bench_alarms.py")
    assert figures["new_calls"] == 20_000
    assert set(figures["kinds"]) == {
        "out-of-hours", "forbidden-numbers", "spend-above", "missed-calls", "international",
        "dead-feed", "unknown-destinations", "undefined-extensions",
    }  # fmt: skip
    assert {"seconds", "ratio_to_group_by", "within_1s", "fired"} <= set(figures["all_eight"])
    assert figures["kinds"]["international"]["found"] > 0


def test_budget_benchmark_reports_every_figure() -> None:
    figures = quick("bench_budgets.py")["evaluation"]
    assert figures["budgets"] == 500
    assert figures["calls"] == 22_000
    assert {"evaluate_s", "rerun_s", "group_by_s", "ratio_to_group_by"} <= set(figures)
    assert sum(n["warned"] + n["locked"] for n in figures["after_ingest"]) > 0
