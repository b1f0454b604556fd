"""YAML documents that remember where each value came from, read within bounds.

Rule packs, `audit.yaml`, `waivers.yaml` and `rules/lifecycle.yaml` are read here, and only
here. Reading is bounded so that no file can make it run for minutes or exhaust memory
(`inspector.limits`):

* a file larger than `yaml_bytes` is refused before it is parsed;
* the document is composed from the parser's events by an iterative composer that counts
  values (nodes) and nesting depth as it goes and stops at `yaml_nodes` / `yaml_depth`;
* aliases (`*name`) are refused in the audit folder's data files and limited to a small budget
  in rule files; an alias counts as the whole subtree it stands for (a "billion laughs" document
  stops at the node limit), and an alias inside its own anchor (a cycle) is refused.

Events come from libyaml's C parser when PyYAML has it (`yaml.__with_libyaml__`), which parses
about six times faster than the pure-Python one; composing and constructing are the same Python
code either way, so both paths give the same data, the same line and column of every value and
the same errors (`tests/test_yamlsrc.py` checks the shipped files on both). Only plain data is
built (PyYAML's safe constructor: no tags, no objects); duplicate keys are refused (PyYAML keeps
the last) and dates are kept as the text written (the schema parses them and reports 2025-13-01
at its line, where PyYAML would raise from deep inside).

Every key path is mapped to its line and column so that a schema error or an expression error
can be reported as `file:line:column`.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Hashable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.events import (
    AliasEvent,
    CollectionStartEvent,
    DocumentEndEvent,
    DocumentStartEvent,
    MappingEndEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
    StreamStartEvent,
)
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .errors import Problem
from .heap import collector_off
from .limits import DEFAULT_LIMITS, LIMITS, PURE_PYTHON_YAML_CAPS, RULE_YAML_ALIASES, Limits

Loc = tuple[Hashable, ...]

try:  # libyaml's parser, where PyYAML was built with it
    from yaml.cyaml import CParser as _CParser  # type: ignore[attr-defined]  # types-PyYAML does not re-export cyaml.CParser
except ImportError:  # pragma: no cover - PyYAML without libyaml
    _CParser = None  # type: ignore[misc,assignment]  # None where PyYAML has no libyaml
WITH_LIBYAML: bool = _CParser is not None and bool(getattr(yaml, "__with_libyaml__", False))


class _Constructor(yaml.constructor.SafeConstructor):
    """PyYAML's safe constructor, refusing duplicate keys and reading dates as the text written;
    a value PyYAML fails to convert (`!!int abc`, an integer of 5,000 digits) is a located error."""

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except yaml.YAMLError:
            raise
        except (ValueError, TypeError, KeyError, OverflowError, ArithmeticError) as exc:
            value = node.value if isinstance(node, ScalarNode) else ""
            shown = f"“{value[:40]}{'…' if len(value) > 40 else ''}”" if value else ""
            raise yaml.constructor.ConstructorError(
                None, None, f"无法解析的值{shown}（{node.tag}：{type(exc).__name__}）", node.start_mark
            ) from None

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Hashable, object]:
        if not isinstance(node, MappingNode):
            raise yaml.constructor.ConstructorError(None, None, "此处应为映射（键: 值）", node.start_mark)
        seen: set[object] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # `<<: *base`: merged keys may be overridden, the constructor merges them
            key = self.construct_object(key_node, deep=True)
            try:
                hash(key)
            except TypeError:
                raise yaml.constructor.ConstructorError(None, None, "键不能是列表或映射", key_node.start_mark) from None
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"键“{key}”重复（YAML 只会保留最后一个）", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_timestamp(self, node: ScalarNode) -> object:  # type: ignore[override]
        return self.construct_scalar(node)


_Constructor.add_constructor("tag:yaml.org,2002:timestamp", _Constructor.construct_yaml_timestamp)  # type: ignore[type-var]  # types-PyYAML types add_constructor's callback for BaseConstructor only


def _unsupported(constructor: _Constructor, node: Node) -> object:
    # sets have no stable order (outputs must be byte-identical run to run); ordered maps, pairs
    # and binary data are nothing a rule pack or an audit folder needs
    short = node.tag.rsplit(":", 1)[-1]
    raise yaml.constructor.ConstructorError(
        None, None, f"不支持 YAML 标签 !!{short}：只允许映射、列表、文本、数值、是/否和日期", node.start_mark
    )


for _tag in ("set", "omap", "pairs", "binary"):
    _Constructor.add_constructor(f"tag:yaml.org,2002:{_tag}", _unsupported)  # type: ignore[type-var]  # as above


class _Refused(Exception):
    """A limit reached while composing, at a parser mark."""

    def __init__(self, code: str, message: str, mark: Any) -> None:
        self.code = code
        self.message = message
        self.mark = mark
        super().__init__(message)


class _Frame:
    """A collection being composed, and the expanded size of what it holds so far."""

    __slots__ = ("anchor", "chars", "key", "node", "nodes")

    def __init__(self, node: SequenceNode | MappingNode, anchor: str | None) -> None:
        self.node = node
        self.anchor = anchor
        self.key: Node | None = None
        self.nodes = 1
        self.chars = 0


@dataclass(frozen=True)
class _Anchored:
    node: Node
    nodes: int  # expanded size; 0 while the anchored collection is still open
    chars: int


_OPEN = 0


class _Composer:
    """Composes one document from parser events without recursion, counting as it goes."""

    def __init__(self, parser: Any, limits: Limits, aliases: int, *, configurable: bool) -> None:
        self.parser = parser
        self.limits = limits
        self.aliases_allowed = aliases
        self.configurable = configurable
        self.resolver = yaml.resolver.Resolver()
        self.nodes = 0
        self.chars = 0
        self.aliases = 0

    def _hint(self, key: str) -> str:
        if self.configurable:
            return f"（可在 audit.yaml 的 limits.{key} 中调整，最大 {LIMITS[key].maximum:,}）"
        return ""

    def _count(self, nodes: int, chars: int, mark: Any) -> None:
        self.nodes += nodes
        self.chars += chars
        if self.nodes > self.limits.yaml_nodes:
            raise _Refused(
                "yaml_nodes", f"YAML 内容过多：超过 {self.limits.yaml_nodes:,} 个值{self._hint('yaml_nodes')}", mark
            )
        if self.chars > self.limits.yaml_bytes:
            raise _Refused("yaml_alias_size", f"YAML 别名展开后的文字超过 {self.limits.yaml_bytes:,} 字符", mark)

    def compose(self) -> Node | None:
        get = self.parser.get_event
        event = get()
        if isinstance(event, StreamStartEvent):
            event = get()
        if isinstance(event, StreamEndEvent):
            return None
        assert isinstance(event, DocumentStartEvent), event
        root: Node | None = None
        anchors: dict[str, _Anchored] = {}
        stack: list[_Frame] = []

        def attach(node: Node, nodes: int, chars: int) -> None:
            nonlocal root
            if not stack:
                root = node
                return
            frame = stack[-1]
            frame.nodes += nodes
            frame.chars += chars
            if isinstance(frame.node, SequenceNode):
                frame.node.value.append(node)
            elif frame.key is None:
                frame.key = node
            else:
                frame.node.value.append((frame.key, node))
                frame.key = None

        def anchor_of(event: Any) -> str | None:
            anchor: str | None = event.anchor
            if anchor is not None and anchor in anchors:
                raise _Refused("yaml_anchor", f"锚点 &{anchor} 重复定义", event.start_mark)
            return anchor

        while True:
            event = get()
            if isinstance(event, ScalarEvent):
                anchor = anchor_of(event)
                self._count(1, len(event.value), event.start_mark)
                tag = event.tag
                if tag is None or tag == "!":
                    tag = self.resolver.resolve(ScalarNode, event.value, event.implicit)  # type: ignore[no-untyped-call]  # Resolver.resolve is unannotated in types-PyYAML
                # libyaml calls the plain style "", PyYAML None: one spelling for both
                node: Node = ScalarNode(tag, event.value, event.start_mark, event.end_mark, style=event.style or None)  # type: ignore[arg-type]  # libyaml's Mark and PyYAML's Mark are one interface, two stub types
                if anchor is not None:
                    anchors[anchor] = _Anchored(node, 1, len(event.value))
                attach(node, 1, len(event.value))
            elif isinstance(event, CollectionStartEvent):
                anchor = anchor_of(event)
                if len(stack) >= self.limits.yaml_depth:
                    raise _Refused(
                        "yaml_depth",
                        f"YAML 嵌套过深：超过 {self.limits.yaml_depth} 层{self._hint('yaml_depth')}",
                        event.start_mark,
                    )
                self._count(1, 0, event.start_mark)
                kind = SequenceNode if isinstance(event, SequenceStartEvent) else MappingNode
                tag = event.tag
                if tag is None or tag == "!":
                    tag = self.resolver.resolve(kind, None, event.implicit)  # type: ignore[no-untyped-call]  # Resolver.resolve is unannotated in types-PyYAML
                collection = kind(tag, [], event.start_mark, None, flow_style=event.flow_style)  # type: ignore[arg-type]  # libyaml's Mark and PyYAML's Mark are one interface, two stub types
                if anchor is not None:
                    anchors[anchor] = _Anchored(collection, _OPEN, 0)
                stack.append(_Frame(collection, anchor))
            elif isinstance(event, (SequenceEndEvent, MappingEndEvent)):
                frame = stack.pop()
                frame.node.end_mark = event.end_mark
                if frame.anchor is not None:
                    anchors[frame.anchor] = _Anchored(frame.node, frame.nodes, frame.chars)
                attach(frame.node, frame.nodes, frame.chars)
            elif isinstance(event, AliasEvent):
                name = event.anchor or ""
                if self.aliases_allowed == 0:
                    raise _Refused(
                        "yaml_alias", f"此文件不允许使用 YAML 别名（*{name}）：请直接写出取值", event.start_mark
                    )
                self.aliases += 1
                if self.aliases > self.aliases_allowed:
                    raise _Refused("yaml_alias", f"YAML 别名过多：超过 {self.aliases_allowed} 个", event.start_mark)
                target = anchors.get(name)
                if target is None:
                    raise _Refused("yaml_alias", f"别名 *{name} 没有对应的锚点 &{name}", event.start_mark)
                if target.nodes == _OPEN:
                    raise _Refused("yaml_alias", f"别名 *{name} 出现在它所引用的内容之中（循环引用）", event.start_mark)
                self._count(target.nodes, target.chars, event.start_mark)
                attach(target.node, target.nodes, target.chars)
            elif isinstance(event, DocumentEndEvent):
                break
            else:  # pragma: no cover - the parser emits no other event inside a document
                raise _Refused("yaml", f"意外的 YAML 事件 {type(event).__name__}", event.start_mark)
        event = get()
        if not isinstance(event, StreamEndEvent):
            raise _Refused("yaml", "文件中只能有一个 YAML 文档（请删去多余的“---”）", event.start_mark)
        return root


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


_Span = tuple[str, int, int, int, int, "str | None"]


@dataclass
class YamlDoc:
    """A parsed YAML document with the position of every key path."""

    path: str
    data: object
    lines: list[str] = field(default_factory=list)
    _positions: dict[Loc, tuple[int, int]] = field(default_factory=dict)
    # each string scalar and where it was written (line, column, end line, end column: 0-based;
    # style), made into a `Scalar` only when asked for: most values never are
    _scalars: dict[Loc, _Span] = field(default_factory=dict)

    def line_of(self, loc: Loc) -> tuple[int, int]:
        """(line, column) of the deepest known prefix of `loc`."""
        loc = tuple(loc)
        while loc:
            if loc in self._positions:
                return self._positions[loc]
            loc = loc[:-1]
        return self._positions.get((), (1, 1))

    def scalar(self, loc: Loc) -> Scalar | None:
        span = self._scalars.get(tuple(loc))
        return None if span is None else _scalar(span, self.lines)

    def line_text(self, line: int) -> str:
        return self.lines[line - 1] if 0 < line <= len(self.lines) else ""

    def problem(self, loc: Loc, code: str, message: str, *, field: str | None = None) -> Problem:
        line, column = self.line_of(loc)
        name = field if field is not None else ".".join(str(p) for p in loc if not isinstance(p, int))
        return Problem(self.path, line, name, code, message, column=column)


def load_yaml(
    path: Path,
    display: str | None = None,
    *,
    limits: Limits | None = None,
    aliases: int = RULE_YAML_ALIASES,
    configurable: bool = False,
) -> YamlDoc:
    """Parse one YAML file safely and within `limits` (default: `DEFAULT_LIMITS`); a syntax error
    or a limit reached becomes a located `Problem` in `YamlSyntax`. `aliases` is how many aliases
    the file may use (0: none); `configurable` says the limits come from audit.yaml's `limits:`
    block, so the message can say where to raise them."""
    name = display or str(path)
    raw = read_yaml_bytes(path, name, limits=limits, configurable=configurable)
    return decode_yaml(raw, name, limits=limits, aliases=aliases, configurable=configurable)


def read_yaml_bytes(path: Path, name: str, *, limits: Limits | None = None, configurable: bool = False) -> bytes:
    """A YAML file's bytes, never more than `limits.yaml_bytes` of them (see `load_yaml`)."""
    limits = effective_limits(limits)
    try:
        with path.open("rb") as handle:
            raw = handle.read(limits.yaml_bytes + 1)  # never more than the limit, whatever stat says
    except IsADirectoryError:
        raise YamlSyntax(Problem(name, 0, "", "not_a_file", "应为文件，实为文件夹")) from None
    if len(raw) > limits.yaml_bytes:
        hint = (
            f"（可在 audit.yaml 的 limits.yaml_bytes 中调整，最大 {LIMITS['yaml_bytes'].maximum:,}）"
            if configurable
            else ""
        )
        raise YamlSyntax(Problem(name, 0, "", "yaml_bytes", f"文件过大：超过 {limits.yaml_bytes:,} 字节{hint}"))
    return raw


def decode_yaml(
    raw: bytes,
    name: str,
    *,
    limits: Limits | None = None,
    aliases: int = RULE_YAML_ALIASES,
    configurable: bool = False,
) -> YamlDoc:
    """Parse a YAML file's bytes, read by `read_yaml_bytes` (see `load_yaml`)."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise YamlSyntax(Problem(name, line, "", "encoding", "文件不是 UTF-8 编码")) from None
    return parse_yaml(text, name, limits=limits, aliases=aliases, configurable=configurable)


def effective_limits(limits: Limits | None) -> Limits:
    """`limits` (default: `DEFAULT_LIMITS`), capped further when PyYAML runs without libyaml."""
    limits = limits or DEFAULT_LIMITS
    if WITH_LIBYAML:
        return limits
    capped = {k: min(getattr(limits, k), cap) for k, cap in PURE_PYTHON_YAML_CAPS.items()}
    return limits.model_copy(update=capped)


class YamlSyntax(Exception):
    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        super().__init__(str(problem))


def _parser(text: str) -> Any:
    """An event source: libyaml's parser where PyYAML has it, else PyYAML's own."""
    if WITH_LIBYAML:
        return _CParser(text)
    return yaml.SafeLoader(text)


def parse_yaml(
    text: str,
    name: str,
    *,
    limits: Limits | None = None,
    aliases: int = RULE_YAML_ALIASES,
    configurable: bool = False,
    parser: Any = None,
) -> YamlDoc:
    """Parse YAML text within `limits` (see `load_yaml`); `parser` overrides the event source
    (tests compare libyaml's with PyYAML's)."""
    limits = effective_limits(limits)
    if len(text) > limits.yaml_bytes:
        raise YamlSyntax(Problem(name, 0, "", "yaml_bytes", f"文件过大：超过 {limits.yaml_bytes:,} 字节"))
    with collector_off():
        return _parse(text, name, limits, aliases, configurable, parser, _Constructor())


class _Places:
    """0-based (line, column) of a parser mark as an editor counts them: YAML 1.1 also breaks lines
    at U+0085, U+2028 and U+2029 (and a lone CR), which editors show inside a line, so where the
    text holds one, the place is recounted from the mark's character index with LF as the only
    line break."""

    _ODD_BREAKS = re.compile("[\u0085\u2028\u2029]|\r(?!\n)")

    def __init__(self, text: str) -> None:
        self.lines = [line.removesuffix("\r") for line in text.split("\n")]
        if text.endswith("\n"):
            self.lines.pop()
        self._starts: list[int] | None = None
        if self._ODD_BREAKS.search(text):
            self._starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def __call__(self, mark: Any) -> tuple[int, int]:
        if self._starts is None:
            return mark.line, mark.column
        line = bisect.bisect_right(self._starts, mark.index) - 1
        return line, mark.index - self._starts[line]


def _parse(
    text: str,
    name: str,
    limits: Limits,
    aliases: int,
    configurable: bool,
    parser: Any,
    constructor: _Constructor,
) -> YamlDoc:
    source: Any = None
    try:
        source = parser(text) if parser is not None else _parser(text)
        node = _Composer(source, limits, aliases, configurable=configurable).compose()
        data = constructor.construct_document(node) if node is not None else None
        place = _Places(text)
        doc = YamlDoc(name, data, place.lines)
        if node is not None:
            for loc, item in _walk(constructor, node, ()):
                line, column = place(item.start_mark)
                # the key's position wins over its value's: errors name the key's line
                doc._positions.setdefault(loc, (line + 1, column + 1))
                if isinstance(item, ScalarNode) and isinstance(item.value, str):
                    end_line, end_column = place(item.end_mark)
                    doc._scalars[loc] = (item.value, line, column, end_line, end_column, item.style)
        return doc
    except _Refused as exc:
        line, column = _Places(text)(exc.mark)
        raise YamlSyntax(Problem(name, line + 1, "", exc.code, exc.message, column=column + 1)) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (1, 0)
        if mark:
            line, column = (n + 1 for n in _Places(text)(mark))
        raise YamlSyntax(Problem(name, line, "", "yaml", yaml_message(exc), column=column)) from None
    except (TypeError, ValueError, KeyError, AttributeError, OverflowError) as exc:
        # PyYAML's constructor on a construct it does not expect (its own code, hostile input)
        raise YamlSyntax(Problem(name, 1, "", "yaml", f"YAML 内容无法解析（{type(exc).__name__}）")) from None
    except yaml.YAMLError as exc:
        line = 1
        position = getattr(exc, "position", None)  # a ReaderError: a character no YAML file may hold
        if isinstance(position, int):
            line = text[:position].count("\n") + 1
        raise YamlSyntax(Problem(name, line, "", "yaml", yaml_message(exc))) from None
    finally:
        if source is not None:
            source.dispose()


# PyYAML's and libyaml's wording of the errors users meet, in the user's words; matched on the
# start of the problem text (the rest names the character found, kept as written)
_YAML_PROBLEMS: tuple[tuple[str, str], ...] = (
    ("mapping values are not allowed", "此处不能出现“键: 值”：缩进是否有误，或值中的“: ”是否需要加引号？"),
    ("could not find expected ':'", "缺少“:”：键之后应为“: 值”"),
    ("did not find expected key", "找不到应有的键：缩进是否有误？"),
    ("did not find expected node content", "此处应有取值"),
    ("did not find expected ',' or ']'", "列表缺少“,”或结尾的“]”"),
    ("did not find expected ',' or '}'", "映射缺少“,”或结尾的“}”"),
    ("did not find expected '-' indicator", "列表项应以“- ”开头：缩进是否有误？"),
    ("did not find expected <document start>", "此处应为新文档的开始（“---”）"),
    ("expected <block end>", "缩进有误：此处应结束上一层"),
    ("expected ',' or ']'", "列表缺少“,”或结尾的“]”"),
    ("expected ',' or '}'", "映射缺少“,”或结尾的“}”"),
    ("expected the node content", "此处应有取值"),
    ("expected a single document", "文件中只能有一个 YAML 文档（请删去多余的“---”）"),
    ("but found another document", "文件中只能有一个 YAML 文档（请删去多余的“---”）"),
    ("that cannot start any token", "此处的字符不能作为 YAML 内容的开头（如制表符、@、`，需要加引号）"),
    ("found unexpected end of stream", "文件意外结束：引号或括号是否未闭合？"),
    ("found unexpected ':'", "此处不能出现“:”（需要加引号？）"),
    ("found unknown escape character", "双引号字符串中有未知的转义字符（“\\”需写作“\\\\”）"),
    ("found a tab character", "缩进中不能使用制表符"),
    ("found unhashable key", "键不能是列表或映射"),
    ("found undefined alias", "别名没有对应的锚点"),
    ("found undefined tag handle", "未定义的标签前缀"),
    ("found duplicate anchor", "锚点重复定义"),
    ("could not determine a constructor", "不支持的 YAML 标签（只允许普通数据）"),
    ("expected a mapping or list of mappings for merging", "“<<”合并的应为映射或映射的列表"),
    ("expected a mapping", "此处应为映射（键: 值）"),
    ("expected a sequence", "此处应为列表"),
    ("expected a scalar", "此处应为单个取值"),
    ("control characters are not allowed", "文件中含有不允许的控制字符"),
    ("special characters are not allowed", "文件中含有不允许的控制字符"),
    ("unacceptable character", "文件中含有不允许的控制字符"),
    ("invalid leading UTF-8 octet", "文件不是有效的 UTF-8 编码"),
    ("invalid trailing UTF-8 octet", "文件不是有效的 UTF-8 编码"),
    ("block sequence entries are not allowed", "此处不能开始列表项（“- ”）：缩进是否有误？"),
    ("found incompatible YAML document", "不支持的 YAML 版本"),
    ("found duplicate YAML directive", "重复的 %YAML 指令"),
    ("found duplicate %YAML directive", "重复的 %YAML 指令"),
    ("found duplicate %TAG directive", "重复的 %TAG 指令"),
    ("found incorrect document", "文档标记有误"),
    ("exceeded maximum nesting depth", "嵌套过深（libyaml 的上限）"),
)


def yaml_message(exc: yaml.YAMLError) -> str:
    """The Chinese message of a PyYAML or libyaml error; the original words follow in brackets
    when no translation is known (rare constructs), so nothing is lost."""
    problem: str | None = getattr(exc, "problem", None)
    if problem and not problem.isascii():  # raised by our own constructor
        return problem
    if isinstance(exc, yaml.reader.ReaderError):
        return "文件中含有不允许的字符（控制字符或无效编码）"
    text = str(problem or getattr(exc, "context", None) or exc)
    for start, message in _YAML_PROBLEMS:
        if start in text:
            return f"YAML 语法错误：{message}"
    return f"YAML 语法错误（{text}）"


def _walk(constructor: _Constructor, node: Node, loc: Loc) -> Iterator[tuple[Loc, Node]]:
    # recursion as deep as the document, which the composer bounded (yaml_depth)
    yield loc, node
    if isinstance(node, MappingNode):
        for key_node, value_node in node.value:
            key = constructor.construct_object(key_node, deep=True)
            if isinstance(key, Hashable):
                yield loc + (key,), key_node
                yield from _walk(constructor, value_node, loc + (key,))
    elif isinstance(node, SequenceNode):
        for index, item in enumerate(node.value):
            yield from _walk(constructor, item, loc + (index,))


def _scalar(span: _Span, lines: list[str]) -> Scalar:
    value, line, column, end_line, end_column, style = span
    if style in ("|", ">"):
        # Block scalars: read the lines as written (folding would lose positions); the
        # expression language treats newlines as spaces, so the meaning is unchanged.
        body = lines[line + 1 : end_line + (1 if end_column else 0)]
        indent = min((len(s) - len(s.lstrip()) for s in body if s.strip()), default=0)
        text = "\n".join(s[indent:] for s in body).rstrip()
        return Scalar(text, line + 2, indent + 1, True)
    quote = 1 if style in ("'", '"') else 0
    source = "\n".join(lines[line : end_line + 1])
    begin = column + quote
    stop = len(source) - (len(lines[end_line]) - end_column) - quote if lines else 0
    return Scalar(value, line + 1, column + 1 + quote, False, source[begin:stop])
