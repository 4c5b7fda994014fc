"""Where reports come from: the public library (the `report_specs/` folder, shipped inside the
package), and personal reports saved in the store by their owner (table `report_specs`), plus
the log of runs (`report_runs`).

A personal report is a full spec (YAML) stored for one owner, the `--as` login or, without it,
the operator. Its name may not be a public report's name, so a name always means one report.
What the owner may not ask (a masked number compared by range or pattern when their numbers
are masked: `masked_numbers`) is refused when the report is saved or imported.

Example:
    >>> "calls-detail" in public_reports()
    True
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, Final

import duckdb
import yaml

from callacct.errors import NotFoundError, SpecError, UsageError
from callacct.problems import Problem, SpecProblems, format_path
from callacct.reports.filters import Filters
from callacct.reports.spec import (
    ReportSpec,
    check_report_name,
    load_text,
    masked_number_problems,
    text_in,
    validate_text,
)

#: The owner of personal reports saved without `--as` (not a valid login: no clash).
OPERATOR: Final = "(operator)"


@dataclass(frozen=True)
class ReportEntry:
    """A report as listed: its spec and whether it is public or whose it is."""

    spec: ReportSpec
    owner: str | None = None  # None: public

    @property
    def public(self) -> bool:
        return self.owner is None

    def to_dict(self, language: str = "en") -> dict[str, Any]:
        return {
            "name": self.spec.name,
            "category": self.spec.category,
            "title": text_in(self.spec.title, language),
            "description": text_in(self.spec.description, language),
            "public": self.public,
            "owner": self.owner,
            "kind": "detail" if self.spec.detail else "summary",
        }


#: The library's folder: at the top of the source tree, and inside the package when installed.
LIBRARY_FOLDER: Final = "report_specs"


def library_folder() -> Traversable:
    """The folder of the public library: `callacct/report_specs` in an installed package (the
    wheel carries it there), else `report_specs/` of the source tree the package runs from (an
    editable install).

    >>> sorted(item.name for item in library_folder().iterdir())[:2]
    ['busy-hour.yaml', 'calls-by-gateway.yaml']
    """
    packaged = resources.files("callacct") / LIBRARY_FOLDER
    if packaged.is_dir():
        return packaged
    checkout = Path(__file__).resolve().parents[3] / LIBRARY_FOLDER
    if checkout.is_dir():
        return checkout
    raise SpecError(
        f"the public report library ({LIBRARY_FOLDER}) is missing from this installation of "
        "callacct; install it again"
    )


#: The previews' folder inside the library: one picture per public report, NAME.svg.
PREVIEWS_FOLDER: Final = "previews"


def preview_path(name: str) -> Path | None:
    """The shipped preview picture of public report `name` (None for a personal report, or
    when the installation has none).

    >>> preview_path("cost-by-class").name
    'cost-by-class.svg'
    """
    if name not in public_reports():
        return None
    found = library_folder() / PREVIEWS_FOLDER / f"{name}.svg"
    return Path(str(found)) if found.is_file() else None


def spec_files() -> list[tuple[str, str]]:
    """(file name, text) of every shipped public spec, by name."""
    folder = library_folder()
    return sorted(
        (item.name, item.read_text(encoding="utf-8"))
        for item in folder.iterdir()
        if item.name.endswith(".yaml")
    )


def validate_library() -> list[Problem]:
    """Every problem of the shipped specs (none in a released package)."""
    problems: list[Problem] = []
    names: dict[str, str] = {}
    for file_name, text in spec_files():
        spec, found = validate_text(text, f"{LIBRARY_FOLDER}/{file_name}")
        problems += found
        if spec is not None:
            if spec.name in names:
                problems.append(
                    Problem(
                        f"{LIBRARY_FOLDER}/{file_name}",
                        None,
                        "name",
                        spec.name,
                        f"{spec.name!r} is also in {names[spec.name]}",
                    )
                )
            names[spec.name] = file_name
    return problems


@cache
def public_reports() -> dict[str, ReportSpec]:
    """The public library by name (loaded once)."""
    problems = validate_library()
    if problems:
        raise SpecProblems(problems)
    specs = [load_text(text, f"{LIBRARY_FOLDER}/{name}") for name, text in spec_files()]
    return {spec.name: spec for spec in sorted(specs, key=lambda s: (s.category, s.name))}


def personal_reports(con: duckdb.DuckDBPyConnection, owner: str) -> list[ReportEntry]:
    rows = con.execute(
        "SELECT name, yaml FROM report_specs WHERE owner = ? ORDER BY grp, name", [owner]
    ).fetchall()
    return [ReportEntry(load_text(text, f"personal report {name}"), owner) for name, text in rows]


def list_reports(con: duckdb.DuckDBPyConnection, owner: str) -> list[ReportEntry]:
    """Public reports, then the owner's personal ones."""
    public = [ReportEntry(spec) for spec in public_reports().values()]
    return public + personal_reports(con, owner)


def find_report(con: duckdb.DuckDBPyConnection, owner: str, name: str) -> ReportEntry:
    """The public report `name`, else the owner's personal report `name`."""
    check_report_name(name)
    if name in public_reports():
        return ReportEntry(public_reports()[name])
    rows = con.execute(
        "SELECT yaml FROM report_specs WHERE owner = ? AND name = ?", [owner, name]
    ).fetchall()
    if not rows:
        raise NotFoundError(f"no report named {name!r}; see 'callacct report list'")
    return ReportEntry(load_text(rows[0][0], f"personal report {name}"), owner)


def derive_report(
    base: ReportSpec,
    name: str,
    overrides: dict[str, Any],
    *,
    description: str | None = None,
    group: str | None = None,
    title: str | None = None,
    timezone: str | None = None,
    masked_numbers: bool = False,
) -> ReportSpec:
    """A personal report: `base` renamed, with `overrides` as its default filters and
    `timezone` as its time zone (else `base`'s), checked as `save_report` does. To group it
    another way, regroup `base` first (`callacct.reports.regroup`)."""
    check_report_name(name)
    filters: Filters = base.filters.merged(overrides)
    data = base.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    data.update(
        name=name,
        category=group or "personal",
        title=title or base.model_dump(mode="json")["title"],
        description=description if description is not None else data.get("description", ""),
        filters=filters.given(),
    )
    if timezone is not None:
        data["timezone"] = timezone
    # Validated as a file would be: a bad group or title is a problem naming its key.
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    spec, problems = validate_text(text, name, masked_numbers=masked_numbers)
    if problems:
        raise SpecProblems(problems)
    assert spec is not None
    return spec


def save_report(
    con: duckdb.DuckDBPyConnection,
    owner: str,
    spec: ReportSpec,
    *,
    replace: bool = False,
    masked_numbers: bool = False,
    now: dt.datetime | None = None,
) -> None:
    """Store `spec` as `owner`'s personal report (replacing one of that name if `replace`).

    `masked_numbers`: the owner's numbers are masked, so a spec comparing a number by range or
    pattern is refused (`SpecError`) here, when it is saved, not only when it runs.
    """
    check_report_name(spec.name)
    problems = masked_number_problems(spec) if masked_numbers else []
    if problems:
        where = f"personal report {spec.name}"
        raise SpecProblems([Problem(where, None, format_path(p), message=m) for p, m in problems])
    if spec.name in public_reports():
        raise UsageError(f"{spec.name!r} is a public report; choose another name")
    stamp = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(tzinfo=None)
    exists = con.execute(
        "SELECT created_at FROM report_specs WHERE owner = ? AND name = ?", [owner, spec.name]
    ).fetchall()
    if exists and not replace:
        raise UsageError(f"personal report {spec.name!r} exists; add --replace to overwrite it")
    description = spec.description if isinstance(spec.description, str) else ""
    if not isinstance(spec.description, str):
        description = dict(spec.description).get("en", "")
    con.execute("DELETE FROM report_specs WHERE owner = ? AND name = ?", [owner, spec.name])
    con.execute(
        "INSERT INTO report_specs VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            owner,
            spec.name,
            description,
            spec.category,
            spec.to_yaml(),
            exists[0][0] if exists else stamp,
            stamp,
        ],
    )


def delete_report(con: duckdb.DuckDBPyConnection, owner: str, name: str) -> None:
    check_report_name(name)
    if name in public_reports():
        raise UsageError(f"{name!r} is a public report; only personal reports can be deleted")
    found = con.execute(
        "SELECT count(*) FROM report_specs WHERE owner = ? AND name = ?", [owner, name]
    ).fetchall()[0][0]
    if not found:
        raise NotFoundError(f"no personal report named {name!r}")
    con.execute("DELETE FROM report_specs WHERE owner = ? AND name = ?", [owner, name])


def import_report(
    con: duckdb.DuckDBPyConnection,
    owner: str,
    text: str,
    source: str,
    *,
    replace: bool = False,
    masked_numbers: bool = False,
) -> ReportSpec:
    """Validate a spec file's text (as `save_report` checks it, problems with file and line)
    and store it as `owner`'s personal report."""
    spec = load_text(text, source, masked_numbers=masked_numbers)
    save_report(con, owner, spec, replace=replace, masked_numbers=masked_numbers)
    return spec


def record_run(
    con: duckdb.DuckDBPyConnection, owner: str, name: str, now: dt.datetime | None = None
) -> None:
    """Count a run of report `name` by `owner` (the home view offers the most used)."""
    stamp = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(tzinfo=None)
    con.execute("INSERT INTO report_runs VALUES (?, ?, ?)", [owner, name, stamp])


def most_used(con: duckdb.DuckDBPyConnection, owner: str, limit: int = 5) -> list[tuple[str, int]]:
    """The owner's most-run reports that still exist, most runs first."""
    rows = con.execute(
        "SELECT name, count(*) AS runs, max(ran_at) AS last FROM report_runs WHERE owner = ? "
        "GROUP BY name ORDER BY runs DESC, last DESC, name",
        [owner],
    ).fetchall()
    personal = {
        r[0]
        for r in con.execute("SELECT name FROM report_specs WHERE owner = ?", [owner]).fetchall()
    }
    known = set(public_reports()) | personal
    return [(str(name), int(runs)) for name, runs, _ in rows if name in known][:limit]


__all__ = [
    "OPERATOR",
    "PREVIEWS_FOLDER",
    "ReportEntry",
    "delete_report",
    "derive_report",
    "find_report",
    "import_report",
    "list_reports",
    "most_used",
    "preview_path",
    "public_reports",
    "record_run",
    "save_report",
]
