"""`callacct ingest`: load CDR files, list rejected records."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from callacct.cli._app import app
from callacct.cli._context import workspace_from
from callacct.cli._options import count_option
from callacct.cli._output import (
    ProgressLine,
    console,
    err_console,
    print_error,
    print_json,
    styled,
)
from callacct.cli.alarm import show_run
from callacct.errors import UsageError
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
    """
    workspace = workspace_from(ctx)
    if rejects:
        _show_rejects(workspace.rejects(last=last), as_json)
        return
    if not paths:
        raise UsageError("name at least one file, folder or glob to ingest (or use --rejects)")
    line = ProgressLine()
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
        _show_report(result.ingest)
        if result.alarms is not None:
            show_run(result.alarms, as_json=False)
        if result.budgets is not None and result.budgets.events:
            for text in result.budgets.lines():
                console.print(text)
    for warning in result.warnings:
        print_error("warning:", warning, "yellow")
    if result.has_problems:
        raise typer.Exit(1)


def _show_report(report: IngestReport) -> None:
    verb = "would store" if report.dry_run else "stored"
    table = Table(title="dry run: nothing stored" if report.dry_run else None, show_header=True)
    for name in ("files", "skipped", "rows read", verb, "duplicates", "rejected", "calls"):
        table.add_column(name, justify="right")
    table.add_row(
        str(report.files),
        str(report.files_skipped),
        f"{report.rows_read:,}",
        f"{report.stored:,}",
        f"{report.duplicates:,}",
        f"{report.rejected:,}",
        f"{report.calls:,}",
    )
    console.print(table)
    if report.files_in_progress:
        console.print(
            f"{report.files_in_progress} file(s) still being written (name starts "
            "with '_') were left for the next run."
        )
    if report.files_ignored:
        console.print(
            f"{report.files_ignored} file(s) in the folders are not CDR files and were ignored."
        )
    for result in report.results:
        if result.status == "failed":
            print_error("failed:", result.message, "red")
    if report.rejected:
        err_console.print(
            styled(
                "[yellow]{} record(s) rejected[/]; see them with 'callacct ingest --rejects'",
                report.rejected,
            )
        )


def _show_rejects(rows: list[dict[str, object]], as_json: bool) -> None:
    if as_json:
        print_json(rows)
        return
    if not rows:
        console.print("No rejected records.")
        return
    table = Table()
    # The whole path, folded if need be: two Master.csv of different folders must differ.
    table.add_column("file", overflow="fold")
    for name in ("line", "reason", "message", "raw (start)"):
        table.add_column(name)
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
