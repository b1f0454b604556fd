"""Hostile text in the data comes out inert: in report.html, the notices, the CSV and the workbook."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from inspector.cli import main
from inspector.output.paths import device_name, path_component
from inspector.report.names import area_name, sheet_title, slug
from inspector.testing import AuditBuilder
from steps_reports import Page, notices_of

SCRIPT_NAME = "<script>alert(1)</script>"
FORMULA_NAME = '=HYPERLINK("http://evil.example","点我")'
HOSTILE_ID = "../S3<b>"
HOSTILE_COUNTY = "柳北区</title><img src=x onerror=alert(3)>"
TRIGGERS = ("=", "+", "-", "@")


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Schools named with markup and with a formula, a school code with a path and markup, a county
    named with markup; every one has a finding whose message starts with its name."""
    root = tmp_path_factory.mktemp("hostile")
    builder = AuditBuilder()
    builder.klass(builder.school("S1", name=SCRIPT_NAME), "3", 60, "C1")
    builder.klass(builder.school("S2", name=FORMULA_NAME), "3", 70, "C2")
    builder.klass(builder.school(HOSTILE_ID, name="+SUM(1,2)小学", county=HOSTILE_COUNTY), "3", 58, "C3")
    folder = builder.write(root / "audit")
    assert main(["audit", str(folder), "--out", str(root / "out"), "--quiet"]) == 0
    return root / "out"


def _pages(out: Path) -> dict[str, str]:
    return {p.relative_to(out).as_posix(): p.read_text(encoding="utf-8") for p in out.rglob("*.html")}


class TestHtml:
    def test_markup_in_data_is_text_not_markup(self, out: Path) -> None:
        """The hostile names show as text; no element, attribute or script comes from the data."""
        pages = _pages(out)
        assert len([p for p in pages if p.startswith("notices/")]) == 2 and "report.html" in pages  # a file per county
        assert len([p for p in pages if p.startswith("traces/")]) == 2  # a traces page per county
        for name, html in pages.items():
            page = Page(html)
            assert page.tags["script"] == (1 if name == "report.html" else 0), name
            assert page.tags["img"] == 0, name  # the county's <img onerror> stayed text
            assert "<script>alert" not in html and "<img" not in html and HOSTILE_ID not in html
        report = Page(pages["report.html"])
        for text in (SCRIPT_NAME, FORMULA_NAME, HOSTILE_COUNTY, HOSTILE_ID):
            assert text in report.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in pages["report.html"]
        notice = Page(notices_of(out)["S1"].html)
        assert SCRIPT_NAME in notice.text

    def test_hostile_codes_make_safe_file_names_and_anchors(self, out: Path) -> None:
        """A school code with `../` and markup gets a notice anchored without either, in its county's
        file inside notices/, named without the county's markup."""
        notices = notices_of(out)
        assert sorted(notices) == sorted(["S1", "S2", slug(HOSTILE_ID)])
        assert re.fullmatch(r"S3_b_[0-9a-f]{12}", slug(HOSTILE_ID))
        hostile = notices[slug(HOSTILE_ID)].file
        assert hostile.stem == area_name(HOSTILE_COUNTY) and hostile.parent == out / "notices"
        assert re.fullmatch(r"柳北区__title__img_src_x_onerror_alert_3___[0-9a-f]{10}", hostile.stem)
        report = Page((out / "report.html").read_text(encoding="utf-8"))
        assert f"notices/{area_name(HOSTILE_COUNTY)}.html#{slug(HOSTILE_ID)}" in report.links
        assert all(
            re.fullmatch(r"[A-Za-z0-9_.#-]+|(notices|traces)/[\w-]+\.html(#[A-Za-z0-9_.-]+)?", link)
            for link in report.links
        ), report.links
        assert sorted((out / "traces").iterdir()) and all(
            ".." not in p.name and "<" not in p.name for p in (out / "traces").iterdir()
        )

    def test_page_titles_cannot_be_closed_by_data(self, out: Path) -> None:
        html = (out / "report.html").read_text(encoding="utf-8")
        title = re.search(r"<title>(.*?)</title>", html, re.DOTALL)
        assert title and "<" not in title.group(1)


class TestSpreadsheets:
    def test_csv_cells_are_inert(self, out: Path) -> None:
        rows = list(csv.reader(io.StringIO((out / "rectification.csv").read_text(encoding="utf-8-sig"))))
        cells = [cell for row in rows[1:] for cell in row]
        assert not [c for c in cells if c.startswith(TRIGGERS)]
        assert "'" + FORMULA_NAME in cells and SCRIPT_NAME in cells
        messages = [row[rows[0].index("问题")] for row in rows[1:]]
        assert any(m.startswith("'=HYPERLINK(") for m in messages)

    def test_xlsx_cells_are_strings_never_formulas(self, out: Path) -> None:
        """Read back: no cell is a formula; text a spreadsheet would run starts with a quote."""
        book = openpyxl.load_workbook(out / "rectification.xlsx")
        seen = []
        for ws in book.worksheets:
            for row in ws.iter_rows():
                for cell in row:
                    assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                    if isinstance(cell.value, str):
                        assert cell.data_type == "s"
                        assert not cell.value.startswith(TRIGGERS), (ws.title, cell.coordinate, cell.value)
                        seen.append(cell.value)
        assert "'" + FORMULA_NAME in seen and "'+SUM(1,2)小学" in seen and SCRIPT_NAME in seen
        assert any(v.startswith("'=HYPERLINK(") for v in seen)
        raw = (out / "rectification.xlsx").read_bytes()
        assert b"<f>" not in raw  # no formula element anywhere in the package

    def test_sheet_titles_from_hostile_county_names(self) -> None:
        taken: set[str] = set()
        title = sheet_title(HOSTILE_COUNTY, taken)
        assert len(title) <= 31 and not set(title) & set("[]:*?/\\")
        assert sheet_title(HOSTILE_COUNTY, taken) != title  # a second sheet of the same name is renamed


class TestAreaNames:
    @given(st.lists(st.text(alphabet="aAbB_-0/.柳北 ", max_size=6), unique=True, max_size=8))
    def test_areas_never_share_a_page_or_folder_even_without_regard_to_case(self, areas: list[str]) -> None:
        """A county's traces page and notices file are named by `area_name`: one component,
        distinct for distinct areas also where case is ignored (`Ab` and `AB` on Windows, macOS)."""
        names = [area_name(area) for area in areas]
        assert len({name.casefold() for name in names}) == len(areas)
        for name in names:
            assert name and "/" not in name and "\\" not in name and not name.startswith(".")

    @pytest.mark.parametrize("name", ["con", "CON", "nul", "aux.html", "com1", "Lpt9", "prn.x.y", "com¹"])
    def test_names_windows_keeps_for_devices_are_never_used_as_they_are(self, name: str) -> None:
        """A county, a school code or an edition named `con` or `nul.html` would name a device on
        Windows: each gets a digest, as a name that is not plain does."""
        for made in (area_name(name), slug(name), path_component(name)):
            assert made != name and not device_name(made) and not device_name(f"{made}.html"), made
        assert (area_name("console"), slug("cone"), path_component("null")) == ("console", "cone", "null")

    def test_counties_differing_only_in_case_keep_their_own_pages_and_notices(self, tmp_path: Path) -> None:
        builder = AuditBuilder()
        builder.klass(builder.school("S1", county="Ab"), "3", 60, "C1")
        builder.klass(builder.school("S2", county="AB"), "3", 60, "C2")
        out = tmp_path / "out"
        assert main(["audit", str(builder.write(tmp_path / "audit")), "--out", str(out), "--quiet"]) == 0
        files = sorted(p.name for p in (out / "notices").iterdir())
        pages = sorted(p.name for p in (out / "traces").iterdir())
        assert len({name.casefold() for name in files}) == 2 and len({name.casefold() for name in pages}) == 2
        assert {n.file.stem for n in notices_of(out).values()} == {area_name("Ab"), area_name("AB")}


class TestNoticeNames:
    def test_colliding_school_codes_get_distinct_notices_and_matching_links(self, tmp_path: Path) -> None:
        """Two codes reduced to one name crashed the notice writer (exit 70); each school now gets
        its own notice and anchor, the same run after run, and the report links to the right one."""
        builder = AuditBuilder()
        lookalike = slug("x y")  # a plain code that reads like the slug of another
        for index, code in enumerate(["x y", lookalike, "P1", "p1"]):
            builder.klass(builder.school(code, name=f"第{index}小学"), "3", 60, f"C{index}")
        folder = builder.write(tmp_path / "audit")
        outputs = []
        for run in ("a", "b"):
            assert main(["audit", str(folder), "--out", str(tmp_path / run), "--quiet"]) == 0
            outputs.append({name: notice.html for name, notice in notices_of(tmp_path / run).items()})
        assert outputs[0] == outputs[1] and len(outputs[0]) == 4
        assert len({name.casefold() for name in outputs[0]}) == 4  # distinct where case is ignored too
        report = Page((tmp_path / "a" / "report.html").read_text(encoding="utf-8"))
        notices = {link for link in report.links if link.startswith("notices/")}
        assert {link.rsplit("#", 1)[1] for link in notices} == set(outputs[0])
        for index, code in enumerate(["x y", lookalike, "P1", "p1"]):
            (name,) = [n for n, html in outputs[0].items() if f"第{index}小学" in html]
            assert code in outputs[0][name]


HOSTILE_MD = {
    "school_id": "P1\n# 注入的标题\n- 注入的列表项",
    "school_name": "x | y `z` **粗体** [链接](javascript:alert(1)) <b>",
    "message": "问题\n\n| 伪造 | 表格 |\n|---|---|",
    "county": "## 区 ~~删除~~ &#60;",
    "id": "F-1`|`",
}


def _skeleton(markdown: str) -> list[tuple[str, int]]:
    """Each line's block kind and, for table rows, its number of cell separators (unescaped `|`)."""
    shape = []
    for line in markdown.split("\n"):
        kind = line.split(" ", 1)[0] if line.startswith(("#", "-", ">", "|")) else ("" if not line else "text")
        shape.append((kind, len(re.findall(r"(?<!\\)\|", line)) if line.startswith("|") else 0))
    return shape


class TestMarkdown:
    def test_hostile_values_cannot_change_the_structure(self, tmp_path: Path) -> None:
        """A newline in a school code injected a heading into report.md; every value (ids, names,
        messages, numbers) is now flattened and escaped, so the lines and cells are the clean ones."""
        from inspector.output.markdown import render_markdown
        from inspector.report import load_findings

        builder = AuditBuilder()
        builder.klass(builder.school("P1"), "3", 60, "C1")
        folder = builder.write(tmp_path / "audit")
        assert main(["audit", str(folder), "--out", str(tmp_path / "out"), "--quiet"]) == 0
        clean, _ = load_findings(tmp_path / "out")
        hostile = json.loads(json.dumps(clean))
        for finding in hostile["findings"]:
            finding.update({k: v for k, v in HOSTILE_MD.items()})
            finding["rectification"]["action"] = "整改\n### 伪造"
        hostile["audit"]["name"] = "标题\n---\n<script>"
        hostile["rules"][0]["id"] = "class-size.large`\n| x |"
        hostile["audit"]["inputs"][0]["file"] = "a|b\n# c"
        expected, found = render_markdown(clean), render_markdown(hostile)
        assert _skeleton(found) == _skeleton(expected)
        assert "<script>" not in found and "<b>" not in found and "\\<b\\>" in found
        assert "\\[链接\\]" in found and "\\~\\~删除\\~\\~" in found and "\\&\\#60;" in found
