"""Conference bridges, voicemail and other service numbers: recognised, given their own class,
never read as phone numbers nor priced, and shown by name in home, calls and reports."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from callacct.call_codes import DEST_CLASSES
from callacct.config import ConfigError, Settings, parse_settings
from callacct.i18n import LANGUAGES
from callacct.problems import SpecProblems
from callacct.rating import explain_call, import_tariff, rate_calls
from callacct.service_numbers import SERVICE_CLASSES, ServiceNumbers, named
from callacct.store import Store
from tests.rating.helpers import insert_calls, write_plan

BRIDGE = "b00106462001"
SETTINGS = Settings.model_validate(
    {
        "general": {"country": "FR", "timezone": "Europe/Paris", "currency": "EUR"},
        "dialplan": {
            "access_codes": ["0"],
            "extension_pattern": r"^\d{4}$",
            "voicemail_pattern": "^8000$",
            "service_pattern": "^81[0-9]{2}$",
        },
    }
)
SERVICES = ServiceNumbers.of(SETTINGS.dialplan)


def test_kinds_and_names() -> None:
    assert [SERVICES.kind(n) for n in (BRIDGE, "8000", "8105", "2001", "0142685300", "", None)] == [
        "conference", "voicemail", "service", None, None, None, None
    ]  # fmt: skip
    assert ServiceNumbers().kind("8000") is None  # voicemail pilots are a workspace's own
    assert SERVICES.label(BRIDGE, "en") == f"Conference bridge {BRIDGE}"
    assert SERVICES.label("8000", "it") == "Segreteria telefonica 8000"
    assert SERVICES.label("2001", "en") == "2001"
    assert named(None, "conference", "en") is None
    for language in LANGUAGES:
        assert BRIDGE in (SERVICES.label(BRIDGE, language) or "")


SAMPLES = [BRIDGE, " b1 ", "8000", "8100", "b", "x8000"]


@given(
    st.lists(
        st.one_of(
            st.none(), st.sampled_from(SAMPLES), st.text(alphabet="b0123456789+ ", max_size=12)
        )
    )
)
def test_by_column_as_one_by_one(numbers: list[str | None]) -> None:
    frame = pl.DataFrame({"n": numbers}, schema={"n": pl.String})
    kinds = frame.select(SERVICES.kind_expr(pl.col("n"))).to_series().to_list()
    assert kinds == [SERVICES.kind(n) for n in numbers]
    labels = frame.select(SERVICES.label_expr(pl.col("n"), "fr")).to_series().to_list()
    assert labels == [SERVICES.label(n, "fr") for n in numbers]


def _rated(store: Store, ids: list[int]) -> list[tuple[object, ...]]:
    return store.con.execute(
        "SELECT dest_class, dest_country, remote_number, cost, rate_prefix FROM calls "
        "WHERE call_id IN (SELECT unnest(?::BIGINT[])) ORDER BY call_id",
        [ids],
    ).fetchall()


def test_never_read_as_phone_numbers_nor_priced(store: Store, tmp_path: Path) -> None:
    """A bridge or a voicemail pilot reached through a trunk (a conference server, voicemail
    on a SIP trunk) would be classified and priced by the deck's class default."""
    deck = [",World,unknown,0.50,0,60,60,0,", "33,France,national,0.02,0,60,60,0,",
            ",Anything,national,0.30,0,60,60,0,"]  # fmt: skip
    import_tariff(store.con, write_plan(tmp_path, "fr", deck, gateways="^PAR-", default=True))
    when = dt.datetime(2026, 11, 20, 12, 0)
    calls = [
        {"number": BRIDGE, "gateway": "PAR-CMS"},
        {"number": "8000", "gateway": "PAR-CUC"},
        {"number": "8105", "gateway": "PAR-MOH"},
        {"number": None, "direction": "internal", "extension": "2001", "peer_extension": BRIDGE},
        {"number": None, "direction": "internal", "extension": "2001", "peer_extension": "2002"},
        {"number": "0142685300", "gateway": "PAR-CUBE"},
    ]
    ids = insert_calls(store.con, [{"started_at": when, **call} for call in calls])
    report = rate_calls(store.con, SETTINGS)
    assert _rated(store, ids) == [
        ("conference", None, BRIDGE, Decimal("0E-6"), None),
        ("voicemail", None, "8000", Decimal("0E-6"), None),
        ("service", None, "8105", Decimal("0E-6"), None),
        ("conference", None, None, Decimal("0E-6"), None),
        ("internal", None, None, Decimal("0E-6"), None),
        ("national", "FR", "+33142685300", Decimal("0.020000"), "33"),
    ]
    assert (report.priced, report.unpriced) == (1, 0)
    cached = {row[0] for row in store.con.execute("SELECT number FROM number_classes").fetchall()}
    assert cached == {"0142685300"}  # the service numbers never reached libphonenumber
    steps = [dict(explain_call(store.con, SETTINGS, call).steps)["number"] for call in ids[:4]]
    assert steps == [
        f"{BRIDGE} is a conference bridge, not a phone number: class conference, never priced",
        "8000 is a voicemail number, not a phone number: class voicemail, never priced",
        "8105 is a service number, not a phone number: class service, never priced",
        f"{BRIDGE} is a conference bridge, not a phone number: class conference, never priced",
    ]


def test_a_rerate_gives_stored_calls_their_class(store: Store) -> None:
    when = dt.datetime(2026, 11, 20, 12, 0)
    (call,) = insert_calls(store.con, [{"started_at": when, "number": BRIDGE}])
    store.con.execute("UPDATE calls SET dest_class = 'unknown' WHERE call_id = ?", [call])
    report = rate_calls(store.con, SETTINGS)
    assert report.changed == 1
    assert _rated(store, [call])[0][0] == "conference"


def test_the_classes_are_known_everywhere() -> None:
    assert set(SERVICE_CLASSES) <= set(DEST_CLASSES)  # --class conference
    with pytest.raises(ConfigError, match=r"dialplan\.voicemail_pattern"):
        parse_settings({"dialplan": {"voicemail_pattern": "(8000"}}, Path("callacct.toml"))


def test_a_deck_cannot_price_them(store: Store, tmp_path: Path) -> None:
    deck = [",Bridges,conference,0.50,0,60,60,0,"]
    with pytest.raises(SpecProblems, match="unknown class"):
        import_tariff(store.con, write_plan(tmp_path, "fr", deck, default=True))
