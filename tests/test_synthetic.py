"""Tests of the synthetic audit-folder generator (tests/synthetic), not of the engine.

The files are read back here with a small reader of their own, so that the tests check what is on disk
against the documented data contract rather than against the generator's own tables.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections import defaultdict
from dataclasses import astuple
from datetime import date, datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import yaml

from synthetic import city as synthetic
from synthetic.model import Dataset

# the generators write whole cases (seconds each): left out of make test-fast
pytestmark = pytest.mark.slow

AS_OF = date(2025, 12, 1)
CASE_DIR = Path(__file__).resolve().parents[1] / "cases" / "liuzhou-2025"
CASE_2022 = CASE_DIR.parent / "liuzhou-2022"
RULE_IDS = [
    "class-size.super-large",
    "class-size.large",
    "class-size.kindergarten",
    "kindergarten.unlicensed",
    "kindergarten.license-expired",
    "kindergarten.license-shared",
    "teachers.new-pe-art-share",
    "safety.closed-management",
    "safety.guards",
    "safety.alarm-linked",
    "safety.video-linked",
    "safety.escort-post",
    "safety.record-missing",
    "data.school-without-classes",
    "data.enrolment-mismatch",
    "data.unused-stats-years",
    "data.unused-city-stats-years",
]
# The data-quality rules the case does not fail (its schools' rows agree with their classes): shown both ways
# by rules/core/cases/data-quality.
NOT_PLANTED = {"data.school-without-classes", "data.enrolment-mismatch"}
# The documented headers (English | Chinese); 班主任 / head_teacher is the extra column of classes. At case
# scale the files also carry what the plan, quality-balance, preschool and safety packs read (PACK_HEADERS).
HEADERS = {
    "schools": (
        "school_id name county township type ownership license_no license_valid_until",
        "学校代码 学校名称 区县 乡镇 办学类型 办学性质 办园许可证号 许可证有效期至",
    ),
    "classes": ("class_id school_id grade size head_teacher", "班级代码 学校代码 年级 班额 班主任"),
    "teachers": (
        "teacher_id school_id subject hire_year full_time has_certificate degree",
        "教师编号 学校代码 任教学科 入职年份 是否专任教师 是否持有教师资格证 最高学历",
    ),
    "safety": (
        "school_id closed_management full_time_guards one_key_alarm video_linked_police escort_post",
        "学校代码 封闭化管理 专职保安人数 一键报警联网 视频监控联网 护学岗",
    ),
}
PACK_HEADERS = {
    "schools": (
        (
            "urban_rural inclusive township_center demo_level star_level health_promoting boarding enrolment "
            "health_vice_principal subject_bases demo_year labour_course unified_textbooks new_curriculum"
        ),
        (
            "城乡类型 是否普惠 是否乡镇中心园 示范园级别 星级特色高中 健康促进学校 寄宿制 在校生数 配备卫生健康副校长 市级以上学科基地数 "
            "示范认定年份 开设劳动教育课程 使用统编思政语文历史教材 实施普通高中新课程新教材"
        ),
    ),
    "classes": ("", ""),
    "teachers": (
        "title backbone_level dual_qualified preschool_major training_hours_5y rotated_this_year is_principal",
        "职称 骨干教师级别 是否双师型 是否学前教育专业 五年培训学时 本年度交流轮岗 是否园长或校长",
    ),
    "safety": ("anti_ramming video_retention_days", "校门防冲撞设施 视频存储天数"),
    "facilities": (
        (
            "school_id teaching_area sports_area equipment_value multimedia_rooms music_rooms music_room_area "
            "art_rooms art_room_area counseling_room doctors daily_pe_minutes art_course_rate safety_education_rate "
            "psych_teachers funding_per_pupil funding_standard"
        ),
        (
            "学校代码 教学及辅助用房面积 体育运动场馆面积 教学仪器设备值 网络多媒体教室数 音乐专用教室数 音乐专用教室最小面积 "
            "美术专用教室数 美术专用教室最小面积 心理辅导室 校医人数 每日体育活动分钟数 艺术课开课率 安全教育普及率 "
            "专兼职心理健康教师数 生均财政拨款 执行的生均拨款标准"
        ),
    ),
}
ZH_TO_EN = {
    zh: en
    for table in (HEADERS, PACK_HEADERS)
    for en_line, zh_line in table.values()
    for en, zh in zip(en_line.split(), zh_line.split())
}
LEVELS = {"无": "none", "县级": "county", "市级": "city", "自治区级": "region", "国家级": "national"}
TITLES = {"正高级": "professor", "副高级": "associate", "中级": "intermediate", "初级": "assistant", "未定级": "none"}
URBAN = {"城区": "urban", "镇区": "town", "乡村": "rural"}
CASE_FILES = [
    "audit.yaml",
    "city_stats.csv",
    "classes.csv",
    "expected.yaml",
    "facilities.xlsx",
    "planted.yaml",
    "safety.xlsx",
    "schools.xlsx",
    "teachers.csv",
    "区县统计.csv",
]


def header(kind: str, chinese: bool, extended: bool = True) -> list[str]:
    words = HEADERS[kind][1 if chinese else 0].split()
    return words + (PACK_HEADERS[kind][1 if chinese else 0].split() if extended else [])


TYPES = {
    "幼儿园": "kindergarten",
    "小学": "primary",
    "初级中学": "junior",
    "九年一贯制学校": "nine_year",
    "完全中学": "complete_secondary",
    "高级中学": "senior",
    "十二年一贯制学校": "twelve_year",
    "中等职业学校": "vocational",
    "特殊教育学校": "special",
}
OWNERSHIP = {"公办": "public", "民办": "private"}
TRUE, FALSE = {"true", "1", "yes", "是", "y"}, {"false", "0", "no", "否", "n"}
KG_STANDARD = {"小班": 25, "中班": 30, "大班": 35, "混合班": 30}
PE_ART = {"体育", "体育与健康", "音乐", "美术", "艺术"}


# --- A reader of audit folders, independent of the generator --------------------------------------------


def raw_rows(folder: Path, kind: str) -> tuple[list[str], list[list[Any]]]:
    """Header and rows of one kind, from its .csv or the first sheet of its .xlsx."""
    path = folder / f"{kind}.csv"
    if path.exists():
        with path.open(encoding="utf-8-sig", newline="") as f:
            rows = list(csv.reader(f))
        return rows[0], rows[1:]
    book = openpyxl.load_workbook(folder / f"{kind}.xlsx", read_only=True)
    rows = [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]
    width = len(rows[0])
    return [str(h) for h in rows[0]], [r + [None] * (width - len(r)) for r in rows[1:]]


def records(folder: Path, kind: str) -> list[dict[str, Any]]:
    header, rows = raw_rows(folder, kind)
    keys = [ZH_TO_EN.get(h, h) for h in header]
    return [dict(zip(keys, row)) for row in rows]


def blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def to_bool(value: Any) -> bool | None:
    if blank(value):
        return None
    text = str(value).strip().lower()
    if text in TRUE or text in FALSE:
        return text in TRUE
    raise ValueError(f"not a boolean: {value!r}")


def to_date(value: Any) -> date | None:
    if blank(value):
        return None
    if isinstance(value, datetime):
        return value.date()
    match = re.fullmatch(r"(\d{4})[-/年](\d{1,2})[-/月](\d{1,2})日?", str(value).strip())
    if not match:
        raise ValueError(f"not a date: {value!r}")
    return date(*map(int, match.groups()))


def to_int(value: Any) -> int | None:
    return None if blank(value) else int(value)


def to_code(value: Any, words: dict[str, str]) -> str | None:
    return None if blank(value) else words.get(value, value)


def load(folder: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the folder as canonical tuples, in the field order of the generator's rows."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    out["schools"] = [
        (
            r["school_id"],
            r["name"],
            r["county"],
            r["township"],
            TYPES.get(r["type"], r["type"]),
            OWNERSHIP.get(r["ownership"], r["ownership"]),
            r["license_no"] or "",
            to_date(r["license_valid_until"]),
            to_code(r.get("urban_rural"), URBAN),
            to_bool(r.get("inclusive")),
            to_bool(r.get("township_center")),
            to_code(r.get("demo_level"), LEVELS),
            to_int(r.get("star_level")),
            to_bool(r.get("health_promoting")),
            to_bool(r.get("boarding")),
            to_int(r.get("enrolment")),
            to_bool(r.get("health_vice_principal")),
            to_int(r.get("subject_bases")),
            to_int(r.get("demo_year")),
            to_bool(r.get("labour_course")),
            to_bool(r.get("unified_textbooks")),
            to_bool(r.get("new_curriculum")),
        )
        for r in records(folder, "schools")
    ]
    out["classes"] = [
        (r["class_id"], r["school_id"], r["grade"], int(r["size"]), r["head_teacher"])
        for r in records(folder, "classes")
    ]
    out["teachers"] = [
        (
            r["teacher_id"],
            r["school_id"],
            r["subject"],
            int(r["hire_year"]),
            to_bool(r["full_time"]),
            to_bool(r["has_certificate"]),
            r["degree"],
            to_code(r.get("title"), TITLES),
            to_code(r.get("backbone_level"), LEVELS),
            to_bool(r.get("dual_qualified")),
            to_bool(r.get("preschool_major")),
            to_int(r.get("training_hours_5y")),
            to_bool(r.get("rotated_this_year")),
            to_bool(r.get("is_principal")),
        )
        for r in records(folder, "teachers")
    ]
    out["safety"] = [
        (
            r["school_id"],
            to_bool(r["closed_management"]),
            to_int(r["full_time_guards"]),
            to_bool(r["one_key_alarm"]),
            to_bool(r["video_linked_police"]),
            to_bool(r["escort_post"]),
            to_bool(r.get("anti_ramming")),
            to_int(r.get("video_retention_days")),
        )
        for r in records(folder, "safety")
    ]
    return out


def expected_sets(folder: Path) -> dict[str, tuple[set[str], set[str]]]:
    doc = yaml.safe_load((folder / "expected.yaml").read_text(encoding="utf-8"))
    return {rule: (set(e.get("fail", [])), set(e.get("not_evaluated", []))) for rule, e in doc["rules"].items()}


def outcome(sets: dict[str, tuple[set[str], set[str]]], rule: str, entity: str) -> str:
    fail, not_evaluated = sets[rule]
    return "fail" if entity in fail else "not_evaluated" if entity in not_evaluated else "pass"


# --- Fixtures ----------------------------------------------------------------------------------------------


# session-scoped: under xdist a worker interleaves modules, and module fixtures would be made again
@pytest.fixture(scope="session")
def case_ds() -> Dataset:
    """The case's rows (`--scale case`, default seed), built once (about 0.65 s of CPU): `case_dir` and
    `csv_dir` are written from them, as `generate` writes them; read them, do not change them."""
    return synthetic.build_dataset("case", 2025, AS_OF)


@pytest.fixture(scope="session")
def case_dir(tmp_path_factory: pytest.TempPathFactory, case_ds: Dataset) -> Path:
    folder = tmp_path_factory.mktemp("case")
    synthetic.write_folder(case_ds, folder, "mixed")
    return folder


@pytest.fixture(scope="session")
def csv_dir(tmp_path_factory: pytest.TempPathFactory, case_ds: Dataset) -> Path:
    folder = tmp_path_factory.mktemp("csv")
    synthetic.write_folder(case_ds, folder, "csv")
    return folder


@pytest.fixture(scope="session")
def case_rows(case_dir: Path) -> dict[str, list[tuple[Any, ...]]]:
    return load(case_dir)


@pytest.fixture(scope="session")
def case_sets(case_dir: Path) -> dict[str, tuple[set[str], set[str]]]:
    return expected_sets(case_dir)


@pytest.fixture(scope="session")
def school_type(case_rows: dict[str, list[tuple[Any, ...]]]) -> dict[str, str]:
    return {s[0]: s[4] for s in case_rows["schools"]}


# --- Tests ---------------------------------------------------------------------------------------------------


class TestDeterminism:
    def test_same_seed_gives_identical_csv_and_yaml(self, csv_dir: Path, tmp_path: Path) -> None:
        """Two runs with the same arguments write byte-identical CSV and YAML files (`csv_dir` is written
        from rows built apart from these), and `generate` returns the document it wrote to expected.yaml.
        (The mixed format's stability is that of the committed case:
        `test_committed_case_is_what_the_generator_writes`.)"""
        doc = synthetic.generate(tmp_path, scale="case", fmt="csv")
        assert doc == yaml.safe_load((tmp_path / "expected.yaml").read_text(encoding="utf-8"))
        names = sorted(p.name for p in tmp_path.iterdir())
        assert names == [
            "audit.yaml",
            "city_stats.csv",
            "classes.csv",
            "county_stats.csv",
            "expected.yaml",
            "facilities.csv",
            "planted.yaml",
            "safety.csv",
            "schools.csv",
            "teachers.csv",
        ]
        assert sorted(p.name for p in csv_dir.iterdir()) == names
        for name in names:
            assert (csv_dir / name).read_bytes() == (tmp_path / name).read_bytes(), name

    def test_another_seed_gives_other_rows(self, case_dir: Path, tmp_path: Path) -> None:
        """The seed matters."""
        synthetic.generate(tmp_path, scale="case", seed=2024)
        assert (case_dir / "classes.csv").read_bytes() != (tmp_path / "classes.csv").read_bytes()


class TestLayout:
    def test_mixed_folder_holds_the_documented_files(self, case_dir: Path) -> None:
        """The mixed format writes schools, safety and facilities as xlsx, the rest as csv (区县统计 by its Chinese name)."""
        assert sorted(p.name for p in case_dir.iterdir()) == CASE_FILES

    @pytest.mark.parametrize(
        ("kind", "chinese"),
        [("schools", True), ("classes", True), ("teachers", False), ("safety", True), ("facilities", True)],
    )
    def test_mixed_headers(self, case_dir: Path, kind: str, chinese: bool) -> None:
        """Each mixed file has the documented header, Chinese or English as documented, the packs' columns last."""
        if kind == "facilities":
            assert raw_rows(case_dir, kind)[0] == PACK_HEADERS[kind][1].split()
        else:
            assert raw_rows(case_dir, kind)[0] == header(kind, chinese)

    @pytest.mark.parametrize("kind", list(HEADERS))
    def test_csv_headers(self, csv_dir: Path, kind: str) -> None:
        """The csv format uses the English headers everywhere."""
        assert raw_rows(csv_dir, kind)[0] == header(kind, False)

    def test_core_only_folders_keep_the_core_columns(self, tmp_path: Path) -> None:
        """--packs core (the default above case scale) writes the four core files with their columns only."""
        synthetic.generate(tmp_path, scale="case", fmt="csv", extended=False)
        assert sorted(p.name for p in tmp_path.iterdir()) == [
            "audit.yaml",
            "classes.csv",
            "expected.yaml",
            "safety.csv",
            "schools.csv",
            "teachers.csv",
        ]
        for kind in HEADERS:
            assert raw_rows(tmp_path, kind)[0] == header(kind, False, extended=False)
        assert yaml.safe_load((tmp_path / "audit.yaml").read_text(encoding="utf-8"))["packs"] == ["core"]

    def test_only_classes_carries_a_bom(self, case_dir: Path) -> None:
        """classes.csv starts with a UTF-8 BOM, teachers.csv does not."""
        assert (case_dir / "classes.csv").read_bytes().startswith(b"\xef\xbb\xbf")
        assert not (case_dir / "teachers.csv").read_bytes().startswith(b"\xef\xbb\xbf")

    @pytest.mark.parametrize("kind", ["schools", "safety"])
    def test_sheets_are_named_like_the_kind(self, case_dir: Path, kind: str) -> None:
        """The data sits on the first sheet, named like the kind."""
        assert openpyxl.load_workbook(case_dir / f"{kind}.xlsx", read_only=True).sheetnames == [kind]

    def test_audit_yaml(self, case_dir: Path) -> None:
        """audit.yaml names the audit in Chinese, with its date, region and packs."""
        audit = yaml.safe_load((case_dir / "audit.yaml").read_text(encoding="utf-8"))
        assert audit["as_of"] == AS_OF and audit["region"] == "柳州市"
        assert audit["packs"] == ["core", "plan", "quality-balance", "preschool", "safety"]
        assert audit["params"] == {"demo_kg_min": 38, "professors_min": 50, "professors_baseline": 5}  # an eighth
        assert "target_year" not in audit  # the milestone follows from as_of
        assert re.search(r"[\u4e00-\u9fff]", audit["name"])

    def test_mixed_spellings_are_exercised(self, case_dir: Path) -> None:
        """Booleans, dates and enumerations come in every accepted spelling."""
        _, teachers = raw_rows(case_dir, "teachers")
        bools = {row[5] for row in teachers} | {row[4] for row in teachers}
        assert {"是", "否", "Y", "N", "1", "0", "true", "false", "yes", "no", ""} <= bools
        _, schools = raw_rows(case_dir, "schools")
        dates = [row[7] for row in schools if row[7] is not None]
        assert any(isinstance(d, datetime) for d in dates)
        for pattern in (r"\d{4}-\d{2}-\d{2}", r"\d{4}/\d{2}/\d{2}", r"\d{4}年\d{1,2}月\d{1,2}日"):
            assert any(isinstance(d, str) and re.fullmatch(pattern, d) for d in dates), pattern
        for column, words in ((4, TYPES), (5, OWNERSHIP)):
            cells = {row[column] for row in schools}
            assert cells & set(words) and cells & set(words.values()), column
        _, safety = raw_rows(case_dir, "safety")
        assert 1 in {cell for row in safety for cell in row[1:] if not isinstance(cell, str)}

    def test_ids_are_unique_and_well_formed(self, case_rows: dict[str, list[tuple[Any, ...]]]) -> None:
        """School ids are 10 digits from 4502, class ids <school_id>-<nnn>, teacher ids T<digits>."""
        schools = [r[0] for r in case_rows["schools"]]
        assert len(set(schools)) == len(schools) and all(re.fullmatch(r"4502\d{6}", s) for s in schools)
        classes = case_rows["classes"]
        assert len({c[0] for c in classes}) == len(classes)
        assert all(re.fullmatch(rf"{c[1]}-\d{{3}}", c[0]) for c in classes)
        teachers = [t[0] for t in case_rows["teachers"]]
        assert len(set(teachers)) == len(teachers) and all(re.fullmatch(r"T\d+", t) for t in teachers)
        known = set(schools)
        assert all(c[1] in known for c in classes) and all(t[1] in known for t in case_rows["teachers"])


class TestRoundTrip:
    def test_files_read_back_to_the_generated_rows(
        self, case_rows: dict[str, list[tuple[Any, ...]]], case_ds: Dataset
    ) -> None:
        """Whatever the spelling, every cell on disk means what the generator's row says."""
        ds = case_ds
        assert case_rows["schools"] == [astuple(s) for s in ds.schools]
        assert case_rows["classes"] == [astuple(c) for c in ds.classes]
        assert case_rows["teachers"] == [astuple(t) for t in ds.teachers]
        assert case_rows["safety"] == [astuple(ds.safety[k]) for k in sorted(ds.safety)]


def _fraction(value: Any) -> Fraction | None:
    """A rate or amount as written: "95%" → 19/20, "0.95" → 19/20, 0.95 (a workbook number) → 19/20."""
    if blank(value):
        return None
    text = str(value).strip()
    if text.endswith("%"):
        return Fraction(text[:-1]) / 100
    return Fraction(text) if isinstance(value, str) else Fraction(str(value))


class TestPackKinds:
    """facilities, 区县统计 and city_stats read back to the generated rows."""

    def test_facilities(self, case_dir: Path, case_ds: Dataset) -> None:
        """Every facilities cell means what the generator's row says (rates as workbook numbers)."""
        ds = case_ds
        rows = {r["school_id"]: r for r in records(case_dir, "facilities")}
        assert (
            set(rows) == set(ds.facilities) and len(rows) == len(ds.schools) - 2
        )  # a kindergarten and a special school
        for school_id, f in ds.facilities.items():
            r = rows[school_id]
            assert _fraction(r["teaching_area"]) == _fraction(f.teaching_area)
            assert (
                to_int(r["multimedia_rooms"]) == f.multimedia_rooms
                and to_bool(r["counseling_room"]) == f.counseling_room
            )
            assert _fraction(r["music_room_area"]) == (
                None if f.music_room_area is None else _fraction(f.music_room_area)
            )
            assert _fraction(r["safety_education_rate"]) == f.safety_education_rate
            assert to_int(r["psych_teachers"]) == f.psych_teachers
            for column in ("funding_per_pupil", "funding_standard"):  # to the fen, whatever the cell's form
                assert _fraction(r[column]) == getattr(f, column), (school_id, column)

    def test_statistics(self, case_dir: Path, case_ds: Dataset) -> None:
        """区县统计.csv (Chinese headers, rates as percents) and city_stats.csv (English, fractions): two years each,
        and a 2019 row the audit does not use for the last county (and, in 2025, for the city)."""
        ds = case_ds
        with (case_dir / "区县统计.csv").open(encoding="utf-8-sig", newline="") as f:
            counties = list(csv.DictReader(f))
        with (case_dir / "city_stats.csv").open(encoding="utf-8", newline="") as f:
            city = list(csv.DictReader(f))
        last = ds.counties[-1].name
        assert {(r["区县"], int(r["年份"])) for r in counties} == {
            (c.name, y) for c in ds.counties for y in (2024, 2025)
        } | {(last, 2019)}
        assert [int(r["year"]) for r in city] == [2025, 2024, 2019]
        assert all(r["学前三年毛入园率"].endswith("%") for r in counties if r["学前三年毛入园率"])
        for row, stats in zip(counties, ds.county_stats, strict=True):
            assert _fraction(row["学前三年毛入园率"]) == stats.values["preschool_gross_enrolment"]
            assert to_bool(row["通过学前教育普及普惠督导评估"]) == stats.values["preschool_assessment_passed"]
            assert _fraction(row["地区生产总值"]) == stats.values["gdp"]
        for row, stats in zip(city, ds.city_stats, strict=True):
            assert _fraction(row["fiscal_edu_funds"]) / _fraction(row["gdp"]) == (
                Fraction(stats.values["fiscal_edu_funds"], stats.values["gdp"])
            )
            assert _fraction(row["compulsory_retention"]) == stats.values["compulsory_retention"]
        # GDP in 万元 is consistent: the counties' sum is below the city's (new districts report to the city)
        for year in (2024, 2025):
            counties_gdp = sum(int(r["地区生产总值"]) for r in counties if int(r["年份"]) == year)
            city_gdp = next(int(r["gdp"]) for r in city if int(r["year"]) == year)
            assert 0.85 * city_gdp < counties_gdp < city_gdp

    def test_planted_file_lists_every_rule_of_the_other_packs(self, case_dir: Path) -> None:
        """planted.yaml plants a fail and a pass for every rule of the four packs but the city's (as CITY_PLAN says)."""
        doc = yaml.safe_load((case_dir / "planted.yaml").read_text(encoding="utf-8"))
        from inspector.rules.packs import load_packs

        rule_ids = {
            rule.id for pack in load_packs(["plan", "quality-balance", "preschool", "safety"]) for rule, _ in pack.rules
        }
        rule_ids |= {"data.unused-stats-years", "data.unused-city-stats-years"}  # the core pack's, on the statistics
        assert set(doc["rules"]) == rule_ids
        city = {rule for rule, entry in doc["rules"].items() if entry["fail"] + entry["pass"] == ["柳州市"]}
        assert city == set(doc["city_rules"])
        one_way = {rule for rule in rule_ids - city if not (doc["rules"][rule]["fail"] and doc["rules"][rule]["pass"])}
        assert one_way == {"preschool.class-size-rate"}  # its failing county (crowded classes) is the 2022 case's


class TestExpectedFile:
    def test_lists_every_rule_with_consistent_counts(self, case_dir: Path) -> None:
        """All 17 rules appear in order; count is the length of the sorted fail list."""
        text = (case_dir / "expected.yaml").read_text(encoding="utf-8")
        assert text.startswith("# Expected findings of the core rule pack")
        doc = yaml.safe_load(text)
        assert doc["as_of"] == AS_OF and doc["scale"] == "case"
        assert list(doc["rules"]) == RULE_IDS
        for entry in doc["rules"].values():
            assert entry["count"] == len(entry["fail"]) and entry["fail"] == sorted(entry["fail"])
            assert "not_evaluated" not in entry or entry["not_evaluated"] == sorted(entry["not_evaluated"]) != []

    def test_no_sets_keeps_counts_only(self, tmp_path: Path, case_ds: Dataset, case_dir: Path) -> None:
        """Without sets the fail lists go, the counts stay the same: the case's rows (those `case_dir` was
        written from, so only the sets differ) written again without sets, as `generate(..., with_sets=False)`
        writes them; expected.yaml and the returned document alike."""
        doc = synthetic.write_folder(case_ds, tmp_path, "mixed", with_sets=False)
        assert doc == yaml.safe_load((tmp_path / "expected.yaml").read_text(encoding="utf-8"))
        full = yaml.safe_load((case_dir / "expected.yaml").read_text(encoding="utf-8"))
        assert list(doc["rules"]) == list(full["rules"])
        for rule, entry in doc["rules"].items():
            assert "fail" not in entry and entry["count"] == full["rules"][rule]["count"]

    def test_every_rule_fires_somewhere(self, case_sets: dict[str, tuple[set[str], set[str]]]) -> None:
        """The case plants at least one failure for every rule but the data rules of NOT_PLANTED."""
        assert all(fail for rule, (fail, _) in case_sets.items() if rule not in NOT_PLANTED)
        assert not any(case_sets[rule][0] for rule in NOT_PLANTED)

    def test_rejects_unknown_scale(self, tmp_path: Path) -> None:
        """An unknown scale is an error, not an empty folder."""
        with pytest.raises(ValueError, match="scale"):
            synthetic.generate(tmp_path, scale="village")


class TestPlantedCases:
    """Boundary cases, found in the files on disk, sit in the right expected sets."""

    def test_numbered_class_boundaries(self, case_rows: Any, case_sets: Any, school_type: dict[str, str]) -> None:
        """55 passes, 56 and 65 are large, 66 and above 70 super-large, in every school type but vocational."""
        seen: set[int] = set()
        for class_id, school_id, grade, size, _ in case_rows["classes"]:
            if not grade.isdigit() or school_type[school_id] == "vocational":
                continue
            seen.add(size)
            assert outcome(case_sets, "class-size.large", class_id) == ("fail" if 56 <= size <= 65 else "pass")
            assert outcome(case_sets, "class-size.super-large", class_id) == ("fail" if size >= 66 else "pass")
        assert {55, 56, 65, 66} <= seen and len([s for s in seen if s > 70]) >= 2

    def test_vocational_and_special_classes(self, case_rows: Any, case_sets: Any, school_type: dict[str, str]) -> None:
        """Vocational classes of 56 and 70 raise nothing; a special-school class of 58 is large."""
        sizes = defaultdict(set)
        for class_id, school_id, _, size, _ in case_rows["classes"]:
            sizes[school_type[school_id]].add(size)
            if school_type[school_id] == "vocational":
                assert outcome(case_sets, "class-size.large", class_id) == "pass"
                assert outcome(case_sets, "class-size.super-large", class_id) == "pass"
            if school_type[school_id] == "special" and size == 58:
                assert outcome(case_sets, "class-size.large", class_id) == "fail"
        assert {56, 70} <= sizes["vocational"] and 58 in sizes["special"]

    def test_kindergarten_classes(self, case_rows: Any, case_sets: Any, school_type: dict[str, str]) -> None:
        """Each grade's standard passes, one more fails; a class of 70 fires only the kindergarten rule."""
        seen = set()
        for class_id, school_id, grade, size, _ in case_rows["classes"]:
            if school_type[school_id] != "kindergarten":
                continue
            seen.add((grade, size))
            assert outcome(case_sets, "class-size.kindergarten", class_id) == (
                "fail" if size > KG_STANDARD[grade] else "pass"
            )
            assert outcome(case_sets, "class-size.large", class_id) == "pass"
            assert outcome(case_sets, "class-size.super-large", class_id) == "pass"
        assert {(g, s) for g, s in KG_STANDARD.items()} <= seen
        assert {(g, s + 1) for g, s in KG_STANDARD.items()} <= seen and any(s == 70 for _, s in seen)

    def test_licences(self, case_rows: Any, case_sets: Any) -> None:
        """Unlicensed, expired the day before, valid through as_of, undated and shared licences."""
        kindergartens = [s for s in case_rows["schools"] if s[4] == "kindergarten"]
        unlicensed = {s[0] for s in kindergartens if not s[6].strip()}
        assert len(unlicensed) >= 3 and unlicensed == case_sets["kindergarten.unlicensed"][0]
        assert {s[5] for s in kindergartens if s[0] in unlicensed} == {"public", "private"}
        by_date = defaultdict(set)
        for s in kindergartens:
            if s[6].strip():
                by_date[s[7]].add(s[0])
        assert by_date[AS_OF - timedelta(days=1)] <= case_sets["kindergarten.license-expired"][0]
        assert by_date[AS_OF - timedelta(days=1)] and by_date[AS_OF]
        assert not by_date[AS_OF] & case_sets["kindergarten.license-expired"][0]
        assert by_date[None] and by_date[None] == case_sets["kindergarten.license-expired"][1]
        groups = defaultdict(list)
        for s in kindergartens:
            key = "".join(c for c in unicodedata.normalize("NFKC", s[6]) if not c.isspace()).upper()
            if key:
                groups[key].append(s)
        shared = [g for g in groups.values() if len(g) > 1]
        assert sorted(len(g) for g in shared) == [2, 3]
        assert all(len({s[6] for s in g}) == len(g) for g in shared)  # each holder writes it differently
        assert {s[0] for g in shared for s in g} == case_sets["kindergarten.license-shared"][0]

    def test_new_teacher_shares(self, case_rows: Any, case_sets: Any) -> None:
        """Counties at exactly 15 %, just below, and without compulsory hires; part-time and senior PE traps."""
        school = {s[0]: s for s in case_rows["schools"]}
        counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        part_time_pe = senior_pe = 0
        for _, school_id, subject, year, full_time, *_ in case_rows["teachers"]:
            county, kind = school[school_id][2], school[school_id][4]
            if year != AS_OF.year:
                continue
            if kind in ("primary", "junior", "nine_year") and full_time is True:
                counts[county][0] += subject in PE_ART
                counts[county][1] += 1
            part_time_pe += kind in ("primary", "junior", "nine_year") and full_time is False and subject in PE_ART
            senior_pe += kind in ("senior", "complete_secondary", "twelve_year") and subject in PE_ART
        fail = case_sets["teachers.new-pe-art-share"][0]
        assert fail == {c for c, (pe, n) in counts.items() if 100 * pe < 15 * n}
        assert any(100 * pe == 15 * n and c not in fail for c, (pe, n) in counts.items())
        assert any(0.10 <= pe / n < 0.15 and c in fail for c, (pe, n) in counts.items())
        silent = {s[2] for s in case_rows["schools"]} - set(counts)
        assert silent and not silent & (fail | case_sets["teachers.new-pe-art-share"][1])
        assert part_time_pe >= 2 and senior_pe >= 2
        assert sum(pe / n >= 0.18 for pe, n in counts.values()) >= 5

    def test_safety(self, case_rows: Any, case_sets: Any, school_type: dict[str, str]) -> None:
        """Zero guards fail, one passes, blanks are not evaluated, vocational schools are out of scope."""
        rows = {r[0]: r for r in case_rows["safety"]}
        guards = {r[0]: r[2] for r in case_rows["safety"]}
        assert any(g == 0 for g in guards.values()) and any(g == 1 for g in guards.values())
        for school_id, g in guards.items():
            if school_type[school_id] != "vocational":
                want = "not_evaluated" if g is None else "fail" if g < 1 else "pass"
                assert outcome(case_sets, "safety.guards", school_id) == want
        items = (
            "safety.closed-management",
            "safety.guards",
            "safety.alarm-linked",
            "safety.video-linked",
            "safety.escort-post",
        )
        blanks = [(rule, r[0]) for r in case_rows["safety"] for rule, value in zip(items, r[1:]) if value is None]
        assert blanks and all(outcome(case_sets, rule, school_id) == "not_evaluated" for rule, school_id in blanks)
        missing = {s for s, kind in school_type.items() if s not in rows and kind != "vocational"}
        assert missing and missing == case_sets["safety.record-missing"][0]
        assert any(s not in rows and kind == "vocational" for s, kind in school_type.items())
        assert any(school_type[r[0]] != "vocational" and sum(v is False for v in r[1:]) >= 3 for r in rows.values())
        for rule in ("safety.closed-management", "safety.alarm-linked", "safety.video-linked", "safety.escort-post"):
            assert len(case_sets[rule][0]) >= 3


class TestScales:
    def test_case_sizes(self, case_rows: dict[str, list[tuple[Any, ...]]], case_ds: Dataset) -> None:
        """The case scale has 320 schools, 4,800 classes and 9,100 teachers, and the classes and teachers that
        schools grew by: two 高级中学 to 3000 and 3001 pupils (plan.senior-school-size), and the 一贯制 schools
        that full classes alone could not bring to their size limit (balance.school-size, with "新增" in the note)."""
        ds = case_ds
        grown = {p.entity for p in ds.pack_plants if p.rule == "plan.senior-school-size"}
        grown |= {p.entity for p in ds.pack_plants if p.rule == "balance.school-size" and "新增" in p.note}
        core = synthetic.build_dataset("case", 2025, AS_OF, extended=False)
        added = {c.class_id for c in ds.classes} - {c.class_id for c in core.classes}
        assert len(core.schools) == 320 and len(core.classes) == 4_800 and len(core.teachers) == 9_100
        assert added and {c.rsplit("-", 1)[0] for c in added} == grown
        assert [len(case_rows[k]) for k in ("schools", "classes")] == [320, 4_800 + len(added)]
        assert 9_100 < len(case_rows["teachers"]) < 9_100 + 3 * len(added)
        assert 280 < len(case_rows["safety"]) < 320

    def test_type_mix(self, case_rows: dict[str, list[tuple[Any, ...]]]) -> None:
        """Roughly 35 % kindergartens and 40 % primary schools; every type present."""
        kinds = [s[4] for s in case_rows["schools"]]
        assert set(kinds) == set(TYPES.values())
        assert 0.3 < kinds.count("kindergarten") / len(kinds) < 0.4
        assert 0.35 < kinds.count("primary") / len(kinds) < 0.45

    @pytest.mark.slow
    def test_city_sizes(self, tmp_path: Path) -> None:
        """The city scale has exactly 1,500 schools, 25,000 classes and 50,000 teachers, ids unique."""
        doc = synthetic.generate(tmp_path, scale="city", fmt="csv", with_sets=False)
        sizes = {kind: raw_rows(tmp_path, kind)[1] for kind in HEADERS}
        assert [len(sizes[k]) for k in ("schools", "classes", "teachers")] == [1_500, 25_000, 50_000]
        for kind in ("schools", "classes", "teachers"):
            assert len({row[0] for row in sizes[kind]}) == len(sizes[kind])
        assert 1_400 < len(sizes["safety"]) < 1_500
        case = yaml.safe_load((CASE_DIR / "expected.yaml").read_text(encoding="utf-8")) if CASE_DIR.exists() else None
        for rule, entry in doc["rules"].items():
            if rule.startswith("data."):  # data-quality problems are planted in the case's statistics only
                continue  # (rules/core/cases/data-quality shows each rule both ways)
            assert entry["count"] > 0 and (case is None or entry["count"] >= case["rules"][rule]["count"])


@pytest.mark.skipif(not CASE_DIR.exists(), reason="cases/liuzhou-2025 not generated")
def test_committed_case_is_what_the_generator_writes(case_dir: Path) -> None:
    """cases/liuzhou-2025 is the current output of `--scale case --format mixed` with the default seed
    (`case_dir`, generated afresh): the text files byte for byte, the workbooks cell for cell."""
    for name in (
        "audit.yaml",
        "classes.csv",
        "teachers.csv",
        "expected.yaml",
        "planted.yaml",
        "区县统计.csv",
        "city_stats.csv",
    ):
        assert (CASE_DIR / name).read_bytes() == (case_dir / name).read_bytes(), name
    for kind in ("schools", "safety", "facilities"):
        assert raw_rows(CASE_DIR, kind) == raw_rows(case_dir, kind), kind


@pytest.mark.skipif(not CASE_2022.exists(), reason="cases/liuzhou-2022 not generated")
def test_committed_2022_case_is_what_the_generator_writes(tmp_path: Path) -> None:
    """cases/liuzhou-2022 is the current output of `--scale case --as-of 2022-12-01` with the default seed."""
    synthetic.generate(tmp_path / CASE_2022.name, scale="case", as_of=date(2022, 12, 1))
    for name in CASE_FILES:
        if name.endswith(".xlsx"):
            assert raw_rows(CASE_2022, name[:-5]) == raw_rows(tmp_path / CASE_2022.name, name[:-5]), name
        else:
            assert (CASE_2022 / name).read_bytes() == (tmp_path / CASE_2022.name / name).read_bytes(), name
