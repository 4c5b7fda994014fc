"""The shared e-mail layout: escaping, right to left, the summary table, templates of another
feature extending the base."""

from __future__ import annotations

import jinja2
import pytest

from callacct.delivery import render_mail

REPORT = {
    "title": "Costs <b>Q4</b> & more",
    "period": "01/11/2026 – 30/11/2026",
    "filters": [("Type", "<script>x</script>")],
    "summary_headers": ["Department", "Cost"],
    "summary_rows": [["Sales", "12,00 €"], ["Support & Co", "3,50 €"]],
    "summary_total": ["Total", "15,50 €"],
    "more_rows": 3,
    "attachment": "costs.xlsx",
    "link": None,
    "body": None,
}


def test_html_is_escaped_and_text_is_not() -> None:
    text, html = render_mail("report", REPORT, "en")
    assert "Costs &lt;b&gt;Q4&lt;/b&gt; &amp; more" in html
    assert "<script>" not in html
    assert "&lt;script&gt;x&lt;/script&gt;" in html
    assert "Costs <b>Q4</b> & more" in text
    assert '<html lang="en" dir="ltr">' in html


def test_the_summary_table_in_text_is_aligned() -> None:
    text, _ = render_mail("report", REPORT, "en")
    lines = text.splitlines()
    header = lines.index("Department    Cost")
    assert lines[header + 1] == "------------  -------"
    assert lines[header + 2] == "Sales         12,00 €"
    assert lines[header + 3] == "Support & Co  3,50 €"
    assert lines[header + 4] == "Total         15,50 €"
    assert "… and 3 more row(s) in the attachment." in text
    assert text.rstrip().endswith("Sent automatically by callacct.")


@pytest.mark.parametrize("language", ["en", "de", "fr", "es", "ar", "it"])
def test_every_language_has_its_texts(language: str) -> None:
    text, html = render_mail("report", REPORT, language)
    assert "mail." not in text  # no key left untranslated
    assert ('dir="rtl"' in html) is (language == "ar")


def test_another_features_templates_extend_the_base() -> None:
    loader = jinja2.DictLoader(
        {
            "alert.html.j2": '{% extends "base.html.j2" %}{% block title %}Alert {{ name }}'
            "{% endblock %}{% block content %}{{ mail.summary_table(['a'], [[value]]) }}"
            "{% endblock %}",
            "alert.txt.j2": '{% extends "base.txt.j2" %}{% block title %}Alert {{ name }}'
            "{% endblock %}{% block content %}{{ mail.summary_table(['a'], [[value]]) }}"
            "{% endblock %}",
        }
    )
    text, html = render_mail("alert", {"name": "<x>", "value": "1 & 2"}, "fr", loader=loader)
    assert "Alert &lt;x&gt;" in html
    assert "<td style" in html
    assert "1 &amp; 2" in html
    assert text.startswith("Alert <x>\n")
    assert "Envoyé automatiquement par callacct." in text


def test_an_undefined_value_is_an_error() -> None:
    with pytest.raises(jinja2.UndefinedError):
        render_mail("report", {"title": "x"}, "en")
