"""Text for values, thresholds, gaps and evidence rows, shared by the HTML report, notices and Excel."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any

from ..explain import ROLES
from ..numbers import Interval, Surd, exact_of, interval_arith, show
from ..rules.spec import SEVERITY_LABELS, SEVERITY_ORDER
from ..rules.vocabulary import ENTITY_LABELS

RATIO_UNIT = "比例"
AREA_LABELS = {**ENTITY_LABELS, "city": "全市", "township": "乡镇"}
CHANGE_LABELS = {"new": "新发现", "persisting": "仍存在", "regressed": "复发"}
VERDICT_LABELS = {"pass": "达标", "fail": "未达标", "gap": "未评估"}
PROGRESS_LABELS = {"pass": "进度正常", "fail": "进度滞后", "gap": "未评估"}  # a target read as progress
CONFIDENCE_LABELS = {
    "V": "已核对公开原文",
    "V2": "仅见于二手转述，待核对原文",
    "M": "广泛引用但未见原文，待核对",
    "督导惯例": "无成文依据，为督导惯例（说明中写明是谁的做法）",
}

__all__ = [
    "AREA_LABELS",
    "CHANGE_LABELS",
    "CONFIDENCE_LABELS",
    "PROGRESS_LABELS",
    "RATIO_UNIT",
    "SEVERITY_LABELS",
    "SEVERITY_ORDER",
    "VERDICT_LABELS",
    "area_label",
    "change_text",
    "date_cn",
    "evidence_groups",
    "family_label",
    "gap_text",
    "kind_label",
    "number",
    "role_label",
    "severity_rank",
    "threshold_text",
    "value_text",
    "waiver_items",
]


def severity_rank(severity: str) -> int:
    return SEVERITY_ORDER.get(severity, len(SEVERITY_ORDER))


def area_label(entity_type: str) -> str:
    return AREA_LABELS.get(entity_type, entity_type)


def role_label(role: str) -> str:
    return ROLES.get(role, role)


def number(value: float) -> str:
    """A number at most two decimals, no trailing zeros where that is the value exactly."""
    if isinstance(value, bool):
        return "是" if value else "否"
    exact_value = exact_of(value)
    return str(value) if exact_value is None or isinstance(exact_value, Interval) else show(exact_value)


def value_text(value: Any, unit: str = "", exact: str | None = None) -> str:
    """A threshold or indicator value with its unit; ratios as percentages."""
    if value is None:
        return "—"
    if isinstance(value, (list, tuple)):
        return "、".join(value_text(v) for v in value)
    if isinstance(value, Mapping):
        return "；".join(f"{k} {value_text(v, unit)}" for k, v in value.items())
    exact_value = exact_of(value, exact)
    if isinstance(exact_value, Interval):
        return "–".join(value_text(bound, unit) for bound in (exact_value.lo, exact_value.hi))
    if exact_value is not None:
        if unit == RATIO_UNIT:
            return show(exact_value, percent=True)
        return show(exact_value) + (unit if unit and unit != RATIO_UNIT else "")
    return str(value) + (unit if unit and unit != RATIO_UNIT else "")


def threshold_text(threshold: Mapping[str, Any]) -> str:
    return value_text(threshold.get("value"), threshold.get("unit") or "", threshold.get("exact"))


def gap_text(
    value: Any, target: Any, unit: str, value_exact: str | None = None, target_exact: str | None = None
) -> str:
    """Value minus target, signed: percentage points for ratios."""
    left, right = exact_of(value, value_exact), exact_of(target, target_exact)
    if left is None or right is None or isinstance(left, Surd) or isinstance(right, Surd):
        return "—"
    if isinstance(left, Interval) or isinstance(right, Interval):
        spread = interval_arith("-", left, right)
        assert isinstance(spread, Interval) or spread is not None
        low, high = (spread.lo, spread.hi) if isinstance(spread, Interval) else (spread, spread)
        return f"{gap_text(low, 0, unit)}至{gap_text(high, 0, unit)}"
    difference = Fraction(left) - Fraction(right)
    if unit == RATIO_UNIT:
        text = show(abs(difference), percent=True).removesuffix("%")
        return f"{'+' if difference > 0 else '−' if difference < 0 else ''}{text} 个百分点"
    sign = "+" if difference > 0 else "−" if difference < 0 else ""
    return f"{sign}{show(abs(difference))}{unit}"


def date_cn(iso: str) -> str:
    """2026-03-01 → 2026年3月1日."""
    try:
        day = dt.date.fromisoformat(iso)
    except (TypeError, ValueError):
        return str(iso)
    return f"{day.year}年{day.month}月{day.day}日"


def evidence_groups(evidence: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Evidence rows for display: rows with values one by one, bare rows grouped by file and role
    (a county indicator rests on dozens of teacher rows; listing them as one line reads better)."""
    groups: list[dict[str, Any]] = []
    bare: dict[tuple[str, str], dict[str, Any]] = {}
    for item in evidence:
        role = item.get("role", "")
        if item.get("values"):
            groups.append(
                {"file": item["file"], "role": role_label(role), "rows": [item["row"]], "values": item["values"]}
            )
            continue
        key = (item["file"], role + ("/redacted" if item.get("redacted") else ""))
        if key not in bare:
            label = role_label(role) + ("；其他区县的行，区县版不列其内容" if item.get("redacted") else "")
            bare[key] = {"file": item["file"], "role": label, "rows": [], "values": None}
            groups.append(bare[key])
        bare[key]["rows"].append(item["row"])
    return groups


_WAIVER_LABELS = {
    "reason": "理由",
    "authority": "批准机关",
    "document_no": "批准文号",
    "expires": "有效期至",
    "by": "批准人",
    "approved_by": "批准人",
    "until": "有效期至",
    "valid_until": "有效期至",
    "approved_on": "批准日期",
}
_WAIVER_HIDDEN = {"rule", "entity", "line", "status", "status_label", "finding_id"}  # shown elsewhere, or bookkeeping


def waiver_items(waiver: Any) -> list[tuple[str, str]]:
    """A waiver object as labelled pairs, whatever keys it carries."""
    if not isinstance(waiver, Mapping):
        return [("说明", str(waiver))] if waiver else []
    return [
        (
            _WAIVER_LABELS.get(str(k), str(k)),
            date_cn(v) if str(k) in ("expires", "until", "valid_until") else value_text(v),
        )
        for k, v in waiver.items()
        if v not in (None, "") and str(k) not in _WAIVER_HIDDEN
    ]


def change_text(finding: Mapping[str, Any]) -> str:
    """新发现 / 仍存在 / 复发 of a re-inspection, as findings.json labels it; empty otherwise."""
    change = finding.get("change")
    if not change:
        return ""
    return str(finding.get("change_label") or CHANGE_LABELS.get(change, change))


# findings.json names families by id only; these are the core pack's, others show their id
_FAMILY_LABELS = {"class-size": "班额", "kindergarten": "幼儿园办园", "safety": "校园安全", "teachers": "教师队伍"}


def family_label(family: str) -> str:
    return _FAMILY_LABELS.get(family, family)


def kind_name(kind: str) -> str:
    """A record kind's Chinese name alone (`区县统计`), or its id when unknown."""
    from ..records.schema import RECORD_KINDS

    spec = RECORD_KINDS.get(kind)
    return spec.label if spec is not None else kind


def kind_label(kind: str) -> str:
    """A record kind in Chinese (`区县统计（county_stats）`), or its id when unknown."""
    from ..records.schema import RECORD_KINDS

    spec = RECORD_KINDS.get(kind)
    return f"{spec.label}（{kind}）" if spec is not None else kind
