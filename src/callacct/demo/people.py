"""A small, deterministic demo organisation: two sites, their people, extensions and phones.

Everything is derived from one seed through a private ``random.Random``, so the same seed always
gives the same people, logins, extensions and device names::

    >>> from callacct.demo.people import SITES, build_people
    >>> people = build_people(seed=7, count=40)
    >>> len(people), sorted({p.site for p in people})
    (40, ['NYC', 'PAR'])
    >>> build_people(seed=7, count=40) == people
    True
    >>> [s.code for s in SITES]
    ['PAR', 'NYC']
"""

from __future__ import annotations

import csv
import random
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from callacct.directory.csv_import import COLUMNS as DIRECTORY_COLUMNS

__all__ = [
    "DEPARTMENTS",
    "INTERNAL_PARTITION",
    "SITES",
    "Person",
    "Site",
    "build_people",
    "site_by_code",
    "write_people_csv",
]

#: Partition of every internal directory number (phones) in the demo cluster.
INTERNAL_PARTITION = "PT_Internal"


@dataclass(frozen=True)
class Site:
    """One office of the demo organisation and how its phones reach the PSTN.

    ``did_prefix`` + extension is the person's public (DID) number in national format,
    ``subnet`` the first two octets of the site's phone addresses and ``node`` the CUCM node
    (``globalCallID_callManagerId``) its phones and trunk register to.
    ``tz`` is the IANA time zone its phones' clocks and working hours follow.
    """

    code: str
    name: str
    country: str
    tz: str
    access_code: str
    ext_first: int
    ext_last: int
    trunk_device: str
    pstn_partition: str
    country_code: str
    international_prefix: str
    emergency_number: str
    node: int
    subnet: str
    trunk_ip: str
    did_prefix: str

    @property
    def extension_count(self) -> int:
        """How many 4-digit extensions the site's range holds."""
        return self.ext_last - self.ext_first + 1


SITES: tuple[Site, ...] = (
    Site(
        code="PAR",
        name="Paris",
        country="FR",
        tz="Europe/Paris",
        access_code="0",
        ext_first=2000,
        ext_last=2599,
        trunk_device="PAR-CUBE-01",
        pstn_partition="PT_PSTN_FR",
        country_code="33",
        international_prefix="00",
        emergency_number="112",
        node=1,
        subnet="10.10",
        trunk_ip="10.10.0.10",
        did_prefix="018488",
    ),
    Site(
        code="NYC",
        name="New York",
        country="US",
        tz="America/New_York",
        access_code="9",
        ext_first=3000,
        ext_last=3399,
        trunk_device="NYC-CUBE-01",
        pstn_partition="PT_PSTN_US",
        country_code="1",
        international_prefix="011",
        emergency_number="911",
        node=2,
        subnet="10.20",
        trunk_ip="10.20.0.10",
        did_prefix="212555",
    ),
)

#: Departments with their share of the staff and their cost-centre number (site adds 1000/2000).
DEPARTMENTS: tuple[tuple[str, float, int], ...] = (
    ("Executive", 0.04, 0),
    ("Sales", 0.20, 100),
    ("Customer Service", 0.24, 200),
    ("Finance", 0.08, 300),
    ("IT", 0.10, 400),
    ("HR", 0.05, 500),
    ("Legal", 0.04, 600),
    ("Marketing", 0.10, 700),
    ("Operations", 0.15, 800),
)

_PARIS_SHARE = 0.75

Role = Literal["user", "supervisor", "admin"]


@dataclass(frozen=True)
class Person:
    """One employee with a desk phone.

    ``manager`` is the login of the department's supervisor (None for supervisors themselves).
    """

    login: str
    first_name: str
    last_name: str
    name: str
    email: str
    language: str
    role: Role
    department: str
    cost_center: str
    site: str
    extension: str
    device_name: str
    manager: str | None


# Languages per site with weights; names are drawn from the pool of the chosen language so that a
# person's name and language agree.
_LANGUAGE_WEIGHTS: dict[str, tuple[tuple[str, float], ...]] = {
    "PAR": (("fr", 0.80), ("en", 0.06), ("de", 0.04), ("es", 0.04), ("it", 0.03), ("ar", 0.03)),
    "NYC": (("en", 0.80), ("es", 0.10), ("fr", 0.05), ("it", 0.02), ("de", 0.02), ("ar", 0.01)),
}

# fmt: off
_FIRST_NAMES: dict[str, tuple[str, ...]] = {
    "fr": (
        "Camille", "Léa", "Manon", "Chloé", "Inès", "Sarah", "Julie", "Émilie", "Claire", "Hélène",
        "Sophie", "Nathalie", "Isabelle", "Céline", "Aurélie", "Lucas", "Hugo", "Louis", "Nathan",
        "Thomas", "Julien", "Nicolas", "Antoine", "Maxime", "Pierre", "Étienne", "François",
        "Mathieu", "Olivier", "Sébastien", "Guillaume", "Romain", "Vincent", "Jérôme", "Benoît",
    ),
    "en": (
        "James", "John", "Robert", "Michael", "William", "David", "Richard", "Joseph", "Thomas",
        "Daniel", "Matthew", "Andrew", "Ryan", "Kevin", "Brian", "Mary", "Patricia", "Jennifer",
        "Linda", "Elizabeth", "Barbara", "Susan", "Jessica", "Sarah", "Karen", "Emily", "Ashley",
        "Megan", "Rachel", "Lauren",
    ),
    "de": ("Lukas", "Jonas", "Felix", "Maximilian", "Anna", "Lena", "Katrin", "Jürgen", "Sabine"),
    "es": ("Carlos", "Javier", "Miguel", "Alejandro", "Lucía", "María", "Carmen", "Sofía", "Pablo"),
    "it": ("Marco", "Luca", "Giuseppe", "Francesca", "Giulia", "Chiara", "Alessandro", "Paola"),
    "ar": ("Youssef", "Karim", "Mehdi", "Omar", "Nadia", "Fatima", "Leïla", "Amine", "Samira"),
}

_LAST_NAMES: dict[str, tuple[str, ...]] = {
    "fr": (
        "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy",
        "Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "Garcia", "David", "Bertrand", "Roux",
        "Vincent", "Fournier", "Morel", "Girard", "André", "Mercier", "Dupont", "Lambert", "Bonnet",
        "François", "Martinez", "Legrand", "Garnier", "Faure", "Rousseau", "Blanc", "Guérin",
        "Muller", "Henry", "Roussel", "Nicolas", "Perrin", "Morin", "Mathieu", "Clément",
        "Gauthier", "Dumont", "Lopez", "Fontaine", "Chevalier", "Robin", "Masson", "Sanchez",
        "Gérard",
    ),
    "en": (
        "Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Anderson",
        "Taylor", "Moore", "Jackson", "White", "Harris", "Clark", "Lewis", "Robinson", "Walker",
        "Young", "Allen", "King", "Wright", "Scott", "Green", "Baker", "Adams", "Nelson", "Hill",
        "Campbell", "Mitchell", "Roberts", "Carter", "Phillips", "Evans", "Turner", "Parker",
        "Collins", "Edwards", "Stewart", "Murphy", "Cook", "Rogers", "Morgan", "Cooper", "Reed",
    ),
    "de": ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker"),
    "es": ("García", "Rodríguez", "González", "Fernández", "López", "Martínez", "Pérez", "Gómez"),
    "it": ("Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci"),
    "ar": ("Benali", "El Amrani", "Haddad", "Mansour", "Khalil", "Bensaïd", "Cherif", "Saïdi"),
}

# Cisco phone MAC prefixes (OUIs seen in real CUCM device names) so device names look genuine.
_CISCO_OUIS: tuple[str, ...] = (
    "00270D", "0023EB", "0026CB", "2893FE", "44D3CA", "500604", "649EF3", "6886A7", "CC7F75",
    "CC8E71", "D0C282", "E8BA70", "F87B20", "B4E9B0",
)
# fmt: on


def site_by_code(code: str) -> Site:
    """Return the site with the given code.

    >>> site_by_code("NYC").trunk_device
    'NYC-CUBE-01'
    """
    for site in SITES:
        if site.code == code:
            return site
    raise KeyError(f"unknown site code {code!r}")


def _ascii_slug(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if c.isascii() and c.isalnum()).lower()


def _weighted(rng: random.Random, pairs: Sequence[tuple[str, float]]) -> str:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


def build_people(seed: int, count: int = 200) -> list[Person]:
    """Build ``count`` demo people, about 75 % in Paris and the rest in New York.

    Every department gets at least one person when ``count`` allows it; each department has one
    supervisor (the manager of its other members) and the IT department holds the two admins.
    The list is sorted by extension.

    >>> people = build_people(seed=1, count=20)
    >>> sum(p.site == "PAR" for p in people), sum(p.role == "admin" for p in people)
    (15, 2)
    >>> people[0].email == people[0].login + "@example.com"
    True
    """
    if count < 2:
        raise ValueError("count must be at least 2 (one person per site)")
    rng = random.Random(seed)
    n_paris = max(1, min(count - 1, round(count * _PARIS_SHARE)))
    sites_for = ["PAR"] * n_paris + ["NYC"] * (count - n_paris)
    for site_code, wanted in (("PAR", n_paris), ("NYC", count - n_paris)):
        capacity = site_by_code(site_code).extension_count
        if wanted > capacity:
            raise ValueError(f"site {site_code} has only {capacity} extensions, {wanted} asked")

    # Every department once before the weighted draw, so small demos still have all of them.
    dept_names = [d[0] for d in DEPARTMENTS]
    departments: list[str] = []
    for i in range(count):
        if i < len(dept_names):
            departments.append(dept_names[i])
        else:
            departments.append(_weighted(rng, [(d[0], d[1]) for d in DEPARTMENTS]))
    rng.shuffle(departments)
    # Fewer people than departments: the admins' department must still exist.
    if "IT" not in departments:
        departments[0] = "IT"

    extensions: dict[str, list[int]] = {}
    for site in SITES:
        wanted = sites_for.count(site.code)
        extensions[site.code] = sorted(rng.sample(range(site.ext_first, site.ext_last + 1), wanted))

    used_logins: set[str] = set()
    used_devices: set[str] = set()
    drafts: list[dict[str, str]] = []
    for i in range(count):
        site_code = sites_for[i]
        language = _weighted(rng, _LANGUAGE_WEIGHTS[site_code])
        first = rng.choice(_FIRST_NAMES[language])
        last = rng.choice(_LAST_NAMES[language])
        base = (_ascii_slug(first)[:1] + _ascii_slug(last))[:20]
        login = base
        n = 2
        while login in used_logins:
            login = f"{base}{n}"
            n += 1
        used_logins.add(login)
        device = ""
        while not device or device in used_devices:
            device = "SEP" + rng.choice(_CISCO_OUIS) + f"{rng.getrandbits(24):06X}"
        used_devices.add(device)
        drafts.append(
            {
                "login": login,
                "first": first,
                "last": last,
                "language": language,
                "department": departments[i],
                "site": site_code,
                "extension": str(extensions[site_code].pop(0)),
                "device": device,
            }
        )

    # Supervisor of a department: its first member in Paris if any, else its first member.
    supervisors: dict[str, str] = {}
    for dept in dept_names:
        members = [d for d in drafts if d["department"] == dept]
        if not members:
            continue
        paris = [d for d in members if d["site"] == "PAR"]
        supervisors[dept] = (paris or members)[0]["login"]
    # Two admins in IT (one per site when possible), never the IT supervisor.
    it_members = [d for d in drafts if d["department"] == "IT" and d["login"] != supervisors["IT"]]
    admins: list[str] = []
    for site in SITES:
        for d in it_members:
            if d["site"] == site.code and len(admins) < 2 and d["login"] not in admins:
                admins.append(d["login"])
                break
    for d in drafts:
        if len(admins) >= 2:
            break
        if d["login"] not in admins and d["login"] not in supervisors.values():
            admins.append(d["login"])

    cc_offset = {"PAR": 1000, "NYC": 2000}
    dept_cc = {d[0]: d[2] for d in DEPARTMENTS}
    people: list[Person] = []
    for d in drafts:
        is_supervisor = supervisors.get(d["department"]) == d["login"]
        role: Role = "supervisor" if is_supervisor else "admin" if d["login"] in admins else "user"
        people.append(
            Person(
                login=d["login"],
                first_name=d["first"],
                last_name=d["last"],
                name=f"{d['first']} {d['last']}",
                email=f"{d['login']}@example.com",
                language=d["language"],
                role=role,
                department=d["department"],
                cost_center=f"CC-{cc_offset[d['site']] + dept_cc[d['department']]}",
                site=d["site"],
                extension=d["extension"],
                device_name=d["device"],
                manager=None if is_supervisor else supervisors.get(d["department"]),
            )
        )
    people.sort(key=lambda p: int(p.extension))
    return people


# The directory import's columns; demo people have no supervisor scope of their own.
_CSV_HEADER = tuple(column for column in DIRECTORY_COLUMNS if column != "scope")


def write_people_csv(people: Sequence[Person], path: Path) -> None:
    """Write the people as a UTF-8 CSV (header ``login,name,email,...,manager``).

    >>> import tempfile
    >>> out = Path(tempfile.mkdtemp()) / "people.csv"
    >>> write_people_csv(build_people(seed=1, count=4), out)
    >>> out.read_text(encoding="utf-8").splitlines()[0]
    'login,name,email,language,role,department,cost_center,site,extension,manager'
    """
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(_CSV_HEADER)
        for p in people:
            writer.writerow(
                (
                    p.login,
                    p.name,
                    p.email,
                    p.language,
                    p.role,
                    p.department,
                    p.cost_center,
                    p.site,
                    p.extension,
                    p.manager or "",
                )
            )
