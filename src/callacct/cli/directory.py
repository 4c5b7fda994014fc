"""`callacct directory`: import people from CSV or LDAP, list and show them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from callacct.api import DirectoryResult
from callacct.cli._app import app
from callacct.cli._context import language_of, workspace_from
from callacct.cli._options import LangOption
from callacct.cli._output import ProgressLine, console, print_error, print_json, styled
from callacct.directory import COLUMNS
from callacct.i18n import format_number, said_in, t

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
    lang: LangOption = None,
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
      callacct directory import people.csv --lang fr
    """
    workspace = workspace_from(ctx)
    language = language_of(ctx, workspace, lang)
    _report(workspace.directory_import(file, as_of=as_of, dry_run=dry_run), as_json, language)


@directory_app.command("sync-ldap")
def sync_ldap_command(
    ctx: typer.Context,
    as_of: AsOf = None,
    dry_run: DryRun = False,
    lang: LangOption = None,
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
    language = language_of(ctx, workspace, lang)
    line = ProgressLine(language)
    with line.running():
        result = workspace.sync_ldap(as_of=as_of, dry_run=dry_run, progress=line)
    _report(result, as_json, language)


def _report(outcome: DirectoryResult, as_json: bool, language: str) -> None:
    result, rating = outcome.directory, outcome.rating
    if as_json:
        print_json(outcome.to_dict())
    else:
        changes = result.changes
        title = t("cli.dry_run", language) if changes.dry_run else None
        table = Table(title=title)
        headers = ("read", "accepted", "rejected", "added", "changed", "ended", "unchanged",
                   "extensions")  # fmt: skip
        for name in headers:
            table.add_column(t(f"cli.directory.{name}", language), justify="right")
        counts = (
            result.read,
            result.accepted,
            len(result.problems),
            len(changes.added),
            len(changes.changed),
            len(changes.ended),
            changes.unchanged,
        )
        table.add_row(
            *(format_number(count, language) for count in counts),
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
            logins = ", ".join(changes.backdated)
            console.print(t("cli.directory.backdated", language, since=since, logins=logins))
        if changes.attribution is not None:
            done = changes.attribution
            console.print(
                t(
                    "cli.directory.attributed",
                    language,
                    calls=format_number(done.calls, language),
                    attributed=format_number(done.attributed, language),
                    undefined=format_number(done.undefined, language),
                )
            )
        if rating is not None and rating.changed:
            changed = format_number(rating.changed, language)
            console.print(t("cli.directory.rerated", language, calls=changed))
        for problem in result.problems:
            print_error(t("cli.rejected", language), said_in(problem, language), "yellow")
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
    lang: LangOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print people as a JSON list.")] = False,
) -> None:
    """List the people in the directory (those within your scope with --as).

    Examples:
      callacct directory list
      callacct directory list --at 2026-01-31 --json
      callacct --as msupervisor directory list
    """
    workspace = workspace_from(ctx)
    language = language_of(ctx, workspace, lang)
    people = workspace.people(at=at)
    if as_json:
        print_json([_json_person(p) for p in people])
        return
    if not people:
        console.print(t("cli.directory.nobody", language))
        return
    table = Table()
    for name in ("login", "name", "role", "department", "cost_center", "site", "extensions_held"):
        table.add_column(t(f"cli.directory.{name}", language))
    for p in people:
        table.add_row(
            p["login"],
            p["name"] or "",
            t(f"value.role.{p['role']}", language),
            p["department"] or "",
            p["cost_center"] or "",
            p["site"] or "",
            " ".join(p["extensions"] or ()),
        )
    console.print(table)
    console.print(styled("[dim]{}[/]", t("cli.directory.people", language, people=len(people))))


@directory_app.command("show")
def show_command(
    ctx: typer.Context,
    login: Annotated[str, typer.Argument(help="Login of the person.", show_default=False)],
    lang: LangOption = None,
    as_json: Json = False,
) -> None:
    """Show one person: every version (what changed when) and every extension they held.

    Examples:
      callacct directory show jdupont --json
      callacct directory show jdupont --lang de
    """
    workspace = workspace_from(ctx)
    language = language_of(ctx, workspace, lang)
    history = workspace.person(login)
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
    for name in ("from", "to", "name", "role", "department", "cost_center", "site"):
        table.add_column(t(f"cli.directory.{name}", language))
    for v in versions:
        table.add_row(
            _when(v["valid_from"], language),
            _when(v["valid_to"], language),
            v["name"] or "",
            t(f"value.role.{v['role']}", language)
            + (f" ({'; '.join(v['scopes'])})" if v["scopes"] else ""),
            v["department"] or "",
            v["cost_center"] or "",
            v["site"] or "",
        )
    console.print(table)
    ext = Table(
        *(t(f"cli.directory.{key}", language) for key in ("extension", "from", "to")),
        title=t("cli.directory.extensions_held", language),
    )
    for e in history["extensions"]:
        ext.add_row(
            e["extension"], _when(e["valid_from"], language), _when(e["valid_to"], language)
        )
    console.print(ext)


def _when(value: dt.datetime | None, language: str) -> str:
    if value is None:
        return t("cli.directory.now", language)
    if value.year <= 1900:
        return t("cli.directory.ever", language)
    return value.strftime("%Y-%m-%d %H:%M")


def _json_version(row: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, dt.datetime):
            value = value.replace(tzinfo=dt.UTC).isoformat()
        out[key] = value
    return out


__all__ = ["COLUMNS", "directory_app"]
