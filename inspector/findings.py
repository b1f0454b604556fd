"""Findings: what fired, on what, against which threshold, because of which input rows.

A finding is immutable and self-describing: an auditor can read its rule, the clause it rests
on, the values observed, the threshold and the rows of the input files behind it without
the rule pack at hand. Its id depends only on the rule and the entity, so the same problem
keeps the same id from one audit to the next.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .engine.entities import Entity, EntityStore
from .engine.evaluate import RuleOutcome
from .records.loader import Record
from .rules.compiler import CompiledRule, RuleBook, template_context
from .rules.spec import SEVERITY_ORDER
from .rules.templates import number, pct, render
from .rules.typed import Lookup, Present, fields_of, lookups_of, nodes
from .rules.vocabulary import AREA_KINDS, EntityVocabulary, FieldInfo


def finding_id(rule_id: str, entity_type: str, entity_id: str) -> str:
    """Stable across audits: the same rule firing on the same entity gets the same id."""
    digest = hashlib.sha256(f"{rule_id}\0{entity_type}\0{entity_id}".encode()).hexdigest()
    return f"F-{digest[:16]}"


@dataclass(frozen=True)
class Evidence:
    """An input row a finding rests on; `role` says how (the entity's own row, its school, …)."""

    file: str
    row: int
    role: str
    values: Mapping[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"file": self.file, "row": self.row, "role": self.role}
        if self.values is not None:
            data["values"] = dict(self.values)
        return data


@dataclass(frozen=True)
class Observed:
    field: str
    label: str
    value: Any
    text: str


@dataclass(frozen=True)
class Threshold:
    param: str
    label: str
    value: Any
    unit: str


@dataclass(frozen=True)
class Finding:
    id: str
    rule_id: str
    rule_version: int
    rule_title: str
    pack: str
    pack_version: str
    family: str
    severity: str
    binding: str | None
    entity_type: str
    entity_id: str
    school_id: str | None
    school_name: str | None
    county: str
    township: str | None
    message: str
    observed: tuple[Observed, ...]
    threshold: tuple[Threshold, ...]
    condition: str
    scope: str | None
    basis: Mapping[str, Any]
    evidence: tuple[Evidence, ...]
    action: str
    responsible: str
    deadline: dt.date

    def sort_key(self) -> tuple[Any, ...]:
        return (self.county, self.school_id or "", SEVERITY_ORDER[self.severity], self.rule_id, self.entity_id)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "rule_id": self.rule_id,
            "rule_version": self.rule_version,
            "rule_title": self.rule_title,
            "pack": self.pack,
            "pack_version": self.pack_version,
            "family": self.family,
            "severity": self.severity,
            "binding": self.binding,
            "entity_type": self.entity_type,
            "entity_id": self.entity_id,
            "school_id": self.school_id,
            "school_name": self.school_name,
            "county": self.county,
            "township": self.township,
            "message": self.message,
            "observed": [o.__dict__ for o in self.observed],
            "threshold": [t.__dict__ for t in self.threshold],
            "scope": self.scope,
            "condition": self.condition,
            "basis": dict(self.basis),
            "evidence": [e.as_dict() for e in self.evidence],
            "rectification": {
                "action": self.action,
                "responsible": self.responsible,
                "deadline": self.deadline.isoformat(),
            },
        }


@dataclass(frozen=True)
class DataGap:
    """An entity a rule could not evaluate, and what was missing."""

    rule_id: str
    entity_type: str
    entity_id: str
    school_id: str | None
    county: str
    missing: tuple[str, ...]
    evidence: tuple[Evidence, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id,
            "entity_type": self.entity_type,
            "entity_id": self.entity_id,
            "school_id": self.school_id,
            "county": self.county,
            "missing": list(self.missing),
            "evidence": [e.as_dict() for e in self.evidence],
        }


AREA_LEVELS = AREA_KINDS


@dataclass(frozen=True)
class IndicatorResult:
    """An area's value of an indicator rule against its threshold, passing or not: what a
    county government reads first."""

    rule_id: str
    rule_title: str
    severity: str
    binding: str | None
    entity_type: str
    entity_id: str
    county: str
    verdict: str
    finding_id: str | None
    observed: tuple[Observed, ...]
    threshold: tuple[Threshold, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id,
            "rule_title": self.rule_title,
            "severity": self.severity,
            "binding": self.binding,
            "entity_type": self.entity_type,
            "entity_id": self.entity_id,
            "county": self.county,
            "verdict": self.verdict,
            "finding_id": self.finding_id,
            "observed": [o.__dict__ for o in self.observed],
            "threshold": [t.__dict__ for t in self.threshold],
        }


def display(info: FieldInfo, value: Any) -> str:
    """A field value as a Chinese reader expects it."""
    if value is None:
        return "（空）"
    if info.type == "date" and isinstance(value, int):
        return f"{value // 10000:04d}-{value // 100 % 100:02d}-{value % 100:02d}"
    if info.type == "enum" and info.enum:
        return info.enum.get(value, str(value))
    if info.type == "bool":
        return "是" if value else "否"
    if info.percent and isinstance(value, (int, float)):
        return pct(value)
    return number(value)


def _display_values(vocab: EntityVocabulary, values: Mapping[str, Any]) -> dict[str, Any]:
    shown: dict[str, Any] = {}
    for path, value in values.items():
        info = vocab.fields.get(path)
        if info is None or info.type in ("number", "bool"):
            shown[path] = value
        else:
            shown[path] = display(info, value)
    return shown


def _row_values(record: Record) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, value in record.values.items():
        values[name] = value.isoformat() if isinstance(value, dt.date) else value
    values.update(record.extra)
    return values


class FindingBuilder:
    """Turns engine outcomes into findings and data gaps, with messages and evidence."""

    def __init__(self, book: RuleBook, store: EntityStore) -> None:
        self.book = book
        self.store = store

    def _observed(self, rule: CompiledRule, vocab: EntityVocabulary, entity: Entity) -> tuple[Observed, ...]:
        result: list[Observed] = []
        for info in rule.observed:
            value = entity.values.get(info.path)
            result.append(Observed(info.path, info.label, _json_value(info, value), display(info, value)))
            measure = entity.measures.get(info.path)
            if measure is not None and measure.denominator is not None:
                for part in ("numerator", "denominator"):
                    part_info = vocab.fields[f"{info.path}.{part}"]
                    part_value = measure.parts.get(part)
                    result.append(Observed(part_info.path, part_info.label, part_value, display(part_info, part_value)))
        return tuple(result)

    def _thresholds(self, rule: CompiledRule, entity: Entity) -> tuple[Threshold, ...]:
        looked_up = {lookup.param: lookup for lookup in lookups_of(rule.condition)}
        result: list[Threshold] = []
        for name, value in rule.params.items():
            spec = rule.param_specs[name]
            lookup: Lookup | None = looked_up.get(name)
            if lookup is not None and isinstance(value, dict):
                key = entity.values.get(lookup.key.path)
                if key in value:
                    shown = (lookup.key.info.enum or {}).get(key, key)
                    result.append(Threshold(f"{name}[{key}]", f"{spec.title}（{shown}）", value[key], spec.unit or ""))
                    continue
            result.append(Threshold(name, spec.title, value, spec.unit or ""))
        return tuple(result)

    @staticmethod
    def _sources(rule: CompiledRule) -> tuple[set[str], set[str]]:
        """Relation prefixes and indicator ids the rule's scope and condition read."""
        prefixes: set[str] = set()
        indicators: set[str] = set()
        for cond in (rule.scope, rule.condition):
            for node in nodes(cond) if cond is not None else ():
                info = getattr(node.field if isinstance(node, Present) else node, "info", None)
                if info is None:
                    continue
                if info.indicator and not info.relation:
                    indicators.add(info.indicator)
                else:
                    prefixes.add(info.relation)
        return prefixes, indicators

    def _evidence(self, rule: CompiledRule, entity: Entity) -> tuple[Evidence, ...]:
        own = entity.rows.get("")
        rows = [Evidence(own.ref.file, own.ref.row, "record", _row_values(own))] if own else []
        prefixes, indicators = self._sources(rule)
        if entity.kind == "county_metric":
            indicators |= set(entity.measures)  # `cv`/`mean` are the metric's own CV indicator
        for prefix in sorted(prefixes & entity.rows.keys() - {""}):
            record = entity.rows[prefix]
            rows.append(Evidence(record.ref.file, record.ref.row, prefix, _row_values(record)))
        for indicator in sorted(indicators):
            measure = entity.measures.get(indicator)
            if measure is None:
                continue
            numerator = set(measure.numerator_rows)
            if measure.values and len(measure.values) == len(measure.rows):
                # a CV: each school's row carries the value and enrolment it entered the CV with
                for ref, (school_id, name, value, weight) in zip(measure.rows, measure.values):
                    shown = {"school_id": school_id, "name": name, "value": round(value, 6), "weight": weight}
                    rows.append(Evidence(ref.file, ref.row, measure.row_role, shown))
                continue
            for ref in measure.rows:
                if own is None or ref != own.ref:
                    rows.append(Evidence(ref.file, ref.row, "numerator" if ref in numerator else measure.row_role))
        return tuple(rows)

    def finding(self, rule: CompiledRule, entity: Entity) -> Finding:
        vocab = self.book.vocabulary[entity.kind]
        observed = self._observed(rule, vocab, entity)
        threshold = self._thresholds(rule, entity)
        context = template_context(
            _display_values(vocab, entity.values),
            rule.pack_params,
            self.book.as_of,
            observed=[o.__dict__ for o in observed],
            threshold=[t.__dict__ for t in threshold],
            target_year=self.book.target_year,
        )
        school = self.store.schools.get(entity.school_id) if entity.school_id else None
        spec = rule.spec
        return Finding(
            id=finding_id(rule.id, entity.kind, entity.id),
            rule_id=rule.id,
            rule_version=spec.version,
            rule_title=spec.title,
            pack=rule.pack.id,
            pack_version=rule.pack.version,
            family=spec.family,
            severity=spec.severity,
            binding=spec.binding,
            entity_type=entity.kind,
            entity_id=entity.id,
            school_id=entity.school_id,
            school_name=school.values["name"] if school else None,
            county=entity.county,
            township=school.values["township"] if school else None,
            message=render(rule.message, context),  # type: ignore[arg-type]
            observed=observed,
            threshold=threshold,
            condition=" ".join(spec.condition.split()),
            scope=" ".join(spec.scope.split()) if spec.scope else None,
            basis=spec.basis.model_dump(exclude_none=True),
            evidence=self._evidence(rule, entity),
            action=render(rule.action, context),  # type: ignore[arg-type]
            responsible=render(rule.responsible, context),  # type: ignore[arg-type]
            deadline=self.book.as_of + dt.timedelta(days=spec.rectification.deadline_days),
        )

    def gap(self, rule: CompiledRule, entity: Entity) -> DataGap:
        missing: list[str] = []
        for info in (f.info for f in fields_of(rule.condition)):
            if info.path in entity.values:
                continue
            measure = entity.measures.get(info.indicator or "") if not info.relation else None
            if entity.kind == "county_metric" and measure is None:
                measure = next(iter(entity.measures.values()), None)  # the metric's own CV
            if measure is not None and measure.missing:
                missing.extend(f"{info.label}：{why}" for why in measure.missing)
            else:
                missing.append(info.label)
        for lookup in lookups_of(rule.condition):
            key = entity.values.get(lookup.key.path)
            if key is not None and key not in dict(lookup.table):
                missing.append(f"{lookup.key.info.label}“{key}”不在参数 {lookup.param} 中")
        own = entity.rows.get("")
        evidence = (Evidence(own.ref.file, own.ref.row, "record", _row_values(own)),) if own else ()
        return DataGap(rule.id, entity.kind, entity.id, entity.school_id, entity.county, tuple(missing), evidence)

    def build(self, outcomes: Mapping[str, RuleOutcome]) -> tuple[list[Finding], list[DataGap]]:
        findings: list[Finding] = []
        gaps: list[DataGap] = []
        for rule in self.book.rules:
            outcome = outcomes[rule.id]
            for entity_id in sorted(outcome.failed):
                findings.append(self.finding(rule, self.store.get(rule.spec.applies_to, entity_id)))
            for entity_id in sorted(outcome.gaps):
                gaps.append(self.gap(rule, self.store.get(rule.spec.applies_to, entity_id)))
        findings.sort(key=Finding.sort_key)
        gaps.sort(key=lambda g: (g.county, g.school_id or "", g.rule_id, g.entity_id))
        return findings, gaps

    def indicators(self, outcomes: Mapping[str, RuleOutcome]) -> list[IndicatorResult]:
        """Every area a county-level (or wider) rule evaluated, with its values and threshold."""
        results: list[IndicatorResult] = []
        for rule in self.book.rules:
            if rule.spec.applies_to not in AREA_LEVELS:
                continue
            outcome = outcomes[rule.id]
            verdicts = {**{e: "pass" for e in outcome.passed}, **{e: "gap" for e in outcome.gaps},
                        **{e: "fail" for e in outcome.failed}}
            for entity_id, verdict in sorted(verdicts.items()):
                entity = self.store.get(rule.spec.applies_to, entity_id)
                vocab = self.book.vocabulary[entity.kind]
                results.append(
                    IndicatorResult(
                        rule_id=rule.id,
                        rule_title=rule.spec.title,
                        severity=rule.spec.severity,
                        binding=rule.spec.binding,
                        entity_type=entity.kind,
                        entity_id=entity.id,
                        county=entity.county,
                        verdict=verdict,
                        finding_id=finding_id(rule.id, entity.kind, entity.id) if verdict == "fail" else None,
                        observed=self._observed(rule, vocab, entity),
                        threshold=self._thresholds(rule, entity),
                    )
                )
        results.sort(key=lambda r: (r.rule_id, r.county, r.entity_id))
        return results


def _json_value(info: FieldInfo, value: Any) -> Any:
    if value is None:
        return None
    if info.type == "date" and isinstance(value, int):
        return display(info, value)
    return value


def summarize(findings: Iterable[Finding], rules: Sequence[CompiledRule]) -> dict[str, Any]:
    by_rule = {rule.id: 0 for rule in rules}
    by_severity = {severity: 0 for severity in SEVERITY_ORDER}
    by_county: dict[str, int] = {}
    by_family: dict[str, int] = {}
    total = 0
    for finding in findings:
        total += 1
        by_rule[finding.rule_id] = by_rule.get(finding.rule_id, 0) + 1
        by_severity[finding.severity] += 1
        by_county[finding.county] = by_county.get(finding.county, 0) + 1
        by_family[finding.family] = by_family.get(finding.family, 0) + 1
    return {
        "total": total,
        "by_severity": by_severity,
        "by_rule": by_rule,
        "by_family": dict(sorted(by_family.items())),
        "by_county": dict(sorted(by_county.items())),
    }
