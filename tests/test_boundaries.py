"""Boundaries: library code never imports the CLI, typer or rich and never prints; the
packages form layers whose imports only point down.

    clients   cli, web, demo       parse, call the API, show
    api       api                  the one object every caller uses; workflows and rules
    features  ingest, rating, directory, reports, lock, budgets (later alarms, delivery)
    query     query                every read of calls: filters, scope, masking
    base      store, config, errors, problems, yamlfile, i18n, formats, progress, outcomes,
              call_codes, service_numbers, registry (it names its built-in entries by text,
              loaded when first used)

A module imports from its own package, or from a lower layer; the packages of the feature
layer are independent of each other; the store imports nothing above it. Lazy imports inside
functions count too: a back-edge is a back-edge wherever it is written.
"""

from __future__ import annotations

import ast
from pathlib import Path

import callacct

FORBIDDEN = ("typer", "rich", "click", "callacct.cli")
ROOT = Path(callacct.__file__).parent

LAYERS: tuple[tuple[str, frozenset[str]], ...] = (
    ("clients", frozenset({"cli", "web", "demo", "__main__"})),
    ("api", frozenset({"api"})),
    (
        "features",
        frozenset(
            {"ingest", "rating", "directory", "reports", "lock", "delivery", "alarms", "budgets"}
        ),
    ),
    ("query", frozenset({"query"})),
    (
        "base",
        frozenset(
            {
                "store",
                "config",
                "errors",
                "problems",
                "yamlfile",
                "i18n",
                "formats",
                "progress",
                "outcomes",
                "call_codes",
                "registry",
                "service_numbers",
            }
        ),
    ),
)
#: Layers whose packages may use each other (peers); the feature packages may not.
PEERS_ALLOWED = frozenset({"clients", "base"})
#: What the store may import besides itself: nothing above it.
STORE_MAY_IMPORT = frozenset({"errors"})


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            if node.module == "callacct":  # `from callacct import api`: a package or module
                names.update(
                    f"callacct.{alias.name}"
                    for alias in node.names
                    if (ROOT / alias.name).is_dir() or (ROOT / f"{alias.name}.py").is_file()
                )
    return names


def _package(path: Path) -> str:
    """The top-level package (or module) of callacct a file belongs to."""
    return path.relative_to(ROOT).with_suffix("").parts[0]


def _layer(package: str) -> int:
    for index, (_, packages) in enumerate(LAYERS):
        if package in packages:
            return index
    raise AssertionError(f"callacct.{package} has no layer; add it to LAYERS in {__file__}")


def _edges() -> list[tuple[str, str, str]]:
    """(file, its package, imported callacct package) for every import between packages;
    the root `callacct/__init__.py` (the facade exporting the API) is not a layer."""
    edges = []
    for path in sorted(ROOT.rglob("*.py")):
        if path == ROOT / "__init__.py":
            continue
        source = _package(path)
        for name in _imports(path):
            parts = name.split(".")
            if parts[0] != "callacct" or len(parts) < 2 or parts[1] == source:
                continue
            edges.append((str(path.relative_to(ROOT)), source, parts[1]))
    return edges


def test_every_package_has_a_layer() -> None:
    for path in ROOT.rglob("*.py"):
        if path != ROOT / "__init__.py":
            _layer(_package(path))


def test_imports_point_down_the_layers() -> None:
    offenders = []
    for where, source, target in _edges():
        below, above = _layer(target), _layer(source)
        name = LAYERS[above][0]
        if below < above or (below == above and name not in PEERS_ALLOWED):
            offenders.append(f"{where} ({name}) imports callacct.{target} ({LAYERS[below][0]})")
    assert not offenders, "imports against the layers:\n" + "\n".join(offenders)


def test_query_imports_no_feature_package() -> None:
    features = LAYERS[2][1]
    offenders = [
        f"{where} imports callacct.{target}"
        for where, source, target in _edges()
        if source == "query" and target in features
    ]
    assert not offenders, offenders


def test_feature_packages_import_neither_the_api_nor_the_cli() -> None:
    features = LAYERS[2][1]
    offenders = [
        f"{where} imports callacct.{target}"
        for where, source, target in _edges()
        if source in features and target in {"api", "cli", "demo"}
    ]
    assert not offenders, offenders


def test_the_store_imports_nothing_above_it() -> None:
    offenders = [
        f"{where} imports callacct.{target}"
        for where, source, target in _edges()
        if source == "store" and target not in STORE_MAY_IMPORT
    ]
    assert not offenders, offenders


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
