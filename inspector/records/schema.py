"""The data contract: record kinds, their columns, Chinese headers and value types.

This table is the single source of what an audit folder may hold. The loader derives header
aliases, value parsers and reference checks from it; the rule compiler derives the fields a
rule may name and their types.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import Literal

ValueType = Literal["text", "int", "float", "bool", "date", "enum", "grade"]

SCHOOL_TYPES: Mapping[str, str] = MappingProxyType(
    {
        "kindergarten": "幼儿园",
        "primary": "小学",
        "junior": "初级中学",
        "nine_year": "九年一贯制学校",
        "complete_secondary": "完全中学",
        "senior": "高级中学",
        "twelve_year": "十二年一贯制学校",
        "vocational": "中等职业学校",
        "special": "特殊教育学校",
    }
)
OWNERSHIP: Mapping[str, str] = MappingProxyType({"public": "公办", "private": "民办"})
DEGREES: Mapping[str, str] = MappingProxyType(
    {"high_school": "高中及以下", "junior_college": "专科", "bachelor": "本科", "master": "硕士", "doctor": "博士"}
)


@dataclass(frozen=True)
class Column:
    """One column of a record kind."""

    name: str
    label: str
    type: ValueType = "text"
    required: bool = True
    enum: Mapping[str, str] | None = None
    default: object = None
    minimum: int | None = None
    references: str | None = None
    unique: bool = False

    @property
    def always_present(self) -> bool:
        """Whether every loaded record has a value (required, or defaulted)."""
        return self.required or self.default is not None


@dataclass(frozen=True)
class RecordKind:
    """A kind of input record: one file (or sheet) of an audit folder."""

    name: str
    label: str
    entity: str
    columns: tuple[Column, ...]
    aliases: tuple[str, ...] = ()
    required_file: bool = False
    by_name: Mapping[str, Column] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_name", MappingProxyType({c.name: c for c in self.columns}))

    @cached_property
    def key(self) -> Column:
        return next(c for c in self.columns if c.unique)


SCHOOLS = RecordKind(
    name="schools",
    label="学校",
    entity="school",
    aliases=("学校", "学校名单"),
    required_file=True,
    columns=(
        Column("school_id", "学校代码", unique=True),
        Column("name", "学校名称"),
        Column("county", "区县"),
        Column("township", "乡镇"),
        Column("type", "办学类型", "enum", enum=SCHOOL_TYPES),
        Column("ownership", "办学性质", "enum", enum=OWNERSHIP),
        Column("license_no", "办园许可证号", required=False),
        Column("license_valid_until", "许可证有效期至", "date", required=False),
    ),
)

CLASSES = RecordKind(
    name="classes",
    label="班级",
    entity="class",
    aliases=("班级", "班额"),
    columns=(
        Column("class_id", "班级代码", unique=True),
        Column("school_id", "学校代码", references="schools"),
        Column("grade", "年级", "grade"),
        Column("size", "班额", "int", minimum=0),
    ),
)

TEACHERS = RecordKind(
    name="teachers",
    label="教师",
    entity="teacher",
    aliases=("教师", "教职工"),
    columns=(
        Column("teacher_id", "教师编号", unique=True),
        Column("school_id", "学校代码", references="schools"),
        Column("subject", "任教学科", required=False),
        Column("hire_year", "入职年份", "int", minimum=1900),
        Column("full_time", "是否专任教师", "bool", required=False, default=True),
        Column("has_certificate", "是否持有教师资格证", "bool", required=False),
        Column("degree", "最高学历", "enum", required=False, enum=DEGREES),
    ),
)

SAFETY = RecordKind(
    name="safety",
    label="安全",
    entity="safety",
    aliases=("安全", "安防", "校园安全"),
    columns=(
        Column("school_id", "学校代码", references="schools", unique=True),
        Column("closed_management", "封闭化管理", "bool", required=False),
        Column("full_time_guards", "专职保安人数", "int", required=False, minimum=0),
        Column("one_key_alarm", "一键报警联网", "bool", required=False),
        Column("video_linked_police", "视频监控联网", "bool", required=False),
        Column("escort_post", "护学岗", "bool", required=False),
    ),
)

RECORD_KINDS: Mapping[str, RecordKind] = MappingProxyType(
    {kind.name: kind for kind in (SCHOOLS, CLASSES, TEACHERS, SAFETY)}
)


def kind_for_source(stem: str) -> RecordKind | None:
    """The record kind a file or sheet name stands for (`classes`, `班级`), if any."""
    key = stem.strip().lower()
    for kind in RECORD_KINDS.values():
        if key == kind.name or stem.strip() in kind.aliases:
            return kind
    return None
