"""The demo people as LDIF for a test LDAP server, with Active Directory-like attributes.

OpenLDAP's stock schemas lack AD's `sAMAccountName`, `ipPhone`, `department` and
`extensionAttribute1`; `AD_LITE_SCHEMA` re-declares them with Microsoft's OIDs plus an
auxiliary class, so entries look like AD users to `directory sync-ldap` with its default
attribute map. Groups `callacct-admins` and `callacct-supervisors` carry the roles.

>>> from callacct.demo.people import build_people
>>> text = people_ldif(build_people(seed=1, count=4), base_dn="dc=example,dc=com")
>>> "objectClass: adLiteUser" in text and "cn=callacct-admins,ou=Groups" in text
True
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from pathlib import Path

from callacct.demo.people import Person, site_by_code

AD_LITE_SCHEMA = """\
# Active Directory attributes (Microsoft OIDs) for a test OpenLDAP server.
attributetype ( 1.2.840.113556.1.4.221 NAME 'sAMAccountName'
  EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch
  SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
attributetype ( 1.2.840.113556.1.4.721 NAME 'ipPhone'
  EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch
  SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
attributetype ( 1.2.840.113556.1.2.141 NAME 'department'
  EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch
  SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
attributetype ( 1.2.840.113556.1.2.423 NAME 'extensionAttribute1'
  EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch
  SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
attributetype ( 1.2.840.113556.1.2.424 NAME 'extensionAttribute2'
  EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch
  SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
objectclass ( 1.3.6.1.4.1.4203.666.11.999.1 NAME 'adLiteUser' AUXILIARY
  MAY ( sAMAccountName $ ipPhone $ department $ extensionAttribute1 $ extensionAttribute2 ) )
"""

ADMINS_GROUP = "cn=callacct-admins,ou=Groups"
SUPERVISORS_GROUP = "cn=callacct-supervisors,ou=Groups"


def _line(name: str, value: str) -> str:
    if value.isascii() and not value.startswith((" ", ":", "<")):
        return f"{name}: {value}"
    return f"{name}:: {base64.b64encode(value.encode()).decode()}"


def person_dn(person: Person, base_dn: str) -> str:
    return f"uid={person.login},ou=People,{base_dn}"


def people_ldif(
    people: Sequence[Person],
    *,
    base_dn: str,
    password: Callable[[Person], str] | None = None,
) -> str:
    """LDIF of the base, `ou=People`, `ou=Groups`, every person and the two role groups.

    `password(person)` sets `userPassword` (tests); the demo leaves it out.
    """
    dc = base_dn.split(",")[0].partition("=")[2]
    root = [f"dn: {base_dn}", "objectClass: dcObject", "objectClass: organization"]
    blocks = [
        [*root, f"o: {dc}", f"dc: {dc}"],
        [f"dn: ou=People,{base_dn}", "objectClass: organizationalUnit", "ou: People"],
        [f"dn: ou=Groups,{base_dn}", "objectClass: organizationalUnit", "ou: Groups"],
    ]
    by_login = {p.login: p for p in people}
    for p in people:
        block = [
            f"dn: {person_dn(p, base_dn)}",
            "objectClass: inetOrgPerson",
            "objectClass: adLiteUser",
            f"uid: {p.login}",
            _line("cn", p.name),
            _line("sn", p.last_name),
            _line("givenName", p.first_name),
            _line("displayName", p.name),
            f"sAMAccountName: {p.login}",
            f"mail: {p.email}",
            f"ipPhone: {p.extension}",
            f"telephoneNumber: +{_did(p)}",
            _line("department", p.department),
            f"extensionAttribute1: {p.cost_center}",
            f"physicalDeliveryOfficeName: {p.site}",
            f"preferredLanguage: {p.language}",
        ]
        if p.manager and p.manager in by_login:
            block.append(f"manager: {person_dn(by_login[p.manager], base_dn)}")
        if password is not None:
            block.append(_line("userPassword", password(p)))
        blocks.append(block)
    for group, role in ((ADMINS_GROUP, "admin"), (SUPERVISORS_GROUP, "supervisor")):
        members = [person_dn(p, base_dn) for p in people if p.role == role]
        block = [f"dn: {group},{base_dn}", "objectClass: groupOfNames"]
        block.append(f"cn: {group.split(',')[0].partition('=')[2]}")
        # groupOfNames needs a member: an empty group names its own DN.
        block += [f"member: {m}" for m in members or [f"{group},{base_dn}"]]
        blocks.append(block)
    return "\n\n".join("\n".join(b) for b in blocks) + "\n"


def _did(person: Person) -> str:
    """The person's public number in E.164 (what AD's telephoneNumber usually holds)."""
    site = site_by_code(person.site)
    return site.country_code + (site.did_prefix + person.extension).lstrip("0")


def write_people_ldif(people: Sequence[Person], folder: Path, *, base_dn: str) -> Path:
    """Write `people.ldif` and `ad-lite.schema` (its schema) into `folder`."""
    (folder / "ad-lite.schema").write_text(AD_LITE_SCHEMA, encoding="utf-8")
    path = folder / "people.ldif"
    path.write_text(people_ldif(people, base_dn=base_dn), encoding="utf-8")
    return path
