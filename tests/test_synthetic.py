"""Tests of the synthetic audit-folder generator (inspector.testing.synthetic), not of the engine.

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
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import yaml

from inspector.testing import synthetic

AS_OF = date(2025, 12, 1)
CASE_DIR = Path(__file__).resolve().parents[1] / "cases" / "liuzhou-2025"
RULE_IDS = [
    "class-size.super-large", "class-size.large", "class-size.kindergarten",
    "kindergarten.unlicensed", "kindergarten.license-expired", "kindergarten.license-shared",
    "teachers.new-pe-art-share",
    "safety.closed-management", "safety.guards", "safety.alarm-linked", "safety.video-linked",
    "safety.escort-post", "safety.record-missing",
]
# The documented headers (English | Chinese); 班主任 / head_teacher is the extra column of classes.
HEADERS = {
    "schools": ("school_id name county township type ownership license_no license_valid_until",
                "学校代码 学校名称 区县 乡镇 办学类型 办学性质 办园许可证号 许可证有效期至"),
    "classes": ("class_id school_id grade size head_teacher", "班级代码 学校代码 年级 班额 班主任"),
    "teachers": ("teacher_id school_id subject hire_year full_time has_certificate degree",
                 "教师编号 学校代码 任教学科 入职年份 是否专任教师 是否持有教师资格证 最高学历"),
    "safety": ("school_id closed_management full_time_guards one_key_alarm video_linked_police escort_post",
               "学校代码 封闭化管理 专职保安人数 一键报警联网 视频监控联网 护学岗"),
}
ZH_TO_EN = {zh: en for en_line, zh_line in HEADERS.values() for en, zh in zip(en_line.split(), zh_line.split())}
TYPES = {"幼儿园": "kindergarten", "小学": "primary", "初级中学": "junior", "九年一贯制学校": "nine_year",
         "完全中学": "complete_secondary", "高级中学": "senior", "十二年一贯制学校": "twelve_year",
         "中等职业学校": "vocational", "特殊教育学校": "special"}
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


def load(folder: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the folder as canonical tuples, in the field order of the generator's rows."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    out["schools"] = [(r["school_id"], r["name"], r["county"], r["township"], TYPES.get(r["type"], r["type"]),
                       OWNERSHIP.get(r["ownership"], r["ownership"]), r["license_no"] or "",
                       to_date(r["license_valid_until"])) for r in records(folder, "schools")]
    out["classes"] = [(r["class_id"], r["school_id"], r["grade"], int(r["size"]), r["head_teacher"])
                      for r in records(folder, "classes")]
    out["teachers"] = [(r["teacher_id"], r["school_id"], r["subject"], int(r["hire_year"]), to_bool(r["full_time"]),
                        to_bool(r["has_certificate"]), r["degree"]) for r in records(folder, "teachers")]
    out["safety"] = [(r["school_id"], to_bool(r["closed_management"]), to_int(r["full_time_guards"]),
                      to_bool(r["one_key_alarm"]), to_bool(r["video_linked_police"]), to_bool(r["escort_post"]))
                     for r in records(folder, "safety")]
    return out


def expected_sets(folder: Path) -> dict[str, tuple[set[str], set[str]]]:
    doc = yaml.safe_load((folder / "expected.yaml").read_text(encoding="utf-8"))
    return {rule: (set(e.get("fail", [])), set(e.get("not_evaluated", []))) for rule, e in doc["rules"].items()}


def outcome(sets: dict[str, tuple[set[str], set[str]]], rule: str, entity: str) -> str:
    fail, not_evaluated = sets[rule]
    return "fail" if entity in fail else "not_evaluated" if entity in not_evaluated else "pass"


# --- Fixtures ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def case_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("case")
    synthetic.generate(folder, scale="case")
    return folder


@pytest.fixture(scope="module")
def case_rows(case_dir: Path) -> dict[str, list[tuple[Any, ...]]]:
    return load(case_dir)


@pytest.fixture(scope="module")
def case_sets(case_dir: Path) -> dict[str, tuple[set[str], set[str]]]:
    return expected_sets(case_dir)


@pytest.fixture(scope="module")
def school_type(case_rows: dict[str, list[tuple[Any, ...]]]) -> dict[str, str]:
    return {s[0]: s[4] for s in case_rows["schools"]}


# --- Tests ---------------------------------------------------------------------------------------------------


class TestDeterminism:
    def test_same_seed_gives_identical_csv_and_yaml(self, tmp_path: Path) -> None:
        """Two runs with the same arguments write byte-identical CSV and YAML files."""
        for run in ("a", "b"):
            synthetic.generate(tmp_path / run, scale="case", seed=11, fmt="csv")
        names = sorted(p.name for p in (tmp_path / "a").iterdir())
        assert names == ["audit.yaml", "classes.csv", "expected.yaml", "safety.csv", "schools.csv", "teachers.csv"]
        for name in names:
            assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name

    def test_mixed_format_is_stable_too(self, case_dir: Path, tmp_path: Path) -> None:
        """In the mixed format the text files are byte-identical and the workbooks hold the same cells."""
        synthetic.generate(tmp_path, scale="case")
        for name in ("audit.yaml", "classes.csv", "teachers.csv", "expected.yaml"):
            assert (case_dir / name).read_bytes() == (tmp_path / name).read_bytes(), name
        for kind in ("schools", "safety"):
            assert raw_rows(case_dir, kind) == raw_rows(tmp_path, kind)

    def test_another_seed_gives_other_rows(self, case_dir: Path, tmp_path: Path) -> None:
        """The seed matters."""
        synthetic.generate(tmp_path, scale="case", seed=2026)
        assert (case_dir / "classes.csv").read_bytes() != (tmp_path / "classes.csv").read_bytes()


class TestLayout:
    def test_mixed_folder_holds_the_documented_files(self, case_dir: Path) -> None:
        """The mixed format writes schools and safety as xlsx, classes and teachers as csv."""
        assert sorted(p.name for p in case_dir.iterdir()) == [
            "audit.yaml", "classes.csv", "expected.yaml", "safety.xlsx", "schools.xlsx", "teachers.csv"]

    @pytest.mark.parametrize(("kind", "chinese"), [("schools", True), ("classes", True), ("teachers", False),
                                                   ("safety", True)])
    def test_mixed_headers(self, case_dir: Path, kind: str, chinese: bool) -> None:
        """Each mixed file has the documented header, Chinese or English as documented."""
        assert raw_rows(case_dir, kind)[0] == HEADERS[kind][1 if chinese else 0].split()

    @pytest.mark.parametrize("kind", list(HEADERS))
    def test_csv_headers(self, tmp_path: Path, kind: str) -> None:
        """The csv format uses the English headers everywhere."""
        synthetic.generate(tmp_path, scale="case", fmt="csv")
        assert raw_rows(tmp_path, kind)[0] == HEADERS[kind][0].split()

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
        assert audit["as_of"] == AS_OF and audit["region"] == "柳州市" and audit["packs"] == ["core"]
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
    def test_files_read_back_to_the_generated_rows(self, case_rows: dict[str, list[tuple[Any, ...]]]) -> None:
        """Whatever the spelling, every cell on disk means what the generator's row says."""
        ds = synthetic.build_dataset("case", 2025, AS_OF)
        assert case_rows["schools"] == [astuple(s) for s in ds.schools]
        assert case_rows["classes"] == [astuple(c) for c in ds.classes]
        assert case_rows["teachers"] == [astuple(t) for t in ds.teachers]
        assert case_rows["safety"] == [astuple(ds.safety[k]) for k in sorted(ds.safety)]


class TestExpectedFile:
    def test_lists_every_rule_with_consistent_counts(self, case_dir: Path) -> None:
        """All 13 rules appear in order; count is the length of the sorted fail list."""
        text = (case_dir / "expected.yaml").read_text(encoding="utf-8")
        assert text.startswith("# Expected findings of the core rule pack")
        doc = yaml.safe_load(text)
        assert doc["as_of"] == AS_OF and doc["scale"] == "case"
        assert list(doc["rules"]) == RULE_IDS
        for entry in doc["rules"].values():
            assert entry["count"] == len(entry["fail"]) and entry["fail"] == sorted(entry["fail"])
            assert "not_evaluated" not in entry or entry["not_evaluated"] == sorted(entry["not_evaluated"]) != []

    def test_returns_what_it_wrote(self, tmp_path: Path) -> None:
        """generate() returns the document it wrote to expected.yaml."""
        doc = synthetic.generate(tmp_path, scale="case", fmt="csv")
        assert doc == yaml.safe_load((tmp_path / "expected.yaml").read_text(encoding="utf-8"))

    def test_no_sets_keeps_counts_only(self, tmp_path: Path, case_dir: Path) -> None:
        """Without sets the fail lists go, the counts stay the same."""
        doc = synthetic.generate(tmp_path, scale="case", with_sets=False)
        full = yaml.safe_load((case_dir / "expected.yaml").read_text(encoding="utf-8"))
        for rule, entry in doc["rules"].items():
            assert "fail" not in entry and entry["count"] == full["rules"][rule]["count"]

    def test_every_rule_fires_somewhere(self, case_sets: dict[str, tuple[set[str], set[str]]]) -> None:
        """The case plants at least one failure for every rule."""
        assert all(fail for fail, _ in case_sets.values())

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
                "fail" if size > KG_STANDARD[grade] else "pass")
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
        for _, school_id, subject, year, full_time, _, _ in case_rows["teachers"]:
            county, kind = school[school_id][2], school[school_id][4]
            if year != AS_OF.year:
                continue
            if kind in ("primary", "junior", "nine_year") and full_time is not False:
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
        items = ("safety.closed-management", "safety.guards", "safety.alarm-linked", "safety.video-linked",
                 "safety.escort-post")
        blanks = [(rule, r[0]) for r in case_rows["safety"] for rule, value in zip(items, r[1:]) if value is None]
        assert blanks and all(outcome(case_sets, rule, school_id) == "not_evaluated" for rule, school_id in blanks)
        missing = {s for s, kind in school_type.items() if s not in rows and kind != "vocational"}
        assert missing and missing == case_sets["safety.record-missing"][0]
        assert any(s not in rows and kind == "vocational" for s, kind in school_type.items())
        assert any(school_type[r[0]] != "vocational" and sum(v is False for v in r[1:]) >= 3 for r in rows.values())
        for rule in ("safety.closed-management", "safety.alarm-linked", "safety.video-linked", "safety.escort-post"):
            assert len(case_sets[rule][0]) >= 3


class TestScales:
    def test_case_sizes(self, case_rows: dict[str, list[tuple[Any, ...]]]) -> None:
        """The case scale has 320 schools, 4,800 classes and 9,100 teachers."""
        assert [len(case_rows[k]) for k in ("schools", "classes", "teachers")] == [320, 4_800, 9_100]
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
            assert entry["count"] > 0 and (case is None or entry["count"] >= case["rules"][rule]["count"])


@pytest.mark.skipif(not CASE_DIR.exists(), reason="cases/liuzhou-2025 not generated")
def test_committed_case_is_what_the_generator_writes(tmp_path: Path) -> None:
    """cases/liuzhou-2025 is the current output of `--scale case --format mixed` with the default seed."""
    synthetic.generate(tmp_path, scale="case")
    for name in ("audit.yaml", "classes.csv", "teachers.csv", "expected.yaml"):
        assert (CASE_DIR / name).read_bytes() == (tmp_path / name).read_bytes(), name
    for kind in ("schools", "safety"):
        assert raw_rows(CASE_DIR, kind) == raw_rows(tmp_path, kind), kind
