"""Audits of whole data sets against expected findings computed by an independent oracle.

`cases/liuzhou-2025` is the committed case (audited with all five packs; the oracle covers the core
pack, tests/test_case_all_packs.py the others); the city-scale folder is generated (1,500 schools,
25,000 classes, 50,000 teachers: ~78,000 rows, ~27,000 engine facts, ~80,000 verdicts) to show
that partitioned sessions lose nothing at scale. (That one session does drop distinct facts
whose ids collide is shown on the raw engine in test_durable_adapter.)
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from inspector.audit import AuditResult, run_audit
from inspector.cli import main
from synthetic.city import generate

ROOT = Path(__file__).resolve().parents[1]
CASE = ROOT / "cases" / "liuzhou-2025"
OUTPUTS = ("findings.json", "rectification.csv", "report.md")


def _expected(folder: Path) -> dict[str, Any]:
    return yaml.safe_load((folder / "expected.yaml").read_text(encoding="utf-8"))["rules"]


def _assert_matches(result: AuditResult, expected: dict[str, Any], *, sets: bool = True) -> None:
    core = {rule_id for rule_id, outcome in result.outcomes.items() if outcome.rule.pack.id == "core"}
    assert set(expected) == core, "expected.yaml and the core pack name the same rules"
    for rule_id, want in expected.items():
        outcome = result.outcomes[rule_id]
        assert outcome.evaluated, rule_id
        assert len(outcome.failed) == want["count"], rule_id
        if sets:
            assert outcome.failed == {str(i) for i in want.get("fail", [])}, rule_id
        assert outcome.gaps == {str(i) for i in want.get("not_evaluated", [])}, rule_id
        findings = {f.entity_id for f in result.findings if f.rule_id == rule_id}
        assert findings == outcome.failed, rule_id


@pytest.fixture
def case_result(audited_case: Any) -> AuditResult:
    """The session's shared audit of cases/liuzhou-2025 (one worker process): read it, do not change it."""
    return audited_case("liuzhou-2025")


class TestLiuzhouCase:
    def test_every_rule_fires_exactly_where_the_oracle_says(self, case_result: AuditResult) -> None:
        """Fail and not-evaluated sets per rule equal expected.yaml, checkov style."""
        _assert_matches(case_result, _expected(CASE))

    def test_every_rule_has_passing_and_failing_entities(self, case_result: AuditResult) -> None:
        """The case exercises each core rule both ways (a rule that never passes proves nothing); the data-quality
        rules it cannot show both ways (its schools' rows agree with their classes; the city has one verdict) are
        shown both ways by rules/core/cases/data-quality."""
        shown_elsewhere = {"data.school-without-classes", "data.enrolment-mismatch", "data.unused-city-stats-years"}
        expected = yaml.safe_load(
            (ROOT / "rules" / "core" / "cases" / "data-quality" / "expected.yaml").read_text(encoding="utf-8")
        )["rules"]
        for rule_id, outcome in case_result.outcomes.items():
            if outcome.rule.pack.id == "core" and rule_id not in shown_elsewhere:
                assert outcome.failed and outcome.passed, rule_id
        assert all(
            expected[rule_id]["fail"] and (expected[rule_id]["pass"] or rule_id.endswith("city-stats-years"))
            for rule_id in shown_elsewhere
        )

    def test_every_row_is_loaded(self, case_result: AuditResult) -> None:
        """The committed case is clean input: nothing rejected, counts add up."""
        assert case_result.rejected == []
        for item in case_result.dataset.inputs:
            assert item.rows_read == item.rows_loaded > 0

    def test_findings_are_traceable(self, case_result: AuditResult) -> None:
        """Every finding names its rule version, basis, observed values, threshold or evidence rows."""
        for finding in case_result.findings:
            assert finding.rule_version >= 1 and finding.basis["quote"]
            assert finding.evidence, finding.id
            assert all(e.row >= 2 for e in finding.evidence)
            if finding.entity_type in ("class", "school", "teacher"):
                assert finding.evidence[0].role == "record"
            elif finding.entity_type == "school_stage":
                assert finding.evidence[0].role == "school"
            assert finding.message and finding.rectification.action and finding.rectification.responsible

    def test_messages_read_as_chinese(self, case_result: AuditResult) -> None:
        """Folded template lines leave no space between two Chinese characters or punctuation marks."""
        wide = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]\s+[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
        for finding in case_result.findings:
            for text in (finding.message, finding.rectification.action, finding.rectification.responsible):
                assert not wide.search(text), text


class TestCityScale:
    @pytest.mark.slow
    def test_exact_findings_at_city_scale(self, tmp_path: Path) -> None:
        """Every class, school and county gets its verdicts; fail sets equal the oracle's exactly."""
        folder = tmp_path / "city"
        generate(folder, scale="city", fmt="csv")
        result = run_audit(folder)
        _assert_matches(result, _expected(folder))
        classes = result.dataset.rows("classes")
        assert len(classes) == 25_000
        vocational = {s.values["school_id"] for s in result.dataset.rows("schools") if s.values["type"] == "vocational"}
        in_scope = {c.values["class_id"] for c in classes if c.values["school_id"] not in vocational}
        # every class but vocational schools' gets a verdict from the grade rules or the kindergarten rule
        outcomes = [o for rule_id, o in result.outcomes.items() if rule_id.startswith("class-size.")]
        assert {e for o in outcomes for e in (*o.failed, *o.passed, *o.gaps)} == in_scope


class TestParallelEvaluation:
    @pytest.mark.parametrize("workers", [1, 2])
    def test_many_small_partitions_write_the_bytes_of_one(
        self, workers: int, case_result: AuditResult, case_out: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """An audit of more rows than one partition holds runs as many partitions, one after another
        in this process or a few at a time on worker processes (each with its own engine), and gives
        exactly the verdicts of the single-partition audit (`case_result`) and every output byte for
        byte as it writes them (`case_out`)."""
        from inspector import partitions
        from inspector.publish import write_outputs

        monkeypatch.setattr(partitions, "PARTITION_ROWS", 5_000)  # the 15,157 rows in four partitions
        seen: list[int] = []
        real = partitions.plan
        monkeypatch.setattr(partitions, "plan", lambda dataset, count: seen.append(count) or real(dataset, count))
        result = run_audit(CASE, workers=workers)
        for rule_id, outcome in case_result.outcomes.items():
            other = result.outcomes[rule_id]
            assert (other.failed, other.passed, other.gaps) == (outcome.failed, outcome.passed, outcome.gaps), rule_id
        assert (result.findings, result.gaps, result.indicators) == (
            case_result.findings,
            case_result.gaps,
            case_result.indicators,
        )
        out = tmp_path / "out"
        write_outputs(result, out)
        assert len(real(result.dataset, seen[0])) == 4
        written = sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())
        assert written == sorted(p.relative_to(case_out) for p in case_out.rglob("*") if p.is_file())
        for name in written:
            assert (out / name).read_bytes() == (case_out / name).read_bytes(), name

    def test_a_worker_killed_outright_fails_the_audit_instead_of_hanging(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A worker that dies without raising (out of memory, a crash in the engine's C code) is an
        EngineError naming the way to see why, not a wait for ever."""
        from inspector.errors import EngineError
        from inspector.testing import AuditBuilder

        builder = AuditBuilder()
        for n in range(4):
            builder.klass(builder.school(f"S{n}", county=f"县{n}"), "3", 60, f"C{n}")
        # spawned workers load tests/support/dying_worker/sitecustomize.py, which kills them
        monkeypatch.setenv("PYTHONPATH", str(Path(__file__).parent / "support" / "dying_worker"))
        with pytest.raises(EngineError, match="工作进程意外退出") as raised:
            builder.run(tmp_path / "audit", workers=2)
        assert "--workers 1" in str(raised.value)


class TestDeterminism:
    def test_same_inputs_give_byte_identical_outputs(self, case_out: Path, tmp_path: Path) -> None:
        """Two audits of the same folder, from different places, write the same bytes: the session's
        audit of cases/liuzhou-2025 (one worker) and `inspector audit` of a copy elsewhere."""
        copy = tmp_path / "elsewhere" / CASE.name
        shutil.copytree(CASE, copy)
        assert main(["audit", str(copy), "--out", str(tmp_path / "b"), "--quiet"]) == 0
        for name in OUTPUTS:
            assert (case_out / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name

    def test_finding_ids_are_stable_when_other_data_changes(self, tmp_path: Path) -> None:
        """The same rule on the same entity keeps its id though rows are added around it."""
        from inspector.testing import AuditBuilder

        builder = AuditBuilder()
        school = builder.school("S1")
        builder.klass(school, "3", 60, "C1")
        first = builder.run(tmp_path / "one").findings("class-size.large")
        builder.klass(builder.school("S2"), "4", 70, "C2")
        second = builder.run(tmp_path / "two").findings("class-size.large")
        assert [f.id for f in first] == [f.id for f in second if f.entity_id == "C1"]
