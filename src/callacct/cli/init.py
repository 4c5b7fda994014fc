"""`callacct init`: create a workspace."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from callacct.api import Workspace
from callacct.cli._app import app
from callacct.cli._output import console, print_json, styled
from callacct.config import DialPlanSettings, resolve_workspace_dir


@app.command("init")
def init_command(
    ctx: typer.Context,
    directory: Annotated[
        Path | None, typer.Argument(help="Folder to create (default: the workspace folder).")
    ] = None,
    country: Annotated[str, typer.Option(help="ISO country code.")] = "US",
    timezone: Annotated[str, typer.Option(help="Reference time zone.")] = "UTC",
    currency: Annotated[str, typer.Option(help="ISO currency code.")] = "USD",
    access_code: Annotated[
        list[str] | None,
        typer.Option("--access-code", help="Outside-line access code (repeat for several)."),
    ] = None,
    extension_pattern: Annotated[
        str, typer.Option(help="Regular expression of internal extensions.")
    ] = DialPlanSettings().extension_pattern,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Create a workspace: callacct.toml with documented defaults, and an empty store.

    Example: callacct init ./acme --country FR --timezone Europe/Paris --access-code 0
    """
    root = directory or resolve_workspace_dir((ctx.find_root().obj or {}).get("workspace"))
    workspace = Workspace.create(
        root,
        country=country,
        timezone=timezone,
        currency=currency,
        access_codes=access_code,
        extension_pattern=extension_pattern,
    )
    version = workspace.schema_version()
    files = workspace.files
    if as_json:
        print_json(
            {
                "workspace": str(files.root),
                "settings": str(files.settings_path),
                "store": str(files.store_path),
                "schema_version": version,
            }
        )
        return
    console.print(styled("Created workspace [bold]{}[/]", files.root))
    console.print(f"  settings: {files.settings_path}  (edit it; every key is documented)")
    console.print(f"  store:    {files.store_path}  (schema version {version})")
    console.print("Next: callacct ingest PATH...")
