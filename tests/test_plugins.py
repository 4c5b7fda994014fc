"""Another installed package adds a CDR format and an output format through entry points, and
callacct uses them as its own: `--format`, detection, `--help`. A broken plug-in, or one that
takes a name already given, is one line naming it and its package."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import DENIKOND, Cli, Plugins
from tests.ingest.test_generic import ACME_YAML

ACME_PACKAGE = {
    "acme_callacct.py": '''
        """Adds the ACME PBX export and Markdown tables to callacct."""
        from pathlib import Path

        from callacct.ingest.generic import load_mapping
        from callacct.reports.render import text_renderer
        from callacct.reports.render.cells import text_rows


        def acme_pbx():
            return load_mapping(Path(__file__).with_name("acme-pbx.yaml"))


        def write_markdown(result, out):
            out.write("| " + " | ".join(c.label for c in result.columns) + " |\\n")
            out.write("|" + "---|" * len(result.columns) + "\\n")
            for cells in text_rows(result):
                out.write("| " + " | ".join(cells) + " |\\n")


        MARKDOWN = text_renderer("markdown", "Markdown table", write_markdown)
    ''',
    "acme-pbx.yaml": ACME_YAML,
}
ACME_ENTRY_POINTS = {
    "callacct.dialects": {"generic-csv:acme-pbx": "acme_callacct:acme_pbx"},
    "callacct.renderers": {"markdown": "acme_callacct:MARKDOWN"},
}
HEADER = "CallID;Start;Answer;End;Talk;From;To;Ext;Trunk;Dir;Result\n"
MONTH = ("--from", "2024-01-01", "--to", "2024-01-31")


def _export(folder: Path, name: str, *lines: str) -> Path:
    path = folder / name
    path.write_text(HEADER + "".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def test_a_package_adds_a_dialect_and_a_renderer(
    cli: Cli, plugins: Plugins, tmp_path: Path
) -> None:
    plugins.install("acme-callacct", ACME_ENTRY_POINTS, ACME_PACKAGE)
    first = _export(
        tmp_path,
        "first.csv",
        "c-1;15/01/2024 10:00:00;15/01/2024 10:00:07;15/01/2024 10:02:07;120;201;0612345678;"
        "201;GW-A;OUT;OK",
    )
    report = cli.json("ingest", "--format", "generic-csv:acme-pbx", str(first))
    assert (report["stored"], report["rejected"]) == (1, 0)
    assert report["results"][0]["dialect"] == "generic-csv:acme-pbx"
    # Detection knows it too (its `detect` header names).
    second = _export(
        tmp_path,
        "second.csv",
        "c-2;15/01/2024 11:00:00;;15/01/2024 11:00:20;0;0699887766;202;202;GW-B;IN;NOANS",
    )
    report = cli.json("ingest", str(second))
    assert report["results"][0]["dialect"] == "generic-csv:acme-pbx"

    result = cli("report", "run", "calls-detail", *MONTH, "--format", "markdown")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("| ")
    assert lines[1].startswith("|---|")
    assert len(lines) == 2 + 2  # header, rule, the two calls
    out = tmp_path / "detail.md"
    result = cli("report", "run", "calls-detail", *MONTH, "--format", "markdown", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8").splitlines() == lines


def test_help_lists_the_packages_formats(plugins: Plugins) -> None:
    plugins.install("acme-callacct", ACME_ENTRY_POINTS, ACME_PACKAGE)
    env = {**os.environ, "PYTHONPATH": str(plugins.folder), "COLUMNS": "300"}

    def help_text(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "callacct", *args, "--help"],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        return " ".join(done.stdout.split())

    assert "cucm-cmr, generic-csv:acme-pbx, generic-csv:freeswitch-example" in help_text("ingest")
    assert "Output: table, csv, html, json, markdown, pdf, xlsx." in help_text("report", "run")


def test_a_broken_plugin_is_one_line_naming_it(cli: Cli, plugins: Plugins, tmp_path: Path) -> None:
    plugins.install(
        "broken-callacct",
        {
            "callacct.dialects": {"broken-pbx": "no_such_module_for_callacct:Dialect"},
            "callacct.renderers": {"docx": "broken_callacct:DOCX"},
        },
        {"broken_callacct.py": "DOCX = 'a renderer, they said'\n"},
    )
    result = cli("ingest", str(DENIKOND))  # detection needs every format
    assert result.exit_code == 2, result.output
    assert result.output.splitlines() == [
        "error: format 'broken-pbx' from package broken-callacct 1.0 "
        "(no_such_module_for_callacct:Dialect) cannot be loaded (ModuleNotFoundError: No "
        "module named 'no_such_module_for_callacct'); fix or uninstall that package"
    ]
    # Nothing was read; a format named explicitly does not need the broken one.
    assert cli.json("ingest", "--format", "cucm-cdr", str(DENIKOND), code=1)["files"] == 2
    result = cli("report", "run", "calls-detail", "--format", "docx", "-o", str(tmp_path / "x"))
    assert result.exit_code == 2, result.output
    assert result.output.splitlines() == [
        "error: output format 'docx' from package broken-callacct 1.0 (broken_callacct:DOCX) "
        "cannot be used: it gives a str, not a callacct.reports.render.Renderer; fix or "
        "uninstall that package"
    ]


def test_a_name_is_given_once(cli: Cli, plugins: Plugins) -> None:
    plugins.install(
        "rival-callacct",
        {"callacct.dialects": {"cucm-cdr": "rival_callacct:Cdr", "acme": "rival_callacct:acme"}},
        {
            "rival_callacct.py": """
                from callacct.ingest.cucm import CucmCdr as Cdr
                from acme_callacct import acme_pbx as acme
            """,
        },
    )
    plugins.install("acme-callacct", ACME_ENTRY_POINTS, ACME_PACKAGE)
    result = cli("ingest", "--format", "cucm-cdr", str(DENIKOND))
    assert result.exit_code == 2, result.output
    assert result.output.splitlines() == [
        "error: the format name 'cucm-cdr' is given by callacct and by package rival-callacct "
        "1.0 (rival_callacct:Cdr); uninstall one of those packages"
    ]
    result = cli("ingest", "--format", "acme", str(DENIKOND))
    assert result.exit_code == 2, result.output
    assert result.output.splitlines() == [
        "error: format 'acme' from package rival-callacct 1.0 (rival_callacct:acme) gives a "
        "format named 'generic-csv:acme-pbx', not 'acme'; fix or uninstall that package"
    ]
