"""`callacct demo` builds a workspace that the other commands can use."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from callacct.cli import app


def _demo(folder: Path, *extra: str) -> dict[str, object]:
    args = ["demo", str(folder), "--people", "30", "--days", "3", "--end", "2026-03-31"]
    result = CliRunner().invoke(app, [*args, *extra, "--json"])
    assert result.exit_code == 0, result.output
    data: dict[str, object] = json.loads(result.stdout)
    return data


def test_demo_builds_and_ingests(tmp_path: Path) -> None:
    data = _demo(tmp_path / "demo")
    ingest = data["ingest"]
    assert isinstance(ingest, dict)
    assert ingest["rows_read"] == ingest["stored"] + ingest["duplicates"] + ingest["rejected"]
    assert ingest["rejected"] == data["malformed_lines"]
    assert ingest["calls"] > 0
    assert set(data["calls_by_direction"]) == {"incoming", "internal", "outgoing"}  # type: ignore[arg-type]
    assert (tmp_path / "demo" / "directory" / "people.csv").is_file()
    calls = CliRunner().invoke(
        app, ["-w", str(tmp_path / "demo"), "calls", "--last", "5", "--json"]
    )
    assert calls.exit_code == 0, calls.output
    rows = json.loads(calls.stdout)
    assert len(rows) == 5
    assert rows[0]["started_at"].endswith(("+01:00", "+02:00"))


def test_demo_is_deterministic(tmp_path: Path) -> None:
    _demo(tmp_path / "a")
    _demo(tmp_path / "b")
    a = sorted((tmp_path / "a" / "cdr").iterdir())
    b = sorted((tmp_path / "b" / "cdr").iterdir())
    assert [p.name for p in a] == [p.name for p in b]
    assert all(x.read_bytes() == y.read_bytes() for x, y in zip(a, b, strict=True))


def test_demo_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    _demo(tmp_path / "demo")
    again = CliRunner().invoke(app, ["demo", str(tmp_path / "demo"), "--people", "30"])
    assert again.exit_code == 2
    assert "--force" in again.output
    _demo(tmp_path / "demo", "--force")
    other = tmp_path / "other"
    other.mkdir()
    (other / "precious.txt").write_text("keep me")
    refused = CliRunner().invoke(app, ["demo", str(other)])
    assert refused.exit_code == 2
    assert (other / "precious.txt").exists()


def test_demo_help_has_an_example() -> None:
    result = CliRunner().invoke(app, ["demo", "--help"])
    assert result.exit_code == 0
    assert "Example" in result.output
