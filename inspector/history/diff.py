"""Re-inspection (复查): a new audit's findings classified against an earlier one and the history.

Each finding of the new audit is

* `persisting` — it fired in PREVIOUS (or was still outstanding in the history: it fired, or
  could not be verified, and was never shown resolved since);
* `regressed` — it was resolved in an earlier round (the history, or PREVIOUS's own `resolved`
  list) and fires again;
* `new` — otherwise.

The earlier findings still outstanding that do not fire now are `resolved` only when the new
audit evaluated the rule on that entity and it passed — with the evidence (observed values,
threshold and input rows) — and `unverified` otherwise: the rule was not run or not evaluated,
the entity's data were missing, the entity is out of the rule's scope or gone from the data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..audit import AuditResult
from .store import HistoryStore, Status

CHANGE_LABELS = {"new": "新发现", "persisting": "仍存在", "regressed": "复发"}
UNVERIFIED_REASONS = {
    "rule_absent": "本次审核未运行该规则",
    "rule_not_evaluated": "本次审核未评估该规则",
    "data_gap": "本次数据缺失，无法判断",
    "out_of_scope": "该对象本次不在规则的适用范围内",
    "entity_missing": "该对象已不在本次数据中（撤并、停办或编号变更）",
}
FINDING_KEYS = (
    "rule_id",
    "rule_title",
    "severity",
    "entity_type",
    "entity_id",
    "school_id",
    "school_name",
    "county",
    "township",
)


@dataclass
class Reinspection:
    """The classification of one re-inspection, as findings.json carries it."""

    audit_id: str
    previous_id: str
    previous: Mapping[str, Any]
    changes: dict[str, str] = field(default_factory=dict)
    resolved: list[dict[str, Any]] = field(default_factory=list)
    unverified: list[dict[str, Any]] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        counts = {change: 0 for change in CHANGE_LABELS}
        for change in self.changes.values():
            counts[change] += 1
        counts["resolved"] = len(self.resolved)
        counts["unverified"] = len(self.unverified)
        return counts

    def section(self) -> dict[str, Any]:
        audit = self.previous["audit"]
        return {
            "audit_id": self.audit_id,
            "previous": {"audit_id": self.previous_id, "name": audit["name"], "as_of": audit["as_of"]},
            "counts": self.counts(),
            "labels": {**CHANGE_LABELS, "resolved": "已整改", "unverified": "无法核实"},
        }

    def annotations(self, trends: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        sections: dict[str, Any] = {
            "reinspection": self.section(),
            "resolved": self.resolved,
            "unverified": self.unverified,
        }
        if trends is not None:
            sections["trends"] = trends
        return {
            "findings": {
                fid: {"change": change, "change_label": CHANGE_LABELS[change]} for fid, change in self.changes.items()
            },
            "sections": sections,
        }


def classify(
    result: AuditResult, audit_id: str, previous: Mapping[str, Any], previous_id: str, store: HistoryStore
) -> Reinspection:
    """Classify `result` (not yet stored as `audit_id`) against PREVIOUS and the store's history."""
    history = store.statuses(exclude=audit_id, until=result.config.as_of)
    prior = {fid: entries[-1] for fid, entries in history.items()}
    previous_findings = {f["id"]: f for f in previous.get("findings", [])}
    previous_resolved = {r["id"] for r in previous.get("resolved", [])}
    previous_unverified = {r["id"]: r for r in previous.get("unverified", [])}
    report = Reinspection(audit_id, previous_id, previous)
    current = {f.id for f in result.findings}
    for finding in result.findings:
        last = prior.get(finding.id)
        if finding.id in previous_findings:
            change = "persisting"
        elif finding.id in previous_resolved or (last is not None and last.status == "passes"):
            change = "regressed"
        elif finding.id in previous_unverified or (last is not None and last.status in ("fails", "unverified")):
            change = "persisting"
        else:
            change = "new"
        report.changes[finding.id] = change
    outstanding = set(previous_findings) | set(previous_unverified)
    outstanding |= {fid for fid, status in prior.items() if status.status in ("fails", "unverified")}
    checker = _Checker(result)
    for finding_id in sorted(outstanding - current):
        earlier = previous_findings.get(finding_id) or store.latest_finding(finding_id, exclude=audit_id)
        if earlier is None:  # only ever unverified, in PREVIOUS's list
            earlier = previous_unverified[finding_id]
        seen = _last_seen(history.get(finding_id, []))
        entry = {
            "id": finding_id,
            **{k: earlier.get(k) for k in FINDING_KEYS},
            "message": earlier.get("message"),
            "last_seen": seen,
        }
        outcome = checker.check(entry)
        if "evidence" in outcome:
            report.resolved.append({**entry, **outcome})
        else:
            report.unverified.append({**entry, **outcome})
    key = lambda e: (e["county"], e.get("school_id") or "", e["rule_id"], e["entity_id"])  # noqa: E731
    report.resolved.sort(key=key)
    report.unverified.sort(key=key)
    return report


def _last_seen(history: list[Status]) -> dict[str, Any] | None:
    fired = [s for s in history if s.status == "fails"]
    if fired:
        return {"audit_id": fired[-1].audit_id, "as_of": fired[-1].as_of.isoformat()}
    return None


class _Checker:
    """Whether the new audit evaluated an earlier finding's rule on its entity, and how."""

    def __init__(self, result: AuditResult) -> None:
        self.result = result
        self.tables = result.tables
        self.builder = result.builder
        self.gaps = {(g.rule_id, g.entity_id): g for g in result.gaps}

    def _trail(self, rule_id: str, entity_id: str) -> tuple[Any, Any, Any]:
        assert self.builder is not None
        return self.builder.trails(self.result.outcomes[rule_id].rule, [entity_id])[entity_id]

    def check(self, entry: Mapping[str, Any]) -> dict[str, Any]:
        rule_id, kind, entity_id = entry["rule_id"], entry["entity_type"], entry["entity_id"]
        outcome = self.result.outcomes.get(rule_id)
        if outcome is None:
            return _unverified("rule_absent")
        if not outcome.evaluated:
            return _unverified("rule_not_evaluated", outcome.skipped_reason)
        verdict = outcome.verdict_of(entity_id)
        if verdict == "pass" and self.builder is not None:
            observed, threshold, evidence = self._trail(rule_id, entity_id)
            shown = "，".join(f"{o.label} {o.text}" for o in observed)
            return {
                "resolution": f"本次复查已通过：{entry['rule_title']}不再成立"
                + (f"（{shown}）" if shown else "")
                + "。",
                "observed": [o.model_dump(mode="json", exclude_none=True) for o in observed],
                "threshold": [t.model_dump(mode="json", exclude_none=True) for t in threshold],
                "evidence": [e.model_dump(mode="json", exclude_none=True) for e in evidence],
            }
        if verdict == "gap":
            gap = self.gaps.get((rule_id, entity_id))
            missing = list(gap.missing) if gap is not None else []
            return {**_unverified("data_gap", "缺少：" + "、".join(missing) if missing else ""), "missing": missing}
        if self.tables is not None and self.tables.exists(kind, entity_id):
            return _unverified("out_of_scope")
        return _unverified("entity_missing")


def _unverified(code: str, detail: str = "") -> dict[str, Any]:
    reason = UNVERIFIED_REASONS[code] + (f"（{detail}）" if detail else "")
    return {"reason_code": code, "reason": reason}
