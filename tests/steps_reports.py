"""Steps of tests/report_features/reports.feature, and the readers the report tests share:
an HTML page parsed with the standard library, and every text a report folder shows."""

from __future__ import annotations

import io
import json
import re
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from pytest_bdd import given, parsers, then, when

from inspector.cli import main


class Page(HTMLParser):
    """What the tests check in a page: ids, links, sections, the list's rows, scripts, all text."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: Counter[str] = Counter()
        self.links: list[str] = []
        self.sections: list[str] = []
        self.scripts: list[str] = []
        self.tags: Counter[str] = Counter()
        self.sources: list[tuple[str, str, str]] = []  # (tag, attribute, value) that could load something
        self.attributes: list[str] = []
        self.texts: list[str] = []
        self.rect_rows: list[dict[str, str]] = []
        self.headings: list[tuple[str, str]] = []  # (h1…h4, text)
        self._in_rect = self._in_body = self._in_script = False
        self._heading: list[str] | None = None
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        self.tags[tag] += 1
        self.attributes.extend(values.values())
        if "id" in values:
            self.ids[values["id"]] += 1
        if tag == "a" and "href" in values:
            self.links.append(values["href"])
        for name in ("src", "srcset", "data", "poster", "action", "formaction"):
            if name in values:
                self.sources.append((tag, name, values[name]))
        if tag == "link":
            self.sources.append((tag, "href", values.get("href", "")))
        if tag == "section":
            self.sections.append(values.get("id", ""))
        if tag == "table" and values.get("id") == "rect-table":
            self._in_rect = True
        if self._in_rect and tag == "tbody":
            self._in_body = True
        if self._in_body and tag == "tr":
            self.rect_rows.append(values)
        if tag == "script":
            self._in_script = True
            self.scripts.append("")
        if tag in ("h1", "h2", "h3", "h4"):
            self._heading = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "table" and self._in_rect:
            self._in_rect = self._in_body = False
        if tag == "script":
            self._in_script = False
        if tag in ("h1", "h2", "h3", "h4") and self._heading is not None:
            self.headings.append((tag, " ".join("".join(self._heading).split())))
            self._heading = None

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts[-1] += data
            return
        self.texts.append(data)
        if self._heading is not None:
            self._heading.append(data)

    @property
    def text(self) -> str:
        return "".join(self.texts)

    def everything(self) -> str:
        """Text and attribute values: where any data could show."""
        return self.text + "\n" + "\n".join(self.attributes)


def xlsx_cells(data: bytes) -> dict[str, list[list[Any]]]:
    """Every sheet's cell values by row, from A1 to the sheet's last row and column (what the
    workbook's dimension says; read only, the styles but for dates are not needed)."""
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    try:
        return {ws.title: [list(row) for row in ws.iter_rows(values_only=True)] for ws in book.worksheets}
    finally:
        book.close()


@dataclass
class FolderView:
    """A report folder read once: every text it shows by file (`texts`), and the parsed pages and
    workbooks behind them, for tests that check more than the text."""

    texts: dict[str, str] = field(default_factory=dict)
    pages: dict[str, Page] = field(default_factory=dict)
    sheets: dict[str, dict[str, list[list[Any]]]] = field(default_factory=dict)


def read_folder(folder: Path, names: Collection[str] | None = None) -> FolderView:
    """Every file of a report folder (or those of `names`, relative to it): parsed HTML, every cell
    of each workbook, the other files' text, file names."""
    view = FolderView()
    for path in sorted(folder.rglob("*")):
        name = path.relative_to(folder).as_posix()
        if not path.is_file() or (names is not None and name not in names):
            continue
        if path.suffix == ".html":
            page = view.pages[name] = Page(path.read_text(encoding="utf-8"))
            view.texts[name] = page.everything() + "\n" + name
        elif path.suffix == ".xlsx":
            sheets = view.sheets[name] = xlsx_cells(path.read_bytes())
            view.texts[name] = "\n".join(
                [
                    *sheets,
                    *("\t".join("" if v is None else str(v) for v in row) for rows in sheets.values() for row in rows),
                ]
            )
        else:
            view.texts[name] = path.read_text(encoding="utf-8-sig") + "\n" + name
    return view


_SHEET = re.compile(r'<article class="sheet" id="([^"]+)">.*?</article>', re.DOTALL)


@dataclass(frozen=True)
class Notice:
    """One school's notice: the county file it is in, and its sheet's HTML."""

    file: Path
    html: str


def notice_sheets(text: str) -> dict[str, str]:
    """A county's notices file split into its schools' sheets, by anchor (the school's slug)."""
    found: dict[str, str] = {}
    for sheet in _SHEET.finditer(text):
        assert sheet.group(1) not in found, f"a notice's anchor repeated: {sheet.group(1)}"
        found[sheet.group(1)] = sheet.group(0)
    return found


def notices_of(folder: Path) -> dict[str, Notice]:
    """An output folder's notices (`notices/<county>.html`, a sheet per school) by school slug;
    each school has one sheet in one county's file."""
    found: dict[str, Notice] = {}
    for path in sorted((folder / "notices").glob("*.html")):
        for anchor, html in notice_sheets(path.read_text(encoding="utf-8")).items():
            assert anchor not in found, f"{anchor} has a notice in two files"
            found[anchor] = Notice(path, html)
    assert not any(p.is_dir() for p in (folder / "notices").glob("*")), "a folder inside notices/"
    return found


def folder_texts(folder: Path) -> dict[str, str]:
    """Every text a report folder shows, by file: parsed HTML, every cell of the workbook, file names."""
    return read_folder(folder).texts


def school_roster(audit_folder: Path) -> list[dict[str, str]]:
    """Every school of an audit folder written by AuditBuilder (schools.csv with Chinese headers)."""
    import csv

    with (audit_folder / "schools.csv").open(encoding="utf-8-sig", newline="") as handle:
        return [
            {"id": row["学校代码"], "name": row["学校名称"], "county": row["区县"]} for row in csv.DictReader(handle)
        ]


def _starts_pattern(values: Collection[str]) -> re.Pattern[str]:
    """A regex matching, zero-width, wherever one of `values` starts: their trie as nested groups,
    each branch cut at the first whole value (the shorter one already starts there)."""
    trie: dict[str, Any] = {}
    for value in values:
        node = trie
        for char in value:
            if "" in node:
                break
            node = node.setdefault(char, {})
        else:
            node.clear()
            node[""] = {}

    def alternatives(node: dict[str, Any]) -> str:
        if "" in node:
            return ""
        branches = [re.escape(char) + alternatives(child) for char, child in sorted(node.items())]
        return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"

    return re.compile("(?=" + alternatives(trie) + ")")


def _present(text: str, starts: re.Pattern[str], by_first: dict[str, list[str]]) -> set[str]:
    """The values of `by_first` (by their first character) that occur in `text` (as `value in text` says): one pass of `starts` finds
    every position where any of them begins, then each candidate beginning there is compared."""
    return {
        value
        for match in starts.finditer(text)
        for value in by_first[text[match.start()]]
        if text.startswith(value, match.start())
    }


def leaks(texts: dict[str, str], schools: list[dict[str, str]], county: str) -> list[str]:
    """Other counties' school codes and names found in an edition, as `file: what`, school by
    school. Each text is scanned once for all the values at a time (a search per value and file
    was most of the county tests' time)."""
    others = [school for school in schools if school["county"] != county]
    values = {value for school in others for value in (school["id"], school["name"]) if value}
    if not values:
        return []
    by_first: dict[str, list[str]] = {}
    for value in values:
        by_first.setdefault(value[0], []).append(value)
    starts = _starts_pattern(values)
    present = {name: _present(text, starts, by_first) for name, text in texts.items()}
    found = []
    for school in others:
        for name in texts:
            for value in (school["id"], school["name"]):
                if value and value in present[name]:
                    found.append(f"{name}: {value}")
    return found


# -- Gherkin steps ------------------------------------------------------------------------------


@dataclass
class Edition:
    """One county edition written by `inspector report OUT --county C --out DIR`."""

    county: str = ""
    folder: Path | None = None
    exit_code: int | None = None
    stderr: str = ""
    runs: list[Path] = field(default_factory=list)


@pytest.fixture
def edition() -> Edition:
    return Edition()


def _make_edition(workspace: Any, edition: Edition, capsys: pytest.CaptureFixture[str], county: str) -> None:
    assert workspace.exit_code == 0, workspace.stderr
    edition.county = county
    edition.folder = workspace.root / "edition"
    edition.exit_code = main(
        ["report", str(workspace.out), "--county", county, "--out", str(edition.folder), "--quiet"]
    )
    edition.stderr = capsys.readouterr().err


@given("已在命令行完成督导")
def _audited(workspace: Any, capsys: pytest.CaptureFixture[str]) -> None:
    workspace.exit_code = main(["audit", str(workspace.write()), "--out", str(workspace.out), "--quiet"])
    workspace.stderr = capsys.readouterr().err
    assert workspace.exit_code == 0, workspace.stderr


@when(parsers.parse('生成 "{county}" 的区县版报告'))
def _county_edition(workspace: Any, edition: Edition, capsys: pytest.CaptureFixture[str], county: str) -> None:
    _make_edition(workspace, edition, capsys, county)


@when(
    parsers.parse(
        '学校 "{school}" 的班级 "{class_id}" 班额降为 {size:d} 人后重新督导，并重新生成 "{county}" 的区县版报告'
    )
)
def _rerun(
    workspace: Any,
    edition: Edition,
    capsys: pytest.CaptureFixture[str],
    school: str,
    class_id: str,
    size: int,
    county: str,
) -> None:
    for row in workspace.builder.rows["classes"]:
        if row["class_id"] == class_id:
            assert row["school_id"] == school
            row["size"] = size
    workspace.builder.write(workspace.folder)
    assert main(["audit", str(workspace.folder), "--out", str(workspace.out), "--quiet"]) == 0
    capsys.readouterr()
    _make_edition(workspace, edition, capsys, county)


@then("区县版的网页、整改清单和整改通知书中没有其他区县学校的名称或代码")
def _no_leak(workspace: Any, edition: Edition) -> None:
    assert edition.exit_code == 0, edition.stderr
    assert edition.folder is not None
    texts = folder_texts(edition.folder)
    assert {"report.html", "rectification.xlsx", "rectification.csv", "report.md"} <= texts.keys()
    roster = school_roster(workspace.folder)
    assert any(s["county"] != edition.county for s in roster), "场景应包含其他区县的学校"
    assert leaks(texts, roster, edition.county) == []


@then(parsers.parse('区县版整改清单共 {count:d} 项，全部属于 "{county}"'))
def _edition_rows(edition: Edition, count: int, county: str) -> None:
    assert edition.folder is not None
    sheets = xlsx_cells((edition.folder / "rectification.xlsx").read_bytes())
    rows = sheets[county][1:]
    assert len(rows) == count
    header = sheets[county][0]
    assert {row[header.index("区县")] for row in rows} <= {county}
    page = Page((edition.folder / "report.html").read_text(encoding="utf-8"))
    assert len(page.rect_rows) == count
    assert {row["data-county"] for row in page.rect_rows} <= {county}


@then(parsers.parse('区县版的整改通知书只有学校 "{ids}"'))
def _edition_notices(edition: Edition, ids: str) -> None:
    assert edition.folder is not None
    expected = set() if ids == "（无）" else {i.strip() for i in ids.split(",")}
    found = set(notices_of(edition.folder))
    assert found == expected


@then(parsers.parse('区县版的指标只有 "{areas}"'))
def _edition_indicators(edition: Edition, areas: str) -> None:
    assert edition.folder is not None
    page = Page((edition.folder / "report.html").read_text(encoding="utf-8"))
    text = page.text
    expected = {a.strip() for a in areas.split(",")}
    for area in expected:
        assert area in text
    document = json.loads((edition.folder.parent / "out" / "findings.json").read_text(encoding="utf-8"))
    for row in document["indicators"]:
        if row["entity_type"] == "county" and row["entity_id"] not in expected:
            assert row["entity_id"] not in page.everything()


@then(parsers.parse('生成区县版失败，退出码为 {code:d}，错误信息包含 "{text}"'))
def _edition_failed(edition: Edition, code: int, text: str) -> None:
    assert edition.exit_code == code
    assert text in edition.stderr


# -- data quality (tests/report_features/data_quality.feature) ---------------------------------


def _data_quality_section(workspace: Any) -> str:
    """The text of report.html's 数据质量 section."""
    html = (workspace.out / "report.html").read_text(encoding="utf-8")
    start = html.index('<section id="data-quality">')
    return Page(html[start : html.index("</section>", start)]).text


def _data_quality_rows(workspace: Any) -> list[dict[str, str]]:
    """The rectification list's rows of data-quality rules (family data)."""
    import csv

    with (workspace.out / "rectification.csv").open(encoding="utf-8-sig", newline="") as handle:
        return [row for row in csv.DictReader(handle) if row["规则"].startswith("data.")]


@given(
    parsers.parse(
        '学校 "{school}" 的班级名单有一个 "{grade}" 年级 {size:d} 人的班级 "{class_id}"，学校名单在校生数改为 {pupils:d}'
    )
)
def _class_and_enrolment(workspace: Any, school: str, grade: str, size: int, class_id: str, pupils: int) -> None:
    workspace.builder.klass(school, grade, size, class_id)
    _set_enrolment(workspace, school, pupils)


@given(parsers.parse('学校 "{school}" 的学校名单在校生数改为 {pupils:d}'))
def _set_enrolment(workspace: Any, school: str, pupils: int) -> None:
    (row,) = [r for r in workspace.builder.rows["schools"] if r["school_id"] == school]
    row["enrolment"] = pupils


@then(parsers.parse('报告的“数据质量”一节列出 "{items}"'))
def _data_quality_lists(workspace: Any, items: str) -> None:
    section = _data_quality_section(workspace)
    wanted = sorted(item.strip() for item in items.split(","))
    listed = sorted(
        f"{f['rule_id']} {f['entity_id']}" for f in workspace.document()["findings"] if f["family"] == "data"
    )
    assert listed == wanted
    for item in wanted:
        rule_id, entity = item.split()
        assert rule_id in section and entity in section, item


@then("整改清单中每项数据质量问题的责任主体都是数据填报单位")
def _addressed_to_provider(workspace: Any) -> None:
    rows = _data_quality_rows(workspace)
    assert rows and all("数据填报" in row["责任主体"] for row in rows)


@then(parsers.parse('学校 "{school}" 不在数据质量问题中'))
def _not_listed(workspace: Any, school: str) -> None:
    assert all(row["对象编号"] != school for row in _data_quality_rows(workspace))


@then("报告的“数据质量”一节说明未发现数据质量问题")
def _none_found(workspace: Any) -> None:
    assert "未发现数据质量问题" in _data_quality_section(workspace)
    assert not _data_quality_rows(workspace)
