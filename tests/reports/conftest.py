"""A small demo workspace built once per session; tests that write copy it first."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from callacct.demo.workspace import build_demo
from tests.conftest import Cli

# The demo's last day is fixed so relative periods and figures do not depend on the clock.
DEMO_END = dt.date(2026, 11, 20)
DEMO_NOW = dt.datetime(2026, 11, 21, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="session")
def demo_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("reports") / "demo"
    build_demo(root, days=3, people=40, end=DEMO_END)
    return root


@pytest.fixture(scope="session")
def demo(demo_root: Path) -> Cli:
    """A CLI on the shared demo (read-only use: runs are logged, nothing else changes)."""
    return Cli(demo_root)


@pytest.fixture
def demo_copy(demo_root: Path, tmp_path: Path) -> Cli:
    """A CLI on a private copy of the demo, for tests that change the store."""
    target = tmp_path / "ws"
    target.mkdir()
    for name in ("callacct.toml", "callacct.duckdb"):
        shutil.copy(demo_root / name, target / name)
    return Cli(target)
