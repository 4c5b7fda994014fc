"""Every language translates every English key, with the same placeholders."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

import callacct.i18n
from callacct.i18n import LANGUAGES, catalogue, t

MESSAGES = Path(callacct.i18n.__file__).parent / "messages"


def _keys(language: str) -> dict[str, str]:
    data = yaml.safe_load((MESSAGES / f"{language}.yaml").read_text(encoding="utf-8"))
    return {str(key): str(value) for key, value in data.items()}


@pytest.mark.parametrize("language", [lang for lang in LANGUAGES if lang != "en"])
def test_language_has_every_english_key(language: str) -> None:
    english = _keys("en")
    translated = _keys(language)
    assert sorted(set(english) - set(translated)) == [], f"{language}.yaml misses these keys"
    assert sorted(set(translated) - set(english)) == [], f"{language}.yaml has unknown keys"


@pytest.mark.parametrize("language", [lang for lang in LANGUAGES if lang != "en"])
def test_placeholders_are_kept(language: str) -> None:
    english = _keys("en")
    for key, text in _keys(language).items():
        assert set(re.findall(r"{\w+}", text)) == set(re.findall(r"{\w+}", english[key])), key
        assert text.strip(), key


def test_terms_of_the_trade() -> None:
    assert t("field.extension", "fr") == "Poste"
    assert t("field.cost", "fr") == "Coût"
    assert t("field.cost_center", "fr") == "Centre de coûts"
    assert t("field.extension", "de") == "Nebenstelle"
    assert t("field.cost", "de") == "Kosten"
    assert t("field.cost_center", "de") == "Kostenstelle"
    assert t("ui.page", "it", page=2, pages=5) == "Pagina 2 di 5"
    assert catalogue("ar")["ui.total"] == "الإجمالي"
