"""Deterministic synthetic audit folders for Liuzhou, with an independent oracle of their findings.

The generator builds schools, classes, teachers and safety rows in memory from ``random.Random(seed)``,
plants boundary cases for every rule of the core pack, computes the expected findings from the rows
themselves (a second implementation of the rules, sharing no code with the engine) and writes the
audit folder plus ``expected.yaml``. Only the standard library, openpyxl and pyyaml are used.

With ``--packs all`` (the default at case scale) :mod:`synthetic.packs` then adds what
the plan, quality-balance, preschool and safety packs read (the new columns of schools, teachers and
safety; facilities, county and city statistics) and plants a failing and a passing entity for each of
their rules, written to ``planted.yaml``; audit.yaml then selects all five packs. The oracle runs on the
final rows either way. Those plants are built for the case scale; a seed whose kindergartens leave no
room for them (2026 is one) stops with a PlantError that says which: use another seed or ``--packs core``.

Usage::

    PYTHONPATH=tests python -m synthetic.city OUT_DIR --scale {case,city,province} [--seed N]
        [--format {mixed,csv}] [--as-of 2025-12-01] [--no-sets] [--packs {core,all}]
"""

from __future__ import annotations

import argparse
import csv
import random
import time
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any, Generic, NamedTuple, TypeVar

import openpyxl
import yaml

from .model import (COMPULSORY, HIGH_SCHOOLS, KINDERGARTEN_STANDARD, PE_ART, RATE_COLUMNS, Dataset, Plant, PlantError,
                    Safety, School, SchoolClass, Teacher)
from .names import (COUNTIES, DEGREES, NEW_HIRE_DEGREES, OWNERSHIP_ZH, SECONDARY_DEGREES, SUBJECTS, TYPE_ZH, County,
                    PersonNamer, SchoolNamer, weighted)
from .packs import (ALL_PACKS, CITY_PLAN, SKIPPED_2022, TARGETS, decimal_text, extend, params_override, pct_text,
                    target_year)

__all__ = ["RULE_IDS", "SCALES", "Dataset", "PlantError", "RuleResult", "build_dataset", "compute_expected", "generate"]

RULE_IDS: tuple[str, ...] = (
    "class-size.super-large", "class-size.large", "class-size.kindergarten",
    "kindergarten.unlicensed", "kindergarten.license-expired", "kindergarten.license-shared",
    "teachers.new-pe-art-share",
    "safety.closed-management", "safety.guards", "safety.alarm-linked", "safety.video-linked",
    "safety.escort-post", "safety.record-missing",
)
KINDS: tuple[str, ...] = ("schools", "classes", "teachers", "safety")
PACK_KINDS: tuple[str, ...] = ("facilities", "county_stats", "city_stats")  # written for the other packs only

# Canonical English header and Chinese header of each column; 班主任 is the extra column of classes.
COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "schools": (("school_id", "学校代码"), ("name", "学校名称"), ("county", "区县"), ("township", "乡镇"),
                ("type", "办学类型"), ("ownership", "办学性质"), ("license_no", "办园许可证号"),
                ("license_valid_until", "许可证有效期至")),
    "classes": (("class_id", "班级代码"), ("school_id", "学校代码"), ("grade", "年级"), ("size", "班额"),
                ("head_teacher", "班主任")),
    "teachers": (("teacher_id", "教师编号"), ("school_id", "学校代码"), ("subject", "任教学科"),
                 ("hire_year", "入职年份"), ("full_time", "是否专任教师"), ("has_certificate", "是否持有教师资格证"),
                 ("degree", "最高学历")),
    "safety": (("school_id", "学校代码"), ("closed_management", "封闭化管理"), ("full_time_guards", "专职保安人数"),
               ("one_key_alarm", "一键报警联网"), ("video_linked_police", "视频监控联网"), ("escort_post", "护学岗")),
}

# The columns the plan, quality-balance, preschool and safety packs read (an extended folder only).
PACK_COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "schools": (("urban_rural", "城乡类型"), ("inclusive", "是否普惠"), ("township_center", "是否乡镇中心园"),
                ("demo_level", "示范园级别"), ("star_level", "星级特色高中"), ("health_promoting", "健康促进学校"),
                ("boarding", "寄宿制"), ("enrolment", "在校生数"), ("health_vice_principal", "配备卫生健康副校长"),
                ("subject_bases", "市级以上学科基地数")),
    "classes": (),
    "teachers": (("title", "职称"), ("backbone_level", "骨干教师级别"), ("dual_qualified", "是否双师型"),
                 ("preschool_major", "是否学前教育专业"), ("training_hours_5y", "五年培训学时"),
                 ("rotated_this_year", "本年度交流轮岗"), ("is_principal", "是否园长或校长")),
    "safety": (("anti_ramming", "校门防冲撞设施"), ("video_retention_days", "视频存储天数")),
    "facilities": (("school_id", "学校代码"), ("teaching_area", "教学及辅助用房面积"), ("sports_area", "体育运动场馆面积"),
                   ("equipment_value", "教学仪器设备值"), ("multimedia_rooms", "网络多媒体教室数"),
                   ("music_rooms", "音乐专用教室数"), ("music_room_area", "音乐专用教室最小面积"),
                   ("art_rooms", "美术专用教室数"), ("art_room_area", "美术专用教室最小面积"),
                   ("counseling_room", "心理辅导室"), ("doctors", "校医人数"), ("daily_pe_minutes", "每日体育活动分钟数"),
                   ("art_course_rate", "艺术课开课率"), ("safety_education_rate", "安全教育普及率")),
}
STAT_HEADERS: tuple[tuple[str, str], ...] = (
    ("preschool_gross_enrolment", "学前三年毛入园率"), ("compulsory_retention", "九年义务教育巩固率"),
    ("senior_gross_enrolment", "高中阶段毛入学率"), ("disabled_enrolment", "适龄残疾儿童少年义务教育入学率"),
    ("fitness_good_rate", "中小学体质健康优良率"), ("satisfaction", "教师学生家长满意度"),
    ("safety_education_rate", "安全教育普及率"), ("teacher_avg_pay", "义务教育教师平均工资"),
    ("civil_servant_avg_pay", "当地公务员平均工资"), ("edu_budget", "一般公共预算教育支出"),
    ("edu_budget_per_student", "生均一般公共预算教育支出"), ("gdp", "地区生产总值"), ("fiscal_edu_funds", "财政性教育经费"),
    ("migrant_children", "随迁子女在校生数"), ("migrant_children_public", "在公办学校就读的随迁子女数"),
    ("preschool_assessment_passed", "通过学前教育普及普惠督导评估"), ("balance_assessment_passed", "通过义务教育优质均衡督导评估"),
    ("preschool_inspected", "开展学前教育普及普惠督导"), ("migrant_eligible_applicants", "符合条件申请入学的随迁子女数"),
    ("migrant_eligible_admitted", "符合条件并已入学的随迁子女数"), ("preschool_nonstaff_pay", "公办园非在编教师平均工资"),
    ("preschool_staff_pay", "公办园在编教师平均工资"), ("dropouts", "义务教育辍学学生数"),
)
PACK_COLUMNS["county_stats"] = (("county", "区县"), ("year", "年份"), *STAT_HEADERS)
PACK_COLUMNS["city_stats"] = (("year", "年份"), *STAT_HEADERS, ("subject_bases", "市级以上学科基地数"),
                              ("skill_awards", "自治区级以上技能比赛获奖数"), ("new_universities", "筹建高等院校数"),
                              ("avg_schooling_years", "劳动年龄人口平均受教育年限"),
                              ("research_awards_basic", "基础教育自治区级以上教学科研成果数"),
                              ("research_awards_vocational", "职业教育自治区级以上教学科研成果数"))
URBAN_ZH = {"urban": "城区", "town": "镇区", "rural": "乡村"}
LEVEL_ZH = {"none": "无", "county": "县级", "city": "市级", "region": "自治区级", "national": "国家级"}
TITLE_ZH = {"professor": "正高级", "associate": "副高级", "intermediate": "中级", "assistant": "初级", "none": "未定级"}


def columns(kind: str, extended: bool) -> tuple[tuple[str, str], ...]:
    """(English, Chinese) header of each column a folder's file of `kind` has."""
    if kind in PACK_KINDS:
        return PACK_COLUMNS[kind]
    return COLUMNS[kind] + (PACK_COLUMNS[kind] if extended else ())


TYPE_SHARE = {"kindergarten": 35, "primary": 40, "junior": 10, "nine_year": 5, "complete_secondary": 2,
              "senior": 2, "twelve_year": 1, "vocational": 3, "special": 2}
PRIVATE_SHARE = {"kindergarten": 0.55, "primary": 0.05, "junior": 0.08, "nine_year": 0.15, "complete_secondary": 0.1,
                 "senior": 0.15, "twelve_year": 0.6, "vocational": 0.15, "special": 0.0}
MEAN_CLASSES = {"kindergarten": 6, "primary": 16, "junior": 18, "nine_year": 22, "complete_secondary": 36,
                "senior": 40, "twelve_year": 48, "vocational": 30, "special": 6}
MIN_CLASSES = {"kindergarten": 1, "primary": 1, "junior": 3, "nine_year": 9, "complete_secondary": 6,
               "senior": 3, "twelve_year": 12, "vocational": 3, "special": 1}
TEACHERS_PER_CLASS = {"kindergarten": 2.0, "primary": 1.8, "junior": 2.2, "nine_year": 2.0,
                      "complete_secondary": 2.4, "senior": 2.4, "twelve_year": 2.3, "vocational": 2.5, "special": 2.6}
GUARDS = {"kindergarten": (1, 2), "primary": (1, 4), "special": (1, 3)}  # other types: (2, 8)
KINDERGARTEN_GRADES = ("小班", "中班", "大班", "混合班")
NUMBERED_GRADES = {"primary": (1, 6), "junior": (7, 9), "nine_year": (1, 9), "complete_secondary": (7, 12),
                   "senior": (10, 12), "twelve_year": (1, 12), "vocational": (10, 12), "special": (1, 9)}
SAFETY_ITEMS: tuple[tuple[str, str], ...] = (
    ("safety.closed-management", "closed_management"), ("safety.guards", "full_time_guards"),
    ("safety.alarm-linked", "one_key_alarm"), ("safety.video-linked", "video_linked_police"),
    ("safety.escort-post", "escort_post"),
)


# Role of each county in teachers.new-pe-art-share; every other county is comfortably above 15%.
COUNTY_ROLES = {"城中区": "none", "鹿寨县": "exact", "融安县": "below", "融水苗族自治县": "low"}


@dataclass(frozen=True)
class ScaleSpec:
    """Exact sizes of one scale and how many rounds of boundary cases it plants."""

    schools: int
    classes: int
    teachers: int
    rounds: int
    county_copies: int


SCALES: dict[str, ScaleSpec] = {
    "case": ScaleSpec(schools=320, classes=4_800, teachers=9_100, rounds=1, county_copies=1),
    "city": ScaleSpec(schools=1_500, classes=25_000, teachers=50_000, rounds=5, county_copies=1),
    "province": ScaleSpec(schools=20_000, classes=330_000, teachers=630_000, rounds=60, county_copies=10),
}


@dataclass
class RuleResult:
    """The oracle's verdict on one rule: entities that fail and entities it could not evaluate."""

    fail: set[str] = field(default_factory=set)
    not_evaluated: set[str] = field(default_factory=set)


T = TypeVar("T")


class _Picker(Generic[T]):
    """Hands out distinct items of a pool in a seeded random order."""

    def __init__(self, rng: random.Random, items: Iterable[T], what: str) -> None:
        self._items = list(items)
        self._what = what
        rng.shuffle(self._items)

    def take(self, accept: Callable[[T], bool] | None = None) -> T:
        for i in range(len(self._items) - 1, -1, -1):
            if accept is None or accept(self._items[i]):
                return self._items.pop(i)
        raise PlantError(f"no {self._what} left to plant a case in")


def _allocate(weights: Sequence[float], minimum: Sequence[int], total: int) -> list[int]:
    """Split `total` into integers, each at least its minimum, the rest by weight (largest remainder)."""
    spare = total - sum(minimum)
    if spare < 0:
        raise ValueError(f"cannot split {total} with minimums summing to {sum(minimum)}")
    unit = spare / sum(weights)
    shares = [w * unit for w in weights]
    counts = [m + int(s) for m, s in zip(minimum, shares)]
    by_remainder = sorted(range(len(shares)), key=lambda i: (int(shares[i]) - shares[i], i))
    for i in by_remainder[: total - sum(counts)]:
        counts[i] += 1
    return counts


class _LicenceBook:
    """Issues licence numbers that are unique after normalisation (one sequence per issuing prefix)."""

    def __init__(self) -> None:
        self._seq: dict[str, int] = defaultdict(int)

    def next_seq(self, prefix: str) -> int:
        self._seq[prefix] += 1
        return self._seq[prefix]

    def issue(self, rng: random.Random, prefix: str, year: int) -> str:
        left, right = ("（", "）") if rng.random() < 0.6 else ("(", ")")
        return f"{prefix}教幼证字{left}{rng.randint(year - 9, year - 1)}{right}第{self.next_seq(prefix):03d}号"


def _counties(copies: int) -> list[County]:
    if copies == 1:
        return list(COUNTIES)
    return [c if k == 1 else replace(c, name=f"{c.name}{k}") for c in COUNTIES for k in range(1, copies + 1)]


def _role(county: County) -> str:
    base = next(c.name for c in COUNTIES if county.name.startswith(c.name))
    return COUNTY_ROLES.get(base, "above")


def _make_schools(rng: random.Random, spec: ScaleSpec, counties: list[County], as_of: date,
                  licences: _LicenceBook) -> list[School]:
    """Schools with a realistic type mix over the counties; a few kindergartens unlicensed or expired."""
    types = [t for t, n in zip(TYPE_SHARE, _allocate(list(TYPE_SHARE.values()), [0] * 9, spec.schools))
             for _ in range(n)]
    where = [c for c, n in zip(counties, _allocate([c.weight for c in counties], [1] * len(counties),
                                                   spec.schools)) for _ in range(n)]
    rng.shuffle(types)
    rng.shuffle(where)
    for county in counties:  # the 'below' county needs a high school for its senior-PE trap
        if _role(county) == "below" and not any(w is county and t in HIGH_SCHOOLS for w, t in zip(where, types)):
            donor = next(i for i, t in enumerate(types) if t in HIGH_SCHOOLS and _role(where[i]) != "below")
            where[donor] = county
    namer, serial = SchoolNamer(rng), defaultdict(int)
    schools = []
    for stype, county in zip(types, where):
        serial[county.code] += rng.randint(1, 2)
        seat_only = stype in HIGH_SCHOOLS or stype in ("vocational", "special")
        township = county.seat if seat_only and not county.is_district else rng.choice(county.townships)
        ownership = "private" if rng.random() < PRIVATE_SHARE[stype] else "public"
        school = School(f"{county.code}{serial[county.code]:04d}",
                        namer.name(county, township, stype, ownership == "private"),
                        county.name, township, stype, ownership)
        if stype == "kindergarten" and rng.random() >= 0.01:
            school.license_no = licences.issue(rng, county.licence_prefix, as_of.year)
            days = -rng.randint(2, 900) if rng.random() < 0.02 else rng.randint(30, 5 * 365)
            school.license_valid_until = as_of + timedelta(days=days)
        schools.append(school)
    return sorted(schools, key=lambda s: s.school_id)


def _grades(rng: random.Random, stype: str, n: int) -> list[str]:
    if stype == "kindergarten":
        if n <= 2:
            return ["混合班"] * n
        grades = [KINDERGARTEN_GRADES[i % 3] for i in range(n)]
        if n >= 4 and rng.random() < 0.1:
            grades[-1] = "混合班"
        return sorted(grades, key=KINDERGARTEN_GRADES.index)
    low, high = NUMBERED_GRADES[stype]
    span = high - low + 1
    return [str(g) for g in sorted(low + i % span for i in range(n))]


def _class_size(rng: random.Random, stype: str, grade: str, n_classes: int) -> int:
    """Typical sizes well within the limits, with a thin tail of large and super-large classes."""
    if stype == "kindergarten":
        standard = KINDERGARTEN_STANDARD[grade]
        return standard + rng.randint(1, 5) if rng.random() < 0.02 else rng.randint(standard - 10, standard)
    if stype == "special":
        return rng.randint(6, 14)
    if stype == "vocational":
        return rng.randint(53, 68) if rng.random() < 0.1 else rng.randint(30, 52)
    number, r = int(grade), rng.random()
    if r < 0.0004:
        return rng.randint(66, 72)
    if r < (0.0064 if number >= 10 else 0.0014):
        return rng.randint(56, 65)
    if number <= 6:
        return rng.randint(15, 32) if n_classes <= 6 else rng.randint(33, 45)
    return rng.randint(38, 50) if number <= 9 else rng.randint(42, 54)


def _make_classes(rng: random.Random, spec: ScaleSpec, schools: list[School]) -> list[SchoolClass]:
    weights = [MEAN_CLASSES[s.type] * rng.uniform(0.4, 1.6) for s in schools]
    counts = _allocate(weights, [MIN_CLASSES[s.type] for s in schools], spec.classes)
    people, classes = PersonNamer(rng), []
    for school, n in zip(schools, counts):
        for i, grade in enumerate(_grades(rng, school.type, n), start=1):
            classes.append(SchoolClass(f"{school.school_id}-{i:03d}", school.school_id, grade,
                                       _class_size(rng, school.type, grade, n), people.name()))
    return classes


def _make_teachers(rng: random.Random, spec: ScaleSpec, schools: list[School], classes: list[SchoolClass],
                   as_of: date) -> list[Teacher]:
    """Teachers proportional to classes; compulsory schools get no as_of-year hires yet (see _control_new_hires)."""
    per_school: dict[str, int] = defaultdict(int)
    for c in classes:
        per_school[c.school_id] += 1
    weights = [per_school[s.school_id] * TEACHERS_PER_CLASS[s.type] * rng.uniform(0.9, 1.1) for s in schools]
    counts = _allocate(weights, [1] * len(schools), spec.teachers)
    years = tuple(y for y in range(1990, as_of.year) for _ in range(4 + (y - 1990) // 3))
    teachers, serial = [], 0
    for school, n in zip(schools, counts):
        subjects, compulsory = SUBJECTS[school.type], school.type in COMPULSORY
        degrees = DEGREES.get(school.type, SECONDARY_DEGREES)
        for _ in range(n):
            serial += 1
            new = not compulsory and rng.random() < 0.05
            r = rng.random()
            teachers.append(Teacher(
                f"T{serial:07d}", school.school_id, rng.choice(subjects),
                as_of.year if new else rng.choice(years),
                False if r < 0.04 else (None if r < 0.12 else True),
                rng.random() < 0.97, rng.choice(NEW_HIRE_DEGREES if new else degrees)))
    return teachers


def _make_safety(rng: random.Random, schools: list[School]) -> dict[str, Safety]:
    """One row per school except a few; each item missing in a small share of schools."""
    rows = {}
    for s in schools:
        if rng.random() < (0.3 if s.type == "vocational" else 0.015):
            continue
        low, high = GUARDS.get(s.type, (2, 8))
        guards = 0 if rng.random() < 0.01 else rng.randint(low, high)
        rows[s.school_id] = Safety(s.school_id, rng.random() >= 0.01, guards, rng.random() >= 0.02,
                                   rng.random() >= 0.02, rng.random() >= 0.03)
    return rows


def _new_hire_plan(rng: random.Random, role: str, eligible: int) -> tuple[int, int]:
    """How many new compulsory-school hires a county gets, and how many of them teach PE or art."""
    if role == "none":
        return 0, 0
    n = max(20, round(eligible * 0.045))
    if role == "exact":
        n = 20 * round(n / 20)
        return n, 3 * n // 20
    if role == "below":  # (3m + 1) of (20m + 7) lies in [14 %, 15 %) for every m >= 1
        m = max(1, round((n - 7) / 20))
        return 20 * m + 7, 3 * m + 1
    if role == "low":
        return n, round(n * 0.08)
    return n, round(n * rng.uniform(0.2, 0.3))


def _other_subject(rng: random.Random, stype: str) -> str:
    while (subject := rng.choice(SUBJECTS[stype])) in PE_ART:
        pass
    return subject


def _control_new_hires(rng: random.Random, ds: Dataset) -> None:
    """Turn chosen compulsory-school teachers into as_of-year hires so each county hits its planned share."""
    year, stype = ds.as_of.year, {s.school_id: s.type for s in ds.schools}
    county_of = {s.school_id: s.county for s in ds.schools}
    compulsory: dict[str, list[Teacher]] = defaultdict(list)
    high: dict[str, list[Teacher]] = defaultdict(list)
    for t in ds.teachers:
        kind = stype[t.school_id]
        if kind in COMPULSORY and t.full_time is not False:
            compulsory[county_of[t.school_id]].append(t)
        elif kind in HIGH_SCHOOLS:
            high[county_of[t.school_id]].append(t)
    for county in ds.counties:
        role, pool = _role(county), compulsory[county.name]
        n, k = _new_hire_plan(rng, role, len(pool))
        if n + 2 > len(pool):
            raise PlantError(f"{county.name} has only {len(pool)} compulsory-school teachers")
        picked = rng.sample(pool, n + 2)
        for i, t in enumerate(picked[:n]):
            kind = stype[t.school_id]
            pe = ("体育与健康", "音乐", "美术") if kind == "junior" else ("体育", "体育与健康", "音乐", "美术", "艺术")
            t.hire_year, t.degree = year, rng.choice(NEW_HIRE_DEGREES)
            t.subject = rng.choice(pe) if i < k else _other_subject(rng, kind)
        if role == "exact":  # a blank 专任 cell means full-time: reading it as false tips this county below 15 %
            for t in picked[1:n]:
                t.full_time = True
            picked[0].full_time = None
        if role in ("below", "none"):  # part-time new hires must not count
            for t in picked[n:]:
                t.hire_year, t.full_time, t.subject = year, False, "体育" if role == "below" else "语文"
        if role == "below":  # nor must new PE teachers at high schools
            for t in rng.sample(high[county.name], 2):
                t.hire_year, t.full_time, t.subject = year, True, "体育与健康"
        outcome = "fail" if n and 20 * k < 3 * n else "pass"
        ds.plants.append(Plant("teachers.new-pe-art-share", county.name, outcome, f"{role}: {k} of {n}"))


def _plant_classes(rng: random.Random, ds: Dataset, regular: _Picker[SchoolClass],
                   kindergarten: _Picker[SchoolClass], special: _Picker[SchoolClass],
                   vocational: _Picker[School], by_school: dict[str, list[SchoolClass]]) -> None:
    large, huge, kg = "class-size.large", "class-size.super-large", "class-size.kindergarten"

    def expect(c: SchoolClass, rule: str, outcome: str, note: str) -> None:
        ds.plants.append(Plant(rule, c.class_id, outcome, note))

    for size in (55, 56, 65, 66, 71, 76, 83):
        c = regular.take()
        c.size = size
        expect(c, large, "fail" if 56 <= size <= 65 else "pass", f"class of {size}")
        expect(c, huge, "fail" if size >= 66 else "pass", f"class of {size}")
    school = vocational.take()
    for c, size in zip(by_school[school.school_id], (56, 70)):
        c.size = size
        expect(c, large, "pass", f"vocational class of {size}")
        expect(c, huge, "pass", f"vocational class of {size}")
    c = special.take()
    c.size = 58
    expect(c, large, "fail", "special-school class of 58")
    plans = [(g, s, "pass") for g, s in KINDERGARTEN_STANDARD.items()]
    plans += [(g, s + 1, "fail") for g, s in KINDERGARTEN_STANDARD.items()] + [("大班", 70, "fail")]
    for grade, size, outcome in plans:
        c = kindergarten.take()
        c.grade, c.size = grade, size
        expect(c, kg, outcome, f"kindergarten {grade} of {size}")
        expect(c, large, "pass", f"kindergarten {grade} of {size}")
        expect(c, huge, "pass", f"kindergarten {grade} of {size}")


def _to_fullwidth(text: str) -> str:
    return "".join(chr(ord(ch) + 0xFEE0) if ch.isascii() and ch.isalnum() else ch for ch in text)


def _plant_licences(rng: random.Random, ds: Dataset, kindergartens: _Picker[School], book: _LicenceBook) -> None:
    as_of, year = ds.as_of, ds.as_of.year

    def take(ownership: str, licence: str | None, valid: date | None, plants: dict[str, str], note: str) -> None:
        school = kindergartens.take(lambda s: s.ownership == ownership)
        county = next(c for c in ds.counties if c.name == school.county)
        school.license_no = book.issue(rng, county.licence_prefix, year) if licence is None else licence
        school.license_valid_until = valid
        for rule in ("kindergarten.unlicensed", "kindergarten.license-expired", "kindergarten.license-shared"):
            ds.plants.append(Plant(rule, school.school_id, plants.get(rule, "pass"), note))

    future = as_of + timedelta(days=rng.randint(200, 1500))
    for ownership in ("private", "private", "public"):
        take(ownership, "", None, {"kindergarten.unlicensed": "fail"}, "no licence")
    expired = {"kindergarten.license-expired": "fail"}
    take("private", None, as_of - timedelta(days=1), expired, "valid until the day before as_of")
    take("public", None, as_of - timedelta(days=400), expired, "expired over a year ago")
    take("public", None, as_of, {}, "valid until as_of itself")
    take("private", None, None, {"kindergarten.license-expired": "not_evaluated"}, "licence without a date")
    shared = {"kindergarten.license-shared": "fail"}
    issued, seq = rng.randint(2015, year - 1), book.next_seq("柳")
    for ownership, licence in (("private", f"柳教幼证字（{issued}）第{seq:03d}号"),
                               ("private", f"柳教幼证字({issued})第{seq:03d}号 ")):
        take(ownership, licence, future, shared, "licence shared by two")
    issued, seq = rng.randint(2015, year - 1), book.next_seq("柳")
    for ownership, licence in (("private", f"柳教幼证字（{issued}）第A{seq:02d}号"),
                               ("public", f"柳教幼证字 ({issued}) 第a{seq:02d}号"),
                               ("private", f"柳教幼证字（{_to_fullwidth(str(issued))}）第{_to_fullwidth(f'A{seq:02d}')}号")):
        take(ownership, licence, future, shared, "licence shared by three")


def _plant_safety(rng: random.Random, ds: Dataset, rows: _Picker[Safety], vocational: _Picker[School],
                  round_no: int) -> None:
    types = {s.school_id: s.type for s in ds.schools}

    def planted(row: Safety, note: str, **values: Any) -> None:
        row.closed_management = row.one_key_alarm = row.video_linked_police = row.escort_post = True
        row.full_time_guards = rng.randint(2, 4)
        for name, value in values.items():
            setattr(row, name, value)
        for rule, item in SAFETY_ITEMS:
            value = getattr(row, item)
            outcome = "not_evaluated" if value is None else "fail" if value in (False, 0) else "pass"
            ds.plants.append(Plant(rule, row.school_id, outcome, note))
        ds.plants.append(Plant("safety.record-missing", row.school_id, "pass", note))

    planted(rows.take(), "several items missing", closed_management=False, one_key_alarm=False,
            video_linked_police=False)
    planted(rows.take(), "no guard", full_time_guards=0)
    planted(rows.take(), "exactly one guard", full_time_guards=1)
    for _, item in SAFETY_ITEMS:
        for _ in range(2):
            planted(rows.take(), f"{item} missing", **{item: 0 if item == "full_time_guards" else False})
    item = SAFETY_ITEMS[round_no % len(SAFETY_ITEMS)][1]
    planted(rows.take(), f"{item} left blank", **{item: None})
    for wanted in ("kindergarten", "primary", None):
        row = rows.take(lambda r: wanted is None or types[r.school_id] == wanted)
        del ds.safety[row.school_id]
        ds.plants.append(Plant("safety.record-missing", row.school_id, "fail", "no safety row"))
    school = vocational.take()
    ds.safety.pop(school.school_id, None)
    ds.plants.append(Plant("safety.record-missing", school.school_id, "pass", "vocational without a row"))
    school = vocational.take()
    ds.safety[school.school_id] = Safety(school.school_id, False, 0, False, False, False)
    for rule, _ in SAFETY_ITEMS:
        ds.plants.append(Plant(rule, school.school_id, "pass", "vocational with every item missing"))


def _plant(rng: random.Random, ds: Dataset, rounds: int, book: _LicenceBook) -> None:
    """Plant `rounds` sets of boundary cases, each in rows no earlier plant has touched."""
    stype = {s.school_id: s.type for s in ds.schools}
    by_school: dict[str, list[SchoolClass]] = defaultdict(list)
    for c in ds.classes:
        by_school[c.school_id].append(c)

    def classes_of(*types: str) -> _Picker[SchoolClass]:
        return _Picker(rng, (c for c in ds.classes if stype[c.school_id] in types), f"{types[0]} class")

    regular = classes_of(*COMPULSORY, *HIGH_SCHOOLS)
    kg_classes, special = classes_of("kindergarten"), classes_of("special")
    vocational = _Picker(rng, (s for s in ds.schools if s.type == "vocational"), "vocational school")
    kindergartens = _Picker(rng, (s for s in ds.schools if s.type == "kindergarten"), "kindergarten")
    rows = _Picker(rng, (r for r in ds.safety.values() if stype[r.school_id] != "vocational"), "safety row")
    for round_no in range(rounds):
        _plant_classes(rng, ds, regular, kg_classes, special, vocational, by_school)
        _plant_licences(rng, ds, kindergartens, book)
        _plant_safety(rng, ds, rows, vocational, round_no)


def build_dataset(scale: str = "case", seed: int = 2025, as_of: date = date(2025, 12, 1),
                  extended: bool | None = None) -> Dataset:
    """Generate every row of a synthetic audit in memory, boundary cases planted. `extended` (default: at
    case scale only) adds what the plan, quality-balance, preschool and safety packs read, with their
    planted cases (:mod:`synthetic.packs`), from a random stream of its own."""
    spec = SCALES[scale]
    rng, book, counties = random.Random(seed), _LicenceBook(), _counties(spec.county_copies)
    schools = _make_schools(rng, spec, counties, as_of, book)
    classes = _make_classes(rng, spec, schools)
    teachers = _make_teachers(rng, spec, schools, classes, as_of)
    ds = Dataset(scale, seed, as_of, counties, schools, classes, teachers, _make_safety(rng, schools))
    _control_new_hires(rng, ds)
    _plant(rng, ds, spec.rounds, book)
    if scale == "case" if extended is None else extended:
        ds.extended = True
        ds.pack_plants = extend(ds)
    return ds


# --- The oracle: the rules of the core pack, applied to the rows -----------------------------------


def licence_key(licence: str) -> str:
    """Compare licences after NFKC, with all whitespace removed, upper-cased."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", licence) if not ch.isspace()).upper()


def _class_rules(ds: Dataset, out: dict[str, RuleResult]) -> None:
    stype = {s.school_id: s.type for s in ds.schools}
    numbered = {str(n) for n in range(1, 13)}
    for c in ds.classes:
        kind = stype[c.school_id]
        if kind == "kindergarten" and c.size > KINDERGARTEN_STANDARD[c.grade]:
            out["class-size.kindergarten"].fail.add(c.class_id)
        if c.grade in numbered and kind != "vocational":
            if c.size >= 66:
                out["class-size.super-large"].fail.add(c.class_id)
            elif c.size >= 56:
                out["class-size.large"].fail.add(c.class_id)


def _kindergarten_rules(ds: Dataset, out: dict[str, RuleResult]) -> None:
    holders: dict[str, list[str]] = defaultdict(list)
    for s in ds.schools:
        if s.type != "kindergarten":
            continue
        if not s.license_no.strip():
            out["kindergarten.unlicensed"].fail.add(s.school_id)
            continue
        holders[licence_key(s.license_no)].append(s.school_id)
        if s.license_valid_until is None:
            out["kindergarten.license-expired"].not_evaluated.add(s.school_id)
        elif s.license_valid_until < ds.as_of:
            out["kindergarten.license-expired"].fail.add(s.school_id)
    for ids in holders.values():
        if len(ids) > 1:
            out["kindergarten.license-shared"].fail.update(ids)


def _teacher_rule(ds: Dataset, out: dict[str, RuleResult]) -> None:
    school = {s.school_id: s for s in ds.schools}
    hired: dict[str, list[int]] = defaultdict(lambda: [0, 0])  # county -> [PE/art, all]
    for t in ds.teachers:
        s = school[t.school_id]
        if t.full_time is not False and t.hire_year == ds.as_of.year and s.type in COMPULSORY:
            hired[s.county][0] += t.subject in PE_ART
            hired[s.county][1] += 1
    for county, (pe_art, total) in hired.items():
        if 100 * pe_art < 15 * total:  # integers: an exact 15 % must not fail on a rounding error
            out["teachers.new-pe-art-share"].fail.add(county)


def _safety_rules(ds: Dataset, out: dict[str, RuleResult]) -> None:
    for s in ds.schools:
        if s.type == "vocational":
            continue
        row = ds.safety.get(s.school_id)
        if row is None:
            out["safety.record-missing"].fail.add(s.school_id)
            continue
        for rule, item in SAFETY_ITEMS:
            value = getattr(row, item)
            if value is None:
                out[rule].not_evaluated.add(s.school_id)
            elif (value < 1) if item == "full_time_guards" else (value is False):
                out[rule].fail.add(s.school_id)


def compute_expected(ds: Dataset) -> dict[str, RuleResult]:
    """Apply every rule of the core pack to the rows: the independent oracle."""
    out = {rule: RuleResult() for rule in RULE_IDS}
    _class_rules(ds, out)
    _kindergarten_rules(ds, out)
    _teacher_rule(ds, out)
    _safety_rules(ds, out)
    return out


def _check_plants(plants: list[Plant], results: dict[str, RuleResult]) -> None:
    wrong = []
    for plant in plants:
        result = results[plant.rule]
        got = ("fail" if plant.entity in result.fail
               else "not_evaluated" if plant.entity in result.not_evaluated else "pass")
        if got != plant.outcome:
            wrong.append(f"{plant.rule} {plant.entity} ({plant.note}): expected {plant.outcome}, got {got}")
    if wrong:
        raise PlantError("planted cases did not land:\n" + "\n".join(wrong))


def expected_document(results: dict[str, RuleResult], as_of: date, scale: str, with_sets: bool) -> dict[str, Any]:
    """The content of expected.yaml: counts always, sorted id lists unless `with_sets` is false."""
    rules: dict[str, Any] = {}
    for rule in RULE_IDS:
        entry: dict[str, Any] = {"count": len(results[rule].fail)}
        if with_sets:
            entry["fail"] = sorted(results[rule].fail)
        if results[rule].not_evaluated:
            entry["not_evaluated"] = sorted(results[rule].not_evaluated)
        rules[rule] = entry
    return {"as_of": as_of, "scale": scale, "rules": rules}


# --- Writing the folder ------------------------------------------------------------------------------


class FileSpec(NamedTuple):
    kind: str
    ext: str
    chinese: bool
    bom: bool
    stem: str = ""  # the file's name when not the kind's (a Chinese one: 区县统计.csv)


LAYOUTS: dict[str, tuple[FileSpec, ...]] = {
    "mixed": (FileSpec("schools", "xlsx", True, False), FileSpec("classes", "csv", True, True),
              FileSpec("teachers", "csv", False, False), FileSpec("safety", "xlsx", True, False),
              FileSpec("facilities", "xlsx", True, False), FileSpec("county_stats", "csv", True, True, "区县统计"),
              FileSpec("city_stats", "csv", False, False)),
    "csv": tuple(FileSpec(kind, "csv", False, False) for kind in (*KINDS, *PACK_KINDS)),
}
BOOL_SPELLINGS = {"zh": ("是", "否"), "yn": ("Y", "N"), "digit": ("1", "0"), "tf": ("true", "false"),
                  "yes": ("yes", "no")}
BOOL_WEIGHTS = {"zh": 70, "yn": 10, "digit": 8, "tf": 7, "yes": 5}
DATE_WEIGHTS = {"native": 55, "iso": 15, "slash": 15, "zh": 15}


class _Variants:
    """Weighted choice of a spelling that first hands out every spelling once, so each file uses them all."""

    def __init__(self, rng: random.Random, weights: dict[str, int]) -> None:
        self._rng, self._table = rng, weighted(" ".join(f"{k}:{w}" for k, w in weights.items()))
        self._pending = list(weights)
        rng.shuffle(self._pending)

    def pick(self) -> str:
        return self._pending.pop() if self._pending else self._rng.choice(self._table)


class _Speller:
    """Writes values the way one file spells them: canonical in `csv` mode, varied in `mixed` mode."""

    def __init__(self, rng: random.Random | None, xlsx: bool) -> None:
        self._rng, self._xlsx = rng, xlsx
        self.xlsx = xlsx
        self._blank = None if xlsx else ""
        if rng is not None:
            self._bools = _Variants(rng, BOOL_WEIGHTS)
            self._dates = _Variants(rng, DATE_WEIGHTS if xlsx else {k: w for k, w in DATE_WEIGHTS.items()
                                                                      if k != "native"})
            self._enums = _Variants(rng, {"zh": 85, "code": 15})

    def enum(self, code: str, chinese: str) -> str:
        return code if self._rng is None or self._enums.pick() == "code" else chinese

    def flag(self, value: bool | None) -> str | int | None:
        if value is None:
            return self._blank
        if self._rng is None:
            return "true" if value else "false"
        spelling = self._bools.pick()
        if spelling == "digit" and self._xlsx:
            return int(value)  # a number typed into Excel
        return BOOL_SPELLINGS[spelling][0 if value else 1]

    def day(self, value: date | None) -> str | date | None:
        if value is None:
            return self._blank
        form = "iso" if self._rng is None else self._dates.pick()
        if form == "native":
            return value
        if form == "slash":
            return value.strftime("%Y/%m/%d")
        if form == "zh":
            return f"{value.year}年{value.month}月{value.day}日"
        return value.isoformat()

    def text(self, value: str) -> str | None:
        return value or self._blank

    def choice(self, code: str | None, chinese: dict[str, str]) -> str | None:
        return self._blank if code is None else self.enum(code, chinese[code])

    def amount(self, value: float | int | None) -> str | float | int | None:
        if value is None:
            return self._blank
        return value if self._xlsx else str(value)

    def rate(self, value: Any, percent: bool) -> str | float | None:
        """A rate: a number in a workbook, else "95%" (percent) or "0.95"."""
        if value is None:
            return self._blank
        if self._xlsx:
            return float(value)
        return pct_text(value) if percent else decimal_text(value)

    def number(self, value: int | None) -> str | int | None:
        if value is None:
            return self._blank
        return value if self._xlsx else str(value)


def _rows(ds: Dataset, kind: str, sp: _Speller, more: _Speller, chinese: bool) -> Iterator[list[Any]]:
    """The rows of one file: `sp` spells the core columns, `more` the packs' (each its own stream, so the core
    columns are spelled as the core generator always spelled them)."""
    ext = ds.extended
    if kind == "schools":
        for s in ds.schools:
            row = [s.school_id, s.name, s.county, s.township, sp.enum(s.type, TYPE_ZH[s.type]),
                   sp.enum(s.ownership, OWNERSHIP_ZH[s.ownership]), sp.text(s.license_no),
                   sp.day(s.license_valid_until)]
            if ext:
                row += [more.choice(s.urban_rural, URBAN_ZH), more.flag(s.inclusive), more.flag(s.township_center),
                        more.choice(s.demo_level, LEVEL_ZH), more.number(s.star_level), more.flag(s.health_promoting),
                        more.flag(s.boarding), more.number(s.enrolment), more.flag(s.health_vice_principal),
                        more.number(s.subject_bases)]
            yield row
    elif kind == "classes":
        for c in ds.classes:
            yield [c.class_id, c.school_id, c.grade, sp.number(c.size), c.head_teacher]
    elif kind == "teachers":
        for t in ds.teachers:
            row = [t.teacher_id, t.school_id, t.subject, sp.number(t.hire_year), sp.flag(t.full_time),
                   sp.flag(t.has_certificate), t.degree]
            if ext:
                row += [more.choice(t.title, TITLE_ZH), more.choice(t.backbone_level, LEVEL_ZH),
                        more.flag(t.dual_qualified), more.flag(t.preschool_major), more.number(t.training_hours_5y),
                        more.flag(t.rotated_this_year), more.flag(t.is_principal)]
            yield row
    elif kind == "safety":
        for school_id in sorted(ds.safety):
            r = ds.safety[school_id]
            row = [r.school_id, sp.flag(r.closed_management), sp.number(r.full_time_guards),
                   sp.flag(r.one_key_alarm), sp.flag(r.video_linked_police), sp.flag(r.escort_post)]
            if ext:
                row += [more.flag(r.anti_ramming), more.number(r.video_retention_days)]
            yield row
    elif kind == "facilities":
        for school_id in sorted(ds.facilities):
            f = ds.facilities[school_id]
            yield [f.school_id, sp.amount(f.teaching_area), sp.amount(f.sports_area), sp.amount(f.equipment_value),
                   sp.number(f.multimedia_rooms), sp.number(f.music_rooms), sp.amount(f.music_room_area),
                   sp.number(f.art_rooms), sp.amount(f.art_room_area), sp.flag(f.counseling_room),
                   sp.number(f.doctors), sp.number(f.daily_pe_minutes), sp.rate(f.art_course_rate, chinese),
                   sp.rate(f.safety_education_rate, chinese)]
    else:
        rows = ds.county_stats if kind == "county_stats" else ds.city_stats
        for stats in rows:
            row: list[Any] = [stats.county] if kind == "county_stats" else []
            row.append(sp.number(stats.year))
            for name, _ in PACK_COLUMNS[kind][len(row):]:
                value = stats.values.get(name)
                if name in RATE_COLUMNS:
                    row.append(sp.rate(value, chinese))
                elif isinstance(value, bool) or value is None:
                    row.append(sp.flag(value))
                elif isinstance(value, Fraction):
                    row.append(sp.amount(float(value)) if sp.xlsx else decimal_text(value))
                else:
                    row.append(sp.amount(value))
            yield row


def _write_records(ds: Dataset, out_dir: Path, fmt: str) -> None:
    for spec in LAYOUTS[fmt]:
        if spec.kind in PACK_KINDS and not ds.extended:
            continue
        for stem in {spec.kind, spec.stem or spec.kind}:  # a stale file of another format would be read as well
            for ext in ("csv", "xlsx"):
                (out_dir / f"{stem}.{ext}").unlink(missing_ok=True)
        rng = random.Random(f"{ds.seed}:{spec.kind}") if fmt == "mixed" else None
        more = random.Random(f"{ds.seed}:{spec.kind}:packs") if fmt == "mixed" else None
        speller, other = _Speller(rng, spec.ext == "xlsx"), _Speller(more, spec.ext == "xlsx")
        header = [zh if spec.chinese else en for en, zh in columns(spec.kind, ds.extended)]
        path = out_dir / f"{spec.stem or spec.kind}.{spec.ext}"
        rows = _rows(ds, spec.kind, speller, other, spec.chinese)
        if spec.ext == "csv":
            with path.open("w", encoding="utf-8-sig" if spec.bom else "utf-8", newline="") as f:
                writer = csv.writer(f, lineterminator="\n")
                writer.writerow(header)
                writer.writerows(rows)
        else:
            book = openpyxl.Workbook(write_only=True)
            sheet = book.create_sheet(spec.kind)
            sheet.append(header)
            for row in rows:
                sheet.append(row)
            book.save(path)


SCALE_ZH = {"case": "案例", "city": "市级", "province": "省级"}


def _write_yaml(path: Path, document: dict[str, Any], comment: str = "", flow: bool | None = None) -> None:
    text = yaml.safe_dump(document, allow_unicode=True, sort_keys=False, default_flow_style=flow, width=100)
    path.write_text(comment + text, encoding="utf-8")


def generate(out_dir: Path, scale: str = "case", seed: int = 2025, fmt: str = "mixed",
             as_of: date = date(2025, 12, 1), with_sets: bool = True, extended: bool | None = None) -> dict[str, Any]:
    """Write a synthetic audit folder and its expected.yaml (and, extended, planted.yaml); return the
    expected-findings document of the core pack."""
    return _generate(Path(out_dir), scale, seed, fmt, as_of, with_sets, extended)[0]


def _audit_document(ds: Dataset, scale: str) -> dict[str, Any]:
    as_of = ds.as_of
    audit: dict[str, Any] = {"name": f"柳州市{as_of.year}年教育督导检查（合成数据，{SCALE_ZH[scale]}规模）"}
    if not ds.extended:
        return {**audit, "as_of": as_of, "region": "柳州市", "packs": ["core"]}
    year = target_year(as_of)
    overrides = params_override(year)
    audit["description"] = (
        f"全部五个规则包，对照规划{year}年目标（target_year 按 as_of 默认）。案例约为全市学校的八分之一，"
        f"表一中随学校数增减的两项（序号3 县级以上示范园 {TARGETS[year]['demo_kg']} 所、序号17 正高级教师 "
        f"{TARGETS[year]['professors']} 人）按八分之一比较（{overrides['demo_kg_min']} 所、{overrides['professors_min']} 人），"
        "其余目标均为规划原值。")
    return {**audit, "as_of": as_of, "region": "柳州市", "packs": list(ALL_PACKS), "params": overrides}


def planted_document(ds: Dataset) -> dict[str, Any]:
    """The content of planted.yaml: per rule the entities built to fail, pass (and be not evaluated or
    outside the scope), with how; the city rules' verdict in each case."""
    year = target_year(ds.as_of)
    rules: dict[str, dict[str, Any]] = {}
    for plant in sorted(ds.pack_plants, key=lambda p: (p.rule, p.outcome, p.entity)):
        entry = rules.setdefault(plant.rule, {"fail": [], "pass": []})
        entry.setdefault(plant.outcome, []).append(plant.entity)
        entry.setdefault("how", {})[plant.entity] = plant.note
    for entry in rules.values():  # fail, pass, then the rest, then how
        how = entry.pop("how")
        entry["how"] = how
    city = {rule: {"2022": plan.y2022 or "skipped", "2025": plan.y2025 or "skipped", "how": plan.how}
            for rule, plan in CITY_PLAN.items()}
    return {"as_of": ds.as_of, "target_year": year, "params": params_override(year),
            "skipped": list(SKIPPED_2022) if year == 2022 else [], "city_rules": city, "rules": rules}


def _scalar(value: Any) -> str:
    return yaml.safe_dump(value, allow_unicode=True, width=10_000).removesuffix("\n...\n").strip()


def planted_yaml(document: dict[str, Any]) -> str:
    """planted.yaml as text: id lists in flow style, the notes one a line."""
    head = {k: v for k, v in document.items() if k not in ("city_rules", "rules")}
    lines = [yaml.safe_dump(head, allow_unicode=True, sort_keys=False, default_flow_style=None, width=100).rstrip()]
    lines.append("city_rules:")
    for rule, entry in document["city_rules"].items():
        lines.append(f"  {rule}: {{'2022': {entry['2022']}, '2025': {entry['2025']}, how: {_scalar(entry['how'])}}}")
    lines.append("rules:")
    for rule, entry in document["rules"].items():
        lines.append(f"  {rule}:")
        for key, value in entry.items():
            if key == "how":
                lines.append("    how:")
                lines.extend(f"      {_scalar(entity)}: {_scalar(note)}" for entity, note in value.items())
            else:
                lines.append(f"    {key}: {yaml.safe_dump(value, default_flow_style=True, width=10_000).strip()}")
    return "\n".join(lines) + "\n"


def _generate(out_dir: Path, scale: str, seed: int, fmt: str, as_of: date,
              with_sets: bool, extended: bool | None = None) -> tuple[dict[str, Any], dict[str, int]]:
    if scale not in SCALES or fmt not in LAYOUTS:
        raise ValueError(f"unknown scale {scale!r} or format {fmt!r}")
    ds = build_dataset(scale, seed, as_of, extended)
    results = compute_expected(ds)
    _check_plants(ds.plants, results)
    out_dir.mkdir(parents=True, exist_ok=True)
    _write_yaml(out_dir / "audit.yaml", _audit_document(ds, scale))
    _write_records(ds, out_dir, fmt)
    document = expected_document(results, as_of, scale, with_sets)
    command = (f"PYTHONPATH=tests python -m synthetic.city OUT_DIR --scale {scale} --seed {seed} --format {fmt}"
               f" --as-of {as_of.isoformat()}{'' if with_sets else ' --no-sets'}")
    comment = ("# Expected findings of the core rule pack, computed by synthetic.city"
               f" (independent oracle).\n# {command}\n")
    _write_yaml(out_dir / "expected.yaml", document, comment, flow=False)
    (out_dir / "planted.yaml").unlink(missing_ok=True)
    rows = {"schools": len(ds.schools), "classes": len(ds.classes), "teachers": len(ds.teachers),
            "safety": len(ds.safety)}
    if ds.extended:
        comment = (
            "# Planted verdicts of the plan, quality-balance, preschool and safety packs on this case, built by\n"
            "# synthetic.packs from the rules' text and checked against the rows by its own\n"
            "# arithmetic before anything was written (never taken from the engine). `absent`: outside the rule's\n"
            "# scope (in none of its sets). `city_rules`: the verdict each case (2022, 2025) is built to show on\n"
            "# the rules whose one entity is the city; `skipped`: no target for this case's year.\n"
            f"# {command}\n")
        (out_dir / "planted.yaml").write_text(comment + planted_yaml(planted_document(ds)),
                                              encoding="utf-8")
        rows.update({"facilities": len(ds.facilities), "county_stats": len(ds.county_stats),
                     "city_stats": len(ds.city_stats)})
    return document, rows


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; prints rows per file, seconds taken and counts per rule."""
    parser = argparse.ArgumentParser(prog="PYTHONPATH=tests python -m synthetic.city",
                                     description="Write a synthetic Liuzhou audit folder and its expected findings.")
    parser.add_argument("out_dir", type=Path, metavar="OUT_DIR")
    parser.add_argument("--scale", choices=list(SCALES), default="case")
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--format", dest="fmt", choices=list(LAYOUTS), default="mixed")
    parser.add_argument("--as-of", type=date.fromisoformat, default=date(2025, 12, 1))
    parser.add_argument("--no-sets", dest="with_sets", action="store_false", help="write counts without id lists")
    parser.add_argument("--packs", choices=("core", "all"), default=None,
                        help="core: the core pack's data only; all: also what the other four packs read, with their "
                             "planted cases (default: all at case scale, core otherwise)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    extended = None if args.packs is None else args.packs == "all"
    document, rows = _generate(args.out_dir, args.scale, args.seed, args.fmt, args.as_of, args.with_sets, extended)
    print(f"wrote {args.out_dir} ({args.scale}, {args.fmt}) in {time.perf_counter() - started:.1f} s")
    for kind, count in rows.items():
        print(f"  {kind:<30} {count:>7} rows")
    for rule, entry in document["rules"].items():
        print(f"  {rule:<30} {entry['count']:>7}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
