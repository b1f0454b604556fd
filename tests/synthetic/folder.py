"""Writing a synthetic dataset as an audit folder: the files of each format, spelled as people type them.

``--format csv`` writes every kind as a CSV with the canonical English headers and spellings; ``mixed``
writes some kinds as workbooks, some headers in Chinese, and varies the spelling of booleans, dates and
codes within a file, as the documented data contract allows. Also the documents ``audit.yaml`` and
``planted.yaml``.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Iterator
from datetime import date
from fractions import Fraction
from pathlib import Path
from typing import Any, NamedTuple

import openpyxl
import yaml

from .model import RATE_COLUMNS, Dataset
from .names import OWNERSHIP_ZH, TYPE_ZH, weighted
from .packs import ALL_PACKS, CITY_PLAN, SKIPPED_2022, TARGETS, decimal_text, params_override, pct_text, target_year

__all__ = [
    "KINDS",
    "LAYOUTS",
    "PACK_KINDS",
    "audit_document",
    "columns",
    "planted_document",
    "planted_yaml",
    "write_records",
    "write_yaml",
]

KINDS: tuple[str, ...] = ("schools", "classes", "teachers", "safety")
PACK_KINDS: tuple[str, ...] = ("facilities", "county_stats", "city_stats")  # written for the other packs only

# Canonical English header and Chinese header of each column; 班主任 is the extra column of classes.
COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "schools": (
        ("school_id", "学校代码"),
        ("name", "学校名称"),
        ("county", "区县"),
        ("township", "乡镇"),
        ("type", "办学类型"),
        ("ownership", "办学性质"),
        ("license_no", "办园许可证号"),
        ("license_valid_until", "许可证有效期至"),
    ),
    "classes": (
        ("class_id", "班级代码"),
        ("school_id", "学校代码"),
        ("grade", "年级"),
        ("size", "班额"),
        ("head_teacher", "班主任"),
    ),
    "teachers": (
        ("teacher_id", "教师编号"),
        ("school_id", "学校代码"),
        ("subject", "任教学科"),
        ("hire_year", "入职年份"),
        ("full_time", "是否专任教师"),
        ("has_certificate", "是否持有教师资格证"),
        ("degree", "最高学历"),
    ),
    "safety": (
        ("school_id", "学校代码"),
        ("closed_management", "封闭化管理"),
        ("full_time_guards", "专职保安人数"),
        ("one_key_alarm", "一键报警联网"),
        ("video_linked_police", "视频监控联网"),
        ("escort_post", "护学岗"),
    ),
}

# The columns the plan, quality-balance, preschool and safety packs read (an extended folder only).
PACK_COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "schools": (
        ("urban_rural", "城乡类型"),
        ("inclusive", "是否普惠"),
        ("township_center", "是否乡镇中心园"),
        ("demo_level", "示范园级别"),
        ("star_level", "星级特色高中"),
        ("health_promoting", "健康促进学校"),
        ("boarding", "寄宿制"),
        ("enrolment", "在校生数"),
        ("health_vice_principal", "配备卫生健康副校长"),
        ("subject_bases", "市级以上学科基地数"),
        ("demo_year", "示范认定年份"),
        ("labour_course", "开设劳动教育课程"),
        ("unified_textbooks", "使用统编思政语文历史教材"),
        ("new_curriculum", "实施普通高中新课程新教材"),
    ),
    "classes": (),
    "teachers": (
        ("title", "职称"),
        ("backbone_level", "骨干教师级别"),
        ("dual_qualified", "是否双师型"),
        ("preschool_major", "是否学前教育专业"),
        ("training_hours_5y", "五年培训学时"),
        ("rotated_this_year", "本年度交流轮岗"),
        ("is_principal", "是否园长或校长"),
    ),
    "safety": (("anti_ramming", "校门防冲撞设施"), ("video_retention_days", "视频存储天数")),
    "facilities": (
        ("school_id", "学校代码"),
        ("teaching_area", "教学及辅助用房面积"),
        ("sports_area", "体育运动场馆面积"),
        ("equipment_value", "教学仪器设备值"),
        ("multimedia_rooms", "网络多媒体教室数"),
        ("music_rooms", "音乐专用教室数"),
        ("music_room_area", "音乐专用教室最小面积"),
        ("art_rooms", "美术专用教室数"),
        ("art_room_area", "美术专用教室最小面积"),
        ("counseling_room", "心理辅导室"),
        ("doctors", "校医人数"),
        ("daily_pe_minutes", "每日体育活动分钟数"),
        ("art_course_rate", "艺术课开课率"),
        ("safety_education_rate", "安全教育普及率"),
        ("psych_teachers", "专兼职心理健康教师数"),
        ("funding_per_pupil", "生均财政拨款"),
        ("funding_standard", "执行的生均拨款标准"),
    ),
}
STAT_HEADERS: tuple[tuple[str, str], ...] = (
    ("preschool_gross_enrolment", "学前三年毛入园率"),
    ("compulsory_retention", "九年义务教育巩固率"),
    ("senior_gross_enrolment", "高中阶段毛入学率"),
    ("disabled_enrolment", "适龄残疾儿童少年义务教育入学率"),
    ("fitness_good_rate", "中小学体质健康优良率"),
    ("satisfaction", "教师学生家长满意度"),
    ("safety_education_rate", "安全教育普及率"),
    ("teacher_avg_pay", "义务教育教师平均工资"),
    ("civil_servant_avg_pay", "当地公务员平均工资"),
    ("edu_budget", "一般公共预算教育支出"),
    ("edu_budget_per_student", "生均一般公共预算教育支出"),
    ("gdp", "地区生产总值"),
    ("fiscal_edu_funds", "财政性教育经费"),
    ("migrant_children", "随迁子女在校生数"),
    ("migrant_children_public", "在公办学校就读的随迁子女数"),
    ("preschool_assessment_passed", "通过学前教育普及普惠督导评估"),
    ("balance_assessment_passed", "通过义务教育优质均衡督导评估"),
    ("preschool_inspected", "开展学前教育普及普惠督导"),
    ("migrant_eligible_applicants", "符合条件申请入学的随迁子女数"),
    ("migrant_eligible_admitted", "符合条件并已入学的随迁子女数"),
    ("preschool_nonstaff_pay", "公办园非在编教师平均工资"),
    ("preschool_staff_pay", "公办园在编教师平均工资"),
    ("dropouts", "义务教育辍学学生数"),
    ("migrant_children_purchased", "在政府购买服务的民办学校就读的随迁子女数"),
)
PACK_COLUMNS["county_stats"] = (("county", "区县"), ("year", "年份"), *STAT_HEADERS)
PACK_COLUMNS["city_stats"] = (
    ("year", "年份"),
    *STAT_HEADERS,
    ("subject_bases", "市级以上学科基地数"),
    ("skill_awards", "自治区级以上技能比赛获奖数"),
    ("new_universities", "筹建高等院校数"),
    ("avg_schooling_years", "劳动年龄人口平均受教育年限"),
    ("research_awards_basic", "基础教育自治区级以上教学科研成果数"),
    ("research_awards_vocational", "职业教育自治区级以上教学科研成果数"),
    ("practice_bases_new", "新建中小学生示范性综合实践基地数"),
)
URBAN_ZH = {"urban": "城区", "town": "镇区", "rural": "乡村"}
LEVEL_ZH = {"none": "无", "county": "县级", "city": "市级", "region": "自治区级", "national": "国家级"}
TITLE_ZH = {"professor": "正高级", "associate": "副高级", "intermediate": "中级", "assistant": "初级", "none": "未定级"}


def columns(kind: str, extended: bool) -> tuple[tuple[str, str], ...]:
    """(English, Chinese) header of each column a folder's file of `kind` has."""
    if kind in PACK_KINDS:
        return PACK_COLUMNS[kind]
    return COLUMNS[kind] + (PACK_COLUMNS[kind] if extended else ())


class FileSpec(NamedTuple):
    kind: str
    ext: str
    chinese: bool
    bom: bool
    stem: str = ""  # the file's name when not the kind's (a Chinese one: 区县统计.csv)


LAYOUTS: dict[str, tuple[FileSpec, ...]] = {
    "mixed": (
        FileSpec("schools", "xlsx", True, False),
        FileSpec("classes", "csv", True, True),
        FileSpec("teachers", "csv", False, False),
        FileSpec("safety", "xlsx", True, False),
        FileSpec("facilities", "xlsx", True, False),
        FileSpec("county_stats", "csv", True, True, "区县统计"),
        FileSpec("city_stats", "csv", False, False),
    ),
    "csv": tuple(FileSpec(kind, "csv", False, False) for kind in (*KINDS, *PACK_KINDS)),
}
BOOL_SPELLINGS = {
    "zh": ("是", "否"),
    "yn": ("Y", "N"),
    "digit": ("1", "0"),
    "tf": ("true", "false"),
    "yes": ("yes", "no"),
}
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
            self._dates = _Variants(
                rng, DATE_WEIGHTS if xlsx else {k: w for k, w in DATE_WEIGHTS.items() if k != "native"}
            )
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

    def amount(self, value: float | None) -> str | float | int | None:
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
            row = [
                s.school_id,
                s.name,
                s.county,
                s.township,
                sp.enum(s.type, TYPE_ZH[s.type]),
                sp.enum(s.ownership, OWNERSHIP_ZH[s.ownership]),
                sp.text(s.license_no),
                sp.day(s.license_valid_until),
            ]
            if ext:
                row += [
                    more.choice(s.urban_rural, URBAN_ZH),
                    more.flag(s.inclusive),
                    more.flag(s.township_center),
                    more.choice(s.demo_level, LEVEL_ZH),
                    more.number(s.star_level),
                    more.flag(s.health_promoting),
                    more.flag(s.boarding),
                    more.number(s.enrolment),
                    more.flag(s.health_vice_principal),
                    more.number(s.subject_bases),
                    more.number(s.demo_year),
                    more.flag(s.labour_course),
                    more.flag(s.unified_textbooks),
                    more.flag(s.new_curriculum),
                ]
            yield row
    elif kind == "classes":
        for c in ds.classes:
            yield [c.class_id, c.school_id, c.grade, sp.number(c.size), c.head_teacher]
    elif kind == "teachers":
        for t in ds.teachers:
            row = [
                t.teacher_id,
                t.school_id,
                t.subject,
                sp.number(t.hire_year),
                sp.flag(t.full_time),
                sp.flag(t.has_certificate),
                t.degree,
            ]
            if ext:
                row += [
                    more.choice(t.title, TITLE_ZH),
                    more.choice(t.backbone_level, LEVEL_ZH),
                    more.flag(t.dual_qualified),
                    more.flag(t.preschool_major),
                    more.number(t.training_hours_5y),
                    more.flag(t.rotated_this_year),
                    more.flag(t.is_principal),
                ]
            yield row
    elif kind == "safety":
        for school_id in sorted(ds.safety):
            r = ds.safety[school_id]
            row = [
                r.school_id,
                sp.flag(r.closed_management),
                sp.number(r.full_time_guards),
                sp.flag(r.one_key_alarm),
                sp.flag(r.video_linked_police),
                sp.flag(r.escort_post),
            ]
            if ext:
                row += [more.flag(r.anti_ramming), more.number(r.video_retention_days)]
            yield row
    elif kind == "facilities":
        for school_id in sorted(ds.facilities):
            f = ds.facilities[school_id]
            yield [
                f.school_id,
                sp.amount(f.teaching_area),
                sp.amount(f.sports_area),
                sp.amount(f.equipment_value),
                sp.number(f.multimedia_rooms),
                sp.number(f.music_rooms),
                sp.amount(f.music_room_area),
                sp.number(f.art_rooms),
                sp.amount(f.art_room_area),
                sp.flag(f.counseling_room),
                sp.number(f.doctors),
                sp.number(f.daily_pe_minutes),
                sp.rate(f.art_course_rate, chinese),
                sp.rate(f.safety_education_rate, chinese),
                sp.number(f.psych_teachers),
                _money(sp, f.funding_per_pupil),
                _money(sp, f.funding_standard),
            ]
    else:
        rows = ds.county_stats if kind == "county_stats" else ds.city_stats
        for stats in rows:
            row: list[Any] = [stats.county] if kind == "county_stats" else []
            row.append(sp.number(stats.year))
            for name, _ in PACK_COLUMNS[kind][len(row) :]:
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


def _money(sp: _Speller, value: Fraction | None) -> str | float | None:
    """An amount in 元 to the fen: a number in a workbook, "799.99" in a CSV."""
    return sp.amount(None if value is None else float(value) if sp.xlsx else decimal_text(value))


def write_records(ds: Dataset, out_dir: Path, fmt: str) -> None:
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


def write_yaml(path: Path, document: dict[str, Any], comment: str = "", flow: bool | None = None) -> None:
    """Write `document` as UTF-8 YAML, keys in their order, after `comment` (comment lines, or nothing)."""
    text = yaml.safe_dump(document, allow_unicode=True, sort_keys=False, default_flow_style=flow, width=100)
    path.write_text(comment + text, encoding="utf-8")


def audit_document(ds: Dataset, scale: str) -> dict[str, Any]:
    """The content of audit.yaml: the core pack alone, or all five with the case's param overrides."""
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
        "其余目标均为规划原值。"
    )
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
    city = {
        rule: {"2022": plan.y2022 or "skipped", "2025": plan.y2025 or "skipped", "how": plan.how}
        for rule, plan in CITY_PLAN.items()
    }
    return {
        "as_of": ds.as_of,
        "target_year": year,
        "params": params_override(year),
        "skipped": list(SKIPPED_2022) if year == 2022 else [],
        "city_rules": city,
        "rules": rules,
    }


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
