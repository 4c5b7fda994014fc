"""CDR dialects and their registry, the single source of truth for the formats callacct reads.

A dialect knows how to recognise its files from their first bytes, how to turn the header into a
`Layout` (column names and types), which values are impossible, and how to turn parsed records
into normalised calls (or call-quality rows). `--format`, `--help` and detection all come from
`DIALECTS`: callacct's own dialects and shipped generic CSV mappings (listed in
`callacct.registry.BUILTINS`), and those of installed packages (entry-point group
`callacct.dialects`). The mappings a workspace lists in `ingest.mappings` join them for that
workspace (`extra`).

Each dialect also declares, once, the columns accounting reads (`Layout.accounting`: checks,
record keys, calls). Bytes that are not UTF-8 there make a record unusable (`encoding` reject);
in any other column — a caller's display name, application data — they are replaced by U+FFFD
and counted as a warning, and the raw archive keeps the original bytes.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import ClassVar, Literal

import polars as pl

from callacct.config import Settings
from callacct.errors import IngestError, UsageError
from callacct.registry import Registry

RecordKind = Literal["call", "quality"]


@dataclass(frozen=True)
class Layout:
    """How the data lines of one file are laid out.

    `schema` maps each column, in file order, to `pl.Int64` or `pl.String`. Files with the same
    `signature` can be parsed together in one batch.
    """

    dialect: str
    header_lines: int
    header_text: str
    schema: dict[str, pl.DataType]
    separator: str = ","
    quote_char: str | None = '"'
    # True when every value of the last column is written quoted, so a null there means the
    # line had fewer fields than the header (Polars pads short lines with nulls silently).
    last_column_quoted: bool = False
    options: tuple[tuple[str, str], ...] = field(default=())
    # The columns accounting reads (None: all of them); see the module docstring.
    accounting: frozenset[str] | None = None

    @property
    def columns(self) -> list[str]:
        return list(self.schema)

    @cached_property
    def signature(self) -> tuple[object, ...]:
        return (
            self.dialect,
            tuple((name, str(dtype)) for name, dtype in self.schema.items()),
            self.separator,
            self.quote_char,
            self.options,
        )

    @cached_property
    def parsed(self) -> list[str]:
        """The columns parsed into typed values, in file order: those accounting reads and the
        first and last (blank and short lines are told by them), or every column when the
        dialect declares none. The others may hold anything: they are never typed or stored
        (the raw archive keeps them), so a line is not rejected for what they hold."""
        if self.accounting is None:
            return self.columns
        ends = {self.columns[0], self.columns[-1]}
        return [c for c in self.columns if c in self.accounting or c in ends]

    @property
    def skips_columns(self) -> bool:
        """Whether some columns are not parsed (see `parsed`)."""
        return len(self.parsed) < len(self.schema)

    def integer_columns(self) -> list[int]:
        """The indexes of the parsed columns typed as integers."""
        parsed = set(self.parsed)
        return [
            i
            for i, (name, dtype) in enumerate(self.schema.items())
            if dtype == pl.Int64 and name in parsed
        ]


@dataclass(frozen=True)
class Normalised:
    """What a batch of valid, new records becomes.

    `calls` and `quality` carry `_row` (the index of the source record in the batch frame) so the
    engine can attach file ids and line numbers.
    """

    calls: pl.DataFrame | None = None
    quality: pl.DataFrame | None = None


class Dialect(ABC):
    """One CDR format."""

    name: ClassVar[str]
    title: ClassVar[str]
    kind: ClassVar[RecordKind] = "call"

    @abstractmethod
    def sniff(self, head: bytes, path: Path) -> bool:
        """True when the first bytes of the file look like this dialect."""

    @abstractmethod
    def layout(self, head: bytes, path: Path, settings: Settings) -> Layout:
        """The layout of the file, from its first lines; `IngestError` if unusable."""

    @abstractmethod
    def checks(self, frame: pl.DataFrame, settings: Settings) -> list[tuple[pl.Expr, str, str]]:
        """Impossible values: (condition that marks a bad row, reason code, message)."""

    @abstractmethod
    def keys(self, frame: pl.DataFrame, settings: Settings) -> pl.DataFrame:
        """`record_key` (String) and `record_time` (Datetime UTC) of every row, in order."""

    @abstractmethod
    def normalise(self, frame: pl.DataFrame, settings: Settings) -> Normalised:
        """Calls (or quality rows) for the rows of `frame` (valid and new records only)."""


def _as_dialect(value: object) -> Dialect:
    if not isinstance(value, Dialect):
        raise TypeError(f"a {type(value).__name__}, not a callacct.ingest.dialects.Dialect")
    return value


DIALECTS: Registry[Dialect] = Registry(
    "callacct.dialects", "format", _as_dialect, name_of=lambda dialect: dialect.name
)


def get_dialect(name: str, extra: Sequence[Dialect] = ()) -> Dialect:
    """The dialect called `name`: one of `extra` (a workspace's mappings), else the registry's;
    `UsageError` naming the formats there are if there is none."""
    for dialect in extra:
        if dialect.name == name:
            return dialect
    if name not in DIALECTS:
        known = ", ".join(sorted({*DIALECTS.names(), *(d.name for d in extra)}))
        raise UsageError(f"unknown format {name!r}; use one of: {known}")
    return DIALECTS.get(name)


def detect_dialect(head: bytes, path: Path, extra: Sequence[Dialect] = ()) -> Dialect:
    """The dialect whose `sniff` accepts `head`; `IngestError` if none or several do.

    The candidates are the registry's dialects and `extra`, such as the generic CSV mappings
    listed in `ingest.mappings` (see `callacct.ingest.generic.mapping_dialects`).
    """
    candidates = {d.name: d for d in [*DIALECTS.all(), *extra]}
    matches = [d for d in candidates.values() if d.sniff(head, path)]
    if not matches:
        mappings = sorted(d.name for d in extra)
        tried = f" (nor the mappings {', '.join(mappings)})" if mappings else ""
        raise IngestError(f"{path}: not a CDR format callacct recognises{tried}; {format_hint()}")
    if len(matches) > 1:
        names = ", ".join(d.name for d in matches)
        raise IngestError(f"{path}: looks like several formats ({names}); pass --format NAME")
    return matches[0]


def format_hint() -> str:
    """What to tell someone whose file was not recognised: the formats `--format` accepts (from
    the registry), and `--mapping` for any other delimited export."""
    return (
        f"if it is one of {', '.join(DIALECTS.names())}, pass --format NAME; for another "
        "delimited export, describe its columns in a mapping and pass --mapping FILE "
        "(docs/generic-csv-mapping.md)"
    )


def first_lines(head: bytes, count: int) -> list[str]:
    """The first `count` lines of `head` decoded (BOM and CR stripped)."""
    text = head.decode("utf-8-sig", errors="replace")
    return [line.rstrip("\r") for line in text.split("\n")[:count]]
