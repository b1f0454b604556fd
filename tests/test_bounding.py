"""Blank cells bound a share or a count instead of blocking it: checked against brute force.

A member of a share is counted (its filter and numerator true), in the denominator only, or left
open by a blank cell in its filter or its numerator. Every way of filling the blanks gives one
share; the bounds the indicator layer computes must be exactly the lowest and highest of them,
and a verdict decided on the bounds must be the verdict of every filling.
"""

from __future__ import annotations

import itertools
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from budget import examples
from inspector.engine.indicators import count_bounds, share_bounds
from inspector.numbers import Interval, bounds, compare_bounded

TRUTH = st.sampled_from([True, False, None])  # None: a blank cell decides it
MEMBERS = st.lists(st.tuples(TRUTH, TRUTH, st.integers(1, 4)), min_size=0, max_size=7)


def _parts(members: list[tuple[bool | None, bool | None, int]]) -> dict[str, Fraction]:
    parts = {
        name: Fraction(0) for name in ("certain_num", "certain_den", "open_num", "maybe_both", "maybe_den", "maybe_any")
    }
    for where, numerator, amount in members:
        if where is False:
            continue
        if where:
            name = "certain_num" if numerator else "certain_den" if numerator is False else "open_num"
        else:
            name = "maybe_both" if numerator else "maybe_den" if numerator is False else "maybe_any"
        parts[name] += amount
    return parts


def _fillings(members: list[tuple[bool | None, bool | None, int]]) -> list[tuple[Fraction, Fraction]]:
    """(numerator, denominator) for every way of filling the blanks."""
    blanks = [(i, k) for i, (w, n, _) in enumerate(members) for k, v in (("w", w), ("n", n)) if v is None]
    results = []
    for values in itertools.product((True, False), repeat=len(blanks)):
        filled = {key: value for key, value in zip(blanks, values)}
        numerator = denominator = Fraction(0)
        for i, (where, num, amount) in enumerate(members):
            where = filled.get((i, "w"), where)
            num = filled.get((i, "n"), num)
            if where:
                denominator += amount
                numerator += amount if num else 0
        results.append((numerator, denominator))
    return results


@settings(max_examples=examples(300), deadline=None)
@given(members=MEMBERS)
def test_share_bounds_are_the_extremes_of_every_filling(members: list[tuple[bool | None, bool | None, int]]) -> None:
    """The share's bounds are the lowest and highest share over every filling of the blanks; where
    a filling leaves no member the share is undefined and the layer gives none."""
    fillings = _fillings(members)
    value, numerator, denominator = share_bounds(_parts(members))
    assert bounds(numerator) == (min(n for n, _ in fillings), max(n for n, _ in fillings))
    assert bounds(denominator) == (min(d for _, d in fillings), max(d for _, d in fillings))
    if any(d == 0 for _, d in fillings):
        assert value is None
    else:
        shares = [n / d for n, d in fillings]
        assert value is not None and bounds(value) == (min(shares), max(shares))


@pytest.mark.slow
@settings(max_examples=examples(300), deadline=None)
@given(members=MEMBERS, threshold=st.fractions(0, 1, max_denominator=20))
def test_a_verdict_on_the_bounds_is_the_verdict_of_every_filling(
    members: list[tuple[bool | None, bool | None, int]], threshold: Fraction
) -> None:
    """`share < threshold` is decided on the bounds exactly when every filling agrees."""
    fillings = _fillings(members)
    value, _, _ = share_bounds(_parts(members))
    if value is None:
        return
    verdicts = {n / d < threshold for n, d in fillings}
    decided = compare_bounded("<", value, threshold)
    assert decided == (verdicts.pop() if len(verdicts) == 1 else None)


@settings(max_examples=examples(200), deadline=None)
@given(members=MEMBERS)
def test_count_bounds_are_the_extremes_of_every_filling(members: list[tuple[bool | None, bool | None, int]]) -> None:
    """A count (or sum) of the members whose filter may hold: from the certain ones to all of them."""
    counted = [(where, True, amount) for where, _num, amount in members]
    totals = [d for _, d in _fillings(counted)]
    total = count_bounds(_parts(counted))
    assert total is not None and bounds(total) == (min(totals), max(totals))


def test_one_blank_degree_still_fails_a_share_below_target_either_way() -> None:
    """Seven of twelve teachers hold a bachelor's degree and one's degree is blank: 7/12 to 8/12,
    below 75% whatever the blank is — a finding, not 'not evaluated'."""
    members = [(True, True, 1)] * 7 + [(True, False, 1)] * 4 + [(True, None, 1)]
    value, _, _ = share_bounds(_parts(members))
    assert value == Interval(Fraction(7, 12), Fraction(8, 12))
    assert compare_bounded("<", value, Fraction(3, 4)) is True


def test_a_blank_that_decides_leaves_the_verdict_open() -> None:
    """Two of three counted and one blank: 2/4 to 3/4 straddles 60%: not evaluated, with the interval."""
    members = [(True, True, 1)] * 2 + [(True, False, 1), (True, None, 1)]
    value, _, _ = share_bounds(_parts(members))
    assert value == Interval(Fraction(1, 2), Fraction(3, 4))
    assert compare_bounded("<", value, Fraction(3, 5)) is None
