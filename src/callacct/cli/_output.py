"""Console output: rich tables and progress for people, plain JSON for machines."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
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


class ByteProgress:
    """A progress bar over bytes on stderr, shown only on a terminal."""

    def __init__(self, description: str) -> None:
        self.description = description
        self.enabled = err_console.is_terminal
        self._progress: Progress | None = None
        self._task: Any = None

    def total(self, size: int) -> None:
        if self._progress is not None:
            self._progress.update(self._task, total=size)

    def advance(self, size: int) -> None:
        if self._progress is not None:
            self._progress.advance(self._task, size)

    @contextmanager
    def running(self) -> Iterator[ByteProgress]:
        if not self.enabled:
            yield self
            return
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=err_console,
            transient=True,
        )
        with self._progress:
            self._task = self._progress.add_task(self.description, total=None)
            yield self
        self._progress = None


class CountProgress:
    """A live line on stderr (only on a terminal) for work of unknown length (`idle`) that now
    and then counts items (`counting`): call it as `progress(done, total)`."""

    def __init__(self, idle: str, counting: str) -> None:
        self.idle = idle
        self.counting = counting
        self.enabled = err_console.is_terminal
        self._progress: Progress | None = None
        self._task: Any = None

    def __call__(self, done: int, total: int) -> None:
        if self._progress is None:
            return
        if done >= total:  # back to work of unknown length (rich cannot unset a total)
            self._progress.remove_task(self._task)
            self._task = self._progress.add_task(self.idle, total=None)
        else:
            self._progress.update(
                self._task, description=self.counting, completed=done, total=total
            )

    @contextmanager
    def running(self) -> Iterator[CountProgress]:
        if not self.enabled:
            yield self
            return
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=err_console,
            transient=True,
        )
        with self._progress:
            self._task = self._progress.add_task(self.idle, total=None)
            yield self
        self._progress = None
