"""findings.json: the audit's complete, machine-readable result, byte-identical for the same inputs."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from ..audit import AuditResult, tool_versions
from ..engine.evaluate import RuleOutcome
from ..findings import Finding, summarize
from ..records.config import AUDIT_FILE
from ..rules.spec import NO_TARGET
from ..rules.vocabulary import ENTITY_LABELS

FORMAT = "inspector.findings/1"


def _by_county(result: AuditResult, kind: str, outcome: RuleOutcome) -> dict[str, dict[str, int]]:
    """A rule's entities checked, passed, failed and not evaluated in each county."""
    if result.store is None:
        return {}
    county_of = result.store.county_of
    tallies = {key: Counter(county_of(kind, entity_id) for entity_id in ids)
               for key, ids in (("passed", outcome.passed), ("failed", outcome.failed), ("not_evaluated", outcome.gaps))}
    counties = sorted(set().union(*tallies.values()))
    return {
        county: {"checked": sum(t[county] for t in tallies.values()), **{key: t[county] for key, t in tallies.items()}}
        for county in counties
    }


def _rules(result: AuditResult) -> list[dict[str, Any]]:
    rows = []
    for rule in result.book.rules:
        outcome = result.outcomes[rule.id]
        spec = rule.spec
        rows.append(
            {
                "id": rule.id,
                "version": spec.version,
                "title": spec.title,
                "pack": rule.pack.id,
                "family": spec.family,
                "severity": spec.severity,
                "binding": spec.binding,
                "applies_to": spec.applies_to,
                "applies_to_label": ENTITY_LABELS[spec.applies_to],
                "defined_at": rule.where,
                "scope": " ".join(spec.scope.split()) if spec.scope else None,
                "condition": " ".join(spec.condition.split()),
                "params": [
                    {"param": name, "label": rule.param_specs[name].title, "unit": rule.param_specs[name].unit or "",
                     "value": None if value is NO_TARGET else value}
                    for name, value in rule.params.items()
                ],
                "basis": spec.basis.model_dump(exclude_none=True),
                "status": "evaluated" if outcome.evaluated else "not_evaluated",
                "reason": outcome.skipped_reason or None,
                "checked": outcome.checked,
                "passed": len(outcome.passed),
                "failed": len(outcome.failed),
                "not_evaluated": len(outcome.gaps),
                "by_county": _by_county(result, spec.applies_to, outcome),
            }
        )
    return rows


def audit_document(result: AuditResult, *, keep_going: bool = False) -> dict[str, Any]:
    config, dataset, book = result.config, result.dataset, result.book
    inputs = [item.as_dict() for item in dataset.inputs]
    audit: dict[str, Any] = {
        "name": config.name,
        "as_of": config.as_of.isoformat(),
        "region": config.region,
        "description": config.description,
        "config": {"file": AUDIT_FILE, "sha256": dataset.config_sha256},
        "packs": [pack.as_dict() for pack in book.packs],
        "params": {
            pack: {name: (None if value is NO_TARGET else value) for name, value in sorted(values.items())}
            for pack, values in book.params.items()
        },
        "target_year": book.target_year,
        "inputs": inputs,
        "rows": {
            "read": sum(i["rows_read"] for i in inputs),
            "loaded": sum(i["rows_loaded"] for i in inputs),
            "rejected": sum(i["rows_rejected"] for i in inputs),
        },
        "missing_kinds": list(dataset.missing_kinds),
        "ignored_files": list(dataset.ignored_files),
        "keep_going": keep_going,
        "tool": tool_versions(),
        "families": dict(sorted(book.families.items())),
    }
    document = {
        "format": FORMAT,
        "audit": audit,
        "rejected_rows": [problem.as_dict() for problem in result.rejected],
        "summary": summarize(result.findings, book.rules),
        "rules": _rules(result),
        "findings": [_finding(result, finding) for finding in result.findings],
        "indicators": [row.as_dict() for row in result.indicators],
        "data_gaps": [gap.as_dict() for gap in result.gaps],
    }
    # present only when the audit folder has waivers.yaml / when written by `inspector reinspect`
    if result.waivers is not None:
        document["waivers"] = result.waivers.as_dict()
    if result.annotations:
        document.update(result.annotations.get("sections", {}))
    return document


def _finding(result: AuditResult, finding: Finding) -> dict[str, Any]:
    data = finding.as_dict()
    if result.waivers is not None:
        data.update(result.waivers.finding_fields(finding.id))
    if result.annotations:
        data.update(result.annotations.get("findings", {}).get(finding.id, {}))
    return data


def dumps(document: dict[str, Any]) -> bytes:
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
