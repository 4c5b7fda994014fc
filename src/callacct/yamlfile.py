"""The one YAML loader: every YAML file callacct reads (report specs, tariff plans, CSV
mappings, message catalogues) goes through `parse_yaml` or `read_yaml`.

It loads safely (no Python objects) and refuses, as `SpecProblems` naming the file and line:
documents larger than `max_bytes` (checked before anything is parsed); aliases that would
expand the document beyond `MAX_ALIAS_NODES` nodes, or whole documents beyond `MAX_NODES`
nodes ("billion laughs": the sizes are counted while composing, never expanded, so a bomb is
refused in milliseconds); aliases to the node that contains them; nesting deeper than
`MAX_DEPTH`; duplicate keys (YAML would silently keep the last one); keys that are not plain
scalars; values that do not exist (`2026-02-30`, a 5,000-digit integer). Every problem of the
document's structure is reported, not only the first. It returns plain data and the line of
every key path, so validation can name the line of each problem.

Example:
    >>> doc = parse_yaml("name: a\\nitems:\\n  - x\\n  - y\\n", "r.yaml")
    >>> doc.data, doc.lines[("items", 1)]
    ({'name': 'a', 'items': ['x', 'y']}, 4)
    >>> parse_yaml("on: yes\\n", "m.yaml", text_scalars=True).data
    {'on': 'yes'}
    >>> parse_yaml("a: 1\\na: 2\\n", "r.yaml")
    Traceback (most recent call last):
    ...
    callacct.problems.SpecProblems: r.yaml:2: a: appears twice (lines 1 and 2); keep one
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import yaml

from callacct.problems import KeyPath, Problem, SpecProblems, format_path, line_of, show_value

#: Default size limit of a YAML document; hand-written specs are a few KB.
MAX_BYTES: Final = 10 * 1024 * 1024
#: Nodes a document may have once its aliases are expanded.
MAX_NODES: Final = 200_000
#: Nodes that aliases may add to a document (a shared list or mapping used a few times is fine).
MAX_ALIAS_NODES: Final = 10_000
#: Nesting depth of lists and mappings.
MAX_DEPTH: Final = 64

_NULL_TAG: Final = "tag:yaml.org,2002:null"
_MERGE_TAG: Final = "tag:yaml.org,2002:merge"


@dataclass(frozen=True)
class YamlDocument:
    """A loaded document: its data (None when empty), the line of every key path, the source."""

    data: Any
    lines: dict[KeyPath, int]
    source: str

    def line(self, path: KeyPath) -> int | None:
        """The line of `path`, else of its nearest parent that has one."""
        return line_of(self.lines, path)


class _Refused(yaml.MarkedYAMLError):
    """A document the loader will not load (too large, too deep, a recursive alias...)."""

    def __init__(self, problem: str, mark: Any) -> None:
        super().__init__(problem=problem, problem_mark=mark)


class _BadValue(yaml.MarkedYAMLError):
    """A scalar YAML can read but that is no value (`2026-02-30`), with its node."""

    def __init__(self, problem: str, node: yaml.Node) -> None:
        super().__init__(problem=problem, problem_mark=node.start_mark)
        self.node = node


class _Loader(yaml.SafeLoader):
    """A safe loader that counts nodes while composing and refuses what it cannot bound."""

    def __init__(self, text: str, max_nodes: int, max_alias_nodes: int) -> None:
        super().__init__(text)
        self._max_nodes = max_nodes
        self._max_alias_nodes = max_alias_nodes
        self._nodes = 0
        self._alias_nodes = 0
        self._depth = 0
        self._open_anchors: set[str] = set()
        self._sizes: dict[int, int] = {}

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, yaml.AliasEvent):
            alias = str(event.anchor)
            if alias in self._open_anchors:
                raise _Refused(f"alias *{alias} is inside the node it names", event.start_mark)
            node = self.anchors.get(alias)
            if node is not None:
                size = self._size(node)
                self._alias_nodes += size
                if self._alias_nodes > self._max_alias_nodes:
                    raise _Refused(
                        f"aliases expand the document by more than {self._max_alias_nodes:,} "
                        "values; write the values out instead",
                        event.start_mark,
                    )
                self._count(size, event.start_mark)
            return super().compose_node(parent, index)
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise _Refused(f"nested more than {MAX_DEPTH} levels deep", event.start_mark)
        self._count(1, event.start_mark)
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            self._open_anchors.add(str(anchor))
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1
            if anchor is not None:
                self._open_anchors.discard(str(anchor))

    def _count(self, nodes: int, mark: Any) -> None:
        self._nodes += nodes
        if self._nodes > self._max_nodes:
            raise _Refused(f"more than {self._max_nodes:,} values in one document", mark)

    def _size(self, node: yaml.Node) -> int:
        """Nodes of `node` with its aliases expanded (each node's size computed once)."""
        known = self._sizes.get(id(node))
        if known is not None:
            return known
        size = 1
        if isinstance(node, yaml.SequenceNode):
            size += sum(self._size(item) for item in node.value)
        elif isinstance(node, yaml.MappingNode):
            size += sum(self._size(key) + self._size(value) for key, value in node.value)
        self._sizes[id(node)] = size
        return size

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except (ValueError, OverflowError) as exc:
            shown = show_value(node.value)
            if node.tag.endswith(":timestamp"):
                problem = f"{shown!r} is not a valid date ({exc})"
            elif node.tag.endswith((":int", ":float")):
                problem = f"{shown!r} has too many digits"
            else:
                problem = f"{shown!r} cannot be read ({exc})"
            raise _BadValue(problem, node) from None


class _TextLoader(_Loader):
    """Every scalar but `null`/`~`/empty stays text: `NO`, `on`, `0755` as written."""


_TextLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag == _NULL_TAG]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _walk(
    node: yaml.Node,
    path: KeyPath,
    source: str,
    lines: dict[KeyPath, int],
    paths: dict[int, KeyPath],
    problems: list[Problem],
) -> None:
    """Record the line of every key path (and the path of every node); find duplicate keys."""
    paths.setdefault(id(node), path)
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if key_node.tag == _MERGE_TAG:
                merged = value_node.value if isinstance(value_node, yaml.SequenceNode) else ()
                for item in merged or (value_node,):
                    _walk(item, path, source, lines, paths, problems)
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                problems.append(
                    Problem(source, line, format_path(path), "", "keys must be plain text")
                )
                continue
            key = str(key_node.value)
            child = (*path, key)
            if key in seen:
                problems.append(
                    Problem(
                        source, line, format_path(child), key,
                        f"appears twice (lines {seen[key]} and {line}); keep one",
                    )
                )  # fmt: skip
                continue
            seen[key] = line
            lines.setdefault(child, line)
            _walk(value_node, child, source, lines, paths, problems)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            child = (*path, index)
            lines.setdefault(child, item.start_mark.line + 1)
            _walk(item, child, source, lines, paths, problems)


def _yaml_problem(exc: yaml.YAMLError, source: str) -> Problem:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line = mark.line + 1 if mark is not None else None
    reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    context = getattr(exc, "context", None)
    if context and context.startswith("expected"):
        reason = f"{context}, {reason}"
    if isinstance(exc, _Refused | _BadValue):
        return Problem(source, line, "", "", str(reason))
    return Problem(source, line, "", "", f"not valid YAML: {reason}")


def parse_yaml(
    text: str | bytes,
    source: str,
    *,
    max_bytes: int = MAX_BYTES,
    text_scalars: bool = False,
    max_nodes: int = MAX_NODES,
    max_alias_nodes: int = MAX_ALIAS_NODES,
) -> YamlDocument:
    """Load one YAML document; `SpecProblems` (file, line, what) if it cannot be used.

    `text_scalars` keeps every scalar but null as text (YAML 1.1 would read `NO` as false)."""
    if len(text.encode("utf-8") if isinstance(text, str) else text) > max_bytes:
        raise SpecProblems([_too_large(source, max_bytes)])
    if isinstance(text, bytes):
        raw = text
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            raise SpecProblems(
                [Problem(source, line, "", "", "not UTF-8 text; save the file as UTF-8")]
            ) from None
    loader = (_TextLoader if text_scalars else _Loader)(text, max_nodes, max_alias_nodes)
    try:
        try:
            node = loader.get_single_node()
        except yaml.YAMLError as exc:
            raise SpecProblems([_yaml_problem(exc, source)]) from None
        if node is None:
            return YamlDocument(None, {}, source)
        lines: dict[KeyPath, int] = {(): node.start_mark.line + 1}
        paths: dict[int, KeyPath] = {}
        problems: list[Problem] = []
        _walk(node, (), source, lines, paths, problems)
        if problems:
            raise SpecProblems(problems)
        try:
            data = loader.construct_document(node)
        except _BadValue as exc:
            path = paths.get(id(exc.node), ())
            problem = _yaml_problem(exc, source)
            raise SpecProblems(
                [
                    Problem(
                        source,
                        problem.line,
                        format_path(path),
                        show_value(exc.node.value),
                        problem.message,
                    )
                ]
            ) from None
        except yaml.YAMLError as exc:
            raise SpecProblems([_yaml_problem(exc, source)]) from None
    finally:
        loader.dispose()
    return YamlDocument(data, lines, source)


def read_limited(path: Path, max_bytes: int, source: str | None = None) -> bytes:
    """The bytes of `path`, refused (`SpecProblems`) when larger than `max_bytes` — without
    reading more than that. `OSError` for a file that cannot be read."""
    with path.open("rb") as handle:
        data = handle.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise SpecProblems([_too_large(source or str(path), max_bytes)])
    return data


def read_yaml(
    path: Path,
    *,
    source: str | None = None,
    max_bytes: int = MAX_BYTES,
    text_scalars: bool = False,
) -> YamlDocument:
    """`parse_yaml` of the file at `path` (named `source`, default the path); `OSError` for a
    file that cannot be read, so each caller can say what the file was for."""
    name = source or str(path)
    data = read_limited(path, max_bytes, name)
    return parse_yaml(data, name, max_bytes=max_bytes, text_scalars=text_scalars)


# libyaml when PyYAML has it: every scalar as text, no object ever built.
_PACKAGE_LOADER = getattr(yaml, "CBaseLoader", yaml.BaseLoader)


def read_package_texts(path: Path) -> dict[str, str]:
    """A mapping of texts that ships with callacct (its message catalogues), read by libyaml
    in a few milliseconds. Only for callacct's own files: its tests put each of them through
    `read_yaml`'s checks (duplicate keys, aliases, size), which a file a person writes gets
    every time, at a tenth of a second for a catalogue."""
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=_PACKAGE_LOADER) or {}  # noqa: S506
    return {str(key): str(value) for key, value in data.items()}


def _too_large(source: str, limit: int) -> Problem:
    return Problem(
        source, None, "", "", f"larger than {limit:,} bytes, too large for this file; check it is "
        "the right file",
    )  # fmt: skip
