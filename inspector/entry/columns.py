"""Which tables and columns of the data contract chosen rule packs read, and which rules read each.

A compiled rule knows the fields its scope and condition read (`CompiledRule.reads`, `.presence`).
A field is a column of a record (`school.type` is the `type` column of `schools`), a value derived
from records (a class's `stage` from its `grade`), or an indicator, which reads columns of its own.
This module follows each field down to the columns it rests on, so the entry workbook can say
beside every column which rules it feeds, and leave out the tables no chosen rule needs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..records.schema import RECORD_KINDS
from ..rules.compiler import CompiledIndicator, RuleBook, compile_rulebook, effective_params
from ..rules.packs import load_packs
from ..rules.targets import FINAL, MID_TERM
from ..rules.typed import fields_of
from ..rules.vocabulary import FieldInfo

__all__ = ["DERIVED_COLUMNS", "PackReads", "RuleRef", "pack_reads", "reads_of_books"]

Column = tuple[str, str]  # (record kind, column name)

# What each derived field is computed from (inspector.engine.tables). A county's indicator rows
# (`county_metric`) are made by the packs' cv indicators: their `cv`, `mean` and `schools` read
# what those indicators read (see `_CV_FIELDS`).
DERIVED_COLUMNS: Mapping[tuple[str, str], tuple[Column, ...]] = {
    ("class", "stage"): (("classes", "grade"),),
    ("class", "grade_no"): (("classes", "grade"),),
    ("class", "grade_name"): (("classes", "grade"),),
    ("school", "enrolment"): (("schools", "enrolment"), ("classes", "size")),
    ("school", "class_count"): (("classes", "class_id"),),
    ("school", "reported_enrolment"): (("schools", "enrolment"),),
    ("school", "class_pupils"): (("classes", "size"),),
    ("school_stage", "school_id"): (("schools", "school_id"),),
    ("school_stage", "county"): (("schools", "county"),),
    ("school_stage", "stage"): (("classes", "grade"), ("schools", "type")),
    ("school_stage", "enrolment"): (("classes", "size"), ("schools", "enrolment")),
    ("school_stage", "class_count"): (("classes", "class_id"),),
    ("school_stage", "share"): (("classes", "grade"), ("classes", "size")),
    ("township", "county"): (("schools", "county"),),
    ("township", "township"): (("schools", "township"),),
    ("township", "name"): (("schools", "county"), ("schools", "township")),
    ("county", "name"): (("schools", "county"),),
    # statistics rows of unused years: reported when the file is there, no reason to ask for it
    ("county", "unused_stats_rows"): (),
    ("county", "unused_stats_years"): (),
    ("county_metric", "county"): (("schools", "county"),),
    ("county_metric", "stage"): (("classes", "grade"),),
    ("county_metric", "metric"): (),
    ("county_metric", "metric_title"): (),
    ("city", "name"): (),
    ("city", "unused_stats_rows"): (),
    ("city", "unused_stats_years"): (),
}
_CV_FIELDS = frozenset({("county_metric", "cv"), ("county_metric", "mean"), ("county_metric", "schools")})


@dataclass(frozen=True, order=True)
class RuleRef:
    """A rule as the workbook names it."""

    id: str
    title: str


@dataclass(frozen=True)
class PackReads:
    """The record kinds the packs read (in the data contract's order; `schools` always) and, for
    each column, the rules that read it."""

    packs: tuple[str, ...]
    kinds: tuple[str, ...]
    readers: Mapping[Column, tuple[RuleRef, ...]]

    def rules_reading(self, kind: str, column: str) -> tuple[RuleRef, ...]:
        return self.readers.get((kind, column), ())


class _Resolver:
    """Follows fields of one rule book down to columns."""

    def __init__(self, book: RuleBook) -> None:
        self.book = book
        self.indicators = {indicator.spec.id: indicator for indicator in book.indicators}
        self.cv = [indicator for indicator in book.indicators if indicator.spec.cv is not None]
        self.kinds: set[str] = set()

    def field(self, info: FieldInfo, entity: str, seen: frozenset[str] = frozenset()) -> set[Column]:
        """The columns a field of `entity` rests on (record kinds it needs are noted in `kinds`)."""
        self.kinds.update(info.requires)
        if info.indicator is not None:
            return self.indicator(info.indicator, seen)
        owner = self._owner(info, entity)
        name = info.path.rsplit(".", 1)[-1]
        if info.origin == "derived":
            if (owner, name) in _CV_FIELDS:
                return set().union(*(self.indicator(i.spec.id, seen) for i in self.cv)) if self.cv else set()
            columns = set(DERIVED_COLUMNS.get((owner, name), ()))
            self.kinds.update(kind for kind, _ in columns)
            return columns
        if not name:
            return set()  # a count over a record kind's rows: the kind is needed, no column in particular
        for kind in reversed(info.requires):
            if name in RECORD_KINDS[kind].by_name:
                return {(kind, name)}
        return set()  # an extra column (outside the contract)

    def _owner(self, info: FieldInfo, entity: str) -> str:
        """The entity kind whose own field `info` is: `entity`, or the one it reaches through a relation."""
        if not info.relation:
            return entity
        relation = self.book.vocabulary[entity].relations.get(info.relation)
        if relation is None or relation.entity is None:
            return entity
        return relation.entity

    def indicator(self, indicator_id: str, seen: frozenset[str]) -> set[Column]:
        if indicator_id in seen or indicator_id not in self.indicators:
            return set()
        return self._indicator(self.indicators[indicator_id], seen | {indicator_id})

    def _indicator(self, indicator: CompiledIndicator, seen: frozenset[str]) -> set[Column]:
        spec = indicator.spec
        body = spec.share or spec.count
        of = body.of if body is not None else spec.cv.of if spec.cv is not None else spec.entity
        columns: set[Column] = set()
        record = self.book.vocabulary[of].record
        if body is not None and record is not None:
            self.kinds.add(record.name)
        for tree in (indicator.where, indicator.numerator, indicator.formula):
            if tree is not None:
                for read in fields_of(tree, include_presence=True):
                    columns |= self.field(read.info, of, seen)
        for info in (indicator.key, indicator.value, indicator.weight):
            if info is not None:
                columns |= self.field(info, of, seen)
        self.kinds.update(indicator.requires)
        return columns


def reads_of_books(packs: Sequence[str], books: Iterable[RuleBook]) -> PackReads:
    """What the rules of `books` (the same packs compiled for different years) read, merged."""
    readers: dict[Column, set[RuleRef]] = {}
    kinds: set[str] = {"schools"}
    for book in books:
        resolver = _Resolver(book)
        for rule in book.rules:
            ref = RuleRef(rule.id, rule.spec.title)
            for info in (*rule.reads, *rule.presence):
                for column in resolver.field(info, rule.spec.applies_to):
                    readers.setdefault(column, set()).add(ref)
            kinds.update(rule.requires)
        kinds |= resolver.kinds
    kinds |= {kind for kind, _ in readers}
    return PackReads(
        packs=tuple(packs),
        kinds=tuple(kind for kind in RECORD_KINDS if kind in kinds),
        readers={column: tuple(sorted(refs)) for column, refs in readers.items()},
    )


def pack_reads(packs: Sequence[str], rules_dir: Path) -> PackReads:
    """What the packs read, compiled for both of the plan's milestones (a rule whose target is set
    for one year only is compiled, and read, in that year)."""
    loaded = load_packs(packs, rules_dir)
    books = []
    for year in (MID_TERM, FINAL):
        params, _ = effective_params(loaded, {}, year)
        books.append(compile_rulebook(loaded, as_of=dt.date(year, 12, 31), params=params, target_year=year))
    return reads_of_books([pack.id for pack in loaded], books)
