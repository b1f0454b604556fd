"""The rule expression language: tokens, syntax tree and a recursive-descent parser.

A small, closed language — no attribute access but dotted names, no calls but `exists(...)`
and, in indicator formulas only, a few arithmetic functions (`if`, `min`, `max`, `floor`,
`ceil`, `abs`) — parsed here and never handed to Python's `eval`. Grammar::

    expr    := or
    or      := and ("or" and)*
    and     := not ("and" not)*
    not     := "not" not | compare
    compare := sum (("==" | "!=" | "<" | "<=" | ">" | ">=") sum | ["not"] "in" (list | name))?
    sum     := product (("+" | "-") product)*
    product := unary (("*" | "/") unary)*
    unary   := "-" unary | atom
    atom    := NUMBER | STRING | "true" | "false" | date | name ["[" name "]"]
             | "exists" "(" name ")" | FUNCTION "(" expr ("," expr)* ")" | "(" expr ")" | list
    date    := "date" "(" STRING ")"
    list    := "[" [literal ("," literal)*] "]"
    name    := IDENT ("." IDENT)*

An expression is at most `EXPRESSION_CHARS` characters long and nests at most `EXPRESSION_DEPTH`
levels (parentheses, function calls, `not`, unary minus, and its syntax tree: a chain `a + b + …`
is as deep as it is long), so that neither this parser nor any pass over the tree can exhaust
the interpreter's stack; beyond either, the error points at where the limit is passed.

Names are fields of the entity the rule applies to (`size`, `school.type`), `params.NAME`
(a threshold), `params.NAME[field]` (a threshold looked up by a field's value) or the audit's
`as_of` and `audit_year`. Identifiers may be Chinese (extra columns keep their headers).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction

from ..limits import EXPRESSION_CHARS, EXPRESSION_DEPTH

KEYWORDS = frozenset({"and", "or", "not", "in", "true", "false", "exists", "date"})

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<number>\d+(?:\.\d+)?)
  | (?P<string>"[^"\n]*"|'[^'\n]*'|“[^”\n]*”)
  | (?P<op>==|!=|<=|>=|<|>|=|\+|-|\*|/|\(|\)|\[|\]|,|\.)
  | (?P<ident>[A-Za-z_\u3400-\u9fff][A-Za-z0-9_\u3400-\u9fff]*)
    """,
    re.VERBOSE,
)


class ExprSyntaxError(Exception):
    """A syntax or meaning error at `offset` (characters into the expression)."""

    def __init__(self, message: str, offset: int, code: str = "syntax") -> None:
        self.message = message
        self.offset = offset
        self.code = code
        super().__init__(f"{message} (at {offset})")


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    offset: int


@dataclass(frozen=True)
class Node:
    offset: int = field(compare=False)


@dataclass(frozen=True)
class Literal(Node):
    value: int | Fraction | str | bool | dt.date


@dataclass(frozen=True)
class Name(Node):
    """A dotted name as written; resolved later to a field, a param or a built-in."""

    path: str
    index: Name | None = None


@dataclass(frozen=True)
class Exists(Node):
    target: Name


@dataclass(frozen=True)
class Call(Node):
    """A function of indicator formulas: `if(cond, a, b)`, `min(a, b, …)`, `floor(x)` …"""

    name: str
    args: tuple[Node, ...]


@dataclass(frozen=True)
class Negate(Node):
    operand: Node


@dataclass(frozen=True)
class Not(Node):
    operand: Node


@dataclass(frozen=True)
class Arith(Node):
    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Compare(Node):
    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class In(Node):
    left: Node
    items: tuple[Node, ...]
    negated: bool = False


@dataclass(frozen=True)
class BoolOp(Node):
    op: str
    operands: tuple[Node, ...]


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            if text[position] in "\"'“":
                raise ExprSyntaxError("字符串缺少结尾的引号", position)
            raise ExprSyntaxError(f"无法识别的字符“{text[position]}”", position)
        kind = match.lastgroup or ""
        if kind != "ws":
            value = match.group()
            if kind == "ident" and value in KEYWORDS:
                kind = value
            tokens.append(Token(kind, value, position))
        position = match.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.position = 0
        self.depth = 0

    def enter(self, offset: int) -> None:
        """One level deeper (a parenthesis, a call, `not`, a minus sign); refused past the limit."""
        self.depth += 1
        if self.depth > EXPRESSION_DEPTH:
            raise ExprSyntaxError(
                f"表达式嵌套过深：超过 {EXPRESSION_DEPTH} 层（括号、函数、not 或负号）", offset, "depth"
            )

    def leave(self) -> None:
        self.depth -= 1

    @property
    def current(self) -> Token:
        return self.tokens[self.position]

    def advance(self) -> Token:
        token = self.current
        self.position += 1
        return token

    def accept(self, *kinds: str) -> Token | None:
        if self.current.kind in kinds or (self.current.kind == "op" and self.current.text in kinds):
            return self.advance()
        return None

    def expect(self, kind: str, what: str) -> Token:
        token = self.accept(kind)
        if token is None:
            found = self.current.text or "表达式结尾"
            raise ExprSyntaxError(f"此处应为{what}，实为“{found}”", self.current.offset)
        return token

    def parse(self) -> Node:
        node = self.parse_or()
        if self.current.kind != "end":
            raise ExprSyntaxError(f"多余的“{self.current.text}”：是否缺少 and / or？", self.current.offset)
        return node

    def parse_or(self) -> Node:
        return self._bool_chain("or", self.parse_and)

    def parse_and(self) -> Node:
        return self._bool_chain("and", self.parse_not)

    def _bool_chain(self, op: str, parse: Callable[[], Node]) -> Node:
        first = parse()
        operands = [first]
        while self.accept(op):
            operands.append(parse())
        return first if len(operands) == 1 else BoolOp(first.offset, op, tuple(operands))

    def parse_not(self) -> Node:
        token = self.accept("not")
        if token:
            self.enter(token.offset)
            operand = self.parse_not()
            self.leave()
            return Not(token.offset, operand)
        return self.parse_compare()

    def parse_compare(self) -> Node:
        left = self.parse_sum()
        token = self.accept("==", "!=", "<", "<=", ">", ">=")
        if token:
            return Compare(token.offset, token.text, left, self.parse_sum())
        if self.current.kind == "not" and self.tokens[self.position + 1].kind == "in":
            offset = self.advance().offset
            self.advance()
            return In(offset, left, self.parse_list(), negated=True)
        token = self.accept("in")
        if token:
            return In(token.offset, left, self.parse_list())
        if self.current.kind == "op" and self.current.text == "=":
            raise ExprSyntaxError("比较相等请用“==”", self.current.offset)
        return left

    def parse_list(self) -> tuple[Node, ...]:
        if self.current.kind == "ident":
            return (self.parse_name(),)  # `in params.NAME`: a list param, expanded when checked
        self.expect("[", "“[”（in 之后应为列表或列表参数）")
        items: list[Node] = []
        if not self.accept("]"):
            while True:
                items.append(self.parse_unary())
                if self.accept("]"):
                    break
                self.expect(",", "“,”或“]”")
        return tuple(items)

    def parse_sum(self) -> Node:
        node = self.parse_product()
        while token := self.accept("+", "-"):
            node = Arith(token.offset, token.text, node, self.parse_product())
        return node

    def parse_product(self) -> Node:
        node = self.parse_unary()
        while token := self.accept("*", "/"):
            node = Arith(token.offset, token.text, node, self.parse_unary())
        return node

    def parse_unary(self) -> Node:
        token = self.accept("-")
        if token:
            self.enter(token.offset)
            operand = self.parse_unary()
            self.leave()
            if (
                isinstance(operand, Literal)
                and isinstance(operand.value, (int, Fraction))
                and not isinstance(operand.value, bool)
            ):
                return Literal(token.offset, -operand.value)
            return Negate(token.offset, operand)
        return self.parse_atom()

    def parse_atom(self) -> Node:
        token = self.current
        if token.kind == "number":
            self.advance()
            # a decimal is read exactly as written: 0.15 is 3/20, not the nearest binary double
            value: int | Fraction = Fraction(token.text) if "." in token.text else int(token.text)
            return Literal(token.offset, value)
        if token.kind == "string":
            self.advance()
            return Literal(token.offset, token.text[1:-1])
        if token.kind in ("true", "false"):
            self.advance()
            return Literal(token.offset, token.kind == "true")
        if token.kind == "date":
            self.advance()
            self.expect("(", "“(”")
            text = self.expect("string", '日期字符串，如 date("2025-12-31")')
            self.expect(")", "“)”")
            try:
                return Literal(token.offset, dt.date.fromisoformat(text.text[1:-1]))
            except ValueError:
                raise ExprSyntaxError(f"日期应写作 YYYY-MM-DD：{text.text}", text.offset) from None
        if token.kind == "exists":
            self.advance()
            self.expect("(", "“(”")
            target = self.parse_name()
            self.expect(")", "“)”")
            return Exists(token.offset, target)
        if token.kind == "ident" and self.tokens[self.position + 1].text == "(":
            self.advance()
            self.advance()
            self.enter(token.offset)
            args = [self.parse_or()]
            while self.accept(","):
                args.append(self.parse_or())
            self.expect(")", "“)”或“,”")
            self.leave()
            return Call(token.offset, token.text, tuple(args))
        if token.kind == "ident":
            name = self.parse_name()
            if self.accept("["):
                index = self.parse_name()
                self.expect("]", "“]”")
                return Name(name.offset, name.path, index)
            return name
        if self.accept("("):
            self.enter(token.offset)
            node = self.parse_or()
            self.expect(")", "“)”")
            self.leave()
            return node
        if token.kind == "op" and token.text == "[":
            raise ExprSyntaxError("列表只能出现在 in 之后", token.offset)
        found = token.text or "表达式结尾"
        raise ExprSyntaxError(f"此处应为字段、数值或括号，实为“{found}”", token.offset)

    def parse_name(self) -> Name:
        token = self.expect("ident", "字段名")
        parts = [token.text]
        while self.accept("."):
            part = self.current
            if part.kind not in ("ident", "number") and part.kind not in KEYWORDS:
                raise ExprSyntaxError("“.”之后应为字段名", part.offset)
            parts.append(self.advance().text)
        return Name(token.offset, ".".join(parts))


def parse(text: str) -> Node:
    """Parse an expression; raises `ExprSyntaxError` with the offending offset."""
    if not text.strip():
        raise ExprSyntaxError("表达式为空", 0)
    if len(text) > EXPRESSION_CHARS:
        raise ExprSyntaxError(
            f"表达式过长：{len(text)} 个字符，超过上限 {EXPRESSION_CHARS}", EXPRESSION_CHARS, "length"
        )
    tree = _Parser(text).parse()
    deepest = _too_deep(tree)
    if deepest is not None:
        raise ExprSyntaxError(
            f"表达式嵌套过深：语法树超过 {EXPRESSION_DEPTH} 层（如过长的 a + b + … 运算链，请拆分或定义指标）",
            deepest.offset,
            "depth",
        )
    return tree


def _children(node: Node) -> list[Node]:
    found: list[Node] = []
    for item in dataclasses.fields(node):
        value = getattr(node, item.name)
        if isinstance(value, Node):
            found.append(value)
        elif isinstance(value, tuple):
            found.extend(v for v in value if isinstance(v, Node))
    return found


def _too_deep(tree: Node) -> Node | None:
    """The first node found deeper than `EXPRESSION_DEPTH` levels, walked without recursion."""
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > EXPRESSION_DEPTH:
            return node
        stack.extend((child, depth + 1) for child in _children(node))
    return None
