"""A command loads its own module when it is looked up, not every command's; the process ends
without a last collection of every object."""

from __future__ import annotations

import gc
import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from callacct.cli import app
from callacct.cli._app import COMMAND_MODULES
from tests.conftest import DENIKOND

CLI_MODULES = sorted(set(COMMAND_MODULES.values()))


def _module_of(command: typer.core.TyperCommand | typer.core.TyperGroup) -> str:
    if isinstance(command, typer.core.TyperGroup):
        command = next(iter(command.commands.values()))
    assert command.callback is not None
    return str(command.callback.__module__)


def test_every_command_is_in_the_module_the_table_names() -> None:
    for module in CLI_MODULES:
        importlib.import_module(f"callacct.cli.{module}")
    root = typer.main.get_command(app)
    assert isinstance(root, typer.core.TyperGroup)
    registered = {info.name for info in app.registered_commands} | {
        typer.main.get_group_from_info(
            info, pretty_exceptions_short=True, rich_markup_mode="rich", suggest_commands=False
        ).name
        for info in app.registered_groups
    }
    assert registered == set(COMMAND_MODULES)
    for name, module in COMMAND_MODULES.items():
        assert _module_of(root.commands[name]) == f"callacct.cli.{module}", name


def _modules_after(*args: str, prefix: str = "callacct.cli.") -> set[str]:
    """The modules (named `prefix`...) a fresh interpreter has loaded after running `args`."""
    script = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from callacct.cli import app\n"
        f"result = CliRunner().invoke(app, {list(args)!r})\n"
        "assert result.exit_code == 0, result.output\n"
        f"print(' '.join(m for m in sys.modules if m.startswith({prefix!r})))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    return set(done.stdout.split())


def test_a_command_loads_its_module_only() -> None:
    loaded = _modules_after("init", "--help")
    assert "callacct.cli.init" in loaded
    assert not {"callacct.cli.lock", "callacct.cli.report", "callacct.cli.budget"} & loaded


def test_an_ingest_without_budgets_loads_no_mailing(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    assert _modules_after("init", str(workspace))
    cdr = next(p for p in sorted(DENIKOND.iterdir()) if p.name.startswith("cdr_"))
    loaded = _modules_after("-w", str(workspace), "ingest", str(cdr), prefix="callacct.")
    assert "callacct.ingest.engine" in loaded
    assert not {"callacct.api.budgeting", "callacct.delivery", "callacct.cli.lock"} & loaded
    # Alarms run after an ingest only when asked (`alarms.after_ingest`, off by default).
    assert not {"callacct.alarms", "callacct.cli.alarm", "callacct.api.alarms"} & loaded


def test_the_root_help_lists_every_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "callacct", "--help"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "COLUMNS": "100"},
    )
    listed = {line.strip("│ ").split()[0] for line in done.stdout.splitlines() if "│ " in line}
    assert set(COMMAND_MODULES) <= listed


def test_the_command_line_skips_the_last_collection(monkeypatch: pytest.MonkeyPatch) -> None:
    from callacct.cli import main

    monkeypatch.setattr(sys, "argv", ["callacct", "--version"])
    try:
        with pytest.raises(SystemExit):
            main()
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
