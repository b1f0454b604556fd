"""Statistics-only cases under cases/ built from published figures: each folder's expected.yaml, written by hand,
against an audit of the folder (the comparison `inspector rules test` makes for a pack's cases)."""

from __future__ import annotations

from pathlib import Path

import pytest

from inspector.audit import AuditResult, run_audit
from inspector.catalog import compare_case
from inspector.rules.packs import DEFAULT_RULES_DIR

CASES = Path(__file__).resolve().parent.parent / "cases"
# the folders of published statistics alone (the synthetic cases' expected.yaml is the core oracle's, read elsewhere)
STATISTICS_CASES = sorted(
    p.parent.name
    for p in CASES.glob("*/expected.yaml")
    if not any(p.parent.glob("schools.*")) and not any(p.parent.glob("学校*"))
)


@pytest.fixture(scope="module")
def baseline() -> AuditResult:
    """cases/liuzhou-2020-baseline audited once for the module's tests, which only read it."""
    return run_audit(CASES / "liuzhou-2020-baseline", workers=1)


def test_the_published_figures_cases_are_found() -> None:
    assert STATISTICS_CASES == ["liuzhou-2019-preschool", "liuzhou-2020-baseline"]


@pytest.mark.parametrize("case", STATISTICS_CASES)
def test_verdicts_are_the_hand_computed_ones(case: str) -> None:
    lines, ok = compare_case(CASES / case, f"cases/{case}/expected.yaml", DEFAULT_RULES_DIR)
    assert ok, "\n".join(line for line in lines if line.startswith("✗"))


def test_table_one_names_are_read_as_the_statistics_columns(baseline: AuditResult) -> None:
    """表一's indicator names with their units (公办幼儿园在园幼儿占比（%）, …(个）) name the columns: nothing is
    left over as an unknown column, and a percentage written without its sign is read as a percentage."""
    result = baseline
    (source,) = [i for i in result.dataset.inputs if i.kind == "city_stats"]
    assert source.extra_columns == () or not source.extra_columns
    row = result.dataset.tables["city_stats"].row(0, named=True)
    assert row["year"] == 2020 and row["professors"] == 39


def test_an_entered_figure_is_used_and_cited(baseline: AuditResult) -> None:
    """The entered 公办幼儿园在园幼儿占比 decides t1-02 (no schools to compute it from), and the finding's evidence
    is the statistics row it was read from."""
    result = baseline
    (finding,) = [f for f in result.findings if f.rule_id == "plan.t1-02"]
    assert "50.44%" in finding.message
    assert [(e.file, e.row) for e in finding.evidence] == [("全市统计.csv", 2)]


def test_regression_is_not_judged_before_the_baseline_year() -> None:
    result = run_audit(CASES / "liuzhou-2019-preschool", workers=1)
    outcome = result.outcomes["plan.inclusive-coverage-regression"]
    assert not outcome.evaluated and "早于基期（2020 年" in outcome.skipped_reason


def test_county_names_are_read_against_the_divisions(tmp_path: Path) -> None:
    """A short name (融水县) counts under the division's full name; a name that is none of the divisions is kept,
    and said once at its row with the division it most likely means; a county's statistics need no school list."""
    import shutil

    folder = tmp_path / "case"
    shutil.copytree(CASES / "liuzhou-2019-preschool", folder)
    (folder / "county_stats.csv").write_text(
        "区县,年份,学前三年毛入园率\n融水县,2019,90\n融水苗县,2019,91\n城中区,2019,95\n", encoding="utf-8"
    )
    result = run_audit(folder, workers=1)
    assert result.dataset.problems == []
    counties = result.dataset.tables["county_stats"]["county"].to_list()
    assert counties == ["融水苗族自治县", "融水苗县", "城中区"]
    assert result.dataset.warnings == (
        "county_stats.csv:2: 区县: “融水县”按 融水苗族自治县 统计",
        "county_stats.csv:3: 区县: “融水苗县”不在柳州市的区县名单中（是否为 融水苗族自治县？），按原样作为一个区县统计",
    )


def test_messages_name_the_milestone_and_say_a_figure_was_entered(baseline: AuditResult) -> None:
    """Before the plan period a target is its first milestone: 2022 where 表一 sets one, 2025 where 2022 is “/”;
    a share entered in 全市统计 is said to be entered, not computed from counts the audit does not have."""
    result = baseline
    messages = {f.rule_id: f.message for f in result.findings}
    assert messages["plan.t1-02"] == "柳州市全市统计填报的公办幼儿园在园幼儿占比为 50.44%，低于规划2022年目标 52%。"
    assert "低于规划2025年约束性目标 10.7 年" in messages["plan.t1-14"]
    assert "少于规划2025年目标 86 个" in messages["plan.t1-19a"]
    assert "财政性教育经费占GDP比例（统计填报）为 4%" in messages["plan.t1-22"]
