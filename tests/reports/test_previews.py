"""Every public report has a preview picture, shipped with the library, up to date with the
code that draws it, and `report show` gives its path."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree

import pytest

from callacct.demo.previews import write_previews
from callacct.reports.library import PREVIEWS_FOLDER, library_folder, preview_path, public_reports
from tests.conftest import Cli

SHIPPED = Path(str(library_folder())) / PREVIEWS_FOLDER


@pytest.fixture(scope="module")
def drawn(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("previews")
    (folder / "stale-report.svg").write_text("<svg/>")
    write_previews(folder)
    return folder


def test_every_public_report_has_one_and_only_one() -> None:
    names = sorted(p.stem for p in SHIPPED.glob("*.svg"))
    assert names == sorted(public_reports())
    assert sorted(p.name for p in SHIPPED.iterdir()) == [f"{name}.svg" for name in names]


def test_the_shipped_previews_are_up_to_date(drawn: Path) -> None:
    """Drawn again from the fixed demo, byte for byte: run `make previews` after changing
    a public report or how charts and tables are drawn."""
    stale = [
        name
        for name in sorted(public_reports())
        if (drawn / f"{name}.svg").read_bytes() != (SHIPPED / f"{name}.svg").read_bytes()
    ]
    assert not stale, f"out of date (run 'make previews'): {', '.join(stale)}"
    assert not (drawn / "stale-report.svg").exists()


def test_a_preview_shows_the_report(drawn: Path) -> None:
    svg = ElementTree.parse(drawn / "cost-by-class.svg").getroot()
    texts = [t.text or "" for t in svg.iter("{http://www.w3.org/2000/svg}text")]
    assert texts[0] == "Cost by destination class"
    assert {"Cost (EUR)", "Cost (USD)"} <= set(texts)  # its chart, a pie per currency
    assert "Destination class" in texts  # its table
    assert "Generated" not in texts  # nothing that changes from one run to the next
    assert (drawn / "cost-by-class.svg").stat().st_size < 30_000


def test_report_show_gives_its_path(demo: Cli) -> None:
    expected = preview_path("busy-hour")
    assert expected is not None
    assert expected == SHIPPED / "busy-hour.svg"
    shown = demo("report", "show", "busy-hour")
    assert shown.exit_code == 0, shown.output
    assert f"preview: {expected}" in shown.output
    document = demo("report", "show", "busy-hour", "--json")
    assert json.loads(document.output)["preview"] == str(expected)
    assert preview_path("no-such-report") is None
