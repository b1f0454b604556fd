"""Message and rectification templates: jinja2 in a bounded sandbox, since rule files are data.

jinja2's sandbox keeps templates from reaching Python's internals, not from exhausting memory
or time: `{{ 'a' * 1000000000 }}` builds a gigabyte. Templates here are held to what a message
needs, checked when a pack is compiled:

* output, `if`/`elif`/`else`, and `for` over a value of the context, not nested and not
  recursive; no function calls (`range` …) and only methods that build nothing larger than
  their input (`dict.get`, `str.strip` …); no assignments, macros, includes or blocks;
* filters from a short list (`pct`, `num`, formatting and counting ones; `join` checks the
  length of what it would build first);
* at most `EXPRESSION_DEPTH` levels of brackets.

While rendering, `*` refuses to repeat a string or list beyond `TEMPLATE_SEQUENCE` items, `**`
refuses results beyond a few thousand bits, and `%` does not format text. Without assignments,
calls or nested loops nothing can grow faster than the template is long, and the output is
read as it is produced: a rendered text longer than `TEMPLATE_OUTPUT_CHARS` is refused when
the pack is checked, and cut (marked) if real data makes it so long in an audit.

Numbers reach templates as `Num`: an exact value that prints as a decimal (never `3/20`,
`1e+04` or `0.44999999999999996`), does exact arithmetic (`params.large_min - 1`) and, for a
share, carries its parts (`new_pe_art_share.denominator`). The `pct` and `num` filters round
half up to the digits asked for, but never so far that an observed value would print as the
threshold it was found to differ from ("85.0% 低于 85%" becomes "84.96% 低于 85%").
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from fractions import Fraction
from types import CodeType
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

from ..errors import Problem, RulePackError
from ..jinja_cache import DictFirst, bytecode_cache
from ..limits import EXPRESSION_DEPTH, TEMPLATE_OUTPUT_CHARS, TEMPLATE_SEQUENCE
from ..numbers import (
    Exact,
    Interval,
    Surd,
    Value,
    compare,
    compare_bounded,
    distinct_digits,
    exact,
    exact_digits,
    format_decimal,
    format_percent,
    interval_arith,
    shortest,
    trim,
)
from ..text import one_line, without_control_characters

TRUNCATED = "…（内容过长，已截断）"
_POWER_BITS = 4096


class Num:
    """An exact number as templates see it; `decimals` is its field's precision (of the percentage
    for a `percent` field), when it comes from a field."""

    __slots__ = ("decimals", "parts", "percent", "value")

    def __init__(
        self,
        value: Value,
        parts: Mapping[str, Any] | None = None,
        *,
        decimals: int | None = None,
        percent: bool = False,
    ) -> None:
        self.value = value
        self.parts = dict(parts or {})
        self.decimals = decimals
        self.percent = percent

    def __getattr__(self, name: str) -> Any:
        try:
            return object.__getattribute__(self, "parts")[name]
        except KeyError:
            raise AttributeError(name) from None

    def __str__(self) -> str:
        if isinstance(self.value, Interval):
            return "–".join(
                str(Num(v, decimals=self.decimals, percent=self.percent)) for v in (self.value.lo, self.value.hi)
            )
        if self.decimals is None:
            return shortest(self.value, 4)
        return trim(format_decimal(self.value, self.decimals + (2 if self.percent else 0)), self.value)

    __repr__ = __str__

    def __format__(self, spec: str) -> str:
        return format(float(self), spec) if spec and not isinstance(self.value, Interval) else str(self)

    def __float__(self) -> float:
        value = self.value
        if isinstance(value, Interval):  # a range has no one float: say so rather than pick an end
            raise TypeError(f"数值只知道范围 {self}，不能当作一个数使用")
        return float(value)

    def __int__(self) -> int:
        value = self.value
        if isinstance(value, Interval):
            raise TypeError(f"数值只知道范围 {self}，不能当作一个数使用")
        return int(float(value)) if isinstance(value, Surd) else int(value)

    def __bool__(self) -> bool:
        return self.value != 0

    def __hash__(self) -> int:
        return hash(self.value)

    def _arith(self, other: object, op: str, reflected: bool = False) -> Num:
        other_value = _value(other)
        if isinstance(self.value, Surd) or isinstance(other_value, Surd):
            raise TypeError("开方值不能参与算术运算")
        if isinstance(self.value, Interval) or isinstance(other_value, Interval):
            left, right = (other_value, self.value) if reflected else (self.value, other_value)
            result = interval_arith(op, left, right)
            if result is None:
                raise ZeroDivisionError("除数可能为 0")
            return Num(result)
        left, right = (
            (Fraction(other_value), Fraction(self.value))
            if reflected
            else (Fraction(self.value), Fraction(other_value))
        )
        if op == "+":
            return Num(exact(left + right))
        if op == "-":
            return Num(exact(left - right))
        if op == "*":
            return Num(exact(left * right))
        return Num(exact(left / right))

    def __add__(self, other: object) -> Num:
        return self._arith(other, "+")

    def __radd__(self, other: object) -> Num:
        return self._arith(other, "+", True)

    def __sub__(self, other: object) -> Num:
        return self._arith(other, "-")

    def __rsub__(self, other: object) -> Num:
        return self._arith(other, "-", True)

    def __mul__(self, other: object) -> Num:
        return self._arith(other, "*")

    def __rmul__(self, other: object) -> Num:
        return self._arith(other, "*", True)

    def __truediv__(self, other: object) -> Num:
        return self._arith(other, "/")

    def __rtruediv__(self, other: object) -> Num:
        return self._arith(other, "/", True)

    def __neg__(self) -> Num:
        return self._arith(-1, "*")

    def __eq__(self, other: object) -> bool:
        try:
            return bool(self.value == _value(other))
        except TypeError:
            return False

    def __lt__(self, other: object) -> bool:
        return self._order("<", other)

    def __le__(self, other: object) -> bool:
        return self._order("<=", other)

    def __gt__(self, other: object) -> bool:
        return self._order(">", other)

    def __ge__(self, other: object) -> bool:
        return self._order(">=", other)

    def _order(self, op: str, other: object) -> bool:
        # an interval (a share over partly blank cells) has no `<`: decide it for every value it can take
        left, right = self.value, _value(other)
        if isinstance(left, Interval) or isinstance(right, Interval):
            decided = compare_bounded(op, left, right)
            if decided is None:
                raise TypeError("取值只知范围，无法确定大小关系")
            return decided
        sign = compare(left, right)
        return sign < 0 if op == "<" else sign <= 0 if op == "<=" else sign > 0 if op == ">" else sign >= 0


def _value(other: object) -> Value:
    if isinstance(other, Num):
        return other.value
    if isinstance(other, (int, float, Fraction)) and not isinstance(other, bool):
        return exact(other)
    raise TypeError(f"不是数值：{other!r}")


def as_num(value: object) -> object:
    """A number for a template (`Num`); anything else as it is."""
    if isinstance(value, bool) or value is None or isinstance(value, Num):
        return value
    if isinstance(value, (int, Fraction, Surd, Interval)):
        return Num(value)
    if isinstance(value, float):
        return Num(exact(value))
    return value


def _thresholds(context: Mapping[str, Any]) -> tuple[Exact, ...]:
    values: list[Exact] = []
    for item in context.get("threshold") or ():
        value = item.get("value") if isinstance(item, Mapping) else None
        if isinstance(value, Num) and not isinstance(value.value, Interval):  # a threshold is one number
            values.append(value.value)
        elif isinstance(value, (int, Fraction)) and not isinstance(value, bool):
            values.append(value)
    return tuple(values)


COMPARED = "__compared"  # context key: the values a finding's numbers must not look equal to


def _digits(value: Exact, digits: int, context: Mapping[str, Any], percent: bool) -> int:
    thresholds = _thresholds(context)
    if any(value == t for t in thresholds):  # a threshold is shown exactly
        return max(digits, exact_digits(value * 100 if percent and not isinstance(value, Surd) else value))
    return distinct_digits(value, digits, thresholds + tuple(context.get(COMPARED) or ()), percent=percent)


@jinja2.pass_context
def pct(context: Mapping[str, Any], value: object, digits: int | None = None) -> str:
    """0.1234 → '12.34%': at `digits` places, or its field's precision (1 place for a number
    that comes from no field), with more where needed to tell it from a threshold."""
    if digits is None:
        digits = value.decimals if isinstance(value, Num) and value.percent and value.decimals is not None else 1
    number = value.value if isinstance(value, Num) else value
    if isinstance(number, Interval):
        return "–".join(pct(context, bound, digits) for bound in (number.lo, number.hi))
    if not isinstance(number, (int, Fraction, Surd, float)) or isinstance(number, bool):
        return str(value)
    if isinstance(number, float):
        number = exact(number)
    return trim(format_percent(number, _digits(number, digits, context, percent=True)), number)


@jinja2.pass_context
def num(context: Mapping[str, Any], value: object, digits: int | None = None) -> str:
    """A number as a decimal at `digits` places or its field's precision (half up; a number from
    no field with as many places as it needs, up to 4), distinct from the thresholds."""
    if digits is None and isinstance(value, Num) and value.decimals is not None:
        digits = value.decimals
    number = value.value if isinstance(value, Num) else value
    if isinstance(number, Interval):
        return "–".join(num(context, bound, digits) for bound in (number.lo, number.hi))
    if not isinstance(number, (int, Fraction, Surd, float)) or isinstance(number, bool):
        return str(value)
    if isinstance(number, float):
        number = exact(number)
    if digits is None:
        return shortest(number, 4)
    return trim(format_decimal(number, _digits(number, digits, context, percent=False)), number)


class TemplateLimit(SecurityError):
    """A template operation that would build more than the limits allow (message in Chinese)."""


def _bounded_join(value: Iterable[Any], separator: str = "", attribute: Any = None) -> str:
    items = [str(item if attribute is None else item[attribute]) for item in value]
    size = sum(map(len, items)) + len(separator) * max(len(items) - 1, 0)
    if size > TEMPLATE_OUTPUT_CHARS:
        raise TemplateLimit(f"join 的结果超过 {TEMPLATE_OUTPUT_CHARS:,} 个字符")
    return separator.join(items)


# filters a message may use: none of them builds more than its input, except join (checked)
SAFE_FILTERS = frozenset(
    {
        "pct",
        "num",
        "abs",
        "round",
        "int",
        "float",
        "string",
        "default",
        "d",
        "length",
        "count",
        "first",
        "last",
        "min",
        "max",
        "sum",
        "upper",
        "lower",
        "capitalize",
        "title",
        "trim",
        "join",
    }
)

# methods a message may call (`{'小学': 'primary'}.get(type, …)`): none builds more than its input
SAFE_METHODS = frozenset(
    {
        "get",
        "keys",
        "values",
        "items",
        "startswith",
        "endswith",
        "strip",
        "lstrip",
        "rstrip",
        "lower",
        "upper",
        "title",
        "capitalize",
        "split",
        "count",
        "find",
        "index",
        "isdigit",
    }
)

# the template nodes a message may contain (expressions, output, if, a flat for)
_ALLOWED_NODES: tuple[type[nodes.Node], ...] = (
    nodes.Template,
    nodes.Output,
    nodes.TemplateData,
    nodes.If,
    nodes.For,
    nodes.Name,
    nodes.Getattr,
    nodes.Getitem,
    nodes.Slice,
    nodes.Const,
    nodes.List,
    nodes.Tuple,
    nodes.Dict,
    nodes.Pair,
    nodes.Keyword,
    nodes.Filter,
    nodes.Test,
    nodes.CondExpr,
    nodes.Compare,
    nodes.Operand,
    nodes.And,
    nodes.Or,
    nodes.Not,
    nodes.Neg,
    nodes.Pos,
    nodes.Add,
    nodes.Sub,
    nodes.Mul,
    nodes.Div,
    nodes.FloorDiv,
    nodes.Mod,
    nodes.Pow,
    nodes.Concat,
)


class _Template(jinja2.Template):
    """A compiled template that knows where its source was written (set by the compiler), so a
    failure while rendering in an audit can still be reported at `file:line`."""

    origin: tuple[str, int, int, str] = ("", 0, 0, "")


class BoundedSandbox(DictFirst, SandboxedEnvironment):
    """jinja2's sandbox with the operations that can build huge values bounded (and a dict's keys
    read at once: `DictFirst`)."""

    intercepted_binops = frozenset({"*", "**", "%"})
    template_class = _Template

    def call_binop(self, context: jinja2.runtime.Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                if (
                    isinstance(seq, (str, list, tuple))
                    and isinstance(times, int)
                    and len(seq) * times > TEMPLATE_SEQUENCE
                ):
                    raise TemplateLimit(f"重复后的文本或列表超过 {TEMPLATE_SEQUENCE:,} 项（{len(seq)} × {times}）")
        elif operator == "**":
            if (
                isinstance(left, int)
                and isinstance(right, int)
                and abs(left) > 1
                and right > 0
                and right * math.log2(abs(left)) > _POWER_BITS
            ):
                raise TemplateLimit(f"乘方结果过大（{left} ** {right}）")
        elif operator == "%" and isinstance(left, str):
            raise TemplateLimit("模板中不能用 % 格式化文本")
        return super().call_binop(context, operator, left, right)


def _environment(undefined: type[jinja2.Undefined]) -> BoundedSandbox:
    env = BoundedSandbox(undefined=undefined, autoescape=False, keep_trailing_newline=False)
    env.globals.clear()  # range, dict, lipsum, cycler …: no calls are allowed anyway
    env.filters["pct"] = pct
    env.filters["num"] = num
    env.filters["join"] = _bounded_join
    return env


_RUNTIME = _environment(jinja2.Undefined)
_STRICT = _environment(jinja2.StrictUndefined)


# jinja2's syntax errors, in the user's words (matched in order; jinja's words are kept in brackets)
_JINJA_MESSAGES: tuple[tuple[str, str], ...] = (
    (
        r"Unexpected end of template.*looking for the following tags: (.*?)\. The innermost block that needs to be closed is '(\w+)'",
        r"模板在 \2 块结束前就结束了：缺少以下之一：\1",
    ),
    (r"Unexpected end of template", "模板意外结束：块或输出没有闭合"),
    (r"Encountered unknown tag '(\w+)'", r"未知或多余的标签“\1”（如没有对应 if 的 endif）"),
    (r"expected token 'end of print statement', got '(.*)'", r"“{{ … }}”中此处应结束，实为“\1”"),
    (r"expected token 'end of statement block', got '(.*)'", r"“{% … %}”中此处应结束，实为“\1”"),
    (r"expected token '(.*)', got '(.*)'", r"此处应为“\1”，实为“\2”"),
    (r"Expected an expression, got '(.*)'", r"此处应为表达式，实为“\1”"),
    (r"unexpected '(.*)'", r"多余的“\1”"),
    (r"unexpected char (.*) at (\d+)", r"无法识别的字符 \1（第 \2 个字符）"),
    (r"unexpected end of (?:template|string)", "模板意外结束（引号或括号没有闭合？）"),
)


def _syntax_message(message: str | None) -> str:
    text = message or ""
    for pattern, replacement in _JINJA_MESSAGES:
        translated, count = re.subn(pattern, replacement, text, count=1, flags=re.DOTALL)
        if count:
            tidy = translated.replace("' or '", "、").replace("：'", "：").rstrip(".").rstrip("'")
            return f"模板语法错误：{tidy}"
    return f"模板语法错误（{text}）"


class TemplateProblem(Exception):
    def __init__(self, message: str, line: int = 1) -> None:
        self.message = message
        self.line = line
        super().__init__(message)


def _nesting(source: str) -> int:
    """The deepest bracket nesting anywhere in the source (text included: a safe over-estimate)."""
    depth = deepest = 0
    for char in source:
        if char in "([{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in ")]}":
            depth = max(depth - 1, 0)
    return deepest


def _check_nodes(tree: nodes.Template) -> None:
    """Refuse what a message template may not contain (see the module's docstring)."""
    stack: list[tuple[nodes.Node, int, int]] = [(tree, 0, 0)]
    while stack:
        node, loops, depth = stack.pop()
        line = getattr(node, "lineno", 1) or 1
        if depth > EXPRESSION_DEPTH:
            raise TemplateProblem(f"模板嵌套过深：超过 {EXPRESSION_DEPTH} 层", line)
        method = (
            isinstance(node, nodes.Call) and isinstance(node.node, nodes.Getattr) and node.node.attr in SAFE_METHODS
        )
        if not isinstance(node, _ALLOWED_NODES) and not method:
            what = {
                nodes.Call: f"函数调用或这些方法以外的调用（{'、'.join(sorted(SAFE_METHODS))}）",
                nodes.Assign: "{% set %}",
                nodes.AssignBlock: "{% set %}",
                nodes.Macro: "{% macro %}",
                nodes.CallBlock: "{% call %}",
                nodes.With: "{% with %}",
                nodes.Include: "{% include %}",
                nodes.Import: "{% import %}",
                nodes.FromImport: "{% from %}",
                nodes.Extends: "{% extends %}",
                nodes.Block: "{% block %}",
                nodes.FilterBlock: "{% filter %}",
            }.get(type(node), type(node).__name__)
            raise TemplateProblem(f"消息模板中不能使用{what}：只允许输出、if 与对上下文取值的 for", line)
        if isinstance(node, nodes.Filter) and node.name not in SAFE_FILTERS:
            raise TemplateProblem(
                f"消息模板中不能使用过滤器“{node.name}”；可用：{'、'.join(sorted(SAFE_FILTERS))}", line
            )
        if isinstance(node, nodes.For):
            if node.recursive:
                raise TemplateProblem("消息模板中的 for 不能是 recursive", line)
            if loops:
                raise TemplateProblem("消息模板中的 for 不能嵌套", line)
            loops += 1
        stack.extend((child, loops, depth + 1) for child in node.iter_child_nodes())


@functools.lru_cache(maxsize=4096)
def _parsed(source: str) -> nodes.Template:
    """The template's syntax tree, checked against the limits once per source (the checks come
    before any compiling: compiling a hostile template is itself the risk). Read, never changed."""
    if _nesting(source) > EXPRESSION_DEPTH:
        raise TemplateProblem(f"模板嵌套过深：括号超过 {EXPRESSION_DEPTH} 层")
    try:
        tree = _RUNTIME.parse(source)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateProblem(_syntax_message(exc.message), exc.lineno or 1) from None
    except RecursionError:  # jinja's parser on deep nesting
        raise TemplateProblem(f"模板嵌套过深（超过 {EXPRESSION_DEPTH} 层）") from None
    _check_nodes(tree)
    return tree


@functools.lru_cache(maxsize=4096)
def _code(source: str) -> CodeType:
    """The template checked (`_parsed`) and compiled once per source (a pack repeats
    `{{ school.name }}` often; the check and the strict sample render reuse the same code).
    Compiled code is kept between runs in jinja2's bytecode cache, keyed by the source."""
    _parsed(source)
    try:  # compiled from a tree of its own: jinja's optimiser may rewrite the tree it compiles
        cache = bytecode_cache("rules")
        if cache is None:
            return _RUNTIME.compile(_RUNTIME.parse(source))
        bucket = cache.get_bucket(_RUNTIME, hashlib.sha256(source.encode()).hexdigest(), None, source)
        if bucket.code is None:
            bucket.code = _RUNTIME.compile(_RUNTIME.parse(source))
            cache.set_bucket(bucket)
        return bucket.code
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateProblem(_syntax_message(exc.message), exc.lineno or 1) from None
    except (RecursionError, SyntaxError):  # jinja's parser or Python's compiler on deep nesting
        raise TemplateProblem(f"模板嵌套过深（超过 {EXPRESSION_DEPTH} 层）") from None


def _template(env: BoundedSandbox, source: str) -> jinja2.Template:
    # a fresh Template per call: the compiler records each rule's key on its own (`origin`). Its
    # globals a plain empty dict, as the environment's are (cleared): jinja copies a template's
    # globals into every context it renders with, and `make_globals`' ChainMap of two empty dicts
    # cost more to iterate than the rest of a short message's context
    return env.template_class.from_code(env, _code(source), {}, None)


def compile_template(source: str) -> jinja2.Template:
    """Compile a message template after checking it against the limits; raises `TemplateProblem`."""
    return _template(_RUNTIME, source)


def _bounded_text(parts: Iterable[str], *, cut: bool) -> str:
    """The rendered text, read chunk by chunk: past `TEMPLATE_OUTPUT_CHARS` cut (`cut`) or refused."""
    chunks: list[str] = []
    size = 0
    for chunk in parts:
        size += len(chunk)
        if size > TEMPLATE_OUTPUT_CHARS:
            if not cut:
                raise TemplateLimit(f"渲染结果超过 {TEMPLATE_OUTPUT_CHARS:,} 个字符")
            chunks.append(chunk[: max(len(chunk) - (size - TEMPLATE_OUTPUT_CHARS), 0)])
            return "".join(chunks) + TRUNCATED
        chunks.append(chunk)
    return "".join(chunks)


def template_names(source: str) -> frozenset[str]:
    """The top-level names a template reads (`school` for `{{ school.name }}`)."""
    from jinja2 import meta

    return frozenset(meta.find_undeclared_variables(_parsed(source)))


@functools.lru_cache(maxsize=4096)
def template_paths(source: str) -> frozenset[str]:
    """The dotted names a template reads (`school.name`, `size`): a finding fetches only these
    fields (and, for a name used whole, every field under it)."""
    tree = _parsed(source)
    getattrs = list(tree.find_all(nodes.Getattr))
    found: set[str] = set()
    inner: set[int] = set()
    for node in getattrs:
        if id(node) in inner:
            continue
        parts: list[str] = []
        current: nodes.Node = node
        while isinstance(current, nodes.Getattr):
            parts.append(current.attr)
            inner.add(id(current.node))
            current = current.node
        if isinstance(current, nodes.Name):
            found.add(".".join([current.name, *reversed(parts)]))
    attribute_heads = {id(node.node) for node in getattrs}
    covered = {path.split(".", 1)[0] for path in found}
    # a name used without an attribute (`{{ size }}`, `{{ school }}`) is read whole
    whole = {
        name.name for name in tree.find_all(nodes.Name) if name.name not in covered or id(name) not in attribute_heads
    }
    return frozenset(found | whole)


def check_template(source: str, sample: Mapping[str, Any]) -> None:
    """Render against a context holding every name a finding can offer; unknown names fail."""
    try:
        _bounded_text(_template(_STRICT, source).generate(sample), cut=False)
    except TemplateProblem:
        raise
    except jinja2.UndefinedError as exc:
        raise TemplateProblem(f"模板引用了不存在的名称：{exc.message}") from None
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateProblem(_syntax_message(exc.message), exc.lineno or 1) from None
    except TemplateLimit as exc:
        raise TemplateProblem(f"模板超出限制：{exc}") from None
    except (RecursionError, SyntaxError):
        raise TemplateProblem(f"模板嵌套过深（超过 {EXPRESSION_DEPTH} 层）") from None
    except (TypeError, ValueError, ArithmeticError, LookupError, jinja2.TemplateError) as exc:
        raise TemplateProblem(f"模板无法渲染：{exc}") from None


def render(template: jinja2.Template, context: Mapping[str, Any]) -> str:
    """Render on one line (see `inspector.text.one_line`); a text past `TEMPLATE_OUTPUT_CHARS` is
    cut. A template that fails on an audit's data is the rule's fault: `RulePackError` at the
    template's key."""
    try:
        # a control character from the data (a name typed with one) has no place in a message.
        # The context is given as it is (shared), not copied twice per render as `generate` does:
        # a template cannot change it (no calls; a `set` writes to the render's own names)
        variables = context if type(context) is dict else dict(context)
        parts = template.root_render_func(template.new_context(variables, shared=True))
        return without_control_characters(one_line(_bounded_text(parts, cut=True)))
    except (
        TemplateLimit,
        TypeError,
        ValueError,
        ArithmeticError,
        LookupError,
        RecursionError,
        jinja2.TemplateError,
    ) as exc:
        file, line, column, key = getattr(template, "origin", ("", 0, 0, ""))
        reason = str(exc) if isinstance(exc, TemplateLimit) else f"{type(exc).__name__}：{exc}"
        raise RulePackError(
            [
                Problem(
                    file or "（规则包）",
                    line,
                    key,
                    "template_render",
                    f"模板用本次审核的数据渲染失败：{reason}",
                    column=column,
                )
            ]
        ) from None


def nest(values: Mapping[str, object]) -> dict[str, Any]:
    """`{"school.name": x}` → `{"school": {"name": x}}`; numbers become `Num`, and a number with
    sub-values (`share.numerator`) carries them."""
    tree: dict[str, Any] = {}
    for path in sorted(values, key=lambda p: p.count(".")):
        parts = path.split(".")
        node: Any = tree
        for part in parts[:-1]:
            child = node.get(part) if isinstance(node, dict) else node.parts.get(part)
            if child is None:
                child = {}
            elif not isinstance(child, (dict, Num)):
                child = (
                    Num(exact(child))
                    if isinstance(child, (int, float, Fraction)) and not isinstance(child, bool)
                    else {}
                )
            if isinstance(node, dict):
                node[part] = child
            else:
                node.parts[part] = child
            node = child
        leaf = as_num(values[path])
        if isinstance(node, dict):
            existing = node.get(parts[-1])
            if isinstance(existing, Num) and isinstance(leaf, Num):
                existing.value = leaf.value
            else:
                node[parts[-1]] = leaf
        else:
            node.parts[parts[-1]] = leaf
    return tree


def params_context(params: Mapping[str, object]) -> dict[str, Any]:
    """A rule's params as its templates see them (`params.max_size`): the same for every finding of
    the rule, so built once per rule and shared (templates only read; no call can change them)."""
    return nest({name: value for name, value in params.items() if not isinstance(value, Mapping)}) | {
        name: {k: as_num(v) for k, v in value.items()} for name, value in params.items() if isinstance(value, Mapping)
    }


def template_context(
    values: Mapping[str, object],
    params: Mapping[str, Any],
    as_of: dt.date,
    *,
    observed: Sequence[Mapping[str, object]],
    threshold: Sequence[Mapping[str, object]],
    target_year: int,
    target_label: str = "",
) -> dict[str, Any]:
    """What a rule's templates see: the entity's values, the params (`params_context`), `as_of`,
    `target_year`, `target_label` (规划2025年目标, or 按规划进度2024年应达到的水平 for a progress
    reading), and the observed values and thresholds."""
    context = nest(values)
    context.update(
        params=params,
        as_of=as_of.isoformat(),
        target_year=target_year,
        target_label=target_label or f"规划{target_year}年目标",
        observed=[{**item, "value": as_num(item.get("value"))} for item in observed],
        threshold=[{**item, "value": as_num(item.get("value"))} for item in threshold],
    )
    return context
