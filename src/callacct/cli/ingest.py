"""`callacct ingest`: load CDR files, list rejected records."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from callacct.cli._app import app
from callacct.cli._context import language_of, warn, workspace_from
from callacct.cli._options import LangOption, count_option
from callacct.cli._output import (
    ProgressLine,
    console,
    err_console,
    print_error,
    print_json,
    styled,
)
from callacct.errors import UsageError
from callacct.i18n import Message, format_number, said_in, t
from callacct.ingest.dialects import DIALECTS
from callacct.ingest.engine import IngestReport
from callacct.ingest.generic import registered_mappings


def _formats_help() -> str:
    return (
        "CDR format; detected from content when omitted: "
        + ", ".join(DIALECTS.names())
        + " (or generic-csv:NAME of a mapping in ingest.mappings)."
    )


def _mapping_help() -> str:
    return (
        "Generic CSV mapping (YAML file, or the name of a registered one: "
        + ", ".join(registered_mappings())
        + "); implies the generic-csv format."
    )


@app.command("ingest")
def ingest_command(
    ctx: typer.Context,
    paths: Annotated[
        list[str] | None,
        typer.Argument(
            help="Files, folders (read recursively) or glob patterns.", show_default=False
        ),
    ] = None,
    fmt: Annotated[str | None, typer.Option("--format", help=_formats_help())] = None,
    mapping: Annotated[
        Path | None,
        typer.Option("--mapping", help=_mapping_help()),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Validate and count, store nothing.")
    ] = False,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Read files again even if their content was loaded (after a corrected "
            "mapping, say): records already stored count as duplicates, never twice.",
        ),
    ] = False,
    move_to: Annotated[
        Path | None,
        typer.Option(
            "--move-to",
            help="Move the files to this folder once their calls are stored, attributed and "
            "rated (a file that cannot be moved stays where it is, with a warning).",
        ),
    ] = None,
    rejects: Annotated[
        bool, typer.Option("--rejects", help="List rejected records instead of ingesting.")
    ] = False,
    last: Annotated[int, count_option("--last", "With --rejects: how many to list.")] = 50,
    alarms: Annotated[
        bool | None,
        typer.Option(
            "--alarms/--no-alarms",
            help="Then evaluate the due alarms (default: the setting alarms.after_ingest).",
        ),
    ] = None,
    lang: LangOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Load CDR files into the store. Re-runnable: files and records already loaded are skipped
    (a file that stored nothing because of rejected records is read again; --force reads any).

    Every record read is stored, a duplicate, or rejected (kept with file, line and reason).
    Exit code 1 when anything was rejected.

    Examples:
      callacct ingest /var/cdr/                       # a folder, recursively
      callacct ingest '/var/cdr/cdr_*' --move-to /var/cdr/done
      callacct ingest Master.csv --format asterisk --dry-run
      callacct ingest export.csv --mapping mappings/acme.yaml
      callacct ingest Master.csv --mapping freeswitch-example
      callacct ingest export.csv --mapping acme-fixed.yaml --force
      callacct ingest --rejects --json
      callacct ingest /var/cdr/ --alarms              # then the alarms that are due
      callacct ingest /var/cdr/ --lang fr
    """
    workspace = workspace_from(ctx)
    language = language_of(ctx, workspace, lang)
    if rejects:
        _show_rejects(workspace.rejects(last=last), as_json, language)
        return
    if not paths:
        raise UsageError(Message("error.ingest_nothing_or_rejects"))
    line = ProgressLine(language)
    with line.running():
        result = workspace.ingest(
            paths,
            format=fmt,
            mapping=mapping,
            dry_run=dry_run,
            force=force,
            move_to=move_to,
            progress=line,
            alarms=alarms,
        )
    if as_json:
        print_json(result.to_dict())
    else:
        _show_report(result.ingest, language)
        if result.alarms is not None:
            # Imported here: an ingest runs no alarms unless asked (`alarms.after_ingest`).
            from callacct.cli.alarm import show_run

            show_run(result.alarms, as_json=False, language=language)
        if result.budgets is not None and result.budgets.events:
            for text in result.budgets.lines():
                console.print(text)
    for warning in result.warnings:
        warn(warning, language)
    if result.has_problems:
        raise typer.Exit(1)


def _show_report(report: IngestReport, language: str) -> None:
    verb = "would_store" if report.dry_run else "stored"
    title = t("cli.dry_run", language) if report.dry_run else None
    table = Table(title=title, show_header=True)
    for name in ("files", "skipped", "rows_read", verb, "duplicates", "rejected", "calls"):
        table.add_column(t(f"cli.ingest.{name}", language), justify="right")
    table.add_row(
        *(
            format_number(value, language)
            for value in (
                report.files,
                report.files_skipped,
                report.rows_read,
                report.stored,
                report.duplicates,
                report.rejected,
                report.calls,
            )
        )
    )
    console.print(table)
    if report.files_in_progress:
        console.print(t("cli.ingest.in_progress", language, files=report.files_in_progress))
    if report.files_ignored:
        console.print(t("cli.ingest.ignored", language, files=report.files_ignored))
    for result in report.results:
        if result.status == "failed":
            print_error(t("cli.failed", language), said_in(result.message, language), "red")
    if report.rejected:
        err_console.print(
            styled(
                "[yellow]{}[/]; {}",
                t("cli.ingest.rejected_records", language, records=report.rejected),
                t("cli.ingest.see_rejects", language),
            )
        )


def _show_rejects(rows: list[dict[str, object]], as_json: bool, language: str) -> None:
    if as_json:
        print_json(rows)
        return
    if not rows:
        console.print(t("cli.ingest.no_rejects", language))
        return
    table = Table()
    # The whole path, folded if need be: two Master.csv of different folders must differ.
    table.add_column(t("cli.ingest.file", language), overflow="fold")
    for name in ("line", "reason", "message", "raw"):
        table.add_column(t(f"cli.ingest.{name}", language))
    for row in rows:
        raw = str(row["raw"] or "")
        table.add_row(
            str(row["file"]),
            str(row["line"]),
            str(row["reason"]),
            str(row["message"]),
            raw[:40] + ("…" if len(raw) > 40 else ""),
        )
    console.print(table)
