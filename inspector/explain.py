"""`inspector explain`: why a finding fired, in readable Chinese or as JSON."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from .errors import UsageError
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


def load_document(out_dir: Path) -> dict[str, Any]:
    path = out_dir / "findings.json"
    if not path.is_file():
        raise UsageError(f"{out_dir} 中没有 findings.json：请先运行 inspector audit，并用 --in 指向其输出文件夹")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path} 不是有效的 findings.json：{exc}") from None


def find(document: dict[str, Any], finding_id: str) -> dict[str, Any]:
    wanted = finding_id.strip()
    matches = [f for f in document["findings"] if f["id"] == wanted or f["id"].startswith(wanted)]
    if not matches:
        raise UsageError(f"没有编号为 {wanted} 的问题")
    if len(matches) > 1 and not any(f["id"] == wanted for f in matches):
        candidates = "、".join(f["id"] for f in matches[:5])
        raise UsageError(f"编号 {wanted} 不唯一，可能是：{candidates}")
    return next((f for f in matches if f["id"] == wanted), matches[0])


def render_text(finding: dict[str, Any], audit: dict[str, Any]) -> str:
    basis = finding["basis"]
    lines = [
        f"问题 {finding['id']}：{finding['message']}",
        "",
        f"规则    {finding['rule_id']}（第 {finding['rule_version']} 版，规则包 {finding['pack']} {finding['pack_version']}）{finding['rule_title']}",
        f"严重程度 {SEVERITY_LABELS[finding['severity']]}" + (f"；属性 {finding['binding']}" if finding.get("binding") else ""),
        f"对象    {ENTITY_LABELS[finding['entity_type']]} {finding['entity_id']}"
        + (f"（{finding['school_name']}，{finding['county']}）" if finding.get("school_name") else f"（{finding['county']}）"),
        "",
        "依据",
        f"  {basis['document']} {basis['section']}",
        f"  原文：{basis['quote']}",
    ]
    if basis.get("reading"):
        lines.append(f"  解读：{basis['reading']}")
    if basis.get("confidence"):
        lines.append(f"  可信度：{basis['confidence']}" + (f"（{basis['note']}）" if basis.get("note") else ""))
    elif basis.get("note"):
        lines.append(f"  说明：{basis['note']}")
    lines += ["", "条件"]
    if finding.get("scope"):
        lines.append(f"  适用范围：{finding['scope']}")
    lines.append(f"  问题条件：{finding['condition']}")
    lines += ["", "观测值"]
    lines += [f"  {o['label']}（{o['field']}）= {o['text']}" for o in finding["observed"]] or ["  （无：条件只判断记录有无）"]
    lines += ["", "阈值"]
    lines += [f"  {t['label']}（{t['param']}）= {t['value']}{t['unit'] if t['unit'] not in ('比例',) else ''}" for t in finding["threshold"]] or ["  （无）"]
    lines += ["", f"输入行（共 {len(finding['evidence'])} 行）"]
    for item in finding["evidence"]:
        role = ROLES.get(item["role"], item["role"])
        text = f"  {item['file']}:{item['row']}  [{role}]"
        if item.get("values"):
            text += "  " + "，".join(f"{k}={_number(v)}" for k, v in item["values"].items())
        lines.append(text)
    rect = finding["rectification"]
    lines += ["", "整改", f"  要求：{rect['action']}", f"  责任主体：{rect['responsible']}", f"  期限：{rect['deadline']}"]
    lines += ["", f"审核：{audit['name']}，基准日 {audit['as_of']}"]
    return "\n".join(lines)


def explain(out_dir: Path, finding_id: str, fmt: str = "text") -> str:
    document = load_document(out_dir)
    finding = find(document, finding_id)
    if fmt == "json":
        return json.dumps(finding, ensure_ascii=False, indent=2)
    return render_text(finding, document["audit"])
