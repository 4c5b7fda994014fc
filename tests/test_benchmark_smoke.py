"""The ingest benchmark still runs (tiny sizes; figures are not checked: machines are noisy)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_benchmark_runs_and_reports_every_figure(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_ingest.py"), "--quick", "--json"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "CALLACCT_BENCH_DATA": str(tmp_path)},
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert figures["large_file"]["rows"] == 5_000
    assert figures["small_files"]["rows"] == 1_000
    assert figures["peak_rss"]["peak_rss_mb"] > 0
    assert {"ratio_to_read_csv", "reingest_s", "rows_per_s"} <= set(figures["large_file"])


def test_rating_benchmark_runs_and_reports_every_figure() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_rating.py"), "--quick", "--json"],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert figures["rating"]["calls"] == 5_000
    assert figures["rating"]["matched"] == 5_000
    assert figures["rate_command"]["first_changed"] == 5_000
    assert figures["rate_command"]["rerate_changed"] == 0
    assert figures["deck_import"]["lines"] > 3_000


def test_render_benchmark_runs_and_reports_every_figure() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_render.py"), "--quick", "--json"],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert figures["xlsx"]["rows"] == 500
    assert figures["pdf"]["rows"] == 500
    for fmt in ("xlsx", "pdf", "html"):
        assert figures[fmt]["seconds"] > 0
        assert figures[fmt]["peak_rss_mb"] > 0
        assert figures[fmt]["cpu_seconds"] > 0
        assert figures[fmt]["ratio_to_csv"] > 0


def test_benchmark_runs_one_figure(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "bench_ingest.py"),
            "--quick",
            "--json",
            "--only",
            "small",
        ],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "CALLACCT_BENCH_DATA": str(tmp_path)},
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert set(json.loads(result.stdout)) == {"small_files"}
