"""Masking of external numbers (F-ACCESS-3): one function, the same result in every output."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from callacct.config import MaskingSettings
from callacct.query.masking import mask_calls, mask_expr, mask_number


@pytest.mark.parametrize(
    ("number", "digits", "masked"),
    [
        ("0612345678", 4, "061234****"),
        ("+33 6 12 34 56 78", 3, "+33 6 12 34 5* **"),
        ("12", 4, "**"),
        ("0612345678", 0, "0612345678"),
        ("", 3, ""),
        (None, 3, None),
    ],
)
def test_mask_number(number: str | None, digits: int, masked: str | None) -> None:
    assert mask_number(number, digits) == masked


@given(st.text(alphabet="0123456789+ -#*", max_size=20), st.integers(0, 12))
def test_vectorised_masking_equals_the_scalar_one(number: str, digits: int) -> None:
    frame = pl.DataFrame({"n": [number]})
    assert frame.select(mask_expr("n", digits))["n"][0] == mask_number(number, digits)


def test_internal_numbers_stay_readable() -> None:
    frame = pl.DataFrame(
        {
            "extension": ["2001", "2001", "2001"],
            "peer_extension": [None, None, "2002"],
            "remote_number": ["0612345678", "0102030405", None],
            "calling_number": ["2001", "0102030405", "2001"],
            "called_number": ["0612345678", "2001", "2002"],
            "final_number": ["0612345678", "2001", "2002"],
        }
    )
    masked = mask_calls(frame, 4)
    assert masked.row(0) == ("2001", None, "061234****", "2001", "061234****", "061234****")
    assert masked.row(1) == ("2001", None, "010203****", "010203****", "2001", "2001")
    assert masked.row(2) == ("2001", "2002", None, "2001", "2002", "2002")
    assert mask_calls(frame, 0).equals(frame)


def test_masking_settings_per_role() -> None:
    settings = MaskingSettings(user=2, supervisor=4)
    assert [settings.digits_for(r) for r in ("user", "supervisor", "admin")] == [2, 4, 0]


def test_numbers_quoted_in_text_are_masked_too() -> None:
    from callacct.query.masking import mask_in_text

    text = "called 0612345678 (E.164 +33612345678), rate 0.0612 per minute, ext 2001"
    masked = mask_in_text(text, ["0612345678", "+33612345678", None], 4)
    assert masked == "called 061234**** (E.164 +3361234****), rate 0.0612 per minute, ext 2001"
    assert mask_in_text(text, ["0612345678"], 0) == text
    assert mask_in_text("x 106123456789 y", ["0612345678"], 4) == "x 106123456789 y"
