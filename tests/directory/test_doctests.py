"""The examples in the directory modules' docstrings run."""

from __future__ import annotations

import doctest
from types import ModuleType

import pytest

from callacct import directory
from callacct.demo import ldif
from callacct.directory import csv_import, ldap, model, scope
from callacct.query import calls, masking
from callacct.query import scope as query_scope


@pytest.mark.parametrize(
    "module", [directory, csv_import, ldap, masking, model, scope, query_scope, ldif, calls]
)
def test_docstring_examples(module: ModuleType) -> None:
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0
