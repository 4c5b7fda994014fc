"""The root typer app, its global options, and the one place errors become exit codes."""

from __future__ import annotations

import errno
import importlib
import logging
from collections.abc import Iterator, MutableMapping
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from callacct import __version__
from callacct.cli._output import print_error
from callacct.errors import CallacctError
from callacct.i18n import LANGUAGES, said_in, t
from callacct.store.disk import write_failure

# The module (`callacct.cli.<module>`) that registers each command of the root. A command's
# module is imported when the command is looked up: a command loads what it runs, not what
# every other command needs (`callacct ingest` starts without the reports, the lock, ...).
COMMAND_MODULES = {
    "alarm": "alarm",
    "auth": "auth",
    "budget": "budget",
    "calls": "calls",
    "demo": "demo",
    "directory": "directory",
    "home": "home",
    "ingest": "ingest",
    "init": "init",
    "lock": "lock",
    "rate": "tariff",
    "report": "report",
    "schedule": "schedule",
    "scheduler": "schedule",
    "tariff": "tariff",
}


class _Commands(MutableMapping[str, Any]):  # click commands (typer's own click)
    """The root's commands by name: every name is listed, a command is built (its module
    imported) when it is first looked up."""

    def __init__(self, built: MutableMapping[str, Any]) -> None:
        self._built = dict(built)
        # The registrations built so far (those of the modules imported before the root).
        self._seen = {id(info) for info in (*app.registered_commands, *app.registered_groups)}

    def __getitem__(self, name: str) -> Any:
        if name not in self._built and name in COMMAND_MODULES:
            importlib.import_module(f"callacct.cli.{COMMAND_MODULES[name]}")
            for key, command in self._build_new().items():
                self._built.setdefault(key, command)
        return self._built[name]

    def _build_new(self) -> dict[str, Any]:
        """The commands registered since the last build, built as typer builds the root's."""
        new = typer.Typer(rich_markup_mode=app.rich_markup_mode)
        new.registered_commands = [i for i in app.registered_commands if id(i) not in self._seen]
        new.registered_groups = [i for i in app.registered_groups if id(i) not in self._seen]
        self._seen |= {id(i) for i in (*new.registered_commands, *new.registered_groups)}
        new.callback()(_no_options)  # a group, even of one command
        group = typer.main.get_command(new)
        assert isinstance(group, TyperGroup)
        return dict(group.commands)

    def __setitem__(self, name: str, command: Any) -> None:
        self._built[name] = command

    def __delitem__(self, name: str) -> None:
        del self._built[name]

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(set(COMMAND_MODULES) | set(self._built)))

    def __len__(self) -> int:
        return len(set(COMMAND_MODULES) | set(self._built))


def _no_options() -> None:
    """The callback of a group built only for its commands."""


class _Group(TyperGroup):
    """The root: its commands loaded on first use (`_Commands`). Turns `CallacctError` from
    any command into a one-line message and its exit code; an operating-system error about
    a file (missing, a folder, not writable, a full disk) too."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.commands = _Commands(self.commands)

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except CallacctError as exc:
            if ctx.find_root().params.get("debug"):
                raise
            language = spoken(ctx)
            print_error(t("cli.error", language), said_in(exc, language))
            raise typer.Exit(exc.exit_code) from None
        except (typer.Exit, typer.Abort, BrokenPipeError):
            raise
        except OSError as exc:
            message = describe_os_error(exc)
            if ctx.find_root().params.get("debug") or message is None:
                raise
            print_error(t("cli.error", spoken(ctx)), message)
            raise typer.Exit(2) from None
        except Exception as exc:
            if ctx.find_root().params.get("debug") or type(exc).__module__.startswith("typer"):
                raise
            reason = write_failure(exc)
            if reason is not None:  # a full or read-only disk: not a bug to report
                where = getattr(exc, "filename", None) or "the workspace"
                language = spoken(ctx)
                print_error(
                    t("cli.error", language),
                    t("cli.cannot_write", language, where=where, reason=reason),
                )
                raise typer.Exit(2) from None
            language = spoken(ctx)
            print_error(
                t("cli.internal_error", language),
                f"{type(exc).__name__}: {exc}\n{t('cli.report_bug', language)}",
            )
            raise typer.Exit(2) from None


def spoken(ctx: Any) -> str:
    """The language the command speaks to the person, once it is known (`--lang`, the `--as`
    person's, the workspace's: `callacct.cli._context.language_of`); English before."""
    obj = ctx.find_root().obj or {}
    return str(obj.get("language") or "en")


# What to do about an operating-system error; these say so even when no file is named.
_ADVICE = {
    errno.ENOSPC: "free some space and run the command again",
    errno.EDQUOT: "free some space and run the command again",
    errno.EROFS: "the file system is read-only; use a writable place",
}
_CHECK_PATH = "check the path, and that callacct may read and write there"


def describe_os_error(exc: OSError) -> str | None:
    """A one-line message for an error the operating system gave about a file, or None when
    the error is not about a file (then it is a bug, and reported as one).

    >>> describe_os_error(FileNotFoundError(2, "No such file or directory", "/x/[y]"))
    '/x/[y]: No such file or directory; check the path, and that callacct may read and write there'
    >>> describe_os_error(OSError(28, "No space left on device"))
    'No space left on device; free some space and run the command again'
    >>> describe_os_error(OSError(5, "Input/output error")) is None
    True
    """
    advice = _ADVICE.get(exc.errno or 0)
    if exc.filename is None:
        return None if advice is None else f"{exc.strerror}; {advice}"
    where = str(exc.filename)
    if exc.filename2 is not None:
        where += f" -> {exc.filename2}"
    return f"{where}: {exc.strerror}; {advice or _CHECK_PATH}"


app = typer.Typer(
    name="callacct",
    cls=_Group,
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
    help="Call accounting: ingest CDRs into DuckDB, attribute and cost every call, report.\n\n"
    "Example: callacct --workspace ./acme ingest /var/cdr/",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"callacct {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    workspace: Annotated[
        Path | None,
        typer.Option(
            "--workspace",
            "-w",
            envvar="CALLACCT_HOME",
            show_envvar=True,
            help="Workspace folder (default: the current folder).",
        ),
    ] = None,
    as_login: Annotated[
        str | None,
        typer.Option(
            "--as",
            metavar="LOGIN",
            help="Run a command as this person: within their scope (what their role lets "
            "them see and do, numbers masked for it); default: the operator, an admin.",
        ),
    ] = None,
    lang: Annotated[
        str | None,
        typer.Option(
            "--lang",
            metavar="LANG",
            help=f"Language of every message, table and report ({', '.join(LANGUAGES)}); "
            "default: the --as person's, else the workspace's. A command's own --lang wins.",
        ),
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks and debug logs.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """Call accounting for Cisco CUCM and other PBXs."""
    ctx.obj = {"workspace": workspace, "debug": debug, "as_login": as_login, "lang": lang}
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
