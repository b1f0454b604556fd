"""YAML documents that remember where each value came from.

Rule packs and `audit.yaml` are parsed with PyYAML's `SafeLoader` (only plain data: no tags,
no objects), and every key path is mapped to its line and column so that a schema error or an
expression error can be reported as `file:line:column`.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .errors import Problem

Loc = tuple[Hashable, ...]


class _SafeNodeLoader(yaml.SafeLoader):
    """SafeLoader that keeps the node tree so positions can be read off it, refuses duplicate
    keys (PyYAML silently keeps the last) and reads dates as the text written: the schema
    parses them (and reports 2025-13-01 at its line), where PyYAML would raise from deep inside."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Hashable, object]:
        seen: set[object] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, Hashable) and key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"键“{key}”重复（YAML 只会保留最后一个）", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_timestamp(self, node: yaml.ScalarNode) -> object:  # type: ignore[override]
        return self.construct_scalar(node)


_SafeNodeLoader.add_constructor("tag:yaml.org,2002:timestamp", _SafeNodeLoader.construct_yaml_timestamp)


@dataclass(frozen=True)
class Scalar:
    """A string scalar as parsed (`text`) and where each of its characters was written.

    Block scalars (`|`, `>`) are kept as their raw lines, so offsets map line for line. Flow
    scalars (plain or quoted) are aligned character by character with the source, which
    accounts for escapes (`\\"`, `''`) and for lines folded into spaces.
    """

    text: str
    line: int
    column: int
    block: bool
    raw: str = ""

    def locate(self, offset: int) -> tuple[int, int]:
        """File (line, column), both 1-based, of character `offset` of `text`."""
        if self.block:
            before = self.text[:offset]
            row = before.count("\n")
            col = offset - (before.rfind("\n") + 1)
            return self.line + row, self.column + col
        raw_offset = _align(self.text, self.raw, offset)
        before = self.raw[:raw_offset]
        row = before.count("\n")
        if row == 0:
            return self.line, self.column + raw_offset
        return self.line + row, raw_offset - before.rfind("\n")


_ESCAPE_LENGTH = {"x": 4, "u": 6, "U": 10}


def _align(text: str, raw: str, offset: int) -> int:
    """The index in `raw` (a flow scalar as written) of character `offset` of its value `text`."""
    r = 0
    for char in text[:offset]:
        if raw.startswith("\\", r):  # an escape sequence stands for one character
            r += _ESCAPE_LENGTH.get(raw[r + 1 : r + 2], 2)
        elif char == "'" and raw.startswith("''", r):
            r += 2
        elif char == " " and raw[r : r + 1] in (" ", "\t", "\r", "\n"):
            end = r
            while end < len(raw) and raw[end] in " \t\r\n":
                end += 1
            # a line break with its indentation folds into this one space
            r = end if "\n" in raw[r:end] else r + 1
        else:
            r += 1
    return min(r, len(raw))


@dataclass
class YamlDoc:
    """A parsed YAML document with the position of every key path."""

    path: str
    data: object
    lines: list[str] = field(default_factory=list)
    _positions: dict[Loc, tuple[int, int]] = field(default_factory=dict)
    _scalars: dict[Loc, Scalar] = field(default_factory=dict)

    def line_of(self, loc: Loc) -> tuple[int, int]:
        """(line, column) of the deepest known prefix of `loc`."""
        loc = tuple(loc)
        while loc:
            if loc in self._positions:
                return self._positions[loc]
            loc = loc[:-1]
        return self._positions.get((), (1, 1))

    def scalar(self, loc: Loc) -> Scalar | None:
        return self._scalars.get(tuple(loc))

    def line_text(self, line: int) -> str:
        return self.lines[line - 1] if 0 < line <= len(self.lines) else ""

    def problem(self, loc: Loc, code: str, message: str, *, field: str | None = None) -> Problem:
        line, column = self.line_of(loc)
        name = field if field is not None else ".".join(str(p) for p in loc if not isinstance(p, int))
        return Problem(self.path, line, name, code, message, column=column)


def load_yaml(path: Path, display: str | None = None) -> YamlDoc:
    """Parse one YAML file safely; syntax errors become a located `Problem` in `YamlSyntax`."""
    name = display or str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise YamlSyntax(Problem(name, 1, "", "encoding", "文件不是 UTF-8 编码")) from None
    return parse_yaml(text, name)


class YamlSyntax(Exception):
    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        super().__init__(str(problem))


def parse_yaml(text: str, name: str) -> YamlDoc:
    loader = _SafeNodeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
        lines = text.splitlines()
        doc = YamlDoc(name, data, lines)
        if node is not None:
            for loc, item in _walk(loader, node, ()):
                mark = item.start_mark
                # the key's position wins over its value's: errors name the key's line
                doc._positions.setdefault(loc, (mark.line + 1, mark.column + 1))
                if isinstance(item, yaml.ScalarNode) and isinstance(item.value, str):
                    doc._scalars[loc] = _scalar(item, lines)
        return doc
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 0)
        raise YamlSyntax(Problem(name, line, "", "yaml", f"YAML 语法错误：{exc.problem or exc}", column=column)) from None
    except yaml.YAMLError as exc:
        raise YamlSyntax(Problem(name, 1, "", "yaml", f"YAML 语法错误：{exc}")) from None
    finally:
        loader.dispose()


def _walk(loader: yaml.SafeLoader, node: yaml.Node, loc: Loc) -> Iterator[tuple[Loc, yaml.Node]]:
    yield loc, node
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if isinstance(key, Hashable):
                yield loc + (key,), key_node
                yield from _walk(loader, value_node, loc + (key,))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield from _walk(loader, item, loc + (index,))


def _scalar(node: yaml.ScalarNode, lines: list[str]) -> Scalar:
    start = node.start_mark
    if node.style in ("|", ">"):
        # Block scalars: read the lines as written (folding would lose positions); the
        # expression language treats newlines as spaces, so the meaning is unchanged.
        body = lines[start.line + 1 : node.end_mark.line + (1 if node.end_mark.column else 0)]
        indent = min((len(s) - len(s.lstrip()) for s in body if s.strip()), default=0)
        text = "\n".join(s[indent:] for s in body).rstrip()
        return Scalar(text, start.line + 2, indent + 1, True)
    quote = 1 if node.style in ("'", '"') else 0
    source = "\n".join(lines[start.line : node.end_mark.line + 1])
    begin = start.column + quote
    stop = len(source) - (len(lines[node.end_mark.line]) - node.end_mark.column) - quote if lines else 0
    return Scalar(node.value, start.line + 1, start.column + 1 + quote, False, source[begin:stop])
