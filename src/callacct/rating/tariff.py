"""Tariff plans: a plan file (YAML) naming a rate deck (CSV), validated whole, stored by version.

A plan prices the calls of the gateways whose device names match its `gateways` pattern (or every
call no plan claims, when it is the `default`). Each import is a **version** with a `valid_from`
date: calls are rated by the version in force on their local date. The deck's columns are
documented in docs/rating.md; every problem in a file is reported (line, column, value, what is
wrong) before anything is stored.

Example:
    >>> PlanDefinition.model_validate(
    ...     {"plan": "fr", "currency": "EUR", "valid_from": "2026-01-01", "deck": "fr.csv"}
    ... ).rounding
    'half_up'
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

import duckdb
import polars as pl
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from callacct.call_codes import DEST_CLASSES
from callacct.config import check_currency, check_regex
from callacct.errors import NotFoundError, SpecError, UsageError
from callacct.formats import money_text
from callacct.i18n import Message
from callacct.problems import KeyPath, LineMap, Problem, SpecProblems, format_path, from_validation
from callacct.problems import line_of as _line_of
from callacct.rating.bands import Band, BandTable
from callacct.rating.cost import MAX_PRICE_U, MICRO_DECIMALS, ROUNDINGS, Rounding
from callacct.rating.pending import mark_rerate
from callacct.service_numbers import SERVICE_CLASSES
from callacct.store import fetch_frame, registered, scalar, transaction
from callacct.yamlfile import read_limited, read_yaml

DECK_COLUMNS: Final = (
    "prefix",
    "destination",
    "class",
    "price_per_min",
    "connect_fee",
    "initial_increment_s",
    "subsequent_increment_s",
    "min_charge",
    "band",
)
REQUIRED_COLUMNS: Final = ("prefix", "price_per_min")
#: Classes a deck row may price by default: calls to service numbers are never priced.
_PRICED_CLASSES: Final = tuple(c for c in DEST_CLASSES if c not in SERVICE_CLASSES)
DEFAULTS: Final[dict[str, str]] = {
    "destination": "",
    "class": "",
    "connect_fee": "0",
    "initial_increment_s": "60",
    "subsequent_increment_s": "60",
    "min_charge": "0",
    "band": "",
}
MONEY_COLUMNS: Final = ("price_per_min", "connect_fee", "min_charge")
INCREMENT_COLUMNS: Final = ("initial_increment_s", "subsequent_increment_s")
#: Size limits of the files of a plan: the plan (YAML) and its rate deck (CSV).
MAX_PLAN_BYTES: Final = 1024 * 1024
MAX_DECK_BYTES: Final = 256 * 1024 * 1024
_PLAN_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,39}")
_MONEY = rf"^\d{{1,12}}(\.\d{{1,{MICRO_DECIMALS}}})?$"


class PlanDefinition(BaseModel):
    """A plan file: the plan's settings and the version it brings (`valid_from`, `deck`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    plan: str = Field(description="plan name: lower-case letters, digits, '_', '.', '-'")
    description: str = ""
    currency: str = Field(description="ISO 4217 currency of the deck's prices")
    decimals: int = Field(2, ge=0, le=MICRO_DECIMALS, description="decimals a call is rounded to")
    rounding: Rounding = Field("half_up", description="half_up, half_even, up or down")
    gateways: str = Field("", description="regex of the gateway/trunk names the plan prices")
    default: bool = Field(False, description="prices calls whose gateway no plan claims")
    split_bands: bool = Field(
        False, description="cut calls at band boundaries (else rated by their start time)"
    )
    rate_incoming: bool = Field(False, description="price incoming calls with the deck too")
    bands: tuple[Band, ...] = ()
    holidays: tuple[dt.date, ...] = ()
    holiday_band: str = ""
    valid_from: dt.date
    deck: str = Field(description="rate deck CSV, relative to the plan file")

    @field_validator("plan")
    @classmethod
    def _plan(cls, value: str) -> str:
        if not _PLAN_NAME.fullmatch(value):
            raise ValueError(f"{value!r}: use lower-case letters, digits, '_', '.', '-'")
        return value

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        return check_currency(value)

    @field_validator("gateways")
    @classmethod
    def _gateways(cls, value: str) -> str:
        return check_regex(value)

    @property
    def band_table(self) -> BandTable:
        return BandTable(self.bands, self.holidays, self.holiday_band)


class TariffError(SpecProblems):
    """A tariff file with problems; nothing was stored."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(problems, "nothing was stored")


@dataclass
class ImportReport:
    """What `import_tariff` did (or would do, on a dry run)."""

    plan: str
    version: int
    valid_from: dt.date
    currency: str
    rates: int
    replaced: bool
    dry_run: bool
    sha256: str
    problems: list[Problem] = field(default_factory=list)
    #: What the import changes beyond the plan itself (the default plan), or looks unintended.
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "plan": self.plan,
            "version": self.version,
            "valid_from": self.valid_from.isoformat(),
            "currency": self.currency,
            "rates": self.rates,
            "replaced": self.replaced,
            "dry_run": self.dry_run,
            "sha256": self.sha256,
            "problems": [p.to_dict() for p in self.problems],
            "warnings": self.warnings,
        }


# --------------------------------------------------------------------------- reading files


def read_plan_file(path: Path) -> tuple[PlanDefinition, LineMap]:
    """Parse and validate a plan file: the plan and the line of each key. Every problem
    (YAML, keys and values, references between them) becomes one `TariffError`."""
    try:
        document = read_yaml(path, max_bytes=MAX_PLAN_BYTES)
    except OSError as exc:
        raise UsageError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except SpecProblems as exc:
        raise TariffError(exc.problems) from None
    name = str(path)
    if not isinstance(document.data, dict):
        raise TariffError([Problem(name, 1, "", "", "expected a mapping of plan keys")])
    try:
        definition = PlanDefinition.model_validate(document.data)
    except ValidationError as exc:
        raise TariffError(from_validation(exc, name, document.lines)) from None
    problems = [
        Problem(name, _line_of(document.lines, key), format_path(key), value, message)
        for key, value, message in plan_problems(definition)
    ]
    if problems:
        raise TariffError(problems)
    return definition, document.lines


def plan_problems(definition: PlanDefinition) -> list[tuple[KeyPath, str, str]]:
    """What is wrong between the keys of a plan: (key path, value, message)."""
    out: list[tuple[KeyPath, str, str]] = []
    first: dict[str, int] = {}
    for index, band in enumerate(definition.bands):
        if band.name in first:
            out.append(
                (
                    ("bands", index, "name"),
                    band.name,
                    f"band {band.name!r} is defined twice (first as bands[{first[band.name]}])",
                )
            )
        first.setdefault(band.name, index)
    defined = ", ".join(first) or "no bands"
    if definition.holiday_band and definition.holiday_band not in first:
        out.append(
            (
                ("holiday_band",),
                definition.holiday_band,
                f"{definition.holiday_band!r} is not a band of this plan (it defines {defined}); "
                "name one of its bands, or add the band to bands",
            )
        )
    if definition.holidays and not definition.holiday_band:
        out.append(
            (
                ("holidays",),
                "",
                "holidays need a holiday_band: the band whose rates price calls on those days",
            )
        )
    return out


def read_deck(path: Path, bands: frozenset[str]) -> tuple[pl.DataFrame, list[Problem]]:
    """The deck's rows (strings, plus `line_no`) and every problem found in them.

    Rows come out with all `DECK_COLUMNS` (defaults filled in) and `price_u`, `connect_u`,
    `min_u`, `initial`, `subsequent` as integers (micro-units, seconds) where valid.
    """
    name = str(path)
    try:
        data = read_limited(path, MAX_DECK_BYTES)
    except OSError as exc:
        return _empty_deck(), [Problem(name, None, "", "", f"cannot read ({exc.strerror or exc})")]
    except SpecProblems as exc:
        return _empty_deck(), exc.problems
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        problem = Problem(name, line, "", "", "not UTF-8 text; save the deck as UTF-8")
        return _empty_deck(), [problem]
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    problems: list[Problem] = []
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        return _empty_deck(), [Problem(name, 1, "", "", "empty file; expected a header line")]
    except csv.Error as exc:
        return _empty_deck(), [Problem(name, 1, "", "", f"broken header line: {exc}")]
    unknown = [h for h in header if h not in DECK_COLUMNS]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if unknown or missing or len(set(header)) != len(header):
        for column in unknown:
            problems.append(
                Problem(name, 1, column, column, f"unknown column; use {', '.join(DECK_COLUMNS)}")
            )
        for column in missing:
            problems.append(Problem(name, 1, column, "", "required column is missing"))
        if len(set(header)) != len(header):
            problems.append(Problem(name, 1, "", "", "a column is named twice"))
        return _empty_deck(), problems
    columns: list[list[str]] = [[] for _ in header]
    lines: list[int] = []
    width = len(header)
    previous = reader.line_num
    try:
        for row in reader:
            start = previous + 1
            previous = reader.line_num
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            if len(row) != width:
                problems.append(
                    Problem(
                        name, start, "", delimiter.join(row)[:80],
                        f"{len(row)} fields, the header has {width}",
                    )
                )  # fmt: skip
                continue
            lines.append(start)
            for index, value in enumerate(row):
                columns[index].append(value.strip())
    except csv.Error as exc:
        problems.append(Problem(name, previous + 1, "", "", f"broken quoting: {exc}"))
        return _empty_deck(), problems
    frame = pl.DataFrame(
        {"line_no": lines, **dict(zip(header, columns, strict=True))},
        schema={"line_no": pl.Int64, **dict.fromkeys(header, pl.String)},
    )
    frame = frame.with_columns(
        pl.lit(default, pl.String).alias(column)
        for column, default in DEFAULTS.items()
        if column not in header
    ).with_columns(
        pl.col(column).replace("", DEFAULTS[column])
        for column in ("connect_fee", "initial_increment_s", "subsequent_increment_s", "min_charge")
    )
    problems += _check_deck(frame, name, bands)
    return _typed(frame), sorted(problems, key=lambda problem: problem.line or 0)


def _empty_deck() -> pl.DataFrame:
    return _typed(
        pl.DataFrame(schema={"line_no": pl.Int64, **dict.fromkeys(DECK_COLUMNS, pl.String)})
    )


def _typed(frame: pl.DataFrame) -> pl.DataFrame:
    money = {"price_per_min": "price_u", "connect_fee": "connect_u", "min_charge": "min_u"}
    return frame.with_columns(
        pl.col("prefix").str.strip_prefix("+"),
        *(_micro(pl.col(column)).alias(alias) for column, alias in money.items()),
        pl.col("initial_increment_s").cast(pl.Int64, strict=False).alias("initial"),
        pl.col("subsequent_increment_s").cast(pl.Int64, strict=False).alias("subsequent"),
    )


def _micro(text: pl.Expr) -> pl.Expr:
    """Exact micro-units of decimal text (null when it is not a valid amount)."""
    ok = text.str.contains(_MONEY)
    parts = text.str.split_exact(".", 1)
    whole = parts.struct.field("field_0").cast(pl.Int64, strict=False)
    fraction = (
        parts.struct.field("field_1")
        .fill_null("")
        .str.pad_end(MICRO_DECIMALS, "0")
        .cast(pl.Int64, strict=False)
    )
    return pl.when(ok).then(whole * 10**MICRO_DECIMALS + fraction)


def _check_deck(frame: pl.DataFrame, name: str, bands: frozenset[str]) -> list[Problem]:
    checks: list[tuple[str, pl.Expr, str]] = [
        (
            "prefix",
            ~pl.col("prefix").str.contains(r"^\+?\d{1,15}$") & (pl.col("prefix") != ""),
            "prefix must be digits (a leading '+' is allowed), at most 15",
        ),
        (
            "class",
            (pl.col("prefix") == "") & (pl.col("class") == ""),
            "a row without prefix is a class default and needs a class",
        ),
        (
            "class",
            ~pl.col("class").is_in(["", *_PRICED_CLASSES]),
            f"unknown class; use one of {', '.join(_PRICED_CLASSES)}",
        ),
        (
            "band",
            ~pl.col("band").is_in(["", *sorted(bands)]),
            "unknown band; the plan defines "
            + (", ".join(sorted(bands)) if bands else "no bands (leave the column empty)"),
        ),
    ]
    for column in MONEY_COLUMNS:
        value = pl.col(column)
        checks.append((column, value.str.starts_with("-"), "negative amount; prices are 0 or more"))
        checks.append(
            (
                column,
                ~value.str.starts_with("-") & ~value.str.contains(_MONEY),
                f"not an amount such as 0.0125 (digits, '.', at most {MICRO_DECIMALS} decimals)",
            )
        )
    # Bounds that keep `price × seconds` and `fee × 60` exact in 64-bit integers.
    checks += [
        (column, _micro(pl.col(column)) > MAX_PRICE_U, "amount above 1,000,000; check the unit")
        for column in MONEY_COLUMNS
    ]
    for column in INCREMENT_COLUMNS:
        value = pl.col(column).cast(pl.Int64, strict=False)
        checks.append(
            (column, value.is_null(), "not a whole number of seconds")
        )  # fmt: skip
        checks.append((column, value <= 0, "increment must be at least 1 second"))
        checks.append((column, value > 86_400, "increment above one day; check the unit"))
    failing = [
        frame.filter(condition.fill_null(False)).select(
            "line_no",
            pl.lit(column).alias("column"),
            pl.col(column).alias("value"),
            pl.lit(message).alias("message"),
        )
        for column, condition, message in checks
    ]
    keys = frame.with_columns(
        pl.when(pl.col("prefix") == "")
        .then(pl.lit("class ") + pl.col("class"))
        .otherwise(pl.lit("prefix ") + pl.col("prefix").str.strip_prefix("+"))
        .alias("key")
    )
    first = keys.group_by("key", "band").agg(pl.col("line_no").min().alias("first"))
    duplicates = (
        keys.join(first, on=["key", "band"])
        .filter(pl.col("line_no") != pl.col("first"))
        .select(
            "line_no",
            pl.lit("prefix").alias("column"),
            pl.col("prefix").alias("value"),
            (
                pl.lit("duplicate ")
                + pl.col("key")
                + pl.when(pl.col("band") != "")
                .then(pl.lit(" in band ") + pl.col("band"))
                .otherwise(pl.lit(""))
                + pl.lit(" (first on line ")
                + pl.col("first").cast(pl.String)
                + pl.lit(")")
            ).alias("message"),
        )
    )
    found = pl.concat([*failing, duplicates]).sort("line_no", "column", maintain_order=True)
    return [Problem(name, *row) for row in found.iter_rows()]


# --------------------------------------------------------------------------- storing


def import_tariff(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    *,
    plan: str | None = None,
    valid_from: dt.date | None = None,
    dry_run: bool = False,
    replace_default: bool = False,
) -> ImportReport:
    """Validate and store a plan file (YAML) or, with `plan` and `valid_from`, a new deck
    (CSV) for an existing plan. Raises `TariffError` listing every problem; stores nothing then.

    A plan marked `default: true` while another plan is the default is refused unless
    `replace_default`. Storing a version marks the calls as due for re-rating (`rerate_pending`)
    in the same transaction, so an import interrupted before `rate_calls` is never silent.
    """
    lines: LineMap = {}
    if path.suffix.lower() in (".yaml", ".yml"):
        if plan is not None:
            raise UsageError(f"{path}: a plan file names its plan; --plan is for a CSV deck")
        definition, lines = read_plan_file(path)
        if valid_from is not None:
            definition = definition.model_copy(update={"valid_from": valid_from})
        deck_path = (path.parent / definition.deck).resolve()
    else:
        if plan is None or valid_from is None:
            raise UsageError(
                f"{path}: a rate deck alone needs --plan NAME and --valid-from DATE "
                "(or import the plan's YAML file)"
            )
        definition = _definition_of(con, plan, valid_from, path.name)
        deck_path = path
    band_names = frozenset(band.name for band in definition.bands)
    deck, problems = read_deck(deck_path, band_names)
    if not deck.height and not problems:
        problems = [Problem(str(deck_path), None, "", "", "the deck has no rates")]
    if deck.height and not problems:
        problems = _unpriced_bands(definition, deck, path, deck_path, lines)
    current = _default_plan(con)
    if definition.default and current not in (None, definition.plan) and not replace_default:
        problems.insert(
            0,
            Problem(
                str(path),
                _line_of(lines, ("default",)),
                "default",
                "true",
                f"{current!r} is the default plan; import with --replace-default to make "
                f"{definition.plan!r} the default instead, or set default: false",
            ),
        )
    if problems:
        raise TariffError(problems)
    digest = hashlib.sha256(deck_path.read_bytes()).hexdigest()
    existing = con.execute(
        "SELECT version FROM tariff_versions WHERE plan = ? AND valid_from = ?",
        [definition.plan, definition.valid_from],
    ).fetchall()
    if existing:
        version = int(existing[0][0])
    else:
        last = scalar(
            con, "SELECT max(version) FROM tariff_versions WHERE plan = ?", [definition.plan]
        )
        version = int(last or 0) + 1
    report = ImportReport(
        plan=definition.plan,
        version=version,
        valid_from=definition.valid_from,
        currency=definition.currency,
        rates=deck.height,
        replaced=bool(existing),
        dry_run=dry_run,
        sha256=digest,
        warnings=_import_warnings(definition, current),
    )
    if dry_run:
        return report
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    rows = deck.select(
        "line_no",
        "prefix",
        "destination",
        pl.col("class").alias("dest_class"),
        "price_per_min",
        "connect_fee",
        pl.col("initial").cast(pl.Int32).alias("initial_increment_s"),
        pl.col("subsequent").cast(pl.Int32).alias("subsequent_increment_s"),
        "min_charge",
        "band",
    )
    with transaction(con):
        if definition.default:
            con.execute(
                "UPDATE tariff_plans SET is_default = false WHERE plan <> ?", [definition.plan]
            )
        con.execute("DELETE FROM tariff_plans WHERE plan = ?", [definition.plan])
        con.execute(
            "INSERT INTO tariff_plans VALUES (?, ?, ?, ?, ?)",
            [definition.plan, definition.description, definition.gateways, definition.default, now],
        )
        con.execute(
            "DELETE FROM tariff_versions WHERE plan = ? AND version = ?", [definition.plan, version]
        )
        con.execute(
            "DELETE FROM tariff_rates WHERE plan = ? AND version = ?", [definition.plan, version]
        )
        con.execute(
            "INSERT INTO tariff_versions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                definition.plan,
                version,
                definition.valid_from,
                definition.currency,
                definition.decimals,
                definition.rounding,
                definition.split_bands,
                definition.rate_incoming,
                json.dumps([b.model_dump() for b in definition.bands]),
                json.dumps([d.isoformat() for d in definition.holidays]),
                definition.holiday_band,
                str(path.name),
                digest,
                deck.height,
                now,
            ],
        )
        with registered(con, "_tariff_deck", rows):
            con.execute(
                """
                INSERT INTO tariff_rates
                SELECT ?, ?, line_no, prefix, destination, dest_class,
                       CAST(price_per_min AS DECIMAL(18, 6)), CAST(connect_fee AS DECIMAL(18, 6)),
                       initial_increment_s, subsequent_increment_s,
                       CAST(min_charge AS DECIMAL(18, 6)), band
                FROM _tariff_deck
                """,
                [definition.plan, version],
            )
        if scalar(con, "SELECT EXISTS (SELECT 1 FROM calls)"):
            mark_rerate(con, f"tariff {definition.plan} version {version} was imported")
    return report


def _default_plan(con: duckdb.DuckDBPyConnection) -> str | None:
    found = scalar(con, "SELECT min(plan) FROM tariff_plans WHERE is_default")
    return None if found is None else str(found)


def _unpriced_bands(
    definition: PlanDefinition, deck: pl.DataFrame, path: Path, deck_path: Path, lines: LineMap
) -> list[Problem]:
    """A band no deck row prices, when every row names a band: its calls would cost nothing."""
    used = set(deck.get_column("band").unique().to_list())
    if "" in used:
        return []
    out = []
    for index, band in enumerate(definition.bands):
        if band.name in used:
            continue
        message = (
            f"no deck row prices band {band.name!r} and every row names a band: its calls "
            "would cost nothing; add rows for it, or band-less rows"
        )
        if lines:
            key: KeyPath = ("bands", index, "name")
            out.append(
                Problem(str(path), _line_of(lines, key), format_path(key), band.name, message)
            )
        else:
            out.append(Problem(str(deck_path), None, "band", band.name, message))
    return out


def _import_warnings(definition: PlanDefinition, current_default: str | None) -> list[str]:
    plan = definition.plan
    out = []
    if definition.default and current_default not in (None, plan):
        out.append(f"{current_default!r} is no longer the default plan; {plan!r} is")
    if not definition.default and current_default == plan:
        out.append(
            f"{plan!r} was the default plan and is not any more (default: false): calls whose "
            "gateway no plan claims are not priced"
        )
    if not definition.default and not definition.gateways:
        out.append(
            f"{plan!r} has no gateways pattern and is not the default plan: it prices no call"
        )
    return out


def _definition_of(
    con: duckdb.DuckDBPyConnection, plan: str, valid_from: dt.date, deck: str
) -> PlanDefinition:
    """The settings of `plan`'s latest version, for a new deck imported on its own."""
    versions = load_versions(con, plan)
    if not versions:
        known = ", ".join(list_plan_names(con)) or Message("error.no_plans_yet")
        raise NotFoundError(Message("error.no_plan", plan=repr(plan), known=known))
    latest = versions[-1]
    plans = {
        row["plan"]: row
        for row in fetch_frame(con, "SELECT * FROM tariff_plans").iter_rows(named=True)
    }
    return PlanDefinition(
        plan=plan,
        description=plans[plan]["description"],
        currency=latest.currency,
        decimals=latest.decimals,
        rounding=latest.rounding,
        gateways=plans[plan]["gateways"],
        default=plans[plan]["is_default"],
        split_bands=latest.split_bands,
        rate_incoming=latest.rate_incoming,
        bands=latest.bands.bands,
        holidays=latest.bands.holidays,
        holiday_band=latest.bands.holiday_band,
        valid_from=valid_from,
        deck=deck,
    )


# --------------------------------------------------------------------------- loading


@dataclass(frozen=True)
class Version:
    """One stored version of a plan."""

    plan: str
    version: int
    valid_from: dt.date
    currency: str
    decimals: int
    rounding: Rounding
    split_bands: bool
    rate_incoming: bool
    bands: BandTable
    source: str
    rates: int
    imported_at: dt.datetime


@dataclass(frozen=True)
class PlanRoute:
    """Which calls a plan prices."""

    plan: str
    description: str
    gateways: str
    is_default: bool


def list_plan_names(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [
        str(row[0]) for row in con.execute("SELECT plan FROM tariff_plans ORDER BY plan").fetchall()
    ]


def load_routes(con: duckdb.DuckDBPyConnection) -> list[PlanRoute]:
    """Plans in the order gateways are matched against them (by name), the default last."""
    rows = con.execute(
        "SELECT plan, description, gateways, is_default FROM tariff_plans ORDER BY plan"
    ).fetchall()
    return [PlanRoute(str(p), str(d), str(g), bool(default)) for p, d, g, default in rows]


def load_versions(con: duckdb.DuckDBPyConnection, plan: str | None = None) -> list[Version]:
    """Stored versions (of `plan`, or all), oldest first within each plan."""
    where = "WHERE plan = ?" if plan is not None else ""
    frame = fetch_frame(
        con,
        f"SELECT * FROM tariff_versions {where} ORDER BY plan, valid_from",  # noqa: S608
        [plan] if plan is not None else [],
    )
    out = []
    for row in frame.iter_rows(named=True):
        rounding = row["rounding"]
        if rounding not in ROUNDINGS:  # pragma: no cover - written by import_tariff only
            raise SpecError(f"tariff {row['plan']} v{row['version']}: bad rounding {rounding!r}")
        out.append(
            Version(
                plan=row["plan"],
                version=row["version"],
                valid_from=row["valid_from"],
                currency=row["currency"],
                decimals=row["decimals"],
                rounding=rounding,
                split_bands=row["split_bands"],
                rate_incoming=row["rate_incoming"],
                bands=BandTable(
                    tuple(Band.model_validate(b) for b in json.loads(row["bands"])),
                    tuple(dt.date.fromisoformat(d) for d in json.loads(row["holidays"])),
                    row["holiday_band"],
                ),
                source=row["source"],
                rates=row["rates"],
                imported_at=row["imported_at"],
            )
        )
    return out


RATE_SCHEMA: Final[dict[str, pl.DataType]] = {
    "plan": pl.String(),
    "version": pl.Int32(),
    "prefix": pl.String(),
    "destination": pl.String(),
    "dest_class": pl.String(),
    "band": pl.String(),
    "price_u": pl.Int64(),
    "connect_u": pl.Int64(),
    "min_u": pl.Int64(),
    "initial": pl.Int64(),
    "subsequent": pl.Int64(),
    "line_no": pl.Int64(),
}


def load_rates(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Every stored rate row, money as integer micro-units (exact)."""
    frame = fetch_frame(
        con,
        """
        SELECT plan, version, prefix, destination, dest_class, band,
               CAST(CAST(price_per_min AS DECIMAL(38, 6)) * 1000000 AS BIGINT) AS price_u,
               CAST(CAST(connect_fee AS DECIMAL(38, 6)) * 1000000 AS BIGINT) AS connect_u,
               CAST(CAST(min_charge AS DECIMAL(38, 6)) * 1000000 AS BIGINT) AS min_u,
               CAST(initial_increment_s AS BIGINT) AS initial,
               CAST(subsequent_increment_s AS BIGINT) AS subsequent,
               line_no
        FROM tariff_rates
        """,
    )
    return frame.cast(pl.Schema(RATE_SCHEMA))


# --------------------------------------------------------------------------- describing

#: Plan files shipped as examples (the demo loads them); `tariff import NAME` finds them.
EXAMPLE_TARIFFS: Final = tuple(sorted((Path(__file__).parent / "tariffs").glob("*.yaml")))


def describe_plans(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Every plan with its versions, for `tariff list`."""
    versions = load_versions(con)
    return [
        {
            "plan": route.plan,
            "description": route.description,
            "default": route.is_default,
            "gateways": route.gateways,
            "versions": [
                {
                    "version": v.version,
                    "valid_from": v.valid_from.isoformat(),
                    "currency": v.currency,
                    "rates": v.rates,
                    "source": v.source,
                    "imported_at": v.imported_at.isoformat(),
                }
                for v in versions
                if v.plan == route.plan
            ],
        }
        for route in load_routes(con)
    ]


def show_plan(
    con: duckdb.DuckDBPyConnection,
    plan: str,
    *,
    version: int | None = None,
    prefix: str | None = None,
    limit: int = 50,
) -> dict[str, Any]:
    """One plan version with its settings and (some of) its rates, for `tariff show`."""
    versions = load_versions(con, plan)
    if not versions:
        known = ", ".join(list_plan_names(con)) or Message("error.no_plans")
        raise NotFoundError(Message("error.no_plan", plan=repr(plan), known=known))
    chosen = (
        versions[-1]
        if version is None
        else next((v for v in versions if v.version == version), None)
    )
    if chosen is None:
        numbers = ", ".join(str(v.version) for v in versions)
        raise NotFoundError(
            Message("error.no_plan_version", plan=repr(plan), version=version, versions=numbers)
        )
    route = next(r for r in load_routes(con) if r.plan == plan)
    where = "plan = ? AND version = ?"
    params: list[Any] = [plan, chosen.version]
    if prefix:
        where += " AND starts_with(prefix, ?)"
        params.append(prefix.lstrip("+"))
    count = int(scalar(con, f"SELECT count(*) FROM tariff_rates WHERE {where}", params))  # noqa: S608
    rates = fetch_frame(
        con,
        f"""
        SELECT line_no, prefix, destination, dest_class,
               CAST(price_per_min AS VARCHAR) AS price_per_min,
               CAST(connect_fee AS VARCHAR) AS connect_fee, initial_increment_s,
               subsequent_increment_s, CAST(min_charge AS VARCHAR) AS min_charge, band
        FROM tariff_rates WHERE {where} ORDER BY line_no LIMIT ?
        """,  # noqa: S608 - `where` is built from constants
        [*params, limit],
    )
    bands = chosen.bands
    return {
        "plan": plan,
        "description": route.description,
        "default": route.is_default,
        "gateways": route.gateways,
        "version": chosen.version,
        "valid_from": chosen.valid_from.isoformat(),
        "currency": chosen.currency,
        "decimals": chosen.decimals,
        "rounding": chosen.rounding,
        "split_bands": chosen.split_bands,
        "rate_incoming": chosen.rate_incoming,
        "bands": [b.model_dump() for b in bands.bands],
        "holidays": [d.isoformat() for d in bands.holidays],
        "holiday_band": bands.holiday_band,
        "rate_count": count,
        "rates": [
            {k: (money_text(Decimal(v)) if k in MONEY_COLUMNS else v) for k, v in row.items()}
            for row in rates.iter_rows(named=True)
        ],
    }
