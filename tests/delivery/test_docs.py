"""The crontab line and the systemd units of the README and contrib/systemd/ name commands
that exist, with options they take; the demo has its two schedules."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from callacct.cli import app

ROOT = Path(__file__).resolve().parents[2]


def _command_lines() -> list[str]:
    readme = ROOT / "README.md"
    section = readme.read_text(encoding="utf-8").split("## Reports by e-mail", 1)[1]
    section = section.split("\n## ", 1)[0]
    texts = [section] + [p.read_text() for p in sorted((ROOT / "contrib/systemd").glob("*"))]
    lines = []
    for text in texts:
        joined = text.replace("\\\n", " ")
        lines += [
            line
            for line in joined.splitlines()
            if re.match(r"\s*(ExecStart=|callacct |\*/\d)", line) and "callacct" in line
        ]
    return lines


def _arguments(line: str) -> list[str]:
    words = shlex.split(line.split("ExecStart=")[-1].split(">>")[0])
    start = next(i for i, w in enumerate(words) if w.endswith("callacct"))
    words = words[start + 1 :]
    if words[:1] == ["--workspace"]:
        words = words[2:]
    return words


@pytest.mark.parametrize("line", _command_lines())
def test_documented_commands_exist(line: str) -> None:
    arguments = _arguments(line)
    path = [w for w in arguments if not w.startswith("-")][:2]
    result = CliRunner().invoke(app, [*path, "--help"])
    assert result.exit_code == 0, (line, result.output)
    for option in (w.split("=")[0] for w in arguments if w.startswith("--")):
        assert option in result.output, (line, option)


def test_there_are_documented_commands() -> None:
    lines = _command_lines()
    assert any("schedule run-due" in line for line in lines)
    assert any("scheduler run" in line for line in lines)
    assert any("schedule add" in line for line in lines)
