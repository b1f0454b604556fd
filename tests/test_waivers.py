"""Waivers (暂缓/豁免): waivers.yaml in the audit folder, validated with located errors, applied to
findings (which stay in the output, marked), expired and unused ones reported."""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

import pytest

from inspector.audit import run_audit
from inspector.cli import main
from inspector.errors import DataError
from inspector.output.document import audit_document
from inspector.testing import AuditBuilder

VALID = """\
waivers:
  - rule: kindergarten.unlicensed
    entity: K1
    reason: 新园舍已建成，办园许可证正在审批中
    authority: 柳州市教育局
    document_no: 柳教督函〔2025〕18号
    expires: 2026-06-30
  - rule: class-size.large
    entity: C1
    reason: 新校区建成前临时大班额
    authority: 城中区教育局
    document_no: 城中教发〔2025〕7号
    expires: 2025-11-30
  - rule: class-size.large
    entity: C2
    reason: 教室改造期间临时合班
    authority: 城中区教育局
    document_no: 城中教发〔2025〕9号
    expires: 2026年12月31日
"""


def _folder(tmp_path: Path, waivers: str | None) -> Path:
    builder = AuditBuilder(as_of=dt.date(2025, 12, 1))
    builder.school("K1", type="kindergarten")
    builder.school("P1")
    builder.klass("P1", "3", 60, "C1")
    builder.klass("P1", "4", 40, "C2")
    folder = builder.write(tmp_path / "audit")
    if waivers is not None:
        (folder / "waivers.yaml").write_text(textwrap.dedent(waivers), encoding="utf-8")
    return folder


def test_valid_waiver_marks_the_finding_expired_and_unused_are_reported(tmp_path: Path) -> None:
    result = run_audit(_folder(tmp_path, VALID))
    assert result.waivers is not None
    statuses = {(s.entry.waiver.rule, s.entry.waiver.entity): (s.status, s.entry.line) for s in result.waivers.statuses}
    assert statuses == {
        ("kindergarten.unlicensed", "K1"): ("applied", 2),
        ("class-size.large", "C1"): ("expired", 8),  # expired the day before as_of
        ("class-size.large", "C2"): ("unused", 14),  # C2 has 40 pupils: nothing to waive
    }
    document = audit_document(result)
    findings = {(f["rule_id"], f["entity_id"]): f for f in document["findings"]}
    waived = findings[("kindergarten.unlicensed", "K1")]
    assert waived["waived"] is True and waived["waiver"]["authority"] == "柳州市教育局"
    assert waived["waiver"]["document_no"] == "柳教督函〔2025〕18号" and waived["waiver"]["expires"] == "2026-06-30"
    expired = findings[("class-size.large", "C1")]  # an expired waiver waives nothing: still a finding, marked
    assert (
        expired["waived"] is False and "waiver" not in expired and expired["expired_waiver"]["expires"] == "2025-11-30"
    )
    assert document["waivers"]["counts"] == {"applied": 1, "expired": 1, "unused": 1}
    assert document["waivers"]["entries"][2]["expires"] == "2026-12-31"  # 2026年12月31日, as in audit.yaml
    assert len(document["findings"]) == len(result.findings)  # a waived finding stays in the output


def test_a_waiver_valid_on_the_audit_date_still_waives(tmp_path: Path) -> None:
    text = VALID.replace("expires: 2025-11-30", "expires: 2025-12-01")
    result = run_audit(_folder(tmp_path, text))
    assert result.waivers is not None
    assert {s.entry.waiver.entity: s.status for s in result.waivers.statuses}["C1"] == "applied"


def test_an_entity_is_matched_as_the_datas_ids_are_read(tmp_path: Path) -> None:
    """Data ids are read NFKC-normalised (Ｃ１ is C1); a waiver's entity was compared as written, so a
    waiver for Ｃ１ or "C1" with a zero-width space stayed unused. It is read the same way now."""
    text = VALID.replace("entity: K1", "entity: Ｋ１").replace("entity: C1", 'entity: "C1\u200b"')
    result = run_audit(_folder(tmp_path, text))
    assert result.waivers is not None
    assert [s.status for s in result.waivers.statuses] == ["applied", "expired", "unused"]


def test_a_countys_name_is_matched_as_written_too(tmp_path: Path) -> None:
    """A county's name is text, kept as written (full-width brackets included): a waiver naming it
    so still applies (normalising every waiver's entity broke this, found in review)."""
    from inspector.records.values import normalize_text
    from inspector.waivers import Waiver, WaiverEntry, Waivers, apply_waivers

    finding = type("F", (), {"rule_id": "r", "entity_id": "鱼峰区（新区）", "id": "F-1"})()
    waiver = Waiver(
        rule="r", entity="鱼峰区（新区）", reason="x", authority="y", document_no="z", expires=dt.date(2026, 1, 1)
    )
    assert normalize_text(waiver.entity) != waiver.entity  # the case that broke
    report = apply_waivers(Waivers("waivers.yaml", "", (WaiverEntry(waiver, 2),)), [finding], dt.date(2025, 12, 1))  # type: ignore[list-item]
    assert [s.status for s in report.statuses] == ["applied"]


def test_no_waivers_file_changes_nothing(tmp_path: Path) -> None:
    document = audit_document(run_audit(_folder(tmp_path, None)))
    assert "waivers" not in document
    assert all("waived" not in f and "waiver" not in f for f in document["findings"])


def test_numeric_entity_ids_written_without_quotes_are_text(tmp_path: Path) -> None:
    builder = AuditBuilder()
    builder.school("4502060038", type="kindergarten")
    folder = builder.write(tmp_path / "audit")
    (folder / "waivers.yaml").write_text(
        "waivers:\n  - {rule: kindergarten.unlicensed, entity: 4502060038, reason: 审批中, authority: 市教育局, document_no: 2025018, expires: 2026-06-30}\n",
        encoding="utf-8",
    )
    result = run_audit(folder)
    assert result.waivers is not None and result.waivers.statuses[0].status == "applied"


@pytest.mark.parametrize(
    ("entry", "where", "text"),
    [
        (
            "{rule: class-size.large, entity: C1, authority: 局, expires: 2026-01-01}",
            "waivers.yaml:2",
            "reason: 缺少必填项",
        ),
        (
            "{rule: class-size.large, entity: C1, reason: 理由, expires: 2026-01-01}",
            "waivers.yaml:2",
            "authority: 缺少必填项",
        ),
        ("{rule: class-size.large, entity: C1, reason: 理由, authority: 局}", "waivers.yaml:2", "expires: 缺少必填项"),
        (
            "{rule: class-size.large, entity: C1, reason: '', authority: 局, expires: 2026-01-01}",
            "waivers.yaml:2",
            "reason: 不能为空",
        ),
        (
            "{rule: class-size.large, entity: C1, reason: 理由, authority: 局, expires: 2026-13-01}",
            "waivers.yaml:2",
            "日期无法识别",
        ),
        (
            "{rule: class-size.larg, entity: C1, reason: 理由, authority: 局, document_no: 文1, expires: 2026-01-01}",
            "waivers.yaml:2",
            "是否指“class-size.large”",
        ),
        (
            "{rule: class-size.large, entity: C1, reason: 理由, authority: 局, expires: 2026-01-01, approved: 是}",
            "waivers.yaml:2",
            "approved: 未知字段",
        ),
        (
            "{rule: class-size.large, entity: C1, reason: 理由, authority: 局, expires: 2026-01-01}",
            "waivers.yaml:2",
            "document_no: 缺少批准文号",
        ),
        (
            "{rule: class-size.large, entity: C1, reason: 理由, authority: 局, document_no: '  ', expires: 2026-01-01}",
            "waivers.yaml:2",
            "document_no: 缺少批准文号",
        ),
    ],
)
def test_bad_waivers_are_rejected_at_their_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], entry: str, where: str, text: str
) -> None:
    folder = _folder(tmp_path, f"waivers:\n  - {entry}\n")
    with pytest.raises(DataError) as caught:
        run_audit(folder)
    assert any(str(p).startswith(where) and text in str(p) for p in caught.value.problems), caught.value.render()
    code = main(["audit", str(folder), "--out", str(tmp_path / "out"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and where in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_duplicate_waiver_names_the_first(tmp_path: Path) -> None:
    entry = (
        "  - {rule: class-size.large, entity: C1, reason: 理由, authority: 局, document_no: 文1, expires: 2026-01-01}\n"
    )
    with pytest.raises(DataError) as caught:
        run_audit(_folder(tmp_path, "waivers:\n" + entry + entry))
    (problem,) = caught.value.problems
    assert problem.line == 3 and "首次见第 2 行" in problem.message


def test_yaml_syntax_and_shape_errors_are_located(tmp_path: Path) -> None:
    with pytest.raises(DataError) as caught:
        run_audit(_folder(tmp_path / "a", "waivers:\n  - rule: [unclosed\n"))
    assert caught.value.problems[0].file == "waivers.yaml" and "YAML" in caught.value.problems[0].message
    with pytest.raises(DataError) as caught:
        run_audit(_folder(tmp_path / "b", "- rule: class-size.large\n"))
    assert "waivers:" in caught.value.problems[0].message


def test_fail_on_ignores_findings_under_a_valid_waiver(tmp_path: Path) -> None:
    """--fail-on counts the expired waiver's finding (major) but not the waived critical one."""
    folder = _folder(tmp_path, VALID)
    out = tmp_path / "out"
    assert main(["audit", str(folder), "--out", str(out), "--quiet", "--fail-on", "critical"]) == 0
    assert main(["audit", str(folder), "--out", str(out), "--quiet", "--fail-on", "major"]) == 1
