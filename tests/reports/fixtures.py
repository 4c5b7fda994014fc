"""Report results built by hand for the renderer tests: every column kind, a chart, totals."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import polars as pl

from callacct.i18n import t
from callacct.reports.result import Chart, Column, ReportResult

PARIS = ZoneInfo("Europe/Paris")
MALICIOUS = "<script>alert(1)</script>"
FORMULA = '=HYPERLINK("http://x","y")'
ARABIC_NAME = "أحمد"


def detail_result(language: str = "en", rows: int = 3, chart: bool = True) -> ReportResult:
    """A calls-detail-like result of `rows` rows with text, integer, money, duration,
    datetime, date, percent, number and boolean columns."""
    start = dt.datetime(2026, 11, 2, 8, 0, tzinfo=dt.UTC)
    names = ["Alice Martin", FORMULA, MALICIOUS, ARABIC_NAME, "+33 1 23 45 67 89", "-12.5"]
    frame = pl.DataFrame(
        {
            "user": [names[i % len(names)] for i in range(rows)],
            "extension": [str(1000 + i) for i in range(rows)],
            "count": list(range(1, rows + 1)),
            "cost": [Decimal("1234.5") + Decimal(i) / 100 for i in range(rows)],
            "duration_s": [3725 + i for i in range(rows)],
            "started_at": [start + dt.timedelta(minutes=i) for i in range(rows)],
            "day": [dt.date(2026, 11, 2) for _ in range(rows)],
            "share": [Decimal("12.5") for _ in range(rows)],
            "mos": [4.25 for _ in range(rows)],
            "answered": [i % 2 == 0 for i in range(rows)],
        },
        schema_overrides={"cost": pl.Decimal(18, 6), "started_at": pl.Datetime("us", "UTC")},
    )
    columns = [
        Column("user", t("field.user", language), "text"),
        Column("extension", t("field.extension", language), "text"),
        Column("count", "#", "integer"),
        Column("cost", t("field.cost", language), "money", currency="EUR"),
        Column("duration_s", t("field.duration_s", language), "duration"),
        Column("started_at", t("field.started_at", language), "datetime"),
        Column("day", t("field.day", language), "date"),
        Column("share", "%", "percent"),
        Column("mos", t("field.mos", language), "number"),
        Column("answered", t("field.answered", language), "boolean"),
    ]
    totals = {
        "count": sum(range(1, rows + 1)),
        "cost": sum((Decimal("1234.5") + Decimal(i) / 100 for i in range(rows)), Decimal(0)),
        "duration_s": sum(3725 + i for i in range(rows)),
    }
    return ReportResult(
        name="calls-detail",
        title=f"{t('field.cost', language)} — {t('field.user', language)}",
        description="Description & <b>details</b>",
        language=language,
        timezone="Europe/Paris",
        period=(dt.datetime(2026, 11, 1, tzinfo=PARIS), dt.datetime(2026, 12, 1, tzinfo=PARIS)),
        filters=[(t("field.department", language), "Sales"), (t("field.site", language), "=1+1")],
        columns=columns,
        rows=frame,
        totals=totals,
        chart=Chart("bar", "user", ("cost",), t("field.cost", language)) if chart else None,
        generated_at=dt.datetime(2026, 11, 26, 2, 30, tzinfo=dt.UTC),
    )


def narrow_result(language: str = "en", kind: str = "pie") -> ReportResult:
    """A cost-by-class result: three columns, per-row currencies, a chart of `kind`."""
    classes = ["mobile", "national", "international", "premium"]
    frame = pl.DataFrame(
        {
            "dest_class": [t(f"value.dest_class.{c}", language) for c in classes],
            "calls": [40, 30, 20, 10],
            "cost": [Decimal("12.30"), Decimal("4.05"), Decimal("30.10"), Decimal("2.000001")],
            "currency": ["EUR", "EUR", "USD", "EUR"],
        }
    )
    return ReportResult(
        name="cost-by-class",
        title=t("field.dest_class", language),
        description="",
        language=language,
        timezone="Europe/Paris",
        period=(None, None),
        filters=[],
        columns=[
            Column("dest_class", t("field.dest_class", language), "text"),
            Column("calls", "#", "integer"),
            Column("cost", t("field.cost", language), "money", currency_key="currency"),
        ],
        rows=frame,
        totals={"calls": 100},
        chart=Chart(kind, "dest_class", ("calls",), t("field.dest_class", language)),  # type: ignore[arg-type]
    )
