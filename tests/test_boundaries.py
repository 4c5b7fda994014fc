"""Library packages never import the CLI, typer or rich: they return values and raise errors."""

from __future__ import annotations

import ast
from pathlib import Path

import callacct

FORBIDDEN = ("typer", "rich", "click", "callacct.cli")
ROOT = Path(callacct.__file__).parent


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_library_code_does_not_import_the_cli() -> None:
    offenders = []
    for path in ROOT.rglob("*.py"):
        if "cli" in path.relative_to(ROOT).parts or path.name == "__main__.py":
            continue
        for name in _imports(path):
            if any(name == f or name.startswith(f + ".") for f in FORBIDDEN):
                offenders.append(f"{path.relative_to(ROOT)} imports {name}")
    assert not offenders


def test_library_code_does_not_print() -> None:
    offenders = []
    for path in ROOT.rglob("*.py"):
        if "cli" in path.relative_to(ROOT).parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "print"
            ):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not offenders
