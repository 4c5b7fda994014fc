"""`callacct lock ...`: exit codes, the line the user sees, --json as the library returns it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from callacct.cli import app
from callacct.lock import Actor, LockService
from callacct.store import open_store
from tests.conftest import Cli
from tests.lock.conftest import PEOPLE

COMMANDS = [
    ("on",), ("off",), ("status",), ("history",), ("sync",), ("serve",), ("stand-in",),
    ("pin", "set"), ("pin", "reset"), ("device", "set"), ("device", "remove"),
    ("device", "learn"), ("device", "list"), ("workstation", "add"), ("workstation", "remove"),
    ("workstation", "list"),
]  # fmt: skip


@pytest.fixture
def lock_cli(cli: Cli, tmp_path: Path) -> Cli:
    people = tmp_path / "people.csv"
    people.write_text(PEOPLE, encoding="utf-8")
    result = cli("directory", "import", str(people))
    assert result.exit_code == 0, result.output
    return cli


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_has_help_with_an_example(command: tuple[str, ...]) -> None:
    result = CliRunner().invoke(app, ["lock", *command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Example" in result.output


def test_lock_and_unlock_as_the_person(lock_cli: Cli) -> None:
    report = lock_cli.json("--as", "alice", "lock", "on", "2001")
    assert report["ok"] is True
    assert report["outcomes"][0] == {
        "extension": "2001",
        "login": "alice",
        "action": "lock",
        "result": "changed",
        "state_before": "unlocked",
        "state_after": "locked",
        "backend": "dry-run",
        "message": "dry-run: would save the calling search space of line 2001 and set it to "
        "CSS_Locked",
        "css_before": None,
        "css_after": None,
    }
    result = lock_cli("--as", "alice", "lock", "off", "2001", "--lang", "en")
    assert result.exit_code == 0, result.output
    assert "unlocked" in result.stdout


def test_refusals_are_one_line_and_exit_1(lock_cli: Cli) -> None:
    assert lock_cli("lock", "on", "2001", "--admin", "--reason", "audit").exit_code == 0
    result = lock_cli("--as", "alice", "--lang", "en", "lock", "off", "2001")
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "error: 2001: locked by an administrator; an admin or a supervisor of the person lifts "
        "it with --admin"
    )
    result = lock_cli("--as", "dave", "--lang", "en", "lock", "on", "2001")
    assert result.exit_code == 1
    assert result.stderr.strip() == "error: dave may not lock or unlock 2001 (alice's extension)"
    assert lock_cli("--as", "carol", "lock", "off", "2001", "--admin").exit_code == 0
    result = lock_cli("lock", "on", "--department", "Nowhere")
    assert result.exit_code == 2
    assert "department 'Nowhere' has nobody" in result.stderr


def test_status_and_history_as_json_equal_the_library(lock_cli: Cli) -> None:
    assert lock_cli("lock", "on", "--user", "bob", "--admin", "--reason", "x").exit_code == 0
    status = lock_cli.json("--as", "carol", "lock", "status", "--department", "Sales")
    assert [(s["extension"], s["state"]) for s in status] == [
        ("2001", "unlocked"), ("2002", "admin-locked"), ("2003", "unlocked"),
        ("2012", "admin-locked"),
    ]  # fmt: skip
    history = lock_cli.json("lock", "history")
    workspace = lock_cli.workspace
    store = open_store(workspace / "callacct.duckdb", read_only=True)
    from callacct.config import load_settings

    settings = load_settings(workspace)
    library = LockService(store, settings, Actor.operator(settings)).history()
    store.close()
    assert history == json.loads(json.dumps([e.to_dict() for e in library]))
    assert lock_cli.json("--as", "alice", "lock", "history") == []


def test_pins_are_prompted_hidden(lock_cli: Cli) -> None:
    result = lock_cli("lock", "pin", "set", "--user", "alice", input="2580\n2580\n")
    assert result.exit_code == 0, result.output
    assert "2580" not in result.output
    result = lock_cli("--as", "alice", "lock", "pin", "set", input="0000\n1357\n1357\n")
    assert result.exit_code == 1
    assert "wrong PIN" in result.stderr
    result = lock_cli("--as", "alice", "lock", "pin", "set", input="2580\n1357\n1357\n")
    assert result.exit_code == 0, result.output
    result = lock_cli("lock", "pin", "set", "--user", "bob", input="1357\n1358\n")
    assert (result.exit_code, result.stderr.strip()) == (
        2,
        "error: the two new PINs differ; nothing was changed",
    )
    assert lock_cli("lock", "pin", "reset", "--user", "alice").exit_code == 0
    result = lock_cli("--as", "alice", "lock", "pin", "reset", "--user", "alice")
    assert result.exit_code == 1


def test_phones_and_workstations(lock_cli: Cli) -> None:
    assert lock_cli("lock", "device", "set", "SEP001122334455", "2001").exit_code == 0
    assert lock_cli.json("lock", "device", "list")[0]["device"] == "SEP001122334455"
    assert lock_cli.json("lock", "device", "learn") == {"learnt": 0}
    result = lock_cli("lock", "device", "set", "SEP<x>", "2001")
    assert result.exit_code == 2
    result = lock_cli("lock", "workstation", "add", "PC-1", "--user", "alice")
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    assert len(token) >= 40
    listed = lock_cli.json("lock", "workstation", "list")
    assert [(w["machine"], w["login"]) for w in listed] == [("PC-1", "alice")]
    assert token not in json.dumps(listed)
    assert lock_cli("--as", "alice", "lock", "workstation", "list").exit_code == 2
    assert lock_cli("lock", "workstation", "remove", "PC-1").exit_code == 0
    assert lock_cli("lock", "workstation", "remove", "PC-1").exit_code == 2


def test_serve_check_and_sync(lock_cli: Cli) -> None:
    result = lock_cli("lock", "serve", "--check")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["https"] is False
    sync = lock_cli.json("lock", "sync")
    assert sync["drift"] == 0
    assert {item["message"] for item in sync["items"]} == {"dry-run: nothing to compare"}


def test_the_standin_command_runs_and_stops(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALLACCT_AXL_PASSWORD", "pw")
    result = CliRunner().invoke(
        app, ["lock", "stand-in", "--port", "0", "--lines", "2000-2009", "--run-for", "0.2"]
    )
    assert result.exit_code == 0, result.output
    assert "AXL stand-in: 10 lines on http://127.0.0.1:" in result.stderr
    monkeypatch.delenv("CALLACCT_AXL_PASSWORD")
    result = CliRunner().invoke(app, ["lock", "stand-in", "--run-for", "0.2"])
    assert result.exit_code == 2
    assert "set CALLACCT_AXL_PASSWORD" in result.stderr
    assert os.environ.get("CALLACCT_AXL_PASSWORD") is None


def test_a_locked_css_that_is_a_normal_one_is_refused(lock_cli: Cli) -> None:
    settings = lock_cli.workspace / "callacct.toml"
    text = settings.read_text(encoding="utf-8")
    assert "normal_css = []" in text
    settings.write_text(
        text.replace("normal_css = []", 'normal_css = ["CSS_Normal", "CSS_Locked"]'),
        encoding="utf-8",
    )
    result = lock_cli("lock", "status")
    assert result.exit_code == 2
    line = next(n for n, t in enumerate(text.splitlines(), 1) if t == "[lock.axl]")
    assert result.stderr.startswith(f"error: {settings}:{line}: lock.axl: ")
    assert "locked_css 'CSS_Locked' is also one of normal_css" in result.stderr


def _flat(text: str) -> str:
    """`text` with its runs of white space made one space (rich wraps long lines)."""
    return " ".join(text.split())


def test_pins_phones_workstations_and_sync_speak_french(lock_cli: Cli) -> None:
    assert lock_cli("lock", "pin", "set", "--user", "bob", input="2580\n2580\n").exit_code == 0
    reset = lock_cli("lock", "pin", "reset", "--user", "bob", "--lang", "fr")
    assert (reset.exit_code, reset.stdout) == (0, "PIN de bob supprimé.\n")
    again = lock_cli("--lang", "fr", "lock", "pin", "reset", "--user", "bob")
    assert again.stdout == "bob n'avait pas de PIN.\n"

    tied = lock_cli("lock", "device", "set", "SEP001122334455", "2001", "--lang", "fr")
    assert (tied.exit_code, tied.stdout) == (0, "SEP001122334455 → poste 2001\n")
    learnt = lock_cli("lock", "device", "learn", "--lang", "fr")
    assert learnt.stdout == "0 téléphones associés d'après les CDR.\n"
    assert lock_cli.json("lock", "device", "learn", "--lang", "fr") == {"learnt": 0}
    phones = _flat(lock_cli("lock", "device", "list", "--lang", "fr").stdout)
    for word in ("téléphones", "appareil", "poste", "mis à jour le"):
        assert word in phones, word
    assert "updated_at" not in phones
    unknown = lock_cli("lock", "device", "remove", "SEP999", "--lang", "fr")
    assert (unknown.exit_code, unknown.stderr) == (
        2,
        "erreur : 'SEP999' n'est pas dans la table des téléphones ; "
        "voir 'callacct lock device list'\n",
    )
    bad = lock_cli("lock", "device", "set", "SEP<x>", "2001", "--lang", "fr")
    assert bad.exit_code == 2
    assert "n'est pas un nom d'appareil (lettres, chiffres" in bad.stderr
    removed = lock_cli("lock", "device", "remove", "SEP001122334455", "--lang", "fr")
    assert removed.stdout == "Téléphone SEP001122334455 retiré.\n"

    added = lock_cli("lock", "workstation", "add", "PC-1", "--user", "alice", "--lang", "fr")
    assert added.exit_code == 0, added.output
    assert added.stderr == "jeton de PC-1 (affiché une seule fois ; gardez-le secret) :\n"
    token = added.stdout.strip()
    assert added.stdout == f"{token}\n"  # the token alone: scripts capture it
    assert len(token) >= 40
    listed = _flat(lock_cli("lock", "workstation", "list", "--lang", "fr").stdout)
    for word in ("postes de travail", "identifiant", "créé par", "dernière utilisation"):
        assert word in listed, word
    gone = lock_cli("lock", "workstation", "remove", "PC-1", "--lang", "fr")
    assert gone.stdout == "Poste de travail PC-1 retiré.\n"
    missing = lock_cli("lock", "workstation", "remove", "PC-1", "--lang", "fr")
    assert "'PC-1' n'est pas un poste de travail ; voir" in missing.stderr

    synced = lock_cli("lock", "sync", "--lang", "fr")
    assert synced.exit_code == 0, synced.output
    table = _flat(synced.stdout)
    assert "comparaison des verrouillages : 0 lignes sur 6 diffèrent" in table
    for word in ("selon callacct", "système téléphonique", "déverrouillé"):
        assert word in table, word
    assert "unlocked" not in table
    assert lock_cli.json("lock", "sync", "--lang", "fr") == lock_cli.json("lock", "sync")


def test_the_person_s_language_and_german_or_arabic(
    lock_cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Carol reads German (the directory); a supervisor resets the PIN of her people.
    assert lock_cli("lock", "pin", "set", "--user", "alice", input="2580\n2580\n").exit_code == 0
    reset = lock_cli("--as", "carol", "lock", "pin", "reset", "--user", "alice")
    assert (reset.exit_code, reset.stdout) == (0, "PIN von alice entfernt.\n")
    tied = lock_cli("--lang", "de", "lock", "device", "set", "SEP001122334455", "2001")
    assert tied.stdout == "SEP001122334455 → Nebenstelle 2001\n"
    synced = _flat(lock_cli("lock", "sync", "--lang", "de").stdout)
    assert "Sperrabgleich: 0 von 6 Leitungen weichen ab" in synced
    assert "laut callacct" in synced
    assert "Telefonanlage" in synced
    served = lock_cli("lock", "serve", "--port", "0", "--run-for", "0.2", "--lang", "ar")
    assert served.exit_code == 0, served.output
    assert served.stderr.startswith("الخدمة تعمل على http://127.0.0.1:")
    assert "(Ctrl-C للإيقاف)" in served.stderr

    # The stand-in opens no workspace: its --lang, else the global one, else English.
    monkeypatch.setenv("CALLACCT_AXL_PASSWORD", "pw")
    standin = ["lock", "stand-in", "--port", "0", "--run-for", "0.2"]
    result = CliRunner().invoke(app, [*standin, "--lines", "2000-3999", "--lang", "fr"])
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith("simulateur AXL : 2\u202f000 lignes sur http://127.0.0.1:")
    result = CliRunner().invoke(app, ["--lang", "de", *standin, "--lines", "2000-2009"])
    assert result.stderr.startswith("AXL-Ersatzserver: 10 Leitungen unter http://127.0.0.1:")
    result = CliRunner().invoke(app, ["--lang", "de", *standin, "--lines", "20-1x"])
    assert (result.exit_code, result.stderr) == (
        2,
        "Fehler: --lines: '20-1x' ist kein Bereich wie 2000-2099\n",
    )
    result = CliRunner().invoke(app, [*standin, "--cert", "c.pem", "--lang", "es"])
    assert result.stderr == "error: --cert y --key van juntos\n"
    result = CliRunner().invoke(app, [*standin, "--address", "0.0.0.0", "--lang", "it"])
    assert result.stderr == (
        "errore: --address: il simulatore è in ascolto solo su questa macchina (127.0.0.1)\n"
    )
    monkeypatch.delenv("CALLACCT_AXL_PASSWORD")
    result = CliRunner().invoke(app, [*standin, "--lang", "ar"])
    assert result.exit_code == 2
    assert "اضبط CALLACCT_AXL_PASSWORD على كلمة المرور" in result.stderr


def test_the_english_texts_are_as_before(lock_cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    assert lock_cli("lock", "pin", "set", "--user", "bob", input="2580\n2580\n").exit_code == 0
    assert lock_cli("lock", "pin", "reset", "--user", "bob").stdout == "PIN of bob removed.\n"
    assert lock_cli("lock", "pin", "reset", "--user", "bob").stdout == "bob had no PIN.\n"
    tied = lock_cli("lock", "device", "set", "SEP001122334455", "2001")
    assert (tied.exit_code, tied.stdout) == (0, "SEP001122334455 → 2001\n")
    assert lock_cli("lock", "device", "learn").stdout == "0 phones mapped from the CDRs.\n"
    phones = _flat(lock_cli("lock", "device", "list").stdout)
    assert phones.startswith("phones ")
    assert "┃ device ┃ extension ┃ source ┃ updated_at ┃" in phones
    unknown = lock_cli("lock", "device", "remove", "SEP999")
    assert unknown.stderr == (
        "error: 'SEP999' is not in the phone map; see 'callacct lock device list'\n"
    )
    bad = lock_cli("lock", "device", "set", "SEP<x>", "2001")
    assert bad.stderr == (
        "error: 'SEP<x>' is not a device name (letters, digits, '_', '-'; at most 64)\n"
    )
    removed = lock_cli("lock", "device", "remove", "SEP001122334455")
    assert removed.stdout == "SEP001122334455 removed.\n"
    added = lock_cli("lock", "workstation", "add", "PC-1", "--user", "alice")
    assert added.stderr == "token of PC-1 (shown once; keep it secret):\n"
    assert lock_cli("lock", "workstation", "remove", "PC-1").stdout == "PC-1 removed.\n"
    missing = lock_cli("lock", "workstation", "remove", "PC-1")
    assert missing.stderr == (
        "error: 'PC-1' is not a workstation; see 'callacct lock workstation list'\n"
    )
    synced = _flat(lock_cli("lock", "sync").stdout)
    assert "lock sync: 0 of 6 lines differ" in synced
    assert "┃ extension ┃ person ┃ callacct ┃ backend ┃ phone system ┃ message" in synced
    served = lock_cli("lock", "serve", "--port", "0", "--run-for", "0.2")
    assert served.stderr.startswith("serving http://127.0.0.1:")
    assert served.stderr.endswith("/ipps/menu/#DEVICENAME# (Ctrl-C stops)\n")
    monkeypatch.setenv("CALLACCT_AXL_PASSWORD", "pw")
    standin = ["lock", "stand-in", "--port", "0", "--run-for", "0.2"]
    result = CliRunner().invoke(app, [*standin, "--lines", "2000-x"])
    assert result.stderr == "error: --lines: '2000-x' is not a range such as 2000-2099\n"
    result = CliRunner().invoke(app, [*standin, "--key", "k.pem"])
    assert result.stderr == "error: --cert and --key go together\n"
    result = CliRunner().invoke(app, [*standin, "--address", "0.0.0.0"])
    assert result.stderr == (
        "error: --address: the stand-in listens on this machine only (127.0.0.1)\n"
    )
