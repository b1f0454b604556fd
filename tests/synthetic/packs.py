"""What the plan, quality-balance, preschool and safety packs read, for the synthetic Liuzhou case,
with a planted failing and passing entity for every rule of those packs.

:mod:`synthetic.city` builds the schools, classes, teachers and safety rows the core pack
reads (and its independent oracle checks them). :func:`extend` then fills in, from a random stream of
its own (so the core rows it does not mean to touch stay byte for byte what the core generator wrote):

* the new columns of ``schools`` (城乡类型, 普惠, 示范园级别, 星级, 健康促进学校, 在校生数 …), of
  ``teachers`` (职称, 骨干级别, 双师型, 学前教育专业, 培训学时, 交流轮岗, 园长/校长) and of ``safety``
  (防冲撞设施, 视频存储天数);
* ``facilities`` (one row per school but a few), ``county_stats`` (10 counties × the audit year and the
  year before) and ``city_stats`` (柳州市, the same two years), in 元 / 万元 consistent with GDP;
* the planted cases: for every rule of the four packs, entities that must fail and entities that must
  pass, at the rule's boundary where it has one (exactly the target passes, one step short fails), each
  with the arithmetic that decides it, recomputed from the final rows before anything is written.

A planted verdict is constructed from the rule's text (the targets below are 表一's and the standards'
figures, read by hand), never taken from the engine. Rules on the city (one entity) can show only one
verdict per case: :data:`CITY_PLAN` gives, per target year, the verdict each case is built to show.

Changes to core columns are confined to what the core rules cannot see (class sizes within the class-size
bands, kindergarten classes within their standard, degrees, subjects and 专任 of teachers who are not new
compulsory-school hires, guards on schools that have at least one), so the core oracle's verdicts on the
2025 case are unchanged. Only the 2022 case changes core verdicts on purpose (crowded kindergarten classes
for the 班额达标率, and fewer new PE/art hires, county shares kept at or above 15 %, so the city's falls
below it); its expected.yaml is the oracle's output on the final rows, as always.
"""

from __future__ import annotations

import itertools
import math
import random
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any, NamedTuple

from . import rounds
from .model import (
    COMPULSORY,
    HIGH_SCHOOLS,
    KINDERGARTEN_STANDARD,
    PE_ART,
    Dataset,
    Facilities,
    PackPlant,
    PlantError,
    School,
    SchoolClass,
    Stats,
    Teacher,
)
from .names import COUNTIES, SECONDARY_DEGREES, SUBJECTS, PersonNamer, weighted

__all__ = [
    "ALL_PACKS",
    "CITY_PLAN",
    "SKIPPED_2022",
    "TARGETS",
    "CityPlan",
    "decimal_text",
    "extend",
    "params_override",
    "pct_text",
    "target_year",
]

ALL_PACKS: tuple[str, ...] = ("core", "plan", "quality-balance", "preschool", "safety")
REGION = "柳州市"

ASSESSED = frozenset({"primary", "junior", "nine_year", "complete_secondary", "twelve_year"})
PRIMARY_SECONDARY = frozenset({"primary", "junior", "nine_year", "complete_secondary", "senior", "twelve_year"})
CERTIFIED_BY_PLAN = frozenset({"senior", "vocational", "special"})
COLLEGE_PLUS = frozenset({"专科", "本科", "硕士", "博士"})
BACHELOR_PLUS = frozenset({"本科", "硕士", "博士"})
VOCATIONAL_GENERAL = frozenset(
    {"思想政治", "语文", "历史", "数学", "英语", "信息技术", "体育与健康", "艺术", "物理", "化学"}
)
VOCATIONAL_MAJORS = (
    "汽车运用与维修",
    "机电技术应用",
    "数控技术应用",
    "工业机器人技术应用",
    "电子商务",
    "计算机应用",
    "会计事务",
    "物流服务与管理",
    "汽车车身修复",
    "城市轨道交通运营服务",
    "护理",
    "智能设备运行与维护",
)
COUNTY_UP = frozenset({"county", "city", "region", "national"})
REGION_UP = frozenset({"region", "national"})

# -- the targets, read from the plan (表一 and its text) and the national standards --------------------------


def _r(text: str) -> Fraction:
    """Rates are exact fractions: "0.95" is Fraction(19, 20), compared with no rounding."""
    return Fraction(text)


# 表一 by milestone; None where the plan leaves the year empty ("/") or sets the figure for 2025 only.
TARGETS: dict[int, dict[str, Any]] = {
    2022: {
        "gross_kg": _r("0.92"),
        "public_kg": _r("0.52"),
        "demo_kg": 200,
        "preschool_pass": _r("0.10"),
        "retention": _r("0.99"),
        "balance_pass": _r("0.10"),
        "fitness": _r("0.52"),
        "senior_gross": _r("0.97"),
        "subject_bases": 50,
        "star": _r("0.30"),
        "skill": 216,
        "universities": None,
        "disabled": _r("0.95"),
        "schooling": None,
        "kg_major": _r("0.64"),
        "bachelor": _r("0.68"),
        "professors": 240,
        "dual": _r("0.52"),
        "research_basic": None,
        "research_voc": None,
        "satisfaction": _r("0.85"),
        "safety_edu": _r("0.95"),
        "fiscal": _r("0.042"),
        "health_promoting": None,
        "inclusive": None,
        "backbone": None,
        "migrant_public": None,
        "voc_demo": None,
        "bases_each": None,
    },
    2025: {
        "gross_kg": _r("0.95"),
        "public_kg": _r("0.52"),
        "demo_kg": 300,
        "preschool_pass": _r("0.70"),
        "retention": _r("0.99"),
        "balance_pass": _r("0.30"),
        "fitness": _r("0.55"),
        "senior_gross": _r("0.99"),
        "subject_bases": 70,
        "star": _r("0.60"),
        "skill": 228,
        "universities": (2, 3),
        "disabled": _r("0.95"),
        "schooling": _r("10.7"),
        "kg_major": _r("0.72"),
        "bachelor": _r("0.75"),
        "professors": 400,
        "dual": _r("0.62"),
        "research_basic": 86,
        "research_voc": 35,
        "satisfaction": _r("0.90"),
        "safety_edu": _r("1"),
        "fiscal": _r("0.045"),
        "health_promoting": _r("0.70"),
        "inclusive": _r("0.80"),
        "backbone": _r("0.30"),
        "migrant_public": _r("0.96"),
        "voc_demo": 3,
        "bases_each": 1,
    },
}
# The case holds 320 of Liuzhou's schools, about an eighth of the city: the two 表一 counts that grow with the
# number of schools (序号3 示范园 200 / 300, 序号17 正高级教师 240 / 400) are compared at an eighth (rounded up),
# set in audit.yaml as param overrides. Every other target is the plan's own figure.
SAMPLE = Fraction(1, 8)
PROFESSORS_BASELINE = 39  # 表一 序号17, “十三五”末
NEW_PE_ART = _r("0.15")
# National standards (no milestone): 普及普惠 (教督〔2020〕1号), 优质均衡 (教督〔2017〕6号), GB/T 29315-2022.
GROSS_KG_COUNTY = _r("0.85")
INCLUSIVE_COUNTY = _r("0.80")
PUBLIC_COUNTY = _r("0.50")
CLASS_OK_RATE = _r("0.85")
CHILDREN_PER_TEACHER = 15
TEACHERS_PER_CLASS = 2
NONSTAFF_RATIO = _r("0.75")
STANDARD = {  # per stage: qualified, backbone, PE/art, multimedia per 100 pupils; areas ㎡ and equipment 元 per pupil
    "primary": {
        "qualified": _r("4.2"),
        "backbone": _r("1.0"),
        "pe_art": _r("0.9"),
        "teaching": _r("4.5"),
        "sports": _r("7.5"),
        "equipment": _r("2000"),
        "multimedia": _r("2.3"),
    },
    "junior": {
        "qualified": _r("5.3"),
        "backbone": _r("1.0"),
        "pe_art": _r("0.9"),
        "teaching": _r("5.8"),
        "sports": _r("10.2"),
        "equipment": _r("2500"),
        "multimedia": _r("2.4"),
    },
}
MAX_CV = {"primary": 0.50, "junior": 0.45}
MAX_CLASS = {"primary": 45, "junior": 50}
SCHOOL_SIZE_MAX = {"primary": 2000, "junior": 2000, "complete_secondary": 2000, "nine_year": 2500, "twelve_year": 2500}
MUSIC_AREA, ART_AREA = _r("96"), _r("90")
ROTATION, ROTATION_BACKBONE, ROTATION_YEARS = _r("0.10"), _r("0.20"), 6
TRAINING_HOURS = 360
SENIOR_MAX = 3000
PLAN_FIRST_YEAR = 2021  # 新增/新建/建立 count from 2021-01-01
DAILY_PE = 60
VIDEO_DAYS = 90


def target_year(as_of: date) -> int:
    """The plan's milestone an audit dated `as_of` is measured against by default (audit.yaml)."""
    return 2022 if as_of.year <= 2022 else 2025


def params_override(year: int) -> dict[str, int]:
    """audit.yaml overrides: the two school-count targets of 表一 and the professors' 2020 baseline (39) scaled
    to the case (an eighth, rounded up)."""
    return {
        "demo_kg_min": math.ceil(TARGETS[year]["demo_kg"] * SAMPLE),
        "professors_min": math.ceil(TARGETS[year]["professors"] * SAMPLE),
        "professors_baseline": math.ceil(PROFESSORS_BASELINE * SAMPLE),
    }


class CityPlan(NamedTuple):
    """The verdict the city is built to show on one city rule, in the 2022 case and in the 2025 case
    (None: the plan sets no target for that year, the rule is skipped)."""

    y2022: str | None
    y2025: str | None
    how: str


CITY_PLAN: dict[str, CityPlan] = {
    "plan.t1-01": CityPlan("pass", "fail", "毛入园率 92.0% = 92% | 94.9% < 95%"),
    "plan.t1-02": CityPlan("fail", "pass", "公办园在园幼儿占比一个幼儿之差低于 52% | 恰为 52%"),
    "plan.t1-03": CityPlan("fail", "pass", "县级以上示范园 24 < 25 | 38 = 38（200、300 的八分之一）"),
    "plan.t1-04": CityPlan("pass", "fail", "普及普惠评估通过 1/10 = 10% | 6/10 < 70%"),
    "plan.t1-05": CityPlan("pass", "fail", "巩固率 99.0% | 98.9%"),
    "plan.t1-06": CityPlan("fail", "pass", "优质均衡评估通过 0/10 < 10% | 3/10 = 30%"),
    "plan.t1-07": CityPlan("fail", "pass", "体质健康优良率 51.9% | 55.0%"),
    "plan.t1-08": CityPlan("pass", "fail", "高中阶段毛入学率 97.0% | 98.9%"),
    "plan.t1-09": CityPlan("fail", "pass", "学科基地 49 < 50 | 70 = 70"),
    "plan.t1-10": CityPlan("pass", "fail", "星级高中恰好够 30% 的最少所数 | 比 60% 所需最少所数少一所"),
    "plan.t1-11": CityPlan("pass", "fail", "技能比赛获奖 216 | 227 < 228"),
    "plan.t1-12": CityPlan(None, "pass", "筹建高校 2（“2-3”的下端）"),
    "plan.t1-13": CityPlan("fail", "pass", "残疾儿童少年入学率 94.9% | 95.0%"),
    "plan.t1-14": CityPlan(None, "fail", "平均受教育年限 10.6 < 10.7"),
    "plan.t1-15": CityPlan("pass", "fail", "幼儿园教师受专业教育比例恰够 64% | 少一人不到 72%"),
    "plan.t1-16": CityPlan("fail", "pass", "本科以上比例少一人不到 68% | 恰够 75%"),
    "plan.t1-17": CityPlan("pass", "fail", "正高级 30 = 30 | 49 < 50（240、400 的八分之一）"),
    "plan.t1-18": CityPlan("pass", "fail", "双师型恰够 52% | 少一人不到 62%"),
    "plan.t1-19a": CityPlan(None, "pass", "基教科研成果 86 = 86"),
    "plan.t1-19b": CityPlan(None, "fail", "职教科研成果 34 < 35"),
    "plan.t1-20": CityPlan("fail", "pass", "满意度 84.9% | 90.0%"),
    "plan.t1-21": CityPlan("pass", "fail", "安全教育普及率 95.0% | 99.9% < 100%"),
    "plan.t1-22": CityPlan("fail", "pass", "财政性教育经费占 GDP 4.19% | 4.5%"),
    "plan.inclusive-coverage": CityPlan(None, "pass", "普惠覆盖率恰为 80%"),
    "plan.health-promoting": CityPlan(None, "fail", "健康促进学校少一所不到 70%"),
    "plan.backbone-share": CityPlan(None, "pass", "骨干教师占比恰够 30%"),
    "plan.migrant-public-share": CityPlan(None, "fail", "随迁子女在公办学校就读比 96% 少一人"),
    "plan.practice-base": CityPlan(None, "pass", "“十四五”以来新建实践基地 1 = 1"),
    "plan.vocational-demo-schools": CityPlan(
        None, "pass", "2021 年以来认定的自治区级以上示范中职 3 = 3（另有 2019 年认定的 1 所为存量，不计）"
    ),
    "data.unused-city-stats-years": CityPlan("pass", "fail", f"只填本年和上年 | 另填了 {2019} 年的一行"),
    "plan.kindergarten-teacher-child-ratio": CityPlan(
        "pass", "pass", "全市幼儿园在园幼儿约为专任教师的 12 倍，不超过 15 倍"
    ),
    "plan.new-pe-art-share-city": CityPlan(
        "fail", "pass", "新增体艺教师少一人不到 15%（各区县仍不低于 15%） | 各区县照常"
    ),
    "plan.teacher-pay-city": CityPlan("fail", "pass", "教师平均工资比公务员少 1 元 | 两者相等"),
    "plan.edu-budget-growth-city": CityPlan("fail", "pass", "教育支出比上年少 1 万元 | 与上年持平"),
    "plan.edu-budget-per-student-growth-city": CityPlan("pass", "fail", "生均支出与上年持平 | 比上年少 1 元"),
    # 较基期下降: each figure above against the plan's 2020 column (REGRESSION_BASELINES), as it falls out
    "plan.t1-02-regression": CityPlan("pass", "pass", "公办园占比 ≈52% ≥ 50.44%"),
    "plan.t1-07-regression": CityPlan("pass", "pass", "体质健康优良率 51.9% | 55.0% ≥ 40%"),
    "plan.t1-08-regression": CityPlan("pass", "pass", "高中阶段毛入学率 97.0% | 98.9% ≥ 96.54%"),
    "plan.t1-11-regression": CityPlan("pass", "pass", "技能比赛获奖 216 | 227 ≥ 206"),
    "plan.t1-13-regression": CityPlan("fail", "pass", "残疾儿童少年入学率 94.9% < 95% | 95.0% = 95%"),
    "plan.t1-14-regression": CityPlan("pass", "pass", "平均受教育年限 ≥ 10"),
    "plan.t1-15-regression": CityPlan("pass", "pass", "幼儿园教师受专业教育比例 ≥ 59.5%"),
    "plan.t1-16-regression": CityPlan("pass", "pass", "本科以上比例 ≥ 64.3%"),
    "plan.t1-17-regression": CityPlan("pass", "pass", "正高级 30 | 49 ≥ 5（39 的八分之一）"),
    "plan.t1-18-regression": CityPlan("pass", "pass", "双师型比例 ≥ 46%"),
    "plan.t1-19a-regression": CityPlan("fail", "pass", "基教科研成果 2022 年随机数 < 64 | 86 ≥ 64"),
    "plan.t1-19b-regression": CityPlan("fail", "pass", "职教科研成果 2022 年随机数 < 32 | 34 ≥ 32"),
    "plan.t1-21-regression": CityPlan("pass", "pass", "安全教育普及率 95.0% | 99.9% ≥ 92%"),
    "plan.t1-22-regression": CityPlan("pass", "pass", "财政性教育经费占 GDP 4.19% | 4.5% ≥ 4%"),
    "plan.inclusive-coverage-regression": CityPlan("fail", "fail", "普惠覆盖率低于 86.56%（2025 年恰为 80% 的目标）"),
}
# the plan's 2020 column for each *-regression rule (rules/plan/pack.yaml), professors scaled as params_override
REGRESSION_BASELINES: dict[str, Fraction] = {
    "plan.t1-02": Fraction("0.5044"),
    "plan.t1-07": Fraction("0.40"),
    "plan.t1-08": Fraction("0.9654"),
    "plan.t1-11": Fraction(206),
    "plan.t1-13": Fraction("0.95"),
    "plan.t1-14": Fraction(10),
    "plan.t1-15": Fraction("0.595"),
    "plan.t1-16": Fraction("0.643"),
    "plan.t1-17": Fraction(math.ceil(PROFESSORS_BASELINE * SAMPLE)),
    "plan.t1-18": Fraction("0.46"),
    "plan.t1-19a": Fraction(64),
    "plan.t1-19b": Fraction(32),
    "plan.t1-21": Fraction("0.92"),
    "plan.t1-22": Fraction("0.04"),
    "plan.inclusive-coverage": Fraction("0.8656"),
}
SKIPPED_2022: tuple[str, ...] = (
    "plan.t1-12",
    "plan.t1-14",
    "plan.t1-19a",
    "plan.t1-19b",
    "plan.inclusive-coverage",
    "plan.health-promoting",
    "plan.health-promoting-county",
    "plan.backbone-share",
    "plan.backbone-share-county",
    "plan.migrant-public-share",
    "plan.vocational-demo-schools",
    "plan.subject-base-coverage",
    "plan.practice-base",
)


def pct_text(rate: Fraction) -> str:
    """95% → "95%", 0.949 → "94.9%": the exact decimal, as a statistics office types it."""
    value = Decimal(rate.numerator) * 100 / Decimal(rate.denominator)
    return f"{value.normalize():f}%"


def decimal_text(value: Fraction) -> str:
    """0.95 → "0.95", 1 → "1"."""
    return f"{(Decimal(value.numerator) / Decimal(value.denominator)).normalize():f}"


def _verdict(failing: bool) -> str:
    return "fail" if failing else "pass"


def needed(target: Fraction, denominator: int, outcome: str) -> int:
    """The numerator that puts a share of `denominator` exactly on the target when it can (else the least
    that reaches it) for 'pass', and one below that for 'fail'."""
    if isinstance(target, (Fraction, int)):  # ceil(target × denominator) in integers, without a Fraction
        least = -(-target.numerator * denominator // target.denominator)
    else:
        least = math.ceil(target * denominator)
    return least if outcome == "pass" else least - 1


class _Builder:
    """Adds the packs' data to a core dataset and plants their cases; see the module docstring."""

    def __init__(self, ds: Dataset) -> None:
        self.ds = ds
        self.rng = random.Random(f"{ds.seed}:packs:{ds.as_of.isoformat()}")
        self.year = ds.as_of.year
        self.target_year = target_year(ds.as_of)
        self.t = TARGETS[self.target_year]
        self.plants: list[PackPlant] = []
        self.school = {s.school_id: s for s in ds.schools}
        self.county_names = [c.name for c in ds.counties]
        self.base_county = {c.name: next(b for b in COUNTIES if c.name.startswith(b.name)) for c in ds.counties}
        self.county_of = {c.name: c for c in ds.counties}
        self.reindex()
        # rows the core generator planted, or rounds.py names, or that fail a core rule: never resized
        core_entities = {p.entity for p in ds.plants}
        self.locked_classes = {c.class_id for c in ds.classes if c.class_id in core_entities or self._core_fails(c)}
        self.locked_classes |= _rounds_keys()
        self.locked_schools: set[str] = set()  # sizes fixed by a plant
        self.fixed_teachers: set[str] = set()  # attributes fixed by a plant
        self.fixed_ft: set[str] = set()  # 专任 fixed by a kindergarten plant (other attributes free)
        self.fixed_facilities: set[str] = set()  # facilities fixed by a plant
        self.core_safety = {p.entity for p in ds.plants if p.rule.startswith("safety.")}
        self.stats: dict[tuple[str | None, int], Stats] = {}
        self.people = PersonNamer(random.Random(f"{ds.seed}:packs:names"))
        self.stage_totals: dict[str, dict[str, int]] = {}  # facility totals the stage plants set

    # -- indexes -----------------------------------------------------------------------------------------

    def reindex(self) -> None:
        self.classes_of: dict[str, list[SchoolClass]] = defaultdict(list)
        for c in self.ds.classes:
            self.classes_of[c.school_id].append(c)
        self.teachers_of: dict[str, list[Teacher]] = defaultdict(list)
        for t in self.ds.teachers:
            self.teachers_of[t.school_id].append(t)
        self.schools_in: dict[str, list[School]] = defaultdict(list)
        for s in self.ds.schools:
            self.schools_in[s.county].append(s)

    def of_type(self, *types: str, county: str | None = None) -> list[School]:
        pool = self.ds.schools if county is None else self.schools_in[county]
        return [s for s in pool if s.type in types]

    @staticmethod
    def _core_fails(c: SchoolClass) -> bool:
        if c.grade in KINDERGARTEN_STANDARD:
            return c.size > KINDERGARTEN_STANDARD[c.grade]
        return c.size >= 56

    def core_fixed(self, t: Teacher) -> bool:
        """A new compulsory-school hire of the audit year: its subject and 专任 decide core's new-hire share."""
        return t.hire_year == self.year and self.school[t.school_id].type in COMPULSORY

    @staticmethod
    def ft(t: Teacher) -> bool:
        return t.full_time is True  # a blank 专任 cell is unknown

    def fail(self, message: str) -> None:
        raise PlantError(f"{self.ds.as_of}: {message}")

    def plant(self, rule: str, entity: str, outcome: str, note: str, check: Callable[[], str]) -> None:
        self.plants.append(PackPlant(rule, entity, outcome, note, check))

    # -- pupils -------------------------------------------------------------------------------------------

    def pupils(self, school_id: str) -> int:
        return sum(c.size for c in self.classes_of[school_id])

    def enrolment(self, school: School) -> int:
        """As the engine reads it: the row's 在校生数, else the classes'."""
        return school.enrolment if school.enrolment is not None else self.pupils(school.school_id)

    @staticmethod
    def stage_of(grade: str) -> str | None:
        if grade in KINDERGARTEN_STANDARD:
            return "kindergarten"
        n = int(grade)
        return "primary" if n <= 6 else "junior" if n <= 9 else "senior"

    def bounds(self, c: SchoolClass, hard: bool) -> tuple[int, int]:
        if c.grade in KINDERGARTEN_STANDARD:
            return 12, KINDERGARTEN_STANDARD[c.grade]
        stage = self.stage_of(c.grade)
        if hard:
            return 15, 55  # never into core's 大班额 (56 and above)
        return 20, {"primary": 45, "junior": 50}.get(stage or "", 54)

    def resize(self, school_id: str, delta: int, *, hard: bool = False, grades: Iterable[str] | None = None) -> None:
        """Add (or take away) `delta` pupils over a school's unlocked classes, one at a time to the class
        with most room, within the class-size bands (so no core verdict moves): first within the
        balance pack's class sizes (45 / 50), then, if need be, up to 55."""
        if school_id in self.locked_schools and delta:
            self.fail(f"resizing locked school {school_id}")
        wanted = set(grades) if grades is not None else None
        classes = [
            c
            for c in self.classes_of[school_id]
            if c.class_id not in self.locked_classes and (wanted is None or c.grade in wanted)
        ]
        step, remaining = (1 if delta > 0 else -1), abs(delta)
        while remaining:
            if step > 0:
                room = [(self.bounds(c, hard)[1] - c.size, c.class_id, c) for c in classes]
            else:
                room = [(c.size - self.bounds(c, hard)[0], c.class_id, c) for c in classes]
            best = max(room, default=None, key=lambda r: (r[0], r[1]))
            if best is None or best[0] <= 0:
                if hard:
                    self.fail(f"cannot move {delta} pupils in {school_id}")
                hard = True
                continue
            best[2].size += step
            remaining -= 1

    def capacity(self, school_id: str, up: bool, hard: bool = False) -> int:
        total = 0
        for c in self.classes_of[school_id]:
            if c.class_id in self.locked_classes:
                continue
            low, high = self.bounds(c, hard)
            total += max(0, (high - c.size) if up else (c.size - low))
        return total

    def set_pupils(self, school_id: str, target: int, *, hard: bool = True) -> None:
        self.resize(school_id, target - self.pupils(school_id), hard=hard)
        if self.pupils(school_id) != target:
            self.fail(f"{school_id} has {self.pupils(school_id)} pupils, wanted {target}")

    def lock(self, school_id: str) -> None:
        self.locked_schools.add(school_id)
        self.locked_classes.update(c.class_id for c in self.classes_of[school_id])

    # -- school stages, as 教督〔2017〕6号 and the engine's apportioning define them -------------------------

    def stages(self, school: School) -> dict[str, tuple[int, Fraction]]:
        """stage → (its pupils, its share of the school's resources): primary 1 : junior 1.1."""
        pupils: dict[str, int] = {}
        for c in self.classes_of[school.school_id]:
            stage = self.stage_of(c.grade)
            if stage in ("primary", "junior"):
                pupils[stage] = pupils.get(stage, 0) + c.size
        single = {"primary": "primary", "junior": "junior"}.get(school.type)
        if not pupils and single and school.enrolment:
            pupils[single] = school.enrolment
        weights = {s: n * (Fraction(11, 10) if s == "junior" else 1) for s, n in pupils.items()}
        total = sum(weights.values())
        return {s: (n, Fraction(weights[s]) / total if total else Fraction(1)) for s, n in pupils.items()}

    def stage_measures(self, school: School, stage: str) -> dict[str, Fraction]:
        """The resource indicators of one school stage (those a missing facility value leaves out are absent)."""
        n, share = self.stages(school)[stage]
        teachers = [t for t in self.teachers_of[school.school_id] if self.ft(t)]
        qualified = COLLEGE_PLUS if stage == "primary" else BACHELOR_PLUS
        counts = {
            "qualified": sum(t.degree in qualified for t in teachers),
            "backbone": sum(t.backbone_level in COUNTY_UP for t in teachers),
            "pe_art": sum(t.subject in PE_ART for t in teachers),
        }
        out = {k: v * share * 100 / n for k, v in counts.items()}
        f = self.ds.facilities.get(school.school_id)
        if f is not None:
            if f.teaching_area is not None:
                out["teaching"] = Fraction(str(f.teaching_area)) * share / n
            if f.sports_area is not None:
                out["sports"] = Fraction(str(f.sports_area)) * share / n
            if f.equipment_value is not None:
                out["equipment"] = Fraction(f.equipment_value) * share / n
            if f.multimedia_rooms is not None:
                out["multimedia"] = Fraction(f.multimedia_rooms) * share * 100 / n
        return out

    def stage_verdicts(self, school: School, stage: str) -> dict[str, str]:
        values = self.stage_measures(school, stage)
        standard = STANDARD[stage]
        out = {key: _verdict(values[key] < standard[key]) for key in standard if key in values}
        if len(out) == len(standard):
            met = sum(v == "pass" for v in out.values())
            lowest = min(values[k] / standard[k] for k in standard)
            out["resources"] = _verdict(met < 6 or lowest < _r("0.85"))
        return out

    def in_stage_scope(self, school: School) -> bool:
        return school.type in ASSESSED and self.enrolment(school) >= 50

    def compulsory_classes(self, school_id: str) -> int:
        return sum(self.stage_of(c.grade) in ("primary", "junior") for c in self.classes_of[school_id])

    def compulsory_size(self, school: School) -> int:
        if school.type in COMPULSORY:
            return self.enrolment(school)
        return sum(c.size for c in self.classes_of[school.school_id] if self.stage_of(c.grade) in ("primary", "junior"))

    def senior_pupils(self, school: School) -> int:
        if school.type == "senior":
            return self.enrolment(school)
        return sum(c.size for c in self.classes_of[school.school_id] if self.stage_of(c.grade) == "senior")

    # -- teacher shares ---------------------------------------------------------------------------------

    def teachers_where(self, keep: Callable[[Teacher, School], bool], county: str | None = None) -> list[Teacher]:
        schools = self.ds.schools if county is None else self.schools_in[county]
        return [t for s in schools for t in self.teachers_of[s.school_id] if keep(t, s)]

    def set_count(
        self,
        members: Sequence[Teacher],
        count: int,
        is_in: Callable[[Teacher], bool],
        put_in: Callable[[Teacher], None],
        take_out: Callable[[Teacher], None],
        what: str,
        movable: Callable[[Teacher], bool] = lambda t: True,
    ) -> None:
        """Flip members (not fixed by another plant, and `movable`) in or out until exactly `count` are in."""
        inside = [t for t in members if is_in(t)]
        free = [t for t in members if t.teacher_id not in self.fixed_teachers and movable(t)]
        free_in = [t for t in free if is_in(t)]
        free_out = [t for t in free if not is_in(t)]
        self.rng.shuffle(free_in)
        self.rng.shuffle(free_out)
        delta = count - len(inside)
        if delta > len(free_out) or -delta > len(free_in):
            self.fail(f"{what}: cannot bring {len(inside)} of {len(members)} to {count}")
        for t in free_out[: max(delta, 0)]:
            put_in(t)
        for t in free_in[: max(-delta, 0)]:
            take_out(t)
        if sum(is_in(t) for t in members) != count:
            self.fail(f"{what}: missed {count}")


def _rounds_keys() -> set[str]:
    """Class ids rounds.py changes or names (its re-inspection story must keep them as they are)."""
    keys = {c.key for r in (rounds.ROUND_2024, rounds.RECHECK) for c in r.changes if hasattr(c, "key")}
    for classes in rounds.PLANTED.values():
        keys |= {entity for pairs in classes.values() for _, entity in pairs}
    return keys


# == 1. background: the new columns of schools and teachers ======================================================

LEVEL_DRAW = weighted("county:55 city:30 region:12 national:3")


def _base_schools(b: _Builder) -> None:
    rng, late = b.rng, b.target_year == 2025
    for s in b.ds.schools:
        county = b.county_of[s.county]
        if s.township.endswith("街道"):
            s.urban_rural = "urban"
        elif s.township == county.seat:
            s.urban_rural = "town"
        else:
            s.urban_rural = "town" if rng.random() < 0.25 else "rural"
        if s.type == "kindergarten":
            s.inclusive = True if s.ownership == "public" else rng.random() < 0.7
            s.township_center = s.ownership == "public" and "中心幼儿园" in s.name
            s.demo_level = "none"
            s.boarding = False
        elif s.type == "vocational":
            s.demo_level = "none"
            s.boarding = rng.random() < 0.7
        else:
            rural = s.urban_rural != "urban"
            s.boarding = s.type != "primary" and rural and rng.random() < (0.8 if s.type in HIGH_SCHOOLS else 0.45)
        if s.type in HIGH_SCHOOLS:
            s.star_level = 0
            s.subject_bases = rng.choice((1, 1, 2, 2, 3, 4)) if late else rng.choice((0, 1, 1, 2))
        if s.type in PRIMARY_SECONDARY:
            s.health_promoting = rng.random() < (0.7 if late else 0.45)
            s.health_vice_principal = rng.random() < (0.95 if late else 0.7)


def _title(rng: random.Random, service: int, kindergarten: bool) -> str:
    if service < 3:
        return "none"
    if service < 8:
        return "assistant"
    if kindergarten:
        return "intermediate" if rng.random() < 0.6 else "assistant"
    if service < 16:
        return "intermediate" if rng.random() < 0.75 else "assistant"
    return "associate" if rng.random() < 0.45 else "intermediate"


def _base_teachers(b: _Builder) -> None:
    rng, year = b.rng, b.year
    majors = list(VOCATIONAL_MAJORS)
    for t in b.ds.teachers:
        s = b.school[t.school_id]
        service = year - t.hire_year
        if s.type == "vocational":  # the specialities 中职 teachers actually teach, and 思想政治 by its name
            if t.subject == "专业课":
                t.subject = rng.choice(majors)
            elif t.subject in ("政治", "心理健康"):
                t.subject = "思想政治"
        t.title = _title(rng, service, s.type == "kindergarten")
        seasoned = service >= 5
        if s.type == "kindergarten":
            t.backbone_level = rng.choice(LEVEL_DRAW[:85]) if seasoned and rng.random() < 0.15 else "none"
            t.preschool_major = rng.random() < 0.7
        else:
            t.backbone_level = rng.choice(LEVEL_DRAW) if seasoned and rng.random() < 0.36 else "none"
        if s.type == "vocational":
            t.dual_qualified = t.subject not in VOCATIONAL_GENERAL and rng.random() < 0.6
        hours = min(service, 5) * rng.randint(74, 104)
        t.training_hours_5y = rng.randint(250, 359) if service >= 5 and rng.random() < 0.012 else hours
        if s.ownership == "public" and s.type in ASSESSED:
            t.rotated_this_year = service >= ROTATION_YEARS and rng.random() < 0.12
        t.has_certificate = rng.random() < 0.996
    for s in b.ds.schools:  # the head (园长 / 校长): the longest-serving teacher; some kindergartens' is not 专任
        staff = b.teachers_of[s.school_id]
        if not staff:
            continue
        head = min(staff, key=lambda t: (t.hire_year, t.teacher_id))
        head.is_principal = True
        head.has_certificate = True
        if s.type == "kindergarten" and not b.core_fixed(head) and rng.random() < 0.3:
            head.full_time = False


def _base_staffing(b: _Builder) -> None:
    """Most primary and junior schools that fall a little short of 优质均衡's 高学历 or 体艺 teachers per 100
    pupils have made it up (a few pupils fewer a class, a teacher moved to PE or art); some have not."""
    rng = b.rng
    for school in b.of_type("primary", "junior"):
        sid = school.school_id
        if sid in b.locked_schools or any(c.class_id in b.locked_classes for c in b.classes_of[sid]):
            continue
        stage = school.type
        staff = [t for t in b.teachers_of[sid] if b.ft(t)]
        qualified = sum(t.degree in (COLLEGE_PLUS if stage == "primary" else BACHELOR_PLUS) for t in staff)
        pupils = b.pupils(sid)
        fewer = pupils - math.floor(qualified * 100 / STANDARD[stage]["qualified"])
        if 0 < fewer <= pupils * 0.08 and rng.random() < 0.7:
            b.resize(sid, -min(fewer, b.capacity(sid, False)))
        pupils = b.pupils(sid)
        short = math.ceil(STANDARD[stage]["pe_art"] * pupils / 100) - sum(t.subject in PE_ART for t in staff)
        movable = [t for t in staff if t.subject not in PE_ART and not b.core_fixed(t) and not t.is_principal]
        if 0 < short <= len(movable) // 4 and rng.random() < 0.7:
            for t in rng.sample(movable, short):
                t.subject = rng.choice(
                    ("体育", "音乐", "美术") if stage == "primary" else ("体育与健康", "音乐", "美术")
                )
    for school in b.of_type("kindergarten"):  # 2 专任 a class where the kindergarten has the teachers
        staff = b.teachers_of[school.school_id]
        part_time = [t for t in staff if not b.ft(t) and not t.is_principal]
        short = 2 * len(b.classes_of[school.school_id]) - sum(map(b.ft, staff))
        if 0 < short <= len(part_time) and rng.random() < 0.8:
            for t in part_time[:short]:
                t.full_time = True
    for row in b.ds.safety.values():  # guards as GB/T 29315 asks, in most schools that have any
        s = b.school[row.school_id]
        if row.school_id in b.core_safety or s.type == "vocational" or not row.full_time_guards:
            continue
        pupils = b.pupils(row.school_id)
        need = guards_required(pupils)
        # a school of exactly 100 draws as it did when the second band began at 100 (so that every later draw,
        # and the cases' other rows, stay what they were); it needs 1 guard and keeps what it has
        if row.full_time_guards < max(need, 2 if pupils == 100 else 0) and rng.random() < 0.7:
            row.full_time_guards = max(need, row.full_time_guards)


# == 2. plants that set pupils (class sizes, added classes) =======================================================


def _shuffled(b: _Builder, items: Iterable[Any]) -> list[Any]:
    items = list(items)
    b.rng.shuffle(items)
    return items


def _clean(b: _Builder, school: School) -> bool:
    """A school no plant has fixed and with no class a core plant or rounds.py needs as it is."""
    return school.school_id not in b.locked_schools and not any(
        c.class_id in b.locked_classes for c in b.classes_of[school.school_id]
    )


def _reachable(b: _Builder, school: School, target: int, hard: bool = False) -> bool:
    now = b.pupils(school.school_id)
    return (
        (now - b.capacity(school.school_id, False, hard)) <= target <= (now + b.capacity(school.school_id, True, hard))
    )


def _new_teacher(b: _Builder, school: School, serial: int) -> Teacher:
    rng = b.rng
    hired = rng.randint(b.year - 30, b.year - 1)
    t = Teacher(
        f"T{serial:07d}",
        school.school_id,
        rng.choice(SUBJECTS[school.type]),
        hired,
        True,
        True,
        rng.choice(SECONDARY_DEGREES),
    )
    t.title = _title(rng, b.year - hired, False)
    t.backbone_level = rng.choice(LEVEL_DRAW) if b.year - hired >= 5 and rng.random() < 0.36 else "none"
    t.training_hours_5y = min(b.year - hired, 5) * rng.randint(74, 104)
    return t


def _grow(b: _Builder, school: School, target: int, grades: Sequence[str], measure: Callable[[School], int]) -> int:
    """Add classes of `grades` (of ordinary sizes, with their teachers) to a school until `measure` is within a
    class of `target`, then set it exactly by class sizes; the number of classes added."""
    sid = school.school_id
    index = max(int(c.class_id.rsplit("-", 1)[1]) for c in b.classes_of[sid])
    serial = max(int(t.teacher_id[1:]) for t in b.ds.teachers)
    added = 0
    sizes = {"primary": (36, 45), "junior": (40, 50), "senior": (44, 52)}
    while measure(school) + 52 <= target:
        index += 1
        grade = grades[added % len(grades)]
        c = SchoolClass(
            f"{sid}-{index:03d}", sid, grade, b.rng.randint(*sizes[b.stage_of(grade) or "senior"]), b.people.name()
        )
        b.ds.classes.append(c)
        b.classes_of[sid].append(c)
        added += 1
        for _ in range(2 + (added % 5 == 0)):  # about 2.2 teachers a class
            serial += 1
            t = _new_teacher(b, school, serial)
            b.ds.teachers.append(t)
            b.teachers_of[sid].append(t)
    b.resize(sid, target - measure(school), grades=grades)
    if added:
        b.ds.classes.sort(key=lambda c: c.class_id)
        b.reindex()
    if measure(school) != target:
        b.fail(f"{sid}: {measure(school)} pupils, wanted {target}")
    return added


def _plant_senior_size(b: _Builder) -> None:
    """plan.senior-school-size: the two largest 高级中学 grow (more classes of grades 10–12, and their
    teachers) to 3000 pupils (passes: "超过 3000" excludes 3000) and 3001 (fails)."""
    candidates = sorted((s for s in b.of_type("senior") if _clean(b, s)), key=lambda s: -b.pupils(s.school_id))
    if len(candidates) < 2:
        candidates += sorted(
            (s for s in b.of_type("complete_secondary", "twelve_year") if _clean(b, s)),
            key=lambda s: -b.senior_pupils(s),
        )
    for school, target in zip(candidates[:2], (SENIOR_MAX, SENIOR_MAX + 1)):
        added = _grow(b, school, target, ("10", "11", "12"), b.senior_pupils)
        b.lock(school.school_id)
        b.plant(
            "plan.senior-school-size",
            school.school_id,
            _verdict(target > SENIOR_MAX),
            f"高中学段 {target} 人（其中 {added} 个班为扩招新增）",
            lambda s=school: _verdict(b.senior_pupils(s) > SENIOR_MAX),
        )


# name, stage, pupils, teacher counts to set, facility totals, the verdicts built (qualified, backbone, pe_art,
# teaching, sports, equipment, multimedia, resources); None: whatever the school's teachers give.
STAGE_PLANS: tuple[tuple[str, str, int, dict[str, int], dict[str, int], str], ...] = (
    (
        "P1",
        "primary",
        1000,
        {"qualified": 42, "backbone": 10, "pe_art": 9},
        {"teaching": 4500, "sports": 7500, "equipment": 2_000_000, "multimedia": 23},
        "每项恰为标准；高学历教师以学校实有专任教师为限",
    ),
    (
        "P2",
        "primary",
        1000,
        {"qualified": 41, "backbone": 9, "pe_art": 8},
        {"teaching": 4499, "sports": 7499, "equipment": 1_999_000, "multimedia": 22},
        "每项差一步",
    ),
    (
        "P3",
        "primary",
        500,
        {"qualified": 21, "backbone": 5, "pe_art": 5},
        {"teaching": 2250, "sports": 3750, "equipment": 850_000, "multimedia": 12},
        "6 项达标，设备值恰为标准的 85%",
    ),
    (
        "P4",
        "primary",
        500,
        {"qualified": 20, "backbone": 5, "pe_art": 5},
        {"teaching": 2300, "sports": 3800, "equipment": 1_000_000, "multimedia": 12},
        "只差高学历教师一人（为标准的 95%），其余 6 项达标",
    ),
    (
        "P5",
        "primary",
        500,
        {"qualified": 21, "backbone": 5, "pe_art": 5},
        {"teaching": 2250, "sports": 3750, "equipment": 849_500, "multimedia": 12},
        "6 项达标，设备值为标准的 84.95%",
    ),
    (
        "J1",
        "junior",
        1000,
        {"qualified": 53, "backbone": 10, "pe_art": 9},
        {"teaching": 5800, "sports": 10200, "equipment": 2_500_000, "multimedia": 24},
        "每项恰为标准；高学历教师以学校实有专任教师为限",
    ),
    (
        "J2",
        "junior",
        1000,
        {"qualified": 52, "backbone": 9, "pe_art": 8},
        {"teaching": 5799, "sports": 10199, "equipment": 2_499_000, "multimedia": 23},
        "每项差一步",
    ),
)
INDICATOR_RULES = {
    "qualified": "balance.qualified-teachers",
    "backbone": "balance.backbone-teachers",
    "pe_art": "balance.pe-art-teachers",
    "teaching": "balance.teaching-area",
    "sports": "balance.sports-area",
    "equipment": "balance.equipment",
    "multimedia": "balance.multimedia-rooms",
    "resources": "balance.school-resources",
}


def _set_stage_teachers(b: _Builder, school: School, stage: str, counts: dict[str, int]) -> None:
    staff = [t for t in b.teachers_of[school.school_id] if b.ft(t)]
    qualified = COLLEGE_PLUS if stage == "primary" else BACHELOR_PLUS
    below = "高中及以下" if stage == "primary" else "专科"
    above = "本科"
    what = f"{school.school_id}/{stage}"
    if "qualified" in counts:
        b.set_count(
            staff,
            counts["qualified"],
            lambda t: t.degree in qualified,
            lambda t: setattr(t, "degree", above),
            lambda t: setattr(t, "degree", below),
            f"{what} degrees",
        )
    b.set_count(
        staff,
        counts["backbone"],
        lambda t: t.backbone_level in COUNTY_UP,
        lambda t: setattr(t, "backbone_level", b.rng.choice(LEVEL_DRAW)),
        lambda t: setattr(t, "backbone_level", "none"),
        f"{what} backbone",
    )
    others = [x for x in SUBJECTS[school.type] if x not in PE_ART]
    movable = [t for t in staff if not b.core_fixed(t)]
    fixed_pe = sum(t.subject in PE_ART for t in staff if b.core_fixed(t))
    b.set_count(
        movable,
        counts["pe_art"] - fixed_pe,
        lambda t: t.subject in PE_ART,
        lambda t: setattr(
            t,
            "subject",
            b.rng.choice(("体育", "音乐", "美术") if stage == "primary" else ("体育与健康", "音乐", "美术")),
        ),
        lambda t: setattr(t, "subject", b.rng.choice(others)),
        f"{what} PE/art",
    )
    b.fixed_teachers.update(t.teacher_id for t in b.teachers_of[school.school_id])


def _plant_stages(b: _Builder) -> None:
    """The seven resource indicators and the 6-of-7 verdict at their standards (one-stage schools, so that
    a school's resources are all its stage's and per-pupil figures are exact)."""
    for name, stage, pupils, counts, totals, note in STAGE_PLANS:
        need = max(counts.values())
        pool = [s for s in _shuffled(b, b.of_type(stage)) if _clean(b, s) and _reachable(b, s, pupils)]
        if not pool:
            b.fail(f"no {stage} school for {name}")
        staffed = [s for s in pool if sum(b.ft(t) for t in b.teachers_of[s.school_id]) >= need]
        # the nearest in size among those with the teachers the design needs (else the best staffed: as
        # many qualified teachers as it has, and the design's verdict follows from that number)
        school = (
            min(staffed, key=lambda s: abs(b.pupils(s.school_id) - pupils))
            if staffed
            else max(pool, key=lambda s: sum(b.ft(t) for t in b.teachers_of[s.school_id]))
        )
        ft = sum(b.ft(t) for t in b.teachers_of[school.school_id])
        counts = dict(counts)
        counts["qualified"] = min(counts["qualified"], ft)
        b.set_pupils(school.school_id, pupils, hard=False)
        b.lock(school.school_id)
        _set_stage_teachers(b, school, stage, counts)
        b.stage_totals[school.school_id] = totals
        entity = f"{school.school_id}/{stage}"
        built = _stage_design(stage, pupils, counts, totals)
        figures = (
            f"{pupils} 名学生；高学历 {counts['qualified']}、骨干 {counts['backbone']}、体艺 {counts['pe_art']} 名专任教师；"
            f"教学用房 {totals['teaching']} ㎡、运动场馆 {totals['sports']} ㎡、设备 {totals['equipment']} 元、"
            f"多媒体教室 {totals['multimedia']} 间"
        )
        for key, outcome in built.items():
            b.plant(
                INDICATOR_RULES[key],
                entity,
                outcome,
                f"{name}（{note}）：{figures}",
                lambda s=school, st=stage, k=key: b.stage_verdicts(s, st).get(k, "not_evaluated"),
            )
    # the junior stage's qualified teachers at the least count that reaches 5.3 per 100 pupils, and one fewer
    for name, outcome in (("J3", "pass"), ("J4", "fail")):
        pool = [s for s in _shuffled(b, b.of_type("junior")) if _clean(b, s)]
        pool.sort(key=lambda s: -sum(b.ft(t) for t in b.teachers_of[s.school_id]) / max(b.pupils(s.school_id), 1))
        for school in pool:
            ft = sum(b.ft(t) for t in b.teachers_of[school.school_id])
            pupils = math.floor(ft * 100 / STANDARD["junior"]["qualified"])
            if _reachable(b, school, pupils):
                break
        else:
            b.fail(f"no junior school for {name}")
        b.set_pupils(school.school_id, pupils, hard=False)
        b.lock(school.school_id)
        count = needed(STANDARD["junior"]["qualified"] / 100, pupils, outcome)
        staff = [t for t in b.teachers_of[school.school_id] if b.ft(t)]
        b.set_count(
            staff,
            count,
            lambda t: t.degree in BACHELOR_PLUS,
            lambda t: setattr(t, "degree", "本科"),
            lambda t: setattr(t, "degree", "专科"),
            f"{name} degrees",
        )
        b.fixed_teachers.update(t.teacher_id for t in b.teachers_of[school.school_id])
        b.plant(
            "balance.qualified-teachers",
            f"{school.school_id}/junior",
            outcome,
            f"{name}：{pupils} 名学生、本科以上专任教师 {count} 人（达到 5.3 所需最少人数{'' if outcome == 'pass' else '少一人'}）",
            lambda s=school: b.stage_verdicts(s, "junior")["qualified"],
        )


def _stage_design(stage: str, pupils: int, counts: dict[str, int], totals: dict[str, int]) -> dict[str, str]:
    """The verdicts the design gives, from its own numbers."""
    standard = STANDARD[stage]
    values = {k: Fraction(counts[k]) * 100 / pupils for k in ("qualified", "backbone", "pe_art")}
    values.update({k: Fraction(totals[k]) / pupils for k in ("teaching", "sports", "equipment")})
    values["multimedia"] = Fraction(totals["multimedia"]) * 100 / pupils
    out = {k: _verdict(values[k] < standard[k]) for k in standard}
    met = sum(v == "pass" for v in out.values())
    out["resources"] = _verdict(met < 6 or min(values[k] / standard[k] for k in standard) < _r("0.85"))
    return out


def _plant_school_size(b: _Builder) -> None:
    """balance.school-size: the compulsory part of a school at its type's limit passes, one more fails."""
    order = {"twelve_year": 0, "nine_year": 1, "complete_secondary": 2, "junior": 3, "primary": 4}
    pool = [s for s in _shuffled(b, b.of_type(*SCHOOL_SIZE_MAX)) if s.school_id not in b.locked_schools]
    pool.sort(key=lambda s: (order[s.type], not _clean(b, s)))
    done = 0
    for school in pool:
        if done == 2:
            break
        limit = SCHOOL_SIZE_MAX[school.type] + done
        grades = None if school.type in COMPULSORY else tuple(str(g) for g in range(1, 10))
        now = b.compulsory_size(school)
        room = sum(
            b.bounds(c, False)[1] - c.size
            for c in b.classes_of[school.school_id]
            if c.class_id not in b.locked_classes and (grades is None or c.grade in grades)
        )
        if now > limit or now + room < limit:
            continue  # (a school that needs more than full classes takes more classes, below)
        b.resize(school.school_id, limit - now, grades=grades)  # within 45 / 50 a class first
        b.lock(school.school_id)
        outcome = _verdict(done == 1)
        b.plant(
            "balance.school-size",
            school.school_id,
            outcome,
            f"义务教育学段 {limit} 人（上限 {SCHOOL_SIZE_MAX[school.type]}）",
            lambda s=school: _verdict(b.compulsory_size(s) > SCHOOL_SIZE_MAX[s.type]),
        )
        done += 1
    # no school that full classes would bring there: the largest 一贯制 schools open more classes
    growing = [s for s in b.of_type("twelve_year", "nine_year") if s.school_id not in b.locked_schools]
    for school in sorted(growing, key=lambda s: (s.type != "twelve_year", not _clean(b, s), -b.compulsory_size(s))):
        if done == 2:
            break
        limit = SCHOOL_SIZE_MAX[school.type] + done
        grades = tuple(str(g) for g in range(1, 10))
        added = _grow(b, school, limit, grades, b.compulsory_size)
        b.lock(school.school_id)
        b.plant(
            "balance.school-size",
            school.school_id,
            _verdict(done == 1),
            f"义务教育学段 {limit} 人（上限 {SCHOOL_SIZE_MAX[school.type]}，其中 {added} 个班为新增）",
            lambda s=school: _verdict(b.compulsory_size(s) > SCHOOL_SIZE_MAX[s.type]),
        )
        done += 1
    if done < 2:
        b.fail("no school to grow to its size limit")


def _plant_guards(b: _Builder) -> None:
    """safety.guards-by-enrolment at GB/T 29315's bands: 99 and 100 pupils / 1 guard pass (“100人以下” includes
    100); 1499 / 3 passes, 1500 / 3 fails (4 needed). 101 / 1 (fails) is planted last (:func:`_plant_guards_101`)."""
    for pupils, guards, outcome in ((99, 1, "pass"), (100, 1, "pass"), (1499, 3, "pass"), (1500, 3, "fail")):
        pool = [
            s
            for s in _shuffled(b, b.ds.schools)
            if s.type != "vocational"
            and _clean(b, s)
            and s.school_id in b.ds.safety
            and s.school_id not in b.core_safety
            and (b.ds.safety[s.school_id].full_time_guards or 0) >= 1
            and _reachable(b, s, pupils)
        ]
        if not pool:
            b.fail(f"no school to hold {pupils} pupils")
        school = min(pool, key=lambda s: abs(b.pupils(s.school_id) - pupils))
        b.set_pupils(school.school_id, pupils, hard=False)
        b.lock(school.school_id)
        b.ds.safety[school.school_id].full_time_guards = guards
        b.core_safety.add(school.school_id)
        b.plant(
            "safety.guards-by-enrolment",
            school.school_id,
            outcome,
            f"在校生 {pupils} 人，专职保安 {guards} 名",
            lambda s=school: _verdict(b.ds.safety[s.school_id].full_time_guards < guards_required(b.enrolment(s))),
        )


def _plant_guards_101(b: _Builder) -> None:
    """safety.guards-by-enrolment just above the first band: a special school grown to 101 pupils with 1 guard
    fails (2 needed). Planted after everything else, in a special school (no other pack's aggregate counts
    its pupils), so that no earlier plant and no random draw moves."""
    for school in b.of_type("special"):
        row = b.ds.safety.get(school.school_id)
        if (
            row is None
            or school.school_id in b.core_safety
            or not row.full_time_guards
            or not _clean(b, school)
            or not _reachable(b, school, 101)
        ):
            continue
        b.set_pupils(school.school_id, 101, hard=False)
        b.lock(school.school_id)
        school.enrolment = 101
        row.full_time_guards = 1
        b.core_safety.add(school.school_id)
        b.plant(
            "safety.guards-by-enrolment",
            school.school_id,
            "fail",
            "在校生 101 人，专职保安 1 名（应配 2 名）",
            lambda s=school: _verdict(b.ds.safety[s.school_id].full_time_guards < guards_required(b.enrolment(s))),
        )
        return
    b.fail("no special school to hold 101 pupils")


def guards_required(pupils: int) -> int:
    """GB/T 29315-2022 as restated: 100 and fewer pupils 1 guard, up to 999 2, from 1000 3 and 1 per further 500."""
    if pupils <= 100:
        return 1
    if pupils < 1000:
        return 2
    return 3 + (pupils - 1000) // 500


def _plant_class_size(b: _Builder) -> None:
    """balance.class-size: 45 in a primary grade and 50 in a junior grade pass; 46 and 51 fail."""
    for grades, size, outcome in (
        (range(1, 7), 45, "pass"),
        (range(1, 7), 46, "fail"),
        (range(7, 10), 50, "pass"),
        (range(7, 10), 51, "fail"),
    ):
        wanted = {str(g) for g in grades}
        pool = [
            c
            for c in _shuffled(b, b.ds.classes)
            if c.grade in wanted
            and c.class_id not in b.locked_classes
            and b.school[c.school_id].type in ASSESSED
            and c.school_id not in b.locked_schools
            and abs(c.size - size) <= 8
        ]
        if not pool:
            b.fail(f"no class to hold {size}")
        c = pool[0]
        c.size = size
        b.locked_classes.add(c.class_id)
        b.plant(
            "balance.class-size",
            c.class_id,
            outcome,
            f"{c.grade} 年级 {size} 人",
            lambda c=c: _verdict(c.size > MAX_CLASS[b.stage_of(c.grade)]),
        )


# -- kindergartens ----------------------------------------------------------------------------------------------


def _kgs(b: _Builder, county: str | None = None) -> list[School]:
    return b.of_type("kindergarten", county=county)


def _kg_totals(b: _Builder, county: str | None) -> tuple[int, int, int]:
    """(public, all, 普惠) children of a county's kindergartens (the city's when county is None)."""
    public = total = inclusive = 0
    for s in _kgs(b, county):
        n = b.pupils(s.school_id)
        total += n
        public += n if s.ownership == "public" else 0
        inclusive += n if s.ownership == "public" or s.inclusive else 0
    return public, total, inclusive


def _spread(b: _Builder, schools: Sequence[School], delta: int) -> None:
    """Move `delta` children into (or out of) these kindergartens, as far as each has room."""
    remaining = delta
    for s in schools:
        if not remaining:
            break
        if s.school_id in b.locked_schools:
            continue
        room = b.capacity(s.school_id, remaining > 0)
        step = max(-room, min(room, remaining))
        b.resize(s.school_id, step)
        remaining -= step
    if remaining:
        b.fail(f"no room for {delta} children in {[s.school_id for s in schools]}")


def _transfer(b: _Builder, into: Sequence[School], out_of: Sequence[School], k: int) -> None:
    """k children from `out_of` kindergartens to `into` (k < 0: the other way); totals stay."""
    if k < 0:
        into, out_of, k = out_of, into, -k
    _spread(b, _shuffled(b, into), k)
    _spread(b, _shuffled(b, out_of), -k)


def _tune_public(
    b: _Builder,
    area: Sequence[School],
    target: Fraction,
    outcome: str,
    adjustable: Callable[[School], bool] = lambda s: True,
    dry: bool = False,
) -> tuple[int, int] | None:
    """Put the public share of these kindergartens' children exactly on the target (pass) or one child
    short of it (fail): the nearest (public, private) totals the `adjustable` ones have room for."""
    public = [s for s in area if s.ownership == "public" and s.school_id not in b.locked_schools and adjustable(s)]
    private = [s for s in area if s.ownership == "private" and s.school_id not in b.locked_schools and adjustable(s)]
    p_now = sum(b.pupils(s.school_id) for s in area if s.ownership == "public")
    q_now = sum(b.pupils(s.school_id) for s in area if s.ownership == "private")
    p_range = (
        p_now - sum(b.capacity(s.school_id, False) for s in public),
        p_now + sum(b.capacity(s.school_id, True) for s in public),
    )
    q_range = (
        q_now - sum(b.capacity(s.school_id, False) for s in private),
        q_now + sum(b.capacity(s.school_id, True) for s in private),
    )
    best: tuple[int, int, int] | None = None
    for total in range(p_range[0] + q_range[0], p_range[1] + q_range[1] + 1):
        p = needed(target, total, outcome)
        if outcome == "pass" and p * target.denominator != target.numerator * total:
            continue  # exactly on the target when it can be
        q = total - p
        if p_range[0] <= p <= p_range[1] and q_range[0] <= q <= q_range[1]:
            cost = abs(p - p_now) + abs(q - q_now)
            if best is None or cost < best[0]:
                best = (cost, p, q)
    if best is None:
        if not dry:
            b.fail(f"no public share {outcome} {target} within reach")
        return None
    _, p, q = best
    if not dry:
        _spread(b, _shuffled(b, public), p - p_now)
        _spread(b, _shuffled(b, private), q - q_now)
    return p - p_now, q - q_now


def _tune_inclusive(
    b: _Builder,
    area: Sequence[School],
    target: Fraction,
    outcome: str,
    adjustable: Callable[[School], bool] = lambda s: True,
    keep_total: bool = False,
    dry: bool = False,
) -> tuple[int, int] | None:
    """Put the 普惠 share of these kindergartens on the target (or one child short): which `adjustable`
    private kindergartens are 普惠, then the nearest totals of 普惠 and other private children within their
    room (with `keep_total`, children only move between the two, so every other share stays)."""
    private = [s for s in area if s.ownership == "private" and s.school_id not in b.locked_schools and adjustable(s)]
    fixed = sum(b.pupils(s.school_id) for s in area if s.ownership == "public" or s not in private and s.inclusive)
    fixed_other = sum(
        b.pupils(s.school_id) for s in area if s.ownership == "private" and s not in private and not s.inclusive
    )
    if len(private) < 2:
        if dry:
            return None
        b.fail("too few private kindergartens")
    draw = random.Random(f"{b.ds.seed}:{min(s.school_id for s in private)}:{target}:{outcome}")
    total_now = fixed + fixed_other + sum(b.pupils(s.school_id) for s in private)
    want = needed(target, total_now, outcome) - fixed  # 普惠 private children wanted, at today's total

    def greedy() -> list[bool]:
        """普惠 kindergartens, in a random order, while they stay within what is wanted."""
        order = list(range(len(private)))
        draw.shuffle(order)
        flags, have = [False] * len(private), 0
        for i in order:
            n = b.pupils(private[i].school_id)
            if have + n <= want:
                flags[i], have = True, have + n
        return flags

    for attempt in range(80):
        flags = [bool(s.inclusive) for s in private] if attempt == 0 else greedy()
        if attempt and all(flags):
            flags[draw.randrange(len(flags))] = False
        if all(flags) or not any(flags):
            if attempt:
                flags[draw.randrange(len(flags))] = not flags[0]
            if all(flags) or not any(flags):
                continue
        groups = [[s for s, f in zip(private, flags) if f], [s for s, f in zip(private, flags) if not f]]
        now = [sum(b.pupils(s.school_id) for s in g) for g in groups]
        ranges = [
            (n - sum(b.capacity(s.school_id, False) for s in g), n + sum(b.capacity(s.school_id, True) for s in g))
            for n, g in zip(now, groups)
        ]
        best = None
        for inc in range(ranges[0][0], ranges[0][1] + 1):
            numerator = fixed + inc
            if keep_total:
                totals = [fixed + fixed_other + sum(now)]
            elif outcome == "pass":  # numerator = target × total exactly
                exact = numerator / target
                totals = [int(exact)] if exact.denominator == 1 else []
            else:  # ceil(target × total) = numerator + 1: total in (numerator / target, (numerator + 1) / target]
                low, high = math.floor(numerator / target) + 1, math.floor((numerator + 1) / target)
                totals = [min(max(fixed + fixed_other + inc + now[1], low), high)] if low <= high else []
            for total in totals:
                other = total - fixed - fixed_other - inc
                if not ranges[1][0] <= other <= ranges[1][1] or numerator != needed(target, total, outcome):
                    continue
                if outcome == "pass" and numerator != target * total:
                    continue
                cost = abs(inc - now[0]) + abs(other - now[1])
                if best is None or cost < best[0]:
                    best = (cost, inc, other)
        if best is not None:
            if not dry:
                for s, f in zip(private, flags):
                    s.inclusive = f
                _spread(b, _shuffled(b, groups[0]), best[1] - now[0])
                _spread(b, _shuffled(b, groups[1]), best[2] - now[1])
            return 0, best[1] - now[0] + best[2] - now[1]
    if not dry:
        b.fail(f"no 普惠 share {outcome} {target} within reach")
    return None


def _city_public(
    b: _Builder, free: Sequence[str], movers: dict[str, Callable[[School], bool]], target: Fraction, outcome: str
) -> None:
    """The city's public share exactly on the target (or one child short): the free counties' kindergartens
    grow or shrink (a: public, d: private children); in the `movers` counties children move from private
    kindergartens (those the county's filter allows) to public ones or back (c), their totals unchanged."""

    def free_kgs(public: bool) -> list[School]:
        return [
            s
            for s in _kgs(b)
            if s.county in free and (s.ownership == "public") == public and s.school_id not in b.locked_schools
        ]

    def room(schools: Iterable[School], up: bool) -> int:
        return sum(b.capacity(s.school_id, up) for s in schools)

    pairs = []  # per mover county: (public kgs, private kgs it allows)
    for county, allowed in movers.items():
        kgs = [s for s in _kgs(b, county) if allowed(s) and s.school_id not in b.locked_schools]
        pairs.append(([s for s in kgs if s.ownership == "public"], [s for s in kgs if s.ownership == "private"]))
    c_up = sum(min(room(pub, True), room(pri, False)) for pub, pri in pairs)
    c_down = sum(min(room(pub, False), room(pri, True)) for pub, pri in pairs)
    fp, fq = free_kgs(True), free_kgs(False)
    a_range, d_range = (-room(fp, False), room(fp, True)), (-room(fq, False), room(fq, True))
    public, total, _ = _kg_totals(b, None)
    best = None
    for new_total in range(total + a_range[0] + d_range[0], total + a_range[1] + d_range[1] + 1):
        p = needed(target, new_total, outcome)
        if outcome == "pass" and p != target * new_total:
            continue
        dp, dt = p - public, new_total - total
        low = max(a_range[0], dt - d_range[1], dp - c_up)
        high = min(a_range[1], dt - d_range[0], dp + c_down)
        if low > high:
            continue
        a = min(max(0, low), high) if low <= 0 <= high or low > 0 else high
        cost = abs(a) + abs(dt - a) + abs(dp - a)
        if best is None or cost < best[0]:
            best = (cost, a, dt - a, dp - a)
    if best is None:
        b.fail(f"the city's public share cannot be brought to {outcome} {target}")
    _, a, d, c = best
    _spread(b, _shuffled(b, fp), a)
    _spread(b, _shuffled(b, fq), d)
    for pub, pri in pairs:  # transfers, county by county
        if not c:
            break
        step = min(c, room(pub, True), room(pri, False)) if c > 0 else -min(-c, room(pub, False), room(pri, True))
        _transfer(b, pub, pri, step)
        c -= step
    if c:
        b.fail("transfers short for the city's public share")


def _city_inclusive(b: _Builder, free: Sequence[str], movers: Sequence[str], target: Fraction, outcome: str) -> None:
    """The city's 普惠 share on the target (or one child short), all other totals kept: which of the free
    counties' private kindergartens are 普惠, then children moved, within a county, between its 普惠 and
    other private kindergartens."""
    _public, total, inclusive = _kg_totals(b, None)
    goal = needed(target, total, outcome)
    fixed = inclusive - sum(
        b.pupils(s.school_id)
        for s in _kgs(b)
        if s.county in free and s.ownership == "private" and s.inclusive and s.school_id not in b.locked_schools
    )
    have = fixed
    for s in sorted(
        (s for s in _kgs(b) if s.county in free and s.ownership == "private" and s.school_id not in b.locked_schools),
        key=lambda s: -b.pupils(s.school_id),
    ):
        s.inclusive = have + b.pupils(s.school_id) <= goal
        have += b.pupils(s.school_id) if s.inclusive else 0
    gap = goal - have
    for county in [*free, *movers]:
        if not gap:
            break
        private = [s for s in _kgs(b, county) if s.ownership == "private" and s.school_id not in b.locked_schools]
        inc, other = [s for s in private if s.inclusive], [s for s in private if not s.inclusive]
        if gap > 0:
            step = min(
                gap, sum(b.capacity(s.school_id, True) for s in inc), sum(b.capacity(s.school_id, False) for s in other)
            )
        else:
            step = -min(
                -gap,
                sum(b.capacity(s.school_id, False) for s in inc),
                sum(b.capacity(s.school_id, True) for s in other),
            )
        _transfer(b, inc, other, step)
        gap -= step
    if gap:
        b.fail(f"the city's 普惠 share cannot be brought to {outcome} {target}")


def _class_ok_share(b: _Builder, county: str) -> Fraction:
    classes = [c for s in _kgs(b, county) for c in b.classes_of[s.school_id]]
    ok = sum(c.grade in KINDERGARTEN_STANDARD and c.size <= KINDERGARTEN_STANDARD[c.grade] for c in classes)
    return Fraction(ok, len(classes))


def _kg_teachers(b: _Builder, county: str | None) -> list[Teacher]:
    return [t for s in _kgs(b, county) for t in b.teachers_of[s.school_id]]


def _plant_kindergartens(b: _Builder) -> None:
    rng = b.rng
    by_size = sorted(b.county_names, key=lambda c: (-len(_kgs(b, c)), c))
    if len(by_size) < 10 or len(_kgs(b, by_size[9])) < 3:
        b.fail("too few kindergartens per county for the kindergarten plants")
    ratio_exact, ratio_over = by_size[-2:]  # the two smallest: their 专任 teachers are thinned out
    candidates = by_size[:-2]

    # public and 普惠 shares per county (national 50 % / 80 %; the plan's 52 % for the county view): one
    # county each, the assignment that can bring every county onto its target with the least moved; the two
    # counties left over (the bigger the better) carry the city's adjustments
    roles = (
        ("preschool.inclusive-share", INCLUSIVE_COUNTY, "pass", _tune_inclusive, 2),
        ("preschool.inclusive-share", INCLUSIVE_COUNTY, "fail", _tune_inclusive, 2),
        ("plan.t1-02-county", b.t["public_kg"], "pass", _tune_public, 0),
        ("plan.t1-02-county", b.t["public_kg"], "fail", _tune_public, 0),
        ("preschool.public-share", PUBLIC_COUNTY, "pass", _tune_public, 0),
        ("preschool.public-share", PUBLIC_COUNTY, "fail", _tune_public, 0),
    )

    def gap(county: str, index: int, target: Fraction) -> Fraction:
        totals = _kg_totals(b, county)
        return abs(Fraction(totals[index], totals[1]) - target)

    moves = {
        (i, c): role[3](b, _kgs(b, c), role[1], role[2], dry=True) for i, role in enumerate(roles) for c in candidates
    }
    size = {c: len(_kgs(b, c)) for c in candidates}
    public, total, _ = _kg_totals(b, None)

    gaps = {(i, c): float(gap(c, role[4], role[1])) for i, role in enumerate(roles) for c in candidates}

    def cost(p: tuple[str, ...]) -> tuple[float, float]:
        """How far the city's public share ends up from 52 % (the free counties must make that up), then
        how much is moved, then how small the free counties are."""
        dp = sum(moves[(i, c)][0] for i, c in enumerate(p))  # type: ignore[index]
        dq = sum(moves[(i, c)][1] for i, c in enumerate(p))  # type: ignore[index]
        drift = abs((public + dp) / (total + dp + dq) - float(b.t["public_kg"]))
        return round(drift, 9), sum(gaps[(i, c)] for i, c in enumerate(p)) + sum(size[c] for c in p) / 1000

    def rooms(county: str) -> tuple[int, int, int, int]:
        kgs = [s for s in _kgs(b, county) if s.school_id not in b.locked_schools]
        pub = [s.school_id for s in kgs if s.ownership == "public"]
        pri = [s.school_id for s in kgs if s.ownership == "private"]
        return (
            sum(b.capacity(x, True) for x in pub),
            sum(b.capacity(x, False) for x in pub),
            sum(b.capacity(x, True) for x in pri),
            sum(b.capacity(x, False) for x in pri),
        )

    room = {c: rooms(c) for c in [*candidates, ratio_exact, ratio_over]}
    t_up = sum(min(room[c][0], room[c][3]) for c in (ratio_exact, ratio_over))
    t_down = sum(min(room[c][1], room[c][2]) for c in (ratio_exact, ratio_over))

    goal = b.t["public_kg"]
    left_rooms: dict[tuple[str, ...], tuple[int, ...]] = {}  # the rooms of the counties a permutation leaves

    def reachable(p: tuple[str, ...]) -> bool:
        """Can the two counties left free (with transfers in the ratio counties) bring the city to 52 %?"""
        chosen = [moves[(i, c)] for i, c in enumerate(p)]
        if any(m is None for m in chosen):
            return False
        dp = sum(m[0] for m in chosen)  # type: ignore[index]
        dq = sum(m[1] for m in chosen)  # type: ignore[index]
        left = tuple(c for c in candidates if c not in p)
        if left not in left_rooms:
            left_rooms[left] = tuple(sum(room[c][k] for c in left) for k in range(4))
        pu, pd, qu, qd = left_rooms[left]
        p_now, t_now = public + dp, total + dp + dq
        most_n, most_d = p_now + pu + t_up, max(1, t_now + pu - qd)
        least_n, least_d = max(0, p_now - pd - t_down), t_now - pd + qu
        if least_d <= 0:  # (never for a real case) as Fractions, which say what is wrong
            most, least = Fraction(most_n, most_d), Fraction(least_n, least_d)
            return least + Fraction(1, 200) <= goal <= most - Fraction(1, 200)
        # least + 1/200 <= goal <= most - 1/200, cross-multiplied (20,160 orders: Fractions took 0.1 s)
        n, d = goal.numerator, goal.denominator
        return (200 * least_n + least_d) * d <= 200 * n * least_d and 200 * n * most_d <= (200 * most_n - most_d) * d

    assignment = min(
        (p for p in itertools.permutations(candidates, len(roles)) if reachable(p)), key=cost, default=None
    )
    if assignment is None:
        b.fail("no assignment of counties to the kindergarten share plants")
    free = sorted((c for c in candidates if c not in assignment), key=lambda c: (-size[c], c))

    # preschool.class-size-rate: 2022's crowded counties (the most not-within-standard classes a county may
    # have and still reach 85 %, and one more); in 2025 every county is within it
    if b.target_year == 2022:
        for county, extra in ((ratio_exact, 0), (ratio_over, 1)):
            classes = [c for s in _kgs(b, county) for c in b.classes_of[s.school_id]]
            allowed = math.floor((1 - CLASS_OK_RATE) * len(classes)) + extra
            crowded = [c for c in classes if c.size > KINDERGARTEN_STANDARD[c.grade]]
            for c in _shuffled(b, [c for c in classes if c.class_id not in b.locked_classes])[: allowed - len(crowded)]:
                c.size = KINDERGARTEN_STANDARD[c.grade] + rng.randint(1, 3)
                b.locked_classes.add(c.class_id)
            outcome = _verdict(bool(extra))
            b.plant(
                "preschool.class-size-rate",
                county,
                outcome,
                f"{len(classes)} 个班中超标 {allowed} 个（{'比 85% 允许的多一个' if extra else '85% 允许的最多个数'}）",
                lambda c=county: _verdict(_class_ok_share(b, c) < CLASS_OK_RATE),
            )
    else:
        county = free[0]
        b.plant(
            "preschool.class-size-rate",
            county,
            "pass",
            "超标班额少于 15%",
            lambda c=county: _verdict(_class_ok_share(b, c) < CLASS_OK_RATE),
        )

    # one kindergarten each: 2 专任 a class exactly / one short (preschool.teachers-per-class), children
    # exactly 15 per 专任 teacher / one more (K3, K4: kept as data; the plan's ratio is judged for the city since
    # it is a region's target, see below)
    hosts = [free[0], free[0], free[1], free[1]]
    for k, (name, host) in enumerate((("K1", hosts[0]), ("K2", hosts[1]), ("K3", hosts[2]), ("K4", hosts[3]))):
        pool = [s for s in _shuffled(b, _kgs(b, host)) if _clean(b, s) and len(b.classes_of[s.school_id]) >= 3]
        for s in pool:
            staff = b.teachers_of[s.school_id]
            classes = len(b.classes_of[s.school_id])
            if name in ("K1", "K2"):
                want = TEACHERS_PER_CLASS * classes - (name == "K2")
                if len(staff) >= want:
                    break
            else:
                want = round(b.pupils(s.school_id) / CHILDREN_PER_TEACHER)
                if 2 <= want <= len(staff) and _reachable(b, s, want * CHILDREN_PER_TEACHER + 1, hard=True):
                    break
        else:
            b.fail(f"no kindergarten for {name} in {host}")
        if name in ("K3", "K4"):
            b.set_pupils(s.school_id, want * CHILDREN_PER_TEACHER + (name == "K4"))
        b.lock(s.school_id)
        b.set_count(
            staff,
            want,
            b.ft,
            lambda t: setattr(t, "full_time", True),
            lambda t: setattr(t, "full_time", False),
            f"{name} 专任",
            lambda t: t.teacher_id not in b.fixed_ft,
        )
        b.fixed_ft.update(t.teacher_id for t in staff)
        classes = len(b.classes_of[s.school_id])
        if name in ("K1", "K2"):
            b.plant(
                "preschool.teachers-per-class",
                s.school_id,
                _verdict(name == "K2"),
                f"{classes} 个班、专任教师 {want} 人",
                lambda s=s: _verdict(sum(map(b.ft, b.teachers_of[s.school_id])) < 2 * len(b.classes_of[s.school_id])),
            )
    plan = CITY_PLAN["plan.kindergarten-teacher-child-ratio"]
    b.plant(
        "plan.kindergarten-teacher-child-ratio",
        REGION,
        plan.y2022 if b.target_year == 2022 else plan.y2025,
        plan.how,
        lambda: _verdict(
            sum(b.enrolment(s) for s in _kgs(b)) > CHILDREN_PER_TEACHER * sum(map(b.ft, _kg_teachers(b, None)))
        ),
    )

    # preschool.teacher-child-ratio per county: children exactly 15 per 专任 teacher / one more
    for county, extra in ((ratio_exact, 0), (ratio_over, 1)):
        staff = [t for t in _kg_teachers(b, county) if t.school_id not in b.locked_schools]
        children = sum(b.pupils(s.school_id) for s in _kgs(b, county))
        fixed = sum(b.ft(t) for t in _kg_teachers(b, county) if t.school_id in b.locked_schools)
        want = round(children / CHILDREN_PER_TEACHER) - fixed
        b.set_count(
            staff,
            want,
            b.ft,
            lambda t: setattr(t, "full_time", True),
            lambda t: setattr(t, "full_time", False),
            f"{county} 专任",
            lambda t: t.teacher_id not in b.fixed_ft,
        )
        b.fixed_ft.update(t.teacher_id for t in staff)
        teachers = want + fixed
        _spread(b, _shuffled(b, _kgs(b, county)), teachers * CHILDREN_PER_TEACHER + extra - children)
        b.plant(
            "preschool.teacher-child-ratio",
            county,
            _verdict(bool(extra)),
            f"幼儿园专任教师 {teachers} 人、在园幼儿 {teachers * CHILDREN_PER_TEACHER + extra} 人",
            lambda c=county: _verdict(_kg_totals(b, c)[1] > CHILDREN_PER_TEACHER * sum(map(b.ft, _kg_teachers(b, c)))),
        )

    for (rule, target, outcome, tune, index), county in zip(roles, assignment):
        tune(b, _kgs(b, county), target, outcome)
        public, total, inclusive = _kg_totals(b, county)
        b.plant(
            rule,
            county,
            outcome,
            f"{(public, total, inclusive)[index]} / {total} 名幼儿"
            f"（{'恰为' if outcome == 'pass' else '差一名幼儿达到'} {pct_text(target)}）",
            lambda c=county, i=index, t=target: _verdict(Fraction(_kg_totals(b, c)[i], _kg_totals(b, c)[1]) < t),
        )

    # the city: 公办占比 (表一 序号2, both years) and 普惠覆盖率 (2025): the free counties' kindergartens may
    # grow or shrink; elsewhere children only move between a county's public and (普惠) private kindergartens,
    # which leaves every planted county's own figures as they are
    plan = CITY_PLAN["plan.t1-02"]
    outcome = plan.y2022 if b.target_year == 2022 else plan.y2025
    movers = {c: (lambda s: True) for c in (ratio_exact, ratio_over)}
    movers.update({c: (lambda s: s.ownership == "public" or bool(s.inclusive)) for c in assignment[:2]})
    _city_public(b, free, movers, b.t["public_kg"], outcome)
    b.plant(
        "plan.t1-02",
        REGION,
        outcome,
        plan.how,
        lambda: _verdict(Fraction(_kg_totals(b, None)[0], _kg_totals(b, None)[1]) < b.t["public_kg"]),
    )
    if b.t["inclusive"] is not None:
        plan = CITY_PLAN["plan.inclusive-coverage"]
        _city_inclusive(b, free, [ratio_exact, ratio_over, *assignment[2:]], b.t["inclusive"], plan.y2025)
        b.plant(
            "plan.inclusive-coverage",
            REGION,
            plan.y2025,
            plan.how,
            lambda: _verdict(Fraction(_kg_totals(b, None)[2], _kg_totals(b, None)[1]) < b.t["inclusive"]),
        )
    for s in _kgs(b):
        b.lock(s.school_id)


def _base_kg_sizes(b: _Builder) -> None:
    """Public kindergartens run fuller classes than private ones (a 中心园 is the township's big one), so
    that the public share of children sits near the plan's 52 % before the plants tune it."""
    for s in _kgs(b):
        for c in b.classes_of[s.school_id]:
            if c.class_id in b.locked_classes:
                continue
            standard = KINDERGARTEN_STANDARD[c.grade]
            c.size = (
                b.rng.randint(standard - 3, standard)
                if s.ownership == "public"
                else b.rng.randint(max(12, standard - 16), standard - 8)
            )


def _calibrate_kgs(b: _Builder) -> None:
    """Bring the city's public share of children to 53–55 % and its 普惠 share near 84 % (the plan's 2020
    figures were 50.44 % and 86.56 %), one class or one kindergarten's 普惠 status at a time, so that the
    plants below only need small moves."""
    for county in [*b.county_names, None]:  # each county towards 46–58 % as far as it goes, then the city
        low, high = (Fraction(46, 100), Fraction(58, 100)) if county else (Fraction(53, 100), Fraction(55, 100))
        _calibrate_public(b, county, low, high)
    private = [s for s in _shuffled(b, _kgs(b)) if s.ownership == "private"]
    for s in private:
        s.inclusive = False
    _public, total, inclusive = _kg_totals(b, None)  # kept up to date below (no child moves here)
    for s in private:
        pupils = b.pupils(s.school_id)
        if Fraction(inclusive + pupils, total) <= Fraction(84, 100):
            s.inclusive = True
            inclusive += pupils


def _calibrate_public(b: _Builder, county: str | None, low: Fraction, high: Fraction) -> None:
    rng = b.rng
    classes = [(c, s) for s in _kgs(b, county) for c in b.classes_of[s.school_id] if c.class_id not in b.locked_classes]
    # the county's totals, kept up to date as each step moves one child (summing every class each step
    # was a tenth of the case's generation)
    public, total, _ = _kg_totals(b, county)
    for _ in range(20 * len(classes) + 1000):
        share = Fraction(public, total)
        if low <= share <= high:
            break
        c, s = rng.choice(classes)
        standard = KINDERGARTEN_STANDARD[c.grade]
        step = 0
        if share < Fraction(53, 100):
            if s.ownership == "private" and c.size > 12:
                step = -1
            elif s.ownership == "public" and c.size < standard:
                step = 1
        elif s.ownership == "public" and c.size > standard - 6:
            step = -1
        elif s.ownership == "private" and c.size < standard - 4:
            step = 1
        c.size += step
        total += step
        public += step if s.ownership == "public" else 0


# == 3. facilities ==============================================================================================

# per-pupil ranges by type: teaching area ㎡, sports area ㎡ (urban, elsewhere), equipment 元
PER_PUPIL: dict[str, tuple[tuple[float, float], tuple[float, float], tuple[float, float], tuple[int, int]]] = {
    "kindergarten": ((5.0, 9.0), (3.0, 6.0), (3.0, 6.0), (800, 2000)),
    "primary": ((4.6, 7.5), (7.6, 11.0), (8.5, 16.0), (2050, 3600)),
    "junior": ((5.9, 8.8), (10.3, 14.0), (11.0, 20.0), (2550, 4500)),
    "nine_year": ((5.9, 8.0), (10.3, 13.0), (11.0, 18.0), (2550, 4000)),
    "complete_secondary": ((6.5, 9.5), (10.5, 14.0), (11.0, 18.0), (3000, 5500)),
    "twelve_year": ((6.0, 9.0), (10.3, 13.0), (11.0, 16.0), (2600, 5000)),
    "senior": ((7.0, 11.0), (9.0, 14.0), (10.0, 18.0), (3000, 6000)),
    "vocational": ((8.0, 14.0), (6.0, 12.0), (6.0, 12.0), (8000, 20000)),
    "special": ((15.0, 30.0), (5.0, 15.0), (5.0, 15.0), (3000, 8000)),
}


def _base_facilities(b: _Builder) -> None:
    rng, late = b.rng, b.target_year == 2025
    for s in b.ds.schools:
        sid = s.school_id
        pupils = max(b.pupils(sid), 1)
        teaching, sports_urban, sports_other, equipment = PER_PUPIL[s.type]
        urban = s.urban_rural == "urban"
        classes = len(b.classes_of[sid])
        f = Facilities(sid)
        f.teaching_area = round(pupils * rng.uniform(*teaching), 1)
        f.sports_area = round(pupils * rng.uniform(*(sports_urban if urban else sports_other)), 1)
        f.equipment_value = round(pupils * rng.randint(*equipment), -2)
        if s.type == "kindergarten":
            f.multimedia_rooms = rng.randint(1, 2)
        else:  # a networked classroom for nearly every class (a shortfall in 1 school in 12)
            f.multimedia_rooms = max(1, classes + (rng.randint(-3, 0) if rng.random() < 0.08 else rng.randint(1, 3)))
        if s.type in ASSESSED:
            required = max(1, math.ceil(b.compulsory_classes(sid) / 12))
            r = rng.random()
            f.music_rooms = required - 1 if r < 0.06 else required + 1 if r > 0.93 else required
            f.art_rooms = required - 1 if rng.random() < 0.05 else required
        elif s.type == "kindergarten":
            f.music_rooms, f.art_rooms = rng.randint(0, 1), rng.randint(0, 1)
        else:
            f.music_rooms, f.art_rooms = rng.randint(1, 3), rng.randint(1, 3)
        for rooms, area, low in (("music_rooms", "music_room_area", 96), ("art_rooms", "art_room_area", 90)):
            if getattr(f, rooms):
                size = rng.uniform(low, low + 40) if rng.random() > 0.06 else rng.uniform(low - 20, low - 0.5)
                setattr(f, area, round(size, 1))
        f.counseling_room = s.type != "kindergarten" and (urban or rng.random() < 0.8)
        f.doctors = 0 if rng.random() < 0.05 else rng.randint(1, 2 if classes < 24 else 4)
        if s.type in PRIMARY_SECONDARY or s.type == "special":
            f.daily_pe_minutes = rng.randint(40, 59) if rng.random() < 0.05 else rng.choice((60, 60, 60, 70, 75, 90))
        f.art_course_rate = Fraction(rng.choice((95, 98, 100, 100, 100, 100)), 100)
        if late:
            f.safety_education_rate = Fraction(1) if rng.random() < 0.9 else Fraction(rng.randint(970, 999), 1000)
        else:
            f.safety_education_rate = Fraction(1) if rng.random() < 0.6 else Fraction(rng.randint(930, 999), 1000)
        b.ds.facilities[sid] = f


def _plant_facilities(b: _Builder) -> None:
    ds = b.ds
    for school_id, totals in b.stage_totals.items():
        f = ds.facilities[school_id]
        f.teaching_area, f.sports_area = float(totals["teaching"]), float(totals["sports"])
        f.equipment_value, f.multimedia_rooms = totals["equipment"], totals["multimedia"]
        b.fixed_facilities.add(school_id)

    def free(types: Iterable[str], accept: Callable[[School], bool] = lambda s: True) -> School:
        for s in _shuffled(b, b.of_type(*types)):
            if s.school_id in ds.facilities and s.school_id not in b.fixed_facilities and accept(s):
                b.fixed_facilities.add(s.school_id)
                return s
        b.fail(f"no school of {tuple(types)} left for a facilities plant")
        raise AssertionError  # unreachable

    # 音乐、美术专用教室: 12 classes need 1 room, 13 need 2; the smallest room 96 / 90 ㎡ passes, 95.9 / 89.9 fails
    def classes_near(wanted: Sequence[int]) -> School:
        """A school with the first of these numbers of compulsory classes that some free school has."""
        for n in wanted:
            if any(
                s.school_id in ds.facilities
                and s.school_id not in b.fixed_facilities
                and b.compulsory_classes(s.school_id) == n
                for s in b.of_type(*ASSESSED)
            ):
                return free(ASSESSED, lambda s, n=n: b.compulsory_classes(s.school_id) == n)
        b.fail("no school for the special-rooms plant")
        raise AssertionError  # unreachable

    twelve = classes_near((12, 24, 36, 11, 10, 9, 8, 7, 6))  # 1 room a 12 classes, at the boundary first
    thirteen = [classes_near((13, 25, 37, 14, 15, 16, 17, 18)) for _ in range(2)]
    for school, music, art, music_area, art_area in (
        (twelve, 1, 1, 96.0, 90.0),
        (thirteen[0], 2, 1, 95.9, 100.0),
        (thirteen[1], 1, 2, 110.0, 89.9),
    ):
        f = ds.facilities[school.school_id]
        f.music_rooms, f.art_rooms, f.music_room_area, f.art_room_area = music, art, music_area, art_area
        n = b.compulsory_classes(school.school_id)
        required = max(1, math.ceil(n / 12))
        for rule, rooms in (("balance.music-rooms", "music_rooms"), ("balance.art-rooms", "art_rooms")):
            b.plant(
                rule,
                school.school_id,
                _verdict(getattr(f, rooms) < required),
                f"义务教育 {n} 个班（应配 {required} 间），实有 {getattr(f, rooms)} 间",
                lambda s=school, r=rooms: _verdict(
                    getattr(ds.facilities[s.school_id], r) < max(1, math.ceil(b.compulsory_classes(s.school_id) / 12))
                ),
            )
        for rule, area, limit in (
            ("balance.music-room-area", "music_room_area", MUSIC_AREA),
            ("balance.art-room-area", "art_room_area", ART_AREA),
        ):
            if getattr(f, area) in (96.0, 95.9, 90.0, 89.9):
                b.plant(
                    rule,
                    school.school_id,
                    _verdict(Fraction(str(getattr(f, area))) < limit),
                    f"最小一间 {getattr(f, area)} ㎡（标准 {limit} ㎡）",
                    lambda s=school, a=area, lim=limit: _verdict(
                        Fraction(str(getattr(ds.facilities[s.school_id], a))) < lim
                    ),
                )

    # a school at every school-level target of the plan, and one just short of each
    target = b.t["safety_edu"]
    at, short = free(PRIMARY_SECONDARY), free(PRIMARY_SECONDARY)
    for school, minutes, doctors, rate, vice in (
        (at, DAILY_PE, 1, target, True),
        (short, DAILY_PE - 1, 0, target - Fraction(1, 1000), False),
    ):
        f = ds.facilities[school.school_id]
        f.daily_pe_minutes, f.doctors, f.safety_education_rate = minutes, doctors, rate
        school.health_vice_principal = vice
        sid = school.school_id
        b.plant(
            "plan.daily-pe",
            sid,
            _verdict(minutes < DAILY_PE),
            f"每天体育活动 {minutes} 分钟",
            lambda s=sid: _verdict(ds.facilities[s].daily_pe_minutes < DAILY_PE),
        )
        b.plant(
            "plan.school-doctor",
            sid,
            _verdict(doctors < 1),
            f"校医 {doctors} 人",
            lambda s=sid: _verdict(ds.facilities[s].doctors < 1),
        )
        b.plant(
            "plan.t1-21-school",
            sid,
            _verdict(rate < target),
            f"安全教育普及率 {pct_text(rate)}",
            lambda s=sid: _verdict(ds.facilities[s].safety_education_rate < target),
        )
        b.plant(
            "plan.health-vice-principal",
            sid,
            _verdict(not vice),
            "已聘卫生健康副校长" if vice else "未聘",
            lambda s=school: _verdict(s.health_vice_principal is False),
        )

    # data gaps: no facilities row for a kindergarten and a special school (no rule of the packs checks
    # theirs); a junior school whose music room was not measured (music-room-area not evaluated there only)
    for kind in ("kindergarten", "special"):
        pool = [s for s in b.of_type(kind) if s.school_id not in b.fixed_facilities]
        if pool:
            del ds.facilities[pool[0].school_id]
            b.fixed_facilities.add(pool[0].school_id)
    unmeasured = free(("junior",), lambda s: bool(ds.facilities[s.school_id].music_rooms))
    ds.facilities[unmeasured.school_id].music_room_area = None
    b.plant(
        "balance.music-room-area",
        unmeasured.school_id,
        "not_evaluated",
        "音乐专用教室面积未填",
        lambda s=unmeasured: "not_evaluated" if ds.facilities[s.school_id].music_room_area is None else "pass",
    )


# == 4. teachers ================================================================================================


def _pick_teacher(b: _Builder, accept: Callable[[Teacher, School], bool], what: str) -> Teacher:
    for t in _shuffled(b, b.ds.teachers):
        if t.teacher_id not in b.fixed_teachers and not b.core_fixed(t) and accept(t, b.school[t.school_id]):
            b.fixed_teachers.add(t.teacher_id)
            return t
    b.fail(f"no teacher for {what}")
    raise AssertionError  # unreachable


def _plant_teachers(b: _Builder) -> None:
    year = b.year

    # certificates: the plan's (高中、中职、特教), 优质均衡's (义务教育学校) and 普及普惠's (幼儿园园长和专任教师)
    def certificate(
        rule: str,
        types: frozenset[str],
        value: bool | None,
        outcome: str,
        note: str,
        full_time: bool = True,
        principal: bool | None = None,
    ) -> None:
        t = _pick_teacher(
            b,
            lambda t, s: (
                s.type in types and b.ft(t) == full_time and (principal is None or bool(t.is_principal) == principal)
            ),
            rule,
        )
        t.has_certificate = value
        b.plant(rule, t.teacher_id, outcome, note, lambda t=t: _certificate_verdict(b, rule, t))

    certificate("plan.teacher-certificate", CERTIFIED_BY_PLAN, False, "fail", "专任教师，未持证")
    certificate("plan.teacher-certificate", CERTIFIED_BY_PLAN, True, "pass", "专任教师，持证")
    certificate(
        "plan.teacher-certificate", CERTIFIED_BY_PLAN, False, "absent", "非专任教师，不在检查范围", full_time=False
    )
    certificate("balance.teacher-certificate", ASSESSED, False, "fail", "专任教师，未持证")
    certificate("balance.teacher-certificate", ASSESSED, True, "pass", "专任教师，持证")
    certificate("balance.teacher-certificate", ASSESSED, None, "not_evaluated", "专任教师，持证一栏空白")
    certificate(
        "preschool.certified",
        frozenset({"kindergarten"}),
        False,
        "fail",
        "非专任的园长，未持证",
        full_time=False,
        principal=True,
    )
    certificate("preschool.certified", frozenset({"kindergarten"}), False, "fail", "专任教师，未持证", principal=False)
    certificate("preschool.certified", frozenset({"kindergarten"}), True, "pass", "专任教师，持证", principal=False)
    certificate(
        "preschool.certified",
        frozenset({"kindergarten"}),
        False,
        "absent",
        "非专任、非园长（保育员），不在检查范围",
        full_time=False,
        principal=False,
    )

    # 5 年 360 学时: a full cycle served (hired audit year − 5) with 360 passes, 359 fails; 4 years served: not checked
    for hired, hours, outcome, note in (
        (year - 5, 360, "pass", "入职满 5 年，360 学时"),
        (year - 5, 359, "fail", "入职满 5 年，359 学时"),
        (year - 4, 100, "absent", "入职 4 年，尚未满一个周期"),
    ):
        t = _pick_teacher(
            b,
            lambda t, s: s.type in ASSESSED and b.ft(t) and not t.rotated_this_year and not t.is_principal,
            "training",
        )
        t.hire_year, t.training_hours_5y = hired, hours
        b.plant("balance.teacher-training", t.teacher_id, outcome, note, lambda t=t: _training_verdict(b, t))

    _plant_shares(b)
    _plant_rotation(b)
    _plant_professors(b)
    if b.target_year == 2022:
        _plant_new_hires_2022(b)
    else:
        plan = CITY_PLAN["plan.new-pe-art-share-city"]
        b.plant(
            "plan.new-pe-art-share-city",
            REGION,
            plan.y2025,
            plan.how,
            lambda: _verdict(_new_pe_art(b, None)[0] * 100 < 15 * _new_pe_art(b, None)[1]),
        )


def _certificate_verdict(b: _Builder, rule: str, t: Teacher) -> str:
    s = b.school[t.school_id]
    if rule == "plan.teacher-certificate":
        scoped = b.ft(t) and s.type in CERTIFIED_BY_PLAN
    elif rule == "balance.teacher-certificate":
        scoped = b.ft(t) and s.type in ASSESSED
    else:
        scoped = s.type == "kindergarten" and (b.ft(t) or bool(t.is_principal))
    if not scoped:
        return "absent"
    return "not_evaluated" if t.has_certificate is None else _verdict(t.has_certificate is False)


def _training_verdict(b: _Builder, t: Teacher) -> str:
    s = b.school[t.school_id]
    if not (b.ft(t) and s.type in ASSESSED and t.hire_year <= b.year - 5):
        return "absent"
    return _verdict(t.training_hours_5y < TRAINING_HOURS)


def _new_pe_art(b: _Builder, county: str | None) -> tuple[int, int]:
    hires = b.teachers_where(lambda t, s: b.ft(t) and t.hire_year == b.year and s.type in COMPULSORY, county)
    return sum(t.subject in PE_ART for t in hires), len(hires)


# (county rule, city rule, who is counted, who is in the numerator, put in, take out, who may be flipped, target)
ShareSpec = tuple[
    str,
    str,
    Callable[..., bool],
    Callable[..., bool],
    Callable[..., None],
    Callable[..., None],
    Callable[..., bool],
    "Fraction | None",
]


def _share_counts(b: _Builder, spec: ShareSpec, county: str | None) -> tuple[int, int]:
    _, _, member, is_in, *_ = spec
    members = b.teachers_where(member, county)
    return sum(is_in(t) for t in members), len(members)


def _share_specs(b: _Builder) -> list[ShareSpec]:
    rng = b.rng
    return [
        (
            "plan.t1-15-county",
            "plan.t1-15",
            lambda t, s: b.ft(t) and s.type == "kindergarten",
            lambda t: bool(t.preschool_major),
            lambda t: setattr(t, "preschool_major", True),
            lambda t: setattr(t, "preschool_major", False),
            lambda t: True,
            b.t["kg_major"],
        ),
        (
            "plan.t1-16-county",
            "plan.t1-16",
            lambda t, s: b.ft(t) and s.type in COMPULSORY,
            lambda t: t.degree in BACHELOR_PLUS,
            lambda t: setattr(t, "degree", "本科"),
            lambda t: setattr(t, "degree", "专科"),
            lambda t: b.school[t.school_id].type == "primary" and t.degree in ("本科", "专科"),
            b.t["bachelor"],
        ),
        (
            "plan.backbone-share-county",
            "plan.backbone-share",
            lambda t, s: b.ft(t) and s.type in COMPULSORY,
            lambda t: t.backbone_level in COUNTY_UP,
            lambda t: setattr(t, "backbone_level", rng.choice(LEVEL_DRAW)),
            lambda t: setattr(t, "backbone_level", "none"),
            lambda t: b.year - t.hire_year >= 5,
            b.t["backbone"],
        ),
        (
            "",
            "plan.t1-18",
            lambda t, s: b.ft(t) and s.type == "vocational" and t.subject not in VOCATIONAL_GENERAL,
            lambda t: bool(t.dual_qualified),
            lambda t: setattr(t, "dual_qualified", True),
            lambda t: setattr(t, "dual_qualified", False),
            lambda t: True,
            b.t["dual"],
        ),
    ]


def _plant_shares(b: _Builder) -> None:
    """Teacher shares with a county view and a city target: a county exactly on the target (or at the least
    count reaching it), a county one teacher short, and the city as CITY_PLAN says, through the other counties."""
    for spec in _share_specs(b):
        county_rule, city_rule, member, is_in, put_in, take_out, movable, target = spec
        if target is None:
            continue  # no target this year (骨干教师占比 is set for 2025 only)
        planted: list[str] = []
        if county_rule:
            counties = [c for c in _shuffled(b, b.county_names) if _share_counts(b, spec, c)[1] >= 10]
            for outcome in ("pass", "fail"):
                for county in counties:
                    if county in planted:
                        continue
                    members = b.teachers_where(member, county)
                    count = needed(target, len(members), outcome)
                    try:
                        b.set_count(members, count, is_in, put_in, take_out, f"{county_rule} {county}", movable)
                    except AssertionError:
                        continue
                    break
                else:
                    b.fail(f"no county for {county_rule} {outcome}")
                planted.append(county)
                b.plant(
                    county_rule,
                    county,
                    outcome,
                    f"{count} / {len(members)} 名专任教师",
                    lambda c=county, sp=spec, tg=target: _verdict(
                        Fraction(*_share_counts(b, sp, c)) < tg if _share_counts(b, sp, c)[1] else False
                    ),
                )
        plan = CITY_PLAN[city_rule]
        outcome = plan.y2022 if b.target_year == 2022 else plan.y2025
        if outcome is None:
            continue
        have, total = _share_counts(b, spec, None)
        gap = needed(target, total, outcome) - have
        for county in _shuffled(b, [c for c in b.county_names if c not in planted]):
            if not gap:
                break
            members = b.teachers_where(member, county)
            now = sum(is_in(t) for t in members)
            free = [t for t in members if t.teacher_id not in b.fixed_teachers and movable(t)]
            room = sum(not is_in(t) for t in free) if gap > 0 else -sum(is_in(t) for t in free)
            step = min(gap, room) if gap > 0 else max(gap, room)
            b.set_count(members, now + step, is_in, put_in, take_out, f"{city_rule} {county}", movable)
            gap -= step
        if gap:
            b.fail(f"{city_rule}: {gap} teachers short of the city's planted share")
        b.plant(
            city_rule,
            REGION,
            outcome,
            plan.how,
            lambda sp=spec, tg=target: _verdict(Fraction(*_share_counts(b, sp, None)) < tg),
        )


def _rotation_members(b: _Builder, county: str, rotated: bool) -> list[Teacher]:
    def keep(t: Teacher, s: School) -> bool:
        if not (b.ft(t) and s.ownership == "public" and s.type in ASSESSED):
            return False
        return bool(t.rotated_this_year) if rotated else t.hire_year <= b.year - ROTATION_YEARS

    return b.teachers_where(keep, county)


def _plant_rotation(b: _Builder) -> None:
    """交流轮岗: 10 % of the eligible (入职满 6 年) rotated, and 20 % of the rotated 骨干 (exactly, or the least
    count reaching it; one short fails)."""
    counties = [c for c in _shuffled(b, b.county_names) if len(_rotation_members(b, c, False)) >= 30]
    for county, outcome in zip(counties[:2], ("pass", "fail")):
        eligible = _rotation_members(b, county, False)
        count = needed(ROTATION, len(eligible), outcome)
        b.set_count(
            eligible,
            count,
            lambda t: bool(t.rotated_this_year),
            lambda t: setattr(t, "rotated_this_year", True),
            lambda t: setattr(t, "rotated_this_year", False),
            f"rotation {county}",
        )
        b.plant(
            "balance.rotation",
            county,
            outcome,
            f"符合条件 {len(eligible)} 人，交流 {count} 人",
            lambda c=county: _verdict(
                Fraction(
                    len([t for t in _rotation_members(b, c, False) if t.rotated_this_year]),
                    len(_rotation_members(b, c, False)),
                )
                < ROTATION
            ),
        )
    for county, outcome in zip(counties[2:4], ("pass", "fail")):
        eligible = [t for t in _rotation_members(b, county, False) if t.teacher_id not in b.fixed_teachers]
        rotated = sum(bool(t.rotated_this_year) for t in _rotation_members(b, county, True))
        backbone = needed(ROTATION_BACKBONE, rotated, outcome)
        pool_in = _shuffled(b, [t for t in eligible if t.backbone_level in COUNTY_UP])
        pool_out = _shuffled(b, [t for t in eligible if t.backbone_level not in COUNTY_UP])
        fixed = [t for t in _rotation_members(b, county, True) if t.teacher_id in b.fixed_teachers]
        need_in = backbone - sum(t.backbone_level in COUNTY_UP for t in fixed)
        need_out = rotated - len(fixed) - need_in
        if need_in < 0 or need_out < 0 or need_in > len(pool_in) or need_out > len(pool_out):
            b.fail(f"rotation-backbone {county}")
        for t in eligible:
            t.rotated_this_year = False
        for t in pool_in[:need_in] + pool_out[:need_out]:
            t.rotated_this_year = True
        b.plant(
            "balance.rotation-backbone",
            county,
            outcome,
            f"交流 {rotated} 人，其中骨干 {backbone} 人",
            lambda c=county: _verdict(
                Fraction(
                    sum(t.backbone_level in COUNTY_UP for t in _rotation_members(b, c, True)),
                    len(_rotation_members(b, c, True)),
                )
                < ROTATION_BACKBONE
            ),
        )
    for county in counties[:4]:
        b.fixed_teachers.update(t.teacher_id for t in _rotation_members(b, county, False))
        b.fixed_teachers.update(t.teacher_id for t in _rotation_members(b, county, True))


def _plant_professors(b: _Builder) -> None:
    """表一 序号17: 正高级 teachers of 中小学 (any 专任 status), at the case's scaled target (30 in 2022: met
    exactly; 50 in 2025: one short)."""
    plan = CITY_PLAN["plan.t1-17"]
    outcome = plan.y2022 if b.target_year == 2022 else plan.y2025
    members = b.teachers_where(lambda t, s: s.type in PRIMARY_SECONDARY)
    target = params_override(b.target_year)["professors_min"]
    count = target if outcome == "pass" else target - 1
    b.set_count(
        members,
        count,
        lambda t: t.title == "professor",
        lambda t: setattr(t, "title", "professor"),
        lambda t: setattr(t, "title", "associate"),
        "professors",
        lambda t: b.year - t.hire_year >= 20 or t.title == "professor",
    )
    b.plant(
        "plan.t1-17", REGION, outcome, plan.how, lambda: _verdict(sum(t.title == "professor" for t in members) < target)
    )


def _plant_new_hires_2022(b: _Builder) -> None:
    """2022: every county with more new PE/art teachers than its 15 % needs gives up the surplus (their
    subject becomes another), until the city is one teacher short of 15 %; no county's core verdict moves."""
    plan = CITY_PLAN["plan.new-pe-art-share-city"]
    pe, total = _new_pe_art(b, None)
    surplus = pe - needed(NEW_PE_ART, total, plan.y2022)
    for county in _shuffled(b, b.county_names):
        c_pe, c_total = _new_pe_art(b, county)
        spare = c_pe - math.ceil(NEW_PE_ART * c_total) if c_total and c_pe * 100 >= 15 * c_total else 0
        for t in b.teachers_where(
            lambda t, s: (
                b.ft(t)
                and t.hire_year == b.year
                and s.type in COMPULSORY
                and t.subject in PE_ART
                and t.teacher_id not in b.fixed_teachers
            ),
            county,
        )[: max(0, min(spare, surplus))]:
            t.subject = b.rng.choice([x for x in SUBJECTS[b.school[t.school_id].type] if x not in PE_ART])
            surplus -= 1
    # not enough to give up: the counties already below 15 % take on more new teachers of other subjects
    low = [c for c in b.county_names if _new_pe_art(b, c)[1] and _new_pe_art(b, c)[0] * 100 < 15 * _new_pe_art(b, c)[1]]
    pool = [
        t
        for t in _shuffled(b, b.teachers_where(lambda t, s: b.ft(t) and s.type in COMPULSORY and s.county in low))
        if t.hire_year < b.year - 1 and t.subject not in PE_ART and t.teacher_id not in b.fixed_teachers
    ]
    while surplus > 0 and _new_pe_art(b, None)[0] * 100 >= 15 * _new_pe_art(b, None)[1]:
        if not pool:
            b.fail("not enough new teachers to put the city below 15 %")
        pool.pop().hire_year = b.year
    b.plant(
        "plan.new-pe-art-share-city",
        REGION,
        plan.y2022,
        plan.how,
        lambda: _verdict(_new_pe_art(b, None)[0] * 100 < 15 * _new_pe_art(b, None)[1]),
    )


# == 5. schools' own columns ====================================================================================


def _plant_schools(b: _Builder) -> None:
    rng, late = b.rng, b.target_year == 2025

    # 表一 序号10: 星级特色高中 among 普通高中, per county and for the city
    def stars(county: str | None) -> tuple[int, int]:
        pool = b.of_type(*HIGH_SCHOOLS, county=county)
        return sum((s.star_level or 0) >= 1 for s in pool), len(pool)

    def star(s: School, on: bool) -> None:
        s.star_level = rng.choice((1, 2, 2, 3)) if on else 0

    target = b.t["star"]
    planted = []
    for county, outcome in zip([c for c in _shuffled(b, b.county_names) if stars(c)[1] >= 2], ("pass", "fail")):
        pool = b.of_type(*HIGH_SCHOOLS, county=county)
        count = needed(target, len(pool), outcome)
        for i, s in enumerate(_shuffled(b, pool)):
            star(s, i < count)
        planted.append(county)
        b.plant(
            "plan.t1-10-county",
            county,
            outcome,
            f"{count} / {len(pool)} 所普通高中为星级",
            lambda c=county, tg=target: _verdict(Fraction(*stars(c)) < tg),
        )
    plan = CITY_PLAN["plan.t1-10"]
    outcome = plan.y2022 if not late else plan.y2025
    rest = _shuffled(b, [s for s in b.of_type(*HIGH_SCHOOLS) if s.county not in planted])
    left = needed(target, stars(None)[1], outcome) - stars(None)[0]
    if not 0 <= left <= len(rest):
        b.fail("star levels")
    for i, s in enumerate(rest):
        star(s, i < left)
    b.plant("plan.t1-10", REGION, outcome, plan.how, lambda tg=target: _verdict(Fraction(*stars(None)) < tg))

    # 表一 序号3 示范园 (the case's eighth of 200 / 300) and 专栏5 示范性中职 (3)
    plan = CITY_PLAN["plan.t1-03"]
    outcome = plan.y2022 if not late else plan.y2025
    want = params_override(b.target_year)["demo_kg_min"] - (outcome == "fail")
    kgs = sorted(_kgs(b), key=lambda s: (s.ownership != "public", -b.pupils(s.school_id), s.school_id))
    for i, s in enumerate(kgs):  # the biggest public ones first, a few private ones among them
        s.demo_level = rng.choice(LEVEL_DRAW) if i < want else "none"
    if want > len(kgs):
        b.fail("too few kindergartens for the 示范园 count")
    b.plant(
        "plan.t1-03",
        REGION,
        outcome,
        plan.how,
        lambda: _verdict(
            sum(s.demo_level in COUNTY_UP for s in _kgs(b)) < params_override(b.target_year)["demo_kg_min"]
        ),
    )
    vocational = _shuffled(b, b.of_type("vocational"))
    demo = 3 if late else 2
    for i, s in enumerate(vocational):
        s.demo_level = rng.choice(("region", "region", "national")) if i < demo else rng.choice(("none", "city"))
    if late:
        plan = CITY_PLAN["plan.vocational-demo-schools"]
        b.plant(
            "plan.vocational-demo-schools",
            REGION,
            plan.y2025,
            plan.how,  # the years: _plant_fidelity
            lambda: _verdict(
                sum(
                    s.demo_level in REGION_UP and s.demo_year is not None and PLAN_FIRST_YEAR <= s.demo_year <= b.year
                    for s in b.of_type("vocational")
                )
                < 3
            ),
        )

    # 健康促进学校 (2025): a county exactly at 70 % (or the least count reaching it), one a school short; the
    # city a school short of 70 %
    if late:
        target = b.t["health_promoting"]

        def promoting(county: str | None) -> tuple[int, int]:
            pool = b.of_type(*PRIMARY_SECONDARY, county=county)
            return sum(bool(s.health_promoting) for s in pool), len(pool)

        planted = []
        for county, outcome in zip([c for c in _shuffled(b, b.county_names) if promoting(c)[1] >= 8], ("pass", "fail")):
            pool = _shuffled(b, b.of_type(*PRIMARY_SECONDARY, county=county))
            count = needed(target, len(pool), outcome)
            for i, s in enumerate(pool):
                s.health_promoting = i < count
            planted.append(county)
            b.plant(
                "plan.health-promoting-county",
                county,
                outcome,
                f"{count} / {len(pool)} 所中小学",
                lambda c=county, tg=target: _verdict(Fraction(*promoting(c)) < tg),
            )
        plan = CITY_PLAN["plan.health-promoting"]
        rest = _shuffled(b, [s for s in b.of_type(*PRIMARY_SECONDARY) if s.county not in planted])
        gap = needed(target, promoting(None)[1], plan.y2025) - promoting(None)[0]
        for s in rest:
            if gap > 0 and not s.health_promoting:
                s.health_promoting, gap = True, gap - 1
            elif gap < 0 and s.health_promoting:
                s.health_promoting, gap = False, gap + 1
        if gap:
            b.fail("health-promoting share")
        b.plant(
            "plan.health-promoting",
            REGION,
            plan.y2025,
            plan.how,
            lambda tg=target: _verdict(Fraction(*promoting(None)) < tg),
        )

        # every 普通高中 a 学科基地 (2025): 1 passes, 0 fails
        for s, bases in zip(_shuffled(b, b.of_type(*HIGH_SCHOOLS)), (1, 0)):
            s.subject_bases = bases
            b.plant(
                "plan.subject-base-coverage",
                s.school_id,
                _verdict(bases < 1),
                f"学科基地 {bases} 个",
                lambda s=s: _verdict(s.subject_bases < 1),
            )


# == 6. safety ===================================================================================================


def _base_safety(b: _Builder) -> None:
    for row in b.ds.safety.values():
        row.anti_ramming = b.rng.random() < 0.93
        row.video_retention_days = b.rng.choice((90,) * 14 + (180,) * 4 + (120,) * 3 + (60, 30))


def _plant_safety(b: _Builder) -> None:
    rows = [r for r in _shuffled(b, b.ds.safety.values()) if b.school[r.school_id].type != "vocational"]
    for row, value, outcome in zip(rows, (False, True, None), ("fail", "pass", "not_evaluated")):
        row.anti_ramming = value
        b.plant(
            "safety.anti-ramming",
            row.school_id,
            outcome,
            {False: "未设", True: "已设", None: "未填"}[value],
            lambda r=row: "not_evaluated" if r.anti_ramming is None else _verdict(r.anti_ramming is False),
        )
    for row, days in zip(rows[3:], (VIDEO_DAYS, VIDEO_DAYS - 1)):
        row.video_retention_days = days
        b.plant(
            "safety.video-retention",
            row.school_id,
            _verdict(days < VIDEO_DAYS),
            f"保存 {days} 天",
            lambda r=row: _verdict(r.video_retention_days < VIDEO_DAYS),
        )


# == 7. statistics ==============================================================================================

# 地区生产总值 2025, 万元 (the ten divisions' sum is below the city's: 柳东新区 and 北部生态新区 report to the city)
COUNTY_GDP_2025 = {
    "城中区": 2_300_000,
    "鱼峰区": 5_400_000,
    "柳南区": 4_600_000,
    "柳北区": 5_800_000,
    "柳江区": 4_300_000,
    "柳城县": 2_100_000,
    "鹿寨县": 2_200_000,
    "融安县": 1_150_000,
    "融水苗族自治县": 1_300_000,
    "三江侗族自治县": 950_000,
}
CITY_GDP_2025 = 32_500_000
STEP = Fraction(1, 1000)  # one step in a rate given to 0.1 %: "94.9%" is one step short of 95 %


def _gdp(base: int, year: int) -> int:
    return _money(base / 1.03 ** (2025 - year), -4)


def _money(value: float, digits: int = -1) -> int:
    """An amount rounded as a statistics table gives it (to 10 元, or to 10,000 万元 for GDP)."""
    return int(round(value, digits))


def _rate(rng: random.Random, low: float, high: float) -> Fraction:
    return Fraction(round(rng.uniform(low, high) * 1000), 1000)


def _county_row(b: _Builder, county: str, year: int) -> Stats:
    rng = b.rng
    urban = b.base_county[county].is_district
    lag = 2025 - year  # how far before the plan's end: rates lower, money smaller
    gdp = _gdp(COUNTY_GDP_2025[b.base_county[county].name], year)
    teacher = _money(rng.uniform(102_000, 118_000) * 0.97**lag)
    staff = 4 * round(rng.uniform(80_000, 92_000) * 0.97**lag / 4)
    budget = _money(gdp * rng.uniform(0.030, 0.040))
    migrants = rng.randint(9_000, 16_000) if urban else rng.randint(1_500, 4_000)
    applicants = round(migrants * rng.uniform(0.10, 0.15))
    values = {
        "preschool_gross_enrolment": _rate(rng, 0.955, 0.985) if urban else _rate(rng, 0.935, 0.975),
        "compulsory_retention": _rate(rng, 0.991, 0.998),
        "senior_gross_enrolment": _rate(rng, 0.990, 0.998) if urban else _rate(rng, 0.975, 0.996),
        "disabled_enrolment": _rate(rng, 0.952, 0.985),
        "fitness_good_rate": _rate(rng, 0.552, 0.600),
        "satisfaction": _rate(rng, 0.902, 0.950),
        "safety_education_rate": Fraction(1) if rng.random() < 0.8 else _rate(rng, 0.990, 0.999),
        "teacher_avg_pay": teacher,
        "civil_servant_avg_pay": teacher - _money(rng.uniform(0, 5_000)),
        "edu_budget": budget,
        "edu_budget_per_student": round(rng.uniform(14_000, 19_000) * 0.97**lag),
        "gdp": gdp,
        "fiscal_edu_funds": _money(gdp * rng.uniform(0.040, 0.060)),
        "migrant_children": migrants,
        "migrant_children_public": round(migrants * rng.uniform(0.93, 0.99)),
        "preschool_assessment_passed": False,
        "balance_assessment_passed": False,
        "preschool_inspected": True,
        "migrant_eligible_applicants": applicants,
        "migrant_eligible_admitted": applicants,
        "preschool_nonstaff_pay": _money(staff * rng.uniform(0.77, 0.90)),
        "preschool_staff_pay": staff,
        "dropouts": 0,
    }
    if lag >= 3:  # the mid-term: rates a little lower
        for name, drop in (
            ("preschool_gross_enrolment", 0.03),
            ("senior_gross_enrolment", 0.02),
            ("fitness_good_rate", 0.03),
            ("satisfaction", 0.05),
        ):
            values[name] -= Fraction(round(drop * 1000), 1000)
        values["safety_education_rate"] = _rate(rng, 0.952, 1.0)
    return Stats(county, year, values)


def _city_row(b: _Builder, year: int) -> Stats:
    rng = b.rng
    gdp = _gdp(CITY_GDP_2025, year)
    lag = 2025 - year
    teacher = _money(rng.uniform(106_000, 112_000) * 0.97**lag)
    migrants = _money(64_000 * 0.98**lag, -3)
    values = _county_row(b, b.county_names[0], year).values | {
        "teacher_avg_pay": teacher,
        "civil_servant_avg_pay": teacher - 1_200,
        "edu_budget": _money(gdp * 0.034),
        "edu_budget_per_student": round(16_800 * 0.97**lag),
        "gdp": gdp,
        "fiscal_edu_funds": _money(gdp * 0.044),
        "migrant_children": migrants,
        "migrant_children_public": round(migrants * 0.962),
        "migrant_eligible_applicants": round(migrants * 0.12),
        "migrant_eligible_admitted": round(migrants * 0.12),
        "preschool_assessment_passed": None,
        "balance_assessment_passed": None,
        "preschool_inspected": None,
        "subject_bases": 70 - 7 * lag,
        "skill_awards": 228 - 4 * lag,
        "new_universities": 2 if lag < 2 else 0,
        "avg_schooling_years": Fraction(107 - lag, 10),
        "research_awards_basic": max(0, 86 - 14 * lag),
        "research_awards_vocational": max(0, 35 - 6 * lag),
    }
    return Stats(None, year, values)


def _plant_stats(b: _Builder) -> None:
    rng, year, t = b.rng, b.year, b.t
    rows = {(c, y): _county_row(b, c, y) for c in b.county_names for y in (year - 1, year)}
    city = {y: _city_row(b, y) for y in (year - 1, year)}
    now = {c: rows[(c, year)].values for c in b.county_names}
    before = {c: rows[(c, year - 1)].values for c in b.county_names}
    used: set[tuple[str, str]] = set()

    def two(column: str) -> list[str]:
        """Two counties whose `column` no other plant has set."""
        picked = [c for c in _shuffled(b, b.county_names) if (c, column) not in used][:2]
        used.update((c, column) for c in picked)
        return picked

    def stat_check(county: str, rule: Callable[[dict[str, Any], dict[str, Any]], bool]) -> Callable[[], str]:
        return lambda: _verdict(rule(rows[(county, year)].values, rows[(county, year - 1)].values))

    # rates against a target: exactly the target passes, 0.1 % below fails
    for rule, column, target in (
        ("plan.t1-01-county", "preschool_gross_enrolment", t["gross_kg"]),
        ("preschool.gross-enrolment", "preschool_gross_enrolment", GROSS_KG_COUNTY),
        ("plan.t1-05-county", "compulsory_retention", t["retention"]),
        ("plan.t1-07-county", "fitness_good_rate", t["fitness"]),
        ("plan.t1-08-county", "senior_gross_enrolment", t["senior_gross"]),
        ("plan.t1-13-county", "disabled_enrolment", t["disabled"]),
        ("plan.t1-20-county", "satisfaction", t["satisfaction"]),
        ("plan.t1-21-county", "safety_education_rate", t["safety_edu"]),
    ):
        for county, outcome in zip(two(column), ("pass", "fail")):
            value = target if outcome == "pass" else target - STEP
            now[county][column] = value
            b.plant(
                rule,
                county,
                outcome,
                f"{year} 年 {pct_text(value)}（目标 {pct_text(target)}）",
                stat_check(county, lambda v, p, c=column, tg=target: v[c] < tg),
            )
    # a blank: 满意度 not surveyed in one county this year (t1-20-county not evaluated there)
    (county,) = two("satisfaction")[:1]
    now[county]["satisfaction"] = None
    b.plant(
        "plan.t1-20-county",
        county,
        "not_evaluated",
        f"{year} 年满意度未测评",
        lambda c=county: "not_evaluated" if rows[(c, year)].values["satisfaction"] is None else "pass",
    )

    # 两个只增不减: level with the year before passes, 1 (万元 / 元) less fails; a county without last year's figure
    for rule, column, unit in (
        ("plan.edu-budget-growth", "edu_budget", "万元"),
        ("plan.edu-budget-per-student-growth", "edu_budget_per_student", "元"),
    ):
        for county, outcome in zip(two(column), ("pass", "fail")):
            now[county][column] = before[county][column] - (outcome == "fail")
            b.plant(
                rule,
                county,
                outcome,
                f"{year} 年 {now[county][column]} {unit}，上年 {before[county][column]} {unit}",
                stat_check(county, lambda v, p, c=column: v[c] < p[c]),
            )
    (county,) = two("edu_budget")[:1]
    before[county]["edu_budget"] = None
    b.plant(
        "plan.edu-budget-growth",
        county,
        "not_evaluated",
        f"{year - 1} 年教育支出未填报",
        lambda c=county: "not_evaluated" if rows[(c, year - 1)].values["edu_budget"] is None else "pass",
    )

    # pay: 义务教育教师 vs 公务员 (equal passes); 公办园非在编 vs 在编 (75 % exactly passes); the ratio's trend
    for county, outcome in zip(two("teacher_avg_pay"), ("pass", "fail")):
        now[county]["teacher_avg_pay"] = now[county]["civil_servant_avg_pay"] - (outcome == "fail")
        b.plant(
            "balance.teacher-pay",
            county,
            outcome,
            f"教师 {now[county]['teacher_avg_pay']} 元，公务员 {now[county]['civil_servant_avg_pay']} 元",
            stat_check(county, lambda v, p: v["teacher_avg_pay"] < v["civil_servant_avg_pay"]),
        )
    for county, outcome in zip(two("preschool_nonstaff_pay"), ("pass", "fail")):
        staff = now[county]["preschool_staff_pay"]
        now[county]["preschool_nonstaff_pay"] = staff * 3 // 4 - (outcome == "fail")
        b.plant(
            "preschool.nonstaff-pay",
            county,
            outcome,
            f"非在编 {now[county]['preschool_nonstaff_pay']} 元，在编 {staff} 元（75% 为 {staff * 3 // 4} 元）",
            stat_check(county, lambda v, p: v["preschool_nonstaff_pay"] < v["preschool_staff_pay"] * NONSTAFF_RATIO),
        )
    for county, outcome in zip(two("preschool_nonstaff_pay"), ("pass", "fail")):
        staff_before, staff_now = 85_000, 88_000 + 40 * rng.randint(0, 50)
        before[county].update(preschool_staff_pay=staff_before, preschool_nonstaff_pay=staff_before * 4 // 5)
        now[county].update(
            preschool_staff_pay=staff_now, preschool_nonstaff_pay=staff_now * 4 // 5 - (outcome == "fail")
        )
        b.plant(
            "preschool.nonstaff-pay-falling",
            county,
            outcome,
            "非在编与在编工资之比与上年同为 80%" if outcome == "pass" else "比值比上年的 80% 略低（少 1 元）",
            stat_check(
                county,
                lambda v, p: (
                    Fraction(v["preschool_nonstaff_pay"], v["preschool_staff_pay"])
                    < Fraction(p["preschool_nonstaff_pay"], p["preschool_staff_pay"])
                ),
            ),
        )

    # 随迁子女应入尽入 (admitted = applicants passes), 控辍保学 (0 passes)
    for county, outcome in zip(two("migrant_eligible_admitted"), ("pass", "fail")):
        now[county]["migrant_eligible_admitted"] = now[county]["migrant_eligible_applicants"] - (outcome == "fail")
        b.plant(
            "plan.migrant-admission",
            county,
            outcome,
            f"申请 {now[county]['migrant_eligible_applicants']} 人，入学 {now[county]['migrant_eligible_admitted']} 人",
            stat_check(county, lambda v, p: v["migrant_eligible_admitted"] < v["migrant_eligible_applicants"]),
        )
    for county, outcome in zip(two("dropouts"), ("pass", "fail")):
        now[county]["dropouts"] = 0 if outcome == "pass" else (1 if b.target_year == 2025 else 3)
        b.plant(
            "plan.dropouts",
            county,
            outcome,
            f"辍学未劝返 {now[county]['dropouts']} 人",
            stat_check(county, lambda v, p: v["dropouts"] > 0),
        )

    # 县域评估: 普及普惠 passed (表一 序号4: 1 of 10 in 2022, 6 in 2025), 优质均衡 (序号6: 0, then 3); 督导全覆盖:
    # a county neither inspected this year nor passed fails, one not inspected but already passed is covered
    not_inspected, passed_before = two("preschool_inspected")
    for county in (not_inspected, passed_before):
        now[county]["preschool_inspected"] = False
    plan4, plan6 = CITY_PLAN["plan.t1-04"], CITY_PLAN["plan.t1-06"]
    passes = {2022: (1, 0), 2025: (6, 3)}[b.target_year]
    others = [c for c in _shuffled(b, b.county_names) if c not in (not_inspected, passed_before)]
    for c in b.county_names:
        now[c]["preschool_assessment_passed"] = c == passed_before or c in others[: passes[0] - 1]
        now[c]["balance_assessment_passed"] = c in others[: passes[1]]
        before[c]["preschool_assessment_passed"] = c in others[: max(passes[0] - 2, 0)]
        before[c]["balance_assessment_passed"] = c in others[: max(passes[1] - 1, 0)]
    for county, outcome, note in (
        (not_inspected, "fail", "当年未督导，也未通过评估"),
        (passed_before, "pass", "当年未督导，但已通过评估"),
    ):
        b.plant(
            "plan.preschool-inspection",
            county,
            outcome,
            note,
            stat_check(county, lambda v, p: not v["preschool_inspected"] and not v["preschool_assessment_passed"]),
        )
    for rule, column, plan, target in (
        ("plan.t1-04", "preschool_assessment_passed", plan4, t["preschool_pass"]),
        ("plan.t1-06", "balance_assessment_passed", plan6, t["balance_pass"]),
    ):
        outcome = plan.y2022 if b.target_year == 2022 else plan.y2025
        b.plant(
            rule,
            REGION,
            outcome,
            plan.how,
            lambda c=column, tg=target: _verdict(
                Fraction(sum(bool(rows[(x, year)].values[c]) for x in b.county_names), len(b.county_names)) < tg
            ),
        )

    # the city's own figures (全市统计), as CITY_PLAN says
    c_now, c_before = city[year].values, city[year - 1].values
    late = b.target_year == 2025

    def city_plant(
        rule: str, column: str, value: Any, failing: Callable[[dict[str, Any], dict[str, Any]], bool]
    ) -> None:
        c_now[column] = value
        plan = CITY_PLAN[rule]
        outcome = plan.y2025 if late else plan.y2022
        if outcome is None:
            return
        b.plant(rule, REGION, outcome, plan.how, lambda: _verdict(failing(city[year].values, city[year - 1].values)))

    def rate_plant(rule: str, column: str, key: str) -> None:
        plan = CITY_PLAN[rule]
        target = t[key]
        outcome = plan.y2025 if late else plan.y2022
        value = target if outcome == "pass" else target - STEP
        city_plant(rule, column, value, lambda v, p: v[column] < target)

    for rule, column, key in (
        ("plan.t1-01", "preschool_gross_enrolment", "gross_kg"),
        ("plan.t1-05", "compulsory_retention", "retention"),
        ("plan.t1-07", "fitness_good_rate", "fitness"),
        ("plan.t1-08", "senior_gross_enrolment", "senior_gross"),
        ("plan.t1-13", "disabled_enrolment", "disabled"),
        ("plan.t1-20", "satisfaction", "satisfaction"),
        ("plan.t1-21", "safety_education_rate", "safety_edu"),
    ):
        rate_plant(rule, column, key)
    for rule, column, key in (
        ("plan.t1-09", "subject_bases", "subject_bases"),
        ("plan.t1-11", "skill_awards", "skill"),
    ):
        plan = CITY_PLAN[rule]
        outcome = plan.y2025 if late else plan.y2022
        city_plant(rule, column, t[key] - (outcome == "fail"), lambda v, p, c=column, k=key: v[c] < t[k])
    if late:
        city_plant("plan.t1-12", "new_universities", 2, lambda v, p: v["new_universities"] < 2)  # 预期性: 3 is no cap
        city_plant(
            "plan.t1-14",
            "avg_schooling_years",
            t["schooling"] - Fraction(1, 10),
            lambda v, p: v["avg_schooling_years"] < t["schooling"],
        )
        city_plant("plan.t1-19a", "research_awards_basic", 86, lambda v, p: v["research_awards_basic"] < 86)
        city_plant("plan.t1-19b", "research_awards_vocational", 34, lambda v, p: v["research_awards_vocational"] < 35)
        children = c_now["migrant_children"]
        city_plant(
            "plan.migrant-public-share",
            "migrant_children_public",
            needed(t["migrant_public"], children, "fail"),
            lambda v, p: Fraction(v["migrant_children_public"], v["migrant_children"]) < t["migrant_public"],
        )
    # 财政性教育经费 / GDP: 4.19 % in 2022, exactly 4.5 % in 2025
    ratio = t["fiscal"] if late else Fraction(419, 10_000)
    city_plant(
        "plan.t1-22",
        "fiscal_edu_funds",
        int(c_now["gdp"] * ratio),
        lambda v, p: Fraction(v["fiscal_edu_funds"], v["gdp"]) < t["fiscal"],
    )
    city_plant(
        "plan.teacher-pay-city",
        "teacher_avg_pay",
        c_now["civil_servant_avg_pay"] - (not late),
        lambda v, p: v["teacher_avg_pay"] < v["civil_servant_avg_pay"],
    )
    city_plant(
        "plan.edu-budget-growth-city",
        "edu_budget",
        c_before["edu_budget"] - (not late),
        lambda v, p: v["edu_budget"] < p["edu_budget"],
    )
    city_plant(
        "plan.edu-budget-per-student-growth-city",
        "edu_budget_per_student",
        c_before["edu_budget_per_student"] - late,
        lambda v, p: v["edu_budget_per_student"] < p["edu_budget_per_student"],
    )

    b.ds.county_stats = [rows[(c, y)] for c in b.county_names for y in (year, year - 1)]
    b.ds.city_stats = [city[year], city[year - 1]]
    _plant_unused_years(b, rows, city)


UNUSED_YEAR = 2019  # a 十三五 year: read neither as the audit year's statistics nor as the year before's


def _plant_unused_years(b: _Builder, rows: Mapping[tuple[str, int], Stats], city: Mapping[int, Stats]) -> None:
    """data.unused-stats-years: one county also enters a 2019 row (reported, not silently ignored), another
    only its two years; data.unused-city-stats-years: the city enters 2019 too in the 2025 case only."""
    year = b.year
    used = (year, year - 1)
    extra, plain = b.county_names[-1], b.county_names[0]
    b.ds.county_stats.append(Stats(extra, UNUSED_YEAR, dict(rows[(extra, year - 1)].values)))

    def county_verdict(county: str) -> str:
        return _verdict(any(s.county == county and s.year not in used for s in b.ds.county_stats))

    b.plant("data.unused-stats-years", extra, "fail", f"另填了 {UNUSED_YEAR} 年的一行", lambda: county_verdict(extra))
    b.plant("data.unused-stats-years", plain, "pass", "只填本年和上年", lambda: county_verdict(plain))
    plan = CITY_PLAN["data.unused-city-stats-years"]
    outcome = plan.y2022 if b.target_year == 2022 else plan.y2025
    if outcome == "fail":
        b.ds.city_stats.append(Stats(None, UNUSED_YEAR, dict(city[year - 1].values)))
    b.plant(
        "data.unused-city-stats-years",
        REGION,
        outcome or "pass",
        plan.how,
        lambda: _verdict(any(s.year not in used for s in b.ds.city_stats)),
    )


# == 8. 校际差异系数 ============================================================================================


def _cv_members(b: _Builder, county: str, stage: str) -> list[tuple[School, int, Fraction]]:
    out = []
    for s in b.of_type(*ASSESSED, county=county):
        if b.in_stage_scope(s) and stage in b.stages(s):
            n, share = b.stages(s)[stage]
            out.append((s, n, share))
    return out


def _cv(
    b: _Builder, county: str, stage: str, column: str, members: list[tuple[School, int, Fraction]] | None = None
) -> float | None:
    """The enrolment-weighted coefficient of variation of a per-pupil facility figure (standards.md §4);
    `members`: `_cv_members(b, county, stage)` when the caller has them (no pupils move meanwhile)."""
    pairs = []
    for s, n, share in _cv_members(b, county, stage) if members is None else members:
        f = b.ds.facilities.get(s.school_id)
        if f is None or getattr(f, column) is None:
            return None
        pairs.append((float(getattr(f, column)) * float(share) / n, float(n)))
    total = sum(w for _, w in pairs)
    mean = sum(v * w for v, w in pairs) / total
    return math.sqrt(sum(w / total * (v - mean) ** 2 for v, w in pairs)) / mean


def _plant_cv(b: _Builder) -> None:
    """balance.cv: the primary 生均体育运动场馆面积 of one county spread to a CV of 0.49 (passes: ≤ 0.50)
    and of another to 0.51 (fails), by the sports ground of one school (a rural one with a large field)."""
    done = 0
    for county in _shuffled(b, b.county_names):
        if done == 2:
            break
        members = _cv_members(b, county, "primary")
        movable = [s for s, n, share in members if s.type == "primary" and s.school_id not in b.fixed_facilities]
        if len(members) < 4 or not movable or _cv(b, county, "primary", "sports_area") is None:
            continue
        goal = (0.49, 0.51)[done]
        school = movable[0]
        f = b.ds.facilities[school.school_id]
        before = f.sports_area
        low, high = f.sports_area, f.sports_area * 60
        for _ in range(80):  # only the sports area changes: the members stay
            f.sports_area = (low + high) / 2
            if (_cv(b, county, "primary", "sports_area", members) or 0) < goal:
                low = f.sports_area
            else:
                high = f.sports_area
        f.sports_area = round((low + high) / 2, 1)
        cv = _cv(b, county, "primary", "sports_area") or 0
        if abs(cv - goal) > 0.003:
            f.sports_area = before  # this county cannot be spread that far by one school: try another
            continue
        b.fixed_facilities.add(school.school_id)
        b.plant(
            "balance.cv",
            f"{county}/primary/balance_cv_sports_area",
            _verdict(done == 1),
            f"小学生均体育场馆面积差异系数 {cv:.3f}（上限 0.50）",
            lambda c=county: _verdict((_cv(b, c, "primary", "sports_area") or 0) > MAX_CV["primary"]),
        )
        done += 1
    if done < 2:
        b.fail("no county to plant the CV cases in")


# == 9. finishing ===============================================================================================


def _finish(b: _Builder) -> None:
    """在校生数 on every school row as its classes add up, left blank on a few (the engine then adds up the
    classes itself); kindergarten 教师 of a kindergarten whose head is not 专任 stay as they are."""
    planted = {p.entity for p in b.plants}
    for s in b.ds.schools:
        pupils = b.pupils(s.school_id)
        blank = s.school_id not in planted and s.school_id not in b.locked_schools and b.rng.random() < 0.08
        s.enrolment = None if blank else pupils


# == 10. the plan's requirements added later (their own random stream, after everything else) ===================


def _plant_fidelity(b: _Builder) -> None:
    """Columns added for the plan's requirements after the rest of the generator was written, filled from a
    stream of their own and after every other plant, so the rows and draws before them stay as they were."""
    rng = random.Random(f"{b.ds.seed}:packs:fidelity:{b.ds.as_of.isoformat()}")
    # 示范认定年份: a year for every school with a 示范 level; the 示范中职 the 2025 plant counts (region or
    # national) were designated in the plan period, one of them in its first year; one more 中职 is 自治区级
    # since 2019, stock that the plan's “建立……3所” does not count
    vocational = sorted(b.of_type("vocational"), key=lambda s: s.school_id)
    designated = [s for s in vocational if s.demo_level in REGION_UP]
    for s in b.ds.schools:
        if s.demo_level not in (None, "none"):
            s.demo_year = rng.randint(2008, b.year)
    for i, s in enumerate(designated):
        s.demo_year = PLAN_FIRST_YEAR if i == 0 else rng.randint(PLAN_FIRST_YEAR, b.year)
    older = next((s for s in vocational if s.demo_level not in REGION_UP), None)
    if older is None:
        b.fail("no 中职 to hold a 示范 designation from before the plan")
    older.demo_level, older.demo_year = "region", 2019
    _plant_attestations(b, rng)
    _plant_psych_and_funding(b, rng)
    _plant_migrant_places(b, rng)
    _plant_practice_base(b)


SENIOR_STAGE = HIGH_SCHOOLS | {"vocational"}
# 生均拨款标准 by school type, 元 a pupil a year (made up for the synthetic city: the real figures are each
# level's, set by the region's documents, and the rule reads whatever standard the row states)
FUNDING_STANDARD = {
    "kindergarten": 600,
    "primary": 720,
    "junior": 940,
    "nine_year": 820,
    "complete_secondary": 1200,
    "senior": 1200,
    "twelve_year": 1100,
    "vocational": 3000,
    "special": 6000,
}
PLACED = _r("0.85")  # 随迁子女 in public and government-bought private places (教督〔2017〕6号)


def _attested(
    b: _Builder,
    rng: random.Random,
    scope: Callable[[School], bool],
    column: str,
    rule: str,
    notes: tuple[str, str, str],
    outside: str,
) -> None:
    """A yes/no column: 是 in most schools of the rule's scope (否 in a few), blank outside it; planted: a 否
    (fails), a 是 (passes), a blank (not evaluated) and a 否 outside the scope (absent)."""
    inside = sorted((s for s in b.ds.schools if scope(s)), key=lambda s: s.school_id)
    for s in inside:
        setattr(s, column, rng.random() > 0.03)
    picked = rng.sample(inside, 3)
    for s, value, outcome, note in zip(picked, (False, True, None), ("fail", "pass", "not_evaluated"), notes):
        setattr(s, column, value)
        b.plant(
            rule,
            s.school_id,
            outcome,
            note,
            lambda s=s: "not_evaluated" if getattr(s, column) is None else _verdict(getattr(s, column) is False),
        )
    other = rng.choice(sorted((s for s in b.ds.schools if not scope(s)), key=lambda s: s.school_id))
    setattr(other, column, False)
    b.plant(rule, other.school_id, "absent", outside, lambda s=other: "absent" if not scope(s) else "in scope")


def _plant_attestations(b: _Builder, rng: random.Random) -> None:
    """劳动教育课程 (every school but kindergartens), 统编教材 (高中阶段), 新课程新教材 (普通高中)."""
    _attested(
        b,
        rng,
        lambda s: s.type != "kindergarten",
        "labour_course",
        "plan.labour-course",
        ("未开设劳动教育课程", "开设劳动教育课程", "未填"),
        "幼儿园（不在“大中小学”之列）填“否”",
    )
    _attested(
        b,
        rng,
        lambda s: s.type in SENIOR_STAGE,
        "unified_textbooks",
        "plan.unified-textbooks",
        ("未全部使用统编教材", "使用统编教材", "未填"),
        "义务教育学校不属高中阶段",
    )
    _attested(
        b,
        rng,
        lambda s: s.type in HIGH_SCHOOLS,
        "new_curriculum",
        "plan.new-curriculum",
        ("未全面实施新课程新教材", "实施新课程新教材", "未填"),
        "中等职业学校不属普通高中",
    )


def _plant_psych_and_funding(b: _Builder, rng: random.Random) -> None:
    """专兼职心理健康教师 (every school but kindergartens: 1 passes, 0 fails) and 生均拨款 in public schools
    (exactly the standard passes, 1 分 short fails)."""
    rows = [f for _, f in sorted(b.ds.facilities.items())]
    for f in rows:
        s = b.school[f.school_id]
        if s.type != "kindergarten":
            f.psych_teachers = 0 if rng.random() < 0.03 else rng.randint(1, 3)
        if s.ownership == "public":
            f.funding_standard = Fraction(FUNDING_STANDARD[s.type])
            f.funding_per_pupil = f.funding_standard + Fraction(rng.randint(0, 30_000), 100)
    schools = [f for f in rows if b.school[f.school_id].type != "kindergarten"]
    for f, count in zip(rng.sample(schools, 2), (1, 0)):
        f.psych_teachers = count
        b.plant(
            "plan.psych-teachers",
            f.school_id,
            _verdict(count < 1),
            f"专兼职心理健康教师 {count} 人",
            lambda f=f: _verdict(f.psych_teachers < 1),
        )
    public = [f for f in rows if b.school[f.school_id].ownership == "public"]
    for f, short in zip(rng.sample(public, 2), (0, 1)):
        f.funding_per_pupil = f.funding_standard - Fraction(short, 100)
        b.plant(
            "plan.funding-standard",
            f.school_id,
            _verdict(short > 0),
            f"生均财政拨款 {decimal_text(f.funding_per_pupil)} 元，标准 {decimal_text(f.funding_standard)} 元",
            lambda f=f: _verdict(f.funding_per_pupil < f.funding_standard),
        )


def _plant_migrant_places(b: _Builder, rng: random.Random) -> None:
    """balance.migrant-public-share: 随迁子女 in public and government-bought private places, per county: most
    counties well above 85 %; one exactly at 85 % with bought places counted, one a child short, one whose
    bought places are blank but whose public share alone reaches 85 % (decided: passes)."""
    rows = [stats for stats in b.ds.county_stats]
    for stats in rows:
        total, public = stats.values["migrant_children"], stats.values["migrant_children_public"]
        stats.values["migrant_children_purchased"] = min(total - public, round(total * rng.uniform(0, 0.02)))
    now = sorted((r for r in rows if r.year == b.year), key=lambda r: r.county or "")
    exact, short, blank = rng.sample(now, 3)
    for stats, outcome in ((exact, "pass"), (short, "fail")):
        total = stats.values["migrant_children"] = 20 * (stats.values["migrant_children"] // 20)  # 85 % a whole child
        placed = int(PLACED * total) - (outcome == "fail")
        purchased = round(total * _r("0.04"))
        stats.values.update(migrant_children_public=placed - purchased, migrant_children_purchased=purchased)
        b.plant(
            "balance.migrant-public-share",
            stats.county or "",
            outcome,
            f"公办 {placed - purchased} 人 + 政府购买服务 {purchased} 人，共 {placed} / {total} 人（85% 为 {int(PLACED * total)} 人）",
            lambda v=stats.values: _verdict(
                Fraction(v["migrant_children_public"] + v["migrant_children_purchased"], v["migrant_children"]) < PLACED
            ),
        )
    blank.values["migrant_children_purchased"] = None
    b.plant(
        "balance.migrant-public-share",
        blank.county or "",
        "pass",
        "政府购买服务人数未填，公办学校就读比例已不低于 85%",
        lambda v=blank.values: _verdict(Fraction(v["migrant_children_public"], v["migrant_children"]) < PLACED),
    )
    for stats in b.ds.city_stats:
        total, public = stats.values["migrant_children"], stats.values["migrant_children_public"]
        stats.values["migrant_children_purchased"] = min(total - public, round(total * _r("0.015")))


def _plant_practice_base(b: _Builder) -> None:
    """新建市中小学生示范性综合实践基地: one built since 2021 by 2025 (passes); none by 2022 (skipped then)."""
    for stats in b.ds.city_stats:
        stats.values["practice_bases_new"] = 1 if stats.year >= 2024 else 0
    if b.target_year == 2025:
        plan = CITY_PLAN["plan.practice-base"]
        b.plant(
            "plan.practice-base",
            REGION,
            plan.y2025,
            plan.how,
            lambda: _verdict(next(s for s in b.ds.city_stats if s.year == b.year).values["practice_bases_new"] < 1),
        )


def _plant_regressions(b: _Builder) -> None:
    """The *-regression rules: nothing is moved for them; each city figure built above is read against the
    plan's 2020 column, and CITY_PLAN states the verdict that falls out."""
    stats = next(c.values for c in b.ds.city_stats if c.year == b.year)
    specs = {spec[1]: spec for spec in _share_specs(b)}

    def share(rule: str) -> Fraction:
        counted, members = _share_counts(b, specs[rule], None)
        return Fraction(counted, members)

    def kg(index: int) -> Fraction:
        totals = _kg_totals(b, None)
        return Fraction(totals[index], totals[1])

    observed: dict[str, Callable[[], Fraction]] = {
        "plan.t1-02": lambda: kg(0),
        "plan.inclusive-coverage": lambda: kg(2),
        "plan.t1-15": lambda: share("plan.t1-15"),
        "plan.t1-16": lambda: share("plan.t1-16"),
        "plan.t1-18": lambda: share("plan.t1-18"),
        "plan.t1-17": lambda: Fraction(
            sum(t.title == "professor" for t in b.teachers_where(lambda t, s: s.type in PRIMARY_SECONDARY))
        ),
        "plan.t1-22": lambda: Fraction(stats["fiscal_edu_funds"], stats["gdp"]),
    }
    columns = {
        "plan.t1-07": "fitness_good_rate",
        "plan.t1-08": "senior_gross_enrolment",
        "plan.t1-11": "skill_awards",
        "plan.t1-13": "disabled_enrolment",
        "plan.t1-14": "avg_schooling_years",
        "plan.t1-19a": "research_awards_basic",
        "plan.t1-19b": "research_awards_vocational",
        "plan.t1-21": "safety_education_rate",
    }
    for target, column in columns.items():
        observed[target] = lambda c=column: Fraction(stats[c])
    for target, baseline in REGRESSION_BASELINES.items():
        rule = f"{target}-regression"
        plan = CITY_PLAN[rule]
        outcome = plan.y2025 if b.target_year == 2025 else plan.y2022
        assert outcome is not None
        b.plant(rule, REGION, outcome, plan.how, lambda f=observed[target], t=baseline: _verdict(f() < t))


def extend(ds: Dataset) -> list[PackPlant]:
    """Add the packs' data and planted cases to a core dataset (in place); return the plants, each checked."""
    b = _Builder(ds)
    _base_schools(b)
    _base_teachers(b)
    _base_kg_sizes(b)
    _calibrate_kgs(b)
    _base_staffing(b)
    _plant_senior_size(b)
    _plant_stages(b)
    _plant_school_size(b)
    _plant_guards(b)
    _plant_class_size(b)
    _plant_kindergartens(b)
    _base_facilities(b)
    _plant_facilities(b)
    _plant_teachers(b)
    _plant_schools(b)
    _base_safety(b)
    _plant_safety(b)
    _plant_stats(b)
    _plant_cv(b)
    _finish(b)
    _plant_guards_101(b)
    _plant_fidelity(b)
    _plant_regressions(b)
    wrong = [
        f"{p.rule} {p.entity} ({p.note}): planted {p.outcome}, the rows give {got}"
        for p in b.plants
        if (got := p.check()) != p.outcome
    ]
    if wrong:
        b.fail("planted cases did not land:\n" + "\n".join(wrong))
    return b.plants
