"""`callacct directory`: import people from CSV or LDAP, list and show them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from callacct.api import DirectoryResult
from callacct.cli._app import app
from callacct.cli._context import workspace_from
from callacct.cli._output import ProgressLine, console, print_error, print_json, styled
from callacct.directory import COLUMNS

directory_app = typer.Typer(
    name="directory",
    no_args_is_help=True,
    help="People and extensions, effective-dated: import from CSV or LDAP/AD, list, show.\n\n"
    "Example: callacct directory import people.csv",
)
app.add_typer(directory_app)

AsOf = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="When the changes take effect (date or date-time in the reference time zone; "
        "default: now, or since ever for the first load).",
    ),
]
DryRun = Annotated[bool, typer.Option("--dry-run", help="Show what would change; store nothing.")]
Json = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]


@directory_app.command("import")
def import_command(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Directory CSV file.", show_default=False)],
    as_of: AsOf = None,
    dry_run: DryRun = False,
    as_json: Json = False,
) -> None:
    """Apply a directory CSV file as the people of the CSV source.

    New people are added, changes make new versions, people of an earlier CSV import who are
    missing are ended; nothing is deleted. Calls are attributed again from --as-of on.

    Columns (header line, any order): login (required), name, email, language, role
    (user, supervisor, admin), department, cost_center, site, extension (several separated
    by ';'), manager, scope (a supervisor's scope, e.g. 'department:Sales;site:PAR').
    Every rejected line is reported; exit code 1 when any line was rejected.

    Examples:
      callacct directory import people.csv
      callacct directory import people.csv --as-of 2026-03-01 --dry-run
    """
    _report(workspace_from(ctx).directory_import(file, as_of=as_of, dry_run=dry_run), as_json)


@directory_app.command("sync-ldap")
def sync_ldap_command(
    ctx: typer.Context,
    as_of: AsOf = None,
    dry_run: DryRun = False,
    as_json: Json = False,
) -> None:
    """Read every person from LDAP / Active Directory and apply them as the LDAP source.

    Uses the ldap settings of callacct.toml; the search is paged. Changes make new versions,
    people gone from the directory are ended; nothing is deleted.

    The service account password comes from the environment variable named by
    ldap.bind_password_env (default CALLACCT_LDAP_PASSWORD).

    Examples:
      CALLACCT_LDAP_PASSWORD=... callacct directory sync-ldap --dry-run
      callacct directory sync-ldap --json
    """
    workspace = workspace_from(ctx)
    line = ProgressLine()
    with line.running():
        result = workspace.sync_ldap(as_of=as_of, dry_run=dry_run, progress=line)
    _report(result, as_json)


def _report(outcome: DirectoryResult, as_json: bool) -> None:
    result, rating = outcome.directory, outcome.rating
    if as_json:
        print_json(outcome.to_dict())
    else:
        changes = result.changes
        title = "dry run: nothing stored" if changes.dry_run else None
        table = Table(title=title)
        for name in ("read", "accepted", "rejected", "added", "changed", "ended", "unchanged"):
            table.add_column(name, justify="right")
        table.add_column("extensions +/-", justify="right")
        table.add_row(
            str(result.read),
            str(result.accepted),
            str(len(result.problems)),
            str(len(changes.added)),
            str(len(changes.changed)),
            str(len(changes.ended)),
            str(changes.unchanged),
            f"{len(changes.extensions_added)}/{len(changes.extensions_ended)}",
        )
        console.print(table)
        if changes.dry_run:
            for login in changes.added:
                console.print(f"  + {login}")
            for login, fields in changes.changed.items():
                console.print(f"  ~ {login}: {', '.join(fields)}")
            for login in changes.ended:
                console.print(f"  - {login}")
        if changes.backdated:
            since = changes.as_of.strftime("%Y-%m-%d %H:%M")
            console.print(f"backdated to {since} UTC: {', '.join(changes.backdated)}")
        if changes.attribution is not None:
            done = changes.attribution
            console.print(
                f"{done.calls:,} call(s) attributed again ({done.attributed:,} to a person, "
                f"{done.undefined:,} with an extension not in the directory)"
            )
        if rating is not None and rating.changed:
            console.print(f"{rating.changed:,} call(s) rated again after a change of site")
        for problem in result.problems:
            print_error("rejected:", problem, "yellow")
    if result.has_problems:
        raise typer.Exit(1)


def _json_person(person: dict[str, Any]) -> dict[str, Any]:
    out = {key: person[key] for key in person}
    out["extensions"] = list(person.get("extensions") or [])
    out["scopes"] = list(person.get("scopes") or [])
    since = person.get("valid_from")
    if isinstance(since, dt.datetime):
        out["valid_from"] = since.replace(tzinfo=dt.UTC).isoformat()
    return out


@directory_app.command("list")
def list_command(
    ctx: typer.Context,
    at: Annotated[
        str | None,
        typer.Option("--at", help="The directory as it was then (default: now)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print people as a JSON list.")] = False,
) -> None:
    """List the people in the directory (those within your scope with --as).

    Examples:
      callacct directory list
      callacct directory list --at 2026-01-31 --json
    """
    people = workspace_from(ctx).people(at=at)
    if as_json:
        print_json([_json_person(p) for p in people])
        return
    if not people:
        console.print("No people in the directory.")
        return
    table = Table()
    for name in ("login", "name", "role", "department", "cost centre", "site", "extensions"):
        table.add_column(name)
    for p in people:
        table.add_row(
            p["login"],
            p["name"] or "",
            p["role"],
            p["department"] or "",
            p["cost_center"] or "",
            p["site"] or "",
            " ".join(p["extensions"] or ()),
        )
    console.print(table)
    console.print(styled("[dim]{} people[/]", len(people)))


@directory_app.command("show")
def show_command(
    ctx: typer.Context,
    login: Annotated[str, typer.Argument(help="Login of the person.", show_default=False)],
    as_json: Json = False,
) -> None:
    """Show one person: every version (what changed when) and every extension they held.

    Example: callacct directory show jdupont --json
    """
    history = workspace_from(ctx).person(login)
    versions = history["versions"]
    if as_json:
        print_json(
            {
                "login": login,
                "versions": [_json_version(v) for v in versions],
                "extensions": [_json_version(e) for e in history["extensions"]],
            }
        )
        return
    table = Table(title=login)
    for name in ("from (UTC)", "to (UTC)", "name", "role", "department", "cost centre", "site"):
        table.add_column(name)
    for v in versions:
        table.add_row(
            _when(v["valid_from"]),
            _when(v["valid_to"]),
            v["name"] or "",
            v["role"] + (f" ({'; '.join(v['scopes'])})" if v["scopes"] else ""),
            v["department"] or "",
            v["cost_center"] or "",
            v["site"] or "",
        )
    console.print(table)
    ext = Table("extension", "from (UTC)", "to (UTC)", title="extensions")
    for e in history["extensions"]:
        ext.add_row(e["extension"], _when(e["valid_from"]), _when(e["valid_to"]))
    console.print(ext)


def _when(value: dt.datetime | None) -> str:
    if value is None:
        return "now"
    if value.year <= 1900:
        return "ever"
    return value.strftime("%Y-%m-%d %H:%M")


def _json_version(row: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, dt.datetime):
            value = value.replace(tzinfo=dt.UTC).isoformat()
        out[key] = value
    return out


__all__ = ["COLUMNS", "directory_app"]
