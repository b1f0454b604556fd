"""rectification.xlsx: the 整改清单 as a workbook, an all-counties sheet and one sheet per county.

openpyxl stamps every zip entry with the time of writing (worksheets even through temporary
files) and `save_workbook` sets the document's modified time to now; the workbook is written here through openpyxl's `ExcelWriter` into a zip
whose entries all carry the audit's date, so the same findings.json gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
import io
import unicodedata
import zipfile
from copy import copy
from collections.abc import Mapping, Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

from ..output.escape import spreadsheet_text
from .names import sheet_title
from .rectification import list_rows, status_text
from .view import CITY, county_of

__all__ = ["COLUMNS", "ALL_SHEET", "NOTES_SHEET", "rectification_xlsx"]

ALL_SHEET = "全部区县"
NOTES_SHEET = "说明"

# (header, width in Excel character units: a Chinese character takes about two, row key or None)
COLUMNS: tuple[tuple[str, float, str | None], ...] = (
    ("序号", 5.5, "number"),
    ("区县", 12, "county"),
    ("乡镇", 10, "township"),
    ("学校代码", 12, "school_id"),
    ("学校", 22, "school"),
    ("问题", 40, "message"),
    ("严重程度", 9, "severity_label"),
    ("依据", 26, "basis"),
    ("整改要求", 34, "action"),
    ("责任主体", 20, "responsible"),
    ("整改期限", 11.5, "deadline"),
    ("状态", 9, "status"),
    ("整改落实情况", 20, None),  # left empty for the inspector's follow-up, on screen or on paper
    ("问题编号", 20, "id"),  # for tracing, not printed
    ("规则", 30, "rule"),
)
PRINTED = "整改落实情况"  # the last printed column
LINE_HEIGHT = 14.0  # points, for 10.5 pt text

_FONT = "宋体"
_HEADER_FONT = Font(name="黑体", size=11, bold=True, color="FFFFFF")
_HEADER_FILL = PatternFill("solid", fgColor="1F3A5F")
_BODY_FONT = Font(name=_FONT, size=10.5)
_WRAP = Alignment(wrap_text=True, vertical="top")
_CENTRE = Alignment(horizontal="center", vertical="top", wrap_text=True)
_THIN = Side(style="thin", color="BFC5CD")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
SEVERITY_STYLES = {
    "critical": (PatternFill("solid", fgColor="FDE3E1"), Font(name=_FONT, size=10.5, bold=True, color="B42318")),
    "major": (PatternFill("solid", fgColor="FEEBD6"), Font(name=_FONT, size=10.5, bold=True, color="B54708")),
    "minor": (PatternFill("solid", fgColor="FEF7C3"), Font(name=_FONT, size=10.5, color="7A5B00")),
}
_CENTRED = {"number", "severity_label", "deadline", "status"}


class _FixedTimeZip(zipfile.ZipFile):
    """A zip whose entries all carry one timestamp instead of the time of writing."""

    def __init__(self, file: io.BytesIO, stamp: tuple[int, int, int, int, int, int]) -> None:
        super().__init__(file, "w", zipfile.ZIP_DEFLATED)
        self._stamp = stamp

    def writestr(self, zinfo_or_arcname: Any, data: Any, compress_type: int | None = None, compresslevel: int | None = None) -> None:
        if not isinstance(zinfo_or_arcname, zipfile.ZipInfo):
            info = zipfile.ZipInfo(str(zinfo_or_arcname), date_time=self._stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            zinfo_or_arcname = info
        super().writestr(zinfo_or_arcname, data, compress_type, compresslevel)

    def write(self, filename: Any, arcname: Any = None, compress_type: int | None = None, compresslevel: int | None = None) -> None:
        # openpyxl writes worksheets through temporary files, whose mtime is the time of writing
        with open(filename, "rb") as handle:
            self.writestr(str(arcname or filename), handle.read())


def _text(value: Any) -> str:
    return spreadsheet_text(value)


def _lines(text: str, width: float) -> int:
    """Lines a wrapped cell takes: CJK characters are two width units, others one. Rows are given
    explicit heights because LibreOffice does not grow rows for wrapped text on opening a file."""
    units = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return max(1, -(-units // max(1, int(width) - 1)))


class _Styles:
    """Cell styles by role, each built once per workbook: openpyxl hashes every style object on
    each assignment, which made styling most of the cost of a large list."""

    def __init__(self) -> None:
        self._arrays: dict[tuple[str, str], StyleArray] = {}

    def apply(self, cell: Any, key: str, severity: str = "") -> None:
        array = self._arrays.get((key, severity))
        if array is not None:
            cell._style = copy(array)
            return
        if key == "header":
            cell.font, cell.fill, cell.alignment, cell.border = _HEADER_FONT, _HEADER_FILL, _CENTRE, _BORDER
        else:
            cell.font, cell.border = _BODY_FONT, _BORDER
            cell.alignment = _CENTRE if key in _CENTRED else _WRAP
            if key == "deadline":
                cell.number_format = "yyyy-mm-dd"
            if key == "severity_label" and severity in SEVERITY_STYLES:
                cell.fill, cell.font = SEVERITY_STYLES[severity]
        self._arrays[(key, severity)] = copy(cell._style)


def _sheet(ws: Worksheet, rows: Sequence[Mapping[str, Any]], title: str, with_status: bool, styles: _Styles) -> None:
    columns = [c for c in COLUMNS if with_status or c[2] != "status"]
    for index, (header, width, _key) in enumerate(columns, start=1):
        styles.apply(ws.cell(row=1, column=index, value=header), "header")
        ws.column_dimensions[get_column_letter(index)].width = width
    for number, row in enumerate(rows, start=1):
        line = number + 1
        lines = 1
        for index, (_header, width, key) in enumerate(columns, start=1):
            cell = ws.cell(row=line, column=index)
            value = number if key == "number" else row.get(key) if key else None
            if isinstance(value, (dt.date, int)):
                cell.value = value
            elif value is not None:
                cell.value = _text(value)
                cell.data_type = "s"  # never a formula, whatever the text
                lines = max(lines, _lines(cell.value, width))
            styles.apply(cell, key or "", row["severity"] if key == "severity_label" else "")
        ws.row_dimensions[line].height = lines * LINE_HEIGHT + 5
    last = get_column_letter(len(columns))
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{last}{len(rows) + 1}"
    ws.row_dimensions[1].height = 24
    ws.print_title_rows = "1:1"
    ws.print_area = f"A1:{get_column_letter([c[0] for c in columns].index(PRINTED) + 1)}{len(rows) + 1}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top, ws.page_margins.bottom = 0.7, 0.6
    ws.oddHeader.center.text = title.replace("&", "&&")  # & starts a header code
    ws.oddHeader.center.font = "黑体,Bold"
    ws.oddHeader.center.size = 12
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"


def _notes(ws: Worksheet, document: Mapping[str, Any], source_sha256: str, edition: str) -> None:
    audit = document["audit"]
    lines: list[tuple[str, Any]] = [
        ("督导名称", audit["name"]),
        ("督导基准日", dt.date.fromisoformat(audit["as_of"])),
        ("督导区域", audit["region"]),
        ("版本", edition),
        ("问题总数", document["summary"]["total"]),
        ("生成依据", f"findings.json sha256 {source_sha256}"),
    ]
    lines += [("规则包", f"{p['id']} {p['version']} sha256 {p['sha256']}") for p in audit["packs"]]
    lines += [("输入文件", f"{i['file']}：读取 {i['rows_read']} 行，载入 {i['rows_loaded']} 行，sha256 {i['sha256']}") for i in audit["inputs"]]
    lines += [
        ("工具版本", "；".join(f"{k} {v}" for k, v in audit["tool"].items())),
        ("单引号", "以 ' 开头的单元格：原文以 = + - @ 等开头，为防止被当作公式执行而加了单引号，内容未作其他改动。"),
        ("整改落实情况", "供督学跟踪整改进展时填写。"),
    ]
    ws.column_dimensions["A"].width = 14
    ws.column_dimensions["B"].width = 110
    for line, (label, value) in enumerate(lines, start=1):
        head = ws.cell(row=line, column=1, value=label)
        head.font = Font(name="黑体", size=10.5, bold=True)
        head.alignment = _WRAP
        cell = ws.cell(row=line, column=2)
        if isinstance(value, (dt.date, int)):
            cell.value = value
            if isinstance(value, dt.date):
                cell.number_format = "yyyy-mm-dd"
            cell.alignment = Alignment(horizontal="left", vertical="top")
        else:
            cell.value = _text(value)
            cell.data_type = "s"
            cell.alignment = _WRAP
        cell.font = _BODY_FONT


def rectification_xlsx(document: Mapping[str, Any], source_sha256: str) -> bytes:
    """The workbook's bytes: byte-identical for the same document."""
    as_of = dt.date.fromisoformat(document["audit"]["as_of"])
    stamp = dt.datetime(as_of.year, as_of.month, as_of.day)
    county = (document.get("edition") or {}).get("county")
    findings = document["findings"]
    with_status = any(status_text(f) for f in findings)
    title = f"{document['audit']['name']} 整改清单" + (f"（{county}）" if county else "")

    workbook = Workbook()
    workbook.properties.creator = workbook.properties.lastModifiedBy = "inspector"
    workbook.properties.title = title
    workbook.properties.created = workbook.properties.modified = stamp
    taken: set[str] = {NOTES_SHEET.lower()}
    styles = _Styles()
    first = workbook.active
    assert first is not None
    if county:
        first.title = sheet_title(county, taken)
        _sheet(first, list_rows(findings), title, with_status, styles)
    else:
        first.title = sheet_title(ALL_SHEET, taken)
        _sheet(first, list_rows(findings), title, with_status, styles)
        by_county: dict[str, list[Mapping[str, Any]]] = {}
        for finding in findings:
            by_county.setdefault(county_of(finding), []).append(finding)
        for name in sorted(by_county, key=lambda n: (n != CITY, n)):
            ws = workbook.create_sheet(sheet_title(name, taken))
            _sheet(ws, list_rows(by_county[name]), f"{document['audit']['name']} 整改清单（{name}）", with_status, styles)
    _notes(workbook.create_sheet(NOTES_SHEET), document, source_sha256, f"区县版（{county}）" if county else "全市")

    buffer = io.BytesIO()
    ExcelWriter(workbook, _FixedTimeZip(buffer, stamp.timetuple()[:6])).save()
    return buffer.getvalue()
