"""Half-up rounding of exact numbers for display (`numbers.format_decimal`)."""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from inspector.numbers import Surd, format_decimal, show


def _half_up(value: Fraction, digits: int) -> str:
    """The definition: the nearest multiple of 10⁻ᵈ, halves away from zero, by Fraction arithmetic."""
    units = value * 10**digits
    n = math.floor(units + Fraction(1, 2)) if units >= 0 else -math.floor(-units + Fraction(1, 2))
    return format(Decimal(n).scaleb(-digits), "f")


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.integers(-(10**15), 10**15), st.fractions(max_denominator=10**9)), st.integers(0, 12))
def test_format_decimal_rounds_half_away_from_zero(value: int | Fraction, digits: int) -> None:
    """Integer-only rounding gives the same text as rounding the fraction itself."""
    assert format_decimal(value, digits) == _half_up(Fraction(value), digits)


def test_halves_round_away_from_zero() -> None:
    """2.5 → 3 and -2.5 → -3; 0.125 at two places → 0.13."""
    assert format_decimal(Fraction(5, 2), 0) == "3"
    assert format_decimal(Fraction(-5, 2), 0) == "-3"
    assert format_decimal(Fraction(1, 8), 2) == "0.13"
    assert format_decimal(Fraction(-1, 8), 2) == "-0.13"
    assert format_decimal(7, 2) == "7.00"


def test_roots_and_floats_round_as_before() -> None:
    """A root with a rational value, a true root and a float keep their texts."""
    assert format_decimal(Surd(Fraction(1, 2), Fraction(4)), 1) == "1.0"
    assert format_decimal(Surd(Fraction(1), Fraction(2)), 4) == "1.4142"
    assert format_decimal(0.15, 1) == "0.2"
    assert show(Fraction(1, 3), percent=True) == "33.33%"
