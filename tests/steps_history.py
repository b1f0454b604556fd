"""Steps of tests/history_features/reinspection.feature: the three rounds through the CLI
(`inspector.cli.main`) on a temporary SQLite history store."""

from __future__ import annotations

import json
import shutil
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from pytest_bdd import given, parsers, then, when

from inspector.cli import main
from inspector.history import commands as history_commands
from synthetic import rounds
from synthetic.oracle import RULE_IDS

ROOT = Path(__file__).resolve().parents[1]
CASES = ROOT / "cases"
CHANGES = {"新发现": "new", "仍存在": "persisting", "复发": "regressed"}
CORE = frozenset(RULE_IDS)


@dataclass
class History:
    """One scenario's history store, its audit outputs and the last command's result."""

    root: Path
    outputs: list[Path] = field(default_factory=list)
    code: int | None = None
    stdout: str = ""
    stderr: str = ""
    intact: Path | None = None
    checked: Path | None = None
    documents: dict[Path, tuple[tuple[int, int], dict[str, Any]]] = field(default_factory=dict)

    @property
    def db(self) -> Path:
        return self.root / "history.sqlite"

    def run(self, capsys: pytest.CaptureFixture[str], *args: str) -> int:
        self.code = main([str(a) for a in args])
        captured = capsys.readouterr()
        self.stdout, self.stderr = captured.out, captured.err
        return self.code

    def files(self) -> list[bytes | None]:
        """The store's bytes: its file and its write-ahead log (SQLite in WAL mode)."""
        return [p.read_bytes() if p.exists() else None for p in (self.db, self.db.with_name(self.db.name + "-wal"))]

    def document(self, out: Path | None = None) -> dict[str, Any]:
        """findings.json of `out` (the last output by default), parsed once while the file stays as
        it is: a dozen steps read each re-inspection's document (several MB). Read it, never change it."""
        file = (out or self.outputs[-1]) / "findings.json"
        stat = file.stat()
        key = (stat.st_mtime_ns, stat.st_size)
        if file not in self.documents or self.documents[file][0] != key:
            self.documents[file] = (key, json.loads(file.read_text(encoding="utf-8")))
        return self.documents[file][1]

    def query(self, sql: str, *args: Any, db: Path | None = None) -> list[tuple[Any, ...]]:
        conn = sqlite3.connect(db or self.db)
        try:
            return conn.execute(sql, args).fetchall()
        finally:
            conn.close()

    def finding_id(self, rule: str, entity: str) -> str:
        rows = self.query("SELECT finding_id FROM items WHERE rule_id = ? AND entity_id = ?", rule, entity)
        assert rows, f"台账中没有规则 {rule} 对 {entity} 的事项"
        return str(rows[0][0])


@pytest.fixture
def history(tmp_path: Path) -> History:
    return History(tmp_path)


def _pairs(text: str) -> set[tuple[str, str]]:
    return {tuple(part.split(" ", 1)) for part in text.split("、")}  # type: ignore[misc]


def _table(datatable: list[list[str]]) -> list[dict[str, str]]:
    header, *rows = datatable
    return [dict(zip((h.strip() for h in header), (c.strip() for c in row))) for row in rows]


# -- Given / When --------------------------------------------------------------------------------


@given("一个空的历史库")
def _empty(history: History) -> None:
    assert not history.db.exists()


@when(parsers.parse('督导 "{case}" 的数据，并于 "{day}" 导入历史库'))
def _audit_and_import(history: History, capsys: pytest.CaptureFixture[str], case: str, day: str) -> None:
    out = history.root / "out" / case
    assert history.run(capsys, "audit", CASES / case, "--out", out, "--quiet") == 0, history.stderr
    history.outputs.append(out)
    assert (
        history.run(capsys, "history", "import", out, "--db", history.db, "--today", day, "--source", CASES / case) == 0
    ), history.stderr
    assert "已导入审核" in history.stdout


@when(parsers.parse('再次于 "{day}" 导入同一次审核的输出'))
def _import_again(history: History, capsys: pytest.CaptureFixture[str], day: str) -> None:
    assert history.run(capsys, "history", "import", history.outputs[-1], "--db", history.db, "--today", day) == 0, (
        history.stderr
    )
    assert "未重复导入" in history.stdout


@when(parsers.parse('于 "{day}" 由 "{who}" 将规则 "{rule}" 对 "{entity}" 的事项变更为 "{state}"，理由 "{note}"'))
def _update(
    history: History,
    capsys: pytest.CaptureFixture[str],
    day: str,
    who: str,
    rule: str,
    entity: str,
    state: str,
    note: str,
) -> None:
    finding = history.finding_id(rule, entity)
    history.run(
        capsys,
        "ledger",
        "update",
        finding,
        "--to",
        state,
        "--by",
        who,
        "--note",
        note,
        "--db",
        history.db,
        "--today",
        day,
    )


@when(parsers.parse('于 "{day}" 复查 "{case}"，对比上一次审核的输出文件夹'))
def _reinspect_folder(history: History, capsys: pytest.CaptureFixture[str], day: str, case: str) -> None:
    _reinspect(history, capsys, day, case, str(history.outputs[-1]))


@when(parsers.parse('于 "{day}" 复查 "{case}"，对比历史库中上一次审核的编号'))
def _reinspect_id(history: History, capsys: pytest.CaptureFixture[str], day: str, case: str) -> None:
    previous = history.document()["reinspection"]["audit_id"]
    _reinspect(history, capsys, day, case, previous[:12])  # a unique prefix is enough


def _reinspect(history: History, capsys: pytest.CaptureFixture[str], day: str, case: str, against: str) -> None:
    out = history.root / "out" / case
    code = history.run(
        capsys,
        "reinspect",
        CASES / case,
        "--against",
        against,
        "--out",
        out,
        "--db",
        history.db,
        "--today",
        day,
        "--quiet",
    )
    assert code == 0, history.stderr
    history.outputs.append(out)


def _tamper(history: History, copy_name: str, statement: str, trigger: str) -> None:
    """Run `statement` on a copy of the intact store as someone with the file would: the append-only
    trigger refuses it first, so they drop the trigger and run it again."""
    assert history.intact is not None
    history.checked = history.root / copy_name
    shutil.copy(history.intact, history.checked)
    conn = sqlite3.connect(history.checked)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute(statement)
    conn.executescript(f"DROP TRIGGER {trigger}; {statement};")
    conn.close()


@when(parsers.parse("有人绕过 inspector 直接改写第 {seq:d} 号事件的说明"))
def _edit_event(history: History, seq: int) -> None:
    _tamper(
        history,
        f"edited-{seq}.sqlite",
        f"UPDATE events SET note = '已整改' WHERE seq = {seq}",
        "events_append_only_update",
    )


@when(parsers.parse("有人绕过 inspector 直接删除第 {seq:d} 号事件"))
def _delete_event(history: History, seq: int) -> None:
    _tamper(history, f"deleted-{seq}.sqlite", f"DELETE FROM events WHERE seq = {seq}", "events_append_only_delete")


# -- Then ----------------------------------------------------------------------------------------


@then(parsers.parse('台账中共有 {count:d} 项，全部为 "{state}"'))
def _all_items(history: History, count: int, state: str) -> None:
    rows = history.query("SELECT state FROM items")
    assert len(rows) == count
    titles = {"待整改": "open"}
    assert {r[0] for r in rows} == {titles[state]}


@then(parsers.parse("历史库中有 {audits:d} 次审核，台账中共有 {items:d} 项"))
def _counts(history: History, audits: int, items: int) -> None:
    assert history.query("SELECT count(*) FROM audits")[0][0] == audits
    assert history.query("SELECT count(*) FROM items")[0][0] == items


@then("台账中以下事项的状态为：")
def _states(history: History, capsys: pytest.CaptureFixture[str], datatable: list[list[str]]) -> None:
    """Each row's item as `ledger show --format json` prints it. The first `ledger show` checks the
    store (its preflight replays the whole chain and compares every item with the replay, about 0.1 s
    per call); the store does not change while the rows are read, so the other rows' `ledger show`
    run without repeating that check on the same bytes."""
    assert history.code == 0, history.stderr
    before = history.files()
    with pytest.MonkeyPatch.context() as patch:
        for i, row in enumerate(_table(datatable)):
            finding = history.finding_id(row["规则"], row["对象"])
            assert history.run(capsys, "ledger", "show", finding, "--db", history.db, "--format", "json") == 0, (
                history.stderr
            )
            item = json.loads(history.stdout)["item"]
            assert (item["state_label"], item["level_label"]) == (row["状态"], row["督办层级"]), (row, item)
            if i == 0:
                patch.setattr(history_commands, "preflight", lambda *_, **__: None)
    assert history.files() == before  # what was checked once is what every row was read from


@then(parsers.parse('变更被拒绝，错误信息包含 "{first}" 和 "{second}"'))
def _refused(history: History, first: str, second: str) -> None:
    assert history.code == 2, history.stdout
    assert first in history.stderr and second in history.stderr, history.stderr
    assert "Traceback" not in history.stderr


@then("复查结果中的问题分类为：")
def _changes(history: History, datatable: list[list[str]]) -> None:
    findings = {(f["rule_id"], f["entity_id"]): f for f in history.document()["findings"]}
    for row in _table(datatable):
        finding = findings[(row["规则"], row["对象"])]
        assert (finding["change"], finding["change_label"]) == (CHANGES[row["分类"]], row["分类"]), finding["id"]


@then(parsers.parse('复查结果中已整改的问题为 "{pairs}"'))
def _resolved(history: History, pairs: str) -> None:
    document = history.document()
    resolved = {(r["rule_id"], r["entity_id"]): r for r in document["resolved"]}
    assert set(resolved) == _pairs(pairs)
    for entry in resolved.values():
        assert entry["evidence"] and entry["observed"] is not None and entry["resolution"].startswith("本次复查已通过")
    assert document["reinspection"]["counts"]["resolved"] == len(resolved)


@then(parsers.parse('复查结果中无法核实的问题为 "{pairs}"'))
def _unverified(history: History, pairs: str) -> None:
    unverified = history.document()["unverified"]
    assert {(r["rule_id"], r["entity_id"]) for r in unverified} == _pairs(pairs)
    assert all(r["reason"] and "evidence" not in r for r in unverified)


@then(parsers.parse('复查结果中规则 "{rule}" 对 "{entity}" 的问题已豁免，批准机关为 "{authority}"'))
def _waived(history: History, rule: str, entity: str, authority: str) -> None:
    finding = next(f for f in history.document()["findings"] if (f["rule_id"], f["entity_id"]) == (rule, entity))
    assert finding["waived"] is True and finding["waiver"]["authority"] == authority


@then(parsers.parse('复查结果报告规则 "{rule}" 对 "{entity}" 的豁免已过期'))
def _expired(history: History, rule: str, entity: str) -> None:
    document = history.document()
    entry = next(e for e in document["waivers"]["entries"] if (e["rule"], e["entity"]) == (rule, entity))
    assert entry["status"] == "expired"
    finding = next(f for f in document["findings"] if f["id"] == entry["finding_id"])
    assert finding["waived"] is False and finding["expired_waiver"]["expires"] == entry["expires"]


@then(parsers.parse('复查结果中 "{county}" 的 "{rule}" 指标依次为 "{values}"'))
def _trend(history: History, county: str, rule: str, values: str) -> None:
    series = next(t for t in history.document()["trends"] if (t["rule_id"], t["entity_id"]) == (rule, county))
    assert [p["text"] for p in series["points"]] == values.split("、")
    assert {t["year"] for t in series["targets"]} == {2022, 2025}


@then(parsers.parse('规则 "{rule}" 对 "{entity}" 的事项有一条 "{title}" 事件，由 "{actor}" 记录'))
def _event(
    history: History, capsys: pytest.CaptureFixture[str], rule: str, entity: str, title: str, actor: str
) -> None:
    finding = history.finding_id(rule, entity)
    assert history.run(capsys, "ledger", "show", finding, "--db", history.db) == 0
    assert any(title in line and actor in line for line in history.stdout.splitlines()), history.stdout


@then("校验历史库通过")
def _verified(history: History, capsys: pytest.CaptureFixture[str]) -> None:
    assert history.run(capsys, "verify", "--db", history.db) == 0, history.stdout
    assert "哈希链完整" in history.stdout
    history.intact = history.root / "intact.sqlite"
    shutil.copy(history.db, history.intact)


@then(parsers.parse("校验历史库失败，指出第 {seq:d} 号事件"))
def _tampered(history: History, capsys: pytest.CaptureFixture[str], seq: int) -> None:
    assert history.checked is not None
    for command in (["verify"], ["ledger", "verify"]):
        assert history.run(capsys, *command, "--db", history.checked) == 1, history.stdout
        assert f"第一处问题：第 {seq} 号事件" in history.stdout, history.stdout


@then("两次复查的结果与三轮数据中埋设的改动一致")
def _as_planted(history: History) -> None:
    """Both re-inspections against tests/synthetic/rounds.py's PLANTED: the planted changes classified
    exactly, every finding classified, the evidence of what is resolved, the trend towards the targets,
    and the other packs new in 2025 and persisting in the recheck."""
    documents = {out.name: history.document(out) for out in history.outputs if out.name in rounds.PLANTED}
    assert sorted(documents) == sorted(rounds.PLANTED)
    for case in rounds.PLANTED:
        planted_classification(documents, case)
        every_finding_is_classified_and_nothing_resolved_still_fires(documents, case)
    resolved_carries_the_evidence_that_it_now_passes(documents)
    trend_towards_the_targets(documents)
    other_packs_are_new_in_2025_and_persist_in_the_recheck(documents)


def planted_classification(documents: dict[str, dict[str, Any]], case: str) -> None:
    """Re-inspection classifies exactly the planted changes: new, persisting, regressed, resolved, unverified, waived, expired waiver."""
    document, planted = documents[case], rounds.PLANTED[case]
    changes = {(f["rule_id"], f["entity_id"]): f["change"] for f in document["findings"]}
    for change in ("new", "persisting", "regressed"):
        for key in planted.get(change, []):
            assert changes[key] == change, key
    resolved = {(r["rule_id"], r["entity_id"]) for r in document["resolved"]}
    unverified = {(r["rule_id"], r["entity_id"]) for r in document["unverified"]}
    assert resolved == set(planted["resolved"])  # exactly: nothing else was fixed
    assert unverified == set(planted["unverified"])
    assert changes.get(("safety.alarm-linked", "4502030039")) == ("regressed" if case.endswith("recheck") else None)
    waived = {(f["rule_id"], f["entity_id"]) for f in document["findings"] if f.get("waived")}
    expired = {(f["rule_id"], f["entity_id"]) for f in document["findings"] if "expired_waiver" in f}
    assert waived == set(planted["waived"]) and expired == set(planted["expired_waiver"])


def every_finding_is_classified_and_nothing_resolved_still_fires(
    documents: dict[str, dict[str, Any]], case: str
) -> None:
    document = documents[case]
    ids = {f["id"] for f in document["findings"]}
    assert all(f["change"] in ("new", "persisting", "regressed") for f in document["findings"])
    assert not ids & {r["id"] for r in document["resolved"] + document["unverified"]}
    counts = document["reinspection"]["counts"]
    assert counts["new"] + counts["persisting"] + counts["regressed"] == len(ids)
    assert all(entry["evidence"] and entry["resolution"] for entry in document["resolved"])


def resolved_carries_the_evidence_that_it_now_passes(documents: dict[str, dict[str, Any]]) -> None:
    resolved = {(r["rule_id"], r["entity_id"]): r for r in documents["liuzhou-2025-recheck"]["resolved"]}
    large = resolved[("class-size.large", "4502050038-003")]
    assert [(o["field"], o["value"]) for o in large["observed"]] == [("size", 51)]
    assert large["evidence"][0]["values"]["size"] == 51 and large["evidence"][0]["file"] == "classes.csv"
    assert "班额 57 人" in large["message"] and large["last_seen"]["as_of"] == "2025-12-01"
    licensed = resolved[("kindergarten.unlicensed", "4502030012")]
    assert licensed["evidence"][0]["values"]["license_no"] == "柳鱼教幼证字（2026）第003号"


def trend_towards_the_targets(documents: dict[str, dict[str, Any]]) -> None:
    """A county's trend lists each round's value and verdict (鹿寨县: 10% failing in 2024, 15% passing in
    2025) beside the plan's target for the rule, with its label, unit and milestone year."""
    series = {
        t["entity_id"]: t for t in documents["liuzhou-2025"]["trends"] if t["rule_id"] == "teachers.new-pe-art-share"
    }
    assert [(p["year"], p["value"], p["verdict"]) for p in series["鹿寨县"]["points"]] == [
        (2024, 0.1, "fail"),
        (2025, 0.15, "pass"),
    ]
    assert series["鹿寨县"]["targets"][0] == {
        "param": "min_new_pe_art_share",
        "label": "新增教师中体育、艺术教师最低占比",
        "unit": "比例",
        "year": 2022,
        "value": 0.15,
    }


def other_packs_are_new_in_2025_and_persist_in_the_recheck(documents: dict[str, dict[str, Any]]) -> None:
    """2025 is the first audit of the plan, quality-balance, preschool and safety packs; the recheck finds them all again."""
    first = {
        (f["rule_id"], f["entity_id"]): f["change"]
        for f in documents["liuzhou-2025"]["findings"]
        if f["rule_id"] not in CORE
    }
    assert first and set(first.values()) == {"new"}
    recheck = documents["liuzhou-2025-recheck"]
    again = {(f["rule_id"], f["entity_id"]): f["change"] for f in recheck["findings"] if f["rule_id"] not in CORE}
    assert {key: again.get(key) for key in first} == {key: "persisting" for key in first}
    assert set(again.values()) <= {
        "persisting",
        "new",
    }  # new ones: a year on, more teachers in the 5-year training check
    assert not [r for r in recheck["resolved"] + recheck["unverified"] if r["rule_id"] not in CORE]
