"""`inspector explain`: why a finding fired, in readable Chinese or as JSON."""

from __future__ import annotations

import json
import math
from pathlib import Path

from .errors import UsageError
from .findings.model import AuditInfo, Finding, FindingsDocument, load_findings
from .rules.spec import SEVERITY_LABELS
from .rules.vocabulary import ENTITY_LABELS

ROLES = {
    "record": "对象本身",
    "school": "所属学校",
    "safety": "安防台账",
    "numerator": "分子",
    "denominator": "分母",
    "peer": "同号幼儿园",
    "counted": "计数",
    "unused": "未使用的统计行",
    "input": "指标输入",
    "contributing": "参与计算的学校",
}


def _number(value: object) -> object:
    """A computed float for reading (9792.906574 as 9792.91); findings.json keeps every digit."""
    if not isinstance(value, float) or not math.isfinite(value):
        return value
    if value.is_integer():
        return int(value)
    text = f"{value:.2f}" if abs(value) >= 1 else f"{value:.4g}"
    return text.rstrip("0").rstrip(".") if "." in text and "e" not in text else text


def find(document: FindingsDocument, finding_id: str) -> int:
    """The index of the finding `finding_id` names (its whole id, or a unique prefix)."""
    wanted = finding_id.strip()
    matches = [i for i, f in enumerate(document.findings) if f.id == wanted or f.id.startswith(wanted)]
    if not matches:
        raise UsageError(f"没有编号为 {wanted} 的问题")
    exact = [i for i in matches if document.findings[i].id == wanted]
    if len(matches) > 1 and not exact:
        candidates = "、".join(document.findings[i].id for i in matches[:5])
        raise UsageError(f"编号 {wanted} 不唯一，可能是：{candidates}")
    return (exact or matches)[0]


def render_text(finding: Finding, audit: AuditInfo) -> str:
    basis = finding.basis
    lines = [
        f"问题 {finding.id}：{finding.message}",
        "",
        f"规则    {finding.rule_id}（第 {finding.rule_version} 版，规则包 {finding.pack} {finding.pack_version}）{finding.rule_title}",
        f"严重程度 {SEVERITY_LABELS[finding.severity]}" + (f"；属性 {finding.binding}" if finding.binding else ""),
        f"对象    {ENTITY_LABELS.get(finding.entity_type, finding.entity_type)} {finding.entity_id}"
        + (f"（{finding.school_name}，{finding.county}）" if finding.school_name else f"（{finding.county}）"),
        "",
        "依据",
        f"  {basis.get('document', '')} {basis.get('section', '')}".rstrip(),
        f"  原文：{basis.get('quote', '')}",
    ]
    if basis.get("reading"):
        lines.append(f"  解读：{basis['reading']}")
    if basis.get("confidence"):
        lines.append(f"  可信度：{basis['confidence']}" + (f"（{basis['note']}）" if basis.get("note") else ""))
    elif basis.get("note"):
        lines.append(f"  说明：{basis['note']}")
    lines += ["", "条件"]
    if finding.scope:
        lines.append(f"  适用范围：{finding.scope}")
    lines.append(f"  问题条件：{finding.condition}")
    lines += ["", "观测值"]
    lines += [f"  {o.label}（{o.field}）= {o.text}" for o in finding.observed] or ["  （无：条件只判断记录有无）"]
    lines += ["", "阈值"]
    lines += [
        f"  {t.label}（{t.param}）= {t.value}{t.unit if t.unit not in ('比例',) else ''}" for t in finding.threshold
    ] or ["  （无）"]
    lines += ["", f"输入行（共 {len(finding.evidence)} 行）"]
    for item in finding.evidence:
        role = ROLES.get(item.role, item.role)
        text = f"  {item.file}:{item.row}  [{role}]"
        if item.values:
            text += "  " + "，".join(f"{k}={_number(v)}" for k, v in item.values.items())
        lines.append(text)
    rect = finding.rectification
    lines += ["", "整改", f"  要求：{rect.action}", f"  责任主体：{rect.responsible}", f"  期限：{rect.deadline}"]
    lines += ["", f"审核：{audit.name}，基准日 {audit.as_of}"]
    return "\n".join(lines)


def explain(out_dir: Path, finding_id: str, fmt: str = "text") -> str:
    """A finding of the audit in `out_dir`, read through the findings.json model (a malformed,
    foreign or newer document is a located error, exit 2)."""
    loaded = load_findings(out_dir)
    index = find(loaded.document, finding_id)
    if fmt == "json":
        return json.dumps(loaded.data["findings"][index], ensure_ascii=False, indent=2)
    return render_text(loaded.document.findings[index], loaded.document.audit)
