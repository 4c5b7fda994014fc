"""Messages in the six languages (en, de, fr, es, ar, it), for reports and people-facing output.

One catalogue per language: `messages/<language>.yaml`, a flat `key: text` mapping read by the
one YAML loader (`callacct.yamlfile`). Keys are dotted (`field.extension`, `measure.avg`,
`filter.from`, `report.category.billing`, `home.summary`, `ui.total`); `en.yaml` is the
reference and every other catalogue has exactly its keys (a test says which are missing or
extra). A key missing in a language falls back to English, then to the key itself, so a
missing translation never breaks a report. `docs/report-rendering.md` says why one file per
language.

`formats` writes numbers, money, durations and dates the way each language does
(`format_number`, `format_percent`, `format_duration`, `format_date`,
`format_datetime`).

Example:
    >>> t("field.extension", "en"), t("filter.type", "de")
    ('Extension', 'Anrufart')
    >>> t("measure.avg", "fr", field="Durée")
    'Durée (moyenne)'
    >>> t("no.such.key", "fr")
    'no.such.key'
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Final, Literal, get_args

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
    "Language",
    "catalogue",
    "format_date",
    "format_datetime",
    "format_duration",
    "format_number",
    "format_percent",
    "t",
]

#: The languages callacct speaks; the one list settings, the directory, report specs and the
#: catalogues check against.
Language = Literal["en", "de", "fr", "es", "ar", "it"]
LANGUAGES: Final[tuple[Language, ...]] = get_args(Language)
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
