"""A report as an e-mail: the workflow joining reports and delivery, written once for
`report run --email` and scheduled reports.

The message has the report's file attached (xlsx, pdf, csv, html or json, with its MIME
type), and in its body the period, the filters and a summary table — the report's first rows
and its totals, formatted in the report's language — in the shared e-mail layout
(`callacct.delivery.render_mail`), right to left for Arabic.
"""

from __future__ import annotations

import itertools
import tempfile
from collections.abc import Sequence
from pathlib import Path

from callacct.delivery import Attachment, Message, render_mail
from callacct.i18n import t
from callacct.reports.render import RENDERERS
from callacct.reports.render.cells import period_text, text_rows, text_totals
from callacct.reports.result import ReportResult

#: Rows of a report shown in the body of its e-mail (the rest is in the attachment).
SUMMARY_ROWS = 10


def report_file(result: ReportResult, fmt: str) -> Attachment:
    """The report rendered in `fmt`, as an attachment named after the report."""
    renderer = RENDERERS.get(fmt)
    with tempfile.TemporaryDirectory(prefix="callacct-mail-") as folder:
        path = Path(folder) / f"{result.name}.{fmt}"
        renderer.write(result, path)
        content = path.read_bytes()
    return Attachment.of_format(result.name, fmt, content)


def report_message(
    result: ReportResult,
    fmt: str,
    *,
    to: Sequence[str],
    subject: str | None = None,
    reply_to: str | None = None,
) -> Message:
    """The e-mail carrying `result` as a `fmt` file to `to`, in the report's language."""
    language = result.language
    attachment = report_file(result, fmt)
    period = period_text(result) if any(result.period) else ""
    headers = [column.label for column in result.columns]
    rows = list(itertools.islice(text_rows(result), SUMMARY_ROWS))
    text, html = render_mail(
        "report",
        {
            "title": result.title,
            "period": period,
            "filters": result.filters,
            "summary_headers": headers if headers and rows else None,
            "summary_rows": rows,
            "summary_total": text_totals(result),
            "more_rows": max(0, result.rows.height - len(rows)),
            "attachment": attachment.filename,
            "link": None,
            "body": None,
        },
        language,
    )
    title = subject or (
        t("mail.subject", language, title=result.title, period=period) if period else result.title
    )
    return Message(
        to=tuple(to),
        subject=title,
        text=text,
        html=html,
        attachments=(attachment,),
        language=language,
        reply_to=reply_to,
    )
