"""Message and rectification templates: jinja2 in a sandbox, since rule files are data.

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
from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from ..jinja_cache import bytecode_cache
from ..numbers import Exact, Interval, Surd, Value, distinct_digits, interval_arith, exact, exact_digits, format_decimal, format_percent, shortest, trim
from ..text import one_line


class Num:
    """An exact number as templates see it; `decimals` is its field's precision (of the percentage
    for a `percent` field), when it comes from a field."""

    __slots__ = ("value", "parts", "decimals", "percent")

    def __init__(self, value: Exact, parts: Mapping[str, Any] | None = None, *, decimals: int | None = None,
                 percent: bool = False) -> None:
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
            return "–".join(str(Num(v, decimals=self.decimals, percent=self.percent)) for v in (self.value.lo, self.value.hi))
        if self.decimals is None:
            return shortest(self.value, 4)
        return trim(format_decimal(self.value, self.decimals + (2 if self.percent else 0)), self.value)

    __repr__ = __str__

    def __format__(self, spec: str) -> str:
        return format(float(self.value), spec) if spec else str(self)

    def __float__(self) -> float:
        return float(self.value)

    def __int__(self) -> int:
        return int(float(self.value)) if isinstance(self.value, Surd) else int(self.value)

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
        left, right = (Fraction(other_value), Fraction(self.value)) if reflected else (Fraction(self.value), Fraction(other_value))
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
        return bool(self.value < _value(other))

    def __le__(self, other: object) -> bool:
        return bool(self.value <= _value(other))

    def __gt__(self, other: object) -> bool:
        return bool(self.value > _value(other))

    def __ge__(self, other: object) -> bool:
        return bool(self.value >= _value(other))


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
        if isinstance(value, Num):
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


def _environment(undefined: type[jinja2.Undefined]) -> SandboxedEnvironment:
    env = SandboxedEnvironment(undefined=undefined, autoescape=False, keep_trailing_newline=False)
    env.filters["pct"] = pct
    env.filters["num"] = num
    return env


_RUNTIME = _environment(jinja2.Undefined)
_STRICT = _environment(jinja2.StrictUndefined)


class TemplateProblem(Exception):
    def __init__(self, message: str, line: int = 1) -> None:
        self.message = message
        self.line = line
        super().__init__(message)


@functools.lru_cache(maxsize=4096)
def _compiled(source: str) -> tuple[jinja2.Template, jinja2.Template, frozenset[str]]:
    """The template for rendering, the strict one for checking (the same code: the environments
    differ only in what an undefined name does), and the names it reads. Compiled code is kept
    between runs in jinja2's bytecode cache, keyed by the source."""
    from jinja2 import meta

    try:
        tree = _STRICT.parse(source)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateProblem(f"模板语法错误：{exc.message}", exc.lineno or 1) from None
    names = frozenset(meta.find_undeclared_variables(tree))
    cache = bytecode_cache("rules")
    bucket = cache.get_bucket(_RUNTIME, hashlib.sha256(source.encode()).hexdigest(), None, source) if cache else None
    code = bucket.code if bucket is not None else None
    if code is None:
        code = _RUNTIME.compile(tree)  # type: ignore[arg-type]  # jinja2 compiles a parsed tree as it is
        if bucket is not None and cache is not None:
            bucket.code = code
            cache.set_bucket(bucket)
    runtime = jinja2.Template.from_code(_RUNTIME, code, _RUNTIME.make_globals(None))
    strict = jinja2.Template.from_code(_STRICT, code, _STRICT.make_globals(None))
    return runtime, strict, names


def compile_template(source: str) -> jinja2.Template:
    """The template as findings render it: a value missing from an entity renders as nothing."""
    return _compiled(source)[0]


def template_names(source: str) -> frozenset[str]:
    """The top-level names a template reads (`school` for `{{ school.name }}`)."""
    return _compiled(source)[2]


@functools.lru_cache(maxsize=4096)
def template_paths(source: str) -> frozenset[str]:
    """The dotted names a template reads (`school.name`, `size`): a finding fetches only these
    fields (and, for a name used whole, every field under it)."""
    from jinja2 import nodes

    tree = _STRICT.parse(source)
    found: set[str] = set()
    inner: set[int] = set()
    for node in tree.find_all(nodes.Getattr):
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
    named = {name.name for name in tree.find_all(nodes.Name)}
    covered = {path.split(".", 1)[0] for path in found}
    # a name used without an attribute (`{{ size }}`, `{{ school }}`) is read whole
    whole = {name for name in named if name not in covered} | {
        name.name for name in tree.find_all(nodes.Name) if name.name in covered and _used_bare(tree, name.name)}
    return frozenset(found | whole)


def _used_bare(tree: Any, name: str) -> bool:
    from jinja2 import nodes

    attribute_heads = {id(node.node) for node in tree.find_all(nodes.Getattr)}
    return any(node.name == name and id(node) not in attribute_heads for node in tree.find_all(nodes.Name))


def check_template(source: str, sample: Mapping[str, Any]) -> None:
    """Render against a context holding every name a finding can offer; unknown names fail."""
    try:
        _compiled(source)[1].render(sample)
    except jinja2.UndefinedError as exc:
        raise TemplateProblem(f"模板引用了不存在的名称：{exc.message}") from None
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateProblem(f"模板语法错误：{exc.message}", exc.lineno or 1) from None
    except (TypeError, ValueError, ArithmeticError, jinja2.TemplateError) as exc:
        raise TemplateProblem(f"模板无法渲染：{exc}") from None


def render(template: jinja2.Template, context: Mapping[str, Any]) -> str:
    """Render on one line (see `inspector.text.one_line`)."""
    return one_line(template.render(context))


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
                child = Num(exact(child)) if isinstance(child, (int, float, Fraction)) and not isinstance(child, bool) else {}
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


def template_context(
    values: Mapping[str, object],
    params: Mapping[str, object],
    as_of: dt.date,
    *,
    observed: Sequence[Mapping[str, object]],
    threshold: Sequence[Mapping[str, object]],
    target_year: int,
) -> dict[str, Any]:
    context = nest(values)
    context.update(
        params=nest({name: value for name, value in params.items() if not isinstance(value, Mapping)})
        | {name: {k: as_num(v) for k, v in value.items()} for name, value in params.items() if isinstance(value, Mapping)},
        as_of=as_of.isoformat(), target_year=target_year,
        observed=[{**item, "value": as_num(item.get("value"))} for item in observed],
        threshold=[{**item, "value": as_num(item.get("value"))} for item in threshold],
    )
    return context
