"""What the package does when it is imported, and what its wheel carries."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from callacct import ALLOCATOR_OPTIONS

PACKAGED = "callacct/report_specs/"

SHOW = "import callacct, os; print(os.environ['_RJEM_MALLOC_CONF'])"


def _conf(env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-c", SHOW], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def test_polars_allocator_options_are_set_unless_the_environment_has_some() -> None:
    env = {k: v for k, v in os.environ.items() if k != "_RJEM_MALLOC_CONF"}
    assert _conf(env) == ALLOCATOR_OPTIONS
    assert _conf({**env, "_RJEM_MALLOC_CONF": "narenas:2"}) == "narenas:2"


@pytest.mark.slow
def test_the_wheel_carries_the_report_library(tmp_path: Path) -> None:
    """Built and unpacked (installed) elsewhere, callacct lists the same public reports."""
    root = Path(__file__).resolve().parent.parent
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet",
         "--wheel-dir", str(tmp_path / "dist"), str(root)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    (wheel,) = (tmp_path / "dist").glob("callacct-*.whl")
    shipped = sorted(p.name for p in (root / "report_specs").glob("*.yaml"))
    previews = sorted(p.name for p in (root / "report_specs" / "previews").glob("*.svg"))
    with zipfile.ZipFile(wheel) as archive:
        inside = sorted(Path(name).name for name in archive.namelist() if name.startswith(PACKAGED))
        archive.extractall(tmp_path / "site")
    assert len(shipped) == 22
    assert inside == sorted(shipped + previews)
    assert len(previews) == len(shipped)

    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "callacct.toml").write_text("")

    def listing(*where: Path) -> tuple[str, str]:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(map(str, where))}
        show = (
            "import callacct.reports.library as lib; print(lib.__file__); "
            "print(lib.library_folder())"
        )
        located = subprocess.run(
            [sys.executable, "-c", show], env=env, capture_output=True, text=True, check=True
        ).stdout
        listed = subprocess.run(
            [sys.executable, "-m", "callacct", "-w", str(workspace), "report", "list", "--json"],
            env=env, capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        return located, listed

    installed, from_wheel = listing(tmp_path / "site")
    assert installed.splitlines() == [
        str(tmp_path / "site" / "callacct" / "reports" / "library.py"),
        str(tmp_path / "site" / PACKAGED),
    ]
    source, from_source = listing()
    assert source.splitlines()[1] == str(root / "report_specs")
    assert json.loads(from_wheel) == json.loads(from_source)
    names = sorted(report["name"] for report in json.loads(from_wheel))
    assert names == [name.removesuffix(".yaml") for name in shipped]
