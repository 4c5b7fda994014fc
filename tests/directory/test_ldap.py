"""LDAP import and login against a real slapd: paging, AD attribute defaults, roles from groups,
end-dating, injection attempts, empty and wrong passwords, StartTLS/LDAPS and CA verification."""

from __future__ import annotations

import datetime as dt
import gc

import ldap3
import pytest

from callacct.config import Settings
from callacct.demo.people import Person
from callacct.directory import list_users, sync_ldap_directory
from callacct.directory.ldap import authenticate, read_ldap_directory
from callacct.errors import AuthenticationError, ConfigError, LdapError
from callacct.progress import Step
from callacct.store import Store
from tests.directory.conftest import (
    BASE_DN,
    ODD_LOGIN,
    ODD_PASSWORD,
    PAGE_SIZE,
    PASSWORD_ENV,
    PEOPLE,
    SERVICE_DN,
    SERVICE_PW,
    LdapServer,
    password_of,
)

EXT = r"^[23]\d{3}$"


def _settings(ldap: LdapServer, **changes: object) -> Settings:
    return Settings.model_validate(
        {
            "dialplan": {"extension_pattern": EXT},
            "ldap": ldap.settings(**changes).model_dump(),
        }
    )


def test_plain_search_is_truncated_by_the_server(ldap: LdapServer) -> None:
    """The server limits plain searches to 5 entries, so reading everything needs paging."""
    conn = ldap3.Connection(ldap3.Server(ldap.url), SERVICE_DN, SERVICE_PW, auto_bind=True)
    try:
        conn.search(f"ou=People,{BASE_DN}", "(objectClass=adLiteUser)", attributes=["uid"])
        assert conn.result["description"] == "sizeLimitExceeded"
        assert len(conn.entries) == 5
    finally:
        conn.unbind()


def test_paged_import_reads_every_person_with_ad_attributes(ldap: LdapServer) -> None:
    assert PEOPLE + 1 > 3 * PAGE_SIZE
    result = read_ldap_directory(ldap.settings(), extension_pattern=EXT, default_language="en")
    assert result.read == PEOPLE + 1
    assert not result.problems
    by_login = {e.login: e for e in result.entries}
    for person in ldap.people:
        entry = by_login[person.login]
        assert entry.extensions == (person.extension,)  # ipPhone; the E.164 number is ignored
        assert (entry.department, entry.cost_center, entry.site) == (
            person.department,
            person.cost_center,
            person.site,
        )
        assert (entry.email, entry.name, entry.language) == (
            person.email,
            person.name,
            person.language,
        )
        assert entry.manager == person.manager  # a DN, resolved to a login
        assert entry.role == person.role  # from group membership
        assert entry.dn == f"uid={person.login},ou=People,{BASE_DN}"
    assert by_login[ODD_LOGIN].extensions == ("2999",)


def test_telephone_number_is_used_when_it_is_an_extension(ldap: LdapServer) -> None:
    attributes = {"extensions": ["telephoneNumber"], "scope": ""}
    result = read_ldap_directory(
        ldap.settings(attributes=attributes),
        extension_pattern=r"^\+\d{11}$",
        default_language="en",
    )
    person = ldap.people[0]
    entry = next(e for e in result.entries if e.login == person.login)
    assert entry.extensions[0].startswith("+")


def test_sync_stores_versions_and_ends_people_who_disappear(ldap: LdapServer, store: Store) -> None:
    settings = _settings(ldap)
    first = sync_ldap_directory(store.con, settings, as_of=dt.datetime(2026, 1, 1))
    assert len(first.changes.added) == PEOPLE + 1
    again = sync_ldap_directory(store.con, settings, as_of=dt.datetime(2026, 1, 2))
    assert not again.changes.has_changes
    assert again.changes.unchanged == PEOPLE + 1

    leaver = ldap.people[1]
    dn = f"uid={leaver.login},ou=People,{BASE_DN}"
    mover = ldap.people[2]
    mover_dn = f"uid={mover.login},ou=People,{BASE_DN}"
    ldap.ldapmodify(f"dn: {mover_dn}\nchangetype: modify\nreplace: department\ndepartment: Moved\n")
    ldap.ldapdelete(dn)
    try:
        preview = sync_ldap_directory(
            store.con, settings, as_of=dt.datetime(2026, 2, 1), dry_run=True
        )
        assert preview.changes.ended == [leaver.login]
        assert preview.changes.changed == {mover.login: ["department"]}
        assert len(list_users(store.con)) == PEOPLE + 1  # the dry run stored nothing
        done = sync_ldap_directory(store.con, settings, as_of=dt.datetime(2026, 2, 1))
        assert done.changes.ended == [leaver.login]
        now = {p["login"]: p for p in list_users(store.con)}
        assert leaver.login not in now
        assert now[mover.login]["department"] == "Moved"
        before = {p["login"]: p for p in list_users(store.con, at=dt.datetime(2026, 1, 15))}
        assert before[leaver.login]["extensions"] == [leaver.extension]
        assert before[mover.login]["department"] == mover.department
    finally:
        ldap.ldapadd(
            "\n".join(
                line
                for line in _person_ldif(ldap, leaver).splitlines()
                if not line.startswith("manager")
            )
        )
        ldap.ldapmodify(
            f"dn: {mover_dn}\nchangetype: modify\nreplace: department\n"
            f"department: {mover.department}\n"
        )


def _person_ldif(ldap: LdapServer, person: object) -> str:
    from callacct.demo.ldif import people_ldif

    text = people_ldif([person], base_dn=BASE_DN, password=password_of)  # type: ignore[list-item]
    return text.split("\n\n")[3]


def test_sync_tells_its_progress_page_by_page(ldap: LdapServer, store: Store) -> None:
    said: list[Step] = []
    sync_ldap_directory(store.con, _settings(ldap), dry_run=True, progress=said.append)
    pages = (PEOPLE + 1) // PAGE_SIZE
    assert said == [
        *(Step("directory", n * PAGE_SIZE, None, "people") for n in range(1, pages + 1)),
        Step("applying", 0, PEOPLE + 1, "people"),
    ]


def test_supervisor_scope_from_an_attribute(ldap: LdapServer) -> None:
    supervisor = next(p for p in ldap.people if p.role == "supervisor")
    dn = f"uid={supervisor.login},ou=People,{BASE_DN}"
    ldap.ldapmodify(
        f"dn: {dn}\nchangetype: modify\nadd: extensionAttribute2\n"
        "extensionAttribute2: site:NYC;cost_center:CC-1100\n"
    )
    try:
        result = read_ldap_directory(ldap.settings(), extension_pattern=EXT, default_language="en")
    finally:
        ldap.ldapmodify(f"dn: {dn}\nchangetype: modify\ndelete: extensionAttribute2\n")
    entry = next(e for e in result.entries if e.login == supervisor.login)
    assert entry.scopes == ("cost_center:CC-1100", "site:NYC")


def test_roles_come_through_nested_groups_too(ldap: LdapServer) -> None:
    users = [p for p in ldap.people if p.role == "user"]
    direct, deeper = users[0], users[1]
    admins, supervisors = (
        f"cn=callacct-{g},ou=Groups,{BASE_DN}" for g in ("admins", "supervisors")
    )
    helpdesk = f"cn=helpdesk,ou=Groups,{BASE_DN}"
    night = f"cn=night-shift,ou=Groups,{BASE_DN}"

    def person(p: Person) -> str:
        return f"uid={p.login},ou=People,{BASE_DN}"

    # helpdesk (in the admins group) holds a person and night-shift, which holds another
    # person and, in a loop, helpdesk again; night-shift is also in the supervisors group
    ldap.ldapadd(
        f"dn: {helpdesk}\nobjectClass: groupOfNames\ncn: helpdesk\n"
        f"member: {person(direct)}\nmember: {night}\n\n"
        f"dn: {night}\nobjectClass: groupOfNames\ncn: night-shift\n"
        f"member: {person(deeper)}\nmember: {helpdesk}\n"
    )
    ldap.ldapmodify(f"dn: {admins}\nchangetype: modify\nadd: member\nmember: {helpdesk}\n")
    ldap.ldapmodify(f"dn: {supervisors}\nchangetype: modify\nadd: member\nmember: {night}\n")
    try:
        result = read_ldap_directory(ldap.settings(), extension_pattern=EXT, default_language="en")
        narrow = read_ldap_directory(
            ldap.settings(group_base_dn=f"ou=People,{BASE_DN}"),  # no groups there
            extension_pattern=EXT,
            default_language="en",
        )
    finally:
        for group, member in ((admins, helpdesk), (supervisors, night)):
            ldap.ldapmodify(f"dn: {group}\nchangetype: modify\ndelete: member\nmember: {member}\n")
        ldap.ldapdelete(helpdesk)
        ldap.ldapdelete(night)
    roles = {e.login: e.role for e in result.entries}
    assert roles[direct.login] == "admin"
    assert roles[deeper.login] == "admin"  # admin (through helpdesk) wins over supervisor
    assert all(roles[p.login] == p.role for p in ldap.people if p not in (direct, deeper))
    # groups outside group_base_dn are not known as groups: their people do not count
    narrow_roles = {e.login: e.role for e in narrow.entries}
    assert (narrow_roles[direct.login], narrow_roles[deeper.login]) == ("user", "user")


def test_login_accepts_the_right_password_only(ldap: LdapServer) -> None:
    person = ldap.people[0]
    settings = ldap.settings()
    who = authenticate(settings, person.login, password_of(person))
    assert who.login == person.login
    assert who.dn == f"uid={person.login},ou=People,{BASE_DN}"
    with pytest.raises(AuthenticationError, match="wrong login or password"):
        authenticate(settings, person.login, "not-the-password")
    with pytest.raises(AuthenticationError, match="wrong login or password"):
        authenticate(settings, "nobody-by-that-name", "whatever")


@pytest.mark.parametrize(
    "login",
    ["*", "*)(uid=*", "*)(|(uid=*", f"{'a'}*", "o'brien(*", "o'brien(x)*", "\\2a", "*)(&"],
)
def test_login_filter_injection_is_refused(ldap: LdapServer, login: str) -> None:
    person = ldap.people[0]
    with pytest.raises(AuthenticationError, match="wrong login or password"):
        authenticate(ldap.settings(), login, password_of(person))
    with pytest.raises(AuthenticationError):
        authenticate(ldap.settings(), login, ODD_PASSWORD)


def test_login_with_filter_characters_is_escaped_not_refused(ldap: LdapServer) -> None:
    who = authenticate(ldap.settings(), ODD_LOGIN, ODD_PASSWORD)
    assert who.login == ODD_LOGIN


@pytest.mark.parametrize("password", ["", " ", "\t\n"])
def test_empty_password_is_refused_before_any_connection(password: str) -> None:
    from callacct.config import LdapSettings

    # Nothing listens on port 1: reaching the server would be an LdapError, not this.
    unreachable = LdapSettings(url="ldap://127.0.0.1:1", base_dn="dc=x")
    with pytest.raises(AuthenticationError, match="empty password refused"):
        authenticate(unreachable, "anyone", password)


def test_empty_password_is_refused_by_a_live_server_too(ldap: LdapServer) -> None:
    with pytest.raises(AuthenticationError, match="empty password"):
        authenticate(ldap.settings(), ldap.people[0].login, "")


def test_starttls_is_used_and_verified(ldap: LdapServer, monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[bool] = []
    original = ldap3.Connection.start_tls

    def spy(self: ldap3.Connection, *args: object, **kwargs: object) -> bool:
        ok: bool = original(self, *args, **kwargs)
        started.append(ok)
        return ok

    monkeypatch.setattr(ldap3.Connection, "start_tls", spy)
    person = ldap.people[0]
    authenticate(ldap.settings(), person.login, password_of(person))
    assert started == [True, True]  # the service and the user connection, before binding


def test_a_certificate_from_another_ca_is_refused(ldap: LdapServer) -> None:
    settings = ldap.settings(ca_file=str(ldap.other_ca_file))
    with pytest.raises(LdapError, match=r"certificate|TLS"):
        read_ldap_directory(settings, extension_pattern=EXT, default_language="en")
    person = ldap.people[0]
    with pytest.raises(LdapError):
        authenticate(settings, person.login, password_of(person))


def test_ldaps_with_the_ca(ldap: LdapServer) -> None:
    person = ldap.people[0]
    settings = ldap.settings(url=ldap.ldaps_url)
    assert authenticate(settings, person.login, password_of(person)).login == person.login
    bad = ldap.settings(url=ldap.ldaps_url, ca_file=str(ldap.other_ca_file))
    with pytest.raises(LdapError):
        authenticate(bad, person.login, password_of(person))


def test_missing_service_password_is_a_config_error(
    ldap: LdapServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(PASSWORD_ENV)
    with pytest.raises(ConfigError, match=PASSWORD_ENV):
        read_ldap_directory(ldap.settings(), extension_pattern=EXT, default_language="en")


def test_wrong_service_password_is_an_ldap_error(
    ldap: LdapServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PASSWORD_ENV, "wrong")
    with pytest.raises(LdapError) as info:
        read_ldap_directory(ldap.settings(), extension_pattern=EXT, default_language="en")
    assert "wrong" not in str(info.value)


# ldap3 checks the name after wrapping the socket and, when it does not match, raises without
# closing the wrapped socket: the garbage collector closes it (with a ResourceWarning).
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_certificate_for_another_host_name_is_refused(ldap: LdapServer) -> None:
    """The certificate names IP 127.0.0.1 only: 'localhost' is a different name."""
    person = ldap.people[0]
    settings = ldap.settings(url=ldap.url.replace("127.0.0.1", "localhost"))
    with pytest.raises(LdapError, match="doesn't match"):
        authenticate(settings, person.login, password_of(person))
    gc.collect()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"base_dn": "ou=Nowhere,dc=example,dc=com"}, "search of 'ou=Nowhere"),
        ({"admin_groups": ["cn=missing,dc=example,dc=com"]}, "group 'cn=missing"),
        ({"user_filter": "(objectClass=adLiteUser"}, "filter"),
    ],
)
def test_bad_ldap_settings_are_one_line_errors(
    ldap: LdapServer, changes: dict[str, object], message: str
) -> None:
    with pytest.raises((LdapError, ConfigError), match=message) as info:
        read_ldap_directory(ldap.settings(**changes), extension_pattern=EXT, default_language="en")
    assert "\n" not in str(info.value)


def test_missing_ca_file_is_a_config_error(ldap: LdapServer) -> None:
    settings = ldap.settings(ca_file=str(ldap.folder / "nope.pem"))
    with pytest.raises(ConfigError, match=r"ldap.ca_file .*nope.pem'?: no such file"):
        authenticate(settings, "x", "y")
