"""整改清单 as CSV: one row per finding, Chinese headers, UTF-8 with BOM so Excel opens it.

Built from findings.json's findings (dicts), so an audit and `inspector report` (whole city or
one county) write the same bytes from the same document.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ..errors import Problem
from ..rules.spec import SEVERITY_LABELS
from ..rules.vocabulary import ENTITY_LABELS
from .escape import spreadsheet_text

HEADERS = (
    "序号",
    "问题编号",
    "区县",
    "乡镇",
    "学校代码",
    "学校名称",
    "对象类型",
    "对象编号",
    "问题",
    "严重程度",
    "规则",
    "依据",
    "整改要求",
    "责任主体",
    "整改期限",
    "证据",
    "复查与豁免",
)
CHANGE_LABELS = {"new": "新发现", "persisting": "仍存在", "regressed": "复发"}


def status_text(finding: Mapping[str, Any]) -> str:
    """What a re-inspection (`change`) and waivers add to a finding, in words; empty otherwise."""
    parts = []
    if finding.get("change"):
        parts.append(str(finding.get("change_label") or CHANGE_LABELS.get(finding["change"], finding["change"])))
    waiver = finding.get("waiver")
    if waiver:
        parts.append(
            f"已豁免（{waiver.get('authority', '')} {waiver.get('document_no') or ''}，至 {waiver.get('expires', '')}）"
        )
    elif finding.get("expired_waiver"):
        parts.append(f"豁免已于 {finding['expired_waiver'].get('expires', '')} 过期")
    return "；".join(" ".join(p.split()) for p in parts)


def _evidence_text(evidence: Sequence[Mapping[str, Any]]) -> str:
    text = "；".join(f"{e['file']}:{e['row']}" for e in evidence[:10])
    return text + (f" 等 {len(evidence)} 行" if len(evidence) > 10 else "")


def csv_rows(findings: Sequence[Mapping[str, Any]]) -> list[list[str]]:
    return [
        [
            str(number),
            f["id"],
            ENTITY_LABELS["city"] if f["entity_type"] == "city" else f["county"],  # 全市, as in the reports
            f.get("township") or "",
            f.get("school_id") or "",
            f.get("school_name") or "",
            ENTITY_LABELS.get(f["entity_type"], f["entity_type"]),
            f["entity_id"],
            f["message"],
            SEVERITY_LABELS[f["severity"]],
            f"{f['rule_id']} v{f['rule_version']} {f['rule_title']}",
            f"{f['basis']['document']} {f['basis']['section']}",
            f["rectification"]["action"],
            f["rectification"]["responsible"],
            f["rectification"]["deadline"],
            _evidence_text(f["evidence"]),
            status_text(f),
        ]
        for number, f in enumerate(findings, start=1)
    ]


def csv_bytes(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow([spreadsheet_text(cell) for cell in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def rectification_csv(findings: Sequence[Mapping[str, Any]]) -> bytes:
    return csv_bytes(HEADERS, csv_rows(findings))


def rejected_csv(problems: Sequence[Problem]) -> bytes:
    """The rows a `--keep-going` audit left out, for the data's owner to correct."""
    return csv_bytes(
        ("文件", "行", "列", "原因", "错误代码"), [[p.file, str(p.line), p.field, p.message, p.code] for p in problems]
    )


def evidence_csv(result: Any) -> bytes:
    """Every evidence row of every finding (findings.json keeps the first rows of each role inline):
    finding id, file, row, role; sorted, so the same audit writes the same bytes."""
    return evidence_rows_csv(result.evidence, result.dataset.sources)


EVIDENCE_HEADERS = ("问题编号", "文件", "行", "角色")


def evidence_rows_csv(evidence: Iterable[tuple[str, int, str]], sources: Sequence[str]) -> bytes:
    """`evidence.csv` of (finding id, packed row reference, role) rows: the bytes `csv_bytes` writes
    for their sorted distinct rows, each text rendered once (a province's 14,000 rows repeat a
    few files and roles and some 6,000 ids: cell by cell through the csv module they took 0.04 s)."""
    from ..engine.tables import unpack_ref  # the engine's polars: not for the reports, which import this module

    fields: dict[str, str] = {}

    def field(text: str) -> str:
        found = fields.get(text)
        if found is None:
            found = fields[text] = _csv_field(text)
        return found

    files = [field(source) for source in sources]
    lines = []
    for fid, ref, role in sorted(set(evidence)):
        source, row = unpack_ref(ref)
        lines.append(f"{field(fid)},{files[source]},{row},{field(role)}\r\n")
    return csv_bytes(EVIDENCE_HEADERS, ()) + "".join(lines).encode("utf-8")


def _csv_field(text: str) -> str:
    """One cell as `csv_bytes` writes it within a row: formula triggers neutralised, quoted where
    the text needs it."""
    if not text:
        return ""
    buffer = io.StringIO(newline="")
    # the line end `csv_bytes` writes: the csv module quotes a field that holds one of its characters
    csv.writer(buffer, lineterminator="\r\n").writerow([spreadsheet_text(text)])
    return buffer.getvalue().removesuffix("\r\n")
