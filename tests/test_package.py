"""Process-wide settings the package applies when it is imported."""

from __future__ import annotations

import os
import subprocess
import sys

from callacct import ALLOCATOR_OPTIONS

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
