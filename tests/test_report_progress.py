"""Progress: a bar with stages and counts on a terminal (a pseudo-terminal here), silence otherwise."""

from __future__ import annotations

import io
import os
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from inspector.progress import DELAY_ENV, progress_printer, render_line

ROOT = Path(__file__).resolve().parents[1]
# the bar shows rule-evaluation counts only on an audit with enough to evaluate: the city case
CASE = ROOT / "cases" / "liuzhou-2025"
# where nothing should be drawn at all, a small case shows it as well as a large one
SMALL_CASE = ROOT / "rules" / "core" / "cases" / "boundaries"


def _drain(master: int, process: subprocess.Popen[bytes] | None = None, timeout: float = 120.0) -> str:
    """Everything written to the terminal, read while the process runs (a full pty would block it)."""
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.05)
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: every writer closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        elif (process is None or process.poll() is not None) and not select.select([master], [], [], 0.1)[0]:
            # nothing pending and no writer left (one more look: the last write may land late)
            break
    return b"".join(chunks).decode("utf-8", errors="replace")


def _drawn(calls: list[tuple[str, int, int]], *, enabled: bool = True, delay: float = 0.0) -> str:
    """What a progress printer on a pseudo-terminal draws for these (stage, done, total) calls."""
    master, slave = os.openpty()
    try:
        with (
            os.fdopen(slave, "w", encoding="utf-8") as stream,
            progress_printer(enabled=enabled, stream=stream, delay=delay) as report,
        ):
            for call in calls:
                report(*call)
        return _drain(master)
    finally:
        os.close(master)


class TestRenderLine:
    def test_bar_count_and_time(self) -> None:
        """A counted stage shows an ASCII bar, done/total and the elapsed seconds."""
        assert render_line("规则评估", 12, 24, 3.25) == "规则评估 [============>           ] 12/24  3.2 秒"
        assert render_line("规则评估", 24, 24, 9.0) == "规则评估 [========================] 24/24  9.0 秒"

    def test_one_step_stage_has_no_bar(self) -> None:
        assert render_line("读取数据", 0, 1, 0.0) == "读取数据 ……  0.0 秒"


class TestProgressPrinter:
    def test_draws_stages_and_counts_on_a_terminal(self) -> None:
        """On a pseudo-terminal every stage is drawn on one line and the line is cleared at the end."""
        output = _drawn([("读取数据", 0, 1), ("规则评估", 5, 10), ("规则评估", 10, 10), ("生成报告", 3, 3)])
        assert "读取数据" in output and "规则评估 [" in output and "10/10" in output and "生成报告" in output
        assert output.endswith("\r\x1b[K")
        assert "\n" not in output.replace("\r\n", "")

    def test_a_new_stage_is_drawn_even_within_the_throttle(self) -> None:
        # the second call is throttled (same stage within 0.1 s); a new stage is drawn at once
        output = _drawn([("规则评估", 1, 100), ("规则评估", 2, 100), ("生成问题清单", 0, 1)])
        assert "2/100" not in output and "生成问题清单" in output

    def test_silent_when_not_a_terminal(self) -> None:
        stream = io.StringIO()
        with progress_printer(stream=stream, delay=0) as report:
            report("规则评估", 5, 10)
        assert stream.getvalue() == ""

    @pytest.mark.parametrize(("enabled", "delay"), [(False, 0.0), (True, 60.0)])
    def test_silent_with_quiet_or_before_the_delay(self, enabled: bool, delay: float) -> None:
        """`--quiet` draws nothing; neither does an audit shorter than the delay."""
        assert _drawn([("规则评估", 5, 10)], enabled=enabled, delay=delay) == ""


def _audit_on_terminal(tmp_path: Path, *extra: str, case: Path = CASE) -> tuple[str, str]:
    """`inspector audit` on a case with stderr on a pseudo-terminal: (terminal text, stdout)."""
    master, slave = os.openpty()
    env = {**os.environ, DELAY_ENV: "0"}
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "inspector.cli", "audit", str(case), "--out", str(tmp_path / "out"), *extra],
            stdout=subprocess.PIPE,
            stderr=slave,
            env=env,
        )
        os.close(slave)
        terminal = _drain(master, process)
        stdout, _ = process.communicate(timeout=120)
    finally:
        os.close(master)
    assert process.returncode == 0, terminal
    return terminal, stdout.decode("utf-8")


@pytest.mark.slow  # each runs `inspector audit` in a new process
class TestAuditProgress:
    def test_audit_draws_its_stages_on_a_terminal(self, tmp_path: Path) -> None:
        """The real command, on a pseudo-terminal: loading, rule evaluation with counts, then a clean line."""
        terminal, stdout = _audit_on_terminal(tmp_path)
        assert "读取数据" in terminal
        counts = [(int(done), int(total)) for done, total in re.findall(r"规则评估 \[[=> ]+\] (\d+)/(\d+)", terminal)]
        assert counts and all(0 < done <= total for done, total in counts)
        assert terminal.endswith("\r\x1b[K")
        assert "审核完成" in stdout and "\x1b" not in stdout

    def test_quiet_audit_draws_nothing(self, tmp_path: Path) -> None:
        """`--quiet` on a terminal: no bar, only the summary on stdout."""
        terminal, stdout = _audit_on_terminal(tmp_path, "--quiet", case=SMALL_CASE)
        assert terminal == "" and "审核完成" in stdout

    def test_no_bar_when_stderr_is_a_pipe(self, tmp_path: Path) -> None:
        """stderr that is not a terminal gets nothing, even with no delay before the bar."""
        env = {**os.environ, DELAY_ENV: "0"}
        done = subprocess.run(
            [sys.executable, "-m", "inspector.cli", "audit", str(SMALL_CASE), "--out", str(tmp_path / "out")],
            capture_output=True,
            env=env,
            timeout=120,
            check=True,
        )
        assert done.stderr == b""
