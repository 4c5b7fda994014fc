"""The report benchmark still runs (tiny sizes; figures are not checked: machines are noisy)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_report_benchmark_runs_and_reports_every_figure() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_reports.py"), "--quick", "--json"],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert figures["calls"] == 20_000
    assert figures["baseline_group_by_s"] > 0
    assert len(figures["reports"]) >= 10
    for item in figures["reports"].values():
        assert {"admin_s", "ratio_to_group_by", "supervisor_s", "rows", "within_1s"} <= set(item)
        assert item["rows"] > 0
