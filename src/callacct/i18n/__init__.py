"""Messages in the six languages (en, de, fr, es, ar, it), for reports and people-facing output.

Catalogues are YAML files in `messages/`, one per language, flat `key: text` mappings; keys are
dotted (`field.extension`, `measure.count`, `filter.from`, `ui.total`). A key missing in a
language falls back to English, then to the key itself, so a missing translation never breaks
a report.

`formats` writes numbers, money, durations and dates the way each language does
(`format_number`, `format_percent`, `format_duration`, `format_date`,
`format_datetime`).

Example:
    >>> t("field.extension", "en")
    'Extension'
    >>> t("no.such.key", "fr")
    'no.such.key'
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Final

from callacct.i18n.formats import (
    format_date,
    format_datetime,
    format_duration,
    format_number,
    format_percent,
)
from callacct.yamlfile import read_yaml

__all__ = [
    "LANGUAGES",
    "catalogue",
    "format_date",
    "format_datetime",
    "format_duration",
    "format_number",
    "format_percent",
    "t",
]

LANGUAGES: Final = ("en", "de", "fr", "es", "ar", "it")
_MESSAGES: Final = Path(__file__).parent / "messages"


@cache
def catalogue(language: str) -> dict[str, str]:
    """The messages of `language` (empty for a language without a catalogue)."""
    path = _MESSAGES / f"{language}.yaml"
    if not path.is_file():
        return {}
    data = read_yaml(path, source=f"i18n/messages/{path.name}", text_scalars=True).data or {}
    return {str(key): str(value) for key, value in data.items()}


def t(key: str, language: str, **values: object) -> str:
    """The text of `key` in `language` (English, then the key, when missing), with
    `{name}` placeholders filled from `values`."""
    text = catalogue(language).get(key) or catalogue("en").get(key) or key
    return text.format(**values) if values else text
