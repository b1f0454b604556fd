"""Engine-neutral normal form of a checked condition.

A rule is split into three questions, each a negation-free formula over single-field tests:

* `defined`: every field the condition reads is present, every looked-up key is in its table
  and no divisor is 0 — otherwise the entity is *not evaluated* for this rule (a data gap,
  never a silent pass);
* `holds`: the condition is true (a finding);
* `fails`: the condition is false (the entity passes).

Negation is pushed down to the tests (De Morgan, complemented operators), which is exact once
`defined` holds. Every test has a field on its left, as the Rete engine's alpha nodes need.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

from .typed import (
    Calc,
    Cmp,
    Cond,
    Const,
    Expr,
    Field,
    Logic,
    Lookup,
    Member,
    Negation,
    Present,
    divisors_of,
    fields_of,
    fold,
    lookups_of,
)

COMPLEMENT = {"==": "!=", "!=": "==", "<": ">=", ">=": "<", ">": "<=", "<=": ">"}
MIRROR = {"==": "==", "!=": "!=", "<": ">", ">": "<", "<=": ">=", ">=": "<="}


@dataclass(frozen=True)
class Ref:
    """The value of another field of the same fact."""

    path: str


@dataclass(frozen=True)
class Arith:
    op: str
    left: Operand
    right: Operand


Operand = Union[Const, Ref, Arith]


@dataclass(frozen=True)
class Test:
    path: str
    op: str
    rhs: Operand


@dataclass(frozen=True)
class Has:
    path: str
    present: bool


@dataclass(frozen=True)
class All:
    items: tuple[Formula, ...]


@dataclass(frozen=True)
class AnyOf:
    items: tuple[Formula, ...]


@dataclass(frozen=True)
class Truth:
    value: bool


Formula = Union[Test, Has, All, AnyOf, Truth]
TRUE = Truth(True)
FALSE = Truth(False)


class NormalFormError(Exception):
    """A comparison the engine cannot express (no side is a single field)."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


def all_of(*items: Formula) -> Formula:
    flat: list[Formula] = []
    for item in items:
        if item == TRUE:
            continue
        if item == FALSE:
            return FALSE
        flat.extend(item.items if isinstance(item, All) else (item,))
    # a test on a field already requires it to be present: drop the separate presence check
    tested = {item.path for item in flat if isinstance(item, Test)}
    flat = [item for item in dict.fromkeys(flat) if not (isinstance(item, Has) and item.present and item.path in tested)]
    if not flat:
        return TRUE
    return flat[0] if len(flat) == 1 else All(tuple(flat))


def any_of(*items: Formula) -> Formula:
    flat: list[Formula] = []
    for item in items:
        if item == FALSE:
            continue
        if item == TRUE:
            return TRUE
        flat.extend(item.items if isinstance(item, AnyOf) else (item,))
    if not flat:
        return FALSE
    return flat[0] if len(flat) == 1 else AnyOf(tuple(flat))


def normalize(cond: Cond, positive: bool = True) -> Formula:
    """`cond` (or its negation) as a negation-free formula, exact where `defined(cond)` holds."""
    if isinstance(cond, Const):
        return Truth(bool(cond.value) == positive)
    if isinstance(cond, Negation):
        return normalize(cond.item, not positive)
    if isinstance(cond, Logic):
        parts = [normalize(item, positive) for item in cond.items]
        conjunctive = (cond.op == "and") == positive
        return all_of(*parts) if conjunctive else any_of(*parts)
    if isinstance(cond, Present):
        return Has(cond.field.path, positive)
    if isinstance(cond, Member):
        inside = positive != cond.negated
        tests = [_compare("==" if inside else "!=", cond.item, value) for value in cond.values]
        return any_of(*tests) if inside else all_of(*tests)
    if isinstance(cond, Cmp):
        return _compare(cond.op if positive else COMPLEMENT[cond.op], cond.left, cond.right)
    raise TypeError(f"unexpected node {cond!r}")


def _compare(op: str, left: Expr, right: Expr) -> Formula:
    lookup = next((side for side in (left, right) if isinstance(side, Lookup)), None)
    if lookup is not None:
        # expand the table: one branch per key, the key test keeping the branch exact
        branches = []
        for key, value in lookup.table:
            constant = Const(value, "number")
            new_left = constant if left is lookup else left
            new_right = constant if right is lookup else right
            branches.append(all_of(Test(lookup.key.path, "==", Const(key, "text")), _compare(op, new_left, new_right)))
        return any_of(*branches)
    if isinstance(left, Const) and isinstance(right, Const):
        return Truth(fold(op, left.value, right.value))
    if isinstance(left, Field):
        return Test(left.path, op, _operand(right))
    if isinstance(right, Field):
        return Test(right.path, MIRROR[op], _operand(left))
    raise NormalFormError("比较的一侧须为单个字段（如 size > params.x，而不是 size * 2 > params.x）")


def _operand(expr: Expr) -> Operand:
    if isinstance(expr, Const):
        return expr
    if isinstance(expr, Field):
        return Ref(expr.path)
    if isinstance(expr, Calc):
        return Arith(expr.op, _operand(expr.left), _operand(expr.right))
    raise NormalFormError("查表参数不能参与算术运算")


def defined(cond: Cond) -> Formula:
    """When `cond` can be decided: its fields present, lookup keys known, divisors non-zero."""
    parts: list[Formula] = [Has(f.path, True) for f in fields_of(cond)]
    for lookup in lookups_of(cond):
        parts.append(any_of(*(Test(lookup.key.path, "==", Const(k, "text")) for k, _ in lookup.table)))
    for divisor in divisors_of(cond):
        parts.append(Test(divisor.path, "!=", Const(0, "number")))
    return all_of(*parts)


def undefined(cond: Cond) -> Formula:
    """The negation of `defined(cond)`, negation-free."""
    parts: list[Formula] = [Has(f.path, False) for f in fields_of(cond)]
    for lookup in lookups_of(cond):
        parts.append(all_of(*(Test(lookup.key.path, "!=", Const(k, "text")) for k, _ in lookup.table)))
    for divisor in divisors_of(cond):
        parts.append(Test(divisor.path, "==", Const(0, "number")))
    return any_of(*parts)


@dataclass(frozen=True)
class Verdicts:
    """The three engine rules of one inspection rule (scope included)."""

    fail: Formula
    passes: Formula
    gap: Formula


def verdict_formulas(scope: Cond | None, condition: Cond) -> Verdicts:
    in_scope = TRUE if scope is None else all_of(defined(scope), normalize(scope))
    known = defined(condition)
    return Verdicts(
        fail=all_of(in_scope, known, normalize(condition)),
        passes=all_of(in_scope, known, normalize(condition, positive=False)),
        gap=all_of(in_scope, undefined(condition)),
    )


MAX_DISJUNCTS = 64
Atom = Union[Test, Has]


def disjuncts(formula: Formula) -> list[tuple[Atom, ...]]:
    """The formula as a disjunction of conjunctions of single-field tests (disjunctive normal form).

    The engine evaluates flat conjunctions in its alpha network; nested `$or` inside `$and` is
    compiled into beta-node expression sequences capped at 32 entries, so every engine rule is
    one conjunction. Contradictions (`a == 1` and `a == 2`, a field both present and absent) are
    dropped. Raises `NormalFormError` beyond `MAX_DISJUNCTS` conjunctions.
    """
    if isinstance(formula, Truth):
        return [()] if formula.value else []
    if isinstance(formula, (Test, Has)):
        return [(formula,)]
    if isinstance(formula, AnyOf):
        result: list[tuple[Atom, ...]] = []
        for item in formula.items:
            result.extend(disjuncts(item))
            _check_size(result)
        return _unique(result)
    combined: list[tuple[Atom, ...]] = [()]
    for item in formula.items:  # All: the cross product of its items' disjuncts
        parts = disjuncts(item)
        combined = [tuple(dict.fromkeys(left + right)) for left in combined for right in parts]
        combined = [c for c in combined if not _contradicts(c)]
        _check_size(combined)
    return _unique(combined)


def _check_size(terms: list[tuple[Atom, ...]]) -> None:
    if len(terms) > MAX_DISJUNCTS:
        raise NormalFormError(f"条件展开后超过 {MAX_DISJUNCTS} 个分支，请拆分规则或先定义指标")


def _unique(terms: list[tuple[Atom, ...]]) -> list[tuple[Atom, ...]]:
    return list(dict.fromkeys(tuple(sorted(set(t), key=repr)) for t in terms))


def _contradicts(term: tuple[Atom, ...]) -> bool:
    present = {a.path for a in term if isinstance(a, Has) and a.present}
    absent = {a.path for a in term if isinstance(a, Has) and not a.present}
    tested = {a.path for a in term if isinstance(a, Test)}
    if absent & (present | tested):
        return True
    equals: dict[str, object] = {}
    for atom in term:
        if isinstance(atom, Test) and atom.op == "==" and isinstance(atom.rhs, Const):
            if atom.path in equals and equals[atom.path] != atom.rhs.value:
                return True
            equals[atom.path] = atom.rhs.value
    return False
