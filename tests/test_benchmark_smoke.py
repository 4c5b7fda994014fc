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
