"""An alarm's mail: its subject, the context of its templates (a readable table of what
fired, in the reader's language) and, optionally, every row as an Excel workbook.

The templates (`templates/alarm.txt.j2`, `alarm.html.j2`) extend the layout every callacct
mail shares; `template_loader()` is what the mail renderer is given. Who receives which
rows is decided here too: an address named in the alarm gets every row, the supervisor of
the people concerned only the rows about their own people.

Example:
    >>> mail = build_mail({"alarm": "abroad", "kind": "international", "period": None,
    ...     "found": 1, "columns": ["call_id", "cost", "currency"],
    ...     "rows": [{"call_id": 7, "cost": "1.5", "currency": "EUR"}]}, language="fr")
    >>> mail.subject
    'Alarme abroad : Appels internationaux'
    >>> mail.context["headers"], mail.context["rows"]
    (["Identifiant d'appel", 'Coût', 'Devise'], [['7', '1,50', 'EUR']])
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, Final

from callacct.i18n import format_duration, format_number, t
from callacct.i18n.formats import currency_digits

if TYPE_CHECKING:
    import jinja2

#: The name of the alarm templates (`alarm.txt.j2`, `alarm.html.j2`).
TEMPLATE: Final = "alarm"
XLSX_TYPE: Final = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: Cells that a spreadsheet would take for a formula (kept as text, never evaluated).
_FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")

#: The catalogue key of each column an event may have.
_COLUMN_KEYS: Final = {
    "call_id": "field.call_id",
    "started_at": "field.started_at",
    "extension": "field.extension",
    "user": "field.user",
    "person": "field.user",
    "department": "field.department",
    "cost_center": "field.cost_center",
    "direction": "field.direction",
    "number": "field.remote_number",
    "dest_class": "field.dest_class",
    "dest_country": "field.dest_country",
    "duration_s": "field.duration_s",
    "cost": "field.cost",
    "currency": "field.currency",
    "period": "alarm.column.period",
    "spent": "alarm.column.spent",
    "limit": "alarm.column.limit",
    "calls": "alarm.column.calls",
    "missed": "alarm.column.missed",
    "last_records_at": "alarm.column.last_records_at",
    "minutes_without": "alarm.column.minutes_without",
    "files_without_records": "alarm.column.files_without_records",
    "last_ingest_at": "alarm.column.last_ingest_at",
}
_MONEY: Final = ("cost", "spent", "limit")
_VALUES: Final = ("direction", "dest_class")


@dataclass(frozen=True)
class AlarmMail:
    """What an alarm's mail says: subject, the templates' context, an optional workbook
    (file name, bytes), its language."""

    subject: str
    context: dict[str, Any]
    attachment: tuple[str, bytes] | None
    language: str


def template_loader() -> jinja2.BaseLoader:
    """The alarm templates, for the shared mail renderer."""
    import jinja2  # loaded when a mail is built, not by every command

    return jinja2.PackageLoader("callacct.alarms", "templates")


def build_mail(
    event: Mapping[str, Any],
    *,
    language: str,
    description: str = "",
    rows_shown: int = 50,
    xlsx: bool = False,
    rows: Sequence[Mapping[str, Any]] | None = None,
) -> AlarmMail:
    """The mail of one firing (`event`: a row of `alarm_events` as `records.event_rows`
    gives it), showing `rows` (default: all its rows) — at most `rows_shown` of them in the
    body, every one in the workbook when `xlsx`."""
    name = str(event["alarm"])
    kind = str(event["kind"])
    title = t(f"alarm.kind.{kind}", language)
    columns = list(event["columns"])
    chosen = list(event["rows"] if rows is None else rows)
    body = chosen[:rows_shown]
    file = f"alarm-{name}-{event.get('event_id', 0)}.xlsx"
    attachment = (file, workbook(columns, chosen, language, title)) if xlsx and chosen else None
    found = len(chosen) if rows is not None else int(event["found"])
    context = {
        "title": title,
        "name": name,
        "description": description,
        "intro": t("alarm.intro", language, name=name, found=found),
        "period": t("alarm.period", language, period=event["period"])
        if event.get("period")
        else None,
        "headers": [column_label(column, language) for column in columns],
        "rows": [[cell_text(column, row, language) for column in columns] for row in body],
        "more": t("alarm.more_rows", language, count=found - len(body), name=name)
        if found > len(body)
        else None,
        "attached": t("alarm.attached", language, file=file) if attachment else None,
    }
    return AlarmMail(
        t("alarm.subject", language, name=name, title=title), context, attachment, language
    )


def column_label(column: str, language: str) -> str:
    key = _COLUMN_KEYS.get(column)
    return t(key, language) if key else column


def cell_text(column: str, row: Mapping[str, Any], language: str) -> str:
    """A cell as a person reads it in `language`: money with its currency's decimals,
    durations as h:mm:ss, times without seconds' noise, directions and classes translated."""
    value = row.get(column)
    if value is None:
        return t("alarm.never", language) if column.endswith("_at") else ""
    if column in _MONEY:
        try:
            amount = Decimal(str(value))
        except InvalidOperation:
            return str(value)
        return format_number(amount, language, currency_digits(row.get("currency")))
    if column == "duration_s":
        return format_duration(int(value))
    if column in _VALUES:
        return t(f"value.{column}.{value}", language)
    if column.endswith("_at") and isinstance(value, str):
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
        return moment.strftime("%Y-%m-%d %H:%M")
    return str(value)


def workbook(
    columns: Sequence[str], rows: Sequence[Mapping[str, Any]], language: str, title: str
) -> bytes:
    """Every row as an Excel workbook: numbers as numbers, text never read as a formula."""
    import xlsxwriter  # loaded when a workbook is written, not by every command

    out = io.BytesIO()
    book = xlsxwriter.Workbook(
        out,
        {
            "in_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    book.set_properties({"title": title})
    sheet = book.add_worksheet(title[:31].replace("/", "-"))
    bold = book.add_format({"bold": True})
    for col, column in enumerate(columns):
        sheet.write_string(0, col, column_label(column, language), bold)
    for line, row in enumerate(rows, start=1):
        for col, column in enumerate(columns):
            value = row.get(column)
            if value is None:
                continue
            if isinstance(value, bool):
                sheet.write_boolean(line, col, value)
            elif isinstance(value, int) or column in _MONEY:
                # Excel holds doubles; a Decimal's exact text is the only rounding there is.
                sheet.write_number(line, col, float(str(value)))
            else:
                text = str(value)
                if text.startswith(_FORMULA_STARTS):
                    text = "'" + text
                sheet.write_string(line, col, text)
    sheet.autofilter(0, 0, max(len(rows), 1), max(len(columns) - 1, 0))
    sheet.freeze_panes(1, 0)
    book.close()
    return out.getvalue()


def rows_for(rows: Sequence[Mapping[str, Any]], logins: set[str]) -> list[Mapping[str, Any]]:
    """The rows about the people `logins` (what their supervisor is sent)."""
    return [row for row in rows if row.get("user") in logins or row.get("person") in logins]
