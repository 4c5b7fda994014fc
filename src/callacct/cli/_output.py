"""Console output: rich tables and progress for people, plain JSON for machines."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Self

from rich.console import Console
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

console = Console(highlight=False)
if not console.is_terminal and "COLUMNS" not in os.environ:
    # Piped or redirected tables would wrap at 80 columns; logs and pagers take wider lines.
    console.width = 160
# Messages are single lines: never wrapped, so scripts and logs see them whole.
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def print_json(data: Any) -> None:
    """Machine output: JSON on stdout and nothing else."""
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


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
            TextColumn("[bold]{task.description}"),
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
