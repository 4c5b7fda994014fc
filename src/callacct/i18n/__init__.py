"""Messages in the six languages (en, de, fr, es, ar, it), for reports and people-facing output.

One catalogue per language: `messages/<language>.yaml`, a flat `key: text` mapping read by the
one YAML loader (`callacct.yamlfile`). Keys are dotted (`field.extension`, `measure.avg`,
`filter.from`, `report.category.billing`, `home.summary`, `ui.total`); `en.yaml` is the
reference and every other catalogue has exactly its keys (a test says which are missing or
extra). A key missing in a language falls back to English, then to the key itself, so a
missing translation never breaks a report. `docs/report-rendering.md` says why one file per
language.

A `Message` is a text in English that keeps its key and values, so that whoever shows it to a
person says it in their language: library code raises errors and gives warnings with one
(`UsageError(Message("error.no_call", call_id=7))`), the command line prints
`message.said_in(language)`; everywhere else it is the English `str` it always was.

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
    >>> said = Message("error.no_call", call_id=7)
    >>> str(said) == t("error.no_call", "en", call_id=7), said_in(said, "fr") == said.said_in("fr")
    (True, True)
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
from callacct.yamlfile import read_package_texts

__all__ = [
    "LANGUAGES",
    "Language",
    "Message",
    "catalogue",
    "format_date",
    "format_datetime",
    "format_duration",
    "format_number",
    "format_percent",
    "said_in",
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
    # callacct's own file: read fast here, checked strictly by the tests (`read_package_texts`).
    return read_package_texts(path)


def t(key: str, language: str, **values: object) -> str:
    """The text of `key` in `language` (English, then the key, when missing), with
    `{name}` placeholders filled from `values`."""
    text = catalogue(language).get(key) or catalogue("en").get(key) or key
    return text.format(**values) if values else text


class Message(str):
    """The English text of catalogue key `key` with `values`, which knows how to say itself in
    another language (`said_in`); a value that is a `Message` is said in that language too."""

    key: str
    values: dict[str, object]

    def __new__(cls, key: str, /, **values: object) -> Message:
        message = super().__new__(cls, t(key, "en", **values))
        message.key = key
        message.values = values
        return message

    def said_in(self, language: str) -> str:
        values = {
            name: value.said_in(language) if isinstance(value, Message) else value
            for name, value in self.values.items()
        }
        return t(self.key, language, **values)


def said_in(text: object, language: str) -> str:
    """`text` in `language` when it is a `Message` (or an error whose message is one), else
    as it is."""
    if isinstance(text, BaseException) and text.args and isinstance(text.args[0], Message):
        text = text.args[0]
    if isinstance(text, Message):
        return text.said_in(language)
    return str(text)
