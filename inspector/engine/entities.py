"""Entities: what rules apply to, built from loaded records with what they relate to.

A class reads its school under `school.` (and through it `school.facilities.`), a school its
safety and facilities rows, a county its statistics of the audit year (`stats.`) and of the
year before (`prev.`). Values are read through to the records, not copied, in engine form
(dates as YYYYMMDD integers); the vocabulary says how to show them. Class and teacher
entities are built on demand, school by school, so a province-scale audit never holds them all.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Union

from ..records.loader import Dataset, Record, RowRef
from ..records.values import KINDERGARTEN_GRADES
from ..rules.typed import date_value

# Apportioning a one-through school's shared resources (teachers, rooms, equipment) between
# its stages weights a junior pupil 1.1 to a primary pupil's 1 (standards.md §4, V2).
JUNIOR_WEIGHT = 1.1
_STAGE_BY_GRADE = {
    **{str(g): "primary" for g in range(1, 7)},
    **{str(g): "junior" for g in range(7, 10)},
    **{str(g): "senior" for g in range(10, 13)},
}
_SINGLE_STAGE = {"primary": "primary", "junior": "junior"}
_RECORDS_OF = {"class": ("classes", "class_id"), "teacher": ("teachers", "teacher_id")}
_CACHED = frozenset({"school"})
_NONE: Mapping[str, "Measure"] = {}


@dataclass(frozen=True)
class Measure:
    """An indicator's value for one entity, with what it was computed from.

    `parts` holds named sub-values (a share's numerator and denominator, a CV's mean);
    `rows` the input rows behind it, `numerator_rows` those counted in a share's numerator;
    `missing` what kept it from being computed; `values` per contributing entity (a CV's
    schools with their value and weight).
    """

    value: float | int | None
    parts: Mapping[str, float | int] = field(default_factory=dict)
    rows: tuple[RowRef, ...] = ()
    numerator_rows: tuple[RowRef, ...] = ()
    row_role: str = "counted"
    missing: tuple[str, ...] = ()
    values: tuple[tuple[str, str, float, float], ...] = ()

    @property
    def numerator(self) -> float | int | None:
        return self.parts.get("numerator")

    @property
    def denominator(self) -> float | int | None:
        return self.parts.get("denominator")


def _engine_value(value: object) -> object:
    if isinstance(value, dt.date):
        return date_value(value)
    return value


_ABSENT = object()
_SPLITS: dict[str, tuple[str, str, str]] = {}
Related = Union[Record, "FactValues"]


class FactValues(Mapping[str, Any]):
    """An entity's fields by path, read through to its records and related entities.

    `size` reads the entity's own row, `school.type` its school, `stage` the derived values,
    an indicator id (or `id.numerator`) the measures — a live mapping, so indicators computed
    after the entity was built are seen. Dates come out as YYYYMMDD integers, numeric extra
    columns as floats: the engine's form.
    """

    __slots__ = ("_own", "_related", "derived", "_measures", "_numeric")

    def __init__(self, own: Record | None, related: dict[str, Related], derived: dict[str, Any],
                 measures: Mapping[str, Measure], numeric: Mapping[str, Mapping[str, bool]]) -> None:
        self._own = own
        self._related = related
        self.derived = derived
        self._measures = measures
        self._numeric = numeric

    def get(self, path: str, default: Any = None) -> Any:
        value = self.derived.get(path, _ABSENT)
        if value is not _ABSENT:
            return value
        split = _SPLITS.get(path)
        if split is None:
            split = _SPLITS[path] = path.partition(".")
        head, dot, rest = split
        if self._measures:
            measure = self._measures.get(head)
            if measure is not None:
                found = measure.value if not dot else measure.parts.get(rest)
                return default if found is None else found
        record: Related | None = self._own
        name = path
        if dot and head in self._related:
            record, name = self._related[head], rest
            if isinstance(record, FactValues):
                return record.get(name, default)
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
        for indicator, measure in self._measures.items():
            if measure.value is not None:
                yield indicator
            yield from (f"{indicator}.{part}" for part in measure.parts)
        if self._own is not None:
            yield from self._own.values
            yield from self._own.extra
        for prefix, related in self._related.items():
            if isinstance(related, FactValues):
                yield from (f"{prefix}.{path}" for path in related)
            else:
                yield from (f"{prefix}.{name}" for name in related.values)
                yield from (f"{prefix}.{name}" for name in related.extra)

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys(self._paths()))

    def __len__(self) -> int:
        return sum(1 for _ in self)


@dataclass(slots=True)
class Entity:
    kind: str
    id: str
    values: FactValues
    rows: dict[str, Record]
    county: str
    township: str | None = None
    school_id: str | None = None
    measures: Mapping[str, Measure] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str]:
        return self.kind, self.id


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


@dataclass(frozen=True)
class Metric:
    """A county_metric entity: one indicator of one county (and stage)."""

    county: str
    stage: str
    metric: str
    title: str

    @property
    def id(self) -> str:
        return f"{self.county}/{self.stage}/{self.metric}"


class EntityStore:
    """Builds entities of every kind from a dataset, and keeps the indicators' measures."""

    def __init__(self, dataset: Dataset, numeric: Mapping[str, Mapping[str, bool]] | None = None) -> None:
        self.dataset = dataset
        self.numeric = numeric if numeric is not None else numeric_extras(dataset)
        self.region = dataset.config.region
        self.audit_year = dataset.config.as_of.year
        self.schools: dict[str, Record] = dataset.by_key("schools")
        self.safety: dict[str, Record] = dataset.by_key("safety")
        self.facilities: dict[str, Record] = dataset.by_key("facilities")
        self.classes_by_school: dict[str, list[Record]] = defaultdict(list)
        for record in dataset.records.get("classes", []):
            self.classes_by_school[record.values["school_id"]].append(record)
        self.teachers_by_school: dict[str, list[Record]] = defaultdict(list)
        for record in dataset.records.get("teachers", []):
            self.teachers_by_school[record.values["school_id"]].append(record)
        self.county_stats = {(r.values["county"], r.values["year"]): r for r in dataset.records.get("county_stats", [])}
        self.city_stats = {r.values["year"]: r for r in dataset.records.get("city_stats", [])}
        self.measures: dict[tuple[str, str], dict[str, Measure]] = defaultdict(dict)
        self.metrics: dict[str, Metric] = {}
        self.counties: list[str] = sorted({r.values["county"] for r in self.schools.values()})
        self.townships: list[tuple[str, str]] = sorted({(r.values["county"], r.values["township"]) for r in self.schools.values()})
        self._index: dict[str, dict[str, Record]] = {}
        self._county_memo: dict[str, dict[str, str]] = {}
        self._school_cache: dict[str, Entity] = {}

    # -- schools and what hangs off them ---------------------------------------------------------

    def _entity(self, kind: str, entity_id: str, own: Record | None, related: dict[str, Related],
                derived: dict[str, Any], county: str, township: str | None, school_id: str | None,
                rows: dict[str, Record] | None = None) -> Entity:
        # a cached entity (a school) must see measures computed after it was built: it gets the live
        # dict; others are rebuilt on demand, and most never have a measure: no dict is made for them
        measures = self.measures[(kind, entity_id)] if kind in _CACHED else self.measures.get((kind, entity_id), _NONE)
        values = FactValues(own, related, derived, measures, self.numeric)
        if rows is None:
            rows = {"": own} if own is not None else {}
            rows.update((k, v) for k, v in related.items() if isinstance(v, Record))
        return Entity(kind, entity_id, values, rows, county, township, school_id, measures)

    def school(self, school_id: str) -> Entity:
        cached = self._school_cache.get(school_id)
        if cached is not None:
            return cached
        record = self.schools[school_id]
        classes = self.classes_by_school.get(school_id, [])
        given = record.values.get("enrolment")
        derived = {
            "enrolment": given if given is not None else sum(c.values["size"] for c in classes),
            "class_count": len(classes),
        }
        related: dict[str, Related] = {}
        if school_id in self.safety:
            related["safety"] = self.safety[school_id]
        if school_id in self.facilities:
            related["facilities"] = self.facilities[school_id]
        entity = self._entity("school", school_id, record, related, derived, record.values["county"],
                              record.values["township"], school_id)
        self._school_cache[school_id] = entity
        return entity

    def _member(self, kind: str, record: Record, derived: dict[str, Any]) -> Entity:
        school = self.school(record.values["school_id"])
        rows = {"": record, "school": school.rows[""], **{f"school.{k}": v for k, v in school.rows.items() if k}}
        return self._entity(kind, record.values[_RECORDS_OF[kind][1]], record, {"school": school.values}, derived,
                            school.county, school.township, school.school_id, rows)

    def class_(self, record: Record) -> Entity:
        grade = record.values["grade"]
        if grade in KINDERGARTEN_GRADES:
            derived: dict[str, Any] = {"stage": "kindergarten", "grade_name": grade}
        else:
            derived = {"stage": _STAGE_BY_GRADE[grade], "grade_no": int(grade), "grade_name": f"{grade}年级"}
        return self._member("class", record, derived)

    def teacher(self, record: Record) -> Entity:
        return self._member("teacher", record, {})

    def stages(self, school_id: str) -> list[Entity]:
        """A compulsory school's primary and junior parts, its shared resources apportioned."""
        school = self.school(school_id)
        pupils: dict[str, int] = {}
        classes: dict[str, int] = {}
        for record in self.classes_by_school.get(school_id, []):
            stage = _STAGE_BY_GRADE.get(record.values["grade"])
            if stage in ("primary", "junior"):
                pupils[stage] = pupils.get(stage, 0) + record.values["size"]
                classes[stage] = classes.get(stage, 0) + 1
        single = _SINGLE_STAGE.get(school.values["type"])
        if not pupils and single and school.values.get("enrolment"):
            pupils[single] = school.values["enrolment"]  # a school row's enrolment, no classes listed
            classes[single] = 0
        weights = {stage: n * (JUNIOR_WEIGHT if stage == "junior" else 1) for stage, n in pupils.items()}
        total = sum(weights.values())
        result = []
        for stage in ("primary", "junior"):
            if stage not in pupils:
                continue
            derived = {
                "school_id": school_id,
                "county": school.county,
                "stage": stage,
                "enrolment": pupils[stage],
                "class_count": classes[stage],
                "share": weights[stage] / total if total else 1.0,
            }
            rows = {"school": school.rows[""], **{f"school.{k}": v for k, v in school.rows.items() if k}}
            result.append(self._entity("school_stage", f"{school_id}/{stage}", None, {"school": school.values},
                                       derived, school.county, school.township, school_id, rows))
        return result

    # -- areas ---------------------------------------------------------------------------------

    def township(self, county: str, township: str) -> Entity:
        name = f"{county}/{township}"
        return self._entity("township", name, None, {}, {"county": county, "township": township, "name": name},
                            county, township, None)

    def county(self, name: str) -> Entity:
        related: dict[str, Related] = {}
        for prefix, year in (("stats", self.audit_year), ("prev", self.audit_year - 1)):
            if (name, year) in self.county_stats:
                related[prefix] = self.county_stats[(name, year)]
        return self._entity("county", name, None, related, {"name": name}, name, None, None)

    def city(self) -> Entity:
        related: dict[str, Related] = {}
        for prefix, year in (("stats", self.audit_year), ("prev", self.audit_year - 1)):
            if year in self.city_stats:
                related[prefix] = self.city_stats[year]
        return self._entity("city", self.region, None, related, {"name": self.region}, self.region, None, None)

    def metric(self, metric_id: str) -> Entity:
        metric = self.metrics[metric_id]
        measure = self.measures[("county_metric", metric_id)].get(metric.metric)
        derived: dict[str, Any] = {
            "county": metric.county, "stage": metric.stage, "metric": metric.metric, "metric_title": metric.title,
        }
        if measure is not None:
            derived["schools"] = measure.parts.get("schools", 0)
            if measure.value is not None:
                derived["cv"] = measure.value
            if measure.parts.get("mean") is not None:
                derived["mean"] = measure.parts["mean"]
        return self._entity("county_metric", metric_id, None, {}, derived, metric.county, None, None)

    # -- iteration -----------------------------------------------------------------------------

    def school_ids(self) -> list[str]:
        return sorted(self.schools)

    def iter_kind(self, kind: str) -> Iterator[Entity]:
        """Every entity of one kind: school by school for school-bound kinds."""
        if kind == "county":
            yield from (self.county(name) for name in self.counties)
        elif kind == "township":
            yield from (self.township(c, t) for c, t in self.townships)
        elif kind == "city":
            yield self.city()
        elif kind == "county_metric":
            yield from (self.metric(m) for m in sorted(self.metrics))
        else:
            for school_id in self.school_ids():
                yield from self.of_school(kind, school_id)

    def of_school(self, kind: str, school_id: str) -> Iterator[Entity]:
        if kind == "school":
            yield self.school(school_id)
        elif kind == "school_stage":
            yield from self.stages(school_id)
        elif kind == "class":
            yield from (self.class_(r) for r in self.classes_by_school.get(school_id, []))
        elif kind == "teacher":
            yield from (self.teacher(r) for r in self.teachers_by_school.get(school_id, []))

    def county_of(self, kind: str, entity_id: str) -> str:
        """The county an entity belongs to (the region for the city), cheaply: no entity is built.

        Memoised per kind: findings.json tallies every rule's entities by county, so the same
        class is looked up once per rule on classes (a million look-ups at province scale)."""
        memo = self._county_memo.setdefault(kind, {})
        county = memo.get(entity_id)
        if county is None:
            county = memo[entity_id] = self._county_of(kind, entity_id)
        return county

    def _county_of(self, kind: str, entity_id: str) -> str:
        if kind in ("county", "county_metric", "township"):
            return entity_id.split("/", 1)[0]
        if kind == "city":
            return self.region
        if kind in ("school", "school_stage"):
            school_id = entity_id.rpartition("/")[0] if kind == "school_stage" else entity_id
            return self.schools[school_id].values["county"]
        if kind not in self._index:
            records, key = _RECORDS_OF[kind]
            self._index[kind] = {r.values[key]: r for r in self.dataset.records.get(records, [])}
        return self.schools[self._index[kind][entity_id].values["school_id"]].values["county"]

    def get(self, kind: str, entity_id: str) -> Entity:
        if kind == "county":
            return self.county(entity_id)
        if kind == "city":
            return self.city()
        if kind == "township":
            county, _, township = entity_id.partition("/")
            return self.township(county, township)
        if kind == "county_metric":
            return self.metric(entity_id)
        if kind == "school":
            return self.school(entity_id)
        if kind == "school_stage":
            school_id, _, stage = entity_id.rpartition("/")
            return next(e for e in self.stages(school_id) if e.values["stage"] == stage)
        if kind not in self._index:
            records, key = _RECORDS_OF[kind]
            self._index[kind] = {r.values[key]: r for r in self.dataset.records.get(records, [])}
        record = self._index[kind][entity_id]
        return self.class_(record) if kind == "class" else self.teacher(record)
