"""A real OpenLDAP `slapd` on 127.0.0.1 for the directory tests, with its own config in a temp
folder: AD-like attributes (the demo's ad-lite schema), more people than one page, groups for
roles, StartTLS and LDAPS with a CA made here.

Without slapd the LDAP tests are skipped with the reason — except under CI=true, where a
missing slapd fails them (CI installs it: `.ci/run`).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from callacct.config import LdapSettings
from callacct.demo.ldif import AD_LITE_SCHEMA, ADMINS_GROUP, SUPERVISORS_GROUP, people_ldif
from callacct.demo.people import Person, build_people

BASE_DN = "dc=example,dc=com"
ADMIN_DN = f"cn=admin,{BASE_DN}"
ADMIN_PW = "admin-secret"
# The service account callacct searches with; unlike the rootdn it is subject to size limits.
SERVICE_DN = f"cn=callacct-svc,{BASE_DN}"
SERVICE_PW = "svc-secret"
PASSWORD_ENV = "CALLACCT_TEST_LDAP_PASSWORD"
PEOPLE = 30  # more than PAGE_SIZE and more than the server's size limit of 5
PAGE_SIZE = 7
ODD_LOGIN = "o'brien(x)"  # every character escape_filter_chars must handle but NUL
ODD_PASSWORD = "odd-pw"


def password_of(person: Person) -> str:
    return f"{person.login}-pw"


@dataclass(frozen=True)
class LdapServer:
    url: str
    ldaps_url: str
    ca_file: Path
    other_ca_file: Path
    people: list[Person]
    folder: Path

    def settings(self, **changes: object) -> LdapSettings:
        values: dict[str, object] = {
            "url": self.url,
            "start_tls": True,
            "ca_file": str(self.ca_file),
            "bind_dn": SERVICE_DN,
            "bind_password_env": PASSWORD_ENV,
            "base_dn": f"ou=People,{BASE_DN}",
            "user_filter": "(objectClass=adLiteUser)",
            "admin_groups": [f"{ADMINS_GROUP},{BASE_DN}"],
            "supervisor_groups": [f"{SUPERVISORS_GROUP},{BASE_DN}"],
            "page_size": PAGE_SIZE,
            "timeout_s": 5,
            "attributes": {"scope": "extensionAttribute2"},
        }
        values.update(changes)
        return LdapSettings.model_validate(values)

    def ldapadd(self, ldif: str) -> None:
        self._tool("ldapadd", ldif)

    def ldapdelete(self, dn: str) -> None:
        self._tool("ldapdelete", None, dn)

    def ldapmodify(self, ldif: str) -> None:
        self._tool("ldapmodify", ldif)

    def _tool(self, tool: str, ldif: str | None, *args: str) -> None:
        subprocess.run(
            [tool, "-x", "-H", self.url, "-D", ADMIN_DN, "-w", ADMIN_PW, *args],
            input=ldif,
            text=True,
            check=True,
            capture_output=True,
        )


def _need(binary: str) -> str:
    path = shutil.which(binary) or (f"/usr/sbin/{binary}" if binary == "slapd" else None)
    if path and Path(path).exists():
        return path
    reason = f"{binary} is not installed (apt-get install slapd ldap-utils openssl)"
    if os.environ.get("CI", "").lower() in ("true", "1"):
        pytest.fail(f"{reason}; CI must install it (.ci/run)")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def _make_certificates(folder: Path) -> None:
    """A CA, a server certificate for IP 127.0.0.1 signed by it, and an unrelated CA."""
    for name in ("ca", "other-ca"):
        _openssl(
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-keyout", f"{name}.key", "-out", f"{name}.pem", "-subj", f"/CN=callacct test {name}",
            cwd=folder,
        )  # fmt: skip
    _openssl(
        "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
        "-subj", "/CN=127.0.0.1", cwd=folder,
    )  # fmt: skip
    (folder / "san.cnf").write_text("subjectAltName=IP:127.0.0.1\n")
    _openssl(
        "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "san.cnf", cwd=folder,
    )  # fmt: skip


def _seed(people: list[Person]) -> str:
    ldif = people_ldif(people, base_dn=BASE_DN, password=password_of)
    odd = f"""
dn: {SERVICE_DN}
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: callacct-svc
userPassword: {SERVICE_PW}

dn: uid=obrien,ou=People,{BASE_DN}
objectClass: inetOrgPerson
objectClass: adLiteUser
uid: obrien
cn: Odd Login
sn: Login
sAMAccountName: {ODD_LOGIN}
ipPhone: 2999
department: Legal
physicalDeliveryOfficeName: PAR
userPassword: {ODD_PASSWORD}
"""
    return ldif + odd


@pytest.fixture(scope="session")
def ldap_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LdapServer]:
    slapd = _need("slapd")
    _need("ldapadd")
    _need("openssl")
    folder = tmp_path_factory.mktemp("slapd")
    (folder / "db").mkdir()
    (folder / "ad-lite.schema").write_text(AD_LITE_SCHEMA)
    _make_certificates(folder)
    port, tls_port = _free_port(), _free_port()
    (folder / "slapd.conf").write_text(
        f"""
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include {folder}/ad-lite.schema
pidfile {folder}/slapd.pid
argsfile {folder}/slapd.args
modulepath /usr/lib/ldap
moduleload back_mdb
# Like AD's MaxPageSize: a plain search stops at 5 entries, a paged one gets them all.
sizelimit size.soft=5 size.hard=5 size.prtotal=unlimited
TLSCACertificateFile {folder}/ca.pem
TLSCertificateFile {folder}/server.pem
TLSCertificateKeyFile {folder}/server.key
database mdb
maxsize 104857600
suffix "{BASE_DN}"
rootdn "{ADMIN_DN}"
rootpw {ADMIN_PW}
directory {folder}/db
access to attrs=userPassword by self write by anonymous auth by * none
access to * by * read
"""
    )
    check = subprocess.run(
        [slapd, "-Ttest", "-f", str(folder / "slapd.conf"), "-u"], capture_output=True, text=True
    )
    assert check.returncode == 0, check.stderr
    url, ldaps_url = f"ldap://127.0.0.1:{port}", f"ldaps://127.0.0.1:{tls_port}"
    log = (folder / "slapd.log").open("w")
    process = subprocess.Popen(
        [slapd, "-f", str(folder / "slapd.conf"), "-h", f"{url}/ {ldaps_url}/", "-d", "0"],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        for _ in range(100):
            ready = subprocess.run(
                ["ldapwhoami", "-x", "-H", url], capture_output=True, check=False
            )
            if ready.returncode == 0:
                break
            if process.poll() is not None:
                pytest.fail(f"slapd exited: {(folder / 'slapd.log').read_text()}")
            time.sleep(0.1)
        else:
            pytest.fail("slapd did not answer within 10 s")
        people = build_people(seed=3, count=PEOPLE)
        server = LdapServer(
            url=url,
            ldaps_url=ldaps_url,
            ca_file=folder / "ca.pem",
            other_ca_file=folder / "other-ca.pem",
            people=people,
            folder=folder,
        )
        server.ldapadd(_seed(people))
        yield server
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


@pytest.fixture
def ldap(ldap_server: LdapServer, monkeypatch: pytest.MonkeyPatch) -> LdapServer:
    """The server, with the service account password in the environment."""
    monkeypatch.setenv(PASSWORD_ENV, SERVICE_PW)
    return ldap_server
