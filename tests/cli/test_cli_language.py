"""The command line speaks the person's language (F-ACCESS-4): `calls`, `ingest`, `rate`,
`tariff`, `directory`, `alarm`, `budget`, `schedule` and `lock` summaries, table headers,
warnings and errors come from the catalogues, in the language of the command's `--lang`, else
the global `--lang`, else the `--as` person's, else the workspace's — the rule reports follow.
A text missing in a language is said in English. JSON output is the same in every language."""

from __future__ import annotations

import datetime as dt
import json
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
    # An empty one is refused as well, not taken for "no --lang".
    _error(org("--lang", "", "calls"), "en", "--lang: '' is not one of en, de, fr, es, ar, it")
    empty = org("calls", "--lang", "")
    assert empty.exit_code == 2, empty.output
    assert "'' " in empty.stderr
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


# -- alarm, budget, schedule and lock ---------------------------------------------------------


def _flat(text: str) -> str:
    """`text` with its runs of white space made one space (rich wraps long lines)."""
    return " ".join(text.split())


def _has(text: str, *keys: str, language: str) -> None:
    for key in keys:
        assert _flat(t(key, language)) in _flat(text), (key, language)


def test_alarm_commands_in_the_language(org: Cli) -> None:
    added = org("--lang", "fr", "alarm", "add", "--name", "abroad", "--kind", "international")
    assert added.exit_code == 0, added.output
    assert added.stdout.strip() == t(
        "cli.alarm.entry.added", "fr", name="abroad", kind="international", every="ingest"
    )
    listed = org("alarm", "list", "--lang", "de")
    columns = ("name", "kind", "owner", "every", "state", "last_run", "recipients")
    _has(listed.stdout, "cli.alarm.title", "cli.alarm.active", language="de")
    _has(listed.stdout, *(f"cli.alarm.{column}" for column in columns), language="de")
    shown = org("alarm", "show", "abroad", "--lang", "it")
    assert t("alarm.kind.international", "it") in shown.stdout
    assert _flat(shown.stdout.splitlines()[1]).startswith(
        _flat(t("cli.alarm.state_line", "it", state=t("cli.alarm.active", "it"), every="ingest",
                last_run=t("alarm.never", "it"), watermark=0).split(";")[0])
    )  # fmt: skip
    ran = org("alarm", "run", "--lang", "fr")
    assert ran.exit_code == 0, ran.output
    _has(ran.stdout, "cli.alarm.run.title", "cli.alarm.status.silent", language="fr")
    _has(ran.stdout, *(f"cli.alarm.run.{c}" for c in ("alarm", "result", "mail")), language="fr")
    assert "silent" not in ran.stdout
    none = org("alarm", "events", "--alarm", "abroad", "--lang", "ar")
    assert none.stdout.strip() == t("cli.alarm.events.none_of", "ar", alarm="abroad")
    paused = org("--as", "amal", "alarm", "pause", "abroad")  # Amal (admin) reads Arabic
    assert paused.stdout.strip() == t(
        "cli.alarm.entry.paused", "ar", name="abroad", kind="international", every="ingest"
    )
    _error(org("alarm", "run", "abroad", "--due", "--lang", "de"), "de",
           t("error.alarm_name_or_due", "de"))  # fmt: skip
    _error(org("--as", "hans", "alarm", "add", "--name", "x"), "de",
           t("error.alarm_name_and_kind", "de"))  # fmt: skip
    # The JSON does not change with the language.
    assert org.json("alarm", "list", "--lang", "ar") == org.json("alarm", "list")
    removed = org("alarm", "remove", "abroad", "--lang", "es")
    assert removed.stdout.strip() == t("cli.alarm.removed", "es", name="abroad")


def test_the_alarm_run_table_writes_numbers_as_the_language_does(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from callacct.api.alarms import AlarmOutcome, AlarmRun
    from callacct.cli.alarm import show_run

    mailed = Message("alarm.note.mailed", count=3)
    run = AlarmRun(
        outcomes=(AlarmOutcome("abroad", "international", "silent", 10, 125741, mail=mailed),)
    )
    for language in ("en", "fr", "de"):
        show_run(run, False, language=language)
        shown = _flat(capsys.readouterr().out)
        assert _flat(format_number(125731, language)) in shown, language
        assert t("cli.alarm.status.silent", language) in shown
        assert _flat(t("alarm.note.mailed", language, count=3)) in shown
    assert format_number(125731, "en") == "125,731"
    assert "mailed: 3 message(s)" in json.dumps(run.to_dict())  # JSON: the English text


def test_budget_commands_in_the_language(org: Cli) -> None:
    budget = ("budget", "set", "--user", "pierre", "--amount", "50", "--warn", "80")
    done = org("--lang", "es", *budget)
    assert done.exit_code == 0, done.output
    assert _flat(done.stdout).startswith(_flat(t("cli.budget.set", "es", id=1, summary="")))
    assert _flat(t("cli.budget.whose.user", "es", target="pierre")) in _flat(done.stdout)
    assert _flat(t("cli.budget.option.never_locks", "es")) not in _flat(done.stdout)
    listed = org("budget", "list", "--lang", "de")
    columns = ("whose", "allowance", "spent", "left", "warn", "lock_at")
    _has(listed.stdout, "cli.budget.title", *(f"cli.budget.{c}" for c in columns), language="de")
    shown = org("budget", "show", "1", "--lang", "it")
    assert t("cli.budget.budget", "it", id=1) in shown.stdout
    assert "allowance" not in shown.stdout
    status = org("--as", "pierre", "budget", "status")  # Pierre reads French
    _has(status.stdout, "cli.budget.spent", "cli.budget.left", language="fr")
    assert _flat(t("cli.budget.title_of", "fr", who="pierre")) in _flat(status.stdout)
    calls = org("--as", "pierre", "budget", "calls")
    assert _said(calls.stdout.splitlines()[-1], "cli.budget.counted", "fr", calls="0")
    history = org("budget", "history", "--lang", "ar")
    _has(history.stdout, "cli.budget.history", "cli.budget.event.action", language="ar")
    evaluated = org("budget", "evaluate", "--lang", "fr")
    assert _said(evaluated.stdout.splitlines()[-1], "cli.budget.evaluated", "fr", budgets="1")
    role = t("value.role.user", "de")
    _error(
        org("--as", "hans", *budget),
        "de",
        t("error.needs_admin", "de", what="budget set", login="'hans'", role=role),
    )
    _error(
        org("budget", "show", "9", "--lang", "fr"),
        "fr",
        t("error.no_budget", "fr", budget_id=9),
        code=NOT_FOUND_EXIT,
    )
    _error(org("budget", "status", "--lang", "it"), "it", t("error.whose_budgets", "it"))
    _error(
        org("budget", "set", "--user", "pierre", "--amount", "beaucoup", "--lang", "fr"),
        "fr",
        t("error.not_an_amount", "fr", value="'beaucoup'"),
    )
    assert org.json("budget", "list", "--lang", "fr") == org.json("budget", "list")


def test_schedule_commands_in_the_language(org: Cli) -> None:
    add = ("schedule", "add", "weekly", "--report", "calls-detail", "--every", "week")
    added = org("--lang", "fr", *add, "--to", "boss@example.com")
    assert added.exit_code == 0, added.output
    assert added.stdout.startswith(t("cli.schedule.added", "fr") + " weekly")
    listed = org("schedule", "list", "--lang", "de")
    columns = ("name", "report", "when", "to", "next_run", "last_run", "status")
    _has(listed.stdout, "cli.schedule.title", *(f"cli.schedule.{c}" for c in columns),
         language="de")  # fmt: skip
    shown = org("schedule", "show", "weekly", "--lang", "it")
    for field in ("report", "next_run", "recipients", "paused"):
        assert f"{t(f'cli.schedule.field.{field}', 'it')}:" in shown.stdout, field
    assert (
        f"{t('cli.schedule.field.recipients', 'it')}: "
        + t("cli.schedule.recipients.addresses", "it")
        in shown.stdout
    )
    paused = org("schedule", "pause", "weekly", "--lang", "ar")
    assert paused.stdout.strip() == f"{t('cli.schedule.paused', 'ar')} weekly"
    resumed = org("--lang", "es", "schedule", "resume", "weekly")
    assert resumed.stdout.startswith(t("cli.schedule.resumed", "es") + " weekly: ")
    history = org("schedule", "history", "--lang", "fr")
    _has(history.stdout, "cli.schedule.runs", "cli.schedule.messages", "cli.schedule.run.sent",
         language="fr")  # fmt: skip
    _error(org("--lang", "de", *add), "de", t("error.schedule_recipients", "de"))
    _error(
        org("--lang", "it", *add, "--to", "x@example.com", "--now", "soon"),
        "it",
        t("error.not_a_moment", "it", option="--now", value="'soon'"),
    )
    _error(
        org("schedule", "show", "nope", "--lang", "ar"),
        "ar",
        t("error.no_schedule", "ar", name="'nope'"),
        code=NOT_FOUND_EXIT,
    )
    removed = org("schedule", "remove", "weekly", "--lang", "fr")
    assert removed.stdout.strip() == f"{t('cli.schedule.removed', 'fr')} weekly"
    assert org("schedule", "list").stdout.strip() == t("cli.schedule.none", "en")


def test_lock_commands_in_the_language(org: Cli) -> None:
    locked = org("lock", "on", "2001", "--lang", "fr")
    assert locked.exit_code == 0, locked.output
    _has(locked.stdout, "cli.lock.change.lock", "cli.lock.result.changed", language="fr")
    _has(locked.stdout, "cli.lock.state.unlocked", "cli.lock.state.locked", language="fr")
    assert locked.stdout.strip().endswith(f"1 {t('cli.lock.result.changed', 'fr')}")
    status = org("lock", "status", "--lang", "de")
    columns = ("extension", "person", "state", "since", "reason", "backend")
    _has(status.stdout, "cli.lock.status", *(f"cli.lock.{c}" for c in columns), language="de")
    assert t("cli.lock.state.locked", "de") in status.stdout
    mine = org("--as", "pierre", "lock", "history")  # Pierre reads French
    _has(mine.stdout, "cli.lock.history", "cli.lock.action.lock", "cli.lock.how.cli",
         language="fr")  # fmt: skip
    unlocked = org("--lang", "it", "lock", "off", "2001")
    _has(unlocked.stdout, "cli.lock.change.unlock", "cli.lock.state.unlocked", language="it")
    _error(org("lock", "pin", "set", "--lang", "es"), "es", t("error.whose_pin", "es"))
    assert org.json("lock", "status", "--lang", "ar") == org.json("lock", "status")
    english = org("lock", "status")
    assert "lock status" in english.stdout
    assert "unlocked" in english.stdout
