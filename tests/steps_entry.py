"""Steps of tests/features/entry.feature: the entry workbook from template to audit and county editions."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl
import pytest
from pytest_bdd import given, parsers, then, when

from inspector.cli import main

AUDIT_YAML = "name: 填报模板审核\nas_of: 2025-12-01\nregion: 柳州市\npacks: [core]\n"


@dataclass
class EntryFlow:
    """One scenario's workbook, the runs made of it, and what they printed."""

    root: Path
    workbook: Path | None = None
    digest: str = ""
    exit_code: int | None = None
    output: str = ""
    out: Path | None = None
    edition: Path | None = None
    rows: dict[str, list[dict[str, str]]] = field(default_factory=dict)


@pytest.fixture
def entry(tmp_path: Path) -> EntryFlow:
    return EntryFlow(tmp_path)


def _table(datatable: list[list[str]]) -> list[dict[str, str]]:
    header, *body = datatable
    return [dict(zip((h.strip() for h in header), (c.strip() for c in row))) for row in body]


def _value(text: str) -> object:
    """A cell as a person types it: whole numbers as numbers, the rest as text."""
    return int(text) if text.isdigit() and not text.startswith("0") and len(text) < 10 else text


@given(parsers.parse('用规则包 "{packs}" 生成填报模板 "{name}"'))
def _template(entry: EntryFlow, packs: str, name: str, capsys: pytest.CaptureFixture[str]) -> None:
    entry.workbook = entry.root / "学校填报" / name
    assert main(["template", "--packs", packs, "--out", str(entry.workbook)]) == 0
    capsys.readouterr()


@when(parsers.parse('在 "{sheet}" 表填写：'))
def _fill(entry: EntryFlow, sheet: str, datatable: list[list[str]]) -> None:
    assert entry.workbook is not None
    book = openpyxl.load_workbook(entry.workbook)
    target = book[sheet]
    headers = [c.value for c in target[1]]
    for number, row in enumerate(_table(datatable), start=3):
        for header, text in row.items():
            target.cell(row=number, column=headers.index(header) + 1, value=_value(text))
    book.save(entry.workbook)


@when("校验填好的工作簿")
def _check(entry: EntryFlow, capsys: pytest.CaptureFixture[str]) -> None:
    assert entry.workbook is not None
    entry.digest = hashlib.sha256(entry.workbook.read_bytes()).hexdigest()
    entry.exit_code = main(["check", str(entry.workbook)])
    captured = capsys.readouterr()
    entry.output = captured.out + captured.err


@then(parsers.parse("校验的退出码为 {code:d}"))
def _check_exit(entry: EntryFlow, code: int) -> None:
    assert entry.exit_code == code, entry.output
    assert "Traceback" not in entry.output


@then("校验输出包含以下各行：")
def _check_lines(entry: EntryFlow, datatable: list[list[str]]) -> None:
    lines = [line.strip() for line in entry.output.splitlines()]
    for (expected,) in datatable[1:]:
        assert expected.strip() in lines, f"缺少：{expected}\n实际：\n{entry.output}"


def _marked(entry: EntryFlow) -> openpyxl.Workbook:
    assert entry.workbook is not None
    return openpyxl.load_workbook(entry.workbook.with_name(f"{entry.workbook.stem}-校验结果.xlsx"))


@then(parsers.parse('标注副本中 "{sheet}" 表的 "{ref}" 单元格标红，批注包含 "{text}"'))
def _marked_cell(entry: EntryFlow, sheet: str, ref: str, text: str) -> None:
    cell = _marked(entry)[sheet][ref]
    assert cell.fill.fgColor.rgb == "00FFC7CE"
    assert cell.comment is not None and text in cell.comment.text


@then(parsers.parse('标注副本中 "{sheet}" 表的 "{ref}" 单元格没有标红'))
def _unmarked_cell(entry: EntryFlow, sheet: str, ref: str) -> None:
    cell = _marked(entry)[sheet][ref]
    assert cell.fill.fgColor.rgb != "00FFC7CE" and cell.comment is None


@then("填好的工作簿没有被改动")
def _untouched(entry: EntryFlow) -> None:
    assert entry.workbook is not None
    assert hashlib.sha256(entry.workbook.read_bytes()).hexdigest() == entry.digest


@when("把填好的工作簿放入督导数据文件夹并审核")
def _audit(entry: EntryFlow, capsys: pytest.CaptureFixture[str]) -> None:
    assert entry.workbook is not None
    folder = entry.root / "督导数据"
    folder.mkdir()
    (folder / "audit.yaml").write_text(AUDIT_YAML, encoding="utf-8")
    (folder / entry.workbook.name).write_bytes(entry.workbook.read_bytes())
    entry.out = entry.root / "审核结果"
    code = main(["audit", str(folder), "--out", str(entry.out), "--quiet"])
    captured = capsys.readouterr()
    assert code == 0, captured.err


def _findings(entry: EntryFlow) -> dict[str, object]:
    assert entry.out is not None
    document: dict[str, object] = json.loads((entry.out / "findings.json").read_text(encoding="utf-8"))
    return document


@then(parsers.parse('审核中规则 "{rule_id}" 的问题对象为 "{ids}"'))
def _audit_findings(entry: EntryFlow, rule_id: str, ids: str) -> None:
    findings = _findings(entry)["findings"]
    assert isinstance(findings, list)
    assert {f["entity_id"] for f in findings if f["rule_id"] == rule_id} == set(ids.split(", "))


@then(parsers.parse('审核中规则 "{rule_id}" 对 "{entity_id}" 的结论为通过'))
def _audit_pass(entry: EntryFlow, rule_id: str, entity_id: str) -> None:
    document = _findings(entry)
    rules, findings = document["rules"], document["findings"]
    assert isinstance(rules, list) and isinstance(findings, list)
    rule = next(r for r in rules if r["id"] == rule_id)
    assert rule["passed"] >= 1 and entity_id not in {f["entity_id"] for f in findings if f["rule_id"] == rule_id}


@when(parsers.parse('生成 "{county}" 的区县版'))
def _edition(entry: EntryFlow, county: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert entry.out is not None
    entry.edition = entry.root / f"区县版-{county}"
    code = main(["report", str(entry.out), "--county", county, "--out", str(entry.edition), "--quiet"])
    captured = capsys.readouterr()
    assert code == 0, captured.err


@then(parsers.parse('区县版报告包含 "{text}"'))
def _edition_text(entry: EntryFlow, text: str) -> None:
    assert entry.edition is not None
    assert text in (entry.edition / "report.html").read_text(encoding="utf-8")


@then("区县版没有整改通知书")
def _no_notices(entry: EntryFlow) -> None:
    assert entry.edition is not None
    assert not (entry.edition / "notices").exists()
