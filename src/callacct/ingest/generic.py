"""Generic delimited CDR files, described by a small YAML mapping file.

A mapping says how to read one PBX's export and which of its columns hold what callacct needs.
`load_mapping(path)` turns it into a dialect (`generic-csv:<name>`) that `ingest_paths` accepts
like a built-in one (`callacct ingest FILE --mapping acme.yaml`). Mappings shipped with callacct
(or by an installed package) are dialects of the registry (`generic-csv:freeswitch-example`);
mappings listed in `ingest.mappings` join them for the workspace (`mapping_dialects`), and
those that have `detect` are tried when files are detected. Full description and an example:
`docs/generic-csv-mapping.md`.

    name: acme-pbx                  # shown as dialect "generic-csv:acme-pbx"
    delimiter: ";"                  # one character ("tab" for a tab); default ","
    header: true                    # true: columns by header name; false: by position (1 = first)
    encoding: utf-8                 # only UTF-8 is read; convert other files first (iconv)
    timezone: Europe/Paris          # of the times; default: ingest.source_timezone
    timestamp_format: "%d/%m/%Y %H:%M:%S"   # strftime, a list of them, "epoch" or "epoch_ms"
    detect: [CallID, Start, From, To]       # header names that identify the file (optional)
    columns:
      started_at: Start             # required
      calling_number: From          # required
      called_number: To             # required
      answered_at: Answer           # optional from here on
      ended_at: End
      duration_s: Talk              # conversation seconds
      ring_s: Ring
      record_key: CallID            # else a SHA-256 of the whole line
      extension: Ext
      gateway: Trunk
      direction:                    # else derived from the numbers and dialplan.extension_pattern
        column: Dir
        values: {IN: incoming, OUT: outgoing, INT: internal}
        default: internal           # for other values; without it they are rejected
      disposition:                  # else answered when connected, missed otherwise
        column: Result
        values: {OK: answered, NOANS: missed, BUSY: busy, ERR: failed}
        answered_if_connected: true # an answer time or a duration > 0 means answered anyway

Every scalar is read as text (YAML's `NO`, `on` or `0755` stay as written) and then validated
strictly: unknown keys, wrong types and impossible combinations are `SpecError`s naming the file,
the line and the key path (`acme.yaml:3: columns.started_at: required`), every one of them.
Every data column is read as text, so a bad time or number in one line becomes a reject with its
reason, never a failed file.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, cast

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from callacct.call_codes import DIRECTIONS, DISPOSITIONS, Direction, Disposition
from callacct.config import Settings, check_timezone
from callacct.errors import ConfigError, IngestError, SpecError
from callacct.ingest.dialects import DIALECTS, Dialect, Layout, Normalised, first_lines, get_dialect
from callacct.ingest.normalise import (
    DATETIME_FORMAT,
    Check,
    blank,
    call_frame,
    local_to_utc,
    local_to_utc_after,
    parse_local,
    parties,
    stable_keys,
)
from callacct.problems import KeyPath, Problem, SpecProblems, format_path, from_validation
from callacct.yamlfile import YamlDocument, read_yaml

SHIPPED_MAPPINGS = Path(__file__).parent / "mappings"
EPOCH_FORMATS: dict[str, Literal["s", "ms"]] = {"epoch": "s", "epoch_ms": "ms"}
TIME_FIELDS = ("started_at", "answered_at", "ended_at")
INTEGER_FIELDS = ("duration_s", "ring_s")
TEXT_FIELDS = ("calling_number", "called_number", "record_key", "extension", "gateway")


# -- the YAML file ------------------------------------------------------------------------


#: Size limit of a mapping file (a mapping is a few hundred bytes).
MAX_MAPPING_BYTES = 1024 * 1024


def _read_yaml(path: Path) -> YamlDocument:
    try:
        return read_yaml(path, max_bytes=MAX_MAPPING_BYTES, text_scalars=True)
    except FileNotFoundError:
        shipped = ", ".join(registered_mappings())
        raise SpecError(
            f"{path}: no such mapping file (mappings shipped with callacct: {shipped})"
        ) from None
    except OSError as exc:
        raise SpecError(f"{path}: cannot read the mapping ({exc.strerror or exc})") from exc


# -- validation -----------------------------------------------------------------------------


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DirectionMap(_Spec):
    """Where the direction is, and how its values read (keys matched ignoring case)."""

    column: str
    values: dict[str, Direction] = Field(default_factory=dict)
    default: Direction | None = None


class DispositionMap(_Spec):
    """Where the disposition is, and how its values read (keys matched ignoring case)."""

    column: str
    values: dict[str, Disposition] = Field(default_factory=dict)
    default: Disposition | None = None
    answered_if_connected: bool = False


class ColumnsSpec(_Spec):
    """Our field -> the source column (a header name, or a position when header is false)."""

    started_at: str
    calling_number: str
    called_number: str
    answered_at: str | None = None
    ended_at: str | None = None
    duration_s: str | None = None
    ring_s: str | None = None
    record_key: str | None = None
    extension: str | None = None
    gateway: str | None = None
    direction: DirectionMap | None = None
    disposition: DispositionMap | None = None

    @field_validator("direction", "disposition", mode="before")
    @classmethod
    def _shorthand(cls, value: object) -> object:
        """`direction: Dir` is short for `direction: {column: Dir}`."""
        return {"column": value} if isinstance(value, str) else value


class MappingSpec(_Spec):
    """The whole mapping file."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,39}$")
    delimiter: str = ","
    header: bool = True
    encoding: str = "utf-8"
    timezone: str | None = None
    timestamp_format: tuple[str, ...] = (DATETIME_FORMAT,)
    detect: tuple[str, ...] = ()
    columns: ColumnsSpec

    @field_validator("name", mode="before")
    @classmethod
    def _name(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            raise ValueError("must not be empty")
        return value

    @field_validator("delimiter")
    @classmethod
    def _delimiter(cls, value: str) -> str:
        value = "\t" if value.lower() == "tab" else value
        if len(value) != 1 or value in '"\r\n':
            raise ValueError(f"{value!r} is not one character such as ',' ';' '|' or 'tab'")
        return value

    @field_validator("encoding")
    @classmethod
    def _encoding(cls, value: str) -> str:
        if value.lower().replace("_", "-") not in ("utf-8", "utf8", "utf-8-sig"):
            raise ValueError(
                f"{value!r} is not supported: only utf-8 files are read; convert the file "
                "first, e.g. iconv -f CP1252 -t UTF-8"
            )
        return "utf-8"

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str | None) -> str | None:
        return check_timezone(value) if value is not None else None

    @field_validator("timestamp_format", mode="before")
    @classmethod
    def _formats(cls, value: object) -> object:
        return (value,) if isinstance(value, str) else value

    @field_validator("timestamp_format")
    @classmethod
    def _check_formats(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("give at least one format")
        epoch = [v for v in value if v in EPOCH_FORMATS]
        if epoch and len(value) > 1:
            raise ValueError(f"{epoch[0]!r} cannot be combined with other formats")
        for fmt in value:
            if fmt not in EPOCH_FORMATS and "%" not in fmt:
                raise ValueError(
                    f"{fmt!r} is not a strftime format such as '%Y-%m-%d %H:%M:%S', "
                    "nor 'epoch' or 'epoch_ms'"
                )
        return value


def _cross_checks(spec: MappingSpec) -> list[tuple[KeyPath, str]]:
    """Problems pydantic cannot see: they depend on several keys."""
    problems: list[tuple[KeyPath, str]] = []
    refs = _column_refs(spec)
    for field, ref in refs.items():
        path: KeyPath = ("columns", field)
        if field in ("direction", "disposition"):
            path = (*path, "column")
        if not spec.header and not (ref.isdigit() and int(ref) >= 1):
            problems.append(
                (path, f"{ref!r} must be a column position (1 = first) because header is false")
            )
        elif spec.header and not ref.strip():
            problems.append((path, "must name a column of the header"))
    if spec.detect and not spec.header:
        problems.append((("detect",), "needs header: true (it lists header names)"))
    for field in ("direction", "disposition"):
        value_map = getattr(spec.columns, field)
        if value_map is None:
            continue
        seen: dict[str, str] = {}
        for key in value_map.values:
            folded = key.strip().lower()
            if folded in seen:
                problems.append(
                    (("columns", field, "values", key), f"same value as {seen[folded]!r}")
                )
            seen[folded] = key
    return problems


def _validate(document: YamlDocument) -> MappingSpec:
    """The mapping, or `SpecProblems` naming every problem (file, line, key path)."""
    raw, source = document.data, document.source
    if not isinstance(raw, dict):
        raise SpecProblems(
            [
                Problem(
                    source, None, "", "",
                    "the mapping must be a YAML mapping with at least name and columns "
                    "(see docs/generic-csv-mapping.md)",
                )
            ]
        )  # fmt: skip
    try:
        spec = MappingSpec.model_validate(raw)
    except ValidationError as exc:
        raise SpecProblems(from_validation(exc, source, document.lines)) from None
    problems = [
        Problem(source, document.line(key), format_path(key), "", message)
        for key, message in _cross_checks(spec)
    ]
    if problems:
        raise SpecProblems(problems)
    return spec


def _column_refs(spec: MappingSpec) -> dict[str, str]:
    """Our field -> the source column reference (header name or position), mapped fields only."""
    refs: dict[str, str] = {}
    for field in (*TIME_FIELDS, *INTEGER_FIELDS, *TEXT_FIELDS):
        ref = getattr(spec.columns, field)
        if ref is not None:
            refs[field] = ref
    for field in ("direction", "disposition"):
        value_map = getattr(spec.columns, field)
        if value_map is not None:
            refs[field] = value_map.column
    return refs


# -- the dialect ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mapping:
    """A validated mapping and where it came from."""

    spec: MappingSpec
    path: Path

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(self.spec.model_dump_json().encode()).hexdigest()[:16]


class GenericCsv(Dialect):
    """A delimited file read through a mapping; `load_mapping` makes one per mapping."""

    name = "generic-csv"
    title = "Delimited file read through a YAML column mapping"

    def __init__(self, mapping: Mapping) -> None:
        self.mapping = mapping
        self.spec = mapping.spec
        self._refs = _column_refs(mapping.spec)
        self._formats = mapping.spec.timestamp_format
        self._epoch_unit = EPOCH_FORMATS.get(self._formats[0])

    def __repr__(self) -> str:
        return f"GenericCsv({self.name!r}, {str(self.mapping.path)!r})"

    # -- reading the file --

    def _header(self, head: bytes) -> list[str]:
        line = first_lines(head, 1)[0]
        try:
            fields = next(csv.reader([line], delimiter=self.spec.delimiter), [])
        except csv.Error:
            return []
        return [f.strip() for f in fields]

    def sniff(self, head: bytes, path: Path) -> bool:
        if not (self.spec.header and self.spec.detect):
            return False
        names = {n.lower() for n in self._header(head)}
        return all(d.strip().lower() in names for d in self.spec.detect)

    def layout(self, head: bytes, path: Path, settings: Settings) -> Layout:
        where = f"(mapping {self.mapping.path})"
        if self.spec.header:
            names = [n or f"column_{i}" for i, n in enumerate(self._header(head), start=1)]
            twice = sorted({n for n in names if names.count(n) > 1})
            if twice:
                raise IngestError(f"{path}: header names {', '.join(twice)} more than once {where}")
            folded = {n.lower() for n in names}
            missing = [
                f"{ref!r} ({field})"
                for field, ref in self._refs.items()
                if ref not in names and ref.lower() not in folded
            ]
            if missing:
                raise IngestError(
                    f"{path}: header has no column {', '.join(missing)} {where}; is this the "
                    "right mapping, or the right delimiter?"
                )
            header_lines, header_text = 1, first_lines(head, 1)[0]
        else:
            data = [line for line in first_lines(head, 20) if line.strip()]
            if not data:
                raise IngestError(f"{path}: no data line in the first lines {where}")
            count = len(next(csv.reader([data[0]], delimiter=self.spec.delimiter)))
            beyond = {f: r for f, r in self._refs.items() if int(r) > count}
            if beyond:
                shown = ", ".join(f"{f} = {r}" for f, r in beyond.items())
                raise IngestError(
                    f"{path}: lines have {count} columns but the mapping uses {shown} {where}"
                )
            names = [f"column_{i}" for i in range(1, count + 1)]
            header_lines, header_text = 0, f"(no header: {count} columns)"
        schema: dict[str, pl.DataType] = {n: pl.String() for n in names}
        return Layout(
            dialect=self.name,
            header_lines=header_lines,
            header_text=header_text,
            schema=schema,
            separator=self.spec.delimiter,
            options=(("mapping", self.mapping.fingerprint),),
            # Accounting reads the mapped columns only.
            accounting=frozenset(
                column for field in self._refs if (column := self._column_in(names, field))
            ),
        )

    def _column(self, frame: pl.DataFrame, field: str) -> str | None:
        """The frame column that holds `field`, or None when the mapping does not map it."""
        return self._column_in(frame.columns, field)

    def _column_in(self, columns: Sequence[str], field: str) -> str | None:
        ref = self._refs.get(field)
        if ref is None:
            return None
        if not self.spec.header:
            return f"column_{int(ref)}"
        if ref in columns:
            return ref
        return next(c for c in columns if c.lower() == ref.lower())

    def _label(self, frame: pl.DataFrame, field: str) -> str:
        if not self.spec.header:
            return f"{field} (column {self._refs[field]})"
        return f"{field} (column {self._column(frame, field)!r})"

    # -- values --

    def _text(self, frame: pl.DataFrame, field: str) -> pl.Expr:
        column = self._column(frame, field)
        if column is None:
            return pl.lit(None, pl.String)
        text = pl.col(column).str.strip_chars()
        return pl.when(text != "").then(text)

    def _time(self, frame: pl.DataFrame, field: str, timezone: str) -> pl.Expr:
        """UTC for a time column (null when unmapped, empty or unreadable)."""
        text = self._text(frame, field)
        if self._epoch_unit is not None:
            return pl.from_epoch(text.cast(pl.Int64, strict=False), time_unit=self._epoch_unit)
        return local_to_utc(parse_local(text, self._formats), timezone)

    def _times(self, frame: pl.DataFrame, timezone: str) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
        started = self._time(frame, "started_at", timezone)
        if self._epoch_unit is not None:
            return (
                started,
                self._time(frame, "answered_at", timezone),
                self._time(frame, "ended_at", timezone),
            )
        answered, ended = (
            local_to_utc_after(parse_local(self._text(frame, f), self._formats), timezone, started)
            for f in ("answered_at", "ended_at")
        )
        return started, answered, ended

    def _integer(self, frame: pl.DataFrame, field: str) -> pl.Expr:
        return self._text(frame, field).cast(pl.Int64, strict=False)

    def _mapped(self, frame: pl.DataFrame, field: str, vocabulary: Sequence[str]) -> pl.Expr | None:
        """The field's values in our vocabulary (null when not mapped), or None if unmapped."""
        value_map = cast(DirectionMap | DispositionMap | None, getattr(self.spec.columns, field))
        if value_map is None:
            return None
        column = self._column(frame, field)
        assert column is not None
        key = pl.col(column).fill_null("").str.strip_chars().str.to_lowercase()
        table: dict[str, str]
        if value_map.values:
            table = {k.strip().lower(): v for k, v in value_map.values.items()}
        else:
            table = {v: v for v in vocabulary}
        return key.replace_strict(table, default=value_map.default, return_dtype=pl.String)

    # -- the Dialect interface --

    def checks(self, frame: pl.DataFrame, settings: Settings) -> list[Check]:
        tz = self._timezone_for(settings)
        checks: list[Check] = []
        for field in TIME_FIELDS:
            column = self._column(frame, field)
            if column is None:
                continue
            text = pl.col(column)
            label = self._label(frame, field)
            required = field == "started_at"
            if required:
                checks.append((blank(text), "missing_time", f"{label} is empty"))
            if self._epoch_unit is not None:
                bad = ~blank(text) & text.str.strip_chars().cast(pl.Int64, strict=False).is_null()
                checks.append(
                    (bad, "bad_time", f"{label} is not a whole number ({self._formats[0]})")
                )
                continue
            naive = parse_local(text, self._formats)
            shown = " or ".join(repr(f) for f in self._formats)
            checks += [
                (~blank(text) & naive.is_null(), "bad_time",
                 f"{label} is not a date-time in the format {shown}"),
                (naive.is_not_null() & local_to_utc(naive, tz).is_null(), "nonexistent_time",
                 f"{label} is a local time that does not exist in {tz} (the clocks went forward "
                 "then); check the mapping's timezone or ingest.source_timezone"),
            ]  # fmt: skip
        for field in INTEGER_FIELDS:
            column = self._column(frame, field)
            if column is None:
                continue
            text, value = pl.col(column), self._integer(frame, field)
            label = self._label(frame, field)
            checks += [
                (~blank(text) & value.is_null(), "not_integer",
                 f"{label} should be a whole number of seconds"),
                (value < 0, "impossible_value", f"{label} is negative"),
            ]  # fmt: skip
        key = self._column(frame, "record_key")
        if key is not None:
            checks.append(
                (blank(pl.col(key)), "missing_key", f"{self._label(frame, 'record_key')} is empty")
            )
        started, answered, ended = self._times(frame, tz)
        checks += [
            (ended < started, "impossible_time", "ended_at is before started_at"),
            ((answered < started) | (answered > ended), "impossible_time",
             "answered_at is outside started_at..ended_at"),
        ]  # fmt: skip
        direction = self._mapped(frame, "direction", DIRECTIONS)
        if direction is not None:
            checks.append(
                (direction.is_null(), "unknown_value",
                 f"{self._label(frame, 'direction')} has a value the mapping does not list "
                 "(add it to direction.values, or set direction.default)")
            )  # fmt: skip
        disposition = self._mapped(frame, "disposition", DISPOSITIONS)
        if disposition is not None:
            unknown = disposition.is_null()
            spec = self.spec.columns.disposition
            if spec is not None and spec.answered_if_connected:
                unknown = unknown & ~self._connected(frame, answered)
            checks.append(
                (unknown, "unknown_value",
                 f"{self._label(frame, 'disposition')} has a value the mapping does not list "
                 "(add it to disposition.values, or set disposition.default)")
            )  # fmt: skip
        return checks

    def _connected(self, frame: pl.DataFrame, answered: pl.Expr) -> pl.Expr:
        connected = answered.is_not_null()
        if "duration_s" in self._refs:
            connected = connected | (self._integer(frame, "duration_s").fill_null(0) > 0)
        return connected

    def _timezone_for(self, settings: Settings) -> str:
        return self.spec.timezone or settings.source_timezone

    def keys(self, frame: pl.DataFrame, settings: Settings) -> pl.DataFrame:
        started = self._time(frame, "started_at", self._timezone_for(settings))
        if "record_key" in self._refs:
            keys = frame.select(self._text(frame, "record_key").alias("record_key")).to_series()
        else:
            keys = stable_keys(frame, [c for c in frame.columns if c != "_line"])
        return pl.DataFrame([keys, frame.select(started.alias("record_time")).to_series()])

    def normalise(self, frame: pl.DataFrame, settings: Settings) -> Normalised:
        tz = self._timezone_for(settings)
        started, answered_src, ended_src = self._times(frame, tz)
        duration_src = self._integer(frame, "duration_s")
        connected = self._connected(frame, answered_src)
        mapped = self._mapped(frame, "disposition", DISPOSITIONS)
        spec = self.spec.columns.disposition
        if mapped is None:
            disposition = pl.when(connected).then(pl.lit("answered")).otherwise(pl.lit("missed"))
        elif spec is not None and spec.answered_if_connected:
            disposition = pl.when(connected).then(pl.lit("answered")).otherwise(mapped)
        else:
            disposition = mapped
        answered = disposition == "answered"
        seconds = pl.duration(seconds=duration_src)
        if "duration_s" in self._refs:
            duration = duration_src
        else:
            duration = (ended_src - answered_src).dt.total_seconds()
        answered_at = pl.coalesce(answered_src, ended_src - seconds)
        ended_at = pl.coalesce(ended_src, pl.when(answered).then(answered_at + seconds))
        if "ring_s" in self._refs:
            ring = self._integer(frame, "ring_s")
        else:
            ring = pl.when(answered).then(answered_at - started).otherwise(ended_at - started)
            ring = ring.dt.total_seconds()
        calling = self._text(frame, "calling_number")
        called = self._text(frame, "called_number")
        who = parties(
            calling.fill_null(""),
            called.fill_null(""),
            settings.dialplan,
            direction=self._mapped(frame, "direction", DIRECTIONS),
        )
        extension = who["extension"]
        if "extension" in self._refs:
            extension = pl.coalesce(self._text(frame, "extension"), extension)
        if "record_key" in self._refs:
            record_key = self._text(frame, "record_key")
        else:
            record_key = pl.lit(stable_keys(frame, [c for c in frame.columns if c != "_line"]))
        columns: dict[str, pl.Expr] = {
            "_row": pl.int_range(pl.len(), dtype=pl.UInt32),
            "source": pl.lit(self.name),
            "record_key": record_key,
            "started_at": started,
            "answered_at": pl.when(answered).then(answered_at),
            "ended_at": ended_at,
            "duration_s": pl.when(answered).then(duration.fill_null(0)).otherwise(0),
            "ring_s": ring.clip(lower_bound=0),
            "direction": who["direction"],
            "answered": answered,
            "disposition": disposition,
            "calling_number": calling,
            "called_number": called,
            "final_number": called,
            "remote_number": pl.when(who["remote_number"] != "").then(who["remote_number"]),
            "extension": pl.when(extension != "").then(extension),
            "peer_extension": pl.when(who["peer_extension"] != "").then(who["peer_extension"]),
            "gateway": self._text(frame, "gateway"),
        }
        return Normalised(calls=call_frame(frame, columns))


def _dialect_type(spec: MappingSpec) -> type[GenericCsv]:
    """A subclass named after the mapping: `Dialect.name` is a class attribute."""
    attributes = {
        "name": f"generic-csv:{spec.name}",
        "title": f"Delimited file read through the mapping {spec.name!r}",
    }
    return cast(type[GenericCsv], type(f"GenericCsv_{spec.name}", (GenericCsv,), attributes))


def load_mapping(path: Path | str, root: Path | None = None) -> GenericCsv:
    """The dialect a mapping file describes; `SpecError` (file and key path) if it is invalid.

    A relative `path` is taken under `root` when given. A name without a folder that is not a
    file, such as `freeswitch-example`, is the registry's mapping of that name (shipped with
    callacct or by an installed package).
    """
    path = Path(path)
    full = path if root is None or path.is_absolute() else root / path
    bare = path.parent == Path() and path.suffix in ("", ".yaml")
    if bare and not full.exists():
        name = f"{GenericCsv.name}:{path.stem}"
        if name in DIALECTS and isinstance(dialect := DIALECTS.get(name), GenericCsv):
            return dialect
    spec = _validate(_read_yaml(full))
    return _dialect_type(spec)(Mapping(spec=spec, path=full))


def shipped_mapping(name: str) -> GenericCsv:
    """The mapping `name` shipped with callacct (the registry's factory for it)."""
    path = SHIPPED_MAPPINGS / f"{name}.yaml"
    return _dialect_type(spec := _validate(_read_yaml(path)))(Mapping(spec=spec, path=path))


def registered_mappings() -> list[str]:
    """The names of the mappings in the registry (`freeswitch-example`, ...)."""
    prefix = f"{GenericCsv.name}:"
    return [n.removeprefix(prefix) for n in DIALECTS.names() if n.startswith(prefix)]


def mapping_dialects(settings: Settings, root: Path) -> list[Dialect]:
    """The dialects of the mappings in `ingest.mappings` (paths relative to the workspace, or
    names of registered mappings). Two formats of one name are refused (`ConfigError`)."""
    dialects: list[Dialect] = []
    for item in settings.ingest.mappings:
        dialect = load_mapping(item, root)
        taken = [d for d in dialects if d.name == dialect.name]
        if dialect.name in DIALECTS and DIALECTS.get(dialect.name) is not dialect:
            taken.append(DIALECTS.get(dialect.name))
        if taken:
            raise ConfigError(
                f"{dialect.mapping.path}: ingest.mappings: the format {dialect.name} is "
                f"already {_described(taken[0])}; give this mapping another name"
            )
        dialects.append(dialect)
    return dialects


def _described(dialect: Dialect) -> str:
    if isinstance(dialect, GenericCsv):
        return f"the mapping {dialect.mapping.path}"
    return f"{dialect.title!r}"


def requested_dialect(
    settings: Settings,
    root: Path,
    *,
    fmt: str | None = None,
    mapping: Path | str | None = None,
) -> Dialect | None:
    """The dialect `--format NAME` (the registry's or the workspace's mappings) or `--mapping
    FILE` (a mapping file, relative to the current folder, or a registered mapping's name)
    asks for; None: detect each file's."""
    if mapping is not None:
        return load_mapping(mapping)
    if fmt is None:
        return None
    if fmt in DIALECTS:
        return DIALECTS.get(fmt)
    return get_dialect(fmt, mapping_dialects(settings, root))
