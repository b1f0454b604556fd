"""audit.yaml's `issuer`: validated like the rest of audit.yaml, carried into findings.json, and used on
notices (发文机关, 文号, 联系方式) and reports; without it the notices read as they always have."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from inspector.cli import main
from inspector.errors import DataError
from inspector.findings.model import parse_document
from inspector.records.config import load_config
from inspector.report.issuer import issuer_of
from inspector.testing import AuditBuilder
from steps_reports import notices_of

ISSUER = {
    "office": "柳州市人民政府教育督导委员会办公室",
    "document_prefix": "柳教督",
    "contact": "督导科 0772-2825000",
}


def audit_folder(path: Path, issuer: dict[str, str] | None) -> Path:
    """One school with an oversized class (a finding, so a notice), and the issuer if given."""
    builder = AuditBuilder()
    school = builder.school("S1", name="文惠小学")
    builder.klass(school, "3", 70)
    folder = builder.write(path)
    if issuer is not None:
        config = yaml.safe_load((folder / "audit.yaml").read_text(encoding="utf-8"))
        config["issuer"] = issuer
        (folder / "audit.yaml").write_text(
            yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8"
        )
    return folder


@pytest.fixture(scope="module")
def issued(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The audit's output folder, with an issuer."""
    root = tmp_path_factory.mktemp("issuer")
    out = root / "out"
    assert main(["audit", str(audit_folder(root / "audit", ISSUER)), "--out", str(out), "--quiet"]) == 0
    return out


@pytest.fixture(scope="module")
def default(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same audit without one."""
    root = tmp_path_factory.mktemp("no-issuer")
    out = root / "out"
    assert main(["audit", str(audit_folder(root / "audit", None)), "--out", str(out), "--quiet"]) == 0
    return out


class TestConfig:
    def test_misspelt_key_is_located(self, tmp_path: Path) -> None:
        """`issuer.ofice` is an unknown key at its line, like any other audit.yaml key."""
        folder = audit_folder(tmp_path, {"ofice": "某办公室"})
        with pytest.raises(DataError) as caught:
            load_config(folder)
        assert [(p.file, p.field) for p in caught.value.problems] == [("audit.yaml", "issuer.ofice")]
        assert caught.value.problems[0].line > 1

    @pytest.mark.parametrize("text", ["督导\x07办", "督导\n办", "   "], ids=["control", "line-break", "blank"])
    def test_control_characters_and_blanks_are_refused(self, tmp_path: Path, text: str) -> None:
        """An office with a control character, a line break or nothing but spaces is a located error."""
        with pytest.raises(DataError) as caught:
            load_config(audit_folder(tmp_path, {"office": text}))
        assert [p.field for p in caught.value.problems] == ["issuer.office"]

    def test_every_key_is_optional(self, tmp_path: Path) -> None:
        """Only a contact: the office keeps its default wording."""
        config = load_config(audit_folder(tmp_path, {"contact": "0772-1234567"}))
        assert config.issuer is not None and config.issuer.office is None


class TestCarried:
    def test_findings_json_carries_the_issuer(self, issued: Path, default: Path) -> None:
        """The issuer is in `audit.issuer` and the typed model reads it; without one the key is absent."""
        document = json.loads((issued / "findings.json").read_text(encoding="utf-8"))
        assert document["audit"]["issuer"] == ISSUER
        assert (
            parse_document((issued / "findings.json").read_bytes(), "findings.json").audit.issuer.office
            == ISSUER["office"]
        )
        assert "issuer" not in json.loads((default / "findings.json").read_text(encoding="utf-8"))["audit"]

    def test_notice_names_the_office_numbers_and_contact(self, issued: Path) -> None:
        """The notice's head is the office, its number 柳教督〔2025〕S1号, its contact line printed, the
        seal line names the office, and the receipt quotes the same number."""
        html = notices_of(issued)["S1"].html
        assert '<div class="issuer">柳州市人民政府教育督导委员会办公室</div>' in html
        assert "文号：柳教督〔2025〕S1号" in html and "文号为 柳教督〔2025〕S1号 的督导整改通知书" in html
        assert "联系方式：督导科 0772-2825000" in html
        assert "督导单位（盖章）：柳州市人民政府教育督导委员会办公室" in html
        assert "柳州市教育督导" not in html

    def test_default_notice_is_unchanged(self, default: Path) -> None:
        """Without an issuer: 柳州市教育督导, 编号：2025-S1, no contact line, a blank seal line."""
        html = notices_of(default)["S1"].html
        assert '<div class="issuer">柳州市教育督导</div>' in html and "编号：2025-S1" in html
        assert "联系方式" not in html and "督导单位（盖章）：</p>" in html

    def test_reports_name_the_office(self, issued: Path, default: Path) -> None:
        """report.html and report.md name the office and contact; a report without an issuer does not."""
        html = (issued / "report.html").read_text(encoding="utf-8")
        assert "<dt>督导单位</dt><dd>柳州市人民政府教育督导委员会办公室</dd>" in html and "督导科 0772-2825000" in html
        assert "- 督导单位：柳州市人民政府教育督导委员会办公室" in (issued / "report.md").read_text(encoding="utf-8")
        assert "督导单位</dt>" not in (default / "report.html").read_text(encoding="utf-8")

    def test_county_edition_keeps_the_issuer(self, issued: Path, tmp_path: Path) -> None:
        """A county edition's notices are issued by the same office."""
        assert main(["report", str(issued), "--county", "城中区", "--out", str(tmp_path / "edition"), "--quiet"]) == 0
        assert "文号：柳教督〔2025〕S1号" in notices_of(tmp_path / "edition")["S1"].html


def test_issuer_of_an_old_document() -> None:
    """A findings.json without `issuer` (any earlier version) gets the default wording."""
    view = issuer_of({"region": "柳州市", "as_of": "2025-12-01"})
    assert (view.office, view.configured, view.number("2025", "S1"), view.number_label) == (
        "柳州市教育督导",
        False,
        "2025-S1",
        "编号",
    )
