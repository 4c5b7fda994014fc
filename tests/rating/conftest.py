"""Fixtures of the rating tests."""

from __future__ import annotations

import pytest

from callacct.rating import classify as classify_module
from callacct.rating.classify import Classification
from callacct.rating.dialplan import DialPlan


@pytest.fixture
def classified_one_by_one(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The numbers given to the per-number path (`classify_number`), in order, as it runs."""
    seen: list[str] = []
    real = classify_module.classify_number

    def counting(raw: str, plan: DialPlan) -> Classification:
        seen.append(raw)
        return real(raw, plan)

    monkeypatch.setattr(classify_module, "classify_number", counting)
    return seen
