"""The README's "From Python" example runs as written: a script using only `import callacct`
ingests a folder of CUCM files, rates them, runs a report as a person and writes an xlsx."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
from pathlib import Path

import openpyxl

from callacct.demo import build_people, write_demo_cdr_files, write_people_csv

README = Path(__file__).parents[2] / "README.md"


def readme_example() -> str:
    section = README.read_text(encoding="utf-8").split("## From Python", 1)[1]
    found = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert found, "no python block in the README's From Python section"
    return found.group(1)


def test_the_readme_example_runs(tmp_path: Path) -> None:
    people = build_people(seed=42, count=200)  # the demo's people: hdupont is one
    write_people_csv(people, tmp_path / "people.csv")
    yesterday = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
    write_demo_cdr_files(tmp_path / "cdr", people=people, seed=42, days=35, end=yesterday)
    code = readme_example()
    assert "import callacct\n" in code
    assert not re.search(r"from callacct\.|import callacct\.", code)  # the public API only
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "records stored; cost:" in lines[0]
    assert len(lines) == 4  # and the person's last three calls
    book = openpyxl.load_workbook(tmp_path / "hdupont-bill.xlsx")
    assert book.active.title == "Facture par utilisateur"  # in hdupont's language (French)
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[0][0] == "Utilisateur"
    users = {person.login for person in people}
    shown = [c for row in rows for c in row if c in users]
    assert shown == ["hdupont"]  # only what hdupont may see
    assert rows[1][3] > 0  # hdupont's calls of last month
