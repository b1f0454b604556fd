"""整改清单 as CSV: one row per finding, Chinese headers, UTF-8 with BOM so Excel opens it."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from ..errors import Problem
from ..findings import Finding
from ..rules.spec import SEVERITY_LABELS
from ..rules.vocabulary import ENTITY_LABELS
from .escape import spreadsheet_text

HEADERS = (
    "序号", "问题编号", "区县", "乡镇", "学校代码", "学校名称", "对象类型", "对象编号", "问题",
    "严重程度", "规则", "依据", "整改要求", "责任主体", "整改期限", "证据",
)


def rectification_rows(findings: Sequence[Finding]) -> list[list[str]]:
    rows = []
    for number, finding in enumerate(findings, start=1):
        basis = finding.basis
        rows.append(
            [
                str(number),
                finding.id,
                finding.county,
                finding.township or "",
                finding.school_id or "",
                finding.school_name or "",
                ENTITY_LABELS[finding.entity_type],
                finding.entity_id,
                finding.message,
                SEVERITY_LABELS[finding.severity],
                f"{finding.rule_id} v{finding.rule_version} {finding.rule_title}",
                f"{basis['document']} {basis['section']}",
                finding.action,
                finding.responsible,
                finding.deadline.isoformat(),
                "；".join(f"{e.file}:{e.row}" for e in finding.evidence[:10])
                + (f" 等 {len(finding.evidence)} 行" if len(finding.evidence) > 10 else ""),
            ]
        )
    return rows


def _csv(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow([spreadsheet_text(cell) for cell in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def rectification_csv(findings: Sequence[Finding]) -> bytes:
    return _csv(HEADERS, rectification_rows(findings))


def rejected_csv(problems: Sequence[Problem]) -> bytes:
    """The rows a `--keep-going` audit left out, for the data's owner to correct."""
    return _csv(("文件", "行", "列", "原因", "错误代码"), [[p.file, str(p.line), p.field, p.message, p.code] for p in problems])
