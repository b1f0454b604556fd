"""The county edition: findings.json cut down to one county, plus anonymous city-level comparisons.

Every renderer reads the document this module returns, so a county edition cannot show what the
cut removed: other counties' findings, schools, indicator rows, data gaps and rejected rows.
What is kept from the rest of the city is aggregate only (counts, medians, ranks, no names).

Every county of the region has an edition, findings or not: the counties are the region's
divisions when they are known (built in for Liuzhou, or audit.yaml's `divisions`, carried in
findings.json), plus any other name the data uses; else the names the data uses. A county is
named by its full name or a short one (融水县, 三江); a county the data does not mention gets an
edition that says so.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import ValidationError

from ..errors import UsageError
from ..records.regions import Divisions, DivisionSpec, region_divisions
from ..rules.spec import SEVERITY_ORDER

__all__ = ["CITY_CONTEXT", "county_document", "county_names", "divisions_of", "resolve_county"]

CITY_LEVEL_KEYS = ("format", "audit", "rules")
CITY_CONTEXT = "全市层面，供参考"  # a city verdict in a county edition: context, not the county's own finding


def divisions_of(document: Mapping[str, Any]) -> Divisions | None:
    """The region's divisions: findings.json's `audit.divisions`, else the built-in list for its region."""
    audit = document["audit"]
    declared = audit.get("divisions")
    try:
        specs = [DivisionSpec.model_validate(item) for item in declared] if isinstance(declared, list) else None
    except ValidationError:
        specs = None  # a doctored list: fall back to what the region is known as
    return region_divisions(str(audit.get("region") or ""), specs)


def _canonical(document: Mapping[str, Any]) -> Callable[[str | None], str | None]:
    """A county name as the edition knows it: the division's full name where the divisions know it."""
    divisions = divisions_of(document)

    def canonical(name: str | None) -> str | None:
        if name is None or divisions is None:
            return name
        return divisions.canonical(name) or name

    return canonical


def county_names(document: Mapping[str, Any]) -> list[str]:
    """Every county with an edition: the region's divisions in their official order (when known),
    then any other county findings.json knows of (from findings, county indicators, data gaps and
    its `counties`), by name.

    City-level findings carry the region as their county (the city government answers for them);
    they name no county, and the region has no edition of its own.
    """
    canonical = _canonical(document)
    names = {f["county"] for f in document["findings"] if f.get("county") and f.get("entity_type") != "city"}
    names.update(r["county"] for r in document["indicators"] if r.get("entity_type") == "county" and r.get("county"))
    names.update(g["county"] for g in document["data_gaps"] if g.get("county") and g.get("entity_type") != "city")
    names.update(c["name"] for c in document.get("counties") or [] if isinstance(c, Mapping) and c.get("name"))
    found = {name for name in (canonical(n) for n in names) if name}
    divisions = divisions_of(document)
    if divisions is None:
        return sorted(found)
    return list(divisions) + sorted(found - set(divisions))


def resolve_county(document: Mapping[str, Any], name: str) -> str:
    """The county `name` means (its full name, or a short one the divisions know), or `UsageError`
    with the closest county suggested and the counties listed."""
    known = county_names(document)
    full = _canonical(document)(name.strip()) or name
    if full in known:
        return full
    divisions = divisions_of(document)
    suggestion = divisions.suggestion(name) if divisions is not None else None
    close = (
        [suggestion] if suggestion in known else [k for k in known if name.strip() and (name.strip() in k or k in name)]
    )
    hint = f"；是否指 {'、'.join(close)}？" if close else ""
    raise UsageError(f"本次督导中没有区县 {name}{hint}（区县：{'、'.join(known) or '无'}）")


def _summary(findings: list[dict[str, Any]], rules: list[dict[str, Any]], county: str) -> dict[str, Any]:
    by_rule = {rule["id"]: 0 for rule in rules}
    by_severity = {severity: 0 for severity in SEVERITY_ORDER}
    by_family: dict[str, int] = {}
    for finding in findings:
        by_rule[finding["rule_id"]] = by_rule.get(finding["rule_id"], 0) + 1
        by_severity[finding["severity"]] = by_severity.get(finding["severity"], 0) + 1
        by_family[finding["family"]] = by_family.get(finding["family"], 0) + 1
    return {
        "total": len(findings),
        "by_severity": by_severity,
        "by_rule": by_rule,
        "by_family": dict(sorted(by_family.items())),
        "by_county": {county: len(findings)} if findings else {},
    }


def _own_evidence(evidence: list[dict[str, Any]], county: str) -> list[dict[str, Any]]:
    """Evidence rows, with the values of rows that name another county dropped (a licence shared
    across counties lists the other kindergartens' rows: the file and row stay as the trace)."""
    kept = []
    for item in evidence:
        values = item.get("values")
        if values and values.get("county") not in (None, county):
            item = {k: v for k, v in item.items() if k != "values"} | {"redacted": True}
        kept.append(item)
    return kept


def _main_value(row: Mapping[str, Any]) -> float | None:
    for observed in row.get("observed", []):
        if "." not in observed["field"] and isinstance(observed.get("value"), (int, float)):
            return float(observed["value"])
    return None


def _peers(document: Mapping[str, Any], county: str) -> dict[str, dict[str, Any]]:
    """Per indicator rule: this county's rank and the other counties' spread, without their names."""
    canonical = _canonical(document)
    values: dict[str, list[tuple[float, bool]]] = {}
    for row in document["indicators"]:
        if row.get("entity_type") != "county":
            continue
        value = _main_value(row)
        if value is not None:
            values.setdefault(row["rule_id"], []).append((value, canonical(row.get("county")) == county))
    result = {}
    for rule_id, pairs in values.items():
        own = [v for v, mine in pairs if mine]
        numbers = sorted(v for v, _ in pairs)
        result[rule_id] = {
            "counties": len(numbers),
            "min": numbers[0],
            "median": statistics.median(numbers),
            "max": numbers[-1],
            "rank": 1 + sum(1 for v in numbers if own and v > own[0]) if own else None,
            "values": numbers,
        }
    return result


def _comparison(document: Mapping[str, Any], county: str) -> dict[str, Any]:
    canonical = _canonical(document)
    counts = {name: 0 for name in county_names(document)}  # a county without findings counts, as 0
    for finding in document["findings"]:
        name = canonical(finding.get("county"))
        if finding.get("entity_type") != "city" and name in counts:
            counts[name] += 1
    own = counts.get(county, 0)
    others = sorted(counts.values(), reverse=True)
    return {
        "counties": len(counts),
        "city_total": sum(others),  # the counties' findings; the city's own are `city_level`
        "city_mean": sum(others) / len(counts) if counts else 0,
        "city_level": document["summary"]["total"] - sum(others),
        "median": statistics.median(others) if others else 0,
        "rank": 1 + sum(1 for n in others if n > own),
        "own": own,
        "counts": others,
        "city_by_severity": dict(document["summary"]["by_severity"]),
    }


_ZERO = {"checked": 0, "passed": 0, "failed": 0, "not_evaluated": 0}


def _county_counts(
    rule: Mapping[str, Any], county: str, canonical: Callable[[str | None], str | None]
) -> dict[str, Any]:
    """A rule's row with this county's counts (a city-level rule keeps the city's: it is the comparison)."""
    if rule.get("applies_to") == "city" or "by_county" not in rule:
        return {k: v for k, v in rule.items() if k != "by_county"}
    own = dict(_ZERO)
    for name, tally in rule["by_county"].items():
        if canonical(name) == county:
            own = {key: own[key] + tally.get(key, 0) for key in _ZERO}
    return {**{k: v for k, v in rule.items() if k != "by_county"}, **own}


def _checks(rules: list[dict[str, Any]]) -> dict[str, int]:
    """The county's own tally over every evaluated rule that is not the city's."""
    own = [r for r in rules if r.get("applies_to") != "city" and r.get("status") == "evaluated"]
    tally = {key: sum(int(r.get(key) or 0) for r in own) for key in _ZERO}
    tally["rules"] = sum(1 for r in own if r.get("checked"))
    tally["clean_rules"] = sum(1 for r in own if r.get("checked") and not r.get("failed"))
    return tally


def _records(document: Mapping[str, Any], county: str) -> dict[str, Any] | None:
    """The county's row counts from findings.json's `counties` (None in a document without it)."""
    counties = document.get("counties")
    if not isinstance(counties, list):
        return None
    for entry in counties:
        if isinstance(entry, Mapping) and entry.get("name") == county:
            return dict(entry)
    return {"name": county, "division": False, "rows": {}}


def county_document(document: Mapping[str, Any], county: str) -> dict[str, Any]:
    """findings.json restricted to `county` (its full or short name), same shape, with an `edition`
    key saying so; a county with no findings gets its indicators, rule tallies and data gaps."""
    county = resolve_county(document, county)
    canonical = _canonical(document)

    def own(item: Mapping[str, Any]) -> bool:
        return canonical(item.get("county")) == county and item.get("entity_type") != "city"

    findings = [{**f, "evidence": _own_evidence(f["evidence"], county)} for f in document["findings"] if own(f)]
    peers = _peers(document, county)
    indicators = []
    for row in document["indicators"]:
        if row.get("entity_type") == "city":
            indicators.append({**row, "context": CITY_CONTEXT})
        elif canonical(row.get("county")) == county:
            indicators.append(
                {**row, "peers": peers.get(row["rule_id"])} if row.get("entity_type") == "county" else dict(row)
            )
    rules = [_county_counts(rule, county, canonical) for rule in document["rules"]]
    records = _records(document, county)
    result: dict[str, Any] = {
        # a whitelist: a key added to findings.json later is left out until it is known to be safe
        **{k: document[k] for k in CITY_LEVEL_KEYS if k in document},
        "rules": rules,
        "rejected_rows": [],
        "summary": _summary(findings, document["rules"], county),
        "findings": findings,
        "indicators": indicators,
        "data_gaps": [
            {**g, "evidence": _own_evidence(g.get("evidence", []), county)} for g in document["data_gaps"] if own(g)
        ],
        "edition": {
            "county": county,
            "comparison": _comparison(document, county),
            "rejected_rows": len(document["rejected_rows"]),
            "checks": _checks(rules),
            "records": records,
        },
    }
    if records is not None:
        result["counties"] = [records]  # this county's entry only: the others' are named figures
    for key in ("resolved", "unverified"):
        if key in document:
            result[key] = [
                r for r in document[key] or [] if isinstance(r, Mapping) and canonical(r.get("county")) == county
            ]
    if "trends" in document:
        result["trends"] = [
            t
            for t in document["trends"] or []
            if isinstance(t, Mapping) and (canonical(t.get("county")) == county or t.get("entity_type") == "city")
        ]
    if isinstance(document.get("reinspection"), Mapping):
        # the previous audit's name and date; the city's tallies are left out (the report counts its own)
        result["reinspection"] = {
            k: v for k, v in document["reinspection"].items() if k in ("audit_id", "previous", "labels")
        }
    if isinstance(document.get("waivers"), Mapping):
        mine = {f["id"] for f in findings}
        entries = [
            e for e in document["waivers"].get("entries", []) if isinstance(e, Mapping) and e.get("finding_id") in mine
        ]
        result["waivers"] = {k: document["waivers"][k] for k in ("file", "sha256", "as_of") if k in document["waivers"]}
        result["waivers"]["entries"] = entries
    return result
