"""The examples in the report modules' docstrings run."""

from __future__ import annotations

import doctest
from types import ModuleType

import pytest

from callacct.query import reports as query_reports
from callacct.reports import (
    clock,
    compile,
    export,
    expression,
    fields,
    filters,
    home,
    library,
    result,
    run,
    spec,
    texts,
)


@pytest.mark.parametrize(
    "module",
    [
        clock,
        compile,
        export,
        expression,
        fields,
        filters,
        home,
        library,
        result,
        run,
        spec,
        texts,
        query_reports,
    ],
)
def test_docstring_examples(module: ModuleType) -> None:
    outcome = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    if module is not query_reports:
        assert outcome.attempted > 0
    assert outcome.failed == 0
