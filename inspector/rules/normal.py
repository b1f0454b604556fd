"""Engine-neutral normal form of a checked condition.

A rule is split into three questions, each a negation-free formula over single-field tests:

* it *fails*: in scope, and the condition holds;
* it *passes*: in scope, and the condition does not hold;
* it is *out of scope* (not applicable).

Each is decided for every value a missing or bounded value could take (Kleene's three-valued
logic): a test on a missing field is false in both polarities, so `a or b` with `a` true holds
whatever `b` is, and `a and b` with `b` missing is decided by neither. An entity that is none of
the three is *not evaluated*: a value the verdict needs is missing (a data gap, never a silent
pass). Negation is pushed down to the tests (De Morgan, complemented operators). Every test has a
field on its left, as the Rete engine's alpha nodes need.

Numbers reach the engine as integers (see `inspector.numbers`). A `Lowering` turns each numeric
comparison into one the engine decides exactly: a field held as an integer of its precision
against a constant or a field of the same precision is tested directly (the constant scaled,
and rounded the way only integers allow: `size >= 55.5` is `size >= 56`); any other comparison
(a share, a quotient, a product, a square root) becomes an `Operands` atom: the fact carries two
integers computed exactly from its values, ordered as the two sides are, and the engine
compares those. The engine itself never does arithmetic.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction

from .typed import (
    Calc,
    Cmp,
    Cond,
    Const,
    Expr,
    Field,
    Fn,
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
class Test:
    path: str
    op: str
    rhs: Const | Ref


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


Formula = Test | Has | All | AnyOf | Truth
TRUE = Truth(True)
FALSE = Truth(False)


class NormalFormError(Exception):
    """A comparison the engine cannot express."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


@dataclass(frozen=True)
class Operands:
    """A comparison the engine reads as two integers the fact carries under `key + "<"` (the
    left side) and `key + ">"` (the right side), computed by `inspector.numbers.operands`.

    A side that may be bounded (a share over rows with blank cells is an interval) is read at
    the bound that makes the comparison hold for every value it can take: `sides` names it
    (`lo` or `hi`; "" for a side that is always a single value)."""

    key: str
    left: Expr
    right: Expr
    sides: tuple[str, str] = ("", "")

    @property
    def left_path(self) -> str:
        return self.key + "<"

    @property
    def right_path(self) -> str:
        return self.key + ">"


@dataclass
class Lowering:
    """Collects the `Operands` atoms of one rule (or lifecycle) while its formulas are built."""

    prefix: str = "@"
    atoms: dict[tuple[Expr, Expr, tuple[str, str]], Operands] = field(default_factory=dict)

    def operands(self, left: Expr, right: Expr, sides: tuple[str, str] = ("", "")) -> Operands:
        key = (left, right, sides)
        atom = self.atoms.get(key)
        if atom is None:
            atom = self.atoms[key] = Operands(f"{self.prefix}{len(self.atoms)}", left, right, sides)
        return atom

    def compare(self, op: str, left: Expr, right: Expr) -> Formula:
        if left.type != "number" or right.type != "number":
            return _plain(op, left, right)
        if isinstance(right, Field) and not isinstance(left, Field):
            left, right, op = right, left, MIRROR[op]
        if isinstance(left, Field) and left.info.form == "scaled" and not left.info.bounded:
            if isinstance(right, Const):
                return _scaled_constant(left, op, Fraction(right.value) * left.info.scale)
            if (
                isinstance(right, Field)
                and right.info.form == "scaled"
                and right.info.scale == left.info.scale
                and not right.info.bounded
            ):
                return Test(left.path, op, Ref(right.path))
        if not (_may_be_bounded(left) or _may_be_bounded(right)):
            atom = self.operands(left, right)
            return Test(atom.left_path, op, Ref(atom.right_path))
        return self._definitely(op, left, right)

    def _definitely(self, op: str, left: Expr, right: Expr) -> Formula:
        """`left op right` for every value bounded sides can take: `<` on the left's highest and
        the right's lowest, `>` the other way round, `==` on both pairs, `!=` as `<` or `>`."""

        def test(sides: tuple[str, str], test_op: str) -> Test:
            atom = self.operands(left, right, sides)
            return Test(atom.left_path, test_op, Ref(atom.right_path))

        if op in ("<", "<="):
            return test(("hi", "lo"), op)
        if op in (">", ">="):
            return test(("lo", "hi"), op)
        if op == "==":
            return all_of(test(("lo", "hi"), "=="), test(("hi", "lo"), "=="))
        return any_of(test(("hi", "lo"), "<"), test(("lo", "hi"), ">"))


def _may_be_bounded(expr: Expr) -> bool:
    """Whether an expression reads a field that may hold an interval (an indicator over rows with
    blank cells)."""
    if isinstance(expr, Field):
        return expr.info.bounded
    if isinstance(expr, Calc):
        return _may_be_bounded(expr.left) or _may_be_bounded(expr.right)
    if isinstance(expr, Fn):
        return any(
            _may_be_bounded(arg) for arg in expr.args if not isinstance(arg, (Cmp, Logic, Member, Negation, Present))
        )
    return False


def _scaled_constant(field_: Field, op: str, units: Fraction) -> Formula:
    """`field op units` for a field whose values are integers: exact for any rational `units`."""
    if units.denominator == 1:
        return Test(field_.path, op, Const(units.numerator, "number"))
    low, high = math.floor(units), math.ceil(units)
    if op == ">=":
        return Test(field_.path, ">=", Const(high, "number"))
    if op == ">":
        return Test(field_.path, ">", Const(low, "number"))
    if op == "<=":
        return Test(field_.path, "<=", Const(low, "number"))
    if op == "<":
        return Test(field_.path, "<", Const(high, "number"))
    # an integer never equals a non-integer; a missing value still leaves `!=` undecided
    return Has(field_.path, True) if op == "!=" else FALSE


def _plain(op: str, left: Expr, right: Expr) -> Formula:
    if isinstance(left, Field) and isinstance(right, Const):
        return Test(left.path, op, right)
    if isinstance(right, Field) and isinstance(left, Const):
        return Test(right.path, MIRROR[op], left)
    if isinstance(left, Field) and isinstance(right, Field):
        return Test(left.path, op, Ref(right.path))
    raise NormalFormError("比较的一侧须为单个字段（如 size > params.x，而不是 size * 2 > params.x）")


class _Plain(Lowering):
    """For formulas whose numbers are all plain integers (the ledger's lifecycle): no atoms."""

    def operands(self, left: Expr, right: Expr, sides: tuple[str, str] = ("", "")) -> Operands:
        raise NormalFormError("此处只能比较整数字段与常数（不支持比例、商或乘积）")


PLAIN: Lowering = _Plain("@")


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
    flat = [
        item for item in dict.fromkeys(flat) if not (isinstance(item, Has) and item.present and item.path in tested)
    ]
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


def normalize(cond: Cond, positive: bool = True, lowering: Lowering = PLAIN) -> Formula:
    """`cond` (or its negation) as a negation-free formula, exact where `defined(cond)` holds."""
    if isinstance(cond, Const):
        return Truth(bool(cond.value) == positive)
    if isinstance(cond, Negation):
        return normalize(cond.item, not positive, lowering)
    if isinstance(cond, Logic):
        parts = [normalize(item, positive, lowering) for item in cond.items]
        conjunctive = (cond.op == "and") == positive
        return all_of(*parts) if conjunctive else any_of(*parts)
    if isinstance(cond, Present):
        return Has(cond.field.path, positive)
    if isinstance(cond, Member):
        inside = positive != cond.negated
        tests = [_compare("==" if inside else "!=", cond.item, value, lowering) for value in cond.values]
        return any_of(*tests) if inside else all_of(*tests)
    if isinstance(cond, Cmp):
        return _compare(cond.op if positive else COMPLEMENT[cond.op], cond.left, cond.right, lowering)
    raise TypeError(f"unexpected node {cond!r}")


def _compare(op: str, left: Expr, right: Expr, lowering: Lowering) -> Formula:
    lookup = next((side for side in (left, right) if isinstance(side, Lookup)), None)
    if lookup is not None:
        # expand the table: one branch per key, the key test keeping the branch exact
        branches = []
        for key, value in lookup.table:
            constant = Const(value, "number")
            new_left = constant if left is lookup else left
            new_right = constant if right is lookup else right
            branches.append(
                all_of(Test(lookup.key.path, "==", Const(key, "text")), _compare(op, new_left, new_right, lowering))
            )
        return any_of(*branches)
    if any(isinstance(node, Lookup) for side in (left, right) for node in _parts(side)):
        raise NormalFormError("查表参数不能参与算术运算，请先定义指标")
    if isinstance(left, Const) and isinstance(right, Const):
        return Truth(fold(op, left.value, right.value))
    return lowering.compare(op, left, right)


def _parts(expr: Expr) -> list[Expr]:
    if isinstance(expr, Calc):
        return [expr, *_parts(expr.left), *_parts(expr.right)]
    if isinstance(expr, Fn):
        return [expr, *(node for arg in expr.args for node in _parts(arg))]  # type: ignore[arg-type]
    return [expr]


def defined(cond: Cond, lowering: Lowering = PLAIN) -> Formula:
    """When `cond` can be decided: its fields present, lookup keys known, divisors non-zero."""
    parts: list[Formula] = [Has(f.path, True) for f in fields_of(cond)]
    for lookup in lookups_of(cond):
        parts.append(any_of(*(Test(lookup.key.path, "==", Const(k, "text")) for k, _ in lookup.table)))
    for divisor in divisors_of(cond):
        parts.append(lowering.compare("!=", divisor, Const(0, "number")))
    return all_of(*parts)


@dataclass(frozen=True)
class Verdicts:
    """The three engine rules of one inspection rule: it fails, it passes, it is out of scope —
    each for every value the entity's missing or bounded values could take. An entity that is
    none of the three is not evaluated (a value the verdict needs is missing, or blank cells leave
    it open)."""

    fail: Formula
    passes: Formula
    outside: Formula


def verdict_formulas(scope: Cond | None, condition: Cond, lowering: Lowering = PLAIN) -> Verdicts:
    in_scope = TRUE if scope is None else normalize(scope, True, lowering)
    return Verdicts(
        fail=all_of(in_scope, normalize(condition, True, lowering)),
        passes=all_of(in_scope, normalize(condition, False, lowering)),
        outside=FALSE if scope is None else normalize(scope, False, lowering),
    )


MAX_DISJUNCTS = 64
Atom = Test | Has


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
