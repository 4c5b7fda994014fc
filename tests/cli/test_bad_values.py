"""Every command and subcommand, found by walking the app (not a hand-kept list), run with bad
values of each of its options and arguments: huge, negative and zero integers, empty and very
long strings, markup, impossible dates, unknown time zones, paths that are missing, a folder,
junk, unwritable or inside a missing folder.

Whatever the value, the command ends with exit code 0, 1 or 2, never a traceback and never an
"internal error": bad input is a one-line message saying what to do.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import typer
import typer.testing
from typer.testing import CliRunner

from callacct.cli import app
from callacct.demo.workspace import build_demo

ROOT = typer.main.get_command(app)
DEMO_END = dt.date(2026, 11, 20)

HUGE = "99999999999999999999"
BAD_INTS = (HUGE, "-" + HUGE, "9223372036854775808", "-1", "0", "", "[/]")
BAD_STRINGS = (
    "",
    "[/]",
    "2026-02-30",
    "Nowhere/Land",
    "-1",
    HUGE,
    "../../etc/passwd",
    "x" * 5000,
)
BAD_PATHS = (
    "{missing}",  # a file that does not exist
    "{tmp}/no-such-folder/x.yaml",  # inside a missing folder
    "{tmp}",  # a folder
    "{junk}",  # NUL bytes and undecodable text
    "/proc/callacct-test/x",  # a place nobody can write, not even root
    "",
    "[/]",
)


def _commands(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every command that runs something (leaves, and groups that run without a subcommand),
    and the root for its global options."""
    subcommands = getattr(command, "commands", None)
    if not path or subcommands is None or getattr(command, "invoke_without_command", False):
        yield path, command
    for name, sub in (subcommands or {}).items():
        yield from _commands(sub, (*path, name))


def _kind(param: Any) -> str:
    annotation = param.type_descriptor.annotation
    text = str(annotation)
    for kind in ("bool", "int", "float", "Path", "str"):
        if annotation is not None and kind in text:
            return kind
    raise AssertionError(f"{param.name}: no bad values for {text}; add them to this test")


# Good values (arguments, then options), so each bad value is tried on a command that would
# otherwise run. Commands not named here get a value of each required argument's type.
GOOD: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "demo": (("{tmp}/demo",), ("--days", "1", "--people", "10")),
    "init": (("{tmp}/new",), ()),
    "ingest": (("{cdr}",), ()),
    "auth check": (("{login}",), ()),
    "calls explain": (("1",), ()),
    "calls raw": (("1",), ()),
    "directory import": (("{people}",), ()),
    "directory show": (("{login}",), ()),
    "report show": (("calls-detail",), ()),
    "report run": (("calls-detail",), ("--limit", "3")),
    "report save": (("mine",), ("--from-report", "calls-detail")),
    "report delete": (("mine",), ()),
    "report export": (("calls-detail",), ()),
    "report import": (("{spec}",), ()),
    "tariff import": (("fr-carrier",), ("--no-rate",)),
    "tariff show": (("fr-carrier",), ()),
    # Servers stop by themselves: a check, or a short run on any free port.
    "lock serve": ((), ("--check",)),
    "lock stand-in": ((), ("--port", "0", "--run-for", "0.2")),
    "scheduler run": ((), ("--once",)),
}
FALLBACK = {"int": "1", "float": "1", "Path": "{missing}", "str": "x"}


@dataclass(frozen=True)
class Case:
    path: tuple[str, ...]
    args: tuple[str, ...]
    param: str
    value: str

    @property
    def id(self) -> str:
        return " ".join((*self.path, *self.args))[:80]


def _is_option(param: Any) -> bool:
    return bool(param.opts[0].startswith("-"))


def _good(path: tuple[str, ...], command: Any) -> tuple[list[str], list[str]]:
    given = GOOD.get(" ".join(path))
    if given is not None:
        return list(given[0]), list(given[1])
    arguments = [FALLBACK[_kind(p)] for p in command.params if p.required and not _is_option(p)]
    options = [o for p in command.params if p.required and _is_option(p) for o in (p.opts[0], "x")]
    return arguments, options


def _cases() -> list[Case]:
    cases: list[Case] = []
    for path, command in _commands(ROOT):
        arguments, options = _good(path, command)
        positional = [p for p in command.params if not _is_option(p)]
        for param in command.params:
            kind = _kind(param)
            if kind == "bool" or param.name in ("install_completion", "show_completion"):
                continue
            values = {"int": BAD_INTS, "float": BAD_INTS, "Path": BAD_PATHS}.get(kind, BAD_STRINGS)
            for value in values:
                if not path:  # the root's own options, given to a read command
                    root_args = (param.opts[0], value, "calls", "--last", "1")
                    cases.append(Case(path, root_args, param.name, value))
                    continue
                args, opts = list(arguments), list(options)
                if _is_option(param):
                    opts += [param.opts[0], value]
                else:
                    index = positional.index(param)
                    args = [*args[:index], value, *args[index + 1 :]]
                # Arguments after "--", so that a value such as "-1" stays an argument.
                args = (*opts, "--", *args) if args else tuple(opts)
                cases.append(Case(path, args, param.name, value))
    return cases


CASES = _cases()

PARAMS = [pytest.param(case, id=case.id) for case in CASES]


@pytest.fixture(scope="module")
def demo_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("walk") / "demo"
    build_demo(root, days=1, people=12, end=DEMO_END)
    return root


@pytest.fixture(scope="module")
def example_login(demo_root: Path) -> str:
    text = (demo_root / "directory" / "people.csv").read_text(encoding="utf-8")
    return text.splitlines()[1].split(",")[0]


def _workspace(demo_root: Path, target: Path) -> Path:
    target.mkdir()
    for name in ("callacct.toml", "callacct.duckdb"):
        shutil.copy(demo_root / name, target / name)
    shutil.copytree(demo_root / "archive", target / "archive")
    return target


def test_the_walk_covers_every_command() -> None:
    paths = {" ".join(case.path) for case in CASES}
    assert {"", "calls", "calls explain", "ingest", "report run", "tariff show", "init"} <= paths
    assert len(CASES) > 300


def test_every_integer_option_has_a_range() -> None:
    """A count, limit or id beyond what the store holds, or below what makes sense, is refused
    when the command line is read (a range, or a `bounded` callback), not by a failing query."""
    unbounded = [
        (" ".join(path), param.opts[0])
        for path, command in _commands(ROOT)
        for param in command.params
        if _kind(param) == "int"
        and (param.min is None or param.max is None)
        and not hasattr(param.callback, "bounds")  # cli/_options.bounded
    ]
    assert unbounded == []


@pytest.mark.slow
@pytest.mark.parametrize("case", PARAMS)
def test_a_bad_value_never_ends_in_an_internal_error(
    case: Case,
    demo_root: Path,
    example_login: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    # The app's command tree, built once: building it for each of these runs costs more than
    # most of the runs themselves.
    monkeypatch.setattr(typer.testing, "_get_command", lambda typer_app: ROOT)
    workspace = _workspace(demo_root, tmp_path / "ws")
    cdr = tmp_path / "cdr_StandAloneCluster_01_copy"
    first = sorted((demo_root / "cdr").glob("cdr_*"))[0]
    shutil.copy(first, cdr)
    people = tmp_path / "people.csv"
    shutil.copy(demo_root / "directory" / "people.csv", people)
    spec = tmp_path / "spec.yaml"
    spec.write_text("name: mine\n", encoding="utf-8")
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"\x00\xff\xfe[/]\x00\n" * 64)
    places = {
        "tmp": str(tmp_path),
        "missing": str(tmp_path / "missing.csv"),
        "junk": str(junk),
        "cdr": str(cdr),
        "people": str(people),
        "spec": str(spec),
        "login": example_login,
    }
    args = list(case.args)
    for key, value in places.items():
        args = [arg.replace("{" + key + "}", value) for arg in args]
    root_options = [] if case.path else args
    result = CliRunner().invoke(
        app,
        ["--workspace", str(workspace), *root_options, *case.path, *(args if case.path else [])],
        input="password\n",
    )
    output = result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"{result.exception!r}\n{output[-2000:]}"
    )
    assert "internal error" not in output, output[-2000:]
    assert "Traceback" not in output, output[-2000:]
    assert result.exit_code in (0, 1, 2), output[-2000:]
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) <= 1, result.stderr
