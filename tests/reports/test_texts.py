"""The report engine's own texts: every key in the six languages, placeholders kept, and no
key shadowing the shared catalogues."""

from __future__ import annotations

import re

from callacct.i18n import LANGUAGES, catalogue
from callacct.reports.texts import text, texts


def test_every_text_is_in_every_language_with_its_placeholders() -> None:
    for key, item in texts().items():
        assert set(item) == set(LANGUAGES), key
        english = set(re.findall(r"{\w+}", item["en"]))
        for language, value in item.items():
            assert value.strip(), (key, language)
            assert set(re.findall(r"{\w+}", value)) == english, (key, language)


def test_no_text_shadows_the_shared_catalogue() -> None:
    assert not set(texts()) & set(catalogue("en"))


def test_lookup_falls_back_to_the_shared_catalogue() -> None:
    assert text("report.category.billing", "it") == "Fatturazione"
    assert text("field.extension", "en") == "Extension"
    assert text("filter.yes", "en") == "yes"  # quoted: YAML would read a bare yes as true
    assert text("no.such.key", "ar") == "no.such.key"
