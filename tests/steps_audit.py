"""The Chinese step definitions of tests/features/*.feature shared by every feature module, and
the `workspace` each scenario builds its audit folder in (a plugin of tests/conftest.py)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from pytest_bdd import given, parsers, then, when

import inspector.audit
from inspector.audit import AuditResult, run_audit
from inspector.cli import main
from inspector.findings import Finding
from inspector.records.schema import RECORD_KINDS
from inspector.testing import AuditBuilder, AuditRun

VERDICTS = {"违规": "fail", "通过": "pass", "未评估": "gap", "不适用": None}
LABELS = {kind: {c.label: c.name for c in spec.columns} for kind, spec in RECORD_KINDS.items()}


@dataclass
class Workspace:
    """One scenario's audit folder: rows built in code plus files written verbatim."""

    root: Path
    builder: AuditBuilder = field(default_factory=AuditBuilder)
    raw: dict[str, str] = field(default_factory=dict)
    run: AuditRun | None = None
    exit_code: int | None = None
    stdout: str = ""
    stderr: str = ""
    folders: dict[str, AuditBuilder] = field(default_factory=dict)
    outputs: dict[str, list[bytes]] = field(default_factory=dict)

    @property
    def folder(self) -> Path:
        return self.root / "audit"

    @property
    def out(self) -> Path:
        return self.root / "out"

    def write(self) -> Path:
        for name in self.raw:
            self.builder.omit.add(Path(name).stem)
        self.builder.write(self.folder)
        for name, text in self.raw.items():
            (self.folder / name).write_text(text, encoding="utf-8")
        return self.folder

    def finding(self, rule_id: str, entity_id: str) -> Finding:
        assert self.run is not None, "先执行督导"
        matches = [f for f in self.run.findings(rule_id) if f.entity_id == entity_id]
        assert matches, f"{rule_id} 在 {entity_id} 上没有问题；实际问题对象：{sorted(self.run.failing(rule_id))}"
        return matches[0]

    def document(self) -> dict[str, Any]:
        return json.loads((self.out / "findings.json").read_text(encoding="utf-8"))


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path)


def _rows(datatable: list[list[str]]) -> list[dict[str, str]]:
    header, *body = datatable
    return [dict(zip(header, (cell.strip() for cell in row))) for row in body]


def _canonical(kind: str, row: dict[str, str]) -> dict[str, Any]:
    return {LABELS[kind].get(k, k): (v if v != "" else None) for k, v in row.items()}


# -- Given ---------------------------------------------------------------------------------------


@given(parsers.parse('督导基准日为 "{day}"'))
def _as_of(workspace: Workspace, day: str) -> None:
    workspace.builder.as_of = dt.date.fromisoformat(day)


@given("以下学校：")
def _schools(workspace: Workspace, datatable: list[list[str]]) -> None:
    for row in _rows(datatable):
        with_safety = row.pop("安防台账", "有") != "无"
        values = _canonical("schools", row)
        school_id = values.pop("school_id")
        kwargs = {k: v for k, v in values.items() if v is not None}
        kwargs.setdefault("type", "小学")
        if not with_safety:
            kwargs["safety"] = None
        workspace.builder.school(school_id, **kwargs)


@given("以下班级：")
def _classes(workspace: Workspace, datatable: list[list[str]]) -> None:
    for row in _rows(datatable):
        values = _canonical("classes", row)
        workspace.builder.klass(values["school_id"], values["grade"], values["size"], values["class_id"])


@given("以下教师：")
def _teachers(workspace: Workspace, datatable: list[list[str]]) -> None:
    for row in _rows(datatable):
        values = _canonical("teachers", row)
        workspace.builder.teacher(
            values.pop("school_id"), teacher_id=values.pop("teacher_id"), **{k: v for k, v in values.items()}
        )


@given("以下安防台账：")
def _safety(workspace: Workspace, datatable: list[list[str]]) -> None:
    safety = workspace.builder.rows["safety"]
    for row in _rows(datatable):
        values = _canonical("safety", row)
        safety[:] = [r for r in safety if r["school_id"] != values["school_id"]]
        safety.append(values)


@given(parsers.parse('学校 "{school}" 在 {year:d} 年新入职专任教师 {pe:d} 名体育教师和 {other:d} 名语文教师'))
def _new_teachers(workspace: Workspace, school: str, year: int, pe: int, other: int) -> None:
    for _ in range(pe):
        workspace.builder.teacher(school, subject="体育", hire_year=year)
    for _ in range(other):
        workspace.builder.teacher(school, subject="语文", hire_year=year)


@given(parsers.parse('审核文件夹中没有 "{kind}" 文件'))
def _omit(workspace: Workspace, kind: str) -> None:
    workspace.builder.omit.add(kind)
    workspace.raw.pop(f"{kind}.csv", None)


@given(parsers.parse('审核文件夹中的文件 "{name}" 内容为：'))
def _raw_file(workspace: Workspace, name: str, docstring: str) -> None:
    workspace.raw[name] = docstring.strip() + "\n"


@given(parsers.parse('审核文件夹 "{name}" 中学校 "{school}" 有一个班额 {size:d} 人的班级 "{class_id}"'))
def _named_folder(workspace: Workspace, name: str, school: str, size: int, class_id: str) -> None:
    builder = workspace.folders.setdefault(name, AuditBuilder())
    builder.school(school)
    builder.klass(school, "3", size, class_id)


# -- When ----------------------------------------------------------------------------------------


@when("执行督导")
def _run(workspace: Workspace) -> None:
    workspace.run = AuditRun(run_audit(workspace.write()))


def _cli(workspace: Workspace, capsys: pytest.CaptureFixture[str], *extra: str) -> None:
    """`inspector audit` on the scenario's folder; the verdicts checked afterwards are those of the
    audit the command itself ran (kept as it returns), not of a second audit of the folder. The
    command lets go of each entity's verdict before its reports (`AuditResult.release`): kept here
    for the steps to read (that releasing changes no output is tests/test_publishing.py's)."""
    folder = workspace.write()
    results: list[AuditResult] = []

    def kept(*args: Any, **kwargs: Any) -> AuditResult:
        result = run_audit(*args, **kwargs)
        results.append(result)
        return result

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(inspector.audit, "run_audit", kept)
        patch.setattr(inspector.audit.AuditResult, "release", lambda self: None)
        workspace.exit_code = main(["audit", str(folder), "--out", str(workspace.out), "--quiet", *extra])
    captured = capsys.readouterr()
    workspace.stdout, workspace.stderr = captured.out, captured.err
    if workspace.exit_code == 0:
        (result,) = results
        workspace.run = AuditRun(result)


@when("在命令行执行督导")
def _run_cli(workspace: Workspace, capsys: pytest.CaptureFixture[str]) -> None:
    _cli(workspace, capsys)


@when(parsers.parse('在命令行以 "{options}" 执行督导'))
def _run_cli_with(workspace: Workspace, capsys: pytest.CaptureFixture[str], options: str) -> None:
    _cli(workspace, capsys, *options.split())


@when(parsers.parse("依次审核 {names}"))
def _run_in_turn(workspace: Workspace, capsys: pytest.CaptureFixture[str], names: str) -> None:
    for index, name in enumerate(n.strip('"') for n in names.split("、")):
        folder = workspace.folders[name].write(workspace.root / name)
        out = workspace.root / f"out-{index}"
        assert main(["audit", str(folder), "--out", str(out), "--quiet"]) == 0
        workspace.outputs.setdefault(name, []).append((out / "findings.json").read_bytes())
    capsys.readouterr()


# -- Then ----------------------------------------------------------------------------------------


@then(parsers.parse('规则 "{rule_id}" 对 "{entity_id}" 的结论为 "{verdict}"'))
def _verdict(workspace: Workspace, rule_id: str, entity_id: str, verdict: str) -> None:
    assert workspace.run is not None
    assert workspace.run.verdict(rule_id, entity_id) == VERDICTS[verdict]


@then(parsers.parse('规则 "{rule_id}" 的问题对象为 "{ids}"'))
def _failing(workspace: Workspace, rule_id: str, ids: str) -> None:
    assert workspace.run is not None
    expected = set() if ids == "（无）" else {i.strip() for i in ids.split(",")}
    assert workspace.run.failing(rule_id) == expected
    assert {f.entity_id for f in workspace.run.findings(rule_id)} == expected


@then(parsers.parse('规则 "{rule_id}" 未评估，原因包含 "{text}"'))
def _skipped(workspace: Workspace, rule_id: str, text: str) -> None:
    assert workspace.run is not None
    outcome = workspace.run.result.outcomes[rule_id]
    assert not outcome.evaluated and text in outcome.skipped_reason


@then(parsers.parse('规则 "{rule_id}" 对 "{entity_id}" 的问题中观测值 "{field}" 为 "{text}"'))
def _observed(workspace: Workspace, rule_id: str, entity_id: str, field: str, text: str) -> None:
    observed = {o.field: o.text for o in workspace.finding(rule_id, entity_id).observed}
    assert observed.get(field) == text, observed


@then(parsers.parse('规则 "{rule_id}" 对 "{entity_id}" 的问题中阈值 "{param}" 为 "{value}"'))
def _threshold(workspace: Workspace, rule_id: str, entity_id: str, param: str, value: str) -> None:
    thresholds = {t.param: str(t.value) for t in workspace.finding(rule_id, entity_id).threshold}
    assert thresholds.get(param) == value, thresholds


@then(parsers.parse('规则 "{rule_id}" 对 "{entity_id}" 的问题证据包括 "{file}" 第 {row:d} 行'))
def _evidence(workspace: Workspace, rule_id: str, entity_id: str, file: str, row: int) -> None:
    rows = {(e.file, e.row) for e in workspace.finding(rule_id, entity_id).evidence}
    assert (file, row) in rows, sorted(rows)


@then(parsers.parse('规则 "{rule_id}" 对 "{entity_id}" 的问题信息包含 "{text}"'))
def _message(workspace: Workspace, rule_id: str, entity_id: str, text: str) -> None:
    message = workspace.finding(rule_id, entity_id).message
    assert text in message, message


@then(parsers.parse("退出码为 {code:d}"))
def _exit_code(workspace: Workspace, code: int) -> None:
    assert workspace.exit_code == code, workspace.stderr


@then("错误输出包含以下各行：")
def _stderr_lines(workspace: Workspace, datatable: list[list[str]]) -> None:
    lines = workspace.stderr.splitlines()
    for (expected,) in datatable[1:]:
        assert any(line.startswith(expected.strip()) for line in lines), f"缺少：{expected}\n实际：\n{workspace.stderr}"


@then("错误输出不含调用栈")
def _no_traceback(workspace: Workspace) -> None:
    assert "Traceback" not in workspace.stderr


@then("没有生成输出文件")
def _no_outputs(workspace: Workspace) -> None:
    assert not workspace.out.exists() or not any(workspace.out.iterdir())


@then(parsers.parse('输出的 findings.json 中 "{file}" 读取 {read:d} 行、载入 {loaded:d} 行、拒绝 {rejected:d} 行'))
def _row_counts(workspace: Workspace, file: str, read: int, loaded: int, rejected: int) -> None:
    inputs = {i["file"]: i for i in workspace.document()["audit"]["inputs"]}
    item = inputs[file]
    assert (item["rows_read"], item["rows_loaded"], item["rows_rejected"]) == (read, loaded, rejected)
    assert item["rows_read"] == item["rows_loaded"] + item["rows_rejected"]


@then(parsers.parse("输出的 findings.json 列出 {count:d} 处被拒绝的行"))
def _rejected_rows(workspace: Workspace, count: int) -> None:
    assert len(workspace.document()["rejected_rows"]) == count


@then(parsers.parse("输出的 rejected.csv 列出 {count:d} 处被拒绝的行"))
def _rejected_csv(workspace: Workspace, count: int) -> None:
    text = (workspace.out / "rejected.csv").read_text(encoding="utf-8-sig")
    assert len(text.strip().splitlines()) == count + 1


@then(parsers.parse('输出的 report.md 包含 "{text}"'))
def _report_contains(workspace: Workspace, text: str) -> None:
    assert text in (workspace.out / "report.md").read_text(encoding="utf-8")


@then(parsers.parse('"{name}" 两次审核的 findings.json 完全相同'))
def _same_outputs(workspace: Workspace, name: str) -> None:
    first, second = workspace.outputs[name]
    assert first == second


@then(parsers.parse('"{name}" 的审核中规则 "{rule_id}" 没有问题'))
def _no_findings_in(workspace: Workspace, name: str, rule_id: str) -> None:
    document = json.loads(workspace.outputs[name][-1])
    assert not [f for f in document["findings"] if f["rule_id"] == rule_id]


@then(parsers.parse('"{name}" 的审核中规则 "{rule_id}" 的问题对象为 "{ids}"'))
def _findings_in(workspace: Workspace, name: str, rule_id: str, ids: str) -> None:
    for output in workspace.outputs[name]:
        document = json.loads(output)
        assert {f["entity_id"] for f in document["findings"] if f["rule_id"] == rule_id} == set(ids.split(", "))
