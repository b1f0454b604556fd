"""County editions of the case: every other county's school (all 320, not only those with findings)
is checked against each edition's HTML, workbook, CSV, Markdown and notices."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from inspector.cli import main
from inspector.output.atomic import MANIFEST
from inspector.report import county_document, county_names, load_findings, render_reports, write_reports
from inspector.report.html import render_report, render_traces
from steps_reports import Page, leaks, notices_of, read_folder

CASE = Path(__file__).resolve().parents[1] / "cases" / "liuzhou-2025"


@pytest.fixture(scope="module")
def roster() -> list[dict[str, str]]:
    """Every school of the case's input, with its county."""
    sheet = openpyxl.load_workbook(CASE / "schools.xlsx", read_only=True).worksheets[0]
    header, *rows = list(sheet.iter_rows(values_only=True))
    index = {name: header.index(name) for name in ("学校代码", "学校名称", "区县")}
    return [
        {"id": str(r[index["学校代码"]]), "name": str(r[index["学校名称"]]), "county": str(r[index["区县"]])}
        for r in rows
    ]


@pytest.fixture(scope="module")
def loaded(case_out: Path) -> Iterator[tuple[dict[str, Any], str]]:
    """The case's findings.json as `inspector report` reads it, read once for the module's tests
    (each took 0.3 s to parse and validate it); checked unchanged at the end."""
    document, sha = load_findings(case_out)
    yield document, sha
    assert (document, sha) == load_findings(case_out), "a test changed the shared document"


def _edition(loaded: tuple[dict[str, Any], str], county: str, folder: Path) -> Path:
    document, sha = loaded
    write_reports(folder, render_reports(document, sha, county=county))
    return folder


COUNTIES = [
    "三江侗族自治县",
    "城中区",
    "柳北区",
    "柳南区",
    "柳城县",
    "柳江区",
    "融安县",
    "融水苗族自治县",
    "鱼峰区",
    "鹿寨县",
]


def test_the_leak_check_sees_other_counties_in_the_full_report(
    case_out: Path, roster: list[dict[str, str]], loaded: tuple[dict[str, Any], str]
) -> None:
    """The check used below is not vacuous: each kind of file of the city-wide report (the page, a
    trace page, the workbook, the CSV, the Markdown, a notice) names other counties' schools."""
    notice = min(n.file.relative_to(case_out).as_posix() for n in notices_of(case_out).values())
    trace = min(p.name for p in (case_out / "traces").iterdir())
    names = [
        "report.html",
        f"traces/{trace}",
        "rectification.xlsx",
        "rectification.csv",
        "report.md",
        notice,
    ]
    texts = read_folder(case_out, names).texts
    assert len(texts) == 6
    found = leaks(texts, roster, "融水苗族自治县")
    assert len(found) > 100
    assert {item.split(": ", 1)[0] for item in found} >= set(names)
    assert sorted({school["county"] for school in roster}) == sorted(COUNTIES) == sorted(county_names(loaded[0]))


@pytest.mark.parametrize("county", COUNTIES)
def test_no_other_county_school_in_the_edition(
    loaded: tuple[dict[str, Any], str], roster: list[dict[str, str]], tmp_path: Path, county: str
) -> None:
    """Nothing of another county's schools, by code or name, in any file of the edition."""
    document = loaded[0]
    assert county in county_names(document)
    folder = _edition(loaded, county, tmp_path / "edition")
    view = read_folder(folder)
    assert leaks(view.texts, roster, county) == []

    own = [f for f in document["findings"] if f["county"] == county]
    page = view.pages["report.html"]
    assert len(page.rect_rows) == len(own) and {r["data-county"] for r in page.rect_rows} == {county}
    sheets = view.sheets["rectification.xlsx"]
    assert list(sheets) == [county, "说明"] and len(sheets[county]) == len(own) + 1
    schools = {f["school_id"] for f in own if f["school_id"]}
    assert set(notices_of(folder)) == schools
    assert {n.file.name for n in notices_of(folder).values()} == {f"{county}.html"}
    assert all(school["county"] == county for school in roster if school["id"] in schools)


def test_edition_compares_with_the_city_without_names(loaded: tuple[dict[str, Any], str]) -> None:
    """Rank and spread among the counties, this county's indicator against the others' median."""
    document, _ = loaded
    edition = county_document(document, "融水苗族自治县")
    comparison = edition["edition"]["comparison"]
    counts = {name: n for name, n in document["summary"]["by_county"].items() if name != "柳州市"}
    assert (
        len(counts) == 10 and document["summary"]["by_county"]["柳州市"] > 0
    )  # city-level findings rank with no county
    assert comparison["own"] == counts["融水苗族自治县"] == edition["summary"]["total"]
    assert comparison["rank"] == 1 + sum(1 for n in counts.values() if n > counts["融水苗族自治县"])
    assert sorted(comparison["counts"]) == sorted(counts.values()) and comparison["city_total"] == sum(counts.values())
    assert comparison["city_level"] == document["summary"]["by_county"]["柳州市"]
    assert comparison["city_mean"] == sum(counts.values()) / 10
    own = [row for row in edition["indicators"] if row["entity_type"] == "county"]
    city = [row for row in edition["indicators"] if row["entity_type"] == "city"]
    assert own and all(row["county"] == "融水苗族自治县" for row in own) and city
    (indicator,) = [row for row in own if row["rule_id"] == "teachers.new-pe-art-share"]
    assert indicator["peers"]["counties"] == 9 and indicator["peers"]["rank"] == 9
    assert "values" in indicator["peers"] and "names" not in indicator["peers"]
    assert edition["rejected_rows"] == [] and all(g["county"] == "融水苗族自治县" for g in edition["data_gaps"])


def test_shared_licence_evidence_of_other_counties_keeps_rows_not_values(loaded: tuple[dict[str, Any], str]) -> None:
    """A licence shared across counties: the edition keeps the trace (file, row) but not the other
    kindergartens' values."""
    document, _ = loaded
    peers = {
        (e["file"], e["row"])
        for f in document["findings"]
        if f["rule_id"] == "kindergarten.license-shared"
        for e in f["evidence"]
    }
    for county in ("柳南区", "柳城县", "融安县"):
        edition = county_document(document, county)
        for finding in edition["findings"]:
            for evidence in finding["evidence"]:
                values = evidence.get("values") or {}
                assert values.get("county") in (None, county)
        kept = {
            (e["file"], e["row"])
            for f in edition["findings"]
            if f["rule_id"] == "kindergarten.license-shared"
            for e in f["evidence"]
        }
        assert kept and kept <= peers


def test_evidence_values_naming_another_county_are_redacted(loaded: tuple[dict[str, Any], str]) -> None:
    """Were a peer row to carry its values, the other county's school would still not show."""
    document = copy.deepcopy(loaded[0])  # changed below: a copy of the shared document
    finding = next(
        f for f in document["findings"] if f["rule_id"] == "kindergarten.license-shared" and f["county"] == "融安县"
    )
    peer = next(e for e in finding["evidence"] if e["role"] == "peer")
    peer["values"] = {"school_id": "4502039999", "name": "柳城县某某幼儿园", "county": "柳城县"}
    edition = county_document(document, "融安县")
    html = render_report(edition, "0" * 64) + "".join(
        page.decode("utf-8") for page in render_traces(edition, "0" * 64).values()
    )
    assert "其他区县的行，区县版不列其内容" in html and f"{peer['file']}</code> 第 {peer['row']} 行" in html
    assert "4502039999" not in html and "柳城县某某幼儿园" not in html


class TestCommand:
    def test_county_edition_from_the_command_line(
        self, case_out: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert (
            main(["report", str(case_out), "--county", "融水苗族自治县", "--out", str(tmp_path / "rs"), "--quiet"]) == 0
        )
        assert "区县版（融水苗族自治县）" in capsys.readouterr().out
        assert {p.name for p in (tmp_path / "rs").iterdir()} == {
            "report.html",
            "rectification.xlsx",
            "rectification.csv",
            "report.md",
            "notices",
            "traces",
            MANIFEST,
        }
        assert not (tmp_path / "rs" / "findings.json").exists()  # the city's data stays in the audit folder

    def test_default_folder_is_under_the_audit_output(self, case_out: Path, tmp_path: Path) -> None:
        out = tmp_path / "out"
        out.mkdir()
        (out / "findings.json").write_bytes((case_out / "findings.json").read_bytes())
        assert main(["report", str(out), "--county", "城中区", "--quiet"]) == 0
        assert (out / "counties" / "城中区" / "report.html").is_file()

    def test_refuses_to_write_a_county_edition_over_the_audit(
        self, case_out: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert main(["report", str(case_out), "--county", "城中区", "--out", str(case_out)]) == 2
        assert "区县版不能写入审核输出文件夹本身" in capsys.readouterr().err

    def test_unknown_county_suggests(self, case_out: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """A county name that is not in the audit exits 2, suggests the nearest name and writes nothing."""
        assert main(["report", str(case_out), "--county", "鹿寨", "--out", str(tmp_path / "x")]) == 2
        assert "是否指 鹿寨县" in capsys.readouterr().err
        assert not (tmp_path / "x").exists()

    def test_folder_without_findings(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """`report` of a folder with no findings.json exits 2 and names the missing file."""
        assert main(["report", str(tmp_path)]) == 2
        assert "没有 findings.json" in capsys.readouterr().err


def test_rule_counts_are_the_countys_own(case_out: Path) -> None:
    """A county edition counts the entities of its own county per rule; the counties add up to the city."""
    document = json.loads((case_out / "findings.json").read_text(encoding="utf-8"))
    editions = {county: county_document(document, county) for county in county_names(document)}
    for index, rule in enumerate(document["rules"]):
        if rule["applies_to"] == "city":
            continue
        own = [edition["rules"][index] for edition in editions.values()]
        for key in ("checked", "passed", "failed", "not_evaluated"):
            assert sum(row[key] for row in own) == rule[key], (rule["id"], key)
        assert all("by_county" not in row for row in own)


def test_city_verdicts_are_context_in_a_county_edition(loaded: tuple[dict[str, Any], str]) -> None:
    """The city's indicator rows stay in a county edition as reference, labelled 全市层面，供参考; the county's own
    rows and findings carry no such label and no city finding is the county's."""
    from inspector.report.county import CITY_CONTEXT

    document, _ = loaded
    edition = county_document(document, "柳北区")
    city = [row for row in edition["indicators"] if row["entity_type"] == "city"]
    own = [row for row in edition["indicators"] if row["entity_type"] != "city"]
    assert city and all(row["context"] == CITY_CONTEXT == "全市层面，供参考" for row in city)
    assert own and not any(row.get("context") for row in own)
    assert not any(f["entity_type"] == "city" for f in edition["findings"])
    page = Page(render_report(edition, "0" * 64))
    assert CITY_CONTEXT in page.text
    assert CITY_CONTEXT not in Page(render_report(document, "0" * 64)).text
