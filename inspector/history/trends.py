"""Trends: each area's value of each indicator rule (表一 and county indicators) per audit, with
the plan's 2022 (mid-term) and 2025 targets, for the annual monitoring the plan asks for."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ..rules.compiler import CompiledRule
from ..rules.spec import NO_TARGET
from .store import HistoryStore

TARGET_YEARS = (2022, 2025)


def targets(rule: CompiledRule | None) -> list[dict[str, Any]]:
    """The rule's numeric thresholds for each target year of the plan (None where it sets none)."""
    if rule is None:
        return []
    result: list[dict[str, Any]] = []
    for name, spec in sorted(rule.param_specs.items()):
        values = {year: spec.for_year(year) for year in TARGET_YEARS}
        if not all(
            v is NO_TARGET or (isinstance(v, (int, float)) and not isinstance(v, bool)) for v in values.values()
        ):
            continue
        for year, value in values.items():
            result.append(
                {
                    "param": name,
                    "label": spec.title,
                    "unit": spec.unit or "",
                    "year": year,
                    "value": None if value is NO_TARGET else value,
                }
            )
    return result


def _point(audit_id: str, as_of: dt.date, row: Mapping[str, Any]) -> dict[str, Any]:
    observed = row.get("observed") or [{}]
    main = observed[0]
    return {
        "audit_id": audit_id,
        "as_of": as_of.isoformat(),
        "year": as_of.year,
        "verdict": row["verdict"],
        "value": main.get("value"),
        "text": main.get("text"),
        "threshold": row["threshold"][0].get("value") if row.get("threshold") else None,
        "finding_id": row.get("finding_id"),
    }


def build_trends(
    store: HistoryStore,
    current: Sequence[Mapping[str, Any]],
    audit_id: str,
    as_of: dt.date,
    rules: Iterable[CompiledRule],
) -> list[dict[str, Any]]:
    """Series per (rule, area): the stored audits up to `as_of` (not `audit_id` itself) and the current values."""
    by_rule = {rule.id: rule for rule in rules}
    series: dict[tuple[str, str, str], dict[str, Any]] = {}

    def add(row: Mapping[str, Any], point: dict[str, Any]) -> None:
        key = (row["rule_id"], row["entity_type"], row["entity_id"])
        entry = series.get(key)
        if entry is None:
            observed = (row.get("observed") or [{}])[0]
            rule = by_rule.get(row["rule_id"])
            entry = series[key] = {
                "rule_id": row["rule_id"],
                "rule_title": row.get("rule_title"),
                "binding": row.get("binding"),
                "entity_type": row["entity_type"],
                "entity_id": row["entity_id"],
                "county": row["county"],
                "field": observed.get("field"),
                "label": observed.get("label"),
                "condition": " ".join(rule.spec.condition.split()) if rule is not None else None,
                "targets": targets(rule),
                "points": [],
            }
        entry["points"].append(point)

    for record, row in store.indicator_series():
        if record.id == audit_id or record.as_of > as_of:
            continue
        add(row, _point(record.id, record.as_of, row))
    for now in current:
        add(now, _point(audit_id, as_of, now))
    result = []
    for key in sorted(series):
        entry = series[key]
        entry["points"].sort(key=lambda p: (p["as_of"], p["audit_id"] == audit_id))
        result.append(entry)
    return result
