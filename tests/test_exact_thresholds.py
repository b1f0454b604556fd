"""Verdicts exactly at the thresholds: the engine against a reference in `fractions.Fraction`.

For each kind of rule the packs hold — a share, a ratio of two amounts, a per-pupil quotient,
a coefficient of variation, a count and a sum — hypothesis draws inputs at the column's
precision (integers of 0.01 ㎡, of 0.01 元, whole pupils) around the rule's threshold, the real
rule runs through the real indicators and the durable_rules engine, and its verdict must equal
the one computed here by hand in exact arithmetic. Floats would fail several of these exactly at
the boundary (a CV of 0.5 computed as 0.5000000000000001, 4.5 ㎡ per pupil as 4.499999999999999).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from budget import examples
from inspector.engine.evaluate import evaluate
from inspector.engine.indicators import compute_indicators
from inspector.engine.tables import EntityTables
from inspector.records.config import AuditConfig
from inspector.records.loader import SRC, Dataset, _KindLoad
from inspector.records.readers import ROW
from inspector.records.schema import RECORD_KINDS
from inspector.rules.compiler import CompiledIndicator, CompiledRule, RuleBook, compile_rulebook, effective_params
from inspector.rules.packs import load_packs
from inspector.rules.typed import fields_of

AS_OF = dt.date(2025, 12, 1)
CONFIG = AuditConfig(name="边界", as_of=AS_OF, region="柳州市", packs=("core", "plan", "quality-balance", "preschool"))
EXAMPLES = settings(max_examples=examples(40), deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def book() -> RuleBook:
    packs = load_packs(list(CONFIG.packs))
    params, _ = effective_params(packs, {}, 2025)
    return compile_rulebook(packs, as_of=AS_OF, params=params, target_year=2025)


def _frame(kind: str, rows: Sequence[Mapping[str, Any]]) -> pl.DataFrame:
    """A loaded table of `kind` from Python values: numbers scaled to their column's precision."""
    record = RECORD_KINDS[kind]
    empty = _KindLoad().frame(record, ())
    data: dict[str, list[Any]] = {name: [] for name in empty.columns}
    for number, row in enumerate(rows, start=2):
        for column in record.columns:
            value = row.get(column.name, column.default)
            if value is not None and column.type in ("int", "decimal", "rate"):
                units = Fraction(value) * column.scale
                assert units.denominator == 1, (column.name, value)
                value = units.numerator
            data[column.name].append(value)
        data[SRC].append(list(RECORD_KINDS).index(kind))
        data[ROW].append(number)
    return pl.DataFrame(data, schema=empty.schema)


def _dataset(**rows: Sequence[Mapping[str, Any]]) -> Dataset:
    tables = {kind: _frame(kind, rows.get(kind, ())) for kind in RECORD_KINDS}
    return Dataset(Path("."), CONFIG, tables, tuple(f"{kind}.csv" for kind in RECORD_KINDS), [], [], ())


def _needed(book: RuleBook, rule: CompiledRule) -> list[CompiledIndicator]:
    """The indicators a rule reads (a metric's: the CV indicators), with those they read, in
    declaration order."""
    by_id = {i.spec.id: i for i in book.indicators}
    pending = [
        f.info.indicator
        for cond in (rule.scope, rule.condition)
        if cond is not None
        for f in fields_of(cond, include_presence=True)
        if f.info.indicator
    ]
    if rule.spec.applies_to == "county_metric":
        pending += [i.spec.id for i in book.indicators if i.spec.kind == "cv"]
    wanted: set[str] = set()
    while pending:
        name = pending.pop()
        if name in wanted or name not in by_id:
            continue
        wanted.add(name)
        indicator = by_id[name]
        for part in (indicator.where, indicator.numerator, indicator.formula):
            if part is not None:
                pending.extend(f.info.indicator for f in fields_of(part, include_presence=True) if f.info.indicator)
        pending.extend(f.indicator for f in (indicator.weight, indicator.value, indicator.key) if f and f.indicator)
    return [i for i in book.indicators if i.spec.id in wanted]


def verdict(book: RuleBook, rule_id: str, entity_id: str, dataset: Dataset) -> str | None:
    """The engine's verdict on one entity: fail, pass, gap, or None when out of scope."""
    rule = next(r for r in book.rules if r.id == rule_id)
    tables = EntityTables(dataset, book.vocabulary, region=CONFIG.region, audit_year=AS_OF.year)
    compute_indicators(_needed(book, rule), tables)
    return evaluate(book, tables, rules=[rule])[rule_id].verdict_of(entity_id)


def _school(school_id: str, type_: str, county: str = "城中区", **extra: Any) -> dict[str, Any]:
    return {
        "school_id": school_id,
        "name": f"{school_id}学校",
        "county": county,
        "township": "城中街道",
        "type": type_,
        "ownership": "public",
        **extra,
    }


# -- a share: new PE/art teachers of a county, ≥ 15% (3/20) ---------------------------------------


@EXAMPLES
@given(total=st.integers(1, 60), data=st.data())
def test_share_at_fifteen_percent(book: RuleBook, total: int, data: st.DataObject) -> None:
    """k of n new teachers teach PE or art: the county fails exactly when k/n < 3/20 (20 of which
    3 is exactly 15% and passes)."""
    boundary = math.ceil(Fraction(3, 20) * total)
    pe_art = data.draw(st.integers(max(0, boundary - 2), min(total, boundary + 2)))
    teachers = [
        {
            "teacher_id": f"T{i}",
            "school_id": "S1",
            "subject": "体育" if i < pe_art else "语文",
            "hire_year": AS_OF.year,
            "full_time": True,
        }
        for i in range(total)
    ]
    dataset = _dataset(schools=[_school("S1", "primary")], teachers=teachers)
    expected = "fail" if Fraction(pe_art, total) < Fraction(3, 20) else "pass"
    assert verdict(book, "teachers.new-pe-art-share", "城中区", dataset) == expected


# -- a ratio of two amounts: non-staff pay ≥ 75% of staff pay (money in 0.01 元) -----------------


@EXAMPLES
@given(staff_cents=st.integers(100_00, 20_000_000_00), offset=st.integers(-3, 3))
def test_ratio_of_pay_at_seventy_five_percent(book: RuleBook, staff_cents: int, offset: int) -> None:
    """Non-staff pay fails when below exactly 3/4 of staff pay, to the cent."""
    nonstaff_cents = max(0, math.ceil(Fraction(3, 4) * staff_cents) + offset)
    stats = [
        {
            "county": "城中区",
            "year": AS_OF.year,
            "preschool_staff_pay": Fraction(staff_cents, 100),
            "preschool_nonstaff_pay": Fraction(nonstaff_cents, 100),
        }
    ]
    dataset = _dataset(schools=[_school("K1", "kindergarten")], county_stats=stats)
    expected = "fail" if Fraction(nonstaff_cents) < Fraction(3, 4) * staff_cents else "pass"
    assert verdict(book, "preschool.nonstaff-pay", "城中区", dataset) == expected


# -- a per-pupil quotient: teaching area per primary pupil ≥ 4.5 ㎡ (area in 0.01 ㎡) --------------


@EXAMPLES
@given(pupils=st.integers(50, 3000), offset=st.integers(-3, 3))
def test_teaching_area_per_pupil_at_four_point_five(book: RuleBook, pupils: int, offset: int) -> None:
    """A primary school of n pupils fails when its teaching area is below exactly 4.5 ㎡ × n."""
    area_units = max(0, 450 * pupils + offset)  # in 0.01 ㎡
    classes = [
        {"class_id": f"C{i}", "school_id": "P1", "grade": "3", "size": size}
        for i, size in enumerate([pupils // 2, pupils - pupils // 2])
    ]
    dataset = _dataset(
        schools=[_school("P1", "primary")],
        classes=classes,
        facilities=[{"school_id": "P1", "teaching_area": Fraction(area_units, 100)}],
    )
    expected = "fail" if Fraction(area_units, 100) / pupils < Fraction(9, 2) else "pass"
    assert verdict(book, "balance.teaching-area", "P1/primary", dataset) == expected


def test_nine_year_school_split_exactly_at_the_primary_standard(book: RuleBook) -> None:
    """A 九年一贯制 school with 50 primary and 22 junior pupils gives its primary stage 500/742 of its
    area (a junior pupil weighs 1.1): 333.90 ㎡ is exactly 4.5 ㎡ per primary pupil — a pass, where
    floats give 4.499999999999999 — and 333.89 ㎡ a fail."""
    assert 333.9 * (50 / (50 + 1.1 * 22)) / 50 < 4.5  # the float reading of the same split
    classes = [
        {"class_id": "P1", "school_id": "N1", "grade": "3", "size": 50},
        {"class_id": "J1", "school_id": "N1", "grade": "8", "size": 22},
    ]
    for area, expected in ((Fraction(3339, 10), "pass"), (Fraction(33389, 100), "fail")):
        exact = area * Fraction(500, 742) / 50
        assert (exact >= Fraction(9, 2)) == (expected == "pass")
        dataset = _dataset(
            schools=[_school("N1", "nine_year")],
            classes=classes,
            facilities=[{"school_id": "N1", "teaching_area": area}],
        )
        assert verdict(book, "balance.teaching-area", "N1/primary", dataset) == expected


# -- a coefficient of variation: primary schools of a county, CV ≤ 0.50 --------------------------


def _cv(values: Sequence[tuple[Fraction, int]]) -> tuple[Fraction, Fraction]:
    """(S², X̄) of enrolment-weighted values, exactly (standards.md §4)."""
    total = sum(w for _, w in values)
    mean = sum(v * w for v, w in values) / total
    return sum(Fraction(w, total) * (v - mean) ** 2 for v, w in values), mean


@EXAMPLES
@given(pupils=st.lists(st.integers(50, 400), min_size=2, max_size=3), data=st.data())
def test_coefficient_of_variation_at_one_half(book: RuleBook, pupils: list[int], data: st.DataObject) -> None:
    """Teaching area per pupil across the county's primary schools: the CV fails when S > 0.5·X̄,
    decided as S² > X̄²/4 in fractions, never on a rounded square root."""
    per_pupil = [Fraction(data.draw(st.integers(100, 1500)), 100) for _ in pupils]  # 1.00 … 15.00 ㎡
    schools, classes, facilities = [], [], []
    for index, (n, value) in enumerate(zip(pupils, per_pupil)):
        school_id = f"P{index}"
        schools.append(_school(school_id, "primary"))
        classes.append({"class_id": f"{school_id}-1", "school_id": school_id, "grade": "3", "size": n})
        facilities.append({"school_id": school_id, "teaching_area": value * n})
    variance, mean = _cv(list(zip(per_pupil, pupils)))
    expected = "fail" if variance > Fraction(1, 4) * mean**2 else "pass"
    dataset = _dataset(schools=schools, classes=classes, facilities=facilities)
    assert verdict(book, "balance.cv", "城中区/primary/balance_cv_teaching_area", dataset) == expected


def test_coefficient_of_variation_of_exactly_one_half_passes(book: RuleBook) -> None:
    """Two schools of 100 pupils at 4.7 and 14.1 ㎡: X̄ 9.4, S 4.7, CV exactly 0.50 — a pass."""
    schools, classes, facilities = [], [], []
    for school_id, value in (("A", Fraction(47, 10)), ("B", Fraction(141, 10))):
        schools.append(_school(school_id, "primary"))
        classes.append({"class_id": f"{school_id}-1", "school_id": school_id, "grade": "3", "size": 100})
        facilities.append({"school_id": school_id, "teaching_area": value * 100})
    variance, mean = _cv([(Fraction(47, 10), 100), (Fraction(141, 10), 100)])
    assert (mean, variance) == (Fraction(47, 5), Fraction(47, 10) ** 2)
    dataset = _dataset(schools=schools, classes=classes, facilities=facilities)
    assert verdict(book, "balance.cv", "城中区/primary/balance_cv_teaching_area", dataset) == "pass"


# -- a count: the city's county-level-or-above demonstration kindergartens ≥ 300 ----------------


@EXAMPLES
@given(offset=st.integers(-2, 2))
def test_count_at_the_target(book: RuleBook, offset: int) -> None:
    """The city fails when it has fewer demonstration kindergartens than its target."""
    target = next(r for r in book.rules if r.id == "plan.t1-03").params["demo_kg_min"]
    count = int(target) + offset
    assume(count >= 0)
    schools = [_school(f"K{i}", "kindergarten", demo_level="county") for i in range(count)]
    expected = "fail" if count < target else "pass"
    assert verdict(book, "plan.t1-03", "柳州市", _dataset(schools=schools)) == expected


# -- a sum: a senior high school's pupils summed over its classes ≤ 3,000 -----------------------


@EXAMPLES
@given(offset=st.integers(-3, 3), classes=st.integers(1, 70))
def test_sum_of_senior_pupils_at_the_limit(book: RuleBook, offset: int, classes: int) -> None:
    """A complete secondary school's senior classes summed: more than 3,000 pupils fails."""
    total = 3000 + offset
    assume(total >= classes and total <= classes * 300)
    sizes = [total // classes + (1 if i < total % classes else 0) for i in range(classes)]
    rows = [{"class_id": f"C{i}", "school_id": "H1", "grade": "10", "size": size} for i, size in enumerate(sizes)]
    dataset = _dataset(schools=[_school("H1", "complete_secondary")], classes=rows)
    expected = "fail" if sum(sizes) > 3000 else "pass"
    assert verdict(book, "plan.senior-school-size", "H1", dataset) == expected
