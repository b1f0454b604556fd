"""The case's report and a notice in real headless Chromium: no console errors, the list's filter
and sort work, the page works without script, and a county's notices print to A4 PDF pages, a school's notice on pages of its own.

Skipped where Chromium is absent, except under CI (`CI` set), where its absence fails the run.
Screenshots go to $INSPECTOR_SCREENSHOTS (a folder) when set, else to the test's tmp folder.
"""

from __future__ import annotations

import io
import json
import os
import re
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from chromium import chromium, missing, print_pdf, screenshot


@pytest.fixture(scope="module")
def browser_ok() -> None:
    reason = missing()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"CI 中浏览器测试不得跳过：{reason}")
        pytest.skip(reason)


@pytest.fixture(scope="module")
def case_out(browser_ok: None, case_out: Path) -> Path:
    """The session's audit of the case, once the browser is known to be there."""
    return case_out


@pytest.fixture(scope="module")
def small_out(browser_ok: None, small_case_out: Path) -> Path:
    """cases/liuzhou-2020-baseline with every output written (the session's): a report of a dozen
    pages to print, where the city case's traces make hundreds (seconds of Chromium and pypdf each)."""
    return small_case_out


@pytest.fixture(scope="module")
def driver(browser_ok: None) -> Any:
    with chromium() as browser:
        yield browser


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("INSPECTOR_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def pdf_text(data: bytes) -> str:
    """A PDF's text without white space, NFKC-normalised. Chromium's PDFs map some CJK glyphs back
    to radicals (⻥ for 鱼, ⼀ for 一): NFKC undoes the Kangxi ones, the others become U+FFFD."""
    from pypdf import PdfReader

    return "".join(_normal(page.extract_text()) for page in PdfReader(io.BytesIO(data)).pages)


def _normal(text: str) -> str:
    text = unicodedata.normalize("NFKC", re.sub(r"\s+", "", text))
    return re.sub("[\u2e80-\u2eff]", "\ufffd", text)


def pdf_page_of(data: bytes, needle: str, *, from_end: bool = False) -> int | None:
    """The first page (or, from the end, the last) whose text contains `needle`: a report of a
    thousand pages is searched only as far as needed (pypdf reads about five pages a second)."""
    from pypdf import PdfReader

    pages = PdfReader(io.BytesIO(data)).pages
    order = range(len(pages) - 1, -1, -1) if from_end else range(len(pages))
    return next((i for i in order if pdf_contains(_normal(pages[i].extract_text()), needle)), None)


_DASHES = "[‒–—]"


def pdf_contains(text: str, needle: str) -> bool:
    """`needle` in `pdf_text(...)`, an ideograph matching itself or the radical placeholder, a dash
    any dash (Chromium's PDFs give the en dash of 56–65 back as a figure dash)."""
    needle = unicodedata.normalize("NFKC", re.sub(r"\s+", "", needle))
    pattern = "".join(
        f"(?:{re.escape(ch)}|\ufffd)" if "\u4e00" <= ch <= "\u9fff" else _DASHES if ch in "‒–—" else re.escape(ch)
        for ch in needle
    )
    return re.search(pattern, text) is not None


def _severe(driver: Any) -> list[dict[str, Any]]:
    return [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


VISIBLE_ROWS = (
    "return Array.prototype.filter.call(document.querySelectorAll('#rect-table tbody tr'),"
    " function (r) { return !r.hidden && r.offsetParent !== null; }).length"
)
DEADLINES = (
    "return Array.prototype.map.call(document.querySelectorAll('#rect-table tbody tr td.c-date'),"
    " function (c) { return c.textContent; })"
)


def _visible_rows(driver: Any) -> int:
    return int(driver.execute_script(VISIBLE_ROWS))


def _open(driver: Any, path: Path) -> None:
    driver.get_log("browser")  # drop what an earlier page logged
    driver.get(path.resolve().as_uri())
    driver.execute_script("return document.readyState")


class TestReportPage:
    def test_opens_without_console_errors(self, driver: Any, case_out: Path, shots: Path) -> None:
        _open(driver, case_out / "report.html")
        assert driver.title.startswith("柳州市2025年教育督导检查")
        assert _severe(driver) == []
        screenshot(driver, shots / "report-liuzhou-2025.png", 1280, 2000)
        assert (shots / "report-liuzhou-2025.png").stat().st_size > 50_000

    def test_filter_narrows_the_list(self, driver: Any, case_out: Path) -> None:
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support.ui import Select

        document = json.loads((case_out / "findings.json").read_text(encoding="utf-8"))
        _open(driver, case_out / "report.html")
        total = len(document["findings"])
        assert _visible_rows(driver) == total
        assert driver.find_element(By.ID, "rect-controls").is_displayed()

        box = driver.find_element(By.ID, "rect-q")
        box.send_keys("融水")
        shown = [
            [f["county"], f.get("school_name") or "", f["message"], f["rectification"]["responsible"]]
            for f in document["findings"]
        ]
        expected = sum(1 for cells in shown if "融水" in " ".join(cells))
        assert 0 < _visible_rows(driver) == expected < total
        assert driver.find_element(By.ID, "rect-count").text == f"显示 {expected} / {total} 项"

        box.clear()
        driver.execute_script("document.getElementById('rect-q').dispatchEvent(new Event('input'))")
        Select(driver.find_element(By.ID, "rect-severity")).select_by_value("critical")
        assert _visible_rows(driver) == document["summary"]["by_severity"]["critical"]
        Select(driver.find_element(By.ID, "rect-county")).select_by_visible_text("柳北区")
        both = sum(1 for f in document["findings"] if f["severity"] == "critical" and f["county"] == "柳北区")
        assert _visible_rows(driver) == both
        assert _severe(driver) == []

    def test_sorting_by_deadline(self, driver: Any, case_out: Path) -> None:
        """Clicking the 整改期限 header sorts the rectification list by deadline, ascending then descending."""
        from selenium.webdriver.common.by import By

        _open(driver, case_out / "report.html")
        header = driver.find_element(By.XPATH, "//table[@id='rect-table']//th[normalize-space(.)='整改期限']")
        header.click()
        dates = driver.execute_script(DEADLINES)
        assert dates == sorted(dates) and header.get_attribute("aria-sort") == "ascending"
        header.click()
        dates = driver.execute_script(DEADLINES)
        assert dates == sorted(dates, reverse=True)

    def test_trace_link_lands_on_the_trace(self, driver: Any, case_out: Path) -> None:
        from selenium.webdriver.common.by import By

        _open(driver, case_out / "report.html")
        link = driver.find_element(By.CSS_SELECTOR, "#rect-table tbody tr a.trace-link")
        page, target = link.get_attribute("href").split("#", 1)
        link.click()
        assert driver.execute_script("return location.pathname") == page.split("file://", 1)[-1]
        assert driver.execute_script("return location.hash") == f"#{target}"
        assert driver.find_element(By.ID, target).is_displayed()
        assert _severe(driver) == []

    def test_sections_below_the_overview_are_laid_out_only_near_the_screen(self, driver: Any, case_out: Path) -> None:
        """On a screen 800 px wide or more, every section after the overview is `content-visibility:
        auto`, so a province's report opens without laying out its hundreds of thousands of elements;
        the counties and schools in them are not (links to a school would land beside it); printed,
        nothing is; on a narrow screen nothing is either (the containment would clip the list)."""
        styles = (
            "return [Array.prototype.map.call(document.querySelectorAll('main > section'),"
            " function (s) { return getComputedStyle(s).contentVisibility; }),"
            " Array.prototype.map.call(document.querySelectorAll('article.county, article.school'),"
            " function (a) { return getComputedStyle(a).contentVisibility; })]"
        )
        _open(driver, case_out / "report.html")
        sections, articles = driver.execute_script(styles)
        assert len(sections) == 7 and sections[0] == "visible" and set(sections[1:]) == {"auto"}, sections
        assert len(articles) > 100 and set(articles) == {"visible"}
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
        try:
            assert set(driver.execute_script(styles)[0]) == {"visible"}
        finally:
            driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
        driver.set_window_size(600, 900)
        try:
            _open(driver, case_out / "report.html")
            assert set(driver.execute_script(styles)[0]) == {"visible"}
            width, reach = driver.execute_script(
                "var t = document.getElementById('rect-table').getBoundingClientRect();"
                " return [t.right, document.documentElement.scrollWidth]"
            )
            assert reach >= width > 600  # the list's last column can be scrolled to
        finally:
            driver.set_window_size(1280, 900)

    def test_a_contents_link_lands_on_its_section(self, driver: Any, case_out: Path) -> None:
        """The last entry of the contents bar scrolls to the appendix, laid out though it was off screen."""
        from selenium.webdriver.common.by import By

        _open(driver, case_out / "report.html")
        driver.find_element(By.CSS_SELECTOR, ".toc a[href='#appendix']").click()
        assert driver.execute_script("return location.hash") == "#appendix"
        top, height, inner = driver.execute_script(
            "var r = document.getElementById('appendix').getBoundingClientRect();"
            " return [r.top, r.height, window.innerHeight]"
        )
        assert -1 < top < inner / 2 and height > inner, (top, height, inner)  # subpixel: -0.28
        assert driver.find_element(By.CSS_SELECTOR, "#appendix h2").is_displayed()

    def test_links_to_a_school_land_on_it(self, driver: Any, case_out: Path) -> None:
        """A county's link to one of its schools, and a page opened at a school's anchor (as the
        trace pages link back), show that school's heading just below the sticky contents bar (it
        was hidden under it), at 1280 px and at 400 px, where the bar wraps to three lines."""
        from selenium.webdriver.common.by import By

        below_bar = (
            "var bar = document.querySelector('.toc').getBoundingClientRect().bottom;"
            " var heading = document.getElementById(arguments[0]).querySelector('h4').getBoundingClientRect();"
            " return [bar, heading.top]"
        )
        try:
            for width in (1280, 400):
                driver.set_window_size(width, 900)
                _open(driver, case_out / "report.html")
                links = driver.find_elements(By.CSS_SELECTOR, "#counties a[href^='#school-']")
                assert len(links) > 20
                picked = (0, len(links) // 2, len(links) - 1)
                targets = [links[i].get_attribute("href").split("#", 1)[1] for i in picked]
                for index, target in zip(picked, targets):
                    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", links[index])
                    links[index].click()
                    bar, top = driver.execute_script(below_bar, target)
                    assert bar <= top < bar + 20, (width, target, bar, top)
                driver.get((case_out / "report.html").resolve().as_uri() + f"#{targets[1]}")
                bar, top = driver.execute_script(below_bar, targets[1])
                assert bar <= top < bar + 20, (width, targets[1], bar, top)
        finally:
            driver.set_window_size(1280, 900)

    def test_a_long_list_shows_its_first_rows_until_all_are_asked_for(self, driver: Any, case_out: Path) -> None:
        """With script, the list shows on screen at most the table's `data-limit` rows that match
        (1,000: a province's 6,000 took seconds to lay out at each filter), says how many match, and
        offers 全部显示 (for the filters it is pressed under, focus kept in the controls); a filter
        within the limit shows all it matches; printed, no row is left out for the limit. Here the
        limit is lowered to 100."""
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support.ui import Select

        document = json.loads((case_out / "findings.json").read_text(encoding="utf-8"))
        total = len(document["findings"])
        _open(driver, case_out / "report.html")
        assert driver.find_element(By.ID, "rect-table").get_attribute("data-limit") == "1000" and total < 1000
        more = driver.find_element(By.ID, "rect-more")
        assert not more.is_displayed()
        driver.execute_script(
            "document.getElementById('rect-table').setAttribute('data-limit', '100');"
            " document.getElementById('rect-q').dispatchEvent(new Event('input'))"
        )
        assert _visible_rows(driver) == 100 and more.is_displayed()
        assert driver.find_element(By.ID, "rect-count").text == f"显示前 100 项 / 符合 {total} 项 / 共 {total} 项"
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
        try:
            assert _visible_rows(driver) == total  # the limit is the screen's: printed, the list is whole
        finally:
            driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
        critical = document["summary"]["by_severity"]["critical"]
        assert 0 < critical < 100
        Select(driver.find_element(By.ID, "rect-severity")).select_by_value("critical")
        assert _visible_rows(driver) == critical and not more.is_displayed()
        Select(driver.find_element(By.ID, "rect-severity")).select_by_value("")
        assert _visible_rows(driver) == 100
        more.click()
        assert _visible_rows(driver) == total and not more.is_displayed()
        assert driver.find_element(By.ID, "rect-count").text == f"显示 {total} / {total} 项"
        assert driver.switch_to.active_element.get_attribute("id") == "rect-q"  # focus stays in the controls
        Select(driver.find_element(By.ID, "rect-severity")).select_by_value("critical")
        Select(driver.find_element(By.ID, "rect-severity")).select_by_value("")
        assert _visible_rows(driver) == 100 and more.is_displayed()  # 全部显示 was for the filters then
        assert _severe(driver) == []

    def test_without_script_the_whole_list_shows(self, driver: Any, case_out: Path) -> None:
        from selenium.webdriver.common.by import By

        driver.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})
        try:
            _open(driver, case_out / "report.html")
            rows = driver.find_elements(By.CSS_SELECTOR, "#rect-table tbody tr")
            assert len(rows) == len(json.loads((case_out / "findings.json").read_text(encoding="utf-8"))["findings"])
            assert all(row.is_displayed() for row in rows[:5])
            assert not driver.find_element(By.ID, "rect-controls").is_displayed()  # no dead controls
        finally:
            driver.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": False})

    def test_prints_on_a4(self, driver: Any, small_out: Path) -> None:
        """Printed from Chromium the report is A4 portrait, the rectification list landscape, the overview
        on its first pages, the provenance appendix at the end. A small case's report has every part the
        city's has (the city's traces make it hundreds of pages, seconds to print and to read back)."""
        from pypdf import PdfReader

        _open(driver, small_out / "report.html")
        data = print_pdf(driver)
        reader = PdfReader(io.BytesIO(data))
        portrait = reader.pages[0].mediabox
        assert (round(float(portrait.width)), round(float(portrait.height))) == (595, 842)
        # the rectification list prints on landscape pages of its own, the report around it portrait
        widths = [round(float(p.mediabox.width)) for p in reader.pages]
        assert 842 in widths and widths[-1] == 595, widths
        overview, provenance = pdf_page_of(data, "一、总览"), pdf_page_of(data, "附录六输入文件", from_end=True)
        assert overview is not None and overview < 3 and provenance is not None, (overview, provenance)
        # the appendix is the report's last part: on its last pages, after the overview
        assert provenance > overview and provenance > len(reader.pages) - 10, (provenance, len(reader.pages))


@pytest.fixture(scope="module")
def notices_out(browser_ok: None, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three schools of one county with findings (one with two), and one without: a county's
    notices file of a few pages, quick to print and read back."""
    from inspector.cli import main
    from inspector.testing import AuditBuilder

    root = tmp_path_factory.mktemp("notices")
    builder = AuditBuilder()
    first = builder.school("S1", name="第一小学", county="城中区")
    builder.klass(first, "3", 60, "C1")
    builder.klass(first, "4", 70, "C2")
    builder.klass(builder.school("S2", name="第二小学", county="城中区"), "3", 58, "C3")
    builder.klass(builder.school("S3", name="第三小学", county="城中区"), "5", 66, "C4")
    builder.klass(builder.school("S4", name="第四小学", county="城中区"), "5", 40, "C5")
    assert main(["audit", str(builder.write(root / "audit")), "--out", str(root / "out"), "--quiet"]) == 0
    return root / "out"


class TestNotice:
    def test_a_countys_notices_print_each_school_on_pages_of_its_own(
        self, driver: Any, notices_out: Path, shots: Path
    ) -> None:
        """Printed, the county's file is its notices one after the other, each starting a new A4
        page, with every finding of its school; the on-screen contents are not printed."""
        from pypdf import PdfReader

        document = json.loads((notices_out / "findings.json").read_text(encoding="utf-8"))
        by_school: dict[str, list[dict[str, Any]]] = {}
        for finding in document["findings"]:
            if finding["school_id"]:
                by_school.setdefault(finding["school_id"], []).append(finding)
        assert sorted(by_school) == ["S1", "S2", "S3"] and len(by_school["S1"]) == 2
        (notice,) = (notices_out / "notices").iterdir()
        _open(driver, notice)
        assert _severe(driver) == []
        screenshot(driver, shots / "notice-example.png", 900, 1500)

        data = print_pdf(driver)
        pages = PdfReader(io.BytesIO(data)).pages
        assert {(round(float(p.mediabox.width)), round(float(p.mediabox.height))) for p in pages} == {(595, 842)}
        texts = [_normal(page.extract_text()) for page in pages]
        schools = sorted(by_school.items())
        starts = []
        for _, findings in schools:
            salutation = findings[0]["school_name"] + "："
            (start,) = [i for i, text in enumerate(texts) if pdf_contains(text, salutation)]
            starts.append(start)
        assert starts[0] == 0 and starts == sorted(starts) and len(set(starts)) == 3  # no contents page
        for (school_id, findings), start, end in zip(schools, starts, [*starts[1:], len(texts)], strict=True):
            own = "".join(texts[start:end])
            for words in ("督导整改通知书", f"编号：2025-{school_id}", "督导单位（盖章）", "督学（签名）", "回执"):
                assert pdf_contains(own, words), (school_id, words)
            for finding in findings:
                assert pdf_contains(own, finding["message"]), finding["id"]
                assert pdf_contains(own, finding["rectification"]["action"]), finding["id"]
                assert finding["id"] in own
        text = "".join(texts)
        assert not pdf_contains(text, "督导整改通知书3份")

    def test_a_link_to_a_school_opens_its_notice_below_the_top_edge(self, driver: Any, notices_out: Path) -> None:
        """report.html links to `notices/<county>.html#<school>`: the school's sheet is at the top."""
        report = (notices_out / "report.html").read_text(encoding="utf-8")
        assert 'href="notices/城中区.html#S3"' in report
        driver.set_window_size(1000, 800)
        driver.get((notices_out / "notices" / "城中区.html").resolve().as_uri() + "#S3")
        top = driver.execute_script("return document.getElementById('S3').getBoundingClientRect().top")
        assert 0 < top < 40, top
        assert "第三小学" in driver.execute_script("return document.getElementById('S3').innerText")
