"""Docstring examples run as tests: pytest collects every module under src/ with
--doctest-modules (pyproject.toml). These checks keep that switched on and keep the examples in
the modules that show their use by one."""

from __future__ import annotations

import doctest
import importlib
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Modules whose docstrings carry runnable examples (at least one each).
WITH_EXAMPLES = [
    "callacct.api",
    "callacct.api.workspace",
    "callacct.call_codes",
    "callacct.config",
    "callacct.demo.cdr_writer",
    "callacct.demo.ldif",
    "callacct.demo.numbers",
    "callacct.demo.planner",
    "callacct.directory",
    "callacct.directory.csv_import",
    "callacct.directory.ldap",
    "callacct.directory.model",
    "callacct.directory.scope",
    "callacct.formats",
    "callacct.i18n",
    "callacct.i18n.formats",
    "callacct.progress",
    "callacct.query.calls",
    "callacct.query.masking",
    "callacct.query.scope",
    "callacct.rating.bands",
    "callacct.rating.classify",
    "callacct.rating.cost",
    "callacct.rating.dialplan",
    "callacct.rating.sites",
    "callacct.rating.tariff",
    "callacct.reports.clock",
    "callacct.reports.compile",
    "callacct.reports.export",
    "callacct.reports.expression",
    "callacct.reports.fields",
    "callacct.reports.filters",
    "callacct.reports.home",
    "callacct.reports.library",
    "callacct.reports.render",
    "callacct.reports.render.cells",
    "callacct.reports.render.svg",
    "callacct.reports.render.xlsx",
    "callacct.reports.result",
    "callacct.reports.run",
    "callacct.reports.spec",
    "callacct.store.sharing",
    "callacct.store.transaction",
]


def test_pytest_collects_the_docstring_examples_of_src() -> None:
    options = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    assert "--doctest-modules" in options["addopts"].split()
    assert "src" in options["testpaths"]


@pytest.mark.parametrize("name", WITH_EXAMPLES)
def test_the_module_shows_its_use(name: str) -> None:
    found = doctest.DocTestFinder().find(importlib.import_module(name))
    assert sum(len(test.examples) for test in found) > 0
