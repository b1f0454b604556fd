"""Shared fixtures and the Chinese step definitions of tests/features/*.feature."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings
from pytest_bdd import given, parsers, then, when

import budget
import history_databases
import inspector.audit
from inspector.audit import AuditResult, run_audit
from inspector.cli import main
from inspector.findings import Finding
from inspector.publish import write_outputs
from inspector.records.schema import RECORD_KINDS
from inspector.testing import AuditBuilder, AuditRun

VERDICTS = {"违规": "fail", "通过": "pass", "未评估": "gap", "不适用": None}
LABELS = {kind: {c.label: c.name for c in spec.columns} for kind, spec in RECORD_KINDS.items()}
LIUZHOU_2025 = Path(__file__).resolve().parents[1] / "cases" / "liuzhou-2025"


CASES = LIUZHOU_2025.parent


SHARED_CASE_FIXTURES = {"audited_case", "case_out"}

# hypothesis' defaults for tests that name no settings of their own: no deadline (a draw that takes
# over 200 ms on a busy shared machine is not a failure of the code: test_targets failed so under
# load), and under INSPECTOR_FUZZ=dev (make test-fast) 20 examples instead of 100 (tests/budget.py)
settings.register_profile("inspector", deadline=None)
settings.register_profile("inspector-dev", settings.get_profile("inspector"), max_examples=20)
settings.load_profile("inspector-dev" if budget.DEV else "inspector")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--record-durations",
        action="store_true",
        help=f"write what each test that ran took into {budget.DURATIONS.name} (make durations)",
    )


def _measured() -> dict[str, float]:
    return json.loads(budget.DURATIONS.read_text(encoding="utf-8")) if budget.DURATIONS.is_file() else {}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark what needs more than this checkout: `browser` (tests/browser, headless Chromium) and
    `postgresql` (the PostgreSQL half of the `database`/`web_db` fixtures, and tests named for it);
    and `slow` on every test that reads a shared city-case audit (seconds per worker to make) or took
    SLOW_SECONDS or more when last measured (tests/durations.json). So `make test-fast` leaves them
    out by marker: `-m "not slow and not browser and not postgresql"`."""
    browser = Path(__file__).parent / "browser"
    measured = _measured()
    for item in items:
        if (
            SHARED_CASE_FIXTURES & set(getattr(item, "fixturenames", ()))
            or measured.get(item.nodeid, 0.0) >= budget.SLOW_SECONDS
        ):
            item.add_marker(pytest.mark.slow)
        if browser in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.browser)
        callspec = getattr(item, "callspec", None)
        params = callspec.params.values() if callspec is not None else ()
        if "postgresql" in params or "postgresql" in getattr(item, "originalname", item.name):
            item.add_marker(pytest.mark.postgresql)


_TOOK: dict[str, float] = {}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call":
        _TOOK[report.nodeid] = report.duration


def pytest_sessionfinish(session: pytest.Session) -> None:
    """The PostgreSQL databases the tests copied from are dropped with the session (history_databases);
    under --record-durations the main process (not an xdist worker) merges what the calls of the
    tests that ran took into tests/durations.json."""
    history_databases.drop_templates()
    config = session.config
    if config.getoption("--record-durations") and not hasattr(config, "workerinput") and _TOOK:
        measured = _measured() | {nodeid: round(took, 3) for nodeid, took in _TOOK.items()}
        text = json.dumps(dict(sorted(measured.items())), ensure_ascii=False, indent=0)
        budget.DURATIONS.write_text(text + "\n", encoding="utf-8")


def _fingerprint(result: AuditResult) -> tuple[object, ...]:
    return (
        tuple(f.id for f in result.findings),
        len(result.gaps),
        len(result.rejected),
        tuple((rule_id, len(o.failed), len(o.passed), len(o.gaps)) for rule_id, o in sorted(result.outcomes.items())),
    )


class SharedCases:
    """Committed cases under cases/, each audited at most once per test process (once per xdist
    worker) with `run_audit(folder, workers=1)`. The results are shared between tests: read them,
    never change them (teardown checks that findings and verdict sets are as the audit left them).
    A test that needs to change a case copies the folder and audits the copy."""

    def __init__(self) -> None:
        self._results: dict[str, tuple[AuditResult, tuple[object, ...]]] = {}

    def __call__(self, name: str) -> AuditResult:
        if name not in self._results:
            result = run_audit(CASES / name, workers=1)
            self._results[name] = (result, _fingerprint(result))
        return self._results[name][0]

    def check_unchanged(self) -> None:
        for name, (result, fingerprint) in self._results.items():
            assert _fingerprint(result) == fingerprint, f"a test changed the shared audit of cases/{name}"


@pytest.fixture(scope="session")
def audited_case() -> Iterator[SharedCases]:
    """`audited_case("liuzhou-2025")`: the case's AuditResult, audited once per session and shared."""
    shared = SharedCases()
    yield shared
    shared.check_unchanged()


@pytest.fixture(scope="session")
def case_out(tmp_path_factory: pytest.TempPathFactory, audited_case: SharedCases) -> Path:
    """cases/liuzhou-2025's shared audit with every output written, as `inspector audit` writes them
    (run_audit then write_outputs); tests only read the folder, or copy it to change it."""
    out = tmp_path_factory.mktemp("liuzhou-2025") / "out"
    write_outputs(audited_case("liuzhou-2025"), out)
    return out


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
    audit the command itself ran (kept as it returns), not of a second audit of the folder."""
    folder = workspace.write()
    results: list[AuditResult] = []

    def kept(*args: Any, **kwargs: Any) -> AuditResult:
        result = run_audit(*args, **kwargs)
        results.append(result)
        return result

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(inspector.audit, "run_audit", kept)
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
