"""The red team's concrete hostile inputs, kept as plain regression tests of `inspector audit`.

Each ended in a traceback, exit 70 or 3, gigabytes of memory or minutes of work, or in writing
outside the output folder. Those about paths and publishing (symlinked OUT or notices, a county
called `../../evil`, --out on the input folder or /etc, file modes, colliding notice names, a
newline in a school id in report.md) are in tests/test_publishing.py and
tests/test_report_escaping.py, next to the code they exercise.
"""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import pytest
from fuzzing import BOUNDARIES, HOSTILE_YAML, chinese

from inspector.cli import main
from inspector.limits import LIMITS
from inspector.workers import ENV

AUDIT_YAML = (BOUNDARIES / "audit.yaml").read_text(encoding="utf-8")


@pytest.fixture
def case(tmp_path: Path) -> Path:
    folder = tmp_path / "audit"
    shutil.copytree(BOUNDARIES, folder)
    (folder / "expected.yaml").unlink()
    return folder


def audit(case: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str, float]:
    """Run `inspector audit` on the case; exit code, stderr and seconds taken."""
    start = time.perf_counter()
    code = main(["audit", str(case), "--out", str(case.parent / "out"), "--quiet", *extra])
    seconds = time.perf_counter() - start
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err, seconds


def refused(case: Path, capsys: pytest.CaptureFixture[str], where: str, *extra: str) -> str:
    """Exit 2 with a Chinese message naming `where` (file:line…), and no output folder."""
    code, err, _ = audit(case, capsys, *extra)
    assert code == 2 and where in err and chinese(err), err
    assert not (case.parent / "out").exists()
    return err


@pytest.mark.parametrize(
    "text, where",
    [
        (HOSTILE_YAML[0], "audit.yaml:2:"),  # a billion laughs: the first alias, in a data file
        ("name: &x [x, *x]\nas_of: 2025-12-01\nregion: y\n", "audit.yaml:1:14"),  # a recursive alias
        ("[" * 100_000 + "]" * 100_000, "audit.yaml:1:"),  # refused by our depth limit or libyaml's, located
    ],
)
def test_yaml_bombs_in_audit_yaml(case: Path, capsys: pytest.CaptureFixture[str], text: str, where: str) -> None:
    (case / "audit.yaml").write_text(text, encoding="utf-8")
    refused(case, capsys, where)


def test_a_ten_megabyte_waivers_yaml_is_refused_at_once(case: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """157 s and 3.35 GB before; refused by its size before parsing."""
    (case / "waivers.yaml").write_text("waivers:\n" + "  - x\n" * (10 * 2**20 // 6), encoding="utf-8")
    err = refused(case, capsys, "waivers.yaml")
    assert "文件过大" in err


@pytest.mark.slow  # a timing bound: under load on a shared machine it measures the machine
def test_the_largest_waivers_yaml_the_limits_allow_is_decided_in_seconds(case: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """At the hard maxima of yaml_bytes and yaml_nodes, an 8 MiB waivers.yaml is read and refused
    (its waivers name no real rule) well within 10 s."""
    maxima = {name: LIMITS[name].maximum for name in ("yaml_bytes", "yaml_nodes", "yaml_depth")}
    (case / "audit.yaml").write_text(AUDIT_YAML + f"limits: {maxima}\n".replace("'", ""), encoding="utf-8")
    entry = "  - {rule: nothing, entity: C, reason: r, authority: a, document_no: d, expires: 2026-01-01}\n"
    count = min(LIMITS["yaml_nodes"].maximum // 14, LIMITS["yaml_bytes"].maximum // len(entry.encode()))
    (case / "waivers.yaml").write_text("waivers:\n" + entry * count, encoding="utf-8")
    code, err, seconds = audit(case, capsys)
    assert code == 2 and "waivers.yaml" in err and seconds < 10, seconds


def test_a_condition_nested_a_hundred_parentheses_deep(case: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """RecursionError (exit 70) before; located at the 41st parenthesis now."""
    rules = tmp_path / "rules"
    shutil.copytree(BOUNDARIES.parents[2], rules)
    path = rules / "core" / "class-size.yaml"
    text = path.read_text(encoding="utf-8")
    deep = "(" * 120 + "size >= params.large_min" + ")" * 120
    path.write_text(text.replace("condition: size >= params.large_min", f"condition: {deep}", 1), encoding="utf-8")
    err = refused(case, capsys, "rules/core/class-size.yaml:", "--rules", str(rules))
    assert re.search(r"class-size\.yaml:\d+:\d+: condition: 表达式嵌套过深", err)


def test_a_message_template_of_a_gigabyte(case: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`{{ 'a' * 1e9 }}`-style: exhausted memory before; refused when the pack compiles now."""
    rules = tmp_path / "rules"
    shutil.copytree(BOUNDARIES.parents[2], rules)
    path = rules / "core" / "class-size.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(re.sub(r"message: >-\n(      .*\n)+", "message: \"{{ 'a' * 1000000000 }}\"\n", text, count=1), encoding="utf-8")
    code, err, seconds = audit(case, capsys, "--rules", str(rules))
    assert code == 2 and "class-size.yaml" in err and "message" in err and seconds < 10


@pytest.mark.parametrize(
    "params, phrase",
    [
        ("{large_min: .nan}", "NaN"),  # made class-size.large pass every class, NaN in findings.json
        ("{large_min: .inf}", "无穷大"),  # exit 3 from the engine
        ("{large_min: -.inf}", "无穷大"),
        ("{large_min: -5}", "最小值"),  # a negative class size
        ("{min_new_pe_art_share: 5}", "最大值"),  # a share of 500%
        ("{kindergarten_max: {小班: .nan}}", "NaN"),
    ],
)
def test_params_that_are_not_finite_or_out_of_range(case: Path, capsys: pytest.CaptureFixture[str], params: str,
                                                    phrase: str) -> None:
    (case / "audit.yaml").write_text(AUDIT_YAML + f"params: {params}\n", encoding="utf-8")
    assert phrase in refused(case, capsys, "audit.yaml:5:")


@pytest.mark.parametrize("as_of", ["1970-01-01", "9999-12-31"])
def test_an_implausible_as_of(case: Path, capsys: pytest.CaptureFixture[str], as_of: str) -> None:
    """Crashed after writing part of the outputs; refused before any work now."""
    (case / "audit.yaml").write_text(AUDIT_YAML.replace("as_of: 2025-12-01", f"as_of: {as_of}"), encoding="utf-8")
    refused(case, capsys, "audit.yaml:2:")


def test_a_waiver_without_document_number(case: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (case / "waivers.yaml").write_text(
        "waivers:\n  - {rule: class-size.large, entity: C56, reason: 临时, authority: 局, expires: 2026-06-30}\n", encoding="utf-8"
    )
    assert "document_no" in refused(case, capsys, "waivers.yaml:2:")


@pytest.mark.parametrize("workers", [pytest.param("100000", marks=pytest.mark.slow), "0", "-1"])
def test_worker_counts_are_clamped(case: Path, capsys: pytest.CaptureFixture[str], workers: str) -> None:
    """--workers 100000 forked about 2,000 processes in ten seconds."""
    code, err, _ = audit(case, capsys, "--workers", workers)
    assert code == 0 and "超出允许范围" in err


def test_a_non_integer_worker_variable(case: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV, "abc")
    assert ENV in refused(case, capsys, ENV)


@pytest.mark.parametrize(
    "file, text",
    [
        ("audit.yaml", 'name: 督导\nas_of: 2000-01-01\nregion: "\\b"\n'),  # found by make fuzz: exit 70 in the workbook
        ("waivers.yaml", ('waivers:\n  - {rule: class-size.large, entity: C56, reason: "\\x07", authority: 局, document_no: 1, '
                         'expires: 2026-01-01}\n')),
    ],
)
def test_control_characters_in_text_fields(case: Path, capsys: pytest.CaptureFixture[str], file: str, text: str) -> None:
    """A control character in a name reached the Excel writer, which cannot store it (exit 70)."""
    (case / file).write_text(text, encoding="utf-8")
    assert "控制字符" in refused(case, capsys, f"{file}:")
