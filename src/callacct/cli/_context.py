"""Shared command plumbing: the workspace of the typer context, opened through the API."""

from __future__ import annotations

from pathlib import Path

import typer

from callacct.api import Workspace
from callacct.api.workspace import checked_language
from callacct.cli._app import spoken
from callacct.cli._output import err_console, print_error, styled
from callacct.i18n import LANGUAGES, said_in, t


def workspace_from(ctx: typer.Context) -> Workspace:
    """The workspace of `--workspace` (else `$CALLACCT_HOME`, else the current folder), read as
    the global `--as` person; a person on a terminal is told once if another process holds
    the store, and every warning goes to stderr."""
    told = False

    def waiting(_seconds: float) -> None:
        nonlocal told
        if not told and err_console.is_terminal:
            err_console.print(styled("[dim]{}[/]", t("cli.waiting", spoken(ctx))))
        told = True

    root = ctx.find_root()
    option: Path | None = (root.obj or {}).get("workspace")
    workspace = Workspace.open(
        option,
        as_login=as_login_of(ctx),
        on_wait=waiting,
        on_warning=lambda message: warn(message, spoken(ctx)),
    )
    if root.obj is not None and root.obj.get("language") is None:
        # Until `language_of` reads a --as person's language from the directory: the global
        # --lang, else the workspace's (an unknown --as person is told so in it).
        given = root.obj.get("lang")
        if given in LANGUAGES:
            root.obj["language"] = given
        elif given is None:
            root.obj["language"] = workspace.settings.general.language
    return workspace


def language_of(ctx: typer.Context, workspace: Workspace, lang: str | None = None) -> str:
    """The language a command speaks: its own `--lang`, else the global one, else the `--as`
    person's, else the workspace's — the rule of reports (`Workspace.language`). Errors and
    warnings that follow are said in it too."""
    return _spoken_from_now(ctx, workspace.language(_given_lang(ctx, lang)))


def language_without_workspace(ctx: typer.Context, lang: str | None = None) -> str:
    """The language of a command that opens no workspace (`lock stand-in`): its own `--lang`,
    else the global one, else English. Errors that follow are said in it too."""
    given = _given_lang(ctx, lang)
    return _spoken_from_now(ctx, "en" if given is None else checked_language(given))


def _given_lang(ctx: typer.Context, lang: str | None) -> str | None:
    """The command's own `--lang`, else the global one, if any."""
    return lang if lang is not None else global_lang(ctx)


def _spoken_from_now(ctx: typer.Context, language: str) -> str:
    """`language`, which the errors and warnings of the command are said in from now on."""
    root = ctx.find_root()
    if root.obj is not None:
        root.obj["language"] = language
    return language


def global_lang(ctx: typer.Context) -> str | None:
    """The language given with the global `--lang`, if any."""
    value: str | None = (ctx.find_root().obj or {}).get("lang")
    return value


def warn(message: str, language: str = "en") -> None:
    """A warning on stderr, one line, in `language` when it is a catalogue message."""
    print_error(t("cli.warning", language), said_in(message, language), "yellow")


def as_login_of(ctx: typer.Context) -> str | None:
    """The login given with the global `--as`, if any."""
    value: str | None = (ctx.find_root().obj or {}).get("as_login")
    return value


def split_values(values: list[str] | None) -> tuple[str, ...]:
    """Repeatable, comma-separated option values as one tuple: `--ext 1,2 --ext 3`."""
    return tuple(v.strip() for item in values or () for v in item.split(",") if v.strip())
