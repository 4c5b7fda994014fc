"""`callacct auth`: check a person's directory credentials and show what they may see."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from callacct.cli._app import app
from callacct.cli._context import workspace_from
from callacct.cli._output import console, print_json, styled

auth_app = typer.Typer(
    name="auth",
    no_args_is_help=True,
    help="Log in with directory (LDAP / AD) credentials.\n\nExample: callacct auth check jdupont",
)
app.add_typer(auth_app)


@auth_app.command("check")
def check_command(
    ctx: typer.Context,
    login: Annotated[str, typer.Argument(help="Login name.", show_default=False)],
    password_stdin: Annotated[
        bool,
        typer.Option("--password-stdin", help="Read the password from the first line of stdin."),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Check LOGIN's password with an LDAP bind (search, then bind as the entry found) and
    print their role and scope. Exit code 1 when the login or password is wrong.

    The password is asked for (hidden), or read from stdin with --password-stdin; an empty
    or blank password is refused before anything is sent. TLS is always verified.

    Examples:
      callacct auth check jdupont
      printf '%s\\n' "$PW" | callacct auth check jdupont --password-stdin --json
    """
    workspace = workspace_from(ctx)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, default="", show_default=False)
    who = workspace.login(login, password)
    del password
    if as_json:
        print_json(who.to_dict())
        return
    console.print(styled("[green]ok[/]: {} ({})", who.login, who.dn))
    console.print(f"role: {who.scope.role}")
    console.print(f"scope: {who.scope.describe()}")
