"""The command line: exit codes, messages without tracebacks, explain and rules."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest

from inspector.cli import main
from inspector.testing import AuditBuilder

ROOT = Path(__file__).resolve().parents[1]
BOUNDARIES_CASE = ROOT / "rules" / "core" / "cases" / "boundaries"


def _write_folder(root: Path) -> Path:
    builder = AuditBuilder()
    school = builder.school("S1", name="文惠小学")
    builder.klass(school, "3", 60, "C1")
    return builder.write(root / "audit")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """One school with a class of 60 (a large class): the test's own copy."""
    return _write_folder(tmp_path)


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, captured.out, captured.err


class TestAuditExitCodes:
    def test_findings_are_results_not_errors(
        self, folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Exit 0 although there are findings; the summary names the output folder."""
        code, out, _ = _run(capsys, "audit", str(folder), "--out", str(tmp_path / "out"), "--quiet")
        assert code == 0 and "问题：共 1 项" in out and "findings.json" in out

    @pytest.mark.parametrize(("level", "expected"), [("critical", 0), ("major", 1), ("minor", 1)])
    def test_fail_on_severity(
        self, folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], level: str, expected: int
    ) -> None:
        """--fail-on exits 1 only when a finding at or above that severity exists (here: one major)."""
        code, _, _ = _run(capsys, "audit", str(folder), "--out", str(tmp_path / "out"), "--quiet", "--fail-on", level)
        assert code == expected

    def test_missing_folder(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """An audit folder that does not exist exits 2 with a Chinese message naming the problem."""
        code, _, err = _run(capsys, "audit", str(tmp_path / "nowhere"), "--quiet")
        assert code == 2 and "审计文件夹不存在" in err

    def test_an_output_path_through_a_file_is_a_located_error(
        self, folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A foreseeable file-system mistake gets exit 2 and the path, not 内部错误 and a traceback."""
        (tmp_path / "a-file").write_text("", encoding="utf-8")
        code, _out, err = _run(capsys, "audit", str(folder), "--out", str(tmp_path / "a-file" / "out"), "--quiet")
        assert code == 2 and "无法读写文件" in err and str(tmp_path / "a-file") in err
        assert "内部错误" not in err and "Traceback" not in err

    def test_bad_rules_exit_2_with_located_errors(
        self, folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A broken pack stops the audit with file:line:column errors."""
        rules = tmp_path / "rules"
        shutil.copytree(ROOT / "rules", rules)
        path = rules / "core" / "class-size.yaml"
        path.write_text(
            path.read_text(encoding="utf-8").replace("size >= params.super_large_min", "size >= params.super_lage_min"),
            encoding="utf-8",
        )
        code, _, err = _run(
            capsys, "audit", str(folder), "--rules", str(rules), "--out", str(tmp_path / "out"), "--quiet"
        )
        assert code == 2
        assert "rules/core/class-size.yaml:7:" in err and "params.super_lage_min" in err and "super_large_min" in err
        assert not (tmp_path / "out").exists()

    def test_bad_param_override_is_located_in_audit_yaml(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        builder = AuditBuilder(params={"large_min": "五十六", "nonsense": 1})
        builder.school()
        folder = builder.write(tmp_path / "audit")
        code, _, err = _run(capsys, "audit", str(folder), "--quiet", "--out", str(tmp_path / "out"))
        assert code == 2
        assert "audit.yaml:7:3: params.large_min: 类型应为数值" in err and "audit.yaml:8:3: params.nonsense" in err

    @pytest.mark.parametrize("command", ["audit", "check"])
    def test_a_param_value_the_packs_cannot_take_is_located_in_audit_yaml(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
    ) -> None:
        """A list of school types naming one that does not exist is of the right type, so only the
        rules that read it refuse it: the error is audit.yaml's, at the param, naming the rule that
        uses it (it was reported in the pack's file as a broken pack; `check` said 校验通过)."""
        builder = AuditBuilder(params={"compulsory_types": ["primary", "nosuch"]})
        builder.school()
        folder = builder.write(tmp_path / "audit")
        args = ["--quiet", "--out", str(tmp_path / "out")] if command == "audit" else []
        code, out, err = _run(capsys, command, str(folder), *args)
        said = out + err
        assert code == 2, said
        assert "audit.yaml:7:" in said and "params.compulsory_types" in said and "“nosuch”不是" in said, said
        assert "rules/core/indicators.yaml:" in said and "用到此参数" in said and "规则包有误" not in said

    def test_param_override_changes_the_threshold(self, folder: Path, tmp_path: Path) -> None:
        """params in audit.yaml override a pack's threshold for that audit only."""
        text = (folder / "audit.yaml").read_text(encoding="utf-8") + "params:\n  large_min: 61\n"
        (folder / "audit.yaml").write_text(text, encoding="utf-8")
        assert main(["audit", str(folder), "--out", str(tmp_path / "out"), "--quiet"]) == 0
        document = json.loads((tmp_path / "out" / "findings.json").read_text(encoding="utf-8"))
        assert document["findings"] == [] and document["audit"]["params"]["core"]["large_min"] == 61


def test_the_summary_lists_twenty_hints_and_counts_the_rest(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A province's folder named 90 counties outside the region's list, and the summary printed a line
    for each; like the rejected rows, it shows the first 20 and says where the others are."""
    builder = AuditBuilder(as_of=dt.date(2025, 1, 1))
    for n in range(1, 26):
        builder.school(f"S{n}", county=f"城中区{n}")
    folder = builder.write(tmp_path / "a")
    code, out, _ = _run(capsys, "audit", str(folder), "--out", str(tmp_path / "out"), "--quiet")
    hints = [line for line in out.splitlines() if line.startswith("  提示：")]
    assert code == 0 and len(hints) == 20, out
    assert "“城中区1”不在" in hints[0] and "    …… 其余 5 条提示见 findings.json 的 audit.warnings" in out.splitlines()
    document = json.loads((tmp_path / "out" / "findings.json").read_text(encoding="utf-8"))
    assert len([w for w in document["audit"]["warnings"] if "不在" in w]) == 25


class TestExplain:
    @pytest.fixture(scope="class")
    @classmethod
    def out(cls, tmp_path_factory: pytest.TempPathFactory) -> Path:
        """The folder's outputs, audited once for the class: `explain` only reads them."""
        root = tmp_path_factory.mktemp("explain")
        assert main(["audit", str(_write_folder(root)), "--out", str(root / "out"), "--quiet"]) == 0
        return root / "out"

    def _finding_id(self, out: Path) -> str:
        return json.loads((out / "findings.json").read_text(encoding="utf-8"))["findings"][0]["id"]

    def test_text_explains_rule_basis_values_threshold_and_rows(
        self, out: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        code, text, _ = _run(capsys, "explain", self._finding_id(out), "--in", str(out))
        assert code == 0
        for part in (
            "class-size.large",
            "第 1 版",
            "原文：",
            "班额（size）= 60",
            "大班额下限（含）（large_min）= 56人",
            "classes.csv:2",
            "schools.csv:2",
            "整改",
        ):
            assert part in text, part

    def test_prefix_and_json(self, out: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """`explain` finds a finding by the first 8 characters of its id and prints it as JSON."""
        finding_id = self._finding_id(out)
        code, text, _ = _run(capsys, "explain", finding_id[:8], "--in", str(out), "--format", "json")
        assert code == 0 and json.loads(text)["id"] == finding_id

    def test_unknown_id(self, out: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """An id that matches no finding exits 2 and says so."""
        code, _, err = _run(capsys, "explain", "F-0000", "--in", str(out))
        assert code == 2 and "没有编号为 F-0000 的问题" in err

    def test_folder_without_findings(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """`explain --in` a folder with no findings.json exits 2 and names the missing file."""
        code, _, err = _run(capsys, "explain", "F-1", "--in", str(tmp_path))
        assert code == 2 and "没有 findings.json" in err


def test_explain_shows_computed_numbers_for_reading() -> None:
    """Per-pupil values computed in floats read as people write them; findings.json keeps every digit."""
    from inspector.explain import _number

    cases = {9792.906574: "9792.91", 1156.0: 1156, 2000000.5: "2000000.5", 0.45841234: "0.4584", 7: 7, "柳州": "柳州"}
    assert {value: _number(value) for value in cases} == cases


class TestRules:
    def test_list_show_lint(self, capsys: pytest.CaptureFixture[str]) -> None:
        """`rules list` lists the core pack's 14 rules, `rules show` quotes a rule's basis, `rules lint` passes the shipped packs."""
        code, text, _ = _run(capsys, "rules", "list", "--packs", "core")
        assert code == 0 and len(text.strip().splitlines()) == 18 and "class-size.super-large" in text
        code, text, _ = _run(capsys, "rules", "show", "teachers.new-pe-art-share")
        assert code == 0 and "每年新增教师中体育、艺术教师占比不低于15%" in text
        code, text, _ = _run(capsys, "rules", "lint")
        assert code == 0 and "条规则" in text and "整改台账生命周期" in text

    def test_show_unknown_rule(self, capsys: pytest.CaptureFixture[str]) -> None:
        """`rules show` of a rule id no pack defines exits 2 and names the id."""
        code, _, err = _run(capsys, "rules", "show", "no.such-rule")
        assert code == 2 and "没有规则 no.such-rule" in err


class TestHelpAndMessages:
    def test_help_lists_every_exit_code(self, capsys: pytest.CaptureFixture[str]) -> None:
        """`inspector --help` ends with the exit codes 0, 1, 2, 3, 70 and 130, in Chinese."""
        with pytest.raises(SystemExit) as raised:
            main(["--help"])
        out = capsys.readouterr().out
        assert raised.value.code == 0 and "退出码" in out and "显示此帮助并退出" in out
        for code in ("0 ", "1 ", "2 ", "3 ", "70 ", "130 "):
            assert f"\n  {code}" in out, code
        assert "Limits" in out

    @pytest.mark.parametrize(
        "argv, phrase",
        [
            (["audit"], "缺少必需的参数"),
            (["audt"], "无效的选项"),
            (["audit", "x", "--fail-on", "huge"], "无效的选项"),
            (["audit", "x", "--bogus"], "无法识别的参数"),
            (["ledger", "--today", "9999-12-31"], "不在允许范围内"),
        ],
    )
    def test_command_line_errors_are_chinese(
        self, argv: list[str], phrase: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        with pytest.raises(SystemExit) as raised:
            main(argv)
        err = capsys.readouterr().err
        assert raised.value.code == 2 and phrase in err and "用法：" in err and "error:" not in err

    def test_an_unreadable_path_is_explained_in_chinese(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        blocker = tmp_path / "file"
        blocker.write_text("x", encoding="utf-8")
        code = main(["audit", str(BOUNDARIES_CASE), "--out", str(blocker / "out"), "--quiet"])
        err = capsys.readouterr().err
        assert code == 2 and "无法读写文件" in err and "已有同名的文件或文件夹" in err and "File exists" not in err


class TestParserOnce:
    def test_one_parser_a_day(self) -> None:
        """The command line is built once for a day and again for another day, whose date `--today` defaults to."""
        from inspector.cli import _parser_of

        day, next_day = dt.date(2030, 1, 2), dt.date(2030, 1, 3)
        parser = _parser_of(day)
        assert _parser_of(day) is parser
        assert parser.parse_args(["ledger"]).today == day
        assert _parser_of(next_day).parse_args(["ledger"]).today == next_day

    def test_parsing_leaves_the_parser_as_it_was(self) -> None:
        """Options given in one call (a repeated `--state`) are not the defaults of the next."""
        from inspector.cli import _parser_of

        parser = _parser_of(dt.date(2030, 1, 2))
        assert parser.parse_args(["ledger", "--state", "逾期", "--state", "暂缓"]).state == ["逾期", "暂缓"]
        assert parser.parse_args(["ledger"]).state == []


def test_an_audit_loads_no_database_or_web_library(tmp_path: Path) -> None:
    """`inspector audit` never opens the history store: building the command line must not import
    SQLAlchemy, FastAPI or Alembic (a fifth of a small audit's start-up went to SQLAlchemy)."""
    import subprocess
    import sys

    builder = AuditBuilder()
    builder.school("P1")
    builder.klass("P1", "3", 60, "C1")
    folder = builder.write(tmp_path / "audit")
    script = (
        "import sys; from inspector.cli import main; "
        f"code = main(['audit', {str(folder)!r}, '--out', {str(tmp_path / 'out')!r}, '--quiet']); "
        "print(code, sorted({m.split('.')[0] for m in sys.modules} & {'sqlalchemy', 'fastapi', 'alembic', 'starlette'}))"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "0 []", done.stdout + done.stderr


def test_only_the_inspector_command_leaves_the_audit_to_the_process_end(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`cli.run` keeps an audit's result for the process's end, where `console` leaves without
    freeing it; `main` in a process that goes on frees it as the command returns."""
    import gc
    import sys

    from inspector import cli, heap
    from inspector.audit import AuditResult

    monkeypatch.setattr(heap, "_KEPT", [])
    assert main(["audit", str(folder), "--out", str(tmp_path / "a"), "--quiet"]) == 0
    assert heap._KEPT == []
    monkeypatch.setattr(cli, "_ONE_COMMAND", False)
    monkeypatch.setattr(sys, "argv", ["inspector", "audit", str(folder), "--out", str(tmp_path / "b"), "--quiet"])
    try:
        assert cli.run() == 0
        assert [type(left) for left in heap._KEPT] == [AuditResult]
        # the process ends with the command: the collector is not turned on again, which would
        # begin with a pass over everything the command made
        assert not gc.isenabled()
    finally:
        gc.enable()


@pytest.mark.parametrize(("fail_on", "code"), [(None, 0), ("major", 1)])
def test_the_command_leaves_at_once_with_its_code_and_all_its_output(
    folder: Path, tmp_path: Path, fail_on: str | None, code: int
) -> None:
    """`python -m inspector.cli` (as the console script) leaves without the interpreter's teardown
    after an audit: with the command's exit code, its summary written to the end (stdout is a
    pipe: buffered until flushed) and its outputs published."""
    import subprocess
    import sys

    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-m", "inspector.cli", "audit", str(folder), "--out", str(out)]
        + (["--fail-on", fail_on] if fail_on else []),
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == code, done.stderr
    assert done.stdout.startswith("审核完成") and done.stdout.rstrip().splitlines()[-1].startswith("  输出：")
    assert done.stderr == ""
    assert json.loads((out / "findings.json").read_text(encoding="utf-8"))["summary"]["total"] == 1


@pytest.mark.parametrize("buffered", [True, False])
def test_a_summary_that_cannot_be_written_is_exit_2_with_why(folder: Path, tmp_path: Path, buffered: bool) -> None:
    """Output to a full disk (/dev/full): exit 2 and why on stderr, whether the summary fails as it
    is printed (unbuffered) or when `console` writes it out before leaving at once (buffered), where
    it exited 0 having lost it."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"} | (
        {} if buffered else {"PYTHONUNBUFFERED": "1"}
    )
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [sys.executable, "-m", "inspector.cli", "audit", str(folder), "--out", str(tmp_path / "out")],
            check=False,
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            timeout=120,
        )
    assert done.returncode == 2, done.stderr
    assert "磁盘空间不足" in done.stderr and "Traceback" not in done.stderr


def test_the_summary_names_the_rules_not_evaluated(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The audit lets go of each entity's verdict before its reports; the summary printed after
    them still names every rule it could not evaluate, and why."""
    case = ROOT / "rules" / "core" / "cases" / "data-quality"
    assert main(["audit", str(case), "--out", str(tmp_path / "out"), "--keep-going"]) == 0
    skipped = [line for line in capsys.readouterr().out.splitlines() if line.startswith("  未评估：")]
    assert len(skipped) == 6 and "  未评估：safety.guards（缺少数据文件：safety）" in skipped
