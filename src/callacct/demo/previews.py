"""Previews of the public reports, drawn from a small demo: `make previews`, or
`python -m callacct.demo.previews [FOLDER]` (default `report_specs/previews`).

The demo is built in a temporary folder from a fixed seed, last day and size, and every
public report is run over its whole period in English, so the same code gives the same
pictures byte for byte: a test rebuilds them and compares (`tests/reports/test_previews.py`).
The previews ship with the library (`report_specs/previews/NAME.svg`, inside the wheel);
`report show NAME` gives the path of one.
"""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
from pathlib import Path
from typing import Final
from zoneinfo import ZoneInfo

from callacct.config import open_workspace
from callacct.demo.workspace import build_demo
from callacct.directory.scope import admin_scope
from callacct.reports.library import LIBRARY_FOLDER, PREVIEWS_FOLDER, public_reports
from callacct.reports.render.preview import preview_svg
from callacct.reports.run import run_report
from callacct.service_numbers import ServiceNumbers
from callacct.store import open_store

#: The demo the previews are drawn from: small (quick to build), two sites and currencies.
SEED: Final = 7
PEOPLE: Final = 40
DAYS: Final = 14
LAST_DAY: Final = dt.date(2026, 3, 31)
LANGUAGE: Final = "en"


def write_previews(folder: Path) -> list[Path]:
    """Draw the preview of every public report into `folder` (made if missing) as NAME.svg;
    previews of reports the library no longer has are deleted. Returns the files written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    with tempfile.TemporaryDirectory(prefix="callacct-previews-") as work:
        demo = build_demo(
            Path(work) / "demo", seed=SEED, days=DAYS, end=LAST_DAY, people=PEOPLE, reports=False
        )
        settings = open_workspace(demo.workspace).settings
        period = {
            "from": demo.cdr.first_day.isoformat(),
            "to": demo.cdr.last_day.isoformat(),
            "period": None,
        }
        store = open_store(open_workspace(demo.workspace).store_path, read_only=True)
        try:
            for name, spec in sorted(public_reports().items()):
                result = run_report(
                    store.con,
                    spec,
                    scope=admin_scope(settings),
                    tz=ZoneInfo(settings.general.timezone),
                    language=LANGUAGE,
                    overrides=period,
                    now=dt.datetime.combine(LAST_DAY, dt.time(12), dt.UTC),
                    services=ServiceNumbers.of(settings.dialplan),
                )
                path = folder / f"{name}.svg"
                path.write_text(preview_svg(result), encoding="utf-8")
                written.append(path)
        finally:
            store.close()
    for stale in folder.glob("*.svg"):
        if stale not in written:
            stale.unlink()
    return written


def main(argv: list[str]) -> int:
    """Write the previews into the folder named by `argv` (default `report_specs/previews`)."""
    write_previews(Path(argv[0]) if argv else Path(LIBRARY_FOLDER) / PREVIEWS_FOLDER)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
