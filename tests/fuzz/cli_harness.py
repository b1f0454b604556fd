"""Running `inspector audit` on the core pack's boundary case with a fuzzed audit.yaml or
waivers.yaml (the targets are in test_fuzz_cli_audit.py and test_fuzz_cli_waivers.py, one per
file so that two workers run them side by side): the exit code is 0, 1 or 2, every message is
Chinese and without a traceback, and nothing is written outside the output folder (the input
folder is unchanged, no temporary folder is left)."""

from __future__ import annotations

import contextlib
import io
import shutil
import tempfile
from pathlib import Path

from fuzzing import BOUNDARIES, SCRATCH, chinese
from hypothesis import event

from inspector.cli import main
from inspector.output.atomic import MANIFEST

AUDIT_YAML = (BOUNDARIES / "audit.yaml").read_text(encoding="utf-8")


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def run_audit_on(audit: str, waivers: str | None, fail_on: str | None) -> None:
    """Audit a copy of the boundary case with the given files; check exit code, messages and the file system."""
    with tempfile.TemporaryDirectory(dir=SCRATCH) as temp:
        root = Path(temp)
        folder = root / "audit"
        shutil.copytree(BOUNDARIES, folder)
        (folder / "expected.yaml").unlink()
        (folder / "audit.yaml").write_text(audit, encoding="utf-8")
        if waivers is not None:
            (folder / "waivers.yaml").write_text(waivers, encoding="utf-8")
        before = _snapshot(folder)
        out = root / "out"
        argv = ["audit", str(folder), "--out", str(out), "--quiet", *(["--fail-on", fail_on] if fail_on else [])]
        stdout, stderr = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            code = main(argv)
        event(f"exit {code}")
        assert code in (0, 1, 2), (code, stderr.getvalue())
        assert "Traceback" not in stderr.getvalue()
        if code == 2:
            assert chinese(stderr.getvalue()), stderr.getvalue()
            assert not out.exists()
        else:
            assert (out / "findings.json").is_file() and (out / MANIFEST).is_file()
        assert sorted(p.name for p in root.iterdir()) == (["audit"] if code == 2 else ["audit", "out"])
        assert _snapshot(folder) == before
