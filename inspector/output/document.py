"""findings.json: the audit's complete, machine-readable result, byte-identical for the same inputs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
import polars as pl

from ..audit import AuditResult, tool_versions
from ..engine.evaluate import RuleOutcome
from ..engine.tables import COUNTY, group_counts_of
from ..findings import FORMAT, Finding, IndicatorResult
from ..findings.build import summarize
from ..findings.display import json_number
from ..records.config import AUDIT_FILE
from ..rules.spec import LEVEL_OF_ENTITY, NO_TARGET
from ..rules.vocabulary import ENTITY_LABELS

_TALLIES = (("passed", "pass"), ("failed", "fail"), ("not_evaluated", "gap"))


def _by_county(outcomes: Sequence[RuleOutcome]) -> list[dict[str, dict[str, int]]]:
    """Each rule's entities checked, passed, failed and not evaluated in each county."""
    tables: list[dict[str, dict[str, int]]] = []
    for counted in group_counts_of([outcome.verdicts.lazy() for outcome in outcomes], COUNTY, "verdict"):
        table: dict[str, dict[str, int]] = {}
        for county, verdict, n in counted:
            tally = table.setdefault(county, {"checked": 0, "passed": 0, "failed": 0, "not_evaluated": 0})
            tally["checked"] += n
            tally[next(key for key, code in _TALLIES if code == verdict)] += n
        tables.append(dict(sorted(table.items())))
    return tables


def _param_value(value: Any) -> Any:
    if value is NO_TARGET:
        return None
    if isinstance(value, dict):
        return {k: json_number(v) for k, v in value.items()}
    if isinstance(value, list):
        return list(value)
    return json_number(value)


def _rules(result: AuditResult) -> list[dict[str, Any]]:
    rows = []
    outcomes = [result.outcomes[rule.id] for rule in result.book.rules]
    for rule, outcome, by_county in zip(result.book.rules, outcomes, _by_county(outcomes), strict=True):
        spec = rule.spec
        rows.append(
            {
                "id": rule.id,
                "version": spec.version,
                "title": spec.title,
                "pack": rule.pack.id,
                "family": spec.family,
                "severity": rule.severity,
                "binding": spec.binding,
                "level": LEVEL_OF_ENTITY[spec.applies_to],
                "applies_to": spec.applies_to,
                "applies_to_label": ENTITY_LABELS[spec.applies_to],
                "defined_at": rule.where,
                "scope": " ".join(spec.scope.split()) if spec.scope else None,
                "condition": " ".join(spec.condition.split()),
                "params": [
                    {
                        "param": name,
                        "label": rule.param_specs[name].title,
                        "unit": rule.param_specs[name].unit or "",
                        "value": _param_value(value),
                    }
                    for name, value in rule.params.items()
                ],
                "basis": spec.basis.model_dump(mode="json", exclude_none=True),
                "status": "evaluated" if outcome.evaluated else "not_evaluated",
                "reason": outcome.skipped_reason or None,
                "checked": outcome.checked,
                "passed": outcome.count("pass"),
                "failed": outcome.count("fail"),
                "not_evaluated": outcome.count("gap"),
                "not_applicable": outcome.not_applicable,
                "by_county": by_county,
            }
        )
    return rows


def audit_document(result: AuditResult, *, keep_going: bool = False, release: bool = False) -> dict[str, Any]:
    """findings.json's content. `release` lets go of the result's tables and verdicts
    (`AuditResult.release`) as soon as what reads them is built, before the findings are: at
    national scale the loaded tables and the findings' dicts were otherwise held at once."""
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
            pack: {name: _param_value(value) for name, value in sorted(values.items())}
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
    warnings = [*book.reading.warnings(), *result.dataset.warnings]
    if warnings:
        audit["warnings"] = warnings
    if config.issuer is not None:  # left out otherwise: the same audit keeps the same bytes as before
        audit["issuer"] = config.issuer.model_dump(mode="json", exclude_none=True)
    if config.divisions:  # a built-in region's divisions are known to every reader: not repeated
        audit["divisions"] = [
            division.model_dump(mode="json", exclude_none=True, exclude_defaults=True) | {"name": division.name}
            for division in config.divisions
        ]
    rules, counties = _rules(result), county_rows(result)
    if release:
        result.release()
    document = {
        "format": FORMAT,
        "audit": audit,
        "rejected_rows": [problem.as_dict() for problem in result.rejected],
        "summary": summarize(result.findings, book.rules),
        "rules": rules,
        "findings": [_finding(result, finding) for finding in result.findings],
        "indicators": [_indicator(row) for row in result.indicators],
        "data_gaps": [gap.model_dump(mode="json") for gap in result.gaps],
        "counties": counties,
    }
    # present only when the audit folder has waivers.yaml / when written by `inspector reinspect`
    if result.waivers is not None:
        document["waivers"] = result.waivers.as_dict()
    if result.annotations:
        document.update(result.annotations.get("sections", {}))
    return document


def _indicator(row: IndicatorResult) -> dict[str, Any]:
    data = row.model_dump(mode="json", exclude_none=False)
    if data["reading"] is None:
        del data["reading"]
    return data


_COUNTY_KINDS = ("schools", "classes", "teachers", "safety", "facilities", "county_stats")


def county_rows(result: AuditResult) -> list[dict[str, Any]]:
    """Every county: the region's divisions in their order, then any other name the data uses, each
    with its loaded rows per county-level record kind (a school's classes, teachers, safety and
    facilities rows count for the school's county). A name the divisions know by an alias is
    counted under the division's full name."""
    tables = result.dataset.tables
    divisions = result.config.region_divisions
    schools = tables["schools"].lazy().select("school_id", "county")
    queries = {
        "schools": schools.group_by("county").len(),
        "county_stats": tables["county_stats"].lazy().group_by("county").len(),
    }
    for kind in ("classes", "teachers", "safety", "facilities"):
        # counted by school, then the few schools joined to their county: not every row joined
        queries[kind] = (
            tables[kind]
            .lazy()
            .group_by("school_id")
            .len()
            .join(schools, on="school_id", how="inner")
            .group_by("county")
            .agg(pl.col("len").sum())
        )
    counts: dict[str, dict[str, int]] = {}
    for kind, counted in zip(queries, pl.collect_all(list(queries.values())), strict=True):
        for name, n in counted.iter_rows():
            if name is None:
                continue
            full = (divisions.canonical(name) if divisions is not None else None) or name
            tally = counts.setdefault(full, dict.fromkeys(_COUNTY_KINDS, 0))
            tally[kind] += n
    known = list(divisions) if divisions is not None else []
    names = known + sorted(set(counts) - set(known))
    return [
        {"name": name, "division": name in known, "rows": counts.get(name, dict.fromkeys(_COUNTY_KINDS, 0))}
        for name in names
    ]


_OPTIONAL = ("evidence_count", "waived", "waiver", "expired_waiver", "change", "change_label", "reading")


def _finding(result: AuditResult, finding: Finding) -> dict[str, Any]:
    data = finding.model_dump(mode="json")
    for key in _OPTIONAL:
        if data.get(key) is None:
            data.pop(key, None)
    for item in (*data["observed"], *data["threshold"]):
        if item.get("exact") is None:
            item.pop("exact", None)
    for item in data["evidence"]:
        if item.get("values") is None:
            item.pop("values", None)
    if result.waivers is not None:
        data.update(result.waivers.finding_fields(finding.id))
    if result.annotations:
        data.update(result.annotations.get("findings", {}).get(finding.id, {}))
    return data


def dumps(document: dict[str, Any]) -> bytes:
    """The document as findings.json: UTF-8, two-space indent, keys in writing order (the bytes
    `json.dumps(document, ensure_ascii=False, indent=2)` gives, fast)."""
    return orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n"
