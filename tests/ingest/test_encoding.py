"""Bytes that are not UTF-8: a reject in a column accounting reads, replaced (and counted as a
warning) anywhere else; each dialect declares once which columns accounting reads."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from callacct.config import Settings
from callacct.ingest import list_rejects
from callacct.ingest.asterisk import Asterisk
from callacct.ingest.cucm import CucmCdr, CucmCmr
from callacct.ingest.dialects import Dialect
from callacct.ingest.generic import load_mapping
from callacct.ingest.parse import parse_chunk
from callacct.store import Store
from callacct.store.archive import read_archived
from tests.conftest import DENIKOND, SIETE
from tests.ingest.helpers import calls_by_line, ingest

DATA = Path(__file__).parent.parent / "data"
MINEEV = DATA / "asterisk" / "mineevburyat_dj-asterisk-cdr" / "Master.csv"
KELY = DATA / "asterisk" / "KelySaina_cdr" / "Master.csv"
FREESWITCH = DATA / "freeswitch" / "Kxingyunliushui_freeswitch_tools" / "Master.csv"
CDR = DENIKOND / "cdr_StandAloneCluster_02_202112131408_515359"
SETTINGS = Settings.model_validate(
    {"general": {"timezone": "Europe/Moscow"}, "dialplan": {"extension_pattern": r"^\d{3,4}$"}}
)
NOT_UTF8 = b"\xa5\xe2"  # cp1251 text read as UTF-8


def _cucm_file(tmp_path: Path, column: str) -> Path:
    """The CDR sample with bytes that are not UTF-8 in `column` of its first record."""
    lines = CDR.read_bytes().split(b"\n")
    names = [n.strip(b'"').decode() for n in lines[0].split(b",")]
    fields = lines[2].split(b",")
    at = names.index(column)
    fields[at] = b'"' + fields[at].strip(b'"') + NOT_UTF8 + b'"'
    lines[2] = b",".join(fields)
    path = tmp_path / CDR.name
    path.write_bytes(b"\n".join(lines))
    return path


def test_cucm_a_column_accounting_does_not_read(tmp_path: Path, store: Store) -> None:
    path = _cucm_file(tmp_path, "callingPartyUnicodeLoginUserID")
    report = ingest(store, SETTINGS, path)
    assert (report.stored, report.rejected, report.replaced) == (report.rows_read, 0, 1)
    assert report.results[0].replaced_columns == ["callingPartyUnicodeLoginUserID"]
    assert "callingPartyUnicodeLoginUserID" in report.warnings[0]
    assert str(path) in report.warnings[0]
    file_id = store.con.execute("SELECT file_id FROM ingest_files").fetchall()[0][0]
    assert read_archived(store, file_id) == path.read_bytes()


@pytest.mark.parametrize("column", ["callingPartyNumber", "pkid", "origDeviceName"])
def test_cucm_a_column_accounting_reads(tmp_path: Path, store: Store, column: str) -> None:
    report = ingest(store, SETTINGS, _cucm_file(tmp_path, column))
    assert (report.rejected, report.replaced, report.warnings) == (1, 0, [])
    [reject] = list_rejects(store)
    assert (reject["line"], reject["reason"]) == (3, "encoding")
    assert f"column '{column}', which accounting reads" in reject["message"]
    assert "\ufffd" in reject["raw"]


def test_generic_mapping_reads_only_its_mapped_columns(tmp_path: Path, store: Store) -> None:
    dialect = load_mapping("freeswitch-example")
    line = (
        '"{name}","{number}","1002","default","2020-02-10 22:41:00","2020-02-10 22:41:02",'
        '"2020-02-10 22:41:13","11","9","NORMAL_CLEARING","{uuid}","","1002","PCMU","PCMU"'
    )
    good = line.format(name="Caller", number="1002", uuid="u-1").encode()
    named = line.format(name="Ca@@er", number="1003", uuid="u-2").encode()
    numbered = line.format(name="Caller", number="10@@4", uuid="u-3").encode()
    path = tmp_path / "Master.csv"
    path.write_bytes(
        b"\n".join([good, named.replace(b"@@", NOT_UTF8), numbered.replace(b"@@", NOT_UTF8)])
        + b"\n"
    )
    report = ingest(store, SETTINGS, path, dialect=dialect)
    assert (report.stored, report.rejected, report.replaced) == (2, 1, 1)
    assert report.results[0].replaced_columns == ["column_1"]
    [reject] = list_rejects(store)
    assert (reject["line"], reject["reason"]) == (3, "encoding")
    assert "column 'column_2'" in reject["message"]
    assert sorted(c["calling_number"] for c in calls_by_line(store).values()) == ["1002", "1003"]


# -- the declaration of each dialect matches what it reads -------------------------------------

CASES: list[tuple[str, Dialect, Path]] = [
    ("cucm-cdr-129", CucmCdr(), CDR),
    ("cucm-cdr-133", CucmCdr(), SIETE / "cdr.txt"),
    ("cucm-cmr", CucmCmr(), SIETE / "cmr.txt"),
    ("asterisk-cdr_csv", Asterisk(), MINEEV),
    ("asterisk-cdr_custom", Asterisk(), KELY),
    ("freeswitch-mapping", load_mapping("freeswitch-example"), FREESWITCH),
]


def _results(dialect: Dialect, frame: pl.DataFrame) -> list[pl.DataFrame]:
    checks = frame.select(
        [
            cond.fill_null(False).alias(f"c{i}")
            for i, (cond, _, _) in enumerate(dialect.checks(frame, SETTINGS))
        ]
    )
    normalised = dialect.normalise(frame.drop("_line"), SETTINGS)
    made = normalised.calls if normalised.calls is not None else normalised.quality
    assert made is not None
    return [checks, dialect.keys(frame, SETTINGS), made]


@pytest.mark.parametrize(("name", "dialect", "path"), CASES, ids=[c[0] for c in CASES])
def test_accounting_reads_nothing_but_the_declared_columns(
    name: str, dialect: Dialect, path: Path
) -> None:
    """Every other column scrambled, checks, record keys and calls stay the same."""
    data = path.read_bytes()
    layout = dialect.layout(data[: 64 * 1024], path, SETTINGS)
    assert layout.accounting is not None
    body = b"".join(data.splitlines(keepends=True)[layout.header_lines :])
    frame = parse_chunk(body, layout).frame
    others = [c for c in layout.columns if c not in layout.accounting]
    assert others, name
    scrambled = frame.with_columns(
        pl.lit("x\ufffd,y", pl.String).alias(c)
        if layout.schema[c] == pl.String
        else pl.lit(-7, pl.Int64).alias(c)
        for c in others
    )
    for before, after in zip(_results(dialect, frame), _results(dialect, scrambled), strict=True):
        assert_frame_equal(before, after)
