"""The entry workbook of `inspector template`: sheets, headers, example row, validations, formats,
comments and the 说明 sheet, read back with openpyxl; and a filled copy loads with the audit's loader."""

from __future__ import annotations

import datetime as dt
import io
import shutil
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from openpyxl.worksheet.worksheet import Worksheet

from inspector.cli import main
from inspector.entry.columns import DERIVED_COLUMNS, PackReads, pack_reads
from inspector.entry.examples import example
from inspector.entry.template import NOTES_SHEET, header_text, template_workbook
from inspector.records.config import AuditConfig
from inspector.records.loader import _parser, load_dataset
from inspector.records.regions import LIUZHOU
from inspector.records.schema import RECORD_KINDS
from inspector.rules.packs import DEFAULT_RULES_DIR
from inspector.rules.vocabulary import ENTITY_KINDS

CONFIG = AuditConfig(name="填报测试", as_of=dt.date(2025, 12, 1), region="柳州市")


@pytest.fixture(scope="module")
def plan_reads() -> PackReads:
    return pack_reads(["plan", "preschool"], DEFAULT_RULES_DIR)


@pytest.fixture(scope="module")
def core_reads() -> PackReads:
    return pack_reads(["core"], DEFAULT_RULES_DIR)


@pytest.fixture(scope="module")
def plan_book(plan_reads: PackReads) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(template_workbook(plan_reads, region="柳州市", divisions=LIUZHOU)))


@pytest.fixture(scope="module")
def core_book(core_reads: PackReads) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(template_workbook(core_reads, region="柳州市", divisions=LIUZHOU)))


def validations(sheet: Worksheet) -> dict[str, Any]:
    """Each column's data validation by the column's header."""
    headers = {cell.column_letter: cell.value for cell in sheet[1]}
    found = {}
    for validation in sheet.data_validations.dataValidation:
        (first, *_rest) = str(validation.sqref).split()
        letter = first.split(":")[0].rstrip("0123456789")
        assert str(validation.sqref) == f"{letter}2:{letter}1048576", "validation covers the example row and below"
        found[headers[letter]] = validation
    return found


class TestColumns:
    def test_every_derived_field_rests_on_declared_columns(self) -> None:
        """A derived field added to the vocabulary must say which columns it is computed from."""
        derived = {(name, info.path) for name, kind in ENTITY_KINDS.items() for info in kind.derived}
        cv = {("county_metric", "cv"), ("county_metric", "mean"), ("county_metric", "schools")}
        assert derived - cv == set(DERIVED_COLUMNS)
        for columns in DERIVED_COLUMNS.values():
            assert all(name in RECORD_KINDS[kind].by_name for kind, name in columns)

    def test_plan_and_preschool_read_statistics_but_not_safety(self, plan_reads: PackReads) -> None:
        """The tables are those the packs' rules and indicators read, statistics included."""
        assert plan_reads.kinds == ("schools", "classes", "teachers", "facilities", "county_stats", "city_stats")

    def test_rules_reading_a_column_through_an_indicator(self, plan_reads: PackReads) -> None:
        """班额 feeds the preschool class-size rate (an indicator over classes) and 毛入园率 its county rule."""
        assert "preschool.class-size-rate" in {r.id for r in plan_reads.rules_reading("classes", "size")}
        assert "preschool.gross-enrolment" in {
            r.id for r in plan_reads.rules_reading("county_stats", "preschool_gross_enrolment")
        }

    def test_related_record_fields(self, core_reads: PackReads) -> None:
        """A class rule's `school.type` is the schools table's 办学类型; a school's `safety.…` the safety table."""
        assert "class-size.large" in {r.id for r in core_reads.rules_reading("schools", "type")}
        assert {r.id for r in core_reads.rules_reading("safety", "escort_post")} == {"safety.escort-post"}
        assert "safety" in core_reads.kinds and "city_stats" not in core_reads.kinds


class TestDataSheets:
    def test_one_sheet_per_table_then_the_notes(self, plan_book: openpyxl.Workbook) -> None:
        """Sheets are named as the loader knows the kinds, in the data contract's order, 说明 last."""
        assert plan_book.sheetnames == ["学校", "班级", "教师", "办学条件", "区县统计", "全市统计", NOTES_SHEET]
        assert plan_book.active.title == "学校"

    def test_chinese_headers_with_units_and_a_frozen_header(self, plan_book: openpyxl.Workbook) -> None:
        """Row 1 is every column's Chinese label, its unit in brackets; the header and the id column are frozen."""
        for name in ("schools", "classes", "county_stats"):
            kind = RECORD_KINDS[name]
            sheet = plan_book[kind.label]
            assert [c.value for c in sheet[1]] == [header_text(c) for c in kind.columns]
            assert sheet.freeze_panes == "B2"
        assert plan_book["班级"]["D1"].value == "班额（人）"
        assert plan_book["区县统计"]["C1"].value == "学前三年毛入园率（%）"

    def test_example_row_is_marked(self, plan_book: openpyxl.Workbook) -> None:
        """Row 2 holds an example in every column, each cell starting with 示例：."""
        row = [c.value for c in plan_book["班级"][2]]
        assert row == ["示例：4502020001-0301", "示例：4502020001", "示例：3", "示例：45"]
        assert all(str(c.value).startswith("示例：") for c in plan_book["学校"][2])
        assert "不会被读入" in plan_book["学校"]["A2"].comment.text

    def test_every_example_is_a_valid_value(self) -> None:
        """Each column's example parses with the loader's own parser for that column."""
        for kind in RECORD_KINDS.values():
            for column in kind.columns:
                if column.type != "text":
                    _parser(column)(example(column))

    def test_dropdowns_for_enumerations_booleans_grades_and_divisions(self, plan_book: openpyxl.Workbook) -> None:
        """Lists: 办学类型 words, 是/否, grades, and the region's ten divisions for 区县."""
        schools = validations(plan_book["学校"])
        assert schools["办学类型"].type == "list"
        assert (
            schools["办学类型"].formula1
            == '"幼儿园,小学,初级中学,九年一贯制学校,完全中学,高级中学,十二年一贯制学校,中等职业学校,特殊教育学校"'
        )
        assert schools["是否普惠"].formula1 == '"是,否"'
        assert schools["区县"].formula1 == '"' + ",".join(LIUZHOU) + '"'
        assert validations(plan_book["区县统计"])["区县"].formula1 == schools["区县"].formula1
        assert validations(plan_book["班级"])["年级"].formula1 == '"小班,中班,大班,混合班,1,2,3,4,5,6,7,8,9,10,11,12"'

    def test_numbers_and_dates_are_bounded(self, plan_book: openpyxl.Workbook) -> None:
        """Counts are whole numbers in range, rates fractions in range (a gross ratio up to 200%), dates bounded."""
        size = validations(plan_book["班级"])["班额（人）"]
        assert (size.type, size.formula1, size.formula2) == ("whole", "0", "300")
        gross = validations(plan_book["区县统计"])["学前三年毛入园率（%）"]
        assert (gross.type, float(gross.formula1), float(gross.formula2)) == ("decimal", 0.05, 2.0)
        rate = validations(plan_book["区县统计"])["九年义务教育巩固率（%）"]
        assert (float(rate.formula1), float(rate.formula2)) == (0.0, 1.0)
        area = validations(plan_book["办学条件"])["体育运动场馆面积（㎡）"]
        assert (area.type, float(area.formula2)) == ("decimal", 10_000_000.0)
        licence = validations(plan_book["学校"])["许可证有效期至"]
        assert licence.type == "date"
        assert all(v.promptTitle and v.prompt for v in validations(plan_book["学校"]).values())

    def test_ids_are_unique_and_school_codes_are_offered(self, plan_book: openpyxl.Workbook) -> None:
        """A duplicate id is refused on entry; a class's 学校代码 is offered from the 学校 sheet (a warning, not a stop)."""
        schools = validations(plan_book["学校"])["学校代码"]
        assert (schools.type, schools.formula1) == ("custom", "COUNTIF($A:$A,A2)=1")
        classes = validations(plan_book["班级"])["学校代码"]
        assert (classes.type, classes.errorStyle) == ("list", "warning")
        assert classes.formula1 == "'学校'!$A$3:$A$20002"

    def test_number_formats(self, plan_book: openpyxl.Workbook) -> None:
        """Ids are text (leading zeros kept), counts whole, areas at their decimals, rates as percentages, dates ISO."""
        formats = {
            name: sheet.column_dimensions
            for name, sheet in ((s, plan_book[s]) for s in ("学校", "班级", "办学条件", "区县统计"))
        }
        assert formats["学校"]["A"].number_format == "@"
        assert formats["班级"]["D"].number_format == "0"
        assert formats["办学条件"]["C"].number_format == "0.00"
        assert formats["区县统计"]["C"].number_format == "0.00%"
        assert formats["学校"]["H"].number_format == "yyyy-mm-dd"

    def test_header_comments_say_what_to_write_and_who_reads_it(self, plan_book: openpyxl.Workbook) -> None:
        """Each header's comment gives type, unit, range, example and the rules reading the column."""
        text = plan_book["班级"]["D1"].comment.text
        for expected in ("类型：整数；必填", "单位：人", "合理范围：0–300", "示例：45", "preschool.class-size-rate"):
            assert expected in text
        assert "允许值：幼儿园、小学" in plan_book["学校"]["E1"].comment.text
        assert "所选规则包不读取" in plan_book["学校"]["I1"].comment.text  # 城乡类型: no plan or preschool rule


class TestNotesSheet:
    def test_lists_every_column_with_its_rules(self, plan_book: openpyxl.Workbook) -> None:
        """One row per column of every data sheet: table, header, type, unit, precision, range, required,
        allowed values, example and the rules (id and title) that read it."""
        sheet = plan_book[NOTES_SHEET]
        rows = [[c.value for c in row] for row in sheet.iter_rows()]
        top = next(i for i, row in enumerate(rows) if row[0] == "表")
        assert rows[top] == [
            "表",
            "表头",
            "字段名",
            "类型",
            "单位",
            "精度",
            "合理范围",
            "必填",
            "允许值",
            "示例",
            "读取该列的规则",
        ]
        body = {(row[0], row[2]): row for row in rows[top + 1 :]}
        expected = {
            (RECORD_KINDS[k].label, c.name)
            for k in ("schools", "classes", "teachers", "facilities", "county_stats", "city_stats")
            for c in RECORD_KINDS[k].columns
        }
        assert set(body) == expected
        size = body[("班级", "size")]
        assert size[1:10] == ["班额（人）", "size", "整数", "人", "整数", "0–300", "是", "", "45"]
        assert "\npreschool.class-size-rate " in size[10]  # id and title, one rule a line
        rate = body[("区县统计", "preschool_gross_enrolment")]
        assert rate[3:7] == ["比率（可超过100%）", "%", "0.01%", "5%–200%"]
        assert body[("学校", "type")][8].startswith("幼儿园、小学")
        assert "inspector check" in "".join(str(row[0]) for row in rows[:top])


class TestRoundTrip:
    def test_untouched_template_loads_with_no_rows_and_no_problems(self, plan_reads: PackReads, tmp_path: Path) -> None:
        """The example rows are not data: an empty template is an empty, valid dataset."""
        (tmp_path / "填报模板.xlsx").write_bytes(template_workbook(plan_reads, region="柳州市", divisions=LIUZHOU))
        dataset = load_dataset(tmp_path, CONFIG)
        assert dataset.problems == []
        assert {i.source: i.rows_read for i in dataset.inputs} == {
            f"填报模板.xlsx[{RECORD_KINDS[k].label}]": 0 for k in plan_reads.kinds
        }

    def test_examples_with_the_mark_removed_load_as_one_consistent_dataset(
        self, core_book: openpyxl.Workbook, tmp_path: Path
    ) -> None:
        """Every sheet's example, typed as data, loads: ids, references and ranges agree across sheets."""
        for name in core_book.sheetnames[:-1]:
            sheet = core_book[name]
            for cell in sheet[2]:
                sheet.cell(row=3, column=cell.column, value=str(cell.value).removeprefix("示例："))
        core_book.save(tmp_path / "填报.xlsx")
        dataset = load_dataset(tmp_path, CONFIG)
        assert dataset.problems == []
        assert {i.kind: i.rows_loaded for i in dataset.inputs} == {
            "schools": 1,
            "classes": 1,
            "teachers": 1,
            "safety": 1,
        }


class TestCommand:
    def test_writes_the_workbook_and_never_overwrites_without_force(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """`inspector template` writes the workbook; a second run refuses the existing file (exit 2) unless --force."""
        out = tmp_path / "填报模板.xlsx"
        assert main(["template", "--packs", "core", "--out", str(out)]) == 0
        assert "已生成填报模板" in capsys.readouterr().out
        assert openpyxl.load_workbook(out).sheetnames == ["学校", "班级", "教师", "安全", NOTES_SHEET]
        out.write_bytes(b"filled in by a school")
        assert main(["template", "--packs", "core", "--out", str(out)]) == 2
        assert "已存在" in capsys.readouterr().err and out.read_bytes() == b"filled in by a school"
        assert main(["template", "--packs", "core", "--out", str(out), "--force"]) == 0

    def test_region_and_divisions_from_audit_yaml(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """--config takes the region, its declared divisions and the packs from an audit.yaml."""
        (tmp_path / "audit.yaml").write_text(
            "name: 甲市督导\nas_of: 2025-12-01\nregion: 甲市\npacks: [core]\n"
            "divisions:\n  - {name: 东区}\n  - {name: 西县, aliases: [西]}\n",
            encoding="utf-8",
        )
        out = tmp_path / "甲市.xlsx"
        assert main(["template", "--config", str(tmp_path / "audit.yaml"), "--out", str(out)]) == 0
        book = openpyxl.load_workbook(out)
        assert book.sheetnames == ["学校", "班级", "教师", "安全", NOTES_SHEET]
        assert validations(book["学校"])["区县"].formula1 == '"东区,西县"'
        assert "区县下拉选项 2 个" in capsys.readouterr().out

    def test_unknown_region_has_no_county_dropdown(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """A region without a division list gets a free-text 区县 column, and is told so."""
        out = tmp_path / "t.xlsx"
        assert main(["template", "--packs", "core", "--region", "某某市", "--out", str(out)]) == 0
        county = validations(openpyxl.load_workbook(out)["学校"])["区县"]
        assert county.type is None and county.formula1 is None  # a prompt only
        assert "没有内置的区县名单" in capsys.readouterr().out

    def test_unknown_pack_is_a_usage_error(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """A misspelt pack is refused with the located message of the pack loader, exit 2."""
        assert main(["template", "--packs", "plam", "--out", str(tmp_path / "t.xlsx")]) == 2
        assert "plam" in capsys.readouterr().err
        assert not (tmp_path / "t.xlsx").exists()


def test_the_template_needs_no_checkout(tmp_path: Path) -> None:
    """The workbook is made from the installed rule packs (no file outside the package is read)."""
    rules = tmp_path / "rules"
    shutil.copytree(DEFAULT_RULES_DIR / "core", rules / "core")
    reads = pack_reads(["core"], rules)
    assert reads.kinds == ("schools", "classes", "teachers", "safety")
