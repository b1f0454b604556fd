"""What a rule may name: the entity kinds, their fields, types and Chinese labels.

An entity is what a rule applies to: a class, a school, a school's stage (its primary or
junior part), a teacher, a township, a county, a county's indicator (`county_metric`), the
city. Its fields are its own record's columns, fields derived from the data (`stage`,
`enrolment`), the indicators packs declare for it, and — under a prefix — the fields of what
it is related to: a class reads its school's fields as `school.type`, a school its facilities
as `facilities.teaching_area`, a county its statistics of the audit year as `stats.gdp` and of
the year before as `prev.gdp`. The engine layer builds facts with exactly these fields.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

from ..records.schema import (
    CITY_STATS,
    CLASSES,
    COUNTY_STATS,
    FACILITIES,
    SAFETY,
    SCHOOLS,
    TEACHERS,
    Column,
    RecordKind,
)
from .spec import IndicatorSpec

FieldType = Literal["number", "text", "bool", "date", "enum"]

STAGES: Mapping[str, str] = MappingProxyType(
    {"kindergarten": "学前", "primary": "小学", "junior": "初中", "senior": "高中"}
)
COMPULSORY_STAGES: Mapping[str, str] = MappingProxyType({"primary": "小学", "junior": "初中"})


NumberForm = Literal["scaled", "exact", "real"]


@dataclass(frozen=True)
class FieldInfo:
    """One field of an entity fact.

    `relation` is the prefix it is read through ("" for the entity itself, "school",
    "school.facilities", "stats"); `origin` says where its value comes from: an input record,
    a value derived from the data, or an indicator (`indicator:<id>`); `requires` names the
    record kinds without which it cannot have a value.

    A number's `form` says how it is held exactly: `scaled`, an integer count of 1/`scale`
    (a class size, an area in 0.01 ㎡, a rate in 0.01%); `exact`, a fraction (a share, a
    per-pupil area); `real`, a square root (a coefficient of variation, compared by squaring,
    never in arithmetic). `decimals` is how many places it is shown with (of the percentage,
    for a `percent` field).
    """

    path: str
    label: str
    type: FieldType
    always_present: bool
    origin: str
    relation: str = ""
    requires: tuple[str, ...] = ()
    enum: Mapping[str, str] | None = None
    integer: bool = False
    percent: bool = False
    form: NumberForm = "scaled"
    scale: int = 1
    decimals: int = 0
    unit: str = ""
    bounded: bool = False  # may hold an interval (an indicator over rows with blank cells)

    @property
    def indicator(self) -> str | None:
        return self.origin.split(":", 1)[1] if self.origin.startswith("indicator:") else None


@dataclass(frozen=True)
class Relation:
    """What an entity reads under `prefix`: a record matched by key, or another entity."""

    prefix: str
    label: str
    record: RecordKind | None = None
    entity: str | None = None
    required: bool = False


@dataclass(frozen=True)
class EntityKind:
    name: str
    label: str
    record: RecordKind | None
    relations: tuple[Relation, ...]
    derived: tuple[FieldInfo, ...]
    key: str


def _derived(path: str, label: str, type_: FieldType, present: bool = True, **kw: object) -> FieldInfo:
    return FieldInfo(path, label, type_, present, "derived", **kw)  # type: ignore[arg-type]


_SCHOOL = Relation("school", "学校·", entity="school", required=True)
# statistics rows of an area for years the audit reads neither as this year's nor last year's
_UNUSED_STATS = (
    _derived("unused_stats_rows", "未使用年份的统计行数", "number", integer=True),
    _derived("unused_stats_years", "未使用的统计年份及行", "text", False),
)
ENTITY_KINDS: Mapping[str, EntityKind] = MappingProxyType(
    {
        "class": EntityKind(
            "class",
            "班级",
            CLASSES,
            (_SCHOOL,),
            (
                _derived("stage", "学段", "enum", enum=STAGES),
                _derived("grade_no", "年级（数字）", "number", False, integer=True),
                _derived("grade_name", "年级名称", "text"),
            ),
            "class_id",
        ),
        "teacher": EntityKind("teacher", "教师", TEACHERS, (_SCHOOL,), (), "teacher_id"),
        "school": EntityKind(
            "school",
            "学校",
            SCHOOLS,
            (Relation("safety", "安防·", record=SAFETY), Relation("facilities", "办学条件·", record=FACILITIES)),
            (
                _derived("enrolment", "在校生数", "number", integer=True),
                _derived("class_count", "班级数", "number", integer=True),
                _derived("reported_enrolment", "学校名单填报的在校生数", "number", False, integer=True),
                _derived("class_pupils", "班级名单人数合计", "number", integer=True),
            ),
            "school_id",
        ),
        "school_stage": EntityKind(
            "school_stage",
            "学校学段",
            None,
            (_SCHOOL,),
            (
                _derived("school_id", "学校代码", "text"),
                _derived("county", "区县", "text"),
                _derived("stage", "学段", "enum", enum=COMPULSORY_STAGES),
                _derived("enrolment", "学段在校生数", "number", integer=True),
                _derived("class_count", "学段班级数", "number", integer=True),
                _derived("share", "共享资源分摊比例", "number", form="exact", decimals=4),
            ),
            "school_id",
        ),
        "township": EntityKind(
            "township",
            "乡镇",
            None,
            (),
            (
                _derived("county", "区县", "text"),
                _derived("township", "乡镇", "text"),
                _derived("name", "名称", "text"),
            ),
            "name",
        ),
        "county": EntityKind(
            "county",
            "区县",
            None,
            (Relation("stats", "本年统计·", record=COUNTY_STATS), Relation("prev", "上年统计·", record=COUNTY_STATS)),
            (_derived("name", "区县名称", "text"), *_UNUSED_STATS),
            "name",
        ),
        "county_metric": EntityKind(
            "county_metric",
            "区县指标",
            None,
            (),
            (
                _derived("county", "区县", "text"),
                _derived("stage", "学段", "enum", enum=COMPULSORY_STAGES),
                _derived("metric", "指标", "text"),
                _derived("metric_title", "指标名称", "text"),
                _derived("cv", "差异系数", "number", False, form="real", decimals=3),
                _derived("mean", "加权平均值", "number", False, form="exact", decimals=2),
                _derived("schools", "参与计算的学校数", "number", integer=True),
            ),
            "metric",
        ),
        "city": EntityKind(
            "city",
            "全市",
            None,
            (Relation("stats", "本年统计·", record=CITY_STATS), Relation("prev", "上年统计·", record=CITY_STATS)),
            (_derived("name", "名称", "text"), *_UNUSED_STATS),
            "name",
        ),
    }
)
ENTITY_LABELS: Mapping[str, str] = MappingProxyType({k: v.label for k, v in ENTITY_KINDS.items()})
AREA_KINDS = ("township", "county", "county_metric", "city")


@dataclass(frozen=True)
class EntityVocabulary:
    kind: str
    label: str
    record: RecordKind | None
    fields: Mapping[str, FieldInfo]
    relations: Mapping[str, Relation]

    def relation_key(self, path: str) -> str:
        """The field whose presence means the related record or entity exists."""
        relation = self.relations[path]
        if relation.record is not None:
            return f"{path}.{relation.record.unique_groups[0][0]}"
        return f"{path}.{ENTITY_KINDS[relation.entity].key}"  # type: ignore[index]


def _column_field(column: Column, kind: RecordKind) -> FieldInfo:
    if column.type in ("int", "decimal", "rate"):
        type_: FieldType = "number"
    elif column.type == "grade":
        type_ = "text"
    else:
        type_ = column.type  # type: ignore[assignment]
    rate = column.type == "rate"
    return FieldInfo(
        column.name,
        column.label,
        type_,
        column.always_present,
        "record",
        requires=(kind.name,),
        enum=column.enum,
        integer=column.type == "int",
        percent=rate,
        scale=column.scale,
        decimals=max(column.places - 2, 0) if rate else column.places,
        unit="" if rate else column.unit,
    )


def _record_fields(kind: RecordKind, extras: Mapping[str, tuple[bool, int]]) -> Iterator[FieldInfo]:
    for column in kind.columns:
        yield _column_field(column, kind)
    for header, (numeric, places) in extras.items():
        yield FieldInfo(
            header,
            header,
            "number" if numeric else "text",
            False,
            "record",
            requires=(kind.name,),
            scale=10**places,
            decimals=places,
        )


def indicator_fields(spec: IndicatorSpec, amount: FieldInfo | None = None) -> tuple[FieldInfo, ...]:
    """The fields an indicator adds to its entity (a share also adds numerator and denominator).

    A share's and a count's values are exact and may be bounded: counted over rows whose cells
    are partly blank, they are the interval of what the blanks could make them. `amount` is the
    field a share weighs by or a count sums (its places are theirs)."""
    origin = f"indicator:{spec.id}"
    places = amount.decimals if amount is not None else 0
    if spec.kind == "share":
        assert spec.share is not None
        counted = spec.share.weight is None
        return (
            FieldInfo(
                spec.id,
                spec.title,
                "number",
                False,
                origin,
                percent=True,
                form="exact",
                decimals=2 if spec.decimals is None else spec.decimals,
                bounded=True,
            ),
            FieldInfo(
                f"{spec.id}.numerator",
                f"{spec.title}（分子）",
                "number",
                True,
                origin,
                integer=counted,
                form="exact",
                decimals=places,
                bounded=True,
            ),
            FieldInfo(
                f"{spec.id}.denominator",
                f"{spec.title}（分母）",
                "number",
                True,
                origin,
                integer=counted,
                form="exact",
                decimals=places,
                bounded=True,
            ),
        )
    if spec.kind == "count":
        assert spec.count is not None
        return (
            FieldInfo(
                spec.id,
                spec.title,
                "number",
                True,
                origin,
                integer=spec.count.sum is None,
                form="exact",
                decimals=places,
                bounded=True,
            ),
        )
    if spec.kind == "peers":
        return (FieldInfo(spec.id, spec.title, "number", False, origin, integer=True),)
    if spec.kind == "cv":
        return ()
    return (
        FieldInfo(
            spec.id,
            spec.title,
            "number",
            False,
            origin,
            percent=spec.percent,
            form="exact",
            decimals=2 if spec.decimals is None else spec.decimals,
            bounded=True,
        ),
    )


def _prefixed(info: FieldInfo, label: str, path: str, present: bool, requires: tuple[str, ...]) -> FieldInfo:
    return FieldInfo(
        f"{path}.{info.path}",
        f"{label}{info.label}",
        info.type,
        present and info.always_present,
        info.origin,
        path,
        tuple(dict.fromkeys(requires + info.requires)),
        info.enum,
        info.integer,
        info.percent,
        info.form,
        info.scale,
        info.decimals,
        info.unit,
        info.bounded,
    )


def build_vocabulary(
    indicators: Iterable[IndicatorSpec] = (),
    extra_columns: Mapping[str, Mapping[str, tuple[bool, int]]] | None = None,
) -> dict[str, EntityVocabulary]:
    """Vocabularies of all entity kinds; `extra_columns` maps a record kind to {header: (numeric, places)}.

    Indicators are added in declaration order, each seeing the fields of those before it (a
    share weighted by an earlier indicator takes that indicator's number form)."""
    extras = extra_columns or {}
    own: dict[str, dict[str, FieldInfo]] = {}
    for name, kind in ENTITY_KINDS.items():
        fields: dict[str, FieldInfo] = {}
        if kind.record is not None:
            fields.update((f.path, f) for f in _record_fields(kind.record, extras.get(kind.record.name, {})))
        fields.update((f.path, f) for f in kind.derived)
        own[name] = fields
    for spec in indicators:
        amount = None
        body = spec.share or spec.count
        path = (spec.share.weight if spec.share else spec.count.sum if spec.count else None) if body else None
        if body is not None and path is not None:
            amount = _expanded(own, extras, body.of).get(path)
        own[spec.entity].update((f.path, f) for f in indicator_fields(spec, amount))
    return {name: _vocabulary(name, own, extras) for name in ENTITY_KINDS}


def _expanded(
    own: Mapping[str, Mapping[str, FieldInfo]], extras: Mapping[str, Mapping[str, tuple[bool, int]]], name: str
) -> Mapping[str, FieldInfo]:
    return _vocabulary(name, own, extras).fields


def _vocabulary(
    name: str, own: Mapping[str, Mapping[str, FieldInfo]], extras: Mapping[str, Mapping[str, tuple[bool, int]]]
) -> EntityVocabulary:
    def expand(
        kind_name: str,
        prefix: str,
        labels: str,
        present: bool,
        requires: tuple[str, ...],
        depth: int,
        fields: dict[str, FieldInfo],
        relations: dict[str, Relation],
    ) -> None:
        for relation in ENTITY_KINDS[kind_name].relations:
            path = f"{prefix}{relation.prefix}"
            label = labels + relation.label
            required = present and relation.required
            relations[path] = relation
            if relation.record is not None:
                chain = requires + (relation.record.name,)
                for info in _record_fields(relation.record, extras.get(relation.record.name, {})):
                    fields.setdefault(f"{path}.{info.path}", _prefixed(info, label, path, required, chain))
            elif relation.entity is not None and depth < 3:
                target = ENTITY_KINDS[relation.entity]
                chain = requires + ((target.record.name,) if target.record else ())
                for info in own[relation.entity].values():
                    fields.setdefault(f"{path}.{info.path}", _prefixed(info, label, path, required, chain))
                expand(relation.entity, f"{path}.", label, required, chain, depth + 1, fields, relations)

    kind = ENTITY_KINDS[name]
    fields = dict(own[name])
    relations: dict[str, Relation] = {}
    expand(name, "", "", True, (kind.record.name,) if kind.record else (), 0, fields, relations)
    return EntityVocabulary(name, kind.label, kind.record, MappingProxyType(fields), MappingProxyType(relations))
