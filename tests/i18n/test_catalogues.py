"""One catalogue per language with every English key and its placeholders; one list of languages."""

from __future__ import annotations

import re
import typing
from pathlib import Path

import pytest

import callacct
import callacct.i18n
from callacct.config import GeneralSettings
from callacct.directory.model import normalise_language
from callacct.i18n import LANGUAGES, Language, catalogue, t
from callacct.reports import spec
from callacct.yamlfile import read_yaml

MESSAGES = Path(callacct.i18n.__file__).parent / "messages"
SOURCE = Path(callacct.__file__).parent


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_catalogue_passes_the_checks_of_a_settings_file(language: str) -> None:
    """Duplicate keys, aliases, values that are not text: refused as in any file a person
    writes; what the command line reads (libyaml, every value as text) is the same."""
    path = MESSAGES / f"{language}.yaml"
    checked = read_yaml(path, text_scalars=True).data
    assert {str(k): str(v) for k, v in checked.items()} == catalogue(language)


def test_there_is_one_catalogue_per_language() -> None:
    assert sorted(p.name for p in MESSAGES.iterdir()) == sorted(
        f"{lang}.yaml" for lang in LANGUAGES
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_catalogue_has_every_key(language: str) -> None:
    english = catalogue("en")
    translated = catalogue(language)
    assert len(english) > 100
    assert sorted(set(english) - set(translated)) == [], f"{language}.yaml misses these keys"
    assert sorted(set(translated) - set(english)) == [], f"{language}.yaml has unknown keys"


@pytest.mark.parametrize("language", [lang for lang in LANGUAGES if lang != "en"])
def test_placeholders_are_kept(language: str) -> None:
    english = catalogue("en")
    for key, text in catalogue(language).items():
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
    assert t("report.category.billing", "it") == "Fatturazione"
    assert catalogue("ar")["ui.total"] == "الإجمالي"


def test_texts_are_text_and_fall_back_to_english_then_to_the_key() -> None:
    assert t("filter.yes", "en") == "yes"  # quoted: YAML would read a bare yes as true
    assert t("measure.sum", "de", field="Kosten") == "Kosten"
    assert catalogue("tlh") == {}
    assert t("home.summary", "tlh") == "Summary"
    assert t("no.such.key", "ar") == "no.such.key"


def test_languages_are_defined_once() -> None:
    assert typing.get_args(Language) == LANGUAGES == ("en", "de", "fr", "es", "ar", "it")
    assert spec.Language is Language
    assert normalise_language("it-IT", "en") == "it"
    with pytest.raises(ValueError, match="en, de, fr, es, ar, it"):
        GeneralSettings(language="tlh")
    # No other module spells the list out.
    spelled = re.compile(r"""["']en["'],\s*["']de["'],\s*["']fr["']""")
    found = [
        str(path.relative_to(SOURCE))
        for path in sorted(SOURCE.rglob("*.py"))
        if spelled.search(path.read_text(encoding="utf-8"))
    ]
    assert found == ["i18n/__init__.py"]
