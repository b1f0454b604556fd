"""The independent oracle: the core pack's rules applied to a synthetic dataset's rows.

A second implementation of the rules, sharing no code with the engine (nor with the generator beyond the
rows it reads): what it finds is written to ``expected.yaml``, and every case the generator planted must
land where it meant (:func:`check_plants`).
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from .model import COMPULSORY, KINDERGARTEN_STANDARD, PE_ART, SAFETY_ITEMS, Dataset, Plant, PlantError

__all__ = ["RULE_IDS", "RuleResult", "check_plants", "compute_expected", "expected_document", "licence_key"]

RULE_IDS: tuple[str, ...] = (
    "class-size.super-large",
    "class-size.large",
    "class-size.kindergarten",
    "kindergarten.unlicensed",
    "kindergarten.license-expired",
    "kindergarten.license-shared",
    "teachers.new-pe-art-share",
    "safety.closed-management",
    "safety.guards",
    "safety.alarm-linked",
    "safety.video-linked",
    "safety.escort-post",
    "safety.record-missing",
    "data.school-without-classes",
    "data.enrolment-mismatch",
    "data.unused-stats-years",
    "data.unused-city-stats-years",
)
REGION = "柳州市"


@dataclass
class RuleResult:
    """The oracle's verdict on one rule: entities that fail and entities it could not evaluate."""

    fail: set[str] = field(default_factory=set)
    not_evaluated: set[str] = field(default_factory=set)


def licence_key(licence: str) -> str:
    """Compare licences after NFKC, with all whitespace removed, upper-cased."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", licence) if not ch.isspace()).upper()


def _class_rules(ds: Dataset, out: dict[str, RuleResult]) -> None:
    stype = {s.school_id: s.type for s in ds.schools}
    numbered = {str(n) for n in range(1, 13)}
    for c in ds.classes:
        kind = stype[c.school_id]
        if kind == "kindergarten" and c.size > KINDERGARTEN_STANDARD[c.grade]:
            out["class-size.kindergarten"].fail.add(c.class_id)
        if c.grade in numbered and kind != "vocational":
            if c.size >= 66:
                out["class-size.super-large"].fail.add(c.class_id)
            elif c.size >= 56:
                out["class-size.large"].fail.add(c.class_id)


def _kindergarten_rules(ds: Dataset, out: dict[str, RuleResult]) -> None:
    holders: dict[str, list[str]] = defaultdict(list)
    for s in ds.schools:
        if s.type != "kindergarten":
            continue
        if not s.license_no.strip():
            out["kindergarten.unlicensed"].fail.add(s.school_id)
            continue
        holders[licence_key(s.license_no)].append(s.school_id)
        if s.license_valid_until is None:
            out["kindergarten.license-expired"].not_evaluated.add(s.school_id)
        elif s.license_valid_until < ds.as_of:
            out["kindergarten.license-expired"].fail.add(s.school_id)
    for ids in holders.values():
        if len(ids) > 1:
            out["kindergarten.license-shared"].fail.update(ids)


def _teacher_rule(ds: Dataset, out: dict[str, RuleResult]) -> None:
    school = {s.school_id: s for s in ds.schools}
    hired: dict[str, list[int]] = defaultdict(lambda: [0, 0])  # county -> [PE/art, all]
    for t in ds.teachers:
        s = school[t.school_id]
        if t.full_time is True and t.hire_year == ds.as_of.year and s.type in COMPULSORY:
            hired[s.county][0] += t.subject in PE_ART
            hired[s.county][1] += 1
    for county, (pe_art, total) in hired.items():
        if 100 * pe_art < 15 * total:  # integers: an exact 15 % must not fail on a rounding error
            out["teachers.new-pe-art-share"].fail.add(county)


def _safety_rules(ds: Dataset, out: dict[str, RuleResult]) -> None:
    for s in ds.schools:
        if s.type == "vocational":
            continue
        row = ds.safety.get(s.school_id)
        if row is None:
            out["safety.record-missing"].fail.add(s.school_id)
            continue
        for rule, item in SAFETY_ITEMS:
            value = getattr(row, item)
            if value is None:
                out[rule].not_evaluated.add(s.school_id)
            elif (value < 1) if item == "full_time_guards" else (value is False):
                out[rule].fail.add(s.school_id)


def _data_rules(ds: Dataset, out: dict[str, RuleResult]) -> None:
    """Pupils without classes; the row's 在校生数 against its classes beyond 5% (not inclusive, in integers);
    statistics rows of years other than the audit's and the one before."""
    sizes: dict[str, list[int]] = defaultdict(list)
    for c in ds.classes:
        sizes[c.school_id].append(c.size)
    for s in ds.schools:
        listed = sizes.get(s.school_id)
        if not listed:
            if s.enrolment is None:
                out["data.school-without-classes"].not_evaluated.add(s.school_id)
            elif s.enrolment > 0:
                out["data.school-without-classes"].fail.add(s.school_id)
        elif s.enrolment is not None and 20 * abs(s.enrolment - sum(listed)) > s.enrolment:
            out["data.enrolment-mismatch"].fail.add(s.school_id)
    used = (ds.as_of.year, ds.as_of.year - 1)
    counties = {s.county for s in ds.schools}
    for row in ds.county_stats:
        if row.year not in used and row.county in counties:
            out["data.unused-stats-years"].fail.add(str(row.county))
    if any(row.year not in used for row in ds.city_stats):
        out["data.unused-city-stats-years"].fail.add(REGION)


def compute_expected(ds: Dataset) -> dict[str, RuleResult]:
    """Apply every rule of the core pack to the rows: the independent oracle."""
    out = {rule: RuleResult() for rule in RULE_IDS}
    _class_rules(ds, out)
    _kindergarten_rules(ds, out)
    _teacher_rule(ds, out)
    _safety_rules(ds, out)
    _data_rules(ds, out)
    return out


def check_plants(plants: list[Plant], results: dict[str, RuleResult]) -> None:
    wrong = []
    for plant in plants:
        result = results[plant.rule]
        got = (
            "fail"
            if plant.entity in result.fail
            else "not_evaluated"
            if plant.entity in result.not_evaluated
            else "pass"
        )
        if got != plant.outcome:
            wrong.append(f"{plant.rule} {plant.entity} ({plant.note}): expected {plant.outcome}, got {got}")
    if wrong:
        raise PlantError("planted cases did not land:\n" + "\n".join(wrong))


def expected_document(results: dict[str, RuleResult], as_of: date, scale: str, with_sets: bool) -> dict[str, Any]:
    """The content of expected.yaml: counts always, sorted id lists unless `with_sets` is false."""
    rules: dict[str, Any] = {}
    for rule in RULE_IDS:
        entry: dict[str, Any] = {"count": len(results[rule].fail)}
        if with_sets:
            entry["fail"] = sorted(results[rule].fail)
        if results[rule].not_evaluated:
            entry["not_evaluated"] = sorted(results[rule].not_evaluated)
        rules[rule] = entry
    return {"as_of": as_of, "scale": scale, "rules": rules}
