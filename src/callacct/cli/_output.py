"""Console output: rich tables and progress for people, plain JSON for machines."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final, Self, TextIO

from rich.console import Console, RenderableType
from rich.markup import escape
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.text import Text

from callacct.errors import UsageError
from callacct.i18n import catalogue, format_number, t
from callacct.progress import (
    ALARMS,
    APPLYING,
    BUDGETS,
    CLASSIFYING,
    DELIVERIES,
    DIRECTORY,
    FINISHING,
    LINES,
    RATING,
    READING,
    Step,
)

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


def marked(text: str, part: str, style: str = "bold") -> Text:
    """`text` as plain text, with the first `part` in it in `style` (a name in a translated
    line).

    >>> [(span.start, span.end, span.style) for span in marked("alarm x added", "x").spans]
    [(6, 7, 'bold')]
    """
    result = Text(text)
    start = text.find(part) if part else -1
    if start >= 0:
        result.stylize(style, start, start + len(part))
    return result


def value_text(prefix: str, value: str, language: str) -> str:
    """A value the command line shows (a state, a result, an action) in `language` when the
    catalogues name it (`{prefix}.{value}`), else as it is.

    >>> value_text("cli.lock.state", "locked", "de"), value_text("cli.lock.state", "odd", "de")
    ('gesperrt', 'odd')
    """
    key = f"{prefix}.{value}"
    return t(key, language) if key in catalogue("en") else value


def print_error(label: str, message: object, style: str = "bold red") -> None:
    """One line on stderr: a styled label (`error:`, `warning:`...) and a plain message."""
    err_console.print(Text.assemble((label, style), " ", str(message)))


def print_json(data: Any) -> None:
    """Machine output: JSON on stdout and nothing else."""
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


def duration_text(seconds: int) -> str:
    """A call's duration in a table: m:ss, or h:mm:ss from an hour.

    >>> duration_text(65), duration_text(3725)
    ('1:05', '1:02:05')
    """
    minutes, sec = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{sec:02d}" if hours else f"{minutes}:{sec:02d}"


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


#: What each stage of long work is called on the progress line: its catalogue key.
STAGE_LABELS: Final[dict[str, str]] = {
    READING: "cli.progress.reading",
    FINISHING: "cli.progress.finishing",
    CLASSIFYING: "cli.progress.classifying",
    RATING: "cli.progress.rating",
    DIRECTORY: "cli.progress.directory",
    APPLYING: "cli.progress.applying",
    LINES: "cli.progress.lines",
    DELIVERIES: "cli.progress.deliveries",
    ALARMS: "cli.progress.alarms",
    BUDGETS: "cli.progress.budgets",
}


class _Amount(ProgressColumn):
    """Bytes (done / total) or items (done/total) of a step whose total is known."""

    def __init__(self) -> None:
        super().__init__()
        self._bytes = DownloadColumn()
        self._items = MofNCompleteColumn()

    def render(self, task: Task) -> RenderableType:
        if task.total is None:
            return Text("")
        return (self._bytes if task.fields.get("unit") == "bytes" else self._items).render(task)


class _Speed(ProgressColumn):
    """Bytes per second, for steps counted in bytes."""

    def __init__(self) -> None:
        super().__init__()
        self._speed = TransferSpeedColumn()

    def render(self, task: Task) -> RenderableType:
        return self._speed.render(task) if task.fields.get("unit") == "bytes" else Text("")


class ProgressLine:
    """The live progress line on stderr, shown only on a terminal: the library's `Step`s
    (`callacct.progress`) drawn as they come. A counted step that completes inside work of
    unknown length (new numbers classified while rating) gives the line back to that work.

    Use: `with line.running(): workspace.ingest(paths, progress=line)`; the stages are named
    in `language`. `quiet` (a command printing JSON) draws nothing.
    """

    def __init__(self, language: str = "en", *, quiet: bool = False) -> None:
        self.language = language
        self.enabled = err_console.is_terminal and not quiet
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        self._shown: Step | None = None
        self._idle: Step | None = None  # the work of unknown length going on

    @contextmanager
    def running(self) -> Iterator[Self]:
        if not self.enabled:
            yield self
            return
        self._progress = Progress(
            TextColumn("{task.description}", style="bold", markup=False),
            BarColumn(),
            _Amount(),
            _Speed(),
            TimeRemainingColumn(),
            console=err_console,
            transient=True,
        )
        with self._progress:
            yield self
        self._progress = self._task = self._shown = self._idle = None

    def __call__(self, step: Step) -> None:
        if self._progress is None:
            return
        if step.total is None:
            self._idle = step
        elif step.done >= step.total and self._idle is not None and step.stage != READING:
            step = self._idle  # back to the work of unknown length
        self._show(step)

    def _show(self, step: Step) -> None:
        assert self._progress is not None
        shown = self._shown
        self._shown = step
        description = describe_step(step, self.language)
        if (
            self._task is not None
            and shown is not None
            and shown.stage == step.stage
            and (shown.total is None) == (step.total is None)
        ):
            self._progress.update(
                self._task, description=description, completed=step.done, total=step.total
            )
            return
        # A new stage, or a total to unset (rich cannot): a new task.
        if self._task is not None:
            self._progress.remove_task(self._task)
        self._task = self._progress.add_task(
            description, total=step.total, completed=step.done, unit=step.unit
        )


def describe_step(step: Step, language: str = "en") -> str:
    """The text of a step on the progress line, in `language`.

    >>> describe_step(Step("directory", 1500, None, "people"))
    'reading the directory: 1,500 people'
    >>> describe_step(Step("rating"), "de")
    'Anrufe werden tarifiert'
    """
    if step.stage == DIRECTORY and step.done:
        people = format_number(step.done, language)
        return t("cli.progress.directory_people", language, people=people)
    if step.stage == APPLYING and step.total is not None:
        people = format_number(step.total, language)
        return t("cli.progress.applying_people", language, people=people)
    key = STAGE_LABELS.get(step.stage)
    return step.stage if key is None else t(key, language)
