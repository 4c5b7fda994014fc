"""Generic CSV through a YAML mapping: loading and validating mappings, ingesting with them."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from callacct.config import Settings
from callacct.errors import ConfigError, IngestError, SpecError, UsageError
from callacct.ingest import generic
from callacct.ingest.dialects import DIALECTS, detect_dialect
from callacct.ingest.engine import ingest_paths
from callacct.ingest.generic import (
    SHIPPED_MAPPINGS,
    GenericCsv,
    load_mapping,
    mapping_dialects,
    requested_dialect,
)
from callacct.store import Store, open_store
from tests.ingest.helpers import calls_by_line, ingest

DATA = Path(__file__).parent.parent / "data"
FREESWITCH = DATA / "freeswitch" / "Kxingyunliushui_freeswitch_tools" / "Master.csv"

ACME_YAML = """\
name: acme-pbx
delimiter: ";"
header: true
timezone: Europe/Paris
timestamp_format: "%d/%m/%Y %H:%M:%S"
detect: [CallID, Start, From, To]
columns:
  record_key: CallID
  started_at: Start
  answered_at: Answer
  ended_at: End
  duration_s: Talk
  calling_number: From
  called_number: To
  extension: Ext
  gateway: Trunk
  direction:
    column: Dir
    values: {IN: incoming, OUT: outgoing, INT: internal}
  disposition:
    column: Result
    values: {OK: answered, NOANS: missed, BUSY: busy, ERR: failed}
"""

ACME_CSV = """\
CallID;Start;Answer;End;Talk;From;To;Ext;Trunk;Dir;Result
c-1;15/01/2024 10:00:00;15/01/2024 10:00:07;15/01/2024 10:02:07;120;201;0612345678;201;GW-A;OUT;OK
c-2;15/01/2024 11:00:00;;15/01/2024 11:00:20;0;0699887766;202;202;GW-B;in;NOANS
c-3;15/01/2024 12:00:00;;15/01/2024 12:00:02;0;201;202;201;;INT;busy
"""


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(tmp_path / "s.duckdb")
    yield s
    s.close()


@pytest.fixture
def settings() -> Settings:
    return Settings.model_validate(
        {
            "general": {"country": "FR", "timezone": "Europe/Paris", "currency": "EUR"},
            "dialplan": {"access_codes": ["0"], "extension_pattern": r"^\d{3}$"},
        }
    )


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def rejects(store: Store) -> dict[int, tuple[str, str]]:
    rows = store.con.execute("SELECT line_no, reason, message FROM rejects").fetchall()
    return {line: (reason, message) for line, reason, message in rows}


# -- ingesting -------------------------------------------------------------------------------


def test_mapping_round_trip(store: Store, settings: Settings, tmp_path: Path) -> None:
    dialect = load_mapping(write(tmp_path, "acme.yaml", ACME_YAML))
    assert isinstance(dialect, GenericCsv)
    assert dialect.name == "generic-csv:acme-pbx"
    path = write(tmp_path, "acme.csv", ACME_CSV)
    report = ingest(store, settings, path, dialect=dialect)
    assert (report.rows_read, report.stored, report.duplicates, report.rejected) == (3, 3, 0, 0)
    assert report.results[0].dialect == "generic-csv:acme-pbx"
    calls = calls_by_line(store)
    assert sorted(calls) == [2, 3, 4]  # line 1 is the header

    out = calls[2]
    assert out["source"] == "generic-csv:acme-pbx"
    assert out["record_key"] == "c-1"
    assert out["started_at"] == dt.datetime(2024, 1, 15, 9, 0, 0)  # Paris is UTC+1 in January
    assert out["answered_at"] == dt.datetime(2024, 1, 15, 9, 0, 7)
    assert out["ended_at"] == dt.datetime(2024, 1, 15, 9, 2, 7)
    assert (out["duration_s"], out["ring_s"]) == (120, 7)
    assert (out["direction"], out["disposition"], out["answered"]) == ("outgoing", "answered", True)
    assert (out["extension"], out["gateway"]) == ("201", "GW-A")
    assert out["remote_number"] == "612345678"  # access code 0 stripped

    inc = calls[3]  # "in" matches IN: values are matched ignoring case
    assert (inc["direction"], inc["disposition"], inc["answered"]) == ("incoming", "missed", False)
    assert (inc["remote_number"], inc["extension"], inc["ring_s"]) == ("0699887766", "202", 20)
    assert inc["answered_at"] is None

    internal = calls[4]
    assert (internal["direction"], internal["disposition"]) == ("internal", "busy")
    assert (internal["extension"], internal["peer_extension"]) == ("201", "202")
    assert internal["gateway"] is None

    again = write(tmp_path, "acme2.csv", ACME_CSV + ACME_CSV.splitlines()[1].replace("c-1", "c-9"))
    report = ingest(store, settings, again, dialect=dialect)
    assert (report.stored, report.duplicates, report.rejected) == (1, 3, 0)


def test_bad_values_are_rejects_with_reasons(
    store: Store, settings: Settings, tmp_path: Path
) -> None:
    dialect = load_mapping(write(tmp_path, "acme.yaml", ACME_YAML))
    rows = [
        "c-1;15/01/2024 10:00:00;;15/01/2024 10:00:20;0;201;202;201;;INT;NOANS",
        "c-2;2024-01-15 10:00:00;;;0;201;202;201;;INT;NOANS",
        "c-3;31/03/2024 02:30:00;;;0;201;202;201;;INT;NOANS",
        "c-4;15/01/2024 10:00:00;;;ten;201;202;201;;INT;NOANS",
        "c-5;15/01/2024 10:00:00;;;0;201;202;201;;SIDEWAYS;NOANS",
        "c-6;15/01/2024 10:00:00;;;0;201;202;201;;INT;MAYBE",
        ";15/01/2024 10:00:00;;;0;201;202;201;;INT;NOANS",
        "c-8;15/01/2024 10:00:00;;15/01/2024 09:00:00;0;201;202;201;;INT;NOANS",
        "c-9;;;;0;201;202;201;;INT;NOANS",
        "c-10;15/01/2024 10:00:00;;;-5;201;202;201;;INT;NOANS",
    ]
    header = ACME_CSV.splitlines()[0]
    path = write(tmp_path, "acme.csv", "\n".join([header, *rows]) + "\n")
    report = ingest(store, settings, path, dialect=dialect)
    assert (report.rows_read, report.stored, report.rejected) == (10, 1, 9)
    got = rejects(store)
    assert got[3][0] == "bad_time"
    assert "started_at (column 'Start') is not a date-time" in got[3][1]
    assert got[4][0] == "nonexistent_time"
    assert "does not exist in Europe/Paris" in got[4][1]
    assert got[5] == (
        "not_integer",
        "duration_s (column 'Talk') should be a whole number of seconds",
    )
    assert got[6][0] == got[7][0] == "unknown_value"
    assert "direction.values" in got[6][1]
    assert "disposition.values" in got[7][1]
    assert got[8] == ("missing_key", "record_key (column 'CallID') is empty")
    assert got[9] == ("impossible_time", "ended_at is before started_at")
    assert got[10] == ("missing_time", "started_at (column 'Start') is empty")
    assert got[11] == ("impossible_value", "duration_s (column 'Talk') is negative")


def test_defaults_and_derived_values(store: Store, settings: Settings, tmp_path: Path) -> None:
    """No direction/disposition/key columns: derived from numbers and times; a line hash key."""
    mapping = write(
        tmp_path,
        "plain.yaml",
        """
name: plain
header: false
timestamp_format: epoch
columns: {started_at: 1, ended_at: 2, duration_s: 3, calling_number: 4, called_number: 5}
""",
    )
    text = "1705312800,1705312925,120,201,00612345678\n1705316400,1705316410,0,0699887766,202\n"
    path = write(tmp_path, "plain.csv", text)
    report = ingest(store, settings, path, dialect=load_mapping(mapping))
    assert (report.rows_read, report.stored, report.rejected) == (2, 2, 0)
    calls = calls_by_line(store)
    out, inc = calls[1], calls[2]
    assert out["started_at"] == dt.datetime(2024, 1, 15, 10, 0)  # epoch: no time zone involved
    assert (out["direction"], out["disposition"], out["duration_s"]) == (
        "outgoing",
        "answered",
        120,
    )
    assert out["answered_at"] == dt.datetime(2024, 1, 15, 10, 0, 5)  # end - duration
    assert (out["remote_number"], out["extension"], out["ring_s"]) == ("0612345678", "201", 5)
    assert (inc["direction"], inc["disposition"], inc["extension"]) == ("incoming", "missed", "202")
    assert len(out["record_key"]) == 32
    assert len({out["record_key"], inc["record_key"]}) == 2


def test_value_map_default(store: Store, settings: Settings, tmp_path: Path) -> None:
    text = ACME_YAML.replace(
        "values: {IN: incoming, OUT: outgoing, INT: internal}",
        "values: {IN: incoming, OUT: outgoing, INT: internal}\n    default: internal",
    )
    dialect = load_mapping(write(tmp_path, "acme.yaml", text))
    header = ACME_CSV.splitlines()[0]
    row = "c-5;15/01/2024 10:00:00;;;0;201;202;201;;SIDEWAYS;NOANS"
    report = ingest(
        store, settings, write(tmp_path, "a.csv", f"{header}\n{row}\n"), dialect=dialect
    )
    assert report.rejected == 0
    assert calls_by_line(store)[2]["direction"] == "internal"


def test_missing_header_column_fails_the_file(
    store: Store, settings: Settings, tmp_path: Path
) -> None:
    dialect = load_mapping(write(tmp_path, "acme.yaml", ACME_YAML))
    path = write(tmp_path, "other.csv", "CallID;Start\nx;15/01/2024 10:00:00\n")
    report = ingest_paths(store, settings, [path], dialect=dialect)
    assert report.files_failed == 1
    message = report.results[0].message or ""
    assert "header has no column" in message
    assert "acme.yaml" in message
    with pytest.raises(IngestError, match="'From' \\(calling_number\\)"):
        dialect.layout(path.read_bytes(), path, settings)


# -- detection -------------------------------------------------------------------------------


def test_mappings_from_settings_are_detected(tmp_path: Path) -> None:
    (tmp_path / "mappings").mkdir()
    write(tmp_path / "mappings", "acme.yaml", ACME_YAML)
    settings = Settings.model_validate({"ingest": {"mappings": ["mappings/acme.yaml"]}})
    extra = mapping_dialects(settings, tmp_path)
    assert [d.name for d in extra] == ["generic-csv:acme-pbx"]
    data = write(tmp_path, "acme.csv", ACME_CSV)
    head = data.read_bytes()
    assert detect_dialect(head, data, extra=extra).name == "generic-csv:acme-pbx"
    with pytest.raises(IngestError, match="not a CDR format"):
        detect_dialect(head, data)
    # A mapping never claims files whose header lacks its `detect` names.
    assert not extra[0].sniff(b"CallID;Start;From\n", data)


# -- the FreeSWITCH mapping shipped with callacct -------------------------------------------


def test_shipped_freeswitch_mapping_rejects_spreadsheet_damage(
    store: Store, settings: Settings
) -> None:
    dialect = load_mapping("freeswitch-example")
    assert dialect.mapping.path == SHIPPED_MAPPINGS / "freeswitch-example.yaml"
    report = ingest(store, settings, FREESWITCH, dialect=dialect)
    # The sample was re-saved by a spreadsheet (2020/2/10 22:41): not mod_cdr_csv's format.
    assert (report.rows_read, report.stored, report.rejected) == (10, 0, 10)
    got = rejects(store)
    assert sorted(got) == list(range(1, 11))
    assert {reason for reason, _ in got.values()} == {"bad_time"}
    assert "started_at (column 5) is not a date-time" in got[1][1]


def test_freeswitch_sample_with_a_mapping_that_accepts_it(
    store: Store, settings: Settings, tmp_path: Path
) -> None:
    text = (SHIPPED_MAPPINGS / "freeswitch-example.yaml").read_text(encoding="utf-8")
    text = text.replace("name: freeswitch-example", "name: freeswitch-resaved").replace(
        'timestamp_format: "%Y-%m-%d %H:%M:%S"',
        'timestamp_format: ["%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M"]',
    )
    dialect = load_mapping(write(tmp_path, "fs.yaml", text))
    settings = settings.model_copy(
        update={"dialplan": settings.dialplan.model_copy(update={"extension_pattern": r"^\d{4}$"})}
    )
    report = ingest(store, settings, FREESWITCH, dialect=dialect)
    # uuid 7adced1a... appears on lines 8, 9 and 10 with the same start: two duplicates.
    assert (report.rows_read, report.stored, report.duplicates, report.rejected) == (10, 8, 2, 0)
    calls = calls_by_line(store)
    assert sorted(calls) == [1, 2, 3, 4, 5, 6, 7, 8]
    first = calls[1]
    assert first["record_key"] == "d80e22e0-4c15-11ea-97a0-9dd79410affb"
    assert first["started_at"] == dt.datetime(2020, 2, 10, 21, 41)  # 22:41 in Paris
    assert (first["disposition"], first["duration_s"], first["extension"]) == (
        "answered",
        9,
        "1002",
    )
    # No answer stamp, NO_USER_RESPONSE: missed; caller "0" is not an extension.
    assert (calls[3]["disposition"], calls[3]["direction"]) == ("missed", "incoming")
    # RECOVERY_ON_TIMER_EXPIRE after 32 s of conversation is still an answered call.
    assert (calls[7]["disposition"], calls[7]["direction"], calls[7]["duration_s"]) == (
        "answered",
        "internal",
        32,
    )


# -- invalid mappings --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name: acme\ncolumns:\n  calling_number: A\n  called_number: B\n",
         "columns.started_at: required"),
        (ACME_YAML.replace("delimiter:", "delimitr:"),
         ":2: delimitr: unknown key; remove it or check its spelling"),
        (ACME_YAML.replace("IN: incoming", "IN: inbound"),
         ":19: columns.direction.values.IN: 'inbound' is not one of 'incoming', 'outgoing' or "
         "'internal'"),
        (ACME_YAML.replace("header: true", "header: false"),
         "columns.started_at: 'Start' must be a column position (1 = first) because header is "
         "false"),
        (ACME_YAML.replace("encoding", "x") + "encoding: latin-1\n",
         "encoding: 'latin-1' is not supported: only utf-8 files are read"),
        (ACME_YAML.replace("Europe/Paris", "Mars/Olympus"),
         "timezone: 'Mars/Olympus' is not a time zone"),
        (ACME_YAML.replace('"%d/%m/%Y %H:%M:%S"', "dd/mm/yyyy"),
         "timestamp_format: 'dd/mm/yyyy' is not a strftime format"),
        (ACME_YAML + "name: again\n", ":23: name: appears twice (lines 1 and 23); keep one"),
        ("name: acme\ncolumns: [a, b\n", "not valid YAML"),
        ("- just\n- a list\n", "the mapping must be a YAML mapping"),
        ("", "the mapping must be a YAML mapping"),
        (ACME_YAML.replace("name: acme-pbx", "name: Acme PBX"), "name: String should match"),
    ],
)  # fmt: skip
def test_bad_mapping_is_one_line_naming_file_and_key(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = write(tmp_path, "acme.yaml", text.replace("timezone: x\n", ""))
    with pytest.raises(SpecError) as caught:
        load_mapping(path)
    message = str(caught.value)
    assert all(line.startswith(f"{path}:") for line in message.splitlines())
    assert expected in message


def test_several_problems_are_all_named(tmp_path: Path) -> None:
    path = write(tmp_path, "m.yaml", "name: m\ndelimiter: ',,'\ncolumns: {started_at: S}\n")
    with pytest.raises(SpecError) as caught:
        load_mapping(path)
    assert str(caught.value).splitlines() == [
        f"{path}:2: delimiter: ',,' is not one character such as ',' ';' '|' or 'tab'",
        f"{path}:3: columns.calling_number: required",
        f"{path}:3: columns.called_number: required",
    ]


def test_yaml_scalars_stay_text(store: Store, settings: Settings, tmp_path: Path) -> None:
    """`NO: missed` must not become `False: missed` (YAML 1.1 booleans)."""
    mapping = write(
        tmp_path,
        "yn.yaml",
        """
name: yes-no
header: yes
timestamp_format: epoch
columns:
  started_at: t
  calling_number: a
  called_number: b
  disposition: {column: ok, values: {YES: answered, NO: missed}}
""",
    )
    path = write(tmp_path, "yn.csv", "t,a,b,ok\n1705312800,201,202,NO\n1705312900,201,202,yes\n")
    ingest(store, settings, path, dialect=load_mapping(mapping))
    calls = calls_by_line(store)
    assert (calls[2]["disposition"], calls[3]["disposition"]) == ("missed", "answered")


def test_missing_mapping_file_names_the_shipped_ones(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match=r"no such mapping file .*freeswitch-example"):
        load_mapping(tmp_path / "nope.yaml")


# -- the command line ----------------------------------------------------------------------------


def test_cli_mapping_option(cli: Any, tmp_path: Path) -> None:
    mapping = write(tmp_path, "acme.yaml", ACME_YAML)
    data = write(tmp_path, "acme.csv", ACME_CSV)
    result = cli("ingest", str(data), "--mapping", str(mapping), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["rows_read"], report["stored"], report["rejected"]) == (3, 3, 0)
    assert report["results"][0]["dialect"] == "generic-csv:acme-pbx"

    bad = write(tmp_path, "bad.yaml", "name: x\ncolumns: {}\n")
    result = cli("ingest", str(data), "--mapping", str(bad))
    assert result.exit_code == 2
    assert "columns.started_at: required" in result.output


def test_the_documented_examples_work(store: Store, settings: Settings, tmp_path: Path) -> None:
    doc = (Path(__file__).parents[2] / "docs" / "generic-csv-mapping.md").read_text("utf-8")
    blocks = [b.split("\n", 1)[1] for b in doc.split("```")[1::2]]
    [export] = [b for b in blocks if b.startswith("CallID;")]
    [mapping] = [b for b in blocks if b.startswith("name: acme-pbx")]
    dialect = load_mapping(write(tmp_path, "acme.yaml", mapping))
    report = ingest(store, settings, write(tmp_path, "export.csv", export), dialect=dialect)
    assert (report.rows_read, report.stored, report.rejected) == (2, 2, 0)
    [shown] = [line for line in doc.splitlines() if "'inbound' is not one of" in line]
    with pytest.raises(SpecError) as caught:
        load_mapping(write(tmp_path, "acme.yaml", mapping.replace("IN: incoming", "IN: inbound")))
    assert str(caught.value) == shown.replace("mappings/acme.yaml", str(tmp_path / "acme.yaml"))

    [paragraph] = [p for p in (generic.__doc__ or "").split("\n\n") if "name: acme-pbx" in p]
    text = "\n".join(line.removeprefix("    ") for line in paragraph.splitlines())
    assert load_mapping(write(tmp_path, "doc.yaml", text)).name == "generic-csv:acme-pbx"


# -- mappings as formats of the registry ----------------------------------------------------


def test_format_and_mapping_options_read_the_registry_and_the_settings(tmp_path: Path) -> None:
    (tmp_path / "mappings").mkdir()
    write(tmp_path / "mappings", "acme.yaml", ACME_YAML)
    settings = Settings.model_validate({"ingest": {"mappings": ["mappings/acme.yaml"]}})
    shipped = DIALECTS.get("generic-csv:freeswitch-example")
    assert requested_dialect(settings, tmp_path) is None  # detected file by file
    acme = requested_dialect(settings, tmp_path, fmt="generic-csv:acme-pbx")
    assert acme is not None
    assert acme.name == "generic-csv:acme-pbx"
    assert requested_dialect(settings, tmp_path, fmt="generic-csv:freeswitch-example") is shipped
    assert requested_dialect(settings, tmp_path, mapping="freeswitch-example") is shipped
    with pytest.raises(UsageError, match=r"unknown format 'acme'; use one of: asterisk, .*"):
        requested_dialect(settings, tmp_path, fmt="acme")
    with pytest.raises(UsageError, match=r"generic-csv:acme-pbx, generic-csv:freeswitch-example"):
        requested_dialect(settings, tmp_path, fmt="acme")


def test_a_mapping_in_the_settings_takes_no_name_already_given(tmp_path: Path) -> None:
    shipped = (SHIPPED_MAPPINGS / "freeswitch-example.yaml").read_text(encoding="utf-8")
    write(tmp_path, "fs.yaml", shipped)  # a copy, to be changed, under the same name
    write(tmp_path, "acme.yaml", ACME_YAML)
    write(tmp_path, "acme2.yaml", ACME_YAML)
    # The shipped mapping itself, by its name, is no second format.
    fine = Settings.model_validate({"ingest": {"mappings": ["freeswitch-example", "acme.yaml"]}})
    assert [d.name for d in mapping_dialects(fine, tmp_path)] == [
        "generic-csv:freeswitch-example",
        "generic-csv:acme-pbx",
    ]
    for items, taken in (
        (["fs.yaml"], "the mapping .*freeswitch-example.yaml"),
        (["acme.yaml", "acme2.yaml"], "the mapping .*acme.yaml"),
    ):
        settings = Settings.model_validate({"ingest": {"mappings": items}})
        with pytest.raises(
            ConfigError, match=rf": ingest.mappings: the format .* is already {taken}"
        ):
            mapping_dialects(settings, tmp_path)
