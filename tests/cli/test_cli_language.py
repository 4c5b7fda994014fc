"""The command line speaks the person's language (F-ACCESS-4): `calls`, `ingest`, `rate`,
`tariff` and `directory` summaries, table headers, warnings and errors come from the catalogues,
in the language of the command's `--lang`, else the global `--lang`, else the `--as` person's,
else the workspace's — the rule reports follow. A text missing in a language is said in English."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

import callacct.i18n
from callacct.errors import NotFoundError
from callacct.i18n import Message, catalogue, format_number, said_in, t
from callacct.store import open_store
from tests.conftest import Cli
from tests.directory.helpers import add_call, write_csv

NOT_FOUND_EXIT = NotFoundError.exit_code
PEOPLE = (
    "pierre,Pierre Durand,,fr,user,Ventes,CC-1,PAR,2001,,",
    "hans,Hans Müller,,de,user,Vertrieb,CC-2,BER,2002,,",
    "amal,Amal Haddad,,ar,admin,IT,CC-3,DXB,2003,,",
    "nolang,No Language,,,user,IT,CC-3,DXB,2004,,",
)


@pytest.fixture
def org(cli: Cli, tmp_path: Path) -> Cli:
    """The sample workspace (English) with four people and a few calls, rated."""
    store = open_store(cli.workspace / "callacct.duckdb")
    try:
        for call_id, ext in enumerate(("2001", "2002", "2003", "2004", "2001"), start=1):
            start = dt.datetime(2026, 11, 2, 8 + call_id)
            add_call(store.con, call_id, start, "outgoing", ext, remote="84951234567")
    finally:
        store.close()
    imported = cli("directory", "import", str(write_csv(tmp_path / "people.csv", *PEOPLE)))
    assert imported.exit_code == 0, imported.output
    rated = cli("rate")
    assert rated.exit_code == 0, rated.output
    return cli


def _headers(language: str) -> list[str]:
    keys = ("started", "dir", "ext", "user", "remote", "duration", "result", "cost", "gateway")
    return [t(f"cli.calls.{key}", language) for key in keys]


def _said(text: str, key: str, language: str, **values: str) -> bool:
    """Whether `text` is the message `key` in `language` (on one line), with `values` where
    given and anything in its other places."""
    pattern = re.escape(catalogue(language)[key])
    for name in re.findall(r"{(\w+)}", catalogue(language)[key]):
        pattern = pattern.replace(re.escape("{" + name + "}"), re.escape(values.get(name, "\0")))
    return re.fullmatch(pattern.replace(re.escape("\0"), ".+?"), text.strip()) is not None


def _error(result: object, language: str, message: str, code: int = 2) -> None:
    assert result.exit_code == code, result.output  # type: ignore[attr-defined]
    assert result.stderr == f"{t('cli.error', language)} {message}\n"  # type: ignore[attr-defined]


@pytest.mark.parametrize("language", ["fr", "de", "ar"])
def test_calls_in_the_language_given(org: Cli, language: str) -> None:
    result = org("calls", "--lang", language)
    assert result.exit_code == 0, result.output
    for header in _headers(language):
        assert header in result.stdout, header
    assert t("cli.calls.arrow.outgoing", language) in result.stdout
    assert t("value.disposition.answered", language) in result.stdout
    assert t("cli.calls.times_in", language, zone="Europe/Moscow") in result.stdout
    assert "started" not in result.stdout


def test_the_english_workspace_reads_as_before(org: Cli) -> None:
    result = org("calls")
    assert result.exit_code == 0, result.output
    assert "times in Europe/Moscow" in result.stdout
    for header in ("started", "remote / peer", "duration", "result", "gateway"):
        assert header in result.stdout
    assert "→ out" in result.stdout


def test_the_person_speaks_their_language_unless_told_otherwise(org: Cli) -> None:
    french = org("--as", "pierre", "calls")
    assert french.exit_code == 0, french.output
    assert all(header in french.stdout for header in _headers("fr"))
    german = org("--as", "pierre", "calls", "--lang", "de")
    assert all(header in german.stdout for header in _headers("de"))
    # The command's own --lang wins over the global one, which wins over the person's.
    globally = org("--as", "pierre", "--lang", "ar", "calls")
    assert all(header in globally.stdout for header in _headers("ar"))
    both = org("--lang", "ar", "calls", "--lang", "it")
    assert all(header in both.stdout for header in _headers("it"))
    # A person without a language reads the workspace's.
    nolang = org("--as", "nolang", "calls")
    assert all(header in nolang.stdout for header in _headers("en"))


def test_summaries_of_directory_tariff_and_rate(org: Cli, tmp_path: Path) -> None:
    people = write_csv(tmp_path / "more.csv", *PEOPLE, "zoe,Zoé,,fr,user,IT,CC-3,DXB,2005,,")
    imported = org("directory", "import", str(people), "--lang", "de")
    assert imported.exit_code == 0, imported.output
    for key in ("read", "accepted", "added", "unchanged", "extensions"):
        assert t(f"cli.directory.{key}", "de") in imported.stdout
    listed = org("--as", "hans", "directory", "list")
    assert t("cli.directory.cost_center", "de") in listed.stdout
    assert t("value.role.user", "de") in listed.stdout
    assert t("cli.directory.people", "de", people=1) in listed.stdout
    shown = org("directory", "show", "pierre", "--lang", "fr")
    assert t("cli.directory.from", "fr") in shown.stdout
    assert t("cli.directory.now", "fr") in shown.stdout
    plans = org("tariff", "list", "--lang", "es")
    assert plans.stdout.strip() == t("cli.tariff.none", "es")
    imported_plan = org("tariff", "import", "fr-carrier", "--lang", "it", "--no-rate")
    assert imported_plan.exit_code == 0, imported_plan.output
    assert imported_plan.stdout.startswith("fr-carrier ")
    assert _said(imported_plan.stdout, "cli.tariff.imported.stored", "it")
    listed_plans = org("tariff", "list", "--lang", "it")
    for key in ("plan", "default", "valid_from", "currency", "rates"):
        assert t(f"cli.tariff.{key}", "it") in listed_plans.stdout
    rated = org("rate", "--lang", "fr")
    assert rated.exit_code == 0, rated.output
    assert _said(rated.stdout, "cli.rate.done", "fr", calls=format_number(5, "fr"))


def test_ingest_summary_and_rejects(cli: Cli, cucm_files: Path) -> None:
    result = cli("ingest", str(cucm_files), "--lang", "fr")
    assert result.exit_code in (0, 1), result.output
    for key in ("files", "rows_read", "stored", "duplicates", "rejected", "calls"):
        assert t(f"cli.ingest.{key}", "fr") in result.stdout, key
    rejects = cli("--lang", "de", "ingest", "--rejects")
    assert rejects.exit_code == 0, rejects.output
    assert (
        t("cli.ingest.reason", "de") in rejects.stdout
        or t("cli.ingest.no_rejects", "de") in rejects.stdout
    )


def test_errors_are_said_in_the_language(org: Cli) -> None:
    _error(
        org("calls", "--from", "2026-13-01", "--lang", "fr"),
        "fr",
        t("error.not_a_date", "fr", value="'2026-13-01'"),
    )
    _error(
        org("--as", "pierre", "calls", "explain", "999"),
        "fr",
        t("error.no_call", "fr", call_id=999),
    )
    _error(org("--lang", "de", "ingest"), "de", t("error.ingest_nothing_or_rejects", "de"))
    _error(
        org("calls", "--tz", "Mars/Olympus", "--lang", "ar"),
        "ar",
        t("error.timezone", "ar", option="--tz", zone="'Mars/Olympus'"),
    )
    role = t("value.role.user", "de")
    _error(
        org("--as", "hans", "rate"),
        "de",
        t("error.needs_admin", "de", what="rate", login="'hans'", role=role),
    )
    _error(
        org("tariff", "show", "nope", "--lang", "it"),
        "it",
        t("error.no_plan", "it", plan="'nope'", known=t("error.no_plans", "it")),
        code=NOT_FOUND_EXIT,
    )
    # An unknown language is said in English (there is no other to say it in).
    _error(
        org("--lang", "tlh", "calls"),
        "en",
        "--lang: 'tlh' is not one of en, de, fr, es, ar, it",
    )
    # The English of a message is the text it always was.
    _error(
        org("calls", "explain", "999"), "en", "no call with id 999; find ids with 'callacct calls'"
    )


def test_a_text_missing_in_a_language_is_said_in_english(
    org: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    french = dict(catalogue("fr"))
    del french["cli.calls.started"]
    del french["error.no_call"]

    def patched(language: str) -> dict[str, str]:
        return french if language == "fr" else catalogue(language)

    monkeypatch.setattr(callacct.i18n, "catalogue", patched)
    result = org("calls", "--lang", "fr")
    assert result.exit_code == 0, result.output
    assert "started" in result.stdout
    assert t("cli.calls.gateway", "fr") in result.stdout
    _error(
        org("calls", "explain", "999", "--lang", "fr"),
        "fr",
        "no call with id 999; find ids with 'callacct calls'",
    )


def test_a_message_is_its_english_text_until_said_in_a_language() -> None:
    message = Message(
        "error.needs_admin", what="rate", login="'x'", role=Message("value.role.user")
    )
    assert str(message) == "rate needs an admin; 'x' is a user"
    assert said_in(message, "fr") == "rate demande un administrateur ; 'x' est utilisateur"
    assert said_in(ValueError(message), "de").endswith("'x' ist Benutzer")
    assert said_in("plain text", "ar") == "plain text"
