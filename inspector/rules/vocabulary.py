"""What a rule may name: the fields of each entity kind, their types and Chinese labels.

An entity is what a rule applies to (a class, a school, a teacher, a county). Its fields are
its own record's columns, the columns of records it is related to under a prefix
(`school.type` for a class), fields derived from the data (`stage`, `enrolment`) and the
indicators packs declare for it. The engine layer builds facts with exactly these fields.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

from ..records.schema import CLASSES, SAFETY, SCHOOLS, TEACHERS, Column, RecordKind
from .spec import IndicatorSpec

FieldType = Literal["number", "text", "bool", "date", "enum"]

STAGES: Mapping[str, str] = MappingProxyType(
    {"kindergarten": "学前", "primary": "小学", "junior": "初中", "senior": "高中"}
)
ENTITY_LABELS: Mapping[str, str] = MappingProxyType({"class": "班级", "school": "学校", "teacher": "教师", "county": "区县"})


@dataclass(frozen=True)
class FieldInfo:
    """One field of an entity fact."""

    path: str
    label: str
    type: FieldType
    always_present: bool
    source: str
    enum: Mapping[str, str] | None = None
    integer: bool = False
    percent: bool = False


@dataclass(frozen=True)
class Relation:
    """A record joined onto an entity under `prefix` (the class's school, the school's safety row)."""

    prefix: str
    kind: RecordKind
    required: bool
    key: str


@dataclass(frozen=True)
class EntityVocabulary:
    kind: str
    label: str
    record: RecordKind | None
    fields: Mapping[str, FieldInfo]
    relations: Mapping[str, Relation]

    def relation_key(self, prefix: str) -> str:
        """The field whose presence means the related record exists."""
        relation = self.relations[prefix]
        return f"{prefix}.{relation.kind.key.name}"


RELATIONS: Mapping[str, tuple[Relation, ...]] = MappingProxyType(
    {
        "class": (Relation("school", SCHOOLS, True, "school_id"),),
        "teacher": (Relation("school", SCHOOLS, True, "school_id"),),
        "school": (Relation("safety", SAFETY, False, "school_id"),),
        "county": (),
    }
)

_DERIVED: Mapping[str, tuple[FieldInfo, ...]] = MappingProxyType(
    {
        "class": (
            FieldInfo("stage", "学段", "enum", True, "derived", STAGES),
            FieldInfo("grade_no", "年级（数字）", "number", False, "derived", integer=True),
            FieldInfo("grade_name", "年级名称", "text", True, "derived"),
        ),
        "school": (
            FieldInfo("enrolment", "在校生数（班额合计）", "number", True, "derived", integer=True),
            FieldInfo("class_count", "班级数", "number", True, "derived", integer=True),
        ),
        "teacher": (),
        "county": (FieldInfo("name", "区县名称", "text", True, "derived"),),
    }
)

_RECORD_OF: Mapping[str, RecordKind | None] = MappingProxyType(
    {"class": CLASSES, "school": SCHOOLS, "teacher": TEACHERS, "county": None}
)


def _column_field(column: Column, prefix: str, prefix_label: str, present: bool) -> FieldInfo:
    kind: FieldType
    if column.type in ("int", "float"):
        kind = "number"
    elif column.type == "grade":
        kind = "text"
    else:
        kind = column.type  # type: ignore[assignment]
    path = f"{prefix}.{column.name}" if prefix else column.name
    label = f"{prefix_label}{column.label}" if prefix_label else column.label
    return FieldInfo(
        path, label, kind, present and column.always_present, prefix or "record", column.enum, column.type == "int"
    )


def _extra_field(header: str, numeric: bool, prefix: str, prefix_label: str) -> FieldInfo:
    path = f"{prefix}.{header}" if prefix else header
    return FieldInfo(path, f"{prefix_label}{header}", "number" if numeric else "text", False, prefix or "record")


def indicator_fields(spec: IndicatorSpec) -> tuple[FieldInfo, ...]:
    source = f"indicator:{spec.id}"
    if spec.kind == "share":
        return (
            FieldInfo(spec.id, spec.title, "number", False, source, percent=True),
            FieldInfo(f"{spec.id}.numerator", f"{spec.title}（分子）", "number", True, source, integer=True),
            FieldInfo(f"{spec.id}.denominator", f"{spec.title}（分母）", "number", True, source, integer=True),
        )
    if spec.kind == "peers":
        return (FieldInfo(spec.id, spec.title, "number", False, source, integer=True),)
    return (FieldInfo(spec.id, spec.title, "number", True, source, integer=True),)


def build_vocabulary(
    indicators: Iterable[IndicatorSpec] = (),
    extra_columns: Mapping[str, Mapping[str, bool]] | None = None,
) -> dict[str, EntityVocabulary]:
    """Vocabularies of all entity kinds; `extra_columns` maps a record kind to {header: numeric}."""
    extras = extra_columns or {}
    by_entity: dict[str, list[IndicatorSpec]] = {}
    for spec in indicators:
        by_entity.setdefault(spec.entity, []).append(spec)
    result: dict[str, EntityVocabulary] = {}
    for entity, record in _RECORD_OF.items():
        fields: dict[str, FieldInfo] = {}

        def add(info: FieldInfo) -> None:
            fields.setdefault(info.path, info)

        if record is not None:
            for column in record.columns:
                add(_column_field(column, "", "", True))
            for header, numeric in extras.get(record.name, {}).items():
                add(_extra_field(header, numeric, "", ""))
        for info in _DERIVED[entity]:
            add(info)
        for spec in by_entity.get(entity, []):
            for info in indicator_fields(spec):
                add(info)
        relations: dict[str, Relation] = {}
        for relation in RELATIONS[entity]:
            relations[relation.prefix] = relation
            label = f"{relation.kind.label}·"
            for column in relation.kind.columns:
                add(_column_field(column, relation.prefix, label, relation.required))
            for header, numeric in extras.get(relation.kind.name, {}).items():
                add(_extra_field(header, numeric, relation.prefix, label))
        result[entity] = EntityVocabulary(
            entity, ENTITY_LABELS[entity], record, MappingProxyType(fields), MappingProxyType(relations)
        )
    return result
