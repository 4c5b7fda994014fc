"""Read a directory CSV file: one person per line, every bad line reported.

Columns (header line, any order, case-insensitive; only ``login`` is required):
``login, name, email, language, role, department, cost_center, site, extension, manager, scope``.
``extension`` (or ``extensions``) holds one or more extensions separated by ``;`` or spaces;
``scope`` a supervisor's scope such as ``department:Sales;site:PAR``.

Example:
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "people.csv"
    >>> _ = path.write_text("login,name,role,department,extension\\n"
    ...                     "alice,Alice A,user,Sales,2001\\n"
    ...                     "bob,Bob B,boss,Sales,2002\\n")
    >>> result = read_directory_csv(path, extension_pattern=r"^\\d{4}$", default_language="en")
    >>> [e.login for e in result.entries], [str(p) for p in result.problems]
    (['alice'], ["people.csv:3: role 'boss' must be one of user, supervisor, admin"])
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

from callacct.directory.model import (
    DirectoryEntry,
    EntrySet,
    check_role,
    clean_extension,
    duplicate_problems,
    normalise_language,
    parse_scopes,
)
from callacct.i18n import LANGUAGES
from callacct.problems import DirectoryProblems, Problem

COLUMNS = (
    "login",
    "name",
    "email",
    "language",
    "role",
    "department",
    "cost_center",
    "site",
    "extension",
    "manager",
    "scope",
)
_ALIASES = {"extensions": "extension", "cost_centre": "cost_center", "scopes": "scope"}
_LOGIN = re.compile(r"[A-Za-z0-9._@\-]{1,128}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")


def read_directory_csv(path: Path, *, extension_pattern: str, default_language: str) -> EntrySet:
    """Entries of the CSV file at `path`, and a problem for every line that cannot be used.

    A file that cannot be read at all (missing, not UTF-8, no ``login`` column) raises
    `DirectoryError` (a `DirectoryProblems` naming the file and line).
    """
    name = path.name
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise _unusable(path, None, "no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise _unusable(path, None, f"cannot read it as UTF-8 text ({exc})") from None
    lines = text.splitlines()
    if not lines:
        raise _unusable(path, None, "empty file; the first line must name the columns")
    dialect = _sniff(lines[0])
    reader = csv.reader(lines, dialect=dialect)
    header = [_ALIASES.get(h.strip().lower(), h.strip().lower()) for h in next(reader)]
    unknown = [h for h in header if h not in COLUMNS]
    if unknown:
        raise _unusable(path, 1, f"unknown column {unknown[0]!r}; columns are {', '.join(COLUMNS)}")
    if "login" not in header:
        raise _unusable(path, 1, f"no 'login' column; columns are {', '.join(COLUMNS)}")
    ext_re = re.compile(extension_pattern)
    result = EntrySet()
    items: list[tuple[DirectoryEntry, str, int | None]] = []
    for line_no, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        result.read += 1
        if len(row) != len(header):
            result.problems.append(
                Problem(name, line_no, message=f"{len(row)} fields, the header has {len(header)}")
            )
            continue
        values = {h: cell.strip() for h, cell in zip(header, row, strict=True)}
        try:
            items.append((_entry(values, ext_re, default_language), name, line_no))
        except ValueError as exc:
            result.problems.append(Problem(name, line_no, message=str(exc)))
    result.entries, duplicates = duplicate_problems(items)
    result.problems += duplicates
    result.problems.sort(key=lambda p: p.line or 0)
    return result


def _unusable(path: Path, line: int | None, message: str) -> DirectoryProblems:
    """A file that cannot be used at all, as a `DirectoryError`."""
    return DirectoryProblems([Problem(str(path), line, message=message)])


def _sniff(first_line: str) -> type[csv.Dialect]:
    delimiter = max((",", ";", "\t"), key=first_line.count)
    return type("DirectoryCsv", (csv.excel,), {"delimiter": delimiter})


def _entry(
    values: dict[str, str], ext_re: re.Pattern[str], default_language: str
) -> DirectoryEntry:
    login = values.get("login", "")
    if not login:
        raise ValueError("empty login")
    if not _LOGIN.fullmatch(login):
        raise ValueError(f"login {login!r} may only hold letters, digits and . _ @ -")
    email = values.get("email") or None
    if email and not _EMAIL.fullmatch(email):
        raise ValueError(f"email {email!r} is not an e-mail address")
    language = values.get("language") or ""
    if language and normalise_language(language, "") == "":
        raise ValueError(f"language {language!r} must be one of {', '.join(LANGUAGES)}")
    extensions: list[str] = []
    for raw in re.split(r"[;\s]+", values.get("extension", "")):
        if not raw:
            continue
        ext = clean_extension(raw)
        if not ext_re.search(ext):
            raise ValueError(
                f"extension {raw!r} does not match dialplan.extension_pattern {ext_re.pattern!r}"
            )
        if ext not in extensions:
            extensions.append(ext)
    role = check_role(values.get("role"))
    scopes = parse_scopes(values.get("scope"))
    if scopes and role != "supervisor":
        raise ValueError(
            f"scope {values.get('scope')!r} given to a {role}; only supervisors have one"
        )
    return DirectoryEntry(
        login=login,
        role=role,
        name=values.get("name") or None,
        email=email,
        language=normalise_language(language, default_language),
        department=values.get("department") or None,
        cost_center=values.get("cost_center") or None,
        site=values.get("site") or None,
        manager=values.get("manager") or None,
        scopes=scopes,
        extensions=tuple(extensions),
    )
