"""Partitions on a Dask cluster: the same bytes as one process, and a lost worker is a clear
failure that leaves the previous outputs as they were."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from inspector.cli import main

CASE = Path(__file__).resolve().parents[1] / "cases" / "liuzhou-2025"
OUTPUTS = ("findings.json", "evidence.csv", "rectification.csv", "report.md", "report.html", "rectification.xlsx")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", autouse=True)
def _distributed() -> None:
    """Skip without dask's distributed; imported here, not at collection (a second of CPU in every
    xdist worker, also for `make test-fast`, which deselects these tests)."""
    pytest.importorskip("distributed")


def test_local_cluster_of_two_workers_writes_the_bytes_of_one_process(tmp_path: Path, case_out: Path) -> None:
    """`--dask local --workers 2` starts a two-worker LocalCluster, evaluates the counties there and
    writes exactly what a single-process audit writes (`case_out`: the session's `run_audit(workers=1)`
    and `write_outputs`, which is what `inspector audit --workers 1` runs)."""
    assert (
        main(["audit", str(CASE), "--out", str(tmp_path / "dask"), "--dask", "local", "--workers", "2", "--quiet"]) == 0
    )
    for name in OUTPUTS:
        assert (case_out / name).read_bytes() == (tmp_path / "dask" / name).read_bytes(), name
    assert sorted(p.relative_to(case_out) for p in (case_out / "notices").rglob("*")) == sorted(
        p.relative_to(tmp_path / "dask") for p in (tmp_path / "dask" / "notices").rglob("*")
    )


def test_a_lost_worker_fails_the_audit_and_keeps_the_previous_outputs(
    tmp_path: Path, case_out: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A Dask worker that dies on its partition (tests/support/dying_worker) ends the audit with
    the engine's exit code and a Chinese message; the outputs of the audit before (a copy of the
    session's outputs of the case) are untouched."""
    out = tmp_path / "out"
    shutil.copytree(case_out, out)
    before = {name: (out / name).read_bytes() for name in OUTPUTS}
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).parent / "support" / "dying_worker"))
    monkeypatch.setenv("DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES", "0")
    assert main(["audit", str(CASE), "--out", str(out), "--dask", "local", "--workers", "2", "--quiet"]) == 3
    assert "Dask 集群上的规则评估未能完成" in capsys.readouterr().err
    assert {name: (out / name).read_bytes() for name in OUTPUTS} == before
