"""The quality-balance pack (优质均衡) against hand calculations on its own case folder.

Every expected number below is worked out by hand from the rows of
rules/quality-balance/cases/two-counties (quoted in the comments), never read back from the
engine: X̄ = ΣPᵢXᵢ / P, S = √(Σ (Pᵢ/P)(Xᵢ − X̄)²), CV = S / X̄, and a one-through school's shared
resources split between its stages with pupils weighted primary 1 : junior 1.1.
"""

from __future__ import annotations

import csv
import math
import shutil
from fractions import Fraction
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from inspector.audit import AuditResult, run_audit
from inspector.findings import Finding
from inspector.numbers import decode
from inspector.rules.packs import DEFAULT_RULES_DIR
from inspector.testing import AuditBuilder

CASE = DEFAULT_RULES_DIR / "quality-balance" / "cases" / "two-counties"
TOLERANCE = 1e-9

# 城中区融合九年一贯制学校 (A3), classes.csv: grades 1–6 in ten classes of 20, grade 7 of 51 and grade 8 of 49.
A3_PRIMARY_PUPILS = 10 * 20  # 200
A3_JUNIOR_PUPILS = 51 + 49  # 100
# Shared resources are split by pupils weighted 1 (primary) : 1.1 (junior).
A3_WEIGHT_PRIMARY = A3_PRIMARY_PUPILS * 1  # 200
A3_WEIGHT_JUNIOR = A3_JUNIOR_PUPILS * 1.1  # 110
A3_SHARE_PRIMARY = A3_WEIGHT_PRIMARY / (A3_WEIGHT_PRIMARY + A3_WEIGHT_JUNIOR)  # 200 / 310 = 0.64516…
A3_SHARE_JUNIOR = A3_WEIGHT_JUNIOR / (A3_WEIGHT_PRIMARY + A3_WEIGHT_JUNIOR)  # 110 / 310 = 0.35484…


def weighted_cv(values_and_pupils: list[tuple[float, int]]) -> tuple[float, float]:
    """(CV, X̄) written out from the formula, independently of inspector.engine.indicators."""
    total = sum(pupils for _, pupils in values_and_pupils)  # P = ΣPᵢ
    mean = sum(value * pupils for value, pupils in values_and_pupils) / total  # X̄ = ΣPᵢXᵢ / P
    spread = math.sqrt(sum(pupils / total * (value - mean) ** 2 for value, pupils in values_and_pupils))  # S
    return spread / mean, mean


@pytest.fixture(scope="module")
def audit() -> AuditResult:
    return run_audit(CASE, workers=1, keep_tables=True)


def finding(result: AuditResult, rule_id: str, entity_id: str) -> Finding:
    matches = [f for f in result.findings if f.rule_id == rule_id and f.entity_id == entity_id]
    assert matches, f"{rule_id} has no finding on {entity_id}"
    return matches[0]


def observed(item: Any) -> dict[str, Any]:
    return {o.field: o.value for o in item.observed}


def area_result(result: AuditResult, rule_id: str, entity_id: str) -> Any:
    return next(r for r in result.indicators if r.rule_id == rule_id and r.entity_id == entity_id)


class TestApportioning:
    def test_nine_year_school_splits_its_resources_one_to_one_point_one(self, audit: AuditResult) -> None:
        """A3's primary and junior stages get exactly 200/310 and 110/310 of its shared resources."""
        assert audit.tables is not None
        frame = audit.tables.frame("school_stage", ["stage", "enrolment", "share"]).filter(pl.col("__school") == "A3")
        stages = {row["stage"]: row for row in frame.iter_rows(named=True)}
        assert stages["primary"]["enrolment"] == 200
        assert stages["junior"]["enrolment"] == 100
        assert decode(stages["primary"]["share"]) == Fraction(200, 310)
        assert decode(stages["junior"]["share"]) == Fraction(110, 310)


class TestSchoolResourcesVerdict:
    def test_nine_year_junior_stage_matches_the_hand_calculation(self, audit: AuditResult) -> None:
        """A3's junior stage meets 6 of 7 but its 7th is at 80.3% of the standard: it fails, showing the 7 values."""
        share = A3_SHARE_JUNIOR  # 110 / 310
        pupils = A3_JUNIOR_PUPILS  # 100
        # teachers.csv, A3: 12 full-time teachers with 本科 or 硕士, 4 at 县级 or above, 3 teaching 体育/音乐/美术
        qualified = 12 * share * 100 / pupils  # 1320/310 = 4.2581 < 5.3 ✗
        backbone = 4 * share * 100 / pupils  # 440/310 = 1.4194 ≥ 1.0 ✓
        pe_art = 3 * share * 100 / pupils  # 330/310 = 1.0645 ≥ 0.9 ✓
        # facilities.csv, A3: 1860 ㎡, 3410 ㎡, 775000 元, 8 multimedia rooms
        teaching_area = 1860 * share / pupils  # 6.6 ≥ 5.8 ✓
        sports_area = 3410 * share / pupils  # 12.1 ≥ 10.2 ✓
        equipment = 775000 * share / pupils  # 2750 ≥ 2500 ✓
        multimedia = 8 * share * 100 / pupils  # 880/310 = 2.8387 ≥ 2.4 ✓
        met = 6  # all but the qualified-teacher indicator
        lowest = qualified / 5.3  # 0.8034 < 0.85 ✗

        assert qualified == pytest.approx(4.258064516129032, abs=TOLERANCE)
        assert lowest == pytest.approx(0.8034083992696287, abs=TOLERANCE)
        values = observed(finding(audit, "balance.school-resources", "A3/junior"))
        assert values["balance_qualified_per100"] == pytest.approx(qualified, abs=TOLERANCE)
        assert values["balance_backbone_per100"] == pytest.approx(backbone, abs=TOLERANCE)
        assert values["balance_pe_art_per100"] == pytest.approx(pe_art, abs=TOLERANCE)
        assert values["balance_teaching_area_pp"] == pytest.approx(teaching_area, abs=TOLERANCE)
        assert values["balance_sports_area_pp"] == pytest.approx(sports_area, abs=TOLERANCE)
        assert values["balance_equipment_pp"] == pytest.approx(equipment, abs=TOLERANCE)
        assert values["balance_multimedia_per100"] == pytest.approx(multimedia, abs=TOLERANCE)
        assert values["balance_resources_met"] == met
        assert values["balance_resources_lowest_ratio"] == pytest.approx(lowest, abs=TOLERANCE)
        assert values["enrolment"] == pupils
        assert values["share"] == pytest.approx(share, abs=TOLERANCE)

    def test_six_met_and_the_seventh_at_exactly_85_percent_passes(self, audit: AuditResult) -> None:
        """B1's equipment is 170000 元 / 100 pupils = 1700 = 85% of 2000, its other six are met: it passes."""
        assert 170000 / 100 / 2000 == 0.85
        assert "B1/primary" in audit.outcomes["balance.school-resources"].passed
        assert "B1/primary" in audit.outcomes["balance.equipment"].failed

    def test_six_met_and_the_seventh_at_84_9_percent_fails(self, audit: AuditResult) -> None:
        """B2's equipment is 169800 元 / 100 pupils = 1698 = 84.9% of 2000: it fails."""
        values = observed(finding(audit, "balance.school-resources", "B2/primary"))
        assert values["balance_resources_met"] == 6
        assert values["balance_resources_lowest_ratio"] == pytest.approx(1698 / 2000, abs=TOLERANCE)

    def test_small_teaching_point_is_not_assessed(self, audit: AuditResult) -> None:
        """B4 has 20 + 18 = 38 pupils (< 50): no resource rule checks it, and it is in no CV."""
        outcome = audit.outcomes["balance.school-resources"]
        assert "B4/primary" not in outcome.passed | outcome.failed | outcome.gaps
        cv = observed(area_result(audit, "balance.cv", "融水苗族自治县/primary/balance_cv_teaching_area"))
        assert cv["schools"] == 2  # B1 and B2


class TestCoefficientOfVariation:
    def test_county_with_a_nine_year_school_matches_the_hand_calculation(self, audit: AuditResult) -> None:
        """城中区 junior 生均体育运动场馆面积: A2 40.0 and A3 12.1, each 100 pupils: CV 0.5355 > 0.45 fails."""
        a2 = (4000 / 100, 100)  # A2: 4000 ㎡ for its 100 pupils, share 1
        a3 = (3410 * A3_SHARE_JUNIOR / A3_JUNIOR_PUPILS, A3_JUNIOR_PUPILS)  # 3410 × 110/310 / 100 = 12.1
        # P = 200; X̄ = (100 × 40 + 100 × 12.1) / 200 = 26.05
        # S = √(0.5 × (40 − 26.05)² + 0.5 × (12.1 − 26.05)²) = √(0.5 × 194.6025 × 2) = 13.95
        # CV = 13.95 / 26.05 = 0.535508…
        cv, mean = weighted_cv([a2, a3])
        assert a3[0] == pytest.approx(12.1, abs=TOLERANCE)
        assert mean == pytest.approx(26.05, abs=TOLERANCE)
        assert cv == pytest.approx(13.95 / 26.05, abs=TOLERANCE)

        result = finding(audit, "balance.cv", "城中区/junior/balance_cv_sports_area")
        values = observed(result)
        assert values["cv"] == pytest.approx(cv, abs=TOLERANCE)
        assert values["mean"] == pytest.approx(mean, abs=TOLERANCE)
        assert values["schools"] == 2
        assert values["metric_title"] == "生均体育运动场馆面积"
        assert "城中区初中“生均体育运动场馆面积”校际差异系数为 0.536" in result.message

    def test_unequal_enrolments_weight_the_mean_and_the_spread(self, audit: AuditResult) -> None:
        """城中区 primary 生均教学及辅助用房面积: A1 4.5 (300 pupils), A3 6.0 (200 pupils): CV 0.1441 passes."""
        a1 = (1350 / 300, 300)  # 4.5
        a3 = (1860 * A3_SHARE_PRIMARY / A3_PRIMARY_PUPILS, A3_PRIMARY_PUPILS)  # 1860 × 200/310 / 200 = 6.0
        # P = 500; X̄ = (300 × 4.5 + 200 × 6.0) / 500 = 2550 / 500 = 5.1
        # S = √(0.6 × (4.5 − 5.1)² + 0.4 × (6.0 − 5.1)²) = √(0.216 + 0.324) = √0.54 = 0.734847…
        # CV = 0.734847 / 5.1 = 0.144088…
        cv, mean = weighted_cv([a1, a3])
        assert mean == pytest.approx(5.1, abs=TOLERANCE)
        assert cv == pytest.approx(math.sqrt(0.54) / 5.1, abs=TOLERANCE)

        result = area_result(audit, "balance.cv", "城中区/primary/balance_cv_teaching_area")
        assert result.verdict == "pass"
        assert observed(result)["cv"] == pytest.approx(cv, abs=TOLERANCE)
        assert observed(result)["mean"] == pytest.approx(mean, abs=TOLERANCE)

    def test_cv_of_exactly_0_50_passes(self, audit: AuditResult) -> None:
        """融水 primary 生均教学及辅助用房面积: B1 450/100 = 4.5 and B2 1350/100 = 13.5: X̄ 9, S 4.5, CV 0.50 passes."""
        cv, mean = weighted_cv([(4.5, 100), (13.5, 100)])
        assert (cv, mean) == (0.5, 9.0)
        result = area_result(audit, "balance.cv", "融水苗族自治县/primary/balance_cv_teaching_area")
        assert result.verdict == "pass"
        assert observed(result)["cv"] == 0.5

    def test_evidence_rows_carry_each_schools_value_and_enrolment(self, audit: AuditResult) -> None:
        """The CV finding's evidence has one row per school with the value and enrolment it entered with."""
        result = finding(audit, "balance.cv", "城中区/junior/balance_cv_sports_area")
        rows = {e.values["school_id"]: e.values for e in result.evidence if e.values and "school_id" in e.values}
        assert rows["A2"]["value"] == pytest.approx(40.0, abs=1e-6)
        assert rows["A2"]["weight"] == 100
        assert rows["A3"]["value"] == pytest.approx(3410 * A3_SHARE_JUNIOR / 100, abs=1e-6)
        assert rows["A3"]["weight"] == 100


@pytest.fixture(scope="module")
def without_b1_facilities(tmp_path_factory: pytest.TempPathFactory) -> AuditResult:
    """The case with 融水县第一小学 (B1)'s row removed from facilities.csv."""
    folder = tmp_path_factory.mktemp("qb") / "case"
    shutil.copytree(CASE, folder)
    (folder / "expected.yaml").unlink()
    path = folder / "facilities.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        rows = [row for row in csv.reader(handle) if row[0] != "B1"]
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return run_audit(folder, workers=1, keep_tables=True)


class TestMissingFacilities:
    def test_cv_of_a_facilities_indicator_is_not_evaluated(self, without_b1_facilities: AuditResult) -> None:
        """Without B1's facilities row, 融水's primary CVs of the 4 facilities indicators are data gaps, not passes."""
        outcome = without_b1_facilities.outcomes["balance.cv"]
        facilities = {
            f"融水苗族自治县/primary/balance_cv_{m}"
            for m in ("teaching_area", "sports_area", "equipment", "multimedia")
        }
        assert facilities <= outcome.gaps
        assert not facilities & (outcome.passed | outcome.failed)
        # the teacher-based CVs do not need the facilities row and are still evaluated (B1 = B2: CV 0)
        assert "融水苗族自治县/primary/balance_cv_qualified" in outcome.passed
        # 城中区 is untouched
        assert "城中区/junior/balance_cv_sports_area" in outcome.failed

    def test_school_verdict_is_not_evaluated(self, without_b1_facilities: AuditResult) -> None:
        """B1's 6-of-7 verdict cannot be reached without its facilities: not evaluated."""
        assert "B1/primary" in without_b1_facilities.outcomes["balance.school-resources"].gaps

    def test_the_cv_measure_names_the_school(self, without_b1_facilities: AuditResult) -> None:
        """The indicator layer records which school's value is missing."""
        tables = without_b1_facilities.tables
        assert tables is not None
        metric = "融水苗族自治县/primary/balance_cv_teaching_area"
        values = tables.frame("county_metric", ["cv"]).filter(pl.col("__id") == metric)
        assert values["cv"].to_list() == [None]
        trace = tables.traces["balance_cv_teaching_area"].frame.filter(pl.col("__id") == metric)
        assert trace["missing"].to_list() == [["融水县第一小学（B1）缺少生均教学及辅助用房面积"]]

    def test_the_data_gap_names_the_school(self, without_b1_facilities: AuditResult) -> None:
        """The data gap of the CV says which school lacks the value."""
        gap = next(
            g
            for g in without_b1_facilities.gaps
            if g.rule_id == "balance.cv" and g.entity_id == "融水苗族自治县/primary/balance_cv_teaching_area"
        )
        assert any("融水县第一小学（B1）" in item for item in gap.missing)


class TestPackSelection:
    def test_pack_runs_alongside_core(self) -> None:
        """Selected together with core, the pack gives the same verdicts as alone."""
        alone = run_audit(CASE, workers=1)
        both = run_audit(CASE, packs=["core", "quality-balance"], workers=1)
        assert "class-size.large" in both.outcomes
        for rule_id, outcome in alone.outcomes.items():
            assert both.outcomes[rule_id].failed == outcome.failed
            assert both.outcomes[rule_id].passed == outcome.passed
            assert both.outcomes[rule_id].gaps == outcome.gaps


class TestSchoolSize:
    def test_twelve_year_school_counts_only_its_compulsory_pupils(self, tmp_path: Path) -> None:
        """A twelve-year school is held to 2500 pupils in grades 1–9; its senior pupils do not count."""
        builder = AuditBuilder(packs=("quality-balance",))
        over = builder.school("T1", type="twelve_year", safety=None)
        within = builder.school("T2", type="twelve_year", safety=None)
        for index in range(56):  # 56 × 45 = 2520 pupils in grades 1–9 > 2500
            builder.klass(over, grade=index % 9 + 1, size=45)
        for index in range(55):  # 55 × 45 = 2475 ≤ 2500; its 10 senior classes (500 pupils) do not count
            builder.klass(within, grade=index % 9 + 1, size=45)
        for index in range(10):
            builder.klass(within, grade=10 + index % 3, size=50)
        run = builder.run(tmp_path / "audit", workers=1)
        assert run.verdict("balance.school-size", "T1") == "fail"
        assert run.verdict("balance.school-size", "T2") == "pass"
        (size,) = [o for o in run.findings("balance.school-size")[0].observed if o.field == "balance_compulsory_size"]
        assert size.value == 2520
