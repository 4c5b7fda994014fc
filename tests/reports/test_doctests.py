"""The examples in the report modules' docstrings run (every module, found by name)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
from types import ModuleType

import pytest

import callacct.reports
from callacct.query import reports as query_reports

MODULES = [
    importlib.import_module(info.name)
    for info in pkgutil.walk_packages(callacct.reports.__path__, "callacct.reports.")
]


@pytest.mark.parametrize("module", [*MODULES, query_reports], ids=lambda m: m.__name__)
def test_docstring_examples(module: ModuleType) -> None:
    outcome = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert outcome.failed == 0


def test_the_engine_modules_have_examples() -> None:
    names = ("clock", "compile", "export", "expression", "fields", "filters", "home",
             "library", "result", "run", "spec")  # fmt: skip
    for name in names:
        module = importlib.import_module(f"callacct.reports.{name}")
        assert doctest.testmod(module, optionflags=doctest.ELLIPSIS).attempted > 0, name
