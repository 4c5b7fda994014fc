"""LDAP / Active Directory with ldap3: connections, paged import, search-then-bind login.

TLS is always verified (``ssl.CERT_REQUIRED``) against `ldap.ca_file`, or the system CAs. On
``ldap://`` with `start_tls` (the default) TLS is negotiated *before* any bind, so no password
crosses the network in clear. The service password comes from the environment variable named
by `ldap.bind_password_env`; it is never stored or printed.

Login (F-ACCESS-2) is search-then-bind: the service account searches the person with the login
escaped (RFC 4515), exactly one entry must match, then a fresh connection binds as that DN. An
empty or blank password is refused before any connection is opened (RFC 4513 §5.1.2: a bind
with a DN and no password is an *unauthenticated* bind, which some servers accept).
"""

from __future__ import annotations

import logging
import math
import os
import re
import ssl
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ldap3
from ldap3.core.exceptions import LDAPException
from ldap3.utils.conv import escape_filter_chars

from callacct.config import LdapSettings
from callacct.directory.model import (
    DirectoryEntry,
    EntrySet,
    clean_extension,
    duplicate_problems,
    normalise_language,
    parse_scopes,
)
from callacct.errors import AuthenticationError, ConfigError, LdapError
from callacct.problems import Problem
from callacct.progress import DIRECTORY, Progress, Step

log = logging.getLogger(__name__)


def _seconds(settings: LdapSettings) -> int:
    # ldap3 packs socket timeouts as whole seconds.
    return max(1, math.ceil(settings.timeout_s))


def _server(settings: LdapSettings) -> Any:
    if not settings.url:
        raise ConfigError(
            "ldap.url is not set in callacct.toml; set it (ldaps://host or ldap://host)"
        )
    if settings.ca_file and not Path(settings.ca_file).is_file():
        raise ConfigError(
            f"ldap.ca_file {settings.ca_file!r}: no such file; give the CA bundle (PEM)"
        )
    tls = ldap3.Tls(
        validate=ssl.CERT_REQUIRED,
        ca_certs_file=settings.ca_file or None,
        version=ssl.PROTOCOL_TLS_CLIENT,
    )
    return ldap3.Server(
        settings.url,
        use_ssl=settings.url.lower().startswith("ldaps://"),
        tls=tls,
        get_info=ldap3.NONE,
        connect_timeout=_seconds(settings),
    )


def _uses_start_tls(settings: LdapSettings) -> bool:
    return settings.start_tls and not settings.url.lower().startswith("ldaps://")


def _service_password(settings: LdapSettings) -> str | None:
    if not settings.bind_dn:
        return None
    password = os.environ.get(settings.bind_password_env, "")
    if not password.strip():
        raise ConfigError(
            f"ldap.bind_dn is set but the environment variable {settings.bind_password_env} "
            "holding its password is empty or unset; export it"
        )
    return password


def _connect(settings: LdapSettings, user: str | None, password: str | None) -> tuple[Any, bool]:
    """Open a connection (TLS first: LDAPS, or StartTLS before any bind) and bind.

    Returns the connection and whether the bind succeeded; a connection that cannot be
    opened or secured is closed and raises `LdapError`.
    """
    conn = ldap3.Connection(
        _server(settings),
        user=user,
        password=password,
        receive_timeout=_seconds(settings),
        auto_referrals=False,
        read_only=True,
        raise_exceptions=False,
    )
    try:
        conn.open()
        if _uses_start_tls(settings) and not conn.start_tls():
            raise LdapError(f"{settings.url}: StartTLS refused ({_result(conn)})")
        return conn, bool(conn.bind())
    except LDAPException as exc:
        _close(conn)
        raise LdapError(f"{settings.url}: {_describe(exc)}") from None
    except BaseException:
        _close(conn)
        raise


def _close(conn: Any) -> None:
    with suppress(LDAPException):
        conn.unbind()
    if conn.socket is not None:  # a socket whose TLS handshake failed is not closed by unbind
        conn.socket.close()


def _result(conn: Any) -> str:
    result = conn.result or {}
    return f"{result.get('description')} {result.get('message') or ''}".strip()


@contextmanager
def service_connection(settings: LdapSettings) -> Iterator[Any]:
    """A bound connection of the service account (anonymous when no `bind_dn`)."""
    conn, ok = _connect(settings, settings.bind_dn or None, _service_password(settings))
    try:
        if not ok:
            raise LdapError(
                f"{settings.url}: the service account was refused ({_result(conn)}); "
                f"check ldap.bind_dn and {settings.bind_password_env}"
            )
        yield conn
    finally:
        _close(conn)


def _describe(exc: LDAPException) -> str:
    text = str(exc) or type(exc).__name__
    if "certificate" in text.lower() or "ssl" in text.lower() or "tls" in text.lower():
        return f"TLS handshake failed, certificate not trusted? ({text}); check ldap.ca_file"
    if "invalidcredentials" in text.replace(" ", "").lower():
        return f"the service account was refused ({text}); check ldap.bind_dn and its password"
    return f"cannot connect or bind ({text})"


def _values(attributes: dict[str, Any], name: str) -> list[str]:
    """Every value of an attribute as a list of strings (ldap3 gives scalars or lists)."""
    if not name:
        return []
    for key, value in attributes.items():
        if key.lower() == name.lower():
            if value is None:
                return []
            items = value if isinstance(value, list | tuple) else [value]
            return [str(v) for v in items if str(v).strip()]
    return []


def _first(attributes: dict[str, Any], name: str) -> str | None:
    values = _values(attributes, name)
    return values[0].strip() if values else None


def _dn_key(dn: str) -> str:
    """A DN compared the way directories do: case and spaces around ',' and '=' ignored.

    >>> _dn_key("CN=Bob Smith, OU=People,DC=example")
    'cn=bob smith,ou=people,dc=example'
    """
    return re.sub(r"\s*([,=])\s*", r"\1", dn.strip()).lower()


# Object classes of groups: Active Directory's, and the standard ones.
_GROUP_FILTER = "(|(objectClass=group)(objectClass=groupOfNames)(objectClass=groupOfUniqueNames))"


def _group_members(conn: Any, groups: tuple[str, ...], nested: dict[str, str]) -> set[str]:
    """The DNs (as `_dn_key`) of the people in `groups`, through nested groups too, as Active
    Directory counts them for permissions: a member that is itself a group (one of `nested`,
    key -> DN) brings its own members. Each group is read once, so cycles end."""
    members: set[str] = set()
    seen: set[str] = set()
    todo = [(group, True) for group in groups]
    while todo:
        group, configured = todo.pop()
        key = _dn_key(group)
        if key in seen:
            continue
        seen.add(key)
        ok = conn.search(group, "(objectClass=*)", ldap3.BASE, attributes=["member"])
        if not ok or not conn.response:
            if not configured:
                continue  # listed a moment ago, gone now: nothing of it counts
            raise LdapError(
                f"group {group!r} not found ({_result(conn)}); check ldap.admin_groups and "
                "ldap.supervisor_groups"
            )
        for item in conn.response:
            if item.get("type") != "searchResEntry":
                continue
            for member in _values(item["attributes"], "member"):
                member_key = _dn_key(member)
                if member_key in nested:
                    todo.append((nested[member_key], False))
                else:
                    members.add(member_key)
    return members


def _group_dns(conn: Any, settings: LdapSettings) -> dict[str, str]:
    """Every group under `group_base_dn` (DNs only, page by page), by `_dn_key`."""
    roles = settings.admin_groups + settings.supervisor_groups
    if not roles:
        return {}
    base = settings.group_base_dn or _directory_root(roles[0])
    found: dict[str, str] = {}
    try:
        for item in conn.extend.standard.paged_search(
            base,
            _GROUP_FILTER,
            search_scope=ldap3.SUBTREE,
            attributes=["1.1"],  # no attributes: the DNs are enough
            paged_size=settings.page_size,
            generator=True,
        ):
            if item.get("type") == "searchResEntry":
                found[_dn_key(item["dn"])] = item["dn"]
    except LDAPException as exc:
        raise LdapError(
            f"{settings.url}: listing groups under {base!r} failed ({exc}); "
            "check ldap.group_base_dn"
        ) from None
    return found


def _directory_root(dn: str) -> str:
    """The DC= components at the end of `dn`, or `dn`'s parent when it has none.

    >>> _directory_root("CN=Admins,OU=Groups,DC=example,DC=com")
    'DC=example,DC=com'
    >>> _directory_root("cn=admins,ou=Groups,o=acme")
    'ou=Groups,o=acme'
    """
    parts = [p.strip() for p in re.split(r"(?<!\\),", dn)]
    root: list[str] = []
    for part in reversed(parts):
        if not part.lower().startswith("dc="):
            break
        root.insert(0, part)
    return ",".join(root) if root else ",".join(parts[1:])


def read_ldap_directory(
    settings: LdapSettings,
    *,
    extension_pattern: str,
    default_language: str,
    progress: Progress | None = None,
) -> EntrySet:
    """Every person the user filter selects, read page by page, mapped to directory entries.

    Roles come from membership of `admin_groups` / `supervisor_groups`, nested groups included
    (admin wins); a manager DN becomes that person's login. Entries without a login are
    reported, not kept. `progress` is told how many people were read, page by page.
    """
    names = settings.attributes
    wanted = [
        names.login,
        names.name,
        names.email,
        *names.extensions,
        names.department,
        names.cost_center,
        names.site,
        names.manager,
        names.language,
        names.scope,
    ]
    attributes = sorted({a for a in wanted if a})
    ext_re = re.compile(extension_pattern)
    raw: list[tuple[str, dict[str, Any]]] = []
    with service_connection(settings) as conn:
        nested = _group_dns(conn, settings)
        admins = _group_members(conn, settings.admin_groups, nested)
        supervisors = _group_members(conn, settings.supervisor_groups, nested)
        try:
            for item in conn.extend.standard.paged_search(
                settings.base_dn,
                settings.user_filter,
                search_scope=ldap3.SUBTREE,
                attributes=attributes,
                paged_size=settings.page_size,
                generator=True,
            ):
                if item.get("type") == "searchResEntry":
                    raw.append((item["dn"], item["attributes"]))
                    if progress is not None and len(raw) % settings.page_size == 0:
                        progress(Step(DIRECTORY, len(raw), None, "people"))
        except LDAPException as exc:
            raise LdapError(
                f"{settings.url}: search failed ({exc}); check ldap.user_filter and ldap.base_dn"
            ) from None
        if conn.result and conn.result.get("result") not in (0, None):
            raise LdapError(
                f"{settings.url}: search of {settings.base_dn!r} failed ({_result(conn)}); "
                "check ldap.base_dn"
            )
    result = EntrySet(read=len(raw))
    logins_by_dn = {}
    for dn, attrs in raw:
        login = _first(attrs, names.login)
        if login:
            logins_by_dn[_dn_key(dn)] = login
    items: list[tuple[DirectoryEntry, str, int | None]] = []
    for dn, attrs in raw:
        login = logins_by_dn.get(_dn_key(dn))
        if not login:
            result.problems.append(
                Problem(dn, message=f"no {names.login} attribute; entry skipped")
            )
            continue
        extensions: list[str] = []
        for attribute in names.extensions:
            for value in _values(attrs, attribute):
                ext = clean_extension(value)
                if ext_re.search(ext) and ext not in extensions:
                    extensions.append(ext)
        key = _dn_key(dn)
        role = "admin" if key in admins else "supervisor" if key in supervisors else "user"
        scopes: tuple[str, ...] = ()
        if role == "supervisor" and names.scope:
            try:
                scopes = parse_scopes(";".join(_values(attrs, names.scope)))
            except ValueError as exc:
                result.problems.append(Problem(dn, message=f"{names.scope}: {exc}"))
        manager_dn = _first(attrs, names.manager)
        items.append(
            (
                DirectoryEntry(
                    login=login,
                    role=role,
                    name=_first(attrs, names.name),
                    email=_first(attrs, names.email),
                    language=normalise_language(_first(attrs, names.language), default_language),
                    department=_first(attrs, names.department),
                    cost_center=_first(attrs, names.cost_center),
                    site=_first(attrs, names.site),
                    manager=logins_by_dn.get(_dn_key(manager_dn)) if manager_dn else None,
                    scopes=scopes,
                    extensions=tuple(extensions),
                    dn=dn,
                ),
                dn,
                None,
            )
        )
    result.entries, duplicates = duplicate_problems(items)
    result.problems += duplicates
    return result


@dataclass(frozen=True)
class Authenticated:
    """A person whose password the directory accepted."""

    login: str
    dn: str


def authenticate(settings: LdapSettings, login: str, password: str) -> Authenticated:
    """Check `login` / `password` against the directory: search-then-bind.

    Raises `AuthenticationError` (the same message for an unknown login and a wrong password)
    and `LdapError` when the server cannot be used.
    """
    if not password or not password.strip():
        raise AuthenticationError("empty password refused; no bind attempted")
    if not login or not login.strip():
        raise AuthenticationError("empty login refused; no bind attempted")
    refused = AuthenticationError(f"authentication failed for {login!r}: wrong login or password")
    flt = f"(&{settings.user_filter}({settings.attributes.login}={escape_filter_chars(login)}))"
    with service_connection(settings) as conn:
        conn.search(
            settings.base_dn,
            flt,
            ldap3.SUBTREE,
            attributes=[settings.attributes.login],
            size_limit=2,
        )
        found = [item for item in conn.response or () if item.get("type") == "searchResEntry"]
    if len(found) != 1:  # 0: unknown; 2: ambiguous. Never say which.
        log.info("login %r matched %d entries", login, len(found))
        raise refused
    dn = found[0]["dn"]
    stored_login = _first(found[0]["attributes"], settings.attributes.login) or login
    user_conn, ok = _connect(settings, dn, password)  # a fresh connection, never a rebind
    _close(user_conn)
    if not ok:
        raise refused
    return Authenticated(login=stored_login, dn=dn)
