"""report.html of the case: sections, one list row per finding, traces, self-containment, rebuilds."""

from __future__ import annotations

import base64
import copy
import csv
import hashlib
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from inspector.output.atomic import MANIFEST
from inspector.report import county_document, load_findings, render_reports, write_reports
from inspector.report.html import render_report, render_traces
from inspector.report.names import slug
from inspector.report.view import county_of
from steps_reports import Page, notice_sheets, notices_of

SECTIONS = ["overview", "data-quality", "indicators", "counties", "schools", "rectification", "appendix"]


@pytest.fixture(scope="module")
def document(case_out: Path) -> dict[str, Any]:
    return json.loads((case_out / "findings.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def page(case_out: Path) -> Page:
    return Page((case_out / "report.html").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def loaded(case_out: Path, document: dict[str, Any]) -> Iterator[tuple[dict[str, Any], str]]:
    """findings.json as `inspector report` reads it (load_findings), read once for the module's
    tests; checked unchanged against `document` at the end."""
    loaded = load_findings(case_out)
    yield loaded
    assert loaded[0] == document, "a test changed the shared document"


@pytest.fixture(scope="module")
def rendered(loaded: tuple[dict[str, Any], str]) -> dict[str, bytes]:
    """Every report file rendered in this process from `loaded`, once for the module's tests."""
    return render_reports(*loaded)


def _shared_with(
    helper: Any, document: dict[str, Any], data: bytes, sha: str, county: str | None = None
) -> Callable[[Any], None]:
    """What writes the reports of `document` (findings.json's `data`) into a set: shared with
    `helper`, a `ReportProcess` (given its share first, as `inspector report` does), or not."""
    from inspector import report

    def write(writer: Any) -> None:
        if helper is not None:
            helper.start(writer, data, sha, county=county, rebuild=True)
        report.add_reports(writer, document, sha, county=county, rebuild=True, shared=helper)

    return write


def _files(out: Path) -> dict[str, bytes]:
    """Every file of an output folder, its manifest included, by path relative to it."""
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def _articles(html: str) -> dict[str, str]:
    """The inner HTML of each article of the page by each id its tag carries: what
    `re.search(rf'<article[^>]*\\bid="{id}"[^>]*>(.*?)</article>', html, re.DOTALL)` finds, for
    every id in one pass (the first tag carrying it, up to the first </article> after it)."""
    found: dict[str, str] = {}
    for match in re.finditer(r"(?=(<article[^>]*>))", html):
        tag = match.group(1)
        start = match.start() + len(tag)
        end = html.find("</article>", start)
        if end < 0:
            continue
        for element_id in re.findall(r'(?=\bid="([^"]*)")', tag):
            found.setdefault(element_id, html[start:end])
    return found


class TestStructure:
    def test_sections_in_reading_order(self, page: Page) -> None:
        """Overview, data quality (for the data provider), indicators, counties, schools, the list, then the
        auditor's appendix."""
        assert page.sections == SECTIONS
        assert [text for tag, text in page.headings if tag == "h2"] == [
            "一、总览",
            "数据质量",
            "二、主要指标与目标",
            "三、各区县情况",
            "四、各学校问题与整改要求",
            "五、整改清单",
            "附录：审核追溯",
        ]

    def test_one_list_row_per_finding_in_document_order(self, page: Page, document: dict[str, Any]) -> None:
        assert len(page.rect_rows) == len(document["findings"]) == document["summary"]["total"]
        assert [r["data-county"] for r in page.rect_rows] == [county_of(f) for f in document["findings"]]
        assert "全市" in {r["data-county"] for r in page.rect_rows} - {f["county"] for f in document["findings"]}
        assert [r["data-severity"] for r in page.rect_rows] == [f["severity"] for f in document["findings"]]

    def test_city_level_findings_come_first_under_quan_shi_in_every_list(
        self, case_out: Path, document: dict[str, Any]
    ) -> None:
        """The region (柳州市) is where the city's own findings sit in findings.json; every list a reader
        opens shows them first, under 全市, and never ranks the region among the counties."""
        city = [f for f in document["findings"] if f["entity_type"] == "city"]
        assert city and {f["county"] for f in city} == {"柳州市"}
        markdown = (case_out / "report.md").read_text(encoding="utf-8")
        table = markdown[markdown.index("| 区县 | 问题数 |") : markdown.index("## 规则执行情况")]
        assert table.splitlines()[2] == f"| 全市（市级层面） | {len(city)} |" and "柳州市" not in table
        assert "## 全市（市级层面）\n\n- **[" in markdown
        with (case_out / "rectification.csv").open(encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.DictReader(handle))
        assert sorted(r["问题编号"] for r in rows if r["区县"] == "全市") == sorted(f["id"] for f in city)
        assert not any(r["区县"] == "柳州市" for r in rows)
        overview = "".join(_section(case_out, "overview").text.split())
        assert "10涉及区县" in overview and overview.index("全市") < overview.index("三江侗族自治县")

    def test_every_school_with_findings_has_a_section_and_a_notice(
        self, page: Page, document: dict[str, Any], case_out: Path
    ) -> None:
        schools = {f["school_id"] for f in document["findings"] if f["school_id"]}
        assert {i.removeprefix("school-") for i in page.ids if i.startswith("school-")} == schools
        counties = {f["school_id"]: f["county"] for f in document["findings"] if f["school_id"]}
        notices = {link for link in page.links if link.startswith("notices/")}
        assert notices == {f"notices/{counties[s]}.html#{s}" for s in schools}  # the case's names need no cleaning
        assert set(notices_of(case_out)) == schools
        assert all(notices_of(case_out)[s].file == case_out / f"notices/{counties[s]}.html" for s in schools)

    def test_overview_counts_match_the_summary(self, case_out: Path, document: dict[str, Any]) -> None:
        """The figures, and each county's bar segments, add up to the findings."""
        overview = _section(case_out, "overview")
        text = "".join(overview.text.split())
        summary = document["summary"]
        assert (
            f"{summary['total']}问题总数" in text
            and f"{len({f['school_id'] for f in document['findings'] if f['school_id']})}涉及学校" in text
        )
        for severity, label in (("critical", "严重"), ("major", "较重")):
            assert f"{summary['by_severity'][severity]}{label}" in text
            for county in {county_of(f) for f in document["findings"]}:
                n = sum(1 for f in document["findings"] if county_of(f) == county and f["severity"] == severity)
                assert (f"{county}{label}{n}项" in text) == (n > 0), (county, severity)
        assert overview.tags["svg"] == 3  # severity, counties, families


def _section(case_out: Path, section_id: str) -> Page:
    html = (case_out / "report.html").read_text(encoding="utf-8")
    match = re.search(rf'<section id="{section_id}">(.*?)</section>', html, re.DOTALL)
    assert match, section_id
    return Page(match.group(1))


class TestTraces:
    def test_every_finding_links_to_exactly_one_trace_on_its_countys_page(
        self, page: Page, case_out: Path, document: dict[str, Any]
    ) -> None:
        """Each finding's trace is on its county's traces page (the city's under 全市), linked from
        the school's table and the list; every link lands on exactly one element."""
        pages = {path.name: Page(path.read_text(encoding="utf-8")) for path in (case_out / "traces").iterdir()}
        for finding in document["findings"]:
            name = f"{county_of(finding)}.html"
            target = f"trace-{finding['id']}"
            assert pages[name].ids[target] == 1, target
            assert page.links.count(f"traces/{name}#{target}") >= 2  # the school's table and the list
        for link in page.links:
            if link.startswith("#"):
                assert page.ids[link[1:]] == 1, link
            elif link.startswith("traces/"):
                name, _, target = link.removeprefix("traces/").partition("#")
                assert name in pages and (not target or pages[name].ids[target] == 1), link
        assert all(n == 1 for n in page.ids.values()), [i for i, n in page.ids.items() if n > 1]

    def test_report_html_holds_no_traces(self, case_out: Path, document: dict[str, Any]) -> None:
        """The report itself stays short: the traces are on the county pages, not inline."""
        html = (case_out / "report.html").read_text(encoding="utf-8")
        assert 'class="trace"' not in html and len(html) < 3_000_000

    def test_a_trace_shows_rule_basis_condition_values_threshold_and_rows(
        self, case_out: Path, document: dict[str, Any]
    ) -> None:
        """Each finding's trace (its article on its county's traces page) shows the rule, the
        basis quoted, the condition, the observed values, the evidence rows and the action."""
        articles: dict[str, dict[str, str]] = {}  # each traces page read and split once
        for finding in document["findings"]:
            name = county_of(finding)
            if name not in articles:
                articles[name] = _articles((case_out / "traces" / f"{name}.html").read_text(encoding="utf-8"))
            target = f"trace-{finding['id']}"
            assert target in articles[name], target
            trace = Page(articles[name][target]).text
            assert finding["rule_id"] in trace and finding["basis"]["quote"] in trace
            assert finding["condition"] in trace
            for observed in finding["observed"]:
                assert observed["text"] in trace
            for evidence in finding["evidence"]:
                assert evidence["file"] in trace and str(evidence["row"]) in trace
            assert finding["rectification"]["action"] in trace

    def test_indicator_rows_show_value_target_gap_and_link_failures(
        self, case_out: Path, document: dict[str, Any]
    ) -> None:
        indicators = _section(case_out, "indicators")
        text = "".join(indicators.text.split())
        # 3/36 = 8.33…% against 15%: 1/12 − 3/20 = −1/15 = −6.67 percentage points; 6/40 is exactly 15%
        assert "融水苗族自治县8.33%3/3615%−6.67个百分点未达标" in text
        assert "鹿寨县15%6/4015%0个百分点达标" in text
        failing = [r for r in document["indicators"] if r["verdict"] == "fail"]
        assert failing and all(
            f"traces/{county_of(r)}.html#trace-{r['finding_id']}" in indicators.links for r in failing
        )
        assert indicators.tags["svg"] == len(document["indicators"])  # one bullet chart per area

    def test_appendix_accounts_for_every_rule_input_and_pack(self, case_out: Path, document: dict[str, Any]) -> None:
        appendix = _section(case_out, "appendix")
        text = appendix.text
        rows = re.findall(
            r'<tr>\s*<td><a href="#rule-([^"]+)"><code>[^<]+</code></a> v\d+</td>(.*?)</tr>',
            (case_out / "report.html").read_text(encoding="utf-8"),
            re.DOTALL,
        )
        assert [r[0] for r in rows] == [rule["id"] for rule in document["rules"]]
        for (rule_id, cells), rule in zip(rows, document["rules"], strict=True):
            numbers = re.findall(r'<td class="num">(\d+|—)</td>', cells)
            if rule["status"] == "evaluated":
                assert numbers == [str(rule[k]) for k in ("checked", "passed", "failed", "not_evaluated")], rule_id
                assert rule["checked"] == rule["passed"] + rule["failed"] + rule["not_evaluated"]
        for item in document["audit"]["inputs"]:
            assert item["sha256"] in text and item["file"] in text
        for pack in document["audit"]["packs"]:
            assert pack["sha256"] in text
        for name, version in document["audit"]["tool"].items():
            assert f"{name} {version}" in text
        assert hashlib.sha256((case_out / "findings.json").read_bytes()).hexdigest() in text
        for gap in document["data_gaps"]:
            assert gap["entity_id"] in text


class TestSelfContained:
    def test_no_network_resources(self, page: Page, case_out: Path) -> None:
        """Nothing to fetch: no src, no stylesheet link, no url() or @import; the icon is a data: URL."""
        html = (case_out / "report.html").read_text(encoding="utf-8")
        assert page.sources == [("link", "href", "data:,")]
        assert "url(" not in html and "@import" not in html
        assert not [link for link in page.links if re.match(r"[a-z]+:", link)]

    def test_only_the_report_script_runs(self, page: Page, case_out: Path) -> None:
        """One inline script, allowed by its hash in the Content-Security-Policy, nothing else."""
        html = (case_out / "report.html").read_text(encoding="utf-8")
        assert len(page.scripts) == 1
        digest = base64.b64encode(hashlib.sha256(page.scripts[0].encode("utf-8")).digest()).decode()
        policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"&]+)"', html)
        assert policy and "default-src 'none'" in policy.group(1) and f"script-src 'sha256-{digest}'" in policy.group(1)
        assert "unsafe-inline" not in policy.group(1).split("script-src", 1)[1]

    def test_print_stylesheet_is_a4(self, case_out: Path) -> None:
        html = (case_out / "report.html").read_text(encoding="utf-8")
        assert "@page { size: A4;" in html and "@media print" in html


class TestRebuild:
    def test_same_document_same_bytes(self, loaded: tuple[dict[str, Any], str], rendered: dict[str, bytes]) -> None:
        """Rendering twice (the module's render, then one of a copy of the document) gives
        byte-identical files; no time or random id gets in."""
        document, sha = loaded
        assert rendered == render_reports(copy.deepcopy(document), sha)

    def test_report_command_reproduces_the_audit_outputs(self, case_out: Path, tmp_path: Path) -> None:
        """`inspector report OUT`, in another process (another hash seed, a later second), rebuilds
        from findings.json exactly what the audit wrote."""
        rebuilt = tmp_path / "rebuilt"
        rebuilt.mkdir()
        (rebuilt / "findings.json").write_bytes((case_out / "findings.json").read_bytes())
        time.sleep(1.1)  # anything stamped with the time of writing would differ
        subprocess.run(
            [sys.executable, "-m", "inspector.cli", "report", str(rebuilt), "--quiet"],
            env={**os.environ, "PYTHONHASHSEED": "12345"},
            check=True,
            capture_output=True,
            timeout=300,
        )
        # evidence.csv (every evidence row) is the audit's own: findings.json keeps only the first rows
        names = sorted(
            p.relative_to(case_out).as_posix()
            for p in case_out.rglob("*")
            if p.is_file() and p.name not in ("evidence.csv", MANIFEST)
        )
        assert names == sorted(
            p.relative_to(rebuilt).as_posix() for p in rebuilt.rglob("*") if p.is_file() and p.name != MANIFEST
        )
        for name in names:
            assert (case_out / name).read_bytes() == (rebuilt / name).read_bytes(), name
        audit_set = json.loads((case_out / MANIFEST).read_text(encoding="utf-8"))["files"]
        rebuilt_set = json.loads((rebuilt / MANIFEST).read_text(encoding="utf-8"))["files"]
        assert rebuilt_set == {name: digest for name, digest in audit_set.items() if name != "evidence.csv"}

    @pytest.mark.parametrize(
        ("county", "share", "lists"),
        [
            (None, "both", True),
            ("融水苗族自治县", "both", True),
            (None, "there", False),
        ],
        ids=["city", "county", "all-there-without-lists"],
    )
    def test_a_second_process_writes_the_bytes_of_one(
        self,
        case_out: Path,
        county: str | None,
        share: str,
        lists: bool,
        monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path,
    ) -> None:
        """A large audit's reports are shared with a second process, which writes its parts into the
        set itself: the folder is byte for byte what one process writes, for the city and for a
        county edition with both processes writing (this one takes its first part only once the
        other has taken one), and when the second process takes every part, of a findings.json
        without the lists the model lets it leave out (indicators, data_gaps, rejected_rows)."""
        import time

        from inspector import report

        data = (case_out / "findings.json").read_bytes()
        if not lists:
            trimmed = json.loads(data)
            for key in ("indicators", "data_gaps", "rejected_rows"):
                trimmed.pop(key, None)
            data = json.dumps(trimmed, ensure_ascii=False).encode("utf-8")
        document, sha = report._with_defaults(json.loads(data)), hashlib.sha256(data).hexdigest()

        def write(out: Path, helper: report.ReportProcess | None) -> dict[str, bytes]:
            write_reports(out, _shared_with(helper, document, data, sha, county=county))
            return _files(out)

        alone = write(tmp_path / "one", None)
        monkeypatch.setenv("INSPECTOR_WORKERS", "2")
        monkeypatch.setattr(report, "PARALLEL_FROM", 0)
        taken: list[int] = []
        claim = report._claim

        def after_the_other(claims: Any, other: Any = None) -> int:
            deadline = time.monotonic() + 60
            while claims.value == 0 and time.monotonic() < deadline:
                time.sleep(0.005)
            assert claims.value > 0, "the second process took no part"
            taken.append(claim(claims, other))
            return taken[-1]

        # this process takes no part (the spawned one, unpatched, takes them all), or waits for it
        monkeypatch.setattr(
            report, "_claim", (lambda _claims, _other=None: 1 << 30) if share == "there" else after_the_other
        )
        with report.ReportProcess(len(document["findings"])) as helper:
            assert helper.pool is not None
            shared = write(tmp_path / "two", helper)
        assert shared == alone
        assert any(name.startswith("notices/") for name in alone) and "rectification.xlsx" in alone
        if share == "both":
            assert 0 not in taken and len(taken) > 1  # the other took the first part, this one at least one

    def test_parts_of_a_second_process_that_died_are_written_here(
        self, case_out: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A second process that took two parts, left a half-written file of each and died: this
        process renders those parts again over what it left, says so, and the folder is what one
        process writes."""
        import multiprocessing
        from concurrent.futures import Future
        from concurrent.futures.process import BrokenProcessPool

        from inspector import report

        data = (case_out / "findings.json").read_bytes()
        document, sha = json.loads(data), hashlib.sha256(data).hexdigest()
        write_reports(tmp_path / "one", render_reports(document, sha, rebuild=True))

        class DyingPool:
            def __init__(self, claims: Any) -> None:
                self.claims = claims

            def submit(
                self, _task: object, _source: bytes | str, _sha: str, _county: object, _rebuild: bool, share: Any
            ) -> Future[dict[str, str]]:
                assert report._claim(self.claims) == 0 and report._claim(self.claims) == 1  # the workbook, the report
                share.add("rectification.xlsx", b"PK half")
                share.add("report.html", b"<html half")
                died: Future[dict[str, str]] = Future()
                died.set_exception(BrokenProcessPool("killed"))
                return died

        helper = report.ReportProcess(len(document["findings"]))
        helper.claims = multiprocessing.get_context("spawn").Value("i", 0)
        helper.pool = DyingPool(helper.claims)  # type: ignore[assignment]
        write_reports(tmp_path / "two", _shared_with(helper, document, data, sha))
        assert _files(tmp_path / "two") == _files(tmp_path / "one")
        assert "生成报告的第二个进程未能完成，其负责的部分已由本进程重新生成（内容相同）" in capsys.readouterr().err

    def test_a_second_process_that_died_leaves_no_semaphore_held(self, case_out: Path, tmp_path: Path) -> None:
        """With the collector off (a batch command), nothing holds the count of parts (a semaphore)
        after a second process died: its error, raised here, had held this process's frame in a
        reference cycle, and `inspector` leaving at once (`cli.console`) then had the resource
        tracker report a leaked semaphore."""
        import gc
        import multiprocessing
        import weakref
        from concurrent.futures import Future
        from concurrent.futures.process import BrokenProcessPool

        from inspector import report

        data = (case_out / "findings.json").read_bytes()
        document, sha = json.loads(data), hashlib.sha256(data).hexdigest()

        class DeadPool:
            def submit(self, *_args: object) -> Future[dict[str, str]]:
                died: Future[dict[str, str]] = Future()
                died.set_exception(BrokenProcessPool("killed"))
                return died

        collecting = gc.isenabled()
        gc.disable()
        try:
            helper = report.ReportProcess(len(document["findings"]))
            helper.claims = multiprocessing.get_context("spawn").Value("i", 0)
            helper.pool = DeadPool()  # type: ignore[assignment]
            count = weakref.ref(helper.claims)
            with helper:
                write_reports(tmp_path / "out", _shared_with(helper, document, data, sha))
            del helper
            assert count() is None
        finally:
            if collecting:
                gc.enable()

    def test_a_second_process_killed_holding_the_count_does_not_stop_this_one(
        self, case_out: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Killed between taking the count's lock and releasing it, the second process leaves the lock
        taken: this process no longer waits for it for ever, but renders every part once the second
        process's job has ended, without waiting on the lock again for each part (the wait between
        its looks made 30 s here: a dozen parts would then take six minutes)."""
        import multiprocessing
        import threading
        from concurrent.futures import Future
        from concurrent.futures.process import BrokenProcessPool

        from inspector import report

        data = (case_out / "findings.json").read_bytes()
        document, sha = json.loads(data), hashlib.sha256(data).hexdigest()
        write_reports(tmp_path / "one", render_reports(document, sha, rebuild=True))
        claims = multiprocessing.get_context("spawn").Value("i", 0)
        holder = multiprocessing.get_context("spawn").Process(target=_take_and_die, args=(claims,))
        holder.start()
        holder.join(60)
        assert holder.exitcode == 0 and not claims.get_lock().acquire(False)  # taken for good

        class KilledPool:
            def submit(self, *_args: object) -> Future[dict[str, str]]:
                died: Future[dict[str, str]] = Future()
                died.set_exception(BrokenProcessPool("killed"))
                return died

        helper = report.ReportProcess(len(document["findings"]))
        helper.claims = claims
        helper.pool = KilledPool()  # type: ignore[assignment]
        monkeypatch.setattr(report, "_LOOK", 30.0)

        def run() -> None:
            with helper:
                write_reports(tmp_path / "two", _shared_with(helper, document, data, sha))

        worker = threading.Thread(target=run, daemon=True)
        worker.start()
        worker.join(60)
        assert not worker.is_alive(), "waited for the lock of a dead process"
        assert _files(tmp_path / "two") == _files(tmp_path / "one")

    def test_stale_notices_are_removed(self, rendered: dict[str, bytes], tmp_path: Path) -> None:
        """A notice of a county without findings in this run does not survive it, nor do the notices
        of older versions (`notices/<school>.html`, `notices/<county>/<school>.html`, now
        `notices/<county>.html`)."""
        out = tmp_path / "out"
        (out / "notices").mkdir(parents=True)
        (out / "notices" / "4509999999.html").write_text("旧通知书", encoding="utf-8")  # before manifests
        write_reports(out, {"notices/柳北区/4509999998.html": "旧通知书".encode()})  # before one file per county
        assert (out / "notices" / "柳北区" / "4509999998.html").is_file()
        files = rendered
        write_reports(out, files)
        assert sorted(p.relative_to(out).as_posix() for p in (out / "notices").rglob("*")) == sorted(
            n for n in files if n.startswith("notices/")
        )

    def test_no_findings_no_notices_folder(self, loaded: tuple[dict[str, Any], str], tmp_path: Path) -> None:
        """A run without findings removes a stale notices folder and its report lists no rectification rows."""
        document, sha = loaded
        empty = {**document, "findings": [], "summary": {**document["summary"], "total": 0, "by_county": {}}}
        out = tmp_path / "out"
        (out / "notices").mkdir(parents=True)
        (out / "notices" / "old.html").write_text("旧", encoding="utf-8")
        write_reports(out, render_reports(empty, sha))
        assert not (out / "notices").exists()
        assert len(Page((out / "report.html").read_text(encoding="utf-8")).rect_rows) == 0


def _marked(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The five school findings TestLaterKeys marks (new, persisting, regressed, waived, waiver expired)."""
    return [f for f in document["findings"] if f.get("school_id")][:5]


class TestLaterKeys:
    """What re-inspections, waivers and the plan's city indicators add to findings.json (in the
    shapes `inspector reinspect` and waivers.yaml produce) is rendered when present, never required."""

    @pytest.fixture
    def extended(self, document: dict[str, Any]) -> dict[str, Any]:
        doc = copy.deepcopy(document)
        findings = _marked(doc)
        for finding, change, label in zip(
            findings[:3], ("new", "persisting", "regressed"), ("新发现", "仍存在", "复发"), strict=True
        ):
            finding["change"], finding["change_label"] = change, label
        waiver = {
            "rule": findings[3]["rule_id"],
            "entity": findings[3]["entity_id"],
            "reason": "校舍改造期间临时合班",
            "authority": "三江侗族自治县教育局",
            "document_no": "三教发〔2025〕9号",
            "expires": "2026-06-30",
        }
        findings[3].update(waived=True, waiver=waiver)
        findings[4].update(
            waived=False,
            waiver=None,
            expired_waiver={**waiver, "entity": findings[4]["entity_id"], "expires": "2025-09-30"},
        )
        doc["reinspection"] = {
            "audit_id": "A2",
            "previous": {"audit_id": "A1", "name": "上一次督导", "as_of": "2025-06-01"},
            "counts": {"new": 99, "persisting": 99, "regressed": 99, "resolved": 99, "unverified": 99},
            "labels": {
                "new": "新发现",
                "persisting": "仍存在",
                "regressed": "复发",
                "resolved": "已整改",
                "unverified": "无法核实",
            },
        }
        doc["resolved"] = [
            {
                "id": "F-0000000000000001",
                "county": "融水苗族自治县",
                "school_name": "融水苗族自治县已整改小学",
                "rule_id": "class-size.large",
                "message": "原大班额问题",
                "resolution": "本次复查已通过",
            },
            {
                "id": "F-0000000000000002",
                "county": "柳北区",
                "school_name": "柳北区已整改小学",
                "rule_id": "class-size.large",
                "message": "原大班额问题",
                "resolution": "本次复查已通过",
            },
        ]
        doc["unverified"] = [
            {
                "id": "F-0000000000000003",
                "county": "柳北区",
                "school_name": "柳北区待核实小学",
                "rule_id": "safety.guards",
                "message": "原问题",
                "reason": "缺少安防台账，无法核实",
            },
        ]
        doc["waivers"] = {
            "file": "waivers.yaml",
            "sha256": "a" * 64,
            "as_of": "2025-12-01",
            "entries": [
                {**waiver, "line": 3, "status": "applied", "status_label": "已豁免", "finding_id": findings[3]["id"]},
                {
                    **waiver,
                    "entity": "4502059999",
                    "line": 9,
                    "status": "unused",
                    "status_label": "未匹配",
                    "finding_id": None,
                },
            ],
        }
        template = doc["indicators"][0]
        doc["indicators"] += [
            {
                **template,
                "rule_id": "plan.preschool-enrolment",
                "rule_title": "学前三年毛入园率",
                "binding": "预期性",
                "entity_type": "city",
                "entity_id": "柳州市",
                "county": None,
                "verdict": "pass",
                "finding_id": None,
                "target_year": 2025,
                "observed": [
                    {"field": "preschool_enrolment", "label": "学前三年毛入园率", "value": 0.962, "text": "96.2%"}
                ],
                "threshold": [
                    {"param": "min_preschool_enrolment", "label": "学前三年毛入园率目标", "value": 0.95, "unit": "比例"}
                ],
            },
            {**template, "entity_type": "township", "entity_id": "柳北区沙塘镇", "county": "柳北区"},
        ]
        doc["findings"].insert(
            0,
            {
                **doc["findings"][-1],
                "id": "F-city000000000001",
                "entity_type": "city",
                "entity_id": "柳州市",
                "county": None,
                "township": None,
                "school_id": None,
                "school_name": None,
                "message": "全市学前三年毛入园率未达到规划目标。",
            },
        )
        doc["history"] = {"previous": "柳北区 the full list of another county"}
        return doc

    def test_reinspection_waivers_and_city_indicators(self, extended: dict[str, Any]) -> None:
        """A re-inspection's report labels each finding (新发现, 仍存在, 复发, 已豁免,
        豁免已过期), tallies them from the document, shows the waiver and the city indicators, and
        the finding's trace shows the waiver."""
        page = Page(render_report(extended, "0" * 64))
        text = "".join(page.text.split())
        assert {"新发现", "仍存在", "复发", "已豁免", "豁免已过期"} <= set(
            re.findall(r"新发现|仍存在|复发|已豁免|豁免已过期", text)
        )
        # the tally is counted from the document itself, not copied from the section
        assert "新发现1项、仍存在1项、复发1项；上次的问题已整改2项、无法核实1项" in text and "上一次督导" in text
        assert "校舍改造期间临时合班" in text and "三江侗族自治县教育局" in text
        pages = {name: Page(html.decode("utf-8")) for name, html in render_traces(extended, "0" * 64).items()}
        traces = "".join("".join(trace.text.split()) for trace in pages.values())
        assert "已豁免" in traces and "2026年6月30日" in traces  # the waiver in the finding's trace
        assert page.ids["resolved"] == 1 and "融水苗族自治县已整改小学" in text and "柳北区已整改小学" in text
        assert page.ids["unverified"] == 1 and "缺少安防台账，无法核实" in text
        assert page.ids["waivers"] == 1 and "4502059999" in text and "a" * 64 in text
        assert "学前三年毛入园率" in text and "96.2%" in text and "2025年" in text and "预期性" in text
        assert "未包含全市层面的规划指标" not in text
        assert "柳北区沙塘镇" in text
        city_traces = pages["traces/全市.html"]
        assert city_traces.ids["trace-F-city000000000001"] == 1 and "None" not in "".join(city_traces.text.split())
        assert page.ids[f"county-{slug('全市')}"] == 1 and "None" not in text
        assert page.rect_rows[0]["data-county"] == "全市"

    def test_workbook_and_notices_show_the_status(self, extended: dict[str, Any]) -> None:
        """The workbook's 状态 column and the notices show each marked finding's status and waiver."""
        from steps_reports import xlsx_cells

        files = render_reports(extended, "0" * 64)  # its workbook is rectification_xlsx(extended, "0" * 64)
        sheets = xlsx_cells(files["rectification.xlsx"])
        assert list(sheets)[:2] == ["全部区县", "全市"] and len(sheets["全部区县"]) == len(extended["findings"]) + 1
        header, *rows = sheets["全部区县"]
        status = {row[header.index("问题编号")]: row[header.index("状态")] for row in rows}
        findings = _marked(extended)
        shown = [status[f["id"]] for f in findings]
        assert shown[:3] == ["新发现", "仍存在", "复发"]
        assert shown[3] == "已豁免（三江侗族自治县教育局 三教发〔2025〕9号，至 2026-06-30）"
        assert shown[4] == "豁免已于 2025-09-30 过期"
        waived, expired = findings[3], findings[4]
        notices = {
            anchor: html
            for name, content in files.items()
            if name.startswith("notices/")
            for anchor, html in notice_sheets(content.decode()).items()
        }
        notice = Page(notices[waived["school_id"]]).text
        assert "已批准豁免" in notice and "三教发〔2025〕9号" in notice
        notice = Page(notices[expired["school_id"]]).text
        assert "已于2025年9月30日到期" in notice

    def test_county_edition_keeps_city_figures_and_drops_other_counties(self, extended: dict[str, Any]) -> None:
        edition = county_document(extended, "融水苗族自治县")
        assert "history" not in edition  # unknown top-level keys are left out of a county edition
        assert [r["id"] for r in edition["resolved"]] == ["F-0000000000000001"] and edition["unverified"] == []
        assert edition["waivers"]["entries"] == [] and "counts" not in edition["reinspection"]
        assert {r["entity_type"] for r in edition["indicators"]} == {"city", "county", "county_metric"}
        assert all(r["county"] == "融水苗族自治县" for r in edition["indicators"] if r["entity_type"] != "city")
        html = render_report(edition, "0" * 64)
        assert "学前三年毛入园率" in html and "柳北区" not in html and "柳北区已整改小学" not in html
        assert "F-city000000000001" not in html and "4502059999" not in html


def _take_and_die(claims: Any) -> None:
    """In a process of its own: take the count's lock and end without releasing it, as a process
    killed at that moment would."""
    import os

    claims.get_lock().acquire()
    os._exit(0)
