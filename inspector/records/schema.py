"""The data contract: record kinds, their columns, Chinese headers and value types.

This table is the single source of what an audit folder may hold. The loader derives header
aliases, value parsers and reference checks from it; the rule compiler derives the fields a
rule may name and their types.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property
from types import MappingProxyType
from typing import Any, Literal

ValueType = Literal["text", "int", "decimal", "rate", "bool", "date", "enum", "grade"]
NUMERIC_TYPES = frozenset({"int", "decimal", "rate"})

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
URBAN_RURAL: Mapping[str, str] = MappingProxyType({"urban": "城区", "town": "镇区", "rural": "乡村"})
LEVELS: Mapping[str, str] = MappingProxyType(
    {"none": "无", "county": "县级", "city": "市级", "region": "自治区级", "national": "国家级"}
)
TITLES: Mapping[str, str] = MappingProxyType(
    {"professor": "正高级", "associate": "副高级", "intermediate": "中级", "assistant": "初级", "none": "未定级"}
)


@dataclass(frozen=True)
class Column:
    """One column of a record kind.

    Numbers are read at a declared precision: `int` columns are whole counts, `decimal` columns
    keep `decimals` places (areas 0.01 ㎡, money 0.01 元), `rate` columns are fractions of 1
    kept to 0.01% (four places). `minimum` and `maximum` bound what is plausible (in the
    column's own unit; a rate's as a fraction of 1): a value outside is a located error, never
    a silent drop. A rate whose `maximum` is above 1 is a gross ratio (毛入园率 may exceed 100%).
    """

    name: str
    label: str
    type: ValueType = "text"
    required: bool = True
    enum: Mapping[str, str] | None = None
    default: object = None
    minimum: int | float | None = None
    maximum: int | float | None = None
    references: str | None = None
    unique: bool = False
    decimals: int | None = None
    unit: str = ""
    # other headers naming the column: 表一's indicator names (without the unit), as published statistics print them
    aliases: tuple[str, ...] = ()

    @property
    def always_present(self) -> bool:
        """Whether every loaded record has a value (required, or defaulted)."""
        return self.required or self.default is not None

    @property
    def places(self) -> int:
        """Decimal places a value of this column is kept to (0 for counts)."""
        if self.decimals is not None:
            return self.decimals
        return {"rate": 4, "decimal": 2}.get(self.type, 0)

    @property
    def scale(self) -> int:
        """Units per 1: a value is stored as the integer `value × scale`."""
        return int(10**self.places)  # int ** int is typed Any: a negative exponent gives a float

    @property
    def bounds(self) -> tuple[Fraction | None, Fraction | None]:
        """The plausible range as exact fractions (a rate's defaults to 0–100%)."""
        low = self.minimum if self.minimum is not None else (0 if self.type == "rate" else None)
        high = self.maximum if self.maximum is not None else (1 if self.type == "rate" else None)
        return (None if low is None else Fraction(str(low)), None if high is None else Fraction(str(high)))


def _count(name: str, label: str, maximum: int, **kw: Any) -> Column:
    return Column(name, label, "int", required=False, minimum=0, maximum=maximum, **kw)


def _area(name: str, label: str) -> Column:
    return Column(name, label, "decimal", required=False, minimum=0, maximum=10_000_000, decimals=2, unit="㎡")


def _yuan(name: str, label: str, maximum: int) -> Column:
    return Column(name, label, "decimal", required=False, minimum=0, maximum=maximum, decimals=2, unit="元")


def _wan_yuan(name: str, label: str) -> Column:
    return Column(name, label, "decimal", required=False, minimum=0, maximum=10_000_000_000, decimals=2, unit="万元")


def _rate(name: str, label: str, *, gross: bool = False, aliases: tuple[str, ...] = ()) -> Column:
    # a gross ratio may exceed 100%; its plausible floor tells 1.025 (102.5%) from 1.025%
    if gross:
        return Column(name, label, "rate", required=False, minimum=0.05, maximum=2, unit="%", aliases=aliases)
    return Column(name, label, "rate", required=False, unit="%", aliases=aliases)


@dataclass(frozen=True)
class RecordKind:
    """A kind of input record: one file (or sheet) of an audit folder."""

    name: str
    label: str
    entity: str
    columns: tuple[Column, ...]
    aliases: tuple[str, ...] = ()
    required_file: bool = False
    key_columns: tuple[str, ...] = ()
    by_name: Mapping[str, Column] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_name", MappingProxyType({c.name: c for c in self.columns}))

    @cached_property
    def key(self) -> Column:
        """The single column identifying a record (kinds keyed by several columns have none)."""
        return next(c for c in self.columns if c.unique)

    @cached_property
    def unique_groups(self) -> tuple[tuple[str, ...], ...]:
        """Column groups whose values may not repeat: each unique column, and the composite key."""
        groups = tuple((c.name,) for c in self.columns if c.unique)
        return groups + ((self.key_columns,) if self.key_columns else ())


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
        Column("urban_rural", "城乡类型", "enum", required=False, enum=URBAN_RURAL),
        Column("inclusive", "是否普惠", "bool", required=False),
        Column("township_center", "是否乡镇中心园", "bool", required=False),
        Column("demo_level", "示范园级别", "enum", required=False, enum=LEVELS),
        Column("star_level", "星级特色高中", "int", required=False, minimum=0, maximum=5),
        Column("health_promoting", "健康促进学校", "bool", required=False),
        Column("boarding", "寄宿制", "bool", required=False),
        _count("enrolment", "在校生数", 100_000, unit="人"),
        Column("health_vice_principal", "配备卫生健康副校长", "bool", required=False),
        _count("subject_bases", "市级以上学科基地数", 1_000, unit="个"),
        # the year the 示范 level was conferred: the plan's 建立/新增 targets count designations since 2021
        Column("demo_year", "示范认定年份", "int", required=False, minimum=1980, maximum=2100, unit="年"),
        # attestations for the plan's curriculum requirements (第二章第一节一、三, 第二章第二节三)
        Column("labour_course", "开设劳动教育课程", "bool", required=False),
        Column("unified_textbooks", "使用统编思政语文历史教材", "bool", required=False),
        Column("new_curriculum", "实施普通高中新课程新教材", "bool", required=False),
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
        Column("size", "班额", "int", minimum=0, maximum=300, unit="人"),
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
        Column("hire_year", "入职年份", "int", minimum=1940, maximum=2100, unit="年"),
        # a blank is unknown, not 专任: rules that need it bound their verdict over both readings
        Column("full_time", "是否专任教师", "bool", required=False),
        Column("has_certificate", "是否持有教师资格证", "bool", required=False),
        Column("degree", "最高学历", "enum", required=False, enum=DEGREES),
        Column("title", "职称", "enum", required=False, enum=TITLES),
        Column("backbone_level", "骨干教师级别", "enum", required=False, enum=LEVELS),
        Column("dual_qualified", "是否双师型", "bool", required=False),
        Column("preschool_major", "是否学前教育专业", "bool", required=False),
        _count("training_hours_5y", "五年培训学时", 10_000, unit="学时"),
        Column("rotated_this_year", "本年度交流轮岗", "bool", required=False),
        Column("is_principal", "是否园长或校长", "bool", required=False),
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
        _count("full_time_guards", "专职保安人数", 500, unit="人"),
        Column("one_key_alarm", "一键报警联网", "bool", required=False),
        Column("video_linked_police", "视频监控联网", "bool", required=False),
        Column("escort_post", "护学岗", "bool", required=False),
        Column("anti_ramming", "校门防冲撞设施", "bool", required=False),
        _count("video_retention_days", "视频存储天数", 3_650, unit="天"),
    ),
)

FACILITIES = RecordKind(
    name="facilities",
    label="办学条件",
    entity="facilities",
    aliases=("办学条件", "设施", "校舍"),
    columns=(
        Column("school_id", "学校代码", references="schools", unique=True),
        _area("teaching_area", "教学及辅助用房面积"),
        _area("sports_area", "体育运动场馆面积"),
        _yuan("equipment_value", "教学仪器设备值", 100_000_000_000),
        _count("multimedia_rooms", "网络多媒体教室数", 10_000, unit="间"),
        _count("music_rooms", "音乐专用教室数", 1_000, unit="间"),
        _area("music_room_area", "音乐专用教室最小面积"),
        _count("art_rooms", "美术专用教室数", 1_000, unit="间"),
        _area("art_room_area", "美术专用教室最小面积"),
        Column("counseling_room", "心理辅导室", "bool", required=False),
        _count("doctors", "校医人数", 1_000, unit="人"),
        _count("daily_pe_minutes", "每日体育活动分钟数", 1_440, unit="分钟"),
        _rate("art_course_rate", "艺术课开课率"),
        _rate("safety_education_rate", "安全教育普及率"),
        _count("psych_teachers", "专兼职心理健康教师数", 1_000, unit="人"),
        # 生均拨款 (第二章第九节一): what the school received per pupil and the standard in force for its level
        _yuan("funding_per_pupil", "生均财政拨款", 1_000_000),
        _yuan("funding_standard", "执行的生均拨款标准", 1_000_000),
    ),
)

_STAT_COLUMNS = (
    _rate("preschool_gross_enrolment", "学前三年毛入园率", gross=True),
    _rate("compulsory_retention", "九年义务教育巩固率"),
    _rate("senior_gross_enrolment", "高中阶段毛入学率", gross=True),
    _rate("disabled_enrolment", "适龄残疾儿童少年义务教育入学率"),
    _rate("fitness_good_rate", "中小学体质健康优良率"),
    _rate("satisfaction", "教师学生家长满意度", aliases=("教师、学生、家长满意度",)),
    _rate("safety_education_rate", "安全教育普及率"),
    _yuan("teacher_avg_pay", "义务教育教师平均工资", 10_000_000),
    _yuan("civil_servant_avg_pay", "当地公务员平均工资", 10_000_000),
    _wan_yuan("edu_budget", "一般公共预算教育支出"),
    _yuan("edu_budget_per_student", "生均一般公共预算教育支出", 10_000_000),
    _wan_yuan("gdp", "地区生产总值"),
    _wan_yuan("fiscal_edu_funds", "财政性教育经费"),
    _count("migrant_children", "随迁子女在校生数", 100_000_000, unit="人"),
    _count("migrant_children_public", "在公办学校就读的随迁子女数", 100_000_000, unit="人"),
    Column("preschool_assessment_passed", "通过学前教育普及普惠督导评估", "bool", required=False),
    Column("balance_assessment_passed", "通过义务教育优质均衡督导评估", "bool", required=False),
    Column("preschool_inspected", "开展学前教育普及普惠督导", "bool", required=False),
    _count("migrant_eligible_applicants", "符合条件申请入学的随迁子女数", 100_000_000, unit="人"),
    _count("migrant_eligible_admitted", "符合条件并已入学的随迁子女数", 100_000_000, unit="人"),
    _yuan("preschool_nonstaff_pay", "公办园非在编教师平均工资", 10_000_000),
    _yuan("preschool_staff_pay", "公办园在编教师平均工资", 10_000_000),
    _count("dropouts", "义务教育辍学学生数", 10_000_000, unit="人"),
    _count("migrant_children_purchased", "在政府购买服务的民办学校就读的随迁子女数", 100_000_000, unit="人"),
)

COUNTY_STATS = RecordKind(
    name="county_stats",
    label="区县统计",
    entity="county_stats",
    aliases=("区县统计", "县区统计"),
    key_columns=("county", "year"),
    columns=(
        Column("county", "区县", references="schools.county"),
        Column("year", "年份", "int", minimum=2000, maximum=2100, unit="年"),
        *_STAT_COLUMNS,
    ),
)

CITY_STATS = RecordKind(
    name="city_stats",
    label="全市统计",
    entity="city_stats",
    aliases=("全市统计", "市级统计"),
    key_columns=("year",),
    columns=(
        Column("year", "年份", "int", minimum=2000, maximum=2100, unit="年"),
        *_STAT_COLUMNS,
        _count("subject_bases", "市级以上学科基地数", 100_000, unit="个"),
        _count(
            "skill_awards",
            "自治区级以上技能比赛获奖数",
            100_000,
            unit="项",
            aliases=("自治区级以上技能比赛获奖数（个）",),
        ),  # as 表一 prints it
        _count("new_universities", "筹建高等院校数", 100, unit="所"),
        Column(
            "avg_schooling_years",
            "劳动年龄人口平均受教育年限",
            "decimal",
            required=False,
            minimum=0,
            maximum=25,
            decimals=2,
            unit="年",
        ),
        _count("research_awards_basic", "基础教育自治区级以上教学科研成果数", 100_000, unit="项"),
        _count("research_awards_vocational", "职业教育自治区级以上教学科研成果数", 100_000, unit="项"),
        _count("practice_bases_new", "新建中小学生示范性综合实践基地数", 100, unit="个"),
        # 表一's city figures as published, used instead of computing them from school-level rows (a
        # statistics-only audit has none); the plan pack's indicators name them with `entered`
        _rate("public_kg_share", "公办幼儿园在园幼儿占比"),
        _rate("inclusive_share", "普惠性幼儿园覆盖率"),
        _count("demo_kgs", "县级以上示范园数", 100_000, unit="个"),
        _rate("preschool_pass_share", "县域学前教育普及普惠评估通过率"),
        _rate("balance_pass_share", "优质均衡县区评估通过率"),
        _rate("star_high_share", "自治区星级特色高中比例"),
        _rate("kg_major_share", "幼儿园教师受专业教育比例"),
        _rate("bachelor_share", "义务教育学校专任教师本科以上学历比例"),
        _count("professors", "中小学正高级或相当正高级职称教师人数", 1_000_000, unit="人"),
        _rate("dual_share", "职业教育专业教师中“双师型”比例"),
        _rate("fiscal_gdp_ratio", "财政性教育经费占GDP比例"),
    ),
)

RECORD_KINDS: Mapping[str, RecordKind] = MappingProxyType(
    {kind.name: kind for kind in (SCHOOLS, CLASSES, TEACHERS, SAFETY, FACILITIES, COUNTY_STATS, CITY_STATS)}
)


def kind_for_source(stem: str) -> RecordKind | None:
    """The record kind a file or sheet name stands for (`classes`, `班级`), if any."""
    key = stem.strip().lower()
    for kind in RECORD_KINDS.values():
        if key == kind.name or stem.strip() in kind.aliases:
            return kind
    return None
