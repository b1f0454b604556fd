"""Giving a parsed expression its meaning: names resolved, types checked, params substituted.

The result is a typed tree that both evaluators work from: the reference evaluator in
`reference` walks it directly; `normal` rewrites it into the negation normal form the engine
adapter translates. Dates are ordinal integers (YYYYMMDD) so that every comparison is numeric.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from fractions import Fraction

from ..numbers import exact
from . import syntax as s
from .spec import NO_TARGET
from .vocabulary import EntityVocabulary, FieldInfo

Scalar = int | Fraction | str | bool


@dataclass(frozen=True)
class Field:
    info: FieldInfo

    @property
    def path(self) -> str:
        return self.info.path

    @property
    def type(self) -> str:
        return self.info.type


@dataclass(frozen=True)
class Const:
    value: Scalar
    type: str


@dataclass(frozen=True)
class Lookup:
    """`params.NAME[field]`: a threshold picked by the value of a field."""

    param: str
    key: Field
    table: tuple[tuple[str, int | Fraction], ...]
    type: str = "number"


@dataclass(frozen=True)
class Calc:
    op: str
    left: Expr
    right: Expr
    type: str = "number"


@dataclass(frozen=True)
class Fn:
    """A function of indicator formulas; never part of a rule condition (the engine has none)."""

    name: str
    args: tuple[Expr | Cond, ...]
    type: str = "number"


@dataclass(frozen=True)
class Cmp:
    op: str
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Member:
    item: Expr
    values: tuple[Const, ...]
    negated: bool


@dataclass(frozen=True)
class Present:
    field: Field


@dataclass(frozen=True)
class Logic:
    op: str
    items: tuple[Cond, ...]


@dataclass(frozen=True)
class Negation:
    item: Cond


Expr = Field | Const | Lookup | Calc | Fn
Cond = Cmp | Member | Present | Logic | Negation | Const

_ORDERED = frozenset({"number", "date"})


def date_value(value: dt.date) -> int:
    return value.year * 10000 + value.month * 100 + value.day


class ExprError(s.ExprSyntaxError):
    pass


class NoTarget(Exception):
    """A year-dependent param has no value for the audit's target year: the rule is skipped."""

    def __init__(self, param: str) -> None:
        self.param = param
        super().__init__(param)


@dataclass
class Context:
    """What names resolve against: the entity's fields, the params, the audit's date."""

    vocabulary: EntityVocabulary
    params: Mapping[str, object]
    as_of: dt.date
    used_params: set[str] | None = None
    formula: bool = False
    target_year: int = 2025


def check_formula(node: s.Node, ctx: Context) -> Expr:
    """Resolve and type-check an indicator formula: a number, functions allowed."""
    ctx.formula = True
    if ctx.used_params is not None:
        ctx.used_params.update(list_params(node) & set(ctx.params))
    expr = _expr(expand_list_params(node, ctx.params), ctx)
    if expr.type != "number":
        raise ExprError(f"指标公式的结果应为数值，实为{_describe(expr)}", node.offset, "type")
    return expr


def check(node: s.Node, ctx: Context) -> Cond:
    """Resolve and type-check a condition; raises `ExprError` at the offending offset."""
    if ctx.used_params is not None:
        ctx.used_params.update(list_params(node) & set(ctx.params))
    return _cond(expand_list_params(node, ctx.params), ctx)


def _cond(node: s.Node, ctx: Context) -> Cond:
    if isinstance(node, s.BoolOp):
        return Logic(node.op, tuple(_cond(item, ctx) for item in node.operands))
    if isinstance(node, s.Not):
        return Negation(_cond(node.operand, ctx))
    if isinstance(node, s.Exists):
        return Present(_exists_field(node.target, ctx))
    if isinstance(node, s.Compare):
        return _compare(node, ctx)
    if isinstance(node, s.In):
        return _member(node, ctx)
    expr = _expr(node, ctx)
    if isinstance(expr, Const) and expr.type == "bool":
        return expr
    if isinstance(expr, Field) and expr.type == "bool":
        return Cmp("==", expr, Const(True, "bool"))
    raise ExprError(f"此处应为条件（是/否），实为{_describe(expr)}", node.offset, "type")


def _compare(node: s.Compare, ctx: Context) -> Cond:
    left, right = _expr(node.left, ctx), _expr(node.right, ctx)
    left, right = _align_enum(left, right, node.left), _align_enum(right, left, node.right)
    if _family(left) != _family(right):
        raise ExprError(f"类型不一致：{_describe(left)} 与 {_describe(right)} 无法比较", node.offset, "type")
    if node.op not in ("==", "!=") and _family(left) not in _ORDERED:
        raise ExprError(f"{_describe(left)} 只能用 == 或 != 比较", node.offset, "type")
    if isinstance(left, Const) and isinstance(right, Const):
        return Const(fold(node.op, left.value, right.value), "bool")
    return Cmp(node.op, left, right)


def _member(node: s.In, ctx: Context) -> Cond:
    item = _expr(node.left, ctx)
    if len(node.items) == 1 and isinstance(node.items[0], s.Name) and node.items[0].path.startswith("params."):
        name = node.items[0]
        if name.path.removeprefix("params.") in ctx.params:
            raise ExprError(f"{name.path} 不是列表参数，in 之后应为列表", name.offset, "type")
    values: list[Const] = []
    for raw in node.items:
        value = _expr(raw, ctx)
        if not isinstance(value, Const):
            raise ExprError("in 列表中只能是常量", raw.offset, "type")
        value = _align_enum(value, item, raw)
        if _family(value) != _family(item):
            raise ExprError(f"类型不一致：{_describe(item)} 与 {_describe(value)}", raw.offset, "type")
        values.append(value)  # type: ignore[arg-type]
    return Member(item, tuple(values), node.negated)


def _family(expr: Expr) -> str:
    return "text" if expr.type == "enum" else expr.type


def _align_enum(value: Expr, other: Expr, node: s.Node) -> Expr:
    """A text constant compared with an enumeration must be one of its codes (or Chinese words)."""
    if not (isinstance(value, Const) and value.type == "text" and isinstance(other, Field) and other.type == "enum"):
        return value
    codes = other.info.enum or {}
    if value.value in codes:
        return Const(value.value, "enum")
    for code, word in codes.items():
        if value.value == word:
            return Const(code, "enum")
    allowed = "、".join(f"{code}（{word}）" for code, word in codes.items())
    raise ExprError(f"“{value.value}”不是{other.info.label}的取值，允许：{allowed}", node.offset, "enum")


def fold(op: str, left: Scalar, right: Scalar) -> bool:
    return {
        "==": left == right,
        "!=": left != right,
        "<": left < right,  # type: ignore[operator]
        "<=": left <= right,  # type: ignore[operator]
        ">": left > right,  # type: ignore[operator]
        ">=": left >= right,  # type: ignore[operator]
    }[op]


def _expr(node: s.Node, ctx: Context) -> Expr:
    if isinstance(node, s.Literal):
        value = node.value
        if isinstance(value, bool):
            return Const(value, "bool")
        if isinstance(value, (int, Fraction)):
            return Const(exact(value), "number")
        if isinstance(value, dt.date):
            return Const(date_value(value), "date")
        return Const(value, "text")
    if isinstance(node, s.Name):
        return _name(node, ctx)
    if isinstance(node, s.Negate):
        operand = _expr(node.operand, ctx)
        _require_number(operand, node.operand)
        if isinstance(operand, Const):
            return Const(-operand.value, "number")  # type: ignore[operator]
        return Calc("*", operand, Const(-1, "number"))
    if isinstance(node, s.Call):
        return _call(node, ctx)
    if isinstance(node, s.Arith):
        left, right = _expr(node.left, ctx), _expr(node.right, ctx)
        _require_number(left, node.left)
        _require_number(right, node.right)
        for side, raw in ((left, node.left), (right, node.right)):
            if isinstance(side, Field) and side.info.form == "real":
                raise ExprError(f"{side.info.label}是开方值，只能直接与数值比较，不能参与算术运算", raw.offset, "type")
        if node.op == "/" and isinstance(right, Const) and right.value == 0:
            raise ExprError("除数为 0", node.right.offset, "type")
        if node.op == "/" and not ctx.formula and not isinstance(right, (Const, Field)):
            raise ExprError("除数只能是单个字段或常数", node.right.offset, "type")
        if isinstance(left, Const) and isinstance(right, Const):
            return Const(arith(node.op, left.value, right.value), "number")  # type: ignore[arg-type]
        return Calc(node.op, left, right)
    raise ExprError(f"此处应为数值或字段，实为{_node_kind(node)}", node.offset, "type")


_ARITY = {"if": (3, 3), "min": (2, 99), "max": (2, 99), "floor": (1, 1), "ceil": (1, 1), "abs": (1, 1)}


def _call(node: s.Call, ctx: Context) -> Fn:
    if node.name not in _ARITY:
        known = "、".join(_ARITY)
        raise ExprError(f"未知函数“{node.name}”；指标公式可用：{known}", node.offset, "name")
    if not ctx.formula:
        raise ExprError(f"函数 {node.name}() 只能用于指标公式（formula），规则条件中请先定义指标", node.offset, "type")
    low, high = _ARITY[node.name]
    if not low <= len(node.args) <= high:
        raise ExprError(f"{node.name}() 的参数个数不对", node.offset, "type")
    if node.name == "if":
        cond = _cond(node.args[0], ctx)
        then, other = _expr(node.args[1], ctx), _expr(node.args[2], ctx)
        if _family(then) != _family(other):
            raise ExprError(
                f"if() 两个分支类型不一致：{_describe(then)} 与 {_describe(other)}", node.args[2].offset, "type"
            )
        return Fn("if", (cond, then, other), then.type)
    args = tuple(_expr(arg, ctx) for arg in node.args)
    for arg, raw in zip(args, node.args):
        _require_number(arg, raw)
    return Fn(node.name, args)


def arith(op: str, left: int | Fraction, right: int | Fraction) -> int | Fraction:
    """Exact arithmetic: a quotient is a fraction, never a binary double."""
    if op == "+":
        return exact(Fraction(left) + right)
    if op == "-":
        return exact(Fraction(left) - right)
    if op == "*":
        return exact(Fraction(left) * right)
    return exact(Fraction(left) / right)


def _require_number(expr: Expr, node: s.Node) -> None:
    if expr.type != "number":
        raise ExprError(f"算术运算只能用于数值，实为{_describe(expr)}", node.offset, "type")


def _name(node: s.Name, ctx: Context) -> Expr:
    head, _, rest = node.path.partition(".")
    if head == "params":
        return _param(node, rest, ctx)
    if node.index is not None:
        raise ExprError("只有 params.名称[字段] 可以用方括号查表", node.offset, "syntax")
    if node.path == "as_of":
        return Const(date_value(ctx.as_of), "date")
    if node.path == "audit_year":
        return Const(ctx.as_of.year, "number")
    if node.path == "target_year":
        return Const(ctx.target_year, "number")
    return _field(node, ctx)


def _field(node: s.Name, ctx: Context) -> Field:
    info = ctx.vocabulary.fields.get(node.path)
    if info is None:
        if node.path in ctx.vocabulary.relations:
            raise ExprError(f"“{node.path}”是关联记录，判断其有无请用 exists({node.path})", node.offset, "name")
        hint = difflib.get_close_matches(node.path, list(ctx.vocabulary.fields), n=1)
        suggestion = f"，是否指“{hint[0]}”？" if hint else ""
        raise ExprError(f"{ctx.vocabulary.label}没有字段“{node.path}”{suggestion}", node.offset, "name")
    return Field(info)


def _exists_field(node: s.Name, ctx: Context) -> Field:
    if node.path in ctx.vocabulary.relations:
        key = ctx.vocabulary.relation_key(node.path)
        return Field(ctx.vocabulary.fields[key])
    info = ctx.vocabulary.fields.get(node.path)
    if info is None:
        return _field(node, ctx)
    return Field(info)


def _param(node: s.Name, name: str, ctx: Context) -> Expr:
    if name not in ctx.params:
        hint = difflib.get_close_matches(name, list(ctx.params), n=1)
        suggestion = f"，是否指“params.{hint[0]}”？" if hint else ""
        raise ExprError(f"未声明的参数“params.{name}”{suggestion}", node.offset, "param")
    if ctx.used_params is not None:
        ctx.used_params.add(name)
    value = ctx.params[name]
    if value is NO_TARGET:
        raise NoTarget(name)
    if node.index is not None:
        if not isinstance(value, dict):
            raise ExprError(f"params.{name} 不是映射，不能用 [ ] 查表", node.offset, "type")
        key = _field(node.index, ctx)
        if _family(key) != "text":
            raise ExprError(f"查表的键应为文本字段，实为{_describe(key)}", node.index.offset, "type")
        return Lookup(name, key, tuple(sorted((k, exact(v)) for k, v in value.items())))
    if isinstance(value, bool):
        return Const(value, "bool")
    if isinstance(value, (int, float, Fraction)):
        return Const(exact(value), "number")
    if isinstance(value, str):
        return Const(value, "text")
    if isinstance(value, list):
        raise ExprError(f"params.{name} 是列表，只能出现在 in 之后：x in params.{name}", node.offset, "type")
    raise ExprError(f"params.{name} 是映射，应写作 params.{name}[字段]", node.offset, "type")


def expand_list_params(node: s.Node, params: Mapping[str, object]) -> s.Node:
    """`x in params.LIST` → `x in ["a", "b"]`, so list params stay constants of the condition."""
    if isinstance(node, s.In) and len(node.items) == 1 and isinstance(node.items[0], s.Name):
        name = node.items[0]
        head, _, rest = name.path.partition(".")
        listed = params.get(rest)
        if head == "params" and isinstance(listed, list):
            items = tuple(s.Literal(name.offset, v) for v in listed)
            return s.In(node.offset, node.left, items, node.negated)
    if isinstance(node, s.BoolOp):
        return s.BoolOp(node.offset, node.op, tuple(expand_list_params(o, params) for o in node.operands))
    if isinstance(node, s.Not):
        return s.Not(node.offset, expand_list_params(node.operand, params))
    return node


def list_params(node: s.Node) -> set[str]:
    """Names of params used as `in params.NAME` (expanded before checking)."""
    found: set[str] = set()
    if isinstance(node, s.In) and len(node.items) == 1 and isinstance(node.items[0], s.Name):
        head, _, rest = node.items[0].path.partition(".")
        if head == "params":
            found.add(rest)
    for child in _children(node):
        found |= list_params(child)
    return found


def _children(node: s.Node) -> tuple[s.Node, ...]:
    if isinstance(node, s.BoolOp):
        return node.operands
    if isinstance(node, (s.Not, s.Negate)):
        return (node.operand,)
    return ()


def _describe(expr: Expr) -> str:
    names = {"number": "数值", "text": "文本", "bool": "是/否", "date": "日期", "enum": "文本"}
    if isinstance(expr, Field):
        return f"{expr.info.label}（{names[expr.type]}）"
    if isinstance(expr, Const):
        return f"{names[expr.type]} {expr.value!r}"
    return names.get(expr.type, expr.type)


def _node_kind(node: s.Node) -> str:
    if isinstance(node, (s.Compare, s.In, s.BoolOp, s.Not, s.Exists)):
        return "条件"
    return type(node).__name__


def nodes(node: object) -> Iterator[object]:
    """Every node of a typed tree, parents first; `exists(x)` is a leaf."""
    yield node
    if isinstance(node, Lookup):
        yield from nodes(node.key)
    elif isinstance(node, (Calc, Cmp)):
        yield from nodes(node.left)
        yield from nodes(node.right)
    elif isinstance(node, Fn):
        for arg in node.args:
            yield from nodes(arg)
    elif isinstance(node, Member):
        yield from nodes(node.item)
    elif isinstance(node, Logic):
        for item in node.items:
            yield from nodes(item)
    elif isinstance(node, Negation):
        yield from nodes(node.item)


def fields_of(cond: Cond | Expr, *, include_presence: bool = False) -> list[Field]:
    """Fields a condition reads, in order of appearance (`exists(x)` only when asked)."""
    found: dict[str, Field] = {}
    for node in nodes(cond):
        if isinstance(node, Field):
            found.setdefault(node.path, node)
        elif isinstance(node, Present) and include_presence:
            found.setdefault(node.field.path, node.field)
    return list(found.values())


def lookups_of(cond: Cond | Expr) -> list[Lookup]:
    return [node for node in nodes(cond) if isinstance(node, Lookup)]


def divisors_of(cond: Cond | Expr) -> list[Field]:
    """Fields that divide: a value of 0 leaves the condition undefined."""
    return [n.right for n in nodes(cond) if isinstance(n, Calc) and n.op == "/" and isinstance(n.right, Field)]
