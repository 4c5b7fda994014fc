"""Code and documents point only at what the repository holds, and every feature id they name
is explained in docs/features.md."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEXT = (".py", ".md", ".yaml", ".toml", ".j2", ".cfg")

# Documents kept outside the repository, and the tickets the work came from.
OUTSIDE = re.compile(
    r"\b(DESIGN|SPEC|STYLE)(\.md|\s*§)|\breference/[\w.-]+\.md"
    r"|\bissue\s*\d|\(issue\b|\bthe issue'?s?\b"
)
FEATURE = re.compile(r"\bF-[A-Z]+(?:-\d+)?\b")
# Measured figures (≈ 1.3 GB, 470 MB/s, 715k calls/s, 0.25 µs a row) belong in
# docs/benchmarks.md, which says how and when they were measured.
FIGURE = re.compile(
    r"≈\s*[\d.,]+\s*(µs|ms|s|MB|GB|%)|[\d.]+k?\s*(rows|calls|numbers)/s|MB/s|[\d.]+\s*µs"
)
# A comment tells why; one that tells what the code used to do is history.
HISTORY = re.compile(r"#.*\b(used to|previously|formerly|no longer|any more|anymore)\b")


def _files() -> list[Path]:
    found = [ROOT / name for name in ("README.md", "Makefile", "pyproject.toml")]
    for folder in ("src", "tests", "benchmarks", "docs", "report_specs"):
        found += [p for p in (ROOT / folder).rglob("*") if p.suffix in TEXT and p.is_file()]
    return [p for p in found if p != Path(__file__).resolve()]


def _hits(pattern: re.Pattern[str], suffixes: tuple[str, ...] = TEXT) -> list[str]:
    return [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in _files()
        if path.suffix in suffixes or path.name in ("Makefile",)
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if pattern.search(line)
    ]


def test_no_reference_to_documents_outside_the_repository() -> None:
    assert _hits(OUTSIDE) == []


def test_feature_ids_are_explained() -> None:
    explained = set(FEATURE.findall((ROOT / "docs" / "features.md").read_text(encoding="utf-8")))
    named = {m for hit in _hits(FEATURE) for m in FEATURE.findall(hit.split(": ", 1)[1])}
    assert named
    assert sorted(named - explained) == []


def test_benchmark_figures_are_in_docs_benchmarks_only() -> None:
    outside = [
        hit for hit in _hits(FIGURE) if not hit.startswith(("docs/benchmarks.md", "benchmarks/"))
    ]
    assert outside == []


def test_comments_say_why_not_what_was() -> None:
    assert _hits(HISTORY, (".py",)) == []
