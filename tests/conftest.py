"""Shared fixtures: a store in a temp folder, settings for the sample files, a CLI runner."""

from __future__ import annotations

import importlib
import json
import os
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

# Test worker processes (pytest-xdist) are given COLUMNS=80; the command line's console then
# wraps its tables at 80 columns where a plain run prints them at its 160-column default.
os.environ.pop("COLUMNS", None)
os.environ.pop("LINES", None)

from callacct import registry
from callacct.cli import app
from callacct.config import Settings
from callacct.store import Store, open_store

DATA = Path(__file__).parent / "data"
CUCM = DATA / "cucm"
DENIKOND = CUCM / "denikond_CUCM_CDR"
SIETE = CUCM / "sieteunoseis_cisco-cucm-cdr"


@pytest.fixture
def settings() -> Settings:
    """Settings matching the sample cluster (outside line 0, 4-digit extensions)."""
    return Settings.model_validate(
        {
            "general": {"country": "RU", "timezone": "Europe/Moscow", "currency": "RUB"},
            "dialplan": {"access_codes": ["0"], "extension_pattern": r"^\d{4}$"},
        }
    )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(tmp_path / "callacct.duckdb")
    yield s
    s.close()


@pytest.fixture
def cucm_files(tmp_path: Path) -> Path:
    """A writable copy of the real CUCM sample files."""
    target = tmp_path / "cdr"
    target.mkdir()
    for folder in (DENIKOND, SIETE):
        for path in folder.iterdir():
            (target / path.name).write_bytes(path.read_bytes())
    return target


class Cli:
    """Runs `callacct` in-process against one workspace."""

    def __init__(self, workspace: Path) -> None:
        self.workspace = workspace
        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | None = None) -> Any:
        return self.runner.invoke(app, ["--workspace", str(self.workspace), *args], input=input)

    def json(self, *args: str, code: int = 0) -> Any:
        result = self(*args, "--json")
        assert result.exit_code == code, result.output
        return json.loads(result.stdout)


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    """A CLI bound to a fresh workspace set up like the sample cluster."""
    workspace = tmp_path / "ws"
    result = CliRunner().invoke(
        app,
        [
            "init",
            str(workspace),
            "--country",
            "RU",
            "--timezone",
            "Europe/Moscow",
            "--currency",
            "RUB",
            "--access-code",
            "0",
        ],
    )
    assert result.exit_code == 0, result.output
    return Cli(workspace)


class Plugins:
    """Installs fake packages into this process: a `NAME-1.0.dist-info` folder with its
    `entry_points.txt`, and the package's files, on `sys.path` (as an installed package is)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def install(
        self, name: str, entry_points: dict[str, dict[str, str]], files: dict[str, str]
    ) -> None:
        dist = self.folder / f"{name}-1.0.dist-info"
        dist.mkdir(parents=True)
        (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
        lines: list[str] = []
        for group, entries in entry_points.items():
            lines += [f"[{group}]", *(f"{key} = {value}" for key, value in entries.items()), ""]
        (dist / "entry_points.txt").write_text("\n".join(lines))
        for file, text in files.items():
            (self.folder / file).write_text(textwrap.dedent(text), encoding="utf-8")
        importlib.invalidate_caches()
        registry.refresh()


@pytest.fixture
def plugins(tmp_path: Path) -> Iterator[Plugins]:
    """Fake installed packages, gone again after the test (path, modules, registries)."""
    folder = tmp_path / "site-packages"
    folder.mkdir()
    path, modules = list(sys.path), set(sys.modules)
    sys.path.insert(0, str(folder))
    try:
        yield Plugins(folder)
    finally:
        sys.path[:] = path
        for name in set(sys.modules) - modules:
            if getattr(sys.modules[name], "__file__", "") and str(folder) in str(
                sys.modules[name].__file__
            ):
                del sys.modules[name]
        registry.refresh()
