"""Texts of the report engine (filter and category labels, measure labels, the home view) in
the six languages, kept beside the specs that carry their own translations.

A key found here is taken from `texts.yaml` (the language, else English); any other key
(`field.*`, `value.*`, `ui.*`) comes from the shared catalogues of `callacct.i18n`.

Example:
    >>> text("filter.type", "de"), text("ui.total", "en")
    ('Anrufart', 'Total')
    >>> text("measure.avg", "fr", field="Durée")
    'Durée (moyenne)'
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from callacct.i18n import t
from callacct.yamlfile import parse_yaml


@cache
def texts() -> dict[str, dict[str, str]]:
    """Every key of `texts.yaml` with its text per language."""
    source = resources.files("callacct.reports") / "texts.yaml"
    data = parse_yaml(source.read_bytes(), "reports/texts.yaml", text_scalars=True).data or {}
    return {str(k): {str(lang): str(v) for lang, v in item.items()} for k, item in data.items()}


def text(key: str, language: str, **values: object) -> str:
    """The text of `key` in `language`, with `{name}` placeholders filled from `values`."""
    entry = texts().get(key)
    if entry is None:
        return t(key, language, **values)
    found = entry.get(language) or entry.get("en") or key
    return found.format(**values) if values else found
