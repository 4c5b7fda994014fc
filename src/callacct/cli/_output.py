"""Console output: rich tables and progress for people, plain JSON for machines."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Self, TextIO

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.text import Text

from callacct.errors import UsageError

# Markup is off: what is printed (messages, table cells, titles) is shown as it is, so a path,
# a time zone or a pattern with square brackets in it is never taken for a style. Styled
# output is built with `styled`, which keeps the values out of the markup.
console = Console(highlight=False, markup=False)
if not console.is_terminal and "COLUMNS" not in os.environ:
    # Piped or redirected tables would wrap at 80 columns; logs and pagers take wider lines.
    console.width = 160
# Messages are single lines: never wrapped, so scripts and logs see them whole.
err_console = Console(stderr=True, highlight=False, soft_wrap=True, markup=False)


def file_console(file: TextIO, width: int) -> Console:
    """A console writing plain text (no colours, no markup) to `file`, `width` columns wide."""
    return Console(file=file, width=width, color_system=None, highlight=False, markup=False)


def styled(template: str, *values: object) -> Text:
    """`template`'s markup with `values` put in its `{}` places as plain text.

    >>> styled("[bold]{}[/] ({})", "[red]x", "^[a-z]{2}$").plain
    '[red]x (^[a-z]{2}$)'
    >>> [span.style for span in styled("[bold]{}[/]", "x").spans]
    ['bold']
    """
    return Text.from_markup(template.format(*(escape(str(value)) for value in values)))


def print_error(label: str, message: object, style: str = "bold red") -> None:
    """One line on stderr: a styled label (`error:`, `warning:`...) and a plain message."""
    err_console.print(Text.assemble((label, style), " ", str(message)))


def print_json(data: Any) -> None:
    """Machine output: JSON on stdout and nothing else."""
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


def check_out(out: Path, option: str = "--out") -> None:
    """A file a command is to write: refused, before any work, when it is a folder or its
    folder does not exist (a missing folder is not created: a typo would go unnoticed)."""
    if out.is_dir():
        raise UsageError(f"{option}: {out} is a folder; name a file in it")
    folder = out.parent
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise UsageError(f"{option}: the folder {folder} {what}; create it first")


def written(out: Path, write: Callable[[], object], option: str = "--out") -> None:
    """Run `write` (which writes the file `out`) and say so; a system error writing it is a
    one-line usage error naming the file."""
    try:
        write()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise UsageError(f"{option}: cannot write {out}: {reason}") from None
    console.print(f"wrote {out}", markup=False)


class _Live:
    """A progress display on stderr, shown only on a terminal: a description, a bar, the
    given columns and the time remaining."""

    def __init__(self, description: str, *columns: ProgressColumn) -> None:
        self.description = description
        self.enabled = err_console.is_terminal
        self._columns = columns
        self._progress: Progress | None = None
        self._task: Any = None

    @contextmanager
    def running(self) -> Iterator[Self]:
        if not self.enabled:
            yield self
            return
        self._progress = Progress(
            TextColumn("{task.description}", style="bold", markup=False),
            BarColumn(),
            *self._columns,
            TimeRemainingColumn(),
            console=err_console,
            transient=True,
        )
        with self._progress:
            self._task = self._progress.add_task(self.description, total=None)
            yield self
        self._progress = None


class ByteProgress(_Live):
    """A progress bar over bytes."""

    def __init__(self, description: str) -> None:
        super().__init__(description, DownloadColumn(), TransferSpeedColumn())

    def total(self, size: int) -> None:
        if self._progress is not None:
            self._progress.update(self._task, total=size)

    def advance(self, size: int) -> None:
        if self._progress is not None:
            self._progress.advance(self._task, size)


class CountProgress(_Live):
    """A live line for work of unknown length (`idle`) that now and then counts items
    (`counting`): call it as `progress(done, total)`."""

    def __init__(self, idle: str, counting: str) -> None:
        super().__init__(idle, MofNCompleteColumn())
        self.counting = counting

    def __call__(self, done: int, total: int) -> None:
        if self._progress is None:
            return
        if done >= total:  # back to work of unknown length (rich cannot unset a total)
            self._progress.remove_task(self._task)
            self._task = self._progress.add_task(self.description, total=None)
        else:
            self._progress.update(
                self._task, description=self.counting, completed=done, total=total
            )
