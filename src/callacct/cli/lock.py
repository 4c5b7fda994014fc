"""`callacct lock`: lock and unlock extensions, status, history, PINs, sync with the phone
system, the phone map, workstation tokens, the phone service and the AXL stand-in."""

from __future__ import annotations

import datetime as dt
import os
import ssl
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from callacct.api import Workspace
from callacct.cli._app import app
from callacct.cli._context import (
    as_login_of,
    language_of,
    language_without_workspace,
    workspace_from,
)
from callacct.cli._options import LangOption, count_option
from callacct.cli._output import ProgressLine, console, err_console, print_json, value_text
from callacct.errors import LockError, UsageError
from callacct.i18n import Message, format_number, t
from callacct.lock import ChangeReport, LockService
from callacct.lock.backends import backend_names
from callacct.lock.devices import (
    check_device,
    learn_devices,
    list_devices,
    remove_device,
    set_device,
)
from callacct.lock.records import now_utc
from callacct.lock.workstations import (
    add_workstation,
    check_machine,
    list_workstations,
    remove_workstation,
)

lock_app = typer.Typer(
    name="lock",
    no_args_is_help=True,
    help="Phone lock: lock and unlock extensions (CUCM AXL, Webex Calling or dry-run: "
    f"{', '.join(backend_names())}), admin locks, PINs, the IP-phone service.\n\n"
    "Example: callacct --as helpdesk lock on 2001 --admin --reason 'left the company'",
)
app.add_typer(lock_app)
pin_app = typer.Typer(
    name="pin",
    no_args_is_help=True,
    help="Personal PINs for the phone menu.\n\nExample: callacct --as alice lock pin set",
)
device_app = typer.Typer(
    name="device",
    no_args_is_help=True,
    help="Which phone (device name) is which extension.\n\nExample: callacct lock device learn",
)
workstation_app = typer.Typer(
    name="workstation",
    no_args_is_help=True,
    help="Workstations whose logoff/logon lock and unlock their person's phone.\n\n"
    "Example: callacct lock workstation add PC-0042 --user alice",
)
lock_app.add_typer(pin_app)
lock_app.add_typer(device_app)
lock_app.add_typer(workstation_app)

Extensions = Annotated[
    list[str] | None, typer.Argument(help="Extensions.", show_default=False, metavar="[EXT]...")
]
Users = Annotated[
    list[str] | None,
    typer.Option("--user", metavar="LOGIN", help="Every extension of this person (repeatable)."),
]
Department = Annotated[
    str | None, typer.Option("--department", help="Every extension of this department.")
]
Admin = Annotated[
    bool,
    typer.Option("--admin", help="An admin lock: the person cannot lift it (admins, supervisors)."),
]
Reason = Annotated[str | None, typer.Option("--reason", help="Why (kept in the history).")]
Json = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]


def _speaking(ctx: typer.Context, lang: str | None) -> tuple[str, Workspace]:
    """The language the command speaks (`language_of`) and the workspace, read as --as."""
    workspace = workspace_from(ctx)
    return language_of(ctx, workspace, lang), workspace


def _spoken(
    ctx: typer.Context, lang: str | None, *, write: bool
) -> tuple[str, AbstractContextManager[LockService]]:
    """The language the command speaks (`language_of`) and the lock service acting as --as
    (else the operator), through the API."""
    language, workspace = _speaking(ctx, lang)
    return language, workspace.lock_service(write=write)


def _change(
    ctx: typer.Context,
    action: str,
    extensions: list[str] | None,
    users: list[str] | None,
    department: str | None,
    admin: bool,
    reason: str | None,
    lang: str | None,
    as_json: bool,
) -> None:
    language, opened = _spoken(ctx, lang, write=True)
    line = ProgressLine(language, quiet=as_json)
    with opened as service, line.running():
        service.progress = line
        do = service.lock if action == "lock" else service.unlock
        report = do(
            extensions=extensions or [],
            logins=users or [],
            department=department,
            kind="admin" if admin else "user",
            reason=reason,
        )
    _show_change(report, as_json, language)


def _show_change(report: ChangeReport, as_json: bool, language: str) -> None:
    if as_json:
        print_json(report.to_dict())
        if not report.ok:
            raise typer.Exit(1)
        return
    if len(report.outcomes) == 1 and not report.ok:
        outcome = report.outcomes[0]
        raise LockError(f"{outcome.extension}: {outcome.message}")
    table = Table(title=value_text("cli.lock.change", report.action, language))
    for column in ("extension", "person", "result", "before", "after", "message"):
        table.add_column(t(f"cli.lock.{column}", language))
    for o in report.outcomes:
        style = "" if o.ok else "red"
        table.add_row(
            o.extension,
            o.login or "",
            value_text("cli.lock.result", o.result, language),
            value_text("cli.lock.state", o.state_before, language),
            value_text("cli.lock.state", o.state_after, language),
            o.message,
            style=style,
        )
    console.print(table)
    counts = ", ".join(
        f"{format_number(n, language)} {value_text('cli.lock.result', name, language)}"
        for name, n in report.counts().items()
        if n
    )
    console.print(counts)
    if not report.ok:
        raise typer.Exit(1)


@lock_app.command("on")
def on_command(
    ctx: typer.Context,
    extensions: Extensions = None,
    users: Users = None,
    department: Department = None,
    admin: Admin = False,
    reason: Reason = None,
    lang: LangOption = None,
    as_json: Json = False,
) -> None:
    """Lock extensions: outgoing external calls are blocked, emergency numbers still work.

    People lock their own extensions; supervisors those of the people in their scope;
    admins any. --admin sets an admin lock, which the person cannot lift. A line whose lock
    the phone system refused stays as it was (exit code 1).

    Examples:
      callacct --as alice lock on 2001
      callacct --as helpdesk lock on --user bob --admin --reason "left the company"
      callacct lock on --department Sales --admin --reason audit
    """
    _change(ctx, "lock", extensions, users, department, admin, reason, lang, as_json)


@lock_app.command("off")
def off_command(
    ctx: typer.Context,
    extensions: Extensions = None,
    users: Users = None,
    department: Department = None,
    admin: Admin = False,
    reason: Reason = None,
    lang: LangOption = None,
    as_json: Json = False,
) -> None:
    """Unlock extensions: the line gets back exactly the setting it had before the lock.

    Without --admin this lifts the person's own lock; --admin lifts an admin lock (admins and
    supervisors of the person). A budget lock is lifted only by the budget module.

    Examples:
      callacct --as alice lock off 2001
      callacct --as helpdesk lock off 2002 --admin --reason "back at work"
    """
    _change(ctx, "unlock", extensions, users, department, admin, reason, lang, as_json)


@lock_app.command("status")
def status_command(
    ctx: typer.Context,
    department: Department = None,
    users: Users = None,
    lang: LangOption = None,
    as_json: Json = False,
) -> None:
    """Everyone in your scope with the lock state of each extension.

    Examples:
      callacct --as carol lock status
      callacct lock status --department Sales --json
      callacct lock status --lang it
    """
    language, opened = _spoken(ctx, lang, write=False)
    with opened as service:
        rows = service.status(department=department, logins=users or [])
    if as_json:
        print_json([row.to_dict() for row in rows])
        return
    table = Table(title=t("cli.lock.status", language))
    for column in ("extension", "person", "name", "department", "state", "since", "by",
                   "reason", "backend", "pin"):  # fmt: skip
        table.add_column(t(f"cli.lock.{column}", language))
    for row in rows:
        pin = (
            t("cli.lock.pin_blocked", language)
            if row.pin_blocked_until
            else (t("cli.lock.pin_set", language) if row.pin_set else "-")
        )
        table.add_row(
            row.extension,
            row.login or "",
            row.name or "",
            row.department or "",
            value_text("cli.lock.state", row.state, language),
            _when(row.since),
            row.changed_by or "",
            row.reason or "",
            row.backend,
            pin,
            style="" if row.state == "unlocked" else "yellow",
        )
    console.print(table)


def _when(value: dt.datetime | None) -> str:
    return "" if value is None else value.strftime("%Y-%m-%d %H:%M UTC")


@lock_app.command("history")
def history_command(
    ctx: typer.Context,
    user: Annotated[str | None, typer.Option("--user", metavar="LOGIN", help="Whose.")] = None,
    extension: Annotated[str | None, typer.Option("--ext", help="Which extension.")] = None,
    limit: Annotated[int, count_option("--limit", "Events shown, newest first.")] = 50,
    lang: LangOption = None,
    as_json: Json = False,
) -> None:
    """Lock events (changes, refusals, failures) within your scope, newest first.

    Examples:
      callacct lock history --ext 2001
      callacct --as carol lock history --json
      callacct lock history --lang ar
    """
    language, opened = _spoken(ctx, lang, write=False)
    with opened as service:
        events = service.history(extension=extension, login=user, limit=limit)
    if as_json:
        print_json([event.to_dict() for event in events])
        return
    table = Table(title=t("cli.lock.history", language))
    for column in ("when", "extension", "person", "by", "how", "action", "result", "state",
                   "css", "reason_message"):  # fmt: skip
        table.add_column(t(f"cli.lock.{column}", language))
    for e in events:
        css = f"{e.css_before or ''} → {e.css_after or ''}" if e.css_before or e.css_after else ""
        before = value_text("cli.lock.state", e.state_before, language)
        after = value_text("cli.lock.state", e.state_after, language)
        table.add_row(
            _when(e.happened_at),
            e.extension,
            e.login or "",
            e.actor,
            value_text("cli.lock.how", e.how, language),
            value_text("cli.lock.action", e.action, language),
            value_text("cli.lock.result", e.result, language),
            f"{before} → {after}",
            css,
            " / ".join(x for x in (e.reason, e.message) if x),
            style="" if e.result == "changed" else "red",
        )
    console.print(table)


@lock_app.command("sync")
def sync_command(
    ctx: typer.Context,
    department: Department = None,
    lang: LangOption = None,
    as_json: Json = False,
) -> None:
    """Compare each line in your scope with the phone system.

    Reads each line from the phone system and reports where it differs from what callacct
    believes; changes nothing. Exit code 1 when a line differs.

    Example: callacct lock sync --department Sales
    """
    language, opened = _spoken(ctx, lang, write=False)
    with opened as service:
        report = service.sync(department=department)
    if as_json:
        print_json(report.to_dict())
    else:
        drift = format_number(len(report.drift), language)
        lines = format_number(len(report.items), language)
        table = Table(title=t("cli.lock.sync", language, drift=drift, lines=lines))
        for column in ("extension", "person", "callacct", "backend", "phone_system", "message"):
            table.add_column(t(f"cli.lock.{column}", language))
        for item in report.items:
            table.add_row(
                item.extension,
                item.login or "",
                value_text("cli.lock.state", item.state, language),
                item.backend,
                item.actual or "",
                item.message,
                style="red" if item.drift else "",
            )
        console.print(table)
    if report.drift:
        raise typer.Exit(1)


# -- PINs -----------------------------------------------------------------------------------


def _ask_pin(prompt: str) -> str:
    value: str = typer.prompt(prompt, hide_input=True)
    return value.strip()


@pin_app.command("set")
def pin_set_command(
    ctx: typer.Context,
    user: Annotated[
        str | None, typer.Option("--user", metavar="LOGIN", help="Whose PIN (default: yours).")
    ] = None,
    lang: LangOption = None,
) -> None:
    """Set a PIN for the phone menu, typed twice without being shown. Changing your own PIN
    asks for the current one; admins and supervisors set the PIN of people in their scope.

    Examples:
      callacct --as alice lock pin set
      callacct --as helpdesk lock pin set --user bob
    """
    login = user or as_login_of(ctx)
    language, opened = _spoken(ctx, lang, write=True)
    if login is None:
        raise UsageError(Message("error.whose_pin"))
    with opened as service:
        own = login == service.actor.scope.login and service.actor.scope.role != "admin"
        old = _ask_pin(t("lock.input.old_pin", language)) if own else None
        new = _ask_pin(t("lock.input.new_pin", language))
        if _ask_pin(t("lock.input.again", language)) != new:
            raise UsageError(Message("error.pins_differ"))
        service.set_pin(login, new, old_pin=old)
    console.print(t("cli.lock.pin_done", language, login=login))


@pin_app.command("reset")
def pin_reset_command(
    ctx: typer.Context,
    user: Annotated[str, typer.Option("--user", metavar="LOGIN", help="Whose PIN.")],
    lang: LangOption = None,
) -> None:
    """Remove a person's PIN and any block after wrong PINs (admins and supervisors); they
    have no PIN until one is set again.

    Example: callacct --as helpdesk lock pin reset --user bob
    """
    language, opened = _spoken(ctx, lang, write=True)
    with opened as service:
        had = service.reset_pin(user)
    done = "cli.lock.pin_removed" if had else "cli.lock.had_no_pin"
    console.print(t(done, language, login=user))


# -- devices ----------------------------------------------------------------------------------


@device_app.command("set")
def device_set_command(
    ctx: typer.Context,
    device: Annotated[str, typer.Argument(help="Device name, e.g. SEP001122334455.")],
    extension: Annotated[str, typer.Argument(help="Its extension.")],
    lang: LangOption = None,
) -> None:
    """Tie a phone to an extension (overrides what CDRs say).

    Example: callacct lock device set SEP001122334455 2001
    """
    language, workspace = _speaking(ctx, lang)
    check_device(device)
    with (
        workspace.admin_store("lock device set", write=True) as store,
        store.transaction() as con,
    ):
        set_device(con, device, extension, now=now_utc())
    console.print(t("cli.lock.device_set", language, device=device, extension=extension))


@device_app.command("remove")
def device_remove_command(
    ctx: typer.Context,
    device: Annotated[str, typer.Argument(help="Device name.")],
    lang: LangOption = None,
) -> None:
    """Forget a phone.

    Example: callacct lock device remove SEP001122334455
    """
    language, workspace = _speaking(ctx, lang)
    with (
        workspace.admin_store("lock device remove", write=True) as store,
        store.transaction() as con,
    ):
        found = remove_device(con, device)
    if not found:
        raise UsageError(Message("error.not_in_phone_map", device=repr(device)))
    console.print(t("cli.lock.device_removed", language, device=device))


@device_app.command("learn")
def device_learn_command(
    ctx: typer.Context, lang: LangOption = None, as_json: Json = False
) -> None:
    """Map every phone in the CDRs to the extension of its latest outgoing call (phones set
    by hand are kept).

    Example: callacct lock device learn
    """
    language, workspace = _speaking(ctx, lang)
    with (
        workspace.admin_store("lock device learn", write=True) as store,
        store.transaction() as con,
    ):
        count = learn_devices(con, now=now_utc())
    if as_json:
        print_json({"learnt": count})
    else:
        console.print(t("cli.lock.devices_learnt", language, count=format_number(count, language)))


@device_app.command("list")
def device_list_command(ctx: typer.Context, lang: LangOption = None, as_json: Json = False) -> None:
    """The phone map.

    Example: callacct lock device list --json
    """
    language, workspace = _speaking(ctx, lang)
    with workspace.admin_store("lock device list", write=False) as store:
        rows = list_devices(store.con)
    _rows(rows, as_json, "phones", language)


def _rows(rows: list[dict[str, Any]], as_json: bool, title: str, language: str) -> None:
    """The rows of the phone map or of the workstations as JSON, else as a table: its title
    (`cli.lock.{title}`) and the column names in `language`."""
    if as_json:
        print_json(rows)
        return
    table = Table(title=t(f"cli.lock.{title}", language))
    for column in rows[0] if rows else ("-",):
        table.add_column(value_text("cli.lock.column", column, language))
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row.values()))
    console.print(table)


# -- workstations ------------------------------------------------------------------------------


@workstation_app.command("add")
def workstation_add_command(
    ctx: typer.Context,
    machine: Annotated[str, typer.Argument(help="Machine name, e.g. PC-0042.")],
    user: Annotated[str, typer.Option("--user", metavar="LOGIN", help="Whose phone it locks.")],
    lang: LangOption = None,
) -> None:
    """Add a workstation and print its token, once: put it in the machine's hook script
    (docs/lock.md). Adding a machine again gives it a new token.

    Example: callacct lock workstation add PC-0042 --user alice
    """
    language, workspace = _speaking(ctx, lang)
    check_machine(machine)
    with (
        workspace.holding(write=True),
        workspace.admin_store("lock workstation add", write=True) as store,
        workspace.lock_service(write=True) as service,
    ):
        service.targets(logins=[user])  # a person the admin may name
        with store.transaction() as con:
            by = workspace.as_login or "operator"
            token = add_workstation(con, machine, user, by=by, now=now_utc())
    err_console.print(t("cli.lock.token_of", language, machine=machine))
    console.print(token)


@workstation_app.command("remove")
def workstation_remove_command(
    ctx: typer.Context,
    machine: Annotated[str, typer.Argument(help="Machine name.")],
    lang: LangOption = None,
) -> None:
    """Remove a workstation: its token no longer works.

    Example: callacct lock workstation remove PC-0042
    """
    language, workspace = _speaking(ctx, lang)
    with (
        workspace.admin_store("lock workstation remove", write=True) as store,
        store.transaction() as con,
    ):
        found = remove_workstation(con, machine)
    if not found:
        raise UsageError(Message("error.not_a_workstation", machine=repr(machine)))
    console.print(t("cli.lock.workstation_removed", language, machine=machine))


@workstation_app.command("list")
def workstation_list_command(
    ctx: typer.Context, lang: LangOption = None, as_json: Json = False
) -> None:
    """Workstations and whose phone each locks (tokens are never shown again).

    Example: callacct lock workstation list
    """
    language, workspace = _speaking(ctx, lang)
    with workspace.admin_store("lock workstation list", write=False) as store:
        rows = list_workstations(store.con)
    _rows(rows, as_json, "workstations", language)


# -- servers -----------------------------------------------------------------------------------

RunFor = Annotated[
    float | None,
    typer.Option("--run-for", min=0.01, max=31_536_000.0, help="Stop after this many seconds."),
]


@lock_app.command("serve")
def serve_command(
    ctx: typer.Context,
    address: Annotated[
        str | None, typer.Option(help="Address (default: lock.serve.address).")
    ] = None,
    port: Annotated[
        int | None, typer.Option(min=0, max=65535, help="Port (default: lock.serve.port).")
    ] = None,
    check: Annotated[
        bool, typer.Option("--check", help="Check the settings and the store, then exit.")
    ] = False,
    run_for: RunFor = None,
    lang: LangOption = None,
) -> None:
    """Serve the IP-phone service and the workstation endpoint.

    Serves /ipps/menu/DEVICE (Cisco IP-phone XML) and /workstation/EVENT until interrupted.
    In CUCM, the phone service URL is http://HOST:PORT/ipps/menu/#DEVICENAME#.

    Examples:
      callacct lock serve
      callacct lock serve --address 0.0.0.0 --port 8480
      callacct lock serve --check
    """
    from callacct.web.app import check_serve, serve

    language, workspace = _speaking(ctx, lang)
    if check:
        print_json(check_serve(workspace.files))
        return
    https = bool(workspace.settings.lock.serve.tls_cert)
    host = address or workspace.settings.lock.serve.address

    def started(bound: int) -> None:
        url = f"{'https' if https else 'http'}://{host}:{bound}/ipps/menu/#DEVICENAME#"
        err_console.print(t("cli.lock.serving", language, url=url))

    serve(workspace.files, address=address, port=port, run_for=run_for, on_start=started)


@lock_app.command("stand-in")
def standin_command(
    ctx: typer.Context,
    address: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port (0: any free port).")] = 8443,
    lines: Annotated[
        str, typer.Option(help="Lines it holds: numbers and ranges, e.g. 2000-2599,3000-3399.")
    ] = "2000-2599,3000-3399",
    partition: Annotated[str, typer.Option(help="Their route partition.")] = "PT_Internal",
    css: Annotated[str, typer.Option(help="Their calling search space.")] = "CSS_Normal",
    axl_user: Annotated[str, typer.Option("--axl-user", help="AXL user it accepts.")] = "axladmin",
    password_env: Annotated[
        str, typer.Option(help="Environment variable holding the password it accepts.")
    ] = "CALLACCT_AXL_PASSWORD",  # noqa: S107 (the name of a variable, not a password)
    cert: Annotated[Path | None, typer.Option(help="Certificate (PEM) to serve HTTPS.")] = None,
    key: Annotated[Path | None, typer.Option(help="Its private key (PEM).")] = None,
    throttle_queue: Annotated[
        int, typer.Option(min=0, max=1_000_000, help="Writes queued before 503 (0: never).")
    ] = 0,
    throttle_drain: Annotated[
        float, typer.Option(min=0.1, max=1_000_000.0, help="Queued writes done a second.")
    ] = 100.0,
    run_for: RunFor = None,
    lang: LangOption = None,
) -> None:
    """Run the AXL stand-in, a server that answers like CUCM's AXL service.

    getLine, updateLine, listLine; faults, 401, 503 throttling: for the demo and trials.
    Point lock.axl.url at http://127.0.0.1:PORT/axl/.

    Example:
      CALLACCT_AXL_PASSWORD=secret callacct lock stand-in --port 8443 --lines 2000-2099
    """
    from callacct.lock.standin import AxlStandIn, parse_patterns
    from callacct.web.runner import serve_forever

    language = language_without_workspace(ctx, lang)
    password = os.environ.get(password_env, "")
    if not password:
        raise UsageError(Message("error.standin_login_variable", variable=password_env))
    if address not in ("127.0.0.1", "localhost", "::1"):
        raise UsageError(Message("error.standin_address"))
    try:
        numbers = parse_patterns(lines)
    except ValueError as exc:
        reason = exc.args[0] if exc.args else str(exc)
        raise UsageError(Message("error.option_value", option="--lines", reason=reason)) from None
    tls = None
    if (cert is None) != (key is None):
        raise UsageError(Message("error.standin_cert_and_key"))
    if cert is not None and key is not None:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        try:
            tls.load_cert_chain(str(cert), str(key))
        except (OSError, ssl.SSLError) as exc:
            raise UsageError(
                Message("error.standin_cert", cert=cert, private_key=key, reason=str(exc))
            ) from None
    state = AxlStandIn(
        user=axl_user,
        password=password,
        throttle_queue=throttle_queue,
        throttle_drain_per_s=throttle_drain,
    )
    state.add_lines(numbers, partition=partition or None, css=css or None)

    def started(bound: int) -> None:
        url = f"{'https' if tls else 'http'}://{address}:{bound}/axl/"
        count = format_number(len(numbers), language)
        err_console.print(t("cli.lock.standin", language, lines=count, url=url))

    serve_forever(state.app(), address, port, tls, run_for=run_for, on_start=started)
