"""Reading the plan's year targets: a milestone named in audit.yaml, a milestone due, progress
between milestones on the straight line from the 十三五 baseline, exactly."""

from __future__ import annotations

import pickle
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inspector.audit import AuditResult, run_audit
from inspector.rules.compiler import exact_param
from inspector.rules.spec import NO_TARGET, ParamSpec
from inspector.rules.targets import Progressed, Reading

PLAN_CASES = Path(__file__).resolve().parents[1] / "rules" / "plan" / "cases"
TARGET = ParamSpec(by_year={2022: 0.52, 2025: 0.52}, title="公办幼儿园在园幼儿占比目标", baseline="base")
LATE = ParamSpec(by_year={2025: 10.7}, title="平均受教育年限目标", baseline="base")
BASE = ParamSpec(value=0.5044, year=2020, title="基期值")


def read(year: int, spec: ParamSpec = TARGET, *, explicit: bool = False, baseline: ParamSpec | None = BASE) -> object:
    """The param's value as the audit's rules see it (exact, as `effective_params` makes it)."""
    return exact_param(Reading(year, explicit).target("p", spec, baseline)[0])


class TestReading:
    def test_a_named_target_year_reads_that_milestone_only(self) -> None:
        assert read(2025, explicit=True) == Fraction(13, 25)
        assert read(2024, explicit=True) is NO_TARGET
        assert read(2022, LATE, explicit=True) is NO_TARGET

    def test_a_milestone_year_reads_its_column(self) -> None:
        value = read(2022)
        assert value == Fraction(13, 25) and not isinstance(value, Progressed)

    def test_between_milestones_the_target_is_read_on_the_line_from_the_baseline(self) -> None:
        """2023: 0.5044 + (0.52 − 0.5044) × 3/5 = 0.51376; 2021: × 1/2 towards 2022 = 0.5122."""
        in_2023, in_2021 = read(2023), read(2021)
        assert isinstance(in_2023, Progressed) and in_2023 == Fraction(51376, 100000)
        assert in_2023.progress.milestone == 2025 and in_2023.progress.baseline == Fraction(5044, 10000)
        assert isinstance(in_2021, Progressed) and in_2021 == Fraction(5122, 10000)
        assert in_2021.progress.milestone == 2022

    def test_a_2022_audit_reads_a_2025_only_target_as_progress(self) -> None:
        """10 + 0.7 × 2/5 = 10.28: no longer skipped."""
        assert read(2022, LATE, baseline=ParamSpec(value=10, year=2020, title="基期")) == Fraction(1028, 100)

    def test_without_a_baseline_the_rule_has_no_target_and_says_why(self) -> None:
        assert read(2023, baseline=None) is NO_TARGET
        reason = Reading(2023, False).no_target_reason("p", TARGET)
        assert "“十三五”末基期值" in reason and "2025" in reason

    def test_outside_the_plan_period_the_nearest_milestone_stands_with_a_warning(self) -> None:
        assert read(2026) == Fraction(13, 25) and "规划期" in Reading(2026, False).warnings()[0]
        assert read(2020) == Fraction(13, 25) and "预警" in Reading(2020, False).warnings()[0]
        assert Reading(2023, False).warnings() == [] and Reading(2026, True).warnings() == []

    def test_a_progress_value_keeps_its_derivation_through_pickling(self) -> None:
        """Workers receive params pickled: the reading must survive."""
        value = read(2024)
        copy = pickle.loads(pickle.dumps(value))
        assert isinstance(copy, Progressed) and copy == value and copy.progress == value.progress  # type: ignore[union-attr]

    @given(baseline=st.fractions(0, 1), target=st.fractions(0, 1), year=st.integers(2021, 2024))
    def test_progress_lies_on_the_line_exactly(self, baseline: Fraction, target: Fraction, year: int) -> None:
        spec = ParamSpec(by_year={2025: float(target)}, title="t", baseline="b")
        base = ParamSpec(value=float(baseline), year=2020, title="b")
        value = Reading(year, False).target("p", spec, base)[0]
        assert isinstance(value, Progressed)
        start, end = exact_param(float(baseline)), exact_param(float(target))
        assert (value - start) * 5 == (end - start) * (year - 2020)
        assert min(start, end) <= value <= max(start, end)


@pytest.fixture(scope="module")
def progress_2023() -> AuditResult:
    return run_audit(PLAN_CASES / "progress-2023", workers=1)


class TestProgressFindings:
    def test_a_binding_rule_read_as_progress_is_minor_and_says_how_the_value_was_derived(
        self, progress_2023: AuditResult
    ) -> None:
        """t1-16 is 约束性 (major) at a milestone; in 2023 it lags progress: minor, with the line."""
        finding = next(f for f in progress_2023.findings if f.rule_id == "plan.t1-16")
        assert finding.severity == "minor"
        assert finding.reading is not None and (finding.reading.year, finding.reading.milestone) == (2023, 2025)
        assert finding.reading.expected == "442/625"  # 0.7072
        assert "按规划进度2023年应达到的水平 70.72%" in finding.message
        assert "“十三五”末（2020年）64.3%，规划2025年目标 75%，按直线推算2023年应达到 70.72%" in finding.message

    def test_indicator_results_carry_the_reading(self, progress_2023: AuditResult) -> None:
        row = next(r for r in progress_2023.indicators if r.rule_id == "plan.t1-07")
        assert row.verdict == "pass" and row.reading is not None and row.reading.expected == "49/100"

    def test_a_rule_without_baseline_is_skipped_with_the_reason(self, progress_2023: AuditResult) -> None:
        outcome = progress_2023.outcomes["plan.t1-01"]
        assert not outcome.evaluated and "基期值" in outcome.skipped_reason

    def test_a_milestone_audit_is_unchanged(self) -> None:
        result = run_audit(PLAN_CASES / "final-2025", workers=1)
        assert all(f.reading is None for f in result.findings)
        assert next(f for f in result.findings if f.rule_id == "plan.t1-16").severity == "major"
