"""Every county gets an edition: a clean county (its indicators, passes and data), a division the data
does not mention, short names, `--all-counties` published as one set, and findings.json's `counties`."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest
import yaml

from inspector.cli import main
from inspector.errors import UsageError
from inspector.findings.model import parse_document
from inspector.output.atomic import MANIFEST
from inspector.records.regions import LIUZHOU
from inspector.report import county_document, county_names, load_findings, resolve_county
from inspector.testing import AuditBuilder


def two_counties(
    folder: Path,
    *,
    region: str = "柳州市",
    divisions: list[dict[str, object]] | None = None,
    south: str = "城中区",
    north: str = "柳北区",
) -> Path:
    """城中区 with an oversized class (a finding), 柳北区 with a compliant school (no finding)."""
    builder = AuditBuilder()
    school = builder.school("S1", name="文惠小学", county=south)
    builder.klass(school, "3", 70)
    clean = builder.school("N1", name="柳北小学", county=north, township="解放街道")
    builder.klass(clean, "3", 40)
    builder.write(folder)
    config = yaml.safe_load((folder / "audit.yaml").read_text(encoding="utf-8"))
    config["region"] = region
    if divisions is not None:
        config["divisions"] = divisions
    (folder / "audit.yaml").write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("editions")
    out = root / "out"
    assert main(["audit", str(two_counties(root / "audit")), "--out", str(out), "--quiet"]) == 0
    return out


def page(folder: Path) -> str:
    return (folder / "report.html").read_text(encoding="utf-8")


class TestDocument:
    def test_findings_json_lists_every_county_with_its_rows(self, audited: Path) -> None:
        """`counties`: the ten divisions in official order, each with its own loaded rows (0 where absent)."""
        document = json.loads((audited / "findings.json").read_text(encoding="utf-8"))
        assert [c["name"] for c in document["counties"]] == list(LIUZHOU)
        rows = {c["name"]: c["rows"] for c in document["counties"]}
        assert rows["城中区"]["schools"] == 1 and rows["城中区"]["classes"] == 1 and rows["城中区"]["safety"] == 1
        assert rows["柳北区"]["schools"] == 1 and sum(rows["融水苗族自治县"].values()) == 0
        assert all(c["division"] for c in document["counties"])
        assert parse_document((audited / "findings.json").read_bytes(), "findings.json").counties is not None

    def test_county_names_are_the_divisions(self, audited: Path) -> None:
        """With the region's divisions known, every one of them has an edition, in official order."""
        assert county_names(load_findings(audited)[0]) == list(LIUZHOU)

    def test_short_and_former_names_resolve(self, audited: Path) -> None:
        """融水县, 三江 and 柳江县 name their divisions; a near miss suggests one."""
        document, _ = load_findings(audited)
        assert resolve_county(document, "融水县") == "融水苗族自治县"
        assert resolve_county(document, "三江") == "三江侗族自治县"
        assert resolve_county(document, "柳江县") == "柳江区"
        with pytest.raises(UsageError, match="是否指 融水苗族自治县"):
            resolve_county(document, "融水自治县")

    def test_clean_county_edition_has_its_indicators_passes_and_data(self, audited: Path) -> None:
        """柳北区: no finding, its rule tallies (passes), its data rows; the comparison counts it as 0."""
        edition = county_document(load_findings(audited)[0], "柳北区")
        assert edition["summary"]["total"] == 0 and edition["findings"] == []
        assert edition["edition"]["records"]["rows"]["schools"] == 1
        checks = edition["edition"]["checks"]
        assert (
            checks["failed"] == 0
            and checks["passed"] > 0
            and checks["checked"] == checks["passed"] + checks["not_evaluated"]
        )
        large = next(r for r in edition["rules"] if r["id"] == "class-size.large")
        assert (large["checked"], large["passed"], large["failed"]) == (1, 1, 0)
        comparison = edition["edition"]["comparison"]
        assert comparison["counties"] == 10 and comparison["own"] == 0 and max(comparison["counts"]) >= 1
        assert edition["counties"] == [next(c for c in load_findings(audited)[0]["counties"] if c["name"] == "柳北区")]

    def test_document_without_counties_still_gives_editions(self, audited: Path) -> None:
        """A findings.json written before `counties` existed: the editions come from the region's divisions,
        without the data line."""
        document, _ = load_findings(audited)
        del document["counties"]
        edition = county_document(document, "柳北区")
        assert edition["edition"]["records"] is None and "counties" not in edition
        assert edition["edition"]["checks"]["passed"] > 0


class TestCommand:
    def test_clean_county_edition(self, audited: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """`--county 柳北区`: exit 0, a report that says what was checked and passed, an empty list, no notices."""
        out = tmp_path / "north"
        assert main(["report", str(audited), "--county", "柳北区", "--out", str(out), "--quiet"]) == 0
        assert "区县版（柳北区）" in capsys.readouterr().out
        html = page(out)
        assert "本县数据：学校 1 行，班级 1 行" in html and "问题 0，" in html and "条规则在本县全部通过" in html
        assert "本次督导数据中没有柳北区的记录" not in html
        assert not (out / "notices").exists()
        sheet = openpyxl.load_workbook(out / "rectification.xlsx")["柳北区"]
        assert sheet.max_row == 1  # the header only

    def test_division_without_data_says_so(self, audited: Path, tmp_path: Path) -> None:
        """A division the data never mentions gets an edition whose first words are that there is no data."""
        out = tmp_path / "rongshui"
        assert main(["report", str(audited), "--county", "融水县", "--out", str(out), "--quiet"]) == 0
        assert "本次督导数据中没有融水苗族自治县的记录" in page(out)

    def test_short_name_gives_the_full_names_folder(self, audited: Path, tmp_path: Path) -> None:
        """The default folder is named by the full name, whatever name was typed."""
        work = tmp_path / "audit-out"
        work.mkdir()
        (work / "findings.json").write_bytes((audited / "findings.json").read_bytes())
        assert main(["report", str(work), "--county", "三江", "--quiet"]) == 0
        assert (work / "counties" / "三江侗族自治县" / "report.html").is_file()

    def test_unknown_county_is_refused_with_the_list(
        self, audited: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A name that is no county: exit 2, the counties listed, nothing written."""
        assert main(["report", str(audited), "--county", "南宁市", "--out", str(tmp_path / "x")]) == 2
        err = capsys.readouterr().err
        assert "本次督导中没有区县 南宁市" in err and "城中区、鱼峰区" in err and not (tmp_path / "x").exists()

    def test_all_counties_at_once(self, audited: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """`--all-counties`: one sub-folder per division, each a set of its own inside one published set;
        one county can then be rebuilt alone, and the city report rebuilt keeps them all."""
        work = tmp_path / "audit-out"
        work.mkdir()
        (work / "findings.json").write_bytes((audited / "findings.json").read_bytes())
        assert main(["report", str(work), "--all-counties", "--quiet"]) == 0
        out = capsys.readouterr().out
        assert "10 个区县" in out and "其中没有问题的：鱼峰区、柳南区、柳北区" in out
        counties = work / "counties"
        assert sorted(p.name for p in counties.iterdir() if p.is_dir()) == sorted(LIUZHOU)
        assert (counties / MANIFEST).is_file() and all((counties / name / MANIFEST).is_file() for name in LIUZHOU)
        assert "文惠小学" in page(counties / "城中区") and "文惠小学" not in page(counties / "柳北区")
        assert main(["report", str(work), "--county", "柳北区", "--quiet"]) == 0
        assert main(["report", str(work), "--all-counties", "--quiet"]) == 0
        assert main(["report", str(work), "--quiet"]) == 0
        assert all((counties / name / "report.html").is_file() for name in LIUZHOU)

    def test_all_counties_refuses_the_audit_folder_and_a_county_at_once(
        self, audited: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """--all-counties may not write over the audit output, nor be combined with --county."""
        assert main(["report", str(audited), "--all-counties", "--out", str(audited)]) == 2
        assert "不能写入审核输出文件夹本身" in capsys.readouterr().err
        with pytest.raises(SystemExit) as caught:
            main(["report", str(audited), "--all-counties", "--county", "城中区"])
        assert caught.value.code == 2


class TestOtherRegions:
    def test_declared_divisions_are_carried_and_used(self, tmp_path: Path) -> None:
        """audit.yaml's divisions travel in findings.json; editions follow them, aliases included."""
        folder = two_counties(
            tmp_path / "audit",
            region="甲市",
            south="东区",
            north="北县",
            divisions=[{"name": "东区"}, {"name": "北县", "aliases": ["北"]}, {"name": "西县"}],
        )
        out = tmp_path / "out"
        assert main(["audit", str(folder), "--out", str(out), "--quiet"]) == 0
        document, _ = load_findings(out)
        assert document["audit"]["divisions"] == [
            {"name": "东区"},
            {"name": "北县", "aliases": ["北"]},
            {"name": "西县"},
        ]
        assert county_names(document) == ["东区", "北县", "西县"]
        assert county_document(document, "北")["edition"]["county"] == "北县"

    def test_region_without_divisions_uses_the_datas_counties(self, tmp_path: Path) -> None:
        """No list for the region: the counties are the names in the data."""
        folder = two_counties(tmp_path / "audit", region="某某市", south="甲区", north="乙县")
        out = tmp_path / "out"
        assert main(["audit", str(folder), "--out", str(out), "--quiet"]) == 0
        document, _ = load_findings(out)
        assert county_names(document) == ["乙县", "甲区"]
        assert [c["division"] for c in document["counties"]] == [False, False]
        assert county_document(document, "乙县")["summary"]["total"] == 0
