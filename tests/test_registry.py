"""The registries: callacct's own entries listed once, nothing registered by being imported,
every entry loaded when first used and only once, and the docs naming what they hold."""

from __future__ import annotations

import doctest
import json
import re
import subprocess
import sys
from pathlib import Path

from callacct import registry
from callacct.ingest.dialects import DIALECTS
from callacct.ingest.generic import SHIPPED_MAPPINGS, registered_mappings
from callacct.registry import BUILTINS
from callacct.reports.render import RENDERERS

DOCS = Path(__file__).parent.parent / "docs" / "architecture.md"


def test_importing_the_cli_loads_no_dialect_and_no_renderer() -> None:
    """The help texts list the names from the list and the packages' metadata alone."""
    modules = [
        "callacct.ingest.cucm",
        "callacct.ingest.asterisk",
        "callacct.reports.render.xlsx",
        "callacct.reports.render.pdf",
        "callacct.reports.render.html",
        "reportlab",
        "xlsxwriter",
        "jinja2",
    ]
    code = (
        f"import json, sys, callacct.cli; print(json.dumps([m in sys.modules for m in {modules}]))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert dict(zip(modules, json.loads(done.stdout), strict=True)) == dict.fromkeys(modules, False)


def test_every_shipped_mapping_is_a_registered_dialect() -> None:
    shipped = sorted(path.stem for path in SHIPPED_MAPPINGS.glob("*.yaml"))
    assert registered_mappings() == shipped
    for name in shipped:
        assert DIALECTS.get(f"generic-csv:{name}").name == f"generic-csv:{name}"


def test_an_entry_is_loaded_once() -> None:
    assert DIALECTS.get("asterisk") is DIALECTS.get("asterisk")
    assert RENDERERS.get("csv") is RENDERERS.get("csv")
    assert [d.name for d in DIALECTS.all()] == DIALECTS.names()


def test_the_docs_name_every_group_and_every_builtin() -> None:
    text = DOCS.read_text(encoding="utf-8")
    section = text[text.index("## Extending callacct") :]
    for group, entries in BUILTINS.items():
        assert f"`{group}`" in section, group
        for entry in entries:
            assert re.search(rf"`{re.escape(entry.name)}`", section), entry.name


def test_doctests() -> None:
    assert doctest.testmod(registry).failed == 0
