"""The plain evaluator: a checked condition evaluated directly on one fact, in Python.

It states the language's meaning in the simplest terms — a missing value makes every
comparison unknown (Kleene logic), and an entity whose verdict a missing value decides is
*not evaluated* — and exists to check the Rete engine (differential tests) and to compute
indicators over records, never to replace the engine for rule verdicts.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Literal

from ..numbers import Interval, bounded, bounds, compare_bounded, interval_arith
from .typed import Calc, Cmp, Cond, Const, Expr, Field, Fn, Logic, Lookup, Member, Negation, Present, arith, fold

Fact = Mapping[str, object]
Verdict = Literal["fail", "pass", "gap"]
_MISSING = object()


def value(expr: Expr, fact: Fact) -> object:
    if isinstance(expr, Const):
        return expr.value
    if isinstance(expr, Field):
        return fact.get(expr.path, _MISSING)
    if isinstance(expr, Lookup):
        key = fact.get(expr.key.path, _MISSING)
        return dict(expr.table).get(key, _MISSING) if key is not _MISSING else _MISSING  # type: ignore[call-overload]
    if isinstance(expr, Calc):
        left, right = value(expr.left, fact), value(expr.right, fact)
        if left is _MISSING or right is _MISSING or (expr.op == "/" and right == 0):
            return _MISSING
        if isinstance(left, Interval) or isinstance(right, Interval):
            result = interval_arith(expr.op, left, right)  # type: ignore[arg-type]
            return _MISSING if result is None else result
        return arith(expr.op, left, right)  # type: ignore[arg-type]
    if isinstance(expr, Fn):
        return _function(expr, fact)
    raise TypeError(f"unexpected expression {expr!r}")


def _function(expr: Fn, fact: Fact) -> object:
    if expr.name == "if":
        cond, then, other = expr.args
        decided = truth(cond, fact)  # type: ignore[arg-type]
        if decided is None:
            return _MISSING
        return value(then if decided else other, fact)  # type: ignore[arg-type]
    args = [value(arg, fact) for arg in expr.args]  # type: ignore[arg-type]
    if any(arg is _MISSING for arg in args):
        return _MISSING
    if any(isinstance(arg, Interval) for arg in args):
        return _bounded_function(expr.name, args)
    return _FUNCTIONS[expr.name](*args)


_FUNCTIONS: dict[str, Callable[..., object]] = {
    "min": min,
    "max": max,
    "floor": math.floor,
    "ceil": math.ceil,
    "abs": abs,
}


def _bounded_function(name: str, args: list[object]) -> object:
    """A function of intervals: min, max, floor and ceil are monotone, so they map the bounds."""
    if name == "abs":
        return _MISSING
    low = [bounds(arg)[0] for arg in args]  # type: ignore[arg-type]
    high = [bounds(arg)[1] for arg in args]  # type: ignore[arg-type]
    function = _FUNCTIONS[name]
    return bounded(function(*low), function(*high))  # type: ignore[arg-type]  # min/max/floor/ceil of exact numbers are exact


def evaluate(expr: Expr, fact: Fact) -> object | None:
    """An indicator formula's value on one fact, or None when it cannot be computed."""
    result = value(expr, fact)
    return None if result is _MISSING else result


def truth(cond: Cond, fact: Fact) -> bool | None:
    """True, False, or None when a value it needs is missing (Kleene's three-valued logic)."""
    if isinstance(cond, Const):
        return bool(cond.value)
    if isinstance(cond, Present):
        return cond.field.path in fact
    if isinstance(cond, Negation):
        inner = truth(cond.item, fact)
        return None if inner is None else not inner
    if isinstance(cond, Logic):
        decisive = cond.op == "or"
        unknown = False
        for item in cond.items:
            result = truth(item, fact)
            if result is decisive:
                return decisive
            unknown = unknown or result is None
        return None if unknown else not decisive
    if isinstance(cond, Member):
        if not cond.values:  # no value is in an empty list, a missing one included
            return cond.negated
        member = value(cond.item, fact)
        if member is _MISSING or isinstance(member, Interval):
            return None
        return (member in {c.value for c in cond.values}) != cond.negated
    if isinstance(cond, Cmp):
        left, right = value(cond.left, fact), value(cond.right, fact)
        if left is _MISSING or right is _MISSING:
            return None
        if isinstance(left, Interval) or isinstance(right, Interval):
            return compare_bounded(cond.op, left, right)  # type: ignore[arg-type]
        return fold(cond.op, left, right)  # type: ignore[arg-type]
    raise TypeError(f"unexpected condition {cond!r}")


def verdict(scope: Cond | None, condition: Cond, fact: Fact) -> Verdict | None:
    """`None` when out of scope; otherwise fail (the condition holds), pass, or gap — each decided
    for every value the fact's missing or bounded values could take (Kleene's logic)."""
    if scope is not None:
        inside = truth(scope, fact)
        if inside is False:
            return None
        if inside is None:
            return "gap"
    holds = truth(condition, fact)
    if holds is None:
        return "gap"
    return "fail" if holds else "pass"
