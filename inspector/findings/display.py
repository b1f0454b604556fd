"""Field values as a Chinese reader expects them, and as JSON carries them.

A number is shown at its field's precision (a class size as 57, an area as 4.50, a rate or a
share as 95.00%), rounded half up, with more digits where rounding would make it read as a
threshold it differs from. In JSON a number is a JSON number (rounded to ten decimals where it
is not a terminating decimal) with its exact value beside it when that is not a whole number.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

from ..numbers import (
    Exact,
    Interval,
    Surd,
    as_json,
    distinct_digits,
    encode,
    exact_digits,
    format_decimal,
    format_percent,
    trim,
)
from ..rules.targets import Progress
from ..rules.vocabulary import FieldInfo
from .model import ProgressReading

JSON_DIGITS = 10


def _date_text(value: int) -> str:
    return f"{value // 10000:04d}-{value // 100 % 100:02d}-{value % 100:02d}"


def display(info: FieldInfo, value: Any, thresholds: Sequence[Exact] = ()) -> str:
    """A field value as text: dates ISO, enumerations in Chinese, booleans 是/否, numbers at
    their precision (distinct from `thresholds`), an interval as its two bounds."""
    if value is None:
        return "（空）"
    if isinstance(value, Interval):
        return f"{display(info, value.lo, thresholds)}–{display(info, value.hi, thresholds)}"
    if info.type == "date" and isinstance(value, int):
        return _date_text(value)
    if info.type == "enum" and info.enum:
        return info.enum.get(value, str(value))
    if info.type == "bool":
        return "是" if value else "否"
    if isinstance(value, (int, Fraction, Surd)) and not isinstance(value, bool):
        if info.percent:
            digits = distinct_digits(value, info.decimals, tuple(thresholds), percent=True)
            return trim(format_percent(value, digits), value)
        digits = distinct_digits(value, info.decimals, tuple(thresholds))
        return trim(format_decimal(value, digits), value)
    return str(value)


def json_number(value: Any) -> Any:
    """A number for JSON (see module docstring); an interval has no single number (None: its
    bounds are in `exact`); anything else unchanged."""
    kind = type(value)
    if kind is int:  # the most common value, decided without `isinstance` on the number ABCs
        return value
    if kind is str or value is None:
        return value
    if isinstance(value, Interval):
        return None
    if isinstance(value, (Fraction, Surd)) or (isinstance(value, int) and not isinstance(value, bool)):
        return as_json(value, JSON_DIGITS)
    return value


def exact_text(value: Any) -> str | None:
    """The exact value of a number that is not a whole number (`4/27`, an interval `3/5..2/3`), else None."""
    if isinstance(value, (Surd, Interval)) or (isinstance(value, Fraction) and value.denominator != 1):
        return encode(value)
    return None


def json_value(info: FieldInfo | None, value: Any) -> Any:
    """A field value in JSON: dates as ISO text, numbers as numbers, the rest as it is."""
    if value is None:
        return None
    if info is not None and info.type == "date" and isinstance(value, int):
        return _date_text(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return json_number(value)


def progress_text(progress: Progress, unit: str | None) -> str:
    """How a progress reading's expected value was derived, for a message and a report."""

    def shown(value: Fraction) -> str:
        if unit == "比例":
            return trim(format_percent(value, exact_digits(value * 100)), value)
        return trim(format_decimal(value, exact_digits(value)), value) + (unit or "")

    return (
        f"按进度判断：“十三五”末（{progress.baseline_year}年）{shown(progress.baseline)}，"
        f"规划{progress.milestone}年目标 {shown(progress.target)}，"
        f"按直线推算{progress.year}年应达到 {shown(progress.expected)}"
    )


def progress_reading(progress: Progress, unit: str | None) -> ProgressReading:
    return ProgressReading(
        param=progress.param,
        year=progress.year,
        milestone=progress.milestone,
        baseline_year=progress.baseline_year,
        baseline=encode(progress.baseline),
        target=encode(progress.target),
        expected=encode(progress.expected),
        text=progress_text(progress, unit),
    )
