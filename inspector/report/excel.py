"""rectification.xlsx: the 整改清单 as a workbook, an all-counties sheet and one sheet per county.

xlsxwriter writes each sheet's frame (header row, column widths, formats, filter, print set-up)
in memory, a few KB a sheet (its constant-memory mode wrote them through a temporary file per
sheet: 200 files for a province, 0.07 s on a slow disk); the body rows, a province's tens of
thousands, are written here as SpreadsheetML straight into the sheet's `<sheetData>`, with
xlsxwriter's own style indices: xlsxwriter spends some 30 µs of Python on each cell, this writer
about 1 µs, and a cell a column repeats (a rule's basis, a county) is rendered once. The same
findings.json gives the same bytes: the document's dates are the audit's, and every zip entry
carries the audit's date too.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from ..output.escape import spreadsheet_text, xml_text
from .names import sheet_title
from .rectification import list_rows, status_text
from .view import CITY

__all__ = ["ALL_SHEET", "COLUMNS", "NOTES_SHEET", "rectification_xlsx"]

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
_SEVERITY_COLOURS = {
    "critical": ("#FDE3E1", "#B42318", True),
    "major": ("#FEEBD6", "#B54708", True),
    "minor": ("#FEF7C3", "#7A5B00", False),
}
_CENTRED = {"number", "severity_label", "deadline", "status"}
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")  # not allowed in XML 1.0


def _text(value: Any) -> str:
    """Cell text: formula triggers neutralised, characters XML cannot hold replaced by a space."""
    return _ILLEGAL.sub(" ", spreadsheet_text(value))


# runs of characters of East Asian width W or F (two width units): CJK, Hangul, full-width
# forms; matched as runs, since Chinese text is mostly such characters (one match per run, not
# one string object per character)
_WIDE = re.compile(
    "[\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf\uac00-\ud7a3"
    "\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6\U00020000-\U0003fffd]+"
)


def _lines(text: str, width: float) -> int:
    """Lines a wrapped cell takes: CJK characters are two width units, others one. Rows are given
    explicit heights because LibreOffice does not grow rows for wrapped text on opening a file."""
    units = len(text) + sum(map(len, _WIDE.findall(text)))
    return max(1, -(-units // max(1, int(width) - 1)))


class _Formats:
    """Cell formats by role, each made once per workbook."""

    def __init__(self, book: xlsxwriter.Workbook) -> None:
        border = {"border": 1, "border_color": "#BFC5CD"}
        body = {"font_name": _FONT, "font_size": 10.5, "valign": "top", "text_wrap": True, **border}
        self.header = book.add_format(
            {
                "font_name": "黑体",
                "font_size": 11,
                "bold": True,
                "font_color": "#FFFFFF",
                "bg_color": "#1F3A5F",
                "align": "center",
                "valign": "top",
                "text_wrap": True,
                **border,
            }
        )
        self.body = book.add_format(body)
        self.centred = book.add_format({**body, "align": "center"})
        self.date = book.add_format({**body, "align": "center", "num_format": "yyyy-mm-dd"})
        self.severity = {
            key: book.add_format({**body, "align": "center", "bg_color": fill, "font_color": colour, "bold": bold})
            for key, (fill, colour, bold) in _SEVERITY_COLOURS.items()
        }
        self.label = book.add_format(
            {"font_name": "黑体", "font_size": 10.5, "bold": True, "valign": "top", "text_wrap": True}
        )
        self.note = book.add_format({"font_name": _FONT, "font_size": 10.5, "valign": "top", "text_wrap": True})
        self.note_date = book.add_format(
            {"font_name": _FONT, "font_size": 10.5, "valign": "top", "align": "left", "num_format": "yyyy-mm-dd"}
        )
        self.note_number = book.add_format({"font_name": _FONT, "font_size": 10.5, "valign": "top", "align": "left"})
        for body_format in (self.body, self.centred, self.date, *self.severity.values()):
            # the body rows are written outside xlsxwriter: their formats must reach styles.xml
            body_format._get_xf_index()

    def of(self, key: str, severity: str = "") -> Format:
        if key == "severity_label" and severity in self.severity:
            return self.severity[severity]
        if key == "deadline":
            return self.date
        return self.centred if key in _CENTRED else self.body


_EPOCH = dt.date(1899, 12, 30)  # Excel's day 0 (as the 1900 date system counts after February 1900)
_LETTERS = tuple(chr(ord("A") + index) for index in range(len(COLUMNS)))


_HEADER_CODES = '&C&"黑体,Bold"&12'  # centred, bold, 12 pt
HEADER_LIMIT = 255  # Excel's, in UTF-16 code units: xlsxwriter drops a longer header with only a warning


def _utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def print_header(title: str) -> str:
    """The printed page header showing `title` (& doubled: it starts a header code), the title cut
    short with "…" where the whole would pass Excel's limit."""

    def header(text: str) -> str:
        return _HEADER_CODES + text.replace("&", "&&")

    if _utf16_units(header(title)) <= HEADER_LIMIT:
        return header(title)
    low, high = 0, len(title)  # the longest prefix that fits, by bisection (a name may be long)
    while low < high:
        middle = (low + high + 1) // 2
        if _utf16_units(header(title[:middle] + "…")) <= HEADER_LIMIT:
            low = middle
        else:
            high = middle - 1
    return header(title[:low] + "…")


def _sheet(
    ws: Worksheet,
    rows: Sequence[Mapping[str, Any]],
    title: str,
    with_status: bool,
    formats: _Formats,
    rendered: _Rendered,
) -> str:
    """Write the sheet's frame with xlsxwriter; return its body rows as SpreadsheetML."""
    columns = [c for c in COLUMNS if with_status or c[2] != "status"]
    for index, (_header, width, _key) in enumerate(columns):
        ws.set_column(index, index, width)
    ws.set_row(0, 24)
    for index, (header, _width, _key) in enumerate(columns):
        ws.write_string(0, index, header, formats.header)
    last = len(columns) - 1
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, len(rows), last)
    ws.repeat_rows(0)
    ws.print_area(0, 0, len(rows), [c[0] for c in columns].index(PRINTED))
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.fit_to_pages(1, 0)
    ws.center_horizontally()
    ws.set_margins(left=0.4, right=0.4, top=0.7, bottom=0.6)
    ws.set_header(print_header(title))
    ws.set_footer("&C第 &P 页，共 &N 页")
    number_style = formats.of("number").xf_index
    body: list[str] = []
    for number, row in enumerate(rows, start=2):  # as Excel counts, after the header
        cells = rendered.rows.get(row["id"])
        if cells is None:
            cells = rendered.rows[row["id"]] = _cells(row, columns[1:], formats, rendered.cells)
        row_cells, height = cells
        body.append(
            f'<row r="{number}" spans="1:{len(columns)}" ht="{height:.16g}" customHeight="1">'
            f'<c r="A{number}" s="{number_style}"><v>{number - 1}</v></c>'
        )
        body.append(row_cells.replace(_ROW, str(number)))
        body.append("</row>")
    return "".join(body)


@dataclass
class _Rendered:
    """Cells rendered once per workbook: each finding's row (it is on the all-counties sheet and its
    county's), each distinct cell of the `_REPEATING` columns."""

    rows: dict[str, tuple[str, float]] = field(default_factory=dict)
    cells: dict[tuple[int, int, Any], tuple[str, int]] = field(default_factory=dict)


_ROW = "\x00"  # the row number's place in a finding's rendered cells (XML text never holds NUL)


# columns whose texts repeat from finding to finding (a rule's basis and action, a county, a
# deadline): each distinct cell is rendered once per workbook (`_cells`' memo)
_REPEATING = frozenset({"county", "township", "severity_label", "basis", "action", "deadline", "status", "rule"})


def _cells(
    row: Mapping[str, Any],
    columns: Sequence[tuple[str, float, str | None]],
    formats: _Formats,
    memo: dict[tuple[int, int, Any], tuple[str, int]],
) -> tuple[str, float]:
    """One finding's cells after the row number, as SpreadsheetML with `_ROW` for the row number
    in their references (a finding is on two sheets, on a different row of each), and the row's
    height in points (whole pixels, as xlsxwriter rounds them). `memo` keeps the rendered cells
    of `_REPEATING` columns."""
    cells: list[str] = []
    lines = 1
    for index, (_header, width, key) in enumerate(columns, start=1):
        value = row.get(key) if key else None
        style = formats.of(key or "", row["severity"] if key == "severity_label" else "").xf_index
        shared = key in _REPEATING
        found = memo.get((index, style, value)) if shared else None
        if found is None:
            found = _cell(_LETTERS[index], style, value, width)
            if shared:
                memo[(index, style, value)] = found
        cells.append(found[0])
        lines = max(lines, found[1])
    pixels = int((lines * LINE_HEIGHT + 5) * 4 / 3 + 0.5)
    return "".join(cells), pixels * 0.75


def _cell(letter: str, style: int, value: Any, width: float) -> tuple[str, int]:
    """One cell as SpreadsheetML (`_ROW` for its row number), and the lines its text wraps to."""
    head = f'<c r="{letter}{_ROW}" s="{style}"'
    if isinstance(value, dt.date):
        return f"{head}><v>{(value - _EPOCH).days}</v></c>", 1
    if isinstance(value, int):
        return f"{head}><v>{value}</v></c>", 1
    if value is None:
        return f"{head}/>", 1
    text = _text(value)  # an inline string is never a formula, whatever the text
    space = ' xml:space="preserve"' if text != text.strip() else ""
    return f'{head} t="inlineStr"><is><t{space}>{xml_text(text)}</t></is></c>', _lines(text, width)


def _notes(ws: Worksheet, document: Mapping[str, Any], source_sha256: str, edition: str, formats: _Formats) -> None:
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
    lines += [
        ("输入文件", f"{i['file']}：读取 {i['rows_read']} 行，载入 {i['rows_loaded']} 行，sha256 {i['sha256']}")
        for i in audit["inputs"]
    ]
    lines += [
        ("工具版本", "；".join(f"{k} {v}" for k, v in audit["tool"].items())),
        ("单引号", "以 ' 开头的单元格：原文以 = + - @ 等开头，为防止被当作公式执行而加了单引号，内容未作其他改动。"),
        ("整改落实情况", "供督学跟踪整改进展时填写。"),
    ]
    ws.set_column(0, 0, 14)
    ws.set_column(1, 1, 110)
    for line, (label, value) in enumerate(lines):
        ws.write_string(line, 0, label, formats.label)
        if isinstance(value, dt.date):
            ws.write_datetime(line, 1, dt.datetime(value.year, value.month, value.day), formats.note_date)
        elif isinstance(value, int):
            ws.write_number(line, 1, value, formats.note_number)
        else:
            ws.write_string(line, 1, _text(value), formats.note)


def _stamped(data: bytes, stamp: tuple[int, int, int, int, int, int], bodies: Sequence[str]) -> bytes:
    """The workbook's zip with each sheet's body rows after its header row, and every entry dated
    `stamp` (xlsxwriter dates them 1980-01-01)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            sheet = re.fullmatch(r"xl/worksheets/sheet(\d+)\.xml", info.filename)
            if sheet and int(sheet.group(1)) <= len(bodies) and bodies[int(sheet.group(1)) - 1]:
                content = _with_body(content, bodies[int(sheet.group(1)) - 1])
            entry = zipfile.ZipInfo(info.filename, date_time=stamp)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            target.writestr(entry, content)
    return out.getvalue()


def _with_body(sheet: bytes, body: str) -> bytes:
    """The sheet's XML with `body` before `</sheetData>` and its dimension widened to match."""
    rows = body.count("<row ")
    head, tail = sheet.split(b"</sheetData>", 1)
    head = re.sub(
        rb'<dimension ref="A1:([A-Z]+)1"/>',
        lambda m: b'<dimension ref="A1:' + m.group(1) + str(rows + 1).encode() + b'"/>',
        head,
        count=1,
    )
    return head + body.encode("utf-8") + b"</sheetData>" + tail


def rectification_xlsx(document: Mapping[str, Any], source_sha256: str) -> bytes:
    """The workbook's bytes: byte-identical for the same document."""
    as_of = dt.date.fromisoformat(document["audit"]["as_of"])
    stamp = dt.datetime(as_of.year, as_of.month, as_of.day)
    county = (document.get("edition") or {}).get("county")
    findings = document["findings"]
    with_status = any(status_text(f) for f in findings)
    title = f"{document['audit']['name']} 整改清单" + (f"（{county}）" if county else "")
    buffer = io.BytesIO()
    bodies: list[str] = []  # by sheet, in the order they are added
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    book.set_properties({"title": title, "author": "inspector", "created": stamp})
    formats = _Formats(book)
    taken: set[str] = {NOTES_SHEET.lower()}
    rows = list_rows(findings)
    rendered = _Rendered()
    if county:
        bodies.append(
            _sheet(book.add_worksheet(sheet_title(county, taken)), rows, title, with_status, formats, rendered)
        )
    else:
        bodies.append(
            _sheet(book.add_worksheet(sheet_title(ALL_SHEET, taken)), rows, title, with_status, formats, rendered)
        )
        by_county: dict[str, list[dict[str, Any]]] = {}
        for row in rows:  # a sheet numbers its rows itself: the list's rows serve every sheet
            by_county.setdefault(row["county"], []).append(row)
        for name in sorted(by_county, key=lambda n: (n != CITY, n)):
            bodies.append(
                _sheet(
                    book.add_worksheet(sheet_title(name, taken)),
                    by_county[name],
                    f"{document['audit']['name']} 整改清单（{name}）",
                    with_status,
                    formats,
                    rendered,
                )
            )
    _notes(
        book.add_worksheet(NOTES_SHEET),
        document,
        source_sha256,
        f"区县版（{county}）" if county else "全市",
        formats,
    )
    book.close()
    return _stamped(buffer.getvalue(), stamp.timetuple()[:6], bodies)
