"""Loading an audit folder: value spellings, headers, files, cross-row checks and audit.yaml."""

from __future__ import annotations

import csv
import datetime as dt
import os
import re
import time
import zipfile
from collections.abc import Callable, Mapping, Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any, TypeVar

import openpyxl
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from budget import examples
from inspector.errors import DataError, Problem
from inspector.limits import Limits
from inspector.records import loader, readers, values
from inspector.records.config import AuditConfig, load_config
from inspector.records.loader import Dataset, RowRef, load_dataset
from inspector.records.readers import _delimiter
from inspector.records.schema import RECORD_KINDS, SCHOOL_TYPES

CONFIG = AuditConfig(name="测试督导", as_of=dt.date(2025, 12, 1), region="柳州市")
SCHOOLS_HEADER = "学校代码,学校名称,区县,乡镇,办学类型,办学性质"
SCHOOLS = SCHOOLS_HEADER + "\nS1,文惠小学,城中区,城中街道,小学,公办\n"
SCHOOL_HEADER_ROW = ["学校代码", "学校名称", "区县", "乡镇", "办学类型", "办学性质", "许可证有效期至"]
CLASSES_HEADER = "班级代码,学校代码,年级,班额"


def write(folder: Path, files: Mapping[str, str | bytes]) -> Path:
    """Write text files as UTF-8 (no BOM) and bytes as given."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        if isinstance(content, bytes):
            (folder / name).write_bytes(content)
        else:
            (folder / name).write_text(content, encoding="utf-8")
    return folder


def load(folder: Path) -> Dataset:
    return load_dataset(folder, CONFIG)


def load_files(tmp_path: Path, files: Mapping[str, str | bytes]) -> Dataset:
    return load(write(tmp_path / "audit", files))


def where(problems: Sequence[Problem]) -> list[tuple[str, int, str, str]]:
    """Each problem as (file, row, field, code)."""
    return [(p.file, p.line, p.field, p.code) for p in problems]


def counts(dataset: Dataset) -> dict[str, tuple[int, int, int]]:
    """(rows read, loaded, rejected) per input table."""
    return {i.source: (i.rows_read, i.rows_loaded, i.rows_rejected) for i in dataset.inputs}


def workbook(path: Path, sheets: Mapping[str, Sequence[Sequence[object]]]) -> Path:
    """An .xlsx with one sheet per item, in order; an empty row list leaves the sheet empty."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(list(row))
    book.save(path)
    return path


def force_float_cells(path: Path, *numbers: str) -> None:
    """Store the given integer number cells as `45.0`: openpyxl then reads them back as floats."""
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    sheet = parts["xl/worksheets/sheet1.xml"].decode()
    for number in numbers:
        sheet, found = re.subn(rf'(t="n"><v>){number}(</v>)', rf"\g<1>{number}.0\g<2>", sheet)
        assert found, number
    parts["xl/worksheets/sheet1.xml"] = sheet.encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)


def teachers_csv(column: str, cells: Sequence[str]) -> str:
    """A teachers table with one row per cell of `column` (teacher T1, T2, … at school S1)."""
    rows = [f"T{i},S1,2020,{cell}" for i, cell in enumerate(cells, start=1)]
    return "\n".join([f"teacher_id,school_id,hire_year,{column}", *rows]) + "\n"


# -- value spellings -------------------------------------------------------------------------------


class TestBooleans:
    TRUE = ("true", "TRUE", "True", "1", "yes", "Yes", "是", "Y", "y", "有", " 是 ", "ｙ")
    FALSE = ("false", "FALSE", "0", "no", "NO", "否", "N", "n", "无")

    @pytest.mark.parametrize("spelling", TRUE)
    def test_true_spellings(self, spelling: str) -> None:
        """Every spelling of yes parses as True."""
        assert values.parse_bool(spelling) is True

    @pytest.mark.parametrize("spelling", FALSE)
    def test_false_spellings(self, spelling: str) -> None:
        """Every spelling of no parses as False."""
        assert values.parse_bool(spelling) is False

    def test_spellings_through_the_loader(self, tmp_path: Path) -> None:
        """A teachers table holding each spelling loads the matching booleans."""
        spellings = self.TRUE + self.FALSE
        teachers = teachers_csv("has_certificate", spellings)
        dataset = load_files(tmp_path, {"schools.csv": SCHOOLS, "teachers.csv": teachers})
        assert dataset.problems == []
        loaded = [r.values["has_certificate"] for r in dataset.rows("teachers")]
        assert loaded == [True] * len(self.TRUE) + [False] * len(self.FALSE)

    def test_invalid_spelling_is_located(self, tmp_path: Path) -> None:
        """`maybe` is rejected at its row and column with code bool_parsing."""
        dataset = load_files(
            tmp_path, {"schools.csv": SCHOOLS, "teachers.csv": teachers_csv("是否专任教师", ["是", "maybe"])}
        )
        assert where(dataset.problems) == [("teachers.csv", 3, "是否专任教师", "bool_parsing")]
        assert dataset.problems[0].message == "应为是/否（是、否、Y、N、1、0、true、false）：“maybe”"
        assert counts(dataset)["teachers.csv"] == (2, 1, 1)

    def test_blank_full_time_is_unknown(self, tmp_path: Path) -> None:
        """A blank 是否专任教师 is unknown, not 专任: it stays absent like any blank optional bool."""
        teachers = teachers_csv("full_time,has_certificate", [","])
        dataset = load_files(tmp_path, {"schools.csv": SCHOOLS, "teachers.csv": teachers})
        (record,) = dataset.rows("teachers")
        assert "full_time" not in record.values
        assert "has_certificate" not in record.values


class TestDates:
    @pytest.mark.parametrize(
        "spelling", ["2025-12-31", "2025/12/31", "2025年12月31日", "2025.12.31", "２０２５－１２－３１", " 2025-12-31 "]
    )
    def test_spellings(self, spelling: str) -> None:
        """ISO, slashes, dots, Chinese and full-width spellings are the same date."""
        assert values.parse_date(spelling) == dt.date(2025, 12, 31)

    @pytest.mark.parametrize("spelling", ["2025-12-31 12:00:00", "2025-12-31 23:59:59.991000", "2025-12-31T08:30"])
    def test_a_date_with_a_time_of_day_is_its_day(self, spelling: str) -> None:
        """An Excel date cell that carries a time (12:00, or 23:59:59.991 from a fractional serial)
        was refused as an unrecognised date; it is the day it falls on."""
        assert values.parse_date(spelling) == dt.date(2025, 12, 31)

    @pytest.mark.parametrize(
        "spelling", ["2025-12-31 25:00", "2025-12-31 12:60", "2025-02-30 08:00", "2025-12-31 noon"]
    )
    def test_an_impossible_time_or_day_is_still_refused(self, spelling: str) -> None:
        with pytest.raises(values.CellError) as raised:
            values.parse_date(spelling)
        assert raised.value.code == "date_parsing"

    def test_a_workbook_date_cell_with_a_time_loads_as_its_day(self, tmp_path: Path) -> None:
        folder = write(tmp_path / "audit", {})
        workbook(
            folder / "schools.xlsx",
            {
                "Sheet1": [
                    SCHOOL_HEADER_ROW,
                    ["K1", "甲园", "城中区", "城中街道", "幼儿园", "民办", dt.datetime(2027, 8, 31, 12)],
                ]
            },
        )
        dataset = load(folder)
        assert dataset.problems == []
        assert dataset.rows("schools")[0].values["license_valid_until"] == dt.date(2027, 8, 31)

    def test_single_digit_month_and_day(self) -> None:
        """`2025/3/1` and `2025年3月1日` are accepted."""
        assert values.parse_date("2025/3/1") == values.parse_date("2025年3月1日") == dt.date(2025, 3, 1)

    def test_through_the_loader(self, tmp_path: Path) -> None:
        """Licence dates in a schools CSV load as dates; an impossible one is rejected where it is."""
        text = (
            SCHOOLS_HEADER + ",许可证有效期至\n"
            "K1,甲园,城中区,城中街道,幼儿园,民办,2025-12-31\n"
            "K2,乙园,城中区,城中街道,幼儿园,民办,2025/12/31\n"
            "K3,丙园,城中区,城中街道,幼儿园,民办,2025年12月31日\n"
            "K4,丁园,城中区,城中街道,幼儿园,民办,2025年2月30日\n"
            "K5,戊园,城中区,城中街道,幼儿园,民办,31/12/2025\n"
        )
        dataset = load_files(tmp_path, {"schools.csv": text})
        assert [r.values["license_valid_until"] for r in dataset.rows("schools")] == [dt.date(2025, 12, 31)] * 3
        assert where(dataset.problems) == [
            ("schools.csv", 5, "许可证有效期至", "date_parsing"),
            ("schools.csv", 6, "许可证有效期至", "date_parsing"),
        ]
        assert (
            dataset.problems[0].message
            == "日期无法识别（应如 2025-12-31、2025/12/31 或 2025年12月31日）：“2025年2月30日”"
        )

    def test_native_excel_date_cells(self, tmp_path: Path) -> None:
        """A date cell of a workbook (a datetime to openpyxl) loads as a date."""
        folder = tmp_path / "audit"
        folder.mkdir()
        workbook(
            folder / "schools.xlsx",
            {
                "Sheet1": [
                    SCHOOL_HEADER_ROW,
                    ["K1", "甲园", "城中区", "城中街道", "幼儿园", "民办", dt.datetime(2026, 3, 1)],
                    ["K2", "乙园", "城中区", "城中街道", "幼儿园", "民办", dt.date(2024, 8, 31)],
                ]
            },
        )
        dataset = load(folder)
        assert dataset.problems == []
        dates = [r.values["license_valid_until"] for r in dataset.rows("schools")]
        assert dates == [dt.date(2026, 3, 1), dt.date(2024, 8, 31)]


class TestEnums:
    @pytest.mark.parametrize(
        "spelling",
        ["primary", "PRIMARY", "Primary", "小学", " 小学 ", "\u3000小学\u3000", "ｐｒｉｍａｒｙ", "\tprimary"],
    )
    def test_code_or_word(self, spelling: str) -> None:
        """The English code (any case), the Chinese word and their padded or full-width forms give the code."""
        assert values.enum_parser(SCHOOL_TYPES)(spelling) == "primary"

    def test_through_the_loader(self, tmp_path: Path) -> None:
        """School types and ownerships given as codes or words load as codes."""
        text = (
            SCHOOLS_HEADER + "\n"
            "S1,甲,城中区,城中街道,primary,public\n"
            "S2,乙,城中区,城中街道,初级中学,民办\n"
            "S3,丙,城中区,城中街道, 九年一贯制学校 ,PUBLIC\n"
            "S4,丁,城中区,城中街道,ｖｏｃａｔｉｏｎａｌ,公办\n"
        )
        dataset = load_files(tmp_path, {"schools.csv": text})
        assert dataset.problems == []
        got = [(r.values["type"], r.values["ownership"]) for r in dataset.rows("schools")]
        assert got == [("primary", "public"), ("junior", "private"), ("nine_year", "public"), ("vocational", "public")]

    def test_unknown_value_lists_the_allowed_ones(self, tmp_path: Path) -> None:
        """`大学` is no school type: the problem lists each word with its code."""
        dataset = load_files(tmp_path, {"schools.csv": SCHOOLS_HEADER + "\nS1,甲,城中区,城中街道,大学,公办\n"})
        assert where(dataset.problems) == [("schools.csv", 2, "办学类型", "enum")]
        message = dataset.problems[0].message
        assert message.startswith("取值“大学”不在允许范围内，允许：幼儿园（kindergarten）、小学（primary）")
        assert "特殊教育学校（special）" in message


class TestGrades:
    @pytest.mark.parametrize(
        ("spelling", "grade"),
        [
            ("1", "1"),
            ("12", "12"),
            ("３", "3"),
            ("三年级", "3"),
            ("3年级", "3"),
            ("十二年级", "12"),
            ("初一", "7"),
            ("初三", "9"),
            ("高一", "10"),
            ("高三", "12"),
            ("小班", "小班"),
            ("中班", "中班"),
            ("大班", "大班"),
            ("混合班", "混合班"),
            (" 大班 ", "大班"),
            ("3.0", "3"),
        ],
    )
    def test_spellings(self, spelling: str, grade: str) -> None:
        """Numbers (a workbook's 3.0 arrives as `3.0` or `3`), Chinese grade words and kindergarten
        class levels are accepted."""
        assert values.parse_grade(spelling) == grade

    @pytest.mark.parametrize("spelling", ["፫", "𐩀", "٣"])
    def test_digits_of_other_scripts_are_an_error_not_a_crash(self, spelling: str) -> None:
        """Ethiopic ፫ and Kharosthi 𐩀 are digits to `str.isdigit` but not to `int`: a grade written so
        ended the audit in exit 70. Only 0–9 (full-width ones as well) are read as a grade number."""
        with pytest.raises(values.CellError) as raised:
            values.parse_grade(spelling)
        assert raised.value.code == "grade"

    def test_through_the_loader(self, tmp_path: Path) -> None:
        """Grades 0 and 13 and an unknown word are rejected; valid grades load as text."""
        text = (
            CLASSES_HEADER + "\nC1,S1,三年级,40\nC2,S1,初一,40\nC3,S1,小班,20\nC4,S1,0,40\nC5,S1,13,40\nC6,S1,高四,40\n"
        )
        dataset = load_files(tmp_path, {"schools.csv": SCHOOLS, "classes.csv": text})
        assert [r.values["grade"] for r in dataset.rows("classes")] == ["3", "7", "小班"]
        assert where(dataset.problems) == [
            ("classes.csv", 5, "年级", "grade"),
            ("classes.csv", 6, "年级", "grade"),
            ("classes.csv", 7, "年级", "grade"),
        ]
        assert [p.message for p in dataset.problems[:2]] == ["年级应在 1–12 之间：0", "年级应在 1–12 之间：13"]
        assert dataset.problems[2].message.startswith(
            "年级应为 1–12（或 一年级、初一、高一 等）或 小班、中班、大班、混合班"
        )


class TestIntegers:
    @pytest.mark.parametrize(
        ("cell", "number"),
        [("45", 45), ("４５", 45), ("45.0", 45), (" 45 ", 45), ("1,234", 1234), ("4.5e1", 45)],
    )
    def test_spellings(self, cell: str, number: int) -> None:
        """Integral text, full-width digits, a whole number with decimals or an exponent are counts."""
        assert values.parse_scaled(cell, 0, None, None) == number

    @pytest.mark.parametrize("cell", ["nan", "NaN", "inf", "-Infinity"])
    def test_non_finite_is_refused(self, cell: str) -> None:
        """NaN and infinity are errors, never a silent missing value."""
        with pytest.raises(values.CellError) as raised:
            values.parse_scaled(cell, 0, None, None)
        assert raised.value.code == "not_finite"

    @pytest.mark.parametrize("cell", ["0,056", "0,5", "00,123", "1,23", "12,3456"])
    def test_a_comma_that_cannot_group_thousands_is_refused(self, cell: str) -> None:
        """A decimal comma (0,056) was read as thousands and became 56: a first group of 0 or a group
        of other than three digits is an error, never a number a thousand times too large."""
        with pytest.raises(values.CellError) as raised:
            values.parse_scaled(cell, 3, None, None)
        assert raised.value.code == "number" and cell in raised.value.message

    def test_decimals_beyond_the_precision_are_refused(self) -> None:
        """An area of 12.345 ㎡ has more places than the column keeps (0.01 ㎡)."""
        assert values.parse_scaled("12.34", 2, None, None) == 1234
        with pytest.raises(values.CellError) as raised:
            values.parse_scaled("12.345", 2, None, None)
        assert raised.value.message == "最多保留 2 位小数：“12.345”"
        with pytest.raises(values.CellError):
            values.parse_scaled("1e-5", 2, None, None)

    def test_through_the_loader(self, tmp_path: Path) -> None:
        """Class sizes `４５` and `45.0` load as 45; `45.5`, `四十` and a negative size are rejected."""
        text = CLASSES_HEADER + "\nC1,S1,3,４５\nC2,S1,3,45.0\nC3,S1,3,45.5\nC4,S1,3,四十\nC5,S1,3,-1\n"
        dataset = load_files(tmp_path, {"schools.csv": SCHOOLS, "classes.csv": text})
        assert [r.values["size"] for r in dataset.rows("classes")] == [45, 45]
        assert where(dataset.problems) == [
            ("classes.csv", 4, "班额", "int_parsing"),
            ("classes.csv", 5, "班额", "int_parsing"),
            ("classes.csv", 6, "班额", "range"),
        ]
        assert [p.message for p in dataset.problems] == [
            "应为整数：“45.5”",
            "应为整数：“四十”",
            "数值“-1”小于合理下限 0人",
        ]

    def test_float_cells_of_a_workbook(self, tmp_path: Path) -> None:
        """An xlsx cell holding 45.0 loads as 45; one holding 45.5 is rejected."""
        folder = tmp_path / "audit"
        write(folder, {"schools.csv": SCHOOLS})
        path = workbook(
            folder / "classes.xlsx",
            {
                "班级": [
                    ["班级代码", "学校代码", "年级", "班额"],
                    ["C1", "S1", 3, 45],
                    ["C2", "S1", 3, 45.5],
                ]
            },
        )
        force_float_cells(path, "45")
        dataset = load(folder)
        assert [r.values["size"] for r in dataset.rows("classes")] == [45]
        assert where(dataset.problems) == [("classes.xlsx[班级]", 3, "班额", "int_parsing")]
        assert dataset.problems[0].message == "应为整数：“45.5”"

    def test_minimum_hire_year(self, tmp_path: Path) -> None:
        """A hire year before 1940 is rejected with the plausible minimum."""
        dataset = load_files(
            tmp_path, {"schools.csv": SCHOOLS, "teachers.csv": "教师编号,学校代码,入职年份\nT1,S1,1899\n"}
        )
        assert where(dataset.problems) == [("teachers.csv", 2, "入职年份", "range")]
        assert dataset.problems[0].message == "数值“1899”小于合理下限 1940年"

    def test_numeric_ids_stored_as_floats(self, tmp_path: Path) -> None:
        """Ids that a workbook stores as 4502000001.0 match the same ids written as text elsewhere."""
        folder = tmp_path / "audit"
        write(folder, {"schools.csv": SCHOOLS_HEADER + "\n4502000001,文惠小学,城中区,城中街道,小学,公办\n"})
        rows = [["班级代码", "学校代码", "年级", "班额"], [77, 4502000001, 3, 40]]
        path = workbook(folder / "classes.xlsx", {"班级": rows})
        force_float_cells(path, "77", "4502000001")
        dataset = load(folder)
        assert dataset.problems == []
        assert dataset.rows("classes")[0].values["class_id"] == "77"
        assert dataset.rows("classes")[0].values["school_id"] == "4502000001"


# -- headers ---------------------------------------------------------------------------------------


class TestHeaders:
    @pytest.mark.parametrize("header", ["__row", "__src", "__first", "__anything"])
    def test_a_header_named_like_the_loaders_own_columns_is_refused(self, tmp_path: Path, header: str) -> None:
        """An extra column named `__row` (or `__src`, `__first`, …) took the place of the loader's own
        column and ended the audit in exit 70; now the header is a located problem at row 1."""
        text = CLASSES_HEADER + f",{header}\nC1,S1,3,40,5\n"
        dataset = load_files(
            tmp_path, {"schools.csv": SCHOOLS + "S1,重复,城中区,城中街道,小学,公办\n", "classes.csv": text}
        )
        assert ("classes.csv", 1, header, "header_unusable") in where(dataset.problems)
        assert "两个下划线" in next(p.message for p in dataset.problems if p.code == "header_unusable")

    def test_canonical_english_headers_ignore_case(self, tmp_path: Path) -> None:
        """`SCHOOL_ID`, `Name` … map onto the columns and are kept as written."""
        text = "SCHOOL_ID,Name,County,township,TYPE,Ownership\nS1,甲,城中区,城中街道,primary,public\n"
        dataset = load_files(tmp_path, {"schools.csv": text})
        assert dataset.problems == []
        assert dataset.rows("schools")[0].values["school_id"] == "S1"
        assert dataset.inputs[0].headers["school_id"] == "SCHOOL_ID"

    def test_chinese_headers(self, tmp_path: Path) -> None:
        """Chinese labels map onto the canonical columns."""
        dataset = load_files(tmp_path, {"schools.csv": SCHOOLS})
        assert dataset.rows("schools")[0].values == {
            "school_id": "S1",
            "name": "文惠小学",
            "county": "城中区",
            "township": "城中街道",
            "type": "primary",
            "ownership": "public",
        }
        assert dataset.inputs[0].headers["type"] == "办学类型"

    def test_missing_required_column_rejects_the_table_once(self, tmp_path: Path) -> None:
        """Without `班额`, one problem at row 1 says how many rows were not loaded; blank rows are not counted."""
        text = "班级代码,学校代码,年级\nC1,S1,3\n\nC2,S1,4\n,,\nC3,S1,5\n"
        dataset = load_files(tmp_path, {"schools.csv": SCHOOLS, "classes.csv": text})
        assert where(dataset.problems) == [("classes.csv", 1, "班额", "column_missing")]
        assert dataset.problems[0].message == "缺少必填列“班额”（size），本表 3 行均未载入"
        assert counts(dataset)["classes.csv"] == (3, 0, 3)
        assert dataset.rows("classes") == []

    def test_duplicate_header_rejects_the_table(self, tmp_path: Path) -> None:
        """`name` and `学校名称` are the same column: one problem at the second, every row rejected."""
        text = SCHOOLS_HEADER + ",name\nS1,甲,城中区,城中街道,小学,公办,乙\nS2,丙,城中区,城中街道,小学,公办,丁\n"
        dataset = load_files(tmp_path, {"schools.csv": text})
        assert where(dataset.problems) == [("schools.csv", 1, "name", "header_duplicate")]
        assert dataset.problems[0].message == "列重复：与第 2 列表示同一字段"
        assert counts(dataset)["schools.csv"] == (2, 0, 2)

    def test_blank_header_cell(self, tmp_path: Path) -> None:
        """An unnamed column is harmless while empty; a value under it rejects its row, never lost."""
        text = "学校代码,学校名称,,区县,乡镇,办学类型,办学性质\nS1,甲,,城中区,城中街道,小学,公办\nS2,乙,备注,城中区,城中街道,小学,公办\n"
        dataset = load_files(tmp_path, {"schools.csv": text})
        assert where(dataset.problems) == [("schools.csv", 3, "第 3 列", "cell_without_header")]
        assert dataset.problems[0].message == "该列有数据但没有表头"
        assert counts(dataset)["schools.csv"] == (2, 1, 1)

    def test_trailing_blank_headers_are_trimmed(self, tmp_path: Path) -> None:
        """Empty header cells after the last named one are not a problem."""
        dataset = load_files(tmp_path, {"schools.csv": SCHOOLS_HEADER + ",,\nS1,甲,城中区,城中街道,小学,公办,,\n"})
        assert dataset.problems == []
        assert counts(dataset)["schools.csv"] == (1, 1, 0)

    def test_cell_beyond_the_header(self, tmp_path: Path) -> None:
        """A non-blank cell right of the last header rejects its row, naming the column."""
        text = SCHOOLS + "S2,乙,城中区,城中街道,小学,公办,,备注\n"
        dataset = load_files(tmp_path, {"schools.csv": text})
        assert where(dataset.problems) == [("schools.csv", 3, "第 8 列", "cell_without_header")]
        assert dataset.problems[0].message == "该列有数据但没有表头"
        assert counts(dataset)["schools.csv"] == (2, 1, 1)

    def test_extra_columns_are_kept_with_their_header(self, tmp_path: Path) -> None:
        """Unknown columns are kept under their header in `.extra` (a column of numbers as numbers)
        and listed for the kind."""
        text = (
            SCHOOLS_HEADER
            + ",校长,在校生\nS1,甲,城中区,城中街道,小学,公办,张三,1200\nS2,乙,城中区,城中街道,小学,公办,,\n"
        )
        dataset = load_files(tmp_path, {"schools.csv": text})
        assert dataset.problems == []
        assert [r.extra for r in dataset.rows("schools")] == [{"校长": "张三", "在校生": 1200}, {}]
        assert dataset.inputs[0].extra_columns == ("校长", "在校生")
        assert sorted(dataset.extra_columns["schools"]) == ["在校生", "校长"]
        assert (
            dataset.extra_columns["schools"]["在校生"].numeric and not dataset.extra_columns["schools"]["校长"].numeric
        )
        assert "校长" not in dataset.rows("schools")[0].values


class TestTemplateSpellings:
    """What `inspector template` writes: units in the header, an example row under it."""

    def test_header_may_carry_the_columns_unit(self, tmp_path: Path) -> None:
        """`班额（人）` and `班额(人)` name the size column; the header is kept as written for messages."""
        for header in ("班额（人）", "班额 (人)"):
            text = f"班级代码,学校代码,年级,{header}\nC1,S1,3,四十\n"
            dataset = load_files(tmp_path / header, {"schools.csv": SCHOOLS, "classes.csv": text})
            assert where(dataset.problems) == [("classes.csv", 2, header, "int_parsing")]

    def test_a_unit_other_than_the_columns_names_no_column(self, tmp_path: Path) -> None:
        """`班额（个）` is not the size column (its unit is 人): the column is missing, not misread."""
        text = "班级代码,学校代码,年级,班额（个）\nC1,S1,3,40\n"
        dataset = load_files(tmp_path, {"schools.csv": SCHOOLS, "classes.csv": text})
        assert ("classes.csv", 1, "班额", "column_missing") in where(dataset.problems)

    def test_rate_and_area_units(self, tmp_path: Path) -> None:
        """`（%）` and `（㎡）` (NFKC: m2) are their columns' units."""
        text = "学校代码,艺术课开课率（%）,体育运动场馆面积（㎡）\nS1,95%,1200.5\n"
        dataset = load_files(tmp_path, {"schools.csv": SCHOOLS, "facilities.csv": text})
        assert dataset.problems == []
        row = dataset.rows("facilities")[0].values
        assert (row["art_course_rate"], row["sports_area"]) == (Fraction(19, 20), Fraction(2401, 2))

    def test_example_row_under_the_header_is_not_data(self, tmp_path: Path) -> None:
        """A row 2 whose every filled cell starts with 示例： is skipped like the header: not read, not counted."""
        text = (
            SCHOOLS_HEADER
            + "\n示例：4502020001,示例：柳州市示例小学,示例：城中区,,示例：小学,示例:公办\nS1,甲,城中区,城中街道,小学,公办\n"
        )
        dataset = load_files(tmp_path, {"schools.csv": text})
        assert dataset.problems == []
        assert counts(dataset)["schools.csv"] == (1, 1, 0)
        assert [r.ref.row for r in dataset.rows("schools")] == [3]

    def test_example_row_in_a_workbook(self, tmp_path: Path) -> None:
        """The same in a workbook sheet."""
        (tmp_path / "audit").mkdir()
        path = workbook(
            tmp_path / "audit" / "填报.xlsx",
            {
                "学校": [
                    SCHOOL_HEADER_ROW[:6],
                    ["示例：4502020001", "示例：某小学", "示例：城中区", "示例：城中街道", "示例：小学", "示例：公办"],
                    ["S1", "甲", "城中区", "城中街道", "小学", "公办"],
                ]
            },
        )
        dataset = load(path.parent)
        assert dataset.problems == [] and counts(dataset)["填报.xlsx[学校]"] == (1, 1, 0)

    def test_example_cells_left_in_data_reject_their_row(self, tmp_path: Path) -> None:
        """An example row half overwritten, or an example cell further down, is a located error, never data."""
        text = (
            SCHOOLS_HEADER + "\nS1,甲,城中区,城中街道,示例：小学,公办\nS2,乙,城中区,城中街道,小学,公办\n"
            "S3,示例：柳州市示例小学,城中区,城中街道,小学,公办\n"
        )
        dataset = load_files(tmp_path, {"schools.csv": text})
        assert where(dataset.problems) == [
            ("schools.csv", 2, "办学类型", "example_cell"),
            ("schools.csv", 4, "学校名称", "example_cell"),
        ]
        assert "示例" in dataset.problems[0].message
        assert counts(dataset)["schools.csv"] == (3, 1, 2)

    def test_only_the_first_row_may_be_an_example(self, tmp_path: Path) -> None:
        """A wholly marked row further down is a leftover copy of the example: rejected."""
        text = SCHOOLS_HEADER + "\nS1,甲,城中区,城中街道,小学,公办\n示例：S9,示例：乙,,,,\n"
        dataset = load_files(tmp_path, {"schools.csv": text})
        assert [(p.line, p.field) for p in dataset.problems if p.code == "example_cell"] == [
            (3, "学校代码"),
            (3, "学校名称"),
        ]


# -- row accounting --------------------------------------------------------------------------------


class TestRowAccounting:
    def test_every_row_is_loaded_or_rejected(self, tmp_path: Path) -> None:
        """For each table rows_read == rows_loaded + rows_rejected, with rejections of every kind."""
        files = {
            "schools.csv": SCHOOLS + "S2,乙,城中区,城中街道,大学,公办\nS1,重复,城中区,城中街道,小学,公办\n\n",
            "classes.csv": CLASSES_HEADER + "\nC1,S1,3,40\nC2,S9,3,40\nC3,S2,3,40\nC1,S1,4,30\n ,  ,,\nC4,S1,5,abc\n",
            "teachers.csv": "教师编号,学校代码,入职年份\nT1,S1,2020\nT2,S1,2021\n",
            "safety.csv": "学校代码,封闭化管理\nS1,是\nS1,否\n",
        }
        dataset = load_files(tmp_path, files)
        assert counts(dataset) == {
            "schools.csv": (3, 1, 2),
            "classes.csv": (5, 1, 4),
            "teachers.csv": (2, 2, 0),
            "safety.csv": (2, 1, 1),
        }
        for item in dataset.inputs:
            assert item.rows_read == item.rows_loaded + item.rows_rejected, item.source
            assert item.rows_loaded == len([r for r in dataset.rows(item.kind) if r.ref.file == item.source])
        assert len(dataset.problems) == sum(i.rows_rejected for i in dataset.inputs)

    def test_blank_rows_are_skipped_but_row_numbers_kept(self, tmp_path: Path) -> None:
        """Blank lines are not rows; the rows after them keep their spreadsheet numbers."""
        text = SCHOOLS_HEADER + "\n\nS1,甲,城中区,城中街道,小学,公办\n,,,,,\n   ,\nS2,乙,城中区,城中街道,小学,公办\n"
        dataset = load_files(tmp_path, {"schools.csv": text})
        assert counts(dataset)["schools.csv"] == (2, 2, 0)
        assert [r.ref for r in dataset.rows("schools")] == [RowRef("schools.csv", 3), RowRef("schools.csv", 6)]
        assert str(dataset.rows("schools")[1].ref) == "schools.csv:6"


# -- cross-row checks ------------------------------------------------------------------------------


class TestCrossRowChecks:
    def test_duplicate_id_names_the_first_row(self, tmp_path: Path) -> None:
        """The second `S1` is rejected; the message names row 2."""
        dataset = load_files(tmp_path, {"schools.csv": SCHOOLS + "S1,重复小学,城中区,城中街道,小学,公办\n"})
        assert where(dataset.problems) == [("schools.csv", 3, "学校代码", "duplicate")]
        assert dataset.problems[0].message == "学校代码“S1”重复（首次出现在第 2 行）"
        assert [r.values["name"] for r in dataset.rows("schools")] == ["文惠小学"]

    def test_unknown_reference(self, tmp_path: Path) -> None:
        """A class of a school not in the schools list is rejected."""
        dataset = load_files(tmp_path, {"schools.csv": SCHOOLS, "classes.csv": CLASSES_HEADER + "\nC1,S9,3,40\n"})
        assert where(dataset.problems) == [("classes.csv", 2, "学校代码", "unknown_reference")]
        assert dataset.problems[0].message == "学校代码“S9”不在学校名单中"

    def test_reference_to_a_rejected_school_names_its_row(self, tmp_path: Path) -> None:
        """A class of a school whose own row was rejected says so, citing that row."""
        files = {
            "schools.csv": SCHOOLS + "S2,乙,城中区,城中街道,大学,公办\n",
            "classes.csv": CLASSES_HEADER + "\nC1,S2,3,40\n",
            "safety.csv": "学校代码,封闭化管理\nS2,是\n",
        }
        dataset = load_files(tmp_path, files)
        assert where(dataset.problems) == [
            ("classes.csv", 2, "学校代码", "unknown_reference"),
            ("safety.csv", 2, "学校代码", "unknown_reference"),
            ("schools.csv", 3, "办学类型", "enum"),
        ]
        assert dataset.problems[0].message == "学校代码“S2”对应的学校记录有误、未载入（schools.csv:3）"

    def test_reference_to_a_school_of_a_rejected_table(self, tmp_path: Path) -> None:
        """When the whole schools table is rejected, references cite the school's row in it."""
        files = {
            "schools.csv": "学校代码,学校名称,区县,乡镇,办学类型\nS1,甲,城中区,城中街道,小学\n",
            "classes.csv": CLASSES_HEADER + "\nC1,S1,3,40\n",
        }
        dataset = load_files(tmp_path, files)
        assert where(dataset.problems) == [
            ("classes.csv", 2, "学校代码", "unknown_reference"),
            ("schools.csv", 1, "办学性质", "column_missing"),
        ]
        assert dataset.problems[0].message == "学校代码“S1”对应的学校记录有误、未载入（schools.csv:2）"

    def test_an_id_with_a_zero_width_character_is_the_same_id(self, tmp_path: Path) -> None:
        """`S1` followed by a zero-width space (invisible when typed or pasted) was a second school
        beside S1; ids are read without zero-width characters, so it is a duplicate, and a class's
        `C56` + U+200B is C56."""
        schools = SCHOOLS + "S1\u200b,乙校,城中区,城中街道,小学,公办\n"
        dataset = load_files(
            tmp_path, {"schools.csv": schools, "classes.csv": CLASSES_HEADER + "\nC56\u2060,S1,3,40\n"}
        )
        assert where(dataset.problems) == [("schools.csv", 3, "学校代码", "duplicate")]
        assert [r.values["class_id"] for r in dataset.rows("classes")] == ["C56"]
        assert values.normalize_text("乙\u200b校\ufeff") == "乙校"

    def test_reference_ignores_full_width_spelling(self, tmp_path: Path) -> None:
        """`Ｓ１` in a classes table refers to school `S1` (ids are NFKC-normalised)."""
        dataset = load_files(tmp_path, {"schools.csv": SCHOOLS, "classes.csv": CLASSES_HEADER + "\nC1,Ｓ１,3,40\n"})
        assert dataset.problems == []
        assert dataset.rows("classes")[0].values["school_id"] == "S1"

    def test_duplicate_safety_rows_for_one_school(self, tmp_path: Path) -> None:
        """A second safety row for the same school is rejected, naming the first."""
        files = {
            "schools.csv": SCHOOLS,
            "safety.csv": "school_id,closed_management,full_time_guards\nS1,是,2\nS1,否,0\n",
        }
        dataset = load_files(tmp_path, files)
        assert where(dataset.problems) == [("safety.csv", 3, "school_id", "duplicate")]
        assert dataset.problems[0].message == "学校代码“S1”重复（首次出现在第 2 行）"
        (record,) = dataset.rows("safety")
        assert record.values == {"school_id": "S1", "closed_management": True, "full_time_guards": 2}

    # -- files -----------------------------------------------------------------------------------------


class TestExtraColumns:
    @pytest.mark.parametrize(
        ("cells", "expected"),
        [
            (["12", "7", "0.5"], [Fraction(12), Fraction(7), Fraction(1, 2)]),
            (["１２", "7"], ["１２", "7"]),  # a digit other than 0-9: the column stays text
            (["٥٦", "7"], ["٥٦", "7"]),
            (["99999999999999999999", "7"], ["99999999999999999999", "7"]),  # past 64 bits
            (["9300000000000000", "0.001"], ["9300000000000000", "0.001"]),  # past 64 bits at 3 places
        ],
    )
    def test_every_value_is_kept_exactly_as_a_number_or_as_its_text(
        self, tmp_path: Path, cells: list[str], expected: list[object]
    ) -> None:
        """An extra column is numeric only where every value is exact so; a red-team pass found ٥٦ and
        99999999999999999999 loaded as empty and 9300000000000000 beside 0.001 wrapped round."""
        rows = "".join(f"C{i},S1,3,40,{cell}\n" for i, cell in enumerate(cells))
        dataset = load_files(tmp_path, {"schools.csv": SCHOOLS, "classes.csv": CLASSES_HEADER + ",在编人数\n" + rows})
        assert dataset.problems == []
        assert [r.extra["在编人数"] for r in dataset.rows("classes")] == expected


class TestCsvFiles:
    def test_utf8_with_and_without_bom(self, tmp_path: Path) -> None:
        """A BOM before the first header does not hide the header."""
        plain = load_files(tmp_path / "a", {"schools.csv": SCHOOLS})
        bom = load_files(tmp_path / "b", {"schools.csv": "\ufeff" + SCHOOLS})
        for dataset in (plain, bom):
            assert dataset.problems == []
            assert dataset.rows("schools")[0].values["school_id"] == "S1"
        assert (plain.inputs[0].encoding, bom.inputs[0].encoding) == ("utf-8", "utf-8-sig")

    def test_gb18030_as_excel_on_chinese_windows_saves_it(self, tmp_path: Path) -> None:
        """A GB18030-encoded CSV is decoded correctly, Chinese headers and cells included."""
        dataset = load_files(tmp_path, {"schools.csv": SCHOOLS.encode("gb18030")})
        assert dataset.problems == []
        assert dataset.rows("schools")[0].values["name"] == "文惠小学"
        assert dataset.rows("schools")[0].values["type"] == "primary"
        assert dataset.inputs[0].encoding == "gb18030"

    @pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
    def test_utf16_without_bom(self, tmp_path: Path, encoding: str) -> None:
        """UTF-16 without a byte-order mark is recognised even when nearly every character is
        Chinese (few zero bytes) and one is 一 (U+4E00, a zero byte in the other half)."""
        text = SCHOOLS_HEADER + "\nS1,一中文惠小学,城中区,城中街道,小学,公办\n"
        dataset = load_files(tmp_path, {"schools.csv": text.encode(encoding)})
        assert dataset.problems == []
        assert dataset.rows("schools")[0].values["name"] == "一中文惠小学"
        assert dataset.inputs[0].encoding == encoding

    @pytest.mark.parametrize("parity", [0, 1])
    def test_a_stray_nul_in_utf8_is_binary_whatever_the_files_length(self, tmp_path: Path, parity: int) -> None:
        """One NUL in a UTF-8 file of even length was taken for UTF-16 (every row then lost to a
        "missing column" message); of odd length it was refused as binary. Both are refused so now."""
        text = CLASSES_HEADER + "\n" + "".join(f"C{i},S1,3,40\n" for i in range(8))
        data = text.encode("utf-8").replace(b"C3", b"C\x00")
        if len(data) % 2 != parity:
            data += b"\n"
        dataset = load_files(tmp_path, {"schools.csv": SCHOOLS, "classes.csv": data})
        assert [(p.file, p.code) for p in dataset.problems] == [("classes.csv", "binary")]

    def test_lines_beyond_the_limit_are_refused_before_parsing(self, tmp_path: Path) -> None:
        """Blank lines count: ten million of them made a 1.4 GB frame before they were dropped
        (the limit lowered through the config, as audit.yaml's `limits: {rows: 5}` does)."""
        config = CONFIG.model_copy(update={"limits": Limits(rows=5)})
        at_limit = load_dataset(write(tmp_path / "a", {"schools.csv": SCHOOLS + "\n" * 3}), config)
        assert at_limit.problems == [] and len(at_limit.rows("schools")) == 1
        over = load_dataset(write(tmp_path / "b", {"schools.csv": SCHOOLS + "\n" * 4}), config)
        assert ("schools.csv", 6, "", "too_many_rows") in where(over.problems)

    def test_tab_separated(self, tmp_path: Path) -> None:
        """A tab-separated file is read like a comma-separated one."""
        dataset = load_files(tmp_path, {"schools.csv": SCHOOLS.replace(",", "\t")})
        assert dataset.problems == []
        assert dataset.rows("schools")[0].values["township"] == "城中街道"

    @pytest.mark.parametrize("encoding", ["utf-8", "gb18030"])
    def test_lines_ended_by_a_lone_cr_are_lines(self, tmp_path: Path, encoding: str) -> None:
        """Excel for Mac's "CSV (Macintosh)" ends lines with CR alone: read as the same file with LF
        (it was read as one line, and the header then missed every column after the first line's)."""
        text = SCHOOLS + "S2,柳南小学,柳南区,南站街道,小学,公办\n"
        dataset = load_files(tmp_path, {"schools.csv": text.replace("\n", "\r").encode(encoding)})
        assert dataset.problems == []
        assert [(r.ref.row, r.values["name"]) for r in dataset.rows("schools")] == [(2, "文惠小学"), (3, "柳南小学")]

    def test_a_file_neither_utf8_nor_gb18030_is_refused_at_its_first_line(self, tmp_path: Path) -> None:
        """polars reads only UTF-8 (so a file it reads is not decoded again to check it); a file it
        cannot read is checked, and one that is neither UTF-8 nor GB18030 is refused."""
        text = (SCHOOLS + "S2,柳南小学,柳南区,南站街道,小学,公办\n").encode()
        dataset = load_files(tmp_path, {"schools.csv": text.replace("柳南小学".encode(), b"\x81\xff\xfe")})
        assert ("schools.csv", 1, "", "encoding") in where(dataset.problems)  # and schools are missing

    @pytest.mark.parametrize("encoding", ["utf-8", "gb18030"])
    def test_a_row_polars_cannot_read_is_located_in_either_encoding(self, tmp_path: Path, encoding: str) -> None:
        """A row with a cell more than the header: polars refuses the file, the exact reader reads it
        (a GB18030 file, which polars refuses first for its bytes, too) and locates the row."""
        text = SCHOOLS + "S2,柳南小学,柳南区,南站街道,小学,公办,多余\n"
        dataset = load_files(tmp_path, {"schools.csv": text.encode(encoding)})
        assert where(dataset.problems) == [("schools.csv", 3, "第 7 列", "cell_without_header")]
        assert [r.values["name"] for r in dataset.rows("schools")] == ["文惠小学"]

    def test_a_bad_cell_after_lone_cr_lines_is_reported_at_its_line(self, tmp_path: Path) -> None:
        """Line numbers count CR-ended lines as an editor shows them."""
        text = SCHOOLS + "S2,柳南小学,柳南区,南站街道,大学,公办\n"
        dataset = load_files(tmp_path, {"schools.csv": text.replace("\n", "\r")})
        assert where(dataset.problems) == [("schools.csv", 3, "办学类型", "enum")]

    def test_lone_cr_lines_count_towards_the_row_limit(self, tmp_path: Path) -> None:
        """The limit is checked before parsing for CR-ended lines too."""
        config = CONFIG.model_copy(update={"limits": Limits(rows=5)})
        over = load_dataset(write(tmp_path / "b", {"schools.csv": (SCHOOLS + "\n" * 4).replace("\n", "\r")}), config)
        assert ("schools.csv", 6, "", "too_many_rows") in where(over.problems)

    def test_quoted_cells_with_commas(self, tmp_path: Path) -> None:
        """A quoted cell may hold the delimiter."""
        dataset = load_files(
            tmp_path, {"schools.csv": SCHOOLS_HEADER + '\nS1,"文惠小学（东, 西校区）",城中区,城中街道,小学,公办\n'}
        )
        assert dataset.rows("schools")[0].values["name"] == "文惠小学（东, 西校区）"

    def test_chinese_file_name(self, tmp_path: Path) -> None:
        """`学校.csv` holds schools and keeps its name as the source."""
        dataset = load_files(tmp_path, {"学校.csv": SCHOOLS})
        assert dataset.rows("schools")[0].ref == RowRef("学校.csv", 2)

    def test_unrecognised_csv_is_ignored_and_listed(self, tmp_path: Path) -> None:
        """`notes.csv` names no record kind: listed as ignored, not loaded; other files are not listed."""
        dataset = load_files(tmp_path, {"schools.csv": SCHOOLS, "notes.csv": "a,b\n1,2\n", "readme.txt": "说明"})
        assert dataset.ignored_files == ("notes.csv",)
        assert dataset.problems == []

    def test_hidden_and_lock_files_are_skipped(self, tmp_path: Path) -> None:
        """`.schools.csv` and Excel's `~$` lock files are neither read nor listed."""
        dataset = load_files(tmp_path, {"schools.csv": SCHOOLS, ".classes.csv": "x", "~$classes.xlsx": b"lock"})
        assert dataset.problems == []
        assert dataset.ignored_files == ()
        assert "classes" in dataset.missing_kinds

    def test_missing_schools_file(self, tmp_path: Path) -> None:
        """Without any schools table there is a missing_file problem, and optional kinds are only listed."""
        dataset = load_files(tmp_path, {"teachers.csv": "教师编号,学校代码,入职年份\n"})
        assert where(dataset.problems) == [("schools", 0, "", "missing_file")]
        assert dataset.problems[0].message == (
            "缺少学校数据：应有 schools.csv、schools.xlsx 或名为 schools 的工作表"
            "（只用公开统计数据督导时，应有全市统计 city_stats 或区县统计 county_stats）"
        )
        assert dataset.missing_kinds == ("schools", "classes", "safety", "facilities", "county_stats", "city_stats")

    def test_statistics_alone_need_no_schools(self, tmp_path: Path) -> None:
        """An audit of published figures alone (no school-level table at all) loads without a missing_file."""
        dataset = load_files(tmp_path, {"city_stats.csv": "年份\n2020\n"})
        assert not [p for p in dataset.problems if p.code == "missing_file"]
        assert dataset.tables["city_stats"].height == 1

    def test_header_not_on_row_1(self, tmp_path: Path) -> None:
        """A CSV starting with a blank line is reported at its header row."""
        dataset = load_files(tmp_path, {"schools.csv": "\n" + SCHOOLS})
        assert ("schools.csv", 2, "", "header") in where(dataset.problems)
        assert next(p for p in dataset.problems if p.code == "header").message == "表头应在第 1 行"

    @pytest.mark.parametrize("text", ["", "\n" + SCHOOLS], ids=["empty", "header-on-row-2"])
    def test_unreadable_schools_csv_leaves_schools_missing(self, tmp_path: Path, text: str) -> None:
        """A schools CSV that cannot be read counts as missing, as an unreadable workbook does."""
        dataset = load_files(tmp_path, {"schools.csv": text})
        assert "schools" in dataset.missing_kinds
        assert ("schools", 0, "", "missing_file") in where(dataset.problems)


class TestUnsupportedFiles:
    def test_old_excel_file_of_a_kind_is_a_problem(self, tmp_path: Path) -> None:
        """`schools.xls` is not silently skipped: the user is told to save it as .xlsx or CSV."""
        dataset = load_files(tmp_path, {"schools.xls": b"\xd0\xcf\x11\xe0"})
        assert ("schools.xls", 0, "", "unsupported_format") in where(dataset.problems)
        assert "missing_file" in {p.code for p in dataset.problems}

    def test_unrelated_old_excel_file_is_listed_as_ignored(self, tmp_path: Path) -> None:
        dataset = load_files(tmp_path, {"schools.csv": SCHOOLS, "备注.xls": b"\xd0\xcf"})
        assert dataset.problems == [] and dataset.ignored_files == ("备注.xls",)

    @pytest.mark.parametrize("name", ["班级.csv".encode("gbk"), b"bad\xff\xfe.csv", b"\xff\xfe.xlsx"])
    def test_a_file_name_that_is_not_utf8_is_a_located_problem(self, tmp_path: Path, name: bytes) -> None:
        """A zip made on Chinese Windows unpacks with GBK file names: such a file was neither read nor
        reported (check passed; audit failed writing its outputs, exit 70). Now a problem that names
        it, with its GBK reading where there is one, and no other file is affected."""
        folder = write(tmp_path, {"schools.csv": SCHOOLS})
        with open(os.fsencode(folder) + b"/" + name, "wb"):
            pass
        dataset = load(folder)
        problems = [p for p in dataset.problems if p.code == "file_name"]
        assert len(problems) == 1 and "不是 UTF-8" in problems[0].message
        problems[0].file.encode("utf-8")  # shown without surrogates: it can be printed and written
        assert ("按 GBK 读作“班级.csv”" in problems[0].message) == (name == "班级.csv".encode("gbk"))
        assert dataset.rows("schools")[0].values["school_id"] == "S1"

    def test_a_file_that_is_no_data_file_may_be_named_in_any_encoding(self, tmp_path: Path) -> None:
        """A PDF or a note beside the data, named in GBK, is none of the audit's business."""
        folder = write(tmp_path, {"schools.csv": SCHOOLS})
        for suffix in (b".pdf", b".txt", b""):
            with open(os.fsencode(folder) + b"/" + "说明".encode("gbk") + suffix, "wb"):
                pass
        assert load(folder).problems == []

    @pytest.mark.parametrize(
        ("make", "why"),
        [
            (lambda p: p.symlink_to(p.parent / "nowhere.csv"), "无法解析的链接"),
            (lambda p: p.symlink_to(p), "无法解析的链接"),
            (lambda p: p.mkdir(), "文件夹"),
            (lambda p: os.mkfifo(p), "设备或管道"),
            (lambda p: p.symlink_to("/dev/null"), "设备或管道"),
        ],
    )
    @pytest.mark.parametrize("name", ["classes.csv", "填报.xlsx"])
    def test_a_data_files_name_on_something_unreadable_is_a_problem_not_an_absence(
        self, tmp_path: Path, make: Callable[[Path], object], why: str, name: str
    ) -> None:
        """classes.csv as a dangling link, a folder or a pipe made the class rules "not evaluated
        (no data file)" with exit 0; it is a located problem now, as is any workbook's name (a
        workbook of any name is read). Other names are left alone."""
        folder = write(tmp_path, {"schools.csv": SCHOOLS})
        make(folder / name)
        (folder / "notes").mkdir()
        (folder / "说明.pdf").symlink_to(folder / "nowhere.pdf")
        dataset = load(folder)
        assert [(p.file, p.code) for p in dataset.problems] == [(name, "unreadable_file")]
        assert why in dataset.problems[0].message


class TestWorkbooks:
    SCHOOL_ROWS = (SCHOOL_HEADER_ROW, ["S1", "甲", "城中区", "城中街道", "小学", "公办", None])
    CLASS_ROWS = (["class_id", "school_id", "grade", "size"], ["C1", "S1", 3, 40])

    def test_one_workbook_per_kind(self, tmp_path: Path) -> None:
        """`schools.xlsx` with one sheet holds schools, whatever the sheet is called."""
        folder = write(tmp_path / "audit", {})
        workbook(folder / "schools.xlsx", {"名单": self.SCHOOL_ROWS})
        dataset = load(folder)
        assert dataset.problems == []
        assert counts(dataset) == {"schools.xlsx[名单]": (1, 1, 0)}
        assert dataset.inputs[0].encoding == "xlsx"

    @pytest.mark.parametrize(("schools", "classes"), [("schools", "classes"), ("学校", "班级"), ("学校名单", "班额")])
    def test_one_workbook_with_a_sheet_per_kind(self, tmp_path: Path, schools: str, classes: str) -> None:
        """Sheets named by kind, in English or Chinese, each load as that kind; other sheets are skipped."""
        folder = write(tmp_path / "audit", {})
        workbook(
            folder / "督导数据.xlsx",
            {schools: self.SCHOOL_ROWS, classes: self.CLASS_ROWS, "说明": [["填表说明"], ["……"]]},
        )
        dataset = load(folder)
        assert dataset.problems == []
        assert counts(dataset) == {f"督导数据.xlsx[{schools}]": (1, 1, 0), f"督导数据.xlsx[{classes}]": (1, 1, 0)}
        assert dataset.rows("classes")[0].ref == RowRef(f"督导数据.xlsx[{classes}]", 2)
        assert dataset.ignored_files == ()

    def test_workbook_without_any_kind_is_ignored(self, tmp_path: Path) -> None:
        """A workbook whose name and sheets name no kind is listed as ignored."""
        folder = write(tmp_path / "audit", {"schools.csv": SCHOOLS})
        workbook(folder / "notes.xlsx", {"Sheet1": [["a"], ["b"]]})
        assert load(folder).ignored_files == ("notes.xlsx",)

    def test_same_kind_twice_is_ambiguous(self, tmp_path: Path) -> None:
        """Classes in both a CSV and a sheet: each source gets an ambiguous_source problem."""
        folder = write(tmp_path / "audit", {"classes.csv": CLASSES_HEADER + "\nC9,S1,1,30\n"})
        workbook(folder / "data.xlsx", {"学校": self.SCHOOL_ROWS, "班级": self.CLASS_ROWS})
        dataset = load(folder)
        assert where(dataset.problems) == [
            ("classes.csv", 1, "", "ambiguous_source"),
            ("data.xlsx[班级]", 1, "", "ambiguous_source"),
        ]
        assert dataset.problems[0].message == "班级数据出现在多处：classes.csv、data.xlsx[班级]；请只保留一处"

    def test_header_not_on_row_1(self, tmp_path: Path) -> None:
        """A sheet whose header starts on row 2 is reported there, and its kind is missing."""
        folder = write(tmp_path / "audit", {})
        workbook(folder / "schools.xlsx", {"Sheet1": [[None] * 7, *self.SCHOOL_ROWS]})
        dataset = load(folder)
        assert where(dataset.problems) == [
            ("schools", 0, "", "missing_file"),
            ("schools.xlsx[Sheet1]", 2, "", "header"),
        ]
        assert dataset.problems[1].message == "表头应在第 1 行"

    def test_corrupt_workbook(self, tmp_path: Path) -> None:
        """A file named .xlsx that is not a workbook is a located problem."""
        dataset = load_files(tmp_path, {"schools.xlsx": b"not a zip"})
        assert ("schools.xlsx", 1, "", "xlsx") in where(dataset.problems)

    @staticmethod
    def _rewrite(folder: Path, pattern: str, xml: str) -> None:
        path = folder / "classes.xlsx"
        with zipfile.ZipFile(path) as archive:
            parts = {name: archive.read(name) for name in archive.namelist()}
        sheet, found = re.subn(pattern, xml, parts["xl/worksheets/sheet1.xml"].decode())
        assert found == 1, pattern
        parts["xl/worksheets/sheet1.xml"] = sheet.encode()
        with zipfile.ZipFile(path, "w") as archive:
            for name, data in parts.items():
                archive.writestr(name, data)

    @staticmethod
    def _classes_with_cell(folder: Path, ref: str, xml: str) -> None:
        """classes.xlsx of two classes (with a 备注 column) whose cell `ref` is written as `xml`."""
        path = workbook(
            folder / "classes.xlsx",
            {
                "classes": [
                    ["班级代码", "学校代码", "年级", "班额", "备注"],
                    ["C1", "S1", 3, 40, "a"],
                    ["C2", "S1", 3, 41, "b"],
                ]
            },
        )
        with zipfile.ZipFile(path) as archive:
            parts = {name: archive.read(name) for name in archive.namelist()}
        sheet, found = re.subn(rf'<c r="{ref}"[^>]*>.*?</c>', xml, parts["xl/worksheets/sheet1.xml"].decode())
        assert found == 1
        parts["xl/worksheets/sheet1.xml"] = sheet.encode()
        with zipfile.ZipFile(path, "w") as archive:
            for name, data in parts.items():
                archive.writestr(name, data)

    @pytest.mark.parametrize(
        ("xml", "stored"),
        [
            ('<c r="D3" t="n"><v>abc</v></c>', "数值，存的却是“abc”"),
            ('<c r="D3" t="n"><v>NaN</v></c>', "数值，存的却是“NaN”"),
            ('<c r="D3"><f>1/0</f><v>inf</v></c>', "数值，存的却是“inf”"),
            ('<c r="D3" t="b"><v>2</v></c>', "是/否（0 或 1），存的却是“2”"),
        ],
    )
    def test_a_cell_whose_value_is_not_of_its_type_is_located(self, tmp_path: Path, xml: str, stored: str) -> None:
        """A number cell storing `abc` or NaN, a boolean storing 2: the reader refused the whole sheet
        with an English reason (Parse float error …) or a message without row or column. The sheet is
        still refused, now at the cell, in Chinese."""
        folder = write(tmp_path / "audit", {"schools.csv": SCHOOLS})
        self._classes_with_cell(folder, "D3", xml)
        dataset = load(folder)
        problems = [p for p in dataset.problems if p.code == "xlsx_value"]
        assert [(p.file, p.line, p.field) for p in problems] == [("classes.xlsx[classes]", 3, "第 4 列")]
        assert stored in problems[0].message and "Parse" not in problems[0].message

    def test_a_cell_holding_an_excel_error_value_is_a_problem_at_its_cell(self, tmp_path: Path) -> None:
        """The reader hands #DIV/0! over as blank: in an optional column it silently became an empty
        value. Each such cell is now a problem at its row and column, and its row is rejected."""
        folder = write(tmp_path / "audit", {"schools.csv": SCHOOLS})
        self._classes_with_cell(folder, "E3", "<c r='E3' t='e'><f>1/0</f><v>#DIV/0!</v></c>")
        dataset = load(folder)
        assert where(dataset.problems) == [("classes.xlsx[classes]", 3, "备注", "xlsx_error_value")]
        assert [r.values["class_id"] for r in dataset.rows("classes")] == ["C1"]

    @pytest.mark.parametrize(
        ("ref", "xml", "column"),
        [
            ("E3", '<c r="E3"><f>B3&amp;"班"</f><v /></c>', "备注"),  # as openpyxl writes a formula
            ("D3", '<c r="D3"><f>40+2</f></c>', "班额"),  # no cached value at all
            ("D3", '<c r="D3" t="n"><f>40+2</f><v></v></c>', "班额"),
            ("D3", '<c r="D3"><f t="shared" si="0"/></c>', "班额"),  # a shared formula's later cell
            ("E3", '<c r="E3" t="str"><f>B3&amp;"班"</f></c>', "备注"),  # text, no result saved at all
        ],
    )
    def test_a_formula_without_a_computed_value_is_a_problem_at_its_cell(
        self, tmp_path: Path, ref: str, xml: str, column: str
    ) -> None:
        """A workbook written by a program (not opened in Excel since) keeps formulas but no results:
        the reader gives such a cell as blank, which read as a missing value (a data gap: "缺少班额")
        or, in an optional column, as an empty one. It is a problem at its row and column saying to
        open and save the file in Excel, and its row is rejected."""
        folder = write(tmp_path / "audit", {"schools.csv": SCHOOLS})
        self._classes_with_cell(folder, ref, xml)
        dataset = load(folder)
        assert where(dataset.problems) == [("classes.xlsx[classes]", 3, column, "xlsx_formula_without_value")]
        assert "在 Excel 中打开" in dataset.problems[0].message
        assert [r.values["class_id"] for r in dataset.rows("classes")] == ["C1"]

    @pytest.mark.parametrize(
        "xml",
        [
            '<c r="D3"><f>40+2</f><v>42</v></c>',  # the result Excel saved is the value
            '<c r="E3" t="str"><f>IF(D3&gt;50,"大班","")</f><v></v></c>',  # a formula whose result is ""
        ],
    )
    def test_a_formula_with_its_computed_value_reads_as_that_value(self, tmp_path: Path, xml: str) -> None:
        """A formula whose result was saved reads as the result; an empty text result is no problem."""
        folder = write(tmp_path / "audit", {"schools.csv": SCHOOLS})
        self._classes_with_cell(folder, xml[6:8], xml)
        dataset = load(folder)
        assert dataset.problems == []
        sizes = {r.values["class_id"]: r.values["size"] for r in dataset.rows("classes")}
        assert sizes == {"C1": 40, "C2": 42 if xml.startswith('<c r="D3"') else 41}

    def test_white_space_inside_a_formula_cell_is_scanned_in_linear_time(self, tmp_path: Path) -> None:
        """200,000 spaces between a formula and its value (a few hundred bytes compressed): the scan for
        formulas without a result tried every split of the spaces (33 s for 160,000); now a blink."""
        folder = write(tmp_path / "audit", {"schools.csv": SCHOOLS})
        self._classes_with_cell(folder, "D3", '<c r="D3"><f>40+2</f>' + " " * 200_000 + "<v>42</v></c>")
        started = time.perf_counter()
        dataset = load(folder)
        assert time.perf_counter() - started < 5
        assert dataset.problems == [] and [r.values["size"] for r in dataset.rows("classes")] == [40, 42]

    def test_an_error_value_in_a_required_column_is_one_problem_not_also_a_missing_value(self, tmp_path: Path) -> None:
        """#DIV/0! in 班额: the cell's own problem, not "缺少必填项" beside it (the reader gave it as blank)."""
        folder = write(tmp_path / "audit", {"schools.csv": SCHOOLS})
        self._classes_with_cell(folder, "D3", "<c r='D3' t='e'><f>1/0</f><v>#DIV/0!</v></c>")
        dataset = load(folder)
        assert where(dataset.problems) == [("classes.xlsx[classes]", 3, "班额", "xlsx_error_value")]

    def test_a_row_of_nothing_but_error_values_is_a_refused_row_not_a_blank_one(self, tmp_path: Path) -> None:
        """The reader gives such a row as blank, which was dropped as a blank row with its errors."""
        folder = write(tmp_path / "audit", {"schools.csv": SCHOOLS})
        errors = "".join(f"<c r='{c}3' t='e'><v>#N/A</v></c>" for c in "ABCDE")
        self._classes_with_cell(folder, "A3", errors)
        for column in "BCDE":  # the rest of row 3 is replaced by the error cells above
            self._rewrite(folder, rf'<c r="{column}3"[^>]*>.*?</c>', "")
        dataset = load(folder)
        assert {p.line for p in dataset.problems if p.code == "xlsx_error_value"} == {3}
        assert len([p for p in dataset.problems if p.code == "xlsx_error_value"]) == 5
        read, loaded, rejected = counts(dataset)["classes.xlsx[classes]"]
        assert (read, loaded, rejected) == (2, 1, 1)

    def test_numbers_and_text_cells(self, tmp_path: Path) -> None:
        """Integer cells of text columns load as their digits; an extra column of numbers as numbers."""
        folder = write(tmp_path / "audit", {})
        workbook(
            folder / "schools.xlsx",
            {
                "Sheet1": [
                    ["学校代码", "学校名称", "区县", "乡镇", "办学类型", "办学性质", "在校生"],
                    [4502000001, "甲", "城中区", "城中街道", "小学", "公办", 1200],
                ]
            },
        )
        (record,) = load(folder).rows("schools")
        assert (record.values["school_id"], record.extra) == ("4502000001", {"在校生": 1200})

    def test_empty_extra_sheet_does_not_hide_the_others(self, tmp_path: Path) -> None:
        """An empty `Sheet2` (as Excel templates have) does not stop the kind sheets from loading."""
        folder = write(tmp_path / "audit", {})
        workbook(folder / "data.xlsx", {"学校": self.SCHOOL_ROWS, "班级": self.CLASS_ROWS, "Sheet2": []})
        dataset = load(folder)
        assert dataset.problems == []
        assert counts(dataset) == {"data.xlsx[学校]": (1, 1, 0), "data.xlsx[班级]": (1, 1, 0)}


class TestAllProblemsAtOnce:
    def test_three_bad_rows_give_three_problems_in_order(self, tmp_path: Path) -> None:
        """Three different bad rows of one file are all reported, sorted by file and row."""
        files = {
            "schools.csv": SCHOOLS_HEADER + ",许可证有效期至\n"
            "S1,甲,城中区,城中街道,小学,公办,\n"
            "S2,乙,城中区,城中街道,大学,公办,\n"
            "S3,丙,城中区,城中街道,小学,公办,2025年2月30日\n"
            "S4,,城中区,城中街道,小学,公办,\n"
            "S5,戊,城中区,城中街道,小学,公办,\n",
            "classes.csv": CLASSES_HEADER + "\nC1,S1,13,40\nC2,S1,3,40\n",
        }
        dataset = load_files(tmp_path, files)
        assert where(dataset.problems) == [
            ("classes.csv", 2, "年级", "grade"),
            ("schools.csv", 3, "办学类型", "enum"),
            ("schools.csv", 4, "许可证有效期至", "date_parsing"),
            ("schools.csv", 5, "学校名称", "missing"),
        ]
        assert dataset.problems[3].message == "缺少必填项"
        assert counts(dataset) == {"schools.csv": (5, 2, 3), "classes.csv": (2, 1, 1)}

    def test_rows_are_ordered_numerically(self, tmp_path: Path) -> None:
        """Row 10 comes after row 9, not after row 1."""
        rows = "".join(f"C{i},S1,3,{'x' if i in (1, 9) else 40}\n" for i in range(1, 10))
        dataset = load_files(tmp_path, {"schools.csv": SCHOOLS, "classes.csv": CLASSES_HEADER + "\n" + rows})
        assert [p.line for p in dataset.problems] == [2, 10]


# -- audit.yaml ------------------------------------------------------------------------------------


def config_problems(tmp_path: Path, text: str) -> tuple[Problem, ...]:
    (tmp_path / "audit.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(DataError) as info:
        load_config(tmp_path)
    return info.value.problems


class TestAuditConfig:
    def test_valid_config_and_defaults(self, tmp_path: Path) -> None:
        """name, as_of and region suffice; packs default to core, params to none."""
        (tmp_path / "audit.yaml").write_text("name: 测试\nas_of: 2025-12-01\nregion: 柳州市\n", encoding="utf-8")
        config = load_config(tmp_path)
        assert (config.name, config.as_of, config.region) == ("测试", dt.date(2025, 12, 1), "柳州市")
        assert config.packs == ("core",)
        assert config.params == {}

    @pytest.mark.parametrize("spelling", ["2025年12月1日", "2025/12/01", "'2025-12-01'"])
    def test_as_of_spellings(self, tmp_path: Path, spelling: str) -> None:
        """as_of accepts the same date spellings as the data, the Chinese one included."""
        (tmp_path / "audit.yaml").write_text(f"name: 测试\nas_of: {spelling}\nregion: 柳州市\n", encoding="utf-8")
        assert load_config(tmp_path).as_of == dt.date(2025, 12, 1)

    def test_missing_file(self, tmp_path: Path) -> None:
        """A folder without audit.yaml is a missing_file problem."""
        with pytest.raises(DataError) as info:
            load_config(tmp_path)
        assert where(info.value.problems) == [("audit.yaml", 0, "", "missing_file")]
        assert "缺少 audit.yaml" in info.value.problems[0].message

    def test_missing_folder(self, tmp_path: Path) -> None:
        """A folder that does not exist is reported as such."""
        with pytest.raises(DataError) as info:
            load_config(tmp_path / "nowhere")
        assert [p.code for p in info.value.problems] == ["missing_folder"]

    def test_yaml_syntax_error_is_located(self, tmp_path: Path) -> None:
        """A stray `: ` is a YAML syntax error at its line and column."""
        problems = config_problems(tmp_path, "name: 测试\nas_of: 2025-12-01\nregion: 柳州: 市\n")
        assert [(p.file, p.line, p.column, p.code) for p in problems] == [("audit.yaml", 3, 11, "yaml")]
        assert problems[0].message.startswith("YAML 语法错误：")

    def test_unknown_key_is_located(self, tmp_path: Path) -> None:
        """`regoin:` is an unknown key at its line, and `region` is missing."""
        problems = config_problems(tmp_path, "name: 测试\nas_of: 2025-12-01\nregoin: 柳州市\n")
        assert [(p.file, p.line, p.field, p.code) for p in problems] == [
            ("audit.yaml", 1, "region", "missing"),
            ("audit.yaml", 3, "regoin", "extra_forbidden"),
        ]
        assert problems[1].message == "未知字段（是否拼写错误？）"

    def test_bad_as_of(self, tmp_path: Path) -> None:
        """An unreadable as_of is reported at its line with the accepted spellings."""
        problems = config_problems(tmp_path, "name: 测试\nas_of: 下个月\nregion: 柳州市\n")
        assert [(p.file, p.line, p.field, p.code) for p in problems] == [("audit.yaml", 2, "as_of", "date_parsing")]
        assert "2025年12月31日" in problems[0].message

    def test_impossible_as_of_date(self, tmp_path: Path) -> None:
        """`as_of: 2025-13-01` is a located problem, not a crash."""
        problems = config_problems(tmp_path, "name: 测试\nas_of: 2025-13-01\nregion: 柳州市\n")
        assert [(p.file, p.line, p.field) for p in problems] == [("audit.yaml", 2, "as_of")]

    def test_duplicate_key(self, tmp_path: Path) -> None:
        """A key written twice is refused at the second (YAML would silently keep the last)."""
        problems = config_problems(tmp_path, "name: 测试\nas_of: 2025-12-01\nregion: 柳州市\nname: 又一个\n")
        assert [(p.file, p.line, p.code) for p in problems] == [("audit.yaml", 4, "yaml")]
        assert "键“name”重复" in problems[0].message

    def test_bad_param_value_is_one_problem(self, tmp_path: Path) -> None:
        """A param value of no allowed shape gives one problem, not one per alternative type."""
        problems = config_problems(
            tmp_path, "name: 测试\nas_of: 2025-12-01\nregion: 柳州市\nparams:\n  large_min: {a: [1]}\n"
        )
        assert [(p.line, p.field) for p in problems] == [(5, "params.large_min")]
        assert problems[0].message == "参数值应为数值、文本、是/否、文本列表或“键: 数值”映射"

    def test_empty_packs(self, tmp_path: Path) -> None:
        """`packs: []` needs at least one pack."""
        problems = config_problems(tmp_path, "name: 测试\nas_of: 2025-12-01\nregion: 柳州市\npacks: []\n")
        assert [(p.line, p.field, p.code) for p in problems] == [(4, "packs", "too_short")]

    def test_not_a_mapping(self, tmp_path: Path) -> None:
        """A list instead of a mapping is reported once."""
        problems = config_problems(tmp_path, "- name\n- as_of\n")
        assert [(p.line, p.code) for p in problems] == [(1, "type")]

    def test_all_problems_at_once(self, tmp_path: Path) -> None:
        """Several bad keys are reported together, in line order."""
        problems = config_problems(tmp_path, "name: ''\nas_of: 昨天\nregion: 柳州市\ntarget_year: 明年\n")
        assert [(p.line, p.field) for p in problems] == [(1, "name"), (2, "as_of"), (4, "target_year")]


class TestShortColumns:
    """A short table's columns (≤ `SMALL_TABLE` rows) are parsed cell by cell, a long one's by
    their distinct spellings, mapped in polars queries: both give the same typed values and the
    same located errors; and the text columns are found plain the same way either way."""

    CELLS = st.one_of(
        st.none(),
        st.sampled_from(
            ["56", "0", "-3", "1e5", "nan", "4.50", "12.345", "95%", "是", "否", "2025-12-01", "小学", "x"]
        ),
        st.text(alphabet="0123456789.-%e 是否", max_size=6),
    )

    # one column of each parser (type, precision, range, enumeration)
    COLUMNS = tuple(
        {
            (c.type, c.places, c.bounds, c.unit, tuple(c.enum or ())): c
            for kind in RECORD_KINDS.values()
            for c in kind.columns
            if c.type != "text"
        }.values()
    )

    @given(cells=st.lists(CELLS, max_size=40))
    @settings(max_examples=examples(60), deadline=None)
    def test_the_short_path_equals_the_columnar_one(self, cells: list[str | None]) -> None:
        """Every parser's column at once, as a table's columns are parsed side by side: the same
        values and errors cell by cell in Python (a short table) and in polars queries."""
        columns = {f"c{i}": column for i, column in enumerate(self.COLUMNS)}
        frame = pl.DataFrame({name: pl.Series(name, cells, dtype=pl.String) for name in columns})
        short, long = _short_and_long(loader._parse_columns, frame, columns)
        for name, column in columns.items():
            assert short[name][0].equals(long[name][0], check_names=True), column.name
            assert short[name][1].equals(long[name][1]), column.name

    @given(
        cells=st.lists(st.one_of(st.none(), st.text(alphabet="aZ1 \t\n\x00\x7f１Ａ\u200b_-.", max_size=5)), max_size=30)
    )
    @settings(max_examples=examples(60), deadline=None)
    def test_plain_text_columns_are_found_alike_in_python_and_in_polars(self, cells: list[str | None]) -> None:
        frame = pl.DataFrame({"c0": pl.Series(cells, dtype=pl.String), "c1": pl.Series(cells, dtype=pl.String)})
        columns = {"c0": True, "c1": False}  # an id column, a text column
        short, long = _short_and_long(loader._plain_columns, frame, columns)
        assert short == long


_T = TypeVar("_T")


def _short_and_long(function: Callable[[pl.DataFrame, Any], _T], frame: pl.DataFrame, columns: Any) -> tuple[_T, _T]:
    """`function(frame, columns)` as a short table takes it (cell by cell in Python) and as a long
    one does (polars queries)."""
    short = function(frame, columns)
    saved = loader.SMALL_TABLE
    loader.SMALL_TABLE = -1
    try:
        return short, function(frame, columns)
    finally:
        loader.SMALL_TABLE = saved


def _sniffed(head: str) -> str:
    """The delimiter as found before `_delimiter`'s shortcut: the sniffer, "," where it fails."""
    try:
        return str(csv.Sniffer().sniff(head, delimiters=",\t;").delimiter)
    except csv.Error:
        return ","


@settings(max_examples=examples(300), deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab1 ,;\t\"'\n甲")), max_size=80))
def test_delimiter_is_the_sniffers(head: str) -> None:
    """A head with no tab and no semicolon skips the sniffer and still gets its answer."""
    assert _delimiter(head) == _sniffed(head)


CELLS = st.lists(
    st.one_of(st.none(), st.text(alphabet=st.sampled_from(list("a1 \t\r\n\x00\x0b\x1f\x7f\x80é甲")))), max_size=6
)


@settings(max_examples=examples(200), deadline=None)
@given(CELLS)
def test_short_columns_are_searched_as_polars_searches(cells: list[str | None]) -> None:
    """A short column searched in Python finds a non-ASCII, folded or control character exactly where polars does."""
    raw = pl.Series("c", cells, dtype=pl.String)
    for pattern in (r"[^\x00-\x7f]", loader._FOLDED, loader._ID_CONTROL, loader._CONTROL):
        assert loader._any_match(raw, pattern) == bool(raw.str.contains(pattern).any()), pattern


# every Unicode White_Space character, the four separators Python counts as space and polars does
# not, a zero-width space (neither), the example mark and a cell over a small limit
_SHAPE_CELLS = st.one_of(
    st.none(),
    st.text(
        alphabet=st.sampled_from(
            [
                *"\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u200a\u2028\u2029\u202f\u205f\u3000",
                *"\x1c\x1d\x1e\x1f\u200b",
                *"a1甲",
            ]
        ),
        max_size=5,
    ),
    st.sampled_from(["示例：45", " 示例", "示例", "x示例", "abcdefgh"]),
)


@settings(max_examples=examples(300), deadline=None)
@given(rows=st.lists(st.lists(_SHAPE_CELLS, min_size=3, max_size=3), max_size=8), cell_chars=st.sampled_from([4, 100]))
def test_a_short_table_is_shaped_as_polars_shapes_a_long_one(rows: list[list[str | None]], cell_chars: int) -> None:
    """Below `readers.SMALL_TABLE` rows a table is stripped, blanked, measured and searched for the
    template's example in Python: the same header, rows, values and errors as the polars queries."""
    frame = pl.DataFrame(
        {f"c{i}": [row[i] for row in rows] for i in range(3)}, schema={f"c{i}": pl.String for i in range(3)}
    ).with_row_index(readers.ROW, offset=1)
    limits = Limits(cell_chars=cell_chars)

    def shaped() -> object:
        try:
            table = readers._table("t.csv", frame, "utf-8", limits)
        except readers.ReadError as error:
            return error.problem
        return table.header, table.frame.to_dicts(), table.frame.schema, table.problems

    short = shaped()
    saved = readers.SMALL_TABLE
    readers.SMALL_TABLE = -1
    try:
        long = shaped()
    finally:
        readers.SMALL_TABLE = saved
    assert short == long
