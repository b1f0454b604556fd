"""Exact numbers: how cells become numbers, how numbers compare, how they are shown.

Every number the tool decides on is exact. A cell is read at its column's declared precision
into an integer count of that precision's units (an area of 4.50 ㎡ at 0.01 ㎡ is 450); values
computed from cells (a share, a per-pupil area) are `Fraction`s; a coefficient of variation,
which is a square root, is a `Surd` (c·√r with rational c and r), compared by squaring. Floats
appear only when a chart needs a bar length. Shown numbers are rounded half up (四舍五入) to
the precision asked for, never in exponent notation, and with more digits where rounding would
make an observed value look equal to the threshold it was compared with.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation, localcontext
from fractions import Fraction
from functools import total_ordering

INT64_SAFE = 1 << 62  # operands the engine compares stay below this in magnitude (no overflow in int64)


@total_ordering
@dataclass(frozen=True)
class Surd:
    """`coefficient · √radicand`, exactly (radicand ≥ 0): a coefficient of variation S / X̄."""

    coefficient: Fraction
    radicand: Fraction

    def __post_init__(self) -> None:
        if self.radicand < 0:
            raise ValueError("negative radicand")

    def sign(self) -> int:
        if self.radicand == 0 or self.coefficient == 0:
            return 0
        return 1 if self.coefficient > 0 else -1

    def square(self) -> Fraction:
        """The square, with the sign of the value: c·|c|·r."""
        return self.coefficient * abs(self.coefficient) * self.radicand

    def _cmp(self, other: object) -> int:
        if isinstance(other, Surd):
            left, right = self.square(), other.square()
        elif isinstance(other, (int, Fraction)):
            left, right = self.square(), Fraction(other) * abs(Fraction(other))
        else:
            return NotImplemented  # type: ignore[no-any-return]  # typeshed types NotImplemented as Any; __lt__ passes it on
        return (left > right) - (left < right)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, (Surd, int, Fraction)) or isinstance(other, bool):
            return NotImplemented
        return self._cmp(other) == 0

    def __lt__(self, other: object) -> bool:
        result = self._cmp(other)
        if result is NotImplemented:
            return NotImplemented
        return result < 0

    def __hash__(self) -> int:
        root = _exact_sqrt(self.radicand)
        return hash(self.coefficient * root) if root is not None else hash((self.coefficient, self.radicand))

    def __float__(self) -> float:
        return float(self.coefficient) * math.sqrt(self.radicand)

    def rational(self) -> Fraction | None:
        """The value as a fraction when the radicand is a perfect square."""
        root = _exact_sqrt(self.radicand)
        return None if root is None else self.coefficient * root


Exact = int | Fraction | Surd


@dataclass(frozen=True)
class Interval:
    """A value known only to lie between `lo` and `hi`, both included: a share counted over rows
    whose cells are partly blank is bounded by what the blanks could be. Only rationals."""

    lo: int | Fraction
    hi: int | Fraction

    def __post_init__(self) -> None:
        if self.lo > self.hi:
            raise ValueError("empty interval")


Value = int | Fraction | Surd | Interval


def bounded(lo: int | Fraction, hi: int | Fraction) -> int | Fraction | Interval:
    """The value itself when both bounds agree, else the interval."""
    return lo if lo == hi else Interval(lo, hi)


def bounds(value: Value) -> tuple[Exact, Exact]:
    """(lowest, highest) a value can be: a point is both."""
    if isinstance(value, Interval):
        return value.lo, value.hi
    return value, value


def interval_arith(op: str, left: Value, right: Value) -> Value | None:
    """Interval arithmetic on exact values; None for a division by an interval holding 0."""
    (a, b), (c, d) = bounds(left), bounds(right)
    if any(isinstance(x, Surd) for x in (a, b, c, d)):
        raise TypeError("开方值不能参与算术运算")
    a, b, c, d = Fraction(a), Fraction(b), Fraction(c), Fraction(d)  # type: ignore[arg-type]
    if op == "+":
        lo, hi = a + c, b + d
    elif op == "-":
        lo, hi = a - d, b - c
    elif op == "*":
        products = (a * c, a * d, b * c, b * d)
        lo, hi = min(products), max(products)
    else:
        if c <= 0 <= d:
            return None
        quotients = (a / c, a / d, b / c, b / d)
        lo, hi = min(quotients), max(quotients)
    return _simple(bounded(_simple(lo), _simple(hi)))  # type: ignore[arg-type]


def _simple(value: Value) -> Value:
    if isinstance(value, Fraction) and value.denominator == 1:
        return value.numerator
    return value


def compare_bounded(op: str, left: Value, right: Value) -> bool | None:
    """`left op right` decided for every value the two can take: True, False, or None when the
    bounds leave it open."""
    (a, b), (c, d) = bounds(left), bounds(right)
    if op in ("<", "<="):
        strict = op == "<"
        if (compare(b, c) < 0) if strict else (compare(b, c) <= 0):
            return True
        if (compare(a, d) >= 0) if strict else (compare(a, d) > 0):
            return False
        return None
    if op in (">", ">="):
        flipped = compare_bounded("<" if op == ">" else "<=", right, left)
        return flipped
    if op == "==":
        if compare(a, b) == 0 and compare(c, d) == 0 and compare(a, c) == 0:
            return True
        if compare(b, c) < 0 or compare(a, d) > 0:
            return False
        return None
    equal = compare_bounded("==", left, right)
    return None if equal is None else not equal


def _exact_sqrt(value: Fraction) -> Fraction | None:
    num, den = value.numerator, value.denominator
    rn, rd = math.isqrt(num), math.isqrt(den)
    return Fraction(rn, rd) if rn * rn == num and rd * rd == den else None


def sqrt(value: Fraction) -> Exact:
    """√value exactly: a fraction when it is one, a `Surd` otherwise."""
    root = _exact_sqrt(value)
    return root if root is not None else Surd(Fraction(1), value)


def div(left: Exact, right: Fraction) -> Exact:
    if isinstance(left, Surd):
        return Surd(left.coefficient / right, left.radicand)
    return Fraction(left) / right


def compare(left: Exact, right: Exact) -> int:
    """-1, 0 or 1 as `left` is below, equal to or above `right`, exactly."""
    if isinstance(right, Surd) and not isinstance(left, Surd):
        return -right._cmp(left)
    if isinstance(left, Surd):
        return left._cmp(right)
    return (left > right) - (left < right)


def operands(left: Exact, right: Exact) -> tuple[int, int]:
    """Two integers ordered exactly as `left` and `right` are, for an engine that compares 64-bit
    integers: both sides multiplied by their common denominator (squared first where a side is
    a root); beyond 2⁶² in magnitude, the sign of their difference and 0, which orders the same."""
    if isinstance(left, Surd) or isinstance(right, Surd):
        lq = left.square() if isinstance(left, Surd) else Fraction(left) * abs(Fraction(left))
        rq = right.square() if isinstance(right, Surd) else Fraction(right) * abs(Fraction(right))
        left, right = lq, rq
    lf, rf = Fraction(left), Fraction(right)
    common = lf.denominator * rf.denominator // math.gcd(lf.denominator, rf.denominator)
    x, y = lf.numerator * (common // lf.denominator), rf.numerator * (common // rf.denominator)
    if abs(x) < INT64_SAFE and abs(y) < INT64_SAFE:
        return x, y
    return (x > y) - (x < y), 0


def exact(value: float | Fraction) -> int | Fraction:
    """A number from YAML or a template as an exact value: a float is taken as the decimal it was
    written as (its shortest round-trip text: 0.15 → 3/20), never as its binary approximation."""
    if isinstance(value, bool):
        raise TypeError("a boolean is not a number")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise NumberError("not_finite", f"不是有限数值：{value}")
        value = Fraction(Decimal(repr(value)))
    if isinstance(value, Fraction) and value.denominator == 1:
        return value.numerator
    return value


# -- reading ------------------------------------------------------------------------------------

_DECIMAL = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")


class NumberError(ValueError):
    """A cell that is not a number of its column's kind; `code` is stable, the message Chinese."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(message)


def parse_decimal(text: str) -> Fraction:
    """The exact value of a decimal written as text: `1234.5`, `1,234.50`, `-0.5`, `1.2e3`.

    NaN, infinity and anything else raise `NumberError`. Thousands separators are accepted
    only in their usual places."""
    raw = text.strip().replace("，", ",")
    if "," in raw:
        whole, dot, frac = raw.partition(".")
        sign = whole[:1] if whole[:1] in "+-" else ""
        groups = whole[len(sign) :].split(",")
        # a first group of 0 is never a thousands group: 0,056 is a decimal comma, not 56
        first = groups[0]
        if not (
            first.isdigit()
            and len(first) <= 3
            and not first.startswith("0")
            and all(len(g) == 3 and g.isdigit() for g in groups[1:])
        ):
            raise NumberError("number", f"数值格式有误：“{text}”")
        raw = sign + "".join(groups) + dot + frac
    if not _DECIMAL.match(raw):
        lowered = raw.lower()
        if lowered.lstrip("+-") in ("nan", "inf", "infinity"):
            raise NumberError("not_finite", f"不是有限数值：“{text}”")
        raise NumberError("number", f"应为数值：“{text}”")
    _mantissa, _, exponent = raw.lower().partition("e")
    if exponent and abs(int(exponent)) > 30:
        raise NumberError("number_magnitude", f"数值数量级不合理：“{text}”")
    with localcontext() as ctx:
        ctx.prec = 60
        try:
            return Fraction(Decimal(raw))
        except InvalidOperation:  # pragma: no cover - the pattern admits only valid decimals
            raise NumberError("number", f"应为数值：“{text}”") from None


def float_text(value: float) -> str:
    """The shortest decimal text that reads back as `value` (how a spreadsheet number, a binary
    double, is turned into the decimal the user typed), never in exponent notation."""
    if not math.isfinite(value):
        raise NumberError("not_finite", f"不是有限数值：{value}")
    text = repr(value)
    if "e" in text or "E" in text:
        text = format(Decimal(text), "f")
    return text.removesuffix(".0") if text.endswith(".0") else text


def scaled(value: Fraction, decimals: int, *, text: str = "") -> int:
    """`value` in units of 10⁻ᵈᵉᶜⁱᵐᵃˡˢ, when it has no more decimals than that; else `NumberError`."""
    units: Fraction = value * 10**decimals
    if units.denominator != 1:
        shown = text or format_decimal(value, 12).rstrip("0").rstrip(".")
        if decimals == 0:
            raise NumberError("precision", f"应为整数：“{shown}”")
        raise NumberError("precision", f"最多保留 {decimals} 位小数：“{shown}”")
    return units.numerator


# -- showing ------------------------------------------------------------------------------------

Number = int | Fraction | Surd | float
_TENS = tuple(10**d for d in range(20))
_RATIONAL = frozenset({int, Fraction})


def _decimal(value: Number, digits: int) -> Decimal:
    if isinstance(value, Surd):
        rational = value.rational()
        if rational is not None:
            value = rational
        else:
            # round c·√r half up at `digits`: find n with (n - ½)·10⁻ᵈ ≤ value < (n + ½)·10⁻ᵈ exactly
            scale = 10**digits
            n = math.floor(float(value) * scale + 0.5)
            for candidate in (n - 1, n, n + 1):
                low = Fraction(2 * candidate - 1, 2 * scale)
                high = Fraction(2 * candidate + 1, 2 * scale)
                if compare(value, low) >= 0 and compare(value, high) < 0:
                    n = candidate
                    break
            return Decimal(n).scaleb(-digits)
    if isinstance(value, float):
        value = Fraction(Decimal(repr(value))) if math.isfinite(value) else Fraction(0)
    # half up on integers: n = ⌊p·10ᵈ/q + ½⌋ = (2·p·10ᵈ + q) // 2q for p ≥ 0 (mirrored below 0);
    # the same numbers as Fraction arithmetic at a fraction of its cost (this runs per shown number)
    if isinstance(value, int):
        n = value * _TENS[digits] if digits < len(_TENS) else value * 10**digits
    else:
        fraction = value if isinstance(value, Fraction) else Fraction(value)
        p, q = fraction.numerator, fraction.denominator
        scaled_p = abs(p) * (_TENS[digits] if digits < len(_TENS) else 10**digits)
        n = (2 * scaled_p + q) // (2 * q)
        if p < 0:
            n = -n
    return Decimal(n).scaleb(-digits)


def format_decimal(value: Number, digits: int) -> str:
    """`value` rounded half up to `digits` decimals, as plain text (no exponent)."""
    return format(_decimal(value, max(digits, 0)), "f")


def trim(text: str, value: Number | None = None) -> str:
    """`88.50` → `88.5`, `2.00` → `2`, `98.90%` → `98.9%` when the text is the value exactly (or no
    value is given): a rounded value keeps its places, so `75.00%` for 74.9988% does not read as
    exactly 75%."""
    suffix = "%" if text.endswith("%") else ""
    body = text.removesuffix("%")
    if "." not in body:
        return text
    if value is not None:
        shown = Fraction(Decimal(body)) / (100 if suffix else 1)
        if compare(shown, value if not isinstance(value, float) else Fraction(Decimal(repr(value)))) != 0:
            return text
    return body.rstrip("0").rstrip(".") + suffix


def format_percent(value: Number, digits: int) -> str:
    """A fraction of 1 as a percentage with `digits` decimals: 0.1234 → `12.34%`."""
    if isinstance(value, Surd):
        value = Surd(value.coefficient * 100, value.radicand)
    elif isinstance(value, float):
        value = Fraction(Decimal(repr(value))) * 100 if math.isfinite(value) else Fraction(0)
    else:
        value = Fraction(value) * 100
    return format_decimal(value, digits) + "%"


def shortest(value: Number, max_digits: int = 4) -> str:
    """An exact decimal with as few digits as it needs (4.5, 56, 0.15); beyond `max_digits`
    decimals, rounded there. Never `4.499999999999999`, `1e+04` or `3/20`."""
    if isinstance(value, float):
        value = Fraction(Decimal(repr(value))) if math.isfinite(value) else Fraction(0)
    for digits in range(max_digits + 1):
        text = format_decimal(value, digits)
        if not isinstance(value, Surd) and Fraction(Decimal(text)) == value:
            return text
    return format_decimal(value, max_digits)


def distinct_digits(
    value: Number, digits: int, others: tuple[Number, ...], *, percent: bool = False, limit: int = 6
) -> int:
    """The digits to show `value` with: `digits`, or more where the rounded text would equal a value
    of `others` (the thresholds it is read against) that `value` is not equal to."""
    rivals = [other for other in others if not _exact_equal(value, other)]  # equal ones may look equal
    if not rivals:
        return digits
    scale = 100 if percent else 1
    scaled_value = _times(value, scale)
    for extra in range(limit + 1):
        shown = Fraction(_decimal(scaled_value, digits + extra)) / scale
        if not any(_exact_equal(shown, other) for other in rivals):
            return digits + extra
    return digits + limit


def _times(value: Number, factor: int) -> Number:
    if isinstance(value, Surd):
        return Surd(value.coefficient * factor, value.radicand)
    if isinstance(value, float):
        return Fraction(Decimal(repr(value))) * factor if math.isfinite(value) else Fraction(0)
    return Fraction(value) * factor


def _exact_equal(left: Number, right: Number) -> bool:
    if type(left) in _RATIONAL and type(right) in _RATIONAL:  # the common case, without `compare`'s dispatch
        return left == right
    try:
        left_e = Fraction(Decimal(repr(left))) if isinstance(left, float) else left
        right_e = Fraction(Decimal(repr(right))) if isinstance(right, float) else right
        return compare(left_e, right_e) == 0
    except (TypeError, ValueError, InvalidOperation):
        return False


def exact_digits(value: Number, max_digits: int = 4) -> int:
    """The fewest decimals that show `value` exactly (at most `max_digits`)."""
    if isinstance(value, float):
        value = Fraction(Decimal(repr(value))) if math.isfinite(value) else Fraction(0)
    if isinstance(value, Surd):
        rational = value.rational()
        if rational is None:
            return max_digits
        value = rational
    for digits in range(max_digits + 1):
        if (Fraction(value) * 10**digits).denominator == 1:
            return digits
    return max_digits


# -- the text form of exact values (tables store them as strings) -----------------------------


def encode(value: Value) -> str:
    """A canonical text for an exact value: `7/3`, `-2`, `1/2*sqrt(3/5)`, an interval `3/5..2/3`."""
    if isinstance(value, Interval):
        return f"{_fraction_text(Fraction(value.lo))}..{_fraction_text(Fraction(value.hi))}"
    if isinstance(value, Surd):
        return f"{_fraction_text(value.coefficient)}*sqrt({_fraction_text(value.radicand)})"
    return _fraction_text(Fraction(value))


def decode(text: str) -> Value:
    if ".." in text:
        lo, _, hi = text.partition("..")
        return Interval(_simple(Fraction(lo)), _simple(Fraction(hi)))  # type: ignore[arg-type]
    if "*sqrt(" in text:
        coefficient, _, rest = text.partition("*sqrt(")
        return Surd(Fraction(coefficient), Fraction(rest.rstrip(")")))
    value = Fraction(text)
    return value.numerator if value.denominator == 1 else value


def _fraction_text(value: Fraction) -> str:
    return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"


def as_json(value: Exact | float | None, digits: int = 6) -> int | float | None:
    """A number for a JSON document: integers as integers, others as their decimal rounded at
    `digits` (a reader's convenience; the exact text travels beside it where it matters)."""
    if value is None or isinstance(value, Interval):
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, Fraction) and value.denominator == 1:
        return value.numerator
    text = format_decimal(value, digits).rstrip("0").rstrip(".")
    number = Decimal(text)
    return int(number) if number == number.to_integral_value() and "." not in text else float(text)


def show(value: Number, *, percent: bool = False, digits: int = 2) -> str:
    """The one way a number is shown in reports: rounded half up at `digits` places (of the
    percentage for `percent`), trailing zeros dropped only where the text is the value exactly."""
    if percent:
        return trim(format_percent(value, digits), value)
    return trim(format_decimal(value, digits), value)


def exact_of(value: object, exact_text: str | None = None) -> Value | None:
    """A number from findings.json as an exact value: its `exact` text when given, else the JSON
    number as the decimal it reads as."""
    if exact_text:
        return decode(exact_text)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return exact(value)
