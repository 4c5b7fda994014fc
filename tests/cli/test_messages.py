"""What people type is shown as they typed it: messages, table cells and titles never read
user text as Rich markup (a time zone '[/]', a path '[red]x', a pattern '^[a-z]{2}$')."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from typer.testing import CliRunner

import callacct.cli
from callacct.cli import app
from tests.conftest import Cli
from tests.directory.helpers import write_csv

CLI_DIR = Path(callacct.cli.__file__).parent


@pytest.mark.parametrize("zone", ["[/]", "[bold]Europe", "[red]Paris[/red]", "Europe\\"])
def test_markup_in_an_option_is_shown_as_given(cli: Cli, zone: str) -> None:
    result = cli("calls", "--tz", zone)
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.stderr == f"error: --tz: {zone!r} is not a time zone such as 'Europe/Paris'\n"


def test_a_path_with_brackets_is_named_whole(cli: Cli, tmp_path: Path) -> None:
    odd = tmp_path / "[red]notcdr.txt"
    odd.write_text("hello world\n")
    result = cli("ingest", str(odd))
    assert result.exit_code == 1, result.output
    assert f"failed: {odd}: not a CDR format" in result.stderr


def test_a_pattern_keeps_its_brackets(tmp_path: Path) -> None:
    pattern = "^[a-z]{0,63}(?=x)$"
    result = CliRunner().invoke(app, ["init", str(tmp_path / "w"), "--extension-pattern", pattern])
    assert result.exit_code == 2, result.output
    assert f"'{pattern}' is not supported" in result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_table_cells_and_titles_are_plain_text(cli: Cli, tmp_path: Path) -> None:
    people = write_csv(
        tmp_path / "people.csv",
        "mallory,[red]Mallory[/red],,en,user,[bold]Sales,,,2001,,",
        "oscar,Oscar [/] Wilde,,en,user,Sales,,,2002,,",
    )
    assert cli("directory", "import", str(people)).exit_code == 0
    listed = cli("directory", "list")
    assert listed.exit_code == 0, listed.output
    assert "[red]Mallory[/red]" in listed.stdout
    assert "[bold]Sales" in listed.stdout
    assert "Oscar [/] Wilde" in listed.stdout
    shown = cli("directory", "show", "mallory")
    assert "[red]Mallory[/red]" in shown.stdout


def test_callacct_own_styles_are_rendered_not_printed(cli: Cli, tmp_path: Path) -> None:
    people = write_csv(tmp_path / "people.csv", "mallory,Mallory,,en,user,Sales,,,2001,,")
    assert cli("directory", "import", str(people)).exit_code == 0
    for args in (("--as", "mallory", "home"), ("directory", "list")):
        result = cli(*args)
        assert result.exit_code == 0, result.output
        for tag in ("[bold]", "[dim]", "[/]", "[yellow]", "[green]"):
            assert tag not in result.output, (args, result.output)


def _calls(name: str) -> list[ast.Call]:
    tree = ast.parse((CLI_DIR / name).read_text(encoding="utf-8"))
    return [node for node in ast.walk(tree) if isinstance(node, ast.Call)]


def _name(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def test_no_command_turns_markup_back_on() -> None:
    """Markup is off on both consoles; styles come only from constant templates (`styled`),
    whose values are escaped. A new console, `markup=True`, or a template built from values
    would let user text be read as markup again."""
    for path in sorted(CLI_DIR.glob("*.py")):
        for call in _calls(path.name):
            name = _name(call)
            assert not any(
                kw.arg == "markup"
                and not (isinstance(kw.value, ast.Constant) and not kw.value.value)
                for kw in call.keywords
            ), f"{path.name}:{call.lineno}: markup turned on"
            if name in ("styled", "from_markup") and path.name != "_output.py":
                assert call.args, f"{path.name}:{call.lineno}: no template"
                assert isinstance(call.args[0], ast.Constant), (
                    f"{path.name}:{call.lineno}: a markup template must be a constant string"
                )
            if name == "Console":
                assert path.name == "_output.py", f"{path.name}:{call.lineno}: use _output's"
                assert any(
                    kw.arg == "markup" and isinstance(kw.value, ast.Constant) and not kw.value.value
                    for kw in call.keywords
                ), f"{path.name}:{call.lineno}: a console must have markup=False"
