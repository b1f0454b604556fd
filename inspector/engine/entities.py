"""Entities: what rules apply to, built from loaded records with their related records joined.

A class carries its school's fields under `school.`, a school its safety row under `safety.`,
each with the row it came from. Values are in engine form (dates as YYYYMMDD integers); the
vocabulary says how to show them. Entities are built on demand, school by school, so a
province-scale audit never holds every class entity at once.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..records.loader import Dataset, Record, RowRef
from ..records.values import KINDERGARTEN_GRADES
from ..rules.typed import date_value


@dataclass(frozen=True)
class Measure:
    """An indicator's value for one entity, with what it was computed from."""

    value: float | int | None
    numerator: int | None = None
    denominator: int | None = None
    rows: tuple[RowRef, ...] = ()
    numerator_rows: tuple[RowRef, ...] = ()
    row_role: str = "counted"


@dataclass(slots=True)
class Entity:
    kind: str
    id: str
    values: FactValues
    rows: dict[str, Record]
    county: str
    school_id: str | None = None
    measures: dict[str, Measure] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str]:
        return self.kind, self.id


def _engine_value(value: object) -> object:
    if isinstance(value, dt.date):
        return date_value(value)
    return value


_ABSENT = object()
_SPLITS: dict[str, tuple[str, str, str]] = {}


class FactValues(Mapping[str, Any]):
    """An entity's fields by path, read through to its records rather than copied.

    `size` reads the entity's own row, `school.type` its school's row, `stage` or an
    indicator the derived values. Dates come out as YYYYMMDD integers, numeric extra
    columns as floats: the engine's form.
    """

    __slots__ = ("_own", "_related", "derived", "_numeric")

    def __init__(self, own: Record | None, related: dict[str, Record], derived: dict[str, Any],
                 numeric: Mapping[str, Mapping[str, bool]]) -> None:
        self._own = own
        self._related = related
        self.derived = derived
        self._numeric = numeric

    def get(self, path: str, default: Any = None) -> Any:
        value = self.derived.get(path, _ABSENT)
        if value is not _ABSENT:
            return value
        record, name = self._own, path
        split = _SPLITS.get(path)
        if split is None:
            split = _SPLITS[path] = path.partition(".")
        if split[1] and split[0] in self._related:
            record, name = self._related[split[0]], split[2]
        if record is None:
            return default
        value = record.values.get(name, _ABSENT)
        if value is not _ABSENT:
            return _engine_value(value)
        text = record.extra.get(name)
        if text is None:
            return default
        return float(text) if self._numeric.get(record.kind, {}).get(name) else text

    def pick(self, paths: Iterable[str]) -> dict[str, Any]:
        """The values of those `paths` that are present."""
        found = {}
        for path in paths:
            value = self.get(path, _ABSENT)
            if value is not _ABSENT:
                found[path] = value
        return found

    def __getitem__(self, path: str) -> Any:
        value = self.get(path, _ABSENT)
        if value is _ABSENT:
            raise KeyError(path)
        return value

    def __contains__(self, path: object) -> bool:
        return isinstance(path, str) and self.get(path, _ABSENT) is not _ABSENT

    def _paths(self) -> Iterator[str]:
        yield from self.derived
        for prefix, record in [("", self._own), *self._related.items()]:
            if record is None:
                continue
            lead = f"{prefix}." if prefix else ""
            yield from (lead + name for name in record.values)
            yield from (lead + name for name in record.extra)

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys(self._paths()))

    def __len__(self) -> int:
        return sum(1 for _ in self)


def numeric_extras(dataset: Dataset) -> dict[str, dict[str, bool]]:
    """Extra columns per record kind, and whether every value in them is a number."""
    result: dict[str, dict[str, bool]] = {}
    for kind, records in dataset.records.items():
        columns: dict[str, bool] = {c: True for c in dataset.extra_columns.get(kind, ())}
        for record in records:
            for name, value in record.extra.items():
                if columns.get(name):
                    columns[name] = _is_number(value)
        result[kind] = columns
    return result


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


_RECORDS_OF = {"class": ("classes", "class_id"), "teacher": ("teachers", "teacher_id")}
_STAGE_BY_GRADE = {**{str(g): "primary" for g in range(1, 7)}, **{str(g): "junior" for g in range(7, 10)},
                   **{str(g): "senior" for g in range(10, 13)}}


class EntityStore:
    """Builds entities of every kind from a dataset, and keeps the indicators' measures."""

    def __init__(self, dataset: Dataset, numeric: Mapping[str, Mapping[str, bool]] | None = None) -> None:
        self.dataset = dataset
        self.numeric = numeric if numeric is not None else numeric_extras(dataset)
        self.schools: dict[str, Record] = dataset.by_key("schools")
        self.safety: dict[str, Record] = dataset.by_key("safety")
        self.classes_by_school: dict[str, list[Record]] = defaultdict(list)
        for record in dataset.records.get("classes", []):
            self.classes_by_school[record.values["school_id"]].append(record)
        self.teachers_by_school: dict[str, list[Record]] = defaultdict(list)
        for record in dataset.records.get("teachers", []):
            self.teachers_by_school[record.values["school_id"]].append(record)
        self.measures: dict[tuple[str, str], dict[str, Measure]] = defaultdict(dict)
        self.counties: list[str] = sorted({r.values["county"] for r in self.schools.values()})
        self._index: dict[str, dict[str, Record]] = {}

    def _entity(self, kind: str, entity_id: str, own: Record | None, related: dict[str, Record],
                derived: dict[str, Any], county: str, school_id: str | None) -> Entity:
        measures = self.measures.get((kind, entity_id), {})
        for indicator, measure in measures.items():
            if measure.value is not None:
                derived[indicator] = measure.value
            if measure.denominator is not None:
                derived[f"{indicator}.numerator"] = measure.numerator
                derived[f"{indicator}.denominator"] = measure.denominator
        rows = {"": own, **related} if own is not None else dict(related)
        values = FactValues(own, related, derived, self.numeric)
        return Entity(kind, entity_id, values, rows, county, school_id, dict(measures))

    def school(self, school_id: str) -> Entity:
        record = self.schools[school_id]
        classes = self.classes_by_school.get(school_id, [])
        derived = {"enrolment": sum(c.values["size"] for c in classes), "class_count": len(classes)}
        safety = self.safety.get(school_id)
        related = {"safety": safety} if safety is not None else {}
        return self._entity("school", school_id, record, related, derived, record.values["county"], school_id)

    def class_(self, record: Record) -> Entity:
        grade = record.values["grade"]
        if grade in KINDERGARTEN_GRADES:
            derived: dict[str, Any] = {"stage": "kindergarten", "grade_name": grade}
        else:
            derived = {"stage": _STAGE_BY_GRADE[grade], "grade_no": int(grade), "grade_name": f"{grade}年级"}
        return self._member("class", record, derived)

    def teacher(self, record: Record) -> Entity:
        return self._member("teacher", record, {})

    def _member(self, kind: str, record: Record, derived: dict[str, Any]) -> Entity:
        school = self.schools[record.values["school_id"]]
        entity_id = record.values[_RECORDS_OF[kind][1]]
        return self._entity(kind, entity_id, record, {"school": school}, derived,
                            school.values["county"], school.values["school_id"])

    def county(self, name: str) -> Entity:
        return self._entity("county", name, None, {}, {"name": name}, name, None)

    def school_ids(self) -> list[str]:
        return sorted(self.schools)

    def iter_kind(self, kind: str) -> Iterator[Entity]:
        """Every entity of one kind, school by school (counties by name)."""
        if kind == "county":
            yield from (self.county(name) for name in self.counties)
            return
        for school_id in self.school_ids():
            yield from self.of_school(kind, school_id)

    def of_school(self, kind: str, school_id: str) -> Iterator[Entity]:
        if kind == "school":
            yield self.school(school_id)
        elif kind == "class":
            yield from (self.class_(r) for r in self.classes_by_school.get(school_id, []))
        elif kind == "teacher":
            yield from (self.teacher(r) for r in self.teachers_by_school.get(school_id, []))

    def get(self, kind: str, entity_id: str) -> Entity:
        if kind == "county":
            return self.county(entity_id)
        if kind == "school":
            return self.school(entity_id)
        if kind not in self._index:
            records, key = _RECORDS_OF[kind]
            self._index[kind] = {r.values[key]: r for r in self.dataset.records.get(records, [])}
        record = self._index[kind][entity_id]
        return self.class_(record) if kind == "class" else self.teacher(record)
