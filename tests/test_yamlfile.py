"""The one YAML loader: bombs, sizes, depth, duplicate keys and impossible values are refused
with file and line; lines of key paths are kept; every YAML read of the package goes through it."""

from __future__ import annotations

import ast
import time
from pathlib import Path

import pytest

import callacct
from callacct.problems import SpecProblems
from callacct.yamlfile import MAX_ALIAS_NODES, parse_yaml, read_limited, read_yaml
from tests.conftest import Cli

LAUGHS = "\n".join(
    f"{name}: &{name} [{', '.join([f'*{previous}'] * 9)}]"
    for previous, name in zip("abcdefgh", "bcdefghi", strict=True)
)
BILLION_LAUGHS = 'a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n' + LAUGHS


def refused(text: str | bytes, **kwargs: object) -> list[tuple[int | None, str, str]]:
    with pytest.raises(SpecProblems) as caught:
        parse_yaml(text, "f.yaml", **kwargs)  # type: ignore[arg-type]
    assert all(p.file == "f.yaml" for p in caught.value.problems)
    return [(p.line, p.key, p.message) for p in caught.value.problems]


def test_lines_of_every_key_path() -> None:
    doc = parse_yaml(
        "name: r\nmeasures:\n  - {name: calls, agg: count}\n  - name: cost\n    agg: sum\n", "r"
    )
    assert doc.data == {
        "name": "r",
        "measures": [{"name": "calls", "agg": "count"}, {"name": "cost", "agg": "sum"}],
    }
    assert doc.lines[("name",)] == 1
    assert doc.lines[("measures", 0, "agg")] == 3
    assert doc.lines[("measures", 1, "agg")] == 5
    assert doc.line(("measures", 1, "agg", "deeper")) == 5
    assert parse_yaml("", "empty.yaml").data is None
    assert parse_yaml("# only a comment\n", "c.yaml").data is None


@pytest.mark.parametrize("text_scalars", [False, True])
def test_billion_laughs_is_refused_in_milliseconds(text_scalars: bool) -> None:
    assert len(BILLION_LAUGHS) < 500
    began = time.perf_counter()
    found = refused(BILLION_LAUGHS, text_scalars=text_scalars)
    assert time.perf_counter() - began < 0.5
    assert len(found) == 1
    line, _key, message = found[0]
    assert line is not None
    assert line <= 6
    assert f"aliases expand the document by more than {MAX_ALIAS_NODES:,} values" in message


def test_a_few_aliases_are_fine() -> None:
    text = "base: &b {x: 1, y: [1, 2]}\nfirst: *b\nsecond:\n  <<: *b\n  z: 3\n"
    data = parse_yaml(text, "f.yaml").data
    assert data["first"] == {"x": 1, "y": [1, 2]}
    assert data["second"] == {"x": 1, "y": [1, 2], "z": 3}


def test_too_many_values_recursive_aliases_and_depth() -> None:
    flat = "[" + ", ".join(["1"] * 1000) + "]"
    assert refused(flat, max_nodes=500)[0][2] == "more than 500 values in one document"
    assert refused("a: &a [1, *a]\n") == [(1, "", "alias *a is inside the node it names")]
    deep = "a: " + "[" * 100 + "]" * 100 + "\n"
    assert refused(deep) == [(1, "", "nested more than 64 levels deep")]


def test_size_limit_before_parsing(tmp_path: Path) -> None:
    found = refused("a: " + "x" * 2000 + "\n", max_bytes=1000)
    assert found[0][0] is None
    assert (
        found[0][2]
        == "larger than 1,000 bytes, too large for this file; check it is the right file"
    )
    big = tmp_path / "big.yaml"
    big.write_bytes(b"a: b\n" * 100_000)
    with pytest.raises(SpecProblems, match=r"big\.yaml: larger than 4,096 bytes, too large"):
        read_yaml(big, max_bytes=4096)
    assert read_limited(big, 500_000) == big.read_bytes()


def test_duplicate_keys_are_all_named_with_their_lines() -> None:
    text = "currency: EUR\nbands:\n  - name: a\n    name: b\ncurrency: USD\n"
    assert refused(text) == [
        (4, "bands[0].name", "appears twice (lines 3 and 4); keep one"),
        (5, "currency", "appears twice (lines 1 and 5); keep one"),
    ]
    assert refused("? [a, b]\n: 1\n") == [(1, "", "keys must be plain text")]


def test_values_that_do_not_exist_are_problems_with_key_and_line() -> None:
    assert refused("plan: p\nvalid_from: 2026-02-30\n") == [
        (2, "valid_from", "'2026-02-30' is not a valid date (day is out of range for month)")
    ]
    assert refused("holidays: [2026-01-01, 2026-13-01]\n") == [
        (1, "holidays[1]", "'2026-13-01' is not a valid date (month must be in 1..12)")
    ]
    found = refused("limit: " + "9" * 5000 + "\n")
    assert found[0][:2] == (1, "limit")
    assert found[0][2].endswith("has too many digits")
    assert len(found[0][2]) < 120


def test_bad_yaml_bad_bytes_python_tags_and_two_documents() -> None:
    assert refused("a: [1\n") == [
        (2, "", "not valid YAML: expected ',' or ']', but got '<stream end>'")
    ]
    assert refused(b"a: 1\nb: \xff\n") == [(2, "", "not UTF-8 text; save the file as UTF-8")]
    assert refused("!!python/object/apply:os.system ['true']\n")[0][2].startswith(
        "not valid YAML: could not determine a constructor"
    )
    assert refused("a: 1\n---\nb: 2\n")[0][:2] == (2, "")


def test_text_scalars_keep_what_was_written() -> None:
    data = parse_yaml("NO: missed\non: 0755\nx: ~\nd: 2026-02-30\n", "m", text_scalars=True).data
    assert data == {"NO": "missed", "on": "0755", "x": None, "d": "2026-02-30"}


def test_every_yaml_read_of_the_package_goes_through_the_loader() -> None:
    """No module but yamlfile.py loads YAML itself (safe_load, a Loader, compose...)."""
    root = Path(callacct.__file__).parent
    loading = {"load", "safe_load", "load_all", "safe_load_all", "compose", "SafeLoader",
               "Loader", "FullLoader", "CSafeLoader", "CLoader", "BaseLoader"}  # fmt: skip
    offenders = []
    for path in root.rglob("*.py"):
        if path.name == "yamlfile.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == "yaml"
                and node.attr in loading
            ):
                offenders.append(f"{path.relative_to(root)}:{node.lineno} yaml.{node.attr}")
    assert offenders == []


@pytest.mark.parametrize(
    ("command", "code"),
    [
        (["report", "validate", "{bomb}"], 1),
        (["report", "import", "{bomb}"], 2),
        (["ingest", "{csv}", "--mapping", "{bomb}"], 2),
        (["tariff", "import", "{bomb}"], 2),
    ],
)
def test_commands_refuse_a_yaml_bomb_at_once(
    cli: Cli, tmp_path: Path, command: list[str], code: int
) -> None:
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(BILLION_LAUGHS)
    csv = tmp_path / "calls.csv"
    csv.write_text("a,b,c\n1,2,3\n")
    began = time.perf_counter()
    result = cli(*(part.format(bomb=bomb, csv=csv) for part in command))
    assert time.perf_counter() - began < 5
    assert result.exit_code == code, result.output
    assert f"{bomb}:" in result.output
    assert "aliases expand the document by more than 10,000 values" in result.output
