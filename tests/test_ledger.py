"""The rectification ledger: the lifecycle of rules/lifecycle.yaml on the engine, manual and
automatic transitions (overdue → escalation, failed re-inspection, recurrence, waivers), refusals
naming what is allowed, and the hash chain that finds edited, deleted and truncated events."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import history_databases
from history_databases import Database
from inspector.audit import run_audit
from inspector.cli import main
from inspector.errors import RulePackError
from inspector.findings.build import finding_id
from inspector.history.errors import ItemChanged
from inspector.history.ledger import Ledger
from inspector.history.lifecycle import NO_DATE, ItemFact, load_lifecycle
from inspector.history.location import DEFAULT_LIFECYCLE, DbRef
from inspector.history.store import HistoryStore
from inspector.output.document import audit_document, dumps
from inspector.testing import AuditBuilder

migrated = history_databases.migrated  # the fixtures as names of this module
backend = history_databases.backend  # their parameter: SQLite, then PostgreSQL

D = dt.date
C1 = finding_id("class-size.large", "class", "C1")


def _folder(root: Path, name: str, as_of: dt.date, size: int, waivers: str | None = None) -> Path:
    builder = AuditBuilder(as_of=as_of, name=f"测试督导{name}")
    builder.school("P1", name="城中区测试小学")
    builder.klass("P1", "3", size, "C1")
    builder.klass("P1", "4", 40, "C2")
    folder = builder.write(root / name)
    if waivers:
        (folder / "waivers.yaml").write_text(waivers, encoding="utf-8")
    return folder


_DOCUMENTS: dict[tuple[tuple[str, bytes], ...], bytes] = {}


def _output(root: Path, folder: Path) -> Path:
    """findings.json only (no reports): enough for `history import`. The audit of a folder whose
    files are byte for byte those of one audited before in this process is that audit's document
    (an audit is a function of its files, not of where they are): the fixtures build the same few
    folders for dozens of tests."""
    out = root / f"out-{folder.name}"
    out.mkdir()
    key = tuple((p.relative_to(folder).as_posix(), p.read_bytes()) for p in sorted(folder.rglob("*")) if p.is_file())
    if key not in _DOCUMENTS:
        _DOCUMENTS[key] = dumps(audit_document(run_audit(folder)))
    (out / "findings.json").write_bytes(_DOCUMENTS[key])
    return out


class Cli:
    """The command line on one test's database (SQLite or PostgreSQL); the last output kept."""

    def __init__(self, root: Path, capsys: pytest.CaptureFixture[str], database: Database) -> None:
        self.root = root
        self.capsys = capsys
        self.database = database
        self.db = database.ref
        self.out = self.err = ""

    def __call__(self, *args: object, db: bool = True) -> int:
        argv = [str(a) for a in args] + (["--db", str(self.db)] if db else [])
        code = main(argv)
        captured = self.capsys.readouterr()
        self.out, self.err = captured.out, captured.err
        assert "Traceback" not in self.err and "内部错误" not in self.err, self.err
        return code

    def item(self, fid: str = C1) -> dict[str, Any]:
        assert self("ledger", "show", fid, "--format", "json") == 0, self.err
        return json.loads(self.out)

    def state(self, fid: str = C1) -> tuple[str, str, str]:
        item = self.item(fid)["item"]
        return item["state_label"], item["level_label"], item["deadline"]


@pytest.fixture
def cli(tmp_path: Path, capsys: pytest.CaptureFixture[str], migrated: Database) -> Cli:
    return Cli(tmp_path, capsys, migrated)


def _after(
    fill: Callable[[Cli], None],
    backend: str,
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
    capsys: pytest.CaptureFixture[str],
) -> Iterator[Cli]:
    """The command line on a copy of a store `fill` brought to a state through the command line once
    per process and backend (what dozens of tests start from); the test's `a` and `out-a` hold the
    audit of 2025-01-01 with one large class (C1, deadline 2025-06-30) that `fill` imports."""
    _output(tmp_path, _folder(tmp_path, "a", D(2025, 1, 1), 60))

    def run(ref: DbRef) -> None:
        fill(Cli(tmp_path, capsys, Database(backend, ref)))

    made = history_databases.template(backend, f"ledger-{fill.__name__}", tmp_path_factory.getbasetemp(), run)
    with history_databases.from_template(made, tmp_path, fill.__name__) as db:
        yield Cli(tmp_path, capsys, db)


def _open(cli: Cli) -> None:
    assert cli("history", "import", cli.root / "out-a", "--today", "2025-01-05") == 0, cli.err


def _chain(cli: Cli) -> None:
    _open(cli)
    for day, state in (
        ("2025-02-01", "整改中"),
        ("2025-03-01", "待复查"),
        ("2025-03-02", "待整改"),
        ("2025-03-03", "待复查"),
    ):
        assert (
            cli("ledger", "update", C1, "--to", state, "--by", "校长", "--note", f"{state}说明", "--today", day) == 0
        ), cli.err
    assert cli("verify") == 0 and "5 条事件，哈希链完整" in cli.out


@pytest.fixture
def opened(
    backend: str, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str]
) -> Iterator[Cli]:
    """An audit of 2025-01-01 with one large class (deadline 2025-06-30), imported on 2025-01-05;
    the audit's folder and outputs in the test's `a` and `out-a`."""
    yield from _after(_open, backend, tmp_path, tmp_path_factory, capsys)


@pytest.fixture
def chained(
    backend: str, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str]
) -> Iterator[Cli]:
    """The opened item through five events: open, 整改中, 待复查, back to 待整改, 待复查 again."""
    yield from _after(_chain, backend, tmp_path, tmp_path_factory, capsys)


# -- the lifecycle on the engine -------------------------------------------------------------------


def _fact(state: str, **kw: Any) -> ItemFact:
    values: dict[str, Any] = {
        "finding_id": "F",
        "state": state,
        "level": 0,
        "deadline": D(2025, 6, 30),
        "today": D(2025, 3, 1),
        "since": D(2025, 1, 5),
        "reinspection": "fails",
        "reinspection_as_of": D(2025, 1, 1),
        "waived_until": NO_DATE,
        "severity": "major",
        "rule_id": "class-size.large",
        "entity_type": "class",
        "county": "城中区",
    }
    values.update(kw)
    return ItemFact(**values)


@pytest.mark.parametrize(
    ("fact", "enabled"),
    [
        (_fact("open"), {"file-plan", "report-done"}),
        (_fact("open", today=D(2025, 7, 1)), {"file-plan", "report-done", "overdue"}),
        (_fact("open", today=D(2025, 6, 30)), {"file-plan", "report-done"}),  # on the deadline: not yet overdue
        (
            _fact("open", today=D(2025, 7, 1), reinspection="passes"),
            {"file-plan", "report-done"},
        ),  # fixed: no escalation
        (_fact("overdue", level=1, today=D(2025, 7, 1)), {"file-plan", "report-done", "escalate"}),
        (_fact("overdue", level=2, today=D(2025, 7, 1)), {"file-plan", "report-done"}),  # the last level
        (_fact("awaiting_review"), {"send-back"}),
        (_fact("awaiting_review", reinspection="passes"), {"send-back", "close"}),
        (
            _fact("awaiting_review", since=D(2025, 2, 1), reinspection_as_of=D(2025, 3, 1)),
            {"send-back", "reinspection-failed"},
        ),
        (_fact("awaiting_review", reinspection="none", reinspection_as_of=None), {"send-back"}),
        (_fact("closed", reinspection="passes"), set()),
        (_fact("closed"), {"recurred"}),
        (_fact("open", waived_until=D(2025, 3, 1)), {"file-plan", "report-done", "waive"}),
        (_fact("waived", waived_until=D(2025, 3, 1)), set()),
        (_fact("waived", waived_until=D(2025, 2, 28)), {"waiver-ended"}),
    ],
)
def test_engine_enables_the_transitions_the_lifecycle_allows(fact: ItemFact, enabled: set[str]) -> None:
    with load_lifecycle().engine() as engine:
        assert engine.enabled([fact]) == {"F": enabled}


def test_lifecycle_is_data_with_chinese_states() -> None:
    lifecycle = load_lifecycle()
    assert [s.title for s in lifecycle.spec.states] == ["待整改", "整改中", "待复查", "已销号", "逾期", "暂缓"]
    assert lifecycle.state_id("待复查") == lifecycle.state_id("awaiting_review") == "awaiting_review"
    assert [lifecycle.level_title(i) for i in range(3)] == ["学校", "县级教育行政部门", "县级人民政府"]
    assert lifecycle.params["escalation_days"] == 30


@pytest.mark.parametrize(
    ("old", "new", "where", "text"),
    [
        (
            "    from: [open, overdue]\n    to: in_progress",
            "    from: [open, overdu]\n    to: in_progress",
            "lifecycle.yaml:",
            "未定义的状态“overdu”",
        ),
        (
            'when: today > deadline and reinspection != "passes"',
            'when: today > dedline and reinspection != "passes"',
            "lifecycle.yaml:",
            "是否指“deadline”",
        ),
        ("when: waived_until < today", "when: waived_until < as_of", "lifecycle.yaml:", "当日请用 today"),
        (
            "effect: {deadline_days: after_waiver_days}",
            "effect: {deadline_days: after_waiver}",
            "lifecycle.yaml:",
            "after_waiver",
        ),
        (
            "    trigger: manual\n    from: [open, overdue]",
            "    trigger: by-hand\n    from: [open, overdue]",
            "lifecycle.yaml:",
            "trigger",
        ),
    ],
)
def test_lifecycle_errors_are_located(tmp_path: Path, cli: Cli, old: str, new: str, where: str, text: str) -> None:
    source = DEFAULT_LIFECYCLE.read_text(encoding="utf-8")
    assert old in source
    path = tmp_path / "lifecycle.yaml"
    path.write_text(source.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(RulePackError) as caught:
        load_lifecycle(path)
    line = next(
        i
        for i, row in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if new.splitlines()[0].strip() in row
    )
    assert any(p.line in (line, line + 1) and text in str(p) for p in caught.value.problems), caught.value.render()
    assert cli("ledger", "--lifecycle", path, "--today", "2025-01-01") == 2 and where in cli.err


def test_the_lifecycle_is_compiled_once_per_content(tmp_path: Path) -> None:
    """Every ledger command reads the lifecycle: the same bytes give the same compiled lifecycle,
    changed bytes (an edited file at the same path) a new one."""
    path = tmp_path / "lifecycle.yaml"
    source = DEFAULT_LIFECYCLE.read_text(encoding="utf-8")
    path.write_text(source, encoding="utf-8")
    first = load_lifecycle(path)
    assert load_lifecycle(path) is first
    old = "title: 待整改"
    assert old in source
    path.write_text(source.replace(old, "title: 待整改（已改）", 1), encoding="utf-8")
    changed = load_lifecycle(path)
    assert changed is not first and "待整改（已改）" in {s.title for s in changed.spec.states}


# -- through the command line ----------------------------------------------------------------------


def test_overdue_items_escalate_one_level_per_missed_deadline(opened: Cli) -> None:
    assert opened.state() == ("待整改", "学校", "2025-06-30")
    assert opened("ledger", "--today", "2025-06-30") == 0
    assert opened.state() == ("待整改", "学校", "2025-06-30")
    assert opened("ledger", "--today", "2025-07-01", "--state", "逾期") == 0
    assert "逾期未整改，升级督办 → 逾期：1 项" in opened.out and "城中区教育局" in opened.out
    assert opened.state() == ("逾期", "县级教育行政部门", "2025-07-31")
    assert opened("ledger", "--today", "2025-08-01") == 0
    assert opened.state() == ("逾期", "县级人民政府", "2025-08-31")
    assert opened("ledger", "--today", "2025-12-01", "--format", "json") == 0
    listing = json.loads(opened.out)
    assert listing["events"] == []  # the last level: nothing further to escalate to
    (item,) = listing["items"]
    assert item["holder"] == "城中区人民政府" and item["days_overdue"] == 92
    events = opened.item()["events"]
    assert [(e["transition"], e["to_state"], e["level"], e["day"]) for e in events] == [
        ("open", "open", 0, "2025-01-05"),
        ("overdue", "overdue", 1, "2025-07-01"),
        ("escalate", "overdue", 2, "2025-08-01"),
    ]
    assert all(e["actor"] == "inspector（台账规则）" for e in events)


def test_refused_changes_name_the_allowed_ones(opened: Cli) -> None:
    update = ("ledger", "update", C1, "--by", "李督学", "--note", "核实", "--today", "2025-02-01")
    assert opened(*update, "--to", "已销号") == 2
    assert "不允许" in opened.err and "当前允许变更为：整改中（提交整改方案）、待复查（报告整改完成）" in opened.err
    assert (
        opened(*update, "--to", "完成") == 2
        and "未知的台账状态“完成”" in opened.err
        and "待复查（awaiting_review）" in opened.err
    )
    assert (
        opened("ledger", "update", "F-00000000", "--to", "整改中", "--by", "x", "--note", "y", "--today", "2025-02-01")
        == 2
    )
    assert "整改台账中没有问题编号“F-00000000”" in opened.err
    assert (
        opened("ledger", "update", C1[:6], "--to", "整改中", "--by", " ", "--note", "y", "--today", "2025-02-01") == 2
    )
    assert "--by 不能为空" in opened.err
    assert (
        opened(
            "ledger", "update", C1[:6], "--to", "in_progress", "--by", "校长", "--note", "方案", "--today", "2025-02-01"
        )
        == 0
    )
    assert opened.state()[0] == "整改中"
    assert opened(*update[:-1], "2025-01-31", "--to", "待复查") == 2 and "不能倒退" in opened.err
    assert len(opened.item()["events"]) == 2  # refusals record nothing


def test_closing_needs_a_reinspection_that_passes_and_recurrence_reopens(tmp_path: Path, opened: Cli) -> None:
    update = ("ledger", "update", C1, "--by", "李督学", "--note", "核实")
    assert opened(*update, "--to", "待复查", "--today", "2025-02-01") == 0
    assert opened(*update, "--to", "已销号", "--today", "2025-02-10") == 2
    assert "须有一次复查审核确认" in opened.err and "最近一次复查结果：仍存在" in opened.err
    fixed = _folder(tmp_path, "b", D(2025, 3, 1), 50)
    out_a = tmp_path / "out-a"
    assert (
        opened("reinspect", fixed, "--against", out_a, "--out", tmp_path / "out-b", "--today", "2025-03-05", "--quiet")
        == 0
    ), opened.err
    assert opened.state()[0] == "待复查"  # passing is not closing: a person closes
    assert opened(*update, "--to", "已销号", "--today", "2025-03-06") == 0
    assert opened.state()[0] == "已销号"
    back = _folder(tmp_path, "c", D(2025, 6, 1), 61)
    assert (
        opened(
            "reinspect",
            back,
            "--against",
            tmp_path / "out-b",
            "--out",
            tmp_path / "out-c",
            "--today",
            "2025-06-05",
            "--quiet",
        )
        == 0
    )
    document = json.loads((tmp_path / "out-c" / "findings.json").read_text(encoding="utf-8"))
    assert [f["change"] for f in document["findings"] if f["id"] == C1] == ["regressed"]
    assert opened.state() == ("待整改", "学校", "2025-11-28")  # a new round: the new audit's deadline
    assert opened.item()["events"][-1]["transition"] == "recurred"


def test_a_failed_reinspection_sends_the_item_back(tmp_path: Path, opened: Cli) -> None:
    assert (
        opened("ledger", "update", C1, "--to", "待复查", "--by", "校长", "--note", "已分班", "--today", "2025-02-01")
        == 0
    )
    still = _folder(tmp_path, "b", D(2025, 3, 1), 59)
    assert (
        opened(
            "reinspect",
            still,
            "--against",
            tmp_path / "out-a",
            "--out",
            tmp_path / "out-b",
            "--today",
            "2025-03-05",
            "--quiet",
        )
        == 0
    )
    assert "复查未通过，退回整改 → 待整改：1 项" in opened.out
    assert opened.state() == ("待整改", "学校", "2025-06-30")


def test_a_waiver_pauses_the_item_until_it_expires(tmp_path: Path, cli: Cli) -> None:
    waivers = "waivers:\n  - {rule: class-size.large, entity: C1, reason: 临时合班, authority: 城中区教育局, document_no: 城中教发〔2025〕1号, expires: 2025-03-31}\n"
    out = _output(tmp_path, _folder(tmp_path, "a", D(2025, 1, 1), 60, waivers))
    assert cli("history", "import", out, "--today", "2025-01-05") == 0
    assert "批准暂缓整改 → 暂缓：1 项" in cli.out
    assert cli("ledger", "--today", "2025-03-31") == 0 and cli.state()[0] == "暂缓"
    assert cli("ledger", "--today", "2025-04-01") == 0
    assert cli.state() == ("待整改", "学校", "2025-05-31")  # 60 days after the waiver ended


# -- the hash chain --------------------------------------------------------------------------------


def _tamper(cli: Cli, *statements: str) -> Database:
    """A copy of the store, changed by someone holding the database: the append-only triggers dropped first."""
    copy = cli.database.copy(f"tampered{len(cli.database.copies)}")
    copy.drop_append_only_triggers()
    copy.execute(*statements)
    return copy


def _edit(cli: Cli, *statements: str) -> Database:
    """A copy of the store with tables other than events edited (no trigger is in the way)."""
    copy = cli.database.copy(f"edited{len(cli.database.copies)}")
    copy.execute(*statements)
    return copy


def _verify(cli: Cli, db: Database, *extra: str) -> str:
    code = main(["ledger", "verify", "--db", str(db), *extra])
    out = cli.capsys.readouterr().out
    assert code == 1, out
    return out


def test_events_are_append_only(chained: Cli) -> None:
    """The database itself refuses to change or delete an event while its triggers are in place."""
    for statement in ("UPDATE events SET actor = 'x' WHERE seq = 1", "DELETE FROM events WHERE seq = 5"):
        with pytest.raises(Exception, match="append-only"):
            chained.database.execute(statement)
    assert chained("verify") == 0


def test_edited_event_is_found(chained: Cli) -> None:
    """An event changed in place fails its own hash, and the dropped triggers are reported."""
    out = _verify(chained, _tamper(chained, "UPDATE events SET actor = '李督学' WHERE seq = 3"))
    assert "第 3 号事件：内容与其哈希不符" in out and "第一处问题：第 3 号事件" in out and "触发器" in out


def test_edited_event_with_a_recomputed_hash_is_found_by_the_next(chained: Cli) -> None:
    """An event given a new hash no longer links to the next event."""
    db = _tamper(chained, "UPDATE events SET note = 'x', hash = '" + "1" * 64 + "' WHERE seq = 2")
    out = _verify(chained, db)
    assert "第一处问题：第 2 号事件" in out


def test_deleted_events_are_found_in_the_middle_and_at_the_end(chained: Cli) -> None:
    """A gap in the sequence, or a chain shorter than its recorded head, is reported."""
    assert "缺失：第 2 号事件被删除" in _verify(chained, _tamper(chained, "DELETE FROM events WHERE seq = 2"))
    assert "末尾的事件被删除" in _verify(chained, _tamper(chained, "DELETE FROM events WHERE seq = 5"))


def test_items_edited_behind_the_ledgers_back_are_found(chained: Cli) -> None:
    """An item whose state is not its last event's is reported."""
    out = _verify(chained, _edit(chained, "UPDATE items SET state = 'closed'"))
    assert "台账被直接修改" in out


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("state", "'closed'"),
        ("severity", "'minor'"),
        ("message", "'已整改'"),
        ("level", "2"),
        ("deadline", "'2026-12-31'"),
        ("since", "'2025-01-01'"),
        ("responsible", "'无'"),
        ("school_name", "'另一所学校'"),
        ("rule_title", "'小问题'"),
        ("county", "'柳南区'"),
        ("opened_audit", "'A20990101-0000000000'"),
        ("last_audit", "'A20990101-0000000000'"),
    ],
)
def test_every_column_of_an_item_is_replayed_from_the_chain(chained: Cli, column: str, value: str) -> None:
    """Each column of an item edited in its table differs from the chain's replay and is named: exit 1."""
    out = _verify(chained, _edit(chained, f"UPDATE items SET {column} = {value}"))
    assert f"台账事项 {C1} 的 {column} 为" in out and "台账被直接修改" in out and f"第一处问题：台账事项 {C1}" in out


def test_a_state_written_by_its_chinese_name_is_a_verify_failure(chained: Cli) -> None:
    """`待整改` written into the state column (instead of `open`) is reported by verify and stops the ledger (exit 1)."""
    db = _edit(chained, "UPDATE items SET state = '待整改'")
    out = _verify(chained, db)
    assert f"台账事项 {C1} 的 state 为“待整改”，按事件与审核记录应为“awaiting_review”（待复查）" in out
    assert main(["ledger", "--db", str(db), "--today", "2025-03-04"]) == 1
    err = chained.capsys.readouterr().err
    assert "未通过校验" in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("statements", "first"),
    [
        (("UPDATE items SET state = 'closed'",), f"台账事项 {C1} 的 state"),
        (("UPDATE events SET note = 'x' WHERE seq = 3",), "第 3 号事件：内容与其哈希不符"),
        (("UPDATE events SET hash = 'x' WHERE seq = 5",), "第 5 号事件"),
    ],
)
def test_commands_that_change_the_ledger_refuse_a_store_that_does_not_verify(
    tmp_path: Path, chained: Cli, statements: tuple[str, ...], first: str
) -> None:
    """ledger, ledger update, reinspect and history import exit 1 naming the first problem, and change nothing."""
    db = _tamper(chained, *statements)
    before = db.snapshot()
    fixed = _folder(tmp_path, "b", D(2025, 3, 10), 50)
    commands = [
        ["ledger", "--today", "2025-08-01"],
        ["ledger", "update", C1, "--to", "已销号", "--by", "李督学", "--note", "核实", "--today", "2025-03-05"],
        [
            "reinspect",
            str(fixed),
            "--against",
            str(tmp_path / "out-a"),
            "--out",
            str(tmp_path / "out-b"),
            "--today",
            "2025-03-12",
            "--quiet",
        ],
        [
            "history",
            "import",
            str(_output(tmp_path, _folder(tmp_path, "c", D(2025, 3, 20), 61))),
            "--today",
            "2025-03-21",
        ],
        ["ledger", "show", C1],
        ["ledger", "head"],
    ]
    for command in commands:
        assert main([*command, "--db", str(db)]) == 1, command
        err = chained.capsys.readouterr().err
        assert "未通过校验，本命令未执行" in err and first in err and "inspector verify" in err, (command, err)
        assert "Traceback" not in err
    assert db.snapshot() == before  # nothing laundered: the edit is still there for verify to find


# -- the head, kept elsewhere ------------------------------------------------------------------------


def test_the_head_printed_is_the_one_verify_checks(chained: Cli) -> None:
    """`ledger head` prints the last event's hash; verify --head accepts it whole or by a 12-digit prefix."""
    assert chained("ledger", "head") == 0
    head = chained.out.strip()
    assert re.fullmatch(r"[0-9a-f]{64}", head)
    assert chained.database.query("SELECT hash FROM events WHERE seq = 5") == [(head,)]
    for given in (head, head[:12], head.upper()):
        assert chained("verify", "--head", given) == 0 and "末尾哈希与所给的" in chained.out
    assert chained("ledger", "verify", "--head", head[:20]) == 0


def test_a_chain_cut_back_consistently_is_found_by_the_head_kept_elsewhere(chained: Cli) -> None:
    """Deleting the last event and rewinding the recorded head passes the chain walk, but not --head: exit 1."""
    assert chained("ledger", "head") == 0
    head = chained.out.strip()
    cut = _tamper(
        chained,
        "DELETE FROM events WHERE seq = 5",
        "UPDATE ledger_head SET seq = 4, hash = (SELECT hash FROM events WHERE seq = 4)",
        "UPDATE items SET state = 'open', since = '2025-03-02'",
    )
    cut.restore_append_only_triggers()
    assert main(["verify", "--db", str(cut)]) == 0  # consistent in itself …
    chained.capsys.readouterr()
    out = _verify(chained, cut, "--head", head)  # … but not with the head kept elsewhere
    assert "末尾哈希不符：库内末尾为第 4 号事件" in out and "不是本台账任何一条事件的哈希" in out


@pytest.mark.parametrize("given", ["12345", "xyz" * 10, "0" * 65])
def test_a_head_that_is_no_hash_is_a_usage_error(chained: Cli, given: str) -> None:
    """--head with fewer than 12 hex digits, or not hex at all, is refused with exit 2."""
    assert chained("verify", "--head", given) == 2 and "至少 12 位" in chained.err


# -- two reviewers at once -----------------------------------------------------------------------------


def test_two_reviewers_acting_on_one_item_cannot_both_win(opened: Cli) -> None:
    """Two stores on one database read the same version; the second request naming it is refused."""
    lifecycle = load_lifecycle()
    with HistoryStore.open(opened.db) as first, HistoryStore.open(opened.db) as second, lifecycle.engine() as engine:
        one, other = Ledger(first, lifecycle, engine), Ledger(second, lifecycle, engine)
        seen = one.resolve(C1).version
        assert other.resolve(C1).version == seen == 1
        with first.transaction():
            one.request(C1, "整改中", "校长", "整改方案", D(2025, 2, 1), expected_version=seen)
        with (
            pytest.raises(ItemChanged, match=f"台账事项 {C1} 已被他人修改（您查看时为第 1 版，现为第 2 版"),
            second.transaction(),
        ):
            other.request(C1, "待复查", "李督学", "已核实", D(2025, 2, 1), expected_version=seen)
        now = other.resolve(C1)
        assert (now.state, now.version) == ("in_progress", 2)
        with second.transaction():  # naming the version it now sees, the second reviewer goes ahead
            other.request(C1, "待复查", "李督学", "已核实", D(2025, 2, 2), expected_version=now.version)
    assert opened("ledger", "show", C1, "--format", "json") == 0
    shown = json.loads(opened.out)
    assert shown["item"]["version"] == 3 and [e["to_state"] for e in shown["events"]] == [
        "open",
        "in_progress",
        "awaiting_review",
    ]
    assert opened("verify") == 0


def test_a_row_changed_since_it_was_read_is_not_overwritten(opened: Cli) -> None:
    """Every update is made on the version it read: a stale item is refused, not written over the newer one."""
    lifecycle = load_lifecycle()
    with HistoryStore.open(opened.db) as first, HistoryStore.open(opened.db) as second, lifecycle.engine() as engine:
        one, other = Ledger(first, lifecycle, engine), Ledger(second, lifecycle, engine)
        stale = other.resolve(C1)
        with first.transaction():
            one.request(C1, "整改中", "校长", "整改方案", D(2025, 2, 1))
        with pytest.raises(ItemChanged, match="刚被他人修改"), second.transaction():
            other._save(stale, read_at=stale.version)
    assert opened("verify") == 0


def test_an_escalation_on_a_stale_item_writes_nothing(opened: Cli) -> None:
    """`advance` saves each item on the version it read: an item changed since leaves no event, no
    change and the chain's head where it was (the round's writes are one transaction)."""
    lifecycle = load_lifecycle()
    with HistoryStore.open(opened.db) as first, HistoryStore.open(opened.db) as second, lifecycle.engine() as engine:
        one, other = Ledger(first, lifecycle, engine), Ledger(second, lifecycle, engine)
        stale = other.items()
        with first.transaction():
            one.request(C1, "整改中", "校长", "整改方案", D(2025, 2, 1))
        with pytest.raises(ItemChanged, match="刚被他人修改"), second.transaction():
            other.advance(stale, D(2025, 7, 1))
    assert opened("ledger", "show", C1, "--format", "json") == 0
    shown = json.loads(opened.out)
    assert shown["item"]["state"] == "in_progress" and [e["transition"] for e in shown["events"]] == [
        "open",
        "file-plan",
    ]
    assert opened("verify") == 0
    # the same escalation on what is there now is written, event and head together
    assert opened("ledger", "--today", "2025-07-01") == 0
    assert opened("ledger", "show", C1, "--format", "json") == 0
    assert [e["transition"] for e in json.loads(opened.out)["events"]][-1] == "overdue"
    assert opened("verify") == 0


def test_history_commands_need_an_existing_store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Reading commands on a SQLite file that does not exist say so (exit 2) and create nothing."""
    for command in (["ledger"], ["verify"], ["ledger", "show", "F-1"], ["history", "list"], ["ledger", "head"]):
        assert main([*command, "--db", str(tmp_path / "none.sqlite")]) == 2
        err = capsys.readouterr().err
        assert "历史库" in err and "不存在" in err and "Traceback" not in err
    assert not (tmp_path / "none.sqlite").exists()
