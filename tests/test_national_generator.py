"""benchmarks/national.py, the national-scale generator, on two blocks (3,000 schools): its folder
audits with every county a declared division (no unknown-name notes) and with the findings the
generator's oracle wrote into expected.yaml."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from inspector.audit import run_audit
from inspector.publish import write_outputs

pytestmark = pytest.mark.slow

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def _script(name: str):  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(f"{name}_benchmark", BENCHMARKS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_two_blocks_audit_to_the_oracles_findings_with_their_counties_declared(tmp_path: Path) -> None:
    national, bench = _script("national"), _script("run")
    folder = tmp_path / "national"
    rows = national.generate(folder, schools=3_000)
    assert rows["schools"] == 2 * national.BLOCK.schools
    result = run_audit(folder, workers=1)
    counties = set(result.dataset.tables["schools"]["county"].unique().to_list())
    assert counties == {national.county_name(c.name, b) for b in range(2) for c in national.COUNTIES}
    assert result.dataset.warnings == (), result.dataset.warnings[:3]
    write_outputs(result, tmp_path / "out")
    expected = bench.read_expected(folder)
    assert sum(want.count for want in expected.values()) > 0
    # raises BenchmarkError, naming each rule, where the audit and the oracle disagree
    assert bench.check("inspector", bench.inspector_findings(tmp_path / "out"), expected) == []
