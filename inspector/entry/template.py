"""The entry workbook (填报模板): one sheet per table the chosen packs read, and a 说明 sheet.

Each data sheet has the data contract's Chinese headers, with the unit in brackets (`班额（人）`,
which the loader accepts), a comment on every header (type, unit, precision, range, allowed
values, the rules that read it) and an example row under it whose cells start with `示例：` (the
loader skips that row and rejects a `示例：` cell anywhere else). Enumerations, yes/no columns,
grades and the region's divisions get dropdowns; numbers, rates and dates get their number
format and their plausible range as data validation; ids are text, so `0012` stays `0012`;
school codes in the other sheets are offered from the 学校 sheet. The header row is frozen.

Validation in the workbook only helps whoever types: pasted cells bypass it. `inspector check`
is the check that counts, with the audit's own loader.
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from ..numbers import shortest
from ..records.readers import EXAMPLE_MARK
from ..records.regions import Divisions
from ..records.schema import RECORD_KINDS, Column, RecordKind
from ..records.values import KINDERGARTEN_GRADES, MAX_DATE, MIN_DATE
from .columns import PackReads
from .examples import example

__all__ = ["NOTES_SHEET", "TEMPLATE_ROWS", "header_text", "precision_text", "range_text", "template_workbook"]

NOTES_SHEET = "说明"
TEMPLATE_ROWS = 1_048_576  # validation and formats reach Excel's last row
SCHOOL_LIST_ROWS = 20_000  # how far down the 学校 sheet the school-code dropdown of the other sheets looks
_FONT = "宋体"
_TYPES = {
    "text": "文本",
    "int": "整数",
    "decimal": "数值",
    "rate": "比率",
    "bool": "是/否",
    "date": "日期",
    "enum": "选项",
    "grade": "年级",
}
_GRADES = (*KINDERGARTEN_GRADES, *(str(n) for n in range(1, 13)))
_BOOLS = ("是", "否")
_NOTES_COLUMNS = (
    ("表", 11),
    ("表头", 26),
    ("字段名", 22),
    ("类型", 7),
    ("单位", 7),
    ("精度", 9),
    ("合理范围", 23),
    ("必填", 6),
    ("允许值", 30),
    ("示例", 18),
    ("读取该列的规则", 60),
)


def header_text(column: Column) -> str:
    """The header the workbook writes: the Chinese label, with the unit in brackets when it has one."""
    return f"{column.label}（{column.unit}）" if column.unit else column.label


def _width(text: str) -> float:
    """Display width in Excel's character units: a wide (Chinese) character counts two."""
    return float(sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text))


def _number(value: object, column: Column) -> str:
    if column.type == "rate":
        return f"{shortest(value * 100, 2)}%"  # type: ignore[operator]
    return shortest(value, column.places)  # type: ignore[arg-type]


def precision_text(column: Column) -> str:
    """How precisely a number is kept (`整数`, `2 位小数`, `0.01%`), or "" for other columns."""
    if column.type == "int":
        return "整数"
    if column.type == "decimal":
        return f"{column.places} 位小数"
    if column.type == "rate":
        return f"{shortest(Fraction(100, column.scale), 4)}%"
    return ""


def range_text(column: Column) -> str:
    """The plausible range as the workbook shows it (`0–300`, `5%–200%`), or ""."""
    if column.type == "date":
        return f"{MIN_DATE.isoformat()} 至 {MAX_DATE.isoformat()}"
    low, high = column.bounds
    if low is None and high is None:
        return ""
    if low is not None and high is not None:
        return f"{_number(low, column)}–{_number(high, column)}"
    return f"≥ {_number(low, column)}" if low is not None else f"≤ {_number(high, column)}"


def _allowed(column: Column, kind: RecordKind, divisions: Divisions | None) -> tuple[str, ...]:
    """The dropdown's items, or () for a column without one."""
    if column.enum:
        return tuple(column.enum.values())
    if column.type == "bool":
        return _BOOLS
    if column.type == "grade":
        return _GRADES
    if column.name == "county" and divisions is not None and len(divisions):
        return tuple(divisions)
    return ()


@dataclass(frozen=True)
class _Entry:
    """One column as the workbook presents it."""

    kind: RecordKind
    column: Column
    index: int
    allowed: tuple[str, ...]
    rules: tuple[str, ...]  # `id 标题` of every rule reading it
    example: str

    @property
    def header(self) -> str:
        return header_text(self.column)

    @property
    def letter(self) -> str:
        return str(xl_col_to_name(self.index))

    @property
    def is_id(self) -> bool:
        return self.column.unique or bool(self.column.references) or self.column.name in self.kind.key_columns

    def type_text(self) -> str:
        text = _TYPES[self.column.type]
        if self.column.type == "rate" and (self.column.bounds[1] or 0) > 1:
            text += "（可超过100%）"
        return text

    def role(self) -> str:
        """Why a column no chosen rule reads is still there."""
        if self.rules:
            return ""
        if self.column.unique or self.column.references or self.column.name in self.kind.key_columns:
            return "用于识别、关联记录"
        if self.column.required:
            return "必填（数据规范要求）"
        return "所选规则包不读取，可不填"

    def note(self) -> str:
        """The header's comment: everything a person filling the column needs, in a few lines."""
        column = self.column
        lines = [
            f"{column.label}（字段名 {column.name}）",
            f"类型：{self.type_text()}" + ("；必填" if column.required else "；可空"),
        ]
        if column.unit:
            lines.append(f"单位：{column.unit}")
        if column.type == "decimal":
            lines.append(f"最多 {column.places} 位小数")
        if column.type == "rate":
            lines.append("填 95%、95 或 0.95 均表示 95%；精确到 0.01%")
        span = range_text(column)
        if span:
            lines.append(f"合理范围：{span}")
        if self.allowed:
            lines.append("允许值：" + "、".join(self.allowed))
        if column.references:
            target, _, field = column.references.partition(".")
            target_kind = RECORD_KINDS[target]
            where = target_kind.by_name[field].label if field else target_kind.key.label
            lines.append(f"须见于“{target_kind.label}”表的{where}")
        if column.unique:
            lines.append("不得重复")
        lines.append(f"示例：{self.example}")
        if self.rules:
            shown = list(self.rules[:8]) + ([f"…… 共 {len(self.rules)} 条，见“说明”表"] if len(self.rules) > 8 else [])
            lines.append("读取该列的规则：\n  " + "\n  ".join(shown))
        else:
            lines.append(self.role())
        return "\n".join(lines)

    def prompt(self) -> str:
        """The short prompt shown when the cell is selected (Excel allows 255 characters)."""
        parts = [self.type_text()]
        if self.column.unit:
            parts.append(f"单位 {self.column.unit}")
        if self.column.type == "decimal":
            parts.append(f"最多 {self.column.places} 位小数")
        span = range_text(self.column)
        if span:
            parts.append(f"范围 {span}")
        parts.append("必填" if self.column.required else "可空")
        return "；".join(parts)[:255]


class _Formats:
    def __init__(self, book: Workbook) -> None:
        base = {"font_name": _FONT, "font_size": 10.5, "valign": "vcenter"}
        header = {**base, "bold": True, "text_wrap": True, "align": "center", "border": 1, "border_color": "#9AA5B1"}
        self.required = book.add_format({**header, "bg_color": "#1F4E79", "font_color": "#FFFFFF"})
        self.optional = book.add_format({**header, "bg_color": "#D9E7F5", "font_color": "#1F2933"})
        self.unread = book.add_format({**header, "bg_color": "#EEEEEE", "font_color": "#7B8794"})
        self.example = book.add_format(
            {**base, "italic": True, "font_color": "#8C6D1F", "bg_color": "#FFF7D6", "num_format": "@"}
        )
        self.cells = {
            "text": book.add_format({**base, "num_format": "@"}),
            "plain": book.add_format(base),
            "int": book.add_format({**base, "num_format": "0"}),
            "rate": book.add_format({**base, "num_format": "0.00%"}),
            "date": book.add_format({**base, "num_format": "yyyy-mm-dd"}),
        }
        self.decimal: dict[int, Format] = {}
        self.book = book
        self.base = base
        self.title = book.add_format({**base, "bold": True, "font_size": 14})
        self.line = book.add_format({**base, "text_wrap": True, "valign": "top"})
        self.notes_header = book.add_format({**header, "bg_color": "#1F4E79", "font_color": "#FFFFFF"})
        self.notes_cell = book.add_format(
            {**base, "text_wrap": True, "valign": "top", "border": 1, "border_color": "#CBD2D9"}
        )

    def cell(self, column: Column, is_id: bool) -> Format:
        if column.type in ("int", "rate", "date"):
            return self.cells[column.type]
        if column.type == "decimal":
            if column.places not in self.decimal:
                self.decimal[column.places] = self.book.add_format(
                    {**self.base, "num_format": "0." + "0" * column.places}
                )
            return self.decimal[column.places]
        if column.type == "text" or is_id:
            return self.cells["text"]
        return self.cells["plain"]


def _validation(entry: _Entry, school_codes: str | None) -> dict[str, Any] | None:
    """The data validation of a column's cells, or None."""
    column = entry.column
    prompt = {"input_title": column.label[:32], "input_message": entry.prompt()}
    error = {"error_title": f"{column.label}填写有误"[:32]}
    if entry.allowed:
        items = list(entry.allowed)
        if sum(len(i) + 1 for i in items) - 1 > 255:
            raise ValueError(f"dropdown of {column.name} is longer than Excel's 255 characters")
        return {
            "validate": "list",
            "source": items,
            **prompt,
            **error,
            "error_message": ("请从下拉列表中选择：" + "、".join(items))[:224],
        }
    if column.references == "schools" and school_codes:
        return {
            "validate": "list",
            "source": school_codes,
            "error_type": "warning",
            **prompt,
            **error,
            "error_message": "该学校代码不在“学校”表中：请先在“学校”表填写该校，或检查代码。仍要输入吗？",
        }
    low, high = column.bounds
    if column.type in ("int", "decimal", "rate") and low is not None and high is not None:
        kind = "integer" if column.type == "int" else "decimal"
        return {
            "validate": kind,
            "criteria": "between",
            "minimum": float(low) if kind == "decimal" else int(low),
            "maximum": float(high) if kind == "decimal" else int(high),
            **prompt,
            **error,
            "error_message": f"应为{entry.type_text()}，合理范围 {range_text(column)}"
            + ("（可直接输入 95% 这样的百分数）" if column.type == "rate" else ""),
        }
    if column.type == "date":
        return {
            "validate": "date",
            "criteria": "between",
            "minimum": MIN_DATE,
            "maximum": MAX_DATE,
            **prompt,
            **error,
            "error_message": "应为日期，如 2025-12-31",
        }
    if column.unique:
        cell = f"{entry.letter}2"
        return {
            "validate": "custom",
            "value": f"=COUNTIF(${entry.letter}:${entry.letter},{cell})=1",
            **prompt,
            **error,
            "error_message": f"{column.label}重复：每个{column.label}只能出现一次",
        }
    return {"validate": "any", **prompt}


def _entries(kind: RecordKind, reads: PackReads, divisions: Divisions | None) -> list[_Entry]:
    county = next(iter(divisions), None) if divisions is not None else None
    return [
        _Entry(
            kind,
            column,
            index,
            _allowed(column, kind, divisions),
            tuple(f"{r.id} {r.title}" for r in reads.rules_reading(kind.name, column.name)),
            example(column, county),
        )
        for index, column in enumerate(kind.columns)
    ]


def _data_sheet(
    book: Workbook, formats: _Formats, kind: RecordKind, entries: Sequence[_Entry], school_codes: str | None
) -> Worksheet:
    sheet = book.add_worksheet(kind.label)
    sheet.set_row(0, 36)
    sheet.set_row(1, 18)
    for entry in entries:
        column = entry.column
        width = max(
            _width(entry.header) * 0.9,
            _width(EXAMPLE_MARK + entry.example) + 2,
            *(_width(a) + 3 for a in entry.allowed),
            8.0,
        )
        sheet.set_column(entry.index, entry.index, min(width, 36.0), formats.cell(column, entry.is_id))
        header = (
            formats.required
            if column.required
            else formats.optional
            if entry.rules or entry.role() != "所选规则包不读取，可不填"
            else formats.unread
        )
        sheet.write_string(0, entry.index, entry.header, header)
        sheet.write_comment(
            0,
            entry.index,
            entry.note(),
            {"author": "inspector", "x_scale": 2.6, "y_scale": 2.6, "font_name": _FONT, "font_size": 9},
        )
        sheet.write_string(1, entry.index, f"{EXAMPLE_MARK}{entry.example}", formats.example)
        validation = _validation(entry, school_codes)
        if validation is not None:
            sheet.data_validation(1, entry.index, TEMPLATE_ROWS - 1, entry.index, validation)
    sheet.write_comment(
        1,
        0,
        "本行为示例：每个单元格以“示例：”开头，不会被读入，可保留或删除。\n请从第 3 行起填写，每行一条记录。",
        {"author": "inspector", "x_scale": 2.2, "y_scale": 1.2, "font_name": _FONT, "font_size": 9},
    )
    sheet.freeze_panes(1, 1)
    sheet.set_landscape()
    sheet.set_paper(9)  # A4
    sheet.fit_to_pages(1, 0)
    sheet.repeat_rows(0, 1)
    sheet.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.5)
    return sheet


def _notes_sheet(
    book: Workbook,
    formats: _Formats,
    reads: PackReads,
    region: str | None,
    divisions: Divisions | None,
    tables: Sequence[tuple[RecordKind, Sequence[_Entry]]],
) -> None:
    sheet = book.add_worksheet(NOTES_SHEET)
    for index, (_, width) in enumerate(_NOTES_COLUMNS):
        sheet.set_column(index, index, width)
    sheet.write_string(0, 0, "填报说明", formats.title)
    area = region or "（未指定区域）"
    if divisions is not None and len(divisions):
        area += f"，区县下拉选项：{'、'.join(divisions)}"
    lines = [
        f"本工作簿由 inspector template 生成，规则包：{'、'.join(reads.packs)}；区域：{area}。",
        (
            f"每个数据表一个工作表（{'、'.join(kind.label for kind, _ in tables)}）。第 1 行是表头，请勿修改；"
            "第 2 行是示例（单元格以“示例：”开头，不会被读入，可保留或删除）；从第 3 行起每行填写一条记录。"
        ),
        (
            "表头颜色：深蓝为必填列；浅蓝为选填列；灰色为所选规则包不读取的选填列（可不填）。"
            "把鼠标停在表头上可看到该列的类型、单位、范围、允许值、示例和读取它的规则。"
        ),
        "比率填 95%、95 或 0.95 均表示 95%；日期填 2025-12-31；是/否列填“是”或“否”；代码按文本保存，前导 0 不会丢失。",
        "下拉列表和范围检查只在录入时提示，粘贴的内容不受检查。填好后请运行 inspector check 本文件：出错的单元格会标红并在批注中说明原因。",
    ]
    for row, line in enumerate(lines, start=1):
        sheet.merge_range(row, 0, row, len(_NOTES_COLUMNS) - 1, f"{row}. {line}", formats.line)
        sheet.set_row(row, 30)
    top = len(lines) + 2
    for index, (name, _) in enumerate(_NOTES_COLUMNS):
        sheet.write_string(top, index, name, formats.notes_header)
    row = top
    for kind, entries in tables:
        for entry in entries:
            row += 1
            column = entry.column
            values = (
                kind.label,
                entry.header,
                column.name,
                entry.type_text(),
                column.unit,
                precision_text(column),
                range_text(column),
                "是" if column.required else "否",
                "、".join(entry.allowed),
                entry.example,
                "\n".join(entry.rules) if entry.rules else entry.role(),
            )
            for index, value in enumerate(values):
                sheet.write_string(row, index, value, formats.notes_cell)
            allowed_lines = -(-int(_width(values[8])) // (_NOTES_COLUMNS[8][1] - 2)) if values[8] else 1
            sheet.set_row(row, 4.0 + 16.0 * max(1, len(entry.rules), allowed_lines))
    sheet.freeze_panes(top + 1, 0)
    sheet.autofilter(top, 0, row, len(_NOTES_COLUMNS) - 1)
    sheet.set_landscape()
    sheet.set_paper(9)
    sheet.fit_to_pages(1, 0)
    sheet.repeat_rows(top)


def template_workbook(reads: PackReads, *, region: str | None = None, divisions: Divisions | None = None) -> bytes:
    """The entry workbook for what `reads` says the packs read, as xlsx bytes."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(
        buffer, {"in_memory": True, "strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False}
    )
    book.set_properties(
        {
            "title": "督导数据填报模板",
            "subject": "、".join(reads.packs),
            "author": "inspector",
            "comments": "由 inspector template 生成",
        }
    )
    formats = _Formats(book)
    tables = [(RECORD_KINDS[name], _entries(RECORD_KINDS[name], reads, divisions)) for name in reads.kinds]
    schools = RECORD_KINDS["schools"]
    key = schools.columns.index(schools.key)
    school_codes = f"='{schools.label}'!${xl_col_to_name(key)}$3:${xl_col_to_name(key)}${SCHOOL_LIST_ROWS + 2}"
    first = None
    for kind, entries in tables:
        sheet = _data_sheet(book, formats, kind, entries, school_codes)
        first = first or sheet
    _notes_sheet(book, formats, reads, region, divisions, tables)
    if first is not None:
        first.activate()
    book.close()
    return buffer.getvalue()
