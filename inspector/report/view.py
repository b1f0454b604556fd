"""findings.json regrouped for reading: by county and school, indicators against targets, rule cards."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..rules.vocabulary import ENTITY_LABELS
from .format import CHANGE_LABELS, PROGRESS_LABELS, RATIO_UNIT, VERDICT_LABELS, gap_text, value_text
from .names import slug, unique_slugs

SEVERITIES = ("critical", "major", "minor")
CITY = ENTITY_LABELS["city"]  # 全市: where city-level findings are listed (their county is the region, or none)


def county_of(item: Mapping[str, Any]) -> str:
    if item.get("entity_type") == "city":
        return CITY
    return item.get("county") or CITY


__all__ = [
    "CITY",
    "DATA_FAMILY",
    "SEVERITIES",
    "County",
    "IndicatorGroup",
    "School",
    "counties",
    "county_of",
    "data_quality",
    "indicator_groups",
    "reinspection",
    "rule_cards",
    "schools_of",
]
DATA_FAMILY = "data"  # the data-quality rules' family: findings addressed to whoever filled in the tables


def data_quality(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The data-quality findings (family `data`), by county, school and rule: what the data provider
    must correct, shown in a section of their own rather than among the schools' problems alone."""
    found = [f for f in document["findings"] if f.get("family") == DATA_FAMILY]
    return sorted(found, key=lambda f: (county_of(f), f.get("school_id") or "", f["rule_id"], f["entity_id"]))


def _counts(findings: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    counts = {s: 0 for s in SEVERITIES}
    for finding in findings:
        counts[finding["severity"]] = counts.get(finding["severity"], 0) + 1
    return counts


@dataclass
class School:
    id: str
    name: str
    county: str
    township: str
    findings: list[dict[str, Any]] = field(default_factory=list)
    file_slug: str = ""  # unique among a document's schools (set by `schools_of`)

    @property
    def slug(self) -> str:
        return self.file_slug or slug(self.id)

    @property
    def counts(self) -> dict[str, int]:
        return _counts(self.findings)

    @property
    def weight(self) -> tuple[int, ...]:
        """Ordering by seriousness: more critical findings first, then more major, then more minor."""
        counts = self.counts
        return tuple(-counts.get(s, 0) for s in SEVERITIES)


@dataclass
class County:
    name: str
    own: list[dict[str, Any]] = field(default_factory=list)  # findings on the county itself
    schools: list[School] = field(default_factory=list)
    indicators: list[dict[str, Any]] = field(default_factory=list)

    @property
    def slug(self) -> str:
        return slug(self.name)

    @property
    def level(self) -> str:
        return "市级层面" if self.name == CITY else "区县层面"

    @property
    def findings(self) -> list[dict[str, Any]]:
        return self.own + [f for school in self.schools for f in school.findings]

    @property
    def counts(self) -> dict[str, int]:
        return _counts(self.findings)

    def most_serious(self, limit: int = 10) -> list[School]:
        return sorted(self.schools, key=lambda s: (s.weight, s.id))[:limit]

    def by_township(self) -> list[tuple[str, dict[str, int]]]:
        townships: dict[str, list[dict[str, Any]]] = {}
        for school in self.schools:
            townships.setdefault(school.township or "（未填乡镇）", []).extend(school.findings)
        return sorted(
            ((name, _counts(items)) for name, items in townships.items()), key=lambda t: (-sum(t[1].values()), t[0])
        )


def schools_of(findings: Sequence[Mapping[str, Any]]) -> list[School]:
    """Schools with findings, by school code, each with its findings in document order."""
    schools: dict[str, School] = {}
    for finding in findings:
        if finding.get("school_id") is None:
            continue
        school = schools.get(finding["school_id"])
        if school is None:
            school = schools[finding["school_id"]] = School(
                finding["school_id"],
                finding.get("school_name") or finding["school_id"],
                county_of(finding),
                finding.get("township") or "",
            )
        school.findings.append(dict(finding))
    for school_id, name in unique_slugs(schools).items():  # notices/<slug>.html and the links to them
        schools[school_id].file_slug = name
    return [schools[k] for k in sorted(schools)]


def counties(document: Mapping[str, Any], schools: Sequence[School] | None = None) -> list[County]:
    """Counties with findings or indicators, by name (city-level findings first, under 全市);
    `schools` is `schools_of(document["findings"])` where the caller has it already."""
    result: dict[str, County] = {}
    for finding in document["findings"]:
        name = county_of(finding)
        county = result.setdefault(name, County(name))
        if finding.get("school_id") is None:
            county.own.append(dict(finding))
    for school in schools if schools is not None else schools_of(document["findings"]):
        result[school.county].schools.append(school)
    for row in document["indicators"]:
        if row.get("entity_type") in ("county", "township") and row.get("county"):
            result.setdefault(row["county"], County(row["county"])).indicators.append(row)
    return [result[name] for name in sorted(result, key=lambda n: (n != CITY, n))]


def main_observed(row: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The indicator's own value among its observed fields (not its numerator or denominator)."""
    observed: list[Mapping[str, Any]] = row.get("observed") or []
    for item in observed:
        if "." not in item["field"]:
            return item
    return observed[0] if observed else None


@dataclass
class IndicatorRow:
    area: str
    entity_type: str
    county: str | None
    value: Any
    value_text: str
    detail: str  # numerator / denominator, when the indicator is a share
    target: Any
    target_text: str
    gap_text: str
    verdict: str
    finding_id: str | None
    target_year: Any = None
    peers: Mapping[str, Any] | None = None
    reading: str = ""  # how a target read as progress was derived
    context: str = ""  # a county edition's city row: the city's verdict, shown for reference (全市层面，供参考)

    @property
    def verdict_text(self) -> str:
        labels = PROGRESS_LABELS if self.reading else VERDICT_LABELS
        return labels.get(self.verdict, self.verdict)


@dataclass
class IndicatorGroup:
    rule_id: str
    title: str  # the indicator's name (its value's label), not the rule's, which names the problem
    rule_title: str
    binding: str | None
    unit: str
    target_label: str
    rows: list[IndicatorRow]

    @property
    def scale(self) -> float:
        """One scale for every bar of the indicator, so areas compare at a glance."""
        numbers = [abs(x) for r in self.rows for x in (r.value, r.target) if isinstance(x, (int, float))]
        peak = max(numbers, default=0.0)
        if self.unit == RATIO_UNIT:
            return min(1.0, peak * 1.25) if peak else 1.0
        return peak * 1.15 if peak else 1.0

    @property
    def failing(self) -> int:
        return sum(1 for r in self.rows if r.verdict == "fail")


_AREA_ORDER = {"city": 0, "county": 1, "township": 2}


def indicator_groups(rows: Sequence[Mapping[str, Any]]) -> list[IndicatorGroup]:
    """Indicator rows grouped by rule: city figures first (表一), then counties, then townships."""
    groups: dict[str, IndicatorGroup] = {}
    for row in sorted(
        rows, key=lambda r: (_AREA_ORDER.get(r.get("entity_type", ""), 9), r.get("county") or "", r["entity_id"])
    ):
        observed = main_observed(row)
        threshold = (row.get("threshold") or [None])[0]
        unit = (threshold or {}).get("unit") or ""
        value = observed.get("value") if observed else None
        target = threshold.get("value") if threshold else None
        parts = {o["field"].rsplit(".", 1)[-1]: o["text"] for o in row.get("observed", []) if "." in o["field"]}
        detail = (
            f"{parts['numerator']} / {parts['denominator']}" if {"numerator", "denominator"} <= parts.keys() else ""
        )
        group = groups.get(row["rule_id"])
        if group is None:
            rule_title = row.get("rule_title") or row["rule_id"]
            group = groups[row["rule_id"]] = IndicatorGroup(
                row["rule_id"],
                (observed or {}).get("label") or rule_title,
                rule_title,
                row.get("binding"),
                unit,
                (threshold or {}).get("label") or "目标",
                [],
            )
        group.rows.append(
            IndicatorRow(
                area=row["entity_id"],
                entity_type=row.get("entity_type", ""),
                county=row.get("county"),
                value=value,
                value_text=observed["text"] if observed else "—",
                detail=detail,
                target=target,
                target_text=value_text(target, unit, threshold.get("exact")) if threshold else "—",
                gap_text=gap_text(value, target, unit, (observed or {}).get("exact"), (threshold or {}).get("exact")),
                verdict=row.get("verdict", ""),
                finding_id=row.get("finding_id"),
                target_year=(row.get("reading") or {}).get("year") or row.get("target_year"),
                peers=row.get("peers"),
                reading=(row.get("reading") or {}).get("text", ""),
                context=row.get("context") or "",
            )
        )
    return sorted(groups.values(), key=lambda g: (min(_AREA_ORDER.get(r.entity_type, 9) for r in g.rows), g.rule_id))


def rule_cards(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every rule as run, with its basis, scope, condition and thresholds taken from its first
    finding (findings.json carries them per finding only)."""
    example: dict[str, Mapping[str, Any]] = {}
    for finding in document["findings"]:
        example.setdefault(finding["rule_id"], finding)
    cards = []
    for rule in document["rules"]:
        finding = example.get(rule["id"])
        cards.append(
            {
                **rule,
                "slug": slug(rule["id"]),
                "basis": finding.get("basis") if finding else None,
                "scope": finding.get("scope") if finding else None,
                "condition": finding.get("condition") if finding else None,
                "threshold": finding.get("threshold") if finding else [],
            }
        )
    return cards


def reinspection(document: Mapping[str, Any]) -> dict[str, Any] | None:
    """A re-inspection's tally from the document's own findings, `resolved` and `unverified` (so a
    county edition counts its own), with the previous audit named; None for a first audit."""
    section = document.get("reinspection")
    section = section if isinstance(section, Mapping) else {}
    changes = [f.get("change") for f in document["findings"] if f.get("change")]
    if not section and not changes and "resolved" not in document and "unverified" not in document:
        return None
    counts = {key: changes.count(key) for key in CHANGE_LABELS}
    counts["resolved"] = len(document.get("resolved") or [])
    counts["unverified"] = len(document.get("unverified") or [])
    labels = {**CHANGE_LABELS, "resolved": "已整改", "unverified": "无法核实", **(section.get("labels") or {})}
    return {"previous": section.get("previous"), "counts": counts, "labels": labels}


def trend_groups(trends: Any) -> list[dict[str, Any]]:
    """`trends` of a re-inspection, grouped by rule: each area's value per audit and the plan's targets."""
    groups: dict[str, dict[str, Any]] = {}
    for row in trends or []:
        if not isinstance(row, Mapping) or not row.get("points"):
            continue
        group = groups.setdefault(
            row["rule_id"], {"rule_id": row["rule_id"], "title": row.get("label") or row["rule_id"], "rows": []}
        )
        targets = [t for t in row.get("targets") or [] if isinstance(t.get("value"), (int, float))]
        percent = any(t.get("unit") == "比例" for t in targets)
        group["rows"].append(
            {
                "area": row.get("entity_id"),
                "entity_type": row.get("entity_type"),
                "points": [
                    (str(p.get("year")), p.get("value"), p.get("verdict"), p.get("text")) for p in row["points"]
                ],
                "chart_points": [(f"{p.get('year')}年", p.get("value"), p.get("verdict")) for p in row["points"]],
                "targets": _merged_targets(targets),
                "percent": percent,
            }
        )
    return [groups[key] for key in sorted(groups)]


def _merged_targets(targets: list[Mapping[str, Any]]) -> list[tuple[str, float]]:
    """One dashed line per distinct target value, labelled with every year it is set for."""
    years: dict[float, list[str]] = {}
    for target in sorted(targets, key=lambda t: t["year"]):
        years.setdefault(float(target["value"]), []).append(str(target["year"]))
    return [(f"{'、'.join(ys)}年目标", value) for value, ys in years.items()]
