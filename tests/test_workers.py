"""The worker count: `--workers` and INSPECTOR_WORKERS clamped to 1 … 4 × CPUs, bad values refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import inspector.audit
from inspector.cli import main
from inspector.errors import UsageError
from inspector.partitions import resolve_workers
from inspector.workers import ENV, available_cpus, requested_workers

BOUNDARIES = Path(__file__).resolve().parents[1] / "rules" / "core" / "cases" / "boundaries"


class TestResolve:
    def test_neither_given_leaves_the_choice_to_the_engine(self) -> None:
        assert requested_workers(None, {}) is None
        assert requested_workers(None, {ENV: "  "}) is None

    @pytest.mark.parametrize("given, used", [(100_000, 8), (9, 8), (0, 1), (-1, 1), (3, 3)])
    def test_the_command_line_is_clamped_with_a_note(self, given: int, used: int) -> None:
        """`--workers 100000` forked about 2,000 processes in ten seconds; now at most 4 per CPU."""
        notes: list[str] = []
        assert requested_workers(given, {}, cpus=2, warn=notes.append) == used
        assert bool(notes) == (given != used)
        assert all(f"--workers {given}" in note and "按" in note for note in notes)

    def test_the_command_line_wins_over_the_environment(self) -> None:
        assert requested_workers(2, {ENV: "abc"}, cpus=2) == 2

    @pytest.mark.parametrize("raw, used", [("3", 3), (" 2 ", 2), ("999", 8), ("0", 1)])
    def test_the_environment_is_read_and_clamped(self, raw: str, used: int) -> None:
        notes: list[str] = []
        assert requested_workers(None, {ENV: raw}, cpus=2, warn=notes.append) == used
        assert all(ENV in note for note in notes)

    @pytest.mark.parametrize("raw", ["abc", "1.5", "2x"])
    def test_a_non_integer_environment_value_names_the_variable(self, raw: str) -> None:
        """INSPECTOR_WORKERS=abc crashed (exit 70); it is a usage error now."""
        with pytest.raises(UsageError, match=ENV):
            requested_workers(None, {ENV: raw})

    @pytest.mark.parametrize(
        "rows, cpus, used",
        [(499_999, 4, 1), (500_000, 4, 4), (1_030_000, 2, 1), (26_000_000, 2, 1), (1_030_000, 3, 3), (10**7, 16, 8)],
    )
    def test_worker_processes_are_started_for_large_audits_on_three_cpus_or_more(
        self, monkeypatch: pytest.MonkeyPatch, rows: int, cpus: int, used: int
    ) -> None:
        """On 2 CPUs polars' threads already use both: two workers made a province slower (README)."""
        monkeypatch.delenv(ENV, raising=False)
        assert resolve_workers(None, rows, cpus=cpus) == used

    def test_workers_asked_for_are_started_whatever_the_cpus(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delenv(ENV, raising=False)
        assert resolve_workers(2, 1_000, cpus=2) == 2
        monkeypatch.setenv(ENV, "2")
        assert resolve_workers(None, 1_000, cpus=1) == 2

    def test_cpus_are_counted(self) -> None:
        """available_cpus() counts at least one CPU, whatever the platform reports."""
        assert available_cpus() >= 1


class TestCommandLine:
    def test_bad_environment_value_exits_2(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        monkeypatch.setenv(ENV, "abc")
        assert main(["audit", str(BOUNDARIES), "--out", str(tmp_path / "out"), "--quiet"]) == 2
        err = capsys.readouterr().err
        assert ENV in err and "abc" in err and "Traceback" not in err
        assert not (tmp_path / "out").exists()

    def test_a_non_integer_option_is_a_chinese_usage_error(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        with pytest.raises(SystemExit) as raised:
            main(["audit", str(BOUNDARIES), "--out", str(tmp_path / "out"), "--workers", "abc"])
        assert raised.value.code == 2 and "应为整数" in capsys.readouterr().err

    def test_a_huge_count_reaches_the_engine_clamped(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        seen: dict[str, Any] = {}
        real = inspector.audit.run_audit

        def spy(*args: Any, **kwargs: Any) -> Any:
            seen["workers"] = kwargs["workers"]
            return real(*args, **{**kwargs, "workers": 1})

        monkeypatch.setattr(inspector.audit, "run_audit", spy)
        assert main(["audit", str(BOUNDARIES), "--out", str(tmp_path / "out"), "--quiet", "--workers", "100000"]) == 0
        assert seen["workers"] == 4 * available_cpus()
        assert "超出允许范围" in capsys.readouterr().err


def test_a_worker_compiles_the_book_from_its_spec_and_leaves_no_folder_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker process writes the packs it is sent into a temporary folder to compile them; the
    folder is gone once the book is compiled (every worker of every audit left one in /tmp)."""
    from inspector.partitions import BookSpec
    from inspector.records.config import AuditConfig
    from inspector.resources import RULES_DIR
    from inspector.rules.compiler import compile_rulebook, effective_params
    from inspector.rules.packs import load_packs
    from inspector.rules.targets import Reading

    config = AuditConfig(name="t", as_of="2025-12-31", region="柳州市")
    loaded = load_packs(["core"], RULES_DIR)
    reading = Reading.of(config.as_of, config.target_year)
    params, _ = effective_params(loaded, {}, reading)
    book = compile_rulebook(loaded, as_of=config.as_of, params=params, reading=reading, extra_columns={})
    spec = BookSpec.of(book, RULES_DIR, config, {})
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    assert spec.compile().fingerprint == book.fingerprint
    assert list(tmp_path.iterdir()) == []


class _NotesItsFreeing:
    """Writes to its file when freed, with what it holds itself: the interpreter's teardown may
    have emptied the modules' names by then."""

    def __init__(self, path: str) -> None:
        import os

        self.fd, self.write = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND), os.write

    def __del__(self) -> None:
        self.write(self.fd, b"freed")


_KEPT: list[_NotesItsFreeing] = []


def _keep_until_exit(path: str) -> None:
    _KEPT.append(_NotesItsFreeing(path))


def _collecting() -> bool:
    import gc

    return gc.isenabled()


class TestCollectorSchedule:
    def test_a_command_runs_without_the_collector_and_restores_the_callers(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        """`main` runs a command with the automatic collector off and turns it on again after it,
        also when the command fails; a caller that had it off keeps it off."""
        import gc

        seen: list[bool] = []

        def spy(*args: Any, **kwargs: Any) -> Any:
            seen.append(gc.isenabled())
            raise UsageError("停")

        monkeypatch.setattr(inspector.audit, "run_audit", spy)
        assert gc.isenabled()
        assert main(["audit", str(BOUNDARIES), "--out", str(tmp_path / "out"), "--quiet"]) == 2
        assert seen == [False] and gc.isenabled()
        gc.disable()
        try:
            assert main(["audit", str(BOUNDARIES), "--out", str(tmp_path / "out"), "--quiet"]) == 2
            assert not gc.isenabled()
        finally:
            gc.enable()

    def test_spawned_workers_run_without_the_collector(self) -> None:
        from inspector.workers import spawned_pool

        with spawned_pool(1) as pool:
            assert pool.submit(_collecting).result() is False

    def test_a_worker_exits_without_the_interpreters_teardown(self, tmp_path: Path) -> None:
        """A worker's teardown freed its heap object by object while the audit waited (0.12 s for
        a province's report worker): it now leaves without it, with exit code 0, once its pool
        lets it go. The object kept by the worker would note its freeing in the file."""
        from inspector.workers import spawned_pool

        marker = tmp_path / "freed"
        with spawned_pool(1) as pool:
            assert pool.submit(_keep_until_exit, str(marker)).result() is None
            processes = list(pool._processes.values())
        assert [process.exitcode for process in processes] == [0]
        assert marker.read_bytes() == b""


def test_one_worker_keeps_the_reports_in_this_process_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`--workers 1` is one process: the reports of a large audit are not shared with a second
    process either (without it they are, on two CPUs or more), and the outputs are the same."""
    import inspector.report

    started: list[object] = []
    real = inspector.report.spawned_pool

    def spy(*args: Any, **kwargs: Any) -> Any:
        started.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(inspector.report, "PARALLEL_FROM", 0)  # the case's 15 findings count as large
    monkeypatch.setattr(inspector.report, "available_cpus", lambda: 2)
    monkeypatch.setattr(inspector.report, "spawned_pool", spy)
    monkeypatch.delenv("INSPECTOR_WORKERS", raising=False)
    assert main(["audit", str(BOUNDARIES), "--out", str(tmp_path / "one"), "--quiet", "--workers", "1"]) == 0
    assert started == []
    assert main(["audit", str(BOUNDARIES), "--out", str(tmp_path / "two"), "--quiet"]) == 0
    assert len(started) == 1
    for name in ("findings.json", "report.html", "rectification.xlsx", "notices/城中区.html"):
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes(), name
