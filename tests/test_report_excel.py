"""rectification.xlsx: sheets, headers, frozen header, filter, widths, dates, severity, determinism."""

from __future__ import annotations

import datetime as dt
import io
import json
import warnings
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from inspector.output.escape import xml_text
from inspector.report import load_findings
from inspector.report.excel import ALL_SHEET, HEADER_LIMIT, NOTES_SHEET, print_header, rectification_xlsx

REQUIRED = ("学校", "问题", "依据", "整改要求", "责任主体", "整改期限")


@pytest.fixture(scope="module")
def document(case_out: Path) -> dict[str, Any]:
    return json.loads((case_out / "findings.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def book(case_out: Path) -> openpyxl.Workbook:
    return openpyxl.load_workbook(case_out / "rectification.xlsx")


def _records(ws: Any) -> list[dict[str, Any]]:
    header = [c.value for c in ws[1]]
    return [dict(zip(header, (c.value for c in row), strict=True)) for row in ws.iter_rows(min_row=2)]


class TestSheets:
    def test_all_counties_then_one_sheet_per_county(self, book: openpyxl.Workbook, document: dict[str, Any]) -> None:
        counties = sorted(name for name in document["summary"]["by_county"] if name != document["audit"]["region"])
        assert book.sheetnames == [ALL_SHEET, "全市", *counties, NOTES_SHEET]  # the city's findings first

    def test_one_row_per_finding_with_the_required_columns(
        self, book: openpyxl.Workbook, document: dict[str, Any]
    ) -> None:
        rows = _records(book[ALL_SHEET])
        assert len(rows) == len(document["findings"])
        assert set(REQUIRED) <= rows[0].keys()
        for row, finding in zip(rows, document["findings"], strict=True):
            assert row["问题编号"] == finding["id"]
            assert row["问题"] == finding["message"]
            level = "（市级层面）" if finding["entity_type"] == "city" else "（区县层面）"
            assert row["学校"] == (finding["school_name"] or level)
            assert row["依据"] == f"{finding['basis']['document']} {finding['basis']['section']}"
            assert row["整改要求"] == finding["rectification"]["action"]
            assert row["责任主体"] == finding["rectification"]["responsible"]
            assert row["整改期限"] == dt.datetime.fromisoformat(finding["rectification"]["deadline"])
        for county, count in document["summary"]["by_county"].items():
            county = "全市" if county == document["audit"]["region"] else county
            county_rows = _records(book[county])
            assert len(county_rows) == count and {r["区县"] for r in county_rows} == {county}
            assert [r["序号"] for r in county_rows] == list(range(1, count + 1))

    def test_frozen_header_filter_widths_and_print_setup(self, book: openpyxl.Workbook) -> None:
        for name in book.sheetnames[:-1]:
            ws = book[name]
            assert ws.freeze_panes == "A2"
            assert ws.auto_filter.ref == f"A1:{ws.cell(1, ws.max_column).column_letter}{ws.max_row}"
            widths = {
                ws.cell(1, c).value: ws.column_dimensions[ws.cell(1, c).column_letter].width
                for c in range(1, ws.max_column + 1)
            }
            assert widths["问题"] >= 40 and widths["序号"] <= 8 and all(w >= 5 for w in widths.values())
            assert ws.cell(1, 1).font.b and ws.print_title_rows == "$1:$1"
            assert ws.page_setup.orientation == "landscape" and int(ws.page_setup.paperSize) == 9  # A4

    def test_dates_are_dates_and_severity_is_highlighted(self, book: openpyxl.Workbook) -> None:
        ws = book[ALL_SHEET]
        header = [c.value for c in ws[1]]
        deadline, severity = header.index("整改期限") + 1, header.index("严重程度") + 1
        fills = {}
        for line in range(2, ws.max_row + 1):
            cell = ws.cell(line, deadline)
            assert cell.is_date and cell.number_format == "yyyy-mm-dd"
            label = ws.cell(line, severity)
            fills[label.value] = label.fill.fgColor.rgb
        assert fills["严重"] != fills["较重"] and all(rgb not in (None, "00000000") for rgb in fills.values())


class TestDeterminism:
    def test_same_document_same_bytes_and_no_time_of_writing(self, case_out: Path) -> None:
        """Every zip entry and the document properties carry the audit's date, not the time of writing."""
        document, sha = load_findings(case_out)
        data = rectification_xlsx(document, sha)
        assert data == rectification_xlsx(document, sha) == (case_out / "rectification.xlsx").read_bytes()
        stamps = {info.date_time for info in zipfile.ZipFile(io.BytesIO(data)).infolist()}
        assert stamps == {(2025, 12, 1, 0, 0, 0)}
        read = openpyxl.load_workbook(io.BytesIO(data), read_only=True)  # the properties, no sheet's cells
        properties = read.properties
        read.close()
        assert properties.created == properties.modified == dt.datetime(2025, 12, 1)

    def test_notes_sheet_names_its_source(self, book: openpyxl.Workbook, case_out: Path) -> None:
        import hashlib

        text = "\n".join(str(c.value) for row in book[NOTES_SHEET].iter_rows() for c in row)
        assert hashlib.sha256((case_out / "findings.json").read_bytes()).hexdigest() in text


class TestPrintHeader:
    """The printed header names the audit; Excel allows 255 UTF-16 code units, and xlsxwriter leaves
    out a longer header with only a warning (found by the whole-CLI fuzz target with a long name)."""

    @pytest.mark.parametrize(
        "title",
        ["柳州市教育督导 整改清单", "督" * 300, "A&B " * 100, "&" * 200, "😀" * 200, "x" * 235 + "&" * 10],
    )
    def test_the_header_fits_and_keeps_as_much_of_the_title_as_fits(self, title: str) -> None:
        header = print_header(title)
        units = len(header.encode("utf-16-le")) // 2
        assert units <= HEADER_LIMIT
        text = header.removeprefix('&C&"黑体,Bold"&12')
        assert text.replace("&&", "").count("&") == 0  # no lone & left to start a header code
        shown = text.replace("&&", "&")
        if shown == title:
            return
        assert shown.endswith("…") and title.startswith(shown[:-1])
        longer = title[: len(shown)]  # one character more does not fit
        assert len(('&C&"黑体,Bold"&12' + (longer + "…").replace("&", "&&")).encode("utf-16-le")) // 2 > HEADER_LIMIT

    def test_a_long_audit_name_is_printed_cut_short_without_a_warning(self, document: dict[str, Any]) -> None:
        """A name past the limit: the workbook is written without xlsxwriter's warning, and its
        printed header is the name cut short with an ellipsis."""
        long = {**document, "audit": {**document["audit"], "name": "柳州市" * 120}}
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            data = rectification_xlsx(long, "0" * 64)
        ws = openpyxl.load_workbook(io.BytesIO(data))[ALL_SHEET]
        assert ws.oddHeader.center.text.startswith("柳州市柳州市") and ws.oddHeader.center.text.endswith("…")


@given(st.text())
def test_cell_text_is_escaped_as_the_standard_library_escapes_it(text: str) -> None:
    """The workbook's own XML escape (the standard one's module imports urllib and ssl)."""
    from xml.sax.saxutils import escape as standard

    assert xml_text(text) == standard(text)
