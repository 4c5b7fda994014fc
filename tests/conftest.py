"""Shared fixtures: a store in a temp folder, settings for the sample files, a CLI runner."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

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
