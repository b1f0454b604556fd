"""Facts: the values one rule or indicator reads, projected, deduplicated and made exact.

A verdict depends only on the fields a condition reads, so entities are projected onto those
fields and each distinct combination is decided once: a class-size rule over a million classes
reads a few hundred distinct (stage, school type, size) combinations. A field read only through
`exists(...)` is projected onto its presence. `exact_fact` turns a combination into the values
the reference evaluator and `numbers.operands` work with (fractions, roots, dates as YYYYMMDD
integers); `engine_fact` into what durable_rules compares (integers at each field's precision,
and each `Operands` atom's two integers).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import polars as pl

from ..numbers import Interval, bounds, decode, operands
from ..rules.normal import Operands
from ..rules.reference import evaluate as evaluate_expr
from ..rules.reference import truth
from ..rules.typed import Cond, date_value, fields_of
from ..rules.vocabulary import FieldInfo
from .tables import SMALL_FRAME

PRESENT = "\x00present"


@dataclass(frozen=True)
class Projection:
    """The columns a condition is decided on: fields with their values, and fields whose presence
    alone matters (projected onto a boolean)."""

    valued: tuple[FieldInfo, ...]
    present: tuple[FieldInfo, ...]

    @property
    def paths(self) -> list[str]:
        return [f.path for f in self.valued] + [f.path for f in self.present]

    def columns(self) -> list[pl.Expr]:
        return [pl.col(f.path) for f in self.valued] + [
            pl.col(f.path).is_not_null().alias(f.path) for f in self.present
        ]

    @classmethod
    def of(cls, *conds: Cond | None, extra: Iterable[FieldInfo] = ()) -> Projection:
        valued: dict[str, FieldInfo] = {f.path: f for f in extra}
        for cond in conds:
            if cond is not None:
                valued.update((f.path, f.info) for f in fields_of(cond))
        present: dict[str, FieldInfo] = {}
        for cond in conds:
            if cond is not None:
                for f in fields_of(cond, include_presence=True):
                    if f.path not in valued:
                        present.setdefault(f.path, f.info)
        return cls(tuple(valued.values()), tuple(present.values()))


def exact_value(info: FieldInfo, raw: object) -> object:
    """A table cell in the form the reference evaluator reads (None stays None)."""
    if raw is None:
        return None
    if info.type == "number":
        if info.form == "scaled":
            value = Fraction(raw, info.scale) if info.scale != 1 else raw  # type: ignore[call-overload]  # a scaled cell is an int
            return value.numerator if isinstance(value, Fraction) and value.denominator == 1 else value
        return decode(raw)  # type: ignore[arg-type]
    if info.type == "date" and isinstance(raw, dt.date):
        return date_value(raw)
    return raw


def exact_fact(projection: Projection, row: Sequence[object]) -> dict[str, object]:
    """The exact fact of one projected row (missing values are absent keys)."""
    fact: dict[str, object] = {}
    for info, raw in zip(projection.valued, row):
        value = exact_value(info, raw)
        if value is not None:
            fact[info.path] = value
    for info, present in zip(projection.present, row[len(projection.valued) :]):
        if present:
            fact[info.path] = PRESENT
    return fact


def engine_fact(
    projection: Projection, row: Sequence[object], exact: Mapping[str, object], atoms: Sequence[Operands]
) -> dict[str, object]:
    """What the engine compares: integers at each field's precision, text, booleans, dates as
    YYYYMMDD, presence markers, and each atom's two integers where its sides can be computed."""
    fact: dict[str, object] = {}
    for info, raw in zip(projection.valued, row):
        if raw is None:
            continue
        if info.type == "date" and isinstance(raw, dt.date):
            fact[info.path] = date_value(raw)
        else:
            fact[info.path] = raw
    for info, present in zip(projection.present, row[len(projection.valued) :]):
        if present:
            fact[info.path] = True
    for atom in atoms:
        left, right = evaluate_expr(atom.left, exact), evaluate_expr(atom.right, exact)
        if left is None or right is None:
            continue
        left, right = _side(left, atom.sides[0]), _side(right, atom.sides[1])
        if left is None or right is None:
            continue
        fact[atom.left_path], fact[atom.right_path] = operands(left, right)  # type: ignore[arg-type]
    return fact


def _side(value: object, side: str) -> object:
    """One bound of a value (the value itself for a single value); None where an atom that
    expects a single value meets an interval (it cannot decide, so the fact leaves it out)."""
    if side == "lo":
        return bounds(value)[0]  # type: ignore[arg-type]
    if side == "hi":
        return bounds(value)[1]  # type: ignore[arg-type]
    return None if isinstance(value, Interval) else value


def distinct(frame: pl.DataFrame, projection: Projection) -> pl.DataFrame:
    """The distinct projected combinations of `frame`, numbered in `__combo` (first seen first)."""
    if not projection.paths:
        return pl.DataFrame({"__combo": [0]}, schema={"__combo": pl.UInt32})
    return frame.select(projection.columns()).unique(maintain_order=True).with_row_index("__combo")


def combos_of(frame: pl.DataFrame, projection: Projection, combos: pl.DataFrame) -> pl.Series:
    """For each row of `frame`, the number of its combination in `combos`."""
    if not projection.paths:
        return pl.Series("__combo", [0], dtype=pl.UInt32).new_from_index(0, frame.height)
    projected = frame.select(projection.columns())
    return projected.join(combos, on=projection.paths, how="left", nulls_equal=True, maintain_order="left")["__combo"]


def numbered(frame: pl.DataFrame, projection: Projection) -> tuple[pl.DataFrame, pl.Series]:
    """`distinct(frame, projection)` and each row's number in it (`combos_of`). A small frame is
    numbered in Python, from one projection of it: four polars queries per rule and indicator
    cost a small audit more than its rows."""
    if not projection.paths or frame.height > SMALL_FRAME:
        combos = distinct(frame, projection)
        return combos, combos_of(frame, projection, combos)
    projected = frame.select(projection.columns())
    first: dict[tuple[Any, ...], int] = {}
    index = [first.setdefault(row, len(first)) for row in projected.iter_rows()]
    combos = pl.DataFrame(list(first), schema=projected.schema, orient="row")
    return combos.with_row_index("__combo"), pl.Series("__combo", index, dtype=pl.UInt32)


def combo_values(combos: pl.DataFrame) -> Iterator[tuple[Any, ...]]:
    """Each combination's values: its row after its number (`__combo`, the first column)."""
    return (row[1:] for row in combos.iter_rows())


def truth_column(frame: pl.DataFrame, cond: Cond | None, name: str = "__truth") -> pl.Series:
    """`cond` decided for every row: true, false, or null where a value it needs is missing."""
    if cond is None:
        return pl.Series(name, [True], dtype=pl.Boolean).new_from_index(0, frame.height)
    projection = Projection.of(cond)
    combos, index = numbered(frame, projection)
    verdicts = (
        [truth(cond, exact_fact(projection, row)) for row in combo_values(combos)]
        if projection.paths
        else [truth(cond, {})]
    )
    # combinations are numbered 0, 1, …: each row's value is its combination's
    return pl.Series(name, verdicts, dtype=pl.Boolean).gather(index)


def values_column(
    frame: pl.DataFrame, infos: Sequence[FieldInfo], compute: Any, name: str, dtype: pl.DataType | type[pl.DataType]
) -> pl.Series:
    """`compute(exact_fact)` for every row, each distinct combination of `infos` computed once."""
    projection = Projection(tuple(infos), ())
    combos, index = numbered(frame, projection)
    results = (
        [compute(exact_fact(projection, row)) for row in combo_values(combos)] if projection.paths else [compute({})]
    )
    return pl.Series(name, results, dtype=dtype).gather(index)
